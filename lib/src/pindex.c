/* The exact point index.
 *
 * Input: valid polygons (the store holds only valid ones; import repairs or refuses the rest).
 * An invalid ring, a bowtie say, has no consistent inside, and answers near it are undefined.
 *
 * Model. The polygons' rings are cut into edges, each stored once per polygon with its lower
 * endpoint first (a.y <= b.y) and a flag saying whether the polygon's interior lies west of it
 * (to the left of the upward edge). The extent is covered by a uniform grid of top cells sized
 * with CELLS_PER_EDGE cells per edge; a top cell with more than LEAF_MAX edges is
 * split as a quadtree (children SW, SE, NW, NE at the midpoints) until it has few edges or
 * reaches MAX_DEPTH. A leaf lists the edges that touch it (tested against the leaf's box grown
 * by a tiny margin, so no edge is missed through rounding); a leaf touched by no edge is pure
 * and stores the one region (polygon or outside) that covers all of it.
 *
 * Lookup of p = (x, y). Find the leaf holding p. A pure leaf answers at once: most points
 * land in one. Otherwise cast a ray from p towards +x: the region holding p is the one lying
 * immediately west of the first edge the ray meets (see walk_ray for overlapping input). Edges are met within the leaf when they
 * cross the line at some x up to the leaf's right side; if none is, the ray moves on to the
 * next leaf to the right (found by descending again from that side), until an edge is met, a
 * pure leaf supplies its region, or the ray leaves the grid (outside).
 *
 * The crossing test is the half-open rule of the classic crossing-number test: an edge counts
 * if a.y <= y < b.y and p lies strictly to its left (exact orientation: a float filter, then
 * GEOSOrientationIndex for the near-degenerate cases). That is the symbolic perturbation
 * p -> (x + eps, y + delta), delta << eps, which gives the boundary rule documented in
 * pindex.h: points on a shared edge go east, on an east-west edge north. Several edges met at
 * the same x are ordered by where they are at y + delta (by slope), and identical shared edges
 * by preferring the one whose polygon lies west. Worked example: the unit squares A=[0,1]x[0,1]
 * and B=[1,2]x[0,1] share the edge x=1; for p=(1, 0.5) the edge x=1 has p on its line, so it is
 * not met; the ray next meets B's edge x=2 with B to its west: p is in B.
 *
 * A point on the outer boundary (the ray finds nothing) is given to the polygon whose edge it
 * lies on, so the answer is always a polygon covering p if there is one.
 *
 * Pure leaves get their region at build time by the same ray cast from their centre, done
 * from the rightmost leaves leftwards so that every pure leaf a ray reaches is already known.
 */
#include "wangge/pindex.h"
#include "boxtree.h"
#include "geom.h"
#include "parallel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A leaf scans at most this many edges: small enough to stay in one or two cache lines' worth
 * of references, large enough that the tree stays shallow. */
#define LEAF_MAX 8
/* Quadtree depth below a top cell. Bounds the tree where many edges meet in one vertex (they
 * can never be separated). 2^12 subdivisions of a ~100 m top cell is already < 3 cm. */
#define MAX_DEPTH 12
/* Top cells per edge. Most lookups end in a pure top cell at the cost of one node read, so
 * more cells buy speed with memory. On US counties (65k edges, bench/bench_lookup): 2 per edge
 * 10.6 M lookups/s in 5 MB, 16 per edge 17.8 M/s in 12 MB, 32 per edge 23.5 M/s in 20 MB. */
#define CELLS_PER_EDGE 32.0
/* Top grid limits: at most 4M top cells (32 MiB of nodes) and 4096 on a side. */
#define MAX_TOP_CELLS (4.0 * 1024 * 1024)
#define MAX_GRID 4096
#define NODE_INTERNAL UINT32_MAX

typedef struct edge {
    double ax, ay, bx, by; /* a is the lower endpoint; for horizontal edges the western one */
    int32_t poly;
    uint8_t west_in;       /* the polygon's interior lies west of (left of) the upward edge */
    uint8_t horizontal;
} edge;

typedef struct node {
    uint32_t first; /* internal: index of the first of 4 children; leaf: first ref; pure:
                       region + 1 (0 = outside) */
    uint32_t count; /* NODE_INTERNAL, or the number of refs (0 = pure leaf) */
} node;

