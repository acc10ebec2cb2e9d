/* Division: the plan of one region, measured (see wangge/divide.h for the model;
 * divide_units.c makes the faces, divide_part.c the partition, divide_store.c reads communities
 * and writes the draft).
 *
 * A plan, for n grids of target = H / n households:
 *   faces  <- region cut by lines (and thematic boundaries), heavy faces cut (cap = target);
 *   units  <- faces, slivers joined to the neighbour they share most boundary with (only while
 *             more units than grids remain);
 *   parts  <- dv_partition of the unit graph (weights: households + 5 per km²; edges: shared
 *             length × DV_COST of what it lies on);
 *   grids  <- coverage union of each part's faces, in reading order.
 * Everything is measured afterwards from what was built: households by face, boundary shares
 * from the classified boundary pieces, areas on the ellipsoid, gap = area of the region not
 * covered by the union of the grids, overlap = sum of the areas of pairwise intersections. */
#include "wangge/divide.h"
#include "wangge/pindex.h"
#include "divide_internal.h"
#include "geom.h"
#include "planar.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
/* Slivers: thinner than this (2 A / P, metres) or smaller than this (m²). */
#define SLIVER_WIDTH_M 1.5
#define SLIVER_AREA_M2 50.0
/* Partition weight of area: 5 households per km² (a hillside is not free, but cheap). */
#define AREA_WEIGHT_PER_M2 5e-6
/* 30003 -> "30,003" */
static const char *thousands(int64_t v, char *buf, size_t len)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", (long long)(v < 0 ? -v : v));
    size_t nd = strlen(digits), k = 0;
    if (v < 0 && k + 1 < len) buf[k++] = '-';
    for (size_t i = 0; i < nd && k + 2 < len; i++) {
        if (i > 0 && (nd - i) % 3 == 0) buf[k++] = ',';
        buf[k++] = digits[i];
    }
    buf[k] = '\0';
    return buf;
}

/* ------------------------------------------------------------ number of grids */

int dv_check_opts(wg_ctx *ctx, const wg_divide_opts *o)
{
    if (o->grids < 0 || o->grids > WG_DIVIDE_MAX_GRIDS)
        return wg_fail(ctx, WG_EINVAL, "grids must be 1 to %d", WG_DIVIDE_MAX_GRIDS);
    if (o->grids > 0) return WG_OK;
    if (o->band_max <= 0 || o->band_min < 0 || o->band_min > o->band_max)
        return wg_fail(
            ctx, WG_EINVAL,
            "say a number of grids or a band of households MIN-MAX with 0 <= MIN <= MAX, MAX > 0");
    return WG_OK;
}

/* The number of grids for H households: opts->grids, or the n that puts the average H / n in
 * the band closest to its middle. If no n does, WG_EDATA with the choices nearest the band in
 * the message (best effort: the nearer of them, and the message goes to note). */
