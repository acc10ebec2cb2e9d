/* The shared-edge network and its simplification (lib/src/topo.c): chains shared between
 * neighbours and between levels (also where a parent has fewer vertices than its children),
 * significance equal to a plain recursive Douglas–Peucker at every tolerance, and no crack:
 * the simplified children always add up to the simplified parent, to the last bit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "topo.h"

/* Rings for wg_topo_build, added one at a time. */
typedef struct rings {
    double xy[2 * 4096];
    size_t start[64];
    size_t n, npts;
} rings;

static void ring_begin(rings *r)
{
    r->start[r->n] = r->npts;
}

static void ring_pt(rings *r, double x, double y)
{
    assert_true(r->npts < 4096);
    r->xy[2 * r->npts] = x;
    r->xy[2 * r->npts + 1] = y;
    r->npts++;
}

static void ring_end(rings *r)
{
    r->n++;
    r->start[r->n] = r->npts;
}

static void ring_box(rings *r, double x0, double y0, double x1, double y1)
{
    ring_begin(r);
    ring_pt(r, x0, y0);
    ring_pt(r, x1, y0);
    ring_pt(r, x1, y1);
    ring_pt(r, x0, y1);
    ring_pt(r, x0, y0);
    ring_end(r);
}

static wg_topo *build(wg_ctx *ctx, const rings *r)
{
    wg_topo *t = NULL;
    assert_int_equal(WG_OK, wg_topo_build(ctx, r->xy, r->start, r->n, &t));
    assert_int_equal(r->n, wg_topo_rings(t));
    return t;
}

static double area(const wg_xy_buf *b)
{
    double a = 0;
    for (size_t i = 0, j = b->n - 1; i < b->n; j = i++)
        a += b->v[2 * j] * b->v[2 * i + 1] - b->v[2 * i] * b->v[2 * j + 1];
    return a / 2;
}

static double ring_area(const wg_topo *t, size_t r, double tol)
{
    wg_xy_buf b = {0};
    assert_int_equal(WG_OK, wg_topo_ring_xy(t, r, tol, NULL, &b));
    double a = b.n >= 3 ? area(&b) : 0;
    wg_xy_buf_free(&b);
    return a;
}

/* Two unit squares side by side share one chain; the outer parts are one chain each. */
static void test_shared_edge(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    static rings r;
    memset(&r, 0, sizeof r);
    ring_box(&r, 0, 0, 1, 1);
    ring_box(&r, 1, 0, 2, 1);
    wg_topo *t = build(ctx, &r);
    assert_int_equal(3, wg_topo_chains(t));
    const uint32_t *a, *b;
    assert_int_equal(2, wg_topo_ring_refs(t, 0, &a));
    assert_int_equal(2, wg_topo_ring_refs(t, 1, &b));
    int shared = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            if (a[i] >> 1 == b[j] >> 1) {
                shared++;
                assert_int_not_equal(a[i] & 1, b[j] & 1); /* run in opposite directions */
                const double *xy;
                assert_int_equal(2, wg_topo_chain_xy(t, a[i] >> 1, &xy));
                assert_true(xy[0] == 1 && xy[2] == 1);
            }
    assert_int_equal(1, shared);
    assert_int_equal(4 + 4 + 2, wg_topo_points(t)); /* two outer chains of 4, the shared 2 */
    assert_near(1.0, ring_area(t, 0, -1), 1e-12);
    assert_near(1.0, ring_area(t, 1, -1), 1e-12);
    wg_topo_free(t);
    wg_ctx_free(ctx);
}

/* A parent drawn with 4 vertices over two children: the children's vertices on its edges are
 * inserted (T-junctions), so the parent is made of exactly the children's outer chains. */
