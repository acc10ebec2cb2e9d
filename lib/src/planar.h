/* Private: planar partitions built from linework. The generator cuts a district into blocks
 * with it, and division (issue 5) will cut communities along roads the same way.
 *
 * Faces come from one noding of all the lines (snap-rounded to a fixed grid) followed by
 * polygonization, so neighbouring faces share their edges vertex for vertex: any union of
 * faces (GEOSCoverageUnion) tiles exactly, with no gap or overlap at any scale. */
#ifndef WANGGE_PLANAR_H
#define WANGGE_PLANAR_H

#include "internal.h"

/* The faces inside region of the arrangement formed by region's boundary and lines (any
 * lineal geometries; parts outside region are dropped). Coordinates are snap-rounded to
 * multiples of grid (degrees; 1e-7 is about a centimetre). *faces is a new array of Polygons
 * owned by the caller (wg_planar_free). The order is deterministic for the same input. */
int wg_planar_faces(wg_ctx *ctx, const GEOSGeometry *region, GEOSGeometry *const *lines,
                    size_t nlines, double grid, GEOSGeometry ***faces, size_t *nfaces);
void wg_planar_free(wg_ctx *ctx, GEOSGeometry **faces, size_t n);

/* Adjacency of polygons that share edges exactly (faces of wg_planar_faces, or unions of
 * them), as compressed rows: the neighbours of polygon i are nbr[start[i] .. start[i+1]),
 * in increasing order, with the geodesic length in metres of the boundary they share in
 * shared[]. Polygons that touch at a point only are not neighbours. */
typedef struct wg_adjacency {
    size_t n;
    size_t *start; /* n + 1 entries */
    size_t *nbr;
    double *shared;
} wg_adjacency;
int wg_planar_adjacency(wg_ctx *ctx, GEOSGeometry *const *polys, size_t n, wg_adjacency *out);
void wg_adjacency_free(wg_adjacency *a);

/* Edges shared exactly, found by sorting ring segments (wg_planar_adjacency; division's
 * classified boundary pieces). A segment has its endpoints in order (a before b: lon, then lat)
 * and the index of the polygon whose ring it lies on. Sorted (wg_segs_sort: endpoints, then
 * polygon), equal segments stand together: one alone lies on the outer boundary, two of
 * different polygons are an edge they share. */
typedef struct wg_seg {
    double ax, ay, bx, by;
    size_t poly;
} wg_seg;
typedef struct wg_seg_list {
    wg_seg *v; /* the caller frees v */
    size_t n, cap;
} wg_seg_list;
/* Appends the segments of Polygon p's rings (exterior, then holes; repeated points skipped). */
int wg_segs_add_polygon(wg_ctx *ctx, const GEOSGeometry *p, size_t poly, wg_seg_list *l);
void wg_segs_sort(wg_seg_list *l);
/* The end (one past) of the run of segments with the endpoints of l->v[a], in a sorted list. */
size_t wg_segs_run_end(const wg_seg_list *l, size_t a);

/* The union of polys[idx[0..n)] (a clean coverage) as a Polygon or MultiPolygon; NULL on a
 * GEOS error (recorded on ctx). The inputs are not consumed. */
GEOSGeometry *wg_planar_union(wg_ctx *ctx, GEOSGeometry *const *polys, const size_t *idx, size_t n);

/* Reading order of map units for sequence codes (DESIGN.md): rows north→south, west→east
 * within a row. x, y are representative points (lon, lat) of n units; rows are bands of equal
 * height, their number chosen so that rows are about as long as the set is wide. Writes the
 * permutation into order (order[0] gets the first code). */
void wg_order_reading(const double *x, const double *y, size_t n, size_t *order);

#endif
