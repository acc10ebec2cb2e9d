/* Events read back: listings with filters and paging, one event with its steps as JSON, and the
 * scoring statistics (see wangge/events.h).
 *
 * Listings page by id (keyset: "next_after" is the last id of a full page), so a page is one
 * index range scan whatever its depth, and events filed meanwhile never shift a page. The
 * community of an event is the parent of its grid in the generation it was filed under (from the
 * units table), else the code's parent by the standard layout. */
#include "events_internal.h"
#include "json_out.h"
#include "store_schema.h"
#include "wangge/store.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT 100
#define LIST_MAX 1000
#define MAX_STATUS_FILTER WG_EV_NSTATUS

void wg_event_filter_init(wg_event_filter *f)
{
    memset(f, 0, sizeof *f);
    f->outside = -1;
}

void wg_events_free(wg_event *ev, size_t n)
{
    for (size_t i = 0; ev && i < n; i++)
        wg_event_clear(&ev[i]);
    free(ev);
}

/* ---------------------------------------------------------------- context of a read */

/* What formatting an event needs besides its row: the calendar's offset, category names, and
 * a statement for the community of a grid. */
typedef struct reader {
    wg_ctx *ctx;
    int offset_min;
    wg_category *cats;
    size_t ncats;
    sqlite3_stmt *parent;
    char last_grid[33], last_comm[33]; /* one-entry cache of community_of */
    int64_t last_gen;
} reader;

static void reader_free(reader *r)
{
    free(r->cats);
    sqlite3_finalize(r->parent);
    memset(r, 0, sizeof *r);
}

static int reader_open(wg_ctx *ctx, reader *r)
{
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->last_gen = -1;
    wg_calendar *cal = NULL;
    int rc = wg_calendar_load(ctx, &cal);
    if (rc != WG_OK) return rc;
    r->offset_min = wg_calendar_offset_min(cal);
    wg_calendar_free(cal);
    rc = wg_categories_list(ctx, &r->cats, &r->ncats);
    if (rc == WG_OK)
        rc = wg_prepare(
            ctx,
            "SELECT parent_code FROM units WHERE level = 3 AND code = ?1 AND first_gen <= ?2"
            " AND (last_gen IS NULL OR last_gen >= ?2) LIMIT 1",
            &r->parent);
    if (rc != WG_OK) reader_free(r);
    return rc;
}

