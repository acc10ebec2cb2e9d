/* Import through the public API (lib/src/import.c): units into the draft with their counts,
 * derived parents and code layout; every rejection reported with its index and kind; the
 * all-or-nothing rule and skip_rejected; repair; replace of one level of the draft; CSV and
 * GeoJSON addresses and events with their defaults and rejections by line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geom.h"
#include "internal.h"
#include "testutil.h"
#include "wangge/import.h"
#include "wangge/store.h"


/* ---------------------------------------------------------------- helpers */

/* A FeatureCollection built feature by feature in memory, then written to a temp file. */
typedef struct fc {
    char *buf;
    size_t len;
    FILE *f;
    int n;
} fc;

static void fc_begin(fc *c)
{
    memset(c, 0, sizeof *c);
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
    fputs("{\"type\":\"FeatureCollection\",\"features\":[", c->f);
}

/* props: the members of "properties" (JSON text without braces); geometry: JSON text. */
static void fc_add(fc *c, const char *props, const char *geometry)
{
    fprintf(c->f, "%s\n{\"type\":\"Feature\",\"properties\":{%s},\"geometry\":%s}",
            c->n++ ? "," : "", props, geometry);
}

/* A rectangle lon [x0, x1] × lat [y0, y1] as a GeoJSON Polygon; static buffer. */
static const char *rect(double x0, double y0, double x1, double y1)
{
    static char b[4][300];
    static int k;
    char *s = b[k++ % 4];
    snprintf(s, 300,
             "{\"type\":\"Polygon\",\"coordinates\":[[[%.15g,%.15g],[%.15g,%.15g],[%.15g,%.15g],"
             "[%.15g,%.15g],[%.15g,%.15g]]]}",
             x0, y0, x1, y0, x1, y1, x0, y1, x0, y0);
    return s;
}

/* Closes the collection into a temp file; returns its path (tu_remove_temp). */
static char *fc_end(fc *c)
{
    fputs("]}\n", c->f);
    fclose(c->f);
    char *path = tu_write_temp(c->buf);
    free(c->buf);
    return path;
}

typedef struct fixture {
    wg_ctx *ctx;
    char *path;
    tu_issues is;
} fixture;

static void open_store(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->ctx = tu_open_store(&f->path);
}

static void close_store(fixture *f)
{
    tu_close_store(f->ctx, f->path);
}

#define q_int(f, sql) tu_q_int((f)->ctx, (sql))

/* First column of the first row as text into out ("" for NULL, "<none>" for no row). */
static void q_text(fixture *f, const char *sql, char *out, size_t len)
{
    sqlite3_stmt *st;
    assert_int_equal(SQLITE_OK, sqlite3_prepare_v2(f->ctx->db, sql, -1, &st, NULL));
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, len, "%s", t ? (const char *)t : "");
    } else {
        snprintf(out, len, "<none>");
    }
    sqlite3_finalize(st);
}

static double q_double(fixture *f, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(SQLITE_OK, sqlite3_prepare_v2(f->ctx->db, sql, -1, &st, NULL));
    double v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_double(st, 0) : NAN;
    sqlite3_finalize(st);
    return v;
}

static int import_units(fixture *f, const char *path, int level, int flags_skip, int repair,
                        int replace, wg_import_stats *st)
{
    wg_unit_import_opts o = {0};
    o.level = level;
    o.skip_rejected = flags_skip;
    o.repair = repair;
    o.replace = replace;
    o.on_issue = tu_collect_issue;
    o.ud = &f->is;
    f->is.n = 0;
    return wg_import_units(f->ctx, path, &o, st);
}

static int import_points(fixture *f, const char *path, int events, int skip, int replace,
                         wg_import_stats *st)
{
    wg_point_import_opts o = {0};
    o.skip_rejected = skip;
    o.replace = replace;
    o.on_issue = tu_collect_issue;
    o.ud = &f->is;
    f->is.n = 0;
    return events ? wg_import_events(f->ctx, path, &o, st)
                  : wg_import_addresses(f->ctx, path, &o, st);
}

#define BOWTIE                                                                                     \
    "{\"type\":\"Polygon\",\"coordinates\":[[[114.46,22.62],[114.47,22.63],[114.47,22.62],"        \
    "[114.46,22.63],[114.46,22.62]]]}"
#define UNCLOSED                                                                                   \
    "{\"type\":\"Polygon\",\"coordinates\":[[[114.46,22.62],[114.47,22.62],[114.47,22.63],"        \
    "[114.46,22.63]]]}"