static int choose_n(wg_ctx *ctx, const char *who, int64_t H, const wg_divide_opts *o, int *n,
                    int *feasible, char *note, size_t nlen)
{
    *feasible = 1;
    note[0] = '\0';
    if (o->grids > 0) {
        *n = o->grids;
        return WG_OK;
    }
    int64_t mn = o->band_min, mx = o->band_max;
    int64_t lo = H > 0 ? (H + mx - 1) / mx : 1, hi = mn > 0 ? H / mn : WG_DIVIDE_MAX_GRIDS;
    if (lo < 1) lo = 1;
    if (hi > WG_DIVIDE_MAX_GRIDS) hi = WG_DIVIDE_MAX_GRIDS;
    if (lo <= hi) {
        double mid = (double)(mn + mx) / 2;
        int64_t k = (int64_t)llround((double)H / mid);
        *n = (int)(k < lo ? lo : k > hi ? hi : k);
        return WG_OK;
    }
    *feasible = 0;
    char hs[32];
    thousands(H, hs, sizeof hs);
    int64_t n1 = mn > 0 ? H / mn : 0, n2 = n1 + 1; /* n1 grids average above max, n2 below min */
    if (lo > WG_DIVIDE_MAX_GRIDS) {
        snprintf(note, nlen,
                 "%s has %s households: band %lld–%lld needs at least %lld grids, more than %d",
                 who, hs, (long long)mn, (long long)mx, (long long)lo, WG_DIVIDE_MAX_GRIDS);
        *n = WG_DIVIDE_MAX_GRIDS;
    } else if (n1 == 0) {
        snprintf(
            note, nlen,
            "%s has %s households, fewer than the band's minimum: band %lld–%lld cannot be met; "
            "feasible bands have a minimum of at most %s (1 grid)",
            who, hs, (long long)mn, (long long)mx, hs);
        *n = 1;
    } else {
        double a1 = (double)H / (double)n1, a2 = (double)H / (double)n2;
        snprintf(note, nlen,
                 "%s has %s households: band %lld–%lld cannot be met by any number of grids (%lld "
                 "grids average "
                 "%.0f, %lld grids %.0f); feasible bands hold %s/n for some n, e.g. %lld–%lld "
                 "(%lld grids) or "
                 "%lld–%lld (%lld grids)",
                 who, hs, (long long)mn, (long long)mx, (long long)n1, a1, (long long)n2, a2, hs,
                 (long long)mn, (long long)ceil(a1), (long long)n1, (long long)floor(a2),
                 (long long)mx, (long long)n2);
        *n = (a1 - (double)mx) / (double)mx <= ((double)mn - a2) / (double)mn ? (int)n1 : (int)n2;
    }
    if (o->best_effort) return WG_OK;
    return wg_fail(ctx, WG_EDATA, "%s", note);
}

/* ------------------------------------------------------------- base units */

static size_t uf_find(size_t *up, size_t x)
{
    while (up[x] != x)
        x = up[x] = up[up[x]];
    return x;
}

/* Face adjacency (any class) as CSR with shared lengths, from the links. */
typedef struct face_adj {
    size_t *start, *nbr;
    double *len;
} face_adj;

static void face_adj_free(face_adj *a)
{
    free(a->start), free(a->nbr), free(a->len);
}

static int build_face_adj(wg_ctx *ctx, const dv_faces *f, face_adj *a)
{
    a->start = calloc(f->n + 1, sizeof *a->start);
    size_t m = 0;
    for (size_t i = 0; i < f->nlinks; i++)
        m += f->links[i].b != DV_OUTER ? 2 : 0;
    a->nbr = malloc((m ? m : 1) * sizeof *a->nbr);
    a->len = malloc((m ? m : 1) * sizeof *a->len);
    size_t *fill = malloc((f->n + 1) * sizeof *fill);
    if (!a->start || !a->nbr || !a->len || !fill) {
        free(fill);
        face_adj_free(a);
        return wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < f->nlinks; i++) {
        const dv_link *l = &f->links[i];
        if (l->b == DV_OUTER) continue;
        a->start[l->a + 1]++;
        a->start[l->b + 1]++;
    }
    for (size_t i = 0; i < f->n; i++)
        a->start[i + 1] += a->start[i];
    memcpy(fill, a->start, (f->n + 1) * sizeof *fill);
    for (size_t i = 0; i < f->nlinks; i++) {
        const dv_link *l = &f->links[i];
        if (l->b == DV_OUTER) continue;
        a->nbr[fill[l->a]] = l->b, a->len[fill[l->a]++] = l->len_m;
        a->nbr[fill[l->b]] = l->a, a->len[fill[l->b]++] = l->len_m;
    }
    free(fill);
    return WG_OK;
}

/* Units: unit_of[face] (dense, in order of first face), slivers joined to a neighbour while
 * more than min_units units remain. Returns the number of units in *nu. */
