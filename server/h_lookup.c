/* GET /v1/lookup?lon=&lat=[&crs=gcj02][&generation=N] and POST /v1/lookup (batches). */
#include "server.h"
#include "wangge/crs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const LOOKUP_ARGS[] = {"lon", "lat", "crs", "generation", NULL};

/* crs and generation parameters; replies with an error and returns NULL on a bad one. */
static snapshot *resolve(req *r, wg_crs *crs, enum MHD_Result *res)
{
    *crs = WG_CRS_WGS84;
    const char *c = req_arg(r, "crs"), *g = req_arg(r, "generation");
    if (c && wg_crs_parse(c, crs) != WG_OK) {
        *res = reply_error(r, 400, "bad_crs", "crs must be wgs84 or gcj02, not '%.32s'", c);
        return NULL;
    }
    if (!g) {
        snapshot *snap = state_acquire(r->s, r->ctx);
        if (!snap) *res = reply_error(r, 503, "unavailable", "no active generation");
        return snap;
    }
    int64_t gen;
    if (!parse_i64(g, &gen) || gen <= 0) {
        *res = reply_error(r, 400, "bad_generation", "generation must be a positive number, not '%.32s'", g);
        return NULL;
    }
    int rc = WG_OK;
    snapshot *snap = state_acquire_gen(r->s, r->ctx, gen, &rc);
    if (!snap) *res = rc == WG_ENOTFOUND ? reply_error(r, 404, "no_such_generation", "generation %lld does not exist", (long long)gen)
                                         : reply_rc(r, rc);
    return snap;
}

/* Checks a point; writes an error message into msg on failure. */
static int check_point(double lon, double lat, char *msg, size_t n)
{
    if (!isfinite(lon) || !isfinite(lat)) {
        snprintf(msg, n, "coordinates must be finite numbers");
        return 0;
    }
    if (lon < -180 || lon > 180 || lat < -90 || lat > 90) {
        snprintf(msg, n, "lon must be within [-180, 180] and lat within [-90, 90] (got %.10g, %.10g)", lon, lat);
        return 0;
    }
    return 1;
}

/* The worker's phone only for callers entitled to personal data. */
static unsigned personal(req *r)
{
    return req_sees_personal(r) ? WG_LOOKUP_PERSONAL : 0;
}

/* The library's answer, plus the input point when it was converted from GCJ-02. */
static char *answer(const snapshot *snap, wg_ctx *ctx, wg_crs crs, double lon, double lat, unsigned flags)
{
    double x = lon, y = lat;
    if (crs == WG_CRS_GCJ02) wg_gcj02_to_wgs84(lon, lat, &x, &y);
    wg_hit h;
    wg_lookup_point(snap->lk, ctx, x, y, &h);
    char *text = wg_lookup_json_ex(snap->lk, &h, x, y, flags);
    if (!text || crs == WG_CRS_WGS84) return text;
    size_t n = strlen(text);
    char *out = malloc(n + 96);
    if (!out) {
        free(text);
        return NULL;
    }
    memcpy(out, text, n - 1); /* drop the closing brace */
    snprintf(out + n - 1, 96, ",\"input\":{\"lon\":%.10g,\"lat\":%.10g,\"crs\":\"gcj02\"}}", lon, lat);
    free(text);
    return out;
}

enum MHD_Result h_lookup_get(req *r)
{
    enum MHD_Result res;
    if (!req_args_allowed(r, LOOKUP_ARGS, &res) || !req_require(r, 0, &res)) return res;
    workers_maybe_sync(r); /* duty flags changed by other processes */
    const char *slon = req_arg(r, "lon"), *slat = req_arg(r, "lat");
    if (!slon || !slat) return reply_error(r, 400, "missing_parameter", "lon and lat are required");
    double lon, lat;
    char msg[160];
    if (!parse_double(slon, &lon) || !parse_double(slat, &lat))
        return reply_error(r, 400, "bad_coordinates", "lon and lat must be decimal degrees");
    if (!check_point(lon, lat, msg, sizeof msg)) return reply_error(r, 400, "bad_coordinates", "%s", msg);
    wg_crs crs;
    r->snap = resolve(r, &crs, &res);
    if (!r->snap) return res;
    return reply_text_json(r, 200, NULL, answer(r->snap, r->ctx, crs, lon, lat, personal(r)));
}

/* ---------------------------------------------------------------- batches */

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static int put(buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return 0;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 1;
}

static int number_of(json_object *o, double *v)
{
    if (!o || !(json_object_is_type(o, json_type_double) || json_object_is_type(o, json_type_int))) return 0;
    *v = json_object_get_double(o);
    return 1;
}