static const wg_category *category_of(const reader *r, const char *code)
{
    size_t lo = 0, hi = r->ncats;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->cats[mid].code, code);
        if (c == 0) return &r->cats[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The community code of a grid in generation gen ("" if unknown). Owned by r; valid until the
 * next call. */
static const char *community_of(reader *r, const char *grid, int64_t gen)
{
    if (!grid || !*grid) return "";
    if (gen == r->last_gen && strcmp(grid, r->last_grid) == 0) return r->last_comm;
    snprintf(r->last_grid, sizeof r->last_grid, "%s", grid);
    r->last_gen = gen;
    r->last_comm[0] = '\0';
    sqlite3_reset(r->parent);
    sqlite3_bind_text(r->parent, 1, grid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(r->parent, 2, gen);
    const unsigned char *p =
        sqlite3_step(r->parent) == SQLITE_ROW ? sqlite3_column_text(r->parent, 0) : NULL;
    if (p) {
        snprintf(r->last_comm, sizeof r->last_comm, "%s", (const char *)p);
    } else {
        size_t n = wg_code_parent_len(WG_LEVEL_GRID, grid);
        if (n && n < sizeof r->last_comm) {
            memcpy(r->last_comm, grid, n);
            r->last_comm[n] = '\0';
        }
    }
    return r->last_comm;
}

/* ---------------------------------------------------------------- JSON of one event */

static json_object *str_or_null(const char *s)
{
    return s && *s ? json_object_new_string(s) : NULL;
}

static json_object *time_or_null(const reader *r, int64_t ms)
{
    if (!ms) return NULL;
    char t[32];
    wg_time_format(ms, r->offset_min, t);
    return json_object_new_string(t);
}

static int is_overdue(const wg_event *e, int64_t now_ms)
{
    return e->deadline_ms && !e->closed_ms && now_ms > e->deadline_ms;
}

static json_object *event_obj(reader *r, const wg_event *e, unsigned flags, int64_t now_ms)
{
    json_object *o = json_object_new_object();
    if (!o) return NULL;
    const wg_category *c = category_of(r, e->category);
    int dispatched = e->dispatched_ms != 0;
    json_object_object_add(o, "id", json_object_new_int64(e->id));
    json_object_object_add(o, "lon", wg_json_short(e->lon));
    json_object_object_add(o, "lat", wg_json_short(e->lat));
    json_object_object_add(o, "category", json_object_new_string(e->category));
    json_object_object_add(o, "category_name", c ? json_object_new_string(c->name) : NULL);
    json_object_object_add(o, "status", json_object_new_string(wg_event_status_name(e->status)));
    json_object_object_add(o, "description", str_or_null(e->description));
    json_object_object_add(o, "photo_url", str_or_null(e->photo_url));
    json_object_object_add(o, "source", str_or_null(e->source));
    json_object_object_add(o, "generation",
                           e->generation ? json_object_new_int64(e->generation) : NULL);
    json_object_object_add(o, "grid", str_or_null(e->grid_code));
    json_object_object_add(o, "community",
                           str_or_null(community_of(r, e->grid_code, e->generation)));
    json_object_object_add(o, "outside", json_object_new_boolean(e->outside));
    json_object_object_add(o, "assignee", dispatched ? str_or_null(e->assignee) : NULL);
    json_object_object_add(o, "suggested_assignee", dispatched ? NULL : str_or_null(e->assignee));
    json_object_object_add(o, "reported_at", time_or_null(r, e->reported_ms));
    json_object_object_add(o, "dispatched_at", time_or_null(r, e->dispatched_ms));
    json_object_object_add(o, "deadline", time_or_null(r, e->deadline_ms));
    json_object_object_add(o, "closed_at", time_or_null(r, e->closed_ms));
    json_object_object_add(o, "overdue", json_object_new_boolean(is_overdue(e, now_ms)));
    json_object_object_add(o, "reopen_count", json_object_new_int(e->reopen_count));
    if (flags & WG_EVJ_PERSONAL) json_object_object_add(o, "reporter", str_or_null(e->reporter));
    return o;
}

static int steps_array(reader *r, int64_t id, json_object **out)
{
    *out = NULL;
    sqlite3_stmt *st;
    int rc = wg_prepare(r->ctx,
                        "SELECT action, from_status, to_status, actor, at_ms, note FROM event_steps"
                        " WHERE event_id = ? ORDER BY id",
                        &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, id);
    json_object *a = json_object_new_array();
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_object *s = json_object_new_object();
        const char *action = (const char *)sqlite3_column_text(st, 0),
                   *note = (const char *)sqlite3_column_text(st, 5);
        json_object_object_add(s, "action", str_or_null(action));
        json_object_object_add(s, "from", str_or_null((const char *)sqlite3_column_text(st, 1)));
        json_object_object_add(s, "to", str_or_null((const char *)sqlite3_column_text(st, 2)));
        json_object_object_add(s, "actor", str_or_null((const char *)sqlite3_column_text(st, 3)));
        json_object_object_add(s, "at", time_or_null(r, sqlite3_column_int64(st, 4)));
        json_object_object_add(s, "note", str_or_null(note));
        int score;
        if (action && strcmp(action, "evaluate") == 0 && note &&
            sscanf(note, "score=%d", &score) == 1)
            json_object_object_add(s, "score", json_object_new_int(score));
        json_object_array_add(a, s);
    }
    if (step != SQLITE_DONE) rc = wg_fail_sql(r->ctx, "cannot read event steps");
    sqlite3_finalize(st);
    if (rc != WG_OK) {
        json_object_put(a);
        return rc;
    }
    *out = a;
    return WG_OK;
}

int wg_event_json(wg_ctx *ctx, int64_t id, unsigned flags, int64_t now_ms, char **out)
{
    *out = NULL;
    wg_event e;
    int rc = wg_event_get(ctx, id, &e);
    if (rc != WG_OK) return rc;
    reader r;
    rc = reader_open(ctx, &r);
    json_object *o = rc == WG_OK ? event_obj(&r, &e, flags, now_ms) : NULL;
    if (rc == WG_OK && !o) rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    if (rc == WG_OK && (flags & WG_EVJ_STEPS)) {
        json_object *steps = NULL;
        rc = steps_array(&r, id, &steps);
        if (rc == WG_OK) json_object_object_add(o, "steps", steps);
    }
    reader_free(&r);
    wg_event_clear(&e);
    if (rc != WG_OK) {
        json_object_put(o);
        return rc;
    }
    *out = wg_json_text(o);
    return *out ? WG_OK : wg_fail(ctx, WG_ENOMEM, "out of memory");
}

/* ---------------------------------------------------------------- listings */

typedef struct sql_buf {
    char text[2048];
    size_t n;
} sql_buf;

static void sql_add(sql_buf *b, const char *s)
{
    size_t m = strlen(s);
    if (b->n + m < sizeof b->text) {
        memcpy(b->text + b->n, s, m + 1);
        b->n += m;
    }
}

static int code_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              *s == '_' || *s == '-'))
            return 0;
    return 1;
}