static int make_units(wg_ctx *ctx, const dv_faces *f, size_t min_units, size_t *unit_of, size_t *nu,
                      size_t *slivers)
{
    *slivers = 0;
    face_adj adj = {0};
    size_t *up = malloc(f->n * sizeof *up);
    wg_keyed *order = malloc(f->n * sizeof *order);
    int rc = up && order ? build_face_adj(ctx, f, &adj) : wg_fail(ctx, WG_ENOMEM, "out of memory");
    size_t units = f->n, no = 0;
    for (size_t i = 0; rc == WG_OK && i < f->n; i++) {
        up[i] = i;
        double width = f->perim_m[i] > 0 ? 2 * f->area_m2[i] / f->perim_m[i] : 0;
        if (f->area_m2[i] < SLIVER_AREA_M2 || width < SLIVER_WIDTH_M)
            order[no++] = (wg_keyed){f->area_m2[i], i};
    }
    if (rc == WG_OK) qsort(order, no, sizeof *order, wg_cmp_keyed);
    for (size_t k = 0; rc == WG_OK && k < no && units > min_units; k++) {
        size_t i = order[k].idx, ri = uf_find(up, i), best = SIZE_MAX;
        double bestlen = 0;
        for (size_t e = adj.start[i]; e < adj.start[i + 1]; e++) {
            size_t j = adj.nbr[e];
            if (uf_find(up, j) == ri) continue;
            if (best == SIZE_MAX || adj.len[e] > bestlen) best = j, bestlen = adj.len[e];
        }
        if (best == SIZE_MAX) continue;
        up[ri] = uf_find(up, best);
        units--;
        (*slivers)++;
    }
    if (rc == WG_OK) {
        size_t next = 0;
        for (size_t i = 0; i < f->n; i++)
            unit_of[i] = SIZE_MAX;
        for (size_t i = 0; i < f->n; i++) {
            size_t r = uf_find(up, i);
            if (unit_of[r] == SIZE_MAX) unit_of[r] = next++;
            unit_of[i] = unit_of[r];
        }
        *nu = next;
    }
    free(up);
    free(order);
    face_adj_free(&adj);
    return rc;
}

typedef struct wedge {
    size_t u, v;
    double cost;
} wedge;

static int cmp_wedge(const void *pa, const void *pb)
{
    const wedge *a = pa, *b = pb;
    if (a->u != b->u) return a->u < b->u ? -1 : 1;
    return a->v < b->v ? -1 : a->v > b->v;
}

static int build_graph(wg_ctx *ctx, const dv_faces *f, const size_t *unit_of, size_t nu,
                       dv_graph *g)
{
    memset(g, 0, sizeof *g);
    g->n = nu;
    g->hh = calloc(nu, sizeof *g->hh);
    g->wt = calloc(nu, sizeof *g->wt);
    g->start = calloc(nu + 1, sizeof *g->start);
    wedge *w = malloc((2 * f->nlinks + 1) * sizeof *w);
    if (!g->hh || !g->wt || !g->start || !w) {
        free(w);
        dv_graph_free(g);
        return wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < f->n; i++) {
        g->hh[unit_of[i]] += f->hh[i];
        g->wt[unit_of[i]] += f->hh[i] + f->area_m2[i] * AREA_WEIGHT_PER_M2;
    }
    size_t m = 0;
    for (size_t i = 0; i < f->nlinks; i++) {
        const dv_link *l = &f->links[i];
        if (l->b == DV_OUTER || unit_of[l->a] == unit_of[l->b]) continue;
        double c = l->len_m * DV_COST[l->cls];
        w[m++] = (wedge){unit_of[l->a], unit_of[l->b], c};
        w[m++] = (wedge){unit_of[l->b], unit_of[l->a], c};
    }
    qsort(w, m, sizeof *w, cmp_wedge);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k > 0 && w[k - 1].u == w[i].u && w[k - 1].v == w[i].v)
            w[k - 1].cost += w[i].cost;
        else
            w[k++] = w[i];
    }
    g->nbr = malloc((k ? k : 1) * sizeof *g->nbr);
    g->cost = malloc((k ? k : 1) * sizeof *g->cost);
    if (!g->nbr || !g->cost) {
        free(w);
        dv_graph_free(g);
        return wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < k; i++) {
        g->nbr[i] = w[i].v;
        g->cost[i] = w[i].cost;
        g->start[w[i].u + 1]++;
    }
    for (size_t u = 0; u < nu; u++)
        g->start[u + 1] += g->start[u];
    free(w);
    return WG_OK;
}

/* ---------------------------------------------------------------- measures */

