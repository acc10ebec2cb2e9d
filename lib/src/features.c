/* OGC API – Features, the read side: collections and items of the store (wangge/features.h).
 *
 * Units and bbox. Candidates come from SpatiaLite's R*Tree on units.geom (idx_units_geom:
 * pkid, xmin, xmax, ymin, ymax). SQLite keeps its boxes as float32 rounded outward, so the
 * index never misses a unit, and a unit whose index box lies inside the query box lies inside
 * it too: such a candidate matches without its geometry being read. Only candidates across
 * the query box's edge are read and tested exactly, with GEOS intersects against the box
 * (prepared; a box of zero width or height is a line or a point, so it still intersects
 * exactly what touches it). Example: 10,000 grids and a box over a tenth of the city: some
 * 1,000 candidates, of which the 100 or so across the box's edges are read and tested.
 *
 * numberMatched is exact. The matching fids of a level are collected, sorted and the page is
 * a slice of them: a level holds at most some 10^5 units, under a MB of ids. Addresses
 * (millions) are counted and paged in SQL instead; they have no spatial index, so a bbox over
 * them costs two scans (the count and the page).
 *
 * Consistency: a page is read in one read transaction (WAL snapshot), so the count and the
 * page agree even while another process imports or publishes. */
#include "wangge/features.h"
#include "wangge/store.h"
#include "export_internal.h"
#include "geom.h"
#include "store_schema.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Unit u is in generation ?1. */
#define IN_GEN "u.first_gen <= ?1 AND (u.last_gen IS NULL OR u.last_gen >= ?1)"
/* An address with the work grid of generation ?1's assignment. */
#define ADDR_COLS "a.id, a.lon, a.lat, a.households, a.label, a.code, s.grid_code"
#define ADDR_GRID                                                                                  \
    "LEFT JOIN assignments s ON s.generation = ?1 AND s.kind = 'address' AND s.item_id = a.id"
/* An address in the bbox ?3..?6 when ?2 is set (west ?3 > east ?5: across the antimeridian). */
#define ADDR_IN_BBOX                                                                               \
    "(?2 = 0 OR (lat BETWEEN ?4 AND ?6 AND (lon BETWEEN ?3 AND ?5"                                 \
    " OR (?3 > ?5 AND (lon >= ?3 OR lon <= ?5)))))"

static const struct {
    const char *name, *title, *description;
} COLLS[WG_COLL_COUNT + 1] = {
    {NULL, NULL, NULL},
    {"districts", "Districts (街道)", "Level 1 units: the street offices (the big grid)."},
    {"communities", "Communities (社区)", "Level 2 units: the communities (the middle grid)."},
    {"grids", "Work grids (网格)", "Level 3 units: the work grids, each run by a grid worker."},
    {"addresses", "Addresses",
     "Addresses with their households and the work grid the generation assigns them to."},
};

const char *wg_collection_name(wg_collection c)
{
    return c >= 1 && c <= WG_COLL_COUNT ? COLLS[c].name : NULL;
}

wg_collection wg_collection_parse(const char *name)
{
    for (int c = 1; name && c <= WG_COLL_COUNT; c++)
        if (strcmp(name, COLLS[c].name) == 0) return (wg_collection)c;
    return 0;
}

static int no_collection(wg_ctx *ctx, wg_collection coll)
{
    return wg_fail(ctx, WG_EINVAL, "no collection %d (1..%d)", (int)coll, WG_COLL_COUNT);
}

/* ---------------------------------------------------------------- collections */

/* Checks coll, resolves the generation into *gen and prepares the statement of coll (one for
 * addresses, one for units), with ?1 = *gen and, for units, ?3 = the level. */
