/* Workers, GPS positions and the nearest worker (issue 6):
 *   GET    /v1/workers/nearest?lon=&lat=[&k=1][&on_duty=true|false|any][&seen_within_min=N]
 *          [&role=grid_worker|officer][&grid=CODE|same][&community=CODE|same][&crs=gcj02]
 *   GET    /v1/workers                       every worker (dispatcher)
 *   POST   /v1/workers                       register or update {"id","name","phone","role",
 *                                            "home_grid","on_duty"} (dispatcher): 201 / 200
 *   GET    /v1/workers/{id}
 *   DELETE /v1/workers/{id}                  deregister (dispatcher)
 *   POST   /v1/workers/{id}/duty             {"on_duty":true} (dispatcher, or the worker's own key)
 *   GET    /v1/workers/{id}/track?[from=][&to=][&limit=]   (dispatcher)
 *   POST   /v1/positions[?crs=gcj02]         one fix or an array of fixes {"worker_id","lon",
 *                                            "lat","at","accuracy_m"} (worker keys: their own)
 * Who may: nearest and worker reads need a viewer, worker or dispatcher key (positions of staff
 * are not public); phones only for dispatchers and admins (req_sees_personal); tracks are
 * dispatchers'. grid=same / community=same: the grid (community) the query point lies in, in
 * the active generation. Times ("at", from, to): RFC 3339 (without an offset: +08:00, the
 * calendar's) or whole milliseconds since the epoch.
 *
 * The position index lives here: loaded from the store at start (workers_init), kept in step by
 * every write made through this server (the library applies them under the index's writers'
 * lock), and reconciled with the store at most once a second (wg_posindex_sync), so changes
 * made by other processes (wangge import --workers, wangge workers ...) show within a second.
 * Fixes behind the retention (30 days) are pruned at most once an hour, by the request that
 * notices. */
#include "server.h"
#include "wangge/crs.h"
#include "wangge/events.h"
#include "wangge/workers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NEAREST_MAX_K 100        /* a dispatcher's list; the library allows more */
#define SYNC_INTERVAL_US 1000000 /* reconcile with the store at most this often */
#define PRUNE_INTERVAL_US 3600000000LL
#define MERGE_INTERVAL_MS 3000 /* the writer moves the position inbox into the track this often */
/* The position writer's page cache: the track's inner pages and recent tails stay cached
 * between its transactions (no other connection writes fixes) */
#define POSWRITER_CACHE_KIB 16384
#define TRACK_DEFAULT_MS (24 * 3600 * 1000LL)
#define TRACK_LIMIT_DEFAULT 10000
#define TRACK_LIMIT_MAX 100000

static wg_posindex *g_idx;
static wg_poswriter *g_writer; /* NULL: the store cannot be written */
static atomic_llong g_synced_us, g_pruned_us;

/* Suspended positions requests, so that the server stops only once they are all answered. */
static pthread_mutex_t g_pos_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_pos_cv = PTHREAD_COND_INITIALIZER;
static size_t g_pos_waiting;
static int g_pos_stopping;

int workers_init(server *s)
{
    g_idx = wg_posindex_new(0);
    wg_ctx *ctx = state_thread_ctx(s);
    if (!g_idx || !ctx) return WG_ENOMEM;
    g_pos_stopping = 0; /* a server started again in the same process (the fuzz harness) */
    /* fixes go through one writer thread (group commit); it first merges what a previous run
     * left in the inbox */
    wg_poswriter_opts po = {MERGE_INTERVAL_MS, 0, POSWRITER_CACHE_KIB};
    g_writer = wg_poswriter_new(ctx, s->cfg.store, g_idx, &po);
    if (!g_writer) fprintf(stderr, "wangge-server: positions cannot be stored: %s\n", wg_errmsg(ctx));
    size_t n = 0;
    int rc = wg_posindex_sync(g_idx, ctx, &n);
    if (rc != WG_OK)
        fprintf(stderr, "wangge-server: cannot load the workers: %s\n", wg_errmsg(ctx));
    atomic_store(&g_synced_us, (long long)(srv_now() * 1e6));
    return rc;
}

void workers_free(server *s)
{
    wg_ctx *ctx = g_writer ? state_thread_ctx(s) : NULL;
    if (g_writer && wg_poswriter_free(g_writer, ctx) != WG_OK && ctx) /* merges the inbox */
        fprintf(stderr, "wangge-server: position merge: %s\n", wg_errmsg(ctx));
    g_writer = NULL;
    wg_posindex_free(g_idx);
    g_idx = NULL;
}

struct wg_posindex *workers_index(server *s)
{
    (void)s;
    return g_idx;
}

void workers_writer_stats(wg_poswriter_stats *out)
{
    memset(out, 0, sizeof *out);
    if (g_writer) wg_poswriter_get_stats(g_writer, out);
}

