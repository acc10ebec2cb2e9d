/* Shared helpers for the unit tests. */
#ifndef WANGGE_TESTUTIL_H
#define WANGGE_TESTUTIL_H
#include "wangge/common.h"

/* Writes contents to a new temporary file; returns its malloc'd path (caller unlinks, frees). */
char *tu_write_temp(const char *contents);
/* A fresh temporary path for a store file (not created); malloc'd. */
char *tu_temp_path(const char *suffix);
/* Removes a store and its -wal/-shm companions, then frees the path. */
void tu_remove_store(char *path);
/* A new context on a new temporary store (*path: malloc'd); close with tu_close_store. */
wg_ctx *tu_open_store(char **path);
void tu_close_store(wg_ctx *ctx, char *path);
/* Parses WKT with ctx's GEOS handle; aborts the test on failure. Caller destroys. */
GEOSGeometry *tu_wkt(wg_ctx *ctx, const char *wkt);
/* As tu_write_temp, for n bytes that may contain NUL; malloc'd path. */
char *tu_write_temp_bytes(const void *data, size_t n);
/* Unlinks a file from tu_write_temp*, then frees the path. NULL is a no-op. */
void tu_remove_temp(char *path);

/* A rectangle unit for fixtures: code, lon/lat extent, and optional extra members of its
 * "properties" (JSON text, e.g. "\"name\":\"g1\""; NULL or "" for none). */
typedef struct tu_rect {
    const char *code;
    double x0, y0, x1, y1;
    const char *props;
} tu_rect;
/* Writes the rectangles as a GeoJSON FeatureCollection to a temp file; returns its path
 * (remove with tu_remove_temp). */
char *tu_rects_geojson(const tu_rect *r, size_t n);
/* Imports a GeoJSON file as one level of the draft and asserts all n features were imported. */
void tu_import_file(wg_ctx *ctx, const char *path, int level, int replace, size_t n);
/* Imports CSV text (header row first) as addresses (events = 0) or events and asserts it
 * succeeds; returns the number of rows imported. */
size_t tu_import_points(wg_ctx *ctx, const char *csv, int events);
/* tu_rects_geojson + tu_import_file. */
void tu_import_rects(wg_ctx *ctx, int level, const tu_rect *r, size_t n, int replace);

/* Writes text to a fresh temp path ending in suffix (the importers pick CSV by ".csv");
 * malloc'd path, remove with tu_remove_temp. */
char *tu_write_named(const char *suffix, const char *text);
/* First column of the first row of sql on ctx's store: as a number (-1 for no row), or as
 * text into out ("<null>" for NULL, "<none>" for no row). A bad statement fails the test. */
long long tu_q_int(wg_ctx *ctx, const char *sql);
const char *tu_q_text(wg_ctx *ctx, const char *sql, char *out, size_t len);

/* Import issues collected by tu_collect_issue (a wg_issue_fn; ud = a tu_issues). */
typedef struct tu_issue {
    size_t where;
    int is_line, repaired, has_code;
    char code[80], kind[32], reason[300];
} tu_issue;
typedef struct tu_issues {
    tu_issue v[32];
    size_t n;
} tu_issues;
struct wg_import_issue;
void tu_collect_issue(void *ud, const struct wg_import_issue *is);
/* Issue i is at `where` with `kind`, repaired or not, with a reason, and has code `code`
 * (NULL: no code at all; "" matches no code or an empty one). */
void tu_expect_issue(const tu_issues *c, size_t i, size_t where, const char *kind, const char *code,
                     int repaired);
#define TU_PI 3.14159265358979323846
/* Area in m² of the cell lon [x0, x1] × lat [y0, y1] bounded by meridians and parallels on the
 * WGS84 ellipsoid, from the authalic-latitude formula A = Δλ b²/2 [q(φ1) - q(φ0)] with
 * q(φ) = sinφ / (1 - e² sin²φ) + ln((1 + e sinφ) / (1 - e sinφ)) / 2e. Independent of
 * geod_polygonarea; for cells of 0.01° the library's geodesic edges differ from the parallels
 * by about 1e-9 of the area (their bulges cancel). */
double tu_cell_area_m2(double x0, double y0, double x1, double y1);
/* Fails the test unless |a - b| <= tol, printing both values. */
#define assert_near(a, b, tol) tu_assert_near_at((a), (b), (tol), #a, __FILE__, __LINE__)
void tu_assert_near_at(double a, double b, double tol, const char *what, const char *file, int line);
#endif
