/* Workers in the store: registration, duty, GPS fixes and their track, retention; and the JSON
 * of workers and nearest answers (see wangge/workers.h for the model).
 *
 * Fixes. A batch is one transaction (BEGIN IMMEDIATE) with prepared statements. With a position
 * index (the server):
 *   1. per fix, in batch order: a fix the index knows as stored by this process in the last
 *      two merge rounds (this batch included) is a duplicate, no SQL asked; otherwise it
 *      is appended to position_inbox (in arrival order, so a batch appends to a few pages
 *      whatever workers and times it names), guarded by EXISTS(an active worker with that id;
 *      skipped when the index holds the worker as active: the server's index learns this
 *      server's registrations at once and another process's within a sync, about a second, so
 *      a fix a CLI deregistration beat by under a second is still taken) AND NOT EXISTS(the
 *      same fix in the track; skipped when the index knows the fix is new: newer than every
 *      stored fix of its worker, between the time ranges its stored fixes lie in, or where the
 *      key sets of the last two merge rounds answer for every stored fix; such a fix of a
 *      worker known active is a plain row, and the batch's plain rows go in with one INSERT
 *      from the virtual table wg_pi_rows at the end). One row inserted means stored; none
 *      means a duplicate, an unknown or a deregistered worker, told apart by a SELECT (rare);
 *   2. per worker of the stored fixes, in batch order: current when newer than the worker's
 *      newest stored fix and everything before it in the batch, else out of order. The newest
 *      stored fix comes from the index (it holds every worker's newest fix, and its writers'
 *      lock is held from before BEGIN to after the index is moved, so it cannot be stale
 *      against this process's writes).
 * wg_positions_merge moves the inbox into the track (worker_positions, keyed (worker_id, at_ms))
 * in one pass sorted by worker, and each worker's newest fix into workers (guarded by seen_ms:
 * positions stay monotonic in device time whoever merges). With an index, the pass reads the
 * index's copy of the inbox, sorted in memory (wg_pi_inbox_rows_locked), when the store shows
 * the inbox is that copy: no merge since the index's last one (wg_meta's position_merges
 * counts every merge that moved fixes) and as many rows; otherwise SQLite reads and sorts the
 * inbox (slower: its sort and the grouping for the positions). The server merges every 3 s
 * and at start and stop. Readers see the inbox through the view workers_now and the track queries,
 * so a fix is visible once committed. A merge costs about a page per worker named plus ~1.5 us
 * a fix, so merging less often makes the per-page part rarer (gateway batches: every worker in
 * every merge); the price is a longer inbox for workers_now to group (about 0.1 s for 300,000
 * fixes waiting, which takes 1.5 s of 200,000 fixes a second).
 * Without an index (the CLI) a batch merges the inbox first, then inserts its fixes into the
 * track itself (INSERT OR IGNORE: the track's key finds duplicates) and moves the workers'
 * positions from the workers table, which the merge made exact.
 * Cost: a batch of 1,000 fixes of 1,000 different workers would dirty about 1,000 leaf pages
 * of the track (and a page of workers per ~25 workers) at every commit; through the inbox it
 * appends, and a merge writes each worker's track tail once per merge, however many batches
 * came in between. bench/run_nearest.sh measures both shapes of batch.
 */
#include "posindex.h"
#include "internal.h"
#include "events_internal.h"
#include "store_schema.h"
#include "wangge/crs.h"
#include "wangge/lookup.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Workers pruned per transaction: short transactions, so writers of fixes are not held up. */
#define PRUNE_CHUNK 256
#define TRACK_LIMIT_DEFAULT 100000

const char *wg_worker_role_name(wg_worker_role role)
{
    switch (role) {
    case WG_WORKER_GRID_WORKER:
        return "grid_worker";
    case WG_WORKER_OFFICER:
        return "officer";
    default:
        return NULL;
    }
}

wg_worker_role wg_worker_role_parse(const char *name)
{
    if (name && strcmp(name, "grid_worker") == 0) return WG_WORKER_GRID_WORKER;
    if (name && strcmp(name, "officer") == 0) return WG_WORKER_OFFICER;
    return (wg_worker_role)0;
}

const char *wg_fix_outcome_name(wg_fix_outcome o)
{
    static const char *const NAMES[] = {"current", "out_of_order", "duplicate", "rejected"};
    return (unsigned)o < 4 ? NAMES[o] : "rejected";
}

static int64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- validation */

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}

static int id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n >= 1 && n <= WG_WORKER_ID_MAX && !has_control(id) && !strchr(id, '/');
}

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

static int check_reg(wg_ctx *ctx, const wg_worker_reg *w)
{
    if (!id_ok(w->id))
        return wg_fail(ctx, WG_EINVAL,
                       "worker id must be 1-%d bytes without control characters or '/'",
                       WG_WORKER_ID_MAX);
    size_t n = w->name ? strlen(w->name) : 0;
    if (n < 1 || n > WG_WORKER_NAME_MAX || has_control(w->name))
        return wg_fail(ctx, WG_EINVAL, "name must be 1-%d bytes without control characters",
                       WG_WORKER_NAME_MAX);
    if (!wg_worker_role_name(w->role))
        return wg_fail(ctx, WG_EINVAL, "role must be grid_worker or officer");
    const char *phone = nonempty(w->phone);
    if (phone &&
        (strlen(phone) > WG_WORKER_PHONE_MAX || strspn(phone, "0123456789+- ()") != strlen(phone)))
        return wg_fail(ctx, WG_EINVAL, "phone must be at most %d of 0-9 + - space ( )",
                       WG_WORKER_PHONE_MAX);
    const char *home = nonempty(w->home_grid);
    if (home && (strlen(home) > WG_GRID_CODE_MAX || has_control(home)))
        return wg_fail(ctx, WG_EINVAL,
                       "home_grid must be at most %d bytes without control characters",
                       WG_GRID_CODE_MAX);
    if (w->on_duty < -1 || w->on_duty > 1)
        return wg_fail(ctx, WG_EINVAL, "on_duty must be 0, 1 or -1 (keep)");
    return WG_OK;
}

/* ---------------------------------------------------------------- workers */

#define WORKER_COLS "id, name, phone, role, home_grid, lon, lat, on_duty, seen_ms, active"

static void text_col(sqlite3_stmt *st, int col, char *out, size_t n)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, n, "%s", t ? (const char *)t : "");
}