/* One thread at a time, at most once per interval: 1 if this caller's turn has come. */
static int turn(atomic_llong *last, long long interval_us)
{
    long long now = (long long)(srv_now() * 1e6), seen = atomic_load(last);
    return now - seen >= interval_us && atomic_compare_exchange_strong(last, &seen, now);
}

void workers_maybe_sync(req *r)
{
    if (!g_idx || !r->ctx || !turn(&g_synced_us, SYNC_INTERVAL_US)) return;
    size_t changed = 0;
    if (wg_posindex_sync(g_idx, r->ctx, &changed) != WG_OK)
        fprintf(stderr, "wangge-server: worker sync: %s\n", wg_errmsg(r->ctx));
    else if (changed)
        state_refresh_duty(r->s, r->ctx);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void maybe_prune(wg_ctx *w)
{
    if (!turn(&g_pruned_us, PRUNE_INTERVAL_US)) return;
    size_t gone = 0;
    if (wg_track_prune(w, now_ms() - WG_TRACK_RETENTION_MS, &gone) != WG_OK)
        fprintf(stderr, "wangge-server: track prune: %s\n", wg_errmsg(w));
    else if (gone)
        fprintf(stderr, "wangge-server: pruned %zu fixes older than the retention\n", gone);
}

/* An error from a library call on ctx (the writable context carries its own message). */
static enum MHD_Result fail_msg(req *r, int rc, const char *msg)
{
    switch (rc) {
    case WG_EINVAL:
        return reply_error(r, 400, "bad_request", "%s", msg);
    case WG_EDATA:
        return reply_error(r, 400, "bad_data", "%s", msg);
    case WG_ENOTFOUND:
        return reply_error(r, 404, "not_found", "%s", msg);
    case WG_ECONFLICT:
        return reply_error(r, 409, "conflict", "%s", msg);
    case WG_ENOMEM:
        return reply_error(r, 503, "out_of_memory", "%s", msg);
    default:
        return reply_error(r, 500, "internal", "%s", msg);
    }
}

static enum MHD_Result fail(req *r, wg_ctx *ctx, int rc)
{
    return fail_msg(r, rc, wg_errmsg(ctx));
}

static int in_range(double lon, double lat)
{
    return lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90;
}

static int parse_crs(req *r, wg_crs *crs, enum MHD_Result *res)
{
    const char *c = req_arg(r, "crs");
    *crs = WG_CRS_WGS84;
    if (!c || wg_crs_parse(c, crs) == WG_OK) return 1;
    *res = reply_error(r, 400, "bad_crs", "crs must be wgs84 or gcj02, not '%.32s'", c);
    return 0;
}

/* ---------------------------------------------------------------- nearest */

static const char *const NEAREST_ARGS[] = {
    "lon", "lat", "k", "on_duty", "seen_within_min", "role", "grid", "community", "crs", NULL};

/* grid=same / community=same: the unit holding (lon, lat); NULL (with a reply) if none. */
static const char *same_unit(req *r, double lon, double lat, int community, enum MHD_Result *res)
{
    wg_hit h;
    wg_lookup_point(r->snap->lk, r->ctx, lon, lat, &h);
    const wg_unit *u = wg_lookup_unit(r->snap->lk, community ? h.community : h.grid);
    if (!u)
        *res = reply_error(r, 400, "outside",
                           "the point lies in no %s of generation %lld, so '%s=same' means nothing",
                           community ? "community" : "grid", (long long)r->snap->gen,
                           community ? "community" : "grid");
    return u ? u->code : NULL;
}

static enum MHD_Result nearest(req *r)
{
    enum MHD_Result res;
    if (!req_require(r, ROLE_VIEWER | ROLE_WORKER | ROLE_DISPATCHER, &res)) return res;
    if (!req_args_allowed(r, NEAREST_ARGS, &res)) return res;
    const char *slon = req_arg(r, "lon"), *slat = req_arg(r, "lat");
    if (!slon || !slat) return reply_error(r, 400, "missing_parameter", "lon and lat are required");
    double ilon, ilat;
    if (!parse_double(slon, &ilon) || !parse_double(slat, &ilat) || !in_range(ilon, ilat))
        return reply_error(r, 400, "bad_coordinates",
                           "lon and lat must be decimal degrees within [-180, 180] and [-90, 90]");
    wg_crs crs;
    if (!parse_crs(r, &crs, &res)) return res;
    wg_near_query q = {0};
    q.lon = ilon, q.lat = ilat;
    if (crs == WG_CRS_GCJ02) wg_gcj02_to_wgs84(ilon, ilat, &q.lon, &q.lat);
    int64_t k = 1;
    const char *v = req_arg(r, "k");
    if (v && (!parse_i64(v, &k) || k < 1 || k > NEAREST_MAX_K))
        return reply_error(r, 400, "bad_k", "k must be a whole number from 1 to %d", NEAREST_MAX_K);
    q.k = (int)k;
    q.duty = WG_DUTY_ON;
    if ((v = req_arg(r, "on_duty"))) {
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
            q.duty = WG_DUTY_ON;
        else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
            q.duty = WG_DUTY_OFF;
        else if (strcmp(v, "any") == 0)
            q.duty = WG_DUTY_ANY;
        else
            return reply_error(r, 400, "bad_on_duty", "on_duty must be true, false or any");
    }
    double minutes;
    if ((v = req_arg(r, "seen_within_min"))) {
        if (!parse_double(v, &minutes) || minutes <= 0 || minutes > 525600)
            return reply_error(r, 400, "bad_seen_within_min",
                               "seen_within_min must be minutes, above 0 and at most a year");
        q.seen_within_ms = (int64_t)(minutes * 60000);
    }
    if ((v = req_arg(r, "role")) && !(q.roles = wg_worker_role_parse(v)))
        return reply_error(r, 400, "bad_role", "role must be grid_worker or officer");
    r->snap = state_acquire(r->s, r->ctx);
    if (!r->snap) return reply_error(r, 503, "unavailable", "no active generation");
    const char *grid = req_arg(r, "grid"), *comm = req_arg(r, "community");
    if (grid && strcmp(grid, "same") == 0 && !(grid = same_unit(r, q.lon, q.lat, 0, &res)))
        return res;
    if (comm && strcmp(comm, "same") == 0 && !(comm = same_unit(r, q.lon, q.lat, 1, &res)))
        return res;
    q.grid = grid && *grid ? grid : NULL;
    q.community = comm && *comm ? comm : NULL;
    wg_near hits[NEAREST_MAX_K];
    size_t n;
    int rc = wg_posindex_nearest(g_idx, &q, hits, &n);
    if (rc != WG_OK)
        return reply_error(r, 503, "unavailable", "nearest failed (%s)", wg_rc_name(rc));
    unsigned flags =
        (req_sees_personal(r) ? WG_NEAR_PERSONAL : 0) | (crs == WG_CRS_GCJ02 ? WG_NEAR_GCJ02 : 0);
    char *text = wg_nearest_json(r->snap->lk, r->ctx, &q, hits, n, flags);
    if (text && crs == WG_CRS_GCJ02) { /* say what was asked, as /v1/lookup does */
        size_t len = strlen(text);
        char *out = malloc(len + 96);
        if (out) {
            memcpy(out, text, len - 1);
            snprintf(out + len - 1, 96,
                     ",\"input\":{\"lon\":%.10g,\"lat\":%.10g,\"crs\":\"gcj02\"}}", ilon, ilat);
        }
        free(text);
        text = out;
    }
    return reply_text_json(r, 200, NULL, text);
}

/* ---------------------------------------------------------------- JSON bodies */

/* The body as JSON; NULL with a reply when it is not. */
static json_object *body_json(req *r, enum MHD_Result *res)
{
    if (!req_json_type(r, res)) return NULL;
    if (!r->body || r->len == 0) {
        *res = reply_error(r, 400, "empty_body", "the body must be JSON");
        return NULL;
    }
    return req_body_json(r, res);
}

static int is_number(json_object *o)
{
    return o && (json_object_is_type(o, json_type_double) || json_object_is_type(o, json_type_int));
}

/* A member that must be a string (or absent / null when optional). 1 ok, 0 wrong type. */
static int member_text(json_object *o, const char *key, const char **out)
{
    json_object *v;
    *out = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !v) return 1;
    if (!json_object_is_type(v, json_type_string)) return 0;
    *out = json_object_get_string(v);
    return 1;
}