/* ---------------------------------------------------------------- units */

static void test_code_parent_len(void **state)
{
    assert_int_equal(12, wg_code_parent_len(WG_LEVEL_GRID, "440307001001001"));
    assert_int_equal(12, wg_code_parent_len(WG_LEVEL_GRID, "44030700100101"));
    assert_int_equal(9, wg_code_parent_len(WG_LEVEL_COMMUNITY, "440307001001"));
    assert_int_equal(0, wg_code_parent_len(WG_LEVEL_DISTRICT, "440307001"));
    assert_int_equal(0, wg_code_parent_len(WG_LEVEL_GRID, "440307001001"));
    assert_int_equal(0, wg_code_parent_len(WG_LEVEL_COMMUNITY, "440307001001001"));
    assert_int_equal(0, wg_code_parent_len(WG_LEVEL_GRID, "4403070010010a1"));
    assert_int_equal(0, wg_code_parent_len(WG_LEVEL_GRID, ""));
    assert_int_equal(0, wg_code_parent_len(WG_LEVEL_GRID, NULL));
}

static void test_units_counts_parents_and_digits(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    char text[200];

    fc c;
    fc_begin(&c);
    fc_add(&c, "\"code\":\"440307001\",\"name\":\"Nanshan\"", rect(114.46, 22.62, 114.48, 22.64));
    char *p = fc_end(&c);
    assert_int_equal(WG_OK, import_units(&f, p, WG_LEVEL_DISTRICT, 0, 0, 0, &st));
    assert_int_equal(1, st.read);
    assert_int_equal(1, st.imported);
    assert_int_equal(0, st.rejected);
    assert_int_equal(1, st.generation);
    assert_int_equal(9, st.code_digits);
    assert_int_equal(0, f.is.n);
    tu_remove_temp(p);

    /* communities: an explicit parent, and one derived from the 12-digit code */
    fc_begin(&c);
    fc_add(&c, "\"code\":\"440307001001\",\"parent\":\"440307001\"",
           rect(114.46, 22.62, 114.47, 22.64));
    fc_add(&c, "\"code\":\"440307001002\"", rect(114.47, 22.62, 114.48, 22.64));
    p = fc_end(&c);
    assert_int_equal(WG_OK, import_units(&f, p, WG_LEVEL_COMMUNITY, 0, 0, 0, &st));
    assert_int_equal(2, st.imported);
    assert_int_equal(12, st.code_digits);
    assert_int_equal(
        2, q_int(&f, "SELECT count(*) FROM units WHERE level = 2 AND parent_code = '440307001'"));
    tu_remove_temp(p);

    /* 15-digit grids: parent = first 12 digits; other properties kept; geodesic area stored */
    fc_begin(&c);
    fc_add(&c, "\"code\":\"440307001001001\",\"name\":\"g1\",\"pop\":12",
           rect(114.46, 22.62, 114.47, 22.63));
    fc_add(&c, "\"code\":\"440307001002001\"", rect(114.47, 22.62, 114.48, 22.63));
    p = fc_end(&c);
    assert_int_equal(WG_OK, import_units(&f, p, WG_LEVEL_GRID, 0, 0, 0, &st));
    assert_int_equal(2, st.imported);
    assert_int_equal(15, st.code_digits);
    assert_int_equal(1, st.generation);
    q_text(&f, "SELECT parent_code FROM units WHERE code = '440307001002001'", text, sizeof text);
    assert_string_equal("440307001002", text);
    q_text(&f, "SELECT props FROM units WHERE code = '440307001001001'", text, sizeof text);
    assert_string_equal("{\"pop\":12}", text);
    q_text(&f, "SELECT name FROM units WHERE code = '440307001001001'", text, sizeof text);
    assert_string_equal("g1", text);
    double want = tu_cell_area_m2(114.46, 22.62, 114.47, 22.63);
    assert_near(q_double(&f, "SELECT area_m2 FROM units WHERE code = '440307001001001'"), want,
                want * 1e-7);
    tu_remove_temp(p);

    /* 14-digit grids (2-digit sequence): parent = first 12 digits too */
    fc_begin(&c);
    fc_add(&c, "\"code\":\"44030700100102\"", rect(114.46, 22.63, 114.465, 22.64));
    fc_add(&c, "\"code\":\"44030700100103\"", rect(114.465, 22.63, 114.47, 22.64));
    p = fc_end(&c);
    assert_int_equal(WG_OK, import_units(&f, p, WG_LEVEL_GRID, 0, 0, 0, &st));
    assert_int_equal(14, st.code_digits);
    q_text(&f, "SELECT parent_code FROM units WHERE code = '44030700100103'", text, sizeof text);
    assert_string_equal("440307001001", text);
    tu_remove_temp(p);

    /* mixed lengths: 0; an explicit parent wins over the derived one */
    fc_begin(&c);
    fc_add(&c, "\"code\":\"440307001002002\"", rect(114.47, 22.63, 114.475, 22.64));
    fc_add(&c, "\"code\":\"44030700100204\",\"parent\":\"440307001001\"",
           rect(114.475, 22.63, 114.48, 22.64));
    p = fc_end(&c);
    assert_int_equal(WG_OK, import_units(&f, p, WG_LEVEL_GRID, 0, 0, 0, &st));
    assert_int_equal(0, st.code_digits);
    q_text(&f, "SELECT parent_code FROM units WHERE code = '44030700100204'", text, sizeof text);
    assert_string_equal("440307001001", text);
    tu_remove_temp(p);

    /* a non-digit code with an explicit parent is fine, and makes code_digits 0 */
    fc_begin(&c);
    fc_add(&c, "\"code\":\"G-7\",\"parent\":\"440307001002\"",
           rect(114.47, 22.62, 114.471, 22.621));
    p = fc_end(&c);
    assert_int_equal(WG_OK, import_units(&f, p, WG_LEVEL_GRID, 0, 0, 0, &st));
    assert_int_equal(0, st.code_digits);
    tu_remove_temp(p);

    assert_int_equal(1 + 2 + 2 + 2 + 2 + 1,
                     q_int(&f, "SELECT count(*) FROM units WHERE first_gen = 1"));
    close_store(&f);
}

