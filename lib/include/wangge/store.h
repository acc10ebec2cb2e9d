/* wangge — generations and units in the store.
 *
 * A generation is one version of the three nested levels. At most one is active (what
 * lookups use by default) and at most one is a draft (where imports and edits go). Units
 * never change in place: a unit row belongs to every generation from its first_gen to its
 * last_gen (open-ended while current). */
#ifndef WANGGE_STORE_H
#define WANGGE_STORE_H

#include "wangge/common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { WG_LEVEL_DISTRICT = 1, WG_LEVEL_COMMUNITY = 2, WG_LEVEL_GRID = 3 };
/* "district", "community", "grid"; NULL for other values. Static strings. */
WG_API const char *wg_level_name(int level);
/* Parses "1"/"district"/"districts", "2"/"community"/..., "3"/"grid"/"grids"; 0 if unknown. */
WG_API int wg_level_parse(const char *s);

typedef enum wg_gen_status { WG_GEN_DRAFT, WG_GEN_ACTIVE, WG_GEN_RETIRED } wg_gen_status;
WG_API const char *wg_gen_status_name(wg_gen_status s);

typedef struct wg_generation {
    int64_t id;
    wg_gen_status status;
    char created_at[24], published_at[24]; /* ISO 8601 UTC; published_at "" if never */
    int64_t units[4];                      /* units per level, [1..3] */
} wg_generation;

/* All generations, oldest first. Caller frees *out with free(). */
WG_API int wg_gen_list(wg_ctx *ctx, wg_generation **out, size_t *n /* out */);
/* The active generation's id; WG_ENOTFOUND if none is active. */
WG_API int wg_gen_active(wg_ctx *ctx, int64_t *id /* out */);
/* The draft's id, creating one (holding every unit of the active generation) if there is none
 * and create is set; WG_ENOTFOUND if there is none and create is 0. */
WG_API int wg_gen_draft(wg_ctx *ctx, int create, int64_t *id /* out */);
/* Resolves a requested generation: 0 means the active one; otherwise it must exist. */
WG_API int wg_gen_resolve(wg_ctx *ctx, int64_t requested, int64_t *id /* out */);
/* Status of a generation; WG_ENOTFOUND if it does not exist. */
WG_API int wg_gen_get_status(wg_ctx *ctx, int64_t id, wg_gen_status *status /* out */);

/* A number that changes whenever the units of generation id change (edits to a draft; a
 * published or retired generation never changes): servers key their caches of a draft by it.
 * 0 for a generation that is not the draft. */
WG_API int wg_gen_revision(wg_ctx *ctx, int64_t id, uint64_t *rev /* out */);

struct wg_report;
/* Publishes the draft: validates it (tolerance tol_m2) and, if it has no faults or force is
 * set, makes it active and the previous active one retired, in one transaction. *gen gets the
 * published id. *report (may be NULL) gets the validation report; the caller frees it with
 * wg_report_free(). WG_ENOTFOUND: no draft; WG_EFAULTS: refused because of faults;
 * WG_EDATA: the draft has no units. */
WG_API int wg_gen_publish(wg_ctx *ctx, double tol_m2, int force, int64_t *gen /* out */,
                          struct wg_report **report /* out */);

/* One unit with its geometry, as loaded for validation, indexing and export. */
typedef struct wg_unit {
    int64_t id;
    int level;
    char *code, *parent_code, *name; /* parent_code may be NULL */
    double area_m2;
    GEOSGeometry *geom; /* MultiPolygon, lon/lat */
    int32_t parent;     /* index of the parent unit in the same set, -1 if none found */
} wg_unit;

typedef struct wg_unit_set {
    int64_t generation;
    wg_unit *units; /* ordered by level, then code */
    size_t n;
    size_t level_begin[5]; /* units of level L are [level_begin[L], level_begin[L+1]) */
} wg_unit_set;

/* Loads the units of a generation whose level is in level_mask (bit 1 << level; 0 = all),
 * resolving each unit's parent by parent_code among the loaded units of level - 1. The
 * geometries belong to ctx's GEOS handle. Caller frees with wg_unit_set_free(ctx, set). */
WG_API int wg_units_load(wg_ctx *ctx, int64_t generation, unsigned level_mask,
                         wg_unit_set **out);
WG_API void wg_unit_set_free(wg_ctx *ctx, wg_unit_set *set);
/* Index of the unit with this code in the set, or -1 (binary search within its level). */
WG_API int32_t wg_unit_set_find(const wg_unit_set *set, int level, const char *code);

