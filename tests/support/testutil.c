#include "testutil.h"
#include "internal.h"
#include "wangge/import.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tu_write_temp(const char *contents)
{
    char *path = strdup("/tmp/wangge-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(contents);
    assert_int_equal((ssize_t)n, write(fd, contents, n));
    close(fd);
    return path;
}

char *tu_temp_path(const char *suffix)
{
    char *path = strdup("/tmp/wangge-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    char *full = malloc(strlen(path) + strlen(suffix) + 1);
    sprintf(full, "%s%s", path, suffix);
    free(path);
    return full;
}

void tu_remove_store(char *path)
{
    char buf[4096];
    unlink(path);
    snprintf(buf, sizeof buf, "%s-wal", path);
    unlink(buf);
    snprintf(buf, sizeof buf, "%s-shm", path);
    unlink(buf);
    free(path);
}

wg_ctx *tu_open_store(char **path)
{
    wg_ctx *ctx = wg_ctx_new();
    assert_non_null(ctx);
    *path = tu_temp_path(".sqlite");
    int rc = wg_store_open(ctx, *path, WG_STORE_CREATE);
    if (rc != WG_OK) print_error("store: %s\n", wg_errmsg(ctx));
    assert_int_equal(WG_OK, rc);
    return ctx;
}

void tu_close_store(wg_ctx *ctx, char *path)
{
    wg_ctx_free(ctx);
    tu_remove_store(path);
}

GEOSGeometry *tu_wkt(wg_ctx *ctx, const char *wkt)
{
    GEOSWKTReader *r = GEOSWKTReader_create_r(wg_geos(ctx));
    GEOSGeometry *g = GEOSWKTReader_read_r(wg_geos(ctx), r, wkt);
    GEOSWKTReader_destroy_r(wg_geos(ctx), r);
    assert_non_null(g);
    return g;
}

char *tu_write_temp_bytes(const void *data, size_t n)
{
    char *path = strdup("/tmp/wangge-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal((ssize_t)n, write(fd, data, n));
    close(fd);
    return path;
}

void tu_remove_temp(char *path)
{
    if (!path) return;
    unlink(path);
    free(path);
}

double tu_cell_area_m2(double x0, double y0, double x1, double y1)
{
    const double a = 6378137.0, f = 1 / 298.257223563, e2 = f * (2 - f), e = sqrt(e2);
    const double b = a * (1 - f), rad = TU_PI / 180.0;
    double q[2], lat[2] = {y0, y1};
    for (int i = 0; i < 2; i++) {
        double s = sin(lat[i] * rad);
        q[i] = s / (1 - e2 * s * s) + log((1 + e * s) / (1 - e * s)) / (2 * e);
    }
    return (x1 - x0) * rad * b * b / 2 * (q[1] - q[0]);
}

void tu_assert_near_at(double a, double b, double tol, const char *what, const char *file, int line)
{
    if (fabs(a - b) <= tol) return;
    print_error("%s:%d: %s = %.12g, expected %.12g +- %g\n", file, line, what, a, b, tol);
    fail();
}

char *tu_rects_geojson(const tu_rect *u, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    fputs("{\"type\":\"FeatureCollection\",\"features\":[", m);
    for (size_t i = 0; i < n; i++) {
        int extra = u[i].props && u[i].props[0];
        fprintf(m,
                "%s{\"type\":\"Feature\",\"properties\":{\"code\":\"%s\"%s%s},\"geometry\":"
                "{\"type\":\"Polygon\",\"coordinates\":[[[%.15g,%.15g],[%.15g,%.15g],"
                "[%.15g,%.15g],[%.15g,%.15g],[%.15g,%.15g]]]}}\n",
                i ? "," : "", u[i].code, extra ? "," : "", extra ? u[i].props : "", u[i].x0,
                u[i].y0, u[i].x1, u[i].y0, u[i].x1, u[i].y1, u[i].x0, u[i].y1, u[i].x0, u[i].y0);
    }
    fputs("]}", m);
    fclose(m);
    char *path = tu_write_temp(buf);
    free(buf);
    return path;
}

void tu_import_file(wg_ctx *ctx, const char *path, int level, int replace, size_t n)
{
    wg_unit_import_opts o = {.level = level, .replace = replace};
    wg_import_stats st;
    int rc = wg_import_units(ctx, path, &o, &st);
    if (rc != WG_OK) print_error("import: %s\n", wg_errmsg(ctx));
    assert_int_equal(WG_OK, rc);
    assert_int_equal(n, st.imported);
}

size_t tu_import_points(wg_ctx *ctx, const char *csv, int events)
{
    char *path = tu_temp_path(".csv"); /* the format goes by the name */
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(csv, fp);
    fclose(fp);
    wg_point_import_opts o = {0};
    wg_import_stats st;
    int rc = events ? wg_import_events(ctx, path, &o, &st) : wg_import_addresses(ctx, path, &o, &st);
    if (rc != WG_OK) print_error("import: %s\n", wg_errmsg(ctx));
    assert_int_equal(WG_OK, rc);
    tu_remove_temp(path);
    return st.imported;
}

void tu_import_rects(wg_ctx *ctx, int level, const tu_rect *r, size_t n, int replace)
{
    char *path = tu_rects_geojson(r, n);
    tu_import_file(ctx, path, level, replace, n);
    tu_remove_temp(path);
}

char *tu_write_named(const char *suffix, const char *text)
{
    char *path = tu_temp_path(suffix);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static sqlite3_stmt *tu_prepare(wg_ctx *ctx, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ctx->db, sql, -1, &st, NULL) != SQLITE_OK)
        print_error("%s: %s\n", sql, sqlite3_errmsg(ctx->db));
    assert_non_null(st);
    return st;
}

long long tu_q_int(wg_ctx *ctx, const char *sql)
{
    sqlite3_stmt *st = tu_prepare(ctx, sql);
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

const char *tu_q_text(wg_ctx *ctx, const char *sql, char *out, size_t len)
{
    sqlite3_stmt *st = tu_prepare(ctx, sql);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, len, "%s", t ? (const char *)t : "<null>");
    } else {
        snprintf(out, len, "<none>");
    }
    sqlite3_finalize(st);
    return out;
}

void tu_collect_issue(void *ud, const struct wg_import_issue *is)
{
    tu_issues *c = ud;
    assert_true(c->n < 32);
    tu_issue *r = &c->v[c->n++];
    r->where = is->where;
    r->is_line = is->is_line;
    r->repaired = is->repaired;
    r->has_code = is->code != NULL;
    snprintf(r->code, sizeof r->code, "%s", is->code ? is->code : "");
    snprintf(r->kind, sizeof r->kind, "%s", is->kind);
    snprintf(r->reason, sizeof r->reason, "%s", is->reason ? is->reason : "");
}

void tu_expect_issue(const tu_issues *c, size_t i, size_t where, const char *kind, const char *code,
                     int repaired)
{
    assert_true(i < c->n);
    if (c->v[i].where != where || strcmp(c->v[i].kind, kind) != 0)
        print_error("issue %zu: got %zu %s (%s), expected %zu %s\n", i, c->v[i].where, c->v[i].kind,
                    c->v[i].reason, where, kind);
    assert_int_equal(where, c->v[i].where);
    assert_string_equal(kind, c->v[i].kind);
    assert_int_equal(repaired, c->v[i].repaired);
    if (code)
        assert_string_equal(code, c->v[i].code);
    else
        assert_false(c->v[i].has_code);
    assert_true(c->v[i].reason[0] != '\0');
}
