/* wangge — features for OGC API – Features Part 1 (Core): collections and items.
 *
 * Four collections: "districts", "communities" and "grids" are the units of levels 1, 2 and 3
 * of one generation; "addresses" are the stored addresses (not versioned), each with the work
 * grid the generation's assignment gave it. A feature's id (fid) is its row id: units.id for a
 * unit (a unit row never changes, so its fid is stable for as long as it exists), addresses.id
 * for an address. Items come in fid order, so offset paging is stable while the store is.
 *
 * Coordinates are lon/lat (CRS84). A bbox selects the features whose geometry intersects it,
 * edges included (a grid touching the box on one edge or corner is in, an address on the edge
 * is in). A bbox whose west edge is greater than its east edge spans the antimeridian
 * (OGC 17-069r4 §7.15.3): it is [west, 180] ∪ [-180, east]. */
#ifndef WANGGE_FEATURES_H
#define WANGGE_FEATURES_H

#include "wangge/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wg_collection {
    WG_COLL_DISTRICTS = 1, /* = WG_LEVEL_DISTRICT, and so on for the next two */
    WG_COLL_COMMUNITIES = 2,
    WG_COLL_GRIDS = 3,
    WG_COLL_ADDRESSES = 4,
} wg_collection;
#define WG_COLL_COUNT 4

/* Items per page: the default, and the most one call returns (a page of 10,000 grids is some
 * tens of MB of GeoJSON; clients page beyond it). */
#define WG_ITEMS_LIMIT_DEFAULT 100
#define WG_ITEMS_LIMIT_MAX 10000

/* "districts", "communities", "grids", "addresses"; NULL for other values. Static strings. */
WG_API const char *wg_collection_name(wg_collection c);
/* The collection of that exact name, or 0 if none. */
WG_API wg_collection wg_collection_parse(const char *name);

typedef struct wg_collection_info {
    wg_collection coll;
    const char *name, *title, *description; /* static strings */
    int64_t generation;                     /* the generation resolved */
    size_t count;                           /* features in the collection */
    int has_extent;                         /* 0 when the collection is empty */
    double extent[4];                       /* lon_min, lat_min, lon_max, lat_max */
} wg_collection_info;

/* Count and extent of a collection in generation `generation` (0 = the active one).
 * WG_EINVAL: not a collection; WG_ENOTFOUND: no such generation (or none is active). */
WG_API int wg_features_collection(wg_ctx *ctx, int64_t generation, wg_collection coll,
                                  wg_collection_info *out);

typedef struct wg_items_query {
    int64_t generation; /* 0 = the active one */
    int has_bbox;
    double bbox[4]; /* lon_w, lat_s, lon_e, lat_n; lon_w > lon_e spans the antimeridian */
    size_t limit;   /* 1..WG_ITEMS_LIMIT_MAX; 0 = WG_ITEMS_LIMIT_DEFAULT */
    size_t offset;  /* matching features to skip (in fid order) */
} wg_items_query;

typedef struct wg_items {
    int64_t generation;
    size_t matched;  /* features matching the filter (numberMatched), exact */
    size_t returned; /* features in this page (numberReturned) */
    char *features;  /* JSON array text of the page's GeoJSON Features; caller frees (free()) */
} wg_items;

/* One page of a collection's features matching q, in fid order. Each Feature has "id" (the
 * fid, a number), "properties" and "geometry" (a unit's MultiPolygon or an address's Point,
 * with enough digits to round-trip the stored doubles). Unit properties: code, name, parent,
 * level, area_m2 (geodesic m²), generation, plus the unit's other imported properties (such
 * as households). Address properties: households, label, code, grid (the work grid's code in
 * the generation's assignment; null if unassigned or outside every grid).
 * WG_EINVAL: not a collection, limit above WG_ITEMS_LIMIT_MAX, or a bbox with a non-finite or
 * out-of-range value or lat_s > lat_n; WG_ENOTFOUND: no such generation. On failure *out is
 * zeroed. */
WG_API int wg_features_items(wg_ctx *ctx, wg_collection coll, const wg_items_query *q,
                             wg_items *out);

/* One feature by fid, as the Feature text of wg_features_items. *feature is malloc'd (caller
 * frees). WG_ENOTFOUND: no such feature in the collection and generation (a unit of another
 * level or another generation is not found either), or no such generation. */
WG_API int wg_features_item(wg_ctx *ctx, wg_collection coll, int64_t generation, int64_t fid,
                            char **feature /* out */);

#ifdef __cplusplus
}
#endif
#endif
