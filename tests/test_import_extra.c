/* Workers and reference layers (lib/src/import_extra.c) and schema versions 2-3: a new store is
 * at the current version with workers and layer_features; a version-1 store built by the version-1
 * migration upgrades in place keeping its rows. Workers: fields read back, every rejection
 * by line and kind with nothing stored, skip_rejected, upsert (and what an empty field keeps),
 * replace, GeoJSON points. Layers: lines, polygons and points stored with their types, class
 * and props; counts per layer; geometry faults rejected with nothing stored; repair; layer
 * names; replace of one layer. Also the general GeoJSON parser of geom.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geom.h"
#include "internal.h"
#include "wangge/workers.h"
#include "store_schema.h"
#include "testutil.h"
#include "wangge/import.h"
#include "wangge/store.h"

/* ---------------------------------------------------------------- helpers */

typedef struct fixture {
    wg_ctx *ctx;
    char *path;
    tu_issues is;
} fixture;

static void open_store(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->ctx = tu_open_store(&f->path);
}

static void close_store(fixture *f)
{
    tu_close_store(f->ctx, f->path);
}

#define q_int(f, sql) tu_q_int((f)->ctx, (sql))
#define q_text(f, sql, out, len) tu_q_text((f)->ctx, (sql), (out), (len))

static int import_workers(fixture *f, const char *path, int skip, int replace, wg_import_stats *st)
{
    wg_point_import_opts o = {0};
    o.skip_rejected = skip;
    o.replace = replace;
    o.on_issue = tu_collect_issue;
    o.ud = &f->is;
    f->is.n = 0;
    return wg_import_workers(f->ctx, path, &o, st);
}

static int import_layer(fixture *f, const char *path, const char *layer, int skip, int repair,
                        int replace, wg_import_stats *st)
{
    wg_unit_import_opts o = {0};
    o.skip_rejected = skip;
    o.repair = repair;
    o.replace = replace;
    o.on_issue = tu_collect_issue;
    o.ud = &f->is;
    f->is.n = 0;
    return wg_import_layer(f->ctx, path, layer, &o, st);
}

/* A FeatureCollection of features given as (properties members, geometry JSON) pairs,
 * terminated by NULL, written to a temp file. */
static char *features(const char *props, ...)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fputs("{\"type\":\"FeatureCollection\",\"features\":[", f);
    va_list ap;
    va_start(ap, props);
    for (int n = 0; props; n++, props = va_arg(ap, const char *)) {
        const char *geometry = va_arg(ap, const char *);
        fprintf(f, "%s\n{\"type\":\"Feature\",\"properties\":{%s},\"geometry\":%s}", n ? "," : "",
                props, geometry);
    }
    va_end(ap);
    fputs("]}\n", f);
    fclose(f);
    char *path = tu_write_temp(buf);
    free(buf);
    return path;
}

#define LINE                                                                                       \
    "{\"type\":\"LineString\",\"coordinates\":[[114.44,22.61],[114.46,22.62],[114.48,22.62]]}"
#define MLINE                                                                                      \
    "{\"type\":\"MultiLineString\",\"coordinates\":[[[114.44,22.61],[114.48,22.62]],"              \
    "[[114.45,22.60],[114.45,22.64]]]}"
#define SQUARE                                                                                     \
    "{\"type\":\"Polygon\",\"coordinates\":[[[114.44,22.61],[114.45,22.61],[114.45,22.62],"        \
    "[114.44,22.62],[114.44,22.61]]]}"
#define MSQUARES                                                                                   \
    "{\"type\":\"MultiPolygon\",\"coordinates\":[[[[114.44,22.61],[114.45,22.61],[114.45,22.62],"  \
    "[114.44,22.61]]],[[[114.46,22.61],[114.47,22.61],[114.47,22.62],[114.46,22.61]]]]}"
#define POINT "{\"type\":\"Point\",\"coordinates\":[114.455,22.615]}"
#define MPOINT "{\"type\":\"MultiPoint\",\"coordinates\":[[114.455,22.615],[114.456,22.616]]}"
#define BOWTIE                                                                                     \
    "{\"type\":\"Polygon\",\"coordinates\":[[[114.46,22.62],[114.47,22.63],[114.47,22.62],"        \
    "[114.46,22.63],[114.46,22.62]]]}"
#define UNCLOSED                                                                                   \
    "{\"type\":\"Polygon\",\"coordinates\":[[[114.46,22.62],[114.47,22.62],[114.47,22.63],"        \
    "[114.46,22.63]]]}"

/* ---------------------------------------------------------------- schema */

static void test_new_store_is_current(void **state)
{
    fixture f;
    open_store(&f);
    assert_int_equal(6, WG_SCHEMA_VERSION);
    assert_int_equal(WG_SCHEMA_VERSION, q_int(&f, "SELECT value FROM wg_meta WHERE key = 'schema_version'"));
    /* version 6 counts the merges of the position inbox */
    assert_int_equal(0, q_int(&f, "SELECT value FROM wg_meta WHERE key = 'position_merges'"));
    assert_int_equal(5, q_int(&f, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
                                  " ('worker_positions', 'categories', 'event_steps', 'api_keys',"
                                  " 'position_inbox')"));
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM sqlite_master WHERE type = 'view' AND"
                                  " name = 'workers_now'"));
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM geometry_columns"
                                  " WHERE f_table_name = 'layer_features' AND f_geometry_column ="
                                  " 'geom' AND geometry_type = 0 AND srid = 4326 AND"
                                  " coord_dimension = 2 AND spatial_index_enabled = 1"));
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND"
                                  " name = 'workers_home_grid'"));
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND"
                                  " name = 'layer_features_layer_code'"));
    /* the table's own checks hold whatever writes to it */
    assert_int_equal(WG_ESTORE, wg_exec(f.ctx, "INSERT INTO workers(id, name, role)"
                                               " VALUES ('w', 'n', 'boss')"));
    assert_int_equal(WG_ESTORE, wg_exec(f.ctx, "INSERT INTO workers(id, name, role, lon, lat)"
                                               " VALUES ('w', 'n', 'officer', 181, 0)"));
    assert_int_equal(WG_ESTORE, wg_exec(f.ctx, "INSERT INTO workers(id, name, role)"
                                               " VALUES ('', 'n', 'officer')"));
    assert_int_equal(WG_OK, wg_exec(f.ctx, "INSERT INTO workers(id, name, role)"
                                           " VALUES ('w', 'n', 'officer')"));
    assert_int_equal(0, q_int(&f, "SELECT on_duty FROM workers"));
    close_store(&f);
}

