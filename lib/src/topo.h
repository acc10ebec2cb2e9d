/* Private: the shared-edge network of a polygon coverage, and simplification that keeps
 * shared edges shared.
 *
 * Model. The input is a set of rings (every ring of every polygon of every level of a
 * generation) in projected metres. Vertices are identified by their exact coordinates. Where a
 * vertex of one ring lies on a segment of another (within WG_TOPO_SNAP_M), it is inserted into
 * that segment, so a parent's long edge and the children's vertices along it become the same
 * vertex sequence. A vertex is a node when it has other than two distinct neighbours over all
 * rings (the set of rings running through it changes there); a ring with no node at all gets
 * its lowest vertex as a node, chosen the same way by every ring that runs along it. Between
 * nodes, rings are cut into chains; a chain is stored once, and every ring that runs along it
 * (a grid, its neighbour, the community and the district above them, in either direction)
 * refers to that one chain.
 *
 * Simplification is Douglas–Peucker on each chain, endpoints (nodes) kept. It is computed once
 * for all tolerances: each interior vertex gets a significance, the least split distance on
 * its path in the recursion tree, and DP at tolerance t keeps exactly the vertices whose
 * significance exceeds t. A chain that closes on itself keeps at least three distinct points.
 * A ring is rebuilt from its simplified chains, so two rings that share a chain share its
 * simplified form at every tolerance: neighbours stay edge to edge, with no crack or sliver.
 *
 * An immutable wg_topo is safe to read from any number of threads. */
#ifndef WANGGE_TOPO_H
#define WANGGE_TOPO_H

#include "internal.h"

/* A vertex closer than this to another ring's segment is inserted into it (metres). Planar
 * data shares vertices exactly; this catches a parent drawn with fewer vertices than its
 * children (a rectangle over two rectangles) without moving any real vertex noticeably. */
#define WG_TOPO_SNAP_M 1e-3

typedef struct wg_topo wg_topo;

/* A growable array of points (x, y pairs); n counts points. */
typedef struct wg_xy_buf {
    double *v;
    size_t n, cap;
} wg_xy_buf;
int wg_xy_buf_reserve(wg_xy_buf *b, size_t points);
void wg_xy_buf_free(wg_xy_buf *b);

/* Builds the network of nrings rings: ring i is the points xy[2 * start[i] .. 2 * start[i + 1])
 * (x, y pairs; a closing repeat of the first point is allowed and ignored; consecutive
 * duplicates are dropped). A ring with fewer than 3 distinct points is kept as an empty ring so
 * that ring numbers stay those of the input. Caller frees *out with wg_topo_free(). */
int wg_topo_build(wg_ctx *ctx, const double *xy, const size_t *start, size_t nrings, wg_topo **out);
void wg_topo_free(wg_topo *t);

size_t wg_topo_rings(const wg_topo *t);
size_t wg_topo_chains(const wg_topo *t);
/* Points stored in all chains (each chain's end nodes included). */
size_t wg_topo_points(const wg_topo *t);
/* Bytes held by t. */
size_t wg_topo_bytes(const wg_topo *t);

/* The chains of ring r, in ring order: refs[k] >> 1 is the chain number, refs[k] & 1 set means
 * the ring runs along it backwards. Owned by t. */
size_t wg_topo_ring_refs(const wg_topo *t, size_t r, const uint32_t **refs);
/* Number of points of chain c (both end nodes included) and a pointer to them (x, y pairs). */
size_t wg_topo_chain_xy(const wg_topo *t, size_t c, const double **xy);

/* Appends ring r simplified at tolerance tol_m (metres; negative keeps every vertex, 0 drops
 * only vertices exactly on the line of their kept neighbours) to out: its points in ring
 * order, the first not repeated at the end. With a window (minx, miny, maxx, maxy; NULL for
 * none), a chain whose box does not meet the window is replaced by its end points for a
 * caller that clips the ring to that window: the chain and the straight segment between its
 * ends lie in one half-plane outside the window, so the ring winds around every point of the
 * window as often as before and clips to the same region (only the zero-width parts along
 * the window's edge differ); every ring that shares the chain does the same. Returns WG_OK or
 * WG_ENOMEM (out keeps what it had). A ring may come out with fewer than 3 points or zero
 * area: the caller drops it. */
int wg_topo_ring_xy(const wg_topo *t, size_t r, double tol_m, const double *win, wg_xy_buf *out);

#endif