static int prepare_for(wg_ctx *ctx, wg_collection coll, int64_t generation, const char *addr_sql,
                       const char *unit_sql, int64_t *gen, sqlite3_stmt **st)
{
    *st = NULL;
    if (!wg_collection_name(coll)) return no_collection(ctx, coll);
    int rc = wg_gen_resolve(ctx, generation, gen);
    if (rc == WG_OK) rc = wg_prepare(ctx, coll == WG_COLL_ADDRESSES ? addr_sql : unit_sql, st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(*st, 1, *gen); /* SQLITE_RANGE where unused, harmless */
    if (coll != WG_COLL_ADDRESSES) sqlite3_bind_int(*st, 3, (int)coll);
    return WG_OK;
}

int wg_features_collection(wg_ctx *ctx, int64_t generation, wg_collection coll,
                           wg_collection_info *out)
{
    memset(out, 0, sizeof *out);
    int64_t gen;
    sqlite3_stmt *st;
    int rc =
        prepare_for(ctx, coll, generation,
                    "SELECT count(*), min(lon), min(lat), max(lon), max(lat) FROM addresses",
                    "SELECT count(*), min(MbrMinX(geom)), min(MbrMinY(geom)), max(MbrMaxX(geom)),"
                    " max(MbrMaxY(geom)) FROM units u WHERE u.level = ?3 AND " IN_GEN,
                    &gen, &st);
    if (rc != WG_OK) return rc;
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = wg_fail_sql(ctx, "cannot count features");
        sqlite3_finalize(st);
        return rc;
    }
    out->coll = coll;
    out->name = COLLS[coll].name;
    out->title = COLLS[coll].title;
    out->description = COLLS[coll].description;
    out->generation = gen;
    out->count = (size_t)sqlite3_column_int64(st, 0);
    out->has_extent = out->count > 0 && sqlite3_column_type(st, 1) != SQLITE_NULL;
    for (int i = 0; out->has_extent && i < 4; i++)
        out->extent[i] = sqlite3_column_double(st, 1 + i);
    sqlite3_finalize(st);
    return WG_OK;
}

/* ---------------------------------------------------------------- bbox */

typedef struct qbox {
    double x0, y0, x1, y1;
} qbox;

/* The query boxes of a bbox: one, or two when it spans the antimeridian. */
static int query_boxes(wg_ctx *ctx, const double b[4], qbox out[2], int *n)
{
    *n = 0;
    for (int i = 0; i < 4; i++)
        if (!isfinite(b[i])) return wg_fail(ctx, WG_EINVAL, "bbox: values must be finite numbers");
    for (int i = 0; i < 4; i += 2)
        if (b[i] < -180.0 || b[i] > 180.0 || b[i + 1] < -90.0 || b[i + 1] > 90.0)
            return wg_fail(ctx, WG_EINVAL,
                           "bbox: longitudes must lie in [-180, 180] and latitudes in [-90, 90]"
                           " (corner %.10g, %.10g)",
                           b[i], b[i + 1]);
    if (b[1] > b[3])
        return wg_fail(ctx, WG_EINVAL,
                       "bbox: the south edge %.10g is north of the north edge %.10g", b[1], b[3]);
    if (b[0] <= b[2]) {
        out[(*n)++] = (qbox){b[0], b[1], b[2], b[3]};
    } else {
        out[(*n)++] = (qbox){b[0], b[1], 180.0, b[3]};
        out[(*n)++] = (qbox){-180.0, b[1], b[2], b[3]};
    }
    return WG_OK;
}

/* The box as a GEOS geometry: a polygon, or a line or a point when it has no width or height
 * (a collapsed polygon would be invalid and intersect nothing). Caller destroys. */
static GEOSGeometry *box_geom(wg_ctx *ctx, const qbox *b)
{
    if (b->x0 == b->x1 && b->y0 == b->y1)
        return GEOSGeom_createPointFromXY_r(ctx->geos, b->x0, b->y0);
    if (b->x0 == b->x1 || b->y0 == b->y1) {
        const double xy[4] = {b->x0, b->y0, b->x1, b->y1};
        GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(ctx->geos, xy, 2, 0, 0);
        return cs ? GEOSGeom_createLineString_r(ctx->geos, cs) : NULL;
    }
    const double xy[10] = {b->x0, b->y0, b->x1, b->y0, b->x1, b->y1, b->x0, b->y1, b->x0, b->y0};
    GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(ctx->geos, xy, 5, 0, 0);
    GEOSGeometry *ring = cs ? GEOSGeom_createLinearRing_r(ctx->geos, cs) : NULL;
    return ring ? GEOSGeom_createPolygon_r(ctx->geos, ring, NULL, 0) : NULL;
}

/* ---------------------------------------------------------------- unit fids */

typedef struct idvec {
    int64_t *v;
    size_t n, cap;
} idvec;