/* lon/lat of one batch item: [lon, lat], {"lon":..,"lat":..} or a GeoJSON Point feature. */
static int item_point(json_object *it, double *lon, double *lat)
{
    if (json_object_is_type(it, json_type_array))
        return json_object_array_length(it) >= 2 && number_of(json_object_array_get_idx(it, 0), lon) &&
               number_of(json_object_array_get_idx(it, 1), lat);
    if (!json_object_is_type(it, json_type_object)) return 0;
    json_object *g, *c, *t;
    if (json_object_object_get_ex(it, "geometry", &g)) {
        if (!json_object_object_get_ex(g, "type", &t) || !json_object_is_type(t, json_type_string) ||
            strcmp(json_object_get_string(t), "Point") != 0 || !json_object_object_get_ex(g, "coordinates", &c))
            return 0;
        return item_point(c, lon, lat);
    }
    json_object *x, *y;
    return json_object_object_get_ex(it, "lon", &x) && json_object_object_get_ex(it, "lat", &y) &&
           number_of(x, lon) && number_of(y, lat);
}

enum MHD_Result h_lookup_post(req *r)
{
    enum MHD_Result res;
    if (!req_args_allowed(r, LOOKUP_ARGS, &res) || !req_require(r, 0, &res)) return res;
    workers_maybe_sync(r); /* duty flags changed by other processes */
    if (!req_json_type(r, &res)) return res;
    if (!r->body || r->len == 0) return reply_error(r, 400, "empty_body", "the body must be a JSON array or a GeoJSON FeatureCollection");
    json_object *doc = req_body_json(r, &res);
    if (!doc) return res;
    json_object *items = doc, *t;
    if (json_object_is_type(doc, json_type_object)) {
        if (!json_object_object_get_ex(doc, "type", &t) || !json_object_is_type(t, json_type_string) ||
            strcmp(json_object_get_string(t), "FeatureCollection") != 0 ||
            !json_object_object_get_ex(doc, "features", &items)) {
            json_object_put(doc);
            return reply_error(r, 400, "bad_body", "expected a JSON array of points or a GeoJSON FeatureCollection");
        }
    }
    if (!json_object_is_type(items, json_type_array)) {
        json_object_put(doc);
        return reply_error(r, 400, "bad_body", "expected a JSON array of points or a GeoJSON FeatureCollection");
    }
    size_t n = json_object_array_length(items);
    if (n > r->s->cfg.max_batch) {
        json_object_put(doc);
        return reply_error(r, 413, "batch_too_large", "%zu points in one batch; the limit is %zu", n, r->s->cfg.max_batch);
    }
    double *lon = malloc((n ? n : 1) * sizeof *lon), *lat = malloc((n ? n : 1) * sizeof *lat);
    if (!lon || !lat) {
        free(lon), free(lat), json_object_put(doc);
        return reply_error(r, 503, "out_of_memory", "out of memory");
    }
    char msg[200];
    for (size_t i = 0; i < n; i++) {
        if (!item_point(json_object_array_get_idx(items, i), &lon[i], &lat[i])) {
            free(lon), free(lat), json_object_put(doc);
            return reply_error(r, 400, "bad_point", "item %zu is not a point ([lon, lat], {\"lon\", \"lat\"} or a Point feature)", i);
        }
        if (!check_point(lon[i], lat[i], msg, sizeof msg)) {
            free(lon), free(lat), json_object_put(doc);
            return reply_error(r, 400, "bad_coordinates", "item %zu: %s", i, msg);
        }
    }
    json_object_put(doc);
    wg_crs crs;
    r->snap = resolve(r, &crs, &res);
    if (!r->snap) {
        free(lon), free(lat);
        return res;
    }
    buf b = {0};
    unsigned flags = personal(r);
    char head[96];
    int ok = put(&b, head, (size_t)snprintf(head, sizeof head, "{\"generation\":%lld,\"count\":%zu,\"results\":[",
                                              (long long)r->snap->gen, n));
    for (size_t i = 0; ok && i < n; i++) {
        char *one = answer(r->snap, r->ctx, crs, lon[i], lat[i], flags);
        ok = one && (i == 0 || put(&b, ",", 1)) && put(&b, one, strlen(one));
        free(one);
    }
    ok = ok && put(&b, "]}", 2);
    free(lon), free(lat);
    if (!ok) {
        free(b.p);
        return reply_error(r, 503, "out_of_memory", "out of memory");
    }
    return reply(r, 200, "application/json", b.p, b.n, MHD_RESPMEM_MUST_FREE, NULL);
}
