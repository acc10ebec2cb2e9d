/* Private: a static packed R-tree of axis-aligned boxes (sort-tile-recursive packing), for
 * "which of these boxes meet this window" when selecting features per tile.
 *
 * Layout: the items' boxes sorted by STR (slices by centre x, then by centre y inside a slice)
 * are the leaves; each level above holds one box per run of WG_BOXTREE_FANOUT boxes of the
 * level below, so node k of a level has children k * FANOUT .. k * FANOUT + FANOUT - 1. No
 * pointers: boxes and the leaf order only. Immutable after build; any thread may query. */
#ifndef WANGGE_BOXTREE_H
#define WANGGE_BOXTREE_H

#include "internal.h"

#define WG_BOXTREE_FANOUT 16

typedef struct wg_boxtree wg_boxtree;

/* Builds a tree over n boxes (box[4 * i ..] = minx, miny, maxx, maxy; item i is answered as
 * i). n may be 0. NULL when out of memory. Free with wg_boxtree_free. */
wg_boxtree *wg_boxtree_build(const double *box, size_t n);
void wg_boxtree_free(wg_boxtree *t);

/* Appends to *out (a growable array, *cap its capacity) every item whose box meets the window
 * (closed boxes: touching counts), in no particular order. WG_OK or WG_ENOMEM. */
int wg_boxtree_query(const wg_boxtree *t, const double win[4], uint32_t **out, size_t *n,
                     size_t *cap);
size_t wg_boxtree_bytes(const wg_boxtree *t);
size_t wg_boxtree_count(const wg_boxtree *t); /* items */

/* Nearest item to (x, y) under the metric ((dx * kx)^2 + dy^2), branch and bound: boxes are
 * visited nearest first and skipped once their distance reaches the best found. item_d2(ud,
 * item, best) gives an item's squared distance (it may return any value >= best when the item
 * cannot beat best). Returns the item (ties: the lowest item) or UINT32_MAX when the tree is
 * empty or no item is nearer than *best on entry (pass INFINITY); *best gets its distance. */
typedef double (*wg_boxtree_item_d2)(void *ud, uint32_t item, double best);
uint32_t wg_boxtree_nearest(const wg_boxtree *t, double x, double y, double kx,
                            wg_boxtree_item_d2 item_d2, void *ud, double *best);

#endif
