/* The GEOS/geodesy bridge (lib/src/geom.c): GeoJSON polygons in, each refusal with its fault
 * code, ring closing, geodesic areas and distances against independent figures (the authalic
 * cell formula and published WGS84 constants, never geod_polygonarea itself), validity and
 * repair of a bowtie, the lon/lat range check at its exact boundaries, and the WKB/GeoJSON
 * round trips the store and the export rely on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geom.h"
#include "testutil.h"


typedef struct parsed {
    int rc, fault, closed;
    char detail[256];
    GEOSGeometry *g;
} parsed;

/* Parses text with json-c and converts it; close_rings is passed only when want_close. */
static parsed convert(wg_ctx *ctx, const char *text, int want_close)
{
    parsed p = {0};
    json_object *j = json_tokener_parse(text);
    assert_non_null(j);
    p.rc = wg_geom_from_geojson(ctx, j, want_close ? &p.closed : NULL, &p.fault, p.detail,
                                sizeof p.detail, &p.g);
    json_object_put(j);
    return p;
}

static void test_polygon_accepted(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    GEOSContextHandle_t h = wg_geos(ctx);
    parsed p = convert(ctx,
                       "{\"type\":\"Polygon\",\"coordinates\":[[[114.46,22.62],[114.47,22.62],"
                       "[114.47,22.63],[114.46,22.63],[114.46,22.62]]]}",
                       0);
    assert_int_equal(WG_OK, p.rc);
    assert_int_equal(WG_GF_NONE, p.fault);
    assert_non_null(p.g);
    assert_int_equal(GEOS_MULTIPOLYGON, GEOSGeomTypeId_r(h, p.g));
    assert_int_equal(1, GEOSGetNumGeometries_r(h, p.g));
    assert_int_equal(5, (int)wg_geom_vertices(ctx, p.g));
    GEOSGeometry *want = tu_wkt(ctx, "MULTIPOLYGON(((114.46 22.62,114.47 22.62,114.47 22.63,"
                                     "114.46 22.63,114.46 22.62)))");
    assert_int_equal(1, GEOSEqualsExact_r(h, want, p.g, 0.0));
    GEOSGeom_destroy_r(h, want);
    GEOSGeom_destroy_r(h, p.g);
    wg_ctx_free(ctx);
}

static void test_multipolygon_accepted(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    GEOSContextHandle_t h = wg_geos(ctx);
    parsed p = convert(ctx,
                       "{\"type\":\"MultiPolygon\",\"coordinates\":["
                       "[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[3,3],[3,7],[7,7],[7,3],[3,3]]],"
                       "[[[20,0],[22,0],[22,2],[20,0]]]]}",
                       0);
    assert_int_equal(WG_OK, p.rc);
    assert_int_equal(GEOS_MULTIPOLYGON, GEOSGeomTypeId_r(h, p.g));
    assert_int_equal(2, GEOSGetNumGeometries_r(h, p.g));
    assert_int_equal(1, GEOSGetNumInteriorRings_r(h, GEOSGetGeometryN_r(h, p.g, 0)));
    assert_int_equal(0, GEOSGetNumInteriorRings_r(h, GEOSGetGeometryN_r(h, p.g, 1)));
    assert_int_equal(14, (int)wg_geom_vertices(ctx, p.g));
    GEOSGeom_destroy_r(h, p.g);
    wg_ctx_free(ctx);
}

