/* Planar partitions from linework: see planar.h. */
#include "planar.h"
#include "geom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void wg_planar_free(wg_ctx *ctx, GEOSGeometry **faces, size_t n)
{
    for (size_t i = 0; i < n; i++) GEOSGeom_destroy_r(ctx->geos, faces[i]);
    free(faces);
}

/* Region boundary plus every line clipped to the region, noded with snap rounding. */
static GEOSGeometry *noded_linework(wg_ctx *ctx, const GEOSGeometry *region,
                                    GEOSGeometry *const *lines, size_t nlines, double grid)
{
    GEOSContextHandle_t h = ctx->geos;
    GEOSGeometry **parts = malloc((nlines + 1) * sizeof *parts);
    if (!parts) return NULL;
    size_t np = 0;
    int ok = (parts[np] = GEOSBoundary_r(h, region)) != NULL;
    if (ok) np++;
    for (size_t i = 0; ok && i < nlines; i++) {
        GEOSGeometry *c = GEOSIntersection_r(h, lines[i], region);
        if (!c) ok = 0;
        else if (GEOSisEmpty_r(h, c)) GEOSGeom_destroy_r(h, c);
        else parts[np++] = c;
    }
    GEOSGeometry *noded = NULL;
    if (ok) {
        GEOSGeometry *all = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)np);
        if (all) {
            noded = GEOSUnaryUnionPrec_r(h, all, grid);
            GEOSGeom_destroy_r(h, all);
        }
    } else {
        for (size_t i = 0; i < np; i++) GEOSGeom_destroy_r(h, parts[i]);
    }
    free(parts);
    return noded;
}

int wg_planar_faces(wg_ctx *ctx, const GEOSGeometry *region, GEOSGeometry *const *lines,
                    size_t nlines, double grid, GEOSGeometry ***faces, size_t *nfaces)
{
    GEOSContextHandle_t h = ctx->geos;
    *faces = NULL;
    *nfaces = 0;
    GEOSGeometry *noded = noded_linework(ctx, region, lines, nlines, grid);
    if (!noded) return wg_fail_geos(ctx, "cannot node the linework");
    const GEOSGeometry *in[1] = {noded};
    GEOSGeometry *polys = GEOSPolygonize_r(h, in, 1);
    GEOSGeom_destroy_r(h, noded);
    if (!polys) return wg_fail_geos(ctx, "cannot polygonize the linework");
    const GEOSPreparedGeometry *prep = GEOSPrepare_r(h, region);
    int n = GEOSGetNumGeometries_r(h, polys), rc = prep ? WG_OK : wg_fail_geos(ctx, "cannot prepare region");
    GEOSGeometry **out = n > 0 ? malloc((size_t)n * sizeof *out) : NULL;
    if (n > 0 && !out) rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    size_t k = 0;
    for (int i = 0; rc == WG_OK && i < n; i++) {
        const GEOSGeometry *f = GEOSGetGeometryN_r(h, polys, i);
        GEOSGeometry *pt = GEOSPointOnSurface_r(h, f);
        if (!pt) {
            rc = wg_fail_geos(ctx, "cannot find a point inside a face");
            break;
        }
        char inside = GEOSPreparedIntersects_r(h, prep, pt);
        GEOSGeom_destroy_r(h, pt);
        if (inside == 1 && !(out[k] = GEOSGeom_clone_r(h, f))) rc = wg_fail_geos(ctx, "cannot copy a face");
        else if (inside == 1) k++;
    }
    if (prep) GEOSPreparedGeom_destroy_r(h, prep);
    GEOSGeom_destroy_r(h, polys);
    if (rc != WG_OK) {
        wg_planar_free(ctx, out, k);
        return rc;
    }
    *faces = out;
    *nfaces = k;
    return WG_OK;
}

/* ------------------------------------------------------------- adjacency */

static int cmp_seg(const void *pa, const void *pb)
{
    const wg_seg *a = pa, *b = pb;
    if (a->ax != b->ax) return a->ax < b->ax ? -1 : 1;
    if (a->ay != b->ay) return a->ay < b->ay ? -1 : 1;
    if (a->bx != b->bx) return a->bx < b->bx ? -1 : 1;
    if (a->by != b->by) return a->by < b->by ? -1 : 1;
    return a->poly < b->poly ? -1 : a->poly > b->poly;
}

