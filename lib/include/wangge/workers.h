/* wangge — workers: the roster, GPS fixes with their track, and the in-memory position index
 * that answers "the k nearest workers" with filters applied first and distances in metres on
 * the WGS84 ellipsoid.
 *
 * Model.
 * - A worker (table workers) has an id (1-64 bytes), a name, a phone, a role (grid_worker or
 *   officer), a home grid (a work-grid code; its community is the code's parent prefix, see
 *   wg_code_parent_len), an on-duty flag, a current position with the device time of the fix
 *   that put it there (seen_ms: the last-seen time) and an active flag. Deregistering keeps the
 *   row (its track and the events that name it stay readable) but takes the worker out of
 *   every answer and refuses its fixes; registering the id again brings it back.
 * - A fix (table worker_positions) is one GPS position at a device time at_ms (milliseconds
 *   since the Unix epoch, UTC). (worker, at_ms) is the key: a fix sent twice is stored once
 *   and reported as a duplicate. Fixes are kept in any order: one older than the worker's
 *   newest joins the track only (out of order); only a strictly newer fix moves the current
 *   position and seen_ms. A fix is refused, with a per-fix reason, when its coordinates are not
 *   finite or out of range, its accuracy is negative, its time lies more than max_future_ms
 *   (5 minutes) ahead of now (a phone with a wrong clock would otherwise pin a worker's
 *   position for hours) or behind the retention limit (30 days by default; wg_track_prune
 *   deletes the fixes behind it), or the worker is unknown or deregistered.
 * - The position index (wg_posindex) keeps in memory, per active worker with a position: the
 *   position, on-duty flag, role, home grid, community and seen_ms. Any number of threads query
 *   it while others update it: a query never blocks on a writer and sees one consistent state
 *   (it is linearizable: its answer is the exact answer for the index as it was at one instant
 *   during the call). The store functions below keep an index in step when given one;
 *   wg_posindex_sync reconciles it with the store (changes made by other processes).
 * - Nearest: the filters (on duty, seen within a time, role, home grid, community) select the
 *   workers first, then the k nearest of those are chosen by geodesic distance on WGS84 (as
 *   GeographicLib's geod_inverse computes it), ties broken by worker id (byte order). The
 *   reported distance is geod_inverse's, or for lines under 10 km an equivalent chord series
 *   that agrees with it within 0.1 micrometre (tests/test_workers.c checks both).
 */
#ifndef WANGGE_WORKERS_H
#define WANGGE_WORKERS_H

#include "wangge/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WG_WORKER_ID_MAX 64    /* bytes, as the schema's CHECK */
#define WG_WORKER_NAME_MAX 128 /* bytes of UTF-8 */
#define WG_WORKER_PHONE_MAX 32
#define WG_GRID_CODE_MAX 32 /* as unit codes */

/* How far ahead of now a fix may lie (a phone's clock drifts; more is a wrong clock). */
#define WG_FIX_FUTURE_MS (5 * 60 * 1000LL)
/* How long fixes are kept by default: 30 days. */
#define WG_TRACK_RETENTION_MS (30 * 86400 * 1000LL)
/* Most neighbours one nearest query returns (an answer is a short list for a dispatcher). */
#define WG_NEAREST_MAX_K 1000

/* Roles are bits so that a filter can name several. */
typedef enum wg_worker_role { WG_WORKER_GRID_WORKER = 1, WG_WORKER_OFFICER = 2 } wg_worker_role;
/* "grid_worker", "officer"; NULL for anything else. Static strings. */
WG_API const char *wg_worker_role_name(wg_worker_role role);
/* 0 when the name is neither. */
WG_API wg_worker_role wg_worker_role_parse(const char *name);

/* A worker as stored. Strings are "" when absent. */
typedef struct wg_worker {
    char id[WG_WORKER_ID_MAX + 1];
    char name[4 * WG_WORKER_NAME_MAX + 1]; /* imported rosters may carry longer names */
    char phone[WG_WORKER_PHONE_MAX + 1];
    char home_grid[WG_GRID_CODE_MAX + 1];
    wg_worker_role role;
    int on_duty;      /* 0 or 1 */
    int active;       /* 0: deregistered */
    int has_position; /* lon/lat are known */
    double lon, lat;
    int64_t seen_ms; /* device time of the fix that set the position; 0 if unknown */
} wg_worker;