/* A store built by the version-1 migration alone, with units and addresses, upgrades in
 * place when opened writable and keeps every row. */
static void test_v1_store_upgrades_in_place(void **state)
{
    char *path = tu_temp_path(".sqlite");
    wg_schema_set_target(1);
    wg_ctx *ctx = wg_ctx_new();
    assert_int_equal(WG_OK, wg_store_open(ctx, path, WG_STORE_CREATE));
    const tu_rect r[] = {{"440307006", 114.44, 22.61, 114.48, 22.63, "\"name\":\"d\""}};
    tu_import_rects(ctx, WG_LEVEL_DISTRICT, r, 1, 0);
    char *csv = tu_write_named(".csv", "lon,lat,households\n114.45,22.62,3\n114.46,22.62,2\n");
    wg_import_stats st;
    wg_point_import_opts po = {0};
    assert_int_equal(WG_OK, wg_import_addresses(ctx, csv, &po, &st));
    tu_remove_temp(csv);
    wg_ctx_free(ctx);
    wg_schema_set_target(0);

    fixture f = {0};
    f.path = path;
    sqlite3 *raw;
    /* what version 1 looked like: no workers, no layer_features */
    assert_int_equal(SQLITE_OK, sqlite3_open(path, &raw));
    f.ctx = wg_ctx_new();
    f.ctx->db = raw;
    assert_int_equal(1, q_int(&f, "SELECT value FROM wg_meta WHERE key = 'schema_version'"));
    assert_int_equal(0, q_int(&f, "SELECT count(*) FROM sqlite_master"
                                  " WHERE name IN ('workers', 'layer_features')"));
    f.ctx->db = NULL;
    sqlite3_close(raw);
    wg_ctx_free(f.ctx);

    /* read-only cannot upgrade it */
    f.ctx = wg_ctx_new();
    assert_int_equal(WG_ESTORE, wg_store_open(f.ctx, path, WG_STORE_READONLY));
    assert_non_null(strstr(wg_errmsg(f.ctx), "needs 6"));
    wg_ctx_free(f.ctx);

    f.ctx = wg_ctx_new();
    assert_int_equal(WG_OK, wg_store_open(f.ctx, path, 0));
    assert_int_equal(WG_SCHEMA_VERSION, q_int(&f, "SELECT value FROM wg_meta WHERE key = 'schema_version'"));
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM units WHERE code = '440307006'"));
    assert_int_equal(5, q_int(&f, "SELECT sum(households) FROM addresses"));
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM geometry_columns"
                                  " WHERE f_table_name = 'layer_features'"
                                  " AND spatial_index_enabled = 1"));
    /* and the new tables work */
    char *p = features("\"code\":\"R1\"", LINE, NULL);
    assert_int_equal(WG_OK, import_layer(&f, p, "roads", 0, 0, 0, &st));
    assert_int_equal(1, st.imported);
    tu_remove_temp(p);
    csv = tu_write_named(".csv", "id,name,role\nW1,张伟,officer\n");
    assert_int_equal(WG_OK, import_workers(&f, csv, 0, 0, &st));
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM workers"));
    tu_remove_temp(csv);
    close_store(&f);
}

/* A version-4 store (the inbox keyed by time) with fixes waiting in its inbox upgrades to the
 * arrival-order inbox with every fix kept, in time order, still seen by readers and moved by
 * the next merge. */
static void test_v4_inbox_upgrades(void **state)
{
    (void)state;
    char *path = tu_temp_path(".sqlite");
    wg_schema_set_target(4);
    wg_ctx *ctx = wg_ctx_new();
    assert_int_equal(WG_OK, wg_store_open(ctx, path, WG_STORE_CREATE));
    assert_int_equal(WG_OK, wg_exec(ctx, "INSERT INTO workers(id, name, role) VALUES ('w', 'n', 'officer');"
                                         "INSERT INTO position_inbox(at_ms, worker_id, lon, lat, received_ms)"
                                         " VALUES (3000, 'w', 114.3, 22.3, 1), (1000, 'w', 114.1, 22.1, 1),"
                                         " (2000, 'w', 114.2, 22.2, 1)"));
    wg_ctx_free(ctx);
    wg_schema_set_target(0);

    fixture f = {0};
    f.path = path;
    f.ctx = wg_ctx_new();
    assert_int_equal(WG_OK, wg_store_open(f.ctx, path, 0));
    assert_int_equal(WG_SCHEMA_VERSION, q_int(&f, "SELECT value FROM wg_meta WHERE key = 'schema_version'"));
    assert_int_equal(3, q_int(&f, "SELECT count(*) FROM position_inbox"));
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM pragma_table_info('position_inbox')"
                                  " WHERE name = 'seq' AND pk = 1"));
    assert_int_equal(123, q_int(&f, "SELECT group_concat(at_ms / 1000, '') FROM"
                                    " (SELECT at_ms FROM position_inbox ORDER BY seq)"));
    assert_int_equal(3000, q_int(&f, "SELECT seen_ms FROM workers_now WHERE id = 'w'"));
    size_t moved = 0;
    assert_int_equal(WG_OK, wg_positions_merge(f.ctx, NULL, &moved));
    assert_int_equal(3, moved);
    assert_int_equal(3, q_int(&f, "SELECT count(*) FROM worker_positions"));
    assert_int_equal(3000, q_int(&f, "SELECT seen_ms FROM workers WHERE id = 'w'"));
    /* the merge is counted (version 6); a merge of an empty inbox is not */
    assert_int_equal(1, q_int(&f, "SELECT value FROM wg_meta WHERE key = 'position_merges'"));
    assert_int_equal(WG_OK, wg_positions_merge(f.ctx, NULL, &moved));
    assert_int_equal(0, moved);
    assert_int_equal(1, q_int(&f, "SELECT value FROM wg_meta WHERE key = 'position_merges'"));
    close_store(&f);
}

