/* Events over HTTP: filing, the closed loop's transitions, listings, statistics, categories and
 * the calendar (/v1/events, /v1/stats, /v1/categories, /v1/calendar), and Open311 GeoReport v2
 * in JSON (/open311/v2/...). Thin: parse, authorise, call lib (wangge/events.h), format.
 *
 * Roles: filing needs a worker or dispatcher key; transitions a dispatcher key, except handle,
 * which the assigned worker's own key may do too; reads any valid key (viewer and up); the
 * reporter's contact only for dispatcher and admin keys. Open311 reads are public reads, and
 * Open311 filing is open to anonymous residents (a key, in a header or as api_key, is checked
 * when given). An explicit time ("at") on filing or a transition is honoured for dispatcher and
 * admin keys only: it backdates a report taken by phone, and drives the tests' clock. */
#include "server.h"
#include "wangge/workers.h"
#include "wangge/auth.h"
#include "wangge/crs.h"
#include "wangge/events.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define READERS (ROLE_VIEWER | ROLE_WORKER | ROLE_DISPATCHER | ROLE_PLANNER)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The nearest on-duty worker for suggestions: the server's position index (the same answers
 * as GET /v1/workers/nearest), else the library's scan of the workers table. */
static wg_nearest_fn nearest_of(req *r, wg_ctx *w, void **ud)
{
    struct wg_posindex *idx = workers_index(r->s);
    if (idx) {
        *ud = idx;
        return wg_posindex_nearest_fn;
    }
    *ud = w;
    return wg_nearest_scan;
}

/* Who a step is recorded for: the worker a key speaks for, else the key. */
static void actor_of(req *r, const char *prefix, char *out, size_t n)
{
    const caller *c = req_caller(r);
    if (c->worker_id[0])
        snprintf(out, n, "%s%s", prefix, c->worker_id);
    else if (c->key_id[0])
        snprintf(out, n, "%skey:%s", prefix, c->key_id);
    else
        snprintf(out, n, "%sanonymous", prefix);
}

static int may_set_time(req *r)
{
    return (req_caller(r)->role & (ROLE_DISPATCHER | ROLE_ADMIN)) != 0;
}

static int calendar_offset(wg_ctx *ctx)
{
    wg_calendar *cal = NULL;
    int off = WG_CAL_DEFAULT_OFFSET_MIN;
    if (wg_calendar_load(ctx, &cal) == WG_OK) off = wg_calendar_offset_min(cal);
    wg_calendar_free(cal);
    return off;
}

/* A time parameter; replies 400 bad_time and returns 0 on a bad one. */
static int time_arg(req *r, const char *name, const char *v, int offset, int64_t *ms,
                    enum MHD_Result *res)
{
    char msg[160];
    if (wg_time_parse(v, offset, ms, msg, sizeof msg) == WG_OK) return 1;
    *res = reply_error(r, 400, "bad_time", "%s '%.40s': %s", name, v, msg);
    return 0;
}

/* A number as JSON in its shortest exact-enough spelling (json-c would print 17 digits). */
static json_object *jnum(double v)
{
    char b[32];
    snprintf(b, sizeof b, "%.10g", v);
    return json_object_new_double_s(v, b);
}

/* ---------------------------------------------------------------- JSON bodies */

/* The body as one JSON value; replies with the error and returns NULL otherwise. */
static json_object *body_json(req *r, int required, enum MHD_Result *res)
{
    if (!r->body || r->len == 0) {
        if (!required) return json_object_new_object();
        *res = reply_error(r, 400, "empty_body", "the body must be JSON");
        return NULL;
    }
    return req_body_json(r, res); /* 415 for a type that is not JSON */
}

/* Member name of o not in allowed (NULL-terminated), or NULL if all are known. */
static const char *unknown_member(json_object *o, const char *const *allowed)
{
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok) return key;
    }
    return NULL;
}

/* A string member: 1 with *s (NULL when absent or null), 0 when present but not a string. */
static int member_str(json_object *o, const char *name, const char **s)
{
    json_object *v;
    *s = NULL;
    if (!json_object_object_get_ex(o, name, &v) || !v) return 1;
    if (!json_object_is_type(v, json_type_string)) return 0;
    *s = json_object_get_string(v);
    return 1;
}

static int member_num(json_object *o, const char *name, double *d, int *present)
{
    json_object *v;
    *present = 0;
    if (!json_object_object_get_ex(o, name, &v) || !v) return 1;
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
        return 0;
    *d = json_object_get_double(v);
    *present = 1;
    return 1;
}

/* ---------------------------------------------------------------- filing */

static const char *const EVENT_MEMBERS[] = {
    "lon", "lat", "crs", "category", "description", "photo_url", "reporter", "at", "source", NULL};

