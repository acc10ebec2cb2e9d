/* Division, step 1: the faces of a region cut by lines, with households and classified
 * boundary pieces (see divide_internal.h and wangge/divide.h).
 *
 * Faces are re-made from scratch after every round of cuts: the region boundary, the lines
 * and all cuts so far are noded together (planar.c), so neighbouring faces keep sharing their
 * edges vertex for vertex and any union of faces stays a clean coverage. A cut is a straight
 * meridian or parallel clipped to the face it divides, placed halfway between two address
 * points at least MIN_GAP_DEG apart (so snap rounding can never move it across either), at
 * the household-weighted median of the face across its longer side.
 *
 * Each piece of face boundary (a segment of the arrangement) is classified by what lies
 * within ON_LINE_DEG of its midpoint: a river, an arterial, a street, a lane (the cheapest to
 * cut first), a thematic-grid boundary, or nothing. Noded segments lie on their source line
 * up to the snap (0.7e-7°), so 1e-6° (about 10 cm) cannot miss, and only a line within 10 cm
 * can be taken for another. */
#include "divide_internal.h"
#include "geom.h"
#include "planar.h"
#include "wangge/pindex.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ON_LINE_DEG 1e-6
#define MIN_GAP_DEG 1e-6
/* Cuts reach this far beyond the face they divide (degrees, about 10 cm). */
#define OVERSHOOT_DEG 1e-6
/* A face narrower than this (degrees, about 20 cm) is not cut across the middle. */
#define MIN_CUT_EXTENT_DEG 2e-6
/* Rounds of cutting: each round at least doubles the faces it cuts, so 40 rounds are far more
 * than 999 grids need; the bound only stops pathological input. */
#define MAX_ROUNDS 40

const double DV_COST[DV_NCLASS] = {1, 1, 2, 3, 8, 30};

void dv_faces_free(wg_ctx *ctx, dv_faces *f)
{
    wg_planar_free(ctx, f->geom, f->n);
    free(f->hh);
    free(f->area_m2);
    free(f->perim_m);
    free(f->links);
    memset(f, 0, sizeof *f);
}

/* ------------------------------------------------------------ line sets */

typedef struct line_set {
    GEOSGeometry **v;
    size_t n, cap;
} line_set;

