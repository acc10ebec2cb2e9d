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

#ifdef __cplusplus
}
#endif
#endif
