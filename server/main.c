/* wangge-server: flags, config file, first start from geodata/, signals. */
#include "server.h"
#include "wangge/import.h"
#include "wangge/store.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef WANGGE_GEODATA_DIR
#define WANGGE_GEODATA_DIR "geodata"
#endif
#ifndef WANGGE_WEB_DIR
#define WANGGE_WEB_DIR "web"
#endif

int http_start(server *s);
void http_stop(server *s);

static const char USAGE[] =
    "usage: wangge-server [options]\n"
    "  --config FILE      read options from FILE (lines: key = value, keys as the long options)\n"
    "  --addr IP          listen address (default 127.0.0.1)\n"
    "  --port N           port (default 8080; 0 = any free port, printed)\n"
    "  --store FILE       store (default wangge.sqlite; created from --geodata if missing)\n"
    "  --geodata DIR      city to load into a new store (default: the bundled geodata/)\n"
    "  --web DIR          map page assets (default: the build's web/)\n"
    "  --threads N        worker threads (default: CPUs)\n"
    "  --max-connections N  (default 1024)   --per-ip N  (default 256)\n"
    "  --timeout S        idle connection timeout in seconds (default 30)\n"
    "  --max-body BYTES   request body cap, 413 above (default 8388608)\n"
    "  --max-batch N      items per POST /v1/lookup, /v1/events, /v1/positions, 413 above\n"
    "                     (default 10000)\n"
    "  --max-vertices N   positions in one feature of a planner edit, 413 above (default 1000000)\n"
    "  --tile-cache-mb N  tile cache bound (default 256)\n"
    "  --access-log FILE|-|off   (default -: standard error)\n"
    "  --public-reads on|off  grids, tiles, features and lookups without an API key (default on)\n";

enum { O_CONFIG = 256, O_ADDR, O_PORT, O_STORE, O_GEODATA, O_WEB, O_THREADS, O_MAXCONN, O_PERIP, O_TIMEOUT, O_BODY,
       O_BATCH, O_CACHE, O_LOG, O_PUBLIC, O_VERTICES };
static const struct option OPTS[] = {
    {"config", required_argument, NULL, O_CONFIG},     {"addr", required_argument, NULL, O_ADDR},
    {"port", required_argument, NULL, O_PORT},         {"store", required_argument, NULL, O_STORE},
    {"geodata", required_argument, NULL, O_GEODATA},   {"web", required_argument, NULL, O_WEB},
    {"threads", required_argument, NULL, O_THREADS},   {"max-connections", required_argument, NULL, O_MAXCONN},
    {"per-ip", required_argument, NULL, O_PERIP},      {"timeout", required_argument, NULL, O_TIMEOUT},
    {"max-body", required_argument, NULL, O_BODY},     {"max-batch", required_argument, NULL, O_BATCH},
    {"tile-cache-mb", required_argument, NULL, O_CACHE}, {"access-log", required_argument, NULL, O_LOG},
    {"public-reads", required_argument, NULL, O_PUBLIC},
    {"max-vertices", required_argument, NULL, O_VERTICES},
    {"help", no_argument, NULL, 'h'},                  {NULL, 0, NULL, 0}};

/* Strings from a config file live until exit (freed then, so that leak checkers see none). */
static char **kept;
static size_t nkept;

static void free_kept(void)
{
    for (size_t i = 0; i < nkept; i++) free(kept[i]);
    free(kept);
}

static char *keep(const char *s)
{
    char *d = strdup(s);
    char **k = d ? realloc(kept, (nkept + 1) * sizeof *kept) : NULL;
    if (!k) {
        fprintf(stderr, "wangge-server: out of memory\n");
        exit(3);
    }
    if (!kept) atexit(free_kept);
    kept = k;
    kept[nkept++] = d;
    return d;
}

static int set_number(const char *name, const char *v, long long lo, long long hi, long long *out)
{
    int64_t x;
    if (!parse_i64(v, &x) || x < lo || x > hi) {
        fprintf(stderr, "wangge-server: %s takes a whole number from %lld to %lld, not '%s'\n", name, lo, hi, v);
        return 0;
    }
    *out = x;
    return 1;
}

static int apply(srv_config *c, int opt, const char *v);