/* Registration or update of a worker. */
typedef struct wg_worker_reg {
    const char *id;        /* 1-64 bytes, no control characters, no '/' */
    const char *name;      /* 1-128 bytes, no control characters */
    const char *phone;     /* NULL or "": none; else at most 32 of 0-9 + - space ( ) */
    const char *home_grid; /* NULL or "": none; else at most 32 bytes, no control characters */
    wg_worker_role role;
    int on_duty; /* 0, 1, or -1: keep the stored flag (0 for a new worker) */
} wg_worker_reg;

typedef struct wg_posindex wg_posindex;

/* Every function below that takes a wg_posindex *idx (may be NULL) applies its change to idx
 * after the store has committed it, and holds idx's writer lock across both, so the index
 * never shows a state the store does not have. ctx must have a writable store open. */

/* Registers a new worker or updates a stored one (name, phone, role, home grid and, unless
 * on_duty is -1, the duty flag); a deregistered worker becomes active again. The position is
 * never touched. *created (may be NULL) is 1 for a new worker. WG_EINVAL with the reason for a
 * bad field. */
WG_API int wg_worker_register(wg_ctx *ctx, wg_posindex *idx, const wg_worker_reg *w,
                              int *created /* out */);
/* Deregisters a worker (active = 0, off duty). WG_ENOTFOUND if the id is not stored; a worker
 * deregistered already is left as it is. */
WG_API int wg_worker_deregister(wg_ctx *ctx, wg_posindex *idx, const char *id);
/* Sets the on-duty flag. WG_ENOTFOUND: no such worker; WG_ECONFLICT: deregistered. */
WG_API int wg_worker_set_duty(wg_ctx *ctx, wg_posindex *idx, const char *id, int on_duty);
/* One worker. WG_ENOTFOUND if the id is not stored. ctx may be read-only. */
WG_API int wg_worker_get(wg_ctx *ctx, const char *id, wg_worker *out);
/* Every worker (deregistered ones too), by id. Caller frees *out with free(). */
WG_API int wg_workers_list(wg_ctx *ctx, wg_worker **out, size_t *n /* out */);

/* ---------------------------------------------------------------- fixes and the track */

/* One GPS fix. */
typedef struct wg_fix {
    const char *worker_id;
    double lon, lat;   /* WGS84 */
    int64_t at_ms;     /* device time of the fix */
    double accuracy_m; /* horizontal accuracy; NAN when not given */
} wg_fix;

typedef enum wg_fix_outcome {
    WG_FIX_CURRENT = 0, /* stored, and the newest fix of its worker when it arrived: it moved
                           the current position and seen_ms */
    WG_FIX_TRACK,       /* stored in the track only: older than the worker's newest fix */
    WG_FIX_DUPLICATE,   /* the worker has a fix at this time already (stored before, or earlier
                           in the same batch): counted once, nothing stored */
    WG_FIX_REJECTED,    /* refused: see reason */
} wg_fix_outcome;
/* "current", "out_of_order", "duplicate", "rejected". Static strings. */
WG_API const char *wg_fix_outcome_name(wg_fix_outcome o);

typedef struct wg_fix_result {
    wg_fix_outcome outcome;
    /* REJECTED: a short code (static string): "bad_worker_id", "unknown_worker",
     * "deregistered", "bad_coordinates", "bad_accuracy", "future", "too_old"; else NULL */
    const char *reason;
} wg_fix_result;

typedef struct wg_fix_counts {
    size_t current, track, duplicate, rejected;
} wg_fix_counts;

/* What is accepted: times relative to now. Zero fields take the defaults. */
typedef struct wg_track_policy {
    int64_t now_ms;        /* 0: the system clock */
    int64_t max_future_ms; /* 0: WG_FIX_FUTURE_MS */
    int64_t retention_ms;  /* 0: WG_TRACK_RETENTION_MS */
} wg_track_policy;

