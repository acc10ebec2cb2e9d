/* Validation of a generation (see wangge/validate.h).
 *
 * Model. The units of a generation form three nested levels: districts (1), communities (2),
 * work grids (3). A unit's parent is the unit of the level above whose code is its
 * parent_code; siblings are the units with one parent (all districts are siblings). Checked:
 *   per unit     the geometry is a non-empty, GEOS-valid (multi)polygon (invalid_geometry) with
 *                every coordinate in lon [-180, 180], lat [-90, 90] (coord_range); codes are
 *                unique within a level (duplicate_code);
 *   per child    levels 2 and 3 name an existing parent (no_parent), whose code prefixes their
 *                own (code_prefix); area(unit - parent) is nil (outside_parent);
 *   per siblings no two share interior: area(a ∩ b) (overlap; each pair once, code < other);
 *   per parent   parent - ∪ children is empty (gap: one fault per connected part). A parent
 *                with no children is one gap, unless the child level is empty in the whole
 *                generation (nothing drawn there yet is not a gap).
 * Areas are geodesic on WGS84 in m² (wg_geom_area_m2), never in degrees. Tolerance: an areal
 * fault (outside_parent, overlap, gap) with area <= tol_m2 is counted and summed in below_tol,
 * not listed. Overlay is undefined on invalid or out-of-range input, so the areal checks skip
 * any unit that already has a geometry fault (a parent with such a child is not gap-checked).
 * A GEOS error on one unit or pair is recorded as a fault of that kind ("GEOS error: ...") and
 * validation goes on; only running out of memory ends it.
 *
 * Cost. Overlap candidates come from one STRtree per level, and a candidate pair costs an
 * intersection only when GEOSRelatePattern "2********" says the interiors share an area, so
 * neighbours that merely touch cost one relate. Containment in the parent is first tested with
 * the parent prepared (GEOSPreparedContainsProperly); only units touching the parent's boundary
 * cost a difference. */
#include "wangge/validate.h"
#include "wangge/store.h"
#include "geom.h"
#include "json_out.h"

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct vstate {
    wg_ctx *ctx;
    wg_unit_set *set;
    wg_report *rep;
    size_t cap;                        /* of rep->faults */
    unsigned char *usable;             /* per unit: geometry fit for overlay */
    const GEOSPreparedGeometry **prep; /* per unit, prepared on first use as a parent */
} vstate;

const char *wg_fault_kind_name(wg_fault_kind k)
{
    static const char *const names[] = {
        "invalid_geometry", "coord_range", "no_parent", "code_prefix",
        "outside_parent",   "overlap",     "gap",       "duplicate_code"};
    if ((int)k < 0 || (size_t)k >= sizeof names / sizeof names[0]) return "unknown";
    return names[k];
}

/* ---- recording faults ---- */

static wg_fault fault_make(wg_fault_kind kind, int level, const char *code, const char *other)
{
    wg_fault f;
    memset(&f, 0, sizeof f);
    f.kind = kind;
    f.level = level;
    snprintf(f.code, sizeof f.code, "%s", code ? code : "");
    snprintf(f.other, sizeof f.other, "%s", other ? other : "");
    f.lon = f.lat = NAN;
    return f;
}

static int push_fault(vstate *vs, const wg_fault *f)
{
    wg_report *r = vs->rep;
    if (wg_grow((void **)&r->faults, &vs->cap, r->n + 1, sizeof *r->faults) != WG_OK)
        return wg_fail(vs->ctx, WG_ENOMEM, "out of memory recording faults");
    r->faults[r->n++] = *f;
    return WG_OK;
}

/* A GEOS failure on one check becomes a fault of that check, with GEOS's message. */
static int push_geos_error(vstate *vs, wg_fault *f, const char *what)
{
    const char *msg = vs->ctx->geos_msg[0] ? vs->ctx->geos_msg : "unknown";
    snprintf(f->detail, sizeof f->detail, "GEOS error: %.150s (%s)", msg, what);
    return push_fault(vs, f);
}