struct wg_pindex {
    double x0, y0, x1, y1, cw, ch, inv_cw, inv_ch, margin;
    int gw, gh, depth;
    node *nodes;
    size_t nnodes, capnodes;
    uint32_t *refs;
    size_t nrefs, caprefs;
    edge *edges;
    size_t nedges, capedges;
    size_t npolys;
    uint32_t *poly_start; /* edges of polygon i: [poly_start[i], poly_start[i+1]) */
    double *poly_bbox;    /* 4 per polygon: minx, miny, maxx, maxy */
    wg_boxtree *edge_tree; /* over the unshared edges' boxes, for nearest */
    uint32_t *near_edge;   /* item j of edge_tree is edge near_edge[j] */
    struct geod_geodesic wgs84;
};

static inline double cell_x(const wg_pindex *idx, int i)
{
    return idx->x0 + i * idx->cw;
}

static inline double cell_y(const wg_pindex *idx, int j)
{
    return idx->y0 + j * idx->ch;
}

/* Orientation of p against a->b: > 0 left, < 0 right, 0 on the line. Exact: the float result
 * is trusted outside Shewchuk's error bound, GEOS decides inside it. */
static inline int orient(wg_ctx *ctx, double ax, double ay, double bx, double by, double px,
                         double py)
{
    double l = (bx - ax) * (py - ay), r = (by - ay) * (px - ax), det = l - r;
    double bound = 3.3306690738754716e-16 * (fabs(l) + fabs(r));
    if (det > bound) return 1;
    if (det < -bound) return -1;
    if (!ctx) return det > 0 ? 1 : det < 0 ? -1 : 0;
    int o = GEOSOrientationIndex_r(ctx->geos, ax, ay, bx, by, px, py);
    return o == 2 ? (det > 0 ? 1 : det < 0 ? -1 : 0) : o;
}

/* ---------------------------------------------------------------- lookup */

static uint32_t descend(const wg_pindex *idx, int i, int j, double x, double y, double *xmax)
{
    double cx0 = cell_x(idx, i), cx1 = cell_x(idx, i + 1);
    double cy0 = cell_y(idx, j), cy1 = cell_y(idx, j + 1);
    uint32_t n = (uint32_t)j * (uint32_t)idx->gw + (uint32_t)i;
    while (idx->nodes[n].count == NODE_INTERNAL) {
        double mx = 0.5 * (cx0 + cx1), my = 0.5 * (cy0 + cy1);
        uint32_t k = 0;
        if (x >= mx) {
            k |= 1;
            cx0 = mx;
        } else {
            cx1 = mx;
        }
        if (y >= my) {
            k |= 2;
            cy0 = my;
        } else {
            cy1 = my;
        }
        n = idx->nodes[n].first + k;
    }
    *xmax = cx1;
    return n;
}

/* Does edge f come before edge e along the ray at height y + delta, given both meet the
 * line y at the same x? */
static int before_at_tie(wg_ctx *ctx, const edge *f, const edge *e, double y)
{
    if (f->ay == y && e->ay == y && f->ax == e->ax) /* both leave the same vertex upwards */
        return orient(ctx, e->ax, e->ay, e->bx, e->by, f->bx, f->by) > 0;
    double s = (f->bx - f->ax) * (e->by - e->ay) - (e->bx - e->ax) * (f->by - f->ay);
    return s < 0;
}

static inline double crossing_x(const edge *e, double y)
{
    if (y == e->ay) return e->ax;
    return e->ax + (y - e->ay) * (e->bx - e->ax) / (e->by - e->ay);
}

/* The walk along the ray. For each polygon, the first of its edges the ray meets decides:
 * interior west of it means the point is inside that polygon; interior east means it is not
 * (for every later crossing of that polygon too). So the walk answers with the first polygon
 * met from its inside, and otherwise remembers the polygons ruled out. In a partition the
 * very first edge met decides; where polygons overlap (an unvalidated draft) the walk goes on
 * past the edges of polygons that do not hold the point. A pure leaf ends the walk: its one
 * region holds the point unless the walk ruled that polygon out. */
typedef struct walk {
    int32_t ruled_out[32];
    int n;
} walk;

/* Polygons ruled out beyond this many (overlaps of 32 layers) end the walk as outside. */
#define WALK_MAX (int)(sizeof(((walk *)0)->ruled_out) / sizeof(int32_t))

static int ruled_out(const walk *w, int32_t poly)
{
    for (int k = 0; k < w->n; k++)
        if (w->ruled_out[k] == poly) return 1;
    return 0;
}

typedef struct hit {
    const edge *e;
    double x;
} hit;

/* Ray order: by crossing x, then by position at y + delta, then interior-west first. */
static int hit_before(wg_ctx *ctx, const hit *a, const hit *b, double y)
{
    if (a->x != b->x) return a->x < b->x;
    if (before_at_tie(ctx, a->e, b->e, y)) return 1;
    if (before_at_tie(ctx, b->e, a->e, y)) return 0;
    if (a->e->west_in != b->e->west_in) return a->e->west_in > b->e->west_in;
    return a->e->poly < b->e->poly;
}

