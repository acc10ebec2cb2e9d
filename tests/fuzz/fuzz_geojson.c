/* Fuzz target: the streaming GeoJSON reader (geojson_stream.c) and what the importers do with
 * each feature (geom.c, import.c, import_extra.c).
 *
 * The input is a GeoJSON file as given to `wangge import`. It is written to a scratch file,
 * sometimes behind white space sized so that the reader's 64 KiB buffer edge falls inside it
 * (fz_edge), and read feature by feature. Each feature's geometry goes through the readers the
 * importers use, and the results are checked against each other:
 *   - the stream: indexes 0, 1, 2, ...; an error is replayed by every later call; a stream
 *     read to its end has consumed exactly the file;
 *   - wg_geom_from_geojson (units) refuses with a fault and a reason, or gives a MultiPolygon of
 *     finite, in-range coordinates; closing rings (--repair) accepts all it accepted, closing
 *     nothing; wg_geom_from_geojson_any accepts it too and agrees with wg_point_from_geojson on
 *     points;
 *   - GeoJSON written back from the geometry (wg_geom_to_geojson) reads back to exactly the
 *     same geometry;
 *   - validity, repair (wg_geom_make_valid), area, ring flattening (wg_geom_append_rings: as
 *     many rings and points as GEOS counts) and, for valid polygons, the label point lies on
 *     the polygon;
 *   - then (unpadded inputs) one of the importers (units into the draft, a reference layer,
 *     addresses, workers; chosen by the input's hash) runs on the file in a scratch store: WG_OK
 *     or WG_EDATA, every rejected feature reported, as many features read as the stream did,
 *     and is all-or-nothing (rows in the store before and after a refused import are equal).
 */
#include "fuzz_util.h"
#include "geojson_stream.h"
#include "geom.h"
#include "import_internal.h"
#include "internal.h"
#include "wangge/import.h"
#include "wangge/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Features looked at per input: the geometry checks cost far more than the reading. */
#define MAX_FEATURES 64

static wg_ctx *g_ctx;   /* compute-only: GEOS and PROJ */
static wg_ctx *g_store; /* a scratch store for the importers */
static char g_file[600];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_import_setup("geojson", "geojson", &g_ctx, &g_store, g_file, sizeof g_file);
    return 0;
}

static void check_coords(GEOSContextHandle_t h, const GEOSGeometry *g)
{
    GEOSGeometry *pts = GEOSGeom_extractUniquePoints_r(h, g);
    FZ_CHECK(pts, "GEOS cannot list the points of an accepted geometry");
    int n = GEOSGetNumGeometries_r(h, pts);
    for (int i = 0; i < n; i++) {
        double x, y;
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, pts, i);
        FZ_CHECK(GEOSGeomGetX_r(h, p, &x) && GEOSGeomGetY_r(h, p, &y), "cannot read a point");
        FZ_CHECK(isfinite(x) && isfinite(y) && fabs(x) <= 180 && fabs(y) <= 90,
                 "accepted coordinate out of range: %.17g %.17g", x, y);
    }
    GEOSGeom_destroy_r(h, pts);
}

/* Number of rings of a Polygon or MultiPolygon. */
static size_t count_rings(GEOSContextHandle_t h, const GEOSGeometry *g)
{
    if (GEOSGeomTypeId_r(h, g) == GEOS_POLYGON)
        return GEOSisEmpty_r(h, g) == 1 ? 0 : 1 + (size_t)GEOSGetNumInteriorRings_r(h, g);
    size_t n = 0;
    for (int i = 0; i < GEOSGetNumGeometries_r(h, g); i++)
        n += count_rings(h, GEOSGetGeometryN_r(h, g, i));
    return n;
}