/* Parameters are bound in the order the clauses are added: each clause's values are noted
 * here and bound after prepare. */
typedef struct binds {
    int kind[32]; /* 0 text, 1 int64, 2 double */
    const char *t[32];
    int64_t i[32];
    double d[32];
    int n;
} binds;

static void bind_t(binds *b, const char *s)
{
    b->kind[b->n] = 0;
    b->t[b->n++] = s;
}
static void bind_i(binds *b, int64_t v)
{
    b->kind[b->n] = 1;
    b->i[b->n++] = v;
}
static void bind_d(binds *b, double v)
{
    b->kind[b->n] = 2;
    b->d[b->n++] = v;
}

static int build_filter(wg_ctx *ctx, const wg_event_filter *f, int64_t now_ms, sql_buf *q, binds *b,
                        char statuses[][16])
{
    sql_add(q, WG_EVENT_COLUMNS " WHERE 1");
    if (f->grid) {
        if (!code_ok(f->grid, 32))
            return wg_fail(ctx, WG_EINVAL, "grid is a code of at most 32 letters and digits");
        sql_add(q, " AND grid_code = ?");
        bind_t(b, f->grid);
    }
    if (f->community) {
        if (!code_ok(f->community, 32))
            return wg_fail(ctx, WG_EINVAL, "community is a code of at most 32 letters and digits");
        sql_add(q, " AND substr(grid_code, 1, ?) = ?");
        bind_i(b, (int64_t)strlen(f->community));
        bind_t(b, f->community);
    }
    if (f->status) {
        const char *p = f->status;
        int n = 0;
        sql_add(q, " AND status IN (");
        while (*p) {
            size_t len = strcspn(p, ",");
            if (len == 0 || len >= 16 || n == MAX_STATUS_FILTER)
                return wg_fail(ctx, WG_EINVAL, "bad status filter '%.64s'", f->status);
            memcpy(statuses[n], p, len);
            statuses[n][len] = '\0';
            if (wg_event_status_parse(statuses[n]) < 0)
                return wg_fail(ctx, WG_EINVAL,
                               "unknown status '%s' (reported, registered, cancelled, dispatched, "
                               "handled, verified, evaluated, archived)",
                               statuses[n]);
            sql_add(q, n ? ",?" : "?");
            bind_t(b, statuses[n++]);
            p += len;
            if (*p == ',') p++;
        }
        if (n == 0) return wg_fail(ctx, WG_EINVAL, "empty status filter");
        sql_add(q, ")");
    }
    if (f->category) {
        size_t n = strlen(f->category);
        if ((n != 2 && n != 4) || strspn(f->category, "0123456789") != n)
            return wg_fail(ctx, WG_EINVAL, "category is a 4-digit code or a 2-digit class");
        sql_add(q, n == 4 ? " AND category = ?" : " AND substr(category, 1, 2) = ?");
        bind_t(b, f->category);
    }
    if (f->assignee) {
        sql_add(q, " AND assignee = ? AND dispatched_ms IS NOT NULL");
        bind_t(b, f->assignee);
    }
    if (f->from_ms) {
        sql_add(q, " AND reported_ms >= ?");
        bind_i(b, f->from_ms);
    }
    if (f->to_ms) {
        sql_add(q, " AND reported_ms < ?");
        bind_i(b, f->to_ms);
    }
    if (f->has_bbox) {
        const double *x = f->bbox;
        if (!(x[0] >= -180 && x[2] <= 180 && x[1] >= -90 && x[3] <= 90 && x[0] <= x[2] &&
              x[1] <= x[3]))
            return wg_fail(ctx, WG_EINVAL,
                           "bbox is lon_min,lat_min,lon_max,lat_max within the world, min <= max");
        sql_add(q, " AND lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?");
        bind_d(b, x[0]);
        bind_d(b, x[2]);
        bind_d(b, x[1]);
        bind_d(b, x[3]);
    }
    if (f->overdue) {
        sql_add(q, " AND deadline_ms IS NOT NULL AND closed_ms IS NULL AND deadline_ms < ?");
        bind_i(b, now_ms);
    }
    if (f->outside == 0 || f->outside == 1) {
        sql_add(q, " AND outside = ?");
        bind_i(b, f->outside);
    }
    if (f->after_id) {
        sql_add(q, " AND id > ?");
        bind_i(b, f->after_id);
    }
    sql_add(q, " ORDER BY id LIMIT ?");
    return WG_OK;
}