/* Only members from allowed: the name of the first other one, or NULL. */
static const char *unknown_member(json_object *o, const char *const *allowed)
{
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        const char *const *p = allowed;
        while (*p && strcmp(*p, key) != 0)
            p++;
        if (!*p) return key;
    }
    return NULL;
}

static enum MHD_Result worker_reply(req *r, wg_ctx *ctx, unsigned status, const char *id,
                                    int personal)
{
    wg_worker w;
    int rc = wg_worker_get(ctx, id, &w);
    if (rc != WG_OK) return fail(r, ctx, rc);
    char *text = wg_worker_json(&w, personal ? WG_NEAR_PERSONAL : 0);
    if (status == 201 && text) {
        char loc[128];
        snprintf(loc, sizeof loc, "/v1/workers/%s", w.id);
        const char *const h[] = {"Location", loc, NULL};
        return reply(r, 201, "application/json", text, strlen(text), MHD_RESPMEM_MUST_FREE, h);
    }
    return reply_text_json(r, status, NULL, text);
}

/* ---------------------------------------------------------------- workers */

static enum MHD_Result list(req *r)
{
    enum MHD_Result res;
    if (!req_require(r, ROLE_DISPATCHER, &res)) return res;
    static const char *const none[] = {NULL};
    if (!req_args_allowed(r, none, &res)) return res;
    wg_worker *all;
    size_t n;
    int rc = wg_workers_list(r->ctx, &all, &n);
    if (rc != WG_OK) return fail(r, r->ctx, rc);
    size_t cap = 64 + n * 256, len = 0;
    char *out = malloc(cap);
    int ok = out != NULL;
    if (ok) len = (size_t)snprintf(out, cap, "{\"count\":%zu,\"workers\":[", n);
    for (size_t i = 0; ok && i < n; i++) {
        char *one = wg_worker_json(&all[i], WG_NEAR_PERSONAL);
        size_t m = one ? strlen(one) : 0;
        if (one && len + m + 8 > cap) {
            char *bigger = realloc(out, cap = 2 * (len + m + 8));
            if (bigger)
                out = bigger;
            else
                ok = 0;
        }
        if (!one || !ok)
            ok = 0;
        else {
            if (i) out[len++] = ',';
            memcpy(out + len, one, m);
            len += m;
        }
        free(one);
    }
    free(all);
    if (!ok) {
        free(out);
        return reply_error(r, 503, "out_of_memory", "out of memory");
    }
    memcpy(out + len, "]}", 3);
    return reply(r, 200, "application/json", out, len + 2, MHD_RESPMEM_MUST_FREE, NULL);
}

