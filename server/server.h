/* wangge-server: shared types of the HTTP layer. The server is thin: it parses requests,
 * calls libwangge and formats answers; every GIS decision lives in lib/. */
#ifndef WANGGE_SERVER_H
#define WANGGE_SERVER_H

#include "wangge/common.h"
#include "wangge/lookup.h"
#include "wangge/workers.h"

#include <json-c/json.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct srv_config {
    const char *addr;     /* listen address (default 127.0.0.1) */
    int port;             /* default 8080; 0 = any free port (printed) */
    const char *store;    /* default wangge.sqlite */
    const char *geodata;  /* city directory to create a missing store from */
    const char *web_dir;  /* built map page assets */
    int threads;          /* worker threads (default: number of CPUs) */
    int max_conns;        /* connection limit */
    int per_ip;           /* connections per client address */
    int timeout_s;        /* idle connection timeout */
    size_t max_body;      /* request body cap (413 above) */
    size_t max_batch;     /* points per POST /v1/lookup (413 above) */
    size_t tile_cache_mb; /* tile cache bound */
    const char *access_log; /* "-" stderr, a file, or "off" */
    int public_reads;     /* grids, tiles, features and lookups readable without a key (default 1) */
    size_t max_vertices;  /* positions in one feature of a planner edit (413 above); 0: lib's cap */
} srv_config;

/* One generation's read-only state, shared by every thread, reference counted. */
typedef struct snapshot {
    atomic_int refs;
    int64_t gen;
    uint64_t rev;             /* the draft's revision when loaded (wg_gen_revision); 0 otherwise */
    wg_lookup *lk;
    pthread_mutex_t ts_mu;    /* guards the lazy tileset */
    struct wg_tileset *ts;
} snapshot;

enum route {
    RT_OTHER, RT_LOOKUP, RT_LOOKUP_BATCH, RT_TILE, RT_TILEJSON, RT_OGC, RT_HEALTH, RT_METRICS, RT_MAP,
    RT_WORKERS, RT_NEAREST, RT_POSITIONS, RT_EVENTS, RT_OPEN311, RT_PLAN, RT_KEYS,
    RT_COUNT
};

#define LAT_BUCKETS 10
typedef struct metrics {
    atomic_ulong requests[RT_COUNT][6]; /* by status class 1xx..5xx (index 1..5) */
    atomic_ulong latency[RT_COUNT][LAT_BUCKETS + 1];
    atomic_ulong latency_us_sum[RT_COUNT];
    atomic_ulong tile_hits, tile_misses, reloads;
} metrics;

struct tile_cache;
struct web_assets;

typedef struct server {
    srv_config cfg;
    struct MHD_Daemon *daemon;
    pthread_mutex_t mu;        /* guards cur */
    pthread_mutex_t reload_mu; /* one reload at a time */
    snapshot *cur;
    snapshot *extra[4];        /* other generations asked for with generation=N */
    pthread_key_t thread_key;
    char *wal_path;
    atomic_uint_fast64_t epoch; /* bumped by writes made through this server (state_changed) */
    metrics m;
    struct tile_cache *tiles;
    struct web_assets *web;
    FILE *log;
    pthread_mutex_t log_mu;
    double started;
    struct guard *guard;       /* slow clients (guard.c); NULL until http_start */
} server;

typedef struct caller {
    int role;            /* one ROLE_ bit; 0 for the anonymous caller */
    char key_id[32];     /* "" when anonymous */
    char worker_id[65];  /* the worker a worker key speaks for, "" if none */
    int bad_key;         /* a key was presented but is unknown or revoked */
} caller;

/* One request in flight. */
typedef struct req {
    server *s;
    struct MHD_Connection *conn;
    const char *method, *url;
    char *body;
    size_t len, cap;
    int too_large;
    wg_ctx *ctx;      /* this thread's context (read-only store connection) */
    snapshot *snap;   /* the active generation, held for the request */
    enum route route;
    unsigned status;
    size_t sent;
    double t0;
    caller who;         /* the caller, once known (req_caller) */
    int who_known;
    /* a handler that suspended the connection to wait (POST /v1/positions waits for the
     * position writer without holding its thread): called when MHD resumes it */
    enum MHD_Result (*resume)(struct req *r);
    void *pending;
    void (*pending_free)(struct req *r); /* the request ended without resume answering (the
                                            client left): frees pending */
} req;

