/* OGC API features (lib/src/features.c): collection counts and extents, bbox selections against
 * sets computed by hand from the rectangles (interior, straddling, edge- and corner-touching,
 * a point and a line box, just off an edge, outside, everything), an L-shaped unit whose
 * bounding box meets the query box but whose polygon does not, boxes across the antimeridian,
 * paging that covers every feature exactly once in fid order, items by fid in the active and
 * an older generation, 404s, addresses with their grid, and refused arguments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"
#include "wangge/assign.h"
#include "wangge/features.h"
#include "wangge/import.h"
#include "wangge/store.h"

/* ---------------------------------------------------------------- the layout
 *
 *   22.64 +------+------+------+------+    district 440307001 = the whole box
 *         | 1-3  | 1-4  | 2-3  | 2-4  |    community ...001 = west half, ...002 = east half
 *   22.62 +------+------+------+------+    grid c-k = 440307001 00c 00k, each 0.01° x 0.02°
 *         | 1-1  | 1-2  | 2-1  | 2-2  |
 *   22.60 +------+------+------+------+
 *      114.40 114.41 114.42 114.43 114.44
 */
#define NGRIDS 8
static const tu_rect DISTRICT[] = {{"440307001", 114.40, 22.60, 114.44, 22.64, "\"name\":\"D\""}};
static const tu_rect COMMUNITIES[] = {{"440307001001", 114.40, 22.60, 114.42, 22.64, NULL},
                                      {"440307001002", 114.42, 22.60, 114.44, 22.64, NULL}};
static tu_rect grids[NGRIDS];
static char grid_codes[NGRIDS][16], grid_props[NGRIDS][64];

static void make_grids(void)
{
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < 4; k++) {
            int i = c * 4 + k;
            snprintf(grid_codes[i], sizeof grid_codes[i], "440307001%03d%03d", c + 1, k + 1);
            snprintf(grid_props[i], sizeof grid_props[i], "\"name\":\"g%d-%d\",\"households\":%d",
                     c + 1, k + 1, 100 + i);
            /* corners from the decimal literals, so that they equal the test's box edges */
            static const double X[] = {114.40, 114.41, 114.42, 114.43, 114.44};
            static const double Y[] = {22.60, 22.62, 22.64};
            int xi = 2 * c + k % 2, yi = k / 2;
            grids[i] = (tu_rect){grid_codes[i], X[xi], Y[yi], X[xi + 1], Y[yi + 1], grid_props[i]};
        }
}

/* Addresses: code, lon, lat, households, and the grid the boundary rule gives them. */
typedef struct addr {
    const char *code;
    double lon, lat;
    int households;
    const char *grid;
} addr;
static const addr ADDRS[] = {
    {"A1", 114.405, 22.61, 3, "440307001001001"},
    {"A2", 114.435, 22.63, 5, "440307001002004"},
    {"A3", 114.50, 22.61, 7, NULL},               /* outside every grid */
    {"A4", 114.42, 22.61, 11, "440307001002001"}, /* on the 1-2 | 2-1 edge: east */
    {"A5", 114.41, 22.63, 13, "440307001001004"}, /* on the 1-3 | 1-4 edge: east */
};
#define NADDRS (sizeof ADDRS / sizeof ADDRS[0])

typedef struct fixture {
    wg_ctx *ctx;
    char *path;
} fixture;

static void open_store(fixture *f)
{
    f->ctx = tu_open_store(&f->path);
}

static void close_store(fixture *f)
{
    tu_close_store(f->ctx, f->path);
}

static void import_addresses(fixture *f)
{
    char text[1024] = "lon,lat,households,label,code\n";
    for (size_t i = 0; i < NADDRS; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%.10g,%.10g,%d,label %s,%s\n",
                 ADDRS[i].lon, ADDRS[i].lat, ADDRS[i].households, ADDRS[i].code, ADDRS[i].code);
    assert_int_equal(NADDRS, tu_import_points(f->ctx, text, 0));
}