/* One JSON object into an event to file; the strings point into o. Replies on error. */
static int event_from_json(req *r, json_object *o, size_t i, int offset, wg_event_new *e,
                           enum MHD_Result *res)
{
    memset(e, 0, sizeof *e);
    if (!json_object_is_type(o, json_type_object)) {
        *res = reply_error(r, 400, "bad_body", "event %zu is not a JSON object", i);
        return 0;
    }
    const char *bad = unknown_member(o, EVENT_MEMBERS);
    if (bad) {
        *res = reply_error(r, 400, "unknown_member",
                           "event %zu: unknown member '%.40s' (lon, lat, crs, category, "
                           "description, photo_url, reporter, at, source)",
                           i, bad);
        return 0;
    }
    int has_lon, has_lat;
    const char *crs = NULL, *at = NULL;
    if (!member_num(o, "lon", &e->lon, &has_lon) || !member_num(o, "lat", &e->lat, &has_lat) ||
        !has_lon || !has_lat) {
        *res = reply_error(r, 400, "bad_coordinates",
                           "event %zu: lon and lat must be numbers (decimal degrees)", i);
        return 0;
    }
    if (!member_str(o, "category", &e->category) ||
        !member_str(o, "description", &e->description) ||
        !member_str(o, "photo_url", &e->photo_url) || !member_str(o, "reporter", &e->reporter) ||
        !member_str(o, "source", &e->source) || !member_str(o, "crs", &crs) ||
        !member_str(o, "at", &at)) {
        *res = reply_error(r, 400, "bad_member",
                           "event %zu: category, description, photo_url, reporter, source, crs "
                           "and at are strings",
                           i);
        return 0;
    }
    if (!e->category) {
        *res = reply_error(r, 400, "missing_category",
                           "event %zu: category is required (a 4-digit code)", i);
        return 0;
    }
    wg_crs c = WG_CRS_WGS84;
    if (crs && wg_crs_parse(crs, &c) != WG_OK) {
        *res = reply_error(r, 400, "bad_crs", "event %zu: crs must be wgs84 or gcj02", i);
        return 0;
    }
    if (c == WG_CRS_GCJ02 && isfinite(e->lon) && isfinite(e->lat)) {
        double x, y;
        wg_gcj02_to_wgs84(e->lon, e->lat, &x, &y);
        e->lon = x;
        e->lat = y;
    }
    if (at) {
        if (!may_set_time(r)) {
            *res = reply_error(r, 403, "forbidden",
                               "only a dispatcher key may give the time ('at') of a report");
            return 0;
        }
        char what[32];
        snprintf(what, sizeof what, "event %zu: at", i);
        if (!time_arg(r, what, at, offset, &e->at_ms, res)) return 0;
    }
    return 1;
}

static enum MHD_Result post_events(req *r)
{
    enum MHD_Result res;
    if (!req_require(r, ROLE_WORKER | ROLE_DISPATCHER, &res)) return res;
    json_object *doc = body_json(r, 1, &res);
    if (!doc) return res;
    int batch = json_object_is_type(doc, json_type_array);
    size_t n = batch ? json_object_array_length(doc) : 1;
    if (n > r->s->cfg.max_batch) {
        json_object_put(doc);
        return reply_error(r, 413, "batch_too_large", "%zu events in one batch; the limit is %zu",
                           n, r->s->cfg.max_batch);
    }
    if (batch && n == 0) {
        json_object_put(doc);
        return reply_error(r, 400, "empty_batch", "the batch has no events");
    }
    wg_ctx *w = state_thread_wctx(r->s);
    if (!w) {
        json_object_put(doc);
        return reply_error(r, 503, "unavailable", "cannot open the store for writing");
    }
    int offset = calendar_offset(r->ctx);
    wg_event_new *ev = calloc(n, sizeof *ev);
    int64_t *ids = calloc(n, sizeof *ids);
    char actor[112];
    actor_of(r, "", actor, sizeof actor);
    int ok = ev && ids;
    if (!ok) res = reply_error(r, 503, "out_of_memory", "out of memory");
    for (size_t i = 0; ok && i < n; i++) {
        ok = event_from_json(r, batch ? json_object_array_get_idx(doc, i) : doc, i, offset, &ev[i],
                             &res);
        if (ok) {
            ev[i].actor = actor;
            if (!ev[i].source) ev[i].source = "api";
        }
    }
    if (ok) {
        r->snap = state_acquire(r->s, r->ctx);
        if (!r->snap) {
            ok = 0;
            res = reply_error(r, 503, "unavailable", "no active generation");
        }
    }
    if (ok) {
        void *ud;
        wg_nearest_fn near = nearest_of(r, w, &ud);
        int64_t now = now_ms();
        int rc = wg_events_file(w, r->snap->lk, ev, n, near, ud, now, ids);
        if (rc != WG_OK) {
            r->ctx = w; /* reply_rc reads the message from the context that failed */
            res = reply_rc(r, rc);
        } else if (!batch) {
            char *text = NULL;
            rc = wg_event_json(w, ids[0], req_sees_personal(r) ? WG_EVJ_PERSONAL : 0, now, &text);
            if (rc != WG_OK) {
                r->ctx = w;
                res = reply_rc(r, rc);
            } else {
                res = reply_text_json(r, 201, NULL, text);
            }
        } else {
            json_object *o = json_object_new_object(), *a = json_object_new_array();
            json_object_object_add(o, "count", json_object_new_int64((int64_t)n));
            for (size_t i = 0; i < n; i++)
                json_object_array_add(a, json_object_new_int64(ids[i]));
            json_object_object_add(o, "ids", a);
            res = reply_json(r, 201, o);
        }
    }
    free(ev);
    free(ids);
    json_object_put(doc);
    return res;
}

/* ---------------------------------------------------------------- transitions */

static const char *const STEP_MEMBERS[] = {"assignee", "score", "note", "at", "expect", NULL};

