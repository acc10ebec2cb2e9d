/* Private: the one bridge between wangge and GEOS/PROJ geodesy. Every GEOS call of the
 * library's modules on geometries it did not build itself goes through here. */
#ifndef WANGGE_GEOM_H
#define WANGGE_GEOM_H

#include "internal.h"
#include <json-c/json.h>

/* Why a GeoJSON geometry was refused (or what --repair changed). */
enum wg_geom_fault {
    WG_GF_NONE = 0,
    WG_GF_WRONG_TYPE,     /* not a type the caller accepts */
    WG_GF_MALFORMED,      /* coordinates not nested arrays of numbers */
    WG_GF_NAN,            /* NaN or infinite coordinate */
    WG_GF_OUT_OF_RANGE,   /* lon outside [-180, 180] or lat outside [-90, 90] */
    WG_GF_TOO_FEW_POINTS, /* ring with fewer than 4 positions, line with fewer than 2 */
    WG_GF_UNCLOSED_RING,  /* first and last positions differ */
    WG_GF_EMPTY,          /* no polygon at all */
    WG_GF_INVALID,        /* GEOS: self-intersection, ring self-intersection, ... */
    WG_GF_TOO_MANY_VERTICES,
};
const char *wg_geom_fault_name(int fault);

/* Vertex cap for one unit (the reason is beside WG_MAX_VERTICES in wangge/common.h); a
 * context may lower it (wg_ctx_set_max_vertices): wg_geom_max_vertices gives the one in force. */
#define WG_MAX_UNIT_VERTICES WG_MAX_VERTICES
size_t wg_geom_max_vertices(const wg_ctx *ctx);

/* Converts a GeoJSON Polygon/MultiPolygon object to a GEOS MultiPolygon. close_rings: NULL to
 * refuse unclosed rings; otherwise unclosed rings are closed by repeating their first position,
 * *close_rings counts them and detail describes the last one (on success too). On refusal
 * returns WG_EDATA with *fault set and a reason in detail (with a location where there is
 * one); the output is NULL. *out is owned by the caller (GEOSGeom_destroy_r). Validity is NOT
 * checked here: see wg_geom_check_valid. */
int wg_geom_from_geojson(wg_ctx *ctx, json_object *geometry, int *close_rings, int *fault,
                         char *detail, size_t detail_len, GEOSGeometry **out);
/* Geometry kinds for wg_geom_from_geojson_any, as a mask. */
enum { WG_GK_POINT = 1, WG_GK_LINE = 2, WG_GK_POLYGON = 4, WG_GK_ANY = 7 };
/* The general form: converts a GeoJSON Point, MultiPoint, LineString, MultiLineString, Polygon
 * or MultiPolygon whose kind is in `kinds` to the GEOS geometry of the same type (a Polygon
 * stays a Polygon). Same checks and conventions as wg_geom_from_geojson: coordinates finite
 * and in range, wg_geom_max_vertices(ctx) positions in all, rings closed (or closed through
 * close_rings) with at least 4 positions; lines need at least 2 positions (too_few_points);
 * an empty coordinates array is WG_GF_EMPTY. Validity is NOT checked. */
int wg_geom_from_geojson_any(wg_ctx *ctx, json_object *geometry, unsigned kinds, int *close_rings,
                             int *fault, char *detail, size_t detail_len, GEOSGeometry **out);
int wg_point_from_geojson(json_object *geometry, double *lon, double *lat, char *detail,
                          size_t detail_len);
/* Checks lon/lat are finite and in range; fills detail on failure and returns WG_EDATA. */
int wg_check_lonlat(double lon, double lat, char *detail, size_t detail_len);

/* GEOS validity. Returns 1 valid, 0 invalid (reason and location in detail), -1 GEOS error. */
int wg_geom_check_valid(wg_ctx *ctx, const GEOSGeometry *g, char *detail, size_t detail_len);
/* Makes g valid (GEOSMakeValid, structure method) and keeps its polygonal part as a
 * MultiPolygon. Caller owns the result. NULL on GEOS error. */
GEOSGeometry *wg_geom_make_valid(wg_ctx *ctx, const GEOSGeometry *g);
/* The polygonal part of any geometry as a MultiPolygon (possibly empty). Caller owns. */
GEOSGeometry *wg_geom_polygonal(wg_ctx *ctx, const GEOSGeometry *g);
/* Number of coordinates of g. */
size_t wg_geom_vertices(wg_ctx *ctx, const GEOSGeometry *g);

/* Geodesic area of a (multi)polygon on the WGS84 ellipsoid in m² (holes subtracted); 0 for
 * other types. Edges are taken as geodesics, which at city scale differs from any local
 * projection by far less than a square metre. */
double wg_geom_area_m2(wg_ctx *ctx, const GEOSGeometry *g);
/* Geodesic distance in metres between two lon/lat points. */
double wg_dist_m(const struct geod_geodesic *g, double lon1, double lat1, double lon2, double lat2);
/* A point inside g (GEOSPointOnSurface); returns WG_OK and sets lon/lat, or WG_EGEOS. */
int wg_geom_point_on_surface(wg_ctx *ctx, const GEOSGeometry *g, double *lon, double *lat);

/* WKB round trip for the store (SpatiaLite stores geometry in its own blob format; SQL does
 * the conversion with GeomFromWKB/AsBinary). */
unsigned char *wg_geom_to_wkb(wg_ctx *ctx, const GEOSGeometry *g, size_t *len);
GEOSGeometry *wg_geom_from_wkb(wg_ctx *ctx, const unsigned char *wkb, size_t len);
/* GeoJSON text of g, coordinates with enough digits to round-trip doubles. Caller frees with
 * GEOSFree_r. */
char *wg_geom_to_geojson(wg_ctx *ctx, const GEOSGeometry *g);

/* The coordinates of a polygonal geometry, flattened: for each polygon part in order, its
 * exterior ring then its holes. Ring k is points [k ? ring_end[k - 1] : 0, ring_end[k]) of xy
 * (lon, lat pairs, closing repeat included); part p is rings [p ? part_end[p - 1] : 0,
 * part_end[p]). Capacities are in elements of each array. */
typedef struct wg_rings {
    double *xy;
    size_t npts, ptcap;
    size_t *ring_end;
    size_t nrings, rcap;
    size_t *part_end;
    size_t nparts, pcap;
} wg_rings;
/* Appends the parts of g (Polygon or MultiPolygon; other types add nothing) to out. WG_OK,
 * WG_ENOMEM or WG_EGEOS (recorded on ctx). */
int wg_geom_append_rings(wg_ctx *ctx, const GEOSGeometry *g, wg_rings *out);
void wg_rings_free(wg_rings *r);
/* A label point for a (multi)polygon: the centre of the largest circle inside its largest
 * part (GEOSMaximumInscribedCircle, to 1/100 of the part's extent), so inside and away from
 * the edges; GEOSPointOnSurface if that fails. WG_OK or WG_EGEOS. */
int wg_geom_label_point(wg_ctx *ctx, const GEOSGeometry *g, double *lon, double *lat);

#endif