/* The edges of a leaf the ray from (x, y) meets with crossing in (xlo, xmax], in ray order.
 * Returns their number; *buf is either stack (n <= cap) or malloc'd (caller frees if != stack). */
static size_t leaf_hits(const wg_pindex *idx, wg_ctx *ctx, const node *nd, double x, double y,
                        double xlo, double xmax, hit *stack, size_t cap, hit **buf)
{
    *buf = stack;
    if (nd->count > cap) {
        hit *h = malloc(nd->count * sizeof *h);
        if (h) *buf = h;
        else cap = 0;
    } else {
        cap = nd->count;
    }
    size_t n = 0;
    const uint32_t *ref = idx->refs + nd->first;
    for (uint32_t k = 0; k < nd->count; k++) {
        const edge *e = &idx->edges[ref[k]];
        if (!(e->ay <= y && y < e->by)) continue;
        if (orient(ctx, e->ax, e->ay, e->bx, e->by, x, y) <= 0) continue;
        double xi = crossing_x(e, y);
        if (xi > xmax || xi <= xlo || n >= (*buf == stack ? cap : nd->count)) continue;
        hit h = {e, xi};
        size_t at = n++;
        while (at > 0 && hit_before(ctx, &h, &(*buf)[at - 1], y)) {
            (*buf)[at] = (*buf)[at - 1];
            at--;
        }
        (*buf)[at] = h;
    }
    return n;
}

/* Walks one leaf. Returns 1 with *region when a polygon is found to hold the point. */
static int walk_leaf(const wg_pindex *idx, wg_ctx *ctx, const node *nd, double x, double y,
                     double xlo, double xmax, walk *w, int32_t *region)
{
    hit stack[64], *h;
    size_t n = leaf_hits(idx, ctx, nd, x, y, xlo, xmax, stack, 64, &h);
    int found = 0;
    for (size_t k = 0; k < n && !found; k++) {
        int32_t poly = h[k].e->poly;
        if (ruled_out(w, poly)) continue;
        if (h[k].e->west_in) {
            *region = poly;
            found = 1;
        } else if (w->n < WALK_MAX) {
            w->ruled_out[w->n++] = poly;
        }
    }
    if (h != stack) free(h);
    return found;
}

/* Walks from leaf n (right side xmax, in top cell (i, j)) eastwards; skip_first starts at the
 * leaf after n (used from the centre of a pure leaf). */
static int32_t walk_ray(const wg_pindex *idx, wg_ctx *ctx, double x, double y, int i, int j,
                        uint32_t n, double xmax, int skip_first)
{
    walk w = {.n = 0};
    double xlo = -INFINITY;
    for (;;) {
        const node *nd = &idx->nodes[n];
        int32_t region;
        if (!skip_first) {
            if (nd->count == 0) {
                region = (int32_t)nd->first - 1;
                return region >= 0 && !ruled_out(&w, region) ? region : -1;
            }
            if (walk_leaf(idx, ctx, nd, x, y, xlo, xmax, &w, &region)) return region;
            if (w.n >= WALK_MAX) return -1;
        }
        skip_first = 0;
        xlo = xmax;
        double nx;
        if (xmax < cell_x(idx, i + 1)) {
            nx = xmax;
        } else {
            if (++i >= idx->gw) return -1;
            nx = cell_x(idx, i);
        }
        n = descend(idx, i, j, nx, y, &xmax);
    }
}

/* A point on an edge of the leaf: the lowest polygon index among those edges, else -1. */
static int32_t on_boundary(const wg_pindex *idx, wg_ctx *ctx, const node *nd, double x, double y)
{
    int32_t found = -1;
    const uint32_t *ref = idx->refs + nd->first;
    for (uint32_t k = 0; k < nd->count; k++) {
        const edge *e = &idx->edges[ref[k]];
        if (y < e->ay || y > e->by || x < fmin(e->ax, e->bx) || x > fmax(e->ax, e->bx)) continue;
        if (orient(ctx, e->ax, e->ay, e->bx, e->by, x, y) != 0) continue;
        if (found < 0 || e->poly < found) found = e->poly;
    }
    return found;
}

static inline int clamp_cell(double v, int n)
{
    int i = (int)v;
    return i < 0 ? 0 : i >= n ? n - 1 : i;
}

