/* The HTTP layer on libmicrohttpd: request bodies with a cap, routing, JSON errors, access
 * log and metrics. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *req_arg(req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *req_header(req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

int parse_double(const char *s, double *v)
{
    if (!s || !*s) return 0;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end == '\0' && errno == 0 && isfinite(*v);
}

int parse_i64(const char *s, int64_t *v)
{
    if (!s || !*s) return 0;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    *v = x;
    return *end == '\0' && errno == 0;
}

typedef struct arg_check {
    const char *const *allowed;
    const char *bad;
} arg_check;

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    (void)value;
    arg_check *a = cls;
    for (const char *const *p = a->allowed; *p; p++)
        if (strcmp(*p, key) == 0) return MHD_YES;
    a->bad = key;
    return MHD_NO;
}

int req_args_allowed(req *r, const char *const *allowed, enum MHD_Result *res)
{
    arg_check a = {allowed, NULL};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_arg, &a);
    if (!a.bad) return 1;
    *res = reply_error(r, 400, "unknown_parameter", "unknown query parameter '%.64s'", a.bad);
    return 0;
}

void req_base_url(req *r, char *out, size_t n)
{
    const char *host = req_header(r, "Host");
    if (host && strlen(host) < 256 && !strpbrk(host, "\"<> \\"))
        snprintf(out, n, "http://%s", host);
    else
        snprintf(out, n, "http://%s:%d", r->s->cfg.addr, r->s->cfg.port);
}

enum MHD_Result reply(req *r, unsigned status, const char *ctype, const void *data, size_t len,
                      enum MHD_ResponseMemoryMode mode, const char *const *headers)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)data, mode);
    if (!resp) {
        if (mode == MHD_RESPMEM_MUST_FREE) free((void *)data);
        return MHD_NO;
    }
    if (ctype) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    for (const char *const *h = headers; h && h[0]; h += 2) MHD_add_response_header(resp, h[0], h[1]);
    r->status = status;
    r->sent = len;
    enum MHD_Result res = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return res;
}

enum MHD_Result reply_text_json(req *r, unsigned status, const char *ctype, char *text)
{
    if (!text) return reply_error(r, 500, "out_of_memory", "out of memory");
    return reply(r, status, ctype ? ctype : "application/json", text, strlen(text), MHD_RESPMEM_MUST_FREE, NULL);
}

enum MHD_Result reply_json(req *r, unsigned status, json_object *o)
{
    const char *text = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
    char *copy = text ? strdup(text) : NULL;
    json_object_put(o);
    return reply_text_json(r, status, NULL, copy);
}

enum MHD_Result reply_error(req *r, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_object *e = json_object_new_object(), *o = json_object_new_object();
    json_object_object_add(e, "code", json_object_new_string(code));
    json_object_object_add(e, "message", json_object_new_string(msg));
    json_object_object_add(o, "error", e);
    return reply_json(r, status, o);
}

enum MHD_Result reply_rc(req *r, int rc)
{
    const char *msg = r->ctx ? wg_errmsg(r->ctx) : "";
    switch (rc) {
    case WG_EINVAL: return reply_error(r, 400, "bad_request", "%s", msg);
    case WG_EDATA: return reply_error(r, 400, "bad_data", "%s", msg);
    case WG_ENOTFOUND: return reply_error(r, 404, "not_found", "%s", msg);
    case WG_ECONFLICT: return reply_error(r, 409, "conflict", "%s", msg);
    case WG_EFAULTS: return reply_error(r, 422, "validation_faults", "%s", msg);
    case WG_ENOMEM: return reply_error(r, 503, "out_of_memory", "%s", msg);
    default: return reply_error(r, 500, "internal", "%s", msg);
    }
}

json_object *req_body_json(req *r, enum MHD_Result *res)
{
    json_tokener *tok = json_tokener_new_ex(32);
    if (!tok) {
        *res = reply_error(r, 503, "out_of_memory", "out of memory");
        return NULL;
    }
    json_object *doc = json_tokener_parse_ex(tok, r->body, (int)r->len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    /* one value, then only white space: "{} x" is not a body we understand */
    if (!doc || jerr != json_tokener_success || r->len - used > strspn(r->body + used, " \t\r\n")) {
        json_object_put(doc);
        *res = reply_error(r, 400, "bad_json", "the body is not JSON (%s)",
                           jerr == json_tokener_success ? "trailing data"
                                                        : json_tokener_error_desc(jerr));
        return NULL;
    }
    return doc;
}