/* An areal fault: measured, then listed if above the tolerance or counted below it. */
static int push_areal(vstate *vs, wg_fault *f, const GEOSGeometry *part)
{
    double area = wg_geom_area_m2(vs->ctx, part);
    if (!(area > 0.0)) return WG_OK; /* an empty overlay result: no fault at all */
    if (area <= vs->rep->tol_m2) {
        vs->rep->below_tol++;
        vs->rep->below_tol_m2 += area;
        return WG_OK;
    }
    f->area_m2 = area;
    GEOSGeometry *poly = wg_geom_polygonal(vs->ctx, part); /* drop lines and points of overlay */
    if (poly && wg_geom_point_on_surface(vs->ctx, poly, &f->lon, &f->lat) != WG_OK)
        f->lon = f->lat = NAN;
    if (poly) GEOSGeom_destroy_r(vs->ctx->geos, poly);
    return push_fault(vs, f);
}

/* ---- locations ---- */

static void envelope_centre(vstate *vs, const GEOSGeometry *g, double *lon, double *lat)
{
    GEOSContextHandle_t h = vs->ctx->geos;
    double x0, x1, y0, y1;
    if (GEOSGeom_getXMin_r(h, g, &x0) && GEOSGeom_getXMax_r(h, g, &x1) &&
        GEOSGeom_getYMin_r(h, g, &y0) && GEOSGeom_getYMax_r(h, g, &y1)) {
        *lon = (x0 + x1) / 2;
        *lat = (y0 + y1) / 2;
    }
}

/* A point on the unit: inside it when its geometry is usable, else its envelope's centre. */
static void unit_location(vstate *vs, size_t i, double *lon, double *lat)
{
    *lon = *lat = NAN;
    const GEOSGeometry *g = vs->set->units[i].geom;
    if (vs->usable[i] && wg_geom_point_on_surface(vs->ctx, g, lon, lat) == WG_OK && isfinite(*lon))
        return;
    envelope_centre(vs, g, lon, lat);
}

/* wg_geom_check_valid ends its detail with GEOS's location: "... at (lon lat)". */
static void detail_location(const char *detail, double *lon, double *lat)
{
    const char *at = strrchr(detail, '(');
    if (!at || sscanf(at, "(%lf %lf)", lon, lat) != 2 || !isfinite(*lon) || !isfinite(*lat))
        *lon = *lat = NAN;
}

/* ---- per unit: geometry ---- */

static int ring_out_of_range(vstate *vs, const GEOSGeometry *ring, wg_fault *f)
{
    GEOSContextHandle_t h = vs->ctx->geos;
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n)) return 0;
    for (unsigned k = 0; k < n; k++) {
        double x, y;
        if (!GEOSCoordSeq_getXY_r(h, cs, k, &x, &y)) return 0;
        if (wg_check_lonlat(x, y, f->detail, sizeof f->detail) == WG_OK) continue;
        f->lon = x;
        f->lat = y;
        return 1;
    }
    return 0;
}

static int polygon_out_of_range(vstate *vs, const GEOSGeometry *poly, wg_fault *f)
{
    GEOSContextHandle_t h = vs->ctx->geos;
    const GEOSGeometry *shell = GEOSGetExteriorRing_r(h, poly);
    if (shell && ring_out_of_range(vs, shell, f)) return 1;
    int holes = GEOSGetNumInteriorRings_r(h, poly);
    for (int k = 0; k < holes; k++)
        if (ring_out_of_range(vs, GEOSGetInteriorRingN_r(h, poly, k), f)) return 1;
    return 0;
}

/* 1 if some coordinate of the (multi)polygon g is out of range; its place goes into f. */
static int out_of_range(vstate *vs, const GEOSGeometry *g, wg_fault *f)
{
    GEOSContextHandle_t h = vs->ctx->geos;
    double x0, x1, y0, y1;
    if (GEOSGeom_getXMin_r(h, g, &x0) && GEOSGeom_getXMax_r(h, g, &x1) &&
        GEOSGeom_getYMin_r(h, g, &y0) && GEOSGeom_getYMax_r(h, g, &y1) && x0 >= -180.0 &&
        x1 <= 180.0 && y0 >= -90.0 && y1 <= 90.0)
        return 0; /* the envelope is in range: so is every coordinate */
    int type = GEOSGeomTypeId_r(h, g);
    if (type == GEOS_POLYGON) return polygon_out_of_range(vs, g, f);
    if (type != GEOS_MULTIPOLYGON) return 0;
    int n = GEOSGetNumGeometries_r(h, g);
    for (int p = 0; p < n; p++)
        if (polygon_out_of_range(vs, GEOSGetGeometryN_r(h, g, p), f)) return 1;
    return 0;
}