static void test_each_refusal_has_its_fault(void **state)
{
    static const struct {
        const char *json;
        int fault;
    } cases[] = {
        {"{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]}", WG_GF_WRONG_TYPE},
        {"{\"type\":\"Point\",\"coordinates\":[0,0]}", WG_GF_WRONG_TYPE},
        {"{\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}", WG_GF_WRONG_TYPE},
        /* four distinct positions, not closed */
        {"{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1]]]}", WG_GF_UNCLOSED_RING},
        /* an unclosed hole in a good outer ring */
        {"{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[9,0],[9,9],[0,9],[0,0]],"
         "[[3,3],[3,6],[6,6],[6,3]]]}",
         WG_GF_UNCLOSED_RING},
        {"{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[0,0]]]}", WG_GF_TOO_FEW_POINTS},
        {"{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,91],[0,0]]]}", WG_GF_OUT_OF_RANGE},
        {"{\"type\":\"Polygon\",\"coordinates\":[[[180,0],[180.5,0],[180.5,1],[180,0]]]}",
         WG_GF_OUT_OF_RANGE},
        {"{\"type\":\"Polygon\",\"coordinates\":[[[-180.5,0],[-179,0],[-179,1],[-180.5,0]]]}",
         WG_GF_OUT_OF_RANGE},
        /* the fault is in the second part: every part is checked */
        {"{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[1,0],[1,1],[0,0]]],"
         "[[[0,0],[1,0],[1,-90.5],[0,0]]]]}",
         WG_GF_OUT_OF_RANGE},
        {"{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[\"1\",0],[1,1],[0,0]]]}", WG_GF_MALFORMED},
        {"{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1],[1,1],[0,0]]]}", WG_GF_MALFORMED},
        {"{\"type\":\"Polygon\",\"coordinates\":[[0,0,1,0,1,1,0,0]]}", WG_GF_MALFORMED},
        {"{\"type\":\"Polygon\"}", WG_GF_MALFORMED},
        {"{\"type\":\"Polygon\",\"coordinates\":{}}", WG_GF_MALFORMED},
        {"{\"type\":\"MultiPolygon\",\"coordinates\":[]}", WG_GF_EMPTY},
        {"{\"type\":\"Polygon\",\"coordinates\":[]}", WG_GF_EMPTY},
    };
    wg_ctx *ctx = wg_ctx_new();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parsed p = convert(ctx, cases[i].json, 0);
        if (p.rc != WG_EDATA || p.fault != cases[i].fault || p.g || !p.detail[0])
            print_error("case %zu: %s -> rc %d fault %s (%s)\n", i, cases[i].json, p.rc,
                        wg_geom_fault_name(p.fault), p.detail);
        assert_int_equal(WG_EDATA, p.rc);
        assert_int_equal(cases[i].fault, p.fault);
        assert_null(p.g);
        assert_true(p.detail[0] != '\0');
    }
    wg_ctx_free(ctx);
}

static void test_nan_and_null_geometry(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    json_object *ring = json_object_new_array();
    const double xy[4][2] = {{0, 0}, {1, 0}, {NAN, 1}, {0, 0}};
    for (int i = 0; i < 4; i++) {
        json_object *pos = json_object_new_array();
        json_object_array_add(pos, json_object_new_double(xy[i][0]));
        json_object_array_add(pos, json_object_new_double(xy[i][1]));
        json_object_array_add(ring, pos);
    }
    json_object *rings = json_object_new_array(), *g = json_object_new_object();
    json_object_array_add(rings, ring);
    json_object_object_add(g, "type", json_object_new_string("Polygon"));
    json_object_object_add(g, "coordinates", rings);
    int fault = 0;
    char detail[200];
    GEOSGeometry *out = (GEOSGeometry *)1;
    assert_int_equal(WG_EDATA,
                     wg_geom_from_geojson(ctx, g, NULL, &fault, detail, sizeof detail, &out));
    assert_int_equal(WG_GF_NAN, fault);
    assert_null(out);
    json_object_put(g);

    out = (GEOSGeometry *)1;
    assert_int_equal(WG_EDATA,
                     wg_geom_from_geojson(ctx, NULL, NULL, &fault, detail, sizeof detail, &out));
    assert_int_equal(WG_GF_EMPTY, fault);
    assert_null(out);
    wg_ctx_free(ctx);
}