static void build(fixture *f, int assign)
{
    make_grids();
    open_store(f);
    tu_import_rects(f->ctx, WG_LEVEL_DISTRICT, DISTRICT, 1, 0);
    tu_import_rects(f->ctx, WG_LEVEL_COMMUNITY, COMMUNITIES, 2, 0);
    tu_import_rects(f->ctx, WG_LEVEL_GRID, grids, NGRIDS, 0);
    int64_t gen;
    int rc = wg_gen_publish(f->ctx, 1.0, 0, &gen, NULL);
    if (rc != WG_OK) print_error("publish: %s\n", wg_errmsg(f->ctx));
    assert_int_equal(WG_OK, rc);
    import_addresses(f);
    if (!assign) return;
    wg_assign_stats as;
    assert_int_equal(WG_OK, wg_assign(f->ctx, 0, 1, NULL, NULL, &as));
}

/* ---------------------------------------------------------------- reading pages */

static json_object *member(json_object *o, const char *name)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, name, &v)) print_error("no member %s\n", name);
    assert_true(json_object_object_get_ex(o, name, &v));
    return v;
}

/* One page, parsed; asserts the call succeeds and the counts agree with the array. */
static json_object *page(wg_ctx *ctx, wg_collection c, const wg_items_query *q, wg_items *it)
{
    int rc = wg_features_items(ctx, c, q, it);
    if (rc != WG_OK) print_error("items: %s\n", wg_errmsg(ctx));
    assert_int_equal(WG_OK, rc);
    json_object *arr = json_tokener_parse(it->features);
    if (!arr) print_error("not JSON: %.300s\n", it->features);
    assert_non_null(arr);
    assert_true(json_object_is_type(arr, json_type_array));
    assert_int_equal(it->returned, json_object_array_length(arr));
    free(it->features);
    it->features = NULL;
    return arr;
}

