/* Events: filing and the closed loop (see wangge/events.h for the model and the transitions).
 *
 * Filing and every transition are one BEGIN IMMEDIATE transaction each, so two writers (two
 * server threads, the server and a CLI) never interleave a read of an event's status with
 * another's update of it: the second waits for the first and then sees the new status (and is
 * refused with WG_ECONFLICT if its move is no longer allowed, or if it named the status it saw
 * in expect_status and that has changed). */
#include "events_internal.h"
#include "store_schema.h"
#include "wangge/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const STATUS[WG_EV_NSTATUS] = {"reported",   "registered", "cancelled",
                                                  "dispatched", "handled",    "verified",
                                                  "evaluated",  "archived"};
static const char *const ACTION[WG_ACT_COUNT] = {"register", "cancel",    "dispatch", "handle",
                                                 "verify",   "send_back", "evaluate", "archive"};

/* names[i], or NULL when i is not in [0, n). */
static const char *name_at(const char *const *names, int n, int i)
{
    return i >= 0 && i < n ? names[i] : NULL;
}

/* The index of s in names[0..n), or -1 (also for NULL). */
static int name_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

const char *wg_event_status_name(wg_event_status s)
{
    return name_at(STATUS, WG_EV_NSTATUS, (int)s);
}

int wg_event_status_parse(const char *s)
{
    return name_index(STATUS, WG_EV_NSTATUS, s);
}

const char *wg_event_action_name(wg_event_action a)
{
    return name_at(ACTION, WG_ACT_COUNT, (int)a);
}

int wg_event_action_parse(const char *s)
{
    return name_index(ACTION, WG_ACT_COUNT, s);
}

/* The status an action leads to from `from`, or -1 if it is not allowed there. */
static int next_status(wg_event_action a, int from)
{
    switch (a) {
    case WG_ACT_REGISTER:
        return from == WG_EV_REPORTED ? WG_EV_REGISTERED : -1;
    case WG_ACT_CANCEL:
        return from == WG_EV_REPORTED || from == WG_EV_REGISTERED ? WG_EV_CANCELLED : -1;
    case WG_ACT_DISPATCH:
        return from == WG_EV_REGISTERED || from == WG_EV_DISPATCHED ? WG_EV_DISPATCHED : -1;
    case WG_ACT_HANDLE:
        return from == WG_EV_DISPATCHED ? WG_EV_HANDLED : -1;
    case WG_ACT_VERIFY:
        return from == WG_EV_HANDLED ? WG_EV_VERIFIED : -1;
    case WG_ACT_SEND_BACK:
        return from == WG_EV_HANDLED || from == WG_EV_VERIFIED ? WG_EV_DISPATCHED : -1;
    case WG_ACT_EVALUATE:
        return from == WG_EV_VERIFIED ? WG_EV_EVALUATED : -1;
    case WG_ACT_ARCHIVE:
        return from == WG_EV_EVALUATED ? WG_EV_ARCHIVED : -1;
    default:
        return -1;
    }
}

/* What may follow a status, for messages: "register, cancel". */
static void allowed_from(int from, char *out, size_t n)
{
    out[0] = '\0';
    for (int a = 0; a < WG_ACT_COUNT; a++) {
        if (next_status((wg_event_action)a, from) < 0) continue;
        if (out[0]) strncat(out, ", ", n - strlen(out) - 1);
        strncat(out, ACTION[a], n - strlen(out) - 1);
    }
    if (!out[0]) snprintf(out, n, "nothing (the loop is over)");
}

int wg_event_check_time(wg_ctx *ctx, int64_t at_ms, int64_t now_ms, const char *what)
{
    char t[32];
    if (at_ms < WG_TIME_MIN_MS || at_ms >= WG_TIME_MAX_MS)
        return wg_fail(ctx, WG_EDATA, "%s: time outside 2000-01-01 .. 2199-12-31", what);
    if (at_ms > now_ms + WG_EVENT_FUTURE_SLACK_MS) {
        wg_time_format(at_ms, 0, t);
        return wg_fail(ctx, WG_EDATA, "%s: time %s is in the future", what, t);
    }
    return WG_OK;
}

