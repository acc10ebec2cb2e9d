/* bench_tiles — vector tile rendering from memory: build a tileset from a store, then render
 * every tile of the given zooms over a bounding box, cold (no tile cache exists), and print
 * tiles per second and bytes.
 *
 * usage: bench_tiles STORE [--zooms 4,8,12] [--bbox minlon,minlat,maxlon,maxlat]
 *                          [--layers districts,communities,grids,labels] [--threads N]
 *                          [--generation G] [--dump DIR]
 * --dump writes every tile with features to DIR/z/x/y.mvt (for ogrinfo and map viewers;
 * directories are made). The bbox defaults to the generation's bounds; every tile meeting it is
 * rendered once. With
 * --threads N the tiles of a zoom are shared out over N threads (one context each).
 *
 * List mode: bench_tiles STORE --tiles FILE [--repeat N] [--warmup N] [--layers ...]
 * renders the tiles listed in FILE (one "z x y" per line; '#' lines are skipped) on one
 * thread, zoom by zoom in the order the zooms first appear: N warm-up passes over the zoom's
 * tiles (default 1, untimed), then --repeat timed passes (default 1). Every render is cold: the
 * library has no tile cache, each call builds the tile from the in-memory tileset. One line per
 * zoom, for scripts (bench/run_tiles_pg.sh):
 *   list z=Z tiles=N nonempty=K bytes=B passes=P best_ms=T mean_ms=T failed=F
 * bytes and nonempty are of one pass; best_ms and mean_ms are the fastest and the mean pass,
 * in milliseconds for all the zoom's tiles. */
#include "wangge/tiles.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct tile_xyz {
    int z, x, y;
} tile_xyz;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int lon_to_x(double lon, int z)
{
    int n = 1 << z, x = (int)floor((lon + 180.0) / 360.0 * n);
    return x < 0 ? 0 : x >= n ? n - 1 : x;
}

static int lat_to_y(double lat, int z)
{
    const double pi = 3.14159265358979323846, max = 85.05112877980659;
    lat = lat > max ? max : lat < -max ? -max : lat;
    double r = lat * pi / 180;
    int n = 1 << z, y = (int)floor((1 - log(tan(r) + 1 / cos(r)) / pi) / 2 * n);
    return y < 0 ? 0 : y >= n ? n - 1 : y;
}

static void dump_tile(const char *dir, int z, int x, int y, const unsigned char *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%d/%d", dir, z, x);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/%d/%d/%d.mvt", dir, z, x, y);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(data, 1, len, f);
    fclose(f);
}

typedef struct job {
    const wg_tileset *ts;
    unsigned layers;
    int z, x0, x1, y0, y1;
    int part, parts;
    const char *dump;
    size_t tiles, nonempty, bytes, max_bytes, failed;
} job;

static void *run(void *arg)
{
    job *j = arg;
    wg_ctx *ctx = wg_ctx_new();
    size_t k = 0;
    for (int y = j->y0; y <= j->y1; y++)
        for (int x = j->x0; x <= j->x1; x++, k++) {
            if ((int)(k % (size_t)j->parts) != j->part) continue;
            unsigned char *data = NULL;
            size_t len = 0;
            int rc = wg_tile_render(j->ts, ctx, j->layers, j->z, x, y, &data, &len);
            j->tiles++;
            if (rc != WG_OK) {
                j->failed++;
                continue;
            }
            j->nonempty += len > 0;
            j->bytes += len;
            if (len > j->max_bytes) j->max_bytes = len;
            if (j->dump && len > 0) dump_tile(j->dump, j->z, x, y, data, len);
            free(data);
        }
    wg_ctx_free(ctx);
    return NULL;
}