/* What the importers do after reading a polygon: validity, repair, area, rings, label. */
static void polygon_checks(wg_ctx *ctx, const GEOSGeometry *g)
{
    GEOSContextHandle_t h = ctx->geos;
    char detail[256];
    int v = wg_geom_check_valid(ctx, g, detail, sizeof detail);
    FZ_CHECK(v >= -1 && v <= 1, "wg_geom_check_valid returned %d", v);
    GEOSGeometry *fixed = v == 0 ? wg_geom_make_valid(ctx, g) : NULL;
    const GEOSGeometry *use = fixed ? fixed : g;
    if (fixed)
        FZ_CHECK(GEOSGeomTypeId_r(h, fixed) == GEOS_MULTIPOLYGON,
                 "make_valid gave no MultiPolygon");
    double area = wg_geom_area_m2(ctx, use);
    FZ_CHECK(!isnan(area), "area is NaN");
    wg_rings rings;
    memset(&rings, 0, sizeof rings);
    if (wg_geom_append_rings(ctx, use, &rings) == WG_OK) {
        FZ_CHECK(rings.nrings == count_rings(h, use), "append_rings: %zu rings, GEOS has %zu",
                 rings.nrings, count_rings(h, use));
        FZ_CHECK(rings.npts == wg_geom_vertices(ctx, use), "append_rings: %zu points, GEOS has %zu",
                 rings.npts, wg_geom_vertices(ctx, use));
        for (size_t k = 0; k < rings.nrings; k++)
            FZ_CHECK(rings.ring_end[k] >= (k ? rings.ring_end[k - 1] : 0) &&
                         rings.ring_end[k] <= rings.npts,
                     "ring_end not increasing");
        for (size_t p = 0; p < rings.nparts; p++)
            FZ_CHECK(rings.part_end[p] <= rings.nrings, "part_end beyond the rings");
    }
    wg_rings_free(&rings);
    double lon, lat;
    if ((v == 1 || fixed) && GEOSisEmpty_r(h, use) == 0 &&
        wg_geom_label_point(ctx, use, &lon, &lat) == WG_OK) {
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, lon, lat);
        /* within a whisker: the label point is computed, the polygon given */
        GEOSGeometry *near = pt ? GEOSBuffer_r(h, pt, 1e-9, 4) : NULL;
        if (near)
            FZ_CHECK(GEOSIntersects_r(h, use, near) == 1,
                     "label point %.10g %.10g is not on its polygon", lon, lat);
        GEOSGeom_destroy_r(h, near);
        GEOSGeom_destroy_r(h, pt);
    }
    GEOSGeom_destroy_r(h, fixed);
}

/* GeoJSON written from g reads back to exactly g. */
static void round_trip(wg_ctx *ctx, const GEOSGeometry *g)
{
    GEOSContextHandle_t h = ctx->geos;
    char *text = wg_geom_to_geojson(ctx, g);
    FZ_CHECK(text, "wg_geom_to_geojson failed: %s", ctx->geos_msg);
    json_object *o = json_tokener_parse(text);
    FZ_CHECK(o, "wg_geom_to_geojson wrote what json-c cannot read: %.200s", text);
    int fault;
    char detail[256];
    GEOSGeometry *back = NULL;
    int rc =
        wg_geom_from_geojson_any(ctx, o, WG_GK_ANY, NULL, &fault, detail, sizeof detail, &back);
    FZ_CHECK(rc == WG_OK, "written GeoJSON does not read back (%s): %.200s", detail, text);
    FZ_CHECK(GEOSGeomTypeId_r(h, back) == GEOSGeomTypeId_r(h, g), "type changed on the round trip");
    FZ_CHECK(GEOSEqualsExact_r(h, back, g, 0) == 1, "geometry changed on the round trip: %.200s",
             text);
    GEOSGeom_destroy_r(h, back);
    json_object_put(o);
    GEOSFree_r(h, text);
}