void wg_event_clear(wg_event *e)
{
    if (!e) return;
    free(e->description);
    free(e->photo_url);
    free(e->reporter);
    free(e->source);
    memset(e, 0, sizeof *e);
}

/* ---------------------------------------------------------------- validation */

/* 1 if s is well-formed UTF-8 without control characters other than tab and newlines. */
static int text_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        int n = c < 0x80             ? 0
                : (c & 0xe0) == 0xc0 ? 1
                : (c & 0xf0) == 0xe0 ? 2
                : (c & 0xf8) == 0xf0 ? 3
                                     : -1;
        if (n < 0 || (n == 1 && c < 0xc2) || (n == 3 && c > 0xf4)) return 0;
        if (n == 0 && c < 0x20 && c != '\t' && c != '\n' && c != '\r') return 0;
        if (n == 0 && c == 0x7f) return 0;
        for (int k = 1; k <= n; k++)
            if ((p[k] & 0xc0) != 0x80) return 0;
        if (n == 2 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))) return 0;
        if (n == 3 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))) return 0;
        p += n + 1;
    }
    return 1;
}

static int check_text(wg_ctx *ctx, size_t i, const char *what, const char *s, size_t max)
{
    if (!s) return WG_OK;
    if (strlen(s) > max)
        return wg_fail(ctx, WG_EDATA, "event %zu: %s longer than %zu bytes", i, what, max);
    if (!text_ok(s)) return wg_fail(ctx, WG_EDATA, "event %zu: %s is not UTF-8 text", i, what);
    return WG_OK;
}

static int url_ok(const char *u)
{
    if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) return 0;
    const char *host = strstr(u, "//") + 2;
    if (!*host || *host == '/') return 0;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\') return 0;
    return 1;
}

static int source_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static int check_new(wg_ctx *ctx, size_t i, const wg_event_new *e, int64_t now_ms,
                     sqlite3_stmt *cat)
{
    if (!isfinite(e->lon) || !isfinite(e->lat) || e->lon < -180 || e->lon > 180 || e->lat < -90 ||
        e->lat > 90)
        return wg_fail(
            ctx, WG_EDATA,
            "event %zu: bad coordinates: lon must be within [-180, 180] and lat within [-90, 90]",
            i);
    if (!e->category || strlen(e->category) != 4 || strspn(e->category, "0123456789") != 4)
        return wg_fail(
            ctx, WG_EDATA,
            "event %zu: category must be a 4-digit code (2-digit class + 2-digit subclass)", i);
    sqlite3_reset(cat);
    sqlite3_bind_text(cat, 1, e->category, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(cat);
    if (step == SQLITE_DONE)
        return wg_fail(ctx, WG_EDATA,
                       "event %zu: unknown category '%s' (not in the categories table)", i,
                       e->category);
    if (step != SQLITE_ROW) return wg_fail_sql(ctx, "cannot read categories");
    int rc = check_text(ctx, i, "description", e->description, WG_EVENT_DESC_MAX);
    if (rc == WG_OK) rc = check_text(ctx, i, "reporter", e->reporter, WG_EVENT_REPORTER_MAX);
    if (rc == WG_OK) rc = check_text(ctx, i, "photo_url", e->photo_url, WG_EVENT_URL_MAX);
    if (rc != WG_OK) return rc;
    if (e->photo_url && *e->photo_url && !url_ok(e->photo_url))
        return wg_fail(ctx, WG_EDATA, "event %zu: photo_url is not an http(s) URL", i);
    if (e->source && !source_ok(e->source))
        return wg_fail(ctx, WG_EDATA, "event %zu: source is 1-32 characters of a-z 0-9 _ -", i);
    if (e->actor && (strlen(e->actor) > 128 || !text_ok(e->actor)))
        return wg_fail(ctx, WG_EDATA, "event %zu: actor is not a short text", i);
    char what[32];
    snprintf(what, sizeof what, "event %zu", i);
    return e->at_ms ? wg_event_check_time(ctx, e->at_ms, now_ms, what) : WG_OK;
}

/* ---------------------------------------------------------------- suggestion */

/* The on-duty grid worker of a grid (lowest id), into id; 1 found, 0 none, <0 error. */
static int grid_worker_on_duty(wg_ctx *ctx, sqlite3_stmt *st, const char *grid, char *id, size_t n)
{
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, grid, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        snprintf(id, n, "%s", (const char *)sqlite3_column_text(st, 0));
        return 1;
    }
    return step == SQLITE_DONE ? 0 : wg_fail_sql(ctx, "cannot read workers");
}

