/* wangge workers: the roster, GPS fixes, tracks and the nearest worker from the command line
 * (the same library calls as the server's /v1/workers and /v1/positions). */
#include "cli.h"
#include "wangge/crs.h"
#include "wangge/events.h"
#include "wangge/lookup.h"
#include "wangge/workers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    OPT_ID = 256,
    OPT_NAME,
    OPT_PHONE,
    OPT_ROLE,
    OPT_HOME,
    OPT_ON,
    OPT_OFF,
    OPT_JSON,
    OPT_FROM,
    OPT_TO,
    OPT_LIMIT,
    OPT_K,
    OPT_SEEN,
    OPT_GRID,
    OPT_COMM,
    OPT_CRS,
    OPT_BATCH,
    OPT_DAYS,
    OPT_NOW
};
static const struct option OPTS[] = {{"id", required_argument, NULL, OPT_ID},
                                     {"name", required_argument, NULL, OPT_NAME},
                                     {"phone", required_argument, NULL, OPT_PHONE},
                                     {"role", required_argument, NULL, OPT_ROLE},
                                     {"home-grid", required_argument, NULL, OPT_HOME},
                                     {"on-duty", optional_argument, NULL, OPT_ON},
                                     {"off-duty", no_argument, NULL, OPT_OFF},
                                     {"json", no_argument, NULL, OPT_JSON},
                                     {"from", required_argument, NULL, OPT_FROM},
                                     {"to", required_argument, NULL, OPT_TO},
                                     {"limit", required_argument, NULL, OPT_LIMIT},
                                     {"k", required_argument, NULL, OPT_K},
                                     {"seen-within", required_argument, NULL, OPT_SEEN},
                                     {"grid", required_argument, NULL, OPT_GRID},
                                     {"community", required_argument, NULL, OPT_COMM},
                                     {"crs", required_argument, NULL, OPT_CRS},
                                     {"batch", required_argument, NULL, OPT_BATCH},
                                     {"days", required_argument, NULL, OPT_DAYS},
                                     {"now", required_argument, NULL, OPT_NOW},
                                     {NULL, 0, NULL, 0}};

typedef struct args {
    const char *id, *name, *phone, *role, *home, *from, *to, *grid, *comm, *batch, *now;
    const char *duty; /* --on-duty[=true|false|any] */
    int off, json;
    int64_t limit, k;
    double seen_min, days;
    wg_crs crs;
    int nargs;
    char **rest;
} args;

static int parse(cli *c, int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    a->k = 1;
    a->days = WG_TRACK_RETENTION_MS / 86400000.0;
    int opt;
    while ((opt = getopt_long(argc, argv, "", OPTS, NULL)) != -1) {
        switch (opt) {
        case OPT_ID:
            a->id = optarg;
            break;
        case OPT_NAME:
            a->name = optarg;
            break;
        case OPT_PHONE:
            a->phone = optarg;
            break;
        case OPT_ROLE:
            a->role = optarg;
            break;
        case OPT_HOME:
            a->home = optarg;
            break;
        case OPT_ON:
            a->duty = optarg ? optarg : "true";
            break;
        case OPT_OFF:
            a->off = 1;
            break;
        case OPT_JSON:
            a->json = 1;
            break;
        case OPT_FROM:
            a->from = optarg;
            break;
        case OPT_TO:
            a->to = optarg;
            break;
        case OPT_GRID:
            a->grid = optarg;
            break;
        case OPT_COMM:
            a->comm = optarg;
            break;
        case OPT_BATCH:
            a->batch = optarg;
            break;
        case OPT_NOW:
            a->now = optarg;
            break;
        case OPT_LIMIT:
            if (!cli_parse_i64(optarg, &a->limit) || a->limit < 1)
                return cli_usage(c, "--limit takes a positive number");
            break;
        case OPT_K:
            if (!cli_parse_i64(optarg, &a->k) || a->k < 1 || a->k > WG_NEAREST_MAX_K)
                return cli_usage(c, "--k takes 1 to %d", WG_NEAREST_MAX_K);
            break;
        case OPT_SEEN:
            if (!cli_parse_double(optarg, &a->seen_min) || a->seen_min <= 0)
                return cli_usage(c, "--seen-within takes minutes");
            break;
        case OPT_DAYS:
            if (!cli_parse_double(optarg, &a->days) || a->days <= 0)
                return cli_usage(c, "--days takes a positive number");
            break;
        case OPT_CRS:
            if (wg_crs_parse(optarg, &a->crs) != WG_OK)
                return cli_usage(c, "--crs takes wgs84 or gcj02");
            break;
        default:
            return cli_usage(c, "bad option");
        }
    }
    a->nargs = argc - optind;
    a->rest = argv + optind;
    return -1;
}

