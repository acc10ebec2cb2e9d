/* The bridge to GEOS and to PROJ's geodesic routines.
 *
 * Every wrapper has the same shape: convert, call, check for NULL/exception, convert back,
 * destroy. GEOS errors land in the calling context (see ctx.c). Measurements are geodesic on
 * WGS84 (geod_polygonarea / geod_inverse from PROJ's geodesic.h), never in degrees. */
#include "geom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *wg_geom_fault_name(int fault)
{
    static const char *const names[] = {
        "none",      "wrong_type", "malformed",         "nan",
        "out_of_range", "too_few_points", "unclosed_ring", "empty",
        "invalid",   "too_many_vertices"};
    if (fault < 0 || fault >= (int)(sizeof names / sizeof names[0])) return "unknown";
    return names[fault];
}

size_t wg_geom_max_vertices(const wg_ctx *ctx)
{
    return ctx && ctx->max_vertices ? ctx->max_vertices : WG_MAX_UNIT_VERTICES;
}

int wg_check_lonlat(double lon, double lat, char *detail, size_t detail_len)
{
    if (!isfinite(lon) || !isfinite(lat)) {
        snprintf(detail, detail_len, "NaN or infinite coordinate");
        return WG_EDATA;
    }
    if (lon < -180.0 || lon > 180.0 || lat < -90.0 || lat > 90.0) {
        snprintf(detail, detail_len, "coordinate out of range (%.10g %.10g)", lon, lat);
        return WG_EDATA;
    }
    return WG_OK;
}

/* Reads one [lon, lat, ...] position. */
static int read_position(json_object *pos, double *x, double *y, int *fault, char *detail,
                         size_t dlen)
{
    if (!json_object_is_type(pos, json_type_array) || json_object_array_length(pos) < 2) {
        *fault = WG_GF_MALFORMED;
        snprintf(detail, dlen, "position is not an array of at least two numbers");
        return WG_EDATA;
    }
    json_object *jx = json_object_array_get_idx(pos, 0), *jy = json_object_array_get_idx(pos, 1);
    int numeric = (json_object_is_type(jx, json_type_double) || json_object_is_type(jx, json_type_int)) &&
                  (json_object_is_type(jy, json_type_double) || json_object_is_type(jy, json_type_int));
    if (!numeric) {
        *fault = WG_GF_MALFORMED;
        snprintf(detail, dlen, "coordinate is not a number");
        return WG_EDATA;
    }
    *x = json_object_get_double(jx);
    *y = json_object_get_double(jy);
    if (wg_check_lonlat(*x, *y, detail, dlen) != WG_OK) {
        *fault = isfinite(*x) && isfinite(*y) ? WG_GF_OUT_OF_RANGE : WG_GF_NAN;
        return WG_EDATA;
    }
    return WG_OK;
}

/* Reads an array of positions into a new buffer of lon, lat pairs with room for `extra` more
 * positions; *n gets the count. Positions beyond *budget are refused (the caller charges what
 * it keeps). NULL with *fault set on bad input; NULL with no fault when out of memory. */
static double *read_positions(json_object *arr, const char *what, size_t extra, size_t budget,
                              size_t cap, size_t *n, int *fault, char *detail, size_t dlen)
{
    if (!json_object_is_type(arr, json_type_array)) {
        *fault = WG_GF_MALFORMED;
        snprintf(detail, dlen, "%s is not an array of positions", what);
        return NULL;
    }
    *n = json_object_array_length(arr);
    if (*n > budget) {
        *fault = WG_GF_TOO_MANY_VERTICES;
        snprintf(detail, dlen, "more than %zu vertices", cap);
        return NULL;
    }
    double *xy = malloc((*n + extra) * 2 * sizeof *xy);
    if (!xy) return NULL;
    for (size_t i = 0; i < *n; i++) {
        if (read_position(json_object_array_get_idx(arr, i), &xy[2 * i], &xy[2 * i + 1], fault,
                          detail, dlen) != WG_OK) {
            free(xy);
            return NULL;
        }
    }
    return xy;
}