static int read_config(srv_config *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "wangge-server: cannot read config %s: %s\n", path, strerror(errno));
        return 0;
    }
    char line[1024];
    int ok = 1, n = 0;
    while (ok && fgets(line, sizeof line, f)) {
        n++;
        char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || *p == '\0') continue;
        char *eq = strchr(p, '=');
        if (!eq) {
            fprintf(stderr, "wangge-server: %s:%d: expected key = value\n", path, n);
            ok = 0;
            break;
        }
        char *k = p, *v = eq + 1, *e = eq;
        while (e > k && (e[-1] == ' ' || e[-1] == '\t')) e--;
        *e = '\0';
        v += strspn(v, " \t");
        v[strcspn(v, "\r\n")] = '\0';
        for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--) e[-1] = '\0';
        int opt = 0;
        for (const struct option *o = OPTS; o->name; o++)
            if (strcmp(o->name, k) == 0 && o->val != O_CONFIG && o->val != 'h') opt = o->val;
        if (!opt) {
            fprintf(stderr, "wangge-server: %s:%d: unknown key '%s'\n", path, n, k);
            ok = 0;
        } else {
            ok = apply(c, opt, keep(v));
        }
    }
    fclose(f);
    return ok;
}

static int apply(srv_config *c, int opt, const char *v)
{
    long long x;
    switch (opt) {
    case O_CONFIG: return read_config(c, v);
    case O_ADDR: c->addr = v; return 1;
    case O_PORT: return set_number("--port", v, 0, 65535, &x) && ((c->port = (int)x), 1);
    case O_STORE: c->store = v; return 1;
    case O_GEODATA: c->geodata = v; return 1;
    case O_WEB: c->web_dir = v; return 1;
    case O_THREADS: return set_number("--threads", v, 1, 256, &x) && ((c->threads = (int)x), 1);
    case O_MAXCONN: return set_number("--max-connections", v, 1, 100000, &x) && ((c->max_conns = (int)x), 1);
    case O_PERIP: return set_number("--per-ip", v, 1, 100000, &x) && ((c->per_ip = (int)x), 1);
    case O_TIMEOUT: return set_number("--timeout", v, 1, 3600, &x) && ((c->timeout_s = (int)x), 1);
    case O_BODY: return set_number("--max-body", v, 1024, 1LL << 31, &x) && ((c->max_body = (size_t)x), 1);
    case O_BATCH: return set_number("--max-batch", v, 1, 10000000, &x) && ((c->max_batch = (size_t)x), 1);
    case O_VERTICES:
        return set_number("--max-vertices", v, 4, WG_MAX_VERTICES, &x) &&
               ((c->max_vertices = (size_t)x), 1);
    case O_CACHE: return set_number("--tile-cache-mb", v, 0, 1 << 20, &x) && ((c->tile_cache_mb = (size_t)x), 1);
    case O_LOG: c->access_log = v; return 1;
    case O_PUBLIC:
        if (strcmp(v, "on") == 0 || strcmp(v, "off") == 0) {
            c->public_reads = strcmp(v, "on") == 0;
            return 1;
        }
        fprintf(stderr, "wangge-server: --public-reads takes on or off, not '%s'\n", v);
        return 0;
    default: return 0;
    }
}

