/* The store (lib/src/store.c, store_schema.c, ctx.c): creating and reopening a store, refusing
 * files that are not ours or are newer than this build, the generation life cycle and its
 * one-draft/one-active invariant, level names, and loading units of a generation (membership
 * by first_gen/last_gen, order, parents) from rows inserted with plain SQL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "store_schema.h"
#include "testutil.h"
#include "wangge/store.h"

/* A fresh store on a fresh context. */
static wg_ctx *new_store(char **path)
{
    *path = tu_temp_path(".sqlite");
    wg_ctx *ctx = wg_ctx_new();
    assert_non_null(ctx);
    assert_int_equal(WG_OK, wg_store_open(ctx, *path, WG_STORE_CREATE));
    return ctx;
}

/* First column of the first row of sql on db as text ("" if no row); caller frees. */
static char *query_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(SQLITE_OK, sqlite3_prepare_v2(db, sql, -1, &st, NULL));
    char *out = strdup("");
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        free(out);
        out = strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return out;
}

static long long query_int(sqlite3 *db, const char *sql)
{
    char *t = query_text(db, sql);
    long long v = atoll(t);
    free(t);
    return v;
}

/* Runs sql on a plain SQLite connection (no SpatiaLite, no wangge). */
static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(SQLITE_OK, sqlite3_open(path, &db));
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) print_error("%s\n", msg);
    assert_null(msg);
    sqlite3_close(db);
}

static void test_create_and_reopen(void **state)
{
    char *path;
    wg_ctx *ctx = new_store(&path);
    assert_int_equal(WG_SCHEMA_VERSION,
                     query_int(ctx->db, "SELECT value FROM wg_meta WHERE key = 'schema_version'"));
    char *mode = query_text(ctx->db, "PRAGMA journal_mode");
    assert_string_equal("wal", mode);
    free(mode);
    int64_t id;
    assert_int_equal(WG_OK, wg_gen_draft(ctx, 1, &id));
    /* a second store on the same context is a usage error */
    assert_int_equal(WG_EINVAL, wg_store_open(ctx, path, 0));
    wg_ctx_free(ctx);

    /* reopening (without CREATE) finds the schema and the draft, and migrates nothing */
    ctx = wg_ctx_new();
    assert_int_equal(WG_OK, wg_store_open(ctx, path, 0));
    assert_int_equal(WG_OK, wg_gen_draft(ctx, 0, &id));
    assert_int_equal(1, id);
    /* schema_version and position_merges */
    assert_int_equal(2, query_int(ctx->db, "SELECT count(*) FROM wg_meta"));
    wg_ctx_free(ctx);

    /* read-only: reads work, writes fail with a store error */
    ctx = wg_ctx_new();
    assert_int_equal(WG_OK, wg_store_open(ctx, path, WG_STORE_READONLY));
    wg_gen_status s;
    assert_int_equal(WG_OK, wg_gen_get_status(ctx, 1, &s));
    assert_int_equal(WG_GEN_DRAFT, s);
    assert_int_equal(WG_ESTORE, wg_exec(ctx, "INSERT INTO generations(status) VALUES ('retired')"));
    wg_ctx_free(ctx);
    tu_remove_store(path);
}

static void test_foreign_sqlite_file_refused(void **state)
{
    char *path = tu_temp_path(".sqlite");
    raw_exec(path, "CREATE TABLE people(name TEXT); INSERT INTO people VALUES ('li');");
    wg_ctx *ctx = wg_ctx_new();
    assert_int_equal(WG_ESTORE, wg_store_open(ctx, path, WG_STORE_CREATE));
    assert_non_null(strstr(wg_errmsg(ctx), "not a wangge store"));
    wg_ctx_free(ctx);
    /* and it was left as it was: no schema of ours added */
    sqlite3 *db;
    assert_int_equal(SQLITE_OK, sqlite3_open(path, &db));
    assert_int_equal(1, query_int(db, "SELECT count(*) FROM sqlite_master"));
    assert_int_equal(1, query_int(db, "SELECT count(*) FROM people"));
    sqlite3_close(db);
    tu_remove_store(path);
}

