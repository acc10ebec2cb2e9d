/* Vector tiles (lib/src/tiles.c, mvt.c, topo.c, boxtree.c), checked by decoding every tile
 * with the protobuf-c code generated from lib/proto/vector_tile.proto and validating it
 * against the MVT 2.1 rules (commands, counts, zig-zag deltas, winding, tags).
 *
 * Fixtures: the rectangles of test_lookup (exact expectations from an independent
 * normalised-Mercator formula), the bundled sample city (geodata/, 1 district, 9 communities,
 * 97 grids) and the same city scaled 40 times about its centre, so that its grids are drawn
 * from z5 with strong simplification. The no-crack check is exact: in every tile, the edges
 * of all grids, once each edge is cancelled against its reverse, leave exactly the edges of
 * the communities left the same way, and of the district: neighbours meet edge to edge. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sqlite3.h>
#include <string.h>

#include "testutil.h"
#include "vector_tile.pb-c.h"
#include "wangge/assign.h"
#include "wangge/import.h"
#include "wangge/store.h"
#include "wangge/tiles.h"
#include "wangge/validate.h"

#define GEODATA WANGGE_TEST_DATA "/../../geodata"
#define EXT 4096.0
#define BUF 64.0

/* ------------------------------------------------- independent tile arithmetic
 * Normalised Web Mercator (the world is [0, 2^z) tiles), not the library's metres. */
static double world_x(double lon, int z)
{
    return (lon + 180.0) / 360.0 * ldexp(1, z);
}

static double world_y(double lat, int z)
{
    double r = lat * TU_PI / 180;
    return (1 - log(tan(r) + 1 / cos(r)) / TU_PI) / 2 * ldexp(1, z);
}

static void to_tile(double lon, double lat, int z, int x, int y, double *tx, double *ty)
{
    *tx = (world_x(lon, z) - x) * EXT;
    *ty = (world_y(lat, z) - y) * EXT;
}

/* ------------------------------------------------------------------ decoding */

typedef struct dfeat {
    uint64_t id;
    int type;
    int32_t *xy;        /* every point of every ring */
    size_t *rs, nrings; /* ring k = points [rs[k], rs[k + 1]) */
    const char *code, *name, *parent, *worker;
    int64_t level, households;
    int has_households;
} dfeat;

typedef struct dlayer {
    const char *name;
    dfeat *f;
    size_t n;
} dlayer;

typedef struct dtile {
    VectorTile__Tile *pb;
    dlayer l[4];
    size_t n;
    size_t bytes;
} dtile;

static int64_t ring_area2(const int32_t *p, size_t n)
{
    int64_t a = 0;
    for (size_t i = 0, j = n - 1; i < n; j = i++)
        a += (int64_t)p[2 * j] * p[2 * i + 1] - (int64_t)p[2 * i] * p[2 * j + 1];
    return a;
}

static int32_t unzigzag(uint32_t v)
{
    return (int32_t)(v >> 1) ^ -(int32_t)(v & 1);
}

/* Decodes and validates a feature's geometry (section 4.3). */
static void decode_geometry(const VectorTile__Tile__Feature *f, dfeat *d)
{
    size_t n = f->n_geometry, i = 0, np = 0;
    const uint32_t *g = f->geometry;
    int32_t cx = 0, cy = 0;
    d->xy = malloc((n + 2) * sizeof *d->xy);
    d->rs = malloc((n + 2) * sizeof *d->rs);
    d->nrings = 0;
    assert_true(n > 0);
    if (d->type == VECTOR_TILE__TILE__GEOM_TYPE__POINT) {
        assert_int_equal(3, n);
        assert_int_equal(9, g[0]); /* MoveTo, count 1 */
        d->xy[0] = unzigzag(g[1]);
        d->xy[1] = unzigzag(g[2]);
        d->rs[0] = 0;
        d->rs[1] = 1;
        d->nrings = 1;
        return;
    }
    assert_int_equal(VECTOR_TILE__TILE__GEOM_TYPE__POLYGON, d->type);
    while (i < n) {
        d->rs[d->nrings] = np;
        assert_true(i + 3 <= n);
        assert_int_equal(9, g[i]); /* MoveTo with count 1 */
        cx += unzigzag(g[i + 1]);
        cy += unzigzag(g[i + 2]);
        i += 3;
        d->xy[2 * np] = cx;
        d->xy[2 * np + 1] = cy;
        np++;
        assert_true(i < n);
        assert_int_equal(2, g[i] & 7); /* LineTo */
        uint32_t count = g[i] >> 3;
        assert_true(count >= 2); /* "a LineTo command with a command count greater than 1" */
        i++;
        assert_true(i + 2 * count < n);
        for (uint32_t k = 0; k < count; k++, i += 2) {
            int32_t dx = unzigzag(g[i]), dy = unzigzag(g[i + 1]);
            assert_true(dx != 0 || dy != 0); /* no zero-length segment */
            cx += dx;
            cy += dy;
            d->xy[2 * np] = cx;
            d->xy[2 * np + 1] = cy;
            np++;
        }
        assert_int_equal(15, g[i]); /* ClosePath, count 1 */
        i++;
        size_t r0 = d->rs[d->nrings], m = np - r0;
        /* the last point is not the first again */
        assert_false(d->xy[2 * r0] == d->xy[2 * (np - 1)] &&
                     d->xy[2 * r0 + 1] == d->xy[2 * (np - 1) + 1]);
        int64_t a = ring_area2(&d->xy[2 * r0], m);
        assert_true(a != 0);
        if (d->nrings == 0) assert_true(a > 0); /* a polygon starts with an exterior ring */
        d->nrings++;
    }
    d->rs[d->nrings] = np;
}

static const char *value_str(const VectorTile__Tile__Value *v)
{
    assert_non_null(v->string_value);
    return v->string_value;
}

static int64_t value_int(const VectorTile__Tile__Value *v)
{
    assert_true(v->has_int_value);
    return v->int_value;
}

