/* Division in the store (see wangge/divide.h): the communities of a generation, the roads,
 * rivers and thematic grids around each (table layer_features, through its spatial index) and
 * the addresses in their extent are read; every community is planned (divide.c); then, if
 * asked, the plans are written into the draft in one transaction, each community's work grids
 * replaced by wg_draft_replace_children (redraw.h, which gives the codes). Nothing is written
 * unless every community could be planned. */
#include "wangge/divide.h"
#include "wangge/redraw.h"
#include "wangge/store.h"
#include "divide_internal.h"
#include "geom.h"
#include "store_schema.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A thematic grid counts for a community when they share more than this (m²). */
#define THEMATIC_MIN_M2 1.0

#define IN_GEN "first_gen <= ?1 AND (last_gen IS NULL OR last_gen >= ?1)"

typedef struct community {
    char code[33], name[96];
    GEOSGeometry *geom;
    double box[4];
} community;

typedef struct points {
    double *lon, *lat;
    int64_t *hh;
    size_t n, cap;
} points;

typedef struct geoms {
    GEOSGeometry **v;
    int *cls;
    int64_t *id;
    size_t n, cap;
} geoms;

static void geoms_clear(wg_ctx *ctx, geoms *g)
{
    for (size_t i = 0; i < g->n; i++)
        GEOSGeom_destroy_r(ctx->geos, g->v[i]);
    g->n = 0;
}

static void geoms_free(wg_ctx *ctx, geoms *g)
{
    geoms_clear(ctx, g);
    free(g->v), free(g->cls), free(g->id);
}

static int geoms_push(wg_ctx *ctx, geoms *g, GEOSGeometry *x, int cls, int64_t id)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 64;
        GEOSGeometry **v = realloc(g->v, cap * sizeof *v);
        if (v) g->v = v;
        int *c = v ? realloc(g->cls, cap * sizeof *c) : NULL;
        if (c) g->cls = c;
        int64_t *d = c ? realloc(g->id, cap * sizeof *d) : NULL;
        if (!d) {
            GEOSGeom_destroy_r(ctx->geos, x);
            return wg_fail(ctx, WG_ENOMEM, "out of memory");
        }
        g->id = d;
        g->cap = cap;
    }
    g->v[g->n] = x, g->cls[g->n] = cls, g->id[g->n++] = id;
    return WG_OK;
}

static void communities_free(wg_ctx *ctx, community *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].geom) GEOSGeom_destroy_r(ctx->geos, c[i].geom);
    free(c);
}

static int read_geom(wg_ctx *ctx, sqlite3_stmt *st, int col, GEOSGeometry **g)
{
    const void *wkb = sqlite3_column_blob(st, col);
    int len = sqlite3_column_bytes(st, col);
    *g = wkb && len > 0 ? wg_geom_from_wkb(ctx, wkb, (size_t)len) : NULL;
    return *g ? WG_OK : wg_fail(ctx, WG_ESTORE, "unreadable geometry in the store");
}

/* The communities in scope (by code). */
static int load_communities(wg_ctx *ctx, int64_t gen, const char *code, community **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx,
                        "SELECT code, name, AsBinary(geom) FROM units WHERE level = 2 AND " IN_GEN
                        " AND (?2 IS NULL OR code = ?2 OR parent_code = ?2) ORDER BY code",
                        &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, gen);
    if (code) sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
    community *v = NULL;
    size_t cap = 0, k = 0;
    int s = SQLITE_DONE;
    while (rc == WG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (wg_grow((void **)&v, &cap, k + 1, sizeof *v) != WG_OK) {
            rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
            break;
        }
        community *c = &v[k];
        memset(c, 0, sizeof *c);
        const unsigned char *cc = sqlite3_column_text(st, 0), *nm = sqlite3_column_text(st, 1);
        snprintf(c->code, sizeof c->code, "%s", cc ? (const char *)cc : "");
        snprintf(c->name, sizeof c->name, "%s", nm ? (const char *)nm : "");
        rc = read_geom(ctx, st, 2, &c->geom);
        if (rc == WG_OK) k++;
        if (rc == WG_OK && !(GEOSGeom_getXMin_r(ctx->geos, c->geom, &c->box[0]) &&
                             GEOSGeom_getYMin_r(ctx->geos, c->geom, &c->box[1]) &&
                             GEOSGeom_getXMax_r(ctx->geos, c->geom, &c->box[2]) &&
                             GEOSGeom_getYMax_r(ctx->geos, c->geom, &c->box[3])))
            rc = wg_fail(ctx, WG_EDATA, "community %s has an empty geometry", c->code);
    }
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read communities");
    sqlite3_finalize(st);
    if (rc == WG_OK && k == 0)
        rc = code
                 ? wg_fail(ctx, WG_ENOTFOUND, "no community or district '%s' in generation %lld",
                           code, (long long)gen)
                 : wg_fail(ctx, WG_ENOTFOUND, "generation %lld has no communities", (long long)gen);
    if (rc != WG_OK) {
        communities_free(ctx, v, k);
        return rc;
    }
    *out = v;
    *n = k;
    return WG_OK;
}

