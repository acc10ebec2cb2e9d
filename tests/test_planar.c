/* planar.c: faces of linework, exact adjacency, coverage unions, reading order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "geom.h"
#include "planar.h"
#include "testutil.h"

#include <math.h>
#include <stdlib.h>

/* the square lon 114.00..114.02 x lat 22.00..22.02, cut by a meridian and a parallel through
 * its middle (both lines reach beyond it) and a dangle that ends inside */
#define SQUARE "POLYGON((114 22, 114.02 22, 114.02 22.02, 114 22.02, 114 22))"

static int setup(void **state)
{
    *state = wg_ctx_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    wg_ctx_free(*state);
    return 0;
}

static void cut_square(wg_ctx *ctx, GEOSGeometry ***faces, size_t *n, int with_dangle)
{
    GEOSGeometry *sq = tu_wkt(ctx, SQUARE);
    GEOSGeometry *lines[3] = {tu_wkt(ctx, "LINESTRING(114.01 21.99, 114.01 22.03)"),
                              tu_wkt(ctx, "LINESTRING(113.99 22.01, 114.03 22.01)"),
                              tu_wkt(ctx, "LINESTRING(114.003 22.003, 114.006 22.004)")};
    assert_int_equal(wg_planar_faces(ctx, sq, lines, with_dangle ? 3 : 2, 1e-7, faces, n), WG_OK);
    for (int i = 0; i < 3; i++) GEOSGeom_destroy_r(wg_geos(ctx), lines[i]);
    GEOSGeom_destroy_r(wg_geos(ctx), sq);
}

/* index of the face holding (lon, lat) */
static size_t face_at(wg_ctx *ctx, GEOSGeometry **faces, size_t n, double lon, double lat)
{
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(wg_geos(ctx), lon, lat);
    size_t hit = n;
    for (size_t i = 0; i < n; i++)
        if (GEOSContains_r(wg_geos(ctx), faces[i], pt) == 1) hit = i;
    GEOSGeom_destroy_r(wg_geos(ctx), pt);
    return hit;
}

static void test_faces_of_a_cut_square(void **state)
{
    wg_ctx *ctx = *state;
    GEOSGeometry **faces;
    size_t n;
    cut_square(ctx, &faces, &n, 1);
    assert_int_equal(n, 4); /* the dangle makes no face */
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(GEOSGeomTypeId_r(wg_geos(ctx), faces[i]), GEOS_POLYGON);
        sum += wg_geom_area_m2(ctx, faces[i]);
    }
    assert_near(sum, tu_cell_area_m2(114, 22, 114.02, 22.02), 0.05); /* geodesic edges vs parallels: ~1e-9 */
    size_t sw = face_at(ctx, faces, n, 114.005, 22.005);
    assert_true(sw < n);
    assert_near(wg_geom_area_m2(ctx, faces[sw]), tu_cell_area_m2(114, 22, 114.01, 22.01), 0.05);
    /* every coordinate is on the 1e-7 grid */
    for (size_t i = 0; i < n; i++) {
        const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(wg_geos(ctx), GEOSGetExteriorRing_r(wg_geos(ctx), faces[i]));
        unsigned int m;
        GEOSCoordSeq_getSize_r(wg_geos(ctx), cs, &m);
        for (unsigned int k = 0; k < m; k++) {
            double x, y;
            GEOSCoordSeq_getXY_r(wg_geos(ctx), cs, k, &x, &y);
            assert_near(x * 1e7, round(x * 1e7), 1e-6);
            assert_near(y * 1e7, round(y * 1e7), 1e-6);
        }
    }
    wg_planar_free(ctx, faces, n);
}

static void test_off_grid_lines_are_snapped_and_noded(void **state)
{
    wg_ctx *ctx = *state;
    GEOSGeometry *sq = tu_wkt(ctx, SQUARE);
    /* two lines crossing at a point off the grid, and one 3e-8 away from a corner */
    GEOSGeometry *lines[2] = {tu_wkt(ctx, "LINESTRING(113.99 21.9900000333, 114.03 22.0300000777)"),
                              tu_wkt(ctx, "LINESTRING(113.99 22.0300000111, 114.03 21.99000003)")};
    GEOSGeometry **faces;
    size_t n;
    assert_int_equal(wg_planar_faces(ctx, sq, lines, 2, 1e-7, &faces, &n), WG_OK);
    assert_int_equal(n, 4);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        char detail[160];
        assert_int_equal(wg_geom_check_valid(ctx, faces[i], detail, sizeof detail), 1);
        sum += wg_geom_area_m2(ctx, faces[i]);
    }
    assert_near(sum, tu_cell_area_m2(114, 22, 114.02, 22.02), 0.05); /* geodesic edges vs parallels: ~1e-9 */
    size_t all[4] = {0, 1, 2, 3};
    GEOSGeometry *u = wg_planar_union(ctx, faces, all, 4);
    assert_non_null(u);
    assert_int_equal(GEOSGeomTypeId_r(wg_geos(ctx), u), GEOS_POLYGON);
    assert_near(wg_geom_area_m2(ctx, u), sum, 1e-3);
    GEOSGeom_destroy_r(wg_geos(ctx), u);
    wg_planar_free(ctx, faces, n);
    for (int i = 0; i < 2; i++) GEOSGeom_destroy_r(wg_geos(ctx), lines[i]);
    GEOSGeom_destroy_r(wg_geos(ctx), sq);
}

