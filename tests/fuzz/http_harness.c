/* The in-process server of the HTTP fuzz targets: see http_harness.h. */
#include "http_harness.h"
#include "fuzz_util.h"
#include "server.h"
#include "wangge/import.h"
#include "wangge/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef WANGGE_SOURCE_DIR
#error "WANGGE_SOURCE_DIR (the source tree) is defined by tests/fuzz/CMakeLists.txt"
#endif

int http_start(server *s);
void http_stop(server *s);

/* An answer slower than this is a hang (a divide of the mini city takes well under a second). */
#define DEADLINE_MS 30000
/* Answer bytes kept for the checks; more are read and dropped. */
#define MAX_ANSWER (4u << 20)

static server g_srv;
static char g_store[600], g_pristine[600];
static unsigned long g_exchanges, g_reset_every = FZH_RESET_EVERY;
static int g_verbose; /* WANGGE_FUZZ_VERBOSE: print every answer's status line and body start */

static void die(const char *what, const char *why)
{
    fprintf(stderr, "fuzz http harness: %s: %s\n", what, why);
    exit(2);
}

/* ---------------------------------------------------------------- the store */

static void link_in(const char *dir, const char *from_dir, const char *name)
{
    char from[1024], to[1024];
    snprintf(from, sizeof from, "%s/%s", from_dir, name);
    snprintf(to, sizeof to, "%s/%s", dir, name);
    if (symlink(from, to) != 0) die(to, strerror(errno));
}

static void sha256_hex(const char *secret, char out[2 * SHA256_DIGEST_SIZE + 1])
{
    struct sha256_ctx h;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&h);
    sha256_update(&h, strlen(secret), (const uint8_t *)secret);
    sha256_digest(&h, sizeof d, d);
    for (size_t i = 0; i < sizeof d; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Stores the fixed keys of http_harness.h, as wg_key_create would with known secrets. */
static void store_keys(const char *path)
{
    static const struct {
        const char *key, *role, *worker;
        int revoked;
    } K[] = {{FZH_KEY_ADMIN, "admin", NULL, 0},
             {FZH_KEY_DISPATCHER, "dispatcher", NULL, 0},
             {FZH_KEY_PLANNER, "planner", NULL, 0},
             {FZH_KEY_VIEWER, "viewer", NULL, 0},
             {FZH_KEY_WORKER, "worker", "W440307006001001", 0},
             {FZH_KEY_REVOKED, "admin", NULL, 1}};
    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open(path, &db) != SQLITE_OK) die(path, sqlite3_errmsg(db));
    if (sqlite3_prepare_v2(
            db,
            "INSERT INTO api_keys(key_id, hash, role, name, worker_id, created_ms, revoked_ms)"
            " VALUES (?, ?, ?, 'fuzz', ?, 1767225600000, ?)",
            -1, &st, NULL) != SQLITE_OK)
        die(path, sqlite3_errmsg(db));
    for (size_t i = 0; i < sizeof K / sizeof K[0]; i++) {
        char id[13], digest[2 * SHA256_DIGEST_SIZE + 1];
        memcpy(id, K[i].key + 3, 12);
        id[12] = '\0';
        sha256_hex(K[i].key + 16, digest);
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, digest, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, K[i].role, -1, SQLITE_STATIC);
        if (K[i].worker)
            sqlite3_bind_text(st, 4, K[i].worker, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 4);
        if (K[i].revoked)
            sqlite3_bind_int64(st, 5, 1767225600001);
        else
            sqlite3_bind_null(st, 5);
        if (sqlite3_step(st) != SQLITE_DONE) die("storing a key", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    sqlite3_close(db); /* the last connection: the WAL is checkpointed into the file */
}

static void make_pristine(void)
{
    char city[600];
    fz_path(city, sizeof city, "city");
    if (mkdir(city, 0700) != 0) die(city, strerror(errno));
    static const char *const MINI[] = {"districts.geojson", "communities.geojson", "grids.geojson",
                                       "addresses.csv", "events.csv"};
    static const char *const GEODATA[] = {"categories.csv", "roads.geojson", "rivers.geojson",
                                          "thematic_rental.geojson",
                                          "thematic_family_planning.geojson"};
    static const char *const OURS[] = {"workers.csv", "calendar.ini"};
    for (size_t i = 0; i < sizeof MINI / sizeof *MINI; i++)
        link_in(city, WANGGE_SOURCE_DIR "/tests/data/mini", MINI[i]);
    for (size_t i = 0; i < sizeof GEODATA / sizeof *GEODATA; i++)
        link_in(city, WANGGE_SOURCE_DIR "/geodata", GEODATA[i]);
    for (size_t i = 0; i < sizeof OURS / sizeof *OURS; i++)
        link_in(city, WANGGE_SOURCE_DIR "/tests/fuzz/data", OURS[i]);
    wg_ctx *ctx = wg_ctx_new();
    if (!ctx) die("context", "out of memory");
    wg_city_stats st;
    if (wg_store_open(ctx, g_pristine, WG_STORE_CREATE) != WG_OK ||
        wg_import_city(ctx, city, &st) != WG_OK)
        die(g_pristine, wg_errmsg(ctx));
    wg_ctx_free(ctx);
    store_keys(g_pristine);
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out) die(to, strerror(errno));
    char buf[1 << 16];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, k, out) != k) die(to, strerror(errno));
    fclose(in);
    if (fclose(out) != 0) die(to, strerror(errno));
}

