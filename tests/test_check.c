/* Store check, backup and restore (lib/src/check.c, backup.c):
 * - a clean store passes every check; a new store passes with no generation published;
 * - faults made by hand are each reported by their check, with a count: a deleted assignment,
 *   two active generations, an event stored twice, an unknown grid, a step that disagrees with
 *   the status, an orphan assignment, a dangling step, a misfiled event, a damaged spatial
 *   index, no active generation, a unit without parent (validation, not with WG_CHECK_QUICK);
 * - events filed with the lookup of a generation that is no longer active are refused
 *   (WG_ECONFLICT, nothing stored), so they never end up unassigned in the active one;
 * - backup: a copy equal in content, checked, in rollback-journal mode, nothing beside it;
 *   refusals (existing file, the store itself, a directory that does not exist);
 * - restore: into a new path and over a store; refusals with the target untouched (garbage, a
 *   backup breaking an invariant unless WG_RESTORE_ALLOW_FAULTS, an existing store without
 *   WG_RESTORE_OVERWRITE, a store another connection has open). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"
#include "wangge/assign.h"
#include "wangge/events.h"
#include "wangge/lookup.h"
#include "wangge/redraw.h"
#include "wangge/store.h"

#define D1 "440307006"
#define C1 D1 "001"
#define C2 D1 "002"
static const tu_rect DISTRICTS[] = {{D1, 114.46, 22.62, 114.48, 22.64, NULL}};
static const tu_rect COMMUNITIES[] = {{C1, 114.46, 22.62, 114.47, 22.64, NULL},
                                      {C2, 114.47, 22.62, 114.48, 22.64, NULL}};
static const tu_rect GRIDS[] = {{C1 "001", 114.46, 22.62, 114.47, 22.63, NULL},
                                {C1 "002", 114.46, 22.63, 114.47, 22.64, NULL},
                                {C2 "001", 114.47, 22.62, 114.48, 22.63, NULL},
                                {C2 "002", 114.47, 22.63, 114.48, 22.64, NULL}};

typedef struct fixture {
    wg_ctx *ctx;
    char *path;
} fixture;

static void exec(wg_ctx *ctx, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(ctx->db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) print_error("%s: %s\n", sql, err);
    sqlite3_free(err);
    assert_int_equal(SQLITE_OK, rc);
}

/* A published city of 4 grids with 6 addresses (one outside) and 3 events, all assigned. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->ctx = tu_open_store(&f->path);
    tu_import_rects(f->ctx, WG_LEVEL_DISTRICT, DISTRICTS, 1, 0);
    tu_import_rects(f->ctx, WG_LEVEL_COMMUNITY, COMMUNITIES, 2, 0);
    tu_import_rects(f->ctx, WG_LEVEL_GRID, GRIDS, 4, 0);
    int64_t gen = 0;
    assert_int_equal(WG_OK, wg_gen_publish(f->ctx, 1.0, 0, &gen, NULL));
    tu_import_points(f->ctx,
                     "lon,lat,households\n114.465,22.625,3\n114.465,22.635,4\n114.475,22.625,5\n"
                     "114.475,22.635,6\n114.466,22.626,1\n114.50,22.70,2\n",
                     0);
    tu_import_points(f->ctx,
                     "lon,lat,category,time\n114.465,22.625,0102,2026-10-01T08:00\n"
                     "114.475,22.635,0102,2026-10-01T09:00\n114.476,22.636,0102,2026-10-01T10:00\n",
                     1);
    wg_assign_stats st;
    assert_int_equal(WG_OK, wg_assign(f->ctx, 0, 1, NULL, NULL, &st));
    assert_int_equal(9, st.addresses + st.events);
    exec(f->ctx, "INSERT INTO categories(code, class_name, name, limit_value, limit_unit, role)"
                 " VALUES ('0102', '市容环境', '暴露垃圾', 4, 'hours', 'grid_worker')");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_close_store(f->ctx, f->path);
    free(f);
    return 0;
}

static const wg_check_item *item(const wg_check_report *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i].name, name) == 0) return &r->items[i];
    fail_msg("no check %s", name);
    return NULL;
}

/* The failed checks as "name:count name:count". */
static const char *failed(const wg_check_report *r, char *buf, size_t n)
{
    buf[0] = '\0';
    for (size_t i = 0; i < r->n; i++) {
        if (r->items[i].ok != 0) continue;
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, "%s%s:%lld", l ? " " : "", r->items[i].name,
                 (long long)r->items[i].count);
    }
    return buf;
}