static enum MHD_Result post_transition(req *r, int64_t id, const char *action)
{
    enum MHD_Result res;
    int act = wg_event_action_parse(action);
    if (act < 0)
        return reply_error(r, 404, "unknown_action",
                           "no action '%.32s' (register, cancel, dispatch, handle, verify, "
                           "send_back, evaluate, archive)",
                           action);
    int roles = ROLE_DISPATCHER | (act == WG_ACT_HANDLE ? ROLE_WORKER : 0);
    if (!req_require(r, roles, &res)) return res;
    const caller *c = req_caller(r);
    int as_worker = !(c->role & (ROLE_DISPATCHER | ROLE_ADMIN));
    if (as_worker && !c->worker_id[0])
        return reply_error(r, 403, "forbidden",
                           "this worker key names no worker, so it cannot handle tasks");
    json_object *doc = body_json(r, 0, &res);
    if (!doc) return res;
    if (!json_object_is_type(doc, json_type_object)) {
        json_object_put(doc);
        return reply_error(r, 400, "bad_body", "the body must be a JSON object");
    }
    const char *bad = unknown_member(doc, STEP_MEMBERS);
    if (bad) {
        res = reply_error(r, 400, "unknown_member",
                          "unknown member '%.40s' (assignee, score, note, at, expect)", bad);
        json_object_put(doc);
        return res;
    }
    wg_event_step_req q;
    memset(&q, 0, sizeof q);
    q.action = (wg_event_action)act;
    q.expect_status = -1;
    const char *at = NULL, *expect = NULL;
    double score = 0;
    int has_score = 0;
    if (!member_str(doc, "assignee", &q.assignee) || !member_str(doc, "note", &q.note) ||
        !member_str(doc, "at", &at) || !member_str(doc, "expect", &expect) ||
        !member_num(doc, "score", &score, &has_score)) {
        json_object_put(doc);
        return reply_error(r, 400, "bad_member",
                           "assignee, note, at and expect are strings; score is a number");
    }
    if (has_score && (act != WG_ACT_EVALUATE || score != floor(score) || score < 1 || score > 5)) {
        json_object_put(doc);
        return reply_error(r, 400, "bad_score",
                           "score is a whole number from 1 to 5, given on evaluate");
    }
    q.score = (int)score;
    if (q.assignee && act != WG_ACT_DISPATCH) {
        json_object_put(doc);
        return reply_error(r, 400, "bad_member", "assignee is given on dispatch only");
    }
    if (expect && (q.expect_status = wg_event_status_parse(expect)) < 0) {
        json_object_put(doc);
        return reply_error(r, 400, "bad_status",
                           "expect names a status (reported, registered, dispatched, ...)");
    }
    if (at && !may_set_time(r)) {
        json_object_put(doc);
        return reply_error(r, 403, "forbidden",
                           "only a dispatcher key may give the time ('at') of a step");
    }
    if (at && !time_arg(r, "at", at, calendar_offset(r->ctx), &q.at_ms, &res)) {
        json_object_put(doc);
        return res;
    }
    char actor[112];
    actor_of(r, "", actor, sizeof actor);
    q.actor = actor;
    if (as_worker) q.only_assignee = c->worker_id;
    wg_ctx *w = state_thread_wctx(r->s);
    if (!w) {
        json_object_put(doc);
        return reply_error(r, 503, "unavailable", "cannot open the store for writing");
    }
    if (as_worker) { /* a clear 403 for someone else's task; the library re-checks in its
                        transaction */
        wg_event e;
        int rc = wg_event_get(w, id, &e);
        int mine = rc == WG_OK && strcmp(e.assignee, c->worker_id) == 0 && e.dispatched_ms;
        wg_event_clear(&e);
        if (rc == WG_OK && !mine) {
            json_object_put(doc);
            return reply_error(r, 403, "forbidden", "event %lld is not assigned to worker %s",
                               (long long)id, c->worker_id);
        }
    }
    int64_t now = now_ms();
    int rc = wg_event_transition(w, id, &q, now, NULL);
    json_object_put(doc);
    r->ctx = w;
    if (rc != WG_OK) return reply_rc(r, rc);
    char *text = NULL;
    rc = wg_event_json(w, id, WG_EVJ_STEPS | (req_sees_personal(r) ? WG_EVJ_PERSONAL : 0), now,
                       &text);
    return rc == WG_OK ? reply_text_json(r, 200, NULL, text) : reply_rc(r, rc);
}

/* ---------------------------------------------------------------- reads */

static const char *const LIST_ARGS[] = {"grid",  "community", "status", "category", "assignee",
                                        "from",  "to",        "bbox",   "overdue",  "outside",
                                        "after", "limit",     "at",     NULL};

static int flag_arg(const char *v, int *out)
{
    if (!v) return 1;
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
        *out = 1;
    else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
        *out = 0;
    else
        return 0;
    return 1;
}

/* bbox=lon_min,lat_min,lon_max,lat_max: four decimal numbers in range, min <= max. */
static int bbox_arg(const char *s, double box[4])
{
    for (int i = 0; i < 4; i++) {
        size_t len = strcspn(s, ",");
        char t[64];
        if (len == 0 || len >= sizeof t || (i < 3) != (s[len] == ',')) return 0;
        memcpy(t, s, len);
        t[len] = '\0';
        if (!parse_double(t, &box[i])) return 0;
        s += len + (i < 3);
    }
    return box[0] >= -180 && box[2] <= 180 && box[1] >= -90 && box[3] <= 90 && box[0] <= box[2] &&
           box[1] <= box[3];
}