/* ---------------------------------------------------------------- the server */

static void server_start(void)
{
    char side[700];
    copy_file(g_pristine, g_store);
    snprintf(side, sizeof side, "%s-wal", g_store);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", g_store);
    unlink(side);
    FILE *log = g_srv.log;
    memset(&g_srv, 0, sizeof g_srv);
    /* as main.c's defaults, with small limits so that 413s are reachable */
    g_srv.cfg = (srv_config){.addr = "127.0.0.1",
                             .port = 8080,
                             .store = g_store,
                             .geodata = WANGGE_SOURCE_DIR "/geodata",
                             .web_dir = WANGGE_SOURCE_DIR "/server/web",
                             .threads = 1,
                             .max_conns = 64,
                             .per_ip = 64,
                             .timeout_s = 5,
                             .max_body = 65536,
                             .max_batch = 64,
                             .tile_cache_mb = 16,
                             .access_log = "fuzz",
                             .public_reads = 1};
    g_srv.log = log;
    g_srv.started = srv_now();
    if (state_init(&g_srv) != WG_OK || workers_init(&g_srv) != WG_OK ||
        tiles_init(&g_srv) != WG_OK || web_init(&g_srv) != WG_OK ||
        http_start_nolisten(&g_srv) != WG_OK)
        die("starting the server", g_store);
}

static void server_stop(void)
{
    workers_quiesce(&g_srv);
    http_stop(&g_srv);
    web_free(&g_srv);
    tiles_free(&g_srv);
    workers_free(&g_srv);
    state_free(&g_srv);
}

static void stop_at_exit(void)
{
    server_stop();
    if (g_srv.log) fclose(g_srv.log);
    g_srv.log = NULL;
}

void fzh_init(void)
{
    if (g_srv.daemon) return;
    signal(SIGPIPE, SIG_IGN);
    const char *every = getenv("WANGGE_FUZZ_RESET_EVERY");
    if (every && *every) g_reset_every = strtoul(every, NULL, 10);
    g_verbose = getenv("WANGGE_FUZZ_VERBOSE") != NULL;
    fz_path(g_pristine, sizeof g_pristine, "pristine.sqlite");
    fz_path(g_store, sizeof g_store, "store.sqlite");
    make_pristine();
    /* the access log is written (that code runs too) and thrown away */
    g_srv.log = fopen("/dev/null", "w");
    if (!g_srv.log) die("/dev/null", strerror(errno));
    server_start();
    atexit(stop_at_exit);
}

/* ---------------------------------------------------------------- checking answers */

/* The first needle in h[0..n) (memmem is not POSIX). */
static const char *find(const char *h, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; k <= n && i <= n - k; i++)
        if (memcmp(h + i, needle, k) == 0) return h + i;
    return NULL;
}

static int header_is(const char *line, size_t len, const char *name, const char **value,
                     size_t *vlen)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':') return 0;
    const char *v = line + n + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    *value = v;
    *vlen = (size_t)(end - v);
    return 1;
}

static int has_string(json_object *o, const char *name)
{
    json_object *v;
    return json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string);
}

static void check_json(unsigned status, const char *body, size_t len)
{
    json_tokener *tok = json_tokener_new();
    FZ_CHECK(tok, "out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error err = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    FZ_CHECK(err == json_tokener_success && used == len,
             "a %u answer is not one JSON value (%s): %.300s", status, json_tokener_error_desc(err),
             body);
    if (status >= 400) {
        json_object *e = NULL;
        if (json_object_is_type(o, json_type_array)) { /* Open311 */
            FZ_CHECK(json_object_array_length(o) > 0, "an empty Open311 error list");
            json_object *first = json_object_array_get_idx(o, 0);
            FZ_CHECK(json_object_object_get_ex(first, "code", NULL) &&
                         has_string(first, "description"),
                     "an Open311 error without code and description: %.300s", body);
        } else {
            FZ_CHECK(json_object_object_get_ex(o, "error", &e) && has_string(e, "code") &&
                         has_string(e, "message"),
                     "a %u answer without {\"error\":{\"code\",\"message\"}}: %.300s", status,
                     body);
        }
    }
    json_object_put(o);
}

/* Walks the answers of one connection (keep-alive may give several). An answer to HEAD has a
 * Content-Length but no body: when the bytes after a head are the next status line (or
 * nothing), the body is taken to be empty. */