static enum MHD_Result register_worker(req *r)
{
    enum MHD_Result res;
    if (!req_require(r, ROLE_DISPATCHER, &res)) return res;
    json_object *doc = body_json(r, &res);
    if (!doc) return res;
    static const char *const MEMBERS[] = {"id",        "name",    "phone", "role",
                                          "home_grid", "on_duty", NULL};
    wg_worker_reg w = {0};
    const char *role = NULL, *bad = NULL;
    json_object *duty = NULL;
    w.on_duty = -1;
    if (!json_object_is_type(doc, json_type_object))
        bad = "the body must be a JSON object";
    else if (unknown_member(doc, MEMBERS))
        bad = "unknown member";
    else if (!member_text(doc, "id", &w.id) || !member_text(doc, "name", &w.name) ||
             !member_text(doc, "phone", &w.phone) || !member_text(doc, "role", &role) ||
             !member_text(doc, "home_grid", &w.home_grid))
        bad = "id, name, phone, role and home_grid must be strings";
    else if (json_object_object_get_ex(doc, "on_duty", &duty) && duty &&
             !json_object_is_type(duty, json_type_boolean))
        bad = "on_duty must be true or false";
    if (bad) {
        const char *which =
            json_object_is_type(doc, json_type_object) ? unknown_member(doc, MEMBERS) : NULL;
        res = which
                  ? reply_error(
                        r, 400, "bad_body",
                        "unknown member '%.40s' (known: id, name, phone, role, home_grid, on_duty)",
                        which)
                  : reply_error(r, 400, "bad_body", "%s", bad);
        json_object_put(doc);
        return res;
    }
    if (duty) w.on_duty = json_object_get_boolean(duty) ? 1 : 0;
    w.role = wg_worker_role_parse(role);
    if (w.id && strcmp(w.id, "nearest") == 0) {
        json_object_put(doc);
        return reply_error(r, 400, "bad_request",
                           "'nearest' is reserved (GET /v1/workers/nearest)");
    }
    wg_ctx *wctx = state_thread_wctx(r->s);
    if (!wctx) {
        json_object_put(doc);
        return reply_error(r, 503, "unavailable", "cannot open the store for writing");
    }
    int created = 0;
    int rc = wg_worker_register(wctx, g_idx, &w, &created);
    char id[WG_WORKER_ID_MAX + 1];
    snprintf(id, sizeof id, "%s", w.id ? w.id : "");
    json_object_put(doc);
    if (rc != WG_OK) return fail(r, wctx, rc);
    if (w.on_duty >= 0) state_set_duty(r->s, id, w.on_duty);
    return worker_reply(r, wctx, created ? 201 : 200, id, 1);
}

