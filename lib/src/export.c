/* GeoJSON export, streamed: one feature is built and written at a time. */
#include "wangge/export.h"
#include "wangge/store.h"
#include "export_internal.h"
#include "geom.h"
#include "store_schema.h"

#include <json-c/json.h>
#include <string.h>

static json_object *feature_props(sqlite3_stmt *st, int level, int64_t gen)
{
    const char *extra = (const char *)sqlite3_column_text(st, 4);
    json_object *props = extra ? json_tokener_parse(extra) : NULL;
    if (!props || !json_object_is_type(props, json_type_object)) {
        json_object_put(props);
        props = json_object_new_object();
    }
    const char *parent = (const char *)sqlite3_column_text(st, 1);
    const char *name = (const char *)sqlite3_column_text(st, 2);
    json_object_object_add(props, "code", json_object_new_string((const char *)sqlite3_column_text(st, 0)));
    json_object_object_add(props, "name", name ? json_object_new_string(name) : NULL);
    json_object_object_add(props, "parent", parent ? json_object_new_string(parent) : NULL);
    json_object_object_add(props, "level", json_object_new_int(level));
    json_object_object_add(props, "area_m2", json_object_new_double(sqlite3_column_double(st, 3)));
    json_object_object_add(props, "generation", json_object_new_int64(gen));
    return props;
}

int wg_write_feature(wg_ctx *ctx, FILE *out, const char *sep, json_object *id, json_object *props,
                     const char *geometry)
{
    const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
    fprintf(out, "%s{\"type\":\"Feature\",\"id\":%s,\"properties\":%s,\"geometry\":%s}", sep,
            json_object_to_json_string_ext(id, flags), json_object_to_json_string_ext(props, flags),
            geometry);
    json_object_put(id);
    json_object_put(props);
    return ferror(out) ? wg_fail(ctx, WG_EIO, "write error") : WG_OK;
}

int wg_write_unit_feature(wg_ctx *ctx, sqlite3_stmt *st, int level, int64_t gen, json_object *id,
                          const char *sep, FILE *out)
{
    const void *wkb = sqlite3_column_blob(st, 5);
    GEOSGeometry *g = wkb ? wg_geom_from_wkb(ctx, wkb, (size_t)sqlite3_column_bytes(st, 5)) : NULL;
    char *geojson = g ? wg_geom_to_geojson(ctx, g) : NULL;
    if (g) GEOSGeom_destroy_r(ctx->geos, g);
    if (!geojson) {
        json_object_put(id);
        return wg_fail_geos(ctx, g ? "cannot write GeoJSON" : "unreadable unit geometry in store");
    }
    int rc = wg_write_feature(ctx, out, sep, id, feature_props(st, level, gen), geojson);
    GEOSFree_r(ctx->geos, geojson);
    return rc;
}

int wg_export_units(wg_ctx *ctx, int64_t generation, int level, FILE *out, size_t *count)
{
    if (count) *count = 0;
    if (!wg_level_name(level)) return wg_fail(ctx, WG_EINVAL, "level must be 1, 2 or 3");
    int64_t gen;
    int rc = wg_gen_resolve(ctx, generation, &gen);
    if (rc != WG_OK) return rc;
    sqlite3_stmt *st;
    rc = wg_prepare(ctx,
                    "SELECT " WG_UNIT_FEATURE_COLS " FROM units"
                    " WHERE level = ?2 AND first_gen <= ?1 AND (last_gen IS NULL OR last_gen >= ?1)"
                    " ORDER BY code",
                    &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, gen);
    sqlite3_bind_int(st, 2, level);
    fprintf(out, "{\"type\":\"FeatureCollection\",\"name\":\"%s\",\"features\":[",
            wg_level_name(level));
    size_t n = 0;
    int s;
    while (rc == WG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        json_object *id = json_object_new_string((const char *)sqlite3_column_text(st, 0));
        rc = wg_write_unit_feature(ctx, st, level, gen, id, n == 0 ? "\n" : ",\n", out);
        n++;
    }
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read units");
    sqlite3_finalize(st);
    fputs("\n]}\n", out);
    if (rc == WG_OK && (fflush(out) != 0 || ferror(out))) rc = wg_fail(ctx, WG_EIO, "write error");
    if (count) *count = n;
    return rc;
}
