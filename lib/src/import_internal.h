/* Private: what the import modules (import.c: units, addresses, events; import_extra.c:
 * workers and reference layers) share: one import run's reporting, property and field
 * reading, validity checks with repair, and the all-or-nothing end of the transaction. */
#ifndef WANGGE_IMPORT_INTERNAL_H
#define WANGGE_IMPORT_INTERNAL_H

#include "wangge/import.h"
#include "internal.h"

#include "csv_stream.h"
#include "geojson_stream.h"

#include <json-c/json.h>

/* One import in progress: where issues and progress go, and the counts. */
typedef struct wg_import_run {
    wg_ctx *ctx;
    wg_issue_fn on_issue;
    wg_progress_fn on_progress;
    void *ud;
    wg_import_stats *stats;
    uint64_t last_progress;
} wg_import_run;

/* Counts an issue (repaired or rejected) and passes it to on_issue. */
void wg_imp_issue(wg_import_run *r, size_t where, int is_line, const char *code, int repaired,
                  const char *kind, const char *reason);
/* Reports progress about every MiB (and at the end). */
void wg_imp_progress(wg_import_run *r, uint64_t done, uint64_t total);
/* Ends the run's transaction: refuses (WG_EDATA, "nothing was imported") if anything was
 * rejected and skip_rejected is not set; commits on success; otherwise rolls back keeping
 * the error message, and sets stats->imported to 0. Returns the final rc. */
int wg_imp_finish(wg_import_run *r, int rc, int skip_rejected, const char *path, const char *what);

/* The one loop of every import: hands each feature (with its 0-based index) or CSV row (with
 * its 1-based line) to fn, counting it read and reporting progress, until the input ends, a
 * read fails or fn returns an error. The caller opens and closes the stream. */
typedef int (*wg_imp_feature_fn)(void *ud, json_object *feature, size_t index);
int wg_imp_each_feature(wg_import_run *r, wg_geojson_stream *in, wg_imp_feature_fn fn, void *ud);
typedef int (*wg_imp_row_fn)(void *ud, const char *const *fields, size_t line);
int wg_imp_each_row(wg_import_run *r, wg_csv_stream *in, wg_imp_row_fn fn, void *ud);

/* A property as text: strings as they are, numbers in their JSON spelling; NULL if absent,
 * null, or not a scalar. */
const char *wg_imp_prop_text(json_object *props, const char *name);
/* The properties except those named in skip (NULLs in skip are ignored), as compact JSON
 * text; NULL if none are left. Caller frees. */
char *wg_imp_props_except(json_object *props, const char *const *skip, size_t nskip);
/* 1 if s is a non-empty string of ASCII digits. */
int wg_imp_is_digits(const char *s);
/* Parses a whole string as a double (no trailing text); 0 if it is not one. */
int wg_imp_parse_double(const char *s, double *v);
/* 1 if the path ends in .csv or .CSV: the importers read CSV then, GeoJSON otherwise. */
int wg_imp_is_csv(const char *path);

/* One input record, from a CSV row or a GeoJSON feature's properties. */
typedef struct wg_imp_record {
    const char *const *fields; /* CSV */
    const int *cols;           /* CSV: column index per field name slot, -1 if absent */
    json_object *props;        /* GeoJSON */
    const char *const *names;  /* field names per slot */
} wg_imp_record;
/* The field of a slot as text (wg_imp_prop_text for GeoJSON); NULL if absent. */
const char *wg_imp_rec_get(const wg_imp_record *rec, int slot);

/* Checks a polygonal geometry's validity; with repair, makes it valid (a MultiPolygon, in *g)
 * and reports the change as repaired "invalid"; without, reports it rejected. Returns 1 kept,
 * 0 rejected, never an error (a GEOS failure is reported as the reason). */
int wg_imp_ensure_valid(wg_import_run *r, int repair, size_t index, const char *code,
                        GEOSGeometry **g);

static inline const char *wg_imp_nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

#endif
