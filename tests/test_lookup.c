/* Point lookup over a published generation (lib/src/lookup.c, publish.c): a district, two
 * communities and four grids near 114.46 E 22.63 N imported through the API. Answers are
 * checked against the rectangles themselves (boundary rule: east, then north), distances of
 * outside points against geod_inverse to the nearest boundary point, the bulk path against
 * single lookups, and publish's refusal of a draft with faults. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <geodesic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wangge/import.h"
#include "wangge/lookup.h"
#include "wangge/store.h"
#include "wangge/validate.h"


/* ---------------------------------------------------------------- the layout
 *
 *   22.64 +-----------+-----------+      district 440307001 = the whole square
 *         |  G2       |  G4       |      community ...001 = west half, ...002 = east half
 *   22.63 +- - - - - -+- - - - - -+      grids: G1 SW, G2 NW (of ...001), G3 SE, G4 NE
 *         |  G1       |  G3       |
 *   22.62 +-----------+-----------+
 *      114.46      114.47      114.48
 */
typedef tu_rect unit_def;

#define D "440307001"
#define C1 "440307001001"
#define C2 "440307001002"
#define G1 "440307001001001"
#define G2 "440307001001002"
#define G3 "440307001002001"
#define G4 "440307001002002"

static const unit_def DISTRICTS[] = {{D, 114.46, 22.62, 114.48, 22.64, NULL}};
static const unit_def COMMUNITIES[] = {{C1, 114.46, 22.62, 114.47, 22.64, NULL},
                                       {C2, 114.47, 22.62, 114.48, 22.64, NULL}};
static const unit_def GRIDS[] = {{G1, 114.46, 22.62, 114.47, 22.63, NULL},
                                 {G2, 114.46, 22.63, 114.47, 22.64, NULL},
                                 {G3, 114.47, 22.62, 114.48, 22.63, NULL},
                                 {G4, 114.47, 22.63, 114.48, 22.64, NULL}};

typedef struct fixture {
    wg_ctx *ctx;
    char *path;
    struct geod_geodesic wgs84;
} fixture;

/* The layout above, published as generation 1 (it must validate clean). */
static void build(fixture *f)
{
    memset(f, 0, sizeof *f);
    geod_init(&f->wgs84, 6378137.0, 1.0 / 298.257223563);
    f->ctx = wg_ctx_new();
    f->path = tu_temp_path(".sqlite");
    assert_int_equal(WG_OK, wg_store_open(f->ctx, f->path, WG_STORE_CREATE));
    tu_import_rects(f->ctx, WG_LEVEL_DISTRICT, DISTRICTS, 1, 0);
    tu_import_rects(f->ctx, WG_LEVEL_COMMUNITY, COMMUNITIES, 2, 0);
    tu_import_rects(f->ctx, WG_LEVEL_GRID, GRIDS, 4, 0);
    int64_t gen = 0;
    wg_report *rep = NULL;
    assert_int_equal(WG_OK, wg_gen_publish(f->ctx, 1.0, 0, &gen, &rep));
    assert_int_equal(1, gen);
    assert_int_equal(0, rep->n);
    wg_report_free(rep);
}

static void teardown_fixture(fixture *f)
{
    wg_ctx_free(f->ctx);
    tu_remove_store(f->path);
}

static const char *code_of(const wg_lookup *lk, int32_t i)
{
    const wg_unit *u = wg_lookup_unit(lk, i);
    return u ? u->code : "-";
}

/* Looks (lon, lat) up and compares the codes found ("-" for none). */
#define EXPECT(lk, ctx, lon, lat, d, c, g) expect_at(lk, ctx, lon, lat, d, c, g, __LINE__)
static wg_hit expect_at(const wg_lookup *lk, wg_ctx *ctx, double lon, double lat, const char *d,
                        const char *c, const char *g, int line)
{
    wg_hit h;
    wg_lookup_point(lk, ctx, lon, lat, &h);
    if (strcmp(code_of(lk, h.district), d) || strcmp(code_of(lk, h.community), c) ||
        strcmp(code_of(lk, h.grid), g))
        print_error("line %d: (%.10g %.10g) -> %s %s %s, expected %s %s %s\n", line, lon, lat,
                    code_of(lk, h.district), code_of(lk, h.community), code_of(lk, h.grid), d, c,
                    g);
    assert_string_equal(d, code_of(lk, h.district));
    assert_string_equal(c, code_of(lk, h.community));
    assert_string_equal(g, code_of(lk, h.grid));
    return h;
}

static double geod_m(const fixture *f, double lon1, double lat1, double lon2, double lat2)
{
    double s12;
    geod_inverse(&f->wgs84, lat1, lon1, lat2, lon2, &s12, NULL, NULL);
    return s12;
}