/* Reads "z x y" lines; returns the count (0 with *out NULL on an empty list), -1 on error. */
static long read_tile_list(const char *path, tile_xyz **out)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_tiles: cannot open %s\n", path);
        return -1;
    }
    tile_xyz *v = NULL;
    size_t n = 0, cap = 0;
    char line[256];
    long lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        const char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || *p == '\0') continue;
        tile_xyz t;
        if (sscanf(p, "%d %d %d", &t.z, &t.x, &t.y) != 3 || t.z < 0 || t.z > WG_TILE_MAXZOOM ||
            t.x < 0 || t.y < 0 || t.x >= (1 << t.z) || t.y >= (1 << t.z)) {
            fprintf(stderr, "bench_tiles: %s:%ld: not a tile \"z x y\"\n", path, lineno);
            free(v);
            fclose(f);
            return -1;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            tile_xyz *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                free(v);
                fclose(f);
                return -1;
            }
            v = nv;
        }
        v[n++] = t;
    }
    fclose(f);
    *out = v;
    return (long)n;
}

/* List mode (see the top): one line per zoom. Returns the process exit code. */
static int run_list(const wg_tileset *ts, unsigned layers, const char *path, int repeat,
                    int warmup)
{
    tile_xyz *t = NULL;
    long n = read_tile_list(path, &t);
    if (n < 0) return 1;
    printf("tile list %s: %ld tiles, %d warm-up and %d timed pass(es) per zoom, 1 thread\n", path,
           n, warmup, repeat);
    wg_ctx *ctx = wg_ctx_new();
    int rc = 0;
    unsigned char seen[WG_TILE_MAXZOOM + 1] = {0};
    for (long i = 0; i < n; i++) {
        int z = t[i].z;
        if (seen[z]) continue;
        seen[z] = 1;
        size_t tiles = 0, nonempty = 0, bytes = 0, failed = 0;
        double best = 0, total = 0;
        for (int pass = -warmup; pass < repeat; pass++) {
            size_t pt = 0, pne = 0, pb = 0, pf = 0;
            double t0 = now();
            for (long k = i; k < n; k++) {
                if (t[k].z != z) continue;
                unsigned char *data = NULL;
                size_t len = 0;
                pt++;
                if (wg_tile_render(ts, ctx, layers, z, t[k].x, t[k].y, &data, &len) != WG_OK) {
                    pf++;
                    continue;
                }
                pne += len > 0;
                pb += len;
                free(data);
            }
            double s = now() - t0;
            if (pass < 0) continue;
            if (pass == 0 || s < best) best = s;
            total += s;
            tiles = pt, nonempty = pne, bytes = pb, failed = pf;
        }
        if (failed) rc = 1;
        printf("list z=%d tiles=%zu nonempty=%zu bytes=%zu passes=%d best_ms=%.3f mean_ms=%.3f "
               "failed=%zu\n",
               z, tiles, nonempty, bytes, repeat, 1e3 * best, repeat ? 1e3 * total / repeat : 0,
               failed);
        fflush(stdout);
    }
    wg_ctx_free(ctx);
    free(t);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_tiles STORE [--zooms 4,8,12] [--bbox a,b,c,d] [--layers "
                        "L,..] [--threads N] [--generation G] [--dump DIR]\n"
                        "       bench_tiles STORE --tiles FILE [--repeat N] [--warmup N] "
                        "[--layers L,..] [--generation G]\n");
        return 1;
    }
    const char *zooms = "4,8,12", *layers_csv = "districts,communities,grids,labels", *dump = NULL;
    const char *tile_list = NULL;
    double bb[4];
    int have_bbox = 0, threads = 1, repeat = 1, warmup = 1;
    int64_t generation = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--zooms"))
            zooms = argv[i + 1];
        else if (!strcmp(argv[i], "--layers"))
            layers_csv = argv[i + 1];
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--generation"))
            generation = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--dump"))
            dump = argv[i + 1];
        else if (!strcmp(argv[i], "--tiles"))
            tile_list = argv[i + 1];
        else if (!strcmp(argv[i], "--repeat"))
            repeat = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup"))
            warmup = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--bbox") &&
                 sscanf(argv[i + 1], "%lf,%lf,%lf,%lf", &bb[0], &bb[1], &bb[2], &bb[3]) == 4)
            have_bbox = 1;
        else {
            fprintf(stderr, "bench_tiles: bad option %s\n", argv[i]);
            return 1;
        }
    }
    if (threads < 1 || threads > 64) threads = 1;
    if (repeat < 1) repeat = 1;
    if (warmup < 0) warmup = 0;
    unsigned layers;
    if (wg_tile_layers_parse(layers_csv, &layers) != WG_OK) {
        fprintf(stderr, "bench_tiles: bad layers %s\n", layers_csv);
        return 1;
    }
    wg_ctx *ctx = wg_ctx_new();
    if (wg_store_open(ctx, argv[1], 0) != WG_OK) {
        fprintf(stderr, "bench_tiles: %s\n", wg_errmsg(ctx));
        return 1;
    }
    double t0 = now();
    wg_tileset *ts = NULL;
    if (wg_tileset_build(ctx, generation, &ts) != WG_OK) {
        fprintf(stderr, "bench_tiles: %s\n", wg_errmsg(ctx));
        return 1;
    }
    double build_s = now() - t0;
    double bounds[4], center[2];
    wg_tileset_bounds(ts, bounds, center);
    if (!have_bbox) memcpy(bb, bounds, sizeof bb);
    printf("tileset: generation %lld, built in %.2f s, %.1f MB\n",
           (long long)wg_tileset_generation(ts), build_s, wg_tileset_bytes(ts) / 1e6);
    printf("bounds %.4f,%.4f,%.4f,%.4f centre %.4f,%.4f\n", bounds[0], bounds[1], bounds[2],
           bounds[3], center[0], center[1]);
    for (unsigned bit = 1; bit <= WG_TL_LABELS; bit <<= 1) {
        int lo, hi;
        wg_tileset_layer_zooms(ts, bit, &lo, &hi);
        printf("  %-12s z%d-%d\n", wg_tile_layer_name(bit), lo, hi);
    }
    if (tile_list) {
        printf("layers %s\n", layers_csv);
        int rc = run_list(ts, layers, tile_list, repeat, warmup);
        wg_tileset_free(ts);
        wg_ctx_free(ctx);
        return rc;
    }
    printf("layers %s, bbox %.4f,%.4f,%.4f,%.4f, %d thread(s)\n", layers_csv, bb[0], bb[1], bb[2],
           bb[3], threads);
    for (const char *p = zooms; *p;) {
        int z = atoi(p);
        const char *c = strchr(p, ',');
        p = c ? c + 1 : p + strlen(p);
        if (z < 0 || z > WG_TILE_MAXZOOM) continue;
        job jobs[64];
        pthread_t tid[64];
        int x0 = lon_to_x(bb[0], z), x1 = lon_to_x(bb[2], z), y0 = lat_to_y(bb[3], z),
            y1 = lat_to_y(bb[1], z);
        double t1 = now();
        for (int k = 0; k < threads; k++) {
            jobs[k] = (job){ts, layers, z, x0, x1, y0, y1, k, threads, dump, 0, 0, 0, 0, 0};
            if (dump) {
                char path[4096];
                snprintf(path, sizeof path, "%s/%d", dump, z);
                mkdir(path, 0777);
            }
            pthread_create(&tid[k], NULL, run, &jobs[k]);
        }
        job sum = {0};
        for (int k = 0; k < threads; k++) {
            pthread_join(tid[k], NULL);
            sum.tiles += jobs[k].tiles;
            sum.nonempty += jobs[k].nonempty;
            sum.bytes += jobs[k].bytes;
            sum.failed += jobs[k].failed;
            if (jobs[k].max_bytes > sum.max_bytes) sum.max_bytes = jobs[k].max_bytes;
        }
        double s = now() - t1;
        printf("z%-2d %8zu tiles (%zu with features) in %7.3f s: %9.0f tiles/s, %6.2f ms/non-empty "
               "tile,"
               " %.1f MB, mean %.0f B, max %zu B%s\n",
               z, sum.tiles, sum.nonempty, s, sum.tiles / s,
               sum.nonempty ? 1e3 * s / sum.nonempty : 0, sum.bytes / 1e6,
               sum.nonempty ? (double)sum.bytes / sum.nonempty : 0, sum.max_bytes,
               sum.failed ? " (FAILURES)" : "");
    }
    wg_tileset_free(ts);
    wg_ctx_free(ctx);
    return 0;
}
