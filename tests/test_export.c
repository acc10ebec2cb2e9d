/* GeoJSON export of units (lib/src/export.c): the FeatureCollection parsed back with json-c
 * (ids, properties, exact coordinates, areas against the authalic cell formula), a round trip
 * through a second store, generations old and new, an empty level, and failure paths that
 * must write nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geom.h"
#include "internal.h"
#include "testutil.h"
#include "wangge/export.h"
#include "wangge/import.h"
#include "wangge/store.h"


/* The four-grid layout of test_lookup.c, with names and one extra property. */
typedef tu_rect unit_def;

static const unit_def DISTRICTS[] = {
    {"440307001", 114.46, 22.62, 114.48, 22.64, "\"name\":\"Nanshan\""}};
static const unit_def COMMUNITIES[] = {{"440307001001", 114.46, 22.62, 114.47, 22.64, ""},
                                       {"440307001002", 114.47, 22.62, 114.48, 22.64, ""}};
/* listed out of code order: the export orders by code */
static const unit_def GRIDS[] = {
    {"440307001002002", 114.47, 22.63, 114.48, 22.64, ""},
    {"440307001001001", 114.46, 22.62, 114.47, 22.63, "\"name\":\"网格 \\\"一\\\"\",\"pop\":120"},
    {"440307001002001", 114.47, 22.62, 114.48, 22.63, "\"name\":\"g3\""},
    {"440307001001002", 114.46, 22.63, 114.47, 22.64, "\"name\":\"g2\""}};
static const int GRID_ORDER[] = {1, 3, 2, 0}; /* GRIDS indexes in code order */

typedef struct fixture {
    wg_ctx *ctx;
    char *path;
} fixture;

static void open_store(fixture *f)
{
    f->ctx = wg_ctx_new();
    f->path = tu_temp_path(".sqlite");
    assert_int_equal(WG_OK, wg_store_open(f->ctx, f->path, WG_STORE_CREATE));
}

static void build(fixture *f)
{
    open_store(f);
    tu_import_rects(f->ctx, WG_LEVEL_DISTRICT, DISTRICTS, 1, 0);
    tu_import_rects(f->ctx, WG_LEVEL_COMMUNITY, COMMUNITIES, 2, 0);
    tu_import_rects(f->ctx, WG_LEVEL_GRID, GRIDS, 4, 0);
    int64_t gen;
    assert_int_equal(WG_OK, wg_gen_publish(f->ctx, 1.0, 0, &gen, NULL));
    assert_int_equal(1, gen);
}

static void close_store(fixture *f)
{
    wg_ctx_free(f->ctx);
    tu_remove_store(f->path);
}

/* Exports into a tmpfile; returns the text (caller frees) and the rc in *rc. */
static char *export_text(wg_ctx *ctx, int64_t gen, int level, int *rc, size_t *count)
{
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    *rc = wg_export_units(ctx, gen, level, tmp, count);
    long len = ftell(tmp);
    assert_true(len >= 0);
    char *text = calloc(1, (size_t)len + 1);
    rewind(tmp);
    assert_int_equal((size_t)len, fread(text, 1, (size_t)len, tmp));
    fclose(tmp);
    return text;
}

static json_object *export_json(wg_ctx *ctx, int64_t gen, int level, size_t *count)
{
    int rc;
    char *text = export_text(ctx, gen, level, &rc, count);
    assert_int_equal(WG_OK, rc);
    json_object *j = json_tokener_parse(text);
    if (!j) print_error("not JSON:\n%s\n", text);
    assert_non_null(j);
    free(text);
    json_object *type;
    assert_true(json_object_object_get_ex(j, "type", &type));
    assert_string_equal("FeatureCollection", json_object_get_string(type));
    return j;
}

static json_object *member(json_object *o, const char *name)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, name, &v)) print_error("no member %s\n", name);
    assert_true(json_object_object_get_ex(o, name, &v));
    return v;
}

static double stored_area(wg_ctx *ctx, int64_t gen, const char *code)
{
    sqlite3_stmt *st;
    assert_int_equal(SQLITE_OK,
                     sqlite3_prepare_v2(ctx->db,
                                        "SELECT area_m2 FROM units WHERE code = ?2 AND first_gen"
                                        " <= ?1 AND (last_gen IS NULL OR last_gen >= ?1)",
                                        -1, &st, NULL));
    sqlite3_bind_int64(st, 1, gen);
    sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
    assert_int_equal(SQLITE_ROW, sqlite3_step(st));
    double a = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return a;
}