/* A missing store is made from the city directory; a half-made one is removed. */
static int ensure_store(const srv_config *c)
{
    if (access(c->store, F_OK) == 0) {
        /* a store written by an older wangge is brought to this schema once, here (the
         * threads open it read-only); a store we may not write is left to the read-only open */
        wg_ctx *ctx = wg_ctx_new();
        if (ctx && access(c->store, W_OK) == 0 && wg_store_open(ctx, c->store, 0) != WG_OK) {
            fprintf(stderr, "wangge-server: %s: %s\n", c->store, wg_errmsg(ctx));
            wg_ctx_free(ctx);
            return 0;
        }
        wg_ctx_free(ctx);
        return 1;
    }
    /* built under another name and renamed when whole, so a start killed half-way leaves no
     * store (the next start builds it again), never a partial one */
    fprintf(stderr, "wangge-server: creating %s from %s\n", c->store, c->geodata);
    char tmp[4096], p[4200];
    snprintf(tmp, sizeof tmp, "%s.creating", c->store);
    static const char *const SUFFIX[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) { /* what a killed start left */
        snprintf(p, sizeof p, "%s%s", tmp, SUFFIX[i]);
        unlink(p);
    }
    wg_ctx *ctx = wg_ctx_new();
    int rc = ctx ? wg_store_open(ctx, tmp, WG_STORE_CREATE) : WG_ENOMEM;
    wg_city_stats st;
    if (rc == WG_OK) rc = wg_import_city(ctx, c->geodata, &st);
    if (rc == WG_OK)
        fprintf(stderr, "wangge-server: generation %lld: %zu units, %zu addresses, %zu events, %zu workers\n",
                (long long)st.generation, st.units, st.addresses, st.events, st.workers);
    else
        fprintf(stderr, "wangge-server: cannot create %s: %s\n", c->store, ctx ? wg_errmsg(ctx) : "out of memory");
    wg_ctx_free(ctx); /* the last connection: SQLite checkpoints the WAL into the file */
    if (rc == WG_OK) {
        int fd = open(tmp, O_RDONLY);
        if (fd < 0 || fsync(fd) != 0 || rename(tmp, c->store) != 0) {
            fprintf(stderr, "wangge-server: cannot put %s in place: %s\n", c->store, strerror(errno));
            rc = WG_EIO;
        }
        if (fd >= 0) close(fd);
    }
    if (rc != WG_OK)
        for (int i = 0; i < 4; i++) {
            snprintf(p, sizeof p, "%s%s", tmp, SUFFIX[i]);
            unlink(p);
        }
    return rc == WG_OK;
}

int main(int argc, char **argv)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    /* Memory stays level under load: blocks of 128 KiB and more (request bodies, big answers)
     * are mapped and unmapped rather than kept in the heap (glibc otherwise raises this bound
     * as they are freed), and the heap has at most two arenas a CPU (not eight) so that freed
     * memory is reused rather than spread over many arenas. The guard trims the heap too. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    mallopt(M_ARENA_MAX, cpus > 0 ? 2 * (int)cpus : 4);
    server s;
    memset(&s, 0, sizeof s);
    s.cfg = (srv_config){"127.0.0.1", 8080, "wangge.sqlite", WANGGE_GEODATA_DIR, WANGGE_WEB_DIR,
                         cpus > 0 ? (int)cpus : 2, 1024, 256, 30, 8u << 20, 10000, 256, "-", 1,
                         WG_MAX_VERTICES};
    int opt;
    while ((opt = getopt_long(argc, argv, "h", OPTS, NULL)) != -1) {
        if (opt == 'h') {
            fputs(USAGE, stdout);
            return 0;
        }
        if (opt == '?' || !apply(&s.cfg, opt, optarg)) {
            fputs(USAGE, stderr);
            return 1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "wangge-server: unexpected argument %s\n%s", argv[optind], USAGE);
        return 1;
    }
    double t0 = srv_now();
    s.started = t0;
    if (!ensure_store(&s.cfg)) return 2;
    /* block the stop signals before any thread starts, so sigwait below receives them */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (strcmp(s.cfg.access_log, "off") == 0) s.log = NULL;
    else if (strcmp(s.cfg.access_log, "-") == 0) s.log = stderr;
    else if (!(s.log = fopen(s.cfg.access_log, "a"))) {
        fprintf(stderr, "wangge-server: cannot open access log %s: %s\n", s.cfg.access_log, strerror(errno));
        return 1;
    }
    int code = 0;
    int64_t gen = 0;
    size_t grids = 0;
    if (state_init(&s) != WG_OK || workers_init(&s) != WG_OK || tiles_init(&s) != WG_OK || web_init(&s) != WG_OK)
        code = 3;
    if (code == 0) { /* read before the threads start: they may swap s.cur */
        gen = s.cur->gen;
        grids = wg_lookup_count(s.cur->lk, 3);
        if (http_start(&s) != WG_OK) code = 3;
    }
    if (code == 0) {
        fprintf(stderr, "wangge-server: generation %lld, %zu grids, listening on http://%s:%d/ (%d threads, %.2f s)\n",
                (long long)gen, grids, s.cfg.addr, s.cfg.port, s.cfg.threads, srv_now() - t0);
        int sig;
        sigwait(&stop, &sig);
        fprintf(stderr, "wangge-server: stopping (signal %d)\n", sig);
        workers_quiesce(&s); /* no connection left suspended */
        http_stop(&s);
    }
    web_free(&s);
    tiles_free(&s);
    workers_free(&s);
    state_free(&s);
    if (s.log && s.log != stderr) fclose(s.log);
    return code;
}