/* Households located in the region (the same boundary rule as the faces use). */
static int region_households(wg_ctx *ctx, const wg_divide_input *in, int64_t *H)
{
    *H = 0;
    if (in->npoints == 0) return WG_OK;
    wg_pindex *idx = NULL;
    const GEOSGeometry *r[1] = {in->region};
    int rc = wg_pindex_build(ctx, r, 1, &idx);
    for (size_t p = 0; rc == WG_OK && p < in->npoints; p++)
        if (wg_pindex_locate(idx, ctx, in->lon[p], in->lat[p]) == 0) *H += in->households[p];
    wg_pindex_free(idx);
    return rc;
}

static int polygon_count(wg_ctx *ctx, const GEOSGeometry *g)
{
    int t = GEOSGeomTypeId_r(ctx->geos, g);
    if (t == GEOS_POLYGON) return GEOSisEmpty_r(ctx->geos, g) ? 0 : 1;
    return GEOSGetNumGeometries_r(ctx->geos, g);
}

/* gap: area of region not covered by the grids; overlap: sum of pairwise intersection areas;
 * outside: area of the grids' union outside the region. */
static int measure_cover(wg_ctx *ctx, const GEOSGeometry *region, const wg_plan *p, double *gap,
                         double *overlap, double *outside)
{
    GEOSContextHandle_t h = ctx->geos;
    *gap = *overlap = *outside = 0;
    int rc = WG_OK;
    double(*env)[4] = malloc((size_t)p->n * sizeof *env);
    GEOSGeometry **parts = malloc((size_t)p->n * sizeof *parts);
    if (!env || !parts) rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    int k = 0;
    for (; rc == WG_OK && k < p->n; k++) {
        const GEOSGeometry *g = p->grids[k].geom;
        GEOSGeom_getXMin_r(h, g, &env[k][0]), GEOSGeom_getYMin_r(h, g, &env[k][1]);
        GEOSGeom_getXMax_r(h, g, &env[k][2]), GEOSGeom_getYMax_r(h, g, &env[k][3]);
        if (!(parts[k] = GEOSGeom_clone_r(h, g))) {
            rc = wg_fail_geos(ctx, "cannot copy a grid");
            break;
        }
    }
    for (int i = 0; rc == WG_OK && i < p->n; i++)
        for (int j = i + 1; rc == WG_OK && j < p->n; j++) {
            if (env[i][0] > env[j][2] || env[j][0] > env[i][2] || env[i][1] > env[j][3] ||
                env[j][1] > env[i][3])
                continue;
            GEOSGeometry *x = GEOSIntersection_r(h, p->grids[i].geom, p->grids[j].geom);
            if (!x)
                rc = wg_fail_geos(ctx, "cannot intersect two grids");
            else {
                *overlap += wg_geom_area_m2(ctx, x);
                GEOSGeom_destroy_r(h, x);
            }
        }
    GEOSGeometry *all = NULL, *u = NULL, *d = NULL, *e = NULL;
    if (rc == WG_OK) {
        all = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)k);
        k = 0; /* owned by the collection now (or lost with it on failure) */
        u = all ? GEOSUnaryUnion_r(h, all) : NULL;
        d = u ? GEOSDifference_r(h, region, u) : NULL;
        e = u ? GEOSDifference_r(h, u, region) : NULL;
        if (!d || !e)
            rc = wg_fail_geos(ctx, "cannot measure the gap");
        else
            *gap = wg_geom_area_m2(ctx, d), *outside = wg_geom_area_m2(ctx, e);
    }
    for (int i = 0; i < k; i++)
        GEOSGeom_destroy_r(h, parts[i]);
    if (all) GEOSGeom_destroy_r(h, all);
    if (u) GEOSGeom_destroy_r(h, u);
    if (d) GEOSGeom_destroy_r(h, d);
    if (e) GEOSGeom_destroy_r(h, e);
    free(env);
    free(parts);
    return rc;
}