int wg_events_list(wg_ctx *ctx, const wg_event_filter *f, int64_t now_ms, wg_event **out, size_t *n,
                   int64_t *next_after)
{
    *out = NULL;
    *n = 0;
    if (next_after) *next_after = 0;
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    size_t limit = f->limit ? f->limit : LIST_DEFAULT;
    if (limit > LIST_MAX) return wg_fail(ctx, WG_EINVAL, "limit is at most %d", LIST_MAX);
    sql_buf q = {{0}, 0};
    binds b;
    memset(&b, 0, sizeof b);
    char statuses[MAX_STATUS_FILTER][16];
    int rc = build_filter(ctx, f, now_ms, &q, &b, statuses);
    if (rc != WG_OK) return rc;
    bind_i(&b, (int64_t)limit + 1); /* one more tells whether there is a next page */
    sqlite3_stmt *st;
    rc = wg_prepare(ctx, q.text, &st);
    if (rc != WG_OK) return rc;
    for (int k = 0; k < b.n; k++) {
        if (b.kind[k] == 0)
            sqlite3_bind_text(st, k + 1, b.t[k], -1, SQLITE_TRANSIENT);
        else if (b.kind[k] == 1)
            sqlite3_bind_int64(st, k + 1, b.i[k]);
        else
            sqlite3_bind_double(st, k + 1, b.d[k]);
    }
    wg_event *v = NULL;
    size_t cnt = 0, cap = 0;
    int step, more = 0;
    while (rc == WG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == limit) {
            more = 1;
            break;
        }
        if (wg_grow((void **)&v, &cap, cnt + 1, sizeof *v) != WG_OK ||
            wg_event_row(st, &v[cnt]) != WG_OK) {
            rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
            break;
        }
        cnt++;
    }
    if (rc == WG_OK && !more && step != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read events");
    sqlite3_finalize(st);
    if (rc != WG_OK) {
        wg_events_free(v, cnt);
        return rc;
    }
    *out = v;
    *n = cnt;
    if (next_after && more && cnt) *next_after = v[cnt - 1].id;
    return WG_OK;
}

