/* Private: a parallel for over [0, n) in contiguous shares, one wg_ctx per thread. */
#ifndef WANGGE_PARALLEL_H
#define WANGGE_PARALLEL_H
#include "internal.h"

typedef void (*wg_range_fn)(void *arg, wg_ctx *ctx, size_t begin, size_t end);
/* Runs fn on `threads` threads (<= 0: the online CPUs), the calling thread taking the last
 * share. Each share gets a fresh compute-only context of its own. WG_ENOMEM if a context
 * could not be made (that share is not run). */
int wg_parallel_for(size_t n, int threads, wg_range_fn fn, void *arg);
#endif