static enum MHD_Result duty(req *r, const char *id)
{
    enum MHD_Result res;
    if (!req_require(r, ROLE_DISPATCHER | ROLE_WORKER, &res)) return res;
    const caller *c = req_caller(r);
    if (c->role == ROLE_WORKER && strcmp(c->worker_id, id) != 0)
        return reply_error(r, 403, "forbidden", "a worker key may set only its own worker's duty");
    json_object *doc = body_json(r, &res), *v = NULL;
    if (!doc) return res;
    static const char *const MEMBERS[] = {"on_duty", NULL};
    int ok = json_object_is_type(doc, json_type_object) && !unknown_member(doc, MEMBERS) &&
             json_object_object_get_ex(doc, "on_duty", &v) &&
             json_object_is_type(v, json_type_boolean);
    int on = ok && json_object_get_boolean(v);
    json_object_put(doc);
    if (!ok) return reply_error(r, 400, "bad_body", "the body must be {\"on_duty\": true|false}");
    wg_ctx *wctx = state_thread_wctx(r->s);
    if (!wctx) return reply_error(r, 503, "unavailable", "cannot open the store for writing");
    int rc = wg_worker_set_duty(wctx, g_idx, id, on);
    if (rc != WG_OK) return fail(r, wctx, rc);
    state_set_duty(r->s, id, on);
    return worker_reply(r, wctx, 200, id, req_sees_personal(r));
}

static enum MHD_Result deregister(req *r, const char *id)
{
    enum MHD_Result res;
    if (!req_require(r, ROLE_DISPATCHER, &res)) return res;
    wg_ctx *wctx = state_thread_wctx(r->s);
    if (!wctx) return reply_error(r, 503, "unavailable", "cannot open the store for writing");
    int rc = wg_worker_deregister(wctx, g_idx, id);
    if (rc != WG_OK) return fail(r, wctx, rc);
    state_set_duty(r->s, id, 0);
    return worker_reply(r, wctx, 200, id, 1);
}

static enum MHD_Result get_worker(req *r, const char *id)
{
    enum MHD_Result res;
    if (!req_require(r, ROLE_VIEWER | ROLE_WORKER | ROLE_DISPATCHER, &res)) return res;
    return worker_reply(r, r->ctx, 200, id, req_sees_personal(r));
}

/* A time argument: RFC 3339 or milliseconds. 1 ok; 0 with a reply. */
static int time_arg(req *r, const char *name, int64_t *ms, enum MHD_Result *res)
{
    const char *v = req_arg(r, name);
    if (!v) return 1;
    char msg[160] = "";
    if (parse_i64(v, ms) ||
        wg_time_parse(v, WG_CAL_DEFAULT_OFFSET_MIN, ms, msg, sizeof msg) == WG_OK)
        return 1;
    *res = reply_error(r, 400, "bad_time", "%s must be RFC 3339 or milliseconds since 1970 (%s)",
                       name, msg);
    return 0;
}

static enum MHD_Result track(req *r, const char *id)
{
    enum MHD_Result res;
    if (!req_require(r, ROLE_DISPATCHER, &res)) return res;
    static const char *const ARGS[] = {"from", "to", "limit", NULL};
    if (!req_args_allowed(r, ARGS, &res)) return res;
    int64_t to = now_ms(), from = INT64_MIN, limit = TRACK_LIMIT_DEFAULT;
    if (!time_arg(r, "to", &to, &res) || !time_arg(r, "from", &from, &res)) return res;
    if (from == INT64_MIN) from = to - TRACK_DEFAULT_MS;
    if (from > to) return reply_error(r, 400, "bad_time", "from is after to");
    const char *l = req_arg(r, "limit");
    if (l && (!parse_i64(l, &limit) || limit < 1 || limit > TRACK_LIMIT_MAX))
        return reply_error(r, 400, "bad_limit", "limit must be a whole number from 1 to %d",
                           TRACK_LIMIT_MAX);
    wg_track_point *pts;
    size_t n;
    int more;
    int rc = wg_track_get(r->ctx, id, from, to, (size_t)limit, &pts, &n, &more);
    if (rc != WG_OK) return fail(r, r->ctx, rc);
    size_t cap = 256 + n * 128, len = 0;
    char *out = malloc(cap), iso[32], iso2[32];
    if (!out) {
        free(pts);
        return reply_error(r, 503, "out_of_memory", "out of memory");
    }
    wg_ms_to_iso(from, iso);
    wg_ms_to_iso(to, iso2);
    json_object *jid = json_object_new_string(id);
    len += (size_t)snprintf(out, cap,
                            "{\"worker_id\":%s,\"from\":\"%s\",\"to\":\"%s\",\"count\":%zu,"
                            "\"truncated\":%s,\"points\":[",
                            json_object_to_json_string_ext(jid, JSON_C_TO_STRING_PLAIN), iso, iso2,
                            n, more ? "true" : "false");
    json_object_put(jid);
    for (size_t i = 0; i < n && len < cap; i++) {
        char acc[32] = "null";
        if (!isnan(pts[i].accuracy_m)) snprintf(acc, sizeof acc, "%.10g", pts[i].accuracy_m);
        wg_ms_to_iso(pts[i].at_ms, iso);
        len += (size_t)snprintf(
            out + len, cap - len,
            "%s{\"at\":\"%s\",\"at_ms\":%lld,\"lon\":%.10g,\"lat\":%.10g,\"accuracy_m\":%s}",
            i ? "," : "", iso, (long long)pts[i].at_ms, pts[i].lon, pts[i].lat, acc);
    }
    if (len + 3 > cap) len = cap - 3; /* cannot happen: 128 bytes a point is enough */
    memcpy(out + len, "]}", 3);
    free(pts);
    return reply(r, 200, "application/json", out, len + 2, MHD_RESPMEM_MUST_FREE, NULL);
}