/* ---------------------------------------------------------------- tests */

static void test_interior_points(void **state)
{
    fixture f;
    build(&f);
    wg_lookup *lk;
    assert_int_equal(WG_OK, wg_lookup_load(f.ctx, 0, &lk));
    assert_int_equal(1, wg_lookup_generation(lk));
    assert_int_equal(1, wg_lookup_count(lk, WG_LEVEL_DISTRICT));
    assert_int_equal(2, wg_lookup_count(lk, WG_LEVEL_COMMUNITY));
    assert_int_equal(4, wg_lookup_count(lk, WG_LEVEL_GRID));
    assert_int_equal(0, wg_lookup_count(lk, 0));
    assert_null(wg_lookup_unit(lk, -1));
    assert_null(wg_lookup_unit(lk, 7));
    assert_null(wg_lookup_unit(lk, 0)->geom);

    wg_hit h = EXPECT(lk, f.ctx, 114.465, 22.625, D, C1, G1);
    assert_int_equal(-1, h.nearest_grid);
    assert_true(h.dist_m == 0.0);
    EXPECT(lk, f.ctx, 114.461, 22.639, D, C1, G2);
    EXPECT(lk, f.ctx, 114.479, 22.621, D, C2, G3);
    EXPECT(lk, f.ctx, 114.475, 22.635, D, C2, G4);
    wg_lookup_free(lk);
    teardown_fixture(&f);
}

static void test_shared_edges(void **state)
{
    fixture f;
    build(&f);
    wg_lookup *lk;
    assert_int_equal(WG_OK, wg_lookup_load(f.ctx, 0, &lk));
    EXPECT(lk, f.ctx, 114.47, 22.625, D, C2, G3); /* G1 | G3: east */
    EXPECT(lk, f.ctx, 114.47, 22.635, D, C2, G4); /* G2 | G4: east */
    EXPECT(lk, f.ctx, 114.465, 22.63, D, C1, G2); /* G1 / G2: north */
    EXPECT(lk, f.ctx, 114.47, 22.63, D, C2, G4);  /* the vertex all four share */
    EXPECT(lk, f.ctx, 114.46, 22.625, D, C1, G1); /* outer boundary: its own grid */
    EXPECT(lk, f.ctx, 114.48, 22.64, D, C2, G4);  /* outer corner */
    EXPECT(lk, f.ctx, 114.47, 22.62, D, C2, G3);  /* outer vertex of G1 and G3: east */
    /* nothing east or north of these: the first grid (code order) whose boundary holds them */
    EXPECT(lk, f.ctx, 114.47, 22.64, D, C1, G2); /* top vertex of G2 and G4 */
    EXPECT(lk, f.ctx, 114.48, 22.63, D, C2, G3); /* east vertex of G3 and G4 */
    wg_lookup_free(lk);
    teardown_fixture(&f);
}

static void test_outside_nearest_and_distance(void **state)
{
    fixture f;
    build(&f);
    wg_lookup *lk;
    assert_int_equal(WG_OK, wg_lookup_load(f.ctx, 0, &lk));
    static const struct {
        double lon, lat;   /* the point */
        const char *near;  /* nearest grid */
        double blon, blat; /* nearest boundary point of it */
    } cases[] = {
        {114.465, 22.619, G1, 114.465, 22.62},  /* due south of G1 */
        {114.459, 22.619, G1, 114.46, 22.62},   /* south-west of its corner */
        {114.4812, 22.637, G4, 114.48, 22.637}, /* due east of G4 */
        {114.475, 22.6405, G4, 114.475, 22.64}, /* due north of G4 */
        {114.50, 22.70, G4, 114.48, 22.64},     /* far to the north-east */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wg_hit h = EXPECT(lk, f.ctx, cases[i].lon, cases[i].lat, "-", "-", "-");
        assert_string_equal(cases[i].near, code_of(lk, h.nearest_grid));
        assert_near(h.dist_m, geod_m(&f, cases[i].lon, cases[i].lat, cases[i].blon, cases[i].blat),
                    0.5);
    }
    EXPECT(lk, f.ctx, NAN, 22.63, "-", "-", "-");
    EXPECT(lk, f.ctx, 114.47, 22.6400001, "-", "-", "-");
    wg_lookup_free(lk);
    teardown_fixture(&f);
}

/* Expected grid of a point from the rectangles, by the boundary rule: the grid holding
 * (lon + ε, lat + δ); on the east or north side of the layout, where that is outside, the
 * first grid (in code order) whose closed rectangle holds the point. Its community is the
 * parent of the grid. */