static enum MHD_Result get_events(req *r, int overdue)
{
    enum MHD_Result res;
    if (!req_require(r, READERS, &res)) return res;
    if (!req_args_allowed(r, LIST_ARGS, &res)) return res;
    wg_event_filter f;
    wg_event_filter_init(&f);
    f.grid = req_arg(r, "grid");
    f.community = req_arg(r, "community");
    f.status = req_arg(r, "status");
    f.category = req_arg(r, "category");
    f.assignee = req_arg(r, "assignee");
    f.overdue = overdue;
    int offset = calendar_offset(r->ctx);
    int64_t now = now_ms(), v;
    const char *s;
    if ((s = req_arg(r, "from")) && !time_arg(r, "from", s, offset, &f.from_ms, &res)) return res;
    if ((s = req_arg(r, "to")) && !time_arg(r, "to", s, offset, &f.to_ms, &res)) return res;
    if ((s = req_arg(r, "at")) && !time_arg(r, "at", s, offset, &now, &res)) return res;
    if (!flag_arg(req_arg(r, "overdue"), &f.overdue))
        return reply_error(r, 400, "bad_parameter", "overdue is true or false");
    if (overdue) f.overdue = 1;
    if (!flag_arg(req_arg(r, "outside"), &f.outside))
        return reply_error(r, 400, "bad_parameter", "outside is true or false");
    if ((s = req_arg(r, "after")) && (!parse_i64(s, &v) || v < 0))
        return reply_error(r, 400, "bad_parameter", "after is an event id");
    else if (s)
        f.after_id = v;
    if ((s = req_arg(r, "limit")) && (!parse_i64(s, &v) || v < 1 || v > 1000))
        return reply_error(r, 400, "bad_parameter", "limit is 1 to 1000");
    else if (s)
        f.limit = (size_t)v;
    if ((s = req_arg(r, "bbox"))) {
        if (!bbox_arg(s, f.bbox))
            return reply_error(r, 400, "bad_bbox",
                               "bbox is lon_min,lat_min,lon_max,lat_max: decimal degrees within "
                               "[-180, 180] and [-90, 90], min <= max");
        f.has_bbox = 1;
    }
    char *text = NULL;
    int rc =
        wg_events_list_json(r->ctx, &f, req_sees_personal(r) ? WG_EVJ_PERSONAL : 0, now, &text);
    if (rc == WG_EINVAL) return reply_error(r, 400, "bad_parameter", "%s", wg_errmsg(r->ctx));
    return rc == WG_OK ? reply_text_json(r, 200, NULL, text) : reply_rc(r, rc);
}

static enum MHD_Result get_event(req *r, int64_t id)
{
    enum MHD_Result res;
    if (!req_require(r, READERS, &res)) return res;
    static const char *const ARGS[] = {"at", NULL};
    if (!req_args_allowed(r, ARGS, &res)) return res;
    int64_t now = now_ms();
    const char *s = req_arg(r, "at");
    if (s && !time_arg(r, "at", s, calendar_offset(r->ctx), &now, &res)) return res;
    char *text = NULL;
    int rc = wg_event_json(r->ctx, id, WG_EVJ_STEPS | (req_sees_personal(r) ? WG_EVJ_PERSONAL : 0),
                           now, &text);
    return rc == WG_OK ? reply_text_json(r, 200, NULL, text) : reply_rc(r, rc);
}

static enum MHD_Result get_stats(req *r)
{
    enum MHD_Result res;
    if (!req_require(r, READERS, &res)) return res;
    static const char *const ARGS[] = {"by", "from", "to", "at", NULL};
    if (!req_args_allowed(r, ARGS, &res)) return res;
    int by = wg_stats_by_parse(req_arg(r, "by"));
    if (by < 0) return reply_error(r, 400, "bad_parameter", "by is worker, grid or community");
    int offset = calendar_offset(r->ctx);
    int64_t from = 0, to = 0, now = now_ms();
    const char *s;
    if ((s = req_arg(r, "from")) && !time_arg(r, "from", s, offset, &from, &res)) return res;
    if ((s = req_arg(r, "to")) && !time_arg(r, "to", s, offset, &to, &res)) return res;
    if ((s = req_arg(r, "at")) && !time_arg(r, "at", s, offset, &now, &res)) return res;
    char *text = NULL;
    int rc = wg_events_stats_json(r->ctx, (wg_stats_by)by, from, to, now, &text);
    if (rc == WG_EINVAL) return reply_error(r, 400, "bad_parameter", "%s", wg_errmsg(r->ctx));
    return rc == WG_OK ? reply_text_json(r, 200, NULL, text) : reply_rc(r, rc);
}

static enum MHD_Result get_categories(req *r)
{
    enum MHD_Result res;
    if (!req_require(r, 0, &res)) return res;
    wg_category *v = NULL;
    size_t n = 0;
    int rc = wg_categories_list(r->ctx, &v, &n);
    if (rc != WG_OK) return reply_rc(r, rc);
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "code", json_object_new_string(v[i].code));
        json_object_object_add(o, "class", json_object_new_string_len(v[i].code, 2));
        json_object_object_add(o, "class_name", json_object_new_string(v[i].class_name));
        json_object_object_add(o, "name", json_object_new_string(v[i].name));
        json_object_object_add(o, "limit", jnum(v[i].limit_value));
        json_object_object_add(o, "limit_unit",
                               json_object_new_string(v[i].limit_days ? "days" : "hours"));
        json_object_object_add(o, "role", json_object_new_string(v[i].role));
        json_object_array_add(a, o);
    }
    free(v);
    return reply_json(r, 200, a);
}

static enum MHD_Result get_calendar(req *r)
{
    enum MHD_Result res;
    if (!req_require(r, 0, &res)) return res;
    wg_calendar *cal = NULL;
    int rc = wg_calendar_load(r->ctx, &cal);
    if (rc != WG_OK) return reply_rc(r, rc);
    char *text = wg_calendar_json(cal);
    wg_calendar_free(cal);
    return reply_text_json(r, 200, NULL, text);
}

