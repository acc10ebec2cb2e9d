/* Validation of a generation: each fault kind on a small layout near 114.46 E 22.63 N, with
 * areas checked against geod_polygonarea of the known rectangles (not against the library's
 * own overlay), the tolerance rule, the JSON and text reports, failure paths, and a 10k-grid
 * generation that must validate in seconds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <geodesic.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "testutil.h"
#include "wangge/store.h"
#include "wangge/validate.h"

typedef struct fixture {
    wg_ctx *ctx;
    char *path;
    int64_t gen;
    wg_report *rep;
} fixture;

static void open_store(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->ctx = wg_ctx_new();
    assert_non_null(f->ctx);
    f->path = tu_temp_path(".sqlite");
    assert_int_equal(WG_OK, wg_store_open(f->ctx, f->path, WG_STORE_CREATE));
    assert_int_equal(WG_OK, wg_gen_draft(f->ctx, 1, &f->gen));
}

static void close_store(fixture *f)
{
    wg_report_free(f->rep);
    wg_ctx_free(f->ctx);
    tu_remove_store(f->path);
}

static void add_unit(fixture *f, int level, const char *code, const char *parent, const char *wkt)
{
    sqlite3_stmt *st;
    assert_int_equal(SQLITE_OK,
                     sqlite3_prepare_v2(f->ctx->db,
                                        "INSERT INTO units(level, code, parent_code, name, area_m2,"
                                        " first_gen, geom) VALUES (?, ?, ?, ?, 0, ?,"
                                        " CastToMultiPolygon(GeomFromText(?, 4326)))",
                                        -1, &st, NULL));
    sqlite3_bind_int(st, 1, level);
    sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
    if (parent) sqlite3_bind_text(st, 3, parent, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, f->gen);
    sqlite3_bind_text(st, 6, wkt, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s != SQLITE_DONE) fail_msg("insert %s: %s", code, sqlite3_errmsg(f->ctx->db));
    sqlite3_finalize(st);
}

/* Coordinates go through "%.6f" so that a shared edge is the same double on both sides. */
static void add_rect(fixture *f, int level, const char *code, const char *parent, double x0,
                     double y0, double x1, double y1)
{
    char wkt[256];
    snprintf(wkt, sizeof wkt, "POLYGON((%.6f %.6f,%.6f %.6f,%.6f %.6f,%.6f %.6f,%.6f %.6f))", x0,
             y0, x1, y0, x1, y1, x0, y1, x0, y0);
    add_unit(f, level, code, parent, wkt);
}

/* The independent figure: a lon/lat rectangle's area on the WGS84 ellipsoid. */
static double rect_m2(double x0, double y0, double x1, double y1)
{
    struct geod_geodesic g;
    geod_init(&g, 6378137.0, 1.0 / 298.257223563);
    double lats[4] = {y0, y0, y1, y1}, lons[4] = {x0, x1, x1, x0}, area = 0, perim = 0;
    geod_polygonarea(&g, lats, lons, 4, &area, &perim);
    return fabs(area);
}

static void assert_area(double got, double want)
{
    if (!(fabs(got - want) <= 0.01 * want)) fail_msg("area %.3f m2, expected %.3f m2", got, want);
}

static void assert_inside(const wg_fault *f, double x0, double y0, double x1, double y1)
{
    if (!(f->lon > x0 && f->lon < x1 && f->lat > y0 && f->lat < y1))
        fail_msg("location %.7f %.7f not inside [%g %g, %g %g]", f->lon, f->lat, x0, y0, x1, y1);
}

static void assert_fault(const wg_fault *f, wg_fault_kind kind, int level, const char *code,
                         const char *other)
{
    assert_string_equal(wg_fault_kind_name(kind), wg_fault_kind_name(f->kind));
    assert_int_equal(level, f->level);
    assert_string_equal(code, f->code);
    assert_string_equal(other, f->other);
}

static void validate(fixture *f, double tol_m2)
{
    wg_report_free(f->rep);
    f->rep = NULL;
    int rc = wg_validate(f->ctx, f->gen, tol_m2, &f->rep);
    if (rc != WG_OK) fail_msg("wg_validate: %s", wg_errmsg(f->ctx));
    assert_non_null(f->rep);
}