static GEOSGeometry *build_ring(wg_ctx *ctx, json_object *ring, int *close_rings, size_t *budget,
                                int *fault, char *detail, size_t dlen)
{
    size_t n = 0;
    double *xy = read_positions(ring, "ring", 1, *budget, wg_geom_max_vertices(ctx), &n, fault,
                                detail, dlen);
    if (!xy) return NULL;
    int closed = n > 0 && xy[0] == xy[2 * (n - 1)] && xy[1] == xy[2 * (n - 1) + 1];
    if (n > 0 && !closed && close_rings) {
        ++*close_rings;
        /* reported through *fault with success: the caller says what was changed */
        snprintf(detail, dlen, "closed ring: it started at (%.10g %.10g) and ended at (%.10g %.10g)",
                 xy[0], xy[1], xy[2 * (n - 1)], xy[2 * (n - 1) + 1]);
        xy[2 * n] = xy[0];
        xy[2 * n + 1] = xy[1];
        n++;
        closed = 1;
    }
    if (n > *budget) { /* closing added the one position too many */
        *fault = WG_GF_TOO_MANY_VERTICES;
        snprintf(detail, dlen, "more than %zu vertices", wg_geom_max_vertices(ctx));
    } else if (n < 4) {
        *fault = WG_GF_TOO_FEW_POINTS;
        snprintf(detail, dlen, "ring has %zu positions, a closed ring needs at least 4", n);
    } else if (!closed) {
        *fault = WG_GF_UNCLOSED_RING;
        snprintf(detail, dlen, "ring is not closed: starts at (%.10g %.10g), ends at (%.10g %.10g)",
                 xy[0], xy[1], xy[2 * (n - 1)], xy[2 * (n - 1) + 1]);
    }
    if (*fault) {
        free(xy);
        return NULL;
    }
    *budget -= n;
    GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(ctx->geos, xy, (unsigned)n, 0, 0);
    free(xy);
    return cs ? GEOSGeom_createLinearRing_r(ctx->geos, cs) : NULL;
}

static GEOSGeometry *build_line(wg_ctx *ctx, json_object *line, size_t *budget, int *fault,
                                char *detail, size_t dlen)
{
    size_t n = 0;
    double *xy = read_positions(line, "line", 0, *budget, wg_geom_max_vertices(ctx), &n, fault,
                                detail, dlen);
    if (!xy) return NULL;
    if (n < 2) {
        *fault = WG_GF_TOO_FEW_POINTS;
        snprintf(detail, dlen, "line has %zu position%s, a line needs at least 2", n,
                 n == 1 ? "" : "s");
        free(xy);
        return NULL;
    }
    *budget -= n;
    GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(ctx->geos, xy, (unsigned)n, 0, 0);
    free(xy);
    return cs ? GEOSGeom_createLineString_r(ctx->geos, cs) : NULL;
}

static GEOSGeometry *build_point(wg_ctx *ctx, json_object *pos, size_t *budget, int *fault,
                                 char *detail, size_t dlen)
{
    double x, y;
    if (*budget == 0) {
        *fault = WG_GF_TOO_MANY_VERTICES;
        snprintf(detail, dlen, "more than %zu vertices", wg_geom_max_vertices(ctx));
        return NULL;
    }
    if (read_position(pos, &x, &y, fault, detail, dlen) != WG_OK) return NULL;
    --*budget;
    return GEOSGeom_createPointFromXY_r(ctx->geos, x, y);
}

static void destroy_all(wg_ctx *ctx, GEOSGeometry **g, size_t n)
{
    for (size_t i = 0; i < n; i++) GEOSGeom_destroy_r(ctx->geos, g[i]);
    free(g);
}