static int load_points(wg_ctx *ctx, const double box[4], points *p)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx,
                        "SELECT lon, lat, households FROM addresses WHERE lon BETWEEN ?1 AND ?3"
                        " AND lat BETWEEN ?2 AND ?4 ORDER BY id",
                        &st);
    if (rc != WG_OK) return rc;
    for (int k = 0; k < 4; k++)
        sqlite3_bind_double(st, k + 1, box[k]);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (p->n == p->cap) {
            size_t cap = p->cap ? 2 * p->cap : 4096;
            double *a = realloc(p->lon, cap * sizeof *a);
            if (a) p->lon = a;
            double *b = a ? realloc(p->lat, cap * sizeof *b) : NULL;
            if (b) p->lat = b;
            int64_t *c = b ? realloc(p->hh, cap * sizeof *c) : NULL;
            if (!c) {
                sqlite3_finalize(st);
                return wg_fail(ctx, WG_ENOMEM, "out of memory reading addresses");
            }
            p->hh = c;
            p->cap = cap;
        }
        p->lon[p->n] = sqlite3_column_double(st, 0);
        p->lat[p->n] = sqlite3_column_double(st, 1);
        p->hh[p->n++] = sqlite3_column_int64(st, 2);
    }
    if (s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read addresses");
    sqlite3_finalize(st);
    return rc;
}

static int road_class(const char *layer, const char *cls)
{
    if (strcmp(layer, "rivers") == 0 || (cls && strcmp(cls, "river") == 0)) return WG_LINE_RIVER;
    if (cls && strcmp(cls, "arterial") == 0) return WG_LINE_ARTERIAL;
    if (cls && strcmp(cls, "lane") == 0) return WG_LINE_LANE;
    return WG_LINE_STREET;
}

#define IN_BOX                                                                                     \
    " id IN (SELECT pkid FROM idx_layer_features_geom WHERE xmin <= ?3 AND xmax >= ?1 AND ymin "   \
    "<= ?4"                                                                                        \
    " AND ymax >= ?2)"

/* Roads and rivers whose extent meets box. */
static int load_lines(wg_ctx *ctx, const double box[4], geoms *out)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx,
                        "SELECT id, layer, class, AsBinary(geom) FROM layer_features WHERE layer "
                        "IN ('roads', 'rivers')"
                        " AND" IN_BOX " ORDER BY id",
                        &st);
    if (rc != WG_OK) return rc;
    for (int k = 0; k < 4; k++)
        sqlite3_bind_double(st, k + 1, box[k]);
    int s = SQLITE_DONE;
    while (rc == WG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        GEOSGeometry *g;
        rc = read_geom(ctx, st, 3, &g);
        if (rc == WG_OK)
            rc = geoms_push(ctx, out, g,
                            road_class((const char *)sqlite3_column_text(st, 1),
                                       (const char *)sqlite3_column_text(st, 2)),
                            sqlite3_column_int64(st, 0));
    }
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read roads");
    sqlite3_finalize(st);
    return rc;
}

/* Polygons of the thematic layers whose extent meets box. */
static int load_thematic(wg_ctx *ctx, const double box[4], const char *const *layers, size_t nl,
                         geoms *out)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx,
                        "SELECT id, AsBinary(geom) FROM layer_features WHERE layer = ?5"
                        " AND GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON') AND" IN_BOX
                        " ORDER BY id",
                        &st);
    for (size_t l = 0; rc == WG_OK && l < nl; l++) {
        sqlite3_reset(st);
        for (int k = 0; k < 4; k++)
            sqlite3_bind_double(st, k + 1, box[k]);
        sqlite3_bind_text(st, 5, layers[l], -1, SQLITE_STATIC);
        int s = SQLITE_DONE;
        while (rc == WG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
            GEOSGeometry *g;
            rc = read_geom(ctx, st, 1, &g);
            if (rc == WG_OK) rc = geoms_push(ctx, out, g, 0, sqlite3_column_int64(st, 0));
        }
        if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read thematic grids");
    }
    sqlite3_finalize(st);
    return rc;
}