/* ---------------------------------------------------------------- workers */

static const char *const ROSTER =
    "id,name,phone,role,home_grid,lon,lat,on_duty\n"
    "W440307006001001,张伟,13800138000,grid_worker,440307006001001,114.4612345,22.6312345,1\n"
    "W440307006001002,李娜,13800138001,grid_worker,440307006001002,,,0\n"
    "O4403070060001,王芳,,officer,,114.47,22.62,1\n";

static void test_workers_csv_fields(void **state)
{
    fixture f;
    open_store(&f);
    char *p = tu_write_named(".csv", ROSTER);
    wg_import_stats st;
    assert_int_equal(WG_OK, import_workers(&f, p, 0, 0, &st));
    assert_int_equal(3, st.read);
    assert_int_equal(3, st.imported);
    assert_int_equal(0, st.rejected);
    assert_int_equal(0, st.updated);
    assert_int_equal(0, f.is.n);
    char t[300];
    q_text(&f,
           "SELECT name || '|' || phone || '|' || role || '|' || home_grid || '|' ||"
           " printf('%.7f %.7f', lon, lat) || '|' || on_duty || '|' || (seen_at IS NULL)"
           " FROM workers WHERE id = 'W440307006001001'",
           t, sizeof t);
    assert_string_equal("张伟|13800138000|grid_worker|440307006001001|114.4612345 22.6312345|1|1",
                        t);
    assert_int_equal(1, q_int(&f, "SELECT lon = 114.4612345 AND lat = 22.6312345 FROM workers"
                                  " WHERE id = 'W440307006001001'"));
    /* no position: NULLs */
    assert_int_equal(1, q_int(&f, "SELECT lon IS NULL AND lat IS NULL AND on_duty = 0"
                                  " FROM workers WHERE id = 'W440307006001002'"));
    /* an officer: no home grid, no phone */
    assert_int_equal(1, q_int(&f, "SELECT home_grid IS NULL AND phone IS NULL AND"
                                  " role = 'officer' FROM workers WHERE id = 'O4403070060001'"));
    assert_int_equal(2, q_int(&f, "SELECT count(*) FROM workers WHERE role = 'grid_worker'"));
    tu_remove_temp(p);

    /* columns in another order, no position columns, seen_at, on_duty spelled out */
    p = tu_write_named(".csv", "role,on_duty,name,id,seen_at,lon,lat\n"
                            "officer,true,赵,X1,2024-05-01T08:00:00Z,114.5,22.5\n"
                            "officer,FALSE,钱,X2,,,\n");
    assert_int_equal(WG_OK, import_workers(&f, p, 0, 0, &st));
    assert_int_equal(2, st.imported);
    q_text(&f, "SELECT on_duty || '|' || seen_at FROM workers WHERE id = 'X1'", t, sizeof t);
    assert_string_equal("1|2024-05-01T08:00:00Z", t);
    assert_int_equal(0, q_int(&f, "SELECT on_duty FROM workers WHERE id = 'X2'"));
    tu_remove_temp(p);
    p = tu_write_named(".csv", "id,name,role\nX3,孙,grid_worker\n");
    assert_int_equal(WG_OK, import_workers(&f, p, 0, 0, &st));
    assert_int_equal(1, q_int(&f, "SELECT lon IS NULL FROM workers WHERE id = 'X3'"));
    tu_remove_temp(p);
    assert_int_equal(6, q_int(&f, "SELECT count(*) FROM workers"));
    close_store(&f);
}

static void test_workers_rejections(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    char *good = tu_write_named(".csv", ROSTER);
    assert_int_equal(WG_OK, import_workers(&f, good, 0, 0, &st));
    tu_remove_temp(good);

    char *p = tu_write_named(".csv", "id,name,phone,role,home_grid,lon,lat,on_duty\n"
                                  "A1,甲,,grid_worker,440307006001001,114.46,22.63,1\n" /* 2 ok */
                                  "A2,乙,,boss,,,,0\n"                                  /* 3 */
                                  ",丙,,officer,,,,0\n"                                 /* 4 */
                                  "A1,丁,,officer,,,,0\n"                               /* 5 */
                                  "A3,戊,,officer,,181,22.6,0\n"                        /* 6 */
                                  "A4,己,,officer,,nan,22.6,0\n"                        /* 7 */
                                  "A5,庚,,officer,,114.4,,0\n"                          /* 8 */
                                  "A6,辛,,officer,,x,22.6,0\n"                          /* 9 */
                                  "A7,,,officer,,,,0\n"                                 /* 10 */
                                  "A8,壬,,officer,,,,2\n"                               /* 11 */
                                  "A9,癸,,,,,,\n"                                       /* 12 */
                                  "A10,子,,officer,,,,1\n");                            /* 13 ok */
    assert_int_equal(WG_EDATA, import_workers(&f, p, 0, 0, &st));
    assert_non_null(strstr(wg_errmsg(f.ctx), "nothing was imported"));
    assert_int_equal(12, st.read);
    assert_int_equal(10, st.rejected);
    assert_int_equal(0, st.imported);
    assert_int_equal(10, f.is.n);
    tu_expect_issue(&f.is, 0, 3, "bad_role", "A2", 0);
    tu_expect_issue(&f.is, 1, 4, "missing_id", "", 0);
    tu_expect_issue(&f.is, 2, 5, "duplicate_id", "A1", 0);
    tu_expect_issue(&f.is, 3, 6, "bad_coordinates", "A3", 0);
    assert_non_null(strstr(f.is.v[3].reason, "out of range"));
    tu_expect_issue(&f.is, 4, 7, "bad_coordinates", "A4", 0);
    assert_non_null(strstr(f.is.v[4].reason, "NaN"));
    tu_expect_issue(&f.is, 5, 8, "bad_coordinates", "A5", 0);
    tu_expect_issue(&f.is, 6, 9, "bad_coordinates", "A6", 0);
    tu_expect_issue(&f.is, 7, 10, "missing_name", "A7", 0);
    tu_expect_issue(&f.is, 8, 11, "bad_on_duty", "A8", 0);
    tu_expect_issue(&f.is, 9, 12, "bad_role", "A9", 0);
    for (size_t i = 0; i < f.is.n; i++)
        assert_int_equal(1, f.is.v[i].is_line);
    /* nothing stored, nothing of the roster changed */
    assert_int_equal(3, q_int(&f, "SELECT count(*) FROM workers"));
    assert_int_equal(0, q_int(&f, "SELECT count(*) FROM workers WHERE id LIKE 'A%'"));

    /* skip_rejected keeps the two good rows */
    assert_int_equal(WG_OK, import_workers(&f, p, 1, 0, &st));
    assert_int_equal(2, st.imported);
    assert_int_equal(10, st.rejected);
    assert_int_equal(5, q_int(&f, "SELECT count(*) FROM workers"));
    char t[100];
    q_text(&f, "SELECT name FROM workers WHERE id = 'A1'", t, sizeof t);
    assert_string_equal("甲", t); /* the first of the duplicates */
    tu_remove_temp(p);

    /* an id too long; a home grid too long */
    char text[400];
    snprintf(text, sizeof text, "id,name,role,home_grid\n%0*d,n,officer,\nB1,n,grid_worker,%0*d\n",
             65, 7, 33, 7);
    p = tu_write_named(".csv", text);
    assert_int_equal(WG_EDATA, import_workers(&f, p, 0, 0, &st));
    tu_expect_issue(&f.is, 0, 2, "bad_id", "", 0);
    tu_expect_issue(&f.is, 1, 3, "bad_home_grid", "B1", 0);
    tu_remove_temp(p);
    close_store(&f);
}