int wg_events_list_json(wg_ctx *ctx, const wg_event_filter *f, unsigned flags, int64_t now_ms,
                        char **out)
{
    *out = NULL;
    wg_event *v = NULL;
    size_t n = 0;
    int64_t next = 0;
    int rc = wg_events_list(ctx, f, now_ms, &v, &n, &next);
    if (rc != WG_OK) return rc;
    reader r;
    rc = reader_open(ctx, &r);
    if (rc != WG_OK) {
        wg_events_free(v, n);
        return rc;
    }
    json_object *o = json_object_new_object(), *a = json_object_new_array();
    json_object_object_add(o, "count", json_object_new_int64((int64_t)n));
    json_object_object_add(o, "next_after", next ? json_object_new_int64(next) : NULL);
    for (size_t i = 0; i < n; i++)
        json_object_array_add(a, event_obj(&r, &v[i], flags & WG_EVJ_PERSONAL, now_ms));
    json_object_object_add(o, "events", a);
    reader_free(&r);
    wg_events_free(v, n);
    *out = wg_json_text(o);
    return *out ? WG_OK : wg_fail(ctx, WG_ENOMEM, "out of memory");
}

/* ---------------------------------------------------------------- statistics */

int wg_stats_by_parse(const char *s)
{
    if (!s) return -1;
    if (strcmp(s, "worker") == 0) return WG_STATS_WORKER;
    if (strcmp(s, "grid") == 0) return WG_STATS_GRID;
    if (strcmp(s, "community") == 0) return WG_STATS_COMMUNITY;
    return -1;
}

typedef struct stat_row {
    int64_t id;
    char key[65];
    int status, outside, reopen;
    int64_t deadline, closed;
} stat_row;

typedef struct group {
    const char *key;
    size_t events, by_status[WG_EV_NSTATUS], with_deadline, closed_with_deadline, on_time, overdue,
        reopen, outside;
    double step_sum_ms[WG_ACT_COUNT];
    size_t step_n[WG_ACT_COUNT];
} group;