/* /v1/events/{id}[/{action}] */
static enum MHD_Result event_path(req *r, const char *rest, int get, int post)
{
    char idtext[24];
    size_t len = strcspn(rest, "/");
    int64_t id;
    if (len == 0 || len >= sizeof idtext) return reply_error(r, 404, "not_found", "no such event");
    memcpy(idtext, rest, len);
    idtext[len] = '\0';
    if (!parse_i64(idtext, &id) || id <= 0)
        return reply_error(r, 404, "not_found", "no such event '%.24s'", idtext);
    const char *action = rest[len] == '/' ? rest + len + 1 : NULL;
    if (!action) {
        if (get) return get_event(r, id);
        return reply_error(r, 405, "method_not_allowed", "use GET on /v1/events/{id}");
    }
    if (post) return post_transition(r, id, action);
    return reply_error(r, 405, "method_not_allowed", "use POST on /v1/events/{id}/{action}");
}

enum MHD_Result h_events(req *r, const char *path)
{
    int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    int post = strcmp(r->method, "POST") == 0;
    if (strcmp(path, "/v1/events") == 0) {
        if (get) return get_events(r, 0);
        if (post) return post_events(r);
        return reply_error(r, 405, "method_not_allowed", "use GET or POST on /v1/events");
    }
    if (strcmp(path, "/v1/events/overdue") == 0) {
        if (get) return get_events(r, 1);
        return reply_error(r, 405, "method_not_allowed", "use GET on /v1/events/overdue");
    }
    if (strncmp(path, "/v1/events/", 11) == 0) return event_path(r, path + 11, get, post);
    if (!get) return reply_error(r, 405, "method_not_allowed", "use GET on %.40s", path);
    if (strcmp(path, "/v1/stats") == 0) return get_stats(r);
    if (strcmp(path, "/v1/categories") == 0) return get_categories(r);
    if (strcmp(path, "/v1/calendar") == 0) return get_calendar(r);
    return reply_error(r, 404, "not_found", "no such resource: %.200s", path);
}

/* ================================================================ Open311 GeoReport v2 */

/* Open311 errors are an array of {code, description}. */
static enum MHD_Result o311_error(req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum MHD_Result o311_error(req *r, unsigned status, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_object *a = json_object_new_array(), *e = json_object_new_object();
    json_object_object_add(e, "code", json_object_new_int((int)status));
    json_object_object_add(e, "description", json_object_new_string(msg));
    json_object_array_add(a, e);
    return reply_json(r, status, a);
}

static enum MHD_Result o311_rc(req *r, wg_ctx *ctx, int rc)
{
    const char *msg = wg_errmsg(ctx);
    switch (rc) {
    case WG_EINVAL:
    case WG_EDATA:
        return o311_error(r, 400, "%s", msg);
    case WG_ENOTFOUND:
        return o311_error(r, 404, "%s", msg);
    case WG_ECONFLICT:
        return o311_error(r, 409, "%s", msg);
    default:
        return o311_error(r, 500, "%s", msg);
    }
}

static enum MHD_Result o311_services(req *r)
{
    wg_category *v = NULL;
    size_t n = 0;
    int rc = wg_categories_list(r->ctx, &v, &n);
    if (rc != WG_OK) return o311_rc(r, r->ctx, rc);
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        char desc[300];
        snprintf(desc, sizeof desc, "%s / %s: handled within %g working %s", v[i].class_name,
                 v[i].name, v[i].limit_value, v[i].limit_days ? "days" : "hours");
        json_object_object_add(o, "service_code", json_object_new_string(v[i].code));
        json_object_object_add(o, "service_name", json_object_new_string(v[i].name));
        json_object_object_add(o, "description", json_object_new_string(desc));
        json_object_object_add(o, "metadata", json_object_new_boolean(0));
        json_object_object_add(o, "type", json_object_new_string("realtime"));
        json_object_object_add(o, "keywords", json_object_new_string(""));
        json_object_object_add(o, "group", json_object_new_string(v[i].class_name));
        json_object_array_add(a, o);
    }
    free(v);
    return reply_json(r, 200, a);
}

/* ---- form fields: the query string plus a form-encoded or JSON body */

#define MAX_FIELDS 48
typedef struct fields {
    const char *k[MAX_FIELDS], *v[MAX_FIELDS];
    int n;
    char *buf;        /* decoded form body */
    json_object *doc; /* JSON body */
} fields;

static void fields_free(fields *f)
{
    free(f->buf);
    json_object_put(f->doc);
}

static const char *field(const fields *f, const char *name)
{
    for (int i = f->n - 1; i >= 0; i--) /* the body wins over the query string */
        if (strcmp(f->k[i], name) == 0) return f->v[i];
    return NULL;
}

