/* bench_lookup — wangge's exact point index against the GEOS baseline (STRtree of envelopes +
 * prepared geometry covers), on the same polygons and the same points, in one run.
 *
 * usage: bench_lookup STORE [--level 3] [--points N] [--bulk N] [--bbox minx,miny,maxx,maxy]
 *                           [--seed S]
 * Prints: index build time and memory, single-thread lookups/s of both and their ratio, bulk
 * assignment on 2 threads for both and their ratio, and whether the answers agree (a point
 * covered by several polygons may get a different one of them; those are counted apart). */
#include "wangge/pindex.h"
#include "wangge/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* xorshift64*: the points are the same for the same seed on every machine */
static double rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

typedef struct baseline {
    GEOSContextHandle_t h;
    GEOSSTRtree *tree;
    const GEOSPreparedGeometry **prep;
    size_t n;
} baseline;

static void baseline_build(baseline *b, const GEOSGeometry *const *g, size_t n)
{
    b->h = GEOS_init_r();
    b->n = n;
    b->tree = GEOSSTRtree_create_r(b->h, 10);
    b->prep = malloc(n * sizeof *b->prep);
    for (size_t i = 0; i < n; i++) {
        GEOSGeometry *copy = GEOSGeom_clone_r(b->h, g[i]); /* owned by this thread's handle */
        b->prep[i] = GEOSPrepare_r(b->h, copy);
        GEOSSTRtree_insert_r(b->h, b->tree, copy, (void *)(intptr_t)i);
    }
}

typedef struct query {
    const baseline *b;
    const GEOSGeometry *pt;
    int32_t found;
    int covers;
} query;

static void visit(void *item, void *ud)
{
    query *q = ud;
    int32_t i = (int32_t)(intptr_t)item;
    if (GEOSPreparedCovers_r(q->b->h, q->b->prep[i], q->pt) != 1) return;
    q->covers++;
    if (q->found < 0 || i < q->found) q->found = i;
}

/* The GEOS answer for one point: the lowest-index covering polygon, and how many cover it. */
static int32_t baseline_locate(const baseline *b, double x, double y, int *covers)
{
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(b->h, x, y);
    query q = {b, pt, -1, 0};
    GEOSSTRtree_query_r(b->h, b->tree, pt, visit, &q);
    GEOSGeom_destroy_r(b->h, pt);
    *covers = q.covers;
    return q.found;
}

typedef struct job {
    const GEOSGeometry *const *g;
    size_t ng;
    const double *x, *y;
    size_t begin, end;
    int32_t *out;
    int *covers;
} job;