static void expect_failed(wg_ctx *ctx, unsigned flags, const char *want)
{
    wg_check_report r;
    char buf[256];
    assert_int_equal(WG_OK, wg_store_check(ctx, flags, &r));
    assert_string_equal(want, failed(&r, buf, sizeof buf));
}

/* ---------------------------------------------------------------- check */

static void test_clean_store_passes(void **state)
{
    fixture *f = *state;
    wg_check_report r;
    assert_int_equal(WG_OK, wg_store_check(f->ctx, 0, &r));
    assert_int_equal(WG_CHECK_ITEMS, r.n);
    assert_int_equal(0, r.failed);
    assert_int_equal(1, r.active);
    static const char *const NAMES[] = {"integrity",        "foreign_keys",       "spatial_index",
                                        "schema",           "generations",        "unassigned",
                                        "assignment_grids", "orphan_assignments", "event_filing",
                                        "event_status",     "duplicate_events",   "validation"};
    for (size_t i = 0; i < r.n; i++) {
        assert_string_equal(NAMES[i], r.items[i].name);
        assert_int_equal(1, r.items[i].ok);
        assert_int_equal(i < 4, r.items[i].structural);
    }
    assert_non_null(strstr(item(&r, "validation")->message, "0 faults"));
    char *text = wg_check_report_text(&r), *json = wg_check_report_json(&r);
    assert_non_null(strstr(text, "all 12 checks passed"));
    assert_non_null(strstr(json, "\"ok\":true,\"active_generation\":1,\"failed\":[]"));
    free(text);
    free(json);
    /* quick: the validation skipped, not failed */
    assert_int_equal(WG_OK, wg_store_check(f->ctx, WG_CHECK_QUICK, &r));
    assert_int_equal(0, r.failed);
    assert_int_equal(-1, item(&r, "validation")->ok);
}

static void test_new_store_passes(void **state)
{
    (void)state;
    char *path = NULL;
    wg_ctx *ctx = tu_open_store(&path);
    wg_check_report r;
    assert_int_equal(WG_OK, wg_store_check(ctx, 0, &r));
    assert_int_equal(0, r.failed);
    assert_int_equal(0, r.active);
    assert_int_equal(-1, item(&r, "unassigned")->ok);
    assert_non_null(strstr(item(&r, "generations")->message, "none published yet"));
    tu_close_store(ctx, path);
}

