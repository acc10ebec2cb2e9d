/* Redraws (lib/src/redraw.c, redraw_diff.c, redraw_input.c, hungarian.c, and the generation
 * switch in publish.c and store.c): codes kept across edits (unchanged, shifted, split,
 * merged, never reissued), the Hungarian method against brute force, the diff against an
 * independent point-in-polygon pass with GEOS prepared geometries, rows outside the edited
 * community left alone, rollback and drafts made after it, discard, and refused publishes.
 *
 * The layout (lon 114.40-114.44, lat 22.60-22.62), one district 440307006:
 *
 *   22.62 +-------+-------+---------------+---------------+
 *         |  001  |  002  |               |               |
 *   22.61 +-------+-------+      001      |      002      |     community 001 = west half,
 *         |  003  |  004  |               |               |     community 002 = east half
 *   22.60 +-------+-------+---------------+---------------+
 *      114.40  114.41  114.42          114.43          114.44
 *
 * Addresses on a 0.001° lattice offset by half a step (never on an edge), households from a
 * formula with more in the south-east of community 001. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hungarian.h"
#include "internal.h"
#include "store_schema.h"
#include "testutil.h"
#include "wangge/redraw.h"
#include "wangge/store.h"
#include "wangge/validate.h"

#define D "440307006"
#define C1 "440307006001"
#define C2 "440307006002"
#define G(c, s) c s

static const tu_rect DISTRICTS[] = {{D, 114.40, 22.60, 114.44, 22.62, "\"name\":\"葵涌\""}};
static const tu_rect COMMUNITIES[] = {{C1, 114.40, 22.60, 114.42, 22.62, "\"name\":\"葵新\""},
                                      {C2, 114.42, 22.60, 114.44, 22.62, "\"name\":\"三溪\""}};
static const tu_rect GRIDS[] = {{C1 "001", 114.40, 22.61, 114.41, 22.62, "\"name\":\"NW\""},
                                {C1 "002", 114.41, 22.61, 114.42, 22.62, "\"name\":\"NE\""},
                                {C1 "003", 114.40, 22.60, 114.41, 22.61, "\"name\":\"SW\""},
                                {C1 "004", 114.41, 22.60, 114.42, 22.61, "\"name\":\"SE\""},
                                {C2 "001", 114.42, 22.60, 114.43, 22.62, NULL},
                                {C2 "002", 114.43, 22.60, 114.44, 22.62, NULL}};
#define NGRIDS (sizeof GRIDS / sizeof GRIDS[0])

/* Address lattice: i = 0..39 west to east, j = 0..19 south to north. */
#define NI 40
#define NJ 20
static double addr_lon(int i)
{
    return 114.4005 + 0.001 * i;
}
static double addr_lat(int j)
{
    return 22.6005 + 0.001 * j;
}
static int addr_hh(int i, int j)
{
    int hh = 1 + (i * 7 + j * 3) % 5;
    if (i >= 10 && i < 20 && j < 10) hh += 3; /* grid 004 is the heaviest of community 001 */
    return hh;
}

typedef struct city {
    wg_ctx *ctx;
    char *path;
} city;

static int64_t publish(wg_ctx *ctx)
{
    int64_t gen = 0;
    wg_report *r = NULL;
    int rc = wg_gen_publish(ctx, 1.0, 0, &gen, &r);
    if (rc != WG_OK) {
        print_error("publish: %s\n", wg_errmsg(ctx));
        if (r) wg_report_print(r, stderr);
    }
    wg_report_free(r);
    assert_int_equal(WG_OK, rc);
    return gen;
}

static void build(city *c)
{
    c->ctx = tu_open_store(&c->path);
    tu_import_rects(c->ctx, 1, DISTRICTS, 1, 0);
    tu_import_rects(c->ctx, 2, COMMUNITIES, 2, 0);
    tu_import_rects(c->ctx, 3, GRIDS, NGRIDS, 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    fputs("lon,lat,households\n", m);
    for (int j = 0; j < NJ; j++)
        for (int i = 0; i < NI; i++)
            fprintf(m, "%.4f,%.4f,%d\n", addr_lon(i), addr_lat(j), addr_hh(i, j));
    fclose(m);
    assert_int_equal(NI * NJ, tu_import_points(c->ctx, buf, 0));
    free(buf);
    assert_int_equal(3, tu_import_points(c->ctx,
                                         "lon,lat,category,time\n"
                                         "114.4015,22.6155,0101,2024-05-01\n"
                                         "114.4095,22.6185,0101,2024-05-01\n"
                                         "114.4305,22.6105,0202,2024-05-02\n",
                                         1));
    assert_int_equal(1, publish(c->ctx));
}

static void teardown(city *c)
{
    tu_close_store(c->ctx, c->path);
}

/* Households of the lattice inside [x0, x1] x [y0, y1] (no address is on an edge). */
static int households_in(double x0, double y0, double x1, double y1)
{
    int s = 0;
    for (int j = 0; j < NJ; j++)
        for (int i = 0; i < NI; i++)
            if (addr_lon(i) > x0 && addr_lon(i) < x1 && addr_lat(j) > y0 && addr_lat(j) < y1)
                s += addr_hh(i, j);
    return s;
}

/* A rectangle as a GEOS polygon on ctx (caller destroys). */
static GEOSGeometry *rect(wg_ctx *ctx, double x0, double y0, double x1, double y1)
{
    char wkt[256];
    snprintf(wkt, sizeof wkt,
             "POLYGON((%.10g %.10g,%.10g %.10g,%.10g %.10g,%.10g %.10g,%.10g %.10g))", x0, y0, x1,
             y0, x1, y1, x0, y1, x0, y0);
    return tu_wkt(ctx, wkt);
}

static void free_geoms(wg_ctx *ctx, wg_new_unit *u, size_t n)
{
    for (size_t i = 0; i < n; i++)
        GEOSGeom_destroy_r(wg_geos(ctx), (GEOSGeometry *)u[i].geom);
}

static long long q(city *c, const char *sql)
{
    return tu_q_int(c->ctx, sql);
}

/* Rows of a code: "first_gen-last_gen" of each, by id ("1-" for an open row). */
static const char *rows_of(city *c, const char *code, char *out, size_t len)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT group_concat(first_gen || '-' || coalesce(last_gen, ''), ',')"
             " FROM (SELECT * FROM units WHERE code = '%s' ORDER BY id)",
             code);
    return tu_q_text(c->ctx, sql, out, len);
}

