/* Switching the active generation: publishing the draft, rolling back to the previous one.
 *
 * A generation becomes active with every address and event assigned in it (DESIGN.md: lookups
 * and dispatch read the active generation's assignments), in one transaction:
 *   1. outside the transaction: (publish only) validate the draft, and build the point index of
 *      the generation about to become active (wg_lookup_load: reads only);
 *   2. BEGIN IMMEDIATE; check that nothing the switch depends on changed since step 1 began:
 *      the generations (ids, statuses, notes) and the target's units (a draft's revision,
 *      wg_gen_revision; other generations' units never change). Other writes (events, GPS
 *      fixes, workers, keys) go on meanwhile and do not count: the points are read inside the
 *      transaction anyway. Then place every address
 *      and event with the index and write their assignment rows for that generation (the rows
 *      wg_assign writes; other generations' rows are not touched, and no assign run is
 *      recorded, so `wangge assign` still compares with the previous run); flip the statuses;
 *      COMMIT.
 * A process killed at any point leaves either the old state or the new one whole (SQLite's
 * journal). If the store changed between the steps, both are redone (3 attempts), so what
 * becomes active is exactly what was validated and indexed.
 *
 * Rollback keeps a stack: the generation to go back to is the newest retired generation older
 * than the active one that was not itself rolled back from. A generation rolled back from is
 * marked in generations.note ("rolled back at <time>"); publishing only ever activates the
 * newest id, so the unmarked retired generations below the active one are exactly the earlier
 * publications still in force when it was published.
 *
 * Test hook (tests/cli/test_publish_kill.sh): with WANGGE_TEST_KILL_AT=N in the environment,
 * a publish or rollback raises SIGKILL at its N-th tick. A tick is every TICK_VM_STEPS SQLite
 * virtual-machine steps (a progress handler on the connection) and every step boundary of the
 * transaction; if the switch ends before tick N, "wangge-test: T ticks" is written to stderr so
 * the test learns the range. Without the variable none of this runs. */
#include "wangge/lookup.h"
#include "wangge/redraw.h"
#include "wangge/store.h"
#include "wangge/validate.h"
#include "points.h"
#include "store_schema.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#define SWITCH_ATTEMPTS 3
#define TICK_VM_STEPS 64

/* ------------------------------------------------------------------ test hook */

typedef struct kill_hook {
    long long at, ticks; /* at 0: disarmed */
} kill_hook;

static kill_hook hook_arm(void)
{
    const char *v = getenv("WANGGE_TEST_KILL_AT");
    kill_hook h = {v ? atoll(v) : 0, 0};
    return h;
}

static int hook_tick(void *ud)
{
    kill_hook *h = ud;
    if (h->at > 0 && ++h->ticks == h->at) raise(SIGKILL);
    return 0;
}

static void hook_start(wg_ctx *ctx, kill_hook *h)
{
    if (h->at > 0) sqlite3_progress_handler(ctx->db, TICK_VM_STEPS, hook_tick, h);
}

static void hook_end(wg_ctx *ctx, kill_hook *h)
{
    if (h->at <= 0) return;
    sqlite3_progress_handler(ctx->db, 0, NULL, NULL);
    fprintf(stderr, "wangge-test: %lld ticks\n", h->ticks);
}

/* ------------------------------------------------------------------ assignment rows */

/* Writes the generation's assignment rows of one kind (as wg_assign stores them: the grid code,
 * or NULL with the nearest grid and its distance). */
