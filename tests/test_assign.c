/* Assignment runs (lib/src/assign.c) over the four-grid layout of test_lookup.c: counts of a
 * first run against hand counts, a repeated run that changes nothing, new items counted as
 * fresh, and a redraw that moves one grid boundary, where the changed items and the callback's
 * report must be exactly the points the test finds between the old and the new boundary. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <geodesic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"
#include "wangge/assign.h"
#include "wangge/import.h"
#include "wangge/store.h"


/* ---------------------------------------------------------------- the layout
 *
 *   22.64 +-----------+-----------+      district 440307001 = the whole square
 *         |  G2       |  G4       |      community ...001 = west half, ...002 = east half
 *   22.63 +- - - - - -+- - - - - -+      grids: G1 SW, G2 NW (of ...001), G3 SE, G4 NE
 *         |  G1       |  G3       |      the redraw moves the G1/G2 boundary to 22.628
 *   22.62 +-----------+-----------+
 *      114.46      114.47      114.48
 */
typedef tu_rect unit_def;

#define G1 "440307001001001"
#define G2 "440307001001002"
#define G3 "440307001002001"
#define G4 "440307001002002"
#define OLD_EDGE 22.63
#define NEW_EDGE 22.628

static const unit_def DISTRICTS[] = {{"440307001", 114.46, 22.62, 114.48, 22.64, NULL}};
static const unit_def COMMUNITIES[] = {{"440307001001", 114.46, 22.62, 114.47, 22.64, NULL},
                                       {"440307001002", 114.47, 22.62, 114.48, 22.64, NULL}};
static const unit_def GRIDS[] = {{G1, 114.46, 22.62, 114.47, OLD_EDGE, NULL},
                                 {G2, 114.46, OLD_EDGE, 114.47, 22.64, NULL},
                                 {G3, 114.47, 22.62, 114.48, 22.63, NULL},
                                 {G4, 114.47, 22.63, 114.48, 22.64, NULL}};
static const unit_def REDRAWN[] = {{G1, 114.46, 22.62, 114.47, NEW_EDGE, NULL},
                                   {G2, 114.46, NEW_EDGE, 114.47, 22.64, NULL},
                                   {G3, 114.47, 22.62, 114.48, 22.63, NULL},
                                   {G4, 114.47, 22.63, 114.48, 22.64, NULL}};

typedef struct fixture {
    wg_ctx *ctx;
    char *path;
} fixture;

static int64_t publish(fixture *f)
{
    int64_t gen = 0;
    int rc = wg_gen_publish(f->ctx, 1.0, 0, &gen, NULL);
    if (rc != WG_OK) print_error("publish: %s\n", wg_errmsg(f->ctx));
    assert_int_equal(WG_OK, rc);
    return gen;
}

static void build(fixture *f)
{
    f->ctx = wg_ctx_new();
    f->path = tu_temp_path(".sqlite");
    assert_int_equal(WG_OK, wg_store_open(f->ctx, f->path, WG_STORE_CREATE));
    tu_import_rects(f->ctx, WG_LEVEL_DISTRICT, DISTRICTS, 1, 0);
    tu_import_rects(f->ctx, WG_LEVEL_COMMUNITY, COMMUNITIES, 2, 0);
    tu_import_rects(f->ctx, WG_LEVEL_GRID, GRIDS, 4, 0);
    assert_int_equal(1, publish(f));
}

static void teardown_fixture(fixture *f)
{
    wg_ctx_free(f->ctx);
    tu_remove_store(f->path);
}

/* Imports CSV text as addresses (events = 0) or events. */
static void import_csv(fixture *f, const char *text, int events)
{
    tu_import_points(f->ctx, text, events);
}

#define q_int(f, sql) tu_q_int((f)->ctx, (sql))

