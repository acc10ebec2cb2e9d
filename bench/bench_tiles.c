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
 * --threads N the tiles of a zoom are shared out over N threads (one context each). */
#include "wangge/tiles.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_tiles STORE [--zooms 4,8,12] [--bbox a,b,c,d] [--layers "
                        "L,..] [--threads N] [--generation G]\n");
        return 1;
    }
    const char *zooms = "4,8,12", *layers_csv = "districts,communities,grids,labels", *dump = NULL;
    double bb[4];
    int have_bbox = 0, threads = 1;
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
        else if (!strcmp(argv[i], "--bbox") &&
                 sscanf(argv[i + 1], "%lf,%lf,%lf,%lf", &bb[0], &bb[1], &bb[2], &bb[3]) == 4)
            have_bbox = 1;
        else {
            fprintf(stderr, "bench_tiles: bad option %s\n", argv[i]);
            return 1;
        }
    }
    if (threads < 1 || threads > 64) threads = 1;
    unsigned layers;
    if (wg_tile_layers_parse(layers_csv, &layers) != WG_OK) {
        fprintf(stderr, "bench_tiles: bad layers %s\n", layers_csv);
        return 1;
    }
    wg_ctx *ctx = wg_ctx_new();
    if (wg_store_open(ctx, argv[1], WG_STORE_READONLY) != WG_OK) {
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
