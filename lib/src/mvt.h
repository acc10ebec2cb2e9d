/* Private: Mapbox Vector Tile 2.1 encoding, on the protobuf-c code generated from
 * lib/proto/vector_tile.proto.
 *
 * Encoding (specification section 4.3): a feature's geometry is a stream of 32-bit integers,
 * each a command integer (id | count << 3: MoveTo 1, LineTo 2, ClosePath 7) followed by its
 * parameters, zig-zag encoded ((v << 1) ^ (v >> 31)) deltas from the cursor, which starts at
 * (0, 0) for each feature and carries over from ring to ring. A polygon ring of n points is
 * MoveTo(1) p0, LineTo(n - 1) p1 .. pn-1, ClosePath: the first point is not repeated. Worked
 * example: the triangle (3,6) (8,12) (20,34) is [9 6 12, 18 10 12 24 44, 15]. Exterior rings
 * have positive shoelace area in tile coordinates (y down: clockwise on screen), interior
 * rings negative; the caller orients them. Attributes are tags: pairs of indexes into the
 * layer's keys and values, values stored once per layer (same type and content, same index).
 *
 * A tile is built layer by layer, feature by feature, then packed; nothing is shared between
 * tiles, so concurrent renders each use their own wg_mvt. */
#ifndef WANGGE_MVT_H
#define WANGGE_MVT_H

#include "internal.h"

#define WG_MVT_EXTENT 4096
#define WG_MVT_MAX_LAYERS 4

enum { WG_MVT_POINT = 1, WG_MVT_POLYGON = 3 };

typedef struct wg_mvt_layer wg_mvt_layer;
typedef struct wg_mvt wg_mvt;

wg_mvt *wg_mvt_new(void);
void wg_mvt_free(wg_mvt *t);

/* Starts a layer named name (static string) with the given keys (static strings; tags refer
 * to them by index). NULL when out of memory or more than WG_MVT_MAX_LAYERS. */
wg_mvt_layer *wg_mvt_layer_add(wg_mvt *t, const char *name, const char *const *keys, size_t nkeys);

/* Starts a feature of type WG_MVT_POINT or WG_MVT_POLYGON with id. */
int wg_mvt_feature_begin(wg_mvt_layer *l, uint64_t id, int type);
/* Appends a polygon ring of n >= 3 points (x, y pairs), already oriented, no consecutive
 * duplicates, first point not repeated at the end. */
int wg_mvt_ring(wg_mvt_layer *l, const int32_t *xy, size_t n);
/* Appends a point (a POINT feature of one point). */
int wg_mvt_point(wg_mvt_layer *l, int32_t x, int32_t y);
/* Whether the current feature has any geometry yet. */
int wg_mvt_feature_empty(const wg_mvt_layer *l);
/* Drops the current feature (its geometry; call before adding tags). */
void wg_mvt_feature_cancel(wg_mvt_layer *l);
/* Tags of the current feature: key index and a string (not copied: it must outlive the pack;
 * NULL adds nothing) or an integer value. */
int wg_mvt_tag_str(wg_mvt_layer *l, uint32_t key, const char *s);
int wg_mvt_tag_int(wg_mvt_layer *l, uint32_t key, int64_t v);

/* Features in layer l so far. */
size_t wg_mvt_layer_features(const wg_mvt_layer *l);

/* Serialises the tile (layers with no feature are left out). *data is malloc'd (free()); a
 * tile with no feature at all is *data NULL, *len 0. WG_OK or WG_ENOMEM. */
int wg_mvt_pack(const wg_mvt *t, unsigned char **data, size_t *len);

#endif
