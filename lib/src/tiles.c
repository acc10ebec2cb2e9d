/* Vector tiles of a generation (see wangge/tiles.h).
 *
 * Model. Build: every unit of the generation is read once from the store; its rings are
 * projected to spherical Web Mercator metres (EPSG:3857: x = R λ, y = R ln tan(π/4 + φ/2),
 * R = 6378137 m, φ clamped to ±85.0511°) and handed, all levels together, to the edge network
 * (topo.h), which keeps each shared edge once and ranks every vertex for Douglas–Peucker. Each
 * polygon part keeps its rings' numbers in the network and its Mercator box; a packed R-tree
 * per level over the part boxes, and one per level over the label points, select what a tile
 * needs. Attributes are read once (households from assignments or props, workers by home grid).
 *
 * Render, per tile z/x/y: the tile is the Mercator square of side S = 2πR / 2^z whose top
 * left corner is (-πR + x S, πR - y S); a point (X, Y) becomes tile coordinates
 * ((X - left) 4096 / S, (top - Y) 4096 / S). Worked example: z1/1/0 has left 0, top πR, so
 * (X, Y) = (πR/2, πR/2) lands at (2048, 2048). For each layer in its zoom range the parts whose
 * boxes meet the tile plus buffer are taken in unit order; each ring is rebuilt from its
 * chains at tolerance S / 4096 (one tile unit), moved to tile coordinates, clipped to the
 * buffered square when the part's box is not inside it (Sutherland–Hodgman; a segment's
 * crossing is computed from its endpoints in one canonical order, so both polygons that share
 * the segment get the same point), rounded, stripped of repeated points, oriented and
 * encoded (mvt.h). No SQL and no GEOS per tile. */
#include "wangge/tiles.h"
#include "wangge/store.h"
#include "boxtree.h"
#include "geom.h"
#include "mvt.h"
#include "store_schema.h"
#include "topo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MERC_R 6378137.0
#define WORLD_M (2.0 * 3.14159265358979323846 * MERC_R) /* 40075016.69 m: the z0 tile */
#define MAX_LAT 85.05112877980659                       /* the latitude where y = πR */
#define DEG (3.14159265358979323846 / 180.0)
/* A level's polygons start at the first zoom where its median unit is this many tile units
 * across (8 pixels of a 512-pixel tile): smaller, they are specks. */
#define MIN_UNITS_ACROSS 64.0
/* No level starts later than this: beyond it a unit is tiny on any map. */
#define LATEST_MINZOOM 14

typedef struct tunit {
    int64_t id;
    int level;
    char *code, *name, *parent; /* parent code; name and parent may be NULL */
    char *worker;               /* grids: worker names, NULL if none */
    int64_t households;         /* -1 when unknown */
    uint32_t part0, nparts;     /* into the tileset's parts */
    double lx, ly;              /* label point, Mercator metres (NAN if none) */
    double merc_area;           /* Mercator m² (zoom rule) */
    double area_m2;             /* geodesic, from the store */
} tunit;

typedef struct tpart {
    uint32_t unit, ring0, nrings; /* rings of the network; ring0 is the exterior */
    double box[4];                /* Mercator */
} tpart;

struct wg_tileset {
    int64_t generation;
    tunit *u;
    size_t n, level_begin[5];
    tpart *part;
    size_t nparts, part_begin[5]; /* parts of level L: [part_begin[L], part_begin[L + 1]) */
    wg_topo *topo;
    wg_boxtree *polys[4];  /* [1..3] over the level's parts */
    wg_boxtree *labels[4]; /* [2..3] over the level's label points */
    int minzoom[4];        /* [1..3] */
    double bounds[4], center[2];
};

/* ------------------------------------------------------------ layer names */

static const struct {
    unsigned bit;
    const char *name;
    int level; /* 0: labels */
    int default_minzoom;
} LAYERS[] = {{WG_TL_DISTRICTS, "districts", 1, 0},
              {WG_TL_COMMUNITIES, "communities", 2, 9},
              {WG_TL_GRIDS, "grids", 3, 11},
              {WG_TL_LABELS, "labels", 0, 10}};
#define NLAYERS (sizeof LAYERS / sizeof LAYERS[0])

static int layer_slot(unsigned layer)
{
    for (size_t k = 0; k < NLAYERS; k++)
        if (LAYERS[k].bit == layer) return (int)k;
    return -1;
}