/* Checks one exported grid feature against its definition. */
static void check_grid_feature(wg_ctx *ctx, json_object *feat, const unit_def *u, int64_t gen)
{
    assert_string_equal(u->code, json_object_get_string(member(feat, "id")));
    json_object *props = member(feat, "properties");
    assert_string_equal(u->code, json_object_get_string(member(props, "code")));
    char parent[13];
    snprintf(parent, sizeof parent, "%.12s", u->code);
    assert_string_equal(parent, json_object_get_string(member(props, "parent")));
    assert_int_equal(3, json_object_get_int(member(props, "level")));
    assert_int_equal(gen, json_object_get_int64(member(props, "generation")));
    double area = json_object_get_double(member(props, "area_m2"));
    double cell = tu_cell_area_m2(u->x0, u->y0, u->x1, u->y1);
    assert_near(area, cell, cell * 1e-7);
    assert_near(area, stored_area(ctx, gen, u->code), cell * 1e-12);

    json_object *geom = member(feat, "geometry");
    assert_string_equal("MultiPolygon", json_object_get_string(member(geom, "type")));
    json_object *polys = member(geom, "coordinates");
    assert_int_equal(1, json_object_array_length(polys));
    json_object *rings = json_object_array_get_idx(polys, 0);
    assert_int_equal(1, json_object_array_length(rings));
    json_object *ring = json_object_array_get_idx(rings, 0);
    assert_int_equal(5, json_object_array_length(ring));
    /* the positions written are the corners read, to the last bit, in the same order */
    const double want[5][2] = {
        {u->x0, u->y0}, {u->x1, u->y0}, {u->x1, u->y1}, {u->x0, u->y1}, {u->x0, u->y0}};
    for (int i = 0; i < 5; i++) {
        json_object *pos = json_object_array_get_idx(ring, i);
        assert_true(json_object_get_double(json_object_array_get_idx(pos, 0)) == want[i][0]);
        assert_true(json_object_get_double(json_object_array_get_idx(pos, 1)) == want[i][1]);
    }
}

static void test_export_grids(void **state)
{
    fixture f;
    build(&f);
    size_t count = 0;
    json_object *j = export_json(f.ctx, 0, WG_LEVEL_GRID, &count);
    assert_int_equal(4, count);
    assert_string_equal("grid", json_object_get_string(member(j, "name")));
    json_object *feats = member(j, "features");
    assert_int_equal(4, json_object_array_length(feats));
    for (int i = 0; i < 4; i++) {
        json_object *feat = json_object_array_get_idx(feats, i);
        assert_string_equal("Feature", json_object_get_string(member(feat, "type")));
        check_grid_feature(f.ctx, feat, &GRIDS[GRID_ORDER[i]], 1);
    }
    /* names (with quotes and non-ASCII), a missing name as null, extra properties kept */
    json_object *p0 = member(json_object_array_get_idx(feats, 0), "properties");
    assert_string_equal("网格 \"一\"", json_object_get_string(member(p0, "name")));
    assert_int_equal(120, json_object_get_int(member(p0, "pop")));
    json_object *p3 = member(json_object_array_get_idx(feats, 3), "properties");
    assert_null(member(p3, "name"));
    assert_false(json_object_object_get_ex(p3, "pop", NULL));
    json_object_put(j);

    /* districts: parent is null */
    j = export_json(f.ctx, 1, WG_LEVEL_DISTRICT, &count);
    assert_int_equal(1, count);
    json_object *pd = member(json_object_array_get_idx(member(j, "features"), 0), "properties");
    assert_null(member(pd, "parent"));
    assert_string_equal("Nanshan", json_object_get_string(member(pd, "name")));
    assert_int_equal(1, json_object_get_int(member(pd, "level")));
    json_object_put(j);
    close_store(&f);
}

