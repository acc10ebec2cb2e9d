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
/* What the index knows of a worker: 1 with *active, *seen_ms (INT64_MIN: no position) and
 * *stored_ms (no fix of the worker newer than it is stored, in the track or the position inbox;
 * INT64_MAX when the index does not know: learnt from the track by wg_posindex_sync, raised by
 * another process's fixes at the sync after their merge), or 0 if it does not know the
 * worker. */
int wg_pi_known_locked(wg_posindex *idx, const char *id, int *active, int64_t *seen_ms,
                       int64_t *stored_ms);
/* Notes a fix of worker id at at_ms stored by this process. */
void wg_pi_stored_locked(wg_posindex *idx, const char *id, int64_t at_ms);

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
