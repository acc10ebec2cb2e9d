/* GET /tiles/{layers}/{z}/{x}/{y}.mvt and GET /tiles/{layers}.json (TileJSON 3.0.0).
 *
 * Rendered tiles are kept in a bounded LRU cache keyed by generation, layers and z/x/y, with a
 * gzip copy made on first demand. A publish moves the server to a new generation, so the
 * very next request asks for new keys: old tiles are unreachable at once and age out. The
 * ETag carries the generation and a hash of the bytes. */
#include "server.h"
#include "wangge/tiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct entry {
    char key[96];
    uint64_t hash;
    unsigned char *data, *gz;
    size_t len, gzlen;
    char etag[48];
    struct entry *prev, *next; /* LRU list, most recent first */
    struct entry *chain;       /* hash bucket */
} entry;

#define NBUCKETS 65536
struct tile_cache {
    pthread_mutex_t mu;
    entry *buckets[NBUCKETS];
    entry *head, *tail;
    size_t bytes, limit;
};

static uint64_t fnv1a(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}

int tiles_init(server *s)
{
    s->tiles = calloc(1, sizeof *s->tiles);
    if (!s->tiles) return WG_ENOMEM;
    pthread_mutex_init(&s->tiles->mu, NULL);
    s->tiles->limit = s->cfg.tile_cache_mb << 20;
    return WG_OK;
}

size_t tiles_bytes(server *s)
{
    if (!s->tiles) return 0;
    pthread_mutex_lock(&s->tiles->mu);
    size_t n = s->tiles->bytes;
    pthread_mutex_unlock(&s->tiles->mu);
    return n;
}

static void entry_free(entry *e)
{
    free(e->data);
    free(e->gz);
    free(e);
}

void tiles_free(server *s)
{
    if (!s->tiles) return;
    for (entry *e = s->tiles->head, *n; e; e = n) {
        n = e->next;
        entry_free(e);
    }
    pthread_mutex_destroy(&s->tiles->mu);
    free(s->tiles);
    s->tiles = NULL;
}

static size_t entry_bytes(const entry *e)
{
    return sizeof *e + e->len + e->gzlen;
}