int wg_nearest_scan(void *ud, double lon, double lat, char *worker_id, size_t n)
{
    wg_ctx *ctx = ud;
    sqlite3_stmt *st;
    int rc = wg_prepare(
        ctx,
        "SELECT id, lon, lat FROM workers_now WHERE active = 1 AND on_duty = 1 AND lon IS NOT NULL"
        " AND lat IS NOT NULL ORDER BY id",
        &st);
    if (rc != WG_OK) return rc;
    double best = INFINITY;
    int found = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        double s12;
        geod_inverse(&ctx->wgs84, lat, lon, sqlite3_column_double(st, 2),
                     sqlite3_column_double(st, 1), &s12, NULL, NULL);
        if (s12 < best) { /* strictly less: the lowest id wins a tie */
            best = s12;
            snprintf(worker_id, n, "%s", (const char *)sqlite3_column_text(st, 0));
            found = 1;
        }
    }
    if (step != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read workers");
    sqlite3_finalize(st);
    return rc != WG_OK ? rc : found;
}

/* ---------------------------------------------------------------- filing */

typedef struct file_stmts {
    sqlite3_stmt *cat, *worker, *insert, *step, *assign;
} file_stmts;

static void file_stmts_free(file_stmts *s)
{
    sqlite3_finalize(s->cat);
    sqlite3_finalize(s->worker);
    sqlite3_finalize(s->insert);
    sqlite3_finalize(s->step);
    sqlite3_finalize(s->assign);
}