static void test_tjunction(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    static rings r;
    memset(&r, 0, sizeof r);
    ring_box(&r, 0, 0, 2, 1); /* parent */
    ring_box(&r, 0, 0, 1, 1);
    ring_box(&r, 1, 0, 2, 1);
    wg_topo *t = build(ctx, &r);
    assert_int_equal(3, wg_topo_chains(t));
    wg_xy_buf b = {0};
    assert_int_equal(WG_OK, wg_topo_ring_xy(t, 0, -1, NULL, &b));
    assert_int_equal(6, b.n); /* (1,0) and (1,1) inserted */
    wg_xy_buf_free(&b);
    /* the parent's chains are the children's */
    const uint32_t *p, *c;
    size_t np = wg_topo_ring_refs(t, 0, &p);
    for (size_t k = 0; k < np; k++) {
        int found = 0;
        for (size_t ring = 1; ring <= 2; ring++) {
            size_t nc = wg_topo_ring_refs(t, ring, &c);
            for (size_t j = 0; j < nc; j++)
                found += (c[j] >> 1) == (p[k] >> 1);
        }
        assert_int_equal(1, found);
    }
    wg_topo_free(t);
    wg_ctx_free(ctx);
}

/* A plain recursive Douglas–Peucker, the reference. */
static double seg_dist(const double *p, const double *a, const double *b)
{
    double dx = b[0] - a[0], dy = b[1] - a[1], px = p[0] - a[0], py = p[1] - a[1];
    double l2 = dx * dx + dy * dy, t = l2 > 0 ? (px * dx + py * dy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double ex = px - t * dx, ey = py - t * dy;
    return sqrt(ex * ex + ey * ey);
}

static void dp(const double *xy, size_t i, size_t j, double tol, char *keep)
{
    if (j - i < 2) return;
    double best = -1;
    size_t k = i + 1;
    for (size_t m = i + 1; m < j; m++) {
        double d = seg_dist(&xy[2 * m], &xy[2 * i], &xy[2 * j]);
        if (d > best) {
            best = d;
            k = m;
        }
    }
    if ((float)best <= tol) return; /* the library keeps significances as floats */
    keep[k] = 1;
    dp(xy, i, k, tol, keep);
    dp(xy, k, j, tol, keep);
}

/* Polygon A (west) and B (east) of the square [0,100]² split by a random-walk line, and the
 * square as their parent (rings 0, 1, 2). */
static void split_square(rings *r)
{
    memset(r, 0, sizeof *r);
    double line[2 * 401];
    uint64_t s = 12345;
    double x = 50;
    for (int i = 0; i <= 400; i++) { /* x wanders, y climbs from 0 to 100 */
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x += ((double)(s >> 11) / 9007199254740992.0 - 0.5) * 3;
        line[2 * i] = i == 0 || i == 400 ? 50 : x;
        line[2 * i + 1] = i * 0.25;
    }
    /* A: west of the line, B: east of it, the parent around both: all counter-clockwise */
    ring_begin(r);
    for (int i = 0; i <= 400; i++)
        ring_pt(r, line[2 * i], line[2 * i + 1]);
    ring_pt(r, 0, 100);
    for (int i = 99; i >= 1; i--)
        ring_pt(r, sin(i) * 0.3 * (i % 3), i); /* wavy west edge */
    ring_pt(r, 0, 0);
    ring_end(r);
    ring_begin(r);
    for (int i = 400; i >= 0; i--)
        ring_pt(r, line[2 * i], line[2 * i + 1]);
    ring_pt(r, 100, 0);
    ring_pt(r, 100, 100);
    ring_end(r);
    ring_begin(r);
    ring_pt(r, 0, 0);
    ring_pt(r, 100, 0); /* (50, 0) is a T-junction of the parent */
    ring_pt(r, 100, 100);
    ring_pt(r, 0, 100);
    for (int i = 99; i >= 1; i--)
        ring_pt(r, sin(i) * 0.3 * (i % 3), i);
    ring_end(r);
}

/* Polygon A (west) and B (east) of a square split by a random-walk line, plus the square as
 * their parent. At every tolerance: each ring is exactly DP of its chains, and A + B = parent
 * in area (no crack, no overlap) although every boundary is simplified. */
static void test_simplify(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    static rings r;
    split_square(&r);
    wg_topo *t = build(ctx, &r);
    const double tols[] = {-1, 0, 0.01, 0.1, 0.5, 1, 2, 5, 20, 60, 1000};
    for (size_t k = 0; k < sizeof tols / sizeof tols[0]; k++) {
        double a = ring_area(t, 0, tols[k]), b = ring_area(t, 1, tols[k]),
               p = ring_area(t, 2, tols[k]);
        assert_true(a >= 0 && b >= 0 && p >= 0); /* counter-clockwise, or collapsed (tol 60+) */
        assert_near(fabs(p), fabs(a) + fabs(b), 1e-9);
        /* each ring = DP of each of its chains */
        for (size_t ring = 0; ring < 3; ring++) {
            wg_xy_buf got = {0};
            assert_int_equal(WG_OK, wg_topo_ring_xy(t, ring, tols[k], NULL, &got));
            const uint32_t *refs;
            size_t nr = wg_topo_ring_refs(t, ring, &refs), at = 0;
            for (size_t j = 0; j < nr; j++) {
                const double *xy;
                size_t n = wg_topo_chain_xy(t, refs[j] >> 1, &xy);
                assert_false(xy[0] == xy[2 * (n - 1)] && xy[1] == xy[2 * (n - 1) + 1]); /* open */
                char *keep = calloc(n, 1);
                keep[0] = keep[n - 1] = 1;
                dp(xy, 0, n - 1, tols[k], keep);
                for (size_t m = 0; m + 1 < n; m++) {
                    size_t q = refs[j] & 1 ? n - 1 - m : m;
                    if (!keep[q]) continue;
                    assert_true(at < got.n);
                    assert_true(got.v[2 * at] == xy[2 * q] && got.v[2 * at + 1] == xy[2 * q + 1]);
                    at++;
                }
                free(keep);
            }
            assert_int_equal(at, got.n);
            wg_xy_buf_free(&got);
        }
    }
    /* at a large tolerance the wavy line is a few points, but still shared */
    wg_xy_buf b = {0};
    assert_int_equal(WG_OK, wg_topo_ring_xy(t, 1, 20, NULL, &b));
    assert_true(b.n < 10);
    wg_xy_buf_free(&b);
    wg_topo_free(t);
    wg_ctx_free(ctx);
}

/* Sutherland–Hodgman area of a ring clipped to a box, the reference for windows. */
static double clipped_area(const wg_xy_buf *in, const double *w)
{
    double a[2 * 4096], b[2 * 4096];
    size_t n = in->n;
    memcpy(a, in->v, 2 * n * sizeof *a);
    for (int side = 0; side < 4; side++) {
        int axis = side % 2, high = side >= 2;
        double v = w[side];
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            const double *cur = &a[2 * i], *prev = &a[2 * ((i + n - 1) % n)];
            int cin = high ? cur[axis] <= v : cur[axis] >= v,
                pin = high ? prev[axis] <= v : prev[axis] >= v;
            if (cin != pin) {
                double t = (v - prev[axis]) / (cur[axis] - prev[axis]);
                b[2 * m + axis] = v;
                b[2 * m + 1 - axis] = prev[1 - axis] + t * (cur[1 - axis] - prev[1 - axis]);
                m++;
            }
            if (cin) {
                b[2 * m] = cur[0];
                b[2 * m + 1] = cur[1];
                m++;
            }
        }
        memcpy(a, b, 2 * m * sizeof *a);
        n = m;
    }
    wg_xy_buf o = {a, n, 0};
    return n >= 3 ? area(&o) : 0;
}