/* One assignment row as "grid|nearest|dist" with dist rounded to 0.1 m ("" for NULL). */
static void row(fixture *f, int64_t gen, const char *kind, int64_t id, char *out, size_t len,
                double *dist)
{
    sqlite3_stmt *st;
    assert_int_equal(
        SQLITE_OK, sqlite3_prepare_v2(f->ctx->db,
                                      "SELECT coalesce(grid_code, ''), coalesce(nearest_code, ''),"
                                      " dist_m FROM assignments WHERE generation = ? AND kind = ?"
                                      " AND item_id = ?",
                                      -1, &st, NULL));
    sqlite3_bind_int64(st, 1, gen);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, id);
    assert_int_equal(SQLITE_ROW, sqlite3_step(st));
    snprintf(out, len, "%s|%s", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
    *dist = sqlite3_column_type(st, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 2);
    sqlite3_finalize(st);
}

typedef struct change {
    char kind[8];
    int64_t id;
    char old_code[20], new_code[20];
} change;

typedef struct changes {
    change *v;
    size_t n, cap;
} changes;

static void on_change(void *ud, const wg_assign_change *c)
{
    changes *cs = ud;
    if (cs->n == cs->cap) {
        cs->cap = cs->cap ? 2 * cs->cap : 64;
        cs->v = realloc(cs->v, cs->cap * sizeof *cs->v);
    }
    change *x = &cs->v[cs->n++];
    snprintf(x->kind, sizeof x->kind, "%s", c->kind);
    x->id = c->item_id;
    snprintf(x->old_code, sizeof x->old_code, "%s", c->old_code ? c->old_code : "-");
    snprintf(x->new_code, sizeof x->new_code, "%s", c->new_code ? c->new_code : "-");
}

/* ---------------------------------------------------------------- tests */

static const char ADDRESSES[] = "lon,lat,households\n"
                                "114.465,22.625,2\n" /* 1: G1 */
                                "114.475,22.625,3\n" /* 2: G3 */
                                "114.475,22.635,1\n" /* 3: G4 */
                                "114.50,22.633,5\n"  /* 4: outside, nearest G4 */
                                "114.47,22.625,4\n"; /* 5: G1|G3 edge: G3 */
static const char EVENTS[] = "lon,lat,category,time\n"
                             "114.465,22.635,0101,2024-05-01\n" /* 1: G2 */
                             "114.40,22.60,0202,2024-05-02\n";  /* 2: outside, nearest G1 */

static void test_first_and_repeated_runs(void **state)
{
    fixture f;
    build(&f);
    import_csv(&f, ADDRESSES, 0);
    import_csv(&f, EVENTS, 1);
    struct geod_geodesic wgs84;
    geod_init(&wgs84, 6378137.0, 1.0 / 298.257223563);
    changes cs = {0};

    wg_assign_stats st;
    assert_int_equal(WG_OK, wg_assign(f.ctx, 0, 2, on_change, &cs, &st));
    assert_int_equal(1, st.generation);
    assert_int_equal(0, st.previous_generation);
    assert_int_equal(5, st.addresses);
    assert_int_equal(2, st.events);
    assert_int_equal(5, st.assigned);
    assert_int_equal(2, st.outside);
    assert_int_equal(2 + 3 + 1 + 4, st.households_assigned);
    assert_int_equal(0, st.changed);
    assert_int_equal(7, st.fresh);
    assert_int_equal(0, cs.n);

    char r[64];
    double dist, s12;
    row(&f, 1, "address", 1, r, sizeof r, &dist);
    assert_string_equal(G1 "|", r);
    assert_true(isnan(dist));
    row(&f, 1, "address", 5, r, sizeof r, &dist);
    assert_string_equal(G3 "|", r);
    row(&f, 1, "address", 4, r, sizeof r, &dist);
    assert_string_equal("|" G4, r);
    geod_inverse(&wgs84, 22.633, 114.50, 22.633, 114.48, &s12, NULL, NULL);
    assert_near(dist, s12, 0.5);
    row(&f, 1, "event", 1, r, sizeof r, &dist);
    assert_string_equal(G2 "|", r);
    row(&f, 1, "event", 2, r, sizeof r, &dist);
    assert_string_equal("|" G1, r);
    geod_inverse(&wgs84, 22.60, 114.40, 22.62, 114.46, &s12, NULL, NULL); /* G1's SW corner */
    assert_near(dist, s12, 0.5);

    /* the same generation again: nothing changed, nothing new, rows replaced not added */
    assert_int_equal(WG_OK, wg_assign(f.ctx, 0, 1, on_change, &cs, &st));
    assert_int_equal(1, st.previous_generation);
    assert_int_equal(0, st.changed);
    assert_int_equal(0, st.fresh);
    assert_int_equal(5, st.assigned);
    assert_int_equal(0, cs.n);
    assert_int_equal(7, q_int(&f, "SELECT count(*) FROM assignments WHERE generation = 1"));
    assert_int_equal(2, q_int(&f, "SELECT count(*) FROM assign_runs"));
    assert_int_equal(1, q_int(&f, "SELECT assigned = 5 AND outside = 2 AND changed = 0"
                                  " FROM assign_runs WHERE id = 2"));

    /* one new address is fresh, not changed */
    import_csv(&f, "lon,lat\n114.461,22.621\n", 0);
    assert_int_equal(WG_OK, wg_assign(f.ctx, 1, 0, on_change, &cs, &st));
    assert_int_equal(1, st.fresh);
    assert_int_equal(0, st.changed);
    assert_int_equal(6, st.assigned);
    assert_int_equal(2 + 3 + 1 + 4 + 1, st.households_assigned);
    assert_int_equal(0, cs.n);
    free(cs.v);
    teardown_fixture(&f);
}