/* Boundary lengths per grid and the plan's cut, from the classified pieces. */
static void measure_boundaries(const dv_faces *f, const int *grid_of_face, wg_plan *p,
                               double *road_int, double *outer, double *road_outer)
{
    for (size_t i = 0; i < f->nlinks; i++) {
        const dv_link *l = &f->links[i];
        int ga = grid_of_face[l->a], road = l->cls <= DV_LANE;
        if (l->b == DV_OUTER) {
            outer[ga] += l->len_m;
            if (road) road_outer[ga] += l->len_m;
            continue;
        }
        int gb = grid_of_face[l->b];
        if (ga == gb) continue;
        p->grids[ga].internal_m += l->len_m;
        p->grids[gb].internal_m += l->len_m;
        p->cut_m += l->len_m;
        if (!road) continue;
        road_int[ga] += l->len_m;
        road_int[gb] += l->len_m;
        p->cut_on_roads_m += l->len_m;
    }
}

static int measure_plan(wg_ctx *ctx, const wg_divide_input *in, const dv_faces *f,
                        const int *grid_of_face, const size_t *units_of_grid, wg_plan *p)
{
    int n = p->n;
    double *road_int = calloc((size_t)n, sizeof(double)),
           *outer = calloc((size_t)n, sizeof(double));
    double *road_outer = calloc((size_t)n, sizeof(double));
    if (!road_int || !outer || !road_outer) {
        free(road_int), free(outer), free(road_outer);
        return wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < f->n; i++)
        p->grids[grid_of_face[i]].households += (int64_t)llround(f->hh[i]);
    p->households = 0;
    for (int k = 0; k < n; k++)
        p->households += p->grids[k].households;
    p->target = (double)p->households / n;
    measure_boundaries(f, grid_of_face, p, road_int, outer, road_outer);
    double lo = INFINITY, hi = -INFINITY, sq = 0;
    p->band_met = 1;
    for (int k = 0; k < n; k++) {
        wg_grid_plan *g = &p->grids[k];
        double hh = (double)g->households;
        g->deviation = hh - p->target;
        g->deviation_pct = p->target > 0 ? 100 * g->deviation / p->target : 0;
        g->area_m2 = wg_geom_area_m2(ctx, g->geom);
        g->perimeter_m = g->internal_m + outer[k];
        g->polsby_popper =
            g->perimeter_m > 0 ? 4 * PI * g->area_m2 / (g->perimeter_m * g->perimeter_m) : 0;
        g->road_share_internal = g->internal_m > 0 ? road_int[k] / g->internal_m : 1;
        g->road_share = g->perimeter_m > 0 ? (road_int[k] + road_outer[k]) / g->perimeter_m : 1;
        g->parts = polygon_count(ctx, g->geom);
        g->units = units_of_grid[k];
        lo = fmin(lo, hh), hi = fmax(hi, hh);
        sq += g->deviation * g->deviation;
        p->max_abs_dev = fmax(p->max_abs_dev, fabs(g->deviation));
        if (p->band_max > 0 && (hh < p->band_min || hh > p->band_max)) p->band_met = 0;
    }
    p->max_abs_dev_pct = p->target > 0 ? 100 * p->max_abs_dev / p->target : 0;
    p->range = n > 0 ? hi - lo : 0;
    p->rmse = n > 0 ? sqrt(sq / n) : 0;
    free(road_int), free(outer), free(road_outer);
    return measure_cover(ctx, in->region, p, &p->gap_m2, &p->overlap_m2, &p->outside_m2);
}

/* ------------------------------------------------------------------- grids */

/* Grid geometries from the faces of each part, numbered in reading order; grid_of_face gets
 * the grid (after ordering) of each face. */