/* A window drops the chains wholly outside it (down to their end points) without changing
 * what the ring covers inside the window. */
static void test_window(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    static rings r;
    split_square(&r);
    wg_topo *t = build(ctx, &r);
    static const double wins[][4] = {{40, 40, 60, 60}, {0, 0, 10, 10},       {45, -5, 55, 5},
                                     {90, 90, 95, 95}, {-10, -10, 110, 110}, {200, 200, 300, 300}};
    for (size_t k = 0; k < sizeof wins / sizeof *wins; k++)
        for (size_t ring = 0; ring < 3; ring++)
            for (double tol = -1; tol <= 4; tol += 2.5) {
                wg_xy_buf all = {0}, win = {0};
                assert_int_equal(WG_OK, wg_topo_ring_xy(t, ring, tol, NULL, &all));
                assert_int_equal(WG_OK, wg_topo_ring_xy(t, ring, tol, wins[k], &win));
                assert_true(win.n <= all.n);
                assert_near(clipped_area(&all, wins[k]), clipped_area(&win, wins[k]), 1e-9);
                if (k == 5) assert_true(win.n <= 3); /* far away: ends only */
                wg_xy_buf_free(&all);
                wg_xy_buf_free(&win);
            }
    wg_topo_free(t);
    wg_ctx_free(ctx);
}