double srv_now(void);

/* state.c */
int state_init(server *s);
void state_free(server *s);
/* This thread's context, opened on first use; NULL on failure. */
wg_ctx *state_thread_ctx(server *s);
/* This thread's writable context (a second connection, opened on first use, for requests that
 * write: events, positions, keys, planner edits); NULL on failure. Call state_changed(s) after
 * a write that changes what readers see (a publish). */
wg_ctx *state_thread_wctx(server *s);
/* Tells every thread to look at the store on its next request (call after a write made through
 * this server, e.g. a publish). */
void state_changed(server *s);
/* The active generation's snapshot (noticing a publish by any process first). Release it. */
snapshot *state_acquire(server *s, wg_ctx *ctx);
/* The snapshot of generation gen (active or not); NULL with rc set (WG_ENOTFOUND, ...). */
snapshot *state_acquire_gen(server *s, wg_ctx *ctx, int64_t gen, int *rc);
void state_release(snapshot *snap);
/* Lookup answers show a grid worker's duty as it is now: after a duty change made through this
 * server (state_set_duty) or noticed in the store (state_refresh_duty). */
void state_set_duty(server *s, const char *worker_id, int on_duty);
void state_refresh_duty(server *s, wg_ctx *ctx);
/* The tileset of a snapshot, built on first use; NULL on failure. */
struct wg_tileset *state_tileset(snapshot *snap, wg_ctx *ctx, int *rc);

/* http.c: answers. Each returns the MHD result of queueing the response. */
enum MHD_Result reply(req *r, unsigned status, const char *ctype, const void *data, size_t len,
                      enum MHD_ResponseMemoryMode mode, const char *const *headers /* name,value,...,NULL */);
enum MHD_Result reply_json(req *r, unsigned status, json_object *o); /* consumes o */
enum MHD_Result reply_text_json(req *r, unsigned status, const char *ctype, char *text); /* frees text */
enum MHD_Result reply_error(req *r, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Maps a library rc to an HTTP error with wg_errmsg(ctx). */
enum MHD_Result reply_rc(req *r, int rc);
/* The (non-empty) body parsed as one JSON value, nothing but white space after it; the caller
 * puts it. Otherwise replies 415 (a Content-Type that is not JSON, see req_json_type) or 400
 * bad_json (not strict RFC 8259 JSON: comments, trailing commas, control characters, invalid
 * UTF-8, nesting deeper than REQ_JSON_MAX_DEPTH, numbers that are not finite such as NaN or
 * 1e400) (503 out of memory), sets *res, returns NULL. An empty body is the caller's to check. */
json_object *req_body_json(req *r, enum MHD_Result *res);
/* Nesting limit of request bodies: the deepest we read is a GeoJSON FeatureCollection of
 * MultiPolygons (7 levels); 32 leaves room for properties and stops "[[[[..." long before it
 * costs anything (400 bad_json beyond it). */
#define REQ_JSON_MAX_DEPTH 32
/* 1 if the Content-Type is absent or a JSON type (application/json, application/geo+json or
 * application/...+json, parameters allowed, a charset only utf-8); otherwise replies 415
 * unsupported_media_type, sets *res and returns 0. req_body_json checks it first. */
int req_json_type(req *r, enum MHD_Result *res);
/* Whether a Content-Type value names a JSON media type (as req_json_type, charset aside). */
int ctype_is_json(const char *ct);
/* 1 if the body is UTF-8 text with no control characters but tab, CR and LF (JSON allows no
 * others, raw); otherwise replies 400 with the error code given, sets *res and returns 0. */
int req_body_plain(req *r, enum MHD_Result *res, const char *code);
/* UTF-8: the length of the longest valid prefix of s[0..n); whether all of it is valid. */
size_t utf8_prefix(const char *s, size_t n);
int utf8_ok(const char *s, size_t n);
const char *req_arg(req *r, const char *name);
const char *req_header(req *r, const char *name);
/* 400 unless every query parameter is in allowed (NULL-terminated); returns 1 if all ok. */
int req_args_allowed(req *r, const char *const *allowed, enum MHD_Result *res);
/* Parses a finite double / whole number; 0 on garbage. */
int parse_double(const char *s, double *v);
int parse_i64(const char *s, int64_t *v);
/* The request's base URL (scheme://host) for links. */
void req_base_url(req *r, char *out, size_t n);
/* The daemon with no listening socket, fed by MHD_add_connection (tests/fuzz); WG_OK, WG_EIO
 * or WG_ENOMEM. */
int http_start_nolisten(server *s);

/* guard.c: every request must arrive whole and be answered within limit_s of the connection's
 * start or its previous request's end, or its socket is shut down (slow clients). */
struct guard *guard_new(double limit_s);
void guard_free(struct guard *g);
unsigned long guard_cut(struct guard *g); /* connections cut so far */
void guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                  enum MHD_ConnectionNotificationCode code);
void guard_request_done(struct guard *g, struct MHD_Connection *conn);