static GEOSGeometry *build_polygon(wg_ctx *ctx, json_object *rings, int *close_rings,
                                   size_t *budget, int *fault, char *detail, size_t dlen)
{
    if (!json_object_is_type(rings, json_type_array) || json_object_array_length(rings) == 0) {
        *fault = json_object_is_type(rings, json_type_array) ? WG_GF_EMPTY : WG_GF_MALFORMED;
        snprintf(detail, dlen, "polygon has no rings");
        return NULL;
    }
    size_t n = json_object_array_length(rings);
    GEOSGeometry **r = calloc(n, sizeof *r);
    if (!r) return NULL;
    for (size_t i = 0; i < n; i++) {
        r[i] = build_ring(ctx, json_object_array_get_idx(rings, i), close_rings, budget, fault,
                          detail, dlen);
        if (!r[i]) {
            destroy_all(ctx, r, i);
            return NULL;
        }
    }
    GEOSGeometry *poly = GEOSGeom_createPolygon_r(ctx->geos, r[0], r + 1, (unsigned)(n - 1));
    if (!poly) destroy_all(ctx, r, n); /* ownership passes to the polygon only on success */
    else free(r);
    return poly;
}

/* The GeoJSON geometry types wg_geom_from_geojson_any knows. */
static const struct geojson_type {
    const char *name;
    unsigned kind; /* WG_GK_* */
    int multi_type; /* GEOS type of the Multi form; -1 for a single geometry */
} GEOJSON_TYPES[] = {
    {"Point", WG_GK_POINT, -1},
    {"MultiPoint", WG_GK_POINT, GEOS_MULTIPOINT},
    {"LineString", WG_GK_LINE, -1},
    {"MultiLineString", WG_GK_LINE, GEOS_MULTILINESTRING},
    {"Polygon", WG_GK_POLYGON, -1},
    {"MultiPolygon", WG_GK_POLYGON, GEOS_MULTIPOLYGON},
};

static GEOSGeometry *build_part(wg_ctx *ctx, unsigned kind, json_object *coords, int *close_rings,
                                size_t *budget, int *fault, char *detail, size_t dlen)
{
    if (kind == WG_GK_POINT) return build_point(ctx, coords, budget, fault, detail, dlen);
    if (kind == WG_GK_LINE) return build_line(ctx, coords, budget, fault, detail, dlen);
    return build_polygon(ctx, coords, close_rings, budget, fault, detail, dlen);
}

/* "Polygon or MultiPolygon", "Point, MultiPoint, LineString or ...": the accepted types. */
static void expected_types(unsigned kinds, char *buf, size_t len)
{
    size_t n = 0, total = 0, used = 0;
    for (size_t i = 0; i < sizeof GEOJSON_TYPES / sizeof GEOJSON_TYPES[0]; i++)
        total += (GEOJSON_TYPES[i].kind & kinds) != 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof GEOJSON_TYPES / sizeof GEOJSON_TYPES[0]; i++) {
        if (!(GEOJSON_TYPES[i].kind & kinds)) continue;
        n++;
        const char *sep = n == 1 ? "" : n == total ? " or " : ", ";
        int w = snprintf(buf + used, len - used, "%s%s", sep, GEOJSON_TYPES[i].name);
        if (w < 0 || (size_t)w >= len - used) return;
        used += (size_t)w;
    }
}