/* ---------------------------------------------------------------- Hungarian */

static double brute_best(const double *w, size_t rows, size_t cols)
{
    /* all injections of the smaller side into the larger, by recursion over rows */
    size_t k = rows < cols ? rows : cols;
    double best = -INFINITY;
    int used[8] = {0}, pick[8];
    size_t depth = 0;
    pick[0] = -1;
    /* iterative DFS over rows when rows <= cols, else over columns */
    int by_rows = rows <= cols;
    size_t m = by_rows ? cols : rows;
    while (1) {
        int next = pick[depth] + 1;
        if (next > 0) used[pick[depth]] = 0;
        while (next < (int)m && used[next])
            next++;
        if (next >= (int)m) {
            if (depth == 0) break;
            depth--;
            continue;
        }
        pick[depth] = next;
        used[next] = 1;
        if (depth + 1 == k) {
            double s = 0;
            for (size_t d = 0; d < k; d++)
                s += by_rows ? w[d * cols + (size_t)pick[d]] : w[(size_t)pick[d] * cols + d];
            if (s > best) best = s;
            continue; /* try the next value at this depth */
        }
        depth++;
        pick[depth] = -1;
    }
    return best;
}

static void test_hungarian_matches_brute_force(void **state)
{
    uint64_t s = 0x2545F4914F6CDD1Dull;
    for (int trial = 0; trial < 600; trial++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        size_t rows = 1 + s % 7, cols = 1 + (s >> 8) % 7;
        double w[49];
        for (size_t i = 0; i < rows * cols; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            /* small integers make ties; some trials negative, some sparse like real overlaps */
            int v = (int)(s % 21) - (trial % 3 == 0 ? 10 : 0);
            w[i] = trial % 4 == 1 && (s >> 20) % 3
                       ? 0
                       : v + (trial % 5 == 2 ? (double)(s % 1000) / 997 : 0);
        }
        int32_t match[7];
        assert_int_equal(0, wg_hungarian_max(w, rows, cols, match));
        int seen[7] = {0};
        size_t matched = 0;
        double sum = 0;
        for (size_t r = 0; r < rows; r++) {
            if (match[r] < 0) continue;
            assert_true((size_t)match[r] < cols);
            assert_int_equal(0, seen[match[r]]);
            seen[match[r]] = 1;
            matched++;
            sum += w[r * cols + (size_t)match[r]];
        }
        assert_int_equal(rows < cols ? rows : cols, matched);
        assert_near(sum, brute_best(w, rows, cols), 1e-9);
    }
    /* the worked example of hungarian.c, and an empty side */
    double w2[] = {3, 1, 2, 2};
    int32_t m2[2];
    assert_int_equal(0, wg_hungarian_max(w2, 2, 2, m2));
    assert_int_equal(0, m2[0]);
    assert_int_equal(1, m2[1]);
    assert_int_equal(0, wg_hungarian_max(w2, 2, 0, m2));
    assert_int_equal(-1, m2[0]);
    assert_int_equal(-1, m2[1]);
    /* greedy would take 10 and then be left with 0; the optimum is 9 + 9 */
    double w3[] = {10, 9, 9, 0};
    assert_int_equal(0, wg_hungarian_max(w3, 2, 2, m2));
    assert_int_equal(1, m2[0]);
    assert_int_equal(0, m2[1]);
}

/* ---------------------------------------------------------------- codes */

static void test_unchanged_grids_keep_codes_and_rows(void **state)
{
    city c;
    build(&c);
    long long rows_before = q(&c, "SELECT count(*) FROM units");
    /* community 001's grids again, identical, in another order and as MultiPolygons */
    static const int perm[] = {3, 0, 2, 1};
    wg_new_unit u[4];
    for (int k = 0; k < 4; k++) {
        const tu_rect *g = &GRIDS[perm[k]];
        char wkt[300];
        snprintf(wkt, sizeof wkt,
                 "MULTIPOLYGON(((%.10g %.10g,%.10g %.10g,%.10g %.10g,%.10g %.10g,%.10g %.10g)))",
                 g->x1, g->y0, g->x1, g->y1, g->x0, g->y1, g->x0, g->y0, g->x1,
                 g->y0); /* other start */
        u[k] = (wg_new_unit){tu_wkt(c.ctx, wkt), NULL, NULL};
    }
    char **codes = NULL;
    int rc = wg_draft_replace_children(c.ctx, 3, C1, u, 4, &codes);
    if (rc) print_error("%s\n", wg_errmsg(c.ctx));
    assert_int_equal(WG_OK, rc);
    for (int k = 0; k < 4; k++)
        assert_string_equal(GRIDS[perm[k]].code, codes[k]);
    wg_codes_free(codes, 4);
    free_geoms(c.ctx, u, 4);
    /* nothing was written: the draft holds the very same rows */
    assert_int_equal(rows_before, q(&c, "SELECT count(*) FROM units"));
    assert_int_equal(
        0, q(&c, "SELECT count(*) FROM units WHERE last_gen IS NOT NULL OR first_gen <> 1"));
    assert_int_equal(2, publish(c.ctx));
    wg_diff *d = NULL;
    assert_int_equal(WG_OK, wg_gen_diff(c.ctx, 1, 2, &d));
    assert_int_equal(0, d->nunits);
    assert_int_equal(NGRIDS, d->unchanged[3]);
    assert_int_equal(0, d->naddresses);
    wg_diff_free(d);
    teardown(&c);
}