static void row_to_worker(sqlite3_stmt *st, wg_worker *w)
{
    memset(w, 0, sizeof *w);
    text_col(st, 0, w->id, sizeof w->id);
    text_col(st, 1, w->name, sizeof w->name);
    text_col(st, 2, w->phone, sizeof w->phone);
    const unsigned char *role = sqlite3_column_text(st, 3);
    w->role = wg_worker_role_parse(role ? (const char *)role : NULL);
    text_col(st, 4, w->home_grid, sizeof w->home_grid);
    w->has_position =
        sqlite3_column_type(st, 5) != SQLITE_NULL && sqlite3_column_type(st, 6) != SQLITE_NULL;
    if (w->has_position) {
        w->lon = sqlite3_column_double(st, 5);
        w->lat = sqlite3_column_double(st, 6);
    }
    w->on_duty = sqlite3_column_int(st, 7) != 0;
    w->seen_ms = sqlite3_column_int64(st, 8);
    w->active = sqlite3_column_int(st, 9) != 0;
}

int wg_worker_get(wg_ctx *ctx, const char *id, wg_worker *out)
{
    memset(out, 0, sizeof *out);
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "SELECT " WORKER_COLS " FROM workers_now WHERE id = ?", &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_text(st, 1, id ? id : "", -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        row_to_worker(st, out);
    else if (s == SQLITE_DONE)
        rc = wg_fail(ctx, WG_ENOTFOUND, "no worker '%.64s'", id ? id : "");
    else
        rc = wg_fail_sql(ctx, "cannot read worker");
    sqlite3_finalize(st);
    return rc;
}

int wg_workers_list(wg_ctx *ctx, wg_worker **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "SELECT " WORKER_COLS " FROM workers_now ORDER BY id", &st);
    if (rc != WG_OK) return rc;
    wg_worker *v = NULL;
    size_t cap = 0, k = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (wg_grow((void **)&v, &cap, k + 1, sizeof *v) != WG_OK) {
            rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
            break;
        }
        row_to_worker(st, &v[k++]);
    }
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot list workers");
    sqlite3_finalize(st);
    if (rc != WG_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *n = k;
    return WG_OK;
}

/* Puts the stored row of id into idx (caller holds idx's lock, after its commit). */
static int refresh_index(wg_ctx *ctx, wg_posindex *idx, const char *id)
{
    if (!idx) return WG_OK;
    wg_worker w;
    int rc = wg_worker_get(ctx, id, &w);
    if (rc == WG_OK && wg_pi_put_locked(idx, &w) != WG_OK)
        rc = wg_fail(ctx, WG_ENOMEM, "position index: out of memory");
    return rc;
}

/* Runs fn inside one transaction with idx's writers' lock held across the commit and the
 * index refresh of worker id. */
typedef int (*txn_fn)(wg_ctx *ctx, const void *arg);

static int in_txn(wg_ctx *ctx, wg_posindex *idx, const char *id, txn_fn fn, const void *arg)
{
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    if (idx) wg_pi_lock(idx);
    int rc = wg_begin(ctx);
    if (rc == WG_OK) rc = fn(ctx, arg);
    if (rc == WG_OK) rc = wg_commit(ctx);
    if (rc != WG_OK) wg_rollback(ctx);
    if (rc == WG_OK) rc = refresh_index(ctx, idx, id);
    if (idx) wg_pi_unlock(idx);
    return rc;
}

/* 1 active, 0 deregistered, WG_ENOTFOUND, or a store error. */
static int stored_active(wg_ctx *ctx, const char *id)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "SELECT active FROM workers WHERE id = ?", &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    rc = s == SQLITE_ROW    ? sqlite3_column_int(st, 0) != 0
         : s == SQLITE_DONE ? wg_fail(ctx, WG_ENOTFOUND, "no worker '%.64s'", id)
                            : wg_fail_sql(ctx, "cannot read worker");
    sqlite3_finalize(st);
    return rc;
}

typedef struct reg_arg {
    const wg_worker_reg *w;
    int *created;
} reg_arg;