/* 1 if g is a valid non-empty (multi)polygon; otherwise fills f's detail and location. */
static int geometry_ok(vstate *vs, size_t i, wg_fault *f)
{
    GEOSContextHandle_t h = vs->ctx->geos;
    const GEOSGeometry *g = vs->set->units[i].geom;
    int type = GEOSGeomTypeId_r(h, g);
    if (type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON) {
        snprintf(f->detail, sizeof f->detail, "geometry is not a polygon or multipolygon");
    } else if (GEOSisEmpty_r(h, g)) {
        snprintf(f->detail, sizeof f->detail, "empty geometry");
    } else {
        int v = wg_geom_check_valid(vs->ctx, g, f->detail, sizeof f->detail);
        if (v == 1) return 1;
        if (v < 0) {
            snprintf(f->detail, sizeof f->detail, "GEOS error: %.150s (validity)",
                     vs->ctx->geos_msg[0] ? vs->ctx->geos_msg : "unknown");
        }
        detail_location(f->detail, &f->lon, &f->lat);
    }
    if (!isfinite(f->lon)) unit_location(vs, i, &f->lon, &f->lat);
    return 0;
}

static int check_geometry(vstate *vs, size_t i)
{
    const wg_unit *u = &vs->set->units[i];
    wg_fault f = fault_make(WG_FAULT_INVALID_GEOMETRY, u->level, u->code, NULL);
    int valid = geometry_ok(vs, i, &f);
    int rc = valid ? WG_OK : push_fault(vs, &f);
    if (rc != WG_OK) return rc;
    f = fault_make(WG_FAULT_COORD_RANGE, u->level, u->code, NULL);
    int in_range = !out_of_range(vs, u->geom, &f);
    if (!in_range) rc = push_fault(vs, &f);
    vs->usable[i] = (unsigned char)(valid && in_range);
    return rc;
}

/* ---- per unit: codes and parents ---- */

static int check_duplicates(vstate *vs, size_t i)
{
    const wg_unit *u = vs->set->units, *a = &u[i];
    if (i > 0 && u[i - 1].level == a->level && strcmp(u[i - 1].code, a->code) == 0)
        return WG_OK; /* counted with the first of its run */
    size_t run = 1;
    while (i + run < vs->set->n && u[i + run].level == a->level &&
           strcmp(u[i + run].code, a->code) == 0)
        run++;
    if (run == 1) return WG_OK;
    wg_fault f = fault_make(WG_FAULT_DUPLICATE_CODE, a->level, a->code, NULL);
    snprintf(f.detail, sizeof f.detail, "%zu %s units have this code", run,
             wg_level_name(a->level));
    unit_location(vs, i, &f.lon, &f.lat);
    return push_fault(vs, &f);
}

static int check_parent(vstate *vs, size_t i)
{
    const wg_unit *u = &vs->set->units[i];
    const char *pc = u->parent_code && u->parent_code[0] ? u->parent_code : NULL;
    int rc = WG_OK;
    if (u->level > 1 && u->parent < 0) {
        wg_fault f = fault_make(WG_FAULT_NO_PARENT, u->level, u->code, pc);
        if (pc)
            snprintf(f.detail, sizeof f.detail, "parent code %.40s names no %s in generation %lld",
                     pc, wg_level_name(u->level - 1), (long long)vs->set->generation);
        else
            snprintf(f.detail, sizeof f.detail, "no parent code");
        unit_location(vs, i, &f.lon, &f.lat);
        rc = push_fault(vs, &f);
    }
    if (rc != WG_OK || !pc || strncmp(u->code, pc, strlen(pc)) == 0) return rc;
    wg_fault f = fault_make(WG_FAULT_CODE_PREFIX, u->level, u->code, pc);
    snprintf(f.detail, sizeof f.detail, "code %.32s does not start with its parent code %.40s",
             u->code, pc);
    unit_location(vs, i, &f.lon, &f.lat);
    return push_fault(vs, &f);
}

static const GEOSPreparedGeometry *prepared(vstate *vs, size_t p)
{
    if (!vs->prep[p]) vs->prep[p] = GEOSPrepare_r(vs->ctx->geos, vs->set->units[p].geom);
    return vs->prep[p];
}

