/* wangge — validating a generation against the invariants of the model.
 *
 * wg_validate checks every unit of a generation: valid polygonal geometry with coordinates in
 * range; a parent of the level above named by parent_code (levels 2 and 3), whose code
 * prefixes the unit's code; the unit inside its parent; siblings not overlapping; siblings
 * covering their parent with no gap; codes unique within a level. Areas are geodesic, in m².
 * Areal faults (outside_parent, overlap, gap) no larger than the tolerance are counted, not
 * listed. Finding faults is not a failure: wg_validate returns WG_OK and the faults are in the
 * report (a publish refuses a generation whose report lists any, with WG_EFAULTS). */
#ifndef WANGGE_VALIDATE_H
#define WANGGE_VALIDATE_H

#include "wangge/common.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wg_fault_kind {
    /* GEOS-invalid, empty or not polygonal: GEOS's reason and location */
    WG_FAULT_INVALID_GEOMETRY,
    /* a coordinate outside lon [-180, 180] / lat [-90, 90]: the first one found */
    WG_FAULT_COORD_RANGE,
    /* a level 2/3 unit whose parent_code is missing or names no unit of level - 1 */
    WG_FAULT_NO_PARENT,
    /* code does not start with parent_code */
    WG_FAULT_CODE_PREFIX,
    /* part of the unit lies outside its parent: area(unit - parent) */
    WG_FAULT_OUTSIDE_PARENT,
    /* two siblings (same parent; on level 1 all districts) overlap: area of the intersection */
    WG_FAULT_OVERLAP,
    /* part of a parent covered by none of its children: one fault per connected part */
    WG_FAULT_GAP,
    /* two or more units of one level share a code (invariant 4: one parent per unit) */
    WG_FAULT_DUPLICATE_CODE,
} wg_fault_kind;

/* "invalid_geometry", "coord_range", "no_parent", "code_prefix", "outside_parent", "overlap",
 * "gap", "duplicate_code"; "unknown" for other values. Static string. */
WG_API const char *wg_fault_kind_name(wg_fault_kind k);

typedef struct wg_fault {
    wg_fault_kind kind;
    int level;       /* level of the unit(s) concerned (gap: the children's level) */
    char code[33];   /* the unit (gap: the parent) */
    char other[33];  /* overlap: the sibling (code < other); outside_parent, no_parent,
                        code_prefix: the parent code; "" if none */
    double area_m2;  /* geodesic area of the faulty part; 0 where there is none */
    double lon, lat; /* a point inside the faulty area, or on the unit, or where GEOS found the
                        geometry invalid; NaN when there is none */
    char detail[200];
} wg_fault;

typedef struct wg_report {
    int64_t generation;
    double tol_m2;    /* areal faults with area <= tol_m2 are counted, not listed */
    size_t units[4];  /* units checked per level, [1..3] */
    wg_fault *faults; /* listed faults, ordered by level, kind, code, other, area (largest
                         first) */
    size_t n;
    size_t below_tol;    /* areal faults within the tolerance: how many ... */
    double below_tol_m2; /* ... and their total area */
    double seconds;      /* wall time of the validation */
} wg_report;

/* Validates generation `generation` (which must exist: WG_ENOTFOUND otherwise) with tolerance
 * tol_m2 >= 0. Returns WG_OK even when faults are found (check (*out)->n); a GEOS error on one
 * unit or pair becomes a fault with detail "GEOS error: ...", never a failed run. Caller frees
 * *out with wg_report_free(). */
WG_API int wg_validate(wg_ctx *ctx, int64_t generation, double tol_m2, wg_report **out);
/* Frees a report. NULL is a no-op. */
WG_API void wg_report_free(wg_report *r);

/* The report as JSON text:
 *   {"generation":N,"tolerance_m2":T,"units":{"district":a,"community":b,"grid":c},"ok":bool,
 *    "faults":[{"kind":"gap","level":3,"code":"...","other":"...","area_m2":12.3,
 *               "location":[lon,lat],"detail":"..."}],
 *    "below_tolerance":{"count":k,"area_m2":x},"seconds":s}
 * "ok" is true when no fault is listed; "location" is null when there is none. Caller frees
 * with free(); NULL when out of memory. */
WG_API char *wg_report_json(const wg_report *r);
/* The report for people: one line per fault, e.g.
 *   gap              grid      parent 440307001001  area 1234.5 m2 at 114.46012 22.63001  (...)
 * then "generation N: X faults (Y below tolerance of T m2)". */
WG_API void wg_report_print(const wg_report *r, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