/* One feature per rejection kind, between two good ones. */
static char *bad_file(void)
{
    fc c;
    fc_begin(&c);
    fc_add(&c, "\"code\":\"440307001001002\"", rect(114.46, 22.63, 114.47, 22.64)); /* 0 good */
    fc_add(&c, "\"code\":\"440307001001003\"", UNCLOSED);                           /* 1 */
    fc_add(&c, "\"code\":\"440307001001004\"", BOWTIE);                             /* 2 */
    fc_add(&c, "\"name\":\"no code\"", rect(114.46, 22.62, 114.47, 22.63));         /* 3 */
    fc_add(&c, "\"code\":\"G7\"", rect(114.46, 22.62, 114.47, 22.63));              /* 4 */
    fc_add(&c, "\"code\":\"440307001001002\"", rect(114.47, 22.63, 114.48, 22.64)); /* 5 */
    fc_add(&c, "\"code\":\"440307001001001\"", rect(114.47, 22.62, 114.48, 22.63)); /* 6 */
    fc_add(&c, "\"code\":\"440307001001006\"", rect(114.46, 22.62, 114.47, 91.0));  /* 7 */
    fc_add(&c, "\"code\":\"440307001001005\"", rect(114.48, 22.62, 114.49, 22.63)); /* 8 good */
    return fc_end(&c);
}

static void expect_bad_file_issues(const tu_issues *is)
{
    assert_int_equal(7, is->n);
    tu_expect_issue(is, 0, 1, "unclosed_ring", "440307001001003", 0);
    tu_expect_issue(is, 1, 2, "invalid", "440307001001004", 0);
    assert_non_null(strstr(is->v[1].reason, "Self-intersection"));
    tu_expect_issue(is, 2, 3, "missing_code", NULL, 0);
    tu_expect_issue(is, 3, 4, "missing_parent", "G7", 0);
    tu_expect_issue(is, 4, 5, "duplicate_code", "440307001001002", 0); /* twice in the file */
    tu_expect_issue(is, 5, 6, "duplicate_code", "440307001001001", 0); /* already in the draft */
    tu_expect_issue(is, 6, 7, "out_of_range", "440307001001006", 0);
}

static void import_one_grid(fixture *f)
{
    fc c;
    fc_begin(&c);
    fc_add(&c, "\"code\":\"440307001001001\"", rect(114.46, 22.62, 114.47, 22.63));
    char *p = fc_end(&c);
    wg_import_stats st;
    assert_int_equal(WG_OK, import_units(f, p, WG_LEVEL_GRID, 0, 0, 0, &st));
    tu_remove_temp(p);
}