static int assign_kind(wg_ctx *ctx, const wg_lookup *lk, const char *kind, const char *sql)
{
    wg_points p = {0};
    wg_hit *hits = NULL;
    sqlite3_stmt *del = NULL, *ins = NULL;
    int64_t gen = wg_lookup_generation(lk);
    int rc = wg_points_read(ctx, sql, &p);
    if (rc == WG_OK && p.n && !(hits = malloc(p.n * sizeof *hits)))
        rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    if (rc == WG_OK && p.n) rc = wg_lookup_bulk(lk, p.lon, p.lat, p.n, hits, 0);
    if (rc == WG_OK)
        rc = wg_prepare(ctx, "DELETE FROM assignments WHERE generation = ? AND kind = ?", &del);
    if (rc == WG_OK) {
        sqlite3_bind_int64(del, 1, gen);
        sqlite3_bind_text(del, 2, kind, -1, SQLITE_STATIC);
        if (sqlite3_step(del) != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot clear assignments");
    }
    if (rc == WG_OK)
        rc =
            wg_prepare(ctx,
                       "INSERT INTO assignments(generation, kind, item_id, grid_code, nearest_code,"
                       " dist_m) VALUES (?, ?, ?, ?, ?, ?)",
                       &ins);
    for (size_t k = 0; rc == WG_OK && k < p.n; k++) {
        const wg_unit *g = wg_lookup_unit(lk, hits[k].grid),
                      *near = wg_lookup_unit(lk, hits[k].nearest_grid);
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, gen);
        sqlite3_bind_text(ins, 2, kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, p.id[k]);
        if (g)
            sqlite3_bind_text(ins, 4, g->code, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(ins, 4);
        if (near)
            sqlite3_bind_text(ins, 5, near->code, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(ins, 5);
        if (!g && near)
            sqlite3_bind_double(ins, 6, hits[k].dist_m);
        else
            sqlite3_bind_null(ins, 6);
        if (sqlite3_step(ins) != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot store assignment");
    }
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    free(hits);
    wg_points_free(&p);
    return rc;
}

/* ------------------------------------------------------------------ the switch */

/* A stamp of what a switch to target depends on: every generation's id, status and note, and
 * the target's revision while it is a draft. */
static int switch_stamp(wg_ctx *ctx, int64_t target, int64_t *v)
{
    uint64_t rev = 0, h = 1469598103934665603ULL; /* FNV-1a */
    int rc = target > 0 ? wg_gen_revision(ctx, target, &rev) : WG_OK;
    if (rc != WG_OK) return rc;
    sqlite3_stmt *st;
    rc = wg_prepare(ctx, "SELECT id || ':' || status || ':' || coalesce(note, '') FROM generations ORDER BY id", &st);
    if (rc != WG_OK) return rc;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        for (; t && *t; t++) {
            h ^= *t;
            h *= 1099511628211ULL;
        }
        h ^= '\n';
        h *= 1099511628211ULL;
    }
    if (step != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read generations");
    sqlite3_finalize(st);
    *v = (int64_t)(h ^ rev);
    return rc;
}

/* Step 2: assignment rows and statuses in one transaction. rolled_back: the generation a
 * rollback leaves (0 for a publish). WG_ECONFLICT (to retry) if the store changed since v0. */
static int switch_tx(wg_ctx *ctx, kill_hook *h, int64_t v0, const wg_lookup *lk,
                     int64_t rolled_back)
{
    int64_t target = wg_lookup_generation(lk), v1 = 0;
    char sql[512];
    hook_tick(h);
    int rc = wg_begin(ctx);
    hook_tick(h);
    if (rc == WG_OK) rc = switch_stamp(ctx, target, &v1);
    if (rc == WG_OK && v1 != v0)
        rc = wg_fail(ctx, WG_ECONFLICT, "the store changed during the switch to generation %lld",
                     (long long)target);
    if (rc == WG_OK)
        rc = assign_kind(ctx, lk, "address", "SELECT id, lon, lat FROM addresses ORDER BY id");
    hook_tick(h);
    if (rc == WG_OK)
        rc = assign_kind(ctx, lk, "event", "SELECT id, lon, lat FROM events ORDER BY id");
    hook_tick(h);
    snprintf(sql, sizeof sql,
             "UPDATE generations SET status = 'retired' WHERE status = 'active';"
             "UPDATE generations SET status = 'active'%s WHERE id = %lld;",
             rolled_back ? "" : ", published_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')",
             (long long)target);
    if (rc == WG_OK) rc = wg_exec(ctx, sql);
    hook_tick(h);
    if (rc == WG_OK && rolled_back) {
        snprintf(sql, sizeof sql,
                 "UPDATE generations SET note = coalesce(note || '; ', '') || 'rolled back at '"
                 " || strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ','now') WHERE id = %lld;",
                 (long long)rolled_back);
        rc = wg_exec(ctx, sql);
        hook_tick(h);
    }
    if (rc == WG_OK) rc = wg_commit(ctx);
    hook_tick(h);
    if (rc != WG_OK) {
        char keep[sizeof ctx->err];
        snprintf(keep, sizeof keep, "%s", ctx->err);
        wg_rollback(ctx);
        snprintf(ctx->err, sizeof ctx->err, "%s", keep);
    }
    return rc;
}

/* Validates the draft; WG_EFAULTS / WG_EDATA when it may not be published. */
static int check_draft(wg_ctx *ctx, int64_t draft, double tol_m2, int force, wg_report **r)
{
    int rc = wg_validate(ctx, draft, tol_m2, r);
    if (rc != WG_OK) return rc;
    size_t units = (*r)->units[1] + (*r)->units[2] + (*r)->units[3];
    if (units == 0)
        return wg_fail(ctx, WG_EDATA, "draft generation %lld has no units", (long long)draft);
    if ((*r)->n && !force)
        return wg_fail(ctx, WG_EFAULTS, "draft generation %lld has %zu faults: not published",
                       (long long)draft, (*r)->n);
    return WG_OK;
}

int wg_gen_publish(wg_ctx *ctx, double tol_m2, int force, int64_t *gen, struct wg_report **report)
{
    *gen = 0;
    if (report) *report = NULL;
    int64_t draft;
    int rc = wg_gen_draft(ctx, 0, &draft);
    if (rc == WG_ENOTFOUND) return wg_fail(ctx, rc, "no draft generation to publish");
    if (rc != WG_OK) return rc;
    kill_hook h = hook_arm();
    hook_start(ctx, &h);
    wg_report *r = NULL;
    rc = WG_ECONFLICT;
    for (int attempt = 0; rc == WG_ECONFLICT && attempt < SWITCH_ATTEMPTS; attempt++) {
        int64_t v0 = 0;
        wg_lookup *lk = NULL;
        wg_report_free(r);
        r = NULL;
        rc = switch_stamp(ctx, draft, &v0);
        if (rc == WG_OK) rc = check_draft(ctx, draft, tol_m2, force, &r);
        if (rc == WG_OK) rc = wg_lookup_load(ctx, draft, &lk);
        if (rc == WG_OK) rc = switch_tx(ctx, &h, v0, lk, 0);
        wg_lookup_free(lk);
    }
    hook_end(ctx, &h);
    if (rc == WG_OK) *gen = draft;
    if (report)
        *report = r;
    else
        wg_report_free(r);
    return rc;
}

/* The generation a rollback goes back to (see the model above). */
static int rollback_target(wg_ctx *ctx, int64_t active, int64_t *target)
{
    char sql[320];
    snprintf(sql, sizeof sql,
             "SELECT max(id) FROM generations WHERE status = 'retired' AND id < %lld"
             " AND (note IS NULL OR instr(note, 'rolled back at ') = 0)",
             (long long)active);
    int rc = wg_query_i64(ctx, sql, target);
    if (rc == WG_OK && *target == 0)
        rc =
            wg_fail(ctx, WG_ENOTFOUND, "no earlier generation to roll back to from generation %lld",
                    (long long)active);
    return rc;
}

int wg_gen_rollback(wg_ctx *ctx, int64_t *id)
{
    *id = 0;
    kill_hook h = hook_arm();
    hook_start(ctx, &h);
    int rc = WG_ECONFLICT;
    int64_t target = 0;
    for (int attempt = 0; rc == WG_ECONFLICT && attempt < SWITCH_ATTEMPTS; attempt++) {
        int64_t v0 = 0, active = 0;
        wg_lookup *lk = NULL;
        rc = switch_stamp(ctx, 0, &v0); /* the target is retired: only the generations count */
        if (rc == WG_OK) rc = wg_gen_active(ctx, &active);
        if (rc == WG_OK) rc = rollback_target(ctx, active, &target);
        if (rc == WG_OK) rc = wg_lookup_load(ctx, target, &lk);
        if (rc == WG_OK) rc = switch_tx(ctx, &h, v0, lk, active);
        wg_lookup_free(lk);
    }
    hook_end(ctx, &h);
    if (rc == WG_OK) *id = target;
    return rc;
}
