/* Private: points of the store (addresses, events) read into parallel arrays, the form bulk
 * lookups take (wg_lookup_bulk). Used by publish (assignments) and by the diff of two
 * generations. */
#ifndef WANGGE_POINTS_H
#define WANGGE_POINTS_H

#include "internal.h"

typedef struct wg_points {
    int64_t *id;
    double *lon, *lat;
    int64_t *hh; /* households, when the query has a fourth column; else NULL */
    size_t n, cap;
} wg_points;

/* Appends every row of sql, whose columns are id, lon, lat and optionally households. */
int wg_points_read(wg_ctx *ctx, const char *sql, wg_points *p);
void wg_points_free(wg_points *p);

#endif