/* A boundary moved by one block keeps both codes; the other grids keep their rows. */
static void test_shifted_grid_keeps_code(void **state)
{
    city c;
    build(&c);
    wg_new_unit u[4] = {{rect(c.ctx, 114.412, 22.61, 114.42, 22.62), NULL, NULL}, /* was 002 */
                        {rect(c.ctx, 114.41, 22.60, 114.42, 22.61), NULL, NULL},  /* 004 */
                        {rect(c.ctx, 114.40, 22.61, 114.412, 22.62), NULL, NULL}, /* was 001 */
                        {rect(c.ctx, 114.40, 22.60, 114.41, 22.61), NULL, NULL}}; /* 003 */
    char **codes = NULL;
    assert_int_equal(WG_OK, wg_draft_replace_children(c.ctx, 3, C1, u, 4, &codes));
    assert_string_equal(C1 "002", codes[0]);
    assert_string_equal(C1 "004", codes[1]);
    assert_string_equal(C1 "001", codes[2]);
    assert_string_equal(C1 "003", codes[3]);
    wg_codes_free(codes, 4);
    free_geoms(c.ctx, u, 4);
    assert_int_equal(2, publish(c.ctx));
    char r[64];
    assert_string_equal("1-1,2-", rows_of(&c, C1 "001", r, sizeof r));
    assert_string_equal("1-1,2-", rows_of(&c, C1 "002", r, sizeof r));
    assert_string_equal("1-", rows_of(&c, C1 "003", r, sizeof r));
    assert_string_equal("1-", rows_of(&c, C1 "004", r, sizeof r));
    assert_string_equal("1-", rows_of(&c, C2 "001", r, sizeof r));
    /* the old names stay with the codes */
    char name[64];
    assert_string_equal(
        "NW", tu_q_text(c.ctx, "SELECT name FROM units WHERE code = '" C1 "001' AND first_gen = 2",
                        name, sizeof name));
    teardown(&c);
}

/* Households decide, not area: a small corner of 002 holding a block of 500 households keeps
 * the code, the larger rest (by area) gets a new one. */
static void test_code_follows_households_not_area(void **state)
{
    city c;
    build(&c);
    assert_int_equal(1, tu_import_points(c.ctx, "lon,lat,households\n114.4195,22.6195,500\n", 0));
    wg_new_unit u[2] = {
        {tu_wkt(c.ctx, "POLYGON((114.41 22.61,114.42 22.61,114.42 22.618,114.418 22.618,"
                       "114.418 22.62,114.41 22.62,114.41 22.61))"),
         NULL, NULL},
        {rect(c.ctx, 114.418, 22.618, 114.42, 22.62), NULL, NULL}};
    assert_true(households_in(114.418, 22.618, 114.42, 22.62) + 500 >
                households_in(114.41, 22.61, 114.42, 22.62) -
                    households_in(114.418, 22.618, 114.42, 22.62));
    char **codes = NULL;
    assert_int_equal(WG_OK, wg_draft_split(c.ctx, C1 "002", u, 2, &codes));
    assert_string_equal(C1 "005", codes[0]);
    assert_string_equal(C1 "002", codes[1]);
    wg_codes_free(codes, 2);
    free_geoms(c.ctx, u, 2);
    teardown(&c);
}

static void test_split_gives_code_to_most_households(void **state)
{
    city c;
    build(&c);
    /* 001 split: east (6 columns x 10 rows) holds most; the two west parts are new */
    wg_new_unit u[3] = {{rect(c.ctx, 114.40, 22.61, 114.404, 22.615), NULL, NULL},  /* SW part */
                        {rect(c.ctx, 114.404, 22.61, 114.41, 22.62), NULL, NULL},   /* east */
                        {rect(c.ctx, 114.40, 22.615, 114.404, 22.62), NULL, NULL}}; /* NW part */
    int hh[3] = {households_in(114.40, 22.61, 114.404, 22.615),
                 households_in(114.404, 22.61, 114.41, 22.62),
                 households_in(114.40, 22.615, 114.404, 22.62)};
    assert_true(hh[1] > hh[0] && hh[1] > hh[2]);
    char **codes = NULL;
    int rc = wg_draft_split(c.ctx, C1 "001", u, 3, &codes);
    if (rc) print_error("%s\n", wg_errmsg(c.ctx));
    assert_int_equal(WG_OK, rc);
    assert_string_equal(C1 "001", codes[1]);
    assert_string_equal(C1 "005", codes[2]); /* reading order: north first */
    assert_string_equal(C1 "006", codes[0]);
    wg_codes_free(codes, 3);
    free_geoms(c.ctx, u, 3);
    char name[64];
    assert_string_equal(
        "葵新第5网格",
        tu_q_text(c.ctx, "SELECT name FROM units WHERE code = '" C1 "005'", name, sizeof name));
    assert_string_equal(
        "NW", tu_q_text(c.ctx, "SELECT name FROM units WHERE code = '" C1 "001' AND first_gen = 2",
                        name, sizeof name));
    assert_int_equal(2, publish(c.ctx));
    assert_int_equal(8, q(&c, "SELECT count(*) FROM units WHERE level = 3 AND first_gen <= 2 AND "
                              "coalesce(last_gen, 2) >= 2"));

    /* unknown unit, districts, bad geometry */
    GEOSGeometry *bow = tu_wkt(
        c.ctx, "POLYGON((114.40 22.61,114.41 22.62,114.41 22.61,114.40 22.62,114.40 22.61))");
    wg_new_unit bad = {bow, NULL, NULL};
    assert_int_equal(WG_ENOTFOUND, wg_draft_split(c.ctx, C1 "099", &bad, 1, &codes));
    assert_null(codes);
    assert_int_equal(WG_ENOTFOUND, wg_draft_split(c.ctx, D, &bad, 1, &codes));
    assert_int_equal(WG_EDATA, wg_draft_split(c.ctx, C1 "002", &bad, 1, &codes));
    assert_non_null(strstr(wg_errmsg(c.ctx), "not valid"));
    GEOSGeom_destroy_r(wg_geos(c.ctx), bow);
    assert_int_equal(WG_ENOTFOUND, wg_gen_draft(c.ctx, 0, &(int64_t){0})); /* nothing changed */
    teardown(&c);
}