static void test_rejections_reported_nothing_stored(void **state)
{
    fixture f;
    open_store(&f);
    import_one_grid(&f);
    char *p = bad_file();
    wg_import_stats st;
    assert_int_equal(WG_EDATA, import_units(&f, p, WG_LEVEL_GRID, 0, 0, 0, &st));
    assert_non_null(strstr(wg_errmsg(f.ctx), "nothing was imported"));
    assert_int_equal(9, st.read);
    assert_int_equal(7, st.rejected);
    assert_int_equal(0, st.imported);
    expect_bad_file_issues(&f.is);
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM units"));
    tu_remove_temp(p);
    close_store(&f);
}

static void test_refused_first_import_leaves_no_draft(void **state)
{
    fixture f;
    open_store(&f);
    char *p = bad_file();
    wg_import_stats st;
    assert_int_equal(WG_EDATA, import_units(&f, p, WG_LEVEL_GRID, 0, 0, 0, &st));
    int64_t id;
    assert_int_equal(WG_ENOTFOUND, wg_gen_draft(f.ctx, 0, &id));
    assert_int_equal(0, q_int(&f, "SELECT count(*) FROM units"));
    tu_remove_temp(p);
    close_store(&f);
}

static void test_skip_rejected_keeps_good(void **state)
{
    fixture f;
    open_store(&f);
    import_one_grid(&f);
    char *p = bad_file();
    wg_import_stats st;
    assert_int_equal(WG_OK, import_units(&f, p, WG_LEVEL_GRID, 1, 0, 0, &st));
    assert_int_equal(9, st.read);
    assert_int_equal(7, st.rejected);
    assert_int_equal(2, st.imported);
    expect_bad_file_issues(&f.is);
    assert_int_equal(3, q_int(&f, "SELECT count(*) FROM units"));
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM units WHERE code = '440307001001002'"));
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM units WHERE code = '440307001001005'"));
    /* the duplicate kept the first geometry, not the one of feature 5 */
    double want = tu_cell_area_m2(114.46, 22.63, 114.47, 22.64);
    assert_near(q_double(&f, "SELECT area_m2 FROM units WHERE code = '440307001001002'"), want,
                want * 1e-7);
    assert_int_equal(
        1, q_int(&f, "SELECT MbrMinX(geom) = 114.46 FROM units WHERE code = '440307001001002'"));
    tu_remove_temp(p);
    close_store(&f);
}

static void test_repair(void **state)
{
    fixture f;
    open_store(&f);
    fc c;
    fc_begin(&c);
    fc_add(&c, "\"code\":\"440307001001001\"", BOWTIE);
    fc_add(&c, "\"code\":\"440307001001002\"", UNCLOSED);
    char *p = fc_end(&c);
    wg_import_stats st;
    assert_int_equal(WG_OK, import_units(&f, p, WG_LEVEL_GRID, 0, 1, 0, &st));
    assert_int_equal(2, st.imported);
    assert_int_equal(2, st.repaired);
    assert_int_equal(0, st.rejected);
    assert_int_equal(2, f.is.n);
    tu_expect_issue(&f.is, 0, 0, "invalid", "440307001001001", 1);
    tu_expect_issue(&f.is, 1, 1, "unclosed_ring", "440307001001002", 1);
    tu_remove_temp(p);

    /* the bowtie's two lobes are the west and east quarters of the cell: half its area */
    const double cell = tu_cell_area_m2(114.46, 22.62, 114.47, 22.63);
    assert_true(st.repaired_area_change_m2 > 0.4 * cell);
    wg_unit_set *set;
    assert_int_equal(WG_OK, wg_units_load(f.ctx, st.generation, 0, &set));
    assert_int_equal(2, set->n);
    char detail[256];
    const wg_unit *bow = &set->units[0], *ring = &set->units[1];
    assert_int_equal(1, wg_geom_check_valid(f.ctx, bow->geom, detail, sizeof detail));
    assert_int_equal(GEOS_MULTIPOLYGON, GEOSGeomTypeId_r(wg_geos(f.ctx), bow->geom));
    assert_int_equal(2, GEOSGetNumGeometries_r(wg_geos(f.ctx), bow->geom));
    assert_near(bow->area_m2, cell / 2, cell * 1e-4);
    assert_int_equal(1, wg_geom_check_valid(f.ctx, ring->geom, detail, sizeof detail));
    assert_int_equal(5, (int)wg_geom_vertices(f.ctx, ring->geom));
    assert_near(ring->area_m2, cell, cell * 1e-7);
    wg_unit_set_free(f.ctx, set);

    /* a polygon that collapses to a line cannot be repaired: rejected */
    fc_begin(&c);
    fc_add(&c, "\"code\":\"440307001001003\"",
           "{\"type\":\"Polygon\",\"coordinates\":[[[114.46,22.62],[114.47,22.62],[114.48,22.62],"
           "[114.46,22.62]]]}");
    p = fc_end(&c);
    assert_int_equal(WG_EDATA, import_units(&f, p, WG_LEVEL_GRID, 0, 1, 0, &st));
    assert_int_equal(1, st.rejected);
    assert_int_equal(0, st.repaired);
    tu_expect_issue(&f.is, 0, 0, "invalid", "440307001001003", 0);
    assert_int_equal(2, q_int(&f, "SELECT count(*) FROM units"));
    tu_remove_temp(p);
    close_store(&f);
}