static void test_workers_header_and_file_failures(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    char *p = tu_write_named(".csv", "id,name\nW1,n\n");
    assert_int_equal(WG_EDATA, import_workers(&f, p, 1, 0, &st));
    assert_non_null(strstr(wg_errmsg(f.ctx), "'role'"));
    tu_remove_temp(p);
    p = tu_write_named(".csv", "id,name,role,lon\nW1,n,officer,114\n");
    assert_int_equal(WG_EDATA, import_workers(&f, p, 1, 0, &st));
    assert_non_null(strstr(wg_errmsg(f.ctx), "only one"));
    tu_remove_temp(p);
    /* named position columns */
    p = tu_write_named(".csv", "id,name,role,x,y\nW1,n,officer,114.5,22.5\n");
    wg_point_import_opts o = {.lon_col = "x", .lat_col = "y"};
    assert_int_equal(WG_OK, wg_import_workers(f.ctx, p, &o, &st));
    assert_int_equal(1, q_int(&f, "SELECT lon = 114.5 AND lat = 22.5 FROM workers"));
    tu_remove_temp(p);
    /* a ragged row stops the import: nothing stored even with skip_rejected */
    p = tu_write_named(".csv", "id,name,role\nW2,n,officer\nW3,n,officer,extra\n");
    assert_int_equal(WG_EDATA, import_workers(&f, p, 1, 0, &st));
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM workers"));
    tu_remove_temp(p);
    assert_int_equal(WG_EIO, import_workers(&f, "/nonexistent/wangge/w.csv", 0, 0, &st));
    /* NULL opts are the defaults; a context without a store is a usage error */
    p = tu_write_named(".csv", "id,name,role\nW4,n,officer\n");
    assert_int_equal(WG_OK, wg_import_workers(f.ctx, p, NULL, &st));
    assert_int_equal(1, st.imported);
    wg_ctx *bare = wg_ctx_new();
    assert_int_equal(WG_EINVAL, wg_import_workers(bare, p, NULL, &st));
    wg_ctx_free(bare);
    tu_remove_temp(p);
    close_store(&f);
}

static void test_workers_upsert_and_replace(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    char *p = tu_write_named(".csv", ROSTER);
    assert_int_equal(WG_OK, import_workers(&f, p, 0, 0, &st));
    tu_remove_temp(p);
    assert_int_equal(WG_OK, wg_exec(f.ctx, "UPDATE workers SET seen_at = '2024-05-01T09:00:00Z'"
                                           " WHERE id = 'W440307006001001'"));

    /* the first worker becomes an officer with no grid; position and on_duty empty: kept */
    p = tu_write_named(".csv", "id,name,phone,role,home_grid,lon,lat,on_duty\n"
                            "W440307006001001,张伟,13900000000,officer,,,,\n"
                            "W440307006001002,李娜,,grid_worker,440307006001003,114.45,22.61,1\n"
                            "N1,新人,,grid_worker,440307006001001,,,\n");
    assert_int_equal(WG_OK, import_workers(&f, p, 0, 0, &st));
    assert_int_equal(3, st.imported);
    assert_int_equal(2, st.updated);
    tu_remove_temp(p);
    assert_int_equal(4, q_int(&f, "SELECT count(*) FROM workers"));
    char t[300];
    q_text(&f,
           "SELECT phone || '|' || role || '|' || (home_grid IS NULL) || '|' ||"
           " printf('%.7f %.7f', lon, lat) || '|' || on_duty || '|' || seen_at"
           " FROM workers WHERE id = 'W440307006001001'",
           t, sizeof t);
    assert_string_equal("13900000000|officer|1|114.4612345 22.6312345|1|2024-05-01T09:00:00Z", t);
    /* a given position replaces the stored one (and its time, unknown here) */
    q_text(&f,
           "SELECT printf('%.2f %.2f', lon, lat) || '|' || on_duty || '|' || home_grid || '|' ||"
           " (phone IS NULL) || '|' || (seen_at IS NULL) FROM workers"
           " WHERE id = 'W440307006001002'",
           t, sizeof t);
    assert_string_equal("114.45 22.61|1|440307006001003|1|1", t);
    assert_int_equal(0, q_int(&f, "SELECT on_duty FROM workers WHERE id = 'N1'"));

    /* a refused upsert changes nothing */
    p = tu_write_named(".csv", "id,name,role\nN1,改名,officer\nN2,n,boss\n");
    assert_int_equal(WG_EDATA, import_workers(&f, p, 0, 0, &st));
    assert_int_equal(0, st.updated);
    q_text(&f, "SELECT name || '|' || role FROM workers WHERE id = 'N1'", t, sizeof t);
    assert_string_equal("新人|grid_worker", t);
    tu_remove_temp(p);

    /* replace: the file is the whole roster */
    p = tu_write_named(".csv", "id,name,role,on_duty\nN1,新人,grid_worker,1\nR1,n,officer,0\n");
    assert_int_equal(WG_OK, import_workers(&f, p, 0, 1, &st));
    assert_int_equal(2, st.imported);
    assert_int_equal(0, st.updated);
    q_text(&f,
           "SELECT group_concat(id || ':' || on_duty, ',') FROM (SELECT * FROM workers"
           " ORDER BY id)",
           t, sizeof t);
    assert_string_equal("N1:1,R1:0", t);
    tu_remove_temp(p);

    /* a refused replace keeps the old roster */
    p = tu_write_named(".csv", "id,name,role\nZ1,n,boss\n");
    assert_int_equal(WG_EDATA, import_workers(&f, p, 0, 1, &st));
    assert_int_equal(2, q_int(&f, "SELECT count(*) FROM workers"));
    tu_remove_temp(p);
    close_store(&f);
}