static void test_close_rings_closes_and_counts(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    GEOSContextHandle_t h = wg_geos(ctx);
    /* outer ring and hole both unclosed */
    parsed p = convert(ctx,
                       "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[9,0],[9,9],[0,9]],"
                       "[[3,3],[3,6],[6,6],[6,3]]]}",
                       1);
    assert_int_equal(WG_OK, p.rc);
    assert_int_equal(WG_GF_NONE, p.fault);
    assert_int_equal(2, p.closed);
    assert_non_null(strstr(p.detail, "closed ring"));
    GEOSGeometry *want = tu_wkt(ctx, "MULTIPOLYGON(((0 0,9 0,9 9,0 9,0 0),(3 3,3 6,6 6,6 3,3 3)))");
    assert_int_equal(1, GEOSEqualsExact_r(h, want, p.g, 0.0));
    assert_int_equal(1, wg_geom_check_valid(ctx, p.g, p.detail, sizeof p.detail));
    GEOSGeom_destroy_r(h, want);
    GEOSGeom_destroy_r(h, p.g);

    /* three open positions become a closed triangle of four */
    p = convert(ctx, "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[0,1]]]}", 1);
    assert_int_equal(WG_OK, p.rc);
    assert_int_equal(1, p.closed);
    assert_int_equal(4, (int)wg_geom_vertices(ctx, p.g));
    GEOSGeom_destroy_r(h, p.g);

    /* closed rings are left alone and not counted */
    p = convert(ctx, "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}", 1);
    assert_int_equal(WG_OK, p.rc);
    assert_int_equal(0, p.closed);
    assert_int_equal(4, (int)wg_geom_vertices(ctx, p.g));
    GEOSGeom_destroy_r(h, p.g);

    /* closing does not excuse any other fault */
    p = convert(ctx, "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,91],[0,1]]]}", 1);
    assert_int_equal(WG_EDATA, p.rc);
    assert_int_equal(WG_GF_OUT_OF_RANGE, p.fault);
    assert_null(p.g);
    p = convert(ctx, "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0]]]}", 1);
    assert_int_equal(WG_EDATA, p.rc);
    assert_int_equal(WG_GF_TOO_FEW_POINTS, p.fault);
    wg_ctx_free(ctx);
}

static void test_area_of_equator_cell(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    GEOSGeometry *g = tu_wkt(ctx, "POLYGON((0 0,1 0,1 1,0 1,0 0))");
    /* 1° × 1° at the equator on WGS84: 12,308,778,361 m² (±0.1%) */
    assert_near(wg_geom_area_m2(ctx, g), 12308778361.0, 12308778361.0 * 1e-3);
    assert_near(wg_geom_area_m2(ctx, g), tu_cell_area_m2(0, 0, 1, 1), tu_cell_area_m2(0, 0, 1, 1) * 1e-3);
    GEOSGeom_destroy_r(wg_geos(ctx), g);
    wg_ctx_free(ctx);
}

static void test_area_at_shenzhen_and_holes(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    GEOSContextHandle_t h = wg_geos(ctx);
    const double outer = tu_cell_area_m2(114.46, 22.60, 114.47, 22.61);
    const double hole = tu_cell_area_m2(114.463, 22.603, 114.467, 22.607);

    GEOSGeometry *ccw = tu_wkt(ctx, "POLYGON((114.46 22.6,114.47 22.6,114.47 22.61,114.46 22.61,"
                                    "114.46 22.6))");
    GEOSGeometry *cw = tu_wkt(ctx, "POLYGON((114.46 22.6,114.46 22.61,114.47 22.61,114.47 22.6,"
                                   "114.46 22.6))");
    assert_near(wg_geom_area_m2(ctx, ccw), outer, outer * 1e-7);
    assert_near(wg_geom_area_m2(ctx, cw), outer, outer * 1e-7); /* orientation does not matter */

    GEOSGeometry *holed = tu_wkt(ctx, "MULTIPOLYGON(((114.46 22.6,114.47 22.6,114.47 22.61,"
                                      "114.46 22.61,114.46 22.6),(114.463 22.603,114.467 22.603,"
                                      "114.467 22.607,114.463 22.607,114.463 22.603)))");
    assert_near(wg_geom_area_m2(ctx, holed), outer - hole, outer * 1e-7);

    GEOSGeometry *two = tu_wkt(ctx, "MULTIPOLYGON(((114.46 22.6,114.47 22.6,114.47 22.61,114.46 "
                                    "22.61,114.46 22.6)),((114.463 22.703,114.467 22.703,114.467 "
                                    "22.707,114.463 22.707,114.463 22.703)))");
    double far = tu_cell_area_m2(114.463, 22.703, 114.467, 22.707);
    assert_near(wg_geom_area_m2(ctx, two), outer + far, outer * 1e-7);

    GEOSGeometry *line = tu_wkt(ctx, "LINESTRING(114.46 22.6,114.47 22.61)");
    GEOSGeometry *empty = tu_wkt(ctx, "POLYGON EMPTY");
    assert_true(wg_geom_area_m2(ctx, line) == 0.0);
    assert_true(wg_geom_area_m2(ctx, empty) == 0.0);

    GEOSGeometry *all[] = {ccw, cw, holed, two, line, empty};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        GEOSGeom_destroy_r(h, all[i]);
    wg_ctx_free(ctx);
}

