/* wangge — redraws: editing the draft generation, diffing it against the active one,
 * keeping codes across generations, rolling back.
 *
 * Codes (DESIGN.md): a unit whose geometry is unchanged keeps its code; a changed unit keeps
 * the code of the old unit (same parent) it overlaps most by households, chosen by an optimal
 * one-to-one assignment (Hungarian method); only units left without an old partner get new
 * codes, the next free sequence numbers under their parent, given in reading order
 * (west→east, north→south).
 *
 * In detail, for an edit that replaces old units O (all of one parent, in the draft) by new
 * units N:
 *   1. a new unit with a code given keeps it (that old code is then taken);
 *   2. a new unit whose geometry equals an old unit's (normalised, to 1e-9°, or topologically
 *      equal) takes that code; if its name is not given or is the same, the old row itself
 *      stays (units never change in place: nothing is written for it);
 *   3. the other new units and the old units left form a matrix of shared households: the
 *      households of the addresses (as stored now) that lie in both, each address placed in
 *      one old and one new unit by the boundary rule (pindex.h); shared area in m² breaks ties
 *      and decides where no households are shared. An optimal one-to-one assignment
 *      (Kuhn–Munkres) maximises the households keeping their code, then the area; a pair that
 *      shares neither households nor 1 m² is no match;
 *   4. the rest get new codes: parent code + a sequence of the width the parent's units use
 *      (3 digits, or 2 where its codes are 14 digits), numbered in reading order from one above
 *      the highest sequence ever used under that parent in any generation. Codes of retired
 *      units are therefore never issued again to a different area (events and worker rosters
 *      keep old codes); only when the sequence space above is used up are never-used lower
 *      numbers taken, and WG_ECONFLICT is returned when none is left.
 * A name not given is the old unit's when the code is kept, "<parent name>第N网格" for a new
 * work grid under a named community (N its sequence number), else none.
 *
 * Rows (store.h): an edit closes the old rows at the generation before the draft (or deletes
 * them if they were born in the draft) and inserts new rows starting at the draft. Units of
 * other parents are never touched. An edit on level 2 does not move the grids of the changed
 * communities: validation reports what no longer nests. */
#ifndef WANGGE_REDRAW_H
#define WANGGE_REDRAW_H

#include "wangge/common.h"
#include "wangge/import.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One unit to put into the draft. */
typedef struct wg_new_unit {
    const GEOSGeometry *geom; /* Polygon or MultiPolygon, lon/lat, on ctx's GEOS handle;
                                 not consumed */
    const char *name;         /* NULL: derived from the code */
    const char *code;         /* NULL: assigned by the code rule above */
} wg_new_unit;

/* Replaces, in the draft generation (created from the active one if there is none), every
 * unit of `level` (2 or 3) whose parent is parent_code by units[0..n), in one transaction.
 * Codes follow the rule above. If codes is not NULL, *codes gets a new array of n strings (the
 * code given to each unit, same order), freed by the caller with wg_codes_free(codes, n).
 * WG_ENOTFOUND: no unit parent_code of level - 1 in the draft; WG_EDATA: a geometry is not
 * polygonal or not valid; WG_EINVAL: n == 0 or level out of range. Nothing changes on failure.
 * Also WG_ECONFLICT: a given code is repeated, or is used by a unit of the level in the draft
 * that is not being replaced, or no sequence number is left for a new code. Runs in its own
 * transaction, or inside the caller's (as a savepoint) when one is open. */
WG_API int wg_draft_replace_children(wg_ctx *ctx, int level, const char *parent_code,
                                     const wg_new_unit *units, size_t n, char ***codes /* out */);
WG_API void wg_codes_free(char **codes, size_t n);

/* Replaces the one unit `code` (level 2 or 3) of the draft by parts[0..n) (n >= 1), its
 * siblings untouched: the part holding most of its households keeps the code, the others get
 * new codes in reading order (the rule above with O = {code}). *codes as above.
 * WG_ENOTFOUND: no such unit in the draft (or it is a district). Other errors as above. */
WG_API int wg_draft_split(wg_ctx *ctx, const char *code, const wg_new_unit *parts, size_t n,
                          char ***codes /* out */);

/* Dissolves the sibling units codes[0..n) (n >= 2, level 2 or 3, one parent) of the draft
 * into one unit (their union; name as given, or NULL for the rule above). The merged unit
 * keeps the code of the unit holding most households (most area if none has any). *code (may
 * be NULL) gets that code, freed with free(). WG_ENOTFOUND: a code is not in the draft;
 * WG_EINVAL: fewer than 2 codes, a code repeated, different levels or parents. */
WG_API int wg_draft_merge(wg_ctx *ctx, const char *const *codes, size_t n, const char *name,
                          char **code /* out */);

/* Drops the draft generation: its own rows, its assignment rows, and the generation; rows it
 * closed are open again. WG_ENOTFOUND if there is no draft. *id (may be NULL) gets its id. */
WG_API int wg_draft_discard(wg_ctx *ctx, int64_t *id /* out */);

/* Reads units for an edit from a GeoJSON file (FeatureCollection, newline-delimited features
 * or one Feature; "-" = stdin): Polygon/MultiPolygon features with the optional properties
 * "code" and "name". Each bad feature (geometry faults as for imports: wrong_type, malformed,
 * nan, out_of_range, too_few_points, unclosed_ring, invalid; bad_code if longer than 32) is
 * passed to on_issue (may be NULL); repair makes invalid polygons valid and closes rings, as
 * import --repair. WG_EDATA if any feature was rejected or there is none (nothing returned).
 * *units (geometries on ctx's handle) is freed with wg_new_units_free(ctx, units, n). */
