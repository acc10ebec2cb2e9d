/* wangge — point lookup over a generation: district, community and work grid for a lon/lat.
 *
 * Built from the store once (one exact point index per level, see pindex.h), then immutable
 * and shared by any number of threads. The grid is found with the grid index; its community
 * and district are its parents (a work grid belongs to exactly one community). A point in no
 * grid is looked up in the community and district indexes, and is answered as outside with
 * the nearest grid and the geodesic distance to it in metres. */
#ifndef WANGGE_LOOKUP_H
#define WANGGE_LOOKUP_H

#include "wangge/common.h"
#include "wangge/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wg_lookup wg_lookup;

typedef struct wg_hit {
    int32_t district, community, grid; /* unit indexes (wg_lookup_unit), -1 if none */
    int32_t nearest_grid;              /* when grid == -1: the nearest grid, or -1 if none */
    double dist_m;                     /* distance to nearest_grid in metres; 0 inside */
} wg_hit;

/* The grid worker of a grid (table workers, role grid_worker, home_grid = the grid's code;
 * the lowest id if several). Strings owned by the lookup; phone may be NULL. */
typedef struct wg_worker_brief {
    const char *id, *name, *phone;
    int on_duty;
} wg_worker_brief;

/* Loads generation `generation` (0 = the active one), with the grid workers known at load
 * time. Caller frees with wg_lookup_free(). */
WG_API int wg_lookup_load(wg_ctx *ctx, int64_t generation, wg_lookup **out);
WG_API void wg_lookup_free(wg_lookup *lk);
WG_API int64_t wg_lookup_generation(const wg_lookup *lk);
/* Unit metadata by index (geometry not kept: geom is NULL). Owned by lk. */
WG_API const wg_unit *wg_lookup_unit(const wg_lookup *lk, int32_t i);
WG_API size_t wg_lookup_count(const wg_lookup *lk, int level);
/* The grid worker of unit i (a grid), or NULL if none is known. Its on_duty is as loaded; the
 * flag now is wg_lookup_on_duty. */
WG_API const wg_worker_brief *wg_lookup_worker(const wg_lookup *lk, int32_t i);
/* Whether the grid worker of unit i is on duty now (0 when the unit has none). */
WG_API int wg_lookup_on_duty(const wg_lookup *lk, int32_t i);
/* Records that worker_id went on or off duty: answers made from now on (any thread, while
 * others answer) show it. Returns the number of grids it is the worker of. Names, phones and
 * who works which grid stay as loaded; a new load picks those up. */
WG_API size_t wg_lookup_set_duty(wg_lookup *lk, const char *worker_id, int on_duty);
/* Reads every grid worker's on-duty flag from the store again (e.g. after another process
 * changed them). */
WG_API int wg_lookup_refresh_duty(wg_lookup *lk, wg_ctx *ctx);
/* One point. ctx is the calling thread's context. */
WG_API void wg_lookup_point(const wg_lookup *lk, wg_ctx *ctx, double lon, double lat,
                            wg_hit *out);
/* Only the grid holding the point (a unit index), or -1: no community, district or nearest
 * grid is looked for. ctx is the calling thread's context. */
WG_API int32_t wg_lookup_grid(const wg_lookup *lk, wg_ctx *ctx, double lon, double lat);
/* Many points on `threads` threads (<= 0: all CPUs). */
WG_API int wg_lookup_bulk(const wg_lookup *lk, const double *lon, const double *lat, size_t n,
                          wg_hit *out, int threads);

/* The answer for one point as a JSON object (text, malloc'd; NULL when out of memory):
 * {"lon","lat","generation","district":{code,name}|null,"community":...,"grid":...,
 *  "worker":{id,name,phone,on_duty}|null,"outside":bool[,"nearest":{code,name,distance_m}]}.
 * The one format of the CLI (lookup --json) and the server (GET/POST /v1/lookup). */
WG_API char *wg_lookup_json(const wg_lookup *lk, const wg_hit *h, double lon, double lat);
/* The same, with flags: without WG_LOOKUP_PERSONAL the worker's phone is left out (for callers
 * not entitled to personal data). wg_lookup_json includes it. */
enum { WG_LOOKUP_PERSONAL = 1 };
WG_API char *wg_lookup_json_ex(const wg_lookup *lk, const wg_hit *h, double lon, double lat,
                               unsigned flags);

#ifdef __cplusplus
}
#endif
#endif
