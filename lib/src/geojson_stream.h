/* Streaming GeoJSON reader: features one at a time, memory flat in the number of features.
 * The model (what is walked by hand, what json-c parses) is at the top of geojson_stream.c. */
#ifndef WANGGE_GEOJSON_STREAM_H
#define WANGGE_GEOJSON_STREAM_H

#include "internal.h"

#include <json-c/json.h>

typedef struct wg_geojson_stream wg_geojson_stream;

/* Opens path ("-" = stdin). Accepts (a) a GeoJSON FeatureCollection object — members may come
 * in any order, "features" is streamed one feature at a time, other members ("type", "crs",
 * "name", "bbox", ...) are parsed with json-c and discarded except "type" which must be
 * "FeatureCollection" if present; (b) newline-delimited GeoJSON features (GeoJSONSeq / NDJSON,
 * optional RFC 8142 0x1E record separators): a stream of several top-level Feature objects;
 * (c) a single Feature object (one feature). Returns WG_EIO if the file can't be opened.
 * On success *out is a stream the caller closes with wg_geojson_close(); on failure NULL. */
int wg_geojson_open(wg_ctx *ctx, const char *path, wg_geojson_stream **out);

/* Next feature. *feature_out = json-c object the caller releases with json_object_put(), or
 * NULL at end of input (rc WG_OK). *index_out = 0-based index of the feature in the file.
 * Syntax errors -> WG_EDATA with a message on ctx naming the path, the line number and byte
 * offset, and json-c's tokener error text. A feature value that is not a JSON object ->
 * WG_EDATA naming the feature index. After an error further calls return the same error. */
int wg_geojson_next(wg_geojson_stream *s, json_object **feature_out, size_t *index_out);

/* Bytes consumed so far, for progress bars (equals the file size at the end). */
uint64_t wg_geojson_bytes_read(const wg_geojson_stream *s);
/* File size, 0 if unknown (stdin, a pipe). */
uint64_t wg_geojson_bytes_total(const wg_geojson_stream *s);
/* Closes the file (never stdin) and frees the stream. NULL is a no-op. */
void wg_geojson_close(wg_geojson_stream *s);

#endif
