/* wangge — importing units, addresses and events into the store.
 *
 * Units (GeoJSON FeatureCollection or newline-delimited features, streamed) go into the draft
 * generation (created from the active one if there is none). Addresses and events (CSV with a
 * header row, or GeoJSON points) are appended. Every import is one transaction and, by
 * default, all-or-nothing: every rejected feature is reported (index or line, and why), and
 * if any was rejected nothing is stored. */
#ifndef WANGGE_IMPORT_H
#define WANGGE_IMPORT_H

#include "wangge/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wg_import_issue {
    size_t where;       /* 0-based feature index (GeoJSON) or 1-based line number (CSV) */
    int is_line;        /* where is a CSV line number */
    const char *code;   /* the feature's code where known, else NULL */
    int repaired;       /* 1: repaired and kept (--repair), 0: rejected */
    const char *kind;   /* short fault name: "unclosed_ring", "invalid", "missing_code", ... */
    const char *reason; /* human-readable reason, with a location where there is one */
} wg_import_issue;

typedef void (*wg_issue_fn)(void *ud, const wg_import_issue *issue);
typedef void (*wg_progress_fn)(void *ud, uint64_t bytes_done, uint64_t bytes_total);

typedef struct wg_unit_import_opts {
    int level;             /* WG_LEVEL_DISTRICT, _COMMUNITY or _GRID */
    const char *code_prop; /* property holding the code (default "code"; "id" also reads the
                              feature's own id member) */
    const char *name_prop;   /* default "name" */
    const char *parent_prop; /* default "parent"; when absent, the parent code is derived from
                                an all-digit code of the standard layout (see codes below) */
    int repair;        /* make invalid polygons valid and close unclosed rings, reporting each */
    int skip_rejected; /* store the good features even if some are rejected */
    int replace;       /* replace this level's units in the draft instead of adding to them */
    wg_issue_fn on_issue;
    wg_progress_fn on_progress;
    void *ud;
} wg_unit_import_opts;

typedef struct wg_point_import_opts {
    const char *lon_col, *lat_col;                   /* default "lon", "lat" */
    const char *households_col, *label_col, *code_col; /* addresses; default "households",
                                                         "label", "code" */
    const char *category_col, *time_col, *status_col, *description_col; /* events; default
                                "category", "time", "status", "description" */
    int skip_rejected;
    int replace; /* delete all stored addresses (events) and their assignments first */
    wg_issue_fn on_issue;
    wg_progress_fn on_progress;
    void *ud;
} wg_point_import_opts;

typedef struct wg_import_stats {
    size_t read, imported, rejected, repaired;
    int64_t generation;  /* units: the draft they went into */
    int code_digits;     /* units: the length of the codes if all are digits of one length
                            (15 = DB11/T 2157-2023 layout with a 3-digit grid sequence, 14 = a
                            2-digit grid sequence), else 0 */
    double repaired_area_change_m2; /* units: sum of |area after - area before| of repairs */
} wg_import_stats;

/* Code layout (DESIGN.md): county 6 + street 3 + community 3 + grid 3 (or 2) digits. A parent
 * code derived from a code: 9-digit district -> none, 12-digit community -> its first 9,
 * 14/15-digit grid -> its first 12. Returns the parent length, or 0 if not derivable. */
WG_API size_t wg_code_parent_len(int level, const char *code);

/* File format by name: .csv is CSV; anything else is GeoJSON. */
WG_API int wg_import_units(wg_ctx *ctx, const char *path, const wg_unit_import_opts *opts,
                           wg_import_stats *stats /* out */);
WG_API int wg_import_addresses(wg_ctx *ctx, const char *path, const wg_point_import_opts *opts,
                               wg_import_stats *stats /* out */);
WG_API int wg_import_events(wg_ctx *ctx, const char *path, const wg_point_import_opts *opts,
                            wg_import_stats *stats /* out */);

#ifdef __cplusplus
}
#endif
#endif
