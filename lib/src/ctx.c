/* The per-thread context: one GEOS handle, one PROJ context, one SQLite connection.
 *
 * GEOS errors are routed by GEOSContext_setErrorMessageHandler_r into the context that made
 * the call (no global buffer), so contexts on different threads never see each other's
 * messages. SpatiaLite is initialised per connection with spatialite_init_ex (its reentrant
 * form), never the legacy global spatialite_init. */
#include "internal.h"
#include "store_schema.h"

#include <spatialite.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double wg_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void geos_message(const char *msg, void *userdata)
{
    wg_ctx *ctx = userdata;
    snprintf(ctx->geos_msg, sizeof ctx->geos_msg, "%s", msg);
}

int wg_fail(wg_ctx *ctx, int rc, const char *fmt, ...)
{
    if (!ctx) return rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
    va_end(ap);
    return rc;
}

int wg_fail_sql(wg_ctx *ctx, const char *what)
{
    return wg_fail(ctx, WG_ESTORE, "%s: %s", what, ctx->db ? sqlite3_errmsg(ctx->db) : "no store");
}

int wg_fail_geos(wg_ctx *ctx, const char *what)
{
    return wg_fail(ctx, WG_EGEOS, "%s: %s", what, ctx->geos_msg[0] ? ctx->geos_msg : "GEOS error");
}

int wg_grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return WG_OK;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) ncap *= 2;
    void *p = realloc(*buf, ncap * elem);
    if (!p) return WG_ENOMEM;
    *buf = p;
    *cap = ncap;
    return WG_OK;
}

const char *wg_errmsg(const wg_ctx *ctx)
{
    return ctx ? ctx->err : "no context";
}

const char *wg_rc_name(int rc)
{
    switch (rc) {
    case WG_OK: return "ok";
    case WG_EINVAL: return "invalid_argument";
    case WG_EDATA: return "bad_data";
    case WG_ESTORE: return "store";
    case WG_EGEOS: return "geos";
    case WG_ENOMEM: return "no_memory";
    case WG_EIO: return "io";
    case WG_ENOTFOUND: return "not_found";
    case WG_ECONFLICT: return "conflict";
    case WG_EFAULTS: return "faults";
    default: return "unknown";
    }
}

GEOSContextHandle_t wg_geos(wg_ctx *ctx)
{
    return ctx->geos;
}

int wg_ctx_set_max_vertices(wg_ctx *ctx, size_t n)
{
    if (n != 0 && (n < 4 || n > WG_MAX_VERTICES))
        return wg_fail(ctx, WG_EINVAL, "the vertex cap is 4 to %d, not %zu", WG_MAX_VERTICES, n);
    ctx->max_vertices = n;
    return WG_OK;
}

static void close_store(wg_ctx *ctx)
{
    if (ctx->db) sqlite3_close_v2(ctx->db); /* rolls back an open transaction */
    wg_write_release(ctx);
    if (ctx->spatialite_cache) spatialite_cleanup_ex(ctx->spatialite_cache);
    ctx->db = NULL;
    ctx->spatialite_cache = NULL;
    ctx->feed_module = 0;
}

int wg_store_set_cache(wg_ctx *ctx, int kib)
{
    if (!ctx || !ctx->db || kib < 64) return ctx ? wg_fail(ctx, WG_EINVAL, "no store, or a cache under 64 KiB") : WG_EINVAL;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d", kib);
    return wg_exec(ctx, sql);
}

long long wg_store_memory_used(void)
{
    return (long long)sqlite3_memory_used();
}

int wg_store_open(wg_ctx *ctx, const char *path, int flags)
{
    if (ctx->db) return wg_fail(ctx, WG_EINVAL, "context already has a store open");
    int oflags = (flags & WG_STORE_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if ((flags & WG_STORE_CREATE) && !(flags & WG_STORE_READONLY)) oflags |= SQLITE_OPEN_CREATE;
    oflags |= SQLITE_OPEN_NOMUTEX; /* one connection per thread: no shared-cache locking */
    int src = sqlite3_open_v2(path, &ctx->db, oflags, NULL);
    if (src != SQLITE_OK) {
        wg_fail(ctx, WG_ESTORE, "cannot open store %s: %s", path,
                ctx->db ? sqlite3_errmsg(ctx->db) : "out of memory");
        sqlite3_close_v2(ctx->db);
        ctx->db = NULL;
        return WG_ESTORE;
    }
    sqlite3_busy_timeout(ctx->db, 10000);
    sqlite3_extended_result_codes(ctx->db, 1);
    ctx->spatialite_cache = spatialite_alloc_connection();
    if (!ctx->spatialite_cache) {
        close_store(ctx);
        return wg_fail(ctx, WG_ENOMEM, "cannot allocate SpatiaLite state");
    }
    spatialite_init_ex(ctx->db, ctx->spatialite_cache, 0);
    int rc = wg_schema_prepare(ctx, !(flags & WG_STORE_READONLY));
    if (rc != WG_OK) close_store(ctx); /* a refused store stays untouched and detached */
    return rc;
}

wg_ctx *wg_ctx_new(void)
{
    wg_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    ctx->geos = GEOS_init_r();
    ctx->proj = proj_context_create();
    if (!ctx->geos || !ctx->proj) {
        wg_ctx_free(ctx);
        return NULL;
    }
    GEOSContext_setErrorMessageHandler_r(ctx->geos, geos_message, ctx);
    GEOSContext_setNoticeMessageHandler_r(ctx->geos, NULL, NULL);
    proj_log_level(ctx->proj, PJ_LOG_NONE);
    geod_init(&ctx->wgs84, 6378137.0, 1.0 / 298.257223563);
    return ctx;
}

void wg_ctx_free(wg_ctx *ctx)
{
    if (!ctx) return;
    close_store(ctx);
    if (ctx->proj) proj_context_destroy(ctx->proj);
    if (ctx->geos) GEOS_finish_r(ctx->geos);
    free(ctx);
}