static void oracle(double lon, double lat, const char **c, const char **g)
{
    *c = *g = "-";
    if (!(lon >= 114.46 && lon <= 114.48 && lat >= 22.62 && lat <= 22.64)) return;
    if (lon < 114.48 && lat < 22.64) {
        int east = lon >= 114.47, north = lat >= 22.63;
        *g = east ? (north ? G4 : G3) : (north ? G2 : G1);
    } else {
        for (size_t i = 0; i < 4 && !strcmp(*g, "-"); i++)
            if (lon >= GRIDS[i].x0 && lon <= GRIDS[i].x1 && lat >= GRIDS[i].y0 &&
                lat <= GRIDS[i].y1)
                *g = GRIDS[i].code;
    }
    *c = strncmp(*g, C1, 12) == 0 ? C1 : C2;
}

static void test_bulk_equals_single_and_the_rectangles(void **state)
{
    fixture f;
    build(&f);
    wg_lookup *lk;
    assert_int_equal(WG_OK, wg_lookup_load(f.ctx, 0, &lk));
    enum { N = 10000 };
    static const double xs[] = {114.46, 114.465, 114.47, 114.475, 114.48};
    static const double ys[] = {22.62, 22.625, 22.63, 22.635, 22.64};
    double *lon = malloc(N * sizeof *lon), *lat = malloc(N * sizeof *lat);
    wg_hit *bulk = malloc(N * sizeof *bulk);
    uint64_t s = 88172645463325252ull;
    for (int k = 0; k < N; k++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        lon[k] = 114.455 + (double)(s % 1000003) / 1000003 * 0.03;
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        lat[k] = 22.615 + (double)(s % 1000003) / 1000003 * 0.03;
        if (k % 5 == 0) lon[k] = xs[s % 5]; /* on a vertical line of the layout */
        if (k % 7 == 0) lat[k] = ys[(s >> 8) % 5];
    }
    assert_int_equal(WG_OK, wg_lookup_bulk(lk, lon, lat, N, bulk, 2));
    int inside = 0;
    for (int k = 0; k < N; k++) {
        wg_hit one;
        wg_lookup_point(lk, f.ctx, lon[k], lat[k], &one);
        assert_int_equal(one.district, bulk[k].district);
        assert_int_equal(one.community, bulk[k].community);
        assert_int_equal(one.grid, bulk[k].grid);
        assert_int_equal(one.nearest_grid, bulk[k].nearest_grid);
        assert_true(one.dist_m == bulk[k].dist_m);
        const char *c, *g;
        oracle(lon[k], lat[k], &c, &g);
        if (strcmp(g, code_of(lk, one.grid)))
            print_error("(%.17g %.17g): %s, expected %s\n", lon[k], lat[k], code_of(lk, one.grid),
                        g);
        assert_string_equal(g, code_of(lk, one.grid));
        assert_string_equal(g, code_of(lk, wg_lookup_grid(lk, f.ctx, lon[k], lat[k])));
        assert_string_equal(c, code_of(lk, one.community));
        assert_string_equal(strcmp(g, "-") ? D : "-", code_of(lk, one.district));
        if (one.grid < 0) assert_true(one.dist_m > 0 && one.nearest_grid >= 0);
        inside += one.grid >= 0;
    }
    assert_true(inside > N / 3 && inside < N - N / 10); /* both cases really sampled */
    free(lon);
    free(lat);
    free(bulk);
    wg_lookup_free(lk);
    teardown_fixture(&f);
}

static void test_missing_generation(void **state)
{
    fixture f;
    build(&f);
    wg_lookup *lk = (wg_lookup *)1;
    assert_int_equal(WG_ENOTFOUND, wg_lookup_load(f.ctx, 99, &lk));
    assert_null(lk);
    teardown_fixture(&f);

    /* a store with nothing published has no active generation */
    wg_ctx *ctx = wg_ctx_new();
    char *path = tu_temp_path(".sqlite");
    assert_int_equal(WG_OK, wg_store_open(ctx, path, WG_STORE_CREATE));
    lk = (wg_lookup *)1;
    assert_int_equal(WG_ENOTFOUND, wg_lookup_load(ctx, 0, &lk));
    assert_null(lk);
    int64_t gen = 5;
    assert_int_equal(WG_ENOTFOUND, wg_gen_publish(ctx, 1.0, 1, &gen, NULL)); /* no draft */
    assert_int_equal(0, gen);
    int64_t draft;
    assert_int_equal(WG_OK, wg_gen_draft(ctx, 1, &draft));
    assert_int_equal(WG_EDATA, wg_gen_publish(ctx, 1.0, 1, &gen, NULL)); /* empty draft */
    wg_ctx_free(ctx);
    tu_remove_store(path);
}

