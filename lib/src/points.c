/* Points read from the store: see points.h. */
#include "points.h"
#include "store_schema.h"

#include <stdlib.h>
#include <string.h>

void wg_points_free(wg_points *p)
{
    free(p->id);
    free(p->lon);
    free(p->lat);
    free(p->hh);
    memset(p, 0, sizeof *p);
}

/* Doubles the capacity (4096 at first); on failure the arrays that grew keep their rows. */
static int grow(wg_points *p, int with_hh)
{
    size_t cap = p->cap ? 2 * p->cap : 4096;
    int64_t *id = realloc(p->id, cap * sizeof *id);
    if (id) p->id = id;
    double *lon = id ? realloc(p->lon, cap * sizeof *lon) : NULL;
    if (lon) p->lon = lon;
    double *lat = lon ? realloc(p->lat, cap * sizeof *lat) : NULL;
    if (lat) p->lat = lat;
    int64_t *hh = lat && with_hh ? realloc(p->hh, cap * sizeof *hh) : NULL;
    if (hh) p->hh = hh;
    if (!lat || (with_hh && !hh)) return WG_ENOMEM;
    p->cap = cap;
    return WG_OK;
}

int wg_points_read(wg_ctx *ctx, const char *sql, wg_points *p)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, sql, &st), s = SQLITE_DONE;
    int with_hh = rc == WG_OK && sqlite3_column_count(st) > 3;
    while (rc == WG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (p->n == p->cap && grow(p, with_hh) != WG_OK) {
            rc = wg_fail(ctx, WG_ENOMEM, "out of memory reading points");
            break;
        }
        p->id[p->n] = sqlite3_column_int64(st, 0);
        p->lon[p->n] = sqlite3_column_double(st, 1);
        p->lat[p->n] = sqlite3_column_double(st, 2);
        if (with_hh) p->hh[p->n] = sqlite3_column_int64(st, 3);
        p->n++;
    }
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read points");
    sqlite3_finalize(st);
    return rc;
}