static int do_register(wg_ctx *ctx, const void *arg)
{
    const reg_arg *a = arg;
    const wg_worker_reg *w = a->w;
    int had = stored_active(ctx, w->id);
    if (had < 0 && had != WG_ENOTFOUND) return had;
    if (a->created) *a->created = had == WG_ENOTFOUND;
    sqlite3_stmt *st;
    int rc =
        wg_prepare(ctx,
                   "INSERT INTO workers(id, name, phone, role, home_grid, on_duty, active)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, 0), 1)"
                   " ON CONFLICT(id) DO UPDATE SET name = excluded.name, phone = excluded.phone,"
                   " role = excluded.role, home_grid = excluded.home_grid,"
                   " on_duty = coalesce(?6, on_duty), active = 1",
                   &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_text(st, 1, w->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w->name, -1, SQLITE_STATIC);
    if (nonempty(w->phone)) sqlite3_bind_text(st, 3, w->phone, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, wg_worker_role_name(w->role), -1, SQLITE_STATIC);
    if (nonempty(w->home_grid)) sqlite3_bind_text(st, 5, w->home_grid, -1, SQLITE_STATIC);
    if (w->on_duty >= 0) sqlite3_bind_int(st, 6, w->on_duty);
    if (sqlite3_step(st) != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot store worker");
    sqlite3_finalize(st);
    return rc;
}

int wg_worker_register(wg_ctx *ctx, wg_posindex *idx, const wg_worker_reg *w, int *created)
{
    if (created) *created = 0;
    int rc = check_reg(ctx, w);
    if (rc != WG_OK) return rc;
    reg_arg a = {w, created};
    rc = in_txn(ctx, idx, w->id, do_register, &a);
    if (rc != WG_OK && created) *created = 0;
    return rc;
}

static int do_deregister(wg_ctx *ctx, const void *arg)
{
    const char *id = arg;
    int had = stored_active(ctx, id);
    if (had < 0) return had;
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "UPDATE workers SET active = 0, on_duty = 0 WHERE id = ?", &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot deregister worker");
    sqlite3_finalize(st);
    return rc;
}

int wg_worker_deregister(wg_ctx *ctx, wg_posindex *idx, const char *id)
{
    if (!id) return wg_fail(ctx, WG_EINVAL, "no worker id");
    return in_txn(ctx, idx, id, do_deregister, id);
}

typedef struct duty_arg {
    const char *id;
    int on_duty;
} duty_arg;

static int do_duty(wg_ctx *ctx, const void *arg)
{
    const duty_arg *a = arg;
    int active = stored_active(ctx, a->id);
    if (active < 0) return active;
    if (!active) return wg_fail(ctx, WG_ECONFLICT, "worker '%.64s' is deregistered", a->id);
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "UPDATE workers SET on_duty = ? WHERE id = ?", &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int(st, 1, a->on_duty != 0);
    sqlite3_bind_text(st, 2, a->id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot set duty");
    sqlite3_finalize(st);
    return rc;
}

int wg_worker_set_duty(wg_ctx *ctx, wg_posindex *idx, const char *id, int on_duty)
{
    if (!id) return wg_fail(ctx, WG_EINVAL, "no worker id");
    if (on_duty != 0 && on_duty != 1) return wg_fail(ctx, WG_EINVAL, "on_duty must be 0 or 1");
    duty_arg a = {id, on_duty};
    return in_txn(ctx, idx, id, do_duty, &a);
}

/* ---------------------------------------------------------------- fixes */

typedef struct fix_job {
    wg_ctx *ctx;
    wg_posindex *idx; /* NULL: the newest stored fix comes from the workers table */
    const wg_fix *fixes;
    wg_fix_result *res;
    sqlite3_stmt *ins, *ins_new, *why, *seen, *move;
    const int64_t *recv; /* per fix: when it was received (its batch's now) */
    uint32_t *si;        /* with an index, per fix: its worker's slot (NO_SLOT: none) */
    /* with an index, the fixes known new of workers known active: they are stored whatever
     * the store holds, all in one INSERT at the end of the batch (store_plain) */
    wg_pi_row *plain;
    size_t nplain;
} fix_job;

#define NO_SLOT UINT32_MAX

/* Why a fix is refused before the store is asked, or NULL. */
static const char *fix_fault(int64_t earliest, int64_t latest, const wg_fix *f)
{
    if (!f->worker_id || !*f->worker_id || strlen(f->worker_id) > WG_WORKER_ID_MAX)
        return "bad_worker_id";
    if (!isfinite(f->lon) || !isfinite(f->lat) || f->lon < -180 || f->lon > 180 || f->lat < -90 ||
        f->lat > 90)
        return "bad_coordinates";
    if (!isnan(f->accuracy_m) && !(f->accuracy_m >= 0 && f->accuracy_m <= 1e7))
        return "bad_accuracy";
    if (f->at_ms > latest) return "future";
    if (f->at_ms < earliest) return "too_old";
    return NULL;
}

static int step_changes(fix_job *j, sqlite3_stmt *st, int *changed)
{
    int s = sqlite3_step(st);
    sqlite3_reset(st);
    if (s != SQLITE_DONE) return wg_fail_sql(j->ctx, "cannot store fix");
    *changed = sqlite3_changes(j->ctx->db) > 0;
    return WG_OK;
}

/* Inserts fix i (checked). Stored: outcome left for the position pass (marked CURRENT for now);
 * not stored: a duplicate, or no active worker of that id. */
static int insert_fix(fix_job *j, size_t i)
{
    const wg_fix *f = &j->fixes[i];
    int known_active = 0, fresh = 0;
    uint32_t si = NO_SLOT;
    if (j->idx) {
        if (wg_pi_find_locked(j->idx, f->worker_id, &si) == WG_OK) {
            int where = wg_pi_may_hold_at_locked(j->idx, si, f->at_ms, &known_active);
            int dup = where != WG_PI_NEW && wg_pi_inbox_has_at_locked(j->idx, si, f->at_ms);
            if (dup && known_active == 1) {
                j->res[i] = (wg_fix_result){WG_FIX_DUPLICATE, NULL};
                return WG_OK;
            }
            /* new for sure: the track's key need not be searched (a repeat of an inactive
             * worker's fix goes to the store, which tells why it is refused) */
            fresh = where == WG_PI_NEW || (where == WG_PI_KEYS && !dup);
        } else {
            /* registered by another process since the last sync: the index learns it (as
             * stored before this batch) before its first fix of the batch is stored */
            int rc = refresh_index(j->ctx, j->idx, f->worker_id);
            if (rc != WG_OK && rc != WG_ENOTFOUND) return rc;
            if (wg_pi_find_locked(j->idx, f->worker_id, &si) != WG_OK) si = NO_SLOT;
        }
        j->si[i] = si;
    }
    /* a new fix of a worker known active is one plain row, stored with the batch's others */
    if (fresh && known_active == 1) {
        j->plain[j->nplain++] =
            (wg_pi_row){f->worker_id, f->at_ms, j->recv[i], f->lon, f->lat, f->accuracy_m};
        j->res[i] = (wg_fix_result){WG_FIX_CURRENT, NULL};
        if (wg_pi_stored_at_locked(j->idx, si, f, j->recv[i]) != WG_OK)
            return wg_fail(j->ctx, WG_ENOMEM, "position index: out of memory");
        return WG_OK;
    }
    sqlite3_stmt *ins = fresh ? j->ins_new : j->ins;
    sqlite3_bind_text(ins, 1, f->worker_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 2, f->at_ms);
    sqlite3_bind_double(ins, 3, f->lon);
    sqlite3_bind_double(ins, 4, f->lat);
    if (isnan(f->accuracy_m))
        sqlite3_bind_null(ins, 5);
    else
        sqlite3_bind_double(ins, 5, f->accuracy_m);
    sqlite3_bind_int64(ins, 6, j->recv[i]);
    sqlite3_bind_int(ins, 7, known_active == 1);
    int took = 0, rc = step_changes(j, ins, &took);
    if (rc != WG_OK || took) {
        j->res[i] = (wg_fix_result){WG_FIX_CURRENT, NULL};
        if (rc == WG_OK && si != NO_SLOT &&
            wg_pi_stored_at_locked(j->idx, si, f, j->recv[i]) != WG_OK)
            rc = wg_fail(j->ctx, WG_ENOMEM, "position index: out of memory");
        return rc;
    }
    sqlite3_bind_text(j->why, 1, f->worker_id, -1, SQLITE_STATIC);
    int s = sqlite3_step(j->why);
    int active = s == SQLITE_ROW ? sqlite3_column_int(j->why, 0) : -1;
    sqlite3_reset(j->why);
    if (s != SQLITE_ROW && s != SQLITE_DONE) return wg_fail_sql(j->ctx, "cannot read worker");
    if (active == 1)
        j->res[i] = (wg_fix_result){WG_FIX_DUPLICATE, NULL};
    else
        j->res[i] =
            (wg_fix_result){WG_FIX_REJECTED, active == 0 ? "deregistered" : "unknown_worker"};
    return WG_OK;
}

/* A stored fix in the position pass: sorted by worker (its slot, with an index), then batch
 * order. */
typedef struct fix_ref {
    const char *worker_id;
    uint32_t si;
    size_t i;
} fix_ref;

/* The order of two fixes' workers (0: the same worker). */
static int worker_cmp(const fix_ref *x, const fix_ref *y)
{
    int c = (x->si > y->si) - (x->si < y->si);
    return c || x->si != NO_SLOT ? c : strcmp(x->worker_id, y->worker_id);
}

static int by_worker(const void *a, const void *b)
{
    const fix_ref *x = a, *y = b;
    int c = worker_cmp(x, y);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* The newest fix stored before this batch for worker id (slot si; INT64_MIN: none). */
static int stored_newest(fix_job *j, const char *id, uint32_t si, int64_t *newest)
{
    int active;
    int64_t stored;
    *newest = INT64_MIN;
    if (j->idx) {
        if (si != NO_SLOT) wg_pi_known_at_locked(j->idx, si, &active, newest, &stored);
        return WG_OK;
    }
    sqlite3_bind_text(j->seen, 1, id, -1, SQLITE_STATIC);
    int s = sqlite3_step(j->seen);
    if (s == SQLITE_ROW && sqlite3_column_type(j->seen, 0) != SQLITE_NULL)
        *newest = sqlite3_column_int64(j->seen, 0);
    sqlite3_reset(j->seen);
    return s == SQLITE_ROW || s == SQLITE_DONE ? WG_OK : wg_fail_sql(j->ctx, "cannot read worker");
}

/* The stored fixes, worker by worker, in batch order within a worker: current when newer than
 * everything stored before (and earlier in the batch), else out of order. *last[i] is set for
 * the fix that is the worker's position after the batch (for the index). */
static int position_pass(fix_job *j, size_t n, unsigned char *last)
{
    fix_ref *order = malloc((n ? n : 1) * sizeof *order);
    size_t m = 0;
    if (!order) return wg_fail(j->ctx, WG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (j->res[i].outcome == WG_FIX_CURRENT)
            order[m++] = (fix_ref){j->fixes[i].worker_id, j->idx ? j->si[i] : NO_SLOT, i};
    qsort(order, m, sizeof *order, by_worker);
    int rc = WG_OK;
    for (size_t g = 0; rc == WG_OK && g < m;) {
        size_t e = g + 1;
        while (e < m && worker_cmp(&order[e], &order[g]) == 0)
            e++;
        int64_t newest;
        rc = stored_newest(j, order[g].worker_id, order[g].si, &newest);
        size_t top = SIZE_MAX;
        for (size_t k = g; rc == WG_OK && k < e; k++) {
            size_t i = order[k].i;
            if (j->fixes[i].at_ms > newest) {
                newest = j->fixes[i].at_ms;
                top = i;
            } else {
                j->res[i].outcome = WG_FIX_TRACK;
            }
        }
        if (top != SIZE_MAX) last[top] = 1;
        g = e;
    }
    free(order);
    return rc;
}

/* A worker's position from a fix (?1 id, ?2 lon, ?3 lat, ?4 time), when newer than its own. */
#define MOVE_WORKER_SQL                                                                            \
    "UPDATE workers SET lon = ?2, lat = ?3, seen_ms = ?4 WHERE id = ?1"                            \
    " AND (seen_ms IS NULL OR seen_ms < ?4)"

/* Runs MOVE_WORKER_SQL (st) for one worker. */
static int move_worker(wg_ctx *ctx, sqlite3_stmt *st, const char *id, double lon, double lat,
                       int64_t at_ms)
{
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, lon);
    sqlite3_bind_double(st, 3, lat);
    sqlite3_bind_int64(st, 4, at_ms);
    int s = sqlite3_step(st);
    sqlite3_reset(st);
    return s == SQLITE_DONE ? WG_OK : wg_fail_sql(ctx, "cannot move worker");
}

/* The store's count of merges that moved fixes (schema version 6). */
#define MERGES_SQL "SELECT CAST(value AS INTEGER) FROM wg_meta WHERE key = 'position_merges'"

/* Empties the inbox once its fixes are moved (*moved, may be NULL: how many it held) and, when
 * it held any, counts the merge in wg_meta; *merges gets the count. */
static int empty_inbox(wg_ctx *ctx, size_t *moved, int64_t *merges)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "DELETE FROM position_inbox", &st);
    if (rc != WG_OK) return rc;
    int64_t n = 0;
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = wg_fail_sql(ctx, "cannot empty the position inbox");
    else
        n = sqlite3_changes64(ctx->db);
    sqlite3_finalize(st);
    if (rc == WG_OK && n > 0)
        rc = wg_exec(ctx, "INSERT INTO wg_meta(key, value) VALUES ('position_merges', '1')"
                          " ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1");
    if (rc == WG_OK) rc = wg_query_i64(ctx, MERGES_SQL, merges);
    if (rc == WG_OK && moved) *moved = (size_t)n;
    return rc;
}

/* Moves the inbox into the track and the workers' positions (inside the caller's transaction):
 * SQLite reads the inbox and sorts it by worker. *moved (may be NULL) gets the number of fixes
 * moved, *merges the store's merge count after. */
static int merge_inbox(wg_ctx *ctx, size_t *moved, int64_t *merges)
{
    int rc = wg_exec(ctx, "INSERT OR IGNORE INTO worker_positions(worker_id, at_ms, lon, lat, accuracy_m,"
                          " received_ms)"
                          " SELECT worker_id, at_ms, lon, lat, accuracy_m, received_ms FROM position_inbox"
                          " WHERE worker_id IN (SELECT id FROM workers) ORDER BY worker_id, at_ms;"
                          "UPDATE workers SET lon = n.lon, lat = n.lat, seen_ms = n.at_ms FROM"
                          " (SELECT worker_id, lon, lat, max(at_ms) AS at_ms FROM position_inbox"
                          "  GROUP BY worker_id) AS n"
                          " WHERE workers.id = n.worker_id AND (workers.seen_ms IS NULL OR"
                          " workers.seen_ms < n.at_ms);");
    return rc == WG_OK ? empty_inbox(ctx, moved, merges) : rc;
}

/* The same from the index's copy of the inbox, already sorted: WG_ENOTFOUND, with nothing done,
 * when the inbox is not that copy (another process merged it or wrote to it since this index's
 * last merge; or the index has no copy). */
static int merge_copy(wg_ctx *ctx, wg_posindex *idx, size_t *moved, int64_t *merges)
{
    wg_pi_row *rows;
    size_t n;
    int64_t seen, count = 0, now = 0;
    if (wg_pi_inbox_rows_locked(idx, &rows, &n, &seen) != WG_OK) return WG_ENOTFOUND;
    int rc = wg_query_i64(ctx, "SELECT count(*) FROM position_inbox", &count);
    if (rc == WG_OK) rc = wg_query_i64(ctx, MERGES_SQL, &now);
    /* fixes leave the inbox only by a merge, which counts itself: the same count means every
     * fix this index put there since its last merge is still there, and as many rows means
     * there is no other */
    if (rc == WG_OK && (count != (int64_t)n || now != seen)) rc = WG_ENOTFOUND;
    if (rc == WG_OK && n)
        rc = wg_pi_rows_exec(
            ctx,
            "INSERT OR IGNORE INTO worker_positions(worker_id, at_ms, lon, lat,"
            " accuracy_m, received_ms) SELECT worker_id, at_ms, lon, lat, accuracy_m,"
            " received_ms FROM wg_pi_rows WHERE worker_id IN (SELECT id FROM workers)",
            rows, n);
    sqlite3_stmt *mv = NULL;
    if (rc == WG_OK && n) rc = wg_prepare(ctx, MOVE_WORKER_SQL, &mv);
    /* each worker's last row is its newest (its ids are one pointer, the index's) */
    for (size_t k = 0; rc == WG_OK && k < n; k++)
        if (k + 1 == n || rows[k + 1].worker_id != rows[k].worker_id)
            rc = move_worker(ctx, mv, rows[k].worker_id, rows[k].lon, rows[k].lat, rows[k].at_ms);
    sqlite3_finalize(mv);
    free(rows);
    return rc == WG_OK ? empty_inbox(ctx, moved, merges) : rc;
}

int wg_positions_merge(wg_ctx *ctx, wg_posindex *idx, size_t *moved)
{
    if (moved) *moved = 0;
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    if (idx) wg_pi_lock(idx);
    /* The merge checks that every fix's worker exists (WHERE worker_id IN workers), so the
     * track's foreign key need not be checked row by row (half the cost of the insert); the
     * pragma only takes effect outside a transaction, as here. */
    sqlite3_db_config(ctx->db, SQLITE_DBCONFIG_ENABLE_FKEY, 0, (int *)NULL);
    int64_t merges = 0;
    int presorted = 0, rc = wg_begin(ctx);
    if (rc == WG_OK && idx) {
        rc = merge_copy(ctx, idx, moved, &merges);
        presorted = rc == WG_OK;
    }
    if (!presorted && (rc == WG_OK || rc == WG_ENOTFOUND)) rc = merge_inbox(ctx, moved, &merges);
    if (rc == WG_OK) rc = wg_commit(ctx);
    if (rc != WG_OK) {
        wg_rollback(ctx);
        if (moved) *moved = 0;
    }
    sqlite3_db_config(ctx->db, SQLITE_DBCONFIG_ENABLE_FKEY, 1, (int *)NULL);
    /* all moved, by this or an earlier merge */
    if (rc == WG_OK && idx) wg_pi_merged_locked(idx, merges, presorted);
    if (idx) wg_pi_unlock(idx);
    return rc;
}

/* A fix's columns from the bound values, taken if its worker is active (?7: the index holds it
 * as active). */
#define FIX_ROW                                                                                    \
    "(worker_id, at_ms, lon, lat, accuracy_m, received_ms) SELECT ?1, ?2, ?3, ?4, ?5, ?6"          \
    " WHERE (?7 OR EXISTS (SELECT 1 FROM workers WHERE id = ?1 AND active = 1))"

/* The statements of a batch. With an index the fixes go to the inbox (ins: checked against
 * the track's key; ins_new: newer than anything stored); without, to the track itself, whose
 * key drops duplicates, and move updates the workers table. */
static int fix_statements(fix_job *j)
{
    int rc;
    if (j->idx) {
        rc = wg_prepare(j->ctx,
                        "INSERT INTO position_inbox" FIX_ROW
                        " AND NOT EXISTS (SELECT 1 FROM worker_positions WHERE worker_id = ?1 AND at_ms = ?2)",
                        &j->ins);
        if (rc == WG_OK) rc = wg_prepare(j->ctx, "INSERT INTO position_inbox" FIX_ROW, &j->ins_new);
    } else {
        rc = wg_prepare(j->ctx, "INSERT OR IGNORE INTO worker_positions" FIX_ROW, &j->ins);
        if (rc == WG_OK) rc = wg_prepare(j->ctx, MOVE_WORKER_SQL, &j->move);
    }
    if (rc == WG_OK) rc = wg_prepare(j->ctx, "SELECT active FROM workers WHERE id = ?", &j->why);
    if (rc == WG_OK) rc = wg_prepare(j->ctx, "SELECT seen_ms FROM workers WHERE id = ?", &j->seen);
    return rc;
}

/* With an index: the plain rows (one INSERT of many rows costs less than a statement a row;
 * the inbox's order is only its arrival order, which no reader relies on). */
static int store_plain(fix_job *j)
{
    if (!j->nplain) return WG_OK;
    return wg_pi_rows_exec(
        j->ctx,
        "INSERT INTO position_inbox(worker_id, at_ms, lon, lat, accuracy_m, received_ms)"
        " SELECT worker_id, at_ms, lon, lat, accuracy_m, received_ms FROM wg_pi_rows",
        j->plain, j->nplain);
}

/* Without an index: the workers' positions from the batch (last[i]: fix i is its worker's
 * newest). */
static int move_workers(fix_job *j, size_t n, const unsigned char *last)
{
    int rc = WG_OK;
    for (size_t i = 0; rc == WG_OK && i < n; i++)
        if (last[i])
            rc = move_worker(j->ctx, j->move, j->fixes[i].worker_id, j->fixes[i].lon,
                             j->fixes[i].lat, j->fixes[i].at_ms);
    return rc;
}

/* Checks every fix of the batches against its own batch's policy; pending fixes are marked
 * CURRENT with reason "" (insert_fix decides them). */
static void fix_faults(const wg_fix_batch *b, size_t nb, wg_fix_result *res, int64_t *recv)
{
    size_t k = 0;
    int64_t clock = 0;
    for (size_t bi = 0; bi < nb; bi++) {
        wg_track_policy p = {0};
        if (b[bi].pol) p = *b[bi].pol;
        if (!p.now_ms) p.now_ms = clock ? clock : (clock = clock_ms());
        int64_t latest = p.now_ms + (p.max_future_ms > 0 ? p.max_future_ms : WG_FIX_FUTURE_MS);
        int64_t earliest = p.now_ms - (p.retention_ms > 0 ? p.retention_ms : WG_TRACK_RETENTION_MS);
        for (size_t i = 0; i < b[bi].n; i++, k++) {
            const char *fault = fix_fault(earliest, latest, &b[bi].fixes[i]);
            res[k] = fault ? (wg_fix_result){WG_FIX_REJECTED, fault} : (wg_fix_result){WG_FIX_CURRENT, ""};
            recv[k] = p.now_ms;
        }
    }
}

int wg_positions_add_batches(wg_ctx *ctx, wg_posindex *idx, const wg_fix_batch *b, size_t nb)
{
    size_t n = 0;
    for (size_t bi = 0; bi < nb; bi++) {
        n += b[bi].n;
        if (b[bi].counts) memset(b[bi].counts, 0, sizeof *b[bi].counts);
    }
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    /* one batch is used in place; several are laid end to end: their fixes are decided in
     * that order, as if they came one after the other */
    int joined = nb != 1 || !b[0].results;
    wg_fix *copy = nb != 1 ? malloc((n ? n : 1) * sizeof *copy) : NULL;
    const wg_fix *fixes = nb != 1 ? copy : b[0].fixes;
    wg_fix_result *res = joined ? malloc((n ? n : 1) * sizeof *res) : b[0].results;
    int64_t *recv = malloc((n ? n : 1) * sizeof *recv);
    unsigned char *last = calloc(n ? n : 1, 1);
    uint32_t *si = idx ? malloc((n ? n : 1) * sizeof *si) : NULL;
    wg_pi_row *plain = idx ? malloc((n ? n : 1) * sizeof *plain) : NULL;
    if ((nb != 1 && !copy) || !res || !recv || !last || (idx && (!si || !plain))) {
        free(copy), free(recv), free(last), free(si), free(plain);
        if (joined) free(res);
        return wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    for (size_t bi = 0, k = 0; copy && bi < nb; k += b[bi].n, bi++)
        if (b[bi].n) memcpy(copy + k, b[bi].fixes, b[bi].n * sizeof *copy);
    fix_faults(b, nb, res, recv);
    for (size_t i = 0; si && i < n; i++)
        si[i] = NO_SLOT;
    fix_job j = {ctx, idx, fixes, res, NULL, NULL, NULL, NULL, NULL, recv, si, plain, 0};
    if (idx) wg_pi_lock(idx);
    int rc = wg_begin(ctx);
    int64_t merges;
    if (rc == WG_OK && !idx)
        rc = merge_inbox(ctx, NULL, &merges); /* the workers table is then exact */
    if (rc == WG_OK) rc = fix_statements(&j);
    for (size_t i = 0; rc == WG_OK && i < n; i++)
        if (res[i].reason && !*res[i].reason) rc = insert_fix(&j, i);
    if (rc == WG_OK) rc = store_plain(&j);
    if (rc == WG_OK) rc = position_pass(&j, n, last);
    if (rc == WG_OK && !idx) rc = move_workers(&j, n, last);
    if (rc == WG_OK && idx && wg_pi_batch_ready_locked(idx) != WG_OK)
        rc = wg_fail(ctx, WG_ENOMEM, "position index: out of memory");
    sqlite3_finalize(j.ins);
    sqlite3_finalize(j.ins_new);
    sqlite3_finalize(j.why);
    sqlite3_finalize(j.seen);
    sqlite3_finalize(j.move);
    if (rc == WG_OK) rc = wg_commit(ctx);
    if (rc != WG_OK) wg_rollback(ctx);
    if (idx) wg_pi_batch_end_locked(idx, rc == WG_OK);
    for (size_t i = 0; rc == WG_OK && idx && i < n; i++) {
        if (!last[i]) continue;
        int moved = si[i] != NO_SLOT ? wg_pi_move_at_locked(idx, si[i], fixes[i].lon, fixes[i].lat,
                                                            fixes[i].at_ms)
                                     : wg_pi_move_locked(idx, fixes[i].worker_id, fixes[i].lon,
                                                         fixes[i].lat, fixes[i].at_ms);
        if (moved == WG_ENOTFOUND)
            rc = refresh_index(ctx, idx, fixes[i].worker_id); /* registered elsewhere */
        else if (moved < 0)
            rc = wg_fail(ctx, moved, "position index: out of memory");
    }
    if (idx) wg_pi_unlock(idx);
    for (size_t bi = 0, k = 0; rc == WG_OK && bi < nb; bi++) {
        wg_fix_counts *c = b[bi].counts;
        for (size_t i = 0; i < b[bi].n; i++, k++) {
            if (b[bi].results) b[bi].results[i] = res[k];
            if (c) {
                size_t *by[] = {&c->current, &c->track, &c->duplicate, &c->rejected};
                (*by[res[k].outcome])++;
            }
        }
    }
    free(copy), free(recv), free(last), free(si), free(plain);
    if (joined) free(res);
    return rc;
}

int wg_positions_add(wg_ctx *ctx, wg_posindex *idx, const wg_fix *fixes, size_t n,
                     const wg_track_policy *pol, wg_fix_result *results, wg_fix_counts *counts)
{
    const wg_fix_batch b = {fixes, n, pol, results, counts};
    return wg_positions_add_batches(ctx, idx, &b, 1);
}

/* ---------------------------------------------------------------- the track */

int wg_track_get(wg_ctx *ctx, const char *worker_id, int64_t from_ms, int64_t to_ms, size_t limit,
                 wg_track_point **out, size_t *n, int *more)
{
    *out = NULL;
    *n = 0;
    if (more) *more = 0;
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    int rc = stored_active(ctx, worker_id ? worker_id : "");
    if (rc < 0) return rc;
    if (!limit) limit = TRACK_LIMIT_DEFAULT;
    sqlite3_stmt *st;
    rc = wg_prepare(ctx,
                    "SELECT at_ms, lon, lat, accuracy_m, received_ms FROM worker_positions"
                    " WHERE worker_id = ?1 AND at_ms BETWEEN ?2 AND ?3"
                    " UNION ALL SELECT at_ms, lon, lat, accuracy_m, received_ms FROM position_inbox"
                    " WHERE worker_id = ?1 AND at_ms BETWEEN ?2 AND ?3 ORDER BY 1 LIMIT ?4",
                    &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_text(st, 1, worker_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from_ms);
    sqlite3_bind_int64(st, 3, to_ms);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)limit + 1);
    wg_track_point *v = NULL;
    size_t cap = 0, k = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (k == limit) {
            if (more) *more = 1;
            continue;
        }
        if (wg_grow((void **)&v, &cap, k + 1, sizeof *v) != WG_OK) {
            rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
            break;
        }
        wg_track_point *p = &v[k++];
        p->at_ms = sqlite3_column_int64(st, 0);
        p->lon = sqlite3_column_double(st, 1);
        p->lat = sqlite3_column_double(st, 2);
        p->accuracy_m =
            sqlite3_column_type(st, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 3);
        p->received_ms = sqlite3_column_int64(st, 4);
    }
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read track");
    sqlite3_finalize(st);
    if (rc != WG_OK) {
        free(v);
        if (more) *more = 0;
        return rc;
    }
    *out = v;
    *n = k;
    return WG_OK;
}

/* Every worker id (they key the fixes), for pruning worker by worker. */
static int all_ids(wg_ctx *ctx, char (**ids)[WG_WORKER_ID_MAX + 1], size_t *n)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "SELECT id FROM workers ORDER BY id", &st);
    size_t cap = 0;
    int s = SQLITE_DONE;
    while (rc == WG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (wg_grow((void **)ids, &cap, *n + 1, sizeof **ids) != WG_OK) {
            rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
            break;
        }
        text_col(st, 0, (*ids)[(*n)++], sizeof **ids);
    }
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot list workers");
    sqlite3_finalize(st);
    return rc;
}