static void test_failures_store_nothing(void **state)
{
    fixture f;
    build(&f);
    import_csv(&f, ADDRESSES, 0);
    wg_assign_stats st;
    assert_int_equal(WG_ENOTFOUND, wg_assign(f.ctx, 99, 1, NULL, NULL, &st));
    assert_int_equal(0, q_int(&f, "SELECT count(*) FROM assign_runs"));
    assert_int_equal(0, q_int(&f, "SELECT count(*) FROM assignments"));
    teardown_fixture(&f);

    /* nothing published */
    wg_ctx *ctx = wg_ctx_new();
    char *path = tu_temp_path(".sqlite");
    assert_int_equal(WG_OK, wg_store_open(ctx, path, WG_STORE_CREATE));
    assert_int_equal(WG_ENOTFOUND, wg_assign(ctx, 0, 1, NULL, NULL, &st));
    wg_ctx_free(ctx);
    tu_remove_store(path);
}

static void test_empty_run(void **state)
{
    fixture f;
    build(&f);
    wg_assign_stats st;
    assert_int_equal(WG_OK, wg_assign(f.ctx, 0, 2, NULL, NULL, &st));
    assert_int_equal(0, st.addresses + st.events + st.assigned + st.outside + st.fresh);
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM assign_runs"));
    teardown_fixture(&f);
}

/* Grid of a point of the west half strictly inside the district, with the G1/G2 edge at
 * `edge` (a point on it belongs to the grid north of it). */
static const char *west_grid(double lat, double edge)
{
    return lat >= edge ? G2 : G1;
}

enum { NA = 300, NE = 60 };

/* Writes n pseudo-random points strictly inside the district, 5 decimals, as CSV rows, and
 * keeps the coordinates exactly as the import will read them. A few are put on the two
 * G1/G2 edges on purpose. */
static char *random_points(int n, int events, uint64_t seed, double *lon, double *lat)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    fputs(events ? "lon,lat,category,time\n" : "lon,lat\n", m);
    uint64_t s = seed;
    for (int k = 0; k < n; k++) {
        char lo[32], la[32];
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        snprintf(lo, sizeof lo, "%.5f", 114.4601 + (double)(s % 1000003) / 1000003 * 0.0198);
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        snprintf(la, sizeof la, "%.5f", 22.6201 + (double)(s % 1000003) / 1000003 * 0.0198);
        if (k % 50 == 1) snprintf(la, sizeof la, "22.628"); /* on the new edge */
        if (k % 50 == 2) snprintf(la, sizeof la, "22.63");  /* on the old edge */
        lon[k] = strtod(lo, NULL);
        lat[k] = strtod(la, NULL);
        fprintf(m, "%s,%s%s\n", lo, la, events ? ",0303,2024-06-01" : "");
    }
    fclose(m);
    return buf;
}