static void decode(const unsigned char *data, size_t len, dtile *t)
{
    memset(t, 0, sizeof *t);
    t->bytes = len;
    if (len == 0) return;
    t->pb = vector_tile__tile__unpack(NULL, len, data);
    assert_non_null(t->pb);
    assert_true(t->pb->n_layers >= 1 && t->pb->n_layers <= 4);
    t->n = t->pb->n_layers;
    for (size_t k = 0; k < t->n; k++) {
        const VectorTile__Tile__Layer *l = t->pb->layers[k];
        dlayer *dl = &t->l[k];
        assert_int_equal(2, l->version);
        assert_true(l->has_extent);
        assert_int_equal(4096, l->extent);
        dl->name = l->name;
        for (size_t j = 0; j < k; j++)
            assert_string_not_equal(t->l[j].name, l->name);
        for (size_t a = 0; a < l->n_keys; a++)
            for (size_t b = 0; b < a; b++)
                assert_string_not_equal(l->keys[a], l->keys[b]);
        for (size_t v = 0; v < l->n_values; v++) { /* exactly one field each */
            const VectorTile__Tile__Value *x = l->values[v];
            int fields = (x->string_value != NULL) + x->has_float_value + x->has_double_value +
                         x->has_int_value + x->has_uint_value + x->has_sint_value +
                         x->has_bool_value;
            assert_int_equal(1, fields);
        }
        assert_true(l->n_features > 0); /* empty layers are left out */
        dl->n = l->n_features;
        dl->f = calloc(dl->n, sizeof *dl->f);
        for (size_t i = 0; i < l->n_features; i++) {
            const VectorTile__Tile__Feature *f = l->features[i];
            dfeat *d = &dl->f[i];
            assert_true(f->has_id);
            assert_true(f->has_type);
            d->id = f->id;
            d->type = f->type;
            assert_int_equal(0, f->n_tags % 2);
            for (size_t j = 0; j < f->n_tags; j += 2) {
                assert_true(f->tags[j] < l->n_keys);
                assert_true(f->tags[j + 1] < l->n_values);
                const char *key = l->keys[f->tags[j]];
                const VectorTile__Tile__Value *v = l->values[f->tags[j + 1]];
                if (!strcmp(key, "code"))
                    d->code = value_str(v);
                else if (!strcmp(key, "name"))
                    d->name = value_str(v);
                else if (!strcmp(key, "parent"))
                    d->parent = value_str(v);
                else if (!strcmp(key, "worker"))
                    d->worker = value_str(v);
                else if (!strcmp(key, "level"))
                    d->level = value_int(v);
                else if (!strcmp(key, "households")) {
                    d->households = value_int(v);
                    d->has_households = 1;
                } else
                    fail_msg("unexpected key %s", key);
            }
            assert_non_null(d->code);
            decode_geometry(f, d);
        }
    }
}

static void dtile_free(dtile *t)
{
    for (size_t k = 0; k < t->n; k++) {
        for (size_t i = 0; i < t->l[k].n; i++) {
            free(t->l[k].f[i].xy);
            free(t->l[k].f[i].rs);
        }
        free(t->l[k].f);
    }
    if (t->pb) vector_tile__tile__free_unpacked(t->pb, NULL);
    memset(t, 0, sizeof *t);
}

static const dlayer *layer(const dtile *t, const char *name)
{
    for (size_t k = 0; k < t->n; k++)
        if (!strcmp(t->l[k].name, name)) return &t->l[k];
    return NULL;
}

static size_t count(const dtile *t, const char *name)
{
    const dlayer *l = layer(t, name);
    return l ? l->n : 0;
}

static const dfeat *feature(const dtile *t, const char *lname, const char *code)
{
    const dlayer *l = layer(t, lname);
    for (size_t i = 0; l && i < l->n; i++)
        if (!strcmp(l->f[i].code, code)) return &l->f[i];
    return NULL;
}

static void render(const wg_tileset *ts, wg_ctx *ctx, unsigned layers, int z, int x, int y,
                   dtile *t)
{
    unsigned char *data = NULL;
    size_t len = 7;
    int rc = wg_tile_render(ts, ctx, layers, z, x, y, &data, &len);
    if (rc != WG_OK) print_error("render %d/%d/%d: %s\n", z, x, y, wg_errmsg(ctx));
    assert_int_equal(WG_OK, rc);
    assert_true((len == 0) == (data == NULL));
    decode(data, len, t);
    free(data);
}

/* ------------------------------------------------------------------ fixtures */

#define D "440307001"
#define C1 "440307001001"
#define C2 "440307001002"
#define G1 "440307001001001"
#define G2 "440307001001002"
#define G3 "440307001002001"
#define G4 "440307001002002"

/*   22.64 +-----------+-----------+      district D = the whole square
 *         |  G2       |  G4       |      community C1 = west half, C2 = east half
 *   22.63 +- - - - - -+- - - - - -+      grids: G1 SW, G2 NW (of C1), G3 SE, G4 NE
 *         |  G1       |  G3       |
 *   22.62 +-----------+-----------+
 *      114.46      114.47      114.48 */
static const tu_rect DISTRICTS[] = {
    {D, 114.46, 22.62, 114.48, 22.64, "\"name\":\"Kui\",\"households\":400"}};
static const tu_rect COMMUNITIES[] = {
    {C1, 114.46, 22.62, 114.47, 22.64, "\"name\":\"West\",\"households\":200"},
    {C2, 114.47, 22.62, 114.48, 22.64, "\"name\":\"East\""}};
static const tu_rect GRIDS[] = {
    {G1, 114.46, 22.62, 114.47, 22.63, "\"name\":\"g1\",\"households\":101"},
    {G2, 114.46, 22.63, 114.47, 22.64, "\"name\":\"g2\",\"households\":102"},
    {G3, 114.47, 22.62, 114.48, 22.63, "\"households\":103"},
    {G4, 114.47, 22.63, 114.48, 22.64, "\"name\":\"g4\",\"households\":104"}};

typedef struct rect_fixture {
    wg_ctx *ctx;
    char *path;
    wg_tileset *ts;
} rect_fixture;

static void publish(wg_ctx *ctx, int force, int64_t expect_gen)
{
    int64_t gen = 0;
    wg_report *rep = NULL;
    int rc = wg_gen_publish(ctx, 1.0, force, &gen, &rep);
    if (rc != WG_OK) print_error("publish: %s\n", wg_errmsg(ctx));
    assert_int_equal(WG_OK, rc);
    assert_int_equal(expect_gen, gen);
    wg_report_free(rep);
}

static void build_tileset(wg_ctx *ctx, int64_t gen, wg_tileset **ts)
{
    int rc = wg_tileset_build(ctx, gen, ts);
    if (rc != WG_OK) print_error("tileset: %s\n", wg_errmsg(ctx));
    assert_int_equal(WG_OK, rc);
}

static void rect_build(rect_fixture *f)
{
    memset(f, 0, sizeof *f);
    f->ctx = wg_ctx_new();
    f->path = tu_temp_path(".sqlite");
    assert_int_equal(WG_OK, wg_store_open(f->ctx, f->path, WG_STORE_CREATE));
    tu_import_rects(f->ctx, WG_LEVEL_DISTRICT, DISTRICTS, 1, 0);
    tu_import_rects(f->ctx, WG_LEVEL_COMMUNITY, COMMUNITIES, 2, 0);
    tu_import_rects(f->ctx, WG_LEVEL_GRID, GRIDS, 4, 0);
    publish(f->ctx, 0, 1);
    build_tileset(f->ctx, 0, &f->ts);
}

static void rect_free(rect_fixture *f)
{
    wg_tileset_free(f->ts);
    wg_ctx_free(f->ctx);
    tu_remove_store(f->path);
}

/* The sample city, or a copy scaled k times about its centre (same topology, bigger units). */
typedef struct city {
    char *path;
    wg_tileset *ts;
    double scale;
} city;

static city SAMPLE = {NULL, NULL, 1}, BIG = {NULL, NULL, 40};
#define CX 114.46
#define CY 22.63