/* auth.c: API keys and roles. A caller presents its key as "Authorization: Bearer KEY" or
 * "X-API-Key: KEY"; no key is the anonymous caller. Roles are bits; admin may do anything. */
enum { ROLE_VIEWER = 1, ROLE_WORKER = 2, ROLE_DISPATCHER = 4, ROLE_PLANNER = 8, ROLE_ADMIN = 16 };
/* The caller of r (looked up once per request). Never NULL. */
const caller *req_caller(req *r);
/* 1 when the caller holds one of `roles` (or is admin). Otherwise replies 401 (no key, or an
 * unknown/revoked one) or 403 (a valid key of another role) with a JSON error and returns 0.
 * Reads that are public (cfg.public_reads) pass roles = 0: anyone passes unless public reads
 * are switched off, in which case any valid key does. */
int req_require(req *r, int roles, enum MHD_Result *res);
/* Whether personal data (phones, tracks) may be shown to this caller. */
int req_sees_personal(req *r);

/* handlers */
enum MHD_Result h_lookup_get(req *r);
enum MHD_Result h_lookup_post(req *r);
enum MHD_Result h_health(req *r);
enum MHD_Result h_metrics(req *r);
enum MHD_Result h_tiles(req *r, const char *rest);
enum MHD_Result h_ogc(req *r, const char *path);
enum MHD_Result h_web(req *r, const char *path);
/* h_workers.c: /v1/workers..., /v1/positions (sets r->route itself). The position index is
 * loaded by workers_init (after state_init) and freed by workers_free; workers_index gives it to
 * other handlers (e.g. wg_posindex_nearest_fn for an event's suggested assignee). */
enum MHD_Result h_workers(req *r, const char *path);
int workers_init(server *s);
void workers_free(server *s);
/* Before the HTTP daemon stops: answers no more positions by suspending, and waits until every
 * suspended positions request has been resumed and answered. */
void workers_quiesce(server *s);
struct wg_posindex *workers_index(server *s);
/* The position writer's counts (all 0 when positions cannot be stored). */
void workers_writer_stats(wg_poswriter_stats *out);
/* Picks up worker changes made by other processes (at most once a second; cheap otherwise). */
void workers_maybe_sync(req *r);
/* h_events.c: /v1/events..., /v1/stats, /v1/categories, /v1/calendar; Open311 GeoReport v2
 * under /open311/v2/ (rest: the path after it). */
enum MHD_Result h_events(req *r, const char *path);
enum MHD_Result h_open311(req *r, const char *rest);
enum MHD_Result h_plan(req *r, const char *path);
int web_init(server *s);
void web_free(server *s);
int tiles_init(server *s);
void tiles_free(server *s);
/* Bytes held by the tile cache (tiles and their gzip copies). */
size_t tiles_bytes(server *s);

#endif
