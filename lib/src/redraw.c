/* Edits of the draft generation: replace the children of a parent, split a unit, merge
 * siblings, discard the draft (see wangge/redraw.h for the code rule).
 *
 * Model. Every edit is one call of edit_run on an `edit`: the old units O (rows of the draft,
 * all children of one parent) and the new units N. Codes are handed out in four passes —
 * given codes, unchanged geometry, Hungarian matching on shared households (then area), fresh
 * sequence numbers in reading order — and then the rows are written: an old row whose code
 * went to an identical unit with the same name stays as it is; every other old row is closed
 * at the generation before the draft (draft - 1: the draft is always the newest id), or
 * deleted if the draft gave birth to it; every other new unit becomes a row starting at the
 * draft. All of it runs in one transaction (a savepoint inside a caller's), so an edit is
 * whole or absent.
 *
 * Households come from the addresses table as it is now, placed in O and in N with point
 * indexes (pindex.h, the boundary rule), so an address on a shared edge counts once. Only the
 * addresses inside the envelope of O ∪ N are read. */
#include "wangge/redraw.h"
#include "wangge/pindex.h"
#include "wangge/store.h"
#include "geom.h"
#include "hungarian.h"
#include "planar.h"
#include "redraw_internal.h"
#include "store_schema.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IN_DRAFT "first_gen <= ?1 AND (last_gen IS NULL OR last_gen >= ?1)"
/* Codes are short identifiers (15 digits in the standard layout); the store caps them at 32. */
#define MAX_CODE_LEN 32
/* Shared area below this is noise along a common edge, not an overlap that could carry a code. */
#define MIN_SHARED_M2 1.0

typedef struct old_unit {
    int64_t row, first_gen;
    int level;
    char *code, *name, *parent;
    GEOSGeometry *geom; /* MultiPolygon */
} old_unit;

typedef struct edit {
    wg_ctx *ctx;
    int64_t draft;
    int level;
    const char *parent; /* the parent's code */
    char *parent_name;  /* NULL if none */
    old_unit *old;
    size_t nold;
    const wg_new_unit *units;
    size_t n;
    GEOSGeometry **geom;  /* per new unit: its MultiPolygon (owned) */
    char **code;          /* per new unit: the code it gets (owned) */
    int32_t *partner;     /* per new unit: the old unit whose code it took, or -1 */
    unsigned char *same;  /* per new unit: geometry equal to its partner's */
    unsigned char *taken; /* per old unit: its code went to a new unit */
} edit;

void wg_codes_free(char **codes, size_t n)
{
    if (!codes) return;
    for (size_t i = 0; i < n; i++)
        free(codes[i]);
    free(codes);
}

/* ------------------------------------------------------------------ transactions */

/* The edit's own transaction, or a savepoint when the caller has one open. */
static int tx_open(wg_ctx *ctx, int *nested)
{
    *nested = !sqlite3_get_autocommit(ctx->db);
    return *nested ? wg_exec(ctx, "SAVEPOINT wg_redraw") : wg_begin(ctx);
}

static int tx_close(wg_ctx *ctx, int nested, int rc)
{
    if (rc == WG_OK) rc = nested ? wg_exec(ctx, "RELEASE wg_redraw") : wg_commit(ctx);
    if (rc == WG_OK) return rc;
    char keep[sizeof ctx->err];
    memcpy(keep, ctx->err, sizeof keep);
    if (nested)
        sqlite3_exec(ctx->db, "ROLLBACK TO wg_redraw; RELEASE wg_redraw", NULL, NULL, NULL);
    else
        wg_rollback(ctx);
    memcpy(ctx->err, keep, sizeof keep);
    return rc;
}

/* ------------------------------------------------------------------ geometry */

static int bounds(wg_ctx *ctx, const GEOSGeometry *g, double b[4])
{
    return GEOSGeom_getXMin_r(ctx->geos, g, &b[0]) && GEOSGeom_getYMin_r(ctx->geos, g, &b[1]) &&
           GEOSGeom_getXMax_r(ctx->geos, g, &b[2]) && GEOSGeom_getYMax_r(ctx->geos, g, &b[3]);
}

int wg_redraw_same_geom(wg_ctx *ctx, const GEOSGeometry *a, const GEOSGeometry *b)
{
    GEOSContextHandle_t h = ctx->geos;
    double ba[4], bb[4];
    if (!bounds(ctx, a, ba) || !bounds(ctx, b, bb))
        return wg_fail_geos(ctx, "cannot read extent"), -1;
    for (int k = 0; k < 4; k++)
        if (fabs(ba[k] - bb[k]) > REDRAW_SAME_TOL_DEG) return 0; /* the cheap common answer */
    GEOSGeometry *na = GEOSGeom_clone_r(h, a), *nb = GEOSGeom_clone_r(h, b);
    int same = -1;
    if (na && nb && GEOSNormalize_r(h, na) == 0 && GEOSNormalize_r(h, nb) == 0)
        same = GEOSEqualsExact_r(h, na, nb, REDRAW_SAME_TOL_DEG);
    if (same == 0) same = GEOSEquals_r(h, a, b);
    if (na) GEOSGeom_destroy_r(h, na);
    if (nb) GEOSGeom_destroy_r(h, nb);
    if (same < 0 || same > 1) {
        wg_fail_geos(ctx, "cannot compare geometries");
        return -1;
    }
    return same;
}