static void scale_coords(json_object *a, double k)
{
    if (!json_object_is_type(a, json_type_array)) return;
    size_t n = json_object_array_length(a);
    json_object *first = n ? json_object_array_get_idx(a, 0) : NULL;
    if (n >= 2 && !json_object_is_type(first, json_type_array)) { /* a position */
        double x = json_object_get_double(first),
               y = json_object_get_double(json_object_array_get_idx(a, 1));
        json_object_array_put_idx(a, 0, json_object_new_double(CX + (x - CX) * k));
        json_object_array_put_idx(a, 1, json_object_new_double(CY + (y - CY) * k));
        return;
    }
    for (size_t i = 0; i < n; i++)
        scale_coords(json_object_array_get_idx(a, i), k);
}

static char *scaled_copy(const char *src, double k)
{
    json_object *root = json_object_from_file(src);
    assert_non_null(root);
    json_object *features = json_object_object_get(root, "features");
    for (size_t i = 0; i < json_object_array_length(features); i++) {
        json_object *g = json_object_object_get(json_object_array_get_idx(features, i), "geometry");
        scale_coords(json_object_object_get(g, "coordinates"), k);
    }
    char *path = tu_temp_path(".geojson");
    assert_int_equal(0, json_object_to_file_ext(path, root, JSON_C_TO_STRING_PLAIN));
    json_object_put(root);
    return path;
}

static void city_build(city *c)
{
    static const char *const files[] = {GEODATA "/districts.geojson",
                                        GEODATA "/communities.geojson", GEODATA "/grids.geojson"};
    static const size_t counts[] = {1, 9, 97};
    wg_ctx *ctx = wg_ctx_new();
    c->path = tu_temp_path(".sqlite");
    assert_int_equal(WG_OK, wg_store_open(ctx, c->path, WG_STORE_CREATE));
    for (int level = 1; level <= 3; level++) {
        char *p = c->scale == 1 ? NULL : scaled_copy(files[level - 1], c->scale);
        tu_import_file(ctx, p ? p : files[level - 1], level, 0, counts[level - 1]);
        if (p) tu_remove_temp(p);
    }
    publish(ctx, c->scale != 1, 1); /* scaling may leave float-noise faults below 1 m² */
    wg_point_import_opts o = {0};
    wg_import_stats st;
    assert_int_equal(WG_OK, wg_import_workers(ctx, GEODATA "/workers.csv", &o, &st));
    build_tileset(ctx, 0, &c->ts);
    wg_ctx_free(ctx);
}

static int setup_cities(void **state)
{
    city_build(&SAMPLE);
    city_build(&BIG);
    return 0;
}

static int teardown_cities(void **state)
{
    wg_tileset_free(SAMPLE.ts);
    wg_tileset_free(BIG.ts);
    tu_remove_store(SAMPLE.path);
    tu_remove_store(BIG.path);
    return 0;
}

/* The range of tiles of zoom z over the tileset's bounds. */
static void tile_range(const wg_tileset *ts, int z, int *x0, int *x1, int *y0, int *y1)
{
    double b[4], c[2];
    wg_tileset_bounds(ts, b, c);
    *x0 = (int)floor(world_x(b[0], z));
    *x1 = (int)floor(world_x(b[2], z));
    *y0 = (int)floor(world_y(b[3], z));
    *y1 = (int)floor(world_y(b[1], z));
}

/* --------------------------------------------------------------------- tests */

static void test_layers_parse(void **state)
{
    unsigned m = 99;
    assert_int_equal(WG_OK, wg_tile_layers_parse("grids", &m));
    assert_int_equal(WG_TL_GRIDS, m);
    assert_int_equal(WG_OK, wg_tile_layers_parse("labels,grids", &m));
    assert_int_equal(WG_TL_GRIDS | WG_TL_LABELS, m);
    assert_int_equal(WG_OK, wg_tile_layers_parse("districts,communities,grids,labels", &m));
    assert_int_equal(WG_TL_ALL, m);
    static const char *const bad[] = {
        "",     ",",     "grids,",      ",grids",       "grids,,labels",
        "grid", "Grids", "grids,grids", "grids labels", "grids,labels,grids",
        "all"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        m = 99;
        assert_int_equal(WG_EINVAL, wg_tile_layers_parse(bad[i], &m));
        assert_int_equal(0, m);
    }
    assert_int_equal(WG_EINVAL, wg_tile_layers_parse(NULL, &m));
    assert_string_equal("districts", wg_tile_layer_name(WG_TL_DISTRICTS));
    assert_string_equal("communities", wg_tile_layer_name(WG_TL_COMMUNITIES));
    assert_string_equal("grids", wg_tile_layer_name(WG_TL_GRIDS));
    assert_string_equal("labels", wg_tile_layer_name(WG_TL_LABELS));
    assert_null(wg_tile_layer_name(WG_TL_GRIDS | WG_TL_LABELS));
    assert_null(wg_tile_layer_name(0));
    int lo, hi;
    static const int defaults[][2] = {
        {WG_TL_DISTRICTS, 0}, {WG_TL_COMMUNITIES, 9}, {WG_TL_GRIDS, 11}, {WG_TL_LABELS, 10}};
    for (size_t i = 0; i < 4; i++) {
        wg_tile_layer_zooms((unsigned)defaults[i][0], &lo, &hi);
        assert_int_equal(defaults[i][1], lo);
        assert_int_equal(22, hi);
    }
    wg_tile_layer_zooms(16, &lo, &hi);
    assert_int_equal(-1, lo);
    assert_int_equal(-1, hi);
}