static void test_check_valid_bowtie(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    GEOSGeometry *bowtie = tu_wkt(ctx, "POLYGON((0 0,2 2,2 0,0 2,0 0))");
    GEOSGeometry *square = tu_wkt(ctx, "POLYGON((0 0,2 0,2 2,0 2,0 0))");
    char detail[256] = "";
    assert_int_equal(0, wg_geom_check_valid(ctx, bowtie, detail, sizeof detail));
    assert_non_null(strstr(detail, "Self-intersection"));
    assert_non_null(strstr(detail, "(1 1)")); /* where the edges cross */
    assert_int_equal(1, wg_geom_check_valid(ctx, square, detail, sizeof detail));
    GEOSGeom_destroy_r(wg_geos(ctx), bowtie);
    GEOSGeom_destroy_r(wg_geos(ctx), square);
    wg_ctx_free(ctx);
}

static void test_make_valid_bowtie(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    GEOSContextHandle_t h = wg_geos(ctx);
    GEOSGeometry *bowtie = tu_wkt(ctx, "POLYGON((0 0,2 2,2 0,0 2,0 0))");
    GEOSGeometry *v = wg_geom_make_valid(ctx, bowtie);
    assert_non_null(v);
    assert_int_equal(GEOS_MULTIPOLYGON, GEOSGeomTypeId_r(h, v));
    assert_int_equal(2, GEOSGetNumGeometries_r(h, v));
    char detail[256];
    assert_int_equal(1, wg_geom_check_valid(ctx, v, detail, sizeof detail));
    /* the two lobes are the triangles (0 0, 1 1, 0 2) and (2 0, 1 1, 2 2): 1 deg² each */
    double area = 0;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(1, GEOSArea_r(h, GEOSGetGeometryN_r(h, v, i), &area));
        assert_near(area, 1.0, 1e-12);
    }
    GEOSGeometry *left = tu_wkt(ctx, "POLYGON((0 0,1 1,0 2,0 0))");
    GEOSGeometry *right = tu_wkt(ctx, "POLYGON((2 0,2 2,1 1,2 0))");
    GEOSGeometry *want = GEOSUnion_r(h, left, right);
    assert_int_equal(1, GEOSEquals_r(h, want, v));
    GEOSGeometry *all[] = {bowtie, v, left, right, want};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        GEOSGeom_destroy_r(h, all[i]);
    wg_ctx_free(ctx);
}

static void test_make_valid_collapse_is_empty(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    GEOSGeometry *flat = tu_wkt(ctx, "POLYGON((0 0,1 0,2 0,0 0))");
    GEOSGeometry *v = wg_geom_make_valid(ctx, flat);
    assert_non_null(v);
    assert_int_equal(GEOS_MULTIPOLYGON, GEOSGeomTypeId_r(wg_geos(ctx), v));
    assert_int_equal(1, GEOSisEmpty_r(wg_geos(ctx), v));
    GEOSGeom_destroy_r(wg_geos(ctx), flat);
    GEOSGeom_destroy_r(wg_geos(ctx), v);
    wg_ctx_free(ctx);
}