int wg_track_prune(wg_ctx *ctx, int64_t before_ms, size_t *deleted)
{
    if (deleted) *deleted = 0;
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    char(*ids)[WG_WORKER_ID_MAX + 1];
    size_t n, gone = 0;
    int rc = wg_positions_merge(ctx, NULL, NULL); /* then the track holds every fix */
    if (rc != WG_OK) return rc;
    rc = all_ids(ctx, &ids, &n);
    sqlite3_stmt *del = NULL;
    if (rc == WG_OK)
        rc =
            wg_prepare(ctx, "DELETE FROM worker_positions WHERE worker_id = ? AND at_ms < ?", &del);
    for (size_t i = 0; rc == WG_OK && i < n; i += PRUNE_CHUNK) {
        rc = wg_begin(ctx);
        for (size_t k = i; rc == WG_OK && k < n && k < i + PRUNE_CHUNK; k++) {
            sqlite3_bind_text(del, 1, ids[k], -1, SQLITE_STATIC);
            sqlite3_bind_int64(del, 2, before_ms);
            if (sqlite3_step(del) != SQLITE_DONE)
                rc = wg_fail_sql(ctx, "cannot prune track");
            else
                gone += (size_t)sqlite3_changes(ctx->db);
            sqlite3_reset(del);
        }
        if (rc == WG_OK) rc = wg_commit(ctx);
        if (rc != WG_OK) wg_rollback(ctx);
    }
    sqlite3_finalize(del);
    free(ids);
    if (deleted) *deleted = gone;
    return rc;
}