/* A ring touching nothing is one closed chain: it keeps three distinct points at any
 * tolerance. Its twin (the same ring, e.g. a community with a single grid, drawn backwards)
 * uses the same chain. */
static void test_closed_ring(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    static rings r;
    memset(&r, 0, sizeof r);
    ring_begin(&r);
    for (int i = 0; i <= 100; i++)
        ring_pt(&r, 10 * cos(i * 2 * TU_PI / 100), 10 * sin(i * 2 * TU_PI / 100));
    ring_end(&r);
    ring_begin(&r);
    for (int i = 100; i >= 0; i--)
        ring_pt(&r, 10 * cos(i * 2 * TU_PI / 100), 10 * sin(i * 2 * TU_PI / 100));
    ring_end(&r);
    wg_topo *t = build(ctx, &r);
    assert_int_equal(1, wg_topo_chains(t));
    for (double tol = 0.001; tol < 1e6; tol *= 10) {
        wg_xy_buf b = {0};
        assert_int_equal(WG_OK, wg_topo_ring_xy(t, 0, tol, NULL, &b));
        assert_true(b.n >= 3);
        assert_true(fabs(area(&b)) > 0);
        size_t n0 = b.n;
        double a0 = area(&b);
        b.n = 0;
        assert_int_equal(WG_OK, wg_topo_ring_xy(t, 1, tol, NULL, &b));
        assert_int_equal(n0, b.n);
        assert_near(-a0, area(&b), 1e-9);
        wg_xy_buf_free(&b);
    }
    wg_topo_free(t);
    wg_ctx_free(ctx);
}

/* Degenerate input: repeated points are dropped; a ring of fewer than 3 distinct points is
 * an empty ring (its number kept); a spike and an empty input do not break the build. */
static void test_degenerate(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    static rings r;
    memset(&r, 0, sizeof r);
    ring_begin(&r); /* repeated points and closing repeat */
    ring_pt(&r, 0, 0);
    ring_pt(&r, 0, 0);
    ring_pt(&r, 1, 0);
    ring_pt(&r, 1, 1);
    ring_pt(&r, 1, 1);
    ring_pt(&r, 0, 0);
    ring_end(&r);
    ring_begin(&r); /* a line: 2 distinct points */
    ring_pt(&r, 5, 5);
    ring_pt(&r, 6, 6);
    ring_pt(&r, 5, 5);
    ring_end(&r);
    ring_begin(&r); /* a square with a spike */
    ring_pt(&r, 10, 0);
    ring_pt(&r, 11, 0);
    ring_pt(&r, 13, 0);
    ring_pt(&r, 11, 0);
    ring_pt(&r, 11, 1);
    ring_pt(&r, 10, 1);
    ring_end(&r);
    wg_topo *t = build(ctx, &r);
    wg_xy_buf b = {0};
    assert_int_equal(WG_OK, wg_topo_ring_xy(t, 0, -1, NULL, &b));
    assert_int_equal(3, b.n);
    b.n = 0;
    assert_int_equal(WG_OK, wg_topo_ring_xy(t, 1, -1, NULL, &b));
    assert_int_equal(0, b.n);
    b.n = 0;
    assert_int_equal(WG_OK, wg_topo_ring_xy(t, 2, -1, NULL, &b));
    assert_int_equal(6, b.n);
    assert_near(1.0, fabs(area(&b)), 1e-12);
    wg_xy_buf_free(&b);
    wg_topo_free(t);
    size_t none = 0;
    assert_int_equal(WG_OK, wg_topo_build(ctx, NULL, &none, 0, &t));
    assert_int_equal(0, wg_topo_chains(t));
    wg_topo_free(t);
    wg_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_edge), cmocka_unit_test(test_tjunction),
        cmocka_unit_test(test_simplify),    cmocka_unit_test(test_window),
        cmocka_unit_test(test_closed_ring), cmocka_unit_test(test_degenerate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