static void test_distances(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    /* WGS84: 1° of latitude at the equator is 110,574.4 m; 1° of longitude is a·π/180 */
    assert_near(wg_dist_m(&ctx->wgs84, 0, 0, 0, 1), 110574.4, 1.0);
    assert_near(wg_dist_m(&ctx->wgs84, 0, 1, 0, 0), 110574.4, 1.0);
    assert_near(wg_dist_m(&ctx->wgs84, 0, 0, 1, 0), 6378137.0 * TU_PI / 180.0, 1e-3);
    /* lon before lat: 1° along the equator is longer than 1° along a meridian */
    assert_true(wg_dist_m(&ctx->wgs84, 0, 0, 1, 0) > wg_dist_m(&ctx->wgs84, 0, 0, 0, 1) + 700);
    assert_true(wg_dist_m(&ctx->wgs84, 114.46, 22.62, 114.46, 22.62) == 0.0);
    /* across the antimeridian the short way: 0.2° of longitude at the equator */
    assert_near(wg_dist_m(&ctx->wgs84, 179.9, 0, -179.9, 0), 0.2 * 6378137.0 * TU_PI / 180.0,
                1e-3);
    wg_ctx_free(ctx);
}

static void test_check_lonlat_boundaries(void **state)
{
    char d[128];
    const double ok[][2] = {{180, 90}, {-180, -90}, {180, -90}, {-180, 90}, {0, 0}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_int_equal(WG_OK, wg_check_lonlat(ok[i][0], ok[i][1], d, sizeof d));
    const double bad[][2] = {{NAN, 0},         {0, NAN},         {INFINITY, 0},
                             {0, -INFINITY},   {0, 90.0000001},  {0, -90.0000001},
                             {180.0000001, 0}, {-180.0000001, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d[0] = '\0';
        assert_int_equal(WG_EDATA, wg_check_lonlat(bad[i][0], bad[i][1], d, sizeof d));
        assert_true(d[0] != '\0');
    }
}

static void test_point_from_geojson(void **state)
{
    char d[128];
    double lon = 0, lat = 0;
    json_object *p = json_tokener_parse("{\"type\":\"Point\",\"coordinates\":[114.465,22.625]}");
    assert_int_equal(WG_OK, wg_point_from_geojson(p, &lon, &lat, d, sizeof d));
    assert_true(lon == 114.465 && lat == 22.625);
    json_object_put(p);
    const char *bad[] = {"{\"type\":\"Point\",\"coordinates\":[114.465,91]}",
                         "{\"type\":\"Point\",\"coordinates\":[\"114\",22]}",
                         "{\"type\":\"Point\"}",
                         "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = json_tokener_parse(bad[i]);
        assert_int_equal(WG_EDATA, wg_point_from_geojson(p, &lon, &lat, d, sizeof d));
        json_object_put(p);
    }
}

static void test_fault_names(void **state)
{
    /* the import reports these names as issue kinds */
    assert_string_equal("unclosed_ring", wg_geom_fault_name(WG_GF_UNCLOSED_RING));
    assert_string_equal("too_few_points", wg_geom_fault_name(WG_GF_TOO_FEW_POINTS));
    assert_string_equal("out_of_range", wg_geom_fault_name(WG_GF_OUT_OF_RANGE));
    assert_string_equal("invalid", wg_geom_fault_name(WG_GF_INVALID));
    assert_string_equal("unknown", wg_geom_fault_name(-1));
    assert_string_equal("unknown", wg_geom_fault_name(WG_GF_TOO_MANY_VERTICES + 1));
}

static void test_wkb_and_geojson_round_trip(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    GEOSContextHandle_t h = wg_geos(ctx);
    /* coordinates that need all 17 digits */
    GEOSGeometry *g = tu_wkt(ctx, "MULTIPOLYGON(((114.46000000000001 22.620000000000001,"
                                  "114.47123456789012 22.62,114.47 22.63333333333333,"
                                  "114.46000000000001 22.620000000000001)))");
    size_t len = 0;
    unsigned char *wkb = wg_geom_to_wkb(ctx, g, &len);
    assert_non_null(wkb);
    GEOSGeometry *back = wg_geom_from_wkb(ctx, wkb, len);
    assert_non_null(back);
    assert_int_equal(1, GEOSEqualsExact_r(h, g, back, 0.0));
    GEOSFree_r(h, wkb);
    assert_null(wg_geom_from_wkb(ctx, (const unsigned char *)"\x01\x02", 2));

    char *text = wg_geom_to_geojson(ctx, g);
    assert_non_null(text);
    json_object *j = json_tokener_parse(text);
    assert_non_null(j);
    int fault;
    char d[128];
    GEOSGeometry *again = NULL;
    assert_int_equal(WG_OK, wg_geom_from_geojson(ctx, j, NULL, &fault, d, sizeof d, &again));
    assert_int_equal(1, GEOSEqualsExact_r(h, g, again, 0.0));
    json_object_put(j);
    GEOSFree_r(h, text);
    GEOSGeom_destroy_r(h, g);
    GEOSGeom_destroy_r(h, back);
    GEOSGeom_destroy_r(h, again);
    wg_ctx_free(ctx);
}

/* Ring of n positions: (0 0), then (1 1) repeated, and (0 0) again only if closed. The
 * repeated position is one shared json-c object, so a million positions cost little. */
static json_object *long_ring(size_t n, int closed)
{
    json_object *r = json_object_new_array_ext((int)n), *p0 = json_object_new_array(),
                *p1 = json_object_new_array();
    json_object_array_add(p0, json_object_new_int(0));
    json_object_array_add(p0, json_object_new_int(0));
    json_object_array_add(p1, json_object_new_int(1));
    json_object_array_add(p1, json_object_new_int(1));
    json_object_array_add(r, p0);
    for (size_t i = 1; i + 1 < n; i++)
        json_object_array_add(r, json_object_get(p1));
    json_object_array_add(r, json_object_get(closed ? p0 : p1));
    json_object_put(p1);
    return r;
}

static int convert_rings(wg_ctx *ctx, json_object *r0, json_object *r1, int *fault)
{
    json_object *rings = json_object_new_array(), *g = json_object_new_object();
    json_object_array_add(rings, r0);
    if (r1) json_object_array_add(rings, r1);
    json_object_object_add(g, "type", json_object_new_string("Polygon"));
    json_object_object_add(g, "coordinates", rings);
    int closed = 0;
    char detail[200];
    GEOSGeometry *out = NULL;
    int rc = wg_geom_from_geojson(ctx, g, &closed, fault, detail, sizeof detail, &out);
    if (out) GEOSGeom_destroy_r(wg_geos(ctx), out);
    json_object_put(g);
    return rc;
}

/* The cap of WG_MAX_UNIT_VERTICES per unit holds across rings, also when rings are closed. */
static void test_vertex_cap(void **state)
{
    enum { M = WG_MAX_UNIT_VERTICES };
    wg_ctx *ctx = wg_ctx_new();
    int fault = 0;
    assert_int_equal(WG_OK, convert_rings(ctx, long_ring(M, 1), NULL, &fault));
    assert_int_equal(WG_EDATA, convert_rings(ctx, long_ring(M + 1, 1), NULL, &fault));
    assert_int_equal(WG_GF_TOO_MANY_VERTICES, fault);
    assert_int_equal(WG_EDATA, convert_rings(ctx, long_ring(M - 10, 1), long_ring(20, 1), &fault));
    assert_int_equal(WG_GF_TOO_MANY_VERTICES, fault);
    /* an open ring of M positions becomes M + 1 when closed: the budget must not wrap and
     * let a further ring through */
    fault = WG_GF_NONE;
    int rc = convert_rings(ctx, long_ring(M, 0), long_ring(5, 1), &fault);
    assert_int_equal(WG_EDATA, rc);
    assert_int_equal(WG_GF_TOO_MANY_VERTICES, fault);
    wg_ctx_free(ctx);
}

/* A context's lowered cap (wg_ctx_set_max_vertices, the server's --max-vertices) holds the same
 * way, with the cap in the message; out-of-range caps are refused; 0 restores the default. */
static void test_vertex_cap_lowered(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    int fault = 0;
    assert_int_equal(WG_EINVAL, wg_ctx_set_max_vertices(ctx, 3));
    assert_int_equal(WG_EINVAL, wg_ctx_set_max_vertices(ctx, WG_MAX_VERTICES + 1));
    assert_int_equal(WG_OK, wg_ctx_set_max_vertices(ctx, 100));
    assert_int_equal(WG_OK, convert_rings(ctx, long_ring(100, 1), NULL, &fault));
    assert_int_equal(WG_EDATA, convert_rings(ctx, long_ring(101, 1), NULL, &fault));
    assert_int_equal(WG_GF_TOO_MANY_VERTICES, fault);
    /* across rings, and a ring closed by repair counts its closing position */
    assert_int_equal(WG_EDATA, convert_rings(ctx, long_ring(60, 1), long_ring(41, 1), &fault));
    assert_int_equal(WG_GF_TOO_MANY_VERTICES, fault);
    fault = WG_GF_NONE;
    assert_int_equal(WG_EDATA, convert_rings(ctx, long_ring(100, 0), NULL, &fault));
    assert_int_equal(WG_GF_TOO_MANY_VERTICES, fault);
    json_object *g = json_tokener_parse("{\"type\":\"MultiPoint\",\"coordinates\":[]}");
    json_object *pts = json_object_new_array();
    for (int i = 0; i < 101; i++) {
        json_object *p = json_object_new_array();
        json_object_array_add(p, json_object_new_double(114 + i * 1e-4));
        json_object_array_add(p, json_object_new_double(22.6));
        json_object_array_add(pts, p);
    }
    json_object_object_add(g, "coordinates", pts);
    char detail[200];
    GEOSGeometry *out = NULL;
    assert_int_equal(WG_EDATA, wg_geom_from_geojson_any(ctx, g, WG_GK_ANY, NULL, &fault, detail,
                                                        sizeof detail, &out));
    assert_null(out);
    assert_int_equal(WG_GF_TOO_MANY_VERTICES, fault);
    assert_string_equal("more than 100 vertices", detail);
    json_object_put(g);
    assert_int_equal(WG_OK, wg_ctx_set_max_vertices(ctx, 0));
    assert_int_equal(WG_OK, convert_rings(ctx, long_ring(101, 1), NULL, &fault));
    wg_ctx_free(ctx);
}

/* A "type" member that is null is bad data like any other: refused, not a crash. Last in the
 * list: on a broken build it takes the process down. */
static void test_null_type_refused(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    parsed p = convert(ctx, "{\"type\":null,\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}", 0);
    assert_int_equal(WG_EDATA, p.rc);
    assert_int_equal(WG_GF_WRONG_TYPE, p.fault);
    assert_null(p.g);
    json_object *pt = json_tokener_parse("{\"type\":null,\"coordinates\":[0,0]}");
    double lon, lat;
    char d[128];
    assert_int_equal(WG_EDATA, wg_point_from_geojson(pt, &lon, &lat, d, sizeof d));
    json_object_put(pt);
    wg_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_polygon_accepted),
        cmocka_unit_test(test_multipolygon_accepted),
        cmocka_unit_test(test_each_refusal_has_its_fault),
        cmocka_unit_test(test_nan_and_null_geometry),
        cmocka_unit_test(test_close_rings_closes_and_counts),
        cmocka_unit_test(test_area_of_equator_cell),
        cmocka_unit_test(test_area_at_shenzhen_and_holes),
        cmocka_unit_test(test_check_valid_bowtie),
        cmocka_unit_test(test_make_valid_bowtie),
        cmocka_unit_test(test_make_valid_collapse_is_empty),
        cmocka_unit_test(test_distances),
        cmocka_unit_test(test_check_lonlat_boundaries),
        cmocka_unit_test(test_point_from_geojson),
        cmocka_unit_test(test_fault_names),
        cmocka_unit_test(test_wkb_and_geojson_round_trip),
        cmocka_unit_test(test_vertex_cap),
        cmocka_unit_test(test_vertex_cap_lowered),
        cmocka_unit_test(test_null_type_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