int32_t wg_pindex_locate(const wg_pindex *idx, wg_ctx *ctx, double x, double y)
{
    if (!(x >= idx->x0 && x <= idx->x1 && y >= idx->y0 && y <= idx->y1)) return -1;
    int i = clamp_cell((x - idx->x0) * idx->inv_cw, idx->gw);
    int j = clamp_cell((y - idx->y0) * idx->inv_ch, idx->gh);
    double xmax;
    uint32_t n = descend(idx, i, j, x, y, &xmax);
    const node *nd = &idx->nodes[n];
    if (nd->count == 0) return (int32_t)nd->first - 1;
    int32_t region = walk_ray(idx, ctx, x, y, i, j, n, xmax, 0);
    if (region < 0) region = on_boundary(idx, ctx, nd, x, y);
    return region;
}

/* ---------------------------------------------------------------- nearest */

static double seg_dist2(double px, double py, double ax, double ay, double bx, double by,
                        double kx, double *qx, double *qy)
{
    double dx = (bx - ax) * kx, dy = by - ay, wx = (px - ax) * kx, wy = py - ay;
    double len2 = dx * dx + dy * dy, t = len2 > 0 ? (wx * dx + wy * dy) / len2 : 0.0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    *qx = ax + t * (bx - ax);
    *qy = ay + t * (by - ay);
    double ex = (px - *qx) * kx, ey = py - *qy;
    return ex * ex + ey * ey;
}

typedef struct near_ud {
    const wg_pindex *idx;
    double lon, lat, kx;
} near_ud;

static double near_edge_d2(void *p, uint32_t j, double best)
{
    (void)best;
    near_ud *u = p;
    const edge *e = &u->idx->edges[u->idx->near_edge[j]];
    double qx, qy;
    return seg_dist2(u->lon, u->lat, e->ax, e->ay, e->bx, e->by, u->kx, &qx, &qy);
}

void wg_pindex_nearest(const wg_pindex *idx, double lon, double lat, int32_t *poly, double *dist_m)
{
    /* Edges are compared in degrees with longitude scaled by cos(lat) (a local
     * equirectangular metric, exact enough to choose the nearest edge at city scale), nearest
     * box first (ties: the lowest edge, so the lowest polygon); the answer's distance is then
     * measured on the ellipsoid. */
    near_ud u = {idx, lon, lat, cos(lat * (3.14159265358979323846 / 180.0))};
    double best = INFINITY;
    *poly = -1;
    *dist_m = INFINITY;
    if (!idx->edge_tree) return;
    uint32_t j = wg_boxtree_nearest(idx->edge_tree, lon, lat, u.kx, near_edge_d2, &u, &best);
    if (j == UINT32_MAX) return;
    const edge *e = &idx->edges[idx->near_edge[j]];
    double qx, qy;
    seg_dist2(lon, lat, e->ax, e->ay, e->bx, e->by, u.kx, &qx, &qy);
    *poly = e->poly;
    *dist_m = wg_dist_m(&idx->wgs84, lon, lat, qx, qy);
}

typedef struct seg_ref {
    double ay, ax, by, bx;
    uint32_t k;
} seg_ref;

static int cmp_seg_ref(const void *pa, const void *pb)
{
    const seg_ref *a = pa, *b = pb;
    if (a->ay != b->ay) return a->ay < b->ay ? -1 : 1;
    if (a->ax != b->ax) return a->ax < b->ax ? -1 : 1;
    if (a->by != b->by) return a->by < b->by ? -1 : 1;
    if (a->bx != b->bx) return a->bx < b->bx ? -1 : 1;
    return a->k < b->k ? -1 : a->k > b->k;
}

static int same_segment(const seg_ref *a, const seg_ref *b)
{
    return a->ax == b->ax && a->ay == b->ay && a->bx == b->bx && a->by == b->by;
}

static int cmp_u32(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? -1 : a > b;
}

/* The tree for nearest, over the edges that are not shared by two polygons: a point outside
 * every polygon is nearest to the boundary of their union, which such edges cover (an edge
 * two neighbours share exactly lies inside the union except for its end points, which
 * unshared edges also reach). Polygons that do not share exact edges keep all of theirs. */