/* Bad z/x/y or layers: WG_EINVAL with empty outputs. An empty tile: WG_OK, NULL, 0. */
static void test_invalid_and_empty(void **state)
{
    rect_fixture f;
    rect_build(&f);
    static const int bad[][4] = {
        {WG_TL_ALL, -1, 0, 0}, {WG_TL_ALL, 23, 0, 0},    {WG_TL_ALL, 0, 1, 0},
        {WG_TL_ALL, 0, 0, 1},  {WG_TL_ALL, 3, 8, 0},     {WG_TL_ALL, 3, 0, 8},
        {WG_TL_ALL, 3, -1, 0}, {WG_TL_ALL, 3, 0, -1},    {0, 3, 0, 0},
        {16, 3, 0, 0},         {WG_TL_ALL | 32, 3, 0, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        unsigned char *data = (unsigned char *)"x";
        size_t len = 5;
        assert_int_equal(WG_EINVAL, wg_tile_render(f.ts, f.ctx, (unsigned)bad[i][0], bad[i][1],
                                                   bad[i][2], bad[i][3], &data, &len));
        assert_null(data);
        assert_int_equal(0, len);
        assert_true(strlen(wg_errmsg(f.ctx)) > 0);
    }
    /* the extremes are valid */
    dtile t;
    render(f.ts, f.ctx, WG_TL_ALL, 22, (1 << 22) - 1, (1 << 22) - 1, &t);
    assert_int_equal(0, t.bytes);
    render(f.ts, f.ctx, WG_TL_ALL, 0, 0, 0, &t);
    assert_int_equal(1, t.n); /* z0: districts only */
    assert_int_equal(1, count(&t, "districts"));
    dtile_free(&t);
    /* far from the data: empty */
    render(f.ts, f.ctx, WG_TL_ALL, 10, 0, 0, &t);
    assert_int_equal(0, t.bytes);
    assert_null(t.pb);
    /* layers outside their zoom range: empty */
    int x = (int)world_x(114.47, 5), y = (int)world_y(22.63, 5);
    render(f.ts, f.ctx, WG_TL_GRIDS | WG_TL_LABELS, 5, x, y, &t);
    assert_int_equal(0, t.bytes);
    double b[4], c[2];
    wg_tileset_bounds(f.ts, b, c);
    assert_near(114.46, b[0], 1e-12);
    assert_near(22.62, b[1], 1e-12);
    assert_near(114.48, b[2], 1e-12);
    assert_near(22.64, b[3], 1e-12);
    assert_true(c[0] > 114.46 && c[0] < 114.48 && c[1] > 22.62 && c[1] < 22.64);
    assert_int_equal(1, wg_tileset_generation(f.ts));
    assert_true(wg_tileset_bytes(f.ts) > 0);
    wg_tileset_free(NULL);
    rect_free(&f);
}

/* Every point of the decoded ring lies on the boundary of the box [x0,x1] x [y0,y1] within
 * tol, its bounding box is the box within tol, and its area is the box's within the
 * perimeter times tol. */
static void assert_ring_is_box(const dfeat *d, size_t ring, double x0, double y0, double x1,
                               double y1, double tol)
{
    const int32_t *p = &d->xy[2 * d->rs[ring]];
    size_t n = d->rs[ring + 1] - d->rs[ring];
    double bx0 = INFINITY, by0 = INFINITY, bx1 = -INFINITY, by1 = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x = p[2 * i], y = p[2 * i + 1];
        int on =
            (fabs(x - x0) <= tol || fabs(x - x1) <= tol)
                ? (y >= y0 - tol && y <= y1 + tol)
                : (fabs(y - y0) <= tol || fabs(y - y1) <= tol) && x >= x0 - tol && x <= x1 + tol;
        if (!on) fail_msg("point (%g, %g) is not on box %g %g %g %g", x, y, x0, y0, x1, y1);
        bx0 = fmin(bx0, x);
        by0 = fmin(by0, y);
        bx1 = fmax(bx1, x);
        by1 = fmax(by1, y);
    }
    assert_near(x0, bx0, tol);
    assert_near(y0, by0, tol);
    assert_near(x1, bx1, tol);
    assert_near(y1, by1, tol);
    assert_near((x1 - x0) * (y1 - y0), ring_area2(p, n) / 2.0, 2 * ((x1 - x0) + (y1 - y0)) * tol);
}

/* The expected box of a rectangle unit in tile z/x/y, clipped to the tile plus buffer. */
static void expect_box(const tu_rect *r, int z, int x, int y, double *b)
{
    to_tile(r->x0, r->y1, z, x, y, &b[0], &b[1]); /* north-west: top left */
    to_tile(r->x1, r->y0, z, x, y, &b[2], &b[3]);
    for (int k = 0; k < 4; k++)
        b[k] = fmin(fmax(b[k], -BUF), EXT + BUF);
}

/* Rectangles at a low zoom (all inside one tile) and a high zoom (clipped where four grids
 * meet): layers, counts, ids, attributes, and coordinates within one tile unit. */
static void test_rectangles(void **state)
{
    rect_fixture f;
    rect_build(&f);
    /* unit row ids, independently */
    sqlite3 *db;
    assert_int_equal(SQLITE_OK, sqlite3_open_v2(f.path, &db, SQLITE_OPEN_READONLY, NULL));
    int zooms[] = {12, 16};
    for (int zi = 0; zi < 2; zi++) {
        int z = zooms[zi], x = (int)world_x(114.47, z), y = (int)world_y(22.63, z);
        dtile t;
        render(f.ts, f.ctx, WG_TL_ALL, z, x, y, &t);
        assert_int_equal(z == 12 ? 4 : 3, t.n); /* at z16 the label points are far outside */
        assert_string_equal("districts", t.l[0].name);
        assert_string_equal("communities", t.l[1].name);
        assert_string_equal("grids", t.l[2].name);
        if (z == 12) assert_string_equal("labels", t.l[3].name);
        assert_int_equal(1, count(&t, "districts"));
        assert_int_equal(2, count(&t, "communities"));
        assert_int_equal(4, count(&t, "grids"));
        assert_int_equal(z == 12 ? 6 : 0, count(&t, "labels")); /* 2 communities + 4 grids */
        const tu_rect *all[] = {&DISTRICTS[0], &COMMUNITIES[0], &COMMUNITIES[1], &GRIDS[0],
                                &GRIDS[1],     &GRIDS[2],       &GRIDS[3]};
        const char *lname[] = {"districts", "communities", "communities", "grids",
                               "grids",     "grids",       "grids"};
        for (int k = 0; k < 7; k++) {
            const dfeat *d = feature(&t, lname[k], all[k]->code);
            assert_non_null(d);
            assert_int_equal(1, d->nrings);
            double b[4];
            expect_box(all[k], z, x, y, b);
            assert_ring_is_box(d, 0, b[0], b[1], b[2], b[3], 1.0);
            char sql[128];
            sqlite3_stmt *st;
            snprintf(sql, sizeof sql, "SELECT id FROM units WHERE code = '%s'", all[k]->code);
            assert_int_equal(SQLITE_OK, sqlite3_prepare_v2(db, sql, -1, &st, NULL));
            assert_int_equal(SQLITE_ROW, sqlite3_step(st));
            assert_int_equal(sqlite3_column_int64(st, 0), d->id);
            sqlite3_finalize(st);
            const dfeat *lab = feature(&t, "labels", all[k]->code);
            if (k == 0 || z == 16)
                assert_null(lab); /* no district labels */
            else {
                assert_non_null(lab);
                assert_int_equal(d->id, lab->id);
                assert_int_equal(VECTOR_TILE__TILE__GEOM_TYPE__POINT, lab->type);
                assert_int_equal(d->level, lab->level);
            }
        }
        /* attributes: props households (no assignments yet), names, parents, levels */
        const dfeat *d = feature(&t, "districts", D), *c1 = feature(&t, "communities", C1),
                    *c2 = feature(&t, "communities", C2), *g3 = feature(&t, "grids", G3);
        assert_string_equal("Kui", d->name);
        assert_null(d->parent);
        assert_int_equal(1, d->level);
        assert_int_equal(400, d->households);
        assert_string_equal(D, c1->parent);
        assert_int_equal(2, c1->level);
        assert_int_equal(200, c1->households);
        assert_false(c2->has_households); /* no property: left out */
        assert_null(g3->name);
        assert_string_equal(C2, g3->parent);
        assert_int_equal(3, g3->level);
        assert_int_equal(103, g3->households);
        assert_null(g3->worker);
        if (z == 12) { /* the raw encoding of the district: a box of 8 points (nodes kept) */
            const VectorTile__Tile__Feature *pf = t.pb->layers[0]->features[0];
            assert_int_equal(9, pf->geometry[0]);
            assert_int_equal((7 << 3) | 2, pf->geometry[3]);
            assert_int_equal(15, pf->geometry[pf->n_geometry - 1]);
            assert_int_equal(3 + 1 + 14 + 1, pf->n_geometry);
        }
        dtile_free(&t);
    }
    sqlite3_close(db);
    rect_free(&f);
}