/* District D = [114.46, 114.48] x [22.63, 22.65]; communities C1 (west) and C2 (east) halve
 * it; each community holds a north and a south grid. Grids named in `omit` are left out so a
 * test can draw its own version. */
#define D "440307001"
#define C1 "440307001001"
#define C2 "440307001002"
#define G1N "440307001001001"
#define G1S "440307001001002"
#define G2N "440307001002001"
#define G2S "440307001002002"

static void build_layout(fixture *f, const char *const *omit, size_t n_omit)
{
    static const struct {
        const char *code, *parent;
        double x0, y0, x1, y1;
    } grids[] = {{G1N, C1, 114.46, 22.64, 114.47, 22.65},
                 {G1S, C1, 114.46, 22.63, 114.47, 22.64},
                 {G2N, C2, 114.47, 22.64, 114.48, 22.65},
                 {G2S, C2, 114.47, 22.63, 114.48, 22.64}};
    add_rect(f, 1, D, "440307", 114.46, 22.63, 114.48, 22.65);
    add_rect(f, 2, C1, D, 114.46, 22.63, 114.47, 22.65);
    add_rect(f, 2, C2, D, 114.47, 22.63, 114.48, 22.65);
    for (size_t i = 0; i < 4; i++) {
        int skip = 0;
        for (size_t k = 0; k < n_omit; k++)
            skip |= strcmp(omit[k], grids[i].code) == 0;
        if (!skip)
            add_rect(f, 3, grids[i].code, grids[i].parent, grids[i].x0, grids[i].y0, grids[i].x1,
                     grids[i].y1);
    }
}

static void test_clean_layout_has_no_faults(void **state)
{
    fixture f;
    open_store(&f);
    build_layout(&f, NULL, 0);
    validate(&f, 0.0);
    assert_int_equal(0, f.rep->n);
    assert_int_equal(0, f.rep->below_tol);
    assert_int_equal(f.gen, f.rep->generation);
    assert_int_equal(1, f.rep->units[1]);
    assert_int_equal(2, f.rep->units[2]);
    assert_int_equal(4, f.rep->units[3]);
    close_store(&f);
}

/* G1N grows a 0.001° x 0.001° tab down into G1S. */
static const char *const TAB_WKT =
    "POLYGON((114.46 22.64,114.465 22.64,114.465 22.639,114.466 22.639,114.466 22.64,"
    "114.47 22.64,114.47 22.65,114.46 22.65,114.46 22.64))";

static void test_overlapping_siblings(void **state)
{
    fixture f;
    open_store(&f);
    const char *omit[] = {G1N};
    build_layout(&f, omit, 1);
    add_unit(&f, 3, G1N, C1, TAB_WKT);
    validate(&f, 1.0);
    assert_int_equal(1, f.rep->n);
    const wg_fault *o = &f.rep->faults[0];
    assert_fault(o, WG_FAULT_OVERLAP, 3, G1N, G1S);
    double want = rect_m2(114.465, 22.639, 114.466, 22.640);
    assert_true(want > 11000 && want < 12000); /* ~103 m x 111 m */
    assert_area(o->area_m2, want);
    assert_inside(o, 114.465, 22.639, 114.466, 22.640);
    close_store(&f);
}

/* G1S loses two notches along its north edge: two separate gaps in C1, the east one twice as
 * wide (so listed first: same parent, larger area first). */
static void test_gaps_one_fault_per_part(void **state)
{
    fixture f;
    open_store(&f);
    const char *omit[] = {G1S};
    build_layout(&f, omit, 1);
    add_unit(&f, 3, G1S, C1,
             "POLYGON((114.46 22.63,114.47 22.63,114.47 22.64,114.469 22.64,114.469 22.639,"
             "114.467 22.639,114.467 22.64,114.462 22.64,114.462 22.639,114.461 22.639,"
             "114.461 22.64,114.46 22.64,114.46 22.63))");
    validate(&f, 1.0);
    assert_int_equal(2, f.rep->n);
    assert_fault(&f.rep->faults[0], WG_FAULT_GAP, 3, C1, "");
    assert_fault(&f.rep->faults[1], WG_FAULT_GAP, 3, C1, "");
    assert_area(f.rep->faults[0].area_m2, rect_m2(114.467, 22.639, 114.469, 22.640));
    assert_inside(&f.rep->faults[0], 114.467, 22.639, 114.469, 22.640);
    assert_area(f.rep->faults[1].area_m2, rect_m2(114.461, 22.639, 114.462, 22.640));
    assert_inside(&f.rep->faults[1], 114.461, 22.639, 114.462, 22.640);
    close_store(&f);
}