static void test_merge_keeps_code_of_bigger(void **state)
{
    city c;
    build(&c);
    assert_true(households_in(114.41, 22.60, 114.42, 22.61) >
                households_in(114.40, 22.60, 114.41, 22.61));
    const char *both[] = {C1 "003", C1 "004"};
    char *code = NULL;
    assert_int_equal(WG_OK, wg_draft_merge(c.ctx, both, 2, NULL, &code));
    assert_string_equal(C1 "004", code);
    free(code);
    char r[64];
    assert_string_equal(
        "SE", tu_q_text(c.ctx, "SELECT name FROM units WHERE code = '" C1 "004' AND first_gen = 2",
                        r, sizeof r));
    assert_string_equal("1-1", rows_of(&c, C1 "003", r, sizeof r));
    assert_string_equal("1-1,2-", rows_of(&c, C1 "004", r, sizeof r));
    /* the merged grid is the union: one rectangle of 0.02 x 0.01 degrees */
    assert_near((double)q(&c, "SELECT round(area_m2) FROM units WHERE code = '" C1
                              "004' AND first_gen = 2"),
                tu_cell_area_m2(114.40, 22.60, 114.42, 22.61), 1.0);
    assert_int_equal(2, publish(c.ctx));

    /* a name given; non-siblings, repeats, unknown codes */
    const char *north[] = {C1 "001", C1 "002"};
    assert_int_equal(WG_OK, wg_draft_merge(c.ctx, north, 2, "北片", &code));
    assert_string_equal(
        "北片", tu_q_text(c.ctx, "SELECT name FROM units WHERE first_gen = 3", r, sizeof r));
    free(code);
    const char *mixed[] = {C1 "004", C2 "001"}, *twice[] = {C2 "001", C2 "001"},
               *unknown[] = {C2 "001", C2 "009"};
    assert_int_equal(WG_EINVAL, wg_draft_merge(c.ctx, mixed, 2, NULL, &code));
    assert_non_null(strstr(wg_errmsg(c.ctx), "different parents"));
    assert_int_equal(WG_EINVAL, wg_draft_merge(c.ctx, twice, 2, NULL, &code));
    assert_int_equal(WG_ENOTFOUND, wg_draft_merge(c.ctx, unknown, 2, NULL, &code));
    assert_int_equal(WG_EINVAL, wg_draft_merge(c.ctx, mixed, 1, NULL, &code));
    assert_null(code);
    teardown(&c);
}

/* Codes of retired units are never issued again; a given code is kept; conflicts refused. */
static void test_new_codes_never_reuse_retired(void **state)
{
    city c;
    build(&c);
    wg_new_unit halves[2] = {{rect(c.ctx, 114.43, 22.61, 114.44, 22.62), NULL, NULL},
                             {rect(c.ctx, 114.43, 22.60, 114.44, 22.61), NULL, NULL}};
    char **codes = NULL;
    assert_int_equal(WG_OK, wg_draft_split(c.ctx, C2 "002", halves, 2, &codes));
    /* equal households by symmetry? the formula decides; one keeps 002, the other is 003 */
    assert_true((strcmp(codes[0], C2 "002") == 0 && strcmp(codes[1], C2 "003") == 0) ||
                (strcmp(codes[1], C2 "002") == 0 && strcmp(codes[0], C2 "003") == 0));
    wg_codes_free(codes, 2);
    assert_int_equal(2, publish(c.ctx));
    const char *pair[] = {C2 "002", C2 "003"};
    char *code = NULL;
    assert_int_equal(WG_OK, wg_draft_merge(c.ctx, pair, 2, NULL, &code));
    free(code);
    assert_int_equal(3, publish(c.ctx));
    const char *kept;
    assert_int_equal(
        1, q(&c, "SELECT count(*) FROM units WHERE level = 3 AND last_gen IS NULL AND code IN ('" C2
                 "002', '" C2 "003')"));
    char live[32];
    tu_q_text(c.ctx,
              "SELECT code FROM units WHERE level = 3 AND last_gen IS NULL AND code LIKE '" C2
              "%' AND code <> '" C2 "001'",
              live, sizeof live);
    kept = live;
    assert_int_equal(WG_OK, wg_draft_split(c.ctx, kept, halves, 2, &codes));
    /* the retired one of 002/003 is not reissued: the new half is 004 */
    assert_true(strcmp(codes[0], C2 "004") == 0 || strcmp(codes[1], C2 "004") == 0);
    assert_true(strcmp(codes[0], kept) == 0 || strcmp(codes[1], kept) == 0);
    wg_codes_free(codes, 2);

    /* a given code is kept; one used by a sibling outside the edit is refused */
    wg_new_unit named[2] = {{halves[0].geom, "甲", C2 "050"}, {halves[1].geom, NULL, C2 "001"}};
    assert_int_equal(WG_ECONFLICT, wg_draft_split(c.ctx, kept, named, 2, &codes));
    assert_non_null(strstr(wg_errmsg(c.ctx), C2 "001"));
    named[1].code = C2 "050";
    assert_int_equal(WG_ECONFLICT, wg_draft_split(c.ctx, kept, named, 2, &codes));
    /* fresh codes go above the highest ever used, given codes included */
    wg_new_unit quarters[3] = {{rect(c.ctx, 114.42, 22.61, 114.43, 22.62), NULL, NULL},
                               {rect(c.ctx, 114.42, 22.60, 114.43, 22.61), NULL, NULL},
                               {rect(c.ctx, 114.43, 22.60, 114.44, 22.62), NULL, C2 "050"}};
    assert_int_equal(WG_OK, wg_draft_replace_children(c.ctx, 3, C2, quarters, 3, &codes));
    assert_true((strcmp(codes[0], C2 "001") == 0 && strcmp(codes[1], C2 "051") == 0) ||
                (strcmp(codes[1], C2 "001") == 0 && strcmp(codes[0], C2 "051") == 0));
    assert_string_equal(C2 "050", codes[2]);
    free_geoms(c.ctx, quarters, 3);
    wg_codes_free(codes, 3);
    free_geoms(c.ctx, halves, 2);
    teardown(&c);
}

/* A community whose grids have 14-digit codes gets 2-digit sequences. */
static void test_two_digit_sequences(void **state)
{
    city c;
    c.ctx = tu_open_store(&c.path);
    tu_import_rects(c.ctx, 1, DISTRICTS, 1, 0);
    tu_import_rects(c.ctx, 2, COMMUNITIES, 2, 0);
    static const tu_rect g14[] = {{C1 "01", 114.40, 22.60, 114.42, 22.62, NULL},
                                  {C2 "01", 114.42, 22.60, 114.44, 22.62, NULL}};
    tu_import_rects(c.ctx, 3, g14, 2, 0);
    assert_int_equal(1, publish(c.ctx));
    wg_new_unit u[2] = {{rect(c.ctx, 114.40, 22.61, 114.42, 22.62), NULL, NULL},
                        {rect(c.ctx, 114.40, 22.60, 114.42, 22.61), NULL, NULL}};
    char **codes = NULL;
    assert_int_equal(WG_OK, wg_draft_split(c.ctx, C1 "01", u, 2, &codes));
    /* no households: area decides (equal), then the first; the other is 02 */
    assert_int_equal(14, strlen(codes[0]));
    assert_int_equal(14, strlen(codes[1]));
    assert_true(strcmp(codes[0], C1 "02") == 0 || strcmp(codes[1], C1 "02") == 0);
    wg_codes_free(codes, 2);
    free_geoms(c.ctx, u, 2);
    assert_int_equal(2, publish(c.ctx));
    teardown(&c);
}