/* A temporary .csv file (importers choose the format by the file name). */
static char *write_csv(const char *contents)
{
    char *path = tu_temp_path(".csv");
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(contents, fp);
    fclose(fp);
    return path;
}

/* Households from assignments once the generation has any: grids sum their addresses,
 * parents their children (outside addresses count nowhere); workers by home grid. */
static void test_assigned_households_and_workers(void **state)
{
    rect_fixture f;
    rect_build(&f);
    char *addr =
        write_csv("lon,lat,households\n114.465,22.625,5\n114.466,22.626,7\n114.465,22.635,11\n"
                  "114.475,22.625,13\n114.50,22.70,17\n");
    wg_point_import_opts o = {0};
    wg_import_stats st;
    int irc = wg_import_addresses(f.ctx, addr, &o, &st);
    if (irc != WG_OK) print_error("addresses: %s\n", wg_errmsg(f.ctx));
    assert_int_equal(WG_OK, irc);
    tu_remove_temp(addr);
    char *workers = write_csv("id,name,role,home_grid\nw2,Li Lei,grid_worker," G1
                              "\nw1,Han Meimei,grid_worker," G1 "\nw3,Zhang,officer," G2
                              "\nw4,Wang,grid_worker," G4 "\nw5,Zhao,grid_worker,999\n");
    assert_int_equal(WG_OK, wg_import_workers(f.ctx, workers, &o, &st));
    tu_remove_temp(workers);
    wg_assign_stats as;
    int arc = wg_assign(f.ctx, 0, 1, NULL, NULL, &as);
    if (arc != WG_OK) print_error("assign: %s\n", wg_errmsg(f.ctx));
    assert_int_equal(WG_OK, arc);
    wg_tileset *ts;
    build_tileset(f.ctx, 0, &ts);
    dtile t;
    int z = 14, x = (int)world_x(114.47, z), y = (int)world_y(22.63, z);
    render(ts, f.ctx, WG_TL_ALL, z, x, y, &t);
    static const struct {
        const char *layer, *code;
        int64_t hh;
    } want[] = {{"grids", G1, 12},   {"grids", G2, 11},       {"grids", G3, 13},
                {"grids", G4, 0},    {"communities", C1, 23}, {"communities", C2, 13},
                {"districts", D, 36}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const dfeat *d = feature(&t, want[i].layer, want[i].code);
        assert_non_null(d);
        assert_true(d->has_households);
        assert_int_equal(want[i].hh, d->households);
    }
    assert_string_equal("Han Meimei, Li Lei", feature(&t, "grids", G1)->worker); /* by id */
    assert_null(feature(&t, "grids", G2)->worker);                               /* an officer */
    assert_string_equal("Wang", feature(&t, "grids", G4)->worker);
    assert_null(feature(&t, "communities", C1)->worker);
    dtile_free(&t);
    wg_tileset_free(ts);
    rect_free(&f);
}

/* A new generation gives a new tileset with other content; the old tileset is untouched. */
static void test_new_generation(void **state)
{
    rect_fixture f;
    rect_build(&f);
    static const tu_rect merged[] = {{G1, 114.46, 22.62, 114.47, 22.64, "\"name\":\"g1+g2\""},
                                     {G3, 114.47, 22.62, 114.48, 22.63, NULL},
                                     {G4, 114.47, 22.63, 114.48, 22.64, NULL}};
    tu_import_rects(f.ctx, WG_LEVEL_GRID, merged, 3, 1);
    publish(f.ctx, 0, 2);
    wg_tileset *ts2, *ts1;
    build_tileset(f.ctx, 0, &ts2);
    build_tileset(f.ctx, 1, &ts1); /* a retired generation by number */
    assert_int_equal(2, wg_tileset_generation(ts2));
    assert_int_equal(1, wg_tileset_generation(ts1));
    int z = 13, x = (int)world_x(114.47, z), y = (int)world_y(22.63, z);
    dtile a, b, c;
    render(f.ts, f.ctx, WG_TL_GRIDS, z, x, y, &a);
    render(ts2, f.ctx, WG_TL_GRIDS, z, x, y, &b);
    render(ts1, f.ctx, WG_TL_GRIDS, z, x, y, &c);
    assert_int_equal(4, count(&a, "grids"));
    assert_int_equal(3, count(&b, "grids"));
    assert_int_equal(4, count(&c, "grids"));
    assert_string_equal("g1+g2", feature(&b, "grids", G1)->name);
    assert_int_equal(a.bytes, c.bytes);
    dtile_free(&a);
    dtile_free(&b);
    dtile_free(&c);
    wg_tileset_free(ts1);
    wg_tileset_free(ts2);
    wg_tileset *none = (wg_tileset *)&f;
    assert_int_equal(WG_ENOTFOUND, wg_tileset_build(f.ctx, 9, &none));
    assert_null(none);
    rect_free(&f);
}

/* -------------------------------------------------------------- no cracks */

typedef struct edge {
    uint64_t key; /* the two endpoints, lower first */
    int dir;      /* +1 as stored, -1 reversed */
} edge;

static int cmp_edge(const void *pa, const void *pb)
{
    const edge *a = pa, *b = pb;
    return a->key < b->key ? -1 : a->key > b->key;
}

static uint64_t pt_key(int32_t x, int32_t y)
{
    return (uint64_t)(uint32_t)(x + 1000) << 16 | (uint32_t)(y + 1000);
}

/* The edges of every polygon of a layer, each cancelled against its reverse: what is left is
 * the boundary of the layer's union. Edges along the buffer's edge (clipping) are left out.
 * Returns the net edges (key, multiplicity with sign) sorted by key; *area2 gets the layer's
 * summed doubled area. */