static void test_adjacency_and_unions(void **state)
{
    wg_ctx *ctx = *state;
    GEOSContextHandle_t h = wg_geos(ctx);
    GEOSGeometry **faces;
    size_t n;
    cut_square(ctx, &faces, &n, 0);
    assert_int_equal(n, 4);
    size_t sw = face_at(ctx, faces, n, 114.005, 22.005), se = face_at(ctx, faces, n, 114.015, 22.005),
           nw = face_at(ctx, faces, n, 114.005, 22.015), ne = face_at(ctx, faces, n, 114.015, 22.015);
    wg_adjacency a;
    assert_int_equal(wg_planar_adjacency(ctx, faces, n, &a), WG_OK);
    assert_int_equal(a.n, 4);
    /* each quarter touches two others along an edge; the diagonal one only at the centre */
    struct geod_geodesic g;
    geod_init(&g, 6378137, 1 / 298.257223563);
    double sw_se = wg_dist_m(&g, 114.01, 22, 114.01, 22.01);    /* shared meridian half */
    double sw_nw = wg_dist_m(&g, 114, 22.01, 114.01, 22.01);    /* shared parallel half (a geodesic) */
    for (size_t i = 0; i < n; i++) assert_int_equal(a.start[i + 1] - a.start[i], 2);
    for (size_t e = a.start[sw]; e < a.start[sw + 1]; e++) {
        assert_true(a.nbr[e] == se || a.nbr[e] == nw);
        assert_near(a.shared[e], a.nbr[e] == se ? sw_se : sw_nw, 1e-6);
    }
    for (size_t e = a.start[ne]; e < a.start[ne + 1]; e++) assert_true(a.nbr[e] == se || a.nbr[e] == nw);
    wg_adjacency_free(&a);

    size_t pair[2] = {sw, se}, diag[2] = {sw, ne};
    GEOSGeometry *south = wg_planar_union(ctx, faces, pair, 2), *cross = wg_planar_union(ctx, faces, diag, 2);
    assert_int_equal(GEOSGeomTypeId_r(h, south), GEOS_POLYGON);
    assert_near(wg_geom_area_m2(ctx, south), tu_cell_area_m2(114, 22, 114.02, 22.01), 0.05);
    assert_int_equal(GEOSGeomTypeId_r(h, cross), GEOS_MULTIPOLYGON);
    assert_int_equal(GEOSGetNumGeometries_r(h, cross), 2);
    /* unions of faces keep sharing edges: south and the two north quarters are neighbours */
    GEOSGeometry *three[3] = {south, faces[nw], faces[ne]};
    assert_int_equal(wg_planar_adjacency(ctx, three, 3, &a), WG_OK);
    assert_int_equal(a.start[1] - a.start[0], 2);
    assert_near(a.shared[a.start[0]] + a.shared[a.start[0] + 1], 2 * sw_nw, 1e-3);
    wg_adjacency_free(&a);
    GEOSGeom_destroy_r(h, south);
    GEOSGeom_destroy_r(h, cross);
    wg_planar_free(ctx, faces, n);
}

static void test_reading_order(void **state)
{
    (void)state;
    /* a 3 x 3 block of points, given in scrambled order: rows north to south, west to east */
    double x[9] = {114.02, 114.00, 114.01, 114.00, 114.02, 114.01, 114.01, 114.00, 114.02};
    double y[9] = {22.00, 22.02, 22.01, 22.00, 22.02, 22.02, 22.00, 22.01, 22.01};
    size_t order[9];
    wg_order_reading(x, y, 9, order);
    double want_x[9] = {114.00, 114.01, 114.02, 114.00, 114.01, 114.02, 114.00, 114.01, 114.02};
    double want_y[9] = {22.02, 22.02, 22.02, 22.01, 22.01, 22.01, 22.00, 22.00, 22.00};
    for (int i = 0; i < 9; i++) {
        assert_near(x[order[i]], want_x[i], 1e-12);
        assert_near(y[order[i]], want_y[i], 1e-12);
    }
    /* a wide strip is one row: pure west to east, whatever the small north-south jitter */
    double sx[4] = {114.3, 114.1, 114.0, 114.2}, sy[4] = {22.001, 22.0, 22.002, 22.0005};
    wg_order_reading(sx, sy, 4, order);
    assert_int_equal(order[0], 2);
    assert_int_equal(order[1], 1);
    assert_int_equal(order[2], 3);
    assert_int_equal(order[3], 0);
    /* a tall column is read north to south */
    double cx[3] = {114.0, 114.0001, 114.0}, cy[3] = {22.0, 22.2, 22.1};
    wg_order_reading(cx, cy, 3, order);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 0);
    wg_order_reading(cx, cy, 0, order); /* nothing to do, no crash */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_faces_of_a_cut_square, setup, teardown),
        cmocka_unit_test_setup_teardown(test_off_grid_lines_are_snapped_and_noded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adjacency_and_unions, setup, teardown),
        cmocka_unit_test(test_reading_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