static void test_community_gap(void **state)
{
    fixture f;
    build(&f);
    /* the grid level again without G4: part of community ...002 has no grid */
    tu_import_rects(f.ctx, WG_LEVEL_GRID, GRIDS, 3, 1);
    int64_t gen = 0, active = 0;
    wg_report *rep = NULL;
    assert_int_equal(WG_EFAULTS, wg_gen_publish(f.ctx, 1.0, 0, &gen, &rep));
    assert_int_equal(0, gen);
    assert_int_equal(1, rep->n);
    assert_int_equal(WG_FAULT_GAP, rep->faults[0].kind);
    assert_string_equal(C2, rep->faults[0].code);
    wg_report_free(rep);
    assert_int_equal(WG_OK, wg_gen_active(f.ctx, &active));
    assert_int_equal(1, active);

    assert_int_equal(WG_OK, wg_gen_publish(f.ctx, 1.0, 1, &gen, NULL));
    assert_int_equal(2, gen);
    wg_lookup *lk;
    assert_int_equal(WG_OK, wg_lookup_load(f.ctx, 0, &lk));
    assert_int_equal(2, wg_lookup_generation(lk));
    assert_int_equal(3, wg_lookup_count(lk, WG_LEVEL_GRID));
    wg_hit h = EXPECT(lk, f.ctx, 114.478, 22.631, D, C2, "-");
    assert_string_equal(G3, code_of(lk, h.nearest_grid));
    assert_near(h.dist_m, geod_m(&f, 114.478, 22.631, 114.478, 22.63), 0.5);
    /* G2's east edge is now the outer boundary of the grids: G2's, and so is its community */
    EXPECT(lk, f.ctx, 114.47, 22.635, D, C1, G2);
    EXPECT(lk, f.ctx, 114.475, 22.63, D, C2, G3); /* G3's north edge: its own */
    wg_lookup_free(lk);

    /* the retired generation still answers when asked for */
    assert_int_equal(WG_OK, wg_lookup_load(f.ctx, 1, &lk));
    EXPECT(lk, f.ctx, 114.478, 22.631, D, C2, G4);
    wg_lookup_free(lk);
    teardown_fixture(&f);
}

static void test_publish_refuses_overlap(void **state)
{
    fixture f;
    build(&f);
    unit_def moved[4];
    memcpy(moved, GRIDS, sizeof moved);
    moved[0].y1 = 22.6305; /* G1 reaches 0.0005° into G2 */
    tu_import_rects(f.ctx, WG_LEVEL_GRID, moved, 4, 1);
    int64_t gen = 0, active = 0, draft = 0;
    wg_report *rep = NULL;
    assert_int_equal(WG_EFAULTS, wg_gen_publish(f.ctx, 1.0, 0, &gen, &rep));
    assert_non_null(rep);
    int overlaps = 0;
    for (size_t i = 0; i < rep->n; i++) {
        if (rep->faults[i].kind != WG_FAULT_OVERLAP) continue;
        overlaps++;
        assert_string_equal(G1, rep->faults[i].code);
        assert_string_equal(G2, rep->faults[i].other);
    }
    assert_int_equal(1, overlaps);
    wg_report_free(rep);
    assert_int_equal(WG_OK, wg_gen_active(f.ctx, &active));
    assert_int_equal(1, active);
    assert_int_equal(WG_OK, wg_gen_draft(f.ctx, 0, &draft));
    assert_int_equal(2, draft);
    wg_lookup *lk;
    assert_int_equal(WG_OK, wg_lookup_load(f.ctx, 0, &lk));
    assert_int_equal(1, wg_lookup_generation(lk));
    EXPECT(lk, f.ctx, 114.465, 22.6302, D, C1, G2);
    wg_lookup_free(lk);

    assert_int_equal(WG_OK, wg_gen_publish(f.ctx, 1.0, 1, &gen, NULL));
    assert_int_equal(2, gen);
    wg_gen_status s;
    assert_int_equal(WG_OK, wg_gen_get_status(f.ctx, 1, &s));
    assert_int_equal(WG_GEN_RETIRED, s);
    assert_int_equal(WG_OK, wg_gen_get_status(f.ctx, 2, &s));
    assert_int_equal(WG_GEN_ACTIVE, s);
    assert_int_equal(WG_ENOTFOUND, wg_gen_draft(f.ctx, 0, &draft));
    teardown_fixture(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interior_points),
        cmocka_unit_test(test_shared_edges),
        cmocka_unit_test(test_outside_nearest_and_distance),
        cmocka_unit_test(test_bulk_equals_single_and_the_rectangles),
        cmocka_unit_test(test_missing_generation),
        cmocka_unit_test(test_community_gap),
        cmocka_unit_test(test_publish_refuses_overlap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