static edge *net_edges(const dlayer *l, size_t *n, int64_t *area2)
{
    size_t cap = 16, m = 0;
    edge *e = malloc(cap * sizeof *e);
    *area2 = 0;
    for (size_t i = 0; l && i < l->n; i++) {
        const dfeat *d = &l->f[i];
        for (size_t r = 0; r < d->nrings; r++) {
            const int32_t *p = &d->xy[2 * d->rs[r]];
            size_t k = d->rs[r + 1] - d->rs[r];
            *area2 += ring_area2(p, k);
            for (size_t a = 0; a < k; a++) {
                const int32_t *u = &p[2 * a], *v = &p[2 * ((a + 1) % k)];
                if ((u[0] == v[0] && (u[0] == -BUF || u[0] == EXT + BUF)) ||
                    (u[1] == v[1] && (u[1] == -BUF || u[1] == EXT + BUF)))
                    continue; /* along the buffer's edge */
                uint64_t ku = pt_key(u[0], u[1]), kv = pt_key(v[0], v[1]);
                if (m == cap) e = realloc(e, (cap *= 2) * sizeof *e);
                e[m++] = ku < kv ? (edge){ku << 32 | kv, 1} : (edge){kv << 32 | ku, -1};
            }
        }
    }
    qsort(e, m, sizeof *e, cmp_edge);
    size_t out = 0;
    for (size_t a = 0; a < m;) {
        size_t b = a;
        int sum = 0;
        for (; b < m && e[b].key == e[a].key; b++)
            sum += e[b].dir;
        if (sum != 0) e[out++] = (edge){e[a].key, sum};
        a = b;
    }
    *n = out;
    return e;
}

static void assert_same_edges(const edge *a, size_t na, const edge *b, size_t nb, const char *what,
                              int z, int x, int y)
{
    if (na != nb) fail_msg("%s: %zu vs %zu boundary edges in tile %d/%d/%d", what, na, nb, z, x, y);
    for (size_t i = 0; i < na; i++)
        if (a[i].key != b[i].key || a[i].dir != b[i].dir)
            fail_msg("%s: boundary edge %zu differs in tile %d/%d/%d", what, i, z, x, y);
}

/* In every tile of zooms lo..hi over the city: grids, communities and the district have the
 * same union boundary (so no crack, no overlap between neighbours, and none between a
 * community and its grids) and the same area to the unit. */
static void check_no_cracks(const city *c, int lo, int hi)
{
    wg_ctx *ctx = wg_ctx_new();
    int zooms[3], top;
    wg_tileset_layer_zooms(c->ts, WG_TL_COMMUNITIES, &zooms[1], &top);
    wg_tileset_layer_zooms(c->ts, WG_TL_GRIDS, &zooms[2], &top);
    size_t tiles = 0, checked_grids = 0;
    for (int z = lo; z <= hi; z++) {
        int x0, x1, y0, y1;
        tile_range(c->ts, z, &x0, &x1, &y0, &y1);
        for (int x = x0; x <= x1; x++)
            for (int y = y0; y <= y1; y++) {
                dtile t;
                render(c->ts, ctx, WG_TL_DISTRICTS | WG_TL_COMMUNITIES | WG_TL_GRIDS, z, x, y, &t);
                if (t.bytes == 0) continue;
                tiles++;
                size_t nd, nc, ng;
                int64_t ad, ac, ag;
                edge *ed = net_edges(layer(&t, "districts"), &nd, &ad);
                edge *ec = net_edges(layer(&t, "communities"), &nc, &ac);
                edge *eg = net_edges(layer(&t, "grids"), &ng, &ag);
                assert_non_null(layer(&t, "districts")); /* may be all buffer edge: nd == 0 */
                if (z >= zooms[1]) {
                    assert_non_null(layer(&t, "communities"));
                    assert_same_edges(ed, nd, ec, nc, "communities vs district", z, x, y);
                    assert_true(ac == ad);
                }
                if (z >= zooms[2]) {
                    assert_non_null(layer(&t, "grids"));
                    assert_same_edges(ec, nc, eg, ng, "grids vs communities", z, x, y);
                    assert_true(ag == ac);
                    checked_grids += count(&t, "grids");
                }
                free(ed);
                free(ec);
                free(eg);
                dtile_free(&t);
            }
    }
    assert_true(tiles > 0);
    assert_true(checked_grids >= 97);
    wg_ctx_free(ctx);
}

static void test_no_cracks_sample(void **state)
{
    check_no_cracks(&SAMPLE, 9, 14); /* communities from 9, grids from 11 */
}

static void test_no_cracks_strong_simplification(void **state)
{
    int lo, hi;
    wg_tileset_layer_zooms(BIG.ts, WG_TL_GRIDS, &lo, &hi);
    assert_true(lo <= 6); /* 40 times bigger: grids from a much lower zoom */
    /* at the first grid zoom a grid of ~30 tile units keeps a handful of its vertices */
    check_no_cracks(&BIG, lo - 2, lo + 3);
}

/* A community with a hole filled by another (an enclave), and grids equal to them: the
 * hole is encoded after its exterior with negative area, and is the enclave's exterior
 * reversed, edge for edge. */
static void test_holes(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    char *path = tu_temp_path(".sqlite");
    assert_int_equal(WG_OK, wg_store_open(ctx, path, WG_STORE_CREATE));
#define SQ(x0, y0, x1, y1)                                                                         \
    "[[" #x0 "," #y0 "],[" #x1 "," #y0 "],[" #x1 "," #y1 "],[" #x0 "," #y1 "],[" #x0 "," #y0 "]]"
#define FEAT(code, rings)                                                                          \
    "{\"type\":\"Feature\",\"properties\":{\"code\":\"" code                                       \
    "\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[" rings "]}}"
#define FC(a) "{\"type\":\"FeatureCollection\",\"features\":[" a "]}"
    static const char *const files[] = {
        FC(FEAT(D, SQ(10.00, 10.00, 10.03, 10.03))),
        FC(FEAT(C1, SQ(10.00, 10.00, 10.03, 10.03) "," SQ(10.01, 10.01, 10.02, 10.02)) "," FEAT(
            C2, SQ(10.01, 10.01, 10.02, 10.02))),
        FC(FEAT("440307001001001",
                SQ(10.00, 10.00, 10.03, 10.03) "," SQ(
                    10.01, 10.01, 10.02, 10.02)) "," FEAT("440307001002001",
                                                          SQ(10.01, 10.01, 10.02, 10.02)))};
    static const size_t n[] = {1, 2, 2};
    for (int level = 1; level <= 3; level++) {
        char *f = tu_write_temp(files[level - 1]);
        tu_import_file(ctx, f, level, 0, n[level - 1]);
        tu_remove_temp(f);
    }
    publish(ctx, 0, 1);
    wg_tileset *ts;
    build_tileset(ctx, 0, &ts);
    int z = 12, x = (int)world_x(10.015, z), y = (int)world_y(10.015, z);
    dtile t;
    render(ts, ctx, WG_TL_ALL, z, x, y, &t);
    const char *lnames[] = {"communities", "grids"};
    for (int k = 0; k < 2; k++) {
        const dlayer *l = layer(&t, lnames[k]);
        assert_non_null(l);
        assert_int_equal(2, l->n);
        const dfeat *outer = &l->f[0], *enclave = &l->f[1];
        assert_int_equal(2, outer->nrings);
        assert_int_equal(1, enclave->nrings);
        int64_t hole = ring_area2(&outer->xy[2 * outer->rs[1]], outer->rs[2] - outer->rs[1]);
        int64_t encl = ring_area2(enclave->xy, enclave->rs[1]);
        assert_true(hole < 0 && encl > 0);
        assert_true(hole == -encl);
        double b[4];
        tu_rect in = {NULL, 10.01, 10.01, 10.02, 10.02, NULL};
        expect_box(&in, z, x, y, b);
        assert_ring_is_box(enclave, 0, b[0], b[1], b[2], b[3], 1.0);
    }
    size_t nd, nc, ng;
    int64_t ad, ac, ag;
    edge *ed = net_edges(layer(&t, "districts"), &nd, &ad);
    edge *ec = net_edges(layer(&t, "communities"), &nc, &ac);
    edge *eg = net_edges(layer(&t, "grids"), &ng, &ag);
    assert_same_edges(ed, nd, ec, nc, "communities vs district", z, x, y);
    assert_same_edges(ec, nc, eg, ng, "grids vs communities", z, x, y);
    assert_true(ad == ac && ac == ag);
    free(ed);
    free(ec);
    free(eg);
    dtile_free(&t);
    wg_tileset_free(ts);
    wg_ctx_free(ctx);
    tu_remove_store(path);
}