/* Marks a store as written by a build newer than this one. */
#define STR_(x) #x
#define STR(x) STR_(x)
#define NEWER_VERSION_SQL                                                                          \
    "UPDATE wg_meta SET value = " STR(WG_SCHEMA_VERSION) " + 1 WHERE key = 'schema_version'"

static void test_future_schema_refused(void **state)
{
    char *path;
    wg_ctx *ctx = new_store(&path);
    wg_ctx_free(ctx);
    raw_exec(path, NEWER_VERSION_SQL);
    ctx = wg_ctx_new();
    assert_int_equal(WG_ESTORE, wg_store_open(ctx, path, WG_STORE_CREATE));
    assert_non_null(strstr(wg_errmsg(ctx), "newer"));
    wg_ctx_free(ctx);
    ctx = wg_ctx_new();
    assert_int_equal(WG_ESTORE, wg_store_open(ctx, path, WG_STORE_READONLY));
    wg_ctx_free(ctx);
    tu_remove_store(path);
}

/* A refused open leaves the context without a store, as after any failure: the refused file
 * is not written through it, and the context can open another store. */
static void test_refused_open_leaves_no_store(void **state)
{
    char *good, *newer;
    wg_ctx *ctx = new_store(&good);
    wg_ctx_free(ctx);
    ctx = new_store(&newer);
    wg_ctx_free(ctx);
    raw_exec(newer, NEWER_VERSION_SQL);

    ctx = wg_ctx_new();
    assert_int_equal(WG_ESTORE, wg_store_open(ctx, newer, 0));
    int64_t id = 0;
    wg_gen_draft(ctx, 1, &id); /* must not reach the refused store */
    sqlite3 *db;
    assert_int_equal(SQLITE_OK, sqlite3_open(newer, &db));
    long long gens = query_int(db, "SELECT count(*) FROM generations");
    sqlite3_close(db);
    assert_int_equal(0, gens);
    assert_int_equal(WG_OK, wg_store_open(ctx, good, 0));
    wg_ctx_free(ctx);
    tu_remove_store(good);
    tu_remove_store(newer);
}

static void test_missing_or_empty_file(void **state)
{
    char *path = tu_temp_path(".sqlite");
    wg_ctx *ctx = wg_ctx_new();
    assert_int_equal(WG_ESTORE, wg_store_open(ctx, path, WG_STORE_READONLY));
    assert_true(wg_errmsg(ctx)[0] != '\0');
    wg_ctx_free(ctx);
    /* READONLY wins over CREATE; without CREATE nothing is created either */
    ctx = wg_ctx_new();
    assert_int_equal(WG_ESTORE, wg_store_open(ctx, path, WG_STORE_READONLY | WG_STORE_CREATE));
    wg_ctx_free(ctx);
    ctx = wg_ctx_new();
    assert_int_equal(WG_ESTORE, wg_store_open(ctx, path, 0));
    wg_ctx_free(ctx);
    assert_int_equal(-1, access(path, F_OK));

    /* an existing empty file is a store of version 0: read-only cannot migrate it */
    char *empty = tu_write_temp("");
    ctx = wg_ctx_new();
    assert_int_equal(WG_ESTORE, wg_store_open(ctx, empty, WG_STORE_READONLY));
    assert_non_null(strstr(wg_errmsg(ctx), "writable"));
    wg_ctx_free(ctx);
    ctx = wg_ctx_new();
    assert_int_equal(WG_OK, wg_store_open(ctx, empty, 0));
    wg_ctx_free(ctx);
    tu_remove_store(empty);
    free(path);
}