/* Codes of level `level` in generation gen, comma-separated in code order. */
static void level_codes(fixture *f, int64_t gen, int level, char *out, size_t len)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT group_concat(code, ',') FROM (SELECT code FROM units WHERE level = %d AND"
             " first_gen <= %lld AND (last_gen IS NULL OR last_gen >= %lld) ORDER BY code)",
             level, (long long)gen, (long long)gen);
    q_text(f, sql, out, len);
}

static char *grid_file(const char *code, double x0)
{
    fc c;
    fc_begin(&c);
    char props[64];
    snprintf(props, sizeof props, "\"code\":\"%s\"", code);
    fc_add(&c, props, rect(x0, 22.62, x0 + 0.005, 22.63));
    return fc_end(&c);
}

static void test_replace_level_in_draft(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    fc c;
    fc_begin(&c);
    fc_add(&c, "\"code\":\"440307001\"", rect(114.46, 22.62, 114.48, 22.64));
    char *p = fc_end(&c);
    assert_int_equal(WG_OK, import_units(&f, p, WG_LEVEL_DISTRICT, 0, 0, 0, &st));
    tu_remove_temp(p);
    fc_begin(&c);
    fc_add(&c, "\"code\":\"440307001001001\"", rect(114.46, 22.62, 114.465, 22.63));
    fc_add(&c, "\"code\":\"440307001001002\"", rect(114.465, 22.62, 114.47, 22.63));
    p = fc_end(&c);
    assert_int_equal(WG_OK, import_units(&f, p, WG_LEVEL_GRID, 0, 0, 0, &st));
    tu_remove_temp(p);
    int64_t g1 = 0, g2 = 0;
    /* no communities: publish has faults, force it */
    assert_int_equal(WG_OK, wg_gen_publish(f.ctx, 0, 1, &g1, NULL));
    assert_int_equal(1, g1);

    char codes[200];
    p = grid_file("440307001001003", 114.46);
    assert_int_equal(WG_OK, import_units(&f, p, WG_LEVEL_GRID, 0, 0, 1, &st));
    g2 = st.generation;
    assert_int_equal(2, g2);
    tu_remove_temp(p);
    level_codes(&f, g2, 3, codes, sizeof codes);
    assert_string_equal("440307001001003", codes);
    level_codes(&f, g2, 1, codes, sizeof codes);
    assert_string_equal("440307001", codes); /* other levels untouched */
    level_codes(&f, g1, 3, codes, sizeof codes);
    assert_string_equal("440307001001001,440307001001002", codes); /* the active one too */

    /* without replace the level grows; with it, units born in the draft go too */
    p = grid_file("440307001001004", 114.465);
    assert_int_equal(WG_OK, import_units(&f, p, WG_LEVEL_GRID, 0, 0, 0, &st));
    tu_remove_temp(p);
    level_codes(&f, g2, 3, codes, sizeof codes);
    assert_string_equal("440307001001003,440307001001004", codes);
    p = grid_file("440307001001005", 114.46);
    assert_int_equal(WG_OK, import_units(&f, p, WG_LEVEL_GRID, 0, 0, 1, &st));
    tu_remove_temp(p);
    level_codes(&f, g2, 3, codes, sizeof codes);
    assert_string_equal("440307001001005", codes);

    /* a refused replace changes nothing */
    fc_begin(&c);
    fc_add(&c, "\"code\":\"440307001001006\"", rect(114.46, 22.62, 114.465, 22.63));
    fc_add(&c, "\"code\":\"440307001001007\"", BOWTIE);
    p = fc_end(&c);
    assert_int_equal(WG_EDATA, import_units(&f, p, WG_LEVEL_GRID, 0, 0, 1, &st));
    tu_remove_temp(p);
    level_codes(&f, g2, 3, codes, sizeof codes);
    assert_string_equal("440307001001005", codes);
    level_codes(&f, g1, 3, codes, sizeof codes);
    assert_string_equal("440307001001001,440307001001002", codes);
    close_store(&f);
}