static void test_parent_without_children_is_one_gap(void **state)
{
    fixture f;
    open_store(&f);
    const char *omit[] = {G1N, G1S, G2N, G2S};
    build_layout(&f, omit, 4);
    validate(&f, 1.0); /* no grids at all: the grid level is not drawn yet, nothing to check */
    assert_int_equal(0, f.rep->n);
    assert_int_equal(0, f.rep->units[3]);
    add_rect(&f, 3, G1N, C1, 114.46, 22.64, 114.47, 22.65);
    add_rect(&f, 3, G1S, C1, 114.46, 22.63, 114.47, 22.64);
    validate(&f, 1.0);
    assert_int_equal(1, f.rep->n);
    assert_fault(&f.rep->faults[0], WG_FAULT_GAP, 3, C2, "");
    assert_area(f.rep->faults[0].area_m2, rect_m2(114.47, 22.63, 114.48, 22.65));
    assert_inside(&f.rep->faults[0], 114.47, 22.63, 114.48, 22.65);
    close_store(&f);
}

static void test_grid_partly_outside_its_community(void **state)
{
    fixture f;
    open_store(&f);
    const char *omit[] = {G2N};
    build_layout(&f, omit, 1);
    add_rect(&f, 3, G2N, C2, 114.47, 22.64, 114.481, 22.65); /* 0.001° east of C2 and D */
    validate(&f, 1.0);
    assert_int_equal(1, f.rep->n);
    const wg_fault *o = &f.rep->faults[0];
    assert_fault(o, WG_FAULT_OUTSIDE_PARENT, 3, G2N, C2);
    assert_area(o->area_m2, rect_m2(114.48, 22.64, 114.481, 22.65));
    assert_inside(o, 114.48, 22.64, 114.481, 22.65);
    close_store(&f);
}

/* A third community east of the district: outside its parent entirely, and (having no grids
 * while the grid level is drawn) one gap of its whole area; level 2 is listed before level 3. */
static void test_community_outside_district(void **state)
{
    fixture f;
    open_store(&f);
    build_layout(&f, NULL, 0);
    add_rect(&f, 2, "440307001003", D, 114.48, 22.63, 114.49, 22.65);
    validate(&f, 1.0);
    assert_int_equal(2, f.rep->n);
    double want = rect_m2(114.48, 22.63, 114.49, 22.65);
    assert_fault(&f.rep->faults[0], WG_FAULT_OUTSIDE_PARENT, 2, "440307001003", D);
    assert_area(f.rep->faults[0].area_m2, want);
    assert_fault(&f.rep->faults[1], WG_FAULT_GAP, 3, "440307001003", "");
    assert_area(f.rep->faults[1].area_m2, want);
    assert_inside(&f.rep->faults[1], 114.48, 22.63, 114.49, 22.65);
    close_store(&f);
}

static void test_wrong_code_prefix(void **state)
{
    fixture f;
    open_store(&f);
    const char *omit[] = {G1S};
    build_layout(&f, omit, 1);
    add_rect(&f, 3, "440307009001002", C1, 114.46, 22.63, 114.47, 22.64);
    validate(&f, 1.0);
    assert_int_equal(1, f.rep->n);
    assert_fault(&f.rep->faults[0], WG_FAULT_CODE_PREFIX, 3, "440307009001002", C1);
    assert_int_equal(0, f.rep->faults[0].area_m2);
    assert_inside(&f.rep->faults[0], 114.46, 22.63, 114.47, 22.64);
    close_store(&f);
}

/* Orphans: one naming a missing community, one naming none; they are no one's siblings, so
 * lying over C1's grids is not an overlap -- but two orphans naming the same missing parent
 * are siblings of each other. */
