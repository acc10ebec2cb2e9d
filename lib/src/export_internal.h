/* Private: GeoJSON Feature text, shared by the export of units (id = code) and the OGC API
 * features (id = row id), so that a unit reads the same wherever it is written. */
#ifndef WANGGE_EXPORT_INTERNAL_H
#define WANGGE_EXPORT_INTERNAL_H

#include "internal.h"
#include <json-c/json.h>

/* The columns a unit statement selects first, in this order, for wg_write_unit_feature. */
#define WG_UNIT_FEATURE_COLS "code, parent_code, name, area_m2, props, AsBinary(geom)"

/* Writes sep, then {"type":"Feature","id":ID,"properties":PROPS,"geometry":GEOMETRY} to out.
 * id and props are consumed (json-c references); geometry is GeoJSON text. WG_OK or WG_EIO. */
int wg_write_feature(wg_ctx *ctx, FILE *out, const char *sep, json_object *id, json_object *props,
                     const char *geometry);

/* Writes the unit of the current row of st (columns WG_UNIT_FEATURE_COLS) as a Feature with
 * the given id (consumed): its imported properties overlaid with code, name, parent, level,
 * area_m2 and generation, and its MultiPolygon with enough digits to round-trip the stored
 * doubles. WG_OK, WG_EGEOS (unreadable geometry), WG_EIO. */
int wg_write_unit_feature(wg_ctx *ctx, sqlite3_stmt *st, int level, int64_t gen, json_object *id,
                          const char *sep, FILE *out);

#endif