static int file_stmts_prepare(wg_ctx *ctx, file_stmts *s)
{
    int rc = wg_prepare(ctx, "SELECT 1 FROM categories WHERE code = ?", &s->cat);
    if (rc == WG_OK)
        rc = wg_prepare(
            ctx,
            "SELECT id FROM workers WHERE role = 'grid_worker' AND home_grid = ? AND active = 1"
            " AND on_duty = 1 ORDER BY id LIMIT 1",
            &s->worker);
    if (rc == WG_OK)
        rc = wg_prepare(
            ctx,
            "INSERT INTO events(lon, lat, category, reported_at, status, description, photo_url,"
            " reporter, generation, grid_code, outside, assignee, reported_ms, source)"
            " VALUES (?, ?, ?, ?, 'reported', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &s->insert);
    if (rc == WG_OK)
        rc = wg_prepare(
            ctx,
            "INSERT INTO event_steps(event_id, action, from_status, to_status, actor, at_ms, note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            &s->step);
    if (rc == WG_OK)
        rc = wg_prepare(
            ctx,
            "INSERT OR REPLACE INTO assignments(generation, kind, item_id, grid_code, nearest_code,"
            " dist_m) VALUES (?, 'event', ?, ?, ?, ?)",
            &s->assign);
    return rc;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static int add_step(wg_ctx *ctx, sqlite3_stmt *st, int64_t id, const char *action, const char *from,
                    const char *to, const char *actor, int64_t at, const char *note)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, action, -1, SQLITE_STATIC);
    bind_text_or_null(st, 3, from);
    sqlite3_bind_text(st, 4, to, -1, SQLITE_STATIC);
    bind_text_or_null(st, 5, actor);
    sqlite3_bind_int64(st, 6, at);
    bind_text_or_null(st, 7, note);
    return sqlite3_step(st) == SQLITE_DONE ? WG_OK : wg_fail_sql(ctx, "cannot store an event step");
}

static int file_one(wg_ctx *ctx, const wg_lookup *lk, file_stmts *s, const wg_event_new *e,
                    wg_nearest_fn nearest, void *ud, int64_t now_ms, int offset_min, int64_t *id)
{
    int64_t at = e->at_ms ? e->at_ms : now_ms;
    wg_hit h;
    wg_lookup_point(lk, ctx, e->lon, e->lat, &h);
    const wg_unit *g = wg_lookup_unit(lk, h.grid), *near = wg_lookup_unit(lk, h.nearest_grid);
    const wg_unit *home = g ? g : near;
    char who[72] = "", note[160] = "";
    int found = home ? grid_worker_on_duty(ctx, s->worker, home->code, who, sizeof who) : 0;
    if (found == 1)
        snprintf(note, sizeof note, "suggested %s: on-duty grid worker of %s", who, home->code);
    if (found == 0 && nearest) {
        found = nearest(ud, e->lon, e->lat, who, sizeof who);
        if (found == 1) snprintf(note, sizeof note, "suggested %s: nearest on-duty worker", who);
        if (found < 0)
            return wg_fail(ctx, found, "cannot find the nearest worker: %s", wg_errmsg(ctx));
    }
    if (found < 0) return found;
    char when[32];
    wg_time_format(at, offset_min, when);
    sqlite3_stmt *st = s->insert;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_double(st, 1, e->lon);
    sqlite3_bind_double(st, 2, e->lat);
    sqlite3_bind_text(st, 3, e->category, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, when, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 5, e->description);
    bind_text_or_null(st, 6, e->photo_url);
    bind_text_or_null(st, 7, e->reporter);
    sqlite3_bind_int64(st, 8, wg_lookup_generation(lk));
    bind_text_or_null(st, 9, home ? home->code : NULL);
    sqlite3_bind_int(st, 10, g ? 0 : 1);
    bind_text_or_null(st, 11, found == 1 ? who : NULL);
    sqlite3_bind_int64(st, 12, at);
    sqlite3_bind_text(st, 13, e->source ? e->source : "api", -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) return wg_fail_sql(ctx, "cannot store an event");
    *id = sqlite3_last_insert_rowid(ctx->db);
    if (!g && near) {
        size_t len = strlen(note);
        snprintf(note + len, sizeof note - len, "%soutside every grid: %.0f m from %s",
                 len ? "; " : "", h.dist_m, near->code);
    }
    int rc =
        add_step(ctx, s->step, *id, "report", NULL, STATUS[WG_EV_REPORTED], e->actor, at, note);
    if (rc != WG_OK) return rc;
    st = s->assign;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_int64(st, 1, wg_lookup_generation(lk));
    sqlite3_bind_int64(st, 2, *id);
    bind_text_or_null(st, 3, g ? g->code : NULL);
    bind_text_or_null(st, 4, !g && near ? near->code : NULL);
    if (!g && near) sqlite3_bind_double(st, 5, h.dist_m);
    return sqlite3_step(st) == SQLITE_DONE ? WG_OK
                                           : wg_fail_sql(ctx, "cannot store an event's assignment");
}

/* Events are placed in the active generation, read inside the filing transaction so no
 * publish can come in between. lk is the caller's lookup of the generation it believes active;
 * when a publish has made another one active since (a server's index from before a publish
 * another process has just committed), that generation's lookup is loaded here, in the
 * transaction, and *fresh owns it. Filing with lk would file the events where no reader looks:
 * no assignment row in the active generation (wangge check: unassigned). */
static int active_lookup(wg_ctx *ctx, const wg_lookup *lk, wg_lookup **fresh, const wg_lookup **use)
{
    *fresh = NULL;
    *use = lk;
    int64_t active = 0;
    int rc = wg_gen_active(ctx, &active);
    if (rc != WG_OK || active == wg_lookup_generation(lk)) return rc;
    if (active == 0) return wg_fail(ctx, WG_ENOTFOUND, "no active generation to file events in");
    rc = wg_lookup_load(ctx, active, fresh);
    *use = *fresh;
    return rc;
}

int wg_events_file(wg_ctx *ctx, const wg_lookup *lk, const wg_event_new *ev, size_t n,
                   wg_nearest_fn nearest, void *ud, int64_t now_ms, int64_t *ids)
{
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    if (!lk) return wg_fail(ctx, WG_EINVAL, "no lookup: events are placed in a generation's grids");
    if (ids)
        for (size_t i = 0; i < n; i++)
            ids[i] = 0;
    wg_calendar *cal = NULL;
    int rc = wg_calendar_load(ctx, &cal);
    if (rc != WG_OK) return rc;
    int offset = wg_calendar_offset_min(cal);
    wg_calendar_free(cal);
    file_stmts s = {0};
    rc = wg_begin(ctx);
    if (rc != WG_OK) return rc;
    wg_lookup *fresh = NULL;
    const wg_lookup *use;
    rc = active_lookup(ctx, lk, &fresh, &use);
    if (rc == WG_OK) rc = file_stmts_prepare(ctx, &s);
    for (size_t i = 0; rc == WG_OK && i < n; i++)
        rc = check_new(ctx, i, &ev[i], now_ms, s.cat);
    for (size_t i = 0; rc == WG_OK && i < n; i++) {
        int64_t id = 0;
        rc = file_one(ctx, use, &s, &ev[i], nearest, ud, now_ms, offset, &id);
        if (ids) ids[i] = id;
    }
    file_stmts_free(&s);
    rc = wg_commit_or_rollback(ctx, rc);
    wg_lookup_free(fresh);
    if (rc != WG_OK && ids)
        for (size_t i = 0; i < n; i++)
            ids[i] = 0;
    return rc;
}

/* ---------------------------------------------------------------- reading one */

int wg_event_row(sqlite3_stmt *st, wg_event *e)
{
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(st, 0);
    e->generation = sqlite3_column_int64(st, 1);
    e->lon = sqlite3_column_double(st, 2);
    e->lat = sqlite3_column_double(st, 3);
    const unsigned char *t = sqlite3_column_text(st, 4);
    snprintf(e->category, sizeof e->category, "%s", t ? (const char *)t : "");
    int s = wg_event_status_parse((const char *)sqlite3_column_text(st, 5));
    e->status = s < 0 ? WG_EV_REPORTED : (wg_event_status)s;
    t = sqlite3_column_text(st, 6);
    snprintf(e->grid_code, sizeof e->grid_code, "%s", t ? (const char *)t : "");
    e->outside = sqlite3_column_int(st, 7);
    t = sqlite3_column_text(st, 8);
    snprintf(e->assignee, sizeof e->assignee, "%s", t ? (const char *)t : "");
    e->reported_ms = sqlite3_column_int64(st, 9);
    e->dispatched_ms = sqlite3_column_int64(st, 10);
    e->deadline_ms = sqlite3_column_int64(st, 11);
    e->closed_ms = sqlite3_column_int64(st, 12);
    e->reopen_count = sqlite3_column_int(st, 13);
    e->description = wg_column_dup(st, 14);
    e->photo_url = wg_column_dup(st, 15);
    e->reporter = wg_column_dup(st, 16);
    e->source = wg_column_dup(st, 17);
    if ((sqlite3_column_type(st, 14) != SQLITE_NULL && !e->description) ||
        (sqlite3_column_type(st, 15) != SQLITE_NULL && !e->photo_url) ||
        (sqlite3_column_type(st, 16) != SQLITE_NULL && !e->reporter) ||
        (sqlite3_column_type(st, 17) != SQLITE_NULL && !e->source)) {
        wg_event_clear(e);
        return WG_ENOMEM;
    }
    return WG_OK;
}

int wg_event_get(wg_ctx *ctx, int64_t id, wg_event *out)
{
    memset(out, 0, sizeof *out);
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, WG_EVENT_COLUMNS " WHERE id = ?", &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        if (wg_event_row(st, out) != WG_OK) rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    } else if (step == SQLITE_DONE) {
        rc = wg_fail(ctx, WG_ENOTFOUND, "no event %lld", (long long)id);
    } else {
        rc = wg_fail_sql(ctx, "cannot read events");
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---------------------------------------------------------------- transitions */

/* The deadline of a first dispatch at `at`: the category's limit in working time; 0 (no
 * deadline) when the category is not stored (an event imported with a code since dropped). */
static int deadline_for(wg_ctx *ctx, const char *category, int64_t at, int64_t *deadline)
{
    *deadline = 0;
    wg_category c;
    int rc = wg_category_get(ctx, category, &c);
    if (rc == WG_ENOTFOUND) return WG_OK;
    if (rc != WG_OK) return rc;
    wg_calendar *cal = NULL;
    rc = wg_calendar_load(ctx, &cal);
    if (rc != WG_OK) return rc;
    if (wg_calendar_add(cal, at, wg_category_limit_ms(&c, cal), deadline) != WG_OK)
        rc = wg_fail(ctx, WG_EDATA, "the deadline of category %s falls beyond 2199", category);
    wg_calendar_free(cal);
    return rc;
}

static int worker_exists(wg_ctx *ctx, const char *id, int *exists)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "SELECT 1 FROM workers WHERE id = ? AND active = 1", &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    *exists = step == SQLITE_ROW;
    if (step != SQLITE_ROW && step != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read workers");
    sqlite3_finalize(st);
    return rc;
}

static int last_step_at(wg_ctx *ctx, int64_t id, int64_t *at)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "SELECT max(at_ms) FROM event_steps WHERE event_id = ?", &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, id);
    *at = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return WG_OK;
}