static int cmp_row_key(const void *a, const void *b)
{
    const stat_row *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

typedef struct id_group {
    int64_t id;
    size_t g;
} id_group;

static int cmp_id(const void *a, const void *b)
{
    const id_group *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static void add_row(group *g, const stat_row *r, int64_t now_ms)
{
    g->events++;
    g->by_status[r->status]++;
    g->reopen += (size_t)r->reopen;
    g->outside += (size_t)r->outside;
    if (!r->deadline) return;
    g->with_deadline++;
    if (r->closed) {
        g->closed_with_deadline++;
        if (r->closed <= r->deadline) g->on_time++;
    } else if (now_ms > r->deadline) {
        g->overdue++;
    }
}

static json_object *group_obj(const group *g, const char *key)
{
    json_object *o = json_object_new_object(), *bs = json_object_new_object(),
                *ms = json_object_new_object();
    json_object_object_add(o, "key", key ? json_object_new_string(key) : NULL);
    json_object_object_add(o, "events", json_object_new_int64((int64_t)g->events));
    for (int s = 0; s < WG_EV_NSTATUS; s++)
        json_object_object_add(bs, wg_event_status_name((wg_event_status)s),
                               json_object_new_int64((int64_t)g->by_status[s]));
    json_object_object_add(o, "by_status", bs);
    json_object_object_add(o, "with_deadline", json_object_new_int64((int64_t)g->with_deadline));
    json_object_object_add(o, "closed_with_deadline",
                           json_object_new_int64((int64_t)g->closed_with_deadline));
    json_object_object_add(o, "on_time", json_object_new_int64((int64_t)g->on_time));
    json_object_object_add(o, "on_time_rate",
                           g->closed_with_deadline
                               ? wg_json_short((double)g->on_time / (double)g->closed_with_deadline)
                               : NULL);
    json_object_object_add(o, "overdue", json_object_new_int64((int64_t)g->overdue));
    json_object_object_add(o, "reopen_count", json_object_new_int64((int64_t)g->reopen));
    json_object_object_add(o, "outside", json_object_new_int64((int64_t)g->outside));
    for (int a = 0; a < WG_ACT_COUNT; a++)
        if (g->step_n[a])
            json_object_object_add(
                ms, wg_event_action_name((wg_event_action)a),
                wg_json_short(g->step_sum_ms[a] / 1000.0 / (double)g->step_n[a]));
    json_object_object_add(o, "mean_step_s", ms);
    return o;
}

static void period_clause(sql_buf *q, int64_t from_ms, int64_t to_ms)
{
    if (from_ms) sql_add(q, " AND reported_ms >= ?1");
    if (to_ms) sql_add(q, " AND reported_ms < ?2");
}

static void bind_period(sqlite3_stmt *st, int64_t from_ms, int64_t to_ms)
{
    if (from_ms) sqlite3_bind_int64(st, 1, from_ms);
    if (to_ms) sqlite3_bind_int64(st, 2, to_ms);
}

/* The events of the period with their group keys, sorted by key. */
static int stat_rows(reader *r, wg_stats_by by, int64_t from_ms, int64_t to_ms, stat_row **out,
                     size_t *n)
{
    *out = NULL;
    *n = 0;
    sql_buf q = {{0}, 0};
    sql_add(&q, "SELECT id, assignee, grid_code, generation, status, outside, reopen_count, "
                "deadline_ms, closed_ms,"
                " dispatched_ms FROM events WHERE 1");
    period_clause(&q, from_ms, to_ms);
    sqlite3_stmt *st;
    int rc = wg_prepare(r->ctx, q.text, &st);
    if (rc != WG_OK) return rc;
    bind_period(st, from_ms, to_ms);
    stat_row *v = NULL;
    size_t cnt = 0, cap = 0;
    int step;
    while (rc == WG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *who = (const char *)sqlite3_column_text(st, 1),
                   *grid = (const char *)sqlite3_column_text(st, 2);
        const char *key =
            by == WG_STATS_WORKER ? (sqlite3_column_type(st, 9) != SQLITE_NULL ? who : NULL)
            : by == WG_STATS_GRID ? grid
                                  : community_of(r, grid, sqlite3_column_int64(st, 3));
        int status = wg_event_status_parse((const char *)sqlite3_column_text(st, 4));
        if (!key || !*key || status < 0)
            continue; /* not attributable: not dispatched, not placed */
        if (wg_grow((void **)&v, &cap, cnt + 1, sizeof *v) != WG_OK) {
            rc = wg_fail(r->ctx, WG_ENOMEM, "out of memory");
            break;
        }
        stat_row *x = &v[cnt++];
        x->id = sqlite3_column_int64(st, 0);
        snprintf(x->key, sizeof x->key, "%s", key);
        x->status = status;
        x->outside = sqlite3_column_int(st, 5);
        x->reopen = sqlite3_column_int(st, 6);
        x->deadline = sqlite3_column_int64(st, 7);
        x->closed = sqlite3_column_int64(st, 8);
    }
    if (rc == WG_OK && step != SQLITE_DONE) rc = wg_fail_sql(r->ctx, "cannot read events");
    sqlite3_finalize(st);
    if (rc != WG_OK) {
        free(v);
        return rc;
    }
    if (cnt) qsort(v, cnt, sizeof *v, cmp_row_key);
    *out = v;
    *n = cnt;
    return WG_OK;
}

/* Mean time per step: each step's time since the event's previous step, per group. */
static int step_times(reader *r, int64_t from_ms, int64_t to_ms, const id_group *ids, size_t nids,
                      group *groups, group *total)
{
    sql_buf q = {{0}, 0};
    sql_add(&q, "SELECT event_id, action, at_ms FROM event_steps WHERE event_id IN (SELECT id FROM "
                "events WHERE 1");
    period_clause(&q, from_ms, to_ms);
    sql_add(&q, ") ORDER BY event_id, id");
    sqlite3_stmt *st;
    int rc = wg_prepare(r->ctx, q.text, &st);
    if (rc != WG_OK) return rc;
    bind_period(st, from_ms, to_ms);
    int64_t prev_id = -1, prev_at = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), at = sqlite3_column_int64(st, 2);
        int a = wg_event_action_parse((const char *)sqlite3_column_text(st, 1));
        int has_prev = id == prev_id;
        int64_t dt = at - prev_at;
        prev_id = id;
        prev_at = at;
        if (!has_prev || a < 0) continue;
        id_group key = {id, 0};
        const id_group *hit = bsearch(&key, ids, nids, sizeof *ids, cmp_id);
        if (!hit) continue;
        groups[hit->g].step_sum_ms[a] += (double)dt;
        groups[hit->g].step_n[a]++;
        total->step_sum_ms[a] += (double)dt;
        total->step_n[a]++;
    }
    if (step != SQLITE_DONE) rc = wg_fail_sql(r->ctx, "cannot read event steps");
    sqlite3_finalize(st);
    return rc;
}

