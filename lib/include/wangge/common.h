/* wangge — common definitions: return codes and the per-thread context.
 *
 * One success convention across the library: every function that can fail returns an
 * int rc, WG_OK (0) on success or one of the negative WG_E* codes; the message that
 * goes with a failure is read with wg_errmsg() on the context the call was given.
 * On failure, outputs (marked "out") are left empty (NULL / 0) and nothing is leaked.
 */
#ifndef WANGGE_COMMON_H
#define WANGGE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifndef GEOS_USE_ONLY_R_API
#define GEOS_USE_ONLY_R_API
#endif
#include <geos_c.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define WG_API __attribute__((visibility("default")))
#else
#define WG_API
#endif

enum wg_rc {
    WG_OK = 0,
    WG_EINVAL = -1,    /* bad argument from the caller (a usage error) */
    WG_EDATA = -2,     /* bad input data: a file, a feature, a coordinate */
    WG_ESTORE = -3,    /* the SQLite/SpatiaLite store failed */
    WG_EGEOS = -4,     /* GEOS reported an error */
    WG_ENOMEM = -5,    /* out of memory */
    WG_EIO = -6,       /* a file could not be read or written */
    WG_ENOTFOUND = -7, /* the named generation, unit or item does not exist */
    WG_ECONFLICT = -8, /* the request conflicts with the stored state */
    WG_EFAULTS = -9,   /* validation found faults (publish refused) */
};

/* Per-thread context: owns one GEOS handle (errors routed into this context), one PROJ
 * context, and (when opened on a store) one SQLite connection with SpatiaLite. A context is
 * used by one thread at a time; create one per thread. */
typedef struct wg_ctx wg_ctx;

/* Store open flags. */
enum { WG_STORE_READONLY = 1, WG_STORE_CREATE = 2 };

/* Creates a compute-only context (GEOS + PROJ, no store). Returns NULL only when out of
 * memory. Caller frees it with wg_ctx_free(). */
WG_API wg_ctx *wg_ctx_new(void);
/* Opens the SQLite/SpatiaLite store at path on ctx (one store per context). With
 * WG_STORE_CREATE a missing store is created; any writable open creates or migrates the
 * schema to WG_SCHEMA_VERSION. A store newer than this build is refused (WG_ESTORE). */
WG_API int wg_store_open(wg_ctx *ctx, const char *path, int flags);
/* Sets the page cache of ctx's store connection to kib KiB (a writable open gets 64 MiB, for
 * long imports; a read-only one SQLite's 2 MiB). A server with a writable connection per thread
 * keeps them small: SQLite drops a connection's cache whenever another connection commits, so
 * a large one only holds memory. WG_EINVAL without a store or for kib < 64. */
WG_API int wg_store_set_cache(wg_ctx *ctx, int kib);
/* Bytes SQLite has allocated in this process, all connections together (page caches,
 * statements): for a server's memory gauges. */
WG_API long long wg_store_memory_used(void);
/* Closes the store (if any) and frees everything the context owns. NULL is a no-op. */
WG_API void wg_ctx_free(wg_ctx *ctx);

/* The message of the last failure on this context ("" if none). Owned by ctx; valid until
 * the next call on ctx. */
WG_API const char *wg_errmsg(const wg_ctx *ctx);
/* Name of an rc ("ok", "data", "store", ...). Static string. */
WG_API const char *wg_rc_name(int rc);

/* The context's GEOS handle, for callers that build geometries to pass in. Owned by ctx. */
WG_API GEOSContextHandle_t wg_geos(wg_ctx *ctx);

/* Vertex cap of one geometry (one feature) read from GeoJSON: a city work grid has hundreds of
 * vertices, a district tens of thousands at most; 1M bounds memory and the cost of validation
 * on hostile input. A feature above the cap is refused with the fault too_many_vertices. */
#define WG_MAX_VERTICES 1000000
/* Lowers the vertex cap for geometries read on ctx (e.g. a server's limit for request
 * bodies); n from 4 to WG_MAX_VERTICES, or 0 for WG_MAX_VERTICES. WG_EINVAL otherwise. */
WG_API int wg_ctx_set_max_vertices(wg_ctx *ctx, size_t n);

/* Schema version this build creates and understands. */
#define WG_SCHEMA_VERSION 6

#ifdef __cplusplus
}
#endif
#endif
