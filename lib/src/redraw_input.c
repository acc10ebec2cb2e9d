/* Units for a redraw edit read from GeoJSON (wg_new_units_read, see wangge/redraw.h).
 *
 * The same reader and the same geometry checks as a unit import (import.c): every feature is
 * read even after a rejection so that all faults are reported at once, and nothing is returned
 * unless every feature was good. */
#include "wangge/redraw.h"
#include "geojson_stream.h"
#include "geom.h"
#include "import_internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CODE_LEN 32

typedef struct reader {
    wg_import_run run;
    int repair;
    wg_new_unit *units;
    size_t n, cap;
} reader;

void wg_new_units_free(wg_ctx *ctx, wg_new_unit *units, size_t n)
{
    if (!units) return;
    for (size_t i = 0; i < n; i++) {
        if (units[i].geom) GEOSGeom_destroy_r(ctx->geos, (GEOSGeometry *)units[i].geom);
        free((char *)units[i].name);
        free((char *)units[i].code);
    }
    free(units);
}

static int keep_unit(reader *rd, GEOSGeometry *g, const char *code, const char *name)
{
    wg_ctx *ctx = rd->run.ctx;
    if (wg_grow((void **)&rd->units, &rd->cap, rd->n + 1, sizeof *rd->units) != WG_OK) {
        GEOSGeom_destroy_r(ctx->geos, g);
        return wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    wg_new_unit *u = &rd->units[rd->n++];
    u->geom = g;
    u->code = code ? strdup(code) : NULL;
    u->name = name ? strdup(name) : NULL;
    if ((code && !u->code) || (name && !u->name)) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    rd->run.stats->imported++;
    return WG_OK;
}

static int feature_cb(void *ud, json_object *feature, size_t index)
{
    reader *rd = ud;
    wg_ctx *ctx = rd->run.ctx;
    json_object *props = NULL, *geometry = NULL;
    json_object_object_get_ex(feature, "properties", &props);
    json_object_object_get_ex(feature, "geometry", &geometry);
    const char *code = wg_imp_nonempty(wg_imp_prop_text(props, "code"));
    const char *name = wg_imp_nonempty(wg_imp_prop_text(props, "name"));
    if (code && strlen(code) > MAX_CODE_LEN) {
        wg_imp_issue(&rd->run, index, 0, NULL, 0, "bad_code", "code longer than 32 characters");
        return WG_OK;
    }
    int fault = 0, closed = 0;
    char detail[256];
    GEOSGeometry *g = NULL;
    int rc = wg_geom_from_geojson(ctx, geometry, rd->repair ? &closed : NULL, &fault, detail,
                                  sizeof detail, &g);
    if (rc == WG_EDATA) {
        wg_imp_issue(&rd->run, index, 0, code, 0, wg_geom_fault_name(fault), detail);
        return WG_OK;
    }
    if (rc != WG_OK) return rc;
    if (closed) wg_imp_issue(&rd->run, index, 0, code, 1, "unclosed_ring", detail);
    if (!wg_imp_ensure_valid(&rd->run, rd->repair, index, code, &g)) {
        GEOSGeom_destroy_r(ctx->geos, g);
        return WG_OK;
    }
    return keep_unit(rd, g, code, name);
}

int wg_new_units_read(wg_ctx *ctx, const char *path, int repair, wg_issue_fn on_issue, void *ud,
                      wg_new_unit **units, size_t *n)
{
    *units = NULL;
    *n = 0;
    wg_import_stats stats = {0};
    reader rd = {{ctx, on_issue, NULL, ud, &stats, 0}, repair, NULL, 0, 0};
    wg_geojson_stream *in = NULL;
    int rc = wg_geojson_open(ctx, path, &in);
    if (rc != WG_OK) return rc;
    rc = wg_imp_each_feature(&rd.run, in, feature_cb, &rd);
    wg_geojson_close(in);
    if (rc == WG_OK && stats.rejected)
        rc = wg_fail(ctx, WG_EDATA, "%s: %zu of %zu features rejected", path, stats.rejected,
                     stats.read);
    if (rc == WG_OK && rd.n == 0) rc = wg_fail(ctx, WG_EDATA, "%s: no features", path);
    if (rc != WG_OK) {
        wg_new_units_free(ctx, rd.units, rd.n);
        return rc;
    }
    *units = rd.units;
    *n = rd.n;
    return WG_OK;
}