static int build_edge_tree(wg_pindex *idx)
{
    size_t n = idx->nedges, m = 0;
    uint32_t *ref = malloc((n ? n : 1) * sizeof *ref);
    seg_ref *sr = malloc((n ? n : 1) * sizeof *sr);
    double *box = malloc((n ? n : 1) * 4 * sizeof *box);
    if (!ref || !sr || !box) {
        free(ref);
        free(sr);
        free(box);
        return WG_ENOMEM;
    }
    for (size_t k = 0; k < n; k++) {
        const edge *e = &idx->edges[k];
        sr[k] = (seg_ref){e->ay, e->ax, e->by, e->bx, (uint32_t)k};
    }
    qsort(sr, n, sizeof *sr, cmp_seg_ref);
    for (size_t k = 0; k < n;) {
        size_t run = k + 1;
        while (run < n && same_segment(&sr[run], &sr[k])) run++;
        if (run - k == 1) ref[m++] = sr[k].k; /* unshared */
        k = run;
    }
    free(sr);
    qsort(ref, m, sizeof *ref, cmp_u32); /* edge order: ties go to the lowest polygon */
    for (size_t j = 0; j < m; j++) {
        const edge *e = &idx->edges[ref[j]];
        double *b = box + 4 * j;
        b[0] = fmin(e->ax, e->bx);
        b[1] = e->ay; /* edges run upwards: ay <= by */
        b[2] = fmax(e->ax, e->bx);
        b[3] = e->by;
    }
    idx->edge_tree = wg_boxtree_build(box, m);
    free(box);
    idx->near_edge = ref;
    return idx->edge_tree ? WG_OK : WG_ENOMEM;
}

/* ---------------------------------------------------------------- build */

static int add_ring(wg_pindex *idx, wg_ctx *ctx, const GEOSGeometry *ring, int exterior,
                    int32_t poly)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(ctx->geos, ring);
    unsigned n = 0;
    char ccw = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(ctx->geos, cs, &n)) return wg_fail_geos(ctx, "ring");
    if (n < 4) return WG_OK;
    if (!GEOSCoordSeq_isCCW_r(ctx->geos, cs, &ccw)) return wg_fail_geos(ctx, "ring orientation");
    int interior_left = exterior ? ccw : !ccw;
    if (wg_grow((void **)&idx->edges, &idx->capedges, idx->nedges + n, sizeof(edge)) != WG_OK)
        return wg_fail(ctx, WG_ENOMEM, "out of memory building index");
    double px, py;
    GEOSCoordSeq_getXY_r(ctx->geos, cs, 0, &px, &py);
    for (unsigned k = 1; k < n; k++) {
        double qx, qy;
        GEOSCoordSeq_getXY_r(ctx->geos, cs, k, &qx, &qy);
        if (px == qx && py == qy) continue;
        int flip = py > qy || (py == qy && px > qx);
        edge *e = &idx->edges[idx->nedges++];
        e->ax = flip ? qx : px;
        e->ay = flip ? qy : py;
        e->bx = flip ? px : qx;
        e->by = flip ? py : qy;
        e->poly = poly;
        e->west_in = (uint8_t)(interior_left ^ flip);
        e->horizontal = py == qy;
        px = qx;
        py = qy;
    }
    return WG_OK;
}

static int add_polygonal(wg_pindex *idx, wg_ctx *ctx, const GEOSGeometry *g, int32_t poly)
{
    int type = GEOSGeomTypeId_r(ctx->geos, g);
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        int parts = GEOSGetNumGeometries_r(ctx->geos, g);
        for (int i = 0; i < parts; i++) {
            int rc = add_polygonal(idx, ctx, GEOSGetGeometryN_r(ctx->geos, g, i), poly);
            if (rc != WG_OK) return rc;
        }
        return WG_OK;
    }
    if (type != GEOS_POLYGON || GEOSisEmpty_r(ctx->geos, g)) return WG_OK;
    int rc = add_ring(idx, ctx, GEOSGetExteriorRing_r(ctx->geos, g), 1, poly);
    int holes = GEOSGetNumInteriorRings_r(ctx->geos, g);
    for (int i = 0; rc == WG_OK && i < holes; i++)
        rc = add_ring(idx, ctx, GEOSGetInteriorRingN_r(ctx->geos, g, i), 0, poly);
    return rc;
}

/* Conservative segment/box test: the box is already grown by the margin. */
static int edge_hits_box(const edge *e, double x0, double y0, double x1, double y1)
{
    if (fmax(e->ax, e->bx) < x0 || fmin(e->ax, e->bx) > x1 || e->by < y0 || e->ay > y1) return 0;
    double dx = e->bx - e->ax, dy = e->by - e->ay;
    double s0 = dx * (y0 - e->ay) - dy * (x0 - e->ax), s1 = dx * (y0 - e->ay) - dy * (x1 - e->ax);
    double s2 = dx * (y1 - e->ay) - dy * (x0 - e->ax), s3 = dx * (y1 - e->ay) - dy * (x1 - e->ax);
    if (s0 > 0 && s1 > 0 && s2 > 0 && s3 > 0) return 0;
    if (s0 < 0 && s1 < 0 && s2 < 0 && s3 < 0) return 0;
    return 1;
}

typedef struct pure_leaf {
    uint32_t node;
    int i, j;
    double xmin, xmax, cx, cy;
} pure_leaf;