static void unlink_lru(struct tile_cache *c, entry *e)
{
    if (e->prev) e->prev->next = e->next;
    else c->head = e->next;
    if (e->next) e->next->prev = e->prev;
    else c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void push_front(struct tile_cache *c, entry *e)
{
    e->next = c->head;
    e->prev = NULL;
    if (c->head) c->head->prev = e;
    c->head = e;
    if (!c->tail) c->tail = e;
}

static entry *find(struct tile_cache *c, const char *key, uint64_t h)
{
    for (entry *e = c->buckets[h % NBUCKETS]; e; e = e->chain)
        if (e->hash == h && strcmp(e->key, key) == 0) return e;
    return NULL;
}

static void evict(struct tile_cache *c)
{
    while (c->bytes > c->limit && c->tail) {
        entry *e = c->tail;
        unlink_lru(c, e);
        entry **pp = &c->buckets[e->hash % NBUCKETS];
        while (*pp != e) pp = &(*pp)->chain;
        *pp = e->chain;
        c->bytes -= entry_bytes(e);
        entry_free(e);
    }
}

static unsigned char *gzip_bytes(const unsigned char *data, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = deflateBound(&z, (uLong)len) + 32;
    unsigned char *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int ok = deflate(&z, Z_FINISH) == Z_STREAM_END;
    *out_len = z.total_out;
    deflateEnd(&z);
    if (!ok) {
        free(out);
        return NULL;
    }
    return out;
}

/* Answers from the cache entry e (cache locked); 304 when the client has this ETag. */
static enum MHD_Result answer_entry(req *r, entry *e, int want_gz, int *gz_missing)
{
    const char *inm = req_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
    int not_modified = inm && strstr(inm, e->etag) != NULL;
    *gz_missing = 0;
    if (!not_modified && want_gz && e->len > 0 && !e->gz) {
        *gz_missing = 1;
        return MHD_NO;
    }
    const unsigned char *body = not_modified ? NULL : want_gz && e->len > 0 ? e->gz : e->data;
    size_t len = not_modified ? 0 : want_gz && e->len > 0 ? e->gzlen : e->len;
    unsigned status = not_modified ? 304 : e->len == 0 ? 204 : 200;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/vnd.mapbox-vector-tile");
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, e->etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    if (!not_modified && want_gz && e->len > 0) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    r->status = status;
    r->sent = len;
    enum MHD_Result res = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return res;
}

static int parse_uint(const char *s, size_t n, long *v)
{
    if (n == 0 || n > 9) return 0;
    long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 1;
}

static enum MHD_Result tilejson(req *r, unsigned mask, const char *layers)
{
    int rc;
    struct wg_tileset *ts = state_tileset(r->snap, r->ctx, &rc);
    if (!ts) return reply_rc(r, rc);
    char base[320], url[800];
    req_base_url(r, base, sizeof base);
    if (req_arg(r, "generation")) /* a chosen generation (a draft under review): keep it */
        snprintf(url, sizeof url, "%s/tiles/%s/{z}/{x}/{y}.mvt?generation=%lld", base, layers, (long long)r->snap->gen);
    else
        snprintf(url, sizeof url, "%s/tiles/%s/{z}/{x}/{y}.mvt", base, layers);
    double bounds[4], center[2];
    wg_tileset_bounds(ts, bounds, center);
    json_object *o = json_object_new_object(), *tiles = json_object_new_array(), *vl = json_object_new_array();
    json_object_object_add(o, "tilejson", json_object_new_string("3.0.0"));
    json_object_object_add(o, "name", json_object_new_string("wangge grids"));
    char desc[96];
    snprintf(desc, sizeof desc, "Districts, communities and work grids of %s generation %lld",
             req_arg(r, "generation") ? "the chosen" : "the active", (long long)r->snap->gen);
    json_object_object_add(o, "description", json_object_new_string(desc));
    json_object_object_add(o, "version", json_object_new_string("1.0.0"));
    json_object_object_add(o, "attribution", json_object_new_string("wangge"));
    json_object_object_add(o, "scheme", json_object_new_string("xyz"));
    json_object_array_add(tiles, json_object_new_string(url));
    json_object_object_add(o, "tiles", tiles);
    int minz = 99, maxz = 0;
    for (unsigned bit = 1; bit <= WG_TL_LABELS; bit <<= 1) {
        if (!(mask & bit)) continue;
        int lo, hi;
        wg_tileset_layer_zooms(ts, bit, &lo, &hi);
        minz = lo < minz ? lo : minz;
        maxz = hi > maxz ? hi : maxz;
        json_object *l = json_object_new_object(), *fields = json_object_new_object();
        json_object_object_add(l, "id", json_object_new_string(wg_tile_layer_name(bit)));
        json_object_object_add(fields, "code", json_object_new_string("String"));
        json_object_object_add(fields, "name", json_object_new_string("String"));
        json_object_object_add(fields, "level", json_object_new_string("Number"));
        if (bit != WG_TL_LABELS) {
            json_object_object_add(fields, "parent", json_object_new_string("String"));
            json_object_object_add(fields, "households", json_object_new_string("Number"));
            json_object_object_add(fields, "worker", json_object_new_string("String"));
        }
        json_object_object_add(l, "fields", fields);
        json_object_object_add(l, "minzoom", json_object_new_int(lo));
        json_object_object_add(l, "maxzoom", json_object_new_int(hi));
        json_object_array_add(vl, l);
    }
    json_object_object_add(o, "vector_layers", vl);
    json_object_object_add(o, "minzoom", json_object_new_int(minz));
    json_object_object_add(o, "maxzoom", json_object_new_int(maxz));
    json_object *b = json_object_new_array(), *c = json_object_new_array();
    for (int i = 0; i < 4; i++) json_object_array_add(b, json_object_new_double(bounds[i]));
    json_object_array_add(c, json_object_new_double(center[0]));
    json_object_array_add(c, json_object_new_double(center[1]));
    json_object_array_add(c, json_object_new_int(minz > 12 ? minz : 12));
    json_object_object_add(o, "bounds", b);
    json_object_object_add(o, "center", c);
    json_object_object_add(o, "generation", json_object_new_int64(r->snap->gen));
    return reply_json(r, 200, o);
}

enum MHD_Result h_tiles(req *r, const char *rest)
{
    static const char *const ARGS[] = {"generation", NULL};
    enum MHD_Result res;
    if (!req_args_allowed(r, ARGS, &res)) return res;
    const char *g = req_arg(r, "generation");
    int64_t gen = 0;
    if (g && (!parse_i64(g, &gen) || gen <= 0))
        return reply_error(r, 400, "bad_generation", "generation must be a positive number, not '%.32s'", g);
    const char *slash = strchr(rest, '/');
    size_t ln = slash ? (size_t)(slash - rest) : strlen(rest);
    char layers[128];
    int json = !slash && ln > 5 && strcmp(rest + ln - 5, ".json") == 0;
    if (json) ln -= 5;
    if (ln == 0 || ln >= sizeof layers) return reply_error(r, 400, "bad_layers", "layers must be a comma-separated list");
    memcpy(layers, rest, ln);
    layers[ln] = '\0';
    unsigned mask;
    if (wg_tile_layers_parse(layers, &mask) != WG_OK)
        return reply_error(r, 400, "bad_layers", "layers are districts, communities, grids, labels (comma-separated), not '%.64s'", layers);
    if (!slash && !json) return reply_error(r, 404, "not_found", "use /tiles/{layers}/{z}/{x}/{y}.mvt or /tiles/{layers}.json");
    long z = 0, x = 0, y = 0;
    if (!json) {
        const char *p = slash + 1, *q1 = strchr(p, '/'), *q2 = q1 ? strchr(q1 + 1, '/') : NULL;
        const char *dot = q2 ? strstr(q2 + 1, ".mvt") : NULL;
        if (!q1 || !q2 || !dot || strcmp(dot, ".mvt") != 0 || !parse_uint(p, (size_t)(q1 - p), &z) ||
            !parse_uint(q1 + 1, (size_t)(q2 - q1 - 1), &x) || !parse_uint(q2 + 1, (size_t)(dot - q2 - 1), &y))
            return reply_error(r, 400, "bad_tile", "expected /tiles/{layers}/{z}/{x}/{y}.mvt with whole numbers");
        if (z > 22 || x >= (1L << z) || y >= (1L << z))
            return reply_error(r, 400, "bad_tile", "tile %ld/%ld/%ld is out of range (z 0..22, x and y below 2^z)", z, x, y);
    }
    if (gen) {
        int rc = WG_OK;
        r->snap = state_acquire_gen(r->s, r->ctx, gen, &rc);
        if (!r->snap)
            return rc == WG_ENOTFOUND ? reply_error(r, 404, "no_such_generation", "generation %lld does not exist", (long long)gen)
                                      : reply_rc(r, rc);
    } else {
        r->snap = state_acquire(r->s, r->ctx);
        if (!r->snap) return reply_error(r, 503, "unavailable", "no active generation");
    }
    if (json) {
        r->route = RT_TILEJSON;
        return tilejson(r, mask, layers);
    }
    const char *ae = req_header(r, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    int want_gz = ae && strstr(ae, "gzip");
    char key[96]; /* a draft's tiles are keyed by its revision too */
    snprintf(key, sizeof key, "%lld.%llx/%u/%ld/%ld/%ld", (long long)r->snap->gen, (unsigned long long)r->snap->rev, mask, z,
             x, y);
    uint64_t h = fnv1a(key, strlen(key));
    struct tile_cache *c = r->s->tiles;
    for (int round = 0; round < 2; round++) {
        pthread_mutex_lock(&c->mu);
        entry *e = find(c, key, h);
        if (e) {
            unlink_lru(c, e);
            push_front(c, e);
            int gz_missing;
            res = answer_entry(r, e, want_gz, &gz_missing);
            if (!gz_missing) {
                pthread_mutex_unlock(&c->mu);
                if (round == 0) atomic_fetch_add(&r->s->m.tile_hits, 1);
                return res;
            }
            /* compress outside the lock, then store the copy */
            size_t len = e->len;
            unsigned char *raw = malloc(len);
            if (raw) memcpy(raw, e->data, len);
            pthread_mutex_unlock(&c->mu);
            size_t gzlen = 0;
            unsigned char *gz = raw ? gzip_bytes(raw, len, &gzlen) : NULL;
            free(raw);
            if (!gz) return reply_error(r, 503, "out_of_memory", "cannot compress the tile");
            pthread_mutex_lock(&c->mu);
            e = find(c, key, h);
            if (e && !e->gz) {
                e->gz = gz;
                e->gzlen = gzlen;
                c->bytes += gzlen;
                gz = NULL;
            }
            pthread_mutex_unlock(&c->mu);
            free(gz);
            continue; /* answer from the entry (or render again if it was evicted) */
        }
        pthread_mutex_unlock(&c->mu);
        if (round == 1) break;
        int rc;
        struct wg_tileset *ts = state_tileset(r->snap, r->ctx, &rc);
        if (!ts) return reply_rc(r, rc);
        unsigned char *data = NULL;
        size_t len = 0;
        rc = wg_tile_render(ts, r->ctx, mask, (int)z, (int)x, (int)y, &data, &len);
        if (rc != WG_OK) return reply_rc(r, rc);
        atomic_fetch_add(&r->s->m.tile_misses, 1);
        entry *n = calloc(1, sizeof *n);
        if (!n) {
            free(data);
            return reply_error(r, 503, "out_of_memory", "out of memory");
        }
        snprintf(n->key, sizeof n->key, "%s", key);
        n->hash = h;
        n->data = data;
        n->len = len;
        snprintf(n->etag, sizeof n->etag, "\"g%lld-%016llx\"", (long long)r->snap->gen,
                 (unsigned long long)fnv1a(data, len));
        if (want_gz && len > 0) n->gz = gzip_bytes(data, len, &n->gzlen);
        pthread_mutex_lock(&c->mu);
        e = find(c, key, h);
        if (!e) { /* first to render it */
            n->chain = c->buckets[h % NBUCKETS];
            c->buckets[h % NBUCKETS] = n;
            push_front(c, n);
            c->bytes += entry_bytes(n);
            e = n;
            n = NULL;
        }
        int gz_missing;
        res = answer_entry(r, e, want_gz && e->gz != NULL, &gz_missing);
        evict(c);
        pthread_mutex_unlock(&c->mu);
        if (n) entry_free(n);
        return res;
    }
    return reply_error(r, 503, "unavailable", "tile cache contention");
}