static void test_replace_children_errors(void **state)
{
    city c;
    build(&c);
    wg_new_unit u = {rect(c.ctx, 114.40, 22.60, 114.42, 22.62), NULL, NULL};
    char **codes = (char **)&u; /* must be reset to NULL */
    assert_int_equal(WG_EINVAL, wg_draft_replace_children(c.ctx, 1, D, &u, 1, &codes));
    assert_null(codes);
    assert_int_equal(WG_EINVAL, wg_draft_replace_children(c.ctx, 3, C1, &u, 0, &codes));
    assert_int_equal(WG_ENOTFOUND, wg_draft_replace_children(c.ctx, 3, C1 "7", &u, 1, &codes));
    assert_non_null(strstr(wg_errmsg(c.ctx), "no community " C1 "7"));
    GEOSGeometry *line = tu_wkt(c.ctx, "LINESTRING(114.40 22.60,114.42 22.62)");
    wg_new_unit l = {line, NULL, NULL};
    assert_int_equal(WG_EDATA, wg_draft_replace_children(c.ctx, 3, C1, &l, 1, &codes));
    GEOSGeom_destroy_r(wg_geos(c.ctx), line);
    /* nothing of the refused edits stayed: not even a draft */
    int64_t id;
    assert_int_equal(WG_ENOTFOUND, wg_gen_draft(c.ctx, 0, &id));
    /* inside a caller's transaction it is a savepoint: the caller's rollback undoes it */
    assert_int_equal(WG_OK, wg_exec(c.ctx, "BEGIN"));
    assert_int_equal(WG_OK, wg_draft_replace_children(c.ctx, 3, C1, &u, 1, &codes));
    assert_string_equal(C1 "004", codes[0]); /* the heaviest of the four */
    wg_codes_free(codes, 1);
    assert_int_equal(WG_OK, wg_exec(c.ctx, "ROLLBACK"));
    assert_int_equal(WG_ENOTFOUND, wg_gen_draft(c.ctx, 0, &id));
    GEOSGeom_destroy_r(wg_geos(c.ctx), (GEOSGeometry *)u.geom);
    teardown(&c);
}

/* ---------------------------------------------------------------- diff */

/* Independent placement: the grid codes of a generation whose prepared geometry contains the
 * point (the lattice is never on an edge, so at most one); NULL outside. */
typedef struct prepared {
    wg_unit_set *set;
    const GEOSPreparedGeometry **p;
    size_t b, e;
} prepared;

static void prepare(wg_ctx *ctx, int64_t gen, prepared *out)
{
    assert_int_equal(WG_OK, wg_units_load(ctx, gen, 1u << 3, &out->set));
    out->b = out->set->level_begin[3];
    out->e = out->set->level_begin[4];
    out->p = calloc(out->set->n, sizeof *out->p);
    for (size_t i = out->b; i < out->e; i++)
        out->p[i] = GEOSPrepare_r(wg_geos(ctx), out->set->units[i].geom);
}

static const char *place(wg_ctx *ctx, const prepared *p, double lon, double lat)
{
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(wg_geos(ctx), lon, lat);
    const char *hit = NULL;
    int hits = 0;
    for (size_t i = p->b; i < p->e; i++)
        if (GEOSPreparedContains_r(wg_geos(ctx), p->p[i], pt) == 1) {
            hit = p->set->units[i].code;
            hits++;
        }
    GEOSGeom_destroy_r(wg_geos(ctx), pt);
    assert_true(hits <= 1);
    return hit;
}

static void unprepare(wg_ctx *ctx, prepared *p)
{
    for (size_t i = p->b; i < p->e; i++)
        GEOSPreparedGeom_destroy_r(wg_geos(ctx), p->p[i]);
    free(p->p);
    wg_unit_set_free(ctx, p->set);
}