/* ---------------------------------------------------------------- JSON */

typedef struct jbuf {
    char *p;
    size_t n, cap;
    int failed;
} jbuf;

static void put(jbuf *b, const char *s, size_t m)
{
    if (b->failed) return;
    if (b->n + m + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        while (cap < b->n + m + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, m);
    b->n += m;
    b->p[b->n] = '\0';
}

static void puts_(jbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Writes v as printf's "%.*d" would, width digits (v >= 0); returns the end. */
static char *digits(char *p, int64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

static void putf(jbuf *b, const char *fmt, double v)
{
    char num[64];
    int m = snprintf(num, sizeof num, fmt, v);
    put(b, num, (size_t)m);
}

/* Writes v in decimal at p (at most 20 characters); returns the end. */
static char *decimal(char *p, uint64_t v)
{
    char rev[20];
    int n = 0;
    do rev[n++] = (char)('0' + v % 10), v /= 10;
    while (v);
    while (n) *p++ = rev[--n];
    return p;
}

/* prefix then v in decimal. */
static void put_i64(jbuf *b, const char *prefix, int64_t v)
{
    char num[24], *p = num;
    if (v < 0) *p++ = '-';
    p = decimal(p, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
    puts_(b, prefix);
    put(b, num, (size_t)(p - num));
}

static const double P10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13};

/* a * 10^dec rounded to an integer, as the exact decimal expansion of a would round; 0 if the
 * product lies too near a tie (x.5) for the binary product to tell, as printf would. */
static int scaled(double a, int dec, double tol, int64_t *n)
{
    double x = a * P10[dec], f = x - floor(x);
    if (fabs(f - 0.5) < tol) return 0;
    *n = llround(x);
    return 1;
}

/* prefix then v as "%.10g" prints it, without printf's exact decimal conversion for the usual
 * magnitudes (coordinates, metres): v scaled to ten significant digits and rounded in binary,
 * which can differ from printf only within a few ulps of a rounding tie in the tenth digit;
 * those go to printf. Nearest answers print several numbers each, tens of thousands a second.
 * test_json_numbers compares it with printf. */
static void put_g10(jbuf *b, const char *prefix, double v)
{
    double a = fabs(v);
    int e = a >= 1e-4 && a < 1e9 ? (int)floor(log10(a)) : 0; /* -4 .. 8 */
    int dec = 9 - e;                                         /* 1 .. 13 decimals */
    int64_t n = 0;
    int ok = a >= 1e-4 && a < 1e9 && scaled(a, dec, 1e-5, &n);
    if (ok && n >= 10000000000LL) ok = dec > 0 && scaled(a, --dec, 1e-5, &n); /* 9.9999999999x */
    else if (ok && n < 1000000000LL) ok = dec < 13 && scaled(a, ++dec, 1e-5, &n); /* e too high */
    if (!ok || n >= 10000000000LL || n < 1000000000LL) { /* zero, tiny, huge, NaN, ties: printf */
        char fmt[64];
        snprintf(fmt, sizeof fmt, "%s%%.10g", prefix);
        putf(b, fmt, v);
        return;
    }
    int64_t ip = n / (int64_t)P10[dec], fp = n % (int64_t)P10[dec];
    char num[48], *p = num;
    if (v < 0) *p++ = '-';
    p = decimal(p, (uint64_t)ip);
    int fd = dec;
    while (fd > 0 && fp % 10 == 0) fp /= 10, fd--; /* %g drops trailing zeros */
    if (fd > 0) *p++ = '.', p = digits(p, fp, fd);
    puts_(b, prefix);
    put(b, num, (size_t)(p - num));
}

/* prefix then v >= 0 as "%.3f" prints it (rounded in binary: see put_g10). */
static void put_f3(jbuf *b, const char *prefix, double v)
{
    int64_t n = 0;
    if (!(v >= 0 && v < 1e9) || !scaled(v, 3, 1e-3, &n)) {
        char fmt[64];
        snprintf(fmt, sizeof fmt, "%s%%.3f", prefix);
        putf(b, fmt, v);
        return;
    }
    char num[32], *p = decimal(num, (uint64_t)(n / 1000));
    *p++ = '.', p = digits(p, n % 1000, 3);
    puts_(b, prefix);
    put(b, num, (size_t)(p - num));
}

/* A JSON string (or null): quotes, backslashes and control characters escaped; UTF-8 passes. */
static void put_str(jbuf *b, const char *s)
{
    if (!s) {
        puts_(b, "null");
        return;
    }
    put(b, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
        put(b, run, (size_t)(s - run));
        char esc[8];
        if (ch == '"' || ch == '\\')
            snprintf(esc, sizeof esc, "\\%c", ch);
        else
            snprintf(esc, sizeof esc, "\\u%04x", ch);
        puts_(b, esc);
        run = s + 1;
    }
    put(b, run, (size_t)(s - run));
    put(b, "\"", 1);
}

void wg_ms_to_iso(int64_t ms, char out[32])
{
    int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int frac = (int)(ms - sec * 1000);
    int64_t day = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400), tod = sec - day * 86400;
    int y, mo, d;
    wg_civil_from_days(day, &y, &mo, &d);
    if (y >= 0 && y <= 9999) { /* the common case without gmtime's lock (many answers a second) */
        char *p = digits(out, y, 4);
        *p++ = '-', p = digits(p, mo, 2), *p++ = '-', p = digits(p, d, 2), *p++ = 'T';
        p = digits(p, tod / 3600, 2), *p++ = ':', p = digits(p, tod / 60 % 60, 2), *p++ = ':';
        p = digits(p, tod % 60, 2), *p++ = '.', p = digits(p, frac, 3), *p++ = 'Z', *p = '\0';
        return;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, 32, "invalid");
        return;
    }
    char head[24];
    strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", head, frac);
}

static void put_seen(jbuf *b, int64_t ms)
{
    char iso[32];
    if (!ms) {
        puts_(b, "null");
        return;
    }
    wg_ms_to_iso(ms, iso);
    put_str(b, iso);
}

/* The unit of a level with this code in lk's generation (units are ordered by level, then
 * code), or NULL. */
static const wg_unit *unit_by_code(const wg_lookup *lk, int level, const char *code)
{
    if (!lk || !code) return NULL;
    size_t lo = 0;
    for (int l = 1; l < level; l++)
        lo += wg_lookup_count(lk, l);
    size_t hi = lo + wg_lookup_count(lk, level);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const wg_unit *u = wg_lookup_unit(lk, (int32_t)mid);
        int c = strcmp(u->code, code);
        if (c == 0) return u;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* {"code","name"} of a code and its unit u (NULL: no name known), or null without a code. */
static void put_code_name(jbuf *b, const char *code, const wg_unit *u)
{
    if (!code) {
        puts_(b, "null");
        return;
    }
    puts_(b, "{\"code\":");
    put_str(b, code);
    puts_(b, ",\"name\":");
    put_str(b, u ? u->name : NULL);
    puts_(b, "}");
}

/* The same for a code of the level (name from lk when it knows the unit). */
static void put_unit(jbuf *b, const wg_lookup *lk, int level, const char *code)
{
    put_code_name(b, code, unit_by_code(lk, level, code));
}

static void put_near(jbuf *b, const wg_lookup *lk, wg_ctx *ctx, const wg_near *w, unsigned flags)
{
    puts_(b, "{\"id\":");
    put_str(b, w->id);
    puts_(b, ",\"name\":");
    put_str(b, w->name);
    if (flags & WG_NEAR_PERSONAL) {
        puts_(b, ",\"phone\":");
        put_str(b, w->phone);
    }
    puts_(b, ",\"role\":");
    put_str(b, wg_worker_role_name(w->role));
    puts_(b, w->on_duty ? ",\"on_duty\":true" : ",\"on_duty\":false");
    put_g10(b, ",\"lon\":", w->lon);
    put_g10(b, ",\"lat\":", w->lat);
    puts_(b, ",\"seen_at\":");
    put_seen(b, w->seen_ms);
    put_f3(b, ",\"distance_m\":", w->dist_m);
    if (flags & WG_NEAR_GCJ02) {
        double glon, glat;
        wg_wgs84_to_gcj02(w->lon, w->lat, &glon, &glat);
        putf(b, ",\"gcj02\":{\"lon\":%.10g", glon);
        putf(b, ",\"lat\":%.10g}", glat);
    }
    puts_(b, ",\"home_grid\":");
    put_unit(b, lk, WG_LEVEL_GRID, w->home_grid);
    puts_(b, ",\"community\":");
    put_unit(b, lk, WG_LEVEL_COMMUNITY, w->community);
    puts_(b, ",\"current_grid\":");
    const wg_unit *g =
        lk && ctx ? wg_lookup_unit(lk, wg_lookup_grid(lk, ctx, w->lon, w->lat)) : NULL;
    put_code_name(b, g ? g->code : NULL, g);
    puts_(b, "}");
}

char *wg_nearest_json(const wg_lookup *lk, wg_ctx *ctx, const wg_near_query *q, const wg_near *res,
                      size_t n, unsigned flags)
{
    jbuf b = {0};
    put_g10(&b, "{\"lon\":", q->lon);
    put_g10(&b, ",\"lat\":", q->lat);
    put_i64(&b, ",\"k\":", q->k);
    puts_(&b, ",\"filters\":{\"on_duty\":");
    puts_(&b, q->duty == WG_DUTY_ON ? "true" : q->duty == WG_DUTY_OFF ? "false" : "null");
    puts_(&b, ",\"seen_within_min\":");
    if (q->seen_within_ms > 0)
        putf(&b, "%.10g", q->seen_within_ms / 60000.0);
    else
        puts_(&b, "null");
    puts_(&b, ",\"role\":");
    unsigned roles = q->roles & (WG_WORKER_GRID_WORKER | WG_WORKER_OFFICER);
    put_str(&b, roles == WG_WORKER_GRID_WORKER || roles == WG_WORKER_OFFICER
                    ? wg_worker_role_name((wg_worker_role)roles)
                    : NULL);
    puts_(&b, ",\"grid\":");
    put_str(&b, q->grid);
    puts_(&b, ",\"community\":");
    put_str(&b, q->community);
    puts_(&b, "},\"generation\":");
    if (lk)
        put_i64(&b, "", wg_lookup_generation(lk));
    else
        puts_(&b, "null");
    put_i64(&b, ",\"count\":", (int64_t)n);
    puts_(&b, ",\"workers\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) puts_(&b, ",");
        put_near(&b, lk, ctx, &res[i], flags);
    }
    puts_(&b, "]}");
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

char *wg_worker_json(const wg_worker *w, unsigned flags)
{
    jbuf b = {0};
    puts_(&b, "{\"id\":");
    put_str(&b, w->id);
    puts_(&b, ",\"name\":");
    put_str(&b, w->name);
    if (flags & WG_NEAR_PERSONAL) {
        puts_(&b, ",\"phone\":");
        put_str(&b, w->phone[0] ? w->phone : NULL);
    }
    puts_(&b, ",\"role\":");
    put_str(&b, wg_worker_role_name(w->role));
    puts_(&b, ",\"home_grid\":");
    put_str(&b, w->home_grid[0] ? w->home_grid : NULL);
    puts_(&b, w->on_duty ? ",\"on_duty\":true" : ",\"on_duty\":false");
    puts_(&b, w->active ? ",\"active\":true" : ",\"active\":false");
    if (w->has_position) {
        putf(&b, ",\"lon\":%.10g", w->lon);
        putf(&b, ",\"lat\":%.10g", w->lat);
    } else {
        puts_(&b, ",\"lon\":null,\"lat\":null");
    }
    puts_(&b, ",\"seen_at\":");
    put_seen(&b, w->seen_ms);
    puts_(&b, ",\"seen_ms\":");
    if (w->seen_ms)
        putf(&b, "%.0f", (double)w->seen_ms);
    else
        puts_(&b, "null");
    puts_(&b, "}");
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
