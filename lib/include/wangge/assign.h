/* wangge — (re)assignment of every address and event to the work grids of a generation.
 *
 * Each run stores one row per address and event for the generation (its grid code, or
 * outside with the nearest grid and distance in metres) and compares the result with the
 * previous run (of whatever generation): an item whose grid code differs has changed.
 * Codes persist across generations for unchanged grids, so the comparison is by code. */
#ifndef WANGGE_ASSIGN_H
#define WANGGE_ASSIGN_H

#include "wangge/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wg_assign_change {
    const char *kind;      /* "address" or "event" */
    int64_t item_id;
    const char *old_code;  /* NULL: was outside every grid */
    const char *new_code;  /* NULL: now outside every grid */
} wg_assign_change;

typedef void (*wg_change_fn)(void *ud, const wg_assign_change *change);

typedef struct wg_assign_stats {
    int64_t generation, previous_generation; /* previous 0 if this is the first run */
    size_t addresses, events;
    size_t assigned, outside;                /* over addresses and events */
    size_t changed, fresh;                   /* changed grid since the last run; not in it */
    size_t households_assigned;
    double seconds;
} wg_assign_stats;

/* Assigns everything to generation `generation` (0 = active) on `threads` threads (<= 0: all
 * CPUs) and stores the result in one transaction. on_change (may be NULL) is called for each
 * changed item, in kind then id order. */
WG_API int wg_assign(wg_ctx *ctx, int64_t generation, int threads, wg_change_fn on_change,
                     void *ud, wg_assign_stats *out);

#ifdef __cplusplus
}
#endif
#endif