/* ---------------------------------------------------------------- check and backup */

/* One check of wg_store_check. Structural checks (integrity, foreign_keys, spatial_index,
 * schema) fail when the file itself is damaged; the others when the store breaks one of the
 * model's invariants (two active generations, an address with no assignment, ...). */
typedef struct wg_check_item {
    const char *name; /* static: "integrity", "unassigned", ... (docs/crash-safety.md) */
    int structural;   /* 1 for the file-level checks */
    int ok;           /* 1 passed; 0 failed; -1 skipped (message says why) */
    int64_t count;    /* offending rows, pairs or messages (0 when ok) */
    char message[640];
} wg_check_item;

#define WG_CHECK_ITEMS 12
typedef struct wg_check_report {
    int64_t active; /* the active generation, 0 if none */
    size_t n, failed, failed_structural;
    wg_check_item items[WG_CHECK_ITEMS];
    double seconds;
} wg_check_report;

/* WG_CHECK_QUICK: PRAGMA quick_check instead of integrity_check and no validation of the
 * active generation's geometry. */
enum { WG_CHECK_QUICK = 1 };

/* Checks the store open on ctx: SQLite's integrity_check (or quick_check) and foreign_key_check,
 * the R*Tree spatial indexes against their tables, the schema's guard indexes, then wangge's
 * invariants: at most one active and one draft generation (exactly one active once any was
 * published); every address and event has exactly one assignment row in the active generation,
 * naming a work grid of that generation (or outside, with the nearest grid and a distance);
 * assignments of active and retired generations name grids of their generation and items that
 * exist; events name the generation they were filed under and its grid; an event's status is
 * the to-status of its last step; no event is stored twice (identical copies); the active
 * generation validates (wg_validate, tolerance 1 m2). Finding faults is not a failure: returns
 * WG_OK with out->failed > 0. A check that cannot run on a damaged file fails with SQLite's
 * message (the others still run); a busy store is WG_ESTORE. Needs read access only. */
WG_API int wg_store_check(wg_ctx *ctx, unsigned flags, wg_check_report *out);
/* "integrity ok" lines, one per check, then a summary line. Caller frees with free(); NULL when
 * out of memory. */
WG_API char *wg_check_report_text(const wg_check_report *r);
/* {"ok":bool,"active_generation":N|null,"failed":["name",...],"checks":[{"name","structural",
 *  "ok":true|false|null,"count","message"}],"seconds"}. Caller frees with free(). */
WG_API char *wg_check_report_json(const wg_check_report *r);
/* "generations, unassigned" (the failed checks' names) into buf; "" when none failed. */
WG_API void wg_check_report_failed(const wg_check_report *r, char *buf, size_t len);

/* Writes a consistent copy of the store open on ctx to out_path with SQLite's online backup
 * API: a read transaction pins one snapshot (in WAL mode writers go on meanwhile), pages are
 * copied in steps into out_path.tmp, which is switched to a rollback journal (a self-contained
 * file), synced, checked with wg_store_check (quick unless full_check) and renamed to
 * out_path (an existing out_path is replaced only with overwrite; never the store itself).
 * A copy that fails a structural check is deleted (WG_ESTORE); one that only breaks an
 * invariant is kept (the source breaks it too) and reported in *check. *pages gets the pages
 * copied (may be NULL). WG_EIO when out_path cannot be written, WG_ECONFLICT when it exists. */
WG_API int wg_store_backup(wg_ctx *ctx, const char *out_path, int overwrite, int full_check,
                           int64_t *pages /* out */, wg_check_report *check /* out */);

enum { WG_RESTORE_OVERWRITE = 1, WG_RESTORE_ALLOW_FAULTS = 2 };
/* Replaces the store at store_path with a copy of backup_path, never half-written: the backup
 * is copied to a temporary file beside store_path, synced, checked with wg_store_check (full),
 * and renamed over store_path. Refused, with store_path untouched: a backup that is not a
 * wangge store or fails a structural check (WG_EDATA), or an invariant check unless
 * WG_RESTORE_ALLOW_FAULTS (WG_EFAULTS); an existing store_path without WG_RESTORE_OVERWRITE
 * (WG_ECONFLICT); a store_path another process has open, e.g. a running server (WG_ECONFLICT,
 * whatever the flags). ctx only carries the error message (no store need be open). *check
 * gets the backup's report. */
WG_API int wg_store_restore(wg_ctx *ctx, const char *backup_path, const char *store_path,
                            unsigned flags, wg_check_report *check /* out */);

#ifdef __cplusplus
}
#endif
#endif