static void test_workers_geojson(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    char *p = tu_write_temp(
        "{\"type\":\"FeatureCollection\",\"features\":[\n"
        /* 0: phone as a number, on_duty as a boolean */
        "{\"type\":\"Feature\",\"properties\":{\"id\":\"G1\",\"name\":\"张伟\",\"role\":"
        "\"grid_worker\",\"home_grid\":\"440307006001001\",\"on_duty\":true,\"phone\":"
        "13800138000},\"geometry\":" POINT "},\n"
        /* 1: the id is the feature's own; no geometry: no position */
        "{\"type\":\"Feature\",\"id\":\"G2\",\"properties\":{\"name\":\"李娜\",\"role\":"
        "\"officer\"},\"geometry\":null},\n"
        /* 2: not a point */
        "{\"type\":\"Feature\",\"properties\":{\"id\":\"G3\",\"name\":\"n\",\"role\":"
        "\"officer\"},\"geometry\":" SQUARE "},\n"
        /* 3: out of range */
        "{\"type\":\"Feature\",\"properties\":{\"id\":\"G4\",\"name\":\"n\",\"role\":"
        "\"officer\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[114.4,95]}},\n"
        /* 4: on_duty neither 0 nor 1 */
        "{\"type\":\"Feature\",\"properties\":{\"id\":\"G5\",\"name\":\"n\",\"role\":"
        "\"officer\",\"on_duty\":\"yes\"},\"geometry\":null}]}\n");
    assert_int_equal(WG_EDATA, import_workers(&f, p, 0, 0, &st));
    assert_int_equal(3, f.is.n);
    tu_expect_issue(&f.is, 0, 2, "bad_coordinates", "G3", 0);
    tu_expect_issue(&f.is, 1, 3, "bad_coordinates", "G4", 0);
    tu_expect_issue(&f.is, 2, 4, "bad_on_duty", "G5", 0);
    assert_int_equal(0, f.is.v[0].is_line);
    assert_int_equal(0, q_int(&f, "SELECT count(*) FROM workers"));

    assert_int_equal(WG_OK, import_workers(&f, p, 1, 0, &st));
    assert_int_equal(2, st.imported);
    char t[200];
    q_text(&f,
           "SELECT name || '|' || phone || '|' || on_duty || '|' || lon || ' ' || lat"
           " FROM workers WHERE id = 'G1'",
           t, sizeof t);
    assert_string_equal("张伟|13800138000|1|114.455 22.615", t);
    assert_int_equal(1, q_int(&f, "SELECT lon IS NULL AND role = 'officer' FROM workers"
                                  " WHERE id = 'G2'"));
    tu_remove_temp(p);
    close_store(&f);
}

/* ---------------------------------------------------------------- layers */