static const char *code_of(json_object *feat)
{
    return json_object_get_string(member(member(feat, "properties"), "code"));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts n codes and joins them with ','. Caller frees. */
static char *joined(const char **codes, size_t n)
{
    qsort(codes, n, sizeof *codes, cmp_str);
    char *out = calloc(1, n * 20 + 1);
    for (size_t i = 0; i < n; i++) {
        if (i) strcat(out, ",");
        strcat(out, codes[i]);
    }
    return out;
}

/* The codes of every feature of collection c in generation gen matching bbox (NULL: none),
 * sorted and joined; *matched gets numberMatched. */
static char *matching_codes(wg_ctx *ctx, wg_collection c, int64_t gen, const double *bbox,
                            size_t *matched)
{
    wg_items_query q = {.generation = gen, .limit = WG_ITEMS_LIMIT_MAX};
    if (bbox) {
        q.has_bbox = 1;
        memcpy(q.bbox, bbox, sizeof q.bbox);
    }
    wg_items it;
    json_object *arr = page(ctx, c, &q, &it);
    assert_int_equal(it.matched, it.returned);
    *matched = it.matched;
    const char *codes[64];
    assert_true(it.returned <= 64);
    for (size_t i = 0; i < it.returned; i++)
        codes[i] = code_of(json_object_array_get_idx(arr, i));
    char *out = joined(codes, it.returned);
    json_object_put(arr);
    return out;
}

/* Closed-interval overlap of a rectangle and a bbox (west > east: across the antimeridian):
 * the hand answer, independent of the R*Tree and of GEOS. */
static int rect_meets(const tu_rect *r, const double b[4])
{
    int lon = b[0] <= b[2] ? r->x0 <= b[2] && r->x1 >= b[0] : r->x1 >= b[0] || r->x0 <= b[2];
    return lon && r->y0 <= b[3] && r->y1 >= b[1];
}

static char *expected_codes(const tu_rect *r, size_t n, const double b[4], size_t *count)
{
    const char *codes[64];
    *count = 0;
    for (size_t i = 0; i < n; i++)
        if (rect_meets(&r[i], b)) codes[(*count)++] = r[i].code;
    return joined(codes, *count);
}

static void check_bbox(wg_ctx *ctx, wg_collection c, int64_t gen, const tu_rect *r, size_t n,
                       const double b[4], size_t want_count)
{
    size_t want_n, got_n;
    char *want = expected_codes(r, n, b, &want_n);
    char *got = matching_codes(ctx, c, gen, b, &got_n);
    if (strcmp(want, got) != 0)
        print_error("bbox %.10g,%.10g,%.10g,%.10g\n", b[0], b[1], b[2], b[3]);
    assert_string_equal(want, got);
    assert_int_equal(want_n, got_n);
    assert_int_equal(want_count, got_n); /* the hand count of the comment beside each box */
    free(want);
    free(got);
}

/* The features of c in gen matching bbox b are exactly `want` (sorted codes, joined). */
static void expect_codes(wg_ctx *ctx, wg_collection c, int64_t gen, const double b[4],
                         const char *want)
{
    size_t n;
    char *codes = matching_codes(ctx, c, gen, b, &n);
    if (strcmp(codes, want) != 0)
        print_error("bbox %.10g,%.10g,%.10g,%.10g\n", b[0], b[1], b[2], b[3]);
    assert_string_equal(want, codes);
    free(codes);
}

/* ---------------------------------------------------------------- tests */

static void test_collections(void **state)
{
    (void)state;
    fixture f;
    build(&f, 1);
    const size_t counts[] = {0, 1, 2, NGRIDS, NADDRS};
    for (int c = 1; c <= WG_COLL_COUNT; c++) {
        wg_collection_info ci;
        assert_int_equal(WG_OK, wg_features_collection(f.ctx, 0, (wg_collection)c, &ci));
        assert_int_equal(counts[c], ci.count);
        assert_int_equal(1, ci.generation);
        assert_int_equal(c, wg_collection_parse(ci.name));
        assert_string_equal(wg_collection_name((wg_collection)c), ci.name);
        assert_non_null(ci.title);
        assert_non_null(ci.description);
        assert_true(ci.has_extent);
        /* units: the district's box to the bit; addresses: their own extremes */
        const double unit_ext[4] = {114.40, 22.60, 114.44, 22.64};
        const double addr_ext[4] = {114.405, 22.61, 114.50, 22.63};
        const double *want = c == WG_COLL_ADDRESSES ? addr_ext : unit_ext;
        for (int k = 0; k < 4; k++)
            assert_true(ci.extent[k] == want[k]);
    }
    assert_int_equal(WG_COLL_GRIDS, wg_collection_parse("grids"));
    assert_int_equal(0, wg_collection_parse("Grids"));
    assert_int_equal(0, wg_collection_parse("grid"));
    assert_int_equal(0, wg_collection_parse(NULL));
    assert_null(wg_collection_name((wg_collection)0));
    assert_null(wg_collection_name((wg_collection)5));
    wg_collection_info ci;
    assert_int_equal(WG_EINVAL, wg_features_collection(f.ctx, 0, (wg_collection)5, &ci));
    assert_int_equal(WG_ENOTFOUND, wg_features_collection(f.ctx, 9, WG_COLL_GRIDS, &ci));
    assert_int_equal(0, ci.count);
    close_store(&f);

    /* an empty store: no active generation; an empty level has no extent */
    open_store(&f);
    assert_int_equal(WG_ENOTFOUND, wg_features_collection(f.ctx, 0, WG_COLL_GRIDS, &ci));
    tu_import_rects(f.ctx, WG_LEVEL_DISTRICT, DISTRICT, 1, 0);
    int64_t draft;
    assert_int_equal(WG_OK, wg_gen_draft(f.ctx, 0, &draft));
    assert_int_equal(WG_OK, wg_features_collection(f.ctx, draft, WG_COLL_GRIDS, &ci));
    assert_int_equal(0, ci.count);
    assert_false(ci.has_extent);
    assert_int_equal(WG_OK, wg_features_collection(f.ctx, draft, WG_COLL_ADDRESSES, &ci));
    assert_int_equal(0, ci.count);
    assert_false(ci.has_extent);
    close_store(&f);
}

static void test_bbox_selects_what_intersects(void **state)
{
    (void)state;
    fixture f;
    build(&f, 0);
    static const struct {
        double b[4];
        size_t grids; /* hand count */
    } cases[] = {
        {{114.403, 22.605, 114.404, 22.606}, 1},       /* inside 1-1 */
        {{114.405, 22.605, 114.415, 22.606}, 2},       /* across the 1-1 | 1-2 edge */
        {{114.42, 22.605, 114.425, 22.606}, 2},        /* west edge on x = 114.42: 1-2 touches */
        {{114.42 + 1e-9, 22.605, 114.425, 22.606}, 1}, /* just east of it: 1-2 is out */
        {{114.415, 22.6, 114.42 - 1e-9, 22.61}, 1},    /* just west of it: 2-1 is out */
        {{114.44, 22.64, 114.45, 22.65}, 1},           /* corner touch of 2-4 */
        {{114.30, 22.50, 114.40, 22.60}, 1},           /* corner touch of 1-1 from outside */
        {{114.41, 22.62, 114.41, 22.62}, 4},           /* a point on a shared vertex */
        {{114.415, 22.5, 114.415, 22.7}, 2},           /* a line through 1-2 and 1-4 */
        {{114.35, 22.62, 114.45, 22.62}, 8},           /* a line along y = 22.62 */
        {{114.50, 22.70, 114.60, 22.80}, 0},           /* outside */
        {{114.39, 22.59, 114.45, 22.65}, 8},           /* everything */
        {{-180, -90, 180, 90}, 8},                     /* the world */
        {{114.44 + 1e-9, 22.60, 114.45, 22.64}, 0},    /* just east of the city */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_bbox(f.ctx, WG_COLL_GRIDS, 0, grids, NGRIDS, cases[i].b, cases[i].grids);
    /* other levels through the same path */
    const double west[4] = {114.41, 22.61, 114.419, 22.62};
    check_bbox(f.ctx, WG_COLL_COMMUNITIES, 0, COMMUNITIES, 2, west, 1);
    const double edge[4] = {114.42, 22.61, 114.43, 22.62};
    check_bbox(f.ctx, WG_COLL_COMMUNITIES, 0, COMMUNITIES, 2, edge, 2);
    check_bbox(f.ctx, WG_COLL_DISTRICTS, 0, DISTRICT, 1, edge, 1);
    const double off[4] = {0, 0, 1, 1};
    check_bbox(f.ctx, WG_COLL_DISTRICTS, 0, DISTRICT, 1, off, 0);
    close_store(&f);
}

/* An L-shaped district: its bounding box covers the notch, its polygon does not. */
static void test_bbox_exact_beyond_the_envelope(void **state)
{
    (void)state;
    fixture f;
    open_store(&f);
    char *path = tu_write_temp(
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":"
        "{\"code\":\"L\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[10,10],[12,10],"
        "[12,11],[11,11],[11,12],[10,12],[10,10]]]}}]}");
    tu_import_file(f.ctx, path, WG_LEVEL_DISTRICT, 0, 1);
    tu_remove_temp(path);
    int64_t draft;
    assert_int_equal(WG_OK, wg_gen_draft(f.ctx, 0, &draft));
    static const struct {
        double b[4];
        const char *codes;
    } cases[] = {
        {{11.5, 11.5, 11.9, 11.9}, ""},               /* in the notch */
        {{11.0 + 1e-9, 11.0 + 1e-9, 11.9, 11.9}, ""}, /* the notch, a hair off the corner */
        {{11, 11, 11.5, 11.5}, "L"},                  /* touching the inner corner */
        {{11.5, 11, 11.9, 11.9}, "L"},                /* touching the inner edge y = 11 */
        {{11.9, 11.9, 13, 13}, ""},                   /* the envelope's far corner only */
        {{10.5, 10.5, 10.6, 10.6}, "L"},              /* inside */
        {{9, 9, 13, 13}, "L"},                        /* around */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_codes(f.ctx, WG_COLL_DISTRICTS, draft, cases[i].b, cases[i].codes);
    close_store(&f);
}

static void test_bbox_across_the_antimeridian(void **state)
{
    (void)state;
    fixture f;
    open_store(&f);
    static const tu_rect R[] = {{"E", 179.9, 0, 180, 0.1, NULL},
                                {"W", -180, 0, -179.9, 0.1, NULL},
                                {"M", 0, 0, 0.1, 0.1, NULL},
                                {"N", 179.9, 10, 180, 10.1, NULL},
                                {"P", -180, 80, 180, 90, NULL}}; /* a polar cap: both sides */
    tu_import_rects(f.ctx, WG_LEVEL_DISTRICT, R, 5, 0);
    int64_t draft;
    assert_int_equal(WG_OK, wg_gen_draft(f.ctx, 0, &draft));
    static const struct {
        double b[4];
        size_t n;
    } cases[] = {
        {{179.95, 0.02, -179.95, 0.05}, 2}, /* E and W */
        {{170, -1, 10, 1}, 3},              /* E, W and M (the long way round) */
        {{180, 0, -180, 0.1}, 2},           /* two lines on the antimeridian */
        {{179.99, 5, -179.99, 10}, 1},      /* N's south edge */
        {{-179.95, 0, 179.95, 0.1}, 3},     /* not across: E, W, M */
        {{170, 84, -170, 86}, 1},           /* P, found by both halves, counted once */
        {{170, -90, -170, 90}, 4},          /* E, W, N, P */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_bbox(f.ctx, WG_COLL_DISTRICTS, draft, R, 5, cases[i].b, cases[i].n);

    /* addresses across it too */
    assert_int_equal(5, tu_import_points(f.ctx,
                                         "lon,lat,code\n179.99,0.05,AE\n-179.99,0.05,AW\n"
                                         "0.05,0.05,AM\n180,0.05,A180\n-180,0.05,A-180\n",
                                         0));
    static const struct {
        double b[4];
        const char *codes;
    } acases[] = {
        {{179.98, 0, -179.98, 0.1}, "A-180,A180,AE,AW"},
        {{180, 0, -180, 0.1}, "A-180,A180"},
        {{179.995, 0, -179.995, 0.1}, "A-180,A180"},
        {{-1, 0, 1, 0.1}, "AM"},
    };
    for (size_t i = 0; i < sizeof acases / sizeof acases[0]; i++)
        expect_codes(f.ctx, WG_COLL_ADDRESSES, draft, acases[i].b, acases[i].codes);
    close_store(&f);
}

/* Pages of `limit` cover each feature exactly once, in increasing fid order. */
static void walk_pages(wg_ctx *ctx, wg_collection c, const double *bbox, size_t limit,
                       size_t want_total)
{
    int64_t last = 0;
    size_t seen = 0, pages = 0;
    for (size_t offset = 0;; offset += limit) {
        wg_items_query q = {.limit = limit, .offset = offset};
        if (bbox) {
            q.has_bbox = 1;
            memcpy(q.bbox, bbox, sizeof q.bbox);
        }
        wg_items it;
        json_object *arr = page(ctx, c, &q, &it);
        assert_int_equal(want_total, it.matched);
        size_t want_returned = offset >= want_total          ? 0
                               : want_total - offset < limit ? want_total - offset
                                                             : limit;
        assert_int_equal(want_returned, it.returned);
        for (size_t i = 0; i < it.returned; i++) {
            int64_t fid = json_object_get_int64(member(json_object_array_get_idx(arr, i), "id"));
            assert_true(fid > last); /* strictly increasing: no repeats, stable order */
            last = fid;
            seen++;
        }
        json_object_put(arr);
        pages++;
        if (offset >= want_total) break;
    }
    assert_int_equal(want_total, seen);
    assert_int_equal((want_total + limit - 1) / limit + 1, pages); /* the last one empty */
}

static void test_paging(void **state)
{
    (void)state;
    fixture f;
    build(&f, 1);
    walk_pages(f.ctx, WG_COLL_GRIDS, NULL, 3, NGRIDS);
    walk_pages(f.ctx, WG_COLL_GRIDS, NULL, 1, NGRIDS);
    walk_pages(f.ctx, WG_COLL_GRIDS, NULL, 8, NGRIDS);
    const double east[4] = {114.42, 22.60, 114.44, 22.64}; /* 2-x plus 1-2, 1-4 touching */
    walk_pages(f.ctx, WG_COLL_GRIDS, east, 4, 6);
    walk_pages(f.ctx, WG_COLL_ADDRESSES, NULL, 2, NADDRS);
    const double box[4] = {114.40, 22.60, 114.42, 22.64}; /* A1, A4 and A5 */
    walk_pages(f.ctx, WG_COLL_ADDRESSES, box, 2, 3);

    /* limit 0 is the default; the maximum is accepted */
    wg_items_query q = {0};
    wg_items it;
    json_object_put(page(f.ctx, WG_COLL_GRIDS, &q, &it));
    assert_int_equal(NGRIDS, it.returned);
    q.limit = WG_ITEMS_LIMIT_MAX;
    json_object_put(page(f.ctx, WG_COLL_ADDRESSES, &q, &it));
    assert_int_equal(NADDRS, it.returned);
    /* far beyond the end: nothing, and still the count */
    q.offset = (size_t)1 << 40;
    json_object_put(page(f.ctx, WG_COLL_GRIDS, &q, &it));
    assert_int_equal(0, it.returned);
    assert_int_equal(NGRIDS, it.matched);
    close_store(&f);
}

static void check_unit_feature(json_object *feat, int level)
{
    json_object *props = member(feat, "properties");
    const char *code = code_of(feat);
    const tu_rect *r = NULL;
    for (int i = 0; i < NGRIDS; i++)
        if (strcmp(grids[i].code, code) == 0) r = &grids[i];
    assert_non_null(r);
    assert_int_equal(level, json_object_get_int(member(props, "level")));
    char parent[13];
    snprintf(parent, sizeof parent, "%.12s", code);
    assert_string_equal(parent, json_object_get_string(member(props, "parent")));
    assert_int_equal(100 + (r - grids), json_object_get_int(member(props, "households")));
    char name[8];
    snprintf(name, sizeof name, "g%c-%c", code[11], code[14]);
    assert_string_equal(name, json_object_get_string(member(props, "name")));
    double cell = tu_cell_area_m2(r->x0, r->y0, r->x1, r->y1);
    assert_near(json_object_get_double(member(props, "area_m2")), cell, cell * 1e-7);
    json_object *geom = member(feat, "geometry");
    assert_string_equal("MultiPolygon", json_object_get_string(member(geom, "type")));
    json_object *ring =
        json_object_array_get_idx(json_object_array_get_idx(member(geom, "coordinates"), 0), 0);
    json_object *p2 = json_object_array_get_idx(ring, 2); /* the NE corner, to the bit */
    assert_true(json_object_get_double(json_object_array_get_idx(p2, 0)) == r->x1);
    assert_true(json_object_get_double(json_object_array_get_idx(p2, 1)) == r->y1);
}

/* The feature by its fid (active generation) is the one of the page. */
static void expect_item(wg_ctx *ctx, wg_collection c, json_object *feat)
{
    char *one = NULL;
    int64_t fid = json_object_get_int64(member(feat, "id"));
    assert_int_equal(WG_OK, wg_features_item(ctx, c, 0, fid, &one));
    json_object *single = json_tokener_parse(one);
    assert_non_null(single);
    assert_true(json_object_equal(single, feat));
    json_object_put(single);
    free(one);
}

static void test_items_by_fid(void **state)
{
    (void)state;
    fixture f;
    build(&f, 1);
    wg_items_query q = {0};
    wg_items it;
    json_object *arr = page(f.ctx, WG_COLL_GRIDS, &q, &it);
    int64_t grid_fids[NGRIDS];
    for (size_t i = 0; i < it.returned; i++) {
        json_object *feat = json_object_array_get_idx(arr, i);
        check_unit_feature(feat, 3);
        grid_fids[i] = json_object_get_int64(member(feat, "id"));
        expect_item(f.ctx, WG_COLL_GRIDS, feat);
    }
    json_object_put(arr);

    /* not found: an unknown fid, a fid of another level, an unknown generation */
    char *one = (char *)"untouched";
    assert_int_equal(WG_ENOTFOUND, wg_features_item(f.ctx, WG_COLL_GRIDS, 0, 999999, &one));
    assert_null(one);
    assert_true(strstr(wg_errmsg(f.ctx), "999999") != NULL);
    assert_int_equal(WG_ENOTFOUND,
                     wg_features_item(f.ctx, WG_COLL_DISTRICTS, 0, grid_fids[0], &one));
    assert_int_equal(WG_ENOTFOUND, wg_features_item(f.ctx, WG_COLL_GRIDS, 7, grid_fids[0], &one));
    assert_int_equal(WG_ENOTFOUND, wg_features_item(f.ctx, WG_COLL_ADDRESSES, 0, 999999, &one));
    assert_int_equal(WG_EINVAL, wg_features_item(f.ctx, (wg_collection)0, 0, 1, &one));
    assert_null(one);

    /* a redraw: the moved grids are gone from the active generation, kept in the old one */
    tu_rect moved[NGRIDS];
    memcpy(moved, grids, sizeof moved);
    moved[0].y1 = moved[2].y0 = 22.615; /* 1-1 shrinks, 1-3 grows */
    tu_import_rects(f.ctx, WG_LEVEL_GRID, moved, NGRIDS, 1);
    int64_t gen;
    assert_int_equal(WG_OK, wg_gen_publish(f.ctx, 1.0, 0, &gen, NULL));
    assert_int_equal(2, gen);
    size_t gone = 0;
    for (int i = 0; i < NGRIDS; i++) {
        int rc = wg_features_item(f.ctx, WG_COLL_GRIDS, 0, grid_fids[i], &one);
        free(one);
        if (rc == WG_OK) continue;
        assert_int_equal(WG_ENOTFOUND, rc);
        gone++;
        assert_int_equal(WG_OK, wg_features_item(f.ctx, WG_COLL_GRIDS, 1, grid_fids[i], &one));
        free(one);
    }
    assert_true(gone >= 2);
    /* the old generation still answers the old shapes, the active one the new */
    const double band[4] = {114.40, 22.6175, 114.405, 22.6175}; /* 1-1 (old) or 1-3 (new) */
    expect_codes(f.ctx, WG_COLL_GRIDS, 1, band, "440307001001001");
    expect_codes(f.ctx, WG_COLL_GRIDS, 0, band, "440307001001003");
    close_store(&f);
}

static void test_addresses(void **state)
{
    (void)state;
    fixture f;
    build(&f, 0);
    /* before any assignment: no grid */
    wg_items_query q = {0};
    wg_items it;
    json_object *arr = page(f.ctx, WG_COLL_ADDRESSES, &q, &it);
    for (size_t i = 0; i < it.returned; i++)
        assert_null(member(member(json_object_array_get_idx(arr, i), "properties"), "grid"));
    json_object_put(arr);

    wg_assign_stats as;
    assert_int_equal(WG_OK, wg_assign(f.ctx, 0, 1, NULL, NULL, &as));
    arr = page(f.ctx, WG_COLL_ADDRESSES, &q, &it);
    assert_int_equal(NADDRS, it.returned);
    for (size_t i = 0; i < it.returned; i++) {
        json_object *feat = json_object_array_get_idx(arr, i), *props = member(feat, "properties");
        const addr *a = &ADDRS[i]; /* imported in order: fids follow the file */
        assert_string_equal(a->code, code_of(feat));
        assert_int_equal(a->households, json_object_get_int(member(props, "households")));
        char label[16];
        snprintf(label, sizeof label, "label %s", a->code);
        assert_string_equal(label, json_object_get_string(member(props, "label")));
        json_object *grid = member(props, "grid");
        if (a->grid)
            assert_string_equal(a->grid, json_object_get_string(grid));
        else
            assert_null(grid);
        json_object *geom = member(feat, "geometry");
        assert_string_equal("Point", json_object_get_string(member(geom, "type")));
        json_object *xy = member(geom, "coordinates");
        assert_true(json_object_get_double(json_object_array_get_idx(xy, 0)) == a->lon);
        assert_true(json_object_get_double(json_object_array_get_idx(xy, 1)) == a->lat);
        expect_item(f.ctx, WG_COLL_ADDRESSES, feat);
    }
    json_object_put(arr);

    /* bbox over points: edges included */
    static const struct {
        double b[4];
        const char *codes;
    } cases[] = {
        {{114.41, 22.60, 114.42, 22.62}, "A4"},             /* A4 on the east edge */
        {{114.405, 22.61, 114.405, 22.61}, "A1"},           /* a point box on A1 */
        {{114.41, 22.61, 114.42, 22.63}, "A4,A5"},          /* A5 on the west and north edges */
        {{114.41 + 1e-9, 22.61, 114.42 - 1e-9, 22.63}, ""}, /* a hair inside both */
        {{114.0, 22.0, 115.0, 23.0}, "A1,A2,A3,A4,A5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_codes(f.ctx, WG_COLL_ADDRESSES, 0, cases[i].b, cases[i].codes);
    close_store(&f);
}

static void test_refused_arguments(void **state)
{
    (void)state;
    fixture f;
    build(&f, 0);
    wg_items it;
    wg_items_query q = {.limit = WG_ITEMS_LIMIT_MAX + 1};
    assert_int_equal(WG_EINVAL, wg_features_items(f.ctx, WG_COLL_GRIDS, &q, &it));
    assert_null(it.features);
    assert_int_equal(0, it.matched);
    static const double bad[][4] = {
        {NAN, 22, 115, 23},    {114, 22, INFINITY, 23}, {114, -91, 115, 23}, {114, 22, 115, 90.5},
        {-180.5, 22, 115, 23}, {114, 22, 181, 23},      {114, 23, 115, 22}, /* south of north */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (int c = WG_COLL_GRIDS; c <= WG_COLL_ADDRESSES; c++) {
            wg_items_query b = {.has_bbox = 1};
            memcpy(b.bbox, bad[i], sizeof b.bbox);
            assert_int_equal(WG_EINVAL, wg_features_items(f.ctx, (wg_collection)c, &b, &it));
            assert_true(strstr(wg_errmsg(f.ctx), "bbox") != NULL);
            assert_null(it.features);
        }
    wg_items_query ok = {0};
    assert_int_equal(WG_EINVAL, wg_features_items(f.ctx, (wg_collection)0, &ok, &it));
    assert_int_equal(WG_EINVAL, wg_features_items(f.ctx, (wg_collection)5, &ok, &it));
    ok.generation = 42;
    assert_int_equal(WG_ENOTFOUND, wg_features_items(f.ctx, WG_COLL_GRIDS, &ok, &it));
    assert_null(it.features);
    /* a caller's open transaction is left to the caller */
    assert_int_equal(SQLITE_OK, sqlite3_exec(f.ctx->db, "BEGIN", NULL, NULL, NULL));
    ok.generation = 0;
    json_object_put(page(f.ctx, WG_COLL_GRIDS, &ok, &it));
    assert_int_equal(0, sqlite3_get_autocommit(f.ctx->db));
    assert_int_equal(SQLITE_OK, sqlite3_exec(f.ctx->db, "COMMIT", NULL, NULL, NULL));
    close_store(&f);

    /* no active generation */
    open_store(&f);
    assert_int_equal(WG_ENOTFOUND, wg_features_items(f.ctx, WG_COLL_GRIDS, &ok, &it));
    assert_int_equal(WG_ENOTFOUND, wg_features_items(f.ctx, WG_COLL_ADDRESSES, &ok, &it));
    char *one;
    assert_int_equal(WG_ENOTFOUND, wg_features_item(f.ctx, WG_COLL_GRIDS, 0, 1, &one));
    assert_int_equal(1, sqlite3_get_autocommit(f.ctx->db)); /* no transaction left open */
    close_store(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collections),
        cmocka_unit_test(test_bbox_selects_what_intersects),
        cmocka_unit_test(test_bbox_exact_beyond_the_envelope),
        cmocka_unit_test(test_bbox_across_the_antimeridian),
        cmocka_unit_test(test_paging),
        cmocka_unit_test(test_items_by_fid),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_refused_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
