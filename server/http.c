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
#include <strings.h>
#include <time.h>

const char *req_arg(req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *req_header(req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* A decimal number as JSON writes one, '+' allowed: [+-]digits[.digits][(e|E)[+-]digits] (also
 * ".5" and "5."). Not strtod's hex floats, "inf", "nan" or leading white space. */
static int decimal_syntax(const char *s)
{
    s += *s == '+' || *s == '-';
    size_t i = strspn(s, "0123456789"), f = 0;
    if (s[i] == '.') f = strspn(s + i + 1, "0123456789") + 1;
    if (i + f == 0 || (i == 0 && f == 1)) return 0;
    s += i + f;
    if (*s == 'e' || *s == 'E') {
        s++;
        s += *s == '+' || *s == '-';
        size_t e = strspn(s, "0123456789");
        if (e == 0) return 0;
        s += e;
    }
    return *s == '\0';
}

int parse_double(const char *s, double *v)
{
    if (!s || !*s || !decimal_syntax(s)) return 0;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end == '\0' && errno == 0 && isfinite(*v);
}

int parse_i64(const char *s, int64_t *v)
{
    if (!s || !*s) return 0;
    const char *digits = s + (*s == '+' || *s == '-');
    if (*digits < '0' || *digits > '9') return 0; /* not strtoll's leading white space */
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

/* A Host header fit to put in links: a name, an IPv4 or [IPv6] address, and a port. Anything
 * else (found by tests/fuzz/fuzz_http: bytes >= 0x80 in Host made the links, and so the JSON
 * answers, invalid UTF-8) gives way to the listen address. */
static int host_ok(const char *h)
{
    size_t n = h ? strlen(h) : 0;
    return n > 0 && n < 256 &&
           strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:[]") == n;
}

void req_base_url(req *r, char *out, size_t n)
{
    const char *host = req_header(r, "Host");
    if (host_ok(host))
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

size_t utf8_prefix(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t len = c < 0x80                 ? 1
                     : c >= 0xC2 && c <= 0xDF ? 2
                     : c >= 0xE0 && c <= 0xEF ? 3
                     : c >= 0xF0 && c <= 0xF4 ? 4
                                              : 0;
        if (len == 0 || i + len > n) return i;
        for (size_t k = 1; k < len; k++)
            if ((p[i + k] & 0xC0) != 0x80) return i;
        /* no overlong 3/4-byte forms, no UTF-16 surrogates, nothing above U+10FFFF */
        if ((c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xED && p[i + 1] > 0x9F) ||
            (c == 0xF0 && p[i + 1] < 0x90) || (c == 0xF4 && p[i + 1] > 0x8F))
            return i;
        i += len;
    }
    return n;
}

int utf8_ok(const char *s, size_t n)
{
    return utf8_prefix(s, n) == n;
}

enum MHD_Result reply_error(req *r, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* messages quote the request (cut with %.Ns, which may split a character): the body must
     * stay UTF-8, so every byte that is not part of a whole character becomes '?' */
    for (size_t i = 0, n = strlen(msg); i < n;) {
        i += utf8_prefix(msg + i, n - i);
        if (i < n) msg[i++] = '?';
    }
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

/* The media type (type/subtype) of a Content-Type value, lower-cased into out; 0 if there is
 * none or it is too long. *params points after it (";..." or ""). */
static int media_type(const char *ct, char *out, size_t n, const char **params)
{
    ct += strspn(ct, " \t");
    size_t len = strcspn(ct, ";");
    while (len > 0 && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= n) return 0;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)(ct[i] >= 'A' && ct[i] <= 'Z' ? ct[i] + 32 : ct[i]);
    out[len] = '\0';
    *params = ct + strcspn(ct, ";");
    return 1;
}

/* A charset parameter, if any, names UTF-8 (the only encoding of JSON, RFC 8259 8.1). */
static int charset_utf8(const char *params)
{
    for (const char *p = params; (p = strchr(p, ';'));) {
        p++;
        p += strspn(p, " \t");
        if (strncasecmp(p, "charset=", 8) != 0) continue;
        p += 8;
        int quoted = *p == '"';
        p += quoted;
        size_t n = strcspn(p, quoted ? "\"" : "; \t");
        return (n == 5 && strncasecmp(p, "utf-8", 5) == 0) ||
               (n == 4 && strncasecmp(p, "utf8", 4) == 0);
    }
    return 1;
}

int ctype_is_json(const char *ct)
{
    char mt[128];
    const char *params;
    if (!ct || !media_type(ct, mt, sizeof mt, &params)) return 0;
    size_t n = strlen(mt);
    /* application/json, application/geo+json and any other application/...+json (RFC 6839) */
    return strcmp(mt, "application/json") == 0 ||
           (strncmp(mt, "application/", 12) == 0 && n > 17 && strcmp(mt + n - 5, "+json") == 0 &&
            !strchr(mt + 12, '/'));
}

int req_json_type(req *r, enum MHD_Result *res)
{
    const char *ct = req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE), *params = "";
    if (!ct) return 1; /* undeclared: read as JSON */
    char mt[128];
    int json = ctype_is_json(ct);
    if (json) media_type(ct, mt, sizeof mt, &params);
    if (json && charset_utf8(params)) return 1;
    *res = reply_error(r, 415, "unsupported_media_type",
                       json ? "JSON is UTF-8: the charset must be utf-8, not '%.64s'"
                            : "send application/json (or application/geo+json), not '%.64s'",
                       ct);
    return 0;
}

/* Any non-finite number in v (json-c reads NaN, Infinity and 1e400 even in strict mode). */
static int has_non_finite(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_double: return !isfinite(json_object_get_double(v));
    case json_type_array:
        for (size_t i = 0, n = json_object_array_length(v); i < n; i++)
            if (has_non_finite(json_object_array_get_idx(v, i))) return 1;
        return 0;
    case json_type_object: {
        json_object_object_foreach(v, key, val)
        {
            (void)key;
            if (has_non_finite(val)) return 1;
        }
        return 0;
    }
    default: return 0;
    }
}

int req_body_plain(req *r, enum MHD_Result *res, const char *code)
{
    /* JSON text is UTF-8 (RFC 8259 8.1), checked here strictly: json-c's own check lets
     * overlong forms and surrogates through */
    size_t good = utf8_prefix(r->body, r->len);
    if (good < r->len) {
        *res = reply_error(r, 400, code, "the body is not UTF-8 (a broken character at byte %zu)",
                           good);
        return 0;
    }
    /* What json-c lets through even in strict mode, found by following strings only (not a
     * parser): a control character raw inside a string, or outside one any but white space
     * (RFC 8259 2, 7); a single quote outside a string (json-c reads 'name' as a member name). */
    int in_string = 0;
    for (size_t i = 0; i < r->len; i++) {
        unsigned char c = (unsigned char)r->body[i];
        const char *why = NULL;
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped character cannot end the string */
            else if (c == '"')
                in_string = 0;
            else if (c < 0x20)
                why = "a control character inside a string";
        } else if (c == '"') {
            in_string = 1;
        } else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            why = "a control character";
        } else if (c == '\'') {
            why = "a single quote: JSON strings and names take double quotes";
        }
        if (why) {
            *res = reply_error(r, 400, code, "the body is not JSON (%s at byte %zu)", why, i);
            return 0;
        }
    }
    return 1;
}