static int build_grids(wg_ctx *ctx, const dv_faces *f, const int *part_of_face,
                       const int *part_of_unit, size_t nu, wg_plan *p, int *grid_of_face,
                       size_t *units_of_grid)
{
    int n = p->n, rc = WG_OK;
    GEOSGeometry **geom = calloc((size_t)n, sizeof *geom);
    double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    size_t *idx = malloc(f->n * sizeof *idx), *order = malloc((size_t)n * sizeof *order);
    int *rank = malloc((size_t)n * sizeof *rank);
    size_t *upart = calloc((size_t)n, sizeof *upart);
    if (!geom || !x || !y || !idx || !order || !rank || !upart)
        rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    for (int k = 0; rc == WG_OK && k < n; k++) {
        size_t m = 0;
        for (size_t i = 0; i < f->n; i++)
            if (part_of_face[i] == k) idx[m++] = i;
        if (m == 0) {
            rc = wg_fail(ctx, WG_EDATA, "grid %d has no base unit", k + 1);
            break;
        }
        if (!(geom[k] = wg_planar_union(ctx, f->geom, idx, m)))
            rc = WG_EGEOS;
        else
            rc = wg_geom_point_on_surface(ctx, geom[k], &x[k], &y[k]);
    }
    for (size_t u = 0; rc == WG_OK && u < nu; u++)
        upart[part_of_unit[u]]++;
    if (rc == WG_OK) {
        wg_order_reading(x, y, (size_t)n, order);
        for (int s = 0; s < n; s++) {
            int k = (int)order[s];
            rank[k] = s;
            p->grids[s].geom = geom[k];
            geom[k] = NULL;
            p->grids[s].lon = x[k];
            p->grids[s].lat = y[k];
            units_of_grid[s] = upart[k];
        }
        for (size_t i = 0; i < f->n; i++)
            grid_of_face[i] = rank[part_of_face[i]];
    }
    for (int k = 0; geom && k < n; k++)
        if (geom[k]) GEOSGeom_destroy_r(ctx->geos, geom[k]);
    free(geom), free(x), free(y), free(idx), free(order), free(rank), free(upart);
    return rc;
}

/* Joins an uncovered piece of the region to the grid it touches most (area of the grid within
 * 1e-6° of it) among those it can join without making the grid fall apart (a piece touching a
 * grid at a corner only would); a piece no grid can take stays a gap, and is reported. */
static int join_piece(wg_ctx *ctx, wg_plan *p, const GEOSGeometry *piece, wg_keyed *cand)
{
    GEOSContextHandle_t h = ctx->geos;
    GEOSGeometry *near = GEOSBuffer_r(h, piece, 1e-6, 2);
    if (!near) return wg_fail_geos(ctx, "cannot buffer a sliver");
    size_t nc = 0;
    for (int g = 0; g < p->n; g++) {
        GEOSGeometry *x = GEOSIntersection_r(h, near, p->grids[g].geom);
        double v = x ? wg_geom_area_m2(ctx, x) : 0;
        if (x) GEOSGeom_destroy_r(h, x);
        if (v > 0) cand[nc++] = (wg_keyed){-v, (size_t)g};
    }
    GEOSGeom_destroy_r(h, near);
    qsort(cand, nc, sizeof *cand, wg_cmp_keyed);
    for (size_t c = 0; c < nc; c++) {
        wg_grid_plan *g = &p->grids[cand[c].idx];
        GEOSGeometry *pair[2] = {GEOSGeom_clone_r(h, g->geom), GEOSGeom_clone_r(h, piece)};
        GEOSGeometry *all = pair[0] && pair[1]
                                ? GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, pair, 2)
                                : NULL;
        if (!all) {
            if (pair[0]) GEOSGeom_destroy_r(h, pair[0]);
            if (pair[1]) GEOSGeom_destroy_r(h, pair[1]);
            return wg_fail_geos(ctx, "cannot join a sliver to a grid");
        }
        GEOSGeometry *un = GEOSUnaryUnion_r(h, all), *poly = un ? wg_geom_polygonal(ctx, un) : NULL;
        GEOSGeom_destroy_r(h, all);
        if (un) GEOSGeom_destroy_r(h, un);
        if (!poly) return wg_fail_geos(ctx, "cannot join a sliver to a grid");
        if (polygon_count(ctx, poly) > polygon_count(ctx, g->geom)) {
            GEOSGeom_destroy_r(h, poly);
            continue;
        }
        GEOSGeom_destroy_r(h, g->geom);
        g->geom = poly;
        break;
    }
    return WG_OK;
}

/* The grids made to tile the region's own outline (see divide.h, step 4): each grid not
 * within the region is clipped to it; each piece of the region left uncovered joins the grid
 * it shares the most boundary with (measured as the area of that grid within 1e-6° of it). */