/* RFC 3339 (local +08:00 without an offset) or milliseconds. */
static int parse_time(const char *s, int64_t *ms, char *msg, size_t n)
{
    if (cli_parse_i64(s, ms)) return 1;
    return wg_time_parse(s, WG_CAL_DEFAULT_OFFSET_MIN, ms, msg, n) == WG_OK;
}

static int finish(cli *c, wg_ctx *ctx, int rc)
{
    int code = rc == WG_OK ? EXIT_OK : cli_fail(c, ctx, rc);
    wg_ctx_free(ctx);
    return code;
}

static void print_worker(const wg_worker *w, int json)
{
    if (json) {
        char *t = wg_worker_json(w, WG_NEAR_PERSONAL);
        printf("%s\n", t ? t : "null");
        free(t);
        return;
    }
    char seen[32] = "";
    if (w->seen_ms) wg_ms_to_iso(w->seen_ms, seen);
    if (w->has_position)
        printf("%s,%s,%s,%s,%s,%d,%d,%.7f,%.7f,%s\n", w->id, w->name, w->phone,
               wg_worker_role_name(w->role), w->home_grid, w->on_duty, w->active, w->lon, w->lat,
               seen);
    else
        printf("%s,%s,%s,%s,%s,%d,%d,,,%s\n", w->id, w->name, w->phone,
               wg_worker_role_name(w->role), w->home_grid, w->on_duty, w->active, seen);
}

static int w_list(cli *c, const args *a)
{
    if (a->nargs) return cli_usage(c, "list takes no arguments");
    wg_ctx *ctx = cli_open(c, WG_STORE_READONLY);
    if (!ctx) return EXIT_STORE;
    wg_worker *all;
    size_t n;
    int rc = wg_workers_list(ctx, &all, &n);
    if (rc == WG_OK) {
        if (!a->json) printf("id,name,phone,role,home_grid,on_duty,active,lon,lat,seen_at\n");
        for (size_t i = 0; i < n; i++)
            print_worker(&all[i], a->json);
        free(all);
    }
    return finish(c, ctx, rc);
}

static int w_show(cli *c, const args *a)
{
    if (a->nargs != 1) return cli_usage(c, "show takes one worker id");
    wg_ctx *ctx = cli_open(c, WG_STORE_READONLY);
    if (!ctx) return EXIT_STORE;
    wg_worker w;
    int rc = wg_worker_get(ctx, a->rest[0], &w);
    if (rc == WG_OK) print_worker(&w, 1);
    return finish(c, ctx, rc);
}

static int w_add(cli *c, const args *a)
{
    if (a->nargs) return cli_usage(c, "add takes options only");
    if (!a->id || !a->name || !a->role) return cli_usage(c, "add needs --id, --name and --role");
    wg_worker_reg r = {a->id, a->name, a->phone, a->home, wg_worker_role_parse(a->role), -1};
    if (!r.role) return cli_usage(c, "--role takes grid_worker or officer");
    if (a->duty) r.on_duty = strcmp(a->duty, "false") != 0;
    if (a->off) r.on_duty = 0;
    wg_ctx *ctx = cli_open(c, 0);
    if (!ctx) return EXIT_STORE;
    int created = 0;
    int rc = wg_worker_register(ctx, NULL, &r, &created);
    if (rc == WG_OK)
        fprintf(stderr, "%s: worker %s %s\n", c->prog, a->id, created ? "registered" : "updated");
    return finish(c, ctx, rc);
}