static void lines_free(wg_ctx *ctx, line_set *l)
{
    for (size_t i = 0; i < l->n; i++)
        GEOSGeom_destroy_r(ctx->geos, l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Takes ownership of g (destroyed on failure). Empty geometries are dropped. */
static int lines_push(wg_ctx *ctx, line_set *l, GEOSGeometry *g)
{
    if (!g) return wg_fail_geos(ctx, "cannot build a line");
    if (GEOSisEmpty_r(ctx->geos, g)) {
        GEOSGeom_destroy_r(ctx->geos, g);
        return WG_OK;
    }
    if (wg_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v) != WG_OK) {
        GEOSGeom_destroy_r(ctx->geos, g);
        return wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    l->v[l->n++] = g;
    return WG_OK;
}

/* The lineal parts of g (lines as they are, polygons by their boundary) clipped to the box. */
static int lines_push_clipped(wg_ctx *ctx, line_set *l, const GEOSGeometry *g, const double box[4])
{
    GEOSContextHandle_t h = ctx->geos;
    int t = GEOSGeomTypeId_r(h, g);
    if (t == GEOS_MULTIPOLYGON || t == GEOS_MULTILINESTRING || t == GEOS_GEOMETRYCOLLECTION) {
        int rc = WG_OK;
        for (int i = 0; rc == WG_OK && i < GEOSGetNumGeometries_r(h, g); i++)
            rc = lines_push_clipped(ctx, l, GEOSGetGeometryN_r(h, g, i), box);
        return rc;
    }
    if (t != GEOS_LINESTRING && t != GEOS_POLYGON && t != GEOS_LINEARRING) return WG_OK;
    GEOSGeometry *b = t == GEOS_POLYGON ? GEOSBoundary_r(h, g) : NULL;
    if (t == GEOS_POLYGON && !b) return wg_fail_geos(ctx, "cannot take a polygon's boundary");
    GEOSGeometry *c = GEOSClipByRect_r(h, b ? b : g, box[0], box[1], box[2], box[3]);
    if (b) GEOSGeom_destroy_r(h, b);
    return lines_push(ctx, l, c);
}

/* One MultiLineString of the LineStrings of set (cloned), prepared; NULL prep if empty. */
static int prepare_class(wg_ctx *ctx, const line_set *l, GEOSGeometry **geom,
                         const GEOSPreparedGeometry **prep)
{
    GEOSContextHandle_t h = ctx->geos;
    *geom = NULL;
    *prep = NULL;
    size_t total = 0;
    for (size_t i = 0; i < l->n; i++) {
        int k = GEOSGetNumGeometries_r(h, l->v[i]);
        total += k > 0 ? (size_t)k : 0;
    }
    if (total == 0) return WG_OK;
    GEOSGeometry **parts = malloc(total * sizeof *parts);
    if (!parts) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    size_t np = 0;
    int ok = 1;
    for (size_t i = 0; ok && i < l->n; i++)
        for (int k = 0; ok && k < GEOSGetNumGeometries_r(h, l->v[i]); k++) {
            const GEOSGeometry *p = GEOSGetGeometryN_r(h, l->v[i], k);
            if (GEOSGeomTypeId_r(h, p) != GEOS_LINESTRING) continue;
            if (!(parts[np] = GEOSGeom_clone_r(h, p)))
                ok = 0;
            else
                np++;
        }
    if (ok && np > 0)
        *geom = GEOSGeom_createCollection_r(h, GEOS_MULTILINESTRING, parts, (unsigned)np);
    else
        for (size_t i = 0; i < np; i++)
            GEOSGeom_destroy_r(h, parts[i]);
    free(parts);
    if (!ok || (np > 0 && !*geom)) return wg_fail_geos(ctx, "cannot collect lines");
    if (*geom && !(*prep = GEOSPrepare_r(h, *geom))) {
        GEOSGeom_destroy_r(h, *geom);
        *geom = NULL;
        return wg_fail_geos(ctx, "cannot prepare lines");
    }
    return WG_OK;
}

/* ------------------------------------------------------------- households */

/* Points per face: face_of[p] (-1 outside), and the points of face f as
 * pts[first[f] .. first[f + 1]). */
typedef struct located {
    int32_t *face_of;
    size_t *first, *pts;
} located;

static void located_free(located *lc)
{
    free(lc->face_of);
    free(lc->first);
    free(lc->pts);
    memset(lc, 0, sizeof *lc);
}

static int locate_points(wg_ctx *ctx, const wg_divide_input *in, GEOSGeometry **faces, size_t n,
                         double *hh, located *lc)
{
    memset(lc, 0, sizeof *lc);
    for (size_t f = 0; f < n; f++)
        hh[f] = 0;
    wg_pindex *idx = NULL;
    int rc = wg_pindex_build(ctx, (const GEOSGeometry *const *)faces, n, &idx);
    if (rc != WG_OK) return rc;
    lc->face_of = malloc((in->npoints ? in->npoints : 1) * sizeof *lc->face_of);
    lc->first = calloc(n + 2, sizeof *lc->first);
    lc->pts = malloc((in->npoints ? in->npoints : 1) * sizeof *lc->pts);
    if (!lc->face_of || !lc->first || !lc->pts) rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    for (size_t p = 0; rc == WG_OK && p < in->npoints; p++) {
        int32_t f = wg_pindex_locate(idx, ctx, in->lon[p], in->lat[p]);
        lc->face_of[p] = f;
        if (f < 0) continue;
        hh[f] += (double)in->households[p];
        lc->first[(size_t)f + 2]++;
    }
    wg_pindex_free(idx);
    if (rc != WG_OK) {
        located_free(lc);
        return rc;
    }
    /* counting sort: first[f + 1] counts, prefix sums, then fill */
    for (size_t f = 0; f < n; f++)
        lc->first[f + 2] += lc->first[f + 1];
    for (size_t p = 0; p < in->npoints; p++)
        if (lc->face_of[p] >= 0) lc->pts[lc->first[(size_t)lc->face_of[p] + 1]++] = p;
    return WG_OK;
}

/* ------------------------------------------------------------------ cuts */

/* The household-weighted median gap of the points of a face along one axis (0 = lon): the
 * position halfway between the two consecutive points (MIN_GAP_DEG apart at least) that
 * splits the households most evenly. 0 if there is no such gap. */
static int median_gap(const wg_divide_input *in, const size_t *pts, size_t m, int axis,
                      wg_keyed *ks, double *at)
{
    double total = 0;
    for (size_t k = 0; k < m; k++) {
        size_t p = pts[k];
        ks[k] = (wg_keyed){axis ? in->lat[p] : in->lon[p], p};
        total += (double)in->households[p];
    }
    qsort(ks, m, sizeof *ks, wg_cmp_keyed);
    double cum = 0, best = INFINITY;
    int found = 0;
    for (size_t k = 0; k + 1 < m; k++) {
        cum += (double)in->households[ks[k].idx];
        if (ks[k + 1].key - ks[k].key < MIN_GAP_DEG) continue;
        double d = fabs(cum - total / 2);
        if (d < best) {
            best = d;
            *at = (ks[k].key + ks[k + 1].key) / 2;
            found = 1;
        }
    }
    return found;
}

/* Adds the cut of face f at coordinate `at` along `axis` (0: a meridian lon = at; 1: a
 * parallel lat = at): the line clipped to the face, each piece lengthened by OVERSHOOT_DEG at
 * both ends. The face's edges were snapped, the roads they came from were not: a cut ending
 * exactly on a snapped edge may stop a hair short of the road once everything is noded again
 * and dangle, splitting nothing; overshooting, it crosses for sure (the stub beyond is a
 * dangle, which polygonizing drops). A cut already there adds nothing: returns 1 if added. */
static int add_cut(wg_ctx *ctx, const GEOSGeometry *face, int axis, double at, const double env[4],
                   line_set *cuts)
{
    GEOSContextHandle_t h = ctx->geos;
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, 2, 2);
    if (!cs) return wg_fail_geos(ctx, "cannot build a cut");
    double pad = 1e-4;
    if (axis == 0) {
        GEOSCoordSeq_setXY_r(h, cs, 0, at, env[1] - pad);
        GEOSCoordSeq_setXY_r(h, cs, 1, at, env[3] + pad);
    } else {
        GEOSCoordSeq_setXY_r(h, cs, 0, env[0] - pad, at);
        GEOSCoordSeq_setXY_r(h, cs, 1, env[2] + pad, at);
    }
    GEOSGeometry *line = GEOSGeom_createLineString_r(h, cs);
    if (!line) return wg_fail_geos(ctx, "cannot build a cut");
    GEOSGeometry *clip = GEOSIntersection_r(h, line, face);
    GEOSGeom_destroy_r(h, line);
    if (!clip) return wg_fail_geos(ctx, "cannot clip a cut");
    int rc = WG_OK, added = 0, n = GEOSGetNumGeometries_r(h, clip);
    for (int i = 0; rc == WG_OK && i < n; i++) {
        const GEOSGeometry *piece = GEOSGetGeometryN_r(h, clip, i);
        if (GEOSGeomTypeId_r(h, piece) != GEOS_LINESTRING) continue;
        const GEOSCoordSequence *pc = GEOSGeom_getCoordSeq_r(h, piece);
        unsigned m = 0;
        double x0, y0, x1, y1;
        if (!pc || !GEOSCoordSeq_getSize_r(h, pc, &m) || m < 2) continue;
        GEOSCoordSeq_getXY_r(h, pc, 0, &x0, &y0);
        GEOSCoordSeq_getXY_r(h, pc, m - 1, &x1, &y1);
        double lo = axis == 0 ? fmin(y0, y1) : fmin(x0, x1),
               hi = axis == 0 ? fmax(y0, y1) : fmax(x0, x1);
        GEOSCoordSequence *ec = GEOSCoordSeq_create_r(h, 2, 2);
        if (!ec) {
            rc = wg_fail_geos(ctx, "cannot build a cut");
            break;
        }
        GEOSCoordSeq_setXY_r(h, ec, 0, axis == 0 ? at : lo - OVERSHOOT_DEG,
                             axis == 0 ? lo - OVERSHOOT_DEG : at);
        GEOSCoordSeq_setXY_r(h, ec, 1, axis == 0 ? at : hi + OVERSHOOT_DEG,
                             axis == 0 ? hi + OVERSHOOT_DEG : at);
        GEOSGeometry *cut = GEOSGeom_createLineString_r(h, ec);
        if (!cut) {
            rc = wg_fail_geos(ctx, "cannot build a cut");
            break;
        }
        int dup = 0;
        for (size_t k = 0; k < cuts->n && !dup; k++)
            dup = GEOSEqualsExact_r(h, cuts->v[k], cut, 0) == 1;
        if (dup) {
            GEOSGeom_destroy_r(h, cut);
            continue;
        }
        rc = lines_push(ctx, cuts, cut);
        added = 1;
    }
    GEOSGeom_destroy_r(h, clip);
    return rc == WG_OK ? added : rc;
}

/* Cuts face f in two: between its address points if they lie apart, else (if allowed) across
 * the middle. Returns 1 if a cut was added, 0 if not, or an rc < 0. */
static int cut_face(wg_ctx *ctx, const wg_divide_input *in, const GEOSGeometry *face,
                    const size_t *pts, size_t m, wg_keyed *ks, int middle_ok, line_set *cuts)
{
    double env[4];
    if (!GEOSGeom_getXMin_r(ctx->geos, face, &env[0]) ||
        !GEOSGeom_getYMin_r(ctx->geos, face, &env[1]) ||
        !GEOSGeom_getXMax_r(ctx->geos, face, &env[2]) ||
        !GEOSGeom_getYMax_r(ctx->geos, face, &env[3]))
        return wg_fail_geos(ctx, "cannot read a face's extent");
    double w_m = (env[2] - env[0]) * cos((env[1] + env[3]) / 2 * (3.14159265358979323846 / 180)),
           h_m = env[3] - env[1];
    int longer = w_m >= h_m ? 0 : 1;
    for (int t = 0; t < 2 && m >= 2; t++) {
        int axis = t == 0 ? longer : 1 - longer;
        double at;
        if (median_gap(in, pts, m, axis, ks, &at)) return add_cut(ctx, face, axis, at, env, cuts);
    }
    if (!middle_ok) return 0;
    double ext = longer == 0 ? env[2] - env[0] : env[3] - env[1];
    if (ext < MIN_CUT_EXTENT_DEG) return 0;
    double at = longer == 0 ? (env[0] + env[2]) / 2 : (env[1] + env[3]) / 2;
    /* keep a single address off the line */
    for (size_t k = 0; k < m; k++) {
        double c = longer == 0 ? in->lon[pts[k]] : in->lat[pts[k]];
        if (fabs(c - at) < MIN_GAP_DEG) at = c + (c < at ? 1 : -1) * 2 * MIN_GAP_DEG;
    }
    return add_cut(ctx, face, longer, at, env, cuts);
}

/* The cuts of one round; *added = how many. */
static int plan_cuts(wg_ctx *ctx, const wg_divide_input *in, const dv_cut_goal *goal,
                     GEOSGeometry **faces, size_t n, const double *hh, const located *lc,
                     line_set *cuts, size_t *added)
{
    *added = 0;
    wg_keyed *ks = malloc((in->npoints ? in->npoints : 1) * sizeof *ks);
    wg_keyed *order = malloc((n ? n : 1) * sizeof *order);
    int rc = ks && order ? WG_OK : wg_fail(ctx, WG_ENOMEM, "out of memory");
    /* heavy faces first */
    for (size_t f = 0; rc == WG_OK && f < n; f++) {
        if (hh[f] <= goal->cap_hh) continue;
        int r = cut_face(ctx, in, faces[f], lc->pts + lc->first[f], lc->first[f + 1] - lc->first[f],
                         ks, 0, cuts);
        if (r < 0)
            rc = r;
        else
            *added += (size_t)r;
    }
    /* then, for many grids, the heaviest faces (largest first among empty ones) */
    if (rc == WG_OK && *added == 0 && n < goal->min_faces) {
        for (size_t f = 0; f < n; f++) {
            double area = wg_geom_area_m2(ctx, faces[f]);
            order[f] = (wg_keyed){-(hh[f] * 1e12 + area), f};
        }
        qsort(order, n, sizeof *order, wg_cmp_keyed);
        size_t want = goal->min_faces - n;
        for (size_t k = 0; rc == WG_OK && k < n && *added < want; k++) {
            size_t f = order[k].idx;
            int r = cut_face(ctx, in, faces[f], lc->pts + lc->first[f],
                             lc->first[f + 1] - lc->first[f], ks, 1, cuts);
            if (r < 0)
                rc = r;
            else
                *added += (size_t)r;
        }
    }
    free(ks);
    free(order);
    return rc;
}

/* ------------------------------------------------------------- boundary */

static int cmp_link(const void *pa, const void *pb)
{
    const dv_link *a = pa, *b = pb;
    if (a->a != b->a) return a->a < b->a ? -1 : 1;
    if (a->b != b->b) return a->b < b->b ? -1 : 1;
    return a->cls < b->cls ? -1 : a->cls > b->cls;
}

typedef struct classifier {
    GEOSGeometry *geom[DV_NONE];
    const GEOSPreparedGeometry *prep[DV_NONE];
} classifier;

static void classifier_free(wg_ctx *ctx, classifier *c)
{
    for (int k = 0; k < DV_NONE; k++) {
        if (c->prep[k]) GEOSPreparedGeom_destroy_r(ctx->geos, c->prep[k]);
        if (c->geom[k]) GEOSGeom_destroy_r(ctx->geos, c->geom[k]);
    }
}

static int classify(wg_ctx *ctx, const classifier *c, double x, double y, int *cls)
{
    *cls = DV_NONE;
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(ctx->geos, x, y);
    if (!pt) return wg_fail_geos(ctx, "cannot build a point");
    for (int k = 0; k < DV_NONE; k++) {
        if (!c->prep[k]) continue;
        char r = GEOSPreparedDistanceWithin_r(ctx->geos, c->prep[k], pt, ON_LINE_DEG);
        if (r == 2) {
            GEOSGeom_destroy_r(ctx->geos, pt);
            return wg_fail_geos(ctx, "cannot measure a distance");
        }
        if (r == 1) {
            *cls = k;
            break;
        }
    }
    GEOSGeom_destroy_r(ctx->geos, pt);
    return WG_OK;
}

/* Boundary pieces of the faces, classified and summed per (a, b, class); face perimeters. */
static int build_links(wg_ctx *ctx, const classifier *cl, dv_faces *f)
{
    wg_seg_list l = {0};
    int rc = WG_OK;
    for (size_t i = 0; rc == WG_OK && i < f->n; i++)
        rc = wg_segs_add_polygon(ctx, f->geom[i], i, &l);
    if (rc == WG_OK) wg_segs_sort(&l);
    const wg_seg *v = l.v;
    dv_link *links = NULL;
    size_t nl = 0, lcap = 0;
    for (size_t s = 0; rc == WG_OK && s < l.n;) {
        size_t e = wg_segs_run_end(&l, s);
        double len = wg_dist_m(&ctx->wgs84, v[s].ax, v[s].ay, v[s].bx, v[s].by);
        int cls;
        rc = classify(ctx, cl, (v[s].ax + v[s].bx) / 2, (v[s].ay + v[s].by) / 2, &cls);
        /* two faces (sorted by face) share it; one alone has it on the outer boundary */
        size_t a = v[s].poly, b = e - s >= 2 && v[s + 1].poly != a ? v[s + 1].poly : DV_OUTER;
        f->perim_m[a] += len;
        if (b != DV_OUTER) f->perim_m[b] += len;
        if (rc == WG_OK && wg_grow((void **)&links, &lcap, nl + 1, sizeof *links) != WG_OK)
            rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
        if (rc == WG_OK) links[nl++] = (dv_link){a, b, cls, len};
        s = e;
    }
    free(l.v);
    if (rc == WG_OK) {
        qsort(links, nl, sizeof *links, cmp_link);
        size_t k = 0;
        for (size_t i = 0; i < nl; i++) {
            if (k > 0 && links[k - 1].a == links[i].a && links[k - 1].b == links[i].b &&
                links[k - 1].cls == links[i].cls)
                links[k - 1].len_m += links[i].len_m;
            else
                links[k++] = links[i];
        }
        f->links = links;
        f->nlinks = k;
    } else {
        free(links);
    }
    return rc;
}

/* --------------------------------------------------------------- faces */

static int build_classifier(wg_ctx *ctx, const wg_divide_input *in, const double box[4],
                            classifier *cl)
{
    line_set sets[DV_NONE];
    memset(sets, 0, sizeof sets);
    int rc = WG_OK;
    for (size_t i = 0; rc == WG_OK && i < in->nlines; i++) {
        int c = in->line_class ? in->line_class[i] : WG_LINE_STREET;
        if (c < DV_RIVER || c > DV_LANE) c = DV_STREET;
        rc = lines_push_clipped(ctx, &sets[c], in->lines[i], box);
    }
    for (size_t i = 0; rc == WG_OK && i < in->nthematic; i++)
        rc = lines_push_clipped(ctx, &sets[DV_THEMATIC], in->thematic[i], box);
    for (int k = 0; rc == WG_OK && k < DV_NONE; k++)
        rc = prepare_class(ctx, &sets[k], &cl->geom[k], &cl->prep[k]);
    for (int k = 0; k < DV_NONE; k++)
        lines_free(ctx, &sets[k]);
    return rc;
}

/* Every line (roads, thematic boundaries) clipped to the box, as the noding input. */
static int base_lines(wg_ctx *ctx, const wg_divide_input *in, const double box[4], line_set *out)
{
    int rc = WG_OK;
    for (size_t i = 0; rc == WG_OK && i < in->nlines; i++)
        rc = lines_push_clipped(ctx, out, in->lines[i], box);
    for (size_t i = 0; rc == WG_OK && i < in->nthematic; i++)
        rc = lines_push_clipped(ctx, out, in->thematic[i], box);
    return rc;
}

int dv_faces_build(wg_ctx *ctx, const wg_divide_input *in, const dv_cut_goal *goal, dv_faces *out)
{
    GEOSContextHandle_t h = ctx->geos;
    memset(out, 0, sizeof *out);
    double box[4];
    if (!GEOSGeom_getXMin_r(h, in->region, &box[0]) ||
        !GEOSGeom_getYMin_r(h, in->region, &box[1]) ||
        !GEOSGeom_getXMax_r(h, in->region, &box[2]) || !GEOSGeom_getYMax_r(h, in->region, &box[3]))
        return wg_fail(ctx, WG_EDATA, "the region is empty");
    double pad = 1e-5;
    box[0] -= pad, box[1] -= pad, box[2] += pad, box[3] += pad;
    line_set lines = {0};
    classifier cl;
    memset(&cl, 0, sizeof cl);
    int rc = base_lines(ctx, in, box, &lines);
    located lc = {0};
    for (int round = 0; rc == WG_OK; round++) {
        rc = wg_planar_faces(ctx, in->region, lines.v, lines.n, DV_GRID, &out->geom, &out->n);
        if (rc != WG_OK) break;
        if (out->n == 0) {
            rc = wg_fail(ctx, WG_EDATA, "the region has no area");
            break;
        }
        free(out->hh);
        if (!(out->hh = malloc(out->n * sizeof *out->hh))) {
            rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
            break;
        }
        rc = locate_points(ctx, in, out->geom, out->n, out->hh, &lc);
        size_t added = 0;
        if (rc == WG_OK && round < MAX_ROUNDS)
            rc = plan_cuts(ctx, in, goal, out->geom, out->n, out->hh, &lc, &lines, &added);
        located_free(&lc);
        if (rc != WG_OK || added == 0) break;
        out->splits += added;
        wg_planar_free(ctx, out->geom, out->n);
        out->geom = NULL;
        out->n = 0;
    }
    lines_free(ctx, &lines);
    if (rc == WG_OK) {
        out->area_m2 = malloc(out->n * sizeof *out->area_m2);
        out->perim_m = calloc(out->n, sizeof *out->perim_m);
        if (!out->area_m2 || !out->perim_m) rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; rc == WG_OK && i < out->n; i++)
        out->area_m2[i] = wg_geom_area_m2(ctx, out->geom[i]);
    if (rc == WG_OK) rc = build_classifier(ctx, in, box, &cl);
    if (rc == WG_OK) rc = build_links(ctx, &cl, out);
    classifier_free(ctx, &cl);
    if (rc != WG_OK) dv_faces_free(ctx, out);
    return rc;
}