static void test_generation_life_cycle(void **state)
{
    char *path;
    wg_ctx *ctx = new_store(&path);
    int64_t id = 99;
    assert_int_equal(WG_ENOTFOUND, wg_gen_active(ctx, &id));
    assert_int_equal(0, id);
    assert_int_equal(WG_ENOTFOUND, wg_gen_resolve(ctx, 0, &id));
    id = 99;
    assert_int_equal(WG_ENOTFOUND, wg_gen_draft(ctx, 0, &id));
    assert_int_equal(0, id);
    assert_int_equal(WG_OK, wg_gen_draft(ctx, 1, &id));
    assert_int_equal(1, id);
    assert_int_equal(WG_OK, wg_gen_draft(ctx, 1, &id));
    assert_int_equal(1, id);
    assert_int_equal(1, query_int(ctx->db, "SELECT count(*) FROM generations"));

    /* one draft at most: the partial unique index refuses a second */
    int src =
        sqlite3_exec(ctx->db, "INSERT INTO generations(status) VALUES ('draft')", NULL, NULL, NULL);
    assert_int_equal(SQLITE_CONSTRAINT_UNIQUE, src);

    wg_gen_status s;
    assert_int_equal(WG_OK, wg_gen_get_status(ctx, 1, &s));
    assert_int_equal(WG_GEN_DRAFT, s);
    assert_int_equal(WG_ENOTFOUND, wg_gen_get_status(ctx, 7, &s));
    assert_int_equal(WG_OK, wg_gen_resolve(ctx, 1, &id));
    assert_int_equal(1, id);
    assert_int_equal(WG_ENOTFOUND, wg_gen_resolve(ctx, 7, &id));
    assert_int_equal(0, id);

    /* once 1 is active the next draft is 2; one active at most */
    assert_int_equal(WG_OK, wg_exec(ctx, "UPDATE generations SET status = 'active' WHERE id = 1"));
    assert_int_equal(WG_OK, wg_gen_active(ctx, &id));
    assert_int_equal(1, id);
    assert_int_equal(WG_ENOTFOUND, wg_gen_draft(ctx, 0, &id));
    assert_int_equal(WG_OK, wg_gen_draft(ctx, 1, &id));
    assert_int_equal(2, id);
    src = sqlite3_exec(ctx->db, "INSERT INTO generations(status) VALUES ('active')", NULL, NULL,
                       NULL);
    assert_int_equal(SQLITE_CONSTRAINT_UNIQUE, src);
    src = sqlite3_exec(ctx->db, "INSERT INTO generations(status) VALUES ('published')", NULL, NULL,
                       NULL);
    assert_int_equal(SQLITE_CONSTRAINT_CHECK, src);

    wg_generation *list;
    size_t n;
    assert_int_equal(WG_OK, wg_gen_list(ctx, &list, &n));
    assert_int_equal(2, n);
    assert_int_equal(1, list[0].id);
    assert_int_equal(WG_GEN_ACTIVE, list[0].status);
    assert_int_equal(2, list[1].id);
    assert_int_equal(WG_GEN_DRAFT, list[1].status);
    assert_string_equal("", list[1].published_at);
    assert_int_equal(20, (int)strlen(list[0].created_at)); /* 2024-01-02T03:04:05Z */
    free(list);
    wg_ctx_free(ctx);
    tu_remove_store(path);
}

static void test_level_names(void **state)
{
    assert_int_equal(1, wg_level_parse("1"));
    assert_int_equal(1, wg_level_parse("DISTRICTS"));
    assert_int_equal(2, wg_level_parse("Communities"));
    assert_int_equal(2, wg_level_parse("community"));
    assert_int_equal(3, wg_level_parse("grid"));
    assert_int_equal(3, wg_level_parse("3"));
    assert_int_equal(0, wg_level_parse("moon"));
    assert_int_equal(0, wg_level_parse("4"));
    assert_int_equal(0, wg_level_parse(""));
    assert_int_equal(0, wg_level_parse("grids "));
    assert_string_equal("community", wg_level_name(2));
    assert_null(wg_level_name(0));
    assert_null(wg_level_name(4));
    assert_string_equal("retired", wg_gen_status_name(WG_GEN_RETIRED));
}