static void geometry_checks(wg_ctx *ctx, json_object *geometry)
{
    GEOSContextHandle_t h = ctx->geos;
    int fault, fault2, fault3, closed = 0;
    char detail[256], detail2[256], detail3[256];
    GEOSGeometry *poly = NULL, *repaired = NULL, *any = NULL;
    int rc = wg_geom_from_geojson(ctx, geometry, NULL, &fault, detail, sizeof detail, &poly);
    FZ_CHECK(rc == WG_OK || rc == WG_EDATA, "wg_geom_from_geojson: rc %d (%s)", rc, wg_errmsg(ctx));
    if (rc == WG_EDATA)
        FZ_CHECK(!poly && fault != WG_GF_NONE && detail[0] &&
                     strcmp(wg_geom_fault_name(fault), "") != 0,
                 "a refusal without a fault or a reason");
    else
        FZ_CHECK(poly && fault == WG_GF_NONE && GEOSGeomTypeId_r(h, poly) == GEOS_MULTIPOLYGON,
                 "an accepted polygon that is no MultiPolygon");

    int rc2 =
        wg_geom_from_geojson(ctx, geometry, &closed, &fault2, detail2, sizeof detail2, &repaired);
    FZ_CHECK(rc2 == WG_OK || rc2 == WG_EDATA, "wg_geom_from_geojson (closing rings): rc %d", rc2);
    if (rc == WG_OK) {
        FZ_CHECK(rc2 == WG_OK && closed == 0, "closing rings refused or changed a closed polygon");
        FZ_CHECK(GEOSEqualsExact_r(h, poly, repaired, 0) == 1,
                 "closing rings changed a closed polygon");
    }
    if (rc2 == WG_EDATA)
        FZ_CHECK(fault2 != WG_GF_UNCLOSED_RING, "unclosed ring refused while closing rings");
    if (rc == WG_EDATA && fault == WG_GF_UNCLOSED_RING && rc2 == WG_OK)
        FZ_CHECK(closed > 0, "ring closed uncounted");

    int rc3 = wg_geom_from_geojson_any(ctx, geometry, WG_GK_ANY, NULL, &fault3, detail3,
                                       sizeof detail3, &any);
    FZ_CHECK(rc3 == WG_OK || rc3 == WG_EDATA, "wg_geom_from_geojson_any: rc %d", rc3);
    if (rc == WG_OK)
        FZ_CHECK(rc3 == WG_OK, "a polygon accepted as unit is refused as any geometry: %s",
                 detail3);
    if (rc3 == WG_OK) {
        FZ_CHECK(wg_geom_vertices(ctx, any) <= WG_MAX_UNIT_VERTICES, "vertex cap exceeded");
        check_coords(h, any);
        round_trip(ctx, any);
        double lon, lat;
        char d[160];
        int prc = wg_point_from_geojson(geometry, &lon, &lat, d, sizeof d);
        if (GEOSGeomTypeId_r(h, any) == GEOS_POINT) {
            double x, y;
            GEOSGeomGetX_r(h, any, &x);
            GEOSGeomGetY_r(h, any, &y);
            FZ_CHECK(prc == WG_OK && x == lon && y == lat, "the point readers disagree");
        } else {
            FZ_CHECK(prc != WG_OK, "wg_point_from_geojson accepted a non-point");
        }
    }
    if (rc == WG_OK)
        polygon_checks(ctx, poly);
    else if (rc2 == WG_OK)
        polygon_checks(ctx, repaired);
    GEOSGeom_destroy_r(h, poly);
    GEOSGeom_destroy_r(h, repaired);
    GEOSGeom_destroy_r(h, any);
}

/* The property readers of the importers: text as given for strings; the rest as JSON. */
static void property_checks(json_object *props)
{
    json_object *v = NULL;
    const char *code = wg_imp_prop_text(props, "code");
    if (json_object_is_type(props, json_type_object) &&
        json_object_object_get_ex(props, "code", &v) && json_object_is_type(v, json_type_string))
        FZ_CHECK(code && strcmp(code, json_object_get_string(v)) == 0,
                 "a string property read differently");
    static const char *const skip[] = {"code", "name", NULL, "parent"};
    char *rest = wg_imp_props_except(props, skip, 4);
    if (!rest) return;
    json_object *o = json_tokener_parse(rest);
    FZ_CHECK(json_object_is_type(o, json_type_object),
             "wg_imp_props_except wrote no JSON object: %.200s", rest);
    FZ_CHECK(!json_object_object_get_ex(o, "code", NULL) &&
                 !json_object_object_get_ex(o, "parent", NULL),
             "wg_imp_props_except kept a skipped property");
    json_object_put(o);
    free(rest);
}

/* Walks the file; returns the number of features, or -1 if the stream failed. */
static long walk(size_t file_size)
{
    wg_geojson_stream *s = NULL;
    int rc = wg_geojson_open(g_ctx, g_file, &s);
    FZ_CHECK(rc == WG_OK, "cannot open the scratch file: %s", wg_errmsg(g_ctx));
    size_t n = 0;
    for (;;) {
        json_object *f = NULL;
        size_t index = (size_t)-1;
        rc = wg_geojson_next(s, &f, &index);
        if (rc != WG_OK) {
            FZ_CHECK(rc == WG_EDATA || rc == WG_ENOMEM, "wg_geojson_next: rc %d", rc);
            FZ_CHECK(!f && wg_errmsg(g_ctx)[0], "an error without a message");
            char first[1024];
            snprintf(first, sizeof first, "%s", wg_errmsg(g_ctx));
            json_object *again = NULL;
            FZ_CHECK(wg_geojson_next(s, &again, &index) == rc && !again, "an error not replayed");
            FZ_CHECK(strcmp(first, wg_errmsg(g_ctx)) == 0, "a replayed error changed its message");
            wg_geojson_close(s);
            return -1;
        }
        if (!f) break;
        FZ_CHECK(index == n, "feature index %zu, expected %zu", index, n);
        FZ_CHECK(json_object_is_type(f, json_type_object), "a feature that is no object");
        n++;
        if (n <= MAX_FEATURES) {
            json_object *geometry = NULL, *props = NULL;
            json_object_object_get_ex(f, "geometry", &geometry);
            json_object_object_get_ex(f, "properties", &props);
            geometry_checks(g_ctx, geometry);
            property_checks(props);
        }
        json_object_put(f);
    }
    FZ_CHECK(wg_geojson_bytes_read(s) == file_size && wg_geojson_bytes_total(s) == file_size,
             "stream at its end read %llu of %zu bytes",
             (unsigned long long)wg_geojson_bytes_read(s), file_size);
    wg_geojson_close(s);
    return (long)n;
}