static int check_outside(vstate *vs, size_t i)
{
    GEOSContextHandle_t h = vs->ctx->geos;
    const wg_unit *u = &vs->set->units[i];
    if (u->level == 1 || u->parent < 0 || !vs->usable[i] || !vs->usable[u->parent]) return WG_OK;
    const wg_unit *p = &vs->set->units[u->parent];
    const GEOSPreparedGeometry *pp = prepared(vs, (size_t)u->parent);
    /* containsProperly never falls back to a full relate (covers does, for every unit that
     * shares its parent's boundary); the difference clips the parent to the unit's envelope */
    if (pp && GEOSPreparedContainsProperly_r(h, pp, u->geom) == 1) return WG_OK;
    wg_fault f = fault_make(WG_FAULT_OUTSIDE_PARENT, u->level, u->code, p->code);
    GEOSGeometry *diff = GEOSDifference_r(h, u->geom, p->geom);
    if (!diff) return push_geos_error(vs, &f, "difference with parent");
    snprintf(f.detail, sizeof f.detail, "part of %s %.32s outside %s %.32s",
             wg_level_name(u->level), u->code, wg_level_name(p->level), p->code);
    int rc = push_areal(vs, &f, diff);
    GEOSGeom_destroy_r(h, diff);
    return rc;
}

/* ---- siblings: overlaps ---- */

static int siblings(const wg_unit *a, const wg_unit *b)
{
    if (a->level == WG_LEVEL_DISTRICT) return 1;
    if (a->parent >= 0 || b->parent >= 0) return a->parent == b->parent;
    /* orphans are siblings when they name the same missing parent */
    return a->parent_code && b->parent_code && strcmp(a->parent_code, b->parent_code) == 0;
}

static int check_pair(vstate *vs, size_t i, size_t j)
{
    GEOSContextHandle_t h = vs->ctx->geos;
    const wg_unit *a = &vs->set->units[i], *b = &vs->set->units[j];
    wg_fault f = fault_make(WG_FAULT_OVERLAP, a->level, a->code, b->code);
    char rel = GEOSRelatePattern_r(h, a->geom, b->geom, "2********"); /* interiors share area */
    if (rel == 2) return push_geos_error(vs, &f, "relate");
    if (!rel) return WG_OK;
    GEOSGeometry *x = GEOSIntersection_r(h, a->geom, b->geom);
    if (!x) return push_geos_error(vs, &f, "intersection");
    snprintf(f.detail, sizeof f.detail, "%ss %.32s and %.32s overlap", wg_level_name(a->level),
             a->code, b->code);
    int rc = push_areal(vs, &f, x);
    GEOSGeom_destroy_r(h, x);
    return rc;
}

typedef struct candidates {
    size_t *idx, n, cap;
    int nomem;
} candidates;

static void collect_candidate(void *item, void *userdata)
{
    candidates *c = userdata;
    if (wg_grow((void **)&c->idx, &c->cap, c->n + 1, sizeof *c->idx) != WG_OK) {
        c->nomem = 1;
        return;
    }
    c->idx[c->n++] = *(const size_t *)item;
}

/* Each usable unit queries the level's tree; a pair is checked once, from its lower index. */
static int query_pairs(vstate *vs, GEOSSTRtree *tree, size_t b, size_t e)
{
    const wg_unit *u = vs->set->units;
    candidates c = {0};
    int rc = WG_OK;
    for (size_t i = b; i < e && rc == WG_OK; i++) {
        if (!vs->usable[i]) continue;
        c.n = 0;
        GEOSSTRtree_query_r(vs->ctx->geos, tree, u[i].geom, collect_candidate, &c);
        if (c.nomem) rc = wg_fail(vs->ctx, WG_ENOMEM, "out of memory finding overlaps");
        for (size_t k = 0; k < c.n && rc == WG_OK; k++) {
            size_t j = c.idx[k];
            if (j > i && siblings(&u[i], &u[j])) rc = check_pair(vs, i, j);
        }
    }
    free(c.idx);
    return rc;
}

static int check_overlaps(vstate *vs, int level)
{
    size_t b = vs->set->level_begin[level], e = vs->set->level_begin[level + 1];
    if (e - b < 2) return WG_OK;
    GEOSContextHandle_t h = vs->ctx->geos;
    size_t *ids = malloc((e - b) * sizeof *ids);
    GEOSSTRtree *tree = GEOSSTRtree_create_r(h, 10);
    int rc = ids && tree ? WG_OK : wg_fail(vs->ctx, WG_ENOMEM, "out of memory indexing units");
    for (size_t i = b; i < e && rc == WG_OK; i++) {
        ids[i - b] = i;
        if (vs->usable[i]) GEOSSTRtree_insert_r(h, tree, vs->set->units[i].geom, &ids[i - b]);
    }
    if (rc == WG_OK) rc = query_pairs(vs, tree, b, e);
    if (tree) GEOSSTRtree_destroy_r(h, tree);
    free(ids);
    return rc;
}