static void *baseline_thread(void *arg)
{
    job *j = arg;
    baseline b;
    /* each thread owns a GEOS handle and its own prepared geometries (not shareable) */
    GEOSContextHandle_t h0 = GEOS_init_r();
    GEOSGeometry **copies = malloc(j->ng * sizeof *copies);
    for (size_t i = 0; i < j->ng; i++) copies[i] = GEOSGeom_clone_r(h0, j->g[i]);
    baseline_build(&b, (const GEOSGeometry *const *)copies, j->ng);
    for (size_t i = 0; i < j->ng; i++) GEOSGeom_destroy_r(h0, copies[i]);
    free(copies);
    GEOS_finish_r(h0);
    for (size_t k = j->begin; k < j->end; k++) j->out[k] = baseline_locate(&b, j->x[k], j->y[k], &j->covers[k]);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_lookup STORE [--level L] [--points N] [--bulk N] [--bbox a,b,c,d] [--seed S]\n");
        return 1;
    }
    int level = 3;
    size_t npoints = 2000000, nbulk = 2000000;
    uint64_t seed = 20261121;
    double bb[4] = {0, 0, 0, 0};
    int have_bbox = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--level")) level = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--points")) npoints = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--bulk")) nbulk = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--seed")) seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--bbox"))
            have_bbox = sscanf(argv[i + 1], "%lf,%lf,%lf,%lf", &bb[0], &bb[1], &bb[2], &bb[3]) == 4;
    }
    wg_ctx *ctx = wg_ctx_new();
    wg_unit_set *set = NULL;
    int64_t gen;
    if (wg_store_open(ctx, argv[1], 0) != WG_OK || wg_gen_active(ctx, &gen) != WG_OK ||
        wg_units_load(ctx, gen, 1u << level, &set) != WG_OK || set->n == 0) {
        fprintf(stderr, "bench_lookup: %s\n", wg_errmsg(ctx));
        return 1;
    }
    size_t ng = set->n;
    const GEOSGeometry **g = malloc(ng * sizeof *g);
    size_t vertices = 0;
    for (size_t i = 0; i < ng; i++) {
        g[i] = set->units[i].geom;
        vertices += (size_t)GEOSGetNumCoordinates_r(wg_geos(ctx), g[i]);
        if (have_bbox) continue;
        double x0, y0, x1, y1;
        GEOSGeom_getExtent_r(wg_geos(ctx), g[i], &x0, &y0, &x1, &y1);
        if (i == 0 || x0 < bb[0]) bb[0] = x0;
        if (i == 0 || y0 < bb[1]) bb[1] = y0;
        if (i == 0 || x1 > bb[2]) bb[2] = x1;
        if (i == 0 || y1 > bb[3]) bb[3] = y1;
    }
    printf("data: %s generation %lld level %d: %zu polygons, %zu vertices\n", argv[1], (long long)gen,
           level, ng, vertices);
    printf("points: %zu single-thread, %zu bulk, uniform in [%g, %g] x [%g, %g], seed %llu\n",
           npoints, nbulk, bb[0], bb[2], bb[1], bb[3], (unsigned long long)seed);

    double t0 = now();
    wg_pindex *idx;
    if (wg_pindex_build(ctx, g, ng, &idx) != WG_OK) {
        fprintf(stderr, "bench_lookup: %s\n", wg_errmsg(ctx));
        return 1;
    }
    double t_build = now() - t0;
    wg_pindex_stats st;
    wg_pindex_get_stats(idx, &st);
    t0 = now();
    baseline base;
    baseline_build(&base, g, ng);
    double t_base = now() - t0;
    printf("wangge index: build %.3f s, %.1f MiB (%zu edges, %dx%d top cells, %zu leaves of which %zu pure, depth %d)\n",
           t_build, st.memory_bytes / 1048576.0, st.edges, st.grid_w, st.grid_h, st.leaves,
           st.pure_leaves, st.max_depth);
    printf("GEOS baseline: setup %.3f s (STRtree + prepared geometries; both build lazily on first use)\n", t_base);

    size_t n = npoints > nbulk ? npoints : nbulk;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    for (size_t k = 0; k < n; k++) {
        x[k] = bb[0] + (bb[2] - bb[0]) * rnd(&seed);
        y[k] = bb[1] + (bb[3] - bb[1]) * rnd(&seed);
    }
    int32_t *ours = malloc(n * sizeof *ours), *theirs = malloc(n * sizeof *theirs);
    int *covers = malloc(n * sizeof *covers);

    t0 = now();
    for (size_t k = 0; k < npoints; k++) ours[k] = wg_pindex_locate(idx, ctx, x[k], y[k]);
    double t_ours = now() - t0;
    t0 = now();
    for (size_t k = 0; k < npoints; k++) theirs[k] = baseline_locate(&base, x[k], y[k], &covers[k]);
    double t_theirs = now() - t0;
    size_t hits = 0, differ = 0, shared = 0;
    for (size_t k = 0; k < npoints; k++) {
        hits += ours[k] >= 0;
        if (covers[k] > 1) shared++;
        else if (ours[k] != theirs[k]) differ++;
    }
    double r1 = npoints / t_ours, r2 = npoints / t_theirs;
    printf("single thread: wangge %.2f M lookups/s, GEOS %.2f M lookups/s, ratio %.2fx "
           "(%zu inside, %zu on shared boundaries, %zu disagreements)\n",
           r1 / 1e6, r2 / 1e6, r1 / r2, hits, shared, differ);

    t0 = now();
    wg_pindex_locate_bulk(idx, x, y, nbulk, ours, 2);
    double t_bulk = now() - t0;
    pthread_t tid[2];
    job jobs[2];
    t0 = now();
    for (int t = 0; t < 2; t++) {
        jobs[t] = (job){g, ng, x, y, nbulk * t / 2, nbulk * (t + 1) / 2, theirs, covers};
        pthread_create(&tid[t], NULL, baseline_thread, &jobs[t]);
    }
    for (int t = 0; t < 2; t++) pthread_join(tid[t], NULL);
    double t_bulk_base = now() - t0;
    differ = shared = 0;
    for (size_t k = 0; k < nbulk; k++) {
        if (covers[k] > 1) shared++;
        else if (ours[k] != theirs[k]) differ++;
    }
    printf("bulk %zu points on 2 threads: wangge %.3f s (%.2f M/s), GEOS %.3f s incl. its per-thread "
           "preparation (%.2f M/s), ratio %.2fx; answers identical: %s (%zu disagreements, %zu on shared boundaries)\n",
           nbulk, t_bulk, nbulk / t_bulk / 1e6, t_bulk_base, nbulk / t_bulk_base / 1e6,
           t_bulk_base / t_bulk, differ == 0 ? "yes" : "NO", differ, shared);
    wg_pindex_free(idx);
    wg_unit_set_free(ctx, set);
    free(g);
    wg_ctx_free(ctx);
    return differ ? 2 : 0;
}