static int check_layers(wg_ctx *ctx, const char *const *layers, size_t nl)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "SELECT count(*) FROM layer_features WHERE layer = ?", &st);
    for (size_t l = 0; rc == WG_OK && l < nl; l++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, layers[l], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
            rc = wg_fail_sql(ctx, "cannot read layers");
        else if (sqlite3_column_int64(st, 0) == 0)
            rc = wg_fail(ctx, WG_ENOTFOUND, "no layer '%s' in the store", layers[l]);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Thematic grids sharing more than THEMATIC_MIN_M2 with the community; marks them in seen. */
static int count_thematic(wg_ctx *ctx, const community *c, const geoms *th, unsigned char *seen,
                          size_t *count)
{
    *count = 0;
    for (size_t i = 0; i < th->n; i++) {
        GEOSGeometry *x = GEOSIntersection_r(ctx->geos, c->geom, th->v[i]);
        if (!x) return wg_fail_geos(ctx, "cannot intersect a thematic grid");
        if (wg_geom_area_m2(ctx, x) > THEMATIC_MIN_M2) {
            (*count)++;
            seen[i] = 1;
        }
        GEOSGeom_destroy_r(ctx->geos, x);
    }
    return WG_OK;
}

/* Appends the ids of the thematic grids marked in seen to ids[0..*n). */
static int add_ids(wg_ctx *ctx, int64_t **ids, size_t *n, size_t *cap, const geoms *th,
                   const unsigned char *seen)
{
    for (size_t i = 0; i < th->n; i++) {
        if (!seen[i]) continue;
        if (wg_grow((void **)ids, cap, *n + 1, sizeof **ids) != WG_OK)
            return wg_fail(ctx, WG_ENOMEM, "out of memory");
        (*ids)[(*n)++] = th->id[i];
    }
    return WG_OK;
}

static int cmp_i64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return a < b ? -1 : a > b;
}

static int plan_community(wg_ctx *ctx, const community *c, const points *pts,
                          const wg_divide_opts *o, geoms *lines, geoms *th, wg_plan **out,
                          int64_t **ids, size_t *nids, size_t *idcap)
{
    double t0 = wg_mono_ms();
    geoms_clear(ctx, lines);
    geoms_clear(ctx, th);
    int rc = load_lines(ctx, c->box, lines);
    if (rc == WG_OK && o->nlayers) rc = load_thematic(ctx, c->box, o->layers, o->nlayers, th);
    /* the addresses in the community's extent */
    size_t m = 0;
    double *lon = malloc((pts->n ? pts->n : 1) * sizeof *lon),
           *lat = malloc((pts->n ? pts->n : 1) * sizeof *lat);
    int64_t *hh = malloc((pts->n ? pts->n : 1) * sizeof *hh);
    unsigned char *seen = calloc(th->n ? th->n : 1, 1);
    if (rc == WG_OK && (!lon || !lat || !hh || !seen))
        rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    for (size_t i = 0; rc == WG_OK && i < pts->n; i++) {
        if (pts->lon[i] < c->box[0] || pts->lon[i] > c->box[2] || pts->lat[i] < c->box[1] ||
            pts->lat[i] > c->box[3])
            continue;
        lon[m] = pts->lon[i], lat[m] = pts->lat[i], hh[m++] = pts->hh[i];
    }
    size_t before = 0;
    if (rc == WG_OK && th->n) rc = count_thematic(ctx, c, th, seen, &before);
    if (rc == WG_OK) rc = add_ids(ctx, ids, nids, idcap, th, seen);
    char who[160];
    snprintf(who, sizeof who, "community %s%s%s%s", c->code, c->name[0] ? " (" : "", c->name,
             c->name[0] ? ")" : "");
    wg_divide_input in = {c->geom, lines->v, lines->cls, lines->n, th->v, th->n, lon, lat, hh, m};
    if (rc == WG_OK) rc = dv_plan_region(ctx, &in, o, who, out);
    if (rc == WG_OK) {
        snprintf((*out)->community, sizeof(*out)->community, "%s", c->code);
        snprintf((*out)->name, sizeof(*out)->name, "%s", c->name);
        (*out)->thematic_before = before;
        (*out)->runtime_ms = wg_mono_ms() - t0;
    }
    free(lon), free(lat), free(hh), free(seen);
    return rc;
}