static int same_code(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Checks d's address moves and grid households against the independent pass. */
static void check_diff(city *c, const wg_diff *d)
{
    prepared pa, pb;
    prepare(c->ctx, d->from, &pa);
    prepare(c->ctx, d->to, &pb);
    size_t k = 0;
    int64_t id = 0, moved_hh = 0;
    for (int j = 0; j < NJ; j++) {
        for (int i = 0; i < NI; i++) {
            id++; /* ids follow the import order */
            const char *a = place(c->ctx, &pa, addr_lon(i), addr_lat(j)),
                       *b = place(c->ctx, &pb, addr_lon(i), addr_lat(j));
            assert_non_null(a);
            assert_non_null(b);
            if (same_code(a, b)) continue;
            assert_true(k < d->naddresses);
            assert_int_equal(id, d->addresses[k].id);
            assert_string_equal(a, d->addresses[k].from_code);
            assert_string_equal(b, d->addresses[k].to_code);
            assert_int_equal(addr_hh(i, j), d->addresses[k].households);
            moved_hh += addr_hh(i, j);
            k++;
        }
    }
    assert_int_equal(k, d->naddresses);
    assert_int_equal(moved_hh, d->households_moved);
    assert_int_equal(NI * NJ, d->addresses_total);
    /* households per grid, both generations */
    for (size_t x = 0; x < d->nbalance; x++) {
        const wg_diff_balance *bl = &d->balance[x];
        if (bl->level != 3) continue;
        int64_t hf = 0, ht = 0;
        for (int j = 0; j < NJ; j++)
            for (int i = 0; i < NI; i++) {
                if (same_code(place(c->ctx, &pa, addr_lon(i), addr_lat(j)), bl->code))
                    hf += addr_hh(i, j);
                if (same_code(place(c->ctx, &pb, addr_lon(i), addr_lat(j)), bl->code))
                    ht += addr_hh(i, j);
            }
        assert_int_equal(hf, bl->households_from);
        assert_int_equal(ht, bl->households_to);
    }
    unprepare(c->ctx, &pa);
    unprepare(c->ctx, &pb);
}

static void test_diff_lists_exactly_the_moved_addresses(void **state)
{
    city c;
    build(&c);
    /* workers: one whose home grid will be redrawn, one whose position moves, one untouched */
    char *w = tu_write_named(".csv", "id,name,role,home_grid,lon,lat,on_duty\n"
                                     "W1,甲,grid_worker," C1 "001,114.4115,22.6155,1\n"
                                     "W2,乙,grid_worker," C1 "003,114.4055,22.6055,1\n"
                                     "W3,丙,grid_worker," C2 "001,114.4255,22.6055,1\n");
    wg_import_stats st;
    assert_int_equal(WG_OK, wg_import_workers(c.ctx, w, NULL, &st));
    tu_remove_temp(w);
    /* shift the 001/002 edge east and split 003 */
    wg_new_unit u[4] = {{rect(c.ctx, 114.40, 22.61, 114.413, 22.62), NULL, NULL},
                        {rect(c.ctx, 114.413, 22.61, 114.42, 22.62), NULL, NULL},
                        {rect(c.ctx, 114.40, 22.60, 114.41, 22.61), NULL, NULL},
                        {rect(c.ctx, 114.41, 22.60, 114.42, 22.61), NULL, NULL}};
    assert_int_equal(WG_OK, wg_draft_replace_children(c.ctx, 3, C1, u, 4, NULL));
    wg_new_unit parts[2] = {{rect(c.ctx, 114.40, 22.60, 114.4033, 22.61), NULL, NULL},
                            {rect(c.ctx, 114.4033, 22.60, 114.41, 22.61), NULL, NULL}};
    assert_int_equal(WG_OK, wg_draft_split(c.ctx, C1 "003", parts, 2, NULL));
    free_geoms(c.ctx, u, 4);
    free_geoms(c.ctx, parts, 2);

    wg_diff *d = NULL;
    int rc = wg_gen_diff(c.ctx, 0, 0, &d);
    if (rc) print_error("%s\n", wg_errmsg(c.ctx));
    assert_int_equal(WG_OK, rc);
    assert_int_equal(1, d->from);
    assert_int_equal(2, d->to);
    assert_true(d->naddresses > 20);
    check_diff(&c, d);
    /* units: 001, 002, 003 changed; 005 added (the west sliver of 003) */
    assert_int_equal(4, d->nunits);
    assert_int_equal(WG_UNIT_CHANGED, d->units[0].change);
    assert_string_equal(C1 "001", d->units[0].code);
    assert_true(d->units[0].geometry_changed);
    assert_string_equal(C1 "003", d->units[2].code);
    assert_int_equal(WG_UNIT_ADDED, d->units[3].change);
    assert_string_equal(C1 "005", d->units[3].code);
    assert_int_equal(1 + 2, d->unchanged[1] + d->unchanged[2]);
    assert_int_equal(3, d->unchanged[3]); /* 004 and both of community 002 */
    /* events: the one at 114.4015,22.6155 stays in 001; at 114.4095,22.6185 stays; none move */
    assert_int_equal(3, d->events_total);
    assert_int_equal(0, d->nevents);
    /* workers: W1's home redrawn and its position moved 002 -> 001; W2's home redrawn */
    assert_int_equal(2, d->nworkers);
    assert_string_equal("W1", d->workers[0].id);
    assert_int_equal(WG_WORKER_HOME_CHANGED | WG_WORKER_MOVED, d->workers[0].reasons);
    assert_string_equal(C1 "002", d->workers[0].position_from);
    assert_string_equal(C1 "001", d->workers[0].position_to);
    assert_string_equal("W2", d->workers[1].id);
    assert_int_equal(WG_WORKER_HOME_CHANGED, d->workers[1].reasons);
    /* communities keep their households */
    for (size_t x = 0; x < d->nbalance; x++)
        if (d->balance[x].level == 2)
            assert_int_equal(d->balance[x].households_from, d->balance[x].households_to);
    char *json = wg_diff_json(d);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"added\":[{\"level\":\"grid\",\"code\":\"" C1 "005\""));
    assert_non_null(strstr(json, "\"unchanged\":{\"district\":1,\"community\":2,\"grid\":3}"));
    assert_non_null(strstr(json, "\"home_changed\":true"));
    free(json);
    wg_diff_free(d);

    /* after publishing, the stored assignments of the new generation agree with the diff */
    assert_int_equal(2, publish(c.ctx));
    assert_int_equal(WG_OK, wg_gen_diff(c.ctx, 1, 2, &d));
    for (size_t k = 0; k < d->naddresses; k++) {
        char sql[200], got[32];
        snprintf(sql, sizeof sql,
                 "SELECT grid_code FROM assignments WHERE generation = 2 AND kind = 'address' AND "
                 "item_id = %lld",
                 (long long)d->addresses[k].id);
        assert_string_equal(d->addresses[k].to_code, tu_q_text(c.ctx, sql, got, sizeof got));
    }
    wg_diff_free(d);
    assert_int_equal(WG_ENOTFOUND, wg_gen_diff(c.ctx, 0, 0, &d)); /* no draft now */
    assert_int_equal(WG_ENOTFOUND, wg_gen_diff(c.ctx, 1, 9, &d));
    assert_null(d);
    teardown(&c);
}

