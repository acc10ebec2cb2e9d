/* Private: the position index's writer side for workers.c (which holds the writers' lock across
 * a store transaction and the index update that follows it), and the distance bounds, exposed
 * for the unit tests. */
#ifndef WANGGE_POSINDEX_H
#define WANGGE_POSINDEX_H

#include "wangge/workers.h"

/* The writers' lock of idx (a mutex; queries never take it). */
void wg_pi_lock(wg_posindex *idx);
void wg_pi_unlock(wg_posindex *idx);

/* The public update functions without taking the lock (the caller holds it). */
int wg_pi_put_locked(wg_posindex *idx, const wg_worker *w);
int wg_pi_move_locked(wg_posindex *idx, const char *id, double lon, double lat, int64_t seen_ms);
int wg_pi_duty_locked(wg_posindex *idx, const char *id, int on_duty);
/* The slot of a worker the index knows (WG_ENOTFOUND: none). A slot stays the same worker's
 * for the index's life, so a batch looks each worker up once; the *_at functions take it. */
int wg_pi_find_locked(wg_posindex *idx, const char *id, uint32_t *si);
int wg_pi_move_at_locked(wg_posindex *idx, uint32_t si, double lon, double lat, int64_t seen_ms);
/* What the index knows of a worker: *active, *seen_ms (INT64_MIN: no position) and *stored_ms
 * (no fix of the worker newer than it is stored, in the track, the position inbox or the open
 * batch: the lesser of the position and the newest stored fix, when the index knows that one
 * (learnt from the track by wg_posindex_sync, raised by another process's fixes at the sync
 * after their merge), and at least the newest fix this process stored). */
void wg_pi_known_at_locked(wg_posindex *idx, uint32_t si, int *active, int64_t *seen_ms,
                           int64_t *stored_ms);
/* Where a fix of the worker at at_ms may be stored (and *active, as wg_pi_known_at_locked
 * tells it): WG_PI_NEW, nowhere (it is newer than all,
 * or between the time ranges its stored fixes lie in); WG_PI_KEYS, only among the key sets
 * (wg_pi_inbox_has_at_locked tells); WG_PI_ASK, maybe in the track too (its key must be
 * searched). */
enum { WG_PI_NEW, WG_PI_KEYS, WG_PI_ASK };
int wg_pi_may_hold_at_locked(wg_posindex *idx, uint32_t si, int64_t at_ms, int *active);
/* The key sets. The inbox is in arrival order and has no key, so the index keeps the (worker,
 * time) of every fix this process stored in this merge round and the one before, and the
 * fixes of the open batch apart until its commit (so a rolled-back batch leaves no key behind):
 * wg_pi_stored_at_locked notes a fix of slot si at at_ms stored by the open batch (and raises
 * the worker's stored_ms; WG_ENOMEM); wg_pi_inbox_has_at_locked tells whether a fix is in
 * any set; wg_pi_batch_ready_locked makes room for the batch's keys before the commit
 * (WG_ENOMEM), so that wg_pi_batch_end_locked (after the commit or the rollback) cannot fail;
 * wg_pi_merged_locked starts a new round once a merge has moved the inbox into the track (the
 * round before the last leaves the sets). Keys of fixes another process stored are not
 * there: the track's key catches those (a process without an index stores into the track
 * itself). */
int wg_pi_stored_at_locked(wg_posindex *idx, uint32_t si, const wg_fix *f, int64_t received_ms);
int wg_pi_inbox_has_at_locked(wg_posindex *idx, uint32_t si, int64_t at_ms);
int wg_pi_batch_ready_locked(wg_posindex *idx);
void wg_pi_batch_end_locked(wg_posindex *idx, int committed);

/* The index's copy of the position inbox. wg_pi_stored_at_locked also keeps the whole fix (the
 * open batch's apart until its commit, as the keys), so that a merge can move the inbox from
 * memory, already sorted, instead of having SQLite read and sort it: valid while the store's
 * merge count is still the one seen at this index's last merge (nothing emptied the inbox
 * since) and the inbox holds as many rows as the copy (nothing else was added).
 * wg_pi_inbox_rows_locked gives the committed rows sorted by worker id, then time (*rows
 * malloc'd, the caller frees it; the ids point into the index) and that merge count;
 * WG_ENOTFOUND when there is no copy (no merge by this index yet, or a row could not be kept
 * for want of memory), WG_ENOMEM. wg_pi_merged_locked starts a new round once a merge has
 * moved the inbox into the track (the round before the last leaves the key sets; the copy is
 * emptied): merges is the store's merge count after it, presorted whether the copy was used. */
typedef struct wg_pi_row {
    const char *worker_id;
    int64_t at_ms, received_ms;
    double lon, lat, accuracy_m; /* accuracy_m NaN: none */
} wg_pi_row;
int wg_pi_inbox_rows_locked(wg_posindex *idx, wg_pi_row **rows, size_t *n, int64_t *merges);
/* Runs sql on ctx's store with the virtual table wg_pi_rows(worker_id, at_ms, lon, lat,
 * accuracy_m, received_ms) giving rows[0..n) in their order (pirows.c). */
int wg_pi_rows_exec(wg_ctx *ctx, const char *sql, const wg_pi_row *rows, size_t n);
void wg_pi_merged_locked(wg_posindex *idx, int64_t merges, int presorted);

/* Several batches of fixes in one transaction (the position writer's group commit): decided
 * in the order given, exactly as if stored one batch after the other, each against its own
 * policy, with its own results and counts (results may be NULL). A store failure fails them
 * all (and stores nothing). wg_positions_add is this with one batch. */
typedef struct wg_fix_batch {
    const wg_fix *fixes;
    size_t n;
    const wg_track_policy *pol;
    wg_fix_result *results;
    wg_fix_counts *counts;
} wg_fix_batch;
int wg_positions_add_batches(wg_ctx *ctx, wg_posindex *idx, const wg_fix_batch *b, size_t nb);

/* Distances (metres) between lon/lat points on WGS84, as the index computes them. */
/* ECEF coordinates of a point on the ellipsoid (height 0). */
void wg_pi_ecef(double lon, double lat, double xyz[3]);
/* Lower and upper bounds on the geodesic distance for an ECEF chord c (margins included). */
double wg_pi_lower_m(double chord_m);
double wg_pi_upper_m(double chord_m);
/* The chord series estimate of the geodesic from (lon1, lat1) to (lon2, lat2) (see
 * posindex.c); meant for chords under 10 km. */
double wg_pi_series_m(double lon1, double lat1, double lon2, double lat2);
/* A lower bound on the geodesic distance from (lon, lat) to any point of the box
 * [w, e] x [s, n] (degrees, w <= e unwrapped relative to lon), valid for distances up to
 * t_m (an upper bound is only claimed when the true distance is <= t_m). */
double wg_pi_box_lower_m(double lon, double lat, double w, double s, double e, double n,
                         double t_m);

/* Tests only: when set, called by every query after it has read a cell's entries and before it
 * checks the cell's sequence number, so that a test can change the index in the middle of a
 * query deterministically (locked: the query holds the writers' lock, so the hook must not
 * write). Process-wide; never set by the library itself. */
extern void (*wg_pi_test_hook)(void *ud, int locked);
extern void *wg_pi_test_hook_ud;

#endif