static int w_duty(cli *c, const args *a)
{
    if (a->nargs != 2 || (strcmp(a->rest[1], "on") != 0 && strcmp(a->rest[1], "off") != 0))
        return cli_usage(c, "duty takes a worker id and on or off");
    wg_ctx *ctx = cli_open(c, 0);
    if (!ctx) return EXIT_STORE;
    return finish(c, ctx, wg_worker_set_duty(ctx, NULL, a->rest[0], strcmp(a->rest[1], "on") == 0));
}

static int w_remove(cli *c, const args *a)
{
    if (a->nargs != 1) return cli_usage(c, "remove takes one worker id");
    wg_ctx *ctx = cli_open(c, 0);
    if (!ctx) return EXIT_STORE;
    return finish(c, ctx, wg_worker_deregister(ctx, NULL, a->rest[0]));
}

/* Fixes from a CSV (worker_id,lon,lat,at[,accuracy_m]; a header line is skipped), stored in
 * batches of 10,000; refused fixes are listed by line. */
static int w_fixes(cli *c, const args *a)
{
    if (a->nargs != 1)
        return cli_usage(c, "fixes takes one CSV file (worker_id,lon,lat,at[,accuracy_m])");
    FILE *in = strcmp(a->rest[0], "-") == 0 ? stdin : fopen(a->rest[0], "r");
    if (!in) {
        fprintf(stderr, "%s: cannot open %s\n", c->prog, a->rest[0]);
        return EXIT_DATA;
    }
    wg_ctx *ctx = cli_open(c, 0);
    if (!ctx) {
        if (in != stdin) fclose(in);
        return EXIT_STORE;
    }
    enum { BATCH = 10000 };
    static char ids[BATCH][WG_WORKER_ID_MAX + 1];
    static wg_fix fixes[BATCH];
    static size_t lines[BATCH];
    static wg_fix_result res[BATCH];
    wg_fix_counts total = {0}, cnt;
    char line[512], msg[128];
    size_t lineno = 0, m = 0, bad = 0, told = 0; /* at most 20 lines are named */
    int rc = WG_OK, more = 1;
    while (rc == WG_OK && more) {
        more = fgets(line, sizeof line, in) != NULL;
        if (more) {
            lineno++;
            line[strcspn(line, "\r\n")] = '\0';
            if (!line[0] || line[0] == '#' || (lineno == 1 && strncmp(line, "worker_id", 9) == 0))
                continue;
            char *f[6] = {0}, *p = line;
            int nf = 0;
            while (nf < 6 && p) {
                f[nf++] = p;
                p = strchr(p, ',');
                if (p) *p++ = '\0';
            }
            wg_fix *x = &fixes[m];
            x->accuracy_m = NAN;
            if (nf < 4 || nf > 5 || strlen(f[0]) > WG_WORKER_ID_MAX ||
                !cli_parse_double(f[1], &x->lon) || !cli_parse_double(f[2], &x->lat) ||
                !parse_time(f[3], &x->at_ms, msg, sizeof msg) ||
                (nf == 5 && f[4][0] && !cli_parse_double(f[4], &x->accuracy_m))) {
                if (told++ < 20)
                    fprintf(stderr, "%s: %s:%zu: expected worker_id,lon,lat,at[,accuracy_m]\n",
                            c->prog, a->rest[0], lineno);
                bad++;
                continue;
            }
            if (a->crs == WG_CRS_GCJ02) wg_gcj02_to_wgs84(x->lon, x->lat, &x->lon, &x->lat);
            snprintf(ids[m], sizeof ids[m], "%s", f[0]);
            x->worker_id = ids[m];
            lines[m++] = lineno;
        }
        if (m == BATCH || (!more && m)) {
            rc = wg_positions_add(ctx, NULL, fixes, m, NULL, res, &cnt);
            for (size_t i = 0; rc == WG_OK && i < m; i++)
                if (res[i].outcome == WG_FIX_REJECTED && told++ < 20)
                    fprintf(stderr, "%s: %s:%zu: %s\n", c->prog, a->rest[0], lines[i],
                            res[i].reason);
            total.current += cnt.current, total.track += cnt.track,
                total.duplicate += cnt.duplicate;
            total.rejected += cnt.rejected;
            m = 0;
        }
    }
    if (in != stdin) fclose(in);
    if (told > 20) fprintf(stderr, "%s: ... and %zu more refused lines\n", c->prog, told - 20);
    if (rc == WG_OK)
        printf("current %zu, out_of_order %zu, duplicate %zu, rejected %zu, unreadable %zu\n",
               total.current, total.track, total.duplicate, total.rejected, bad);
    int code = finish(c, ctx, rc);
    return code == EXIT_OK && (bad || total.rejected) ? EXIT_DATA : code;
}