json_object *req_body_json(req *r, enum MHD_Result *res)
{
    if (!req_json_type(r, res) || !req_body_plain(r, res, "bad_json")) return NULL;
    json_tokener *tok = json_tokener_new_ex(REQ_JSON_MAX_DEPTH);
    if (!tok) {
        *res = reply_error(r, 503, "out_of_memory", "out of memory");
        return NULL;
    }
    /* strict RFC 8259 (no comments, single quotes, trailing commas) and valid UTF-8 only */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
                                    JSON_TOKENER_VALIDATE_UTF8);
    json_object *doc = json_tokener_parse_ex(tok, r->body, (int)r->len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    /* "7": a number at the very end is complete only once json-c is told the input ended */
    if (!doc && jerr == json_tokener_continue && used == r->len) {
        doc = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        used = r->len;
    }
    json_tokener_free(tok);
    /* one value, then only white space: "{} x" is not a body we understand */
    if (!doc || jerr != json_tokener_success || r->len - used > strspn(r->body + used, " \t\r\n")) {
        json_object_put(doc);
        *res = reply_error(r, 400, "bad_json", "the body is not JSON (%s)",
                           jerr == json_tokener_success    ? (doc ? "trailing data" : "no value")
                           : jerr == json_tokener_continue ? "it ends early"
                                                           : json_tokener_error_desc(jerr));
        return NULL;
    }
    if (has_non_finite(doc)) {
        json_object_put(doc);
        *res = reply_error(r, 400, "bad_json",
                           "not JSON: numbers must be finite (no NaN, Infinity or 1e400)");
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

static enum MHD_Result check_utf8_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    const char **bad = cls;
    if (utf8_ok(key, strlen(key)) && (!value || utf8_ok(value, strlen(value)))) return MHD_YES;
    *bad = key;
    return MHD_NO;
}

/* The path and every query parameter (as decoded from %XX) are UTF-8 text: 400 otherwise, so
 * no handler, message or store ever sees a broken character. */
static int req_text_ok(req *r, enum MHD_Result *res)
{
    if (!utf8_ok(r->url, strlen(r->url))) {
        *res = reply_error(r, 400, "bad_utf8", "the path is not valid UTF-8");
        return 0;
    }
    const char *bad = NULL;
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_utf8_arg, &bad);
    if (!bad) return 1;
    *res = utf8_ok(bad, strlen(bad))
               ? reply_error(r, 400, "bad_utf8", "query parameter '%.64s' is not valid UTF-8", bad)
               : reply_error(r, 400, "bad_utf8", "a query parameter name is not valid UTF-8");
    return 0;
}

