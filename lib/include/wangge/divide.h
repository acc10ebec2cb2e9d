/* wangge — division of communities into work grids, and 多网合一 (merging thematic grids).
 *
 * Model (docs/divide.md has the details and the reasons for the constants):
 *   1. Base units. The community polygon is cut by the road and river lines that cross it
 *      (layers 'roads' and 'rivers'; when merging, also by the boundaries of the thematic
 *      grids of the layers named), noded once with snap rounding to 1e-7° so neighbouring
 *      faces share their edges vertex for vertex. A face heavier than the household cap is cut
 *      by a straight line across its longer axis, between two address points (never through
 *      one), and the whole arrangement is noded again until no face is too heavy (or a face
 *      holds a single address location). Slivers (under 50 m², or under 1.5 m wide) join the
 *      neighbour they share most boundary with. Households are the address points located
 *      in each face (pindex.h boundary rule).
 *   2. Partition. The unit adjacency graph is partitioned with METIS (k-way, fixed seed):
 *      vertex weight = households + 5 per km² (so empty hillside is not free), edge weight =
 *      shared length × a cost per metre by what the edge lies on: river or arterial 1,
 *      street 2, lane 3, a thematic-grid boundary 8, nothing (a cut through a block) 30. So
 *      cutting along roads is cheap.
 *   3. Repair. Every grid is made non-empty and connected (stray components join the
 *      neighbouring grid they share most boundary with); then boundary units move between
 *      neighbouring grids, never disconnecting a grid (single moves, chains of moves along a
 *      path of grids, pair exchanges), as long as that reduces, in this order of weight:
 *      households outside the band, squared deviation from the target, cut cost. The best
 *      of 8 METIS seeds is kept. Deterministic: ties go to the lowest index.
 *   4. Grids are coverage unions of their faces (planar.h), so neighbouring grids share their
 *      edges exactly, in reading order (west→east, north→south). Snap rounding may move the
 *      community's outline by up to 1e-7° where a line passes within that of it; the grids are
 *      therefore clipped to the community's own outline and the slivers left between them and
 *      it (a few cm², measured and reported) join the grid they touch most, so the grids tile
 *      the stored community.
 * Number of grids: exactly opts.grids, or for a band [min, max] the n whose average
 * households/n lies in the band closest to its middle; if no n puts the average in the band,
 * WG_EDATA with the feasible choices in the message (unless best_effort).
 */
#ifndef WANGGE_DIVIDE_H
#define WANGGE_DIVIDE_H

#include "wangge/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults of 多网合一 when no band is given: about 300 households per work grid (the usual
 * staffing rule of Chinese urban grid management), within ±20 %. */
#define WG_MERGE_BAND_MIN 240
#define WG_MERGE_BAND_MAX 360
/* Grids per community at most: the grid sequence of a 15-digit code has 3 digits. */
#define WG_DIVIDE_MAX_GRIDS 999

typedef struct wg_divide_opts {
    int grids;                 /* > 0: exactly this many grids per community; 0: use the band */
    int band_min, band_max;    /* households per grid (grids == 0): 0 <= min <= max, max > 0 */
    int best_effort;           /* a band no n can meet: divide with the n whose average is
                                  nearest the band (reported) instead of failing */
    const char *const *layers; /* merge: thematic layers (table layer_features) whose grid */
    size_t nlayers;            /* boundaries cut base units; NULL / 0 for plain division */
    int64_t generation;        /* read communities from it; 0 = the draft if any, else active */
    int write;                 /* 1: write the grids into the draft, replacing each community's
                                  work grids (wg_draft_replace_children); 0: a dry run */
} wg_divide_opts;

/* One work grid of a plan. */
typedef struct wg_grid_plan {
    GEOSGeometry *geom; /* Polygon or MultiPolygon, lon/lat, on ctx's GEOS handle; owned
                           by the plan */
    char code[33];      /* the code it was given in the draft; "" in a dry run */
    int64_t households;
    double deviation;           /* households - target */
    double deviation_pct;       /* 100 * deviation / target (0 when the target is 0) */
    double area_m2;             /* geodesic */
    double perimeter_m;         /* geodesic */
    double polsby_popper;       /* 4 pi A / P^2: 1 for a disc */
    double internal_m;          /* boundary shared with the other grids of the community */
    double road_share_internal; /* share of internal_m on roads or rivers (1 when none) */
    double road_share;          /* share of the whole boundary on roads or rivers */
    int parts;                  /* polygons (1 = connected) */
    size_t units;               /* base units */
    double lon, lat;            /* a point inside (labels) */
} wg_grid_plan;