static void test_unit_import_failures(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    char *p = grid_file("440307001001001", 114.46);
    /* bad level */
    assert_int_equal(WG_EINVAL, import_units(&f, p, 0, 0, 0, 0, &st));
    assert_int_equal(WG_EINVAL, import_units(&f, p, 4, 0, 0, 0, &st));
    /* no store */
    wg_ctx *bare = wg_ctx_new();
    wg_unit_import_opts o = {.level = WG_LEVEL_GRID};
    assert_int_equal(WG_EINVAL, wg_import_units(bare, p, &o, &st));
    wg_ctx_free(bare);
    tu_remove_temp(p);
    /* missing file */
    assert_int_equal(WG_EIO,
                     import_units(&f, "/nonexistent/wangge/units.geojson", 3, 0, 0, 0, &st));
    /* broken JSON after a good feature: nothing stored */
    p = tu_write_temp("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                      "\"properties\":{\"code\":\"440307001\"},\"geometry\":{\"type\":\"Polygon\","
                      "\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}},{\"type\":");
    assert_int_equal(WG_EDATA, import_units(&f, p, WG_LEVEL_DISTRICT, 1, 0, 0, &st));
    assert_int_equal(0, q_int(&f, "SELECT count(*) FROM units"));
    tu_remove_temp(p);
    close_store(&f);
}

/* ---------------------------------------------------------------- points */

static void test_addresses_csv(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    /* no households column: every address counts one household */
    char *p = tu_write_named(".csv", "lon,lat,label\n114.465,22.625,a\n114.475,22.625,b\n"
                                  "114.475,22.635,\n");
    assert_int_equal(WG_OK, import_points(&f, p, 0, 0, 0, &st));
    assert_int_equal(3, st.read);
    assert_int_equal(3, st.imported);
    assert_int_equal(3, q_int(&f, "SELECT sum(households) FROM addresses"));
    assert_int_equal(1, q_int(&f, "SELECT min(households) FROM addresses"));
    assert_int_equal(1, q_int(&f, "SELECT label IS NULL FROM addresses WHERE id = 3"));
    assert_int_equal(
        1, q_int(&f, "SELECT lon = 114.475 AND lat = 22.635 FROM addresses WHERE id = 3"));
    tu_remove_temp(p);

    /* bad households, a bad coordinate, a coordinate out of range: each by its line */
    p = tu_write_named(".csv", "lon,lat,households\n"
                            "114.46,22.62,2\n"   /* line 2 */
                            "114.46,22.62,x\n"   /* 3 */
                            "114.46,22.62,-1\n"  /* 4 */
                            "\n"                 /* 5: blank, skipped */
                            "114.46,22.62,3\n"   /* 6 */
                            "114.46,22.62,1.5\n" /* 7 */
                            "abc,22.62,1\n"      /* 8 */
                            "114.46,91,1\n");    /* 9 */
    assert_int_equal(WG_EDATA, import_points(&f, p, 0, 0, 0, &st));
    assert_int_equal(7, st.read);
    assert_int_equal(5, st.rejected);
    assert_int_equal(5, f.is.n);
    const size_t lines[] = {3, 4, 7, 8, 9};
    const char *kinds[] = {"bad_households", "bad_households", "bad_households", "malformed",
                           "out_of_range"};
    for (int i = 0; i < 5; i++) {
        tu_expect_issue(&f.is, i, lines[i], kinds[i], NULL, 0);
        assert_int_equal(1, f.is.v[i].is_line);
    }
    assert_int_equal(3, q_int(&f, "SELECT count(*) FROM addresses"));

    assert_int_equal(WG_OK, import_points(&f, p, 0, 1, 0, &st));
    assert_int_equal(2, st.imported);
    assert_int_equal(5, q_int(&f, "SELECT count(*) FROM addresses"));
    assert_int_equal(3 + 2 + 3, q_int(&f, "SELECT sum(households) FROM addresses"));
    tu_remove_temp(p);

    /* replace drops what was there */
    p = tu_write_named(".csv", "LON,LAT,households\n114.47,22.63,0\n");
    assert_int_equal(WG_OK, import_points(&f, p, 0, 0, 1, &st));
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM addresses"));
    assert_int_equal(0, q_int(&f, "SELECT households FROM addresses"));
    tu_remove_temp(p);
    close_store(&f);
}