/* Checks the request against the event as stored; computes the new status into *to. */
static int check_step(wg_ctx *ctx, const wg_event *e, const wg_event_step_req *q, int64_t at,
                      int64_t now_ms, int *to)
{
    const char *act = wg_event_action_name(q->action);
    if (!act) return wg_fail(ctx, WG_EINVAL, "unknown action");
    if (q->expect_status >= 0 && (int)e->status != q->expect_status)
        return wg_fail(ctx, WG_ECONFLICT, "event %lld is %s, not %s (it changed meanwhile)",
                       (long long)e->id, STATUS[e->status],
                       wg_event_status_name((wg_event_status)q->expect_status)
                           ? wg_event_status_name((wg_event_status)q->expect_status)
                           : "?");
    *to = next_status(q->action, (int)e->status);
    if (*to < 0) {
        char ok[128];
        allowed_from((int)e->status, ok, sizeof ok);
        return wg_fail(ctx, WG_ECONFLICT, "cannot %s event %lld: it is %s (allowed: %s)", act,
                       (long long)e->id, STATUS[e->status], ok);
    }
    if (q->only_assignee && strcmp(q->only_assignee, e->assignee) != 0)
        return wg_fail(ctx, WG_ECONFLICT, "event %lld is assigned to %s, not %s", (long long)e->id,
                       e->assignee[0] ? e->assignee : "nobody", q->only_assignee);
    char what[48];
    snprintf(what, sizeof what, "%s of event %lld", act, (long long)e->id);
    int rc = wg_event_check_time(ctx, at, now_ms, what);
    if (rc != WG_OK) return rc;
    int64_t last;
    rc = last_step_at(ctx, e->id, &last);
    if (rc != WG_OK) return rc;
    if (at < last) {
        char a[32], b[32];
        wg_time_format(at, 0, a);
        wg_time_format(last, 0, b);
        return wg_fail(ctx, WG_EDATA, "%s: time %s is before the event's last step (%s)", what, a,
                       b);
    }
    if (q->note && (strlen(q->note) > WG_EVENT_NOTE_MAX || !text_ok(q->note)))
        return wg_fail(ctx, WG_EDATA, "%s: the note is not UTF-8 text of at most %d bytes", what,
                       WG_EVENT_NOTE_MAX);
    if (q->actor && (strlen(q->actor) > 128 || !text_ok(q->actor)))
        return wg_fail(ctx, WG_EDATA, "%s: actor is not a short text", what);
    if (q->action == WG_ACT_EVALUATE && (q->score < 0 || q->score > 5))
        return wg_fail(ctx, WG_EDATA, "%s: score must be 1 to 5", what);
    return WG_OK;
}