const char *wg_tile_layer_name(unsigned layer)
{
    int k = layer_slot(layer);
    return k < 0 ? NULL : LAYERS[k].name;
}

void wg_tile_layer_zooms(unsigned layer, int *minzoom, int *maxzoom)
{
    int k = layer_slot(layer);
    *minzoom = k < 0 ? -1 : LAYERS[k].default_minzoom;
    *maxzoom = k < 0 ? -1 : WG_TILE_MAXZOOM;
}

int wg_tile_layers_parse(const char *csv, unsigned *mask)
{
    *mask = 0;
    if (!csv) return WG_EINVAL;
    unsigned m = 0;
    const char *p = csv;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        unsigned bit = 0;
        for (size_t k = 0; k < NLAYERS && !bit; k++)
            if (strlen(LAYERS[k].name) == len && memcmp(LAYERS[k].name, p, len) == 0)
                bit = LAYERS[k].bit;
        if (!bit || (m & bit)) return WG_EINVAL; /* empty, unknown or repeated */
        m |= bit;
        if (!e) break;
        p = e + 1;
    }
    *mask = m;
    return WG_OK;
}

/* ------------------------------------------------------------ projection */

static void mercator(double lon, double lat, double *x, double *y)
{
    if (lat > MAX_LAT) lat = MAX_LAT;
    if (lat < -MAX_LAT) lat = -MAX_LAT;
    *x = MERC_R * lon * DEG;
    *y = MERC_R * log(tan(3.14159265358979323846 / 4 + lat * DEG / 2));
}

static double shoelace(const double *xy, size_t n)
{
    double a = 0;
    for (size_t i = 0, j = n - 1; i < n; j = i++)
        a += xy[2 * j] * xy[2 * i + 1] - xy[2 * i] * xy[2 * j + 1];
    return a / 2;
}

/* ------------------------------------------------------------------ build */

static char *steal(char **s)
{
    char *p = *s;
    *s = NULL;
    return p;
}

/* Reads every unit's rings into one flat list (lon/lat), its label point and its parts. */
static int read_geometry(wg_ctx *ctx, wg_tileset *ts, wg_unit_set *set, wg_rings *rings)
{
    for (size_t i = 0; i < set->n; i++) {
        wg_unit *su = &set->units[i];
        tunit *u = &ts->u[i];
        u->id = su->id;
        u->level = su->level;
        u->code = steal(&su->code);
        u->name = steal(&su->name);
        u->parent = steal(&su->parent_code);
        u->households = -1;
        u->area_m2 = su->area_m2;
        u->part0 = (uint32_t)rings->nparts;
        int rc = wg_geom_append_rings(ctx, su->geom, rings);
        if (rc != WG_OK) return rc;
        u->nparts = (uint32_t)(rings->nparts - u->part0);
        double lon, lat;
        u->lx = u->ly = NAN;
        rc = wg_geom_label_point(ctx, su->geom, &lon, &lat);
        if (rc != WG_OK) return rc;
        if (isfinite(lon) && isfinite(lat)) mercator(lon, lat, &u->lx, &u->ly);
    }
    return WG_OK;
}