static void check_answers(const char *a, size_t len, int complete)
{
    size_t pos = 0;
    while (pos < len) {
        const char *p = a + pos;
        size_t left = len - pos;
        FZ_CHECK(left >= 13 && (memcmp(p, "HTTP/1.1 ", 9) == 0 || memcmp(p, "HTTP/1.0 ", 9) == 0),
                 "not an HTTP answer: %.60s", p);
        unsigned status = (unsigned)strtoul(p + 9, NULL, 10);
        FZ_CHECK(status >= 100 && status <= 599, "status %u", status);
        const char *end = find(p, left, "\r\n\r\n");
        if (!end) {
            FZ_CHECK(!complete, "an answer head without its end");
            return;
        }
        size_t head = (size_t)(end - p) + 4, clen = 0;
        int has_clen = 0, json = 0, encoded = 0, chunked = 0;
        for (const char *line = memchr(p, '\n', head) + 1; line < end;) {
            const char *eol = memchr(line, '\r', (size_t)(end + 2 - line));
            size_t n = (size_t)(eol - line), vlen;
            const char *v;
            if (header_is(line, n, "Content-Length", &v, &vlen)) {
                clen = strtoul(v, NULL, 10);
                has_clen = 1;
            } else if (header_is(line, n, "Content-Type", &v, &vlen)) {
                json = find(v, vlen, "json") != NULL;
            } else if (header_is(line, n, "Content-Encoding", &v, &vlen)) {
                encoded = 1;
            } else if (header_is(line, n, "Transfer-Encoding", &v, &vlen)) {
                chunked = 1;
            }
            line = eol + 2;
        }
        size_t body = head <= left ? left - head : 0;
        if (status == 500 || status == 501)
            fz_fail("a %u answer: %.*s", status, (int)(body < 400 ? body : 400), p + head);
        if (chunked || !has_clen) return; /* not ours: MHD's own answers; nothing more to walk */
        if (clen > 0 && (body == 0 || (body >= 7 && memcmp(p + head, "HTTP/1.", 7) == 0))) {
            clen = 0; /* an answer to HEAD */
        } else if (clen > body) {
            FZ_CHECK(!complete, "an answer shorter (%zu) than its Content-Length (%zu)", body,
                     clen);
            return;
        }
        if (g_verbose)
            fprintf(stderr, "  -> %.*s %.*s\n", (int)((const char *)memchr(p, '\r', head) - p), p,
                    (int)(clen < 160 ? clen : 160), p + head);
        if (json && !encoded && clen > 0) {
            char *copy = malloc(clen + 1);
            FZ_CHECK(copy, "out of memory");
            memcpy(copy, p + head, clen);
            copy[clen] = '\0';
            check_json(status, copy, clen);
            free(copy);
        }
        pos += head + clen;
    }
}

/* ---------------------------------------------------------------- one exchange */

static long long now_ms(void)
{
    return (long long)(srv_now() * 1000);
}

void fzh_exchange(const uint8_t *request, size_t n)
{
    if (g_reset_every && g_exchanges && g_exchanges % g_reset_every == 0) {
        server_stop();
        server_start();
    }
    g_exchanges++;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        die("socketpair", strerror(errno));
    struct sockaddr_in peer;
    memset(&peer, 0, sizeof peer);
    peer.sin_family = AF_INET;
    peer.sin_port = htons(40000);
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* MHD owns sv[0] from here, also when it refuses it */
    if (MHD_add_connection(g_srv.daemon, sv[0], (const struct sockaddr *)&peer, sizeof peer) !=
        MHD_YES) {
        close(sv[1]);
        return;
    }
    int fd = sv[1];
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    static char *answer;
    if (!answer && !(answer = malloc(MAX_ANSWER))) die("answer buffer", "out of memory");
    size_t sent = 0, got = 0;
    int writing = 1, eof = 0;
    if (n == 0) {
        shutdown(fd, SHUT_WR);
        writing = 0;
    }
    long long deadline = now_ms() + DEADLINE_MS;
    while (!eof) {
        long long left = deadline - now_ms();
        FZ_CHECK(left > 0, "no complete answer within %d ms (%zu bytes so far)", DEADLINE_MS, got);
        struct pollfd pfd = {fd, (short)(POLLIN | (writing ? POLLOUT : 0)), 0};
        if (poll(&pfd, 1, (int)(left < 100 ? left : 100)) < 0 && errno != EINTR)
            die("poll", strerror(errno));
        if (writing && (pfd.revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t k = send(fd, request + sent, n - sent, MSG_NOSIGNAL);
            if (k > 0) sent += (size_t)k;
            if ((k < 0 && errno != EAGAIN && errno != EINTR) || sent == n) {
                shutdown(fd, SHUT_WR);
                writing = 0;
            }
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            char sink[4096];
            char *to = got < MAX_ANSWER ? answer + got : sink;
            size_t room = got < MAX_ANSWER ? MAX_ANSWER - got : sizeof sink;
            ssize_t k = recv(fd, to, room, 0);
            if (k > 0 && to != sink)
                got += (size_t)k;
            else if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
                eof = 1;
        }
    }
    close(fd);
    check_answers(answer, got < MAX_ANSWER ? got : MAX_ANSWER, got < MAX_ANSWER);
}