/* A dispatch's assignee: the requested one, else the current (suggested) one; must exist. */
static int pick_assignee(wg_ctx *ctx, const wg_event *e, const wg_event_step_req *q, char *who,
                         size_t n)
{
    const char *a = q->assignee && *q->assignee ? q->assignee : e->assignee;
    if (!*a)
        return wg_fail(ctx, WG_EDATA,
                       "dispatch of event %lld: no assignee given and none suggested",
                       (long long)e->id);
    if (strlen(a) >= n)
        return wg_fail(ctx, WG_EDATA, "dispatch of event %lld: assignee id too long",
                       (long long)e->id);
    int exists = 0;
    int rc = worker_exists(ctx, a, &exists);
    if (rc != WG_OK) return rc;
    if (!exists)
        return wg_fail(ctx, WG_EDATA, "dispatch of event %lld: no active worker '%s'",
                       (long long)e->id, a);
    snprintf(who, n, "%s", a);
    return WG_OK;
}

static int apply_step(wg_ctx *ctx, wg_event *e, const wg_event_step_req *q, int64_t at, int to)
{
    char who[65], note[WG_EVENT_NOTE_MAX + 128] = "";
    int from = (int)e->status, rc = WG_OK;
    if (q->action == WG_ACT_DISPATCH) {
        rc = pick_assignee(ctx, e, q, who, sizeof who);
        if (rc == WG_OK && from == WG_EV_DISPATCHED) {
            snprintf(note, sizeof note, "reassigned from %s to %s", e->assignee, who);
        } else if (rc == WG_OK) {
            e->dispatched_ms = at;
            rc = deadline_for(ctx, e->category, at, &e->deadline_ms);
            if (rc == WG_OK && !e->deadline_ms)
                snprintf(note, sizeof note, "no time limit: category %s is not stored",
                         e->category);
        }
        if (rc != WG_OK) return rc;
        snprintf(e->assignee, sizeof e->assignee, "%s", who);
    } else if (q->action == WG_ACT_HANDLE || q->action == WG_ACT_CANCEL) {
        e->closed_ms = at;
    } else if (q->action == WG_ACT_SEND_BACK) {
        e->closed_ms = 0;
        e->reopen_count++;
    } else if (q->action == WG_ACT_EVALUATE && q->score > 0) {
        snprintf(note, sizeof note, "score=%d", q->score);
    }
    if (q->note && *q->note) {
        size_t len = strlen(note);
        snprintf(note + len, sizeof note - len, "%s%s", len ? "; " : "", q->note);
    }
    sqlite3_stmt *st;
    rc = wg_prepare(ctx,
                    "UPDATE events SET status = ?, assignee = ?, dispatched_ms = ?, deadline_ms = "
                    "?, closed_ms = ?,"
                    " reopen_count = ? WHERE id = ?",
                    &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_text(st, 1, STATUS[to], -1, SQLITE_STATIC);
    bind_text_or_null(st, 2, e->assignee);
    if (e->dispatched_ms) sqlite3_bind_int64(st, 3, e->dispatched_ms);
    if (e->deadline_ms) sqlite3_bind_int64(st, 4, e->deadline_ms);
    if (e->closed_ms) sqlite3_bind_int64(st, 5, e->closed_ms);
    sqlite3_bind_int(st, 6, e->reopen_count);
    sqlite3_bind_int64(st, 7, e->id);
    if (sqlite3_step(st) != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot update an event");
    sqlite3_finalize(st);
    if (rc == WG_OK)
        rc = wg_prepare(
            ctx,
            "INSERT INTO event_steps(event_id, action, from_status, to_status, actor, at_ms, note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            &st);
    if (rc != WG_OK) return rc;
    rc = add_step(ctx, st, e->id, ACTION[q->action], STATUS[from], STATUS[to], q->actor, at, note);
    sqlite3_finalize(st);
    if (rc == WG_OK) e->status = (wg_event_status)to;
    return rc;
}

int wg_event_transition(wg_ctx *ctx, int64_t id, const wg_event_step_req *q, int64_t now_ms,
                        wg_event *out)
{
    if (out) memset(out, 0, sizeof *out);
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    if (!q || !wg_event_action_name(q->action)) return wg_fail(ctx, WG_EINVAL, "unknown action");
    int64_t at = q->at_ms ? q->at_ms : now_ms;
    int rc = wg_begin(ctx);
    if (rc != WG_OK) return rc;
    wg_event e;
    rc = wg_event_get(ctx, id, &e);
    int to = -1;
    if (rc == WG_OK) rc = check_step(ctx, &e, q, at, now_ms, &to);
    if (rc == WG_OK) rc = apply_step(ctx, &e, q, at, to);
    rc = wg_commit_or_rollback(ctx, rc);
    if (rc != WG_OK) {
        wg_event_clear(&e);
        return rc;
    }
    if (out)
        *out = e;
    else
        wg_event_clear(&e);
    return WG_OK;
}

/* ---------------------------------------------------------------- imported events */

int wg_events_backfill(wg_ctx *ctx, int64_t gen, size_t *n)
{
    if (n) *n = 0;
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    int64_t g;
    int rc = wg_gen_resolve(ctx, gen, &g);
    if (rc != WG_OK) return rc;
    wg_calendar *cal = NULL;
    rc = wg_calendar_load(ctx, &cal);
    if (rc != WG_OK) return rc;
    int offset = wg_calendar_offset_min(cal);
    wg_calendar_free(cal);
    sqlite3_stmt *sel = NULL, *upd = NULL;
    rc = wg_begin(ctx);
    if (rc == WG_OK)
        rc = wg_prepare(
            ctx,
            "SELECT e.id, e.reported_at, a.grid_code, a.nearest_code, a.item_id IS NOT NULL FROM "
            "events e"
            " LEFT JOIN assignments a ON a.generation = ? AND a.kind = 'event' AND a.item_id = e.id"
            " WHERE e.reported_ms IS NULL OR e.grid_code IS NULL",
            &sel);
    if (rc == WG_OK)
        rc = wg_prepare(ctx,
                        "UPDATE events SET reported_ms = coalesce(reported_ms, ?),"
                        " generation = coalesce(generation, ?), grid_code = coalesce(grid_code, ?),"
                        " outside = CASE WHEN grid_code IS NULL THEN ? ELSE outside END,"
                        " source = coalesce(source, 'import') WHERE id = ?",
                        &upd);
    if (rc == WG_OK) sqlite3_bind_int64(sel, 1, g);
    size_t count = 0;
    int step = SQLITE_DONE;
    while (rc == WG_OK && (step = sqlite3_step(sel)) == SQLITE_ROW) {
        int64_t ms = 0;
        const char *t = (const char *)sqlite3_column_text(sel, 1);
        if (t && wg_time_parse(t, offset, &ms, NULL, 0) != WG_OK) ms = 0;
        const char *grid = (const char *)sqlite3_column_text(sel, 2),
                   *near = (const char *)sqlite3_column_text(sel, 3);
        int placed = sqlite3_column_int(sel, 4);
        sqlite3_reset(upd);
        sqlite3_clear_bindings(upd);
        if (ms) sqlite3_bind_int64(upd, 1, ms);
        if (placed) sqlite3_bind_int64(upd, 2, g);
        bind_text_or_null(upd, 3, grid ? grid : near);
        sqlite3_bind_int(upd, 4, placed && !grid);
        sqlite3_bind_int64(upd, 5, sqlite3_column_int64(sel, 0));
        if (sqlite3_step(upd) != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot update an event");
        count++;
    }
    if (rc == WG_OK && step != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read events");
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    rc = wg_commit_or_rollback(ctx, rc);
    if (rc != WG_OK) return rc;
    if (n) *n = count;
    return WG_OK;
}
