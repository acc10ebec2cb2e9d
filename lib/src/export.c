/* GeoJSON export, streamed: one feature is built and written at a time. */
#include "wangge/export.h"
#include "wangge/store.h"
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

static int write_feature(wg_ctx *ctx, sqlite3_stmt *st, int level, int64_t gen, FILE *out,
                         int first)
{
    const void *wkb = sqlite3_column_blob(st, 5);
    GEOSGeometry *g = wkb ? wg_geom_from_wkb(ctx, wkb, (size_t)sqlite3_column_bytes(st, 5)) : NULL;
    if (!g) return wg_fail_geos(ctx, "unreadable unit geometry in store");
    char *geojson = wg_geom_to_geojson(ctx, g);
    GEOSGeom_destroy_r(ctx->geos, g);
    if (!geojson) return wg_fail_geos(ctx, "cannot write GeoJSON");
    json_object *props = feature_props(st, level, gen);
    json_object *id = json_object_new_string((const char *)sqlite3_column_text(st, 0));
    fprintf(out, "%s{\"type\":\"Feature\",\"id\":%s,\"properties\":%s,\"geometry\":%s}",
            first ? "\n" : ",\n", json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN),
            json_object_to_json_string_ext(props, JSON_C_TO_STRING_PLAIN), geojson);
    json_object_put(id);
    json_object_put(props);
    GEOSFree_r(ctx->geos, geojson);
    return ferror(out) ? wg_fail(ctx, WG_EIO, "write error") : WG_OK;
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
                    "SELECT code, parent_code, name, area_m2, props, AsBinary(geom) FROM units"
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
        rc = write_feature(ctx, st, level, gen, out, n == 0);
        n++;
    }
    if (rc == WG_OK && s != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read units");
    sqlite3_finalize(st);
    fputs("\n]}\n", out);
    if (rc == WG_OK && (fflush(out) != 0 || ferror(out))) rc = wg_fail(ctx, WG_EIO, "write error");
    if (count) *count = n;
    return rc;
}