int wg_geom_from_geojson_any(wg_ctx *ctx, json_object *geometry, unsigned kinds, int *close_rings,
                             int *fault, char *detail, size_t detail_len, GEOSGeometry **out)
{
    *out = NULL;
    *fault = WG_GF_NONE;
    detail[0] = '\0';
    json_object *jtype = NULL, *coords = NULL;
    if (!json_object_is_type(geometry, json_type_object) ||
        !json_object_object_get_ex(geometry, "type", &jtype)) {
        *fault = geometry ? WG_GF_WRONG_TYPE : WG_GF_EMPTY;
        snprintf(detail, detail_len, geometry ? "geometry has no type" : "geometry is null");
        return WG_EDATA;
    }
    const char *type = json_object_is_type(jtype, json_type_string) ? json_object_get_string(jtype) : "";
    const struct geojson_type *t = NULL;
    for (size_t i = 0; i < sizeof GEOJSON_TYPES / sizeof GEOJSON_TYPES[0]; i++)
        if (strcmp(type, GEOJSON_TYPES[i].name) == 0 && (GEOJSON_TYPES[i].kind & kinds))
            t = &GEOJSON_TYPES[i];
    if (!t) {
        char expected[128];
        expected_types(kinds, expected, sizeof expected);
        *fault = WG_GF_WRONG_TYPE;
        snprintf(detail, detail_len, "geometry type %.40s, expected %s", type, expected);
        return WG_EDATA;
    }
    if (!json_object_object_get_ex(geometry, "coordinates", &coords) ||
        !json_object_is_type(coords, json_type_array)) {
        *fault = WG_GF_MALFORMED;
        snprintf(detail, detail_len, "geometry has no coordinates array");
        return WG_EDATA;
    }
    size_t budget = wg_geom_max_vertices(ctx);
    int multi = t->multi_type >= 0;
    size_t np = multi ? json_object_array_length(coords) : 1;
    if (np == 0 || (t->kind == WG_GK_POINT && !multi && json_object_array_length(coords) == 0)) {
        *fault = WG_GF_EMPTY;
        snprintf(detail, detail_len, "empty %s", type);
        return WG_EDATA;
    }
    if (!multi) {
        *out = build_part(ctx, t->kind, coords, close_rings, &budget, fault, detail, detail_len);
        if (*out) return WG_OK;
        if (*fault) return WG_EDATA;
        return wg_fail_geos(ctx, "cannot build geometry");
    }
    GEOSGeometry **parts = calloc(np, sizeof *parts);
    if (!parts) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    for (size_t i = 0; i < np; i++) {
        parts[i] = build_part(ctx, t->kind, json_object_array_get_idx(coords, i), close_rings,
                              &budget, fault, detail, detail_len);
        if (!parts[i]) {
            destroy_all(ctx, parts, i);
            if (*fault) return WG_EDATA;
            return wg_fail_geos(ctx, "cannot build geometry");
        }
    }
    *out = GEOSGeom_createCollection_r(ctx->geos, t->multi_type, parts, (unsigned)np);
    if (!*out) {
        destroy_all(ctx, parts, np);
        return wg_fail_geos(ctx, "cannot build collection");
    }
    free(parts);
    return WG_OK;
}

int wg_geom_from_geojson(wg_ctx *ctx, json_object *geometry, int *close_rings, int *fault,
                         char *detail, size_t detail_len, GEOSGeometry **out)
{
    int rc = wg_geom_from_geojson_any(ctx, geometry, WG_GK_POLYGON, close_rings, fault, detail,
                                      detail_len, out);
    if (rc != WG_OK || GEOSGeomTypeId_r(ctx->geos, *out) == GEOS_MULTIPOLYGON) return rc;
    GEOSGeometry *poly = *out;
    *out = GEOSGeom_createCollection_r(ctx->geos, GEOS_MULTIPOLYGON, &poly, 1);
    if (*out) return WG_OK;
    GEOSGeom_destroy_r(ctx->geos, poly);
    return wg_fail_geos(ctx, "cannot build multipolygon");
}

int wg_point_from_geojson(json_object *geometry, double *lon, double *lat, char *detail,
                          size_t detail_len)
{
    json_object *jtype = NULL, *coords = NULL;
    int fault = 0;
    if (!json_object_is_type(geometry, json_type_object) ||
        !json_object_object_get_ex(geometry, "type", &jtype) ||
        !json_object_is_type(jtype, json_type_string) ||
        strcmp(json_object_get_string(jtype), "Point") != 0) {
        snprintf(detail, detail_len, "geometry is not a Point");
        return WG_EDATA;
    }
    if (!json_object_object_get_ex(geometry, "coordinates", &coords)) {
        snprintf(detail, detail_len, "Point has no coordinates");
        return WG_EDATA;
    }
    return read_position(coords, lon, lat, &fault, detail, detail_len);
}