static void test_missing_parent(void **state)
{
    fixture f;
    open_store(&f);
    build_layout(&f, NULL, 0);
    add_rect(&f, 3, "440307001099001", "440307001099", 114.461, 22.631, 114.464, 22.634);
    add_rect(&f, 3, "440307001099002", "440307001099", 114.463, 22.631, 114.466, 22.634);
    add_rect(&f, 3, "440307001001009", NULL, 114.461, 22.631, 114.464, 22.634);
    validate(&f, 1.0);
    assert_int_equal(4, f.rep->n);
    assert_fault(&f.rep->faults[0], WG_FAULT_NO_PARENT, 3, "440307001001009", "");
    assert_fault(&f.rep->faults[1], WG_FAULT_NO_PARENT, 3, "440307001099001", "440307001099");
    assert_fault(&f.rep->faults[2], WG_FAULT_NO_PARENT, 3, "440307001099002", "440307001099");
    assert_fault(&f.rep->faults[3], WG_FAULT_OVERLAP, 3, "440307001099001", "440307001099002");
    assert_area(f.rep->faults[3].area_m2, rect_m2(114.463, 22.631, 114.464, 22.634));
    assert_inside(&f.rep->faults[0], 114.461, 22.631, 114.464, 22.634);
    close_store(&f);
}

/* A bowtie in place of G1S: an invalid_geometry fault at the crossing, its community is not
 * gap-checked (overlay on it is undefined), and the checks of the other units still run:
 * C2's grids overlap. */
static void test_invalid_bowtie(void **state)
{
    fixture f;
    open_store(&f);
    const char *omit[] = {G1S, G2N};
    build_layout(&f, omit, 2);
    add_unit(&f, 3, G1S, C1,
             "POLYGON((114.46 22.63,114.47 22.64,114.47 22.63,114.46 22.64,114.46 22.63))");
    add_rect(&f, 3, G2N, C2, 114.47, 22.639, 114.48, 22.65);
    validate(&f, 1.0);
    assert_int_equal(2, f.rep->n);
    const wg_fault *inv = &f.rep->faults[0];
    assert_fault(inv, WG_FAULT_INVALID_GEOMETRY, 3, G1S, "");
    assert_true(fabs(inv->lon - 114.465) < 1e-6 && fabs(inv->lat - 22.635) < 1e-6);
    assert_non_null(strstr(inv->detail, "elf-intersection"));
    assert_fault(&f.rep->faults[1], WG_FAULT_OVERLAP, 3, G2N, G2S);
    assert_area(f.rep->faults[1].area_m2, rect_m2(114.47, 22.639, 114.48, 22.64));
    close_store(&f);
}

/* Districts are all siblings; a coordinate out of range is found with its place. */
static void test_districts_overlap_and_coord_range(void **state)
{
    fixture f;
    open_store(&f);
    add_rect(&f, 1, "440307001", "440307", 114.46, 22.63, 114.48, 22.65);
    add_rect(&f, 1, "440307002", "440307", 114.479, 22.63, 114.50, 22.65);
    add_unit(&f, 1, "440307003", "440307", "POLYGON((179 10,180.5 10,180.5 11,179 11,179 10))");
    validate(&f, 1.0);
    assert_int_equal(2, f.rep->n);
    assert_fault(&f.rep->faults[0], WG_FAULT_COORD_RANGE, 1, "440307003", "");
    assert_true(f.rep->faults[0].lon == 180.5 && f.rep->faults[0].lat == 10.0);
    assert_fault(&f.rep->faults[1], WG_FAULT_OVERLAP, 1, "440307001", "440307002");
    assert_area(f.rep->faults[1].area_m2, rect_m2(114.479, 22.63, 114.48, 22.65));
    close_store(&f);
}

static void test_duplicate_code(void **state)
{
    fixture f;
    open_store(&f);
    build_layout(&f, NULL, 0);
    add_rect(&f, 3, G1N, C1, 114.461, 22.641, 114.462, 22.642);
    validate(&f, 1.0);
    assert_int_equal(2, f.rep->n);
    assert_fault(&f.rep->faults[0], WG_FAULT_OVERLAP, 3, G1N, G1N);
    assert_area(f.rep->faults[0].area_m2, rect_m2(114.461, 22.641, 114.462, 22.642));
    assert_fault(&f.rep->faults[1], WG_FAULT_DUPLICATE_CODE, 3, G1N, "");
    close_store(&f);
}