/* ---- parents: gaps ---- */

typedef struct child_link {
    int32_t parent;
    uint32_t child;
} child_link;

static int link_cmp(const void *x, const void *y)
{
    const child_link *a = x, *b = y;
    if (a->parent != b->parent) return a->parent < b->parent ? -1 : 1;
    return (a->child > b->child) - (a->child < b->child);
}

/* Union of the children of one parent; NULL on a GEOS error. */
static GEOSGeometry *children_union(vstate *vs, const child_link *kids, size_t nk)
{
    GEOSContextHandle_t h = vs->ctx->geos;
    GEOSGeometry **parts = malloc(nk * sizeof *parts);
    if (!parts) return NULL;
    size_t k = 0;
    for (; k < nk; k++) {
        parts[k] = GEOSGeom_clone_r(h, vs->set->units[kids[k].child].geom);
        if (!parts[k]) break;
    }
    GEOSGeometry *coll = NULL;
    if (k == nk)
        coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)nk);
    if (!coll) {
        for (size_t m = 0; m < k; m++)
            GEOSGeom_destroy_r(h, parts[m]);
        free(parts);
        return NULL;
    }
    free(parts); /* the collection owns the clones */
    GEOSGeometry *u = GEOSUnaryUnion_r(h, coll);
    GEOSGeom_destroy_r(h, coll);
    return u;
}

/* One gap fault per polygon of the parent not covered by the union of its children. */
static int gap_parts(vstate *vs, size_t p, const child_link *kids, size_t nk, wg_fault *f)
{
    GEOSContextHandle_t h = vs->ctx->geos;
    GEOSGeometry *uni = children_union(vs, kids, nk);
    if (!uni) return push_geos_error(vs, f, "union of children");
    GEOSGeometry *diff = GEOSDifference_r(h, vs->set->units[p].geom, uni);
    GEOSGeom_destroy_r(h, uni);
    GEOSGeometry *polys = diff ? wg_geom_polygonal(vs->ctx, diff) : NULL;
    if (diff) GEOSGeom_destroy_r(h, diff);
    if (!polys) return push_geos_error(vs, f, "parent minus children");
    int rc = WG_OK, n = GEOSGetNumGeometries_r(h, polys);
    for (int k = 0; k < n && rc == WG_OK; k++) {
        wg_fault part = *f;
        rc = push_areal(vs, &part, GEOSGetGeometryN_r(h, polys, k));
    }
    GEOSGeom_destroy_r(h, polys);
    return rc;
}

static int check_gap(vstate *vs, size_t p, const child_link *kids, size_t nk, int child_level)
{
    const wg_unit *u = &vs->set->units[p];
    if (!vs->usable[p]) return WG_OK;
    for (size_t k = 0; k < nk; k++)
        if (!vs->usable[kids[k].child]) return WG_OK; /* already faulted; overlay undefined */
    wg_fault f = fault_make(WG_FAULT_GAP, child_level, u->code, NULL);
    const char *pl = wg_level_name(u->level), *cl = wg_level_name(child_level);
    if (nk > 0) {
        snprintf(f.detail, sizeof f.detail, "part of %s %.32s covered by none of its %ss", pl,
                 u->code, cl);
        return gap_parts(vs, p, kids, nk, &f);
    }
    snprintf(f.detail, sizeof f.detail, "%s %.32s has no %ss", pl, u->code, cl);
    return push_areal(vs, &f, u->geom);
}

static int check_gaps(vstate *vs, int child_level)
{
    const size_t *lb = vs->set->level_begin;
    size_t cb = lb[child_level], ce = lb[child_level + 1];
    size_t pb = lb[child_level - 1], pe = lb[child_level];
    if (ce == cb || pe == pb) return WG_OK; /* nothing drawn on the child level: nothing to check */
    child_link *links = malloc((ce - cb) * sizeof *links);
    if (!links) return wg_fail(vs->ctx, WG_ENOMEM, "out of memory checking gaps");
    size_t nl = 0;
    for (size_t c = cb; c < ce; c++)
        if (vs->set->units[c].parent >= 0)
            links[nl++] = (child_link){vs->set->units[c].parent, (uint32_t)c};
    qsort(links, nl, sizeof *links, link_cmp);
    int rc = WG_OK;
    size_t k = 0;
    for (size_t p = pb; p < pe && rc == WG_OK; p++) {
        size_t first = k;
        while (k < nl && links[k].parent == (int32_t)p)
            k++;
        rc = check_gap(vs, p, links + first, k - first, child_level);
    }
    free(links);
    return rc;
}