static void test_each_fault_reported(void **state)
{
    fixture *f = *state;
    wg_ctx *ctx = f->ctx;
    /* each fault made inside a savepoint that is rolled back afterwards */
    static const struct {
        const char *sql, *want;
    } CASES[] = {
        {"DELETE FROM assignments WHERE kind = 'address' AND item_id = 2", "unassigned:1"},
        {"DROP INDEX generations_one_active; INSERT INTO generations(status) VALUES ('active')",
         "schema:1 generations:2"},
        {"INSERT INTO events(lon, lat, category, reported_at, status) SELECT lon, lat, category,"
         " reported_at, status FROM events WHERE id = 1;"
         "INSERT INTO assignments SELECT generation, kind, last_insert_rowid(), grid_code,"
         " nearest_code, dist_m FROM assignments WHERE kind = 'event' AND item_id = 1",
         "duplicate_events:1"},
        {"UPDATE assignments SET grid_code = '" C1 "009' WHERE kind = 'address' AND item_id = 1",
         "assignment_grids:1"},
        {"UPDATE assignments SET dist_m = NULL WHERE kind = 'address' AND item_id = 6",
         "assignment_grids:1"},
        {"INSERT INTO event_steps(event_id, action, from_status, to_status, at_ms)"
         " VALUES (2, 'register', 'reported', 'registered', 1)",
         "event_status:1"},
        {"UPDATE events SET status = 'lost' WHERE id = 3", "event_status:1"},
        {"DELETE FROM events WHERE id = 3", "orphan_assignments:1"},
        {"INSERT INTO event_steps(event_id, action, to_status, at_ms) VALUES (99, 'x', 'reported', "
         "1)",
         "foreign_keys:1"},
        {"UPDATE events SET generation = 1, grid_code = '" C2 "009' WHERE id = 1",
         "event_filing:1"},
        {"UPDATE events SET generation = 7, grid_code = '" C2 "001' WHERE id = 1",
         "event_filing:1"},
        {"DELETE FROM idx_units_geom WHERE pkid = (SELECT max(id) FROM units)", "spatial_index:1"},
        {"UPDATE idx_units_geom SET xmax = xmin WHERE pkid = (SELECT min(id) FROM units)",
         "spatial_index:1"},
        {"UPDATE generations SET status = 'retired'", "generations:1"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        exec(ctx, "PRAGMA foreign_keys = OFF; SAVEPOINT fault");
        exec(ctx, CASES[i].sql);
        print_message("fault %zu: %s\n", i, CASES[i].sql);
        expect_failed(ctx, WG_CHECK_QUICK, CASES[i].want);
        exec(ctx, "ROLLBACK TO fault; RELEASE fault; PRAGMA foreign_keys = ON");
        expect_failed(ctx, WG_CHECK_QUICK, "");
    }
    /* a grid that names no parent: only validation sees it */
    exec(ctx,
         "SAVEPOINT fault; UPDATE units SET parent_code = '" D1 "099' WHERE code = '" C2 "002'");
    expect_failed(ctx, WG_CHECK_QUICK, "");
    wg_check_report v;
    assert_int_equal(WG_OK, wg_store_check(ctx, 0, &v));
    assert_int_equal(1, v.failed);
    assert_int_equal(0, item(&v, "validation")->ok);
    assert_true(item(&v, "validation")->count >= 1);
    assert_non_null(strstr(item(&v, "validation")->message, "no_parent of grid " C2 "002"));
    exec(ctx, "ROLLBACK TO fault; RELEASE fault");
    /* new addresses are unassigned until the next run */
    tu_import_points(ctx, "lon,lat\n114.461,22.621\n114.462,22.622\n", 0);
    expect_failed(ctx, 0, "unassigned:2");
    wg_check_report r;
    assert_int_equal(WG_OK, wg_store_check(ctx, 0, &r));
    assert_non_null(strstr(item(&r, "unassigned")->message, "addresses 7, 8;"));
    char names[64];
    wg_check_report_failed(&r, names, sizeof names);
    assert_string_equal("unassigned", names);
    char *json = wg_check_report_json(&r);
    assert_non_null(
        strstr(json, "\"ok\":false,\"active_generation\":1,\"failed\":[\"unassigned\"]"));
    free(json);
    wg_assign_stats st;
    assert_int_equal(WG_OK, wg_assign(ctx, 0, 1, NULL, NULL, &st));
    expect_failed(ctx, 0, "");
}

/* An event filed with the lookup of the generation active before a publish is placed in the
 * generation active now (read inside the filing transaction), not filed where nobody looks,
 * and the filing does not fail. The new generation merges the point's grid with its
 * neighbour. */
static void test_filing_with_a_stale_lookup_placed_in_the_active(void **state)
{
    fixture *f = *state;
    wg_lookup *old = NULL;
    assert_int_equal(WG_OK, wg_lookup_load(f->ctx, 0, &old));
    assert_int_equal(4, wg_lookup_count(old, 3));
    int64_t draft = 0, gen = 0, id = 0;
    assert_int_equal(WG_OK, wg_gen_draft(f->ctx, 1, &draft));
    const char *both[] = {C1 "001", C1 "002"};
    char *merged = NULL;
    assert_int_equal(WG_OK, wg_draft_merge(f->ctx, both, 2, NULL, &merged));
    assert_int_equal(WG_OK, wg_gen_publish(f->ctx, 1.0, 0, &gen, NULL));
    assert_int_equal(2, gen);
    wg_event_new e = {.lon = 114.465, .lat = 22.625, .category = "0102", .description = "x"};
    int64_t at = 1795300000000LL;
    assert_int_equal(WG_OK, wg_events_file(f->ctx, old, &e, 1, NULL, NULL, at, &id));
    assert_int_equal(4, id);
    wg_event ev;
    assert_int_equal(WG_OK, wg_event_get(f->ctx, id, &ev));
    assert_int_equal(2, ev.generation);
    assert_string_equal(merged, ev.grid_code);
    assert_int_equal(0, ev.outside);
    wg_event_clear(&ev);
    assert_int_equal(1, tu_q_int(f->ctx, /* the merged unit, a row of generation 2 */
                                 "SELECT count(*) FROM assignments a JOIN units u ON u.code = a.grid_code "
                                 "AND u.first_gen = 2 WHERE a.kind = 'event' AND a.generation = 2 "
                                 "AND a.item_id = 4"));
    expect_failed(f->ctx, 0, "");
    free(merged);
    wg_lookup_free(old);
}

/* ---------------------------------------------------------------- backup and restore */

static long long count_in(const char *path, const char *sql)
{
    wg_ctx *c = wg_ctx_new();
    assert_int_equal(WG_OK, wg_store_open(c, path, WG_STORE_READONLY));
    long long n = tu_q_int(c, sql);
    wg_ctx_free(c);
    return n;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int side_files(const char *path)
{
    static const char *const SUFFIX[] = {"-wal", "-shm", "-journal", ".tmp"};
    char p[512];
    int n = 0;
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", path, SUFFIX[i]);
        n += exists(p);
    }
    return n;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *n = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc(*n + 1);
    assert_int_equal(*n, fread(buf, 1, *n, fp));
    fclose(fp);
    return buf;
}

static void test_backup(void **state)
{
    fixture *f = *state;
    char *out = tu_temp_path(".sqlite");
    wg_check_report r;
    int64_t pages = 0;
    assert_int_equal(WG_OK, wg_store_backup(f->ctx, out, 0, 1, &pages, &r));
    assert_true(pages > 10);
    assert_int_equal(0, r.failed);
    assert_int_equal(1, item(&r, "validation")->ok); /* full check */
    assert_int_equal(0, side_files(out));
    size_t n = 0;
    char *bytes = slurp(out, &n);
    assert_int_equal((size_t)pages * 4096, n);
    assert_int_equal(1, bytes[18]); /* rollback journal, not WAL */
    assert_int_equal(1, bytes[19]);
    free(bytes);
    assert_int_equal(6, count_in(out, "SELECT count(*) FROM addresses"));
    assert_int_equal(9, count_in(out, "SELECT count(*) FROM assignments"));
    /* refusals */
    assert_int_equal(WG_ECONFLICT, wg_store_backup(f->ctx, out, 0, 0, &pages, &r));
    assert_non_null(strstr(wg_errmsg(f->ctx), "use --force"));
    assert_int_equal(WG_OK, wg_store_backup(f->ctx, out, 1, 0, &pages, &r));
    assert_int_equal(WG_EINVAL, wg_store_backup(f->ctx, f->path, 1, 0, &pages, &r));
    assert_int_equal(WG_EIO,
                     wg_store_backup(f->ctx, "/nonexistent-dir/b.sqlite", 0, 0, &pages, &r));
    assert_non_null(strstr(wg_errmsg(f->ctx), "No such file or directory"));
    /* a store with an invariant fault is copied, the fault reported */
    exec(f->ctx, "DELETE FROM assignments WHERE kind = 'event' AND item_id = 1");
    assert_int_equal(WG_OK, wg_store_backup(f->ctx, out, 1, 0, &pages, &r));
    assert_int_equal(1, r.failed);
    assert_int_equal(0, r.failed_structural);
    assert_int_equal(0, item(&r, "unassigned")->ok);
    tu_remove_store(out);
}

static void test_restore(void **state)
{
    fixture *f = *state;
    char *bk = tu_temp_path(".sqlite"), *target = tu_temp_path(".sqlite"),
         *bad = tu_temp_path(".sqlite");
    wg_check_report r;
    int64_t pages = 0;
    assert_int_equal(WG_OK, wg_store_backup(f->ctx, bk, 0, 0, &pages, &r));
    wg_ctx *ctx = wg_ctx_new();
    /* into a new path */
    assert_int_equal(WG_OK, wg_store_restore(ctx, bk, target, 0, &r));
    assert_int_equal(0, r.failed);
    assert_int_equal(6, count_in(target, "SELECT count(*) FROM addresses"));
    /* over an existing store: only with overwrite */
    assert_int_equal(WG_ECONFLICT, wg_store_restore(ctx, bk, target, 0, &r));
    assert_int_equal(WG_OK, wg_store_restore(ctx, bk, target, WG_RESTORE_OVERWRITE, &r));
    size_t n0 = 0, n1 = 0;
    char *before = slurp(target, &n0);
    /* garbage: refused, target untouched */
    FILE *fp = fopen(bad, "wb");
    for (int i = 0; i < 20000; i++)
        fputc((i * 7919) & 0xff, fp);
    fclose(fp);
    assert_int_equal(WG_EDATA, wg_store_restore(ctx, bad, target, WG_RESTORE_OVERWRITE, &r));
    assert_non_null(strstr(wg_errmsg(ctx), "not a wangge store"));
    /* a backup with an unassigned address: refused unless faults are allowed */
    exec(f->ctx, "DELETE FROM assignments WHERE kind = 'address' AND item_id = 1");
    assert_int_equal(WG_OK, wg_store_backup(f->ctx, bad, 1, 0, &pages, &r));
    assert_int_equal(WG_EFAULTS, wg_store_restore(ctx, bad, target, WG_RESTORE_OVERWRITE, &r));
    assert_non_null(strstr(wg_errmsg(ctx), "failed: unassigned"));
    char *after = slurp(target, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(after);
    assert_int_equal(0, side_files(target));
    /* a store another connection has open (in WAL mode): refused whatever the flags */
    wg_ctx *user = wg_ctx_new();
    assert_int_equal(WG_OK, wg_store_open(user, target, 0));
    assert_int_equal(
        WG_ECONFLICT,
        wg_store_restore(ctx, bad, target, WG_RESTORE_OVERWRITE | WG_RESTORE_ALLOW_FAULTS, &r));
    assert_non_null(strstr(wg_errmsg(ctx), "open in another process"));
    wg_ctx_free(user);
    assert_int_equal(WG_OK, wg_store_restore(ctx, bad, target,
                                             WG_RESTORE_OVERWRITE | WG_RESTORE_ALLOW_FAULTS, &r));
    assert_int_equal(1, r.failed);
    assert_int_equal(5,
                     count_in(target, "SELECT count(*) FROM assignments WHERE kind = 'address'"));
    assert_int_equal(0, side_files(target));
    assert_int_equal(WG_EIO, wg_store_restore(ctx, "/nonexistent-file", target, 1, &r));
    assert_int_equal(WG_EINVAL, wg_store_restore(ctx, target, target, 1, &r));
    free(before);
    wg_ctx_free(ctx);
    tu_remove_store(bk);
    tu_remove_store(target);
    tu_remove_store(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_store_passes, setup, teardown),
        cmocka_unit_test(test_new_store_passes),
        cmocka_unit_test_setup_teardown(test_each_fault_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filing_with_a_stale_lookup_placed_in_the_active, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