/* A sliver of about half a square metre between G1N and G1S. */
static void test_tolerance(void **state)
{
    fixture f;
    open_store(&f);
    const char *omit[] = {G1N};
    build_layout(&f, omit, 1);
    add_unit(&f, 3, G1N, C1,
             "POLYGON((114.46 22.64,114.465 22.64,114.465 22.639995,114.46501 22.639995,"
             "114.46501 22.64,114.47 22.64,114.47 22.65,114.46 22.65,114.46 22.64))");
    double want = rect_m2(114.465, 22.639995, 114.46501, 22.64);
    assert_true(want > 0.1 && want < 1.0);
    validate(&f, 1.0);
    assert_int_equal(0, f.rep->n);
    assert_int_equal(1, f.rep->below_tol);
    assert_area(f.rep->below_tol_m2, want);
    validate(&f, 0.1);
    assert_int_equal(1, f.rep->n);
    assert_int_equal(0, f.rep->below_tol);
    assert_fault(&f.rep->faults[0], WG_FAULT_OVERLAP, 3, G1N, G1S);
    assert_area(f.rep->faults[0].area_m2, want);
    close_store(&f);
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v)) fail_msg("no \"%s\" in report JSON", key);
    return v;
}

static void test_json_report(void **state)
{
    fixture f;
    open_store(&f);
    const char *omit[] = {G1N};
    build_layout(&f, omit, 1);
    add_unit(&f, 3, G1N, C1, TAB_WKT);
    validate(&f, 1.0);
    char *text = wg_report_json(f.rep);
    assert_non_null(text);
    json_object *o = json_tokener_parse(text);
    assert_non_null(o);
    assert_int_equal(f.gen, json_object_get_int64(get(o, "generation")));
    assert_true(json_object_get_double(get(o, "tolerance_m2")) == 1.0);
    json_object *units = get(o, "units");
    assert_int_equal(1, json_object_get_int(get(units, "district")));
    assert_int_equal(2, json_object_get_int(get(units, "community")));
    assert_int_equal(4, json_object_get_int(get(units, "grid")));
    assert_false(json_object_get_boolean(get(o, "ok")));
    json_object *faults = get(o, "faults");
    assert_int_equal(1, json_object_array_length(faults));
    json_object *f0 = json_object_array_get_idx(faults, 0);
    assert_string_equal("overlap", json_object_get_string(get(f0, "kind")));
    assert_int_equal(3, json_object_get_int(get(f0, "level")));
    assert_string_equal(G1N, json_object_get_string(get(f0, "code")));
    assert_string_equal(G1S, json_object_get_string(get(f0, "other")));
    assert_area(json_object_get_double(get(f0, "area_m2")), f.rep->faults[0].area_m2);
    json_object *loc = get(f0, "location");
    assert_int_equal(2, json_object_array_length(loc));
    assert_true(fabs(json_object_get_double(json_object_array_get_idx(loc, 0)) -
                     f.rep->faults[0].lon) < 1e-6);
    assert_int_equal(0, json_object_get_int(get(get(o, "below_tolerance"), "count")));
    json_object_put(o);
    free(text);

    /* a clean report says ok with an empty list */
    sqlite3_exec(f.ctx->db, "DELETE FROM units WHERE level = 3", NULL, NULL, NULL);
    validate(&f, 1.0);
    text = wg_report_json(f.rep);
    o = json_tokener_parse(text);
    assert_non_null(o);
    assert_true(json_object_get_boolean(get(o, "ok")));
    assert_int_equal(0, json_object_array_length(get(o, "faults")));
    assert_int_equal(0, json_object_get_int(get(get(o, "units"), "grid")));
    json_object_put(o);
    free(text);
    close_store(&f);
}

static void test_text_report(void **state)
{
    fixture f;
    open_store(&f);
    const char *omit[] = {G2N};
    build_layout(&f, omit, 1);
    add_rect(&f, 3, G2N, C2, 114.47, 22.64, 114.481, 22.65);
    validate(&f, 1.0);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    wg_report_print(f.rep, out);
    fclose(out);
    assert_non_null(strstr(buf, "outside_parent"));
    assert_non_null(strstr(buf, G2N " outside " C2));
    assert_non_null(strstr(buf, " m2 at 114.48"));
    char summary[128];
    snprintf(summary, sizeof summary, "generation %lld: 1 faults (0 below tolerance of 1 m2)\n",
             (long long)f.gen);
    assert_non_null(strstr(buf, summary));
    free(buf);
    close_store(&f);
}