int wg_geom_check_valid(wg_ctx *ctx, const GEOSGeometry *g, char *detail, size_t detail_len)
{
    char *reason = NULL;
    GEOSGeometry *loc = NULL;
    char v = GEOSisValidDetail_r(ctx->geos, g, 0, &reason, &loc);
    if (v == 2) return -1;
    if (v == 0) {
        double x = NAN, y = NAN;
        if (loc) {
            GEOSGeomGetX_r(ctx->geos, loc, &x);
            GEOSGeomGetY_r(ctx->geos, loc, &y);
        }
        snprintf(detail, detail_len, "%s at (%.10g %.10g)", reason ? reason : "invalid", x, y);
    }
    if (reason) GEOSFree_r(ctx->geos, reason);
    if (loc) GEOSGeom_destroy_r(ctx->geos, loc);
    return v;
}

/* Appends the polygons of g (any type) to parts. */
static int collect_polygons(wg_ctx *ctx, const GEOSGeometry *g, GEOSGeometry ***parts, size_t *n,
                            size_t *cap)
{
    int type = GEOSGeomTypeId_r(ctx->geos, g);
    if (type == GEOS_POLYGON) {
        if (GEOSisEmpty_r(ctx->geos, g)) return WG_OK;
        if (wg_grow((void **)parts, cap, *n + 1, sizeof **parts) != WG_OK) return WG_ENOMEM;
        (*parts)[*n] = GEOSGeom_clone_r(ctx->geos, g);
        return (*parts)[(*n)++] ? WG_OK : WG_EGEOS;
    }
    if (type != GEOS_MULTIPOLYGON && type != GEOS_GEOMETRYCOLLECTION) return WG_OK;
    int k = GEOSGetNumGeometries_r(ctx->geos, g);
    for (int i = 0; i < k; i++) {
        int rc = collect_polygons(ctx, GEOSGetGeometryN_r(ctx->geos, g, i), parts, n, cap);
        if (rc != WG_OK) return rc;
    }
    return WG_OK;
}

GEOSGeometry *wg_geom_polygonal(wg_ctx *ctx, const GEOSGeometry *g)
{
    GEOSGeometry **parts = NULL;
    size_t n = 0, cap = 0;
    if (collect_polygons(ctx, g, &parts, &n, &cap) != WG_OK) {
        destroy_all(ctx, parts, n);
        return NULL;
    }
    GEOSGeometry *mp = GEOSGeom_createCollection_r(ctx->geos, GEOS_MULTIPOLYGON, parts, (unsigned)n);
    if (!mp) destroy_all(ctx, parts, n);
    else free(parts);
    return mp;
}

GEOSGeometry *wg_geom_make_valid(wg_ctx *ctx, const GEOSGeometry *g)
{
    GEOSMakeValidParams *p = GEOSMakeValidParams_create_r(ctx->geos);
    if (!p) return NULL;
    GEOSMakeValidParams_setMethod_r(ctx->geos, p, GEOS_MAKE_VALID_STRUCTURE);
    GEOSMakeValidParams_setKeepCollapsed_r(ctx->geos, p, 0);
    GEOSGeometry *v = GEOSMakeValidWithParams_r(ctx->geos, g, p);
    GEOSMakeValidParams_destroy_r(ctx->geos, p);
    if (!v) return NULL;
    GEOSGeometry *mp = wg_geom_polygonal(ctx, v);
    GEOSGeom_destroy_r(ctx->geos, v);
    return mp;
}

size_t wg_geom_vertices(wg_ctx *ctx, const GEOSGeometry *g)
{
    int n = GEOSGetNumCoordinates_r(ctx->geos, g);
    return n > 0 ? (size_t)n : 0;
}

static double ring_area(wg_ctx *ctx, const GEOSGeometry *ring)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(ctx->geos, ring);
    unsigned n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(ctx->geos, cs, &n) || n < 4) return 0.0;
    struct geod_polygon poly;
    geod_polygon_init(&poly, 0);
    /* the closing position repeats the first: geod_polygon closes rings itself */
    for (unsigned i = 0; i + 1 < n; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(ctx->geos, cs, i, &x, &y);
        geod_polygon_addpoint(&ctx->wgs84, &poly, y, x);
    }
    double area = 0.0;
    geod_polygon_compute(&ctx->wgs84, &poly, 0, 1, &area, NULL);
    return fabs(area);
}