static void test_layers_lines_polygons_points(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    char *roads =
        features("\"code\":\"R1\",\"name\":\"深南大道\",\"class\":\"arterial\",\"lanes\":6", LINE,
                 "\"code\":\"R2\",\"name\":\"桂庙路\",\"class\":\"street\"", MLINE,
                 "\"code\":\"R2\",\"class\":\"lane\"", LINE, NULL);
    assert_int_equal(WG_OK, import_layer(&f, roads, "roads", 0, 0, 0, &st));
    assert_int_equal(3, st.read);
    assert_int_equal(3, st.imported);
    assert_int_equal(0, st.generation);
    assert_int_equal(0, f.is.n);
    char *rivers = features("\"code\":\"H1\",\"name\":\"大沙河\",\"class\":\"river\"", MLINE, NULL);
    assert_int_equal(WG_OK, import_layer(&f, rivers, "rivers", 0, 0, 0, &st));
    char *rental = features("\"code\":\"T1\",\"name\":\"出租屋网格1\",\"theme\":\"rental\"", SQUARE,
                            "\"code\":\"T2\",\"theme\":\"rental\"", MSQUARES,
                            "\"code\":\"T3\",\"theme\":\"rental\",\"class\":\"x\"", POINT,
                            "\"code\":\"T4\"", MPOINT, NULL);
    assert_int_equal(WG_OK, import_layer(&f, rental, "thematic_rental", 0, 0, 0, &st));
    assert_int_equal(4, st.imported);

    char t[300];
    q_text(&f,
           "SELECT group_concat(code || ':' || GeometryType(geom), ',') FROM (SELECT * FROM"
           " layer_features ORDER BY id)",
           t, sizeof t);
    assert_string_equal("R1:LINESTRING,R2:MULTILINESTRING,R2:LINESTRING,H1:MULTILINESTRING,"
                        "T1:POLYGON,T2:MULTIPOLYGON,T3:POINT,T4:MULTIPOINT",
                        t);
    assert_int_equal(8, q_int(&f, "SELECT count(*) FROM layer_features WHERE ST_Srid(geom) = 4326"
                                  " AND ST_IsValid(geom)"));
    q_text(&f, "SELECT name || '|' || class || '|' || props FROM layer_features WHERE code = 'R1'",
           t, sizeof t);
    assert_string_equal("深南大道|arterial|{\"lanes\":6}", t);
    /* class from theme; with both, class wins and theme stays in props */
    q_text(&f, "SELECT class || '|' || (props IS NULL) FROM layer_features WHERE code = 'T1'", t,
           sizeof t);
    assert_string_equal("rental|1", t);
    q_text(&f, "SELECT class || '|' || props FROM layer_features WHERE code = 'T3'", t, sizeof t);
    assert_string_equal("x|{\"theme\":\"rental\"}", t);
    assert_int_equal(1, q_int(&f, "SELECT class IS NULL AND name IS NULL FROM layer_features"
                                  " WHERE code = 'T4'"));
    /* coordinates as given */
    assert_int_equal(1, q_int(&f, "SELECT X(StartPoint(geom)) = 114.44 AND"
                                  " Y(EndPoint(geom)) = 22.62 FROM layer_features WHERE code ="
                                  " 'R1'"));
    /* the spatial index answers: the MultiLineStrings of roads and rivers reach down there */
    assert_int_equal(2, q_int(&f, "SELECT count(*) FROM SpatialIndex WHERE f_table_name ="
                                  " 'layer_features' AND search_frame = BuildMbr(114.449, 22.6,"
                                  " 114.451, 22.605)"));

    wg_layer_info *v;
    size_t n;
    assert_int_equal(WG_OK, wg_layers_list(f.ctx, &v, &n));
    assert_int_equal(3, n);
    assert_string_equal("rivers", v[0].name);
    assert_int_equal(1, v[0].features);
    assert_int_equal(1, v[0].lines);
    assert_string_equal("roads", v[1].name);
    assert_int_equal(3, v[1].features);
    assert_int_equal(3, v[1].lines);
    assert_int_equal(0, v[1].points + v[1].polygons);
    assert_string_equal("thematic_rental", v[2].name);
    assert_int_equal(4, v[2].features);
    assert_int_equal(2, v[2].points);
    assert_int_equal(0, v[2].lines);
    assert_int_equal(2, v[2].polygons);
    free(v);
    tu_remove_temp(roads);
    tu_remove_temp(rivers);
    tu_remove_temp(rental);
    close_store(&f);
}

static void test_layers_empty_list(void **state)
{
    fixture f;
    open_store(&f);
    wg_layer_info *v = (wg_layer_info *)&f; /* must be reset */
    size_t n = 9;
    assert_int_equal(WG_OK, wg_layers_list(f.ctx, &v, &n));
    assert_null(v);
    assert_int_equal(0, n);
    close_store(&f);
}

static void test_layers_bad_geometry(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    char *good = features("\"code\":\"R0\"", LINE, NULL);
    assert_int_equal(WG_OK, import_layer(&f, good, "roads", 0, 0, 0, &st));
    tu_remove_temp(good);

    char *p = features(
        "\"code\":\"R1\"", LINE,                                                         /* 0 ok */
        "\"code\":\"R2\"", "{\"type\":\"LineString\",\"coordinates\":[[114.44,22.61]]}", /* 1 */
        "\"code\":\"R3\"", BOWTIE,                                                       /* 2 */
        "\"code\":\"R4\"",
        "{\"type\":\"LineString\",\"coordinates\":[[114.44,22.61],[NaN,22.62]]}", /* 3 */
        "\"code\":\"R5\"",
        "{\"type\":\"MultiLineString\",\"coordinates\":[[[114.44,22.61],[114.45,22.62]],"
        "[[114.44,22.61]]]}",                                                     /* 4 */
        "\"code\":\"R6\"", UNCLOSED,                                              /* 5 */
        "\"code\":\"R7\"", "{\"type\":\"GeometryCollection\",\"geometries\":[]}", /* 6 */
        "\"code\":\"R8\"", "null",                                                /* 7 */
        "\"code\":\"R9\"",
        "{\"type\":\"LineString\",\"coordinates\":[[114.44,22.61],[114.44,22.61]]}", /* 8 */
        "\"code\":\"R10\"", "{\"type\":\"Point\",\"coordinates\":[181,22.61]}",      /* 9 */
        "\"code\":\"R11\"", "{\"type\":\"MultiPoint\",\"coordinates\":[]}",          /* 10 */
        "", POINT,                                                                   /* 11 ok */
        NULL);
    assert_int_equal(WG_EDATA, import_layer(&f, p, "roads", 0, 0, 0, &st));
    assert_non_null(strstr(wg_errmsg(f.ctx), "nothing was imported"));
    assert_int_equal(12, st.read);
    assert_int_equal(10, st.rejected);
    assert_int_equal(0, st.imported);
    assert_int_equal(10, f.is.n);
    tu_expect_issue(&f.is, 0, 1, "too_few_points", "R2", 0);
    tu_expect_issue(&f.is, 1, 2, "invalid", "R3", 0);
    assert_non_null(strstr(f.is.v[1].reason, "Self-intersection"));
    tu_expect_issue(&f.is, 2, 3, "nan", "R4", 0);
    tu_expect_issue(&f.is, 3, 4, "too_few_points", "R5", 0);
    tu_expect_issue(&f.is, 4, 5, "unclosed_ring", "R6", 0);
    tu_expect_issue(&f.is, 5, 6, "wrong_type", "R7", 0);
    tu_expect_issue(&f.is, 6, 7, "empty", "R8", 0);
    tu_expect_issue(&f.is, 7, 8, "invalid", "R9", 0); /* a line of one repeated point */
    tu_expect_issue(&f.is, 8, 9, "out_of_range", "R10", 0);
    tu_expect_issue(&f.is, 9, 10, "empty", "R11", 0);
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM layer_features"));

    /* repair makes the polygons good; the lines stay rejected */
    assert_int_equal(WG_OK, import_layer(&f, p, "roads", 1, 1, 0, &st));
    assert_int_equal(4, st.imported);
    assert_int_equal(2, st.repaired);
    assert_int_equal(8, st.rejected);
    assert_true(st.repaired_area_change_m2 > 0);
    char t[200];
    q_text(&f,
           "SELECT GeometryType(geom) || '|' || ST_IsValid(geom) || '|' || NumGeometries(geom)"
           " FROM layer_features WHERE code = 'R3'",
           t, sizeof t);
    assert_string_equal("MULTIPOLYGON|1|2", t);
    q_text(&f,
           "SELECT GeometryType(geom) || '|' || NumPoints(ExteriorRing(geom)) FROM"
           " layer_features WHERE code = 'R6'",
           t, sizeof t);
    assert_string_equal("POLYGON|5", t);
    assert_int_equal(1, q_int(&f, "SELECT code IS NULL FROM layer_features WHERE"
                                  " GeometryType(geom) = 'POINT'"));
    tu_remove_temp(p);

    /* a code too long */
    char props[100];
    snprintf(props, sizeof props, "\"code\":\"%065d\"", 1);
    p = features(props, LINE, NULL);
    assert_int_equal(WG_EDATA, import_layer(&f, p, "roads", 0, 0, 0, &st));
    tu_expect_issue(&f.is, 0, 0, "bad_code", "", 0);
    tu_remove_temp(p);
    close_store(&f);
}