static void test_points_csv_failures(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    char *p = tu_write_named(".csv", "x,lat\n114.46,22.62\n");
    assert_int_equal(WG_EDATA, import_points(&f, p, 0, 1, 0, &st));
    assert_non_null(strstr(wg_errmsg(f.ctx), "lon"));
    tu_remove_temp(p);

    /* the same file with the columns named */
    p = tu_write_named(".csv", "x,y,hh\n114.46,22.62,4\n");
    wg_point_import_opts o = {.lon_col = "x", .lat_col = "y", .households_col = "hh"};
    assert_int_equal(WG_OK, wg_import_addresses(f.ctx, p, &o, &st));
    assert_int_equal(4, q_int(&f, "SELECT households FROM addresses"));
    tu_remove_temp(p);

    /* a ragged row stops the import; nothing is stored even with skip_rejected */
    p = tu_write_named(".csv", "lon,lat\n114.46,22.62\n114.46,22.62,9\n");
    assert_int_equal(WG_EDATA, import_points(&f, p, 0, 1, 0, &st));
    assert_non_null(strstr(wg_errmsg(f.ctx), ":3"));
    assert_int_equal(1, q_int(&f, "SELECT count(*) FROM addresses"));
    tu_remove_temp(p);

    assert_int_equal(WG_EIO, import_points(&f, "/nonexistent/wangge/a.csv", 0, 0, 0, &st));
    close_store(&f);
}

static void test_events_csv(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    char *p = tu_write_named(".csv", "lon,lat,category,time,status,description\n"
                                  "114.46,22.62,0101,2024-05-01T08:00:00Z,,pothole\n" /* 2 */
                                  "114.46,22.62,101,2024-05-01,,\n"                   /* 3 */
                                  "114.46,22.62,01011,2024-05-01,,\n"                 /* 4 */
                                  "114.46,22.62,01a1,2024-05-01,,\n"                  /* 5 */
                                  "114.46,22.62,0202,,,\n"                            /* 6 */
                                  "114.47,22.63,0303,2024-05-02,closed,\n");          /* 7 */
    assert_int_equal(WG_EDATA, import_points(&f, p, 1, 0, 0, &st));
    assert_int_equal(4, f.is.n);
    tu_expect_issue(&f.is, 0, 3, "bad_category", NULL, 0);
    tu_expect_issue(&f.is, 1, 4, "bad_category", NULL, 0);
    tu_expect_issue(&f.is, 2, 5, "bad_category", NULL, 0);
    tu_expect_issue(&f.is, 3, 6, "missing_time", NULL, 0);
    assert_int_equal(0, q_int(&f, "SELECT count(*) FROM events"));

    assert_int_equal(WG_OK, import_points(&f, p, 1, 1, 0, &st));
    assert_int_equal(6, st.read);
    assert_int_equal(2, st.imported);
    char text[100];
    q_text(&f,
           "SELECT category || '|' || reported_at || '|' || status || '|' || description"
           " FROM events WHERE id = 1",
           text, sizeof text);
    assert_string_equal("0101|2024-05-01T08:00:00Z|reported|pothole", text);
    q_text(&f, "SELECT status FROM events WHERE category = '0303'", text, sizeof text);
    assert_string_equal("closed", text);
    assert_int_equal(0, q_int(&f, "SELECT count(*) FROM addresses"));
    tu_remove_temp(p);
    close_store(&f);
}

static void test_addresses_geojson_points(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    fc c;
    fc_begin(&c);
    fc_add(&c, "\"households\":3,\"label\":\"Block 7\"",
           "{\"type\":\"Point\",\"coordinates\":[114.465,22.625]}");         /* 0 */
    fc_add(&c, "", "{\"type\":\"Point\",\"coordinates\":[114.475,22.635]}"); /* 1 */
    fc_add(&c, "\"households\":2", rect(114.46, 22.62, 114.47, 22.63));      /* 2 */
    fc_add(&c, "", "{\"type\":\"Point\",\"coordinates\":[114.475,95]}");     /* 3 */
    fc_add(&c, "\"households\":\"-2\"",
           "{\"type\":\"Point\",\"coordinates\":[114.4,22.6]}"); /* 4 */
    char *p = fc_end(&c);
    assert_int_equal(WG_EDATA, import_points(&f, p, 0, 0, 0, &st));
    assert_int_equal(3, f.is.n);
    tu_expect_issue(&f.is, 0, 2, "bad_point", NULL, 0);
    /* GeoJSON points are checked whole: out of range is a bad point, with the reason */
    tu_expect_issue(&f.is, 1, 3, "bad_point", NULL, 0);
    assert_non_null(strstr(f.is.v[1].reason, "out of range"));
    tu_expect_issue(&f.is, 2, 4, "bad_households", NULL, 0);
    assert_int_equal(0, f.is.v[0].is_line);
    assert_int_equal(0, q_int(&f, "SELECT count(*) FROM addresses"));

    assert_int_equal(WG_OK, import_points(&f, p, 0, 1, 0, &st));
    assert_int_equal(5, st.read);
    assert_int_equal(2, st.imported);
    assert_int_equal(1, q_int(&f, "SELECT lon = 114.465 AND lat = 22.625 AND households = 3"
                                  " AND label = 'Block 7' FROM addresses WHERE id = 1"));
    assert_int_equal(1, q_int(&f, "SELECT households FROM addresses WHERE id = 2"));
    tu_remove_temp(p);
    close_store(&f);
}