static void test_redraw_reports_exactly_the_moved_points(void **state)
{
    fixture f;
    build(&f);
    double alon[NA], alat[NA], elon[NE], elat[NE];
    char *csv = random_points(NA, 0, 0x9E3779B97F4A7C15ull, alon, alat);
    import_csv(&f, csv, 0);
    free(csv);
    csv = random_points(NE, 1, 0xD1B54A32D192ED03ull, elon, elat);
    import_csv(&f, csv, 1);
    free(csv);

    wg_assign_stats st;
    assert_int_equal(WG_OK, wg_assign(f.ctx, 0, 2, NULL, NULL, &st));
    assert_int_equal(NA + NE, st.assigned);
    assert_int_equal(NA + NE, st.fresh);

    /* redraw: the G1/G2 boundary moves south; publish the new generation */
    tu_import_rects(f.ctx, WG_LEVEL_GRID, REDRAWN, 4, 1);
    assert_int_equal(2, publish(&f));

    /* expected changes from the coordinates: west half, between the new and the old edge */
    changes want = {0}, got = {0};
    for (int k = 0; k < NA + NE; k++) {
        int ev = k >= NA;
        double x = ev ? elon[k - NA] : alon[k], y = ev ? elat[k - NA] : alat[k];
        if (x >= 114.47) continue;
        const char *was = west_grid(y, OLD_EDGE), *now = west_grid(y, NEW_EDGE);
        if (!strcmp(was, now)) continue;
        wg_assign_change c = {ev ? "event" : "address", ev ? k - NA + 1 : k + 1, was, now};
        on_change(&want, &c);
    }
    assert_true(want.n >= 10); /* the band really holds points of both kinds */
    assert_true(!strcmp(want.v[want.n - 1].kind, "event"));

    assert_int_equal(WG_OK, wg_assign(f.ctx, 0, 2, on_change, &got, &st));
    assert_int_equal(2, st.generation);
    assert_int_equal(1, st.previous_generation);
    assert_int_equal(want.n, st.changed);
    assert_int_equal(0, st.fresh);
    assert_int_equal(NA + NE, st.assigned);
    assert_int_equal(want.n, got.n);
    for (size_t i = 0; i < want.n; i++) {
        assert_string_equal(want.v[i].kind, got.v[i].kind);
        assert_int_equal(want.v[i].id, got.v[i].id);
        assert_string_equal(G1, got.v[i].old_code);
        assert_string_equal(G2, got.v[i].new_code);
    }

    /* one row per item per generation; a changed item keeps its old row in generation 1 */
    assert_int_equal(NA + NE, q_int(&f, "SELECT count(*) FROM assignments WHERE generation = 1"));
    assert_int_equal(NA + NE, q_int(&f, "SELECT count(*) FROM assignments WHERE generation = 2"));
    char r[64], sql[200];
    double dist;
    row(&f, 1, want.v[0].kind, want.v[0].id, r, sizeof r, &dist);
    assert_string_equal(G1 "|", r);
    row(&f, 2, want.v[0].kind, want.v[0].id, r, sizeof r, &dist);
    assert_string_equal(G2 "|", r);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM assignments a JOIN assignments b USING (kind, item_id)"
             " WHERE a.generation = 1 AND b.generation = 2 AND a.grid_code <> b.grid_code");
    assert_int_equal(want.n, q_int(&f, sql));
    assert_int_equal(want.n, q_int(&f, "SELECT changed FROM assign_runs ORDER BY id DESC LIMIT 1"));
    free(want.v);
    free(got.v);
    teardown_fixture(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_and_repeated_runs),
        cmocka_unit_test(test_failures_store_nothing),
        cmocka_unit_test(test_empty_run),
        cmocka_unit_test(test_redraw_reports_exactly_the_moved_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