int wg_events_stats_json(wg_ctx *ctx, wg_stats_by by, int64_t from_ms, int64_t to_ms,
                         int64_t now_ms, char **out)
{
    *out = NULL;
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    if ((int)by < WG_STATS_WORKER || by > WG_STATS_COMMUNITY)
        return wg_fail(ctx, WG_EINVAL, "stats by worker, grid or community");
    if (from_ms && to_ms && to_ms <= from_ms)
        return wg_fail(ctx, WG_EINVAL, "the period's end is not after its start");
    reader r;
    int rc = reader_open(ctx, &r);
    if (rc != WG_OK) return rc;
    stat_row *rows = NULL;
    size_t n = 0, ng = 0;
    rc = stat_rows(&r, by, from_ms, to_ms, &rows, &n);
    group *groups = rc == WG_OK ? calloc(n ? n : 1, sizeof *groups) : NULL;
    id_group *ids = rc == WG_OK ? malloc((n ? n : 1) * sizeof *ids) : NULL;
    group total;
    memset(&total, 0, sizeof total);
    if (rc == WG_OK && (!groups || !ids)) rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    for (size_t i = 0; rc == WG_OK && i < n; i++) {
        if (i == 0 || strcmp(rows[i].key, rows[i - 1].key) != 0) groups[ng++].key = rows[i].key;
        add_row(&groups[ng - 1], &rows[i], now_ms);
        add_row(&total, &rows[i], now_ms);
        ids[i] = (id_group){rows[i].id, ng - 1};
    }
    if (rc == WG_OK && n) qsort(ids, n, sizeof *ids, cmp_id);
    if (rc == WG_OK) rc = step_times(&r, from_ms, to_ms, ids, n, groups, &total);
    if (rc == WG_OK) {
        static const char *const BY[] = {"worker", "grid", "community"};
        json_object *o = json_object_new_object(), *a = json_object_new_array();
        json_object_object_add(o, "by", json_object_new_string(BY[by]));
        json_object_object_add(o, "from", time_or_null(&r, from_ms));
        json_object_object_add(o, "to", time_or_null(&r, to_ms));
        json_object_object_add(o, "at", time_or_null(&r, now_ms));
        for (size_t g = 0; g < ng; g++)
            json_object_array_add(a, group_obj(&groups[g], groups[g].key));
        json_object_object_add(o, "groups", a);
        json_object_object_add(o, "total", group_obj(&total, NULL));
        *out = wg_json_text(o);
        if (!*out) rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    free(groups);
    free(ids);
    free(rows);
    reader_free(&r);
    return rc;
}
