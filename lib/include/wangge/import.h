/* wangge — importing units, addresses, events, workers and reference layers into the store.
 *
 * Units (GeoJSON FeatureCollection or newline-delimited features, streamed) go into the draft
 * generation (created from the active one if there is none). Addresses and events (CSV with a
 * header row, or GeoJSON points) are appended. Workers are upserted by id. Reference layers
 * (roads, rivers, thematic grids) are named sets of features outside the generations. Every
 * import is one transaction and, by default, all-or-nothing: every rejected feature is
 * reported (index or line, and why), and if any was rejected nothing is stored. */
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
    int replace; /* delete all stored addresses (events) and their assignments first; workers:
                    delete all stored workers first */
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
    double repaired_area_change_m2; /* units, layers: sum of |area after - area before| of
                                       repairs */
    size_t updated; /* workers: how many of the imported rows updated a stored worker */
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

/* Workers: CSV with a header row (or GeoJSON features, see below). Columns, by name in any
 * order: id (required, 1-64 characters), name (required), role (required: grid_worker or
 * officer), phone, home_grid (a work-grid code, at most 32 characters; may be empty, as for
 * officers; not checked against the units, whose codes live in generations), lon and lat
 * (opts->lon_col/lat_col; both or neither: empty means no position known; an absent pair of
 * columns too), on_duty (0 or 1; true/false also read), seen_at (time of the position, text).
 * GeoJSON: Point features (or features with a null geometry: no position) carrying the same
 * properties; the id may also be the feature's own "id" member.
 * Rejections, by CSV line or feature index: missing_id, bad_id, duplicate_id (the id appeared
 * earlier in the file), missing_name, bad_role, bad_home_grid, bad_coordinates (not numbers,
 * only one of the pair, NaN, or out of range; a non-Point geometry), bad_on_duty.
 * An id already stored is updated (upsert; stats->updated counts these), because a roster is
 * re-exported whole and re-imported as it changes: the file's row replaces name, phone, role
 * and home_grid (empty = none, so a grid worker who becomes an officer loses the grid); an
 * empty position or on_duty means "not known here" and keeps the stored one, so a roster
 * import never erases positions the workers' phones reported since. opts->replace deletes
 * every stored worker first (the file is then the whole roster). The columns households,
 * label, code, category, ... of opts are not used. opts may be NULL (defaults). */
WG_API int wg_import_workers(wg_ctx *ctx, const char *path, const wg_point_import_opts *opts,
                             wg_import_stats *stats /* out */);

/* Longest layer name. Layer names are 1-32 characters of [a-z0-9_]. */
#define WG_LAYER_NAME_MAX 32

/* A reference layer: streamed GeoJSON features (FeatureCollection, GeoJSONSeq or one
 * Feature) with Point, MultiPoint, LineString, MultiLineString, Polygon or MultiPolygon
 * geometries, stored as they are (a LineString stays a LineString) under the layer name. Read
 * from opts: code_prop (default "code"; "id" also reads the feature's own id member) and
 * name_prop (default "name"), both optional per feature (a code is at most 64 characters);
 * the class is the property "class", else "theme" (roads: arterial|street|lane, rivers:
 * river, thematic grids: their theme); every other property is kept as JSON text in props.
 * Codes need not be unique (a road may come in several segments). opts->repair,
 * skip_rejected and replace (replace this layer's features, other layers untouched) as for
 * units; opts->level and parent_prop are not used. opts may be NULL (defaults).
 * Rejections, by feature index: the geometry faults of units (wrong_type, malformed, nan,
 * out_of_range, too_few_points — a line needs 2 positions, a ring 4 —, unclosed_ring, empty,
 * too_many_vertices), invalid (GEOS validity; polygons can be repaired with opts->repair,
 * lines cannot), bad_code. Layers are reference data: not versioned by generation.
 * WG_EINVAL if the layer name is not 1-32 characters of [a-z0-9_]. */
WG_API int wg_import_layer(wg_ctx *ctx, const char *path, const char *layer,
                           const wg_unit_import_opts *opts, wg_import_stats *stats /* out */);

/* One stored layer with its feature counts by geometry kind (multi forms included). */
typedef struct wg_layer_info {
    char name[WG_LAYER_NAME_MAX + 1];
    size_t features, points, lines, polygons;
} wg_layer_info;

/* Every stored layer, by name. Caller frees *out with free() (NULL when there are none). */
WG_API int wg_layers_list(wg_ctx *ctx, wg_layer_info **out, size_t *n /* out */);

/* Loads a whole city directory as `wangge gen` writes it (geodata/): districts, communities
 * and grids (.geojson) into a new generation that is validated and published, then
 * addresses.csv, events.csv, workers.csv and the reference layers (roads, rivers,
 * thematic_rental, thematic_family_planning) where present, and assigns every point. Meant
 * for an empty store (a server's first start): WG_ECONFLICT if the store has any generation. */
typedef struct wg_city_stats {
    int64_t generation;
    size_t units, addresses, events, workers, layer_features;
} wg_city_stats;
WG_API int wg_import_city(wg_ctx *ctx, const char *dir, wg_city_stats *stats /* may be NULL */);

#ifdef __cplusplus
}
#endif
#endif