static int fit_to_region(wg_ctx *ctx, const GEOSGeometry *region, wg_plan *p)
{
    GEOSContextHandle_t h = ctx->geos;
    const GEOSPreparedGeometry *prep = GEOSPrepare_r(h, region);
    if (!prep) return wg_fail_geos(ctx, "cannot prepare the region");
    int rc = WG_OK;
    for (int k = 0; rc == WG_OK && k < p->n; k++) {
        char within = GEOSPreparedContains_r(h, prep, p->grids[k].geom);
        if (within == 2) rc = wg_fail_geos(ctx, "cannot compare a grid with the region");
        if (within != 0) continue;
        GEOSGeometry *x = GEOSIntersection_r(h, p->grids[k].geom, region),
                     *poly = x ? wg_geom_polygonal(ctx, x) : NULL;
        if (x) GEOSGeom_destroy_r(h, x);
        if (!poly) {
            rc = wg_fail_geos(ctx, "cannot clip a grid to the region");
        } else if (GEOSisEmpty_r(h, poly)) {
            GEOSGeom_destroy_r(h, poly);
        } else {
            GEOSGeom_destroy_r(h, p->grids[k].geom);
            p->grids[k].geom = poly;
        }
    }
    GEOSPreparedGeom_destroy_r(h, prep);
    GEOSGeometry **parts = rc == WG_OK ? malloc((size_t)p->n * sizeof *parts) : NULL;
    if (rc == WG_OK && !parts) rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    int k = 0;
    for (; rc == WG_OK && k < p->n; k++)
        if (!(parts[k] = GEOSGeom_clone_r(h, p->grids[k].geom)))
            rc = wg_fail_geos(ctx, "cannot copy a grid");
    if (rc != WG_OK) {
        for (int i = 0; parts && i < k; i++)
            GEOSGeom_destroy_r(h, parts[i]);
        free(parts);
        return rc;
    }
    GEOSGeometry *all =
        GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)p->n);
    free(parts);
    GEOSGeometry *u = all ? GEOSUnaryUnion_r(h, all) : NULL,
                 *left = u ? GEOSDifference_r(h, region, u) : NULL;
    if (all) GEOSGeom_destroy_r(h, all);
    if (u) GEOSGeom_destroy_r(h, u);
    GEOSGeometry *pieces = left ? wg_geom_polygonal(ctx, left) : NULL;
    if (left) GEOSGeom_destroy_r(h, left);
    if (!pieces) return wg_fail_geos(ctx, "cannot find the uncovered part of the region");
    int np = GEOSisEmpty_r(h, pieces) ? 0 : GEOSGetNumGeometries_r(h, pieces);
    wg_keyed *cand = malloc(((size_t)p->n + 1) * sizeof *cand);
    if (!cand) rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    for (int i = 0; rc == WG_OK && i < np; i++)
        rc = join_piece(ctx, p, GEOSGetGeometryN_r(h, pieces, i), cand);
    free(cand);
    /* a grid in one piece is a Polygon, whatever the overlays made of it */
    for (int j = 0; rc == WG_OK && j < p->n; j++) {
        GEOSGeometry *g = p->grids[j].geom;
        if (GEOSGeomTypeId_r(h, g) != GEOS_MULTIPOLYGON || GEOSGetNumGeometries_r(h, g) != 1)
            continue;
        GEOSGeometry *one = GEOSGeom_clone_r(h, GEOSGetGeometryN_r(h, g, 0));
        if (!one)
            rc = wg_fail_geos(ctx, "cannot copy a grid");
        else {
            GEOSGeom_destroy_r(h, g);
            p->grids[j].geom = one;
        }
    }
    GEOSGeom_destroy_r(h, pieces);
    return rc;
}

/* ------------------------------------------------------------------ a region */

