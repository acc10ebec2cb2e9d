/* Generation lookup: three point indexes and the unit table (see wangge/lookup.h). */
#include "wangge/lookup.h"
#include "wangge/pindex.h"
#include "internal.h"
#include "parallel.h"

#include <stdlib.h>

struct wg_lookup {
    wg_unit_set *set;
    wg_pindex *level[4]; /* [1..3]; NULL for a level with no units */
};

static int build_level(wg_ctx *ctx, wg_lookup *lk, int level)
{
    size_t b = lk->set->level_begin[level], n = lk->set->level_begin[level + 1] - b;
    if (n == 0) return WG_OK;
    const GEOSGeometry **g = malloc(n * sizeof *g);
    if (!g) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) g[i] = lk->set->units[b + i].geom;
    int rc = wg_pindex_build(ctx, g, n, &lk->level[level]);
    free(g);
    return rc;
}

int wg_lookup_load(wg_ctx *ctx, int64_t generation, wg_lookup **out)
{
    *out = NULL;
    int64_t gen;
    int rc = wg_gen_resolve(ctx, generation, &gen);
    if (rc != WG_OK) return rc;
    wg_lookup *lk = calloc(1, sizeof *lk);
    if (!lk) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    rc = wg_units_load(ctx, gen, 0, &lk->set);
    for (int level = 1; rc == WG_OK && level <= 3; level++) rc = build_level(ctx, lk, level);
    if (rc == WG_OK) {
        /* the indexes hold their own copies of the edges: drop the geometries */
        for (size_t i = 0; i < lk->set->n; i++) {
            GEOSGeom_destroy_r(ctx->geos, lk->set->units[i].geom);
            lk->set->units[i].geom = NULL;
        }
        *out = lk;
        return WG_OK;
    }
    if (lk->set) wg_unit_set_free(ctx, lk->set);
    lk->set = NULL;
    wg_lookup_free(lk);
    return rc;
}

void wg_lookup_free(wg_lookup *lk)
{
    if (!lk) return;
    for (int level = 1; level <= 3; level++) wg_pindex_free(lk->level[level]);
    if (lk->set) wg_unit_set_free(NULL, lk->set); /* no geometries left: no GEOS handle needed */
    free(lk);
}

int64_t wg_lookup_generation(const wg_lookup *lk)
{
    return lk->set->generation;
}

const wg_unit *wg_lookup_unit(const wg_lookup *lk, int32_t i)
{
    return i >= 0 && (size_t)i < lk->set->n ? &lk->set->units[i] : NULL;
}

size_t wg_lookup_count(const wg_lookup *lk, int level)
{
    if (level < 1 || level > 3) return 0;
    return lk->set->level_begin[level + 1] - lk->set->level_begin[level];
}

static int32_t locate_level(const wg_lookup *lk, wg_ctx *ctx, int level, double lon, double lat)
{
    if (!lk->level[level]) return -1;
    int32_t i = wg_pindex_locate(lk->level[level], ctx, lon, lat);
    return i < 0 ? -1 : (int32_t)lk->set->level_begin[level] + i;
}

static int32_t parent_of(const wg_lookup *lk, int32_t i)
{
    return i < 0 ? -1 : lk->set->units[i].parent;
}

void wg_lookup_point(const wg_lookup *lk, wg_ctx *ctx, double lon, double lat, wg_hit *out)
{
    out->grid = locate_level(lk, ctx, WG_LEVEL_GRID, lon, lat);
    out->nearest_grid = -1;
    out->dist_m = 0.0;
    if (out->grid >= 0) {
        out->community = parent_of(lk, out->grid);
        out->district = parent_of(lk, out->community);
        return;
    }
    out->community = locate_level(lk, ctx, WG_LEVEL_COMMUNITY, lon, lat);
    out->district = out->community >= 0 ? parent_of(lk, out->community)
                                        : locate_level(lk, ctx, WG_LEVEL_DISTRICT, lon, lat);
    if (!lk->level[WG_LEVEL_GRID]) return;
    int32_t near;
    wg_pindex_nearest(lk->level[WG_LEVEL_GRID], lon, lat, &near, &out->dist_m);
    out->nearest_grid = near < 0 ? -1 : (int32_t)lk->set->level_begin[WG_LEVEL_GRID] + near;
}

typedef struct bulk_job {
    const wg_lookup *lk;
    const double *lon, *lat;
    wg_hit *out;
} bulk_job;

static void bulk_range(void *arg, wg_ctx *ctx, size_t begin, size_t end)
{
    const bulk_job *job = arg;
    for (size_t k = begin; k < end; k++) wg_lookup_point(job->lk, ctx, job->lon[k], job->lat[k], &job->out[k]);
}

int wg_lookup_bulk(const wg_lookup *lk, const double *lon, const double *lat, size_t n,
                   wg_hit *out, int threads)
{
    bulk_job job = {lk, lon, lat, out};
    return wg_parallel_for(n, threads, bulk_range, &job);
}
