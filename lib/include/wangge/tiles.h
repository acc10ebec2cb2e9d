/* wangge — vector tiles of a generation: Mapbox Vector Tile 2.1, Web Mercator (EPSG:3857),
 * XYZ scheme (x east from -180°, y south from the top at 85.0511°N), extent 4096.
 *
 * A tileset is built once from the store (every unit of the three levels of one generation,
 * its attributes and label points) and then renders any tile from memory, without SQL. It is
 * immutable and shared by any number of threads; each call passes its thread's context.
 *
 * Layers (names as in URLs and in the tiles):
 *   districts    level-1 polygons       communities  level-2 polygons
 *   grids        level-3 polygons       labels       points, one per community and per grid
 * Polygon features: id = the unit's row id; attributes code (string), name (string, absent if
 * none), level (int), parent (string, the parent's code; absent for districts), households
 * (int; see below; absent when unknown) and, for grids, worker (string: the names of the
 * grid_worker workers whose home_grid is the grid's code, by worker id, joined by ", "; absent
 * when none). Label features: same id, code, name, level; the point is the centre of the
 * largest circle inside the unit's largest part (GEOS MaximumInscribedCircle), so it is
 * inside the polygon and away from its edges.
 * Households: when the generation has address assignments (wangge assign), a grid's
 * households are the sum over the addresses assigned to it in that generation, a community's
 * the sum over its grids, a district's over its communities. Without any assignment for the
 * generation, the unit's imported "households" property is used (absent if it has none).
 *
 * Geometry: every ring of every level is cut into chains between the points where the set of
 * neighbouring polygons changes, and each chain is simplified once per zoom (Douglas–Peucker,
 * tolerance one tile unit: 40075016.69 m / 2^z / 4096). Every polygon is rebuilt from its
 * chains, so neighbours (and a community and the grids inside it) stay exactly edge to edge
 * at every zoom: no crack, no sliver. Polygons are then clipped to the tile plus a 64-unit
 * buffer (shared edges are clipped identically), rounded to integer tile coordinates,
 * exterior rings clockwise on screen (positive shoelace area, y down), holes counter-
 * clockwise; rings that collapse (fewer than 3 points or zero area) are left out.
 * Label points are included out to the buffer as well.
 *
 * Zoom ranges are chosen per tileset from the data (wg_tileset_layer_zooms): districts from
 * z0; communities (grids) from the lowest zoom, at most 14, at which the median community
 * (grid) is 64 tile units (8 pixels of a 512-pixel tile) across, sqrt of its Mercator area,
 * and never before the level above; labels of a level one zoom after that level's polygons.
 * Every layer goes up to z22. For the bundled sample city this gives districts 0, communities
 * 9, grids 11, labels 10 (community labels; grid labels from 12); for US states and counties
 * as communities and grids, 1 and 4. A tile outside a layer's range leaves the layer out. */
#ifndef WANGGE_TILES_H
#define WANGGE_TILES_H

#include "wangge/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wg_tileset wg_tileset; /* one generation, immutable after build, shared by threads */

enum { WG_TL_DISTRICTS = 1, WG_TL_COMMUNITIES = 2, WG_TL_GRIDS = 4, WG_TL_LABELS = 8 };
#define WG_TL_ALL (WG_TL_DISTRICTS | WG_TL_COMMUNITIES | WG_TL_GRIDS | WG_TL_LABELS)
#define WG_TILE_MAXZOOM 22
#define WG_TILE_EXTENT 4096
#define WG_TILE_BUFFER 64

/* Builds the tileset of generation `generation` (0 = the active one) from ctx's store.
 * WG_ENOTFOUND if there is no such generation (or no active one). Caller frees *out with
 * wg_tileset_free(). */
WG_API int wg_tileset_build(wg_ctx *ctx, int64_t generation, wg_tileset **out);
/* NULL is a no-op. */
WG_API void wg_tileset_free(wg_tileset *ts);
WG_API int64_t wg_tileset_generation(const wg_tileset *ts);
/* Memory held by the tileset, in bytes (for /metrics). */
WG_API size_t wg_tileset_bytes(const wg_tileset *ts);

/* Parses a comma-separated list of layer names ("grids,labels") into a mask of WG_TL_*.
 * WG_EINVAL (mask 0) on an empty list or name, an unknown name or a name given twice. */
WG_API int wg_tile_layers_parse(const char *csv, unsigned *mask /* out */);

/* Renders tile z/x/y (XYZ; 0 <= z <= 22 and 0 <= x, y < 2^z, else WG_EINVAL) with the layers
 * of mask `layers` (nonzero, only WG_TL_* bits, else WG_EINVAL) as an uncompressed MVT. Layers
 * appear in the order districts, communities, grids, labels, each only when it has a feature
 * in the tile. *data is malloc'd, the caller frees it with free(); a tile with no feature is
 * *data NULL, *len 0 and WG_OK. ctx is the calling thread's context (only failure messages
 * are written to it). Thread-safe for concurrent calls on one tileset. */
WG_API int wg_tile_render(const wg_tileset *ts, wg_ctx *ctx, unsigned layers, int z, int x, int y,
                          unsigned char **data /* out */, size_t *len /* out */);

/* The zoom range in which tiles of this tileset carry the layer (one WG_TL_* bit). For the
 * labels layer, the range of its first labels (community labels; grid labels start later,
 * see above). TileJSON's minzoom/maxzoom come from these. */
WG_API void wg_tileset_layer_zooms(const wg_tileset *ts, unsigned layer, int *minzoom /* out */,
                                   int *maxzoom /* out */);
/* Default zoom ranges for a city-scale generation, without a tileset (districts 0-22,
 * communities 9-22, grids 11-22, labels 10-22); -1, -1 for an unknown layer. */
WG_API void wg_tile_layer_zooms(unsigned layer, int *minzoom /* out */, int *maxzoom /* out */);
/* "districts", "communities", "grids", "labels" for one WG_TL_* bit; NULL otherwise. Static. */
WG_API const char *wg_tile_layer_name(unsigned layer);

/* Lon/lat bounds of the generation (west, south, east, north) and a centre (lon, lat) inside
 * its largest district, for TileJSON. */
WG_API void wg_tileset_bounds(const wg_tileset *ts, double bounds[4] /* out */,
                              double center[2] /* out */);

#ifdef __cplusplus
}
#endif
#endif