static int push_id(wg_ctx *ctx, idvec *ids, int64_t id)
{
    if (wg_grow((void **)&ids->v, &ids->cap, ids->n + 1, sizeof *ids->v) != WG_OK)
        return wg_fail(ctx, WG_ENOMEM, "out of memory collecting features");
    ids->v[ids->n++] = id;
    return WG_OK;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Does the candidate of the current row (column 2: its WKB) intersect the box exactly? */
static int exact_hit(wg_ctx *ctx, sqlite3_stmt *st, const GEOSPreparedGeometry *box, int *hit)
{
    const void *wkb = sqlite3_column_blob(st, 2);
    GEOSGeometry *g = wkb ? wg_geom_from_wkb(ctx, wkb, (size_t)sqlite3_column_bytes(st, 2)) : NULL;
    if (!g) return wg_fail_geos(ctx, "unreadable unit geometry in store");
    char r = GEOSPreparedIntersects_r(ctx->geos, box, g);
    GEOSGeom_destroy_r(ctx->geos, g);
    if (r == 2) return wg_fail_geos(ctx, "intersects");
    *hit = r == 1;
    return WG_OK;
}

/* Adds the fids of the units of st's level and generation that intersect box b. */
static int match_box(wg_ctx *ctx, sqlite3_stmt *st, const qbox *b, idvec *ids)
{
    GEOSGeometry *g = box_geom(ctx, b);
    const GEOSPreparedGeometry *prep = g ? GEOSPrepare_r(ctx->geos, g) : NULL;
    if (!prep) {
        if (g) GEOSGeom_destroy_r(ctx->geos, g);
        return wg_fail_geos(ctx, "bbox geometry");
    }
    sqlite3_reset(st);
    sqlite3_bind_double(st, 3, b->x0);
    sqlite3_bind_double(st, 4, b->y0);
    sqlite3_bind_double(st, 5, b->x1);
    sqlite3_bind_double(st, 6, b->y1);
    int rc = WG_OK, s;
    while (rc == WG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        int hit = 1; /* the index box lies inside the query box */
        if (!sqlite3_column_int(st, 1)) rc = exact_hit(ctx, st, prep, &hit);
        if (rc == WG_OK && hit) rc = push_id(ctx, ids, sqlite3_column_int64(st, 0));
    }
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read the spatial index");
    GEOSPreparedGeom_destroy_r(ctx->geos, prep);
    GEOSGeom_destroy_r(ctx->geos, g);
    return rc;
}

/* The fids of the units of a level in gen that match the boxes (all of them if nbox is 0),
 * sorted, each once. */
static int match_units(wg_ctx *ctx, int level, int64_t gen, const qbox *boxes, int nbox, idvec *ids)
{
    sqlite3_stmt *st;
    int rc;
    if (nbox == 0)
        rc = wg_prepare(
            ctx, "SELECT u.id FROM units u WHERE u.level = ?2 AND " IN_GEN " ORDER BY u.id", &st);
    else /* CROSS JOIN keeps the R*Tree the outer loop */
        rc = wg_prepare(
            ctx,
            "SELECT u.id, r.xmin >= ?3 AND r.xmax <= ?5 AND r.ymin >= ?4 AND r.ymax <= ?6,"
            " CASE WHEN r.xmin >= ?3 AND r.xmax <= ?5 AND r.ymin >= ?4 AND r.ymax <= ?6"
            "  THEN NULL ELSE AsBinary(u.geom) END"
            " FROM idx_units_geom r CROSS JOIN units u"
            " WHERE r.xmin <= ?5 AND r.xmax >= ?3 AND r.ymin <= ?6 AND r.ymax >= ?4"
            " AND u.id = r.pkid AND u.level = ?2 AND " IN_GEN,
            &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, gen);
    sqlite3_bind_int(st, 2, level);
    if (nbox == 0) {
        int s;
        while (rc == WG_OK && (s = sqlite3_step(st)) == SQLITE_ROW)
            rc = push_id(ctx, ids, sqlite3_column_int64(st, 0));
        if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read units");
    }
    for (int i = 0; rc == WG_OK && i < nbox; i++)
        rc = match_box(ctx, st, &boxes[i], ids);
    sqlite3_finalize(st);
    if (rc != WG_OK || nbox == 0) return rc;
    if (ids->n > 1) qsort(ids->v, ids->n, sizeof *ids->v, cmp_id);
    size_t k = 0; /* a unit across the antimeridian is found by both boxes */
    for (size_t i = 0; i < ids->n; i++)
        if (k == 0 || ids->v[i] != ids->v[k - 1]) ids->v[k++] = ids->v[i];
    ids->n = k;
    return WG_OK;
}

/* ---------------------------------------------------------------- writing */

static int write_units(wg_ctx *ctx, int level, int64_t gen, const int64_t *ids, size_t n, FILE *out)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, "SELECT " WG_UNIT_FEATURE_COLS " FROM units WHERE id = ?", &st);
    for (size_t i = 0; rc == WG_OK && i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, ids[i]);
        if (sqlite3_step(st) != SQLITE_ROW)
            rc = wg_fail_sql(ctx, "cannot read a unit");
        else
            rc = wg_write_unit_feature(ctx, st, level, gen, json_object_new_int64(ids[i]),
                                       i ? "," : "", out);
    }
    sqlite3_finalize(st);
    return rc;
}