static double polygon_area(wg_ctx *ctx, const GEOSGeometry *p)
{
    double a = ring_area(ctx, GEOSGetExteriorRing_r(ctx->geos, p));
    int holes = GEOSGetNumInteriorRings_r(ctx->geos, p);
    for (int i = 0; i < holes; i++) a -= ring_area(ctx, GEOSGetInteriorRingN_r(ctx->geos, p, i));
    return a > 0.0 ? a : 0.0;
}

double wg_geom_area_m2(wg_ctx *ctx, const GEOSGeometry *g)
{
    int type = GEOSGeomTypeId_r(ctx->geos, g);
    if (type == GEOS_POLYGON) return GEOSisEmpty_r(ctx->geos, g) ? 0.0 : polygon_area(ctx, g);
    if (type != GEOS_MULTIPOLYGON && type != GEOS_GEOMETRYCOLLECTION) return 0.0;
    double a = 0.0;
    int n = GEOSGetNumGeometries_r(ctx->geos, g);
    for (int i = 0; i < n; i++) a += wg_geom_area_m2(ctx, GEOSGetGeometryN_r(ctx->geos, g, i));
    return a;
}

double wg_dist_m(const struct geod_geodesic *g, double lon1, double lat1, double lon2, double lat2)
{
    double s12 = 0.0;
    geod_inverse(g, lat1, lon1, lat2, lon2, &s12, NULL, NULL);
    return s12;
}

int wg_geom_point_on_surface(wg_ctx *ctx, const GEOSGeometry *g, double *lon, double *lat)
{
    GEOSGeometry *p = GEOSPointOnSurface_r(ctx->geos, g);
    if (!p) return wg_fail_geos(ctx, "point on surface");
    int ok = !GEOSisEmpty_r(ctx->geos, p) && GEOSGeomGetX_r(ctx->geos, p, lon) &&
             GEOSGeomGetY_r(ctx->geos, p, lat);
    GEOSGeom_destroy_r(ctx->geos, p);
    if (!ok) *lon = *lat = NAN;
    return WG_OK;
}

unsigned char *wg_geom_to_wkb(wg_ctx *ctx, const GEOSGeometry *g, size_t *len)
{
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(ctx->geos);
    if (!w) return NULL;
    GEOSWKBWriter_setByteOrder_r(ctx->geos, w, GEOS_WKB_NDR);
    unsigned char *wkb = GEOSWKBWriter_write_r(ctx->geos, w, g, len);
    GEOSWKBWriter_destroy_r(ctx->geos, w);
    return wkb;
}

GEOSGeometry *wg_geom_from_wkb(wg_ctx *ctx, const unsigned char *wkb, size_t len)
{
    GEOSWKBReader *r = GEOSWKBReader_create_r(ctx->geos);
    if (!r) return NULL;
    GEOSGeometry *g = GEOSWKBReader_read_r(ctx->geos, r, wkb, len);
    GEOSWKBReader_destroy_r(ctx->geos, r);
    return g;
}

char *wg_geom_to_geojson(wg_ctx *ctx, const GEOSGeometry *g)
{
    GEOSGeoJSONWriter *w = GEOSGeoJSONWriter_create_r(ctx->geos);
    if (!w) return NULL;
    char *s = GEOSGeoJSONWriter_writeGeometry_r(ctx->geos, w, g, -1);
    GEOSGeoJSONWriter_destroy_r(ctx->geos, w);
    return s;
}

/* ------------------------------------------------------------ coordinates */

void wg_rings_free(wg_rings *r)
{
    free(r->xy);
    free(r->ring_end);
    free(r->part_end);
    memset(r, 0, sizeof *r);
}

