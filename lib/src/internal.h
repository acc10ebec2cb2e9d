/* Private to libwangge: the context layout and helpers shared by the modules. */
#ifndef WANGGE_INTERNAL_H
#define WANGGE_INTERNAL_H

#include "wangge/common.h"

#include <proj.h>
#include <geodesic.h>
#include <sqlite3.h>
#include <stdio.h>

struct wg_ctx {
    GEOSContextHandle_t geos;
    PJ_CONTEXT *proj;
    sqlite3 *db;            /* NULL for a compute-only context */
    void *spatialite_cache; /* SpatiaLite's per-connection state */
    struct geod_geodesic wgs84;
    char geos_msg[512];     /* last message from GEOS's error handler */
    size_t max_vertices;    /* vertex cap of one geometry read from GeoJSON; 0: WG_MAX_VERTICES */
    int writing;            /* holds the process's writer lock (wg_begin .. commit/rollback) */
    /* rows the virtual table wg_pi_rows reads (pirows.c); feed_module: registered on db */
    const struct wg_pi_row *feed;
    size_t feed_n;
    int feed_module;
    char err[1024];
};

/* Records a failure on ctx and returns rc, so call sites read: return wg_fail(ctx, ...). */
int wg_fail(wg_ctx *ctx, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* wg_fail for a failed SQLite call: appends sqlite3_errmsg(). */
int wg_fail_sql(wg_ctx *ctx, const char *what);
/* wg_fail for a GEOS call that returned NULL/exception: appends GEOS's message. */
int wg_fail_geos(wg_ctx *ctx, const char *what);

/* A monotonic clock in milliseconds, for run times and intervals. */
double wg_mono_ms(void);

/* Opens path for reading ("-" = stdin), refusing directories; *total = size of a regular file,
 * else 0. On failure *fp may be set (the caller closes it unless it is stdin). */
int wg_open_input(wg_ctx *ctx, const char *path, FILE **fp, uint64_t *total);

/* Small growable array helper: ensures cap >= need for *buf of elements of size elem. */
int wg_grow(void **buf, size_t *cap, size_t need, size_t elem);

/* An item's index with the key it sorts by. wg_cmp_keyed (for qsort) orders by key, then by
 * index, so equal keys keep a deterministic order on every platform. */
typedef struct wg_keyed {
    double key;
    size_t idx;
} wg_keyed;

static inline int wg_cmp_keyed(const void *pa, const void *pb)
{
    const wg_keyed *a = pa, *b = pb;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

#endif