typedef struct issues {
    size_t rejected, repaired;
} issues;

static void on_issue(void *ud, const wg_import_issue *is)
{
    issues *c = ud;
    FZ_CHECK(is->kind && is->kind[0] && is->reason, "an issue without a kind or reason");
    if (is->repaired)
        c->repaired++;
    else
        c->rejected++;
}

static long long count_rows(const char *sql)
{
    sqlite3_stmt *st;
    long long n = -1;
    if (sqlite3_prepare_v2(g_store->db, sql, -1, &st, NULL) != SQLITE_OK)
        fz_fail("cannot count: %s", sql);
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void import_checks(uint64_t h, long features)
{
    issues c = {0, 0};
    wg_import_stats st;
    int which = (int)((h >> 20) % 4), skip = (h >> 24) & 1, repair = (h >> 25) & 1, rc;
    static const char *const COUNT[] = {
        "SELECT count(*) FROM units", "SELECT count(*) FROM layer_features",
        "SELECT count(*) FROM addresses", "SELECT count(*) FROM workers"};
    long long before = count_rows(COUNT[which]);
    if (which < 2) {
        wg_unit_import_opts o;
        memset(&o, 0, sizeof o);
        o.level = which == 0 ? (int)(1 + (h >> 26) % 3) : 0;
        o.code_prop = "code";
        o.name_prop = "name";
        o.parent_prop = "parent";
        o.repair = repair;
        o.skip_rejected = skip;
        o.replace = 1;
        o.on_issue = on_issue;
        o.ud = &c;
        rc = which == 0 ? wg_import_units(g_store, g_file, &o, &st)
                        : wg_import_layer(g_store, g_file, "fuzz", &o, &st);
    } else {
        wg_point_import_opts o;
        memset(&o, 0, sizeof o);
        o.skip_rejected = skip;
        o.replace = 1;
        o.on_issue = on_issue;
        o.ud = &c;
        rc = which == 2 ? wg_import_addresses(g_store, g_file, &o, &st)
                        : wg_import_workers(g_store, g_file, &o, &st);
    }
    FZ_CHECK(rc == WG_OK || rc == WG_EDATA, "importer %d: rc %d (%s)", which, rc,
             wg_errmsg(g_store));
    FZ_CHECK(c.rejected == st.rejected, "importer %d: %zu rejections reported, %zu counted", which,
             c.rejected, st.rejected);
    if (rc == WG_OK) {
        FZ_CHECK(skip || st.rejected == 0, "importer %d: rejected features but WG_OK", which);
        FZ_CHECK(features >= 0 && st.read == (size_t)features,
                 "importer %d read %zu features, the stream %ld", which, st.read, features);
        FZ_CHECK(st.imported + st.rejected <= st.read,
                 "importer %d: more imported and rejected than read", which);
    } else {
        FZ_CHECK(count_rows(COUNT[which]) == before,
                 "importer %d: a refused import changed the store", which);
        FZ_CHECK(features < 0 || st.rejected > 0 || which == 0,
                 "importer %d refused a readable file without rejecting a feature: %s", which,
                 wg_errmsg(g_store));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_ctx) LLVMFuzzerInitialize(NULL, NULL);
    size_t edge = fz_edge(data, size), npad = edge ? FZ_READ_CHUNK - edge : 0;
    static char pad[FZ_READ_CHUNK];
    if (!pad[0]) memset(pad, ' ', sizeof pad);
    fz_write(g_file, pad, npad, data, size);
    long features = walk(npad + size);
    /* the importers read with the same stream: padding would only slow them down */
    if (!npad) import_checks(fz_hash(data, size), features);
    return 0;
}