static void test_layer_names(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    char *p = features("\"code\":\"R1\"", LINE, NULL);
    const char *bad[] = {
        "", "Roads", "road-s", "roads ", "路", "a.b", "abcdefghijklmnopqrstuvwxyz0123456"}; /* 33 */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(WG_EINVAL, import_layer(&f, p, bad[i], 0, 0, 0, &st));
        assert_non_null(strstr(wg_errmsg(f.ctx), "layer name"));
    }
    assert_int_equal(WG_EINVAL, import_layer(&f, p, NULL, 0, 0, 0, &st));
    assert_int_equal(0, q_int(&f, "SELECT count(*) FROM layer_features"));
    assert_int_equal(WG_OK, import_layer(&f, p, "abcdefghijklmnopqrstuvwxyz012345", 0, 0, 0, &st));
    assert_int_equal(WG_OK, import_layer(&f, p, "thematic_family_planning", 0, 0, 0, &st));
    /* NULL opts are the defaults */
    assert_int_equal(WG_OK, wg_import_layer(f.ctx, p, "l_2", NULL, &st));
    assert_int_equal(3, q_int(&f, "SELECT count(DISTINCT layer) FROM layer_features"));
    assert_int_equal(WG_EIO,
                     import_layer(&f, "/nonexistent/wangge/r.geojson", "roads", 0, 0, 0, &st));
    wg_ctx *bare = wg_ctx_new();
    assert_int_equal(WG_EINVAL, wg_import_layer(bare, p, "roads", NULL, &st));
    wg_layer_info *v;
    size_t n;
    assert_int_equal(WG_EINVAL, wg_layers_list(bare, &v, &n));
    wg_ctx_free(bare);
    tu_remove_temp(p);
    close_store(&f);
}

static void test_layer_replace(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    char *a = features("\"code\":\"R1\"", LINE, "\"code\":\"R2\"", MLINE, NULL);
    char *b = features("\"code\":\"R3\"", LINE, NULL);
    char *bad = features("\"code\":\"R4\"", LINE, "\"code\":\"R5\"", BOWTIE, NULL);
    assert_int_equal(WG_OK, import_layer(&f, a, "roads", 0, 0, 0, &st));
    assert_int_equal(WG_OK, import_layer(&f, a, "rivers", 0, 0, 0, &st));
    /* without replace a layer grows */
    assert_int_equal(WG_OK, import_layer(&f, b, "roads", 0, 0, 0, &st));
    assert_int_equal(3, q_int(&f, "SELECT count(*) FROM layer_features WHERE layer = 'roads'"));
    /* with it, only that layer is replaced */
    assert_int_equal(WG_OK, import_layer(&f, b, "roads", 0, 0, 1, &st));
    char t[100];
    q_text(&f, "SELECT group_concat(code) FROM layer_features WHERE layer = 'roads'", t, sizeof t);
    assert_string_equal("R3", t);
    assert_int_equal(2, q_int(&f, "SELECT count(*) FROM layer_features WHERE layer = 'rivers'"));
    /* a refused replace changes nothing */
    assert_int_equal(WG_EDATA, import_layer(&f, bad, "roads", 0, 0, 1, &st));
    q_text(&f, "SELECT group_concat(code) FROM layer_features WHERE layer = 'roads'", t, sizeof t);
    assert_string_equal("R3", t);
    /* the spatial index follows deletions */
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM SpatialIndex WHERE f_table_name ="
                                  " 'layer_features' AND search_frame = BuildMbr(114.449, 22.6,"
                                  " 114.451, 22.605)"));
    tu_remove_temp(a);
    tu_remove_temp(b);
    tu_remove_temp(bad);
    close_store(&f);
}

/* ---------------------------------------------------------------- geom: any GeoJSON type */

typedef struct parsed {
    int rc, fault;
    char detail[256];
    GEOSGeometry *g;
} parsed;

static parsed parse_any(wg_ctx *ctx, const char *json, unsigned kinds)
{
    parsed p = {0};
    json_object *j = json_tokener_parse(json);
    p.rc = wg_geom_from_geojson_any(ctx, j, kinds, NULL, &p.fault, p.detail, sizeof p.detail, &p.g);
    json_object_put(j);
    return p;
}