/* An issue with repaired = 1 means "repaired and kept" (import.h): a feature whose ring was
 * closed but which is then rejected was not kept, and is not counted as repaired. */
static void test_repaired_means_kept(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    fc c;
    fc_begin(&c);
    /* an open ring on a line: closing it works, making it valid leaves nothing */
    fc_add(&c, "\"code\":\"440307001001001\"",
           "{\"type\":\"Polygon\",\"coordinates\":[[[114.46,22.62],[114.47,22.62],"
           "[114.48,22.62],[114.465,22.62]]]}");
    char *p = fc_end(&c);
    assert_int_equal(WG_OK, import_units(&f, p, WG_LEVEL_GRID, 1, 1, 0, &st));
    assert_int_equal(1, st.read);
    assert_int_equal(0, st.imported);
    assert_int_equal(1, st.rejected);
    for (size_t i = 0; i < f.is.n; i++)
        if (f.is.v[i].repaired)
            print_error("issue %zu: %s reported as repaired and kept: %s\n", i, f.is.v[i].kind,
                        f.is.v[i].reason);
    assert_int_equal(0, st.repaired);
    for (size_t i = 0; i < f.is.n; i++)
        assert_int_equal(0, f.is.v[i].repaired);
    tu_remove_temp(p);
    close_store(&f);
}

/* A geometry whose "type" is null is rejected like any wrong type, never a crash. Last in the
 * list: on a broken build it takes the process down. */
static void test_null_geometry_type_rejected(void **state)
{
    fixture f;
    open_store(&f);
    wg_import_stats st;
    fc c;
    fc_begin(&c);
    fc_add(&c, "\"code\":\"440307001001001\"", rect(114.46, 22.62, 114.47, 22.63));
    fc_add(&c, "\"code\":\"440307001001002\"", "{\"type\":null,\"coordinates\":[]}");
    char *p = fc_end(&c);
    assert_int_equal(WG_OK, import_units(&f, p, WG_LEVEL_GRID, 1, 0, 0, &st));
    assert_int_equal(1, st.imported);
    tu_expect_issue(&f.is, 0, 1, "wrong_type", "440307001001002", 0);
    tu_remove_temp(p);

    fc_begin(&c);
    fc_add(&c, "", "{\"type\":\"Point\",\"coordinates\":[114.465,22.625]}");
    fc_add(&c, "", "{\"type\":null,\"coordinates\":[114.465,22.625]}");
    p = fc_end(&c);
    assert_int_equal(WG_OK, import_points(&f, p, 0, 1, 0, &st));
    assert_int_equal(1, st.imported);
    tu_expect_issue(&f.is, 0, 1, "bad_point", NULL, 0);
    tu_remove_temp(p);
    close_store(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_parent_len),
        cmocka_unit_test(test_units_counts_parents_and_digits),
        cmocka_unit_test(test_rejections_reported_nothing_stored),
        cmocka_unit_test(test_refused_first_import_leaves_no_draft),
        cmocka_unit_test(test_skip_rejected_keeps_good),
        cmocka_unit_test(test_repair),
        cmocka_unit_test(test_replace_level_in_draft),
        cmocka_unit_test(test_unit_import_failures),
        cmocka_unit_test(test_addresses_csv),
        cmocka_unit_test(test_points_csv_failures),
        cmocka_unit_test(test_events_csv),
        cmocka_unit_test(test_addresses_geojson_points),
        cmocka_unit_test(test_repaired_means_kept),
        cmocka_unit_test(test_null_geometry_type_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