/* Inserts a unit row with plain SQL (SpatiaLite's functions on the store's connection). */
static void add_unit(wg_ctx *ctx, int level, const char *code, const char *parent, const char *name,
                     double area, int64_t first, int64_t last, const char *wkt)
{
    sqlite3_stmt *st;
    assert_int_equal(SQLITE_OK,
                     sqlite3_prepare_v2(ctx->db,
                                        "INSERT INTO units(level, code, parent_code, name, area_m2,"
                                        " first_gen, last_gen, geom) VALUES (?, ?, ?, ?, ?, ?, ?,"
                                        " CastToMultiPolygon(GeomFromText(?, 4326)))",
                                        -1, &st, NULL));
    sqlite3_bind_int(st, 1, level);
    sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
    if (parent) sqlite3_bind_text(st, 3, parent, -1, SQLITE_STATIC);
    if (name) sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 5, area);
    sqlite3_bind_int64(st, 6, first);
    if (last) sqlite3_bind_int64(st, 7, last);
    sqlite3_bind_text(st, 8, wkt, -1, SQLITE_STATIC);
    assert_int_equal(SQLITE_DONE, sqlite3_step(st));
    sqlite3_finalize(st);
}

#define SQ "POLYGON((0 0,1 0,1 1,0 1,0 0))"