/* Projects the rings, builds the network and the parts with their boxes and areas. */
static int build_geometry(wg_ctx *ctx, wg_tileset *ts, const wg_rings *rings)
{
    size_t np = rings->npts, nr = rings->nrings;
    double *xy = malloc((np ? np : 1) * 2 * sizeof *xy);
    size_t *start = malloc((nr + 1) * sizeof *start);
    ts->part = calloc(rings->nparts ? rings->nparts : 1, sizeof *ts->part);
    ts->nparts = rings->nparts;
    int rc = xy && start && ts->part ? WG_OK : wg_fail(ctx, WG_ENOMEM, "out of memory");
    if (rc == WG_OK) {
        ts->bounds[0] = ts->bounds[1] = INFINITY;
        ts->bounds[2] = ts->bounds[3] = -INFINITY;
        for (size_t p = 0; p < np; p++) {
            double lon = rings->xy[2 * p], lat = rings->xy[2 * p + 1];
            ts->bounds[0] = fmin(ts->bounds[0], lon);
            ts->bounds[1] = fmin(ts->bounds[1], lat);
            ts->bounds[2] = fmax(ts->bounds[2], lon);
            ts->bounds[3] = fmax(ts->bounds[3], lat);
            mercator(lon, lat, &xy[2 * p], &xy[2 * p + 1]);
        }
        start[0] = 0;
        for (size_t r = 0; r < nr; r++)
            start[r + 1] = rings->ring_end[r];
        rc = wg_topo_build(ctx, xy, start, nr, &ts->topo);
    }
    for (size_t i = 0; rc == WG_OK && i < ts->n; i++) {
        tunit *u = &ts->u[i];
        u->merc_area = 0;
        for (uint32_t k = u->part0; k < u->part0 + u->nparts; k++) {
            tpart *pt = &ts->part[k];
            size_t r0 = k ? rings->part_end[k - 1] : 0, r1 = rings->part_end[k];
            *pt = (tpart){(uint32_t)i,
                          (uint32_t)r0,
                          (uint32_t)(r1 - r0),
                          {INFINITY, INFINITY, -INFINITY, -INFINITY}};
            for (size_t p = start[r0]; p < start[r0 + 1]; p++) { /* the exterior bounds the part */
                pt->box[0] = fmin(pt->box[0], xy[2 * p]);
                pt->box[1] = fmin(pt->box[1], xy[2 * p + 1]);
                pt->box[2] = fmax(pt->box[2], xy[2 * p]);
                pt->box[3] = fmax(pt->box[3], xy[2 * p + 1]);
            }
            for (size_t r = r0; r < r1; r++) {
                double a = fabs(shoelace(&xy[2 * start[r]], start[r + 1] - start[r]));
                u->merc_area += r == r0 ? a : -a;
            }
        }
    }
    free(xy);
    free(start);
    return rc;
}