/* ---- the run ---- */

/* Ascending, NaN last: a total order, as qsort needs. */
static int num_cmp(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) - isnan(b);
    return (a > b) - (a < b);
}

static int fault_cmp(const void *x, const void *y)
{
    const wg_fault *a = x, *b = y;
    if (a->level != b->level) return a->level < b->level ? -1 : 1;
    if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
    int c = strcmp(a->code, b->code);
    if (c == 0) c = strcmp(a->other, b->other);
    if (c == 0) c = num_cmp(b->area_m2, a->area_m2); /* largest first */
    if (c == 0) c = num_cmp(a->lon, b->lon);
    return c ? c : num_cmp(a->lat, b->lat);
}

static int run_checks(vstate *vs)
{
    int rc = WG_OK;
    for (size_t i = 0; i < vs->set->n && rc == WG_OK; i++)
        rc = check_geometry(vs, i);
    for (size_t i = 0; i < vs->set->n && rc == WG_OK; i++)
        rc = check_duplicates(vs, i);
    for (size_t i = 0; i < vs->set->n && rc == WG_OK; i++)
        rc = check_parent(vs, i);
    for (size_t i = 0; i < vs->set->n && rc == WG_OK; i++)
        rc = check_outside(vs, i);
    for (int level = 1; level <= 3 && rc == WG_OK; level++)
        rc = check_overlaps(vs, level);
    for (int level = 2; level <= 3 && rc == WG_OK; level++)
        rc = check_gaps(vs, level);
    return rc;
}

static int validate_set(wg_ctx *ctx, wg_unit_set *set, wg_report *rep)
{
    vstate vs = {.ctx = ctx, .set = set, .rep = rep};
    vs.usable = calloc(set->n ? set->n : 1, 1);
    vs.prep = calloc(set->n ? set->n : 1, sizeof *vs.prep);
    int rc = vs.usable && vs.prep ? run_checks(&vs)
                                  : wg_fail(ctx, WG_ENOMEM, "out of memory validating");
    for (size_t i = 0; vs.prep && i < set->n; i++)
        if (vs.prep[i]) GEOSPreparedGeom_destroy_r(ctx->geos, vs.prep[i]);
    free(vs.prep);
    free(vs.usable);
    return rc;
}

int wg_validate(wg_ctx *ctx, int64_t generation, double tol_m2, wg_report **out)
{
    if (!out) return wg_fail(ctx, WG_EINVAL, "wg_validate: no output");
    *out = NULL;
    if (!ctx || !ctx->db) return wg_fail(ctx, WG_EINVAL, "wg_validate: no store open");
    if (!(tol_m2 >= 0.0) || !isfinite(tol_m2))
        return wg_fail(ctx, WG_EINVAL, "tolerance must be a finite area >= 0 m2");
    double t0 = wg_mono_ms();
    ctx->geos_msg[0] = '\0'; /* a GEOS error fault quotes the message of its own call */
    wg_gen_status status;
    int rc = wg_gen_get_status(ctx, generation, &status);
    if (rc != WG_OK) return rc;
    wg_unit_set *set = NULL;
    rc = wg_units_load(ctx, generation, 0, &set);
    if (rc != WG_OK) return rc;
    wg_report *rep = calloc(1, sizeof *rep);
    if (!rep) rc = wg_fail(ctx, WG_ENOMEM, "out of memory validating");
    if (rc == WG_OK) {
        rep->generation = generation;
        rep->tol_m2 = tol_m2;
        for (int l = 1; l <= 3; l++)
            rep->units[l] = set->level_begin[l + 1] - set->level_begin[l];
        rc = validate_set(ctx, set, rep);
    }
    wg_unit_set_free(ctx, set);
    if (rc != WG_OK) {
        wg_report_free(rep);
        return rc;
    }
    if (rep->n > 1) qsort(rep->faults, rep->n, sizeof *rep->faults, fault_cmp);
    rep->seconds = (wg_mono_ms() - t0) / 1e3;
    *out = rep;
    return WG_OK;
}