/* A new unit's geometry, checked and copied as a MultiPolygon. */
static int check_new_geom(wg_ctx *ctx, size_t i, const GEOSGeometry *g, GEOSGeometry **out)
{
    *out = NULL;
    if (!g) return wg_fail(ctx, WG_EDATA, "unit %zu has no geometry", i);
    int type = GEOSGeomTypeId_r(ctx->geos, g);
    if (type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON)
        return wg_fail(ctx, WG_EDATA, "unit %zu is not a Polygon or MultiPolygon", i);
    if (GEOSisEmpty_r(ctx->geos, g)) return wg_fail(ctx, WG_EDATA, "unit %zu is empty", i);
    double b[4];
    if (!bounds(ctx, g, b)) return wg_fail_geos(ctx, "cannot read extent");
    if (b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90)
        return wg_fail(ctx, WG_EDATA,
                       "unit %zu has coordinates outside lon [-180, 180], lat [-90, 90]", i);
    char detail[256];
    int v = wg_geom_check_valid(ctx, g, detail, sizeof detail);
    if (v < 0) return wg_fail_geos(ctx, "cannot check validity");
    if (v == 0) return wg_fail(ctx, WG_EDATA, "unit %zu is not valid: %s", i, detail);
    *out = wg_geom_polygonal(ctx, g);
    return *out ? WG_OK : wg_fail_geos(ctx, "cannot copy geometry");
}

/* ------------------------------------------------------------------ reading the draft */

static void old_free(wg_ctx *ctx, old_unit *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(o[i].code);
        free(o[i].name);
        free(o[i].parent);
        if (o[i].geom) GEOSGeom_destroy_r(ctx->geos, o[i].geom);
    }
    free(o);
}

/* The statement's columns: id, first_gen, level, code, name, parent_code, AsBinary(geom). */
#define OLD_COLUMNS "id, first_gen, level, code, name, parent_code, AsBinary(geom)"

/* Appends every row of st to *old. */
static int read_old(wg_ctx *ctx, sqlite3_stmt *st, old_unit **old, size_t *n, size_t *cap)
{
    int rc = WG_OK, s;
    while (rc == WG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (wg_grow((void **)old, cap, *n + 1, sizeof **old) != WG_OK)
            return wg_fail(ctx, WG_ENOMEM, "out of memory");
        old_unit *o = &(*old)[(*n)++];
        memset(o, 0, sizeof *o);
        o->row = sqlite3_column_int64(st, 0);
        o->first_gen = sqlite3_column_int64(st, 1);
        o->level = sqlite3_column_int(st, 2);
        o->code = wg_column_dup(st, 3);
        o->name = wg_column_dup(st, 4);
        o->parent = wg_column_dup(st, 5);
        const void *wkb = sqlite3_column_blob(st, 6);
        int len = sqlite3_column_bytes(st, 6);
        if (!o->code)
            rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
        else if (!wkb || len <= 0)
            rc = wg_fail(ctx, WG_ESTORE, "unit %s has no geometry", o->code);
        else if (!(o->geom = wg_geom_from_wkb(ctx, wkb, (size_t)len)))
            rc = wg_fail_geos(ctx, "unreadable unit geometry in store");
    }
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read units");
    return rc;
}

/* The draft's units of `level` under parent. */
static int load_children(wg_ctx *ctx, int64_t draft, int level, const char *parent, old_unit **old,
                         size_t *n)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc = wg_prepare(ctx,
                        "SELECT " OLD_COLUMNS " FROM units WHERE " IN_DRAFT
                        " AND level = ?2 AND parent_code = ?3 ORDER BY code",
                        &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, draft);
    sqlite3_bind_int(st, 2, level);
    sqlite3_bind_text(st, 3, parent, -1, SQLITE_STATIC);
    rc = read_old(ctx, st, old, n, &cap);
    sqlite3_finalize(st);
    return rc;
}