/* Stores n fixes in one transaction, in the order given (see the model for duplicates and
 * out-of-order fixes). A refused fix is reported in results[i] and does not stop the others;
 * only a store failure fails the call (and then nothing is stored). results (n of them) and
 * counts may be NULL; pol may be NULL (defaults). */
WG_API int wg_positions_add(wg_ctx *ctx, wg_posindex *idx, const wg_fix *fixes, size_t n,
                            const wg_track_policy *pol, wg_fix_result *results /* out */,
                            wg_fix_counts *counts /* out */);

/* One fix of a track. */
typedef struct wg_track_point {
    int64_t at_ms;
    double lon, lat;
    double accuracy_m;   /* NAN if not given */
    int64_t received_ms; /* when the store took it */
} wg_track_point;

/* The fixes of a worker with from_ms <= at_ms <= to_ms, oldest first, at most limit of them
 * (limit 0: 100,000); *more is 1 when there were more in the range. WG_ENOTFOUND if the worker
 * is not stored. Caller frees *out with free(). */
WG_API int wg_track_get(wg_ctx *ctx, const char *worker_id, int64_t from_ms, int64_t to_ms,
                        size_t limit, wg_track_point **out, size_t *n /* out */,
                        int *more /* out, may be NULL */);
/* Deletes every fix with at_ms < before_ms (a worker's current position and seen_ms stay).
 * Runs worker by worker over the key, in transactions of a few hundred workers, so a large
 * track is pruned without a full scan and without holding the write lock for long.
 * *deleted (may be NULL) gets the number of fixes deleted. */
WG_API int wg_track_prune(wg_ctx *ctx, int64_t before_ms, size_t *deleted /* out */);
/* Fixes stored through a position index first land in an inbox in arrival order (cheap to
 * append to, whatever workers and times a batch names); this moves the inbox into the track and
 * each worker's newest fix into its position, in one transaction. Readers see fixes in the inbox
 * already: merging changes where they are kept, not what is read. Callers with a position index
 * (the server) call it with that index now and then (every few seconds, and at start and stop):
 * the index then forgets the inbox keys it kept for its duplicate check. Without an index (idx
 * NULL) it only moves the inbox; wg_positions_add without an index merges by itself and stores
 * into the track directly. *moved (may be NULL) gets the number of fixes moved. */
WG_API int wg_positions_merge(wg_ctx *ctx, wg_posindex *idx, size_t *moved /* out */);

/* A position writer: a thread with a store connection of its own through which the threads of
 * a process store fixes (the server's POST /v1/positions). Batches queued while it stores
 * others go into its next transaction together (group commit: one commit and one fsync for
 * them all), decided exactly as if stored one after the other in queue order; its connection
 * keeps its page cache, which another connection's commit would empty. It merges the position
 * inbox (with the index, as wg_positions_merge) when it starts, every merge_ms, and when it is
 * freed. */
typedef struct wg_poswriter wg_poswriter;
typedef struct wg_poswriter_opts {
    int64_t merge_ms;   /* 0: 3,000 */
    size_t group_fixes; /* fixes per transaction at most (a batch is never split); 0: 16,384 */
    int cache_kib;      /* its connection's page cache; 0: the store's default */
} wg_poswriter_opts;
typedef struct wg_poswriter_stats {
    uint64_t batches, transactions, fixes, merges, merge_failures;
    uint64_t store_us, merge_us; /* time the thread spent storing groups (commits included) and
                                  * merging */
} wg_poswriter_stats;
/* Opens path (writable) for the writer, merges what a previous run left in the inbox and
 * starts the thread; NULL on failure (the reason on err). idx must outlive the writer. */
WG_API wg_poswriter *wg_poswriter_new(wg_ctx *err, const char *path, wg_posindex *idx,
                                      const wg_poswriter_opts *opts);
/* wg_positions_add through the writer: returns once the batch is committed (or failed: the
 * reason on ctx, the caller's own context). Safe from any number of threads. */
WG_API int wg_poswriter_add(wg_poswriter *pw, wg_ctx *ctx, const wg_fix *fixes, size_t n,
                            const wg_track_policy *pol, wg_fix_result *results /* out */,
                            wg_fix_counts *counts /* out */);