/* ---------------------------------------------------------------- positions */

typedef struct item {
    const char *status, *reason; /* reason set: rejected */
    char message[160];
    int fix; /* index into the fixes handed to the library, -1 if none */
} item;

/* Reads one fix; on a fault fills it->reason and message and returns 0. */
static int read_fix(json_object *o, const caller *c, wg_crs crs, wg_fix *f, item *it)
{
    static const char *const MEMBERS[] = {"worker_id", "lon", "lat", "at", "accuracy_m", NULL};
    json_object *v;
    it->reason = "bad_item";
    if (!json_object_is_type(o, json_type_object)) {
        snprintf(it->message, sizeof it->message, "not a JSON object");
        return 0;
    }
    const char *extra = unknown_member(o, MEMBERS);
    if (extra) {
        snprintf(it->message, sizeof it->message, "unknown member '%.40s'", extra);
        return 0;
    }
    if (!member_text(o, "worker_id", &f->worker_id)) {
        snprintf(it->message, sizeof it->message, "worker_id must be a string");
        return 0;
    }
    if (!f->worker_id && c->role == ROLE_WORKER)
        f->worker_id = c->worker_id; /* a phone's own fixes */
    json_object *x = NULL, *y = NULL;
    json_object_object_get_ex(o, "lon", &x);
    json_object_object_get_ex(o, "lat", &y);
    if (!is_number(x) || !is_number(y)) {
        snprintf(it->message, sizeof it->message, "lon and lat must be numbers");
        return 0;
    }
    f->lon = json_object_get_double(x);
    f->lat = json_object_get_double(y);
    if (crs == WG_CRS_GCJ02 && isfinite(f->lon) && isfinite(f->lat) && in_range(f->lon, f->lat))
        wg_gcj02_to_wgs84(f->lon, f->lat, &f->lon, &f->lat);
    f->accuracy_m = NAN;
    if (json_object_object_get_ex(o, "accuracy_m", &v) && v) {
        if (!is_number(v)) {
            snprintf(it->message, sizeof it->message, "accuracy_m must be a number");
            return 0;
        }
        f->accuracy_m = json_object_get_double(v);
    }
    it->reason = "bad_time";
    if (!json_object_object_get_ex(o, "at", &v) || !v) {
        snprintf(it->message, sizeof it->message, "at (the time of the fix) is required");
        return 0;
    }
    if (json_object_is_type(v, json_type_int)) {
        f->at_ms = json_object_get_int64(v);
    } else if (json_object_is_type(v, json_type_string)) {
        char msg[128] = "";
        if (wg_time_parse(json_object_get_string(v), WG_CAL_DEFAULT_OFFSET_MIN, &f->at_ms, msg,
                          sizeof msg) != WG_OK) {
            snprintf(it->message, sizeof it->message, "at: %s", msg);
            return 0;
        }
    } else {
        snprintf(it->message, sizeof it->message, "at must be RFC 3339 text or whole milliseconds");
        return 0;
    }
    it->reason = NULL;
    return 1;
}

static const char *reason_text(const char *reason)
{
    static const char *const T[][2] = {
        {"bad_worker_id", "worker_id is missing or longer than 64 bytes"},
        {"unknown_worker", "no worker has this id"},
        {"deregistered", "the worker is deregistered"},
        {"bad_coordinates", "lon and lat must be finite, within [-180, 180] and [-90, 90]"},
        {"bad_accuracy", "accuracy_m must be a number of metres, 0 or more"},
        {"future", "the fix lies more than 5 minutes in the future (check the device's clock)"},
        {"too_old", "the fix is older than the track's retention (30 days)"},
    };
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
        if (strcmp(T[i][0], reason) == 0) return T[i][1];
    return reason;
}