/* The draft's community or grid with this code (WG_ENOTFOUND if none), appended to *old. */
static int load_unit(wg_ctx *ctx, int64_t draft, const char *code, old_unit **old, size_t *n,
                     size_t *cap)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx,
                        "SELECT " OLD_COLUMNS " FROM units WHERE " IN_DRAFT
                        " AND level IN (2, 3) AND code = ?2 ORDER BY level DESC LIMIT 1",
                        &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, draft);
    sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
    size_t before = *n;
    rc = read_old(ctx, st, old, n, cap);
    sqlite3_finalize(st);
    if (rc == WG_OK && *n == before)
        rc = wg_fail(ctx, WG_ENOTFOUND, "no community or grid %s in draft generation %lld", code,
                     (long long)draft);
    if (rc == WG_OK && !(*old)[before].parent)
        rc = wg_fail(ctx, WG_EDATA, "unit %s has no parent code", code);
    return rc;
}

/* Whether the parent exists in the draft, and its name. */
static int find_parent(edit *e)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(
        e->ctx, "SELECT name FROM units WHERE " IN_DRAFT " AND level = ?2 AND code = ?3", &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, e->draft);
    sqlite3_bind_int(st, 2, e->level - 1);
    sqlite3_bind_text(st, 3, e->parent, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        e->parent_name = wg_column_dup(st, 0);
    else if (s == SQLITE_DONE)
        rc = wg_fail(e->ctx, WG_ENOTFOUND, "no %s %s in draft generation %lld",
                     wg_level_name(e->level - 1), e->parent, (long long)e->draft);
    else
        rc = wg_fail_sql(e->ctx, "cannot read units");
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------------ code passes */

static int32_t old_by_code(const edit *e, const char *code)
{
    for (size_t k = 0; k < e->nold; k++)
        if (strcmp(e->old[k].code, code) == 0) return (int32_t)k;
    return -1;
}

/* Pass 1: given codes, each once, and not held by a unit of the level outside O. */
static int pass_given(edit *e)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(
        e->ctx, "SELECT count(*) FROM units WHERE " IN_DRAFT " AND level = ?2 AND code = ?3", &st);
    for (size_t i = 0; rc == WG_OK && i < e->n; i++) {
        const char *c = e->units[i].code;
        if (!c) continue;
        if (!*c || strlen(c) > MAX_CODE_LEN) {
            rc = wg_fail(e->ctx, WG_EDATA, "unit %zu: a code has 1 to %d characters", i,
                         MAX_CODE_LEN);
            break;
        }
        for (size_t k = 0; k < i && rc == WG_OK; k++)
            if (e->units[k].code && strcmp(e->units[k].code, c) == 0)
                rc =
                    wg_fail(e->ctx, WG_ECONFLICT, "code %s is given to units %zu and %zu", c, k, i);
        int32_t p = old_by_code(e, c);
        if (rc == WG_OK && p < 0) {
            sqlite3_reset(st);
            sqlite3_bind_int64(st, 1, e->draft);
            sqlite3_bind_int(st, 2, e->level);
            sqlite3_bind_text(st, 3, c, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_ROW)
                rc = wg_fail_sql(e->ctx, "cannot read units");
            else if (sqlite3_column_int(st, 0) > 0)
                rc = wg_fail(e->ctx, WG_ECONFLICT, "code %s is used by another %s of the draft", c,
                             wg_level_name(e->level));
        }
        if (rc != WG_OK) break;
        if (!(e->code[i] = strdup(c))) rc = wg_fail(e->ctx, WG_ENOMEM, "out of memory");
        e->partner[i] = p;
        if (p >= 0) {
            e->taken[p] = 1;
            int same = wg_redraw_same_geom(e->ctx, e->geom[i], e->old[p].geom);
            if (same < 0) rc = WG_EGEOS;
            e->same[i] = same == 1;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Pass 2: an unchanged geometry keeps its code. */
static int pass_unchanged(edit *e)
{
    for (size_t i = 0; i < e->n; i++) {
        if (e->code[i]) continue;
        for (size_t k = 0; k < e->nold; k++) {
            if (e->taken[k]) continue;
            int same = wg_redraw_same_geom(e->ctx, e->geom[i], e->old[k].geom);
            if (same < 0) return WG_EGEOS;
            if (!same) continue;
            if (!(e->code[i] = strdup(e->old[k].code)))
                return wg_fail(e->ctx, WG_ENOMEM, "out of memory");
            e->partner[i] = (int32_t)k;
            e->same[i] = 1;
            e->taken[k] = 1;
            break;
        }
    }
    return WG_OK;
}

/* Households shared by new unit rows[r] and old unit cols[c], into hh[r * nc + c]. */
static int shared_households(edit *e, const size_t *rows, size_t nr, const size_t *cols, size_t nc,
                             double *hh)
{
    wg_ctx *ctx = e->ctx;
    const GEOSGeometry **gn = malloc(nr * sizeof *gn), **go = malloc(nc * sizeof *go);
    wg_pindex *in = NULL, *io = NULL;
    int rc = gn && go ? WG_OK : wg_fail(ctx, WG_ENOMEM, "out of memory");
    double box[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t r = 0; rc == WG_OK && r < nr; r++)
        gn[r] = e->geom[rows[r]];
    for (size_t c = 0; rc == WG_OK && c < nc; c++)
        go[c] = e->old[cols[c]].geom;
    for (size_t k = 0; rc == WG_OK && k < nr + nc; k++) {
        double b[4];
        if (!bounds(ctx, k < nr ? gn[k] : go[k - nr], b)) {
            rc = wg_fail_geos(ctx, "cannot read extent");
            break;
        }
        box[0] = fmin(box[0], b[0]);
        box[1] = fmin(box[1], b[1]);
        box[2] = fmax(box[2], b[2]);
        box[3] = fmax(box[3], b[3]);
    }
    if (rc == WG_OK) rc = wg_pindex_build(ctx, gn, nr, &in);
    if (rc == WG_OK) rc = wg_pindex_build(ctx, go, nc, &io);
    sqlite3_stmt *st = NULL;
    if (rc == WG_OK)
        rc = wg_prepare(ctx,
                        "SELECT lon, lat, households FROM addresses"
                        " WHERE lon BETWEEN ?1 AND ?3 AND lat BETWEEN ?2 AND ?4",
                        &st);
    for (int k = 0; rc == WG_OK && k < 4; k++)
        sqlite3_bind_double(st, k + 1, box[k]);
    int s = SQLITE_DONE;
    while (rc == WG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        double lon = sqlite3_column_double(st, 0), lat = sqlite3_column_double(st, 1);
        int32_t r = wg_pindex_locate(in, ctx, lon, lat);
        int32_t c = r < 0 ? -1 : wg_pindex_locate(io, ctx, lon, lat);
        if (c >= 0) hh[(size_t)r * nc + (size_t)c] += (double)sqlite3_column_int64(st, 2);
    }
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read addresses");
    sqlite3_finalize(st);
    wg_pindex_free(in);
    wg_pindex_free(io);
    free(gn);
    free(go);
    return rc;
}

/* Area in m² shared by two polygonal geometries (0 when their envelopes are apart). */
static int shared_area(wg_ctx *ctx, const GEOSGeometry *a, const GEOSGeometry *b, double *area_m2)
{
    *area_m2 = 0;
    double ba[4], bb[4];
    if (!bounds(ctx, a, ba) || !bounds(ctx, b, bb)) return wg_fail_geos(ctx, "cannot read extent");
    if (ba[0] > bb[2] || bb[0] > ba[2] || ba[1] > bb[3] || bb[1] > ba[3]) return WG_OK;
    GEOSGeometry *x = GEOSIntersection_r(ctx->geos, a, b);
    if (!x) return wg_fail_geos(ctx, "cannot intersect units");
    *area_m2 = wg_geom_area_m2(ctx, x);
    GEOSGeom_destroy_r(ctx->geos, x);
    return WG_OK;
}

/* Pass 3: the new units without a code and the old units whose code is free, matched one to
 * one for the most households kept under their code, then the most area. The weight of a pair
 * is households + area / (2 · total old area): the area term of a whole matching is below 1/2
 * (the matched intersections are disjoint parts of the old units), so it only orders
 * matchings with equal households. */
static int pass_matching(edit *e)
{
    size_t nr = 0, nc = 0;
    size_t *rows = malloc((e->n + 1) * sizeof *rows), *cols = malloc((e->nold + 1) * sizeof *cols);
    if (!rows || !cols) {
        free(rows);
        free(cols);
        return wg_fail(e->ctx, WG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < e->n; i++)
        if (!e->code[i]) rows[nr++] = i;
    double total_m2 = 0;
    for (size_t k = 0; k < e->nold; k++) {
        if (e->taken[k]) continue;
        cols[nc++] = k;
        total_m2 += wg_geom_area_m2(e->ctx, e->old[k].geom);
    }
    int rc = WG_OK;
    double *hh = NULL, *w = NULL;
    int32_t *match = NULL;
    if (nr && nc) {
        hh = calloc(nr * nc, sizeof *hh);
        w = calloc(nr * nc, sizeof *w);
        match = malloc(nr * sizeof *match);
        rc = hh && w && match ? shared_households(e, rows, nr, cols, nc, hh)
                              : wg_fail(e->ctx, WG_ENOMEM, "out of memory");
    }
    for (size_t r = 0; rc == WG_OK && r < nr; r++) {
        for (size_t c = 0; rc == WG_OK && c < nc; c++) {
            double a = 0;
            rc = shared_area(e->ctx, e->geom[rows[r]], e->old[cols[c]].geom, &a);
            if (hh[r * nc + c] > 0 || a >= MIN_SHARED_M2)
                w[r * nc + c] = hh[r * nc + c] + (total_m2 > 0 ? 0.5 * a / total_m2 : 0);
        }
    }
    if (rc == WG_OK && nr && nc && wg_hungarian_max(w, nr, nc, match) != 0)
        rc = wg_fail(e->ctx, WG_ENOMEM, "out of memory");
    for (size_t r = 0; rc == WG_OK && nr && nc && r < nr; r++) {
        if (match[r] < 0 || w[r * nc + (size_t)match[r]] <= 0) continue; /* shares nothing */
        size_t i = rows[r], k = cols[match[r]];
        if (!(e->code[i] = strdup(e->old[k].code)))
            rc = wg_fail(e->ctx, WG_ENOMEM, "out of memory");
        e->partner[i] = (int32_t)k;
        e->taken[k] = 1;
    }
    free(rows);
    free(cols);
    free(hh);
    free(w);
    free(match);
    return rc;
}

/* The sequence part of code under parent (plen characters): its value and width, or 0. */
static int sequence_of(const char *code, size_t plen, int *width)
{
    size_t len = strlen(code);
    if (len <= plen || len - plen > 3) return 0;
    int v = 0;
    for (const char *p = code + plen; *p; p++) {
        if (*p < '0' || *p > '9') return 0;
        v = v * 10 + (*p - '0');
    }
    *width = (int)(len - plen);
    return v;
}

/* Marks the sequences used under the parent in any generation and by the codes this edit has
 * handed out so far (given ones included), and finds the highest. */
static int used_sequences(edit *e, unsigned char *used, int *width, int *highest)
{
    size_t plen = strlen(e->parent);
    size_t by_width[4] = {0};
    *highest = 0;
    sqlite3_stmt *st;
    int rc = wg_prepare(e->ctx,
                        "SELECT DISTINCT code FROM units WHERE level = ?1"
                        " AND (parent_code = ?2 OR substr(code, 1, length(?2)) = ?2)",
                        &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int(st, 1, e->level);
    sqlite3_bind_text(st, 2, e->parent, -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        int w = 0, v = c && strncmp(c, e->parent, plen) == 0 ? sequence_of(c, plen, &w) : 0;
        if (!v) continue;
        used[v] = 1;
        by_width[w]++;
        if (v > *highest) *highest = v;
    }
    if (s != SQLITE_DONE) rc = wg_fail_sql(e->ctx, "cannot read codes");
    sqlite3_finalize(st);
    for (size_t i = 0; i < e->n; i++) {
        int w = 0, v = e->code[i] && strncmp(e->code[i], e->parent, plen) == 0
                           ? sequence_of(e->code[i], plen, &w)
                           : 0;
        if (v) used[v] = 1;
        if (v > *highest) *highest = v;
    }
    /* 14-digit grid codes carry a 2-digit sequence; 3 digits everywhere else */
    *width = by_width[2] > 0 && by_width[3] == 0 ? 2 : 3;
    return rc;
}

/* Pass 4: fresh codes for the units still without one, in reading order. */
static int pass_fresh(edit *e)
{
    size_t nf = 0;
    for (size_t i = 0; i < e->n; i++)
        nf += !e->code[i];
    if (nf == 0) return WG_OK;
    unsigned char used[1000] = {0};
    int width, highest;
    int rc = used_sequences(e, used, &width, &highest);
    if (rc != WG_OK) return rc;
    int limit = width == 2 ? 100 : 1000;
    size_t *idx = malloc(nf * sizeof *idx), *order = malloc(nf * sizeof *order);
    double *x = malloc(nf * sizeof *x), *y = malloc(nf * sizeof *y);
    if (!idx || !order || !x || !y) rc = wg_fail(e->ctx, WG_ENOMEM, "out of memory");
    for (size_t i = 0, k = 0; rc == WG_OK && i < e->n; i++) {
        if (e->code[i]) continue;
        idx[k] = i;
        if (wg_geom_label_point(e->ctx, e->geom[i], &x[k], &y[k]) != WG_OK)
            rc = wg_fail_geos(e->ctx, "cannot place a label point");
        k++;
    }
    if (rc == WG_OK) wg_order_reading(x, y, nf, order);
    int next = highest + 1;
    for (size_t k = 0; rc == WG_OK && k < nf; k++) {
        while (next < limit && used[next])
            next++;
        int seq = next;
        if (seq >= limit) { /* above is used up: the lowest number never used */
            for (seq = 1; seq < limit && used[seq]; seq++) {
            }
        }
        if (seq >= limit) {
            rc = wg_fail(e->ctx, WG_ECONFLICT, "no free %d-digit sequence number left under %s",
                         width, e->parent);
            break;
        }
        used[seq] = 1;
        size_t len = strlen(e->parent) + (size_t)width + 1;
        char *code = malloc(len);
        if (!code)
            rc = wg_fail(e->ctx, WG_ENOMEM, "out of memory");
        else if (len - 1 > MAX_CODE_LEN)
            rc = wg_fail(e->ctx, WG_EDATA, "parent code %s is too long for child codes", e->parent);
        else { /* seq < 10^width here, so the code is exactly len - 1 characters */
            char text[64];
            snprintf(text, sizeof text, "%s%0*d", e->parent, width, seq);
            memcpy(code, text, len - 1);
            code[len - 1] = '\0';
        }
        if (rc != WG_OK)
            free(code);
        else
            e->code[idx[order[k]]] = code;
    }
    free(idx);
    free(order);
    free(x);
    free(y);
    return rc;
}

/* ------------------------------------------------------------------ writing rows */

/* The name a new unit gets when none is given. Caller frees; NULL for none (or no memory). */
static char *derived_name(const edit *e, size_t i)
{
    if (e->partner[i] >= 0) {
        const char *n = e->old[e->partner[i]].name;
        return n ? strdup(n) : NULL;
    }
    size_t plen = strlen(e->parent);
    int w = 0,
        seq = strncmp(e->code[i], e->parent, plen) == 0 ? sequence_of(e->code[i], plen, &w) : 0;
    if (e->level != WG_LEVEL_GRID || !e->parent_name || !seq) return NULL;
    size_t len = strlen(e->parent_name) + 32;
    char *name = malloc(len);
    if (name) snprintf(name, len, "%s第%d网格", e->parent_name, seq);
    return name;
}

/* 1 if new unit i is its partner's row unchanged (same code, geometry and name). */
static int keeps_row(const edit *e, size_t i)
{
    if (e->partner[i] < 0 || !e->same[i]) return 0;
    const char *given = e->units[i].name, *had = e->old[e->partner[i]].name;
    return !given || (had && strcmp(given, had) == 0);
}

static int close_old_rows(edit *e, const unsigned char *keep)
{
    sqlite3_stmt *del, *close;
    int rc = wg_prepare(e->ctx, "DELETE FROM units WHERE id = ?", &del);
    if (rc != WG_OK) return rc;
    rc = wg_prepare(e->ctx, "UPDATE units SET last_gen = ?2 WHERE id = ?1", &close);
    for (size_t k = 0; rc == WG_OK && k < e->nold; k++) {
        if (keep[k]) continue;
        sqlite3_stmt *st = e->old[k].first_gen == e->draft ? del : close;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, e->old[k].row);
        if (st == close) sqlite3_bind_int64(st, 2, e->draft - 1);
        if (sqlite3_step(st) != SQLITE_DONE) rc = wg_fail_sql(e->ctx, "cannot close a unit");
    }
    sqlite3_finalize(del);
    sqlite3_finalize(close);
    return rc;
}

static int insert_new_rows(edit *e)
{
    sqlite3_stmt *st;
    int rc =
        wg_prepare(e->ctx,
                   "INSERT INTO units(level, code, parent_code, name, area_m2, first_gen, geom)"
                   " VALUES (?, ?, ?, ?, ?, ?, GeomFromWKB(?, 4326))",
                   &st);
    for (size_t i = 0; rc == WG_OK && i < e->n; i++) {
        if (keeps_row(e, i)) continue;
        char *name = e->units[i].name ? strdup(e->units[i].name) : derived_name(e, i);
        size_t len = 0;
        unsigned char *wkb = wg_geom_to_wkb(e->ctx, e->geom[i], &len);
        if (!wkb) rc = wg_fail_geos(e->ctx, "cannot encode geometry");
        sqlite3_reset(st);
        sqlite3_bind_int(st, 1, e->level);
        sqlite3_bind_text(st, 2, e->code[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, e->parent, -1, SQLITE_STATIC);
        if (name)
            sqlite3_bind_text(st, 4, name, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 4);
        sqlite3_bind_double(st, 5, wg_geom_area_m2(e->ctx, e->geom[i]));
        sqlite3_bind_int64(st, 6, e->draft);
        if (wkb) sqlite3_bind_blob(st, 7, wkb, (int)len, SQLITE_TRANSIENT);
        if (rc == WG_OK && sqlite3_step(st) != SQLITE_DONE)
            rc = wg_fail_sql(e->ctx, "cannot store unit");
        free(name);
        if (wkb) GEOSFree_r(e->ctx->geos, wkb);
    }
    sqlite3_finalize(st);
    return rc;
}

static int write_rows(edit *e)
{
    unsigned char *keep = calloc(e->nold + 1, 1);
    if (!keep) return wg_fail(e->ctx, WG_ENOMEM, "out of memory");
    for (size_t i = 0; i < e->n; i++)
        if (keeps_row(e, i)) keep[e->partner[i]] = 1;
    int rc = close_old_rows(e, keep);
    if (rc == WG_OK) rc = insert_new_rows(e);
    free(keep);
    return rc;
}

/* ------------------------------------------------------------------ one edit */

static void edit_free(edit *e)
{
    for (size_t i = 0; e->geom && i < e->n; i++)
        if (e->geom[i]) GEOSGeom_destroy_r(e->ctx->geos, e->geom[i]);
    free(e->geom);
    if (e->code) wg_codes_free(e->code, e->n);
    free(e->partner);
    free(e->same);
    free(e->taken);
    free(e->parent_name);
}

/* Ends an edit opened with tx_open: commits or rolls back; on failure the codes handed out are
 * taken back (*codes NULL). Frees the edit's state. Returns the final rc. */
static int edit_end(edit *e, int nested, int rc, char ***codes)
{
    rc = tx_close(e->ctx, nested, rc);
    if (rc != WG_OK && codes && *codes) {
        wg_codes_free(*codes, e->n);
        *codes = NULL;
    }
    old_free(e->ctx, e->old, e->nold);
    edit_free(e);
    return rc;
}

/* Runs the code passes and writes the rows; on success hands the codes to *codes. */
static int edit_run(edit *e, char ***codes)
{
    wg_ctx *ctx = e->ctx;
    e->geom = calloc(e->n, sizeof *e->geom);
    e->code = calloc(e->n, sizeof *e->code);
    e->partner = malloc(e->n * sizeof *e->partner);
    e->same = calloc(e->n, 1);
    e->taken = calloc(e->nold + 1, 1);
    int rc = e->geom && e->code && e->partner && e->same && e->taken
                 ? WG_OK
                 : wg_fail(ctx, WG_ENOMEM, "out of memory");
    for (size_t i = 0; rc == WG_OK && i < e->n; i++) {
        e->partner[i] = -1;
        rc = check_new_geom(ctx, i, e->units[i].geom, &e->geom[i]);
    }
    if (rc == WG_OK) rc = find_parent(e);
    if (rc == WG_OK) rc = pass_given(e);
    if (rc == WG_OK) rc = pass_unchanged(e);
    if (rc == WG_OK) rc = pass_matching(e);
    if (rc == WG_OK) rc = pass_fresh(e);
    if (rc == WG_OK) rc = write_rows(e);
    if (rc == WG_OK && codes) {
        *codes = e->code;
        e->code = NULL;
    }
    return rc;
}

static int check_units(wg_ctx *ctx, const wg_new_unit *units, size_t n)
{
    if (n == 0 || !units) return wg_fail(ctx, WG_EINVAL, "no units given");
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    return WG_OK;
}

int wg_draft_replace_children(wg_ctx *ctx, int level, const char *parent_code,
                              const wg_new_unit *units, size_t n, char ***codes)
{
    if (codes) *codes = NULL;
    if (level != WG_LEVEL_COMMUNITY && level != WG_LEVEL_GRID)
        return wg_fail(ctx, WG_EINVAL, "level must be 2 (community) or 3 (grid)");
    if (!parent_code || !*parent_code) return wg_fail(ctx, WG_EINVAL, "no parent code given");
    int rc = check_units(ctx, units, n), nested = 0;
    if (rc != WG_OK) return rc;
    edit e = {.ctx = ctx, .level = level, .parent = parent_code, .units = units, .n = n};
    rc = tx_open(ctx, &nested);
    if (rc != WG_OK) return rc;
    rc = wg_gen_draft(ctx, 1, &e.draft);
    if (rc == WG_OK) rc = load_children(ctx, e.draft, level, parent_code, &e.old, &e.nold);
    if (rc == WG_OK) rc = edit_run(&e, codes);
    return edit_end(&e, nested, rc, codes);
}

int wg_draft_split(wg_ctx *ctx, const char *code, const wg_new_unit *parts, size_t n, char ***codes)
{
    if (codes) *codes = NULL;
    if (!code || !*code) return wg_fail(ctx, WG_EINVAL, "no code given");
    int rc = check_units(ctx, parts, n), nested = 0;
    if (rc != WG_OK) return rc;
    edit e = {.ctx = ctx, .units = parts, .n = n};
    size_t cap = 0;
    rc = tx_open(ctx, &nested);
    if (rc != WG_OK) return rc;
    rc = wg_gen_draft(ctx, 1, &e.draft);
    if (rc == WG_OK) rc = load_unit(ctx, e.draft, code, &e.old, &e.nold, &cap);
    if (rc == WG_OK) {
        e.level = e.old[0].level;
        e.parent = e.old[0].parent;
        rc = edit_run(&e, codes);
    }
    return edit_end(&e, nested, rc, codes);
}

/* The union of the old units' geometries. */
static GEOSGeometry *union_of(wg_ctx *ctx, const old_unit *old, size_t n)
{
    GEOSGeometry **parts = malloc(n * sizeof *parts), *u = NULL;
    if (!parts) return NULL;
    size_t k = 0;
    for (; k < n; k++)
        if (!(parts[k] = GEOSGeom_clone_r(ctx->geos, old[k].geom))) break;
    GEOSGeometry *all =
        k == n ? GEOSGeom_createCollection_r(ctx->geos, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)n)
               : NULL;
    if (!all) {
        for (size_t i = 0; i < k; i++)
            GEOSGeom_destroy_r(ctx->geos, parts[i]);
    } else {
        u = GEOSUnaryUnion_r(ctx->geos, all);
        GEOSGeom_destroy_r(ctx->geos, all);
    }
    free(parts);
    GEOSGeometry *mp = u ? wg_geom_polygonal(ctx, u) : NULL;
    if (u) GEOSGeom_destroy_r(ctx->geos, u);
    return mp;
}

static int check_merge_set(wg_ctx *ctx, const old_unit *old, size_t n)
{
    for (size_t k = 1; k < n; k++) {
        for (size_t j = 0; j < k; j++)
            if (strcmp(old[j].code, old[k].code) == 0)
                return wg_fail(ctx, WG_EINVAL, "code %s is named twice", old[k].code);
        if (old[k].level != old[0].level)
            return wg_fail(ctx, WG_EINVAL, "%s and %s are not of one level", old[0].code,
                           old[k].code);
        if (strcmp(old[k].parent, old[0].parent) != 0)
            return wg_fail(ctx, WG_EINVAL,
                           "%s and %s have different parents (%s, %s): only siblings merge",
                           old[0].code, old[k].code, old[0].parent, old[k].parent);
    }
    return WG_OK;
}

int wg_draft_merge(wg_ctx *ctx, const char *const *codes, size_t n, const char *name, char **code)
{
    if (code) *code = NULL;
    if (!codes || n < 2) return wg_fail(ctx, WG_EINVAL, "a merge takes at least 2 codes");
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    for (size_t k = 0; k < n; k++)
        if (!codes[k] || !*codes[k]) return wg_fail(ctx, WG_EINVAL, "empty code");
    edit e = {.ctx = ctx, .n = 1};
    size_t cap = 0;
    int nested = 0, rc = tx_open(ctx, &nested);
    if (rc != WG_OK) return rc;
    rc = wg_gen_draft(ctx, 1, &e.draft);
    for (size_t k = 0; rc == WG_OK && k < n; k++)
        rc = load_unit(ctx, e.draft, codes[k], &e.old, &e.nold, &cap);
    if (rc == WG_OK) rc = check_merge_set(ctx, e.old, e.nold);
    GEOSGeometry *merged = NULL;
    if (rc == WG_OK && !(merged = union_of(ctx, e.old, e.nold)))
        rc = wg_fail_geos(ctx, "cannot union the units");
    wg_new_unit unit = {merged, name, NULL};
    char **out = NULL;
    if (rc == WG_OK) {
        e.level = e.old[0].level;
        e.parent = e.old[0].parent;
        e.units = &unit;
        rc = edit_run(&e, &out);
    }
    rc = edit_end(&e, nested, rc, &out);
    if (rc == WG_OK && code) {
        *code = out[0];
        out[0] = NULL;
    }
    wg_codes_free(out, 1);
    if (merged) GEOSGeom_destroy_r(ctx->geos, merged);
    return rc;
}

int wg_draft_discard(wg_ctx *ctx, int64_t *id)
{
    if (id) *id = 0;
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    int64_t draft = 0;
    int nested = 0, rc = tx_open(ctx, &nested);
    if (rc != WG_OK) return rc;
    rc = wg_gen_draft(ctx, 0, &draft);
    if (rc == WG_ENOTFOUND) wg_fail(ctx, rc, "no draft generation to discard");
    char sql[512];
    /* rows the draft closed end at draft - 1; with the draft gone nothing is newer, so they are
     * open again (the same membership) */
    snprintf(sql, sizeof sql,
             "DELETE FROM assignments WHERE generation = %lld;"
             "DELETE FROM assign_runs WHERE generation = %lld;"
             "DELETE FROM units WHERE first_gen = %lld;"
             "UPDATE units SET last_gen = NULL WHERE last_gen = %lld;"
             "DELETE FROM generations WHERE id = %lld AND status = 'draft';",
             (long long)draft, (long long)draft, (long long)draft, (long long)draft - 1,
             (long long)draft);
    if (rc == WG_OK) rc = wg_exec(ctx, sql);
    rc = tx_close(ctx, nested, rc);
    if (rc == WG_OK && id) *id = draft;
    return rc;
}