typedef struct builder {
    wg_pindex *idx;
    wg_ctx *ctx;
    pure_leaf *pure;
    size_t npure, cappure;
} builder;

static int make_leaf(builder *b, uint32_t n, const uint32_t *ids, size_t count, int i, int j,
                     const double box[4])
{
    wg_pindex *idx = b->idx;
    if (count == 0) {
        if (wg_grow((void **)&b->pure, &b->cappure, b->npure + 1, sizeof *b->pure) != WG_OK)
            return WG_ENOMEM;
        b->pure[b->npure++] = (pure_leaf){n, i, j, box[0], box[2], 0.5 * (box[0] + box[2]),
                                          0.5 * (box[1] + box[3])};
        idx->nodes[n] = (node){0, 0};
        return WG_OK;
    }
    if (wg_grow((void **)&idx->refs, &idx->caprefs, idx->nrefs + count, sizeof *idx->refs) != WG_OK)
        return WG_ENOMEM;
    memcpy(idx->refs + idx->nrefs, ids, count * sizeof *ids);
    idx->nodes[n] = (node){(uint32_t)idx->nrefs, (uint32_t)count};
    idx->nrefs += count;
    return WG_OK;
}

static int build_node(builder *b, uint32_t n, const uint32_t *ids, size_t count, int i, int j,
                      const double box[4], int depth)
{
    wg_pindex *idx = b->idx;
    if (count <= LEAF_MAX || depth >= MAX_DEPTH) return make_leaf(b, n, ids, count, i, j, box);
    if (depth + 1 > idx->depth) idx->depth = depth + 1;
    if (wg_grow((void **)&idx->nodes, &idx->capnodes, idx->nnodes + 4, sizeof(node)) != WG_OK)
        return WG_ENOMEM;
    uint32_t child = (uint32_t)idx->nnodes;
    idx->nnodes += 4;
    idx->nodes[n] = (node){child, NODE_INTERNAL};
    uint32_t *sub = malloc(count * sizeof *sub);
    if (!sub) return WG_ENOMEM;
    double mx = 0.5 * (box[0] + box[2]), my = 0.5 * (box[1] + box[3]), m = idx->margin;
    int rc = WG_OK;
    for (uint32_t k = 0; rc == WG_OK && k < 4; k++) {
        double cb[4] = {(k & 1) ? mx : box[0], (k & 2) ? my : box[1], (k & 1) ? box[2] : mx,
                        (k & 2) ? box[3] : my};
        size_t c = 0;
        for (size_t t = 0; t < count; t++)
            if (edge_hits_box(&idx->edges[ids[t]], cb[0] - m, cb[1] - m, cb[2] + m, cb[3] + m))
                sub[c++] = ids[t];
        rc = build_node(b, child + k, sub, c, i, j, cb, depth + 1);
    }
    free(sub);
    return rc;
}

static void choose_grid(wg_pindex *idx)
{
    double w = idx->x1 - idx->x0, h = idx->y1 - idx->y0;
    double cells = fmin(MAX_TOP_CELLS, fmax(1.0, (double)idx->nedges * CELLS_PER_EDGE));
    double s = sqrt(w * h / cells);
    idx->gw = (int)fmin(MAX_GRID, fmax(1.0, ceil(w / s)));
    idx->gh = (int)fmin(MAX_GRID, fmax(1.0, ceil(h / s)));
    idx->cw = w / idx->gw;
    idx->ch = h / idx->gh;
    idx->inv_cw = 1.0 / idx->cw;
    idx->inv_ch = 1.0 / idx->ch;
    idx->x1 = cell_x(idx, idx->gw); /* the grid's own right/top sides, as lookups compute them */
    idx->y1 = cell_y(idx, idx->gh);
}

static void compute_extent(wg_pindex *idx)
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (size_t k = 0; k < idx->nedges; k++) {
        const edge *e = &idx->edges[k];
        x0 = fmin(x0, fmin(e->ax, e->bx));
        x1 = fmax(x1, fmax(e->ax, e->bx));
        y0 = fmin(y0, e->ay);
        y1 = fmax(y1, e->by);
    }
    if (idx->nedges == 0) x0 = y0 = x1 = y1 = 0.0;
    double span = fmax(fmax(x1 - x0, y1 - y0), 1e-9);
    idx->margin = span * 1e-12;
    /* grow by a little more than the margin so no edge lies on the grid's outer sides */
    idx->x0 = x0 - span * 1e-9;
    idx->y0 = y0 - span * 1e-9;
    idx->x1 = x1 + span * 1e-9;
    idx->y1 = y1 + span * 1e-9;
}