/* Redrawing community 001 leaves every row and every address of community 002 alone. */
static void test_redraw_touches_nothing_outside(void **state)
{
    city c;
    build(&c);
    char before[512], after[512];
    const char *sql =
        "SELECT group_concat(id || ':' || code || ':' || first_gen || ':' || coalesce(last_gen, "
        "''))"
        " FROM (SELECT * FROM units WHERE level < 3 OR parent_code <> '" C1 "' ORDER BY id)";
    tu_q_text(c.ctx, sql, before, sizeof before);
    wg_new_unit u[3] = {{rect(c.ctx, 114.40, 22.61, 114.42, 22.62), NULL, NULL},
                        {rect(c.ctx, 114.40, 22.60, 114.405, 22.61), NULL, NULL},
                        {rect(c.ctx, 114.405, 22.60, 114.42, 22.61), NULL, NULL}};
    assert_int_equal(WG_OK, wg_draft_replace_children(c.ctx, 3, C1, u, 3, NULL));
    free_geoms(c.ctx, u, 3);
    assert_int_equal(2, publish(c.ctx));
    tu_q_text(c.ctx, sql, after, sizeof after);
    assert_string_equal(before, after);
    wg_diff *d = NULL;
    assert_int_equal(WG_OK, wg_gen_diff(c.ctx, 1, 2, &d));
    check_diff(&c, d);
    for (size_t k = 0; k < d->naddresses; k++) {
        assert_int_equal(0, strncmp(d->addresses[k].from_code, C1, strlen(C1)));
        assert_int_equal(0, strncmp(d->addresses[k].to_code, C1, strlen(C1)));
    }
    wg_diff_free(d);
    /* and stored assignments outside community 001 are the same in both generations */
    assert_int_equal(0, q(&c,
                          "SELECT count(*) FROM assignments a JOIN assignments b ON a.kind = b.kind"
                          " AND a.item_id = b.item_id WHERE a.generation = 1 AND b.generation = 2"
                          " AND (a.grid_code NOT LIKE '" C1 "%' OR b.grid_code NOT LIKE '" C1 "%')"
                          " AND a.grid_code IS NOT b.grid_code"));
    assert_int_equal(NI * NJ + 3, q(&c, "SELECT count(*) FROM assignments WHERE generation = 2"));
    teardown(&c);
}

/* ---------------------------------------------------------------- generations */

/* "code=wkt;..." of a generation's units, for comparing generations. */
static char *units_text(city *c, int64_t gen)
{
    wg_unit_set *set;
    assert_int_equal(WG_OK, wg_units_load(c->ctx, gen, 0, &set));
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    GEOSWKTWriter *w = GEOSWKTWriter_create_r(wg_geos(c->ctx));
    GEOSWKTWriter_setRoundingPrecision_r(wg_geos(c->ctx), w, 7);
    for (size_t i = 0; i < set->n; i++) {
        GEOSGeometry *g = GEOSGeom_clone_r(wg_geos(c->ctx), set->units[i].geom);
        GEOSNormalize_r(wg_geos(c->ctx), g);
        char *t = GEOSWKTWriter_write_r(wg_geos(c->ctx), w, g);
        fprintf(m, "%s|%s|%s=%s;", set->units[i].code, set->units[i].name ? set->units[i].name : "",
                set->units[i].parent_code ? set->units[i].parent_code : "", t);
        GEOSFree_r(wg_geos(c->ctx), t);
        GEOSGeom_destroy_r(wg_geos(c->ctx), g);
    }
    GEOSWKTWriter_destroy_r(wg_geos(c->ctx), w);
    fclose(m);
    wg_unit_set_free(c->ctx, set);
    return buf;
}

static wg_gen_status status_of(city *c, int64_t gen)
{
    wg_gen_status s;
    assert_int_equal(WG_OK, wg_gen_get_status(c->ctx, gen, &s));
    return s;
}

static void test_rollback_and_drafts_after_it(void **state)
{
    city c;
    build(&c);
    int64_t id = 0;
    assert_int_equal(WG_ENOTFOUND, wg_gen_rollback(c.ctx, &id)); /* nothing before 1 */
    char *g1 = units_text(&c, 1);
    /* 2: shift; 3: split */
    wg_new_unit u[4] = {{rect(c.ctx, 114.40, 22.61, 114.412, 22.62), NULL, NULL},
                        {rect(c.ctx, 114.412, 22.61, 114.42, 22.62), NULL, NULL},
                        {rect(c.ctx, 114.40, 22.60, 114.41, 22.61), NULL, NULL},
                        {rect(c.ctx, 114.41, 22.60, 114.42, 22.61), NULL, NULL}};
    assert_int_equal(WG_OK, wg_draft_replace_children(c.ctx, 3, C1, u, 4, NULL));
    assert_int_equal(2, publish(c.ctx));
    char *g2 = units_text(&c, 2);
    wg_new_unit parts[2] = {{rect(c.ctx, 114.42, 22.61, 114.43, 22.62), NULL, NULL},
                            {rect(c.ctx, 114.42, 22.60, 114.43, 22.61), NULL, NULL}};
    assert_int_equal(WG_OK, wg_draft_split(c.ctx, C2 "001", parts, 2, NULL));
    assert_int_equal(3, publish(c.ctx));
    char *g3 = units_text(&c, 3);
    assert_string_not_equal(g1, g2);
    assert_string_not_equal(g2, g3);

    assert_int_equal(WG_OK, wg_gen_rollback(c.ctx, &id));
    assert_int_equal(2, id);
    assert_int_equal(WG_GEN_ACTIVE, status_of(&c, 2));
    assert_int_equal(WG_GEN_RETIRED, status_of(&c, 3));
    assert_int_equal(WG_OK, wg_gen_rollback(c.ctx, &id));
    assert_int_equal(1, id);
    assert_int_equal(1, q(&c, "SELECT count(*) FROM generations WHERE status = 'active'"));
    assert_int_equal(WG_ENOTFOUND, wg_gen_rollback(c.ctx, &id));
    assert_non_null(strstr(wg_errmsg(c.ctx), "no earlier generation"));
    assert_int_equal(NI * NJ + 3, q(&c, "SELECT count(*) FROM assignments WHERE generation = 1"));

    /* a draft made now holds exactly generation 1; generations 2 and 3 are untouched */
    int64_t draft;
    assert_int_equal(WG_OK, wg_gen_draft(c.ctx, 1, &draft));
    assert_int_equal(4, draft);
    char *g4 = units_text(&c, 4);
    assert_string_equal(g1, g4);
    free(g4);
    char *t;
    assert_string_equal(g2, t = units_text(&c, 2));
    free(t);
    assert_string_equal(g3, t = units_text(&c, 3));
    free(t);
    wg_diff *d = NULL;
    assert_int_equal(WG_OK, wg_gen_diff(c.ctx, 0, 0, &d));
    assert_int_equal(0, d->nunits + d->naddresses + d->nevents);
    wg_diff_free(d);

    /* discard: the draft goes, every generation keeps its units, a new draft is generation 1 again
     */
    assert_int_equal(WG_OK, wg_draft_discard(c.ctx, &id));
    assert_int_equal(4, id);
    assert_int_equal(WG_ENOTFOUND, wg_draft_discard(c.ctx, &id));
    assert_string_equal(g2, t = units_text(&c, 2));
    free(t);
    assert_string_equal(g3, t = units_text(&c, 3));
    free(t);
    assert_string_equal(g1, t = units_text(&c, 1));
    free(t);

    /* an edit on the new draft, published; rollback skips the generations rolled back from */
    assert_int_equal(WG_OK, wg_draft_split(c.ctx, C2 "001", parts, 2, NULL));
    assert_int_equal(4, publish(c.ctx));
    assert_string_equal(g1, t = units_text(&c, 1));
    free(t);
    assert_string_equal(g2, t = units_text(&c, 2));
    free(t);
    assert_int_equal(WG_OK, wg_gen_rollback(c.ctx, &id));
    assert_int_equal(1, id);
    free_geoms(c.ctx, u, 4);
    free_geoms(c.ctx, parts, 2);
    free(g1);
    free(g2);
    free(g3);
    teardown(&c);
}