typedef struct pair {
    size_t i, j;
    double len;
} pair;

static int cmp_pair(const void *pa, const void *pb)
{
    const pair *a = pa, *b = pb;
    if (a->i != b->i) return a->i < b->i ? -1 : 1;
    return a->j < b->j ? -1 : a->j > b->j;
}

static int add_ring(wg_ctx *ctx, const GEOSGeometry *ring, size_t poly, wg_seg_list *l)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(ctx->geos, ring);
    unsigned int m = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(ctx->geos, cs, &m)) return wg_fail_geos(ctx, "cannot read a ring");
    double px = 0, py = 0;
    for (unsigned int i = 0; i < m; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(ctx->geos, cs, i, &x, &y);
        if (i > 0 && (x != px || y != py)) {
            if (wg_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v) != WG_OK)
                return wg_fail(ctx, WG_ENOMEM, "out of memory");
            int fwd = px < x || (px == x && py < y);
            l->v[l->n++] = fwd ? (wg_seg){px, py, x, y, poly} : (wg_seg){x, y, px, py, poly};
        }
        px = x;
        py = y;
    }
    return WG_OK;
}

int wg_segs_add_polygon(wg_ctx *ctx, const GEOSGeometry *p, size_t poly, wg_seg_list *l)
{
    int rc = add_ring(ctx, GEOSGetExteriorRing_r(ctx->geos, p), poly, l);
    int holes = GEOSGetNumInteriorRings_r(ctx->geos, p);
    for (int i = 0; rc == WG_OK && i < holes; i++)
        rc = add_ring(ctx, GEOSGetInteriorRingN_r(ctx->geos, p, i), poly, l);
    return rc;
}

void wg_segs_sort(wg_seg_list *l)
{
    qsort(l->v, l->n, sizeof *l->v, cmp_seg);
}

size_t wg_segs_run_end(const wg_seg_list *l, size_t a)
{
    const wg_seg *s = &l->v[a];
    size_t b = a + 1;
    while (b < l->n && l->v[b].ax == s->ax && l->v[b].ay == s->ay && l->v[b].bx == s->bx &&
           l->v[b].by == s->by)
        b++;
    return b;
}

void wg_adjacency_free(wg_adjacency *a)
{
    free(a->start);
    free(a->nbr);
    free(a->shared);
    memset(a, 0, sizeof *a);
}