static void field_add(fields *f, const char *k, const char *v)
{
    if (f->n < MAX_FIELDS) {
        f->k[f->n] = k;
        f->v[f->n++] = v;
    }
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    field_add(cls, key, value ? value : "");
    return MHD_YES;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decodes one form-encoded key or value in place ('+' is a space, %XX a byte); 0 on a bad %. */
static int form_decode(char *s)
{
    char *o = s;
    for (char *i = s; *i; i++) {
        if (*i == '+') {
            *o++ = ' ';
        } else if (*i == '%') {
            if (hexval(i[1]) < 0 || hexval(i[2]) < 0) return 0;
            *o++ = (char)(hexval(i[1]) * 16 + hexval(i[2]));
            i += 2;
        } else {
            *o++ = *i;
        }
    }
    *o = '\0';
    return utf8_ok(s, (size_t)(o - s)); /* text, as the query string is (http.c) */
}

/* Splits application/x-www-form-urlencoded text (f->buf, a copy of the body) into fields. */
static int parse_form(fields *f)
{
    for (char *p = f->buf; p && *p;) {
        char *amp = strchr(p, '&');
        if (amp) *amp = '\0';
        char *eq = strchr(p, '='), *val = eq ? eq + 1 : p + strlen(p);
        if (eq) *eq = '\0';
        if (!form_decode(p) || !form_decode(val)) return 0;
        if (*p) field_add(f, p, val);
        p = amp ? amp + 1 : NULL;
    }
    return 1;
}

/* Fields of a POST: query string, then the body (form or JSON object). 0 with a reply. */
static int read_fields(req *r, fields *f, enum MHD_Result *res)
{
    memset(f, 0, sizeof *f);
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_arg, f);
    if (!r->body || r->len == 0) return 1;
    const char *ct = req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ctype_is_json(ct)) {
        json_object *doc = body_json(r, 1, res);
        if (!doc) return 0;
        f->doc = doc;
        if (!json_object_is_type(doc, json_type_object)) {
            *res = o311_error(r, 400, "the JSON body must be an object of request fields");
            return 0;
        }
        json_object_object_foreach(doc, key, val)
        {
            if (val && !json_object_is_type(val, json_type_object) &&
                !json_object_is_type(val, json_type_array))
                field_add(f, key, json_object_get_string(val));
        }
        return 1;
    }
    if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
        *res = o311_error(r, 415,
                          "send application/x-www-form-urlencoded or application/json (media is "
                          "given by media_url)");
        return 0;
    }
    if (strlen(r->body) != r->len || !(f->buf = strdup(r->body)) || !parse_form(f)) {
        *res = o311_error(r, 400,
                          "the form body is not well-formed (a bad %%-escape or not UTF-8)");
        return 0;
    }
    return 1;
}

/* jurisdiction_id (we serve one jurisdiction, so any id is accepted, but it must look like
 * one: 1-64 of letters, digits, '.', '-', '_', as the spec's "city.gov") and api_key (checked
 * when given, on reads as on filing: 403 if it is not a valid key; its id into key_id, if
 * not NULL). 0 with a reply. */