static int w_track(cli *c, const args *a)
{
    if (a->nargs != 1) return cli_usage(c, "track takes one worker id");
    int64_t from = 0, to = INT64_MAX;
    char msg[128] = "";
    if ((a->from && !parse_time(a->from, &from, msg, sizeof msg)) ||
        (a->to && !parse_time(a->to, &to, msg, sizeof msg)))
        return cli_usage(c, "--from/--to take RFC 3339 times or milliseconds (%s)", msg);
    wg_ctx *ctx = cli_open(c, WG_STORE_READONLY);
    if (!ctx) return EXIT_STORE;
    wg_track_point *p;
    size_t n;
    int more;
    int rc = wg_track_get(ctx, a->rest[0], from, to, (size_t)a->limit, &p, &n, &more);
    if (rc == WG_OK) {
        printf("at,at_ms,lon,lat,accuracy_m\n");
        for (size_t i = 0; i < n; i++) {
            char iso[32];
            wg_ms_to_iso(p[i].at_ms, iso);
            if (isnan(p[i].accuracy_m))
                printf("%s,%lld,%.7f,%.7f,\n", iso, (long long)p[i].at_ms, p[i].lon, p[i].lat);
            else
                printf("%s,%lld,%.7f,%.7f,%g\n", iso, (long long)p[i].at_ms, p[i].lon, p[i].lat,
                       p[i].accuracy_m);
        }
        if (more) fprintf(stderr, "%s: more fixes in the range than --limit %zu\n", c->prog, n);
        free(p);
    }
    return finish(c, ctx, rc);
}

static int w_prune(cli *c, const args *a)
{
    if (a->nargs) return cli_usage(c, "prune takes options only");
    int64_t now = 0;
    char msg[128] = "";
    if (a->now && !parse_time(a->now, &now, msg, sizeof msg))
        return cli_usage(c, "--now takes a time (%s)", msg);
    if (!a->now) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    wg_ctx *ctx = cli_open(c, 0);
    if (!ctx) return EXIT_STORE;
    size_t gone = 0;
    int rc = wg_track_prune(ctx, now - (int64_t)(a->days * 86400000.0), &gone);
    if (rc == WG_OK) printf("pruned %zu fixes older than %g days\n", gone, a->days);
    return finish(c, ctx, rc);
}

/* One answer as a CSV line: lon,lat,id,distance_m (id empty when nobody passes). */
static void print_csv(double lon, double lat, const wg_near *h, size_t n)
{
    if (!n) printf("%.7f,%.7f,,\n", lon, lat);
    for (size_t i = 0; i < n; i++)
        printf("%.7f,%.7f,%s,%.3f\n", lon, lat, h[i].id, h[i].dist_m);
}