int wg_planar_adjacency(wg_ctx *ctx, GEOSGeometry *const *polys, size_t n, wg_adjacency *out)
{
    memset(out, 0, sizeof *out);
    wg_seg_list l = {0};
    int rc = WG_OK;
    for (size_t i = 0; rc == WG_OK && i < n; i++) {
        int t = GEOSGeomTypeId_r(ctx->geos, polys[i]);
        if (t == GEOS_POLYGON) rc = wg_segs_add_polygon(ctx, polys[i], i, &l);
        else if (t == GEOS_MULTIPOLYGON)
            for (int k = 0; rc == WG_OK && k < GEOSGetNumGeometries_r(ctx->geos, polys[i]); k++)
                rc = wg_segs_add_polygon(ctx, GEOSGetGeometryN_r(ctx->geos, polys[i], k), i, &l);
    }
    pair *pairs = NULL;
    size_t np = 0, pcap = 0;
    if (rc == WG_OK) wg_segs_sort(&l);
    for (size_t a = 0; rc == WG_OK && a < l.n;) {
        size_t b = wg_segs_run_end(&l, a);
        if (b - a > 1) {
            double len = wg_dist_m(&ctx->wgs84, l.v[a].ax, l.v[a].ay, l.v[a].bx, l.v[a].by);
            for (size_t p = a; rc == WG_OK && p < b; p++)
                for (size_t q = p + 1; q < b; q++) {
                    if (l.v[p].poly == l.v[q].poly) continue;
                    if (wg_grow((void **)&pairs, &pcap, np + 2, sizeof *pairs) != WG_OK) {
                        rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
                        break;
                    }
                    pairs[np++] = (pair){l.v[p].poly, l.v[q].poly, len};
                    pairs[np++] = (pair){l.v[q].poly, l.v[p].poly, len};
                }
        }
        a = b;
    }
    free(l.v);
    if (rc == WG_OK) {
        qsort(pairs, np, sizeof *pairs, cmp_pair);
        out->n = n;
        out->start = calloc(n + 1, sizeof *out->start);
        out->nbr = malloc((np ? np : 1) * sizeof *out->nbr);
        out->shared = malloc((np ? np : 1) * sizeof *out->shared);
        if (!out->start || !out->nbr || !out->shared) rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    if (rc == WG_OK) {
        size_t k = 0;
        for (size_t p = 0; p < np; p++) {
            if (k > 0 && pairs[p].i == pairs[p - 1].i && pairs[p].j == out->nbr[k - 1]) {
                out->shared[k - 1] += pairs[p].len;
                continue;
            }
            out->nbr[k] = pairs[p].j;
            out->shared[k] = pairs[p].len;
            out->start[pairs[p].i + 1]++;
            k++;
        }
        for (size_t i = 0; i < n; i++) out->start[i + 1] += out->start[i];
    }
    free(pairs);
    if (rc != WG_OK) wg_adjacency_free(out);
    return rc;
}

GEOSGeometry *wg_planar_union(wg_ctx *ctx, GEOSGeometry *const *polys, const size_t *idx, size_t n)
{
    GEOSContextHandle_t h = ctx->geos;
    GEOSGeometry **parts = malloc((n ? n : 1) * sizeof *parts);
    if (!parts) {
        wg_fail(ctx, WG_ENOMEM, "out of memory");
        return NULL;
    }
    size_t k = 0;
    for (; k < n; k++)
        if (!(parts[k] = GEOSGeom_clone_r(h, polys[idx[k]]))) break;
    GEOSGeometry *u = NULL;
    if (k == n) {
        GEOSGeometry *all = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)n);
        if (all) {
            u = GEOSCoverageUnion_r(h, all);
            GEOSGeom_destroy_r(h, all);
        }
    } else {
        for (size_t i = 0; i < k; i++) GEOSGeom_destroy_r(h, parts[i]);
    }
    free(parts);
    if (!u) wg_fail_geos(ctx, "cannot union the faces");
    return u;
}

/* ----------------------------------------------------------- reading order */

typedef struct rank {
    size_t row, idx;
    double x, y;
} rank;

static int cmp_rank(const void *pa, const void *pb)
{
    const rank *a = pa, *b = pb;
    if (a->row != b->row) return a->row < b->row ? -1 : 1;
    if (a->x != b->x) return a->x < b->x ? -1 : 1;
    if (a->y != b->y) return a->y > b->y ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

void wg_order_reading(const double *x, const double *y, size_t n, size_t *order)
{
    if (n == 0) return;
    double x0 = x[0], x1 = x[0], y0 = y[0], y1 = y[0];
    for (size_t i = 1; i < n; i++) {
        x0 = fmin(x0, x[i]);
        x1 = fmax(x1, x[i]);
        y0 = fmin(y0, y[i]);
        y1 = fmax(y1, y[i]);
    }
    double w = (x1 - x0) * cos((y0 + y1) / 2 * (3.14159265358979323846 / 180)), ht = y1 - y0;
    size_t rows = 1;
    if (ht > 0 && w <= 0) rows = n;
    else if (ht > 0) rows = (size_t)fmax(1, floor(sqrt((double)n * ht / w) + 0.5));
    if (rows > n) rows = n;
    double band = ht / (double)rows;
    rank *r = malloc(n * sizeof *r);
    if (!r) { /* degrade to input order rather than fail: codes stay unique */
        for (size_t i = 0; i < n; i++) order[i] = i;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        size_t row = band > 0 ? (size_t)floor((y1 - y[i]) / band) : 0;
        r[i] = (rank){row < rows ? row : rows - 1, i, x[i], y[i]};
    }
    qsort(r, n, sizeof *r, cmp_rank);
    for (size_t i = 0; i < n; i++) order[i] = r[i].idx;
    free(r);
}
