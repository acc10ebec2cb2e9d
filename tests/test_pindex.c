/* The exact point index: boundary rule, holes, multipolygon parts, extremes, and agreement
 * with GEOS (covers) on random points over a random partition. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "testutil.h"
#include "wangge/pindex.h"

typedef struct fixture {
    wg_ctx *ctx;
    GEOSGeometry *g[16];
    size_t n;
    wg_pindex *idx;
} fixture;

static void build(fixture *f, const char *const *wkts, size_t n)
{
    f->ctx = wg_ctx_new();
    assert_non_null(f->ctx);
    f->n = n;
    for (size_t i = 0; i < n; i++) f->g[i] = tu_wkt(f->ctx, wkts[i]);
    assert_int_equal(WG_OK, wg_pindex_build(f->ctx, (const GEOSGeometry *const *)f->g, n, &f->idx));
}

static void teardown_fixture(fixture *f)
{
    wg_pindex_free(f->idx);
    for (size_t i = 0; i < f->n; i++) GEOSGeom_destroy_r(wg_geos(f->ctx), f->g[i]);
    wg_ctx_free(f->ctx);
}

#define LOCATE(f, x, y) wg_pindex_locate((f)->idx, (f)->ctx, (x), (y))

/* 2 x 2 unit squares: 0 SW, 1 SE, 2 NW, 3 NE, listed with mixed ring orientations. */
static const char *const QUAD[] = {
    "POLYGON((0 0,1 0,1 1,0 1,0 0))", "POLYGON((1 0,1 1,2 1,2 0,1 0))",
    "POLYGON((0 1,1 1,1 2,0 2,0 1))", "POLYGON((1 1,1 2,2 2,2 1,1 1))"};

static void test_interior_points(void **state)
{
    fixture f = {0};
    build(&f, QUAD, 4);
    assert_int_equal(0, LOCATE(&f, 0.5, 0.5));
    assert_int_equal(1, LOCATE(&f, 1.5, 0.25));
    assert_int_equal(2, LOCATE(&f, 0.1, 1.9));
    assert_int_equal(3, LOCATE(&f, 1.99, 1.99));
    assert_int_equal(-1, LOCATE(&f, 2.5, 0.5));
    assert_int_equal(-1, LOCATE(&f, -0.001, 0.5));
    assert_int_equal(-1, LOCATE(&f, NAN, 0.5));
    assert_int_equal(-1, LOCATE(&f, 0.5, INFINITY));
    teardown_fixture(&f);
}

static void test_shared_edges_go_east_then_north(void **state)
{
    fixture f = {0};
    build(&f, QUAD, 4);
    assert_int_equal(1, LOCATE(&f, 1.0, 0.5)); /* vertical edge between 0 and 1: east */
    assert_int_equal(3, LOCATE(&f, 1.0, 1.5)); /* between 2 and 3: east */
    assert_int_equal(2, LOCATE(&f, 0.5, 1.0)); /* horizontal edge between 0 and 2: north */
    assert_int_equal(3, LOCATE(&f, 1.5, 1.0)); /* between 1 and 3: north */
    assert_int_equal(3, LOCATE(&f, 1.0, 1.0)); /* the vertex all four share: north-east */
    assert_int_equal(1, LOCATE(&f, 1.0, 0.0)); /* outer-boundary vertex of 0 and 1: east */
    assert_int_equal(2, LOCATE(&f, 1.0, 2.0)); /* top outer vertex: nothing north, lowest index */
    teardown_fixture(&f);
}

static void test_outer_boundary_belongs_to_its_polygon(void **state)
{
    fixture f = {0};
    build(&f, QUAD, 4);
    assert_int_equal(1, LOCATE(&f, 2.0, 0.5)); /* east side: nothing east, the polygon itself */
    assert_int_equal(3, LOCATE(&f, 1.5, 2.0)); /* north side */
    assert_int_equal(0, LOCATE(&f, 0.0, 0.5)); /* west side */
    assert_int_equal(0, LOCATE(&f, 0.5, 0.0)); /* south side */
    assert_int_equal(0, LOCATE(&f, 0.0, 0.0)); /* corner */
    assert_int_equal(1, LOCATE(&f, 2.0, 0.0));
    assert_int_equal(3, LOCATE(&f, 2.0, 2.0));
    teardown_fixture(&f);
}