static void test_geom_from_geojson_any(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    GEOSContextHandle_t h = wg_geos(ctx);
    const struct {
        const char *json;
        int type;
        int coords;
    } ok[] = {{POINT, GEOS_POINT, 1},     {MPOINT, GEOS_MULTIPOINT, 2},
              {LINE, GEOS_LINESTRING, 3}, {MLINE, GEOS_MULTILINESTRING, 4},
              {SQUARE, GEOS_POLYGON, 5},  {MSQUARES, GEOS_MULTIPOLYGON, 8}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        parsed p = parse_any(ctx, ok[i].json, WG_GK_ANY);
        assert_int_equal(WG_OK, p.rc);
        assert_int_equal(ok[i].type, GEOSGeomTypeId_r(h, p.g));
        assert_int_equal(ok[i].coords, (int)wg_geom_vertices(ctx, p.g));
        GEOSGeom_destroy_r(h, p.g);
    }
    /* a kind not asked for is the wrong type, saying what was expected */
    parsed p = parse_any(ctx, LINE, WG_GK_POINT | WG_GK_POLYGON);
    assert_int_equal(WG_EDATA, p.rc);
    assert_int_equal(WG_GF_WRONG_TYPE, p.fault);
    assert_null(p.g);
    assert_non_null(strstr(p.detail, "Point, MultiPoint, Polygon or MultiPolygon"));
    /* the polygon form still makes every polygon a MultiPolygon and names its types */
    json_object *j = json_tokener_parse(SQUARE);
    GEOSGeometry *g = NULL;
    int fault;
    char d[200];
    assert_int_equal(WG_OK, wg_geom_from_geojson(ctx, j, NULL, &fault, d, sizeof d, &g));
    assert_int_equal(GEOS_MULTIPOLYGON, GEOSGeomTypeId_r(h, g));
    GEOSGeom_destroy_r(h, g);
    json_object_put(j);
    j = json_tokener_parse(LINE);
    assert_int_equal(WG_EDATA, wg_geom_from_geojson(ctx, j, NULL, &fault, d, sizeof d, &g));
    assert_string_equal("geometry type LineString, expected Polygon or MultiPolygon", d);
    json_object_put(j);

    const struct {
        const char *json;
        int fault;
    } bad[] = {
        {"{\"type\":\"LineString\",\"coordinates\":[]}", WG_GF_TOO_FEW_POINTS},
        {"{\"type\":\"LineString\",\"coordinates\":[[1,2]]}", WG_GF_TOO_FEW_POINTS},
        {"{\"type\":\"LineString\",\"coordinates\":[[1,2],[1]]}", WG_GF_MALFORMED},
        {"{\"type\":\"LineString\",\"coordinates\":[[1,2],[1,-91]]}", WG_GF_OUT_OF_RANGE},
        {"{\"type\":\"MultiLineString\",\"coordinates\":[]}", WG_GF_EMPTY},
        {"{\"type\":\"MultiLineString\",\"coordinates\":[[[1,2],[3,4]],7]}", WG_GF_MALFORMED},
        {"{\"type\":\"Point\",\"coordinates\":[]}", WG_GF_EMPTY},
        {"{\"type\":\"Point\",\"coordinates\":[1,\"2\"]}", WG_GF_MALFORMED},
        {"{\"type\":\"MultiPoint\",\"coordinates\":[[1,2],[NaN,2]]}", WG_GF_NAN},
        {"{\"type\":\"Point\"}", WG_GF_MALFORMED},
        {"{\"type\":\"Polygon\",\"coordinates\":[]}", WG_GF_EMPTY},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = parse_any(ctx, bad[i].json, WG_GK_ANY);
        if (p.rc != WG_EDATA || p.fault != bad[i].fault)
            print_error("case %zu: %s -> rc %d fault %s (%s)\n", i, bad[i].json, p.rc,
                        wg_geom_fault_name(p.fault), p.detail);
        assert_int_equal(WG_EDATA, p.rc);
        assert_int_equal(bad[i].fault, p.fault);
        assert_null(p.g);
        assert_true(p.detail[0] != '\0');
    }
    wg_ctx_free(ctx);
}

/* The vertex cap counts every position of a line or multipoint, across parts. */
static void test_geom_any_vertex_cap(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    const size_t m = WG_MAX_UNIT_VERTICES;
    for (int extra = 0; extra <= 1; extra++) {
        json_object *coords = json_object_new_array();
        json_object *a = json_object_new_array(), *b = json_object_new_array();
        for (size_t i = 0; i < m - 2 + (size_t)extra; i++) {
            json_object *pos = json_object_new_array();
            json_object_array_add(pos, json_object_new_double(114.0 + (double)i * 1e-7));
            json_object_array_add(pos, json_object_new_double(22.0));
            json_object_array_add(a, pos);
        }
        for (int i = 0; i < 2; i++) {
            json_object *pos = json_object_new_array();
            json_object_array_add(pos, json_object_new_double(115.0 + i));
            json_object_array_add(pos, json_object_new_double(23.0));
            json_object_array_add(b, pos);
        }
        json_object_array_add(coords, a);
        json_object_array_add(coords, b);
        json_object *g = json_object_new_object();
        json_object_object_add(g, "type", json_object_new_string("MultiLineString"));
        json_object_object_add(g, "coordinates", coords);
        GEOSGeometry *out = NULL;
        int fault;
        char d[200];
        int rc = wg_geom_from_geojson_any(ctx, g, WG_GK_LINE, NULL, &fault, d, sizeof d, &out);
        if (!extra) {
            assert_int_equal(WG_OK, rc);
            assert_int_equal(m, wg_geom_vertices(ctx, out));
            GEOSGeom_destroy_r(wg_geos(ctx), out);
        } else {
            assert_int_equal(WG_EDATA, rc);
            assert_int_equal(WG_GF_TOO_MANY_VERTICES, fault);
        }
        json_object_put(g);
    }
    wg_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_store_is_current),
        cmocka_unit_test(test_v1_store_upgrades_in_place),
        cmocka_unit_test(test_v4_inbox_upgrades),
        cmocka_unit_test(test_workers_csv_fields),
        cmocka_unit_test(test_workers_rejections),
        cmocka_unit_test(test_workers_header_and_file_failures),
        cmocka_unit_test(test_workers_upsert_and_replace),
        cmocka_unit_test(test_workers_geojson),
        cmocka_unit_test(test_layers_lines_polygons_points),
        cmocka_unit_test(test_layers_empty_list),
        cmocka_unit_test(test_layers_bad_geometry),
        cmocka_unit_test(test_layer_names),
        cmocka_unit_test(test_layer_replace),
        cmocka_unit_test(test_geom_from_geojson_any),
        cmocka_unit_test(test_geom_any_vertex_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