static void test_units_load(void **state)
{
    char *path;
    wg_ctx *ctx = new_store(&path);
    int64_t g1, g2;
    assert_int_equal(WG_OK, wg_gen_draft(ctx, 1, &g1));
    /* inserted out of order; in generation 1 unless said otherwise */
    add_unit(ctx, 3, "440307001002001", "440307001002", "g21", 30, g1, 0, SQ);
    add_unit(ctx, 2, "440307001002", "440307001", "c2", 20, g1, 0, SQ);
    add_unit(ctx, 3, "440307001001002", "440307001001", NULL, 31, g1, 0, SQ);
    add_unit(ctx, 1, "440307001", NULL, "d", 10, g1, 0,
             "POLYGON((114.46 22.62,114.48 22.62,114.48 22.64,114.46 22.64,114.46 22.62))");
    add_unit(ctx, 2, "440307001001", "440307001", "c1", 21, g1, 0, SQ);
    add_unit(ctx, 3, "440307001001001", "440307001001", "g11", 32, g1, 0, SQ);
    add_unit(ctx, 3, "440307001009001", "440307001009", "orphan", 33, g1, 0, SQ);
    /* generation 2: one grid ends with generation 1, one is new */
    assert_int_equal(WG_OK, wg_exec(ctx, "UPDATE generations SET status = 'active'"));
    assert_int_equal(WG_OK, wg_gen_draft(ctx, 1, &g2));
    assert_int_equal(WG_OK,
                     wg_exec(ctx, "UPDATE units SET last_gen = 1 WHERE code = '440307001009001'"));
    add_unit(ctx, 3, "440307001002002", "440307001002", "new", 34, g2, 0, SQ);

    wg_unit_set *set;
    assert_int_equal(WG_OK, wg_units_load(ctx, g1, 0, &set));
    static const char *const want1[] = {"440307001",       "440307001001",    "440307001002",
                                        "440307001001001", "440307001001002", "440307001002001",
                                        "440307001009001"};
    assert_int_equal(7, set->n);
    assert_int_equal(g1, set->generation);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(want1[i], set->units[i].code);
    assert_int_equal(0, set->level_begin[1]);
    assert_int_equal(1, set->level_begin[2]);
    assert_int_equal(3, set->level_begin[3]);
    assert_int_equal(7, set->level_begin[4]);
    assert_int_equal(-1, set->units[0].parent); /* a district has none */
    assert_int_equal(0, set->units[1].parent);
    assert_int_equal(0, set->units[2].parent);
    assert_int_equal(1, set->units[3].parent);
    assert_int_equal(1, set->units[4].parent);
    assert_int_equal(2, set->units[5].parent);
    assert_int_equal(-1, set->units[6].parent); /* parent code names no community */
    assert_null(set->units[0].parent_code);
    assert_null(set->units[4].name);
    assert_string_equal("g11", set->units[3].name);
    assert_true(set->units[3].area_m2 == 32.0);
    assert_int_equal(3, set->units[6].level);
    GEOSGeometry *d = tu_wkt(ctx, "MULTIPOLYGON(((114.46 22.62,114.48 22.62,114.48 22.64,"
                                  "114.46 22.64,114.46 22.62)))");
    assert_int_equal(1, GEOSEqualsExact_r(wg_geos(ctx), d, set->units[0].geom, 0.0));
    GEOSGeom_destroy_r(wg_geos(ctx), d);

    assert_int_equal(3, wg_unit_set_find(set, 3, "440307001001001"));
    assert_int_equal(1, wg_unit_set_find(set, 2, "440307001001"));
    assert_int_equal(0, wg_unit_set_find(set, 1, "440307001"));
    assert_int_equal(6, wg_unit_set_find(set, 3, "440307001009001"));
    assert_int_equal(-1, wg_unit_set_find(set, 2, "440307001001001")); /* wrong level */
    assert_int_equal(-1, wg_unit_set_find(set, 3, "440307001002002")); /* not in gen 1 */
    assert_int_equal(-1, wg_unit_set_find(set, 3, "0"));
    assert_int_equal(-1, wg_unit_set_find(set, 0, "440307001"));
    assert_int_equal(-1, wg_unit_set_find(set, 4, "440307001"));
    assert_int_equal(-1, wg_unit_set_find(set, 3, NULL));
    wg_unit_set_free(ctx, set);

    /* generation 2 has the new grid and not the ended one */
    assert_int_equal(WG_OK, wg_units_load(ctx, g2, 0, &set));
    assert_int_equal(7, set->n);
    assert_int_equal(-1, wg_unit_set_find(set, 3, "440307001009001"));
    int32_t k = wg_unit_set_find(set, 3, "440307001002002");
    assert_int_equal(6, k);
    assert_int_equal(2, set->units[k].parent);
    wg_unit_set_free(ctx, set);

    /* grids only: the level boundaries still hold; parents are not loaded so none is found */
    assert_int_equal(WG_OK, wg_units_load(ctx, g1, 1u << WG_LEVEL_GRID, &set));
    assert_int_equal(4, set->n);
    assert_int_equal(0, set->level_begin[3]);
    assert_int_equal(4, set->level_begin[4]);
    assert_int_equal(0, set->level_begin[2]);
    for (size_t i = 0; i < set->n; i++) {
        assert_int_equal(3, set->units[i].level);
        assert_int_equal(-1, set->units[i].parent);
    }
    assert_int_equal(2, wg_unit_set_find(set, 3, "440307001002001"));
    wg_unit_set_free(ctx, set);

    /* nothing was born before generation 1 */
    assert_int_equal(WG_OK, wg_units_load(ctx, 0, 0, &set));
    assert_int_equal(0, set->n);
    assert_int_equal(-1, wg_unit_set_find(set, 3, "440307001001001"));
    wg_unit_set_free(ctx, set);
    wg_unit_set_free(ctx, NULL);
    wg_ctx_free(ctx);
    tu_remove_store(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_reopen),
        cmocka_unit_test(test_foreign_sqlite_file_refused),
        cmocka_unit_test(test_future_schema_refused),
        cmocka_unit_test(test_refused_open_leaves_no_store),
        cmocka_unit_test(test_missing_or_empty_file),
        cmocka_unit_test(test_generation_life_cycle),
        cmocka_unit_test(test_level_names),
        cmocka_unit_test(test_units_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