static void test_holes_and_parts(void **state)
{
    static const char *const W[] = {
        /* 0: square with a hole, 1: the island filling the hole, 2: a two-part polygon */
        "POLYGON((0 0,10 0,10 10,0 10,0 0),(3 3,3 7,7 7,7 3,3 3))",
        "POLYGON((3 3,7 3,7 7,3 7,3 3))",
        "MULTIPOLYGON(((20 0,22 0,22 2,20 2,20 0)),((30 5,32 5,32 7,30 7,30 5)))"};
    fixture f = {0};
    build(&f, W, 3);
    assert_int_equal(0, LOCATE(&f, 1, 1));
    assert_int_equal(1, LOCATE(&f, 5, 5));       /* inside the hole: the island */
    assert_int_equal(1, LOCATE(&f, 3, 5));       /* hole's west edge: east is the island */
    assert_int_equal(0, LOCATE(&f, 7, 5));       /* hole's east edge: east is the ring */
    assert_int_equal(2, LOCATE(&f, 21, 1));
    assert_int_equal(2, LOCATE(&f, 31, 6));
    assert_int_equal(-1, LOCATE(&f, 25, 1));     /* between the parts */
    assert_int_equal(-1, LOCATE(&f, 11, 5));
    teardown_fixture(&f);
}

static void test_hole_without_island_is_outside(void **state)
{
    static const char *const W[] = {"POLYGON((0 0,10 0,10 10,0 10,0 0),(3 3,7 3,7 7,3 7,3 3))"};
    fixture f = {0};
    build(&f, W, 1);
    assert_int_equal(-1, LOCATE(&f, 5, 5));
    assert_int_equal(0, LOCATE(&f, 3, 5)); /* on the hole's ring: covered by the polygon */
    assert_int_equal(0, LOCATE(&f, 5, 7));
    teardown_fixture(&f);
}

static void test_world_extremes(void **state)
{
    static const char *const W[] = {"POLYGON((170 80,180 80,180 90,170 90,170 80))",
                                    "POLYGON((-180 -90,-170 -90,-170 -80,-180 -80,-180 -90))"};
    fixture f = {0};
    build(&f, W, 2);
    assert_int_equal(0, LOCATE(&f, 180, 85));
    assert_int_equal(0, LOCATE(&f, 175, 90));
    assert_int_equal(0, LOCATE(&f, 180, 90));
    assert_int_equal(1, LOCATE(&f, -180, -90));
    assert_int_equal(1, LOCATE(&f, -175, -85));
    assert_int_equal(-1, LOCATE(&f, 0, 0));
    assert_int_equal(-1, LOCATE(&f, 180.0000001, 85));
    teardown_fixture(&f);
}

static void test_nearest_in_metres(void **state)
{
    static const char *const W[] = {"POLYGON((114.0 22.0,114.01 22.0,114.01 22.01,114.0 22.01,114.0 22.0))"};
    fixture f = {0};
    build(&f, W, 1);
    int32_t p;
    double d;
    /* 0.001 degree of latitude due south of the south side: 110.574 km per degree at 22 N */
    wg_pindex_nearest(f.idx, 114.005, 21.999, &p, &d);
    assert_int_equal(0, p);
    assert_true(fabs(d - 110.75) < 0.5);
    teardown_fixture(&f);
}

/* A jittered grid partition: every interior vertex moved randomly, so edges are slanted and
 * shared exactly. Random points and points on vertices and edges must agree with GEOS. */