static enum MHD_Result dispatch(req *r)
{
    const char *path = r->url, *rest;
    enum MHD_Result bad;
    if (!req_text_ok(r, &bad)) return bad;
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
        /* a body declared over the cap is refused before any of it is read (the connection
         * closes after the answer); one sent chunked is read and dropped up to its end */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && *cl >= '0' && *cl <= '9' && strtoull(cl, NULL, 10) > s->cfg.max_body)
            return reply_error(r, 413, "body_too_large", "request body over the %zu-byte limit",
                               s->cfg.max_body);
        return MHD_YES;
    }
    if (r->resume) { /* resumed after a wait (the handler set it before suspending) */
        enum MHD_Result (*fn)(req *) = r->resume;
        r->resume = NULL;
        return fn(r);
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
    guard_request_done(s->guard, conn);
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
    if (r->pending && r->pending_free) r->pending_free(r);
    if (r->snap) state_release(r->snap);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

int http_start(server *s);
void http_stop(server *s);

/* Memory pool per connection (request line, headers, read buffer, the answer's head): a
 * request head of up to about 7 KiB is accepted (431 above: the common 8 KiB limit of HTTP
 * servers). MHD zeroes the whole pool after every request, so its size is paid on every
 * keep-alive request: against 16 KiB, 8 KiB took ~8 % less server CPU per nearest request in
 * the bench. Bodies go to our own buffer (they pass through the pool in chunks). */
#define CONN_MEMORY (8 * 1024)

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
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME;
    if (!(s->guard = guard_new(s->cfg.timeout_s))) {
        fprintf(stderr, "wangge-server: cannot start the slow-client watchdog\n");
        return WG_ENOMEM;
    }
    s->daemon = MHD_start_daemon(flags, (uint16_t)s->cfg.port, NULL, NULL, on_request, s,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                 MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->cfg.threads,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->cfg.max_conns,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)s->cfg.per_ip,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->cfg.timeout_s,
                                 MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
                                 MHD_OPTION_NOTIFY_CONNECTION, guard_notify, s->guard,
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
    guard_free(s->guard);
    s->guard = NULL;
}

/* The daemon without a listening socket: connections come only through MHD_add_connection
 * (the fuzz targets in tests/fuzz hand it one end of a socketpair per request). The same
 * flags, limits and slow-client guard as http_start; cfg.threads > 1 makes a thread pool.
 * http_stop stops it. */
int http_start_nolisten(server *s)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_NO_LISTEN_SOCKET |
                     MHD_ALLOW_SUSPEND_RESUME;
    unsigned pool = s->cfg.threads > 1 ? (unsigned)s->cfg.threads : 0;
    if (!(s->guard = guard_new(s->cfg.timeout_s))) return WG_ENOMEM;
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                                 MHD_OPTION_THREAD_POOL_SIZE, pool,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->cfg.max_conns,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)s->cfg.per_ip,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->cfg.timeout_s,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
                                 MHD_OPTION_NOTIFY_CONNECTION, guard_notify, s->guard,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (!s->daemon) {
        fprintf(stderr, "wangge-server: cannot start the HTTP daemon: %s\n", strerror(errno));
        return WG_EIO;
    }
    return WG_OK;
}