/* Writes every plan into the draft in one transaction (the edits nest as savepoints). */
static int write_plans(wg_ctx *ctx, wg_division *d)
{
    int rc = wg_begin(ctx);
    for (size_t i = 0; rc == WG_OK && i < d->n; i++) {
        wg_plan *p = d->plans[i];
        wg_new_unit *u = calloc((size_t)p->n, sizeof *u);
        if (!u) {
            rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
            break;
        }
        for (int k = 0; k < p->n; k++)
            u[k].geom = p->grids[k].geom;
        char **codes = NULL;
        rc = wg_draft_replace_children(ctx, WG_LEVEL_GRID, p->community, u, (size_t)p->n, &codes);
        for (int k = 0; rc == WG_OK && k < p->n; k++)
            snprintf(p->grids[k].code, sizeof p->grids[k].code, "%s", codes[k] ? codes[k] : "");
        wg_codes_free(codes, (size_t)p->n);
        free(u);
    }
    rc = wg_commit_or_rollback(ctx, rc);
    if (rc != WG_OK) {
        for (size_t i = 0; i < d->n; i++)
            for (int k = 0; k < d->plans[i]->n; k++)
                d->plans[i]->grids[k].code[0] = '\0';
    }
    return rc;
}

static int resolve_generation(wg_ctx *ctx, int64_t requested, int64_t *gen)
{
    if (requested) return wg_gen_resolve(ctx, requested, gen);
    int rc = wg_gen_draft(ctx, 0, gen);
    if (rc == WG_ENOTFOUND) rc = wg_gen_active(ctx, gen);
    if (rc == WG_ENOTFOUND)
        wg_fail(ctx, rc, "no draft and no active generation: import communities first");
    return rc;
}

int wg_divide(wg_ctx *ctx, const char *code, const wg_divide_opts *opts, wg_division **out)
{
    double t0 = wg_mono_ms();
    *out = NULL;
    if (!opts) return wg_fail(ctx, WG_EINVAL, "no options given");
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    wg_divide_opts o = *opts;
    if (o.nlayers && !o.layers) return wg_fail(ctx, WG_EINVAL, "no layer names given");
    if (o.nlayers && o.grids == 0 && o.band_min == 0 && o.band_max == 0) {
        o.band_min = WG_MERGE_BAND_MIN;
        o.band_max = WG_MERGE_BAND_MAX;
        o.best_effort = 1;
    }
    int rc = dv_check_opts(ctx, &o);
    if (rc != WG_OK) return rc;
    if (o.nlayers) rc = check_layers(ctx, o.layers, o.nlayers);
    wg_division *d = calloc(1, sizeof *d);
    if (!d) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    d->merge = o.nlayers > 0;
    d->grids_asked = o.grids;
    if (o.grids == 0) d->band_min = o.band_min, d->band_max = o.band_max;
    community *cs = NULL;
    size_t nc = 0;
    if (rc == WG_OK) rc = resolve_generation(ctx, o.generation, &d->generation);
    if (rc == WG_OK) rc = load_communities(ctx, d->generation, code, &cs, &nc);
    if (rc == WG_OK && !(d->plans = calloc(nc, sizeof *d->plans)))
        rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    points pts = {0};
    double box[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < nc; i++) {
        box[0] = fmin(box[0], cs[i].box[0]), box[1] = fmin(box[1], cs[i].box[1]);
        box[2] = fmax(box[2], cs[i].box[2]), box[3] = fmax(box[3], cs[i].box[3]);
    }
    if (rc == WG_OK) rc = load_points(ctx, box, &pts);
    geoms lines = {0}, th = {0};
    int64_t *ids = NULL;
    size_t nids = 0, idcap = 0;
    for (size_t i = 0; rc == WG_OK && i < nc; i++) {
        rc = plan_community(ctx, &cs[i], &pts, &o, &lines, &th, &d->plans[i], &ids, &nids, &idcap);
        if (rc == WG_OK) {
            d->n++;
            d->grids += (size_t)d->plans[i]->n;
            d->households += d->plans[i]->households;
        }
    }
    if (rc == WG_OK && nids) {
        qsort(ids, nids, sizeof *ids, cmp_i64);
        size_t k = 0;
        for (size_t i = 0; i < nids; i++)
            if (k == 0 || ids[i] != ids[k - 1]) ids[k++] = ids[i];
        d->thematic = k;
    }
    if (rc == WG_OK && o.write) {
        rc = write_plans(ctx, d);
        d->written = rc == WG_OK;
    }
    free(ids);
    geoms_free(ctx, &lines);
    geoms_free(ctx, &th);
    free(pts.lon), free(pts.lat), free(pts.hh);
    communities_free(ctx, cs, nc);
    if (rc != WG_OK) {
        wg_division_free(ctx, d);
        return rc;
    }
    d->runtime_ms = wg_mono_ms() - t0;
    *out = d;
    return WG_OK;
}