static void test_agrees_with_geos_on_random_partition(void **state)
{
    enum { N = 12 };
    wg_ctx *ctx = wg_ctx_new();
    GEOSContextHandle_t h = wg_geos(ctx);
    double vx[N + 1][N + 1], vy[N + 1][N + 1];
    srand(7);
    for (int j = 0; j <= N; j++)
        for (int i = 0; i <= N; i++) {
            int border = i == 0 || j == 0 || i == N || j == N;
            vx[j][i] = 113.9 + i * 0.01 + (border ? 0 : (rand() / (double)RAND_MAX - 0.5) * 0.006);
            vy[j][i] = 22.5 + j * 0.01 + (border ? 0 : (rand() / (double)RAND_MAX - 0.5) * 0.006);
        }
    GEOSGeometry *g[N * N];
    for (int j = 0; j < N; j++)
        for (int i = 0; i < N; i++) {
            double xy[10] = {vx[j][i], vy[j][i], vx[j][i + 1], vy[j][i + 1], vx[j + 1][i + 1],
                             vy[j + 1][i + 1], vx[j + 1][i], vy[j + 1][i], vx[j][i], vy[j][i]};
            GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(h, xy, 5, 0, 0);
            g[j * N + i] = GEOSGeom_createPolygon_r(h, GEOSGeom_createLinearRing_r(h, cs), NULL, 0);
        }
    wg_pindex *idx;
    assert_int_equal(WG_OK, wg_pindex_build(ctx, (const GEOSGeometry *const *)g, N * N, &idx));
    int checked = 0, boundary = 0;
    for (int t = 0; t < 20000; t++) {
        double x, y;
        if (t % 4 == 0) { /* a vertex */
            x = vx[rand() % (N + 1)][rand() % (N + 1)];
            y = vy[rand() % (N + 1)][rand() % (N + 1)];
            int i = rand() % (N + 1), j = rand() % (N + 1);
            x = vx[j][i];
            y = vy[j][i];
        } else {
            x = 113.895 + (rand() / (double)RAND_MAX) * 0.13;
            y = 22.495 + (rand() / (double)RAND_MAX) * 0.13;
        }
        int32_t got = wg_pindex_locate(idx, ctx, x, y);
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, x, y);
        int covering = 0, got_covers = 0;
        for (int k = 0; k < N * N; k++) {
            if (GEOSCovers_r(h, g[k], pt) == 1) {
                covering++;
                if (k == got) got_covers = 1;
            }
        }
        GEOSGeom_destroy_r(h, pt);
        if (covering == 0) assert_int_equal(-1, got);
        else assert_true(got_covers);
        boundary += covering > 1;
        checked++;
    }
    assert_int_equal(20000, checked);
    assert_true(boundary > 1000); /* the vertex samples really exercised the rule */
    int ties = 0;
    /* nearest, for points outside the partition and far from it, against GEOS distances in
     * the same local metric (x scaled by cos(lat)), polygon by polygon */
    for (int t = 0; t < 400; t++) {
        double ang = (rand() / (double)RAND_MAX) * 6.283185307179586;
        double r = 0.09 + (t % 4 == 0 ? 2.0 : 0.05) * rand() / (double)RAND_MAX; /* outside */
        double x = 113.96 + r * cos(ang), y = 22.56 + r * sin(ang);
        if (t % 4 == 1) { /* straight below a vertex two bottom polygons share: a tie */
            x = vx[0][1 + rand() % (N - 1)];
            y = 22.5 - r;
        }
        double kx = cos(y * 3.14159265358979323846 / 180.0);
        double best = INFINITY, dk[N * N];
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, x * kx, y);
        for (int k = 0; k < N * N; k++) {
            int i = k % N, j = k / N;
            double xy[10] = {vx[j][i] * kx, vy[j][i], vx[j][i + 1] * kx, vy[j][i + 1], vx[j + 1][i + 1] * kx,
                             vy[j + 1][i + 1], vx[j + 1][i] * kx, vy[j + 1][i], vx[j][i] * kx, vy[j][i]};
            GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(h, xy, 5, 0, 0);
            GEOSGeometry *sg = GEOSGeom_createPolygon_r(h, GEOSGeom_createLinearRing_r(h, cs), NULL, 0);
            assert_int_equal(1, GEOSDistance_r(h, sg, pt, &dk[k]));
            best = fmin(best, dk[k]);
            GEOSGeom_destroy_r(h, sg);
        }
        GEOSGeom_destroy_r(h, pt);
        int32_t poly;
        double dist_m;
        wg_pindex_nearest(idx, x, y, &poly, &dist_m);
        assert_true(poly >= 0 && poly < N * N);
        assert_true(dk[poly] <= best * (1 + 1e-9));
        int first = 0; /* ties go to the lowest polygon */
        while (dk[first] > best * (1 + 1e-9)) first++;
        if (dk[first] == dk[poly]) assert_int_equal(first, poly);
        ties += t % 4 == 1 && dk[first] == dk[first + 1];
        assert_true(dist_m > 0);
    }
    assert_int_equal(100, ties); /* the tie rule was exercised */
    wg_pindex_stats st;
    wg_pindex_get_stats(idx, &st);
    assert_int_equal(N * N, st.polygons);
    assert_int_equal(N * N * 4, st.edges);
    wg_pindex_free(idx);
    for (int k = 0; k < N * N; k++) GEOSGeom_destroy_r(h, g[k]);
    wg_ctx_free(ctx);
}

static void test_bulk_matches_single(void **state)
{
    fixture f = {0};
    build(&f, QUAD, 4);
    enum { M = 10000 };
    double *x = malloc(M * sizeof *x), *y = malloc(M * sizeof *y);
    int32_t *out = malloc(M * sizeof *out);
    srand(3);
    for (int k = 0; k < M; k++) {
        x[k] = -0.5 + 3.0 * rand() / RAND_MAX;
        y[k] = -0.5 + 3.0 * rand() / RAND_MAX;
    }
    assert_int_equal(WG_OK, wg_pindex_locate_bulk(f.idx, x, y, M, out, 2));
    for (int k = 0; k < M; k++) assert_int_equal(LOCATE(&f, x[k], y[k]), out[k]);
    free(x);
    free(y);
    free(out);
    teardown_fixture(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interior_points),
        cmocka_unit_test(test_shared_edges_go_east_then_north),
        cmocka_unit_test(test_outer_boundary_belongs_to_its_polygon),
        cmocka_unit_test(test_holes_and_parts),
        cmocka_unit_test(test_hole_without_island_is_outside),
        cmocka_unit_test(test_world_extremes),
        cmocka_unit_test(test_nearest_in_metres),
        cmocka_unit_test(test_agrees_with_geos_on_random_partition),
        cmocka_unit_test(test_bulk_matches_single),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