static void test_failure_paths(void **state)
{
    fixture f;
    open_store(&f);
    build_layout(&f, NULL, 0);
    wg_report *rep = (wg_report *)&f; /* must be reset to NULL on failure */
    assert_int_equal(WG_ENOTFOUND, wg_validate(f.ctx, f.gen + 41, 1.0, &rep));
    assert_null(rep);
    assert_non_null(strstr(wg_errmsg(f.ctx), "does not exist"));
    rep = (wg_report *)&f;
    assert_int_equal(WG_EINVAL, wg_validate(f.ctx, f.gen, -1.0, &rep));
    assert_null(rep);
    assert_int_equal(WG_EINVAL, wg_validate(f.ctx, f.gen, NAN, &rep));
    wg_ctx *bare = wg_ctx_new();
    assert_int_equal(WG_EINVAL, wg_validate(bare, 1, 1.0, &rep));
    wg_ctx_free(bare);
    wg_report_free(NULL);
    assert_string_equal("gap", wg_fault_kind_name(WG_FAULT_GAP));
    assert_string_equal("unknown", wg_fault_kind_name((wg_fault_kind)99));
    close_store(&f);
}

static void test_empty_generation(void **state)
{
    fixture f;
    open_store(&f);
    validate(&f, 1.0);
    assert_int_equal(0, f.rep->n);
    assert_int_equal(0, f.rep->units[1] + f.rep->units[2] + f.rep->units[3]);
    close_store(&f);
}

/* ---- city scale: 10k grids (2,500 under ASan) ----
 * 100 x 100 grids of 0.002° (about 200 m) in 10 x 10 communities of one district. Every
 * boundary walks one shared lattice (25 segments per grid side, so 100 vertices a grid) whose
 * points are jittered by a hash of their lattice index, so neighbours share exact vertices and
 * edges are not axis-aligned. One grid is left out: exactly one gap, of its area. */
#if defined(__SANITIZE_ADDRESS__)
#define NG 50 /* grids per side: a quarter of the city under ASan, which is ~3x slower */
#else
#define NG 100 /* grids per side */
#endif
#define NC 10  /* grids per community side */
#define SEG 25 /* lattice segments per grid side */
#define CELL 0.002

static void lattice(int ix, int iy, double *lon, double *lat)
{
    unsigned h = (unsigned)ix * 73856093u ^ (unsigned)iy * 19349663u;
    h = (h ^ (h >> 13)) * 0x5bd1e995u;
    double step = CELL / SEG, jx = ((h & 1023) / 1023.0 - 0.5) * 0.4 * step;
    double jy = (((h >> 10) & 1023) / 1023.0 - 0.5) * 0.4 * step;
    *lon = 114.0 + ix * step + jx;
    *lat = 22.5 + iy * step + jy;
}

/* The ring around lattice cells [ix0, ix1] x [iy0, iy1], as WKT and as lon/lat arrays. */
static char *lattice_ring(int ix0, int iy0, int ix1, int iy1, double *lons, double *lats, int *n)
{
    size_t cap = (size_t)(2 * (ix1 - ix0) + 2 * (iy1 - iy0) + 2) * 40 + 32;
    char *wkt = malloc(cap);
    size_t len = (size_t)snprintf(wkt, cap, "POLYGON((");
    int k = 0,
        sides[4][4] = {{ix0, iy0, 1, 0}, {ix1, iy0, 0, 1}, {ix1, iy1, -1, 0}, {ix0, iy1, 0, -1}};
    int lens[4] = {ix1 - ix0, iy1 - iy0, ix1 - ix0, iy1 - iy0};
    for (int s = 0; s < 4; s++)
        for (int t = 0; t < lens[s]; t++, k++) {
            double x, y;
            lattice(sides[s][0] + t * sides[s][2], sides[s][1] + t * sides[s][3], &x, &y);
            len += (size_t)snprintf(wkt + len, cap - len, "%.9f %.9f,", x, y);
            if (lons) {
                lons[k] = x;
                lats[k] = y;
            }
        }
    double x, y;
    lattice(ix0, iy0, &x, &y);
    snprintf(wkt + len, cap - len, "%.9f %.9f))", x, y);
    if (n) *n = k;
    return wkt;
}