static enum MHD_Result positions_reply(req *r, const item *items, size_t n,
                                       const wg_fix_counts *cnt)
{
    size_t cap = 256 + n * 64, len = 0;
    for (size_t i = 0; i < n; i++)
        cap += items[i].reason ? 256 : 0;
    char *out = malloc(cap);
    if (!out) return reply_error(r, 503, "out_of_memory", "out of memory");
    len += (size_t)snprintf(out, cap,
                            "{\"count\":%zu,\"current\":%zu,\"out_of_order\":%zu,\"duplicate\":%zu,"
                            "\"rejected\":%zu,\"results\":[",
                            n, cnt->current, cnt->track, cnt->duplicate, cnt->rejected);
    for (size_t i = 0; i < n && len < cap; i++) {
        if (!items[i].reason) {
            len += (size_t)snprintf(out + len, cap - len, "%s{\"status\":\"%s\"}", i ? "," : "",
                                    items[i].status);
            continue;
        }
        json_object *m = json_object_new_string(items[i].message[0] ? items[i].message
                                                                    : reason_text(items[i].reason));
        len += (size_t)snprintf(out + len, cap - len,
                                "%s{\"status\":\"rejected\",\"reason\":\"%s\",\"message\":%s}",
                                i ? "," : "", items[i].reason,
                                json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN));
        json_object_put(m);
    }
    if (len + 3 > cap) len = cap - 3;
    memcpy(out + len, "]}", 3);
    return reply(r, 200, "application/json", out, len + 2, MHD_RESPMEM_MUST_FREE, NULL);
}

/* A positions request waiting for the writer (its connection suspended). */
typedef struct pos_wait {
    struct MHD_Connection *conn;
    json_object *doc; /* the fixes' worker ids point into it */
    wg_fix *fixes;
    item *items;
    wg_fix_result *results;
    size_t n;
    wg_fix_counts cnt;
    int rc;
    char msg[256];
} pos_wait;

static int pos_begin(void)
{
    pthread_mutex_lock(&g_pos_mu);
    int ok = !g_pos_stopping;
    if (ok) g_pos_waiting++;
    pthread_mutex_unlock(&g_pos_mu);
    return ok;
}

static void pos_end(void)
{
    pthread_mutex_lock(&g_pos_mu);
    if (--g_pos_waiting == 0) pthread_cond_broadcast(&g_pos_cv);
    pthread_mutex_unlock(&g_pos_mu);
}

void workers_quiesce(server *s)
{
    (void)s;
    pthread_mutex_lock(&g_pos_mu);
    g_pos_stopping = 1;
    while (g_pos_waiting)
        pthread_cond_wait(&g_pos_cv, &g_pos_mu);
    pthread_mutex_unlock(&g_pos_mu);
}

/* The writer's report (on its thread): wakes the connection. */
static void positions_done(void *ud, int rc, const char *msg)
{
    pos_wait *pw = ud;
    pw->rc = rc;
    if (msg) snprintf(pw->msg, sizeof pw->msg, "%s", msg);
    MHD_resume_connection(pw->conn);
}

static void pos_wait_free(pos_wait *pw)
{
    json_object_put(pw->doc);
    free(pw->fixes), free(pw->items), free(pw->results), free(pw);
    pos_end();
}

/* The request ended while it waited or before its answer (the client closed the connection:
 * MHD notices once the connection is resumed, and ends it without asking for the answer). */
static void positions_abandoned(req *r)
{
    pos_wait_free(r->pending);
    r->pending = NULL;
}

/* The connection resumed: the answer. */
static enum MHD_Result positions_finish(req *r)
{
    pos_wait *pw = r->pending;
    r->pending = NULL;
    enum MHD_Result out;
    if (pw->rc != WG_OK) {
        out = fail_msg(r, pw->rc, pw->msg);
    } else {
        for (size_t i = 0; i < pw->n; i++) {
            if (pw->items[i].fix < 0) {
                pw->cnt.rejected++;
                continue;
            }
            const wg_fix_result *fr = &pw->results[pw->items[i].fix];
            pw->items[i].status = wg_fix_outcome_name(fr->outcome);
            pw->items[i].reason = fr->reason;
        }
        out = positions_reply(r, pw->items, pw->n, &pw->cnt);
    }
    pos_wait_free(pw);
    wg_ctx *wctx = state_thread_wctx(r->s);
    if (wctx) maybe_prune(wctx);
    return out;
}