/* ---------------------------------------------------------- shape fidelity */

static wg_unit_set *load_units(const city *c, wg_ctx **ctx)
{
    *ctx = wg_ctx_new();
    assert_int_equal(WG_OK, wg_store_open(*ctx, c->path, WG_STORE_READONLY));
    wg_unit_set *set;
    int64_t gen;
    assert_int_equal(WG_OK, wg_gen_active(*ctx, &gen));
    assert_int_equal(WG_OK, wg_units_load(*ctx, gen, 0, &set));
    assert_int_equal(107, set->n);
    return set;
}

typedef struct tile_ref {
    int z, x, y;
} tile_ref;

static void to_tile_cb_xy(double *px, double *py, const tile_ref *t)
{
    double lon = *px, lat = *py;
    to_tile(lon, lat, t->z, t->x, t->y, px, py);
}

static int transform_cb(double *x, double *y, void *ud)
{
    to_tile_cb_xy(x, y, ud);
    return 1;
}

/* A decoded polygon as a GEOS geometry (tile coordinates). */
static GEOSGeometry *decoded_geom(GEOSContextHandle_t h, const dfeat *d)
{
    GEOSGeometry **polys = calloc(d->nrings, sizeof *polys);
    size_t np = 0;
    for (size_t r = 0; r < d->nrings;) {
        size_t k = d->rs[r + 1] - d->rs[r];
        GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, (unsigned)k + 1, 2);
        for (size_t i = 0; i <= k; i++)
            GEOSCoordSeq_setXY_r(h, cs, (unsigned)i, d->xy[2 * (d->rs[r] + i % k)],
                                 d->xy[2 * (d->rs[r] + i % k) + 1]);
        GEOSGeometry *shell = GEOSGeom_createLinearRing_r(h, cs);
        r++;
        /* holes: following rings with negative area (none expected in the sample) */
        while (r < d->nrings && ring_area2(&d->xy[2 * d->rs[r]], d->rs[r + 1] - d->rs[r]) < 0)
            r++;
        polys[np++] = GEOSGeom_createPolygon_r(h, shell, NULL, 0);
    }
    GEOSGeometry *g = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, polys, (unsigned)np);
    free(polys);
    return g;
}

/* Units wholly inside one tile (no clipping) at a low and a high zoom: the decoded outline
 * is the source outline within the simplification tolerance (1 unit) plus rounding. */
static void test_matches_source(void **state)
{
    wg_ctx *ctx;
    wg_unit_set *set = load_units(&SAMPLE, &ctx);
    GEOSContextHandle_t h = wg_geos(ctx);
    static const struct {
        int level, z;
        const char *layer;
    } cases[] = {{2, 10, "communities"}, {3, 12, "grids"}, {3, 15, "grids"}, {1, 6, "districts"}};
    for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++) {
        int z = cases[ci].z, checked = 0;
        for (size_t i = set->level_begin[cases[ci].level];
             i < set->level_begin[cases[ci].level + 1]; i++) {
            double x0, y0, x1, y1;
            GEOSGeom_getExtent_r(h, set->units[i].geom, &x0, &y0, &x1, &y1);
            int x = (int)world_x(x0, z), y = (int)world_y(y1, z);
            if ((int)world_x(x1, z) != x || (int)world_y(y0, z) != y) continue; /* spans tiles */
            dtile t;
            render(SAMPLE.ts, ctx, WG_TL_ALL, z, x, y, &t);
            const dfeat *d = feature(&t, cases[ci].layer, set->units[i].code);
            assert_non_null(d);
            assert_int_equal(set->units[i].id, d->id);
            tile_ref tr = {z, x, y};
            GEOSGeometry *src = GEOSGeom_transformXY_r(h, set->units[i].geom, transform_cb, &tr);
            GEOSGeometry *got = decoded_geom(h, d);
            GEOSGeometry *bs = GEOSBoundary_r(h, src), *bg = GEOSBoundary_r(h, got);
            double dist = -1;
            assert_int_equal(1, GEOSHausdorffDistanceDensify_r(h, bs, bg, 0.05, &dist));
            if (dist > 1.0 + 0.7071067811865476 + 1e-9)
                fail_msg("%s at z%d: %g tile units from the source", set->units[i].code, z, dist);
            double as, ag;
            GEOSArea_r(h, src, &as);
            GEOSArea_r(h, got, &ag);
            assert_near(as, ag, 0.02 * as + 50);
            GEOSGeom_destroy_r(h, src);
            GEOSGeom_destroy_r(h, got);
            GEOSGeom_destroy_r(h, bs);
            GEOSGeom_destroy_r(h, bg);
            dtile_free(&t);
            checked++;
        }
        if (!checked) fail_msg("no %s wholly inside one tile at z%d", cases[ci].layer, z);
    }
    wg_unit_set_free(ctx, set);
    wg_ctx_free(ctx);
}

/* ------------------------------------------------------ zooms and labels */

static int inside(const dfeat *poly, double px, double py)
{
    int in = 0;
    for (size_t r = 0; r < poly->nrings; r++) {
        const int32_t *p = &poly->xy[2 * poly->rs[r]];
        size_t k = poly->rs[r + 1] - poly->rs[r];
        for (size_t i = 0, j = k - 1; i < k; j = i++)
            if ((p[2 * i + 1] > py) != (p[2 * j + 1] > py) &&
                px < (double)(p[2 * j] - p[2 * i]) * (py - p[2 * i + 1]) /
                             (p[2 * j + 1] - p[2 * i + 1]) +
                         p[2 * i])
                in = !in;
    }
    return in;
}