static void test_round_trip_through_second_store(void **state)
{
    fixture a, b;
    build(&a);
    int rc;
    size_t count;
    char *text = export_text(a.ctx, 0, WG_LEVEL_GRID, &rc, &count);
    assert_int_equal(WG_OK, rc);
    char *path = tu_write_temp(text);
    free(text);
    open_store(&b);
    tu_import_file(b.ctx, path, WG_LEVEL_GRID, 0, 4);
    tu_remove_temp(path);

    wg_unit_set *sa, *sb;
    assert_int_equal(WG_OK, wg_units_load(a.ctx, 1, 1u << WG_LEVEL_GRID, &sa));
    assert_int_equal(WG_OK, wg_units_load(b.ctx, 1, 1u << WG_LEVEL_GRID, &sb));
    assert_int_equal(4, sb->n);
    for (size_t i = 0; i < 4; i++) {
        const wg_unit *ua = &sa->units[i], *ub = &sb->units[i];
        assert_string_equal(ua->code, ub->code);
        assert_string_equal(ua->parent_code, ub->parent_code); /* from "parent" */
        if (ua->name)
            assert_string_equal(ua->name, ub->name);
        else
            assert_null(ub->name);
        assert_near(ub->area_m2, ua->area_m2, ua->area_m2 * 1e-6);
        assert_near(wg_geom_area_m2(b.ctx, ub->geom), wg_geom_area_m2(a.ctx, ua->geom),
                    ua->area_m2 * 1e-6);
        size_t la, lb;
        unsigned char *wa = wg_geom_to_wkb(a.ctx, ua->geom, &la),
                      *wb = wg_geom_to_wkb(b.ctx, ub->geom, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(wa, wb, la); /* the same doubles, bit for bit */
        GEOSFree_r(wg_geos(a.ctx), wa);
        GEOSFree_r(wg_geos(b.ctx), wb);
    }
    wg_unit_set_free(a.ctx, sa);
    wg_unit_set_free(b.ctx, sb);
    close_store(&a);
    close_store(&b);
}

static void test_generations_and_empty_level(void **state)
{
    fixture f;
    build(&f);
    /* generation 2 drops the last grid (a gap: forced) */
    tu_import_rects(f.ctx, WG_LEVEL_GRID, GRIDS + 1, 3, 1);
    int64_t gen;
    assert_int_equal(WG_OK, wg_gen_publish(f.ctx, 1.0, 1, &gen, NULL));
    assert_int_equal(2, gen);
    size_t count;
    json_object *j = export_json(f.ctx, 0, WG_LEVEL_GRID, &count);
    assert_int_equal(3, count);
    json_object *feats = member(j, "features");
    assert_int_equal(3, json_object_array_length(feats));
    for (int i = 0; i < 3; i++)
        check_grid_feature(f.ctx, json_object_array_get_idx(feats, i), &GRIDS[GRID_ORDER[i]], 2);
    json_object_put(j);
    j = export_json(f.ctx, 1, WG_LEVEL_GRID, &count);
    assert_int_equal(4, count);
    check_grid_feature(f.ctx, json_object_array_get_idx(member(j, "features"), 3), &GRIDS[0], 1);
    json_object_put(j);
    close_store(&f);

    /* a generation with districts only: its communities are an empty collection */
    open_store(&f);
    tu_import_rects(f.ctx, WG_LEVEL_DISTRICT, DISTRICTS, 1, 0);
    assert_int_equal(WG_OK, wg_gen_publish(f.ctx, 1.0, 0, &gen, NULL));
    count = 7;
    j = export_json(f.ctx, 0, WG_LEVEL_COMMUNITY, &count);
    assert_int_equal(0, count);
    assert_int_equal(0, json_object_array_length(member(j, "features")));
    json_object_put(j);
    close_store(&f);
}

static void test_failures_write_nothing(void **state)
{
    fixture f;
    build(&f);
    const struct {
        int64_t gen;
        int level, rc;
    } cases[] = {{0, 0, WG_EINVAL}, {0, 4, WG_EINVAL}, {1, -1, WG_EINVAL}, {99, 3, WG_ENOTFOUND}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc;
        size_t count = 7;
        char *text = export_text(f.ctx, cases[i].gen, cases[i].level, &rc, &count);
        assert_int_equal(cases[i].rc, rc);
        assert_int_equal(0, count);
        assert_string_equal("", text);
        free(text);
    }
    close_store(&f);

    /* nothing published: no active generation */
    open_store(&f);
    int rc;
    char *text = export_text(f.ctx, 0, WG_LEVEL_GRID, &rc, NULL);
    assert_int_equal(WG_ENOTFOUND, rc);
    assert_string_equal("", text);
    free(text);
    close_store(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_grids),
        cmocka_unit_test(test_round_trip_through_second_store),
        cmocka_unit_test(test_generations_and_empty_level),
        cmocka_unit_test(test_failures_write_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