/* The same without waiting: queues the batch (fixes, pol, results and counts must stay valid
 * until done is called) and returns; done(ud, rc, errmsg) is called on the writer's thread once
 * the batch is committed (rc WG_OK, errmsg NULL) or has failed, and must not call back into the
 * writer. A refusal to queue (out of memory, stopping) is returned at once (reason on ctx) and
 * done is then not called. */
typedef void (*wg_poswriter_done_fn)(void *ud, int rc, const char *errmsg);
WG_API int wg_poswriter_submit(wg_poswriter *pw, wg_ctx *ctx, const wg_fix *fixes, size_t n,
                               const wg_track_policy *pol, wg_fix_result *results /* out */,
                               wg_fix_counts *counts /* out */, wg_poswriter_done_fn done,
                               void *ud);
/* Waits until every batch queued so far has been reported. */
WG_API void wg_poswriter_drain(wg_poswriter *pw);
/* A batch is counted just after its caller is told (wg_poswriter_drain first for exact counts). */
WG_API void wg_poswriter_get_stats(wg_poswriter *pw, wg_poswriter_stats *out);
/* Stores what is queued, merges the inbox, stops the thread and closes its connection. Returns
 * the last merge's result (its reason on err, which may be NULL). No add may be running. */
WG_API int wg_poswriter_free(wg_poswriter *pw, wg_ctx *err);

/* ---------------------------------------------------------------- the position index */

/* A new, empty index. cell_deg is the side of its cells in degrees (0: 0.02, about 2 km; a
 * cell should hold a handful of workers: 10,000 workers over a 70 km city put about 8 in each,
 * which bench_nearest found fastest). NULL when out of memory or cell_deg is outside
 * [0.0001, 1]. Free with wg_posindex_free. */
WG_API wg_posindex *wg_posindex_new(double cell_deg);
WG_API void wg_posindex_free(wg_posindex *idx);
/* Makes idx hold exactly the active workers of the store (a first load, or picking up what
 * other processes changed): adds, updates and removes workers. *changed (may be NULL) gets the
 * number of workers added, changed or removed. ctx may be read-only. Positions come from the
 * workers table and only ever move forward: a worker whose index position is newer keeps it
 * (fixes still in the position inbox reach the table at the next wg_positions_merge; merge
 * before a first load). */
WG_API int wg_posindex_sync(wg_posindex *idx, wg_ctx *ctx, size_t *changed /* out */);

/* Direct updates, without the store (for callers that keep the workers elsewhere: tests,
 * benchmarks, replicas). Positions must be finite and in range (WG_EINVAL otherwise). */
/* Inserts or replaces a worker's whole state (an inactive worker or one without a position is
 * kept but never answered). */
WG_API int wg_posindex_put(wg_posindex *idx, const wg_worker *w);
/* A fix: moves the worker if seen_ms is newer than its position's. Returns 1 if it moved, 0 if
 * the fix was not newer, WG_ENOTFOUND for an unknown worker. */
WG_API int wg_posindex_move(wg_posindex *idx, const char *id, double lon, double lat,
                            int64_t seen_ms);
WG_API int wg_posindex_set_duty(wg_posindex *idx, const char *id, int on_duty);
/* Forgets a worker (WG_ENOTFOUND if unknown). */
WG_API int wg_posindex_remove(wg_posindex *idx, const char *id);
/* The index's copy of a worker (name and phone empty). WG_ENOTFOUND if unknown. */
WG_API int wg_posindex_get(wg_posindex *idx, const char *id, wg_worker *out);
/* Workers known (active or not) and workers answerable (active with a position). */
WG_API void wg_posindex_counts(wg_posindex *idx, size_t *known, size_t *placed);

enum { WG_DUTY_ANY = 0, WG_DUTY_ON = 1, WG_DUTY_OFF = 2 };
/* A nearest query. Zero-initialise (no filters), then set lon, lat, k and the filters wanted. */
typedef struct wg_near_query {
    double lon, lat;        /* WGS84 */
    int k;                  /* 1..WG_NEAREST_MAX_K */
    int duty;               /* WG_DUTY_ANY (0), WG_DUTY_ON or WG_DUTY_OFF */
    int64_t seen_within_ms; /* > 0: only workers whose position is at most this old */
    int64_t now_ms;         /* for seen_within_ms; 0: the system clock */
    unsigned roles;         /* wg_worker_role bits; 0: any */
    const char *grid;       /* only workers with this home grid; NULL: any */
    const char *community;  /* only workers whose home grid lies in this community */
} wg_near_query;