static enum MHD_Result positions(req *r)
{
    enum MHD_Result res;
    if (!req_require(r, ROLE_WORKER | ROLE_DISPATCHER, &res)) return res;
    static const char *const ARGS[] = {"crs", NULL};
    if (!req_args_allowed(r, ARGS, &res)) return res;
    wg_crs crs;
    if (!parse_crs(r, &crs, &res)) return res;
    json_object *doc = body_json(r, &res);
    if (!doc) return res;
    int single = json_object_is_type(doc, json_type_object);
    if (!single && !json_object_is_type(doc, json_type_array)) {
        json_object_put(doc);
        return reply_error(r, 400, "bad_body", "expected a fix object or a JSON array of them");
    }
    size_t n = single ? 1 : json_object_array_length(doc);
    if (n > r->s->cfg.max_batch) {
        json_object_put(doc);
        return reply_error(r, 413, "batch_too_large", "%zu fixes in one batch; the limit is %zu", n,
                           r->s->cfg.max_batch);
    }
    const caller *c = req_caller(r);
    wg_fix *fixes = malloc((n ? n : 1) * sizeof *fixes);
    item *items = calloc(n ? n : 1, sizeof *items);
    wg_fix_result *results = malloc((n ? n : 1) * sizeof *results);
    if (!fixes || !items || !results) {
        free(fixes), free(items), free(results), json_object_put(doc);
        return reply_error(r, 503, "out_of_memory", "out of memory");
    }
    size_t m = 0;
    const char *foreign = NULL;
    for (size_t i = 0; i < n; i++) {
        json_object *o = single ? doc : json_object_array_get_idx(doc, i);
        items[i].fix = -1;
        if (!read_fix(o, c, crs, &fixes[m], &items[i])) continue;
        if (c->role == ROLE_WORKER &&
            (!fixes[m].worker_id || strcmp(fixes[m].worker_id, c->worker_id) != 0)) {
            foreign = fixes[m].worker_id ? fixes[m].worker_id : "";
            break;
        }
        items[i].fix = (int)m++;
    }
    if (foreign) {
        res = reply_error(
            r, 403, "forbidden",
            "a worker key may post only its own positions (worker '%.64s'), not '%.64s'",
            c->worker_id, foreign);
        free(fixes), free(items), free(results), json_object_put(doc);
        return res;
    }
    if (!g_writer || !pos_begin()) {
        free(fixes), free(items), free(results), json_object_put(doc);
        return g_writer ? reply_error(r, 503, "unavailable", "the server is stopping")
                        : reply_error(r, 503, "unavailable", "cannot open the store for writing");
    }
    /* the batch waits for the position writer's commit with its connection suspended, so this
     * thread goes on with other connections meanwhile (and their batches join the same commit) */
    pos_wait *pw = calloc(1, sizeof *pw);
    if (!pw) {
        pos_end();
        free(fixes), free(items), free(results), json_object_put(doc);
        return reply_error(r, 503, "out_of_memory", "out of memory");
    }
    *pw = (pos_wait){r->conn, doc, fixes, items, results, n, {0}, WG_OK, ""};
    r->pending = pw;
    r->pending_free = positions_abandoned;
    r->resume = positions_finish;
    MHD_suspend_connection(r->conn);
    if (wg_poswriter_submit(g_writer, r->ctx, fixes, m, NULL, results, &pw->cnt, positions_done, pw) != WG_OK)
        positions_done(pw, WG_ENOMEM, wg_errmsg(r->ctx));
    return MHD_YES;
}

/* ---------------------------------------------------------------- routing */

enum MHD_Result h_workers(req *r, const char *path)
{
    int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    int post = strcmp(r->method, "POST") == 0, del = strcmp(r->method, "DELETE") == 0;
    if (!g_idx) return reply_error(r, 503, "unavailable", "the worker index is not loaded");
    workers_maybe_sync(r);
    if (strcmp(path, "/v1/positions") == 0) {
        r->route = RT_POSITIONS;
        return post ? positions(r)
                    : reply_error(r, 405, "method_not_allowed", "use POST on /v1/positions");
    }
    if (strcmp(path, "/v1/workers/nearest") == 0) {
        r->route = RT_NEAREST;
        return get ? nearest(r)
                   : reply_error(r, 405, "method_not_allowed", "use GET on /v1/workers/nearest");
    }
    r->route = RT_WORKERS;
    if (strcmp(path, "/v1/workers") == 0) {
        if (get) return list(r);
        if (post) return register_worker(r);
        return reply_error(r, 405, "method_not_allowed", "use GET or POST on /v1/workers");
    }
    const char *id = path + strlen("/v1/workers/"), *slash = strchr(id, '/');
    size_t len = slash ? (size_t)(slash - id) : strlen(id);
    if (len < 1 || len > WG_WORKER_ID_MAX)
        return reply_error(r, 404, "not_found", "no such resource: %.200s", path);
    char wid[WG_WORKER_ID_MAX + 1];
    memcpy(wid, id, len);
    wid[len] = '\0';
    const char *sub = slash ? slash + 1 : "";
    if (!*sub) {
        if (get) return get_worker(r, wid);
        if (del) return deregister(r, wid);
        return reply_error(r, 405, "method_not_allowed", "use GET or DELETE on /v1/workers/{id}");
    }
    if (strcmp(sub, "duty") == 0)
        return post
                   ? duty(r, wid)
                   : reply_error(r, 405, "method_not_allowed", "use POST on /v1/workers/{id}/duty");
    if (strcmp(sub, "track") == 0)
        return get ? track(r, wid)
                   : reply_error(r, 405, "method_not_allowed", "use GET on /v1/workers/{id}/track");
    return reply_error(r, 404, "not_found", "no such resource: %.200s", path);
}