static int build_indexes(wg_ctx *ctx, wg_tileset *ts)
{
    size_t k = 0;
    for (int level = 1; level <= 4; level++) {
        while (k < ts->nparts && ts->u[ts->part[k].unit].level < level)
            k++;
        ts->part_begin[level] = k;
    }
    for (int level = 1; level <= 3; level++) {
        size_t b = ts->part_begin[level], n = ts->part_begin[level + 1] - b;
        double *box = malloc((n ? n : 1) * 4 * sizeof *box);
        if (!box) return wg_fail(ctx, WG_ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
            memcpy(&box[4 * i], ts->part[b + i].box, sizeof ts->part[b + i].box);
        ts->polys[level] = wg_boxtree_build(box, n);
        if (level >= 2) { /* label points as boxes of no size; units without one sit nowhere */
            size_t ub = ts->level_begin[level], un = ts->level_begin[level + 1] - ub;
            double *lb = realloc(box, (un ? un : 1) * 4 * sizeof *box);
            if (!lb) {
                free(box);
                return wg_fail(ctx, WG_ENOMEM, "out of memory");
            }
            box = lb;
            for (size_t i = 0; i < un; i++) {
                const tunit *u = &ts->u[ub + i];
                int ok = isfinite(u->lx) && isfinite(u->ly);
                box[4 * i] = box[4 * i + 2] = ok ? u->lx : INFINITY;
                box[4 * i + 1] = box[4 * i + 3] = ok ? u->ly : INFINITY;
            }
            ts->labels[level] = wg_boxtree_build(box, un);
            if (!ts->labels[level]) {
                free(box);
                return wg_fail(ctx, WG_ENOMEM, "out of memory");
            }
        }
        free(box);
        if (!ts->polys[level]) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    return WG_OK;
}

/* The unit of this level and code (units are sorted by level, then code), or -1. */
static int32_t find_code(const wg_tileset *ts, int level, const char *code)
{
    size_t lo = ts->level_begin[level], hi = ts->level_begin[level + 1];
    while (code && lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ts->u[mid].code, code);
        if (c == 0) return (int32_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

typedef struct unit_id {
    int64_t id;
    size_t index;
} unit_id;

static int cmp_unit_id(const void *pa, const void *pb)
{
    const unit_id *a = pa, *b = pb;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Households by the documented rule: assignment sums when the generation has any address
 * assignment (*summed set: parents are then summed from their children), else each unit's
 * "households" property. */
static int read_households(wg_ctx *ctx, wg_tileset *ts, int *summed)
{
    *summed = 0;
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx,
                        "SELECT s.grid_code, sum(a.households) FROM assignments s"
                        " JOIN addresses a ON a.id = s.item_id"
                        " WHERE s.generation = ?1 AND s.kind = 'address' GROUP BY s.grid_code",
                        &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, ts->generation);
    int any = 0, s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (!any) /* assignments exist: every unit has a known sum, 0 if nothing is assigned */
            for (size_t i = 0; i < ts->n; i++)
                ts->u[i].households = 0;
        any = 1;
        int32_t g = find_code(ts, WG_LEVEL_GRID, (const char *)sqlite3_column_text(st, 0));
        if (g >= 0) ts->u[g].households = sqlite3_column_int64(st, 1);
    }
    if (s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot sum households");
    sqlite3_finalize(st);
    if (rc != WG_OK) return rc;
    *summed = any;
    if (any) return WG_OK; /* parents are summed by the caller from their children */
    rc = wg_prepare(ctx,
                    "SELECT id, CASE WHEN json_valid(props) THEN"
                    " CASE json_type(props, '$.households') WHEN 'integer'"
                    " THEN json_extract(props, '$.households') END END"
                    " FROM units WHERE first_gen <= ?1 AND (last_gen IS NULL OR last_gen >= ?1)",
                    &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, ts->generation);
    /* unit ids -> indexes, sorted by id for binary searches */
    size_t n = ts->n;
    unit_id *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids) {
        sqlite3_finalize(st);
        return wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        ids[i] = (unit_id){ts->u[i].id, i};
    qsort(ids, n, sizeof *ids, cmp_unit_id);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 1) != SQLITE_INTEGER) continue;
        int64_t id = sqlite3_column_int64(st, 0), hh = sqlite3_column_int64(st, 1);
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (ids[mid].id < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < n && ids[lo].id == id && hh >= 0) ts->u[ids[lo].index].households = hh;
    }
    if (s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read households");
    sqlite3_finalize(st);
    free(ids);
    return rc;
}

/* Community and district households as the sums of their children (assignment rule). */
static void sum_households(wg_tileset *ts, const wg_unit_set *set)
{
    for (int level = 3; level >= 2; level--)
        for (size_t i = ts->level_begin[level]; i < ts->level_begin[level + 1]; i++) {
            int32_t p = set->units[i].parent;
            if (p >= 0 && ts->u[i].households > 0) ts->u[p].households += ts->u[i].households;
        }
}

static int append_name(char **dst, const char *name)
{
    size_t a = *dst ? strlen(*dst) : 0, b = strlen(name);
    char *s = realloc(*dst, a + b + (a ? 3 : 1));
    if (!s) return WG_ENOMEM;
    if (a) memcpy(s + a, ", ", 2), a += 2;
    memcpy(s + a, name, b + 1);
    *dst = s;
    return WG_OK;
}

static int read_workers(wg_ctx *ctx, wg_tileset *ts)
{
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx,
                        "SELECT home_grid, name FROM workers WHERE role = 'grid_worker'"
                        " AND home_grid IS NOT NULL ORDER BY id",
                        &st);
    if (rc != WG_OK) return rc;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *grid = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        int32_t g = find_code(ts, WG_LEVEL_GRID, grid);
        if (g < 0 || !name) continue;
        if (append_name(&ts->u[g].worker, name) != WG_OK) {
            rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read workers");
    sqlite3_finalize(st);
    return rc;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

/* The zoom rule of tiles.h for one level; def if the level is empty. */
static int level_minzoom(const wg_tileset *ts, int level, int def)
{
    size_t b = ts->level_begin[level], n = ts->level_begin[level + 1] - b;
    double *side = malloc((n ? n : 1) * sizeof *side);
    if (n == 0 || !side) {
        free(side);
        return def;
    }
    for (size_t i = 0; i < n; i++)
        side[i] = sqrt(fmax(ts->u[b + i].merc_area, 0));
    qsort(side, n, sizeof *side, cmp_double);
    double median = side[n / 2];
    free(side);
    for (int z = 0; z < LATEST_MINZOOM; z++)
        if (median / (ldexp(WORLD_M, -z) / WG_TILE_EXTENT) >= MIN_UNITS_ACROSS) return z;
    return LATEST_MINZOOM;
}

static void choose_zooms(wg_tileset *ts)
{
    ts->minzoom[1] = 0;
    for (int level = 2; level <= 3; level++) {
        int z = level_minzoom(ts, level, LAYERS[level - 1].default_minzoom);
        ts->minzoom[level] = z > ts->minzoom[level - 1] ? z : ts->minzoom[level - 1];
    }
}

static void choose_center(wg_tileset *ts)
{
    ts->center[0] = (ts->bounds[0] + ts->bounds[2]) / 2;
    ts->center[1] = (ts->bounds[1] + ts->bounds[3]) / 2;
    const tunit *best = NULL;
    for (size_t i = ts->level_begin[1]; i < ts->level_begin[2]; i++)
        if (isfinite(ts->u[i].lx) && (!best || ts->u[i].area_m2 > best->area_m2)) best = &ts->u[i];
    if (!best) return;
    ts->center[0] = best->lx / (MERC_R * DEG);
    ts->center[1] = (2 * atan(exp(best->ly / MERC_R)) - 3.14159265358979323846 / 2) / DEG;
}

void wg_tileset_free(wg_tileset *ts)
{
    if (!ts) return;
    for (size_t i = 0; i < ts->n; i++) {
        free(ts->u[i].code);
        free(ts->u[i].name);
        free(ts->u[i].parent);
        free(ts->u[i].worker);
    }
    free(ts->u);
    free(ts->part);
    wg_topo_free(ts->topo);
    for (int l = 0; l < 4; l++) {
        wg_boxtree_free(ts->polys[l]);
        wg_boxtree_free(ts->labels[l]);
    }
    free(ts);
}

int wg_tileset_build(wg_ctx *ctx, int64_t generation, wg_tileset **out)
{
    *out = NULL;
    int64_t gen;
    int rc = wg_gen_resolve(ctx, generation, &gen);
    if (rc != WG_OK) return rc;
    wg_unit_set *set = NULL;
    rc = wg_units_load(ctx, gen, 0, &set);
    if (rc != WG_OK) return rc;
    wg_tileset *ts = calloc(1, sizeof *ts);
    wg_rings rings = {0};
    if (!ts || !(ts->u = calloc(set->n ? set->n : 1, sizeof *ts->u)))
        rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
    if (rc == WG_OK) {
        ts->generation = gen;
        ts->n = set->n;
        memcpy(ts->level_begin, set->level_begin, sizeof ts->level_begin);
        if (set->n > UINT32_MAX / 2) rc = wg_fail(ctx, WG_EDATA, "too many units for tiles");
    }
    if (rc == WG_OK) rc = read_geometry(ctx, ts, set, &rings);
    if (rc == WG_OK && (rings.nparts > UINT32_MAX / 2 || rings.nrings > UINT32_MAX / 2))
        rc = wg_fail(ctx, WG_EDATA, "too many polygons for tiles");
    if (rc == WG_OK) rc = build_geometry(ctx, ts, &rings);
    wg_rings_free(&rings);
    if (rc == WG_OK) rc = build_indexes(ctx, ts);
    int summed = 0;
    if (rc == WG_OK) rc = read_households(ctx, ts, &summed);
    if (rc == WG_OK && summed) sum_households(ts, set);
    if (rc == WG_OK) rc = read_workers(ctx, ts);
    wg_unit_set_free(ctx, set);
    if (rc != WG_OK) {
        wg_tileset_free(ts);
        return rc;
    }
    if (!(ts->bounds[0] <= ts->bounds[2])) /* no coordinate at all */
        ts->bounds[0] = ts->bounds[1] = ts->bounds[2] = ts->bounds[3] = 0;
    choose_zooms(ts);
    choose_center(ts);
    *out = ts;
    return WG_OK;
}

int64_t wg_tileset_generation(const wg_tileset *ts)
{
    return ts->generation;
}

size_t wg_tileset_bytes(const wg_tileset *ts)
{
    size_t b = sizeof *ts + ts->n * sizeof *ts->u + ts->nparts * sizeof *ts->part +
               wg_topo_bytes(ts->topo);
    for (size_t i = 0; i < ts->n; i++) {
        const tunit *u = &ts->u[i];
        b += strlen(u->code) + 1 + (u->name ? strlen(u->name) + 1 : 0) +
             (u->parent ? strlen(u->parent) + 1 : 0) + (u->worker ? strlen(u->worker) + 1 : 0);
    }
    for (int l = 0; l < 4; l++) {
        if (ts->polys[l]) b += wg_boxtree_bytes(ts->polys[l]);
        if (ts->labels[l]) b += wg_boxtree_bytes(ts->labels[l]);
    }
    return b;
}

void wg_tileset_layer_zooms(const wg_tileset *ts, unsigned layer, int *minzoom, int *maxzoom)
{
    int k = layer_slot(layer);
    *maxzoom = k < 0 ? -1 : WG_TILE_MAXZOOM;
    if (k < 0)
        *minzoom = -1;
    else if (LAYERS[k].level)
        *minzoom = ts->minzoom[LAYERS[k].level];
    else if (ts->level_begin[3] > ts->level_begin[2])
        *minzoom = ts->minzoom[2] + 1;
    else if (ts->level_begin[4] > ts->level_begin[3])
        *minzoom = ts->minzoom[3] + 1;
    else
        *minzoom = LAYERS[k].default_minzoom;
}

void wg_tileset_bounds(const wg_tileset *ts, double bounds[4], double center[2])
{
    memcpy(bounds, ts->bounds, sizeof ts->bounds);
    memcpy(center, ts->center, sizeof ts->center);
}

/* ----------------------------------------------------------------- render */

static const char *const POLY_KEYS[] = {"code", "name", "level", "parent", "households", "worker"};
enum { K_CODE, K_NAME, K_LEVEL, K_PARENT, K_HOUSEHOLDS, K_WORKER };
static const char *const LABEL_KEYS[] = {"code", "name", "level"};

/* One render's scratch space and tile geometry. */
typedef struct render {
    const wg_tileset *ts;
    wg_mvt *mvt;
    double left, top, scale, tol_m; /* tile corner (Mercator), units per metre, tolerance */
    double win[4];                  /* tile plus buffer, Mercator */
    wg_xy_buf ring, clip_a, clip_b;
    int32_t *pts;
    size_t pcap;
    uint32_t *hits;
    size_t nhits, hcap;
} render;

#define LO (-(double)WG_TILE_BUFFER)
#define HI ((double)(WG_TILE_EXTENT + WG_TILE_BUFFER))

/* The crossing of segment p-q with the line coordinate[axis] = v, from the endpoints in
 * lexicographic order, so p-q and q-p give the same point to the last bit. */
static void crossing(const double *p, const double *q, int axis, double v, double *out)
{
    if (q[0] < p[0] || (q[0] == p[0] && q[1] < p[1])) {
        const double *t = p;
        p = q;
        q = t;
    }
    double t = (v - p[axis]) / (q[axis] - p[axis]);
    out[axis] = v;
    out[1 - axis] = p[1 - axis] + t * (q[1 - axis] - p[1 - axis]);
}

/* One Sutherland–Hodgman pass: keeps the side coordinate[axis] >= v (keep_high) or <= v. */
static size_t clip_pass(const double *in, size_t n, double *out, int axis, double v, int keep_high)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const double *cur = &in[2 * i], *prev = &in[2 * ((i + n - 1) % n)];
        int cin = keep_high ? cur[axis] >= v : cur[axis] <= v;
        int pin = keep_high ? prev[axis] >= v : prev[axis] <= v;
        if (cin != pin) crossing(prev, cur, axis, v, &out[2 * m++]);
        if (cin) {
            out[2 * m] = cur[0];
            out[2 * m + 1] = cur[1];
            m++;
        }
    }
    return m;
}

/* Clips r->ring (tile coordinates) to the buffered tile; the result is in r->ring. A pass
 * adds at most one point per crossing, so its output has at most twice its input's points. */
static int clip_ring(render *r)
{
    size_t n = r->ring.n;
    if (wg_xy_buf_reserve(&r->clip_a, 2 * n) != WG_OK) return WG_ENOMEM;
    n = clip_pass(r->ring.v, n, r->clip_a.v, 0, LO, 1);
    if (wg_xy_buf_reserve(&r->clip_b, 2 * n) != WG_OK) return WG_ENOMEM;
    n = clip_pass(r->clip_a.v, n, r->clip_b.v, 0, HI, 0);
    if (wg_xy_buf_reserve(&r->clip_a, 2 * n) != WG_OK) return WG_ENOMEM;
    n = clip_pass(r->clip_b.v, n, r->clip_a.v, 1, LO, 1);
    if (wg_xy_buf_reserve(&r->ring, 2 * n) != WG_OK) return WG_ENOMEM;
    n = clip_pass(r->clip_a.v, n, r->ring.v, 1, HI, 0);
    r->ring.n = n;
    return WG_OK;
}

/* Rounds r->ring to integers into r->pts without repeated points; returns the count. */
static size_t quantize(render *r)
{
    size_t m = 0;
    for (size_t i = 0; i < r->ring.n; i++) {
        int32_t x = (int32_t)floor(r->ring.v[2 * i] + 0.5),
                y = (int32_t)floor(r->ring.v[2 * i + 1] + 0.5);
        if (m > 0 && r->pts[2 * (m - 1)] == x && r->pts[2 * (m - 1) + 1] == y) continue;
        r->pts[2 * m] = x;
        r->pts[2 * m + 1] = y;
        m++;
    }
    while (m > 1 && r->pts[0] == r->pts[2 * (m - 1)] && r->pts[1] == r->pts[2 * (m - 1) + 1])
        m--;
    return m;
}

static void reverse_pts(int32_t *p, size_t n)
{
    for (size_t i = 0, j = n - 1; i < j; i++, j--) {
        int32_t x = p[2 * i], y = p[2 * i + 1];
        p[2 * i] = p[2 * j];
        p[2 * i + 1] = p[2 * j + 1];
        p[2 * j] = x;
        p[2 * j + 1] = y;
    }
}

static int64_t area2_pts(const int32_t *p, size_t n)
{
    int64_t a = 0;
    for (size_t i = 0, j = n - 1; i < n; j = i++)
        a += (int64_t)p[2 * j] * p[2 * i + 1] - (int64_t)p[2 * i] * p[2 * j + 1];
    return a;
}

/* Encodes the rings of one part; rings that collapse are left out (with their holes, when
 * the exterior collapses). */
static int render_part(render *r, wg_mvt_layer *layer, const tpart *pt)
{
    int inside = pt->box[0] >= r->win[0] && pt->box[1] >= r->win[1] && pt->box[2] <= r->win[2] &&
                 pt->box[3] <= r->win[3];
    for (uint32_t k = 0; k < pt->nrings; k++) {
        r->ring.n = 0;
        if (wg_topo_ring_xy(r->ts->topo, pt->ring0 + k, r->tol_m, inside ? NULL : r->win,
                            &r->ring) != WG_OK)
            return WG_ENOMEM;
        for (size_t i = 0; i < r->ring.n; i++) {
            double *v = &r->ring.v[2 * i];
            v[0] = (v[0] - r->left) * r->scale;
            v[1] = (r->top - v[1]) * r->scale;
        }
        if (!inside && r->ring.n > 0 && clip_ring(r) != WG_OK) return WG_ENOMEM;
        if (wg_grow((void **)&r->pts, &r->pcap, 2 * r->ring.n + 2, sizeof *r->pts) != WG_OK)
            return WG_ENOMEM;
        size_t n = quantize(r);
        int64_t a2 = n >= 3 ? area2_pts(r->pts, n) : 0;
        if (a2 == 0) {
            if (k == 0) return WG_OK; /* no exterior: no polygon, holes included */
            continue;
        }
        if ((k == 0) != (a2 > 0)) reverse_pts(r->pts, n); /* exterior > 0, holes < 0 (y down) */
        if (wg_mvt_ring(layer, r->pts, n) != WG_OK) return WG_ENOMEM;
    }
    return WG_OK;
}

static int cmp_u32(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? -1 : a > b;
}

static int tag_unit(wg_mvt_layer *layer, const tunit *u, int polygon)
{
    int rc = wg_mvt_tag_str(layer, K_CODE, u->code);
    if (rc == WG_OK) rc = wg_mvt_tag_str(layer, K_NAME, u->name);
    if (rc == WG_OK) rc = wg_mvt_tag_int(layer, K_LEVEL, u->level);
    if (!polygon) return rc;
    if (rc == WG_OK) rc = wg_mvt_tag_str(layer, K_PARENT, u->parent);
    if (rc == WG_OK && u->households >= 0) rc = wg_mvt_tag_int(layer, K_HOUSEHOLDS, u->households);
    if (rc == WG_OK) rc = wg_mvt_tag_str(layer, K_WORKER, u->worker);
    return rc;
}

static int query(render *r, const wg_boxtree *t)
{
    r->nhits = 0;
    if (wg_boxtree_query(t, r->win, &r->hits, &r->nhits, &r->hcap) != WG_OK) return WG_ENOMEM;
    if (r->nhits > 1) qsort(r->hits, r->nhits, sizeof *r->hits, cmp_u32);
    return WG_OK;
}

static int render_polygons(render *r, int level, const char *name)
{
    const wg_tileset *ts = r->ts;
    if (query(r, ts->polys[level]) != WG_OK) return WG_ENOMEM;
    if (r->nhits == 0) return WG_OK;
    wg_mvt_layer *layer =
        wg_mvt_layer_add(r->mvt, name, POLY_KEYS, sizeof POLY_KEYS / sizeof *POLY_KEYS);
    if (!layer) return WG_ENOMEM;
    for (size_t h = 0; h < r->nhits;) {
        const tpart *first = &ts->part[ts->part_begin[level] + r->hits[h]];
        const tunit *u = &ts->u[first->unit];
        if (wg_mvt_feature_begin(layer, (uint64_t)u->id, WG_MVT_POLYGON) != WG_OK) return WG_ENOMEM;
        for (; h < r->nhits; h++) { /* the unit's parts in the tile are consecutive hits */
            const tpart *pt = &ts->part[ts->part_begin[level] + r->hits[h]];
            if (pt->unit != first->unit) break;
            if (render_part(r, layer, pt) != WG_OK) return WG_ENOMEM;
        }
        if (wg_mvt_feature_empty(layer))
            wg_mvt_feature_cancel(layer);
        else if (tag_unit(layer, u, 1) != WG_OK)
            return WG_ENOMEM;
    }
    return WG_OK;
}

static int render_labels(render *r, int z)
{
    const wg_tileset *ts = r->ts;
    wg_mvt_layer *layer = NULL;
    for (int level = 2; level <= 3; level++) {
        if (z < ts->minzoom[level] + 1) continue;
        if (query(r, ts->labels[level]) != WG_OK) return WG_ENOMEM;
        if (r->nhits > 0 && !layer &&
            !(layer = wg_mvt_layer_add(r->mvt, "labels", LABEL_KEYS,
                                       sizeof LABEL_KEYS / sizeof *LABEL_KEYS)))
            return WG_ENOMEM;
        for (size_t h = 0; h < r->nhits; h++) {
            const tunit *u = &ts->u[ts->level_begin[level] + r->hits[h]];
            double x = (u->lx - r->left) * r->scale, y = (r->top - u->ly) * r->scale;
            if (!(x >= LO && x <= HI && y >= LO && y <= HI)) continue;
            if (wg_mvt_feature_begin(layer, (uint64_t)u->id, WG_MVT_POINT) != WG_OK ||
                wg_mvt_point(layer, (int32_t)floor(x + 0.5), (int32_t)floor(y + 0.5)) != WG_OK ||
                tag_unit(layer, u, 0) != WG_OK)
                return WG_ENOMEM;
        }
    }
    return WG_OK;
}

int wg_tile_render(const wg_tileset *ts, wg_ctx *ctx, unsigned layers, int z, int x, int y,
                   unsigned char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (layers == 0 || (layers & ~(unsigned)WG_TL_ALL))
        return wg_fail(ctx, WG_EINVAL, "tile layers: 0x%x is not a set of layers", layers);
    if (z < 0 || z > WG_TILE_MAXZOOM)
        return wg_fail(ctx, WG_EINVAL, "tile zoom %d is outside 0..%d", z, WG_TILE_MAXZOOM);
    if (x < 0 || y < 0 || x >= (1 << z) || y >= (1 << z))
        return wg_fail(ctx, WG_EINVAL, "tile %d/%d/%d: x and y must be 0..%d", z, x, y,
                       (1 << z) - 1);
    double size = ldexp(WORLD_M, -z);
    render r = {.ts = ts};
    r.left = -WORLD_M / 2 + x * size;
    r.top = WORLD_M / 2 - y * size;
    r.scale = WG_TILE_EXTENT / size;
    r.tol_m = size / WG_TILE_EXTENT;
    double buf = WG_TILE_BUFFER / r.scale;
    r.win[0] = r.left - buf;
    r.win[1] = r.top - size - buf;
    r.win[2] = r.left + size + buf;
    r.win[3] = r.top + buf;
    r.mvt = wg_mvt_new();
    int rc = r.mvt ? WG_OK : WG_ENOMEM;
    for (size_t k = 0; rc == WG_OK && k < NLAYERS; k++) {
        if (!(layers & LAYERS[k].bit)) continue;
        int level = LAYERS[k].level;
        if (level == 0)
            rc = render_labels(&r, z);
        else if (z >= ts->minzoom[level])
            rc = render_polygons(&r, level, LAYERS[k].name);
    }
    if (rc == WG_OK) rc = wg_mvt_pack(r.mvt, data, len);
    wg_mvt_free(r.mvt);
    wg_xy_buf_free(&r.ring);
    wg_xy_buf_free(&r.clip_a);
    wg_xy_buf_free(&r.clip_b);
    free(r.pts);
    free(r.hits);
    if (rc != WG_OK) return wg_fail(ctx, rc, "out of memory rendering tile %d/%d/%d", z, x, y);
    return WG_OK;
}