/* One answer. The strings belong to the index and stay valid until wg_posindex_free. */
typedef struct wg_near {
    const char *id, *name;
    const char *phone;     /* NULL if none */
    const char *home_grid; /* NULL if none */
    const char *community; /* NULL if the home grid has no community prefix */
    wg_worker_role role;
    int on_duty;
    double lon, lat;
    double dist_m;   /* geodesic distance from the query point, metres */
    int64_t seen_ms; /* 0 if unknown */
} wg_near;

/* The k nearest workers that pass the filters, nearest first (ties by id): out gets *n <= k
 * answers (fewer when fewer workers pass). Safe to call from any number of threads while
 * others update idx. WG_EINVAL for a bad k or point. */
WG_API int wg_posindex_nearest(wg_posindex *idx, const wg_near_query *q, wg_near *out /* k */,
                               size_t *n /* out */);
/* A wg_nearest_fn (wangge/events.h) over an index (ud: the wg_posindex): the nearest on-duty
 * worker of any role. Writes its id and returns 1; 0 if there is none; < 0 on failure. */
WG_API int wg_posindex_nearest_fn(void *ud, double lon, double lat, char *worker_id, size_t n);

/* Counters for benchmarks: queries answered, attempts repeated because a writer changed a
 * cell the query read, and queries that fell back to the writer lock; merges of the position
 * inbox with this index, and how many of them moved the index's own sorted copy of the inbox
 * (the others had SQLite read and sort it: another process had written to it or merged it). */
typedef struct wg_posindex_stats {
    uint64_t queries, retries, locked;
    size_t cells, workers, placed;
    uint64_t merges, presorted_merges;
} wg_posindex_stats;
WG_API void wg_posindex_get_stats(wg_posindex *idx, wg_posindex_stats *out);
/* presorted_merges alone, without waiting for the index's lock (which a merge holds for its
 * whole transaction): for /metrics. */
WG_API uint64_t wg_posindex_presorted_merges(wg_posindex *idx);

/* ---------------------------------------------------------------- JSON */

struct wg_lookup;
/* WG_NEAR_PERSONAL: include phones; WG_NEAR_GCJ02: each worker also gets "gcj02":{"lon","lat"},
 * its position as Chinese web maps draw it */
enum { WG_NEAR_PERSONAL = 1, WG_NEAR_GCJ02 = 2 };
/* The answer to a nearest query as JSON text (malloc'd; NULL when out of memory):
 * {"lon","lat","k","filters":{"on_duty","seen_within_min","role","grid","community"},
 *  "generation","count","workers":[{"id","name"[,"phone"],"role","on_duty","lon","lat",
 *  "seen_at","distance_m"[,"gcj02"],"home_grid":{"code","name"}|null,
 *  "community":{"code","name"}|null,"current_grid":{"code","name"}|null}]}. With lk (may be NULL)
 * the grid and community names come from its generation and current_grid is the grid the worker's
 * position falls in; "generation" is null without lk. ctx is the calling thread's context (for lk's
 * point lookups). The one format of the CLI and the server. */
WG_API char *wg_nearest_json(const struct wg_lookup *lk, wg_ctx *ctx, const wg_near_query *q,
                             const wg_near *res, size_t n, unsigned flags);
/* A worker as JSON text (malloc'd): {"id","name"[,"phone"],"role","home_grid","on_duty",
 * "active","lon","lat","seen_at","seen_ms"} (position members null when unknown). */
WG_API char *wg_worker_json(const wg_worker *w, unsigned flags);
/* ms since the epoch as "YYYY-MM-DDTHH:MM:SS.sssZ" (out: 32 bytes). */
WG_API void wg_ms_to_iso(int64_t ms, char out[32]);

#ifdef __cplusplus
}
#endif
#endif