/* A draft with a gap or an overlap is refused with a report naming the fault; nothing moves. */
static void test_broken_draft_is_not_published(void **state)
{
    city c;
    build(&c);
    wg_new_unit gap[1] = {{rect(c.ctx, 114.40, 22.61, 114.409, 22.62), NULL, NULL}};
    assert_int_equal(WG_OK, wg_draft_split(c.ctx, C1 "001", gap, 1, NULL));
    int64_t gen = 0;
    wg_report *r = NULL;
    assert_int_equal(WG_EFAULTS, wg_gen_publish(c.ctx, 1.0, 0, &gen, &r));
    assert_non_null(strstr(wg_errmsg(c.ctx), "faults: not published"));
    assert_non_null(r);
    assert_int_equal(1, r->n);
    assert_int_equal(WG_FAULT_GAP, r->faults[0].kind);
    assert_string_equal(C1, r->faults[0].code);
    assert_near(r->faults[0].area_m2, tu_cell_area_m2(114.409, 22.61, 114.41, 22.62), 1.0);
    wg_report_free(r);
    assert_int_equal(1, q(&c, "SELECT id FROM generations WHERE status = 'active'"));
    assert_int_equal(0, q(&c, "SELECT count(*) FROM assignments WHERE generation = 2"));

    /* an overlap too, then the fix publishes */
    wg_new_unit over[1] = {{rect(c.ctx, 114.40, 22.61, 114.411, 22.62), NULL, NULL}};
    assert_int_equal(WG_OK, wg_draft_split(c.ctx, C1 "001", over, 1, NULL));
    assert_int_equal(WG_EFAULTS, wg_gen_publish(c.ctx, 1.0, 0, &gen, &r));
    int overlap = 0;
    for (size_t i = 0; i < r->n; i++)
        overlap += r->faults[i].kind == WG_FAULT_OVERLAP;
    assert_int_equal(1, overlap);
    wg_report_free(r);
    wg_new_unit fix[1] = {{rect(c.ctx, 114.40, 22.61, 114.41, 22.62), NULL, NULL}};
    char **codes = NULL;
    assert_int_equal(WG_OK, wg_draft_split(c.ctx, C1 "001", fix, 1, &codes));
    assert_string_equal(C1 "001", codes[0]);
    wg_codes_free(codes, 1);
    assert_int_equal(2, publish(c.ctx));
    free_geoms(c.ctx, gap, 1);
    free_geoms(c.ctx, over, 1);
    free_geoms(c.ctx, fix, 1);
    teardown(&c);
}

/* wg_new_units_read: codes and names read; bad features listed, nothing returned. */
static void test_read_units_from_geojson(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    char *ok = tu_write_named(
        ".geojson",
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"code\":\"X1\",\"name\":\"甲\"},\"geometry\":"
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}},"
        "{\"type\":\"Feature\",\"properties\":{},\"geometry\":"
        "{\"type\":\"MultiPolygon\",\"coordinates\":[[[[2,0],[3,0],[3,1],[2,0]]]]}}]}");
    wg_new_unit *u = NULL;
    size_t n = 0;
    assert_int_equal(WG_OK, wg_new_units_read(ctx, ok, 0, NULL, NULL, &u, &n));
    assert_int_equal(2, n);
    assert_string_equal("X1", u[0].code);
    assert_string_equal("甲", u[0].name);
    assert_null(u[1].code);
    assert_null(u[1].name);
    wg_new_units_free(ctx, u, n);
    char *bad = tu_write_named(
        ".geojson", "{\"type\":\"Feature\",\"properties\":{\"code\":\"B\"},\"geometry\":"
                    "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}");
    tu_issues is = {0};
    assert_int_equal(WG_EDATA, wg_new_units_read(ctx, bad, 0, tu_collect_issue, &is, &u, &n));
    assert_null(u);
    assert_int_equal(0, n);
    tu_expect_issue(&is, 0, 0, "invalid", "B", 0);
    is.n = 0;
    assert_int_equal(WG_OK, wg_new_units_read(ctx, bad, 1, tu_collect_issue, &is, &u, &n));
    assert_int_equal(2,
                     GEOSGetNumGeometries_r(wg_geos(ctx), u[0].geom)); /* the bow tie, repaired */
    wg_new_units_free(ctx, u, n);
    tu_remove_temp(ok);
    tu_remove_temp(bad);
    wg_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hungarian_matches_brute_force),
        cmocka_unit_test(test_unchanged_grids_keep_codes_and_rows),
        cmocka_unit_test(test_shifted_grid_keeps_code),
        cmocka_unit_test(test_code_follows_households_not_area),
        cmocka_unit_test(test_split_gives_code_to_most_households),
        cmocka_unit_test(test_merge_keeps_code_of_bigger),
        cmocka_unit_test(test_new_codes_never_reuse_retired),
        cmocka_unit_test(test_two_digit_sequences),
        cmocka_unit_test(test_replace_children_errors),
        cmocka_unit_test(test_diff_lists_exactly_the_moved_addresses),
        cmocka_unit_test(test_redraw_touches_nothing_outside),
        cmocka_unit_test(test_rollback_and_drafts_after_it),
        cmocka_unit_test(test_broken_draft_is_not_published),
        cmocka_unit_test(test_read_units_from_geojson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