static json_object *text_or_null(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? json_object_new_string((const char *)t) : NULL;
}

/* Writes the address of the current row of st (columns ADDR_COLS) as a Feature. */
static int write_address(wg_ctx *ctx, sqlite3_stmt *st, const char *sep, FILE *out)
{
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(ctx->geos, sqlite3_column_double(st, 1),
                                                    sqlite3_column_double(st, 2));
    char *geojson = pt ? wg_geom_to_geojson(ctx, pt) : NULL;
    if (pt) GEOSGeom_destroy_r(ctx->geos, pt);
    if (!geojson) return wg_fail_geos(ctx, "cannot write GeoJSON");
    json_object *props = json_object_new_object();
    json_object_object_add(props, "households", json_object_new_int64(sqlite3_column_int64(st, 3)));
    json_object_object_add(props, "label", text_or_null(st, 4));
    json_object_object_add(props, "code", text_or_null(st, 5));
    json_object_object_add(props, "grid", text_or_null(st, 6));
    int rc = wg_write_feature(ctx, out, sep, json_object_new_int64(sqlite3_column_int64(st, 0)),
                              props, geojson);
    GEOSFree_r(ctx->geos, geojson);
    return rc;
}

/* Binds the generation and the bbox of ADDR_IN_BBOX. */
static void bind_addr_filter(sqlite3_stmt *st, int64_t gen, const wg_items_query *q)
{
    sqlite3_bind_int64(st, 1, gen);
    sqlite3_bind_int(st, 2, q->has_bbox != 0);
    for (int i = 0; i < 4; i++)
        sqlite3_bind_double(st, 3 + i, q->has_bbox ? q->bbox[i] : 0.0);
}

static int address_items(wg_ctx *ctx, int64_t gen, const wg_items_query *q, size_t limit,
                         wg_items *out, FILE *fp)
{
    sqlite3_stmt *count, *page;
    int rc = wg_prepare(ctx, "SELECT count(*) FROM addresses WHERE " ADDR_IN_BBOX, &count);
    if (rc != WG_OK) return rc;
    bind_addr_filter(count, gen, q);
    if (sqlite3_step(count) == SQLITE_ROW)
        out->matched = (size_t)sqlite3_column_int64(count, 0);
    else
        rc = wg_fail_sql(ctx, "cannot count addresses");
    sqlite3_finalize(count);
    if (rc != WG_OK || q->offset >= out->matched) return rc;
    /* the join runs over the page only, not over the rows the offset skips */
    rc = wg_prepare(ctx,
                    "SELECT " ADDR_COLS " FROM (SELECT id, lon, lat, households, label, code"
                    " FROM addresses WHERE " ADDR_IN_BBOX
                    " ORDER BY id LIMIT ?7 OFFSET ?8) a " ADDR_GRID " ORDER BY a.id",
                    &page);
    if (rc != WG_OK) return rc;
    bind_addr_filter(page, gen, q);
    sqlite3_bind_int64(page, 7, (sqlite3_int64)limit);
    sqlite3_bind_int64(page, 8, (sqlite3_int64)q->offset);
    int s;
    while (rc == WG_OK && (s = sqlite3_step(page)) == SQLITE_ROW)
        rc = write_address(ctx, page, out->returned++ ? "," : "", fp);
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read addresses");
    sqlite3_finalize(page);
    return rc;
}

static int unit_items(wg_ctx *ctx, int level, int64_t gen, const qbox *boxes, int nbox,
                      const wg_items_query *q, size_t limit, wg_items *out, FILE *fp)
{
    idvec ids = {0};
    int rc = match_units(ctx, level, gen, boxes, nbox, &ids);
    if (rc == WG_OK) {
        out->matched = ids.n;
        size_t begin = q->offset < ids.n ? q->offset : ids.n;
        out->returned = ids.n - begin < limit ? ids.n - begin : limit;
        /* no match leaves ids.v NULL, and NULL + 0 is undefined */
        rc = write_units(ctx, level, gen, ids.v ? ids.v + begin : NULL, out->returned, fp);
    }
    free(ids.v);
    return rc;
}