static void test_zooms_and_labels(void **state)
{
    const wg_tileset *ts = SAMPLE.ts;
    wg_ctx *ctx = wg_ctx_new();
    static const int want[][2] = {
        {WG_TL_DISTRICTS, 0}, {WG_TL_COMMUNITIES, 9}, {WG_TL_GRIDS, 11}, {WG_TL_LABELS, 10}};
    for (size_t i = 0; i < 4; i++) {
        int lo, hi;
        wg_tileset_layer_zooms(ts, (unsigned)want[i][0], &lo, &hi);
        assert_int_equal(want[i][1], lo);
        assert_int_equal(22, hi);
    }
    /* per zoom over the whole city: which layers and which label levels appear */
    for (int z = 5; z <= 14; z++) {
        int x0, x1, y0, y1;
        tile_range(ts, z, &x0, &x1, &y0, &y1);
        size_t n[4] = {0}, labels[4] = {0}, inside_ok = 0, label_total = 0;
        for (int x = x0; x <= x1; x++)
            for (int y = y0; y <= y1; y++) {
                dtile t;
                render(ts, ctx, WG_TL_ALL, z, x, y, &t);
                n[0] += count(&t, "districts");
                n[1] += count(&t, "communities");
                n[2] += count(&t, "grids");
                const dlayer *l = layer(&t, "labels");
                for (size_t k = 0; l && k < l->n; k++) {
                    const dfeat *lab = &l->f[k];
                    labels[lab->level]++;
                    const int32_t *p = lab->xy;
                    if (p[0] < 0 || p[0] > EXT || p[1] < 0 || p[1] > EXT)
                        continue; /* in the buffer */
                    label_total++;
                    const dfeat *poly =
                        feature(&t, lab->level == 2 ? "communities" : "grids", lab->code);
                    if (poly && inside(poly, p[0], p[1])) inside_ok++;
                }
                dtile_free(&t);
            }
        assert_true(n[0] >= 1);
        assert_true((n[1] > 0) == (z >= 9));
        assert_true((n[2] > 0) == (z >= 11));
        assert_true((labels[2] > 0) == (z >= 10));
        assert_true((labels[3] > 0) == (z >= 12));
        if (z >= 12) {
            assert_true(label_total >= 97 + 9);
            assert_int_equal(label_total, inside_ok); /* every label inside its polygon */
        }
    }
    wg_ctx_free(ctx);
}

/* Props households and worker names of the sample: every grid once (deduplicated by id over
 * the z11 tiles), with a name, its community as parent, one worker; households add up to the
 * sample's 30,003 (geodata/README.md) over the grids and over the communities. */
static void test_sample_attributes(void **state)
{
    wg_ctx *ctx = wg_ctx_new();
    int z = 11, x0, x1, y0, y1;
    tile_range(SAMPLE.ts, z, &x0, &x1, &y0, &y1);
    int64_t grid_hh = 0, comm_hh = 0;
    size_t grids = 0, comms = 0, nids = 0;
    uint64_t ids[200];
    for (int x = x0; x <= x1; x++)
        for (int y = y0; y <= y1; y++) {
            dtile t;
            render(SAMPLE.ts, ctx, WG_TL_COMMUNITIES | WG_TL_GRIDS, z, x, y, &t);
            for (int li = 0; li < 2; li++) {
                const dlayer *l = layer(&t, li ? "grids" : "communities");
                for (size_t i = 0; l && i < l->n; i++) {
                    const dfeat *f = &l->f[i];
                    int dup = 0;
                    for (size_t j = 0; j < nids; j++)
                        dup |= ids[j] == f->id;
                    if (dup) continue;
                    assert_true(nids < 200);
                    ids[nids++] = f->id;
                    assert_true(f->has_households);
                    assert_non_null(f->name);
                    assert_non_null(f->parent);
                    assert_int_equal(li ? 3 : 2, f->level);
                    assert_int_equal(0, strncmp(f->code, f->parent, strlen(f->parent)));
                    if (li) {
                        grids++;
                        grid_hh += f->households;
                        assert_non_null(f->worker);
                        assert_null(strchr(f->worker, ',')); /* one worker a grid */
                    } else {
                        comms++;
                        comm_hh += f->households;
                        assert_null(f->worker);
                    }
                }
            }
            dtile_free(&t);
        }
    assert_int_equal(97, grids);
    assert_int_equal(9, comms);
    assert_int_equal(30003, grid_hh);
    assert_int_equal(30003, comm_hh);
    wg_ctx_free(ctx);
}

/* ---------------------------------------------------------------- threads */

typedef struct thread_job {
    const wg_tileset *ts;
    int z, x0, x1, y0, y1;
    unsigned char **out;
    size_t *len;
    int rc;
} thread_job;

static void *render_all(void *arg)
{
    thread_job *j = arg;
    wg_ctx *ctx = wg_ctx_new();
    size_t k = 0;
    for (int x = j->x0; x <= j->x1; x++)
        for (int y = j->y0; y <= j->y1; y++, k++)
            if (wg_tile_render(j->ts, ctx, WG_TL_ALL, j->z, x, y, &j->out[k], &j->len[k]) != WG_OK)
                j->rc = -1;
    wg_ctx_free(ctx);
    return NULL;
}

/* Two threads rendering the same tiles of one tileset at once get the same bytes as one
 * thread alone. */
static void test_concurrent(void **state)
{
    int z = 16, x0, x1, y0, y1;
    tile_range(SAMPLE.ts, z, &x0, &x1, &y0, &y1);
    size_t n = (size_t)(x1 - x0 + 1) * (size_t)(y1 - y0 + 1);
    thread_job j[3];
    pthread_t tid[2];
    for (int k = 0; k < 3; k++) {
        j[k] = (thread_job){SAMPLE.ts,
                            z,
                            x0,
                            x1,
                            y0,
                            y1,
                            calloc(n, sizeof(unsigned char *)),
                            calloc(n, sizeof(size_t)),
                            0};
        if (k < 2) assert_int_equal(0, pthread_create(&tid[k], NULL, render_all, &j[k]));
    }
    render_all(&j[2]);
    for (int k = 0; k < 2; k++)
        pthread_join(tid[k], NULL);
    size_t nonempty = 0;
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 2; k++) {
            assert_int_equal(j[2].len[i], j[k].len[i]);
            if (j[2].len[i]) assert_memory_equal(j[2].out[i], j[k].out[i], j[2].len[i]);
        }
        nonempty += j[2].len[i] > 0;
    }
    assert_true(nonempty > 100);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(0, j[k].rc);
        for (size_t i = 0; i < n; i++)
            free(j[k].out[i]);
        free(j[k].out);
        free(j[k].len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layers_parse),
        cmocka_unit_test(test_invalid_and_empty),
        cmocka_unit_test(test_rectangles),
        cmocka_unit_test(test_assigned_households_and_workers),
        cmocka_unit_test(test_new_generation),
        cmocka_unit_test(test_no_cracks_sample),
        cmocka_unit_test(test_no_cracks_strong_simplification),
        cmocka_unit_test(test_holes),
        cmocka_unit_test(test_matches_source),
        cmocka_unit_test(test_zooms_and_labels),
        cmocka_unit_test(test_sample_attributes),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, setup_cities, teardown_cities);
}