/* The plan for one community. */
typedef struct wg_plan {
    char community[33]; /* code; "" for wg_divide_region */
    char name[96];
    int64_t households;     /* located in the community */
    int n;                  /* grids */
    double target;          /* households / n */
    int band_min, band_max; /* 0, 0 when grids were asked for */
    int band_feasible;      /* some n puts the average in the band (1 without a band) */
    int band_met;           /* every grid in the band (1 without a band) */
    char note[320];         /* why the band was not met, or "" */
    size_t faces, units;    /* faces of the arrangement; base units after slivers merged */
    size_t split_faces;     /* cuts added through heavy (or, for a large n, big) faces */
    size_t slivers;         /* faces merged into a neighbour */
    size_t thematic_before; /* merge: thematic grids overlapping the community (> 1 m²) */
    wg_grid_plan *grids;    /* n, in reading order */
    double max_abs_dev, max_abs_dev_pct, range, rmse; /* households */
    double metis_max_abs_dev_pct; /* the same for METIS's partition before the repair (NaN
                                     where METIS was not used: 1 grid, < 2 units a grid) */
    double cut_m;                 /* length of boundary between grids */
    double cut_on_roads_m;        /* ... of which on roads or rivers */
    double gap_m2;                /* area of the community covered by no grid (measured) */
    double overlap_m2;            /* area covered by two grids (measured, pairwise) */
    double outside_m2;            /* area of the grids outside the community (measured) */
    double runtime_ms;
} wg_plan;

/* The plans of one call. */
typedef struct wg_division {
    int64_t generation; /* the communities were read from it */
    int merge;          /* layers were given */
    int written;        /* the grids are in the draft */
    int grids_asked, band_min, band_max;
    wg_plan **plans; /* one per community, by community code */
    size_t n;
    size_t grids; /* in all plans */
    int64_t households;
    size_t thematic; /* merge: distinct thematic grids overlapping the communities */
    double runtime_ms;
} wg_division;

/* Divides the community `code`, or every community of the district `code`, or (code NULL)
 * every community of the generation, as described above; with opts->layers, merges those
 * thematic layers (多网合一; band default WG_MERGE_BAND_MIN..MAX, best effort). All plans are
 * made before anything is written. With opts->write each community's work grids in the draft
 * are replaced by its plan, one community per transaction, and each grid's code is recorded.
 * WG_ENOTFOUND: no such community or district (or no generation); WG_EINVAL: bad options;
 * WG_EDATA: a band no number of grids can meet (message: the households and the feasible
 * choices), a community with no area. Caller frees *out with wg_division_free(ctx, *out). */
WG_API int wg_divide(wg_ctx *ctx, const char *code, const wg_divide_opts *opts, wg_division **out);
WG_API void wg_division_free(wg_ctx *ctx, wg_division *d);

/* Pure planning, no store: divides region (Polygon or MultiPolygon) by the lines given.
 * line_class[i] (or NULL: all streets) says what lines[i] is; points are addresses with
 * their households; thematic (may be NULL) are polygons whose boundaries cut base units.
 * opts->write, generation and layers are not used. Caller frees *out with wg_plan_free(). */
enum wg_line_class { WG_LINE_RIVER, WG_LINE_ARTERIAL, WG_LINE_STREET, WG_LINE_LANE };
typedef struct wg_divide_input {
    const GEOSGeometry *region;
    GEOSGeometry *const *lines;
    const int *line_class;
    size_t nlines;
    GEOSGeometry *const *thematic;
    size_t nthematic;
    const double *lon, *lat;
    const int64_t *households;
    size_t npoints;
} wg_divide_input;
WG_API int wg_divide_region(wg_ctx *ctx, const wg_divide_input *in, const wg_divide_opts *opts,
                            wg_plan **out);
WG_API void wg_plan_free(wg_ctx *ctx, wg_plan *p);

/* The division as JSON text (caller frees with free(); NULL when out of memory):
 *   {"generation":G,"mode":"divide"|"merge","grids_asked":N|null,"band":[min,max]|null,
 *    "written":bool,"communities":C,"households":H,"grids":n,"thematic_before":T|null,
 *    "runtime_ms":t,"plans":[{"community","name","households","grids","target","band_feasible",
 *    "band_met","note","faces","units","split_faces","slivers","thematic_before",
 *    "max_abs_deviation","max_abs_deviation_pct","range","rmse","metis_max_abs_deviation_pct",
 *    "cut_m","cut_on_roads_share","gap_m2","overlap_m2","outside_m2","runtime_ms",
 *    "work_grids":[{"code","households","deviation","deviation_pct","area_m2","perimeter_m",
 *    "polsby_popper","road_share_internal","road_share","parts","units","label":[lon,lat]
 *    [,"geometry":GeoJSON]}]}]}
 * Flags: WG_DIVIDE_JSON_GEOMETRY adds each grid's geometry; WG_DIVIDE_JSON_NO_TIMES leaves the
 * runtimes out, so equal inputs give byte-identical text. */
enum { WG_DIVIDE_JSON_GEOMETRY = 1, WG_DIVIDE_JSON_NO_TIMES = 2 };
WG_API char *wg_division_json(wg_ctx *ctx, const wg_division *d, unsigned flags);

#ifdef __cplusplus
}
#endif
#endif