static void add_lattice_unit(fixture *f, int level, const char *code, const char *parent, int ix0,
                             int iy0, int ix1, int iy1)
{
    char *wkt = lattice_ring(ix0, iy0, ix1, iy1, NULL, NULL, NULL);
    add_unit(f, level, code, parent, wkt);
    free(wkt);
}

static void test_city_scale_validates_in_seconds(void **state)
{
    fixture f;
    open_store(&f);
    const int missing_gx = 23, missing_gy = 17;
    assert_int_equal(SQLITE_OK, sqlite3_exec(f.ctx->db, "BEGIN", NULL, NULL, NULL));
    add_lattice_unit(&f, 1, D, "440307", 0, 0, NG * SEG, NG * SEG);
    for (int c = 0; c < (NG / NC) * (NG / NC); c++) {
        int cx = c % (NG / NC), cy = c / (NG / NC);
        char ccode[16], gcode[20];
        snprintf(ccode, sizeof ccode, "%s%03d", D, c + 1);
        add_lattice_unit(&f, 2, ccode, D, cx * NC * SEG, cy * NC * SEG, (cx + 1) * NC * SEG,
                         (cy + 1) * NC * SEG);
        for (int g = 0; g < NC * NC; g++) {
            int gx = cx * NC + g % NC, gy = cy * NC + g / NC;
            if (gx == missing_gx && gy == missing_gy) continue;
            snprintf(gcode, sizeof gcode, "%s%03d", ccode, g + 1);
            add_lattice_unit(&f, 3, gcode, ccode, gx * SEG, gy * SEG, (gx + 1) * SEG,
                             (gy + 1) * SEG);
        }
    }
    assert_int_equal(SQLITE_OK, sqlite3_exec(f.ctx->db, "COMMIT", NULL, NULL, NULL));

    validate(&f, 1.0);
    print_message("%d grids: %zu units validated in %.2f s, %zu faults, %zu below tolerance "
                  "(%.3g m2)\n",
                  NG * NG - 1, f.rep->units[1] + f.rep->units[2] + f.rep->units[3], f.rep->seconds,
                  f.rep->n, f.rep->below_tol, f.rep->below_tol_m2);
    assert_int_equal(NG * NG - 1, f.rep->units[3]);
    assert_int_equal(1, f.rep->n);
    const wg_fault *gap = &f.rep->faults[0];
    char ccode[16];
    snprintf(ccode, sizeof ccode, "%s%03d", D, (missing_gy / NC) * (NG / NC) + missing_gx / NC + 1);
    assert_fault(gap, WG_FAULT_GAP, 3, ccode, "");
    double lons[4 * SEG], lats[4 * SEG], want = 0, perim = 0;
    int n = 0;
    free(lattice_ring(missing_gx * SEG, missing_gy * SEG, (missing_gx + 1) * SEG,
                      (missing_gy + 1) * SEG, lons, lats, &n));
    struct geod_geodesic g;
    geod_init(&g, 6378137.0, 1.0 / 298.257223563);
    geod_polygonarea(&g, lats, lons, n, &want, &perim);
    assert_area(gap->area_m2, fabs(want));
    assert_true(f.rep->seconds < 120.0); /* generous for sanitizer builds; see the message */
    close_store(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_layout_has_no_faults),
        cmocka_unit_test(test_overlapping_siblings),
        cmocka_unit_test(test_gaps_one_fault_per_part),
        cmocka_unit_test(test_parent_without_children_is_one_gap),
        cmocka_unit_test(test_grid_partly_outside_its_community),
        cmocka_unit_test(test_community_outside_district),
        cmocka_unit_test(test_wrong_code_prefix),
        cmocka_unit_test(test_missing_parent),
        cmocka_unit_test(test_invalid_bowtie),
        cmocka_unit_test(test_districts_overlap_and_coord_range),
        cmocka_unit_test(test_duplicate_code),
        cmocka_unit_test(test_tolerance),
        cmocka_unit_test(test_json_report),
        cmocka_unit_test(test_text_report),
        cmocka_unit_test(test_failure_paths),
        cmocka_unit_test(test_empty_generation),
        cmocka_unit_test(test_city_scale_validates_in_seconds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