/* ---------------------------------------------------------------- routing */

static int starts(const char *path, const char *prefix, const char **rest)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0) return 0;
    *rest = path + n;
    return 1;
}

static enum MHD_Result dispatch(req *r)
{
    const char *path = r->url, *rest;
    int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    int post = strcmp(r->method, "POST") == 0;
    if (strcmp(r->method, "OPTIONS") == 0) {
        static const char *const h[] = {"Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS",
                                        "Access-Control-Allow-Headers", "Content-Type, Authorization, X-API-Key", NULL};
        return reply(r, 204, NULL, "", 0, MHD_RESPMEM_PERSISTENT, h);
    }
    if (strcmp(path, "/v1/lookup") == 0) {
        if (get) {
            r->route = RT_LOOKUP;
            return h_lookup_get(r);
        }
        if (post) {
            r->route = RT_LOOKUP_BATCH;
            return h_lookup_post(r);
        }
        return reply_error(r, 405, "method_not_allowed", "use GET or POST on /v1/lookup");
    }
    /* routes: workers and positions (issue 6) */
    if (strcmp(path, "/v1/positions") == 0 || strcmp(path, "/v1/workers") == 0 || starts(path, "/v1/workers/", &rest))
        return h_workers(r, path); /* sets r->route: RT_WORKERS, RT_NEAREST or RT_POSITIONS */
    /* routes: events and Open311 (issue 6) */
    if (strcmp(path, "/v1/events") == 0 || starts(path, "/v1/events/", &rest) || strcmp(path, "/v1/stats") == 0 ||
        strcmp(path, "/v1/categories") == 0 || strcmp(path, "/v1/calendar") == 0) {
        r->route = RT_EVENTS;
        return h_events(r, path);
    }
    if (starts(path, "/open311/v2/", &rest)) {
        r->route = RT_OPEN311;
        return h_open311(r, rest);
    }
    /* routes: planner (issue 5) */
    if (strcmp(path, "/v1/generations") == 0 || starts(path, "/v1/generations/", &rest) ||
        strcmp(path, "/v1/draft") == 0 || starts(path, "/v1/draft/", &rest) || strcmp(path, "/v1/divide") == 0 ||
        strcmp(path, "/v1/merge") == 0) {
        r->route = RT_PLAN;
        return h_plan(r, path);
    }
    if (!get) return reply_error(r, 405, "method_not_allowed", "%s is not allowed on %.200s", r->method, path);
    if (strcmp(path, "/health") == 0) {
        r->route = RT_HEALTH;
        return h_health(r);
    }
    if (strcmp(path, "/metrics") == 0) {
        r->route = RT_METRICS;
        return h_metrics(r);
    }
    enum MHD_Result res;
    if (starts(path, "/tiles/", &rest)) {
        r->route = RT_TILE;
        return req_require(r, 0, &res) ? h_tiles(r, rest) : res;
    }
    if (strcmp(path, "/map") == 0 || starts(path, "/map/", &rest)) {
        r->route = RT_MAP;
        return h_web(r, path);
    }
    if (strcmp(path, "/") == 0) {
        const char *accept = req_header(r, "Accept");
        const char *f = req_arg(r, "f");
        if (!f && accept && strstr(accept, "text/html")) { /* a browser: the map page */
            static const char *const h[] = {"Location", "/map", NULL};
            return reply(r, 302, "text/plain", "", 0, MHD_RESPMEM_PERSISTENT, h);
        }
    }
    if (strcmp(path, "/") == 0 || strcmp(path, "/conformance") == 0 || strcmp(path, "/api") == 0 ||
        strcmp(path, "/collections") == 0 || starts(path, "/collections/", &rest)) {
        r->route = RT_OGC;
        return req_require(r, 0, &res) ? h_ogc(r, path) : res;
    }
    return reply_error(r, 404, "not_found", "no such resource: %.200s", path);
}