void wg_report_free(wg_report *r)
{
    if (!r) return;
    free(r->faults);
    free(r);
}

/* ---- output ---- */

static json_object *fault_json(const wg_fault *f)
{
    json_object *o = json_object_new_object();
    if (!o) return NULL;
    json_object_object_add(o, "kind", json_object_new_string(wg_fault_kind_name(f->kind)));
    json_object_object_add(o, "level", json_object_new_int(f->level));
    json_object_object_add(o, "code", json_object_new_string(f->code));
    json_object_object_add(o, "other", json_object_new_string(f->other));
    json_object_object_add(o, "area_m2", wg_json_fixed(f->area_m2, "%.3f"));
    json_object *loc = NULL;
    if (isfinite(f->lon) && isfinite(f->lat) && (loc = json_object_new_array())) {
        json_object_array_add(loc, wg_json_fixed(f->lon, "%.7f"));
        json_object_array_add(loc, wg_json_fixed(f->lat, "%.7f"));
    }
    json_object_object_add(o, "location", loc);
    json_object_object_add(o, "detail", json_object_new_string(f->detail));
    return o;
}

static json_object *report_json(const wg_report *r)
{
    json_object *o = json_object_new_object(), *units = json_object_new_object();
    json_object *faults = json_object_new_array(), *below = json_object_new_object();
    if (!o || !units || !faults || !below) {
        json_object_put(o);
        json_object_put(units);
        json_object_put(faults);
        json_object_put(below);
        return NULL;
    }
    json_object_object_add(o, "generation", json_object_new_int64(r->generation));
    json_object_object_add(o, "tolerance_m2", wg_json_fixed(r->tol_m2, "%g"));
    for (int l = 1; l <= 3; l++)
        json_object_object_add(units, wg_level_name(l),
                               json_object_new_int64((int64_t)r->units[l]));
    json_object_object_add(o, "units", units);
    json_object_object_add(o, "ok", json_object_new_boolean(r->n == 0));
    for (size_t i = 0; i < r->n; i++)
        json_object_array_add(faults, fault_json(&r->faults[i]));
    json_object_object_add(o, "faults", faults);
    json_object_object_add(below, "count", json_object_new_int64((int64_t)r->below_tol));
    json_object_object_add(below, "area_m2", wg_json_fixed(r->below_tol_m2, "%.3f"));
    json_object_object_add(o, "below_tolerance", below);
    json_object_object_add(o, "seconds", wg_json_fixed(r->seconds, "%.3f"));
    return o;
}

char *wg_report_json(const wg_report *r)
{
    if (!r) return NULL;
    return wg_json_text(report_json(r));
}

/* "440307001001001 with 440307001001002", "parent 440307001001", ... */
static void fault_subject(const wg_fault *f, char *buf, size_t len)
{
    switch (f->kind) {
    case WG_FAULT_GAP:
        snprintf(buf, len, "parent %s", f->code);
        break;
    case WG_FAULT_OVERLAP:
        snprintf(buf, len, "%s with %s", f->code, f->other);
        break;
    case WG_FAULT_OUTSIDE_PARENT:
        snprintf(buf, len, "%s outside %s", f->code, f->other);
        break;
    case WG_FAULT_NO_PARENT:
    case WG_FAULT_CODE_PREFIX:
        snprintf(buf, len, "%s parent %s", f->code, f->other[0] ? f->other : "(none)");
        break;
    default:
        snprintf(buf, len, "%s", f->code);
        break;
    }
}

void wg_report_print(const wg_report *r, FILE *out)
{
    if (!r || !out) return;
    for (size_t i = 0; i < r->n; i++) {
        const wg_fault *f = &r->faults[i];
        const char *level = wg_level_name(f->level);
        char subject[96];
        fault_subject(f, subject, sizeof subject);
        fprintf(out, "%-16s %-9s %s", wg_fault_kind_name(f->kind), level ? level : "?", subject);
        if (f->area_m2 > 0) fprintf(out, "  area %.1f m2", f->area_m2);
        if (isfinite(f->lon) && isfinite(f->lat)) fprintf(out, " at %.5f %.5f", f->lon, f->lat);
        if (f->detail[0]) fprintf(out, "  (%s)", f->detail);
        fputc('\n', out);
    }
    fprintf(out, "generation %lld: %zu faults (%zu below tolerance of %g m2)\n",
            (long long)r->generation, r->n, r->below_tol, r->tol_m2);
}