/* A page in a memory stream. */
typedef struct memtext {
    char *buf;
    size_t len;
    FILE *fp;
} memtext;

static int memtext_open(wg_ctx *ctx, memtext *m)
{
    memset(m, 0, sizeof *m);
    m->fp = open_memstream(&m->buf, &m->len);
    return m->fp ? WG_OK : wg_fail(ctx, WG_ENOMEM, "out of memory");
}

/* Closes the stream; the text if rc is WG_OK and the stream is sound, else NULL (rc set). */
static char *memtext_close(wg_ctx *ctx, memtext *m, int *rc)
{
    if (*rc == WG_OK && ferror(m->fp))
        *rc = wg_fail(ctx, WG_ENOMEM, "out of memory writing features");
    if (fclose(m->fp) != 0 && *rc == WG_OK)
        *rc = wg_fail(ctx, WG_ENOMEM, "out of memory writing features");
    if (*rc == WG_OK) return m->buf;
    free(m->buf);
    return NULL;
}

static int items_in_txn(wg_ctx *ctx, wg_collection coll, const wg_items_query *q, size_t limit,
                        const qbox *boxes, int nbox, wg_items *out)
{
    int rc = wg_gen_resolve(ctx, q->generation, &out->generation);
    if (rc != WG_OK) return rc;
    memtext m;
    rc = memtext_open(ctx, &m);
    if (rc != WG_OK) return rc;
    fputc('[', m.fp);
    if (coll == WG_COLL_ADDRESSES)
        rc = address_items(ctx, out->generation, q, limit, out, m.fp);
    else
        rc = unit_items(ctx, (int)coll, out->generation, boxes, nbox, q, limit, out, m.fp);
    fputc(']', m.fp);
    out->features = memtext_close(ctx, &m, &rc);
    return rc;
}

int wg_features_items(wg_ctx *ctx, wg_collection coll, const wg_items_query *q, wg_items *out)
{
    memset(out, 0, sizeof *out);
    if (!wg_collection_name(coll)) return no_collection(ctx, coll);
    size_t limit = q->limit ? q->limit : WG_ITEMS_LIMIT_DEFAULT;
    if (limit > WG_ITEMS_LIMIT_MAX)
        return wg_fail(ctx, WG_EINVAL, "limit %zu is above the maximum of %d", limit,
                       WG_ITEMS_LIMIT_MAX);
    qbox boxes[2];
    int nbox = 0, rc = q->has_bbox ? query_boxes(ctx, q->bbox, boxes, &nbox) : WG_OK;
    if (rc != WG_OK) return rc;
    /* one read transaction, unless the caller holds one already */
    int own = sqlite3_get_autocommit(ctx->db);
    if (own && (rc = wg_exec(ctx, "BEGIN")) != WG_OK) return rc;
    rc = items_in_txn(ctx, coll, q, limit, boxes, nbox, out);
    if (own) sqlite3_exec(ctx->db, rc == WG_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    if (rc != WG_OK) {
        free(out->features);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

/* ---------------------------------------------------------------- one item */

int wg_features_item(wg_ctx *ctx, wg_collection coll, int64_t generation, int64_t fid,
                     char **feature)
{
    *feature = NULL;
    int64_t gen;
    sqlite3_stmt *st;
    int rc = prepare_for(ctx, coll, generation,
                         "SELECT " ADDR_COLS " FROM addresses a " ADDR_GRID " WHERE a.id = ?2",
                         "SELECT " WG_UNIT_FEATURE_COLS " FROM units u"
                         " WHERE u.id = ?2 AND u.level = ?3 AND " IN_GEN,
                         &gen, &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 2, fid);
    int s = sqlite3_step(st);
    if (s == SQLITE_DONE)
        rc = wg_fail(ctx, WG_ENOTFOUND, "no feature %lld in %s (generation %lld)", (long long)fid,
                     COLLS[coll].name, (long long)gen);
    else if (s != SQLITE_ROW)
        rc = wg_fail_sql(ctx, "cannot read the feature");
    memtext m;
    if (rc == WG_OK) rc = memtext_open(ctx, &m);
    if (rc == WG_OK) {
        if (coll == WG_COLL_ADDRESSES)
            rc = write_address(ctx, st, "", m.fp);
        else
            rc = wg_write_unit_feature(ctx, st, (int)coll, gen, json_object_new_int64(fid), "",
                                       m.fp);
        *feature = memtext_close(ctx, &m, &rc);
    }
    sqlite3_finalize(st);
    return rc;
}