static int w_nearest(cli *c, const args *a)
{
    if (!a->batch && a->nargs != 2) return cli_usage(c, "nearest takes LON LAT, or --batch FILE");
    wg_near_query q = {0};
    q.k = (int)a->k;
    q.duty = WG_DUTY_ON;
    if (a->duty && strcmp(a->duty, "false") == 0)
        q.duty = WG_DUTY_OFF;
    else if (a->duty && strcmp(a->duty, "any") == 0)
        q.duty = WG_DUTY_ANY;
    else if (a->duty && strcmp(a->duty, "true") != 0)
        return cli_usage(c, "--on-duty takes true, false or any");
    q.seen_within_ms = (int64_t)(a->seen_min * 60000);
    if (a->role && !(q.roles = wg_worker_role_parse(a->role)))
        return cli_usage(c, "--role takes grid_worker or officer");
    q.grid = a->grid;
    q.community = a->comm;
    double lon = 0, lat = 0;
    if (!a->batch && (!cli_parse_double(a->rest[0], &lon) || !cli_parse_double(a->rest[1], &lat)))
        return cli_usage(c, "LON LAT must be numbers");
    wg_ctx *ctx = cli_open(c, WG_STORE_READONLY);
    if (!ctx) return EXIT_STORE;
    wg_posindex *idx = wg_posindex_new(0);
    int rc = idx ? wg_posindex_sync(idx, ctx, NULL) : WG_ENOMEM;
    wg_lookup *lk = NULL;
    if (rc == WG_OK && wg_lookup_load(ctx, 0, &lk) != WG_OK)
        lk = NULL; /* no generation: codes without names */
    wg_near *hits = malloc((size_t)q.k * sizeof *hits);
    size_t n = 0;
    if (!hits) rc = WG_ENOMEM;
    if (rc == WG_OK && !a->batch) {
        q.lon = lon, q.lat = lat;
        if (a->crs == WG_CRS_GCJ02) wg_gcj02_to_wgs84(lon, lat, &q.lon, &q.lat);
        rc = wg_posindex_nearest(idx, &q, hits, &n);
        if (rc == WG_OK && a->json) {
            char *t =
                wg_nearest_json(lk, ctx, &q, hits, n,
                                WG_NEAR_PERSONAL | (a->crs == WG_CRS_GCJ02 ? WG_NEAR_GCJ02 : 0));
            printf("%s\n", t ? t : "null");
            free(t);
        } else if (rc == WG_OK) {
            print_csv(q.lon, q.lat, hits, n);
        }
    }
    if (rc == WG_OK && a->batch) {
        FILE *in = strcmp(a->batch, "-") == 0 ? stdin : fopen(a->batch, "r");
        char line[256];
        if (!in) rc = WG_EIO;
        while (in && rc == WG_OK && fgets(line, sizeof line, in)) {
            char extra;
            if (line[0] == '\n' || line[0] == '#') continue;
            if (sscanf(line, "%lf , %lf %c", &lon, &lat, &extra) != 2) continue;
            q.lon = lon, q.lat = lat;
            if (a->crs == WG_CRS_GCJ02) wg_gcj02_to_wgs84(lon, lat, &q.lon, &q.lat);
            rc = wg_posindex_nearest(idx, &q, hits, &n);
            if (rc == WG_OK) print_csv(q.lon, q.lat, hits, n);
        }
        if (in && in != stdin) fclose(in);
        if (rc == WG_EIO) fprintf(stderr, "%s: cannot open %s\n", c->prog, a->batch);
    }
    free(hits);
    wg_lookup_free(lk);
    wg_posindex_free(idx);
    if (rc == WG_EIO) {
        wg_ctx_free(ctx);
        return EXIT_DATA;
    }
    if (rc == WG_EINVAL) {
        wg_ctx_free(ctx);
        return cli_usage(c, "bad point or k");
    }
    return finish(c, ctx, rc);
}

int cmd_workers(cli *c, int argc, char **argv); /* tools/main.c's table */
int cmd_workers(cli *c, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage(
            c, "workers needs list, show, add, duty, remove, fixes, track, nearest or prune");
    const char *sub = argv[1];
    argc--;
    argv++;
    optind = 1;
    args a;
    int code = parse(c, argc, argv, &a);
    if (code >= 0) return code;
    if (strcmp(sub, "list") == 0) return w_list(c, &a);
    if (strcmp(sub, "show") == 0) return w_show(c, &a);
    if (strcmp(sub, "add") == 0) return w_add(c, &a);
    if (strcmp(sub, "duty") == 0) return w_duty(c, &a);
    if (strcmp(sub, "remove") == 0) return w_remove(c, &a);
    if (strcmp(sub, "fixes") == 0) return w_fixes(c, &a);
    if (strcmp(sub, "track") == 0) return w_track(c, &a);
    if (strcmp(sub, "nearest") == 0) return w_nearest(c, &a);
    if (strcmp(sub, "prune") == 0) return w_prune(c, &a);
    return cli_usage(c, "unknown workers command '%s'", sub);
}