static int append_ring(wg_ctx *ctx, const GEOSGeometry *ring, wg_rings *out)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(ctx->geos, ring);
    unsigned int m = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(ctx->geos, cs, &m)) return wg_fail_geos(ctx, "cannot read a ring");
    if (wg_grow((void **)&out->xy, &out->ptcap, 2 * (out->npts + m), sizeof *out->xy) != WG_OK ||
        wg_grow((void **)&out->ring_end, &out->rcap, out->nrings + 1, sizeof *out->ring_end) != WG_OK)
        return wg_fail(ctx, WG_ENOMEM, "out of memory");
    if (m > 0 && !GEOSCoordSeq_copyToBuffer_r(ctx->geos, cs, &out->xy[2 * out->npts], 0, 0))
        return wg_fail_geos(ctx, "cannot read a ring");
    out->npts += m;
    out->ring_end[out->nrings++] = out->npts;
    return WG_OK;
}

static int append_polygon(wg_ctx *ctx, const GEOSGeometry *p, wg_rings *out)
{
    if (GEOSisEmpty_r(ctx->geos, p) == 1) return WG_OK;
    int rc = append_ring(ctx, GEOSGetExteriorRing_r(ctx->geos, p), out);
    int holes = GEOSGetNumInteriorRings_r(ctx->geos, p);
    for (int i = 0; rc == WG_OK && i < holes; i++)
        rc = append_ring(ctx, GEOSGetInteriorRingN_r(ctx->geos, p, i), out);
    if (rc == WG_OK &&
        wg_grow((void **)&out->part_end, &out->pcap, out->nparts + 1, sizeof *out->part_end) != WG_OK)
        rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    if (rc == WG_OK) out->part_end[out->nparts++] = out->nrings;
    return rc;
}

int wg_geom_append_rings(wg_ctx *ctx, const GEOSGeometry *g, wg_rings *out)
{
    int t = GEOSGeomTypeId_r(ctx->geos, g);
    if (t == GEOS_POLYGON) return append_polygon(ctx, g, out);
    if (t != GEOS_MULTIPOLYGON) return WG_OK;
    int n = GEOSGetNumGeometries_r(ctx->geos, g), rc = WG_OK;
    for (int k = 0; rc == WG_OK && k < n; k++) rc = append_polygon(ctx, GEOSGetGeometryN_r(ctx->geos, g, k), out);
    return rc;
}

int wg_geom_label_point(wg_ctx *ctx, const GEOSGeometry *g, double *lon, double *lat)
{
    GEOSContextHandle_t h = ctx->geos;
    const GEOSGeometry *best = g;
    if (GEOSGeomTypeId_r(h, g) == GEOS_MULTIPOLYGON) {
        double best_area = -1;
        for (int k = 0; k < GEOSGetNumGeometries_r(h, g); k++) {
            const GEOSGeometry *p = GEOSGetGeometryN_r(h, g, k);
            double a = 0;
            if (GEOSArea_r(h, p, &a) && a > best_area) {
                best_area = a;
                best = p;
            }
        }
    }
    double x0, y0, x1, y1;
    GEOSGeometry *circle = NULL;
    if (GEOSisEmpty_r(h, best) == 0 && GEOSGeom_getExtent_r(h, best, &x0, &y0, &x1, &y1)) {
        double tol = fmax(x1 - x0, y1 - y0) / 100;
        if (tol > 0) circle = GEOSMaximumInscribedCircle_r(h, best, tol);
    }
    if (circle) {
        const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, circle);
        int ok = cs && GEOSCoordSeq_getXY_r(h, cs, 0, lon, lat);
        GEOSGeom_destroy_r(h, circle);
        /* GEOS 3.11 may put the centre outside a thin polygon (its search starts from cells
         * whose centres all lie outside; found by tests/fuzz/fuzz_geojson): keep it only if
         * it is on the polygon */
        GEOSGeometry *pt = ok ? GEOSGeom_createPointFromXY_r(h, *lon, *lat) : NULL;
        ok = pt && GEOSIntersects_r(h, best, pt) == 1;
        GEOSGeom_destroy_r(h, pt);
        if (ok) return WG_OK;
    }
    return wg_geom_point_on_surface(ctx, best, lon, lat);
}