static void poly_boxes(wg_pindex *idx)
{
    for (size_t i = 0; i < idx->npolys; i++) {
        double *bb = idx->poly_bbox + 4 * i;
        bb[0] = bb[1] = INFINITY;
        bb[2] = bb[3] = -INFINITY;
        for (uint32_t k = idx->poly_start[i]; k < idx->poly_start[i + 1]; k++) {
            const edge *e = &idx->edges[k];
            bb[0] = fmin(bb[0], fmin(e->ax, e->bx));
            bb[2] = fmax(bb[2], fmax(e->ax, e->bx));
            bb[1] = fmin(bb[1], e->ay);
            bb[3] = fmax(bb[3], e->by);
        }
    }
}

/* Distributes the edges over the top cells (count, then fill), then builds each cell's tree. */
static int build_cells(builder *b)
{
    wg_pindex *idx = b->idx;
    size_t ncells = (size_t)idx->gw * idx->gh;
    double m = idx->margin;
    size_t *start = calloc(ncells + 1, sizeof *start);
    uint32_t *ids = NULL;
    int rc = WG_ENOMEM;
    if (!start) return WG_ENOMEM;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < idx->nedges; k++) {
            const edge *e = &idx->edges[k];
            int i0 = clamp_cell((fmin(e->ax, e->bx) - m - idx->x0) * idx->inv_cw, idx->gw);
            int i1 = clamp_cell((fmax(e->ax, e->bx) + m - idx->x0) * idx->inv_cw, idx->gw);
            int j0 = clamp_cell((e->ay - m - idx->y0) * idx->inv_ch, idx->gh);
            int j1 = clamp_cell((e->by + m - idx->y0) * idx->inv_ch, idx->gh);
            /* one cell of slack each way: the float cell index may round across a side */
            i0 = i0 > 0 ? i0 - 1 : 0;
            j0 = j0 > 0 ? j0 - 1 : 0;
            i1 = i1 + 1 < idx->gw ? i1 + 1 : i1;
            j1 = j1 + 1 < idx->gh ? j1 + 1 : j1;
            for (int j = j0; j <= j1; j++)
                for (int i = i0; i <= i1; i++) {
                    if (!edge_hits_box(e, cell_x(idx, i) - m, cell_y(idx, j) - m,
                                       cell_x(idx, i + 1) + m, cell_y(idx, j + 1) + m))
                        continue;
                    size_t c = (size_t)j * idx->gw + i;
                    if (pass == 0) start[c + 1]++;
                    else ids[start[c]++] = (uint32_t)k;
                }
        }
        if (pass == 0) {
            for (size_t c = 0; c < ncells; c++) start[c + 1] += start[c];
            ids = malloc((start[ncells] + 1) * sizeof *ids);
            if (!ids) goto done;
            /* start[c] is now where cell c begins: the fill cursor of pass 1 */
        }
    }
    /* after pass 1, start[c] is the end of cell c, i.e. the start of cell c + 1 */
    rc = WG_OK;
    for (int j = 0; rc == WG_OK && j < idx->gh; j++)
        for (int i = 0; rc == WG_OK && i < idx->gw; i++) {
            size_t c = (size_t)j * idx->gw + i, s = c ? start[c - 1] : 0;
            double box[4] = {cell_x(idx, i), cell_y(idx, j), cell_x(idx, i + 1), cell_y(idx, j + 1)};
            rc = build_node(b, (uint32_t)c, ids + s, start[c] - s, i, j, box, 0);
        }
done:
    free(ids);
    free(start);
    return rc;
}

static int cmp_pure_right_first(const void *a, const void *b)
{
    const pure_leaf *p = a, *q = b;
    return p->xmin < q->xmin ? 1 : p->xmin > q->xmin ? -1 : 0;
}

static void resolve_one(builder *b, const pure_leaf *p)
{
    int32_t r = walk_ray(b->idx, b->ctx, p->cx, p->cy, p->i, p->j, p->node, p->xmax, 1);
    b->idx->nodes[p->node].first = (uint32_t)(r + 1);
}

/* Resolves the pure leaves so that a leaf's eastward walk can stop at a leaf already resolved
 * to its east. A walk stays in its top row, so rows are independent; within a row the top
 * cells go east to west and a cell's leaves by decreasing left side. The leaves were made
 * row by row, cell by cell (build_cells), so each row and each cell is one run of b->pure. */