WG_API int wg_new_units_read(wg_ctx *ctx, const char *path, int repair, wg_issue_fn on_issue,
                             void *ud, wg_new_unit **units /* out */, size_t *n /* out */);
WG_API void wg_new_units_free(wg_ctx *ctx, wg_new_unit *units, size_t n);

/* Makes the previous generation active again and the active one retired, in one transaction:
 * the previous generation is the one that was active before the active one became active
 * (the newest retired generation older than the active one that was not itself rolled back
 * from), so repeated rollbacks walk back through the publications. Every address and event is
 * assigned in it in the same transaction (its assignment rows rewritten, as a publish writes
 * the new generation's). *id gets the generation now active.
 * WG_ENOTFOUND: no active generation or none to go back to. A draft is left as it is. */
WG_API int wg_gen_rollback(wg_ctx *ctx, int64_t *id /* out */);

/* ---------------------------------------------------------------- diff */

typedef enum wg_unit_change { WG_UNIT_ADDED, WG_UNIT_REMOVED, WG_UNIT_CHANGED } wg_unit_change;
/* "added", "removed", "changed"; static strings. */
WG_API const char *wg_unit_change_name(wg_unit_change c);

/* A unit whose code is in only one of the generations, or in both with another row that
 * differs (geometry, name or parent). */
typedef struct wg_diff_unit {
    int level;
    wg_unit_change change;
    char *code;
    char *name_from, *name_to;       /* NULL where absent */
    char *parent_from, *parent_to;   /* NULL where absent */
    int geometry_changed;            /* 1 for added/removed and for a changed geometry */
    double area_from_m2, area_to_m2; /* 0 where absent */
} wg_diff_unit;

/* An address or event whose work grid differs between the generations. Codes are owned by
 * the diff; NULL means outside every grid. */
typedef struct wg_diff_move {
    int64_t id;
    const char *from_code, *to_code;
    int64_t households; /* addresses; 0 for events */
} wg_diff_move;

enum {
    WG_WORKER_HOME_REMOVED = 1, /* the home grid's code is not in the `to` generation */
    WG_WORKER_HOME_CHANGED = 2, /* the home grid is in both, with another geometry */
    WG_WORKER_MOVED = 4         /* the last known position lies in another grid (by code) */
};
typedef struct wg_diff_worker {
    char *id, *name, *home_grid;             /* home_grid may be NULL */
    unsigned reasons;                        /* WG_WORKER_* bits */
    const char *position_from, *position_to; /* grid of the last position in each generation
                                                (owned by the diff); NULL outside or unknown */
} wg_diff_worker;

/* Households of one community or grid code in each generation (assigned by the boundary
 * rule); in_from/in_to say whether the code exists there. */
typedef struct wg_diff_balance {
    int level;
    const char *code; /* owned by the diff */
    int in_from, in_to;
    int64_t households_from, households_to;
} wg_diff_balance;

typedef struct wg_diff {
    int64_t from, to;
    wg_diff_unit *units; /* by level, then code */
    size_t nunits;
    size_t unchanged[4];              /* per level [1..3]: codes in both with the same unit */
    wg_diff_move *addresses, *events; /* by id */
    size_t naddresses, nevents;
    size_t addresses_total, events_total;
    int64_t households_moved; /* sum over addresses */
    wg_diff_worker *workers;  /* by id */
    size_t nworkers;
    wg_diff_balance *balance; /* every community and grid code of either generation, by level
                                 then code */
    size_t nbalance;
    double seconds;
    char **strings; /* the codes pointed to above */
    size_t nstrings;
} wg_diff;

/* Compares generation `from` with `to` (0 for from: the active one; 0 for to: the draft).
 * Every address, event and worker position is placed in both generations by an in-memory
 * point-in-polygon pass (the lookup index, lookup.h), not read from stored assignments, so the
 * diff is right for a draft never assigned and for points imported since the last run.
 * Caller frees *out with wg_diff_free(). WG_ENOTFOUND: a generation does not exist (or no
 * draft/active one for 0). */
WG_API int wg_gen_diff(wg_ctx *ctx, int64_t from, int64_t to, wg_diff **out /* out */);
WG_API void wg_diff_free(wg_diff *d);

/* The diff as JSON text (malloc'd; NULL when out of memory):
 * {"from":1,"to":2,
 *  "units":{"added":[U],"removed":[U],"changed":[U],"unchanged":{"district":n,"community":n,
 *           "grid":n}}  with U = {"level":"grid","code","name_from","name_to","parent_from",
 *           "parent_to","geometry_changed":bool,"area_m2_from","area_m2_to"},
 *  "addresses":{"total":n,"changed":k,"households_changed":h,
 *               "items":[{"id","from","to","households"}]},   (codes, null = outside)
 *  "events":{"total":n,"changed":k,"items":[{"id","from","to"}]},
 *  "workers":[{"id","name","home_grid","home_removed":bool,"home_changed":bool,
 *              "moved":bool,"position_from","position_to"}],
 *  "households":{"community":[B],"grid":[B]}  with B = {"code","from","to"} (null where the
 *           code is absent),
 *  "seconds":s} */
WG_API char *wg_diff_json(const wg_diff *d);
/* The diff for people: a summary, then every unit, move and worker, then the households of
 * every community and grid whose count changes. */
WG_API void wg_diff_print(const wg_diff *d, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