static int o311_params_ok(req *r, const char *jurisdiction, const char *key, char *key_id,
                          size_t n_id, enum MHD_Result *res)
{
    size_t n = jurisdiction ? strlen(jurisdiction) : 0;
    if (jurisdiction &&
        (n < 1 || n > 64 ||
         strspn(jurisdiction,
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != n)) {
        *res = o311_error(r, 400, "jurisdiction_id is 1-64 letters, digits, '.', '-' or '_'");
        return 0;
    }
    wg_key_info info;
    if (key && *key && wg_key_verify(r->ctx, key, &info) != WG_OK) {
        *res = o311_error(r, 403, "api_key is not valid");
        return 0;
    }
    if (key_id && key && *key) snprintf(key_id, n_id, "%s", info.key_id);
    return 1;
}

static enum MHD_Result o311_post(req *r)
{
    enum MHD_Result res;
    const caller *c = req_caller(r);
    if (c->bad_key)
        return o311_error(r, 401, "the API key is not valid (unknown, malformed or revoked)");
    fields f;
    if (!read_fields(r, &f, &res)) {
        fields_free(&f);
        return res;
    }
    char actor[112];
    actor_of(r, "open311:", actor, sizeof actor);
    char key_id[32] = ""; /* the spec's api_key parameter: checked when given */
    if (!o311_params_ok(r, field(&f, "jurisdiction_id"), field(&f, "api_key"), key_id,
                        sizeof key_id, &res)) {
        fields_free(&f);
        return res;
    }
    if (key_id[0]) snprintf(actor, sizeof actor, "open311:key:%s", key_id);
    wg_event_new e;
    memset(&e, 0, sizeof e);
    e.category = field(&f, "service_code");
    const char *lat = field(&f, "lat"), *lon = field(&f, "long");
    if (!e.category) {
        fields_free(&f);
        return o311_error(r, 400, "service_code is required (see services.json)");
    }
    if (!lat || !lon) {
        fields_free(&f);
        return o311_error(r, 400,
                          "lat and long are required (address_string alone is not enough here)");
    }
    if (!parse_double(lat, &e.lat) || !parse_double(lon, &e.lon)) {
        fields_free(&f);
        return o311_error(r, 400, "lat and long must be decimal degrees");
    }
    e.description = field(&f, "description");
    e.photo_url = field(&f, "media_url");
    if (e.photo_url && !*e.photo_url) e.photo_url = NULL;
    char reporter[WG_EVENT_REPORTER_MAX + 1] = "";
    const char *parts[] = {field(&f, "first_name"), field(&f, "last_name"), field(&f, "email"),
                           field(&f, "phone")};
    for (size_t i = 0; i < 4; i++) {
        if (!parts[i] || !*parts[i]) continue;
        size_t len = strlen(reporter);
        snprintf(reporter + len, sizeof reporter - len, "%s%s", len ? " " : "", parts[i]);
    }
    e.reporter = reporter[0] ? reporter : NULL;
    e.source = "open311";
    e.actor = actor;
    wg_ctx *w = state_thread_wctx(r->s);
    if (!w) {
        fields_free(&f);
        return o311_error(r, 503, "cannot open the store for writing");
    }
    r->snap = state_acquire(r->s, r->ctx);
    if (!r->snap) {
        fields_free(&f);
        return o311_error(r, 503, "no active generation");
    }
    void *ud;
    wg_nearest_fn near = nearest_of(r, w, &ud);
    int64_t id = 0;
    int rc = wg_events_file(w, r->snap->lk, &e, 1, near, ud, now_ms(), &id);
    fields_free(&f);
    if (rc != WG_OK) return o311_rc(r, w, rc);
    wg_event ev;
    char notice[160] = "";
    if (wg_event_get(w, id, &ev) == WG_OK) {
        snprintf(notice, sizeof notice, "%s grid %s",
                 ev.outside ? "outside every grid; filed under the nearest," : "filed in",
                 ev.grid_code);
        wg_event_clear(&ev);
    }
    json_object *a = json_object_new_array(), *o = json_object_new_object();
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    json_object_object_add(o, "service_request_id", json_object_new_string(idtext));
    json_object_object_add(o, "service_notice", json_object_new_string(notice));
    json_object_object_add(o, "account_id", NULL);
    json_object_array_add(a, o);
    return reply_json(r, 200, a);
}

/* ---- reading requests */

static int is_closed(wg_event_status s)
{
    return s == WG_EV_CANCELLED || s == WG_EV_VERIFIED || s == WG_EV_EVALUATED ||
           s == WG_EV_ARCHIVED;
}

static json_object *o311_request(const wg_event *e, const wg_category *cats, size_t ncats,
                                 int offset)
{
    json_object *o = json_object_new_object();
    char t[32], idtext[24];
    const char *name = NULL;
    for (size_t i = 0; i < ncats && !name; i++)
        if (strcmp(cats[i].code, e->category) == 0) name = cats[i].name;
    int64_t updated = e->reported_ms;
    if (e->dispatched_ms > updated) updated = e->dispatched_ms;
    if (e->closed_ms > updated) updated = e->closed_ms;
    snprintf(idtext, sizeof idtext, "%lld", (long long)e->id);
    json_object_object_add(o, "service_request_id", json_object_new_string(idtext));
    json_object_object_add(o, "status",
                           json_object_new_string(is_closed(e->status) ? "closed" : "open"));
    json_object_object_add(o, "status_notes",
                           json_object_new_string(wg_event_status_name(e->status)));
    json_object_object_add(o, "service_name", name ? json_object_new_string(name) : NULL);
    json_object_object_add(o, "service_code", json_object_new_string(e->category));
    json_object_object_add(o, "description",
                           e->description ? json_object_new_string(e->description) : NULL);
    json_object_object_add(o, "agency_responsible", NULL);
    json_object_object_add(o, "service_notice", NULL);
    wg_time_format(e->reported_ms, offset, t);
    json_object_object_add(o, "requested_datetime",
                           e->reported_ms ? json_object_new_string(t) : NULL);
    wg_time_format(updated, offset, t);
    json_object_object_add(o, "updated_datetime", updated ? json_object_new_string(t) : NULL);
    wg_time_format(e->deadline_ms, offset, t);
    json_object_object_add(o, "expected_datetime",
                           e->deadline_ms ? json_object_new_string(t) : NULL);
    json_object_object_add(o, "address", NULL);
    json_object_object_add(o, "address_id", NULL);
    json_object_object_add(o, "zipcode", NULL);
    json_object_object_add(o, "lat", jnum(e->lat));
    json_object_object_add(o, "long", jnum(e->lon));
    json_object_object_add(o, "media_url",
                           e->photo_url ? json_object_new_string(e->photo_url) : NULL);
    return o;
}

/* Room for one more event in *all; 0 when out of memory. */
static int grow_events(wg_event **all, size_t *cap, size_t n)
{
    if (n < *cap) return 1;
    size_t ncap = *cap ? *cap * 2 : 64;
    wg_event *p = realloc(*all, ncap * sizeof *p);
    if (!p) return 0;
    *all = p;
    *cap = ncap;
    return 1;
}

static int cmp_event_id(const void *a, const void *b)
{
    const wg_event *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

#define O311_MAX 1000
#define O311_DEFAULT_DAYS 90

/* Appends the events of one filter to *all (at most O311_MAX in all). */
static int o311_collect(req *r, wg_event_filter *f, wg_event **all, size_t *n, size_t *cap)
{
    f->limit = O311_MAX;
    wg_event *v = NULL;
    size_t m = 0;
    int64_t next = 0;
    int rc = wg_events_list(r->ctx, f, now_ms(), &v, &m, &next);
    if (rc != WG_OK) return rc;
    for (size_t i = 0; i < m; i++) {
        if (*n < O311_MAX && grow_events(all, cap, *n)) {
            (*all)[(*n)++] = v[i];
            memset(&v[i], 0, sizeof v[i]);
        }
    }
    wg_events_free(v, m);
    return WG_OK;
}

static enum MHD_Result o311_get(req *r, int64_t one)
{
    static const char *const ARGS[] = {
        "service_request_id", "service_code", "start_date", "end_date", "status",
        "jurisdiction_id",    "api_key",      NULL};
    static const char *const ONE_ARGS[] = {"jurisdiction_id", "api_key", NULL}; /* the spec's */
    enum MHD_Result res;
    if (!req_args_allowed(r, one ? ONE_ARGS : ARGS, &res) ||
        !o311_params_ok(r, req_arg(r, "jurisdiction_id"), req_arg(r, "api_key"), NULL, 0, &res))
        return res;
    int offset = calendar_offset(r->ctx);
    wg_category *cats = NULL;
    size_t ncats = 0;
    int rc = wg_categories_list(r->ctx, &cats, &ncats);
    if (rc != WG_OK) return o311_rc(r, r->ctx, rc);
    wg_event *all = NULL;
    size_t n = 0, cap = 0;
    if (one) {
        wg_event e;
        rc = wg_event_get(r->ctx, one, &e);
        if (rc == WG_ENOTFOUND) {
            free(cats);
            return o311_error(r, 404, "no service request %lld", (long long)one);
        }
        if (rc == WG_OK && grow_events(&all, &cap, 0))
            all[n++] = e;
        else if (rc == WG_OK)
            wg_event_clear(&e);
    } else {
        wg_event_filter f;
        wg_event_filter_init(&f);
        const char *ids = req_arg(r, "service_request_id"), *codes = req_arg(r, "service_code"),
                   *sd = req_arg(r, "start_date"), *ed = req_arg(r, "end_date"),
                   *st = req_arg(r, "status");
        char msg[160];
        if ((sd && wg_time_parse(sd, offset, &f.from_ms, msg, sizeof msg) != WG_OK) ||
            (ed && wg_time_parse(ed, offset, &f.to_ms, msg, sizeof msg) != WG_OK)) {
            free(cats);
            return o311_error(r, 400, "start_date/end_date: %s", msg);
        }
        if (ed) f.to_ms += 1; /* end_date is inclusive */
        if (!sd && !ed && !ids) f.from_ms = now_ms() - (int64_t)O311_DEFAULT_DAYS * 86400000;
        if (st) {
            int open = 0, closed = 0;
            for (const char *p = st; *p;) {
                size_t len = strcspn(p, ",");
                if (len == 4 && strncmp(p, "open", 4) == 0)
                    open = 1;
                else if (len == 6 && strncmp(p, "closed", 6) == 0)
                    closed = 1;
                else {
                    free(cats);
                    return o311_error(r, 400, "status is open, closed or both");
                }
                p += len + (p[len] == ',');
            }
            if (open != closed)
                f.status = open ? "reported,registered,dispatched,handled"
                                : "cancelled,verified,evaluated,archived";
        }
        if (ids) { /* a comma list of ids: each one, filters ignored (as the spec says) */
            for (const char *p = ids; *p && rc == WG_OK;) {
                size_t len = strcspn(p, ",");
                char t[24];
                int64_t id = 0;
                if (len < sizeof t) {
                    memcpy(t, p, len);
                    t[len] = '\0';
                }
                if (len == 0 || len >= sizeof t || !parse_i64(t, &id) || id <= 0) {
                    wg_events_free(all, n);
                    free(cats);
                    return o311_error(r, 400, "service_request_id is a comma list of request ids");
                }
                wg_event e;
                if (wg_event_get(r->ctx, id, &e) == WG_OK) { /* unknown ids: simply not listed */
                    if (n < O311_MAX && grow_events(&all, &cap, n))
                        all[n++] = e;
                    else
                        wg_event_clear(&e);
                }
                p += len + (p[len] == ',');
            }
        } else if (codes) {
            for (const char *p = codes; *p && rc == WG_OK;) {
                size_t len = strcspn(p, ",");
                char code[8];
                if (len == 4) {
                    memcpy(code, p, 4);
                    code[4] = '\0';
                    f.category = code;
                    rc = o311_collect(r, &f, &all, &n, &cap);
                } else {
                    rc = WG_EINVAL;
                    wg_events_free(all, n);
                    free(cats);
                    return o311_error(r, 400, "service_code is a comma list of 4-digit codes");
                }
                p += len + (p[len] == ',');
            }
            if (n) qsort(all, n, sizeof *all, cmp_event_id);
        } else {
            rc = o311_collect(r, &f, &all, &n, &cap);
        }
    }
    if (rc != WG_OK) {
        wg_events_free(all, n);
        free(cats);
        return o311_rc(r, r->ctx, rc);
    }
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(a, o311_request(&all[i], cats, ncats, offset));
    wg_events_free(all, n);
    free(cats);
    return reply_json(r, 200, a);
}

enum MHD_Result h_open311(req *r, const char *rest)
{
    int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    int post = strcmp(r->method, "POST") == 0;
    enum MHD_Result res;
    size_t n = strlen(rest);
    if (n > 4 && strcmp(rest + n - 4, ".xml") == 0)
        return o311_error(r, 400, "only the JSON format is served: use .json");
    if (strcmp(rest, "services.json") == 0) {
        if (!get) return o311_error(r, 405, "use GET on services.json");
        if (!req_require(r, 0, &res)) return res;
        return o311_services(r);
    }
    if (strcmp(rest, "requests.json") == 0) {
        if (post) return o311_post(r);
        if (!get) return o311_error(r, 405, "use GET or POST on requests.json");
        if (!req_require(r, 0, &res)) return res;
        return o311_get(r, 0);
    }
    if (strncmp(rest, "requests/", 9) == 0 && n > 14 && strcmp(rest + n - 5, ".json") == 0) {
        char t[24];
        size_t len = n - 9 - 5;
        int64_t id;
        if (len >= sizeof t) return o311_error(r, 404, "no such service request");
        memcpy(t, rest + 9, len);
        t[len] = '\0';
        if (!parse_i64(t, &id) || id <= 0) return o311_error(r, 404, "no such service request");
        if (!get) return o311_error(r, 405, "use GET on requests/{id}.json");
        if (!req_require(r, 0, &res)) return res;
        return o311_get(r, id);
    }
    return o311_error(
        r, 404,
        "no such resource: /open311/v2/%.100s (services.json, requests.json, requests/{id}.json)",
        rest);
}