static void resolve_pure_leaves(builder *b)
{
    pure_leaf *pure = b->pure;
    size_t n = b->npure;
    for (size_t row = 0; row < n;) {
        size_t row_end = row;
        while (row_end < n && pure[row_end].j == pure[row].j) row_end++;
        for (size_t end = row_end; end > row;) {
            size_t start = end - 1;
            while (start > row && pure[start - 1].i == pure[end - 1].i) start--;
            if (end - start > 1) qsort(pure + start, end - start, sizeof *pure, cmp_pure_right_first);
            for (size_t k = start; k < end; k++) resolve_one(b, &pure[k]);
            end = start;
        }
        row = row_end;
    }
}

int wg_pindex_build(wg_ctx *ctx, const GEOSGeometry *const *polys, size_t n, wg_pindex **out)
{
    *out = NULL;
    if (n >= INT32_MAX) return wg_fail(ctx, WG_EINVAL, "too many polygons for one index");
    wg_pindex *idx = calloc(1, sizeof *idx);
    builder b = {idx, ctx, NULL, 0, 0};
    int rc = idx ? WG_OK : WG_ENOMEM;
    if (rc == WG_OK) {
        idx->npolys = n;
        idx->poly_start = calloc(n + 1, sizeof *idx->poly_start);
        idx->poly_bbox = malloc((n + 1) * 4 * sizeof *idx->poly_bbox);
        geod_init(&idx->wgs84, 6378137.0, 1.0 / 298.257223563);
        if (!idx->poly_start || !idx->poly_bbox) rc = WG_ENOMEM;
    }
    for (size_t i = 0; rc == WG_OK && i < n; i++) {
        rc = add_polygonal(idx, ctx, polys[i], (int32_t)i);
        if (idx->nedges >= UINT32_MAX / 2) rc = wg_fail(ctx, WG_EINVAL, "too many edges");
        idx->poly_start[i + 1] = (uint32_t)idx->nedges;
    }
    if (rc == WG_OK) {
        compute_extent(idx);
        choose_grid(idx);
        poly_boxes(idx);
        rc = build_edge_tree(idx);
    }
    if (rc == WG_OK) {
        idx->nnodes = (size_t)idx->gw * idx->gh;
        rc = wg_grow((void **)&idx->nodes, &idx->capnodes, idx->nnodes, sizeof(node));
    }
    if (rc == WG_OK) rc = build_cells(&b);
    if (rc == WG_OK) resolve_pure_leaves(&b);
    free(b.pure);
    if (rc != WG_OK) {
        wg_pindex_free(idx);
        return rc == WG_ENOMEM ? wg_fail(ctx, rc, "out of memory building index") : rc;
    }
    *out = idx;
    return WG_OK;
}

void wg_pindex_free(wg_pindex *idx)
{
    if (!idx) return;
    free(idx->nodes);
    free(idx->refs);
    free(idx->edges);
    free(idx->poly_start);
    free(idx->poly_bbox);
    wg_boxtree_free(idx->edge_tree);
    free(idx->near_edge);
    free(idx);
}

void wg_pindex_get_stats(const wg_pindex *idx, wg_pindex_stats *out)
{
    memset(out, 0, sizeof *out);
    out->polygons = idx->npolys;
    out->edges = idx->nedges;
    out->nodes = idx->nnodes;
    out->refs = idx->nrefs;
    out->grid_w = idx->gw;
    out->grid_h = idx->gh;
    out->max_depth = idx->depth;
    for (size_t k = 0; k < idx->nnodes; k++) {
        if (idx->nodes[k].count == NODE_INTERNAL) continue;
        out->leaves++;
        out->pure_leaves += idx->nodes[k].count == 0;
    }
    out->memory_bytes = sizeof *idx + idx->nnodes * sizeof(node) + idx->nrefs * sizeof(uint32_t) +
                        idx->nedges * sizeof(edge) + (idx->npolys + 1) * (sizeof(uint32_t) + 32) +
                        (idx->edge_tree ? wg_boxtree_bytes(idx->edge_tree) + wg_boxtree_count(idx->edge_tree) * 4 : 0);
}

/* ---------------------------------------------------------------- bulk */

typedef struct bulk_job {
    const wg_pindex *idx;
    const double *lon, *lat;
    int32_t *out;
} bulk_job;

static void bulk_range(void *arg, wg_ctx *ctx, size_t begin, size_t end)
{
    const bulk_job *job = arg;
    for (size_t k = begin; k < end; k++)
        job->out[k] = wg_pindex_locate(job->idx, ctx, job->lon[k], job->lat[k]);
}

int wg_pindex_locate_bulk(const wg_pindex *idx, const double *lon, const double *lat, size_t n,
                          int32_t *out, int threads)
{
    bulk_job job = {idx, lon, lat, out};
    return wg_parallel_for(n, threads, bulk_range, &job);
}
