/* wangge — the exact point index: which polygon of a planar partition holds a point.
 *
 * Built once from the polygons of one level of a generation, immutable afterwards, and shared
 * by any number of threads for lookups (each thread passes its own context).
 *
 * Boundary rule (deterministic, documented in docs/boundary-rule.md): a point covered by
 * several polygons (it lies exactly on a shared edge or vertex) belongs to the one that lies
 * immediately east of it; where the shared boundary runs exactly east-west, to the one
 * immediately north. Formally the point is classified as (lon + ε, lat + δ) with δ ≪ ε → 0.
 * A point on the outer boundary of the partition (nothing east/north of it) belongs to the
 * polygon whose boundary it lies on (the lowest index if several). A point covered by no
 * polygon is outside (-1). So the answer is always one of the polygons that cover the point
 * (as GEOS/SpatiaLite ST_Covers sees it), and exactly one whenever any does.
 */
#ifndef WANGGE_PINDEX_H
#define WANGGE_PINDEX_H

#include "wangge/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wg_pindex wg_pindex;

/* Builds an index over n polygons (Polygon or MultiPolygon, lon/lat). Polygon i is answered
 * as i. The geometries are only read. Caller frees *out with wg_pindex_free(). */
WG_API int wg_pindex_build(wg_ctx *ctx, const GEOSGeometry *const *polys, size_t n,
                           wg_pindex **out);
WG_API void wg_pindex_free(wg_pindex *idx);

/* Index of the polygon holding (lon, lat) by the boundary rule, or -1 if none does (also for
 * NaN). ctx is the calling thread's context (used only for exact orientation tests in
 * near-degenerate cases). */
WG_API int32_t wg_pindex_locate(const wg_pindex *idx, wg_ctx *ctx, double lon, double lat);

/* For a point no polygon holds (locate first): the nearest polygon and the geodesic distance in
 * metres to it. Ties (a point nearest to a vertex two polygons share) go to the lowest index.
 * Only the boundary of the polygons' union is searched, so for a point inside a polygon the
 * answer is not meaningful. *poly is -1 for an empty index. */
WG_API void wg_pindex_nearest(const wg_pindex *idx, double lon, double lat, int32_t *poly /* out */,
                              double *dist_m /* out */);

/* Bulk path: out[i] = wg_pindex_locate(lon[i], lat[i]) for i < n, on `threads` threads
 * (each with its own context; threads <= 0 means the number of online CPUs). */
WG_API int wg_pindex_locate_bulk(const wg_pindex *idx, const double *lon, const double *lat,
                                 size_t n, int32_t *out, int threads);

/* Figures for benchmarks and logs. */
typedef struct wg_pindex_stats {
    size_t polygons, edges, nodes, leaves, pure_leaves, refs;
    size_t memory_bytes;
    int grid_w, grid_h, max_depth;
} wg_pindex_stats;
WG_API void wg_pindex_get_stats(const wg_pindex *idx, wg_pindex_stats *out);

#ifdef __cplusplus
}
#endif
#endif