/* ---------------------------------------------------------------- MHD glue */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    server *s = cls;
    req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        r->s = s;
        r->conn = conn;
        r->url = url;
        r->method = method;
        r->t0 = srv_now();
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size > 0) { /* a chunk of the body */
        if (!r->too_large && r->len + *upload_size > s->cfg.max_body) r->too_large = 1;
        if (!r->too_large) {
            if (r->len + *upload_size + 1 > r->cap) {
                size_t cap = r->cap ? r->cap : 4096;
                while (cap < r->len + *upload_size + 1) cap *= 2;
                char *b = realloc(r->body, cap);
                if (!b) return MHD_NO;
                r->body = b;
                r->cap = cap;
            }
            memcpy(r->body + r->len, upload, *upload_size);
            r->len += *upload_size;
            r->body[r->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->too_large)
        return reply_error(r, 413, "body_too_large", "request body over the %zu-byte limit", s->cfg.max_body);
    r->ctx = state_thread_ctx(s);
    if (!r->ctx) return reply_error(r, 503, "unavailable", "cannot open the store");
    return dispatch(r);
}

static const double LAT_BOUNDS[LAT_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1};

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    server *s = cls;
    req *r = *con_cls;
    if (!r) return;
    double dt = srv_now() - r->t0;
    unsigned cls_idx = r->status >= 100 && r->status < 600 ? r->status / 100 : 5;
    if (r->status) {
        atomic_fetch_add(&s->m.requests[r->route][cls_idx], 1);
        int b = 0;
        while (b < LAT_BUCKETS && dt > LAT_BOUNDS[b]) b++;
        atomic_fetch_add(&s->m.latency[r->route][b], 1);
        atomic_fetch_add(&s->m.latency_us_sum[r->route], (unsigned long)(dt * 1e6));
    }
    if (s->log) {
        char ip[64] = "-";
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, ip, sizeof ip);
        else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, ip, sizeof ip);
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        char when[32];
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        pthread_mutex_lock(&s->log_mu);
        fprintf(s->log, "%s %s \"%s %.512s\" %u %zu %.3fms%s\n", ip, when, r->method ? r->method : "-",
                r->url ? r->url : "-", r->status, r->sent, dt * 1e3,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
        pthread_mutex_unlock(&s->log_mu);
    }
    if (r->snap) state_release(r->snap);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

int http_start(server *s);
void http_stop(server *s);

/* Memory pool per connection (request line, headers, read buffer): 16 KiB holds any request
 * head we accept; MHD clears the used part of the pool between requests, so a smaller pool
 * is cheaper per keep-alive request than its 32 KiB default. Bodies go to our own buffer. */
#define CONN_MEMORY (16 * 1024)

int http_start(server *s)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)s->cfg.port);
    if (inet_pton(AF_INET, s->cfg.addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "wangge-server: bad listen address %s (an IPv4 address is expected)\n", s->cfg.addr);
        return WG_EINVAL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO;
    s->daemon = MHD_start_daemon(flags, (uint16_t)s->cfg.port, NULL, NULL, on_request, s,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                 MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->cfg.threads,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->cfg.max_conns,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)s->cfg.per_ip,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->cfg.timeout_s,
                                 MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (!s->daemon) {
        fprintf(stderr, "wangge-server: cannot listen on %s:%d: %s\n", s->cfg.addr, s->cfg.port, strerror(errno));
        return WG_EIO;
    }
    if (s->cfg.port == 0) {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
        if (di) s->cfg.port = di->port;
    }
    return WG_OK;
}

void http_stop(server *s)
{
    if (s->daemon) MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
}