int dv_plan_region(wg_ctx *ctx, const wg_divide_input *in, const wg_divide_opts *o, const char *who,
                   wg_plan **out)
{
    double t0 = wg_mono_ms();
    *out = NULL;
    int rc = dv_check_opts(ctx, o);
    if (rc != WG_OK) return rc;
    if (!in || !in->region) return wg_fail(ctx, WG_EINVAL, "no region given");
    int t = GEOSGeomTypeId_r(ctx->geos, in->region);
    if ((t != GEOS_POLYGON && t != GEOS_MULTIPOLYGON) || GEOSisEmpty_r(ctx->geos, in->region))
        return wg_fail(ctx, WG_EDATA, "%s is not a polygon", who);
    wg_plan *p = calloc(1, sizeof *p);
    if (!p) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    if (o->grids == 0) p->band_min = o->band_min, p->band_max = o->band_max;
    int64_t H = 0;
    rc = region_households(ctx, in, &H);
    if (rc == WG_OK)
        rc = choose_n(ctx, who, H, o, &p->n, &p->band_feasible, p->note, sizeof p->note);
    dv_faces f = {0};
    dv_graph g = {0};
    size_t *unit_of = NULL, *units_of_grid = NULL, nu = 0;
    int *part = NULL, *part_of_face = NULL, *grid_of_face = NULL;
    if (rc == WG_OK) {
        double target = (double)H / p->n;
        dv_cut_goal cg = {p->n > 1 && H > 0 ? fmax(1, target) : INFINITY, (size_t)p->n};
        rc = dv_faces_build(ctx, in, &cg, &f);
    }
    if (rc == WG_OK) {
        p->faces = f.n;
        p->split_faces = f.splits;
        unit_of = malloc(f.n * sizeof *unit_of);
        part_of_face = malloc(f.n * sizeof *part_of_face);
        grid_of_face = malloc(f.n * sizeof *grid_of_face);
        units_of_grid = calloc((size_t)p->n, sizeof *units_of_grid);
        p->grids = calloc((size_t)p->n, sizeof *p->grids);
        if (!unit_of || !part_of_face || !grid_of_face || !units_of_grid || !p->grids)
            rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    if (rc == WG_OK) rc = make_units(ctx, &f, (size_t)p->n, unit_of, &nu, &p->slivers);
    if (rc == WG_OK) {
        p->units = nu;
        if (nu < (size_t)p->n)
            rc =
                wg_fail(ctx, WG_EDATA, "%s: cannot make %d grids of %zu base units", who, p->n, nu);
    }
    if (rc == WG_OK) rc = build_graph(ctx, &f, unit_of, nu, &g);
    if (rc == WG_OK && !(part = malloc(nu * sizeof *part)))
        rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    double metis_dev = 0;
    if (rc == WG_OK) {
        double hsum = 0;
        for (size_t u = 0; u < nu; u++)
            hsum += g.hh[u];
        dv_goal goal = {p->n, hsum / p->n, 0, INFINITY};
        if (p->band_max > 0 && p->band_feasible) goal.lo = p->band_min, goal.hi = p->band_max;
        rc = dv_partition(ctx, &g, &goal, part, &metis_dev);
    }
    for (size_t i = 0; rc == WG_OK && i < f.n; i++)
        part_of_face[i] = part[unit_of[i]];
    if (rc == WG_OK)
        rc = build_grids(ctx, &f, part_of_face, part, nu, p, grid_of_face, units_of_grid);
    if (rc == WG_OK) rc = fit_to_region(ctx, in->region, p);
    if (rc == WG_OK) rc = measure_plan(ctx, in, &f, grid_of_face, units_of_grid, p);
    if (rc == WG_OK) {
        p->metis_max_abs_dev_pct = !isfinite(metis_dev) ? NAN
                                   : p->target > 0      ? 100 * metis_dev / p->target
                                                        : 0;
        if (p->band_max > 0 && p->band_feasible && !p->band_met)
            snprintf(p->note, sizeof p->note, "%s: the base units do not allow every grid in %d–%d",
                     who, p->band_min, p->band_max);
        p->runtime_ms = wg_mono_ms() - t0;
    }
    dv_faces_free(ctx, &f);
    dv_graph_free(&g);
    free(unit_of), free(part), free(part_of_face), free(grid_of_face), free(units_of_grid);
    if (rc != WG_OK) {
        wg_plan_free(ctx, p);
        return rc;
    }
    *out = p;
    return WG_OK;
}

int wg_divide_region(wg_ctx *ctx, const wg_divide_input *in, const wg_divide_opts *opts,
                     wg_plan **out)
{
    *out = NULL;
    if (!opts) return wg_fail(ctx, WG_EINVAL, "no options given");
    return dv_plan_region(ctx, in, opts, "the region", out);
}
