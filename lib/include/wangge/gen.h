/* wangge — a synthetic city generator.
 *
 * Makes street offices shaped like the Kuichong office of Shenzhen's Dapeng area (a coastal
 * valley with a river, hills on both sides, old village cores, industrial estates), with every
 * layer the rest of wangge works on: district, communities and work grids that nest and tile
 * exactly (all three levels are unions of blocks cut by one noding of the roads and the river),
 * address points with household counts and standard address labels, the road network and the
 * river, two older thematic grid layers (rental housing, family planning) that overlap each
 * other and ignore community lines, grid workers and officers with positions, and events over
 * 30 days with category codes. Real grid data of Chinese street offices is not public; this
 * data is synthetic and says so.
 *
 * Output is deterministic: the same options give byte-identical files on every run and
 * platform. Offices are generated one at a time and streamed to disk, so memory stays flat
 * whatever the scale. */
#ifndef WANGGE_GEN_H
#define WANGGE_GEN_H

#include "wangge/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits: one office per street sequence number of one county. */
#define WG_GEN_MAX_SCALE 999

typedef struct wg_gen_opts {
    uint64_t seed;      /* the city; 0 is a valid seed */
    int scale;          /* number of offices side by side (default 1) */
    const char *county; /* 6-digit county code (default "440307") */
    int first_street;   /* street sequence of the first office (default 6: 440307006);
                           first_street + scale - 1 must stay <= 999 */
    int households;     /* households per office (default 30000) */
    int grids;          /* work grids per office (default 97) */
    int communities;    /* communities per office (default 9) */
    int events;         /* events per office over 30 days (default 2000) */
    void (*on_office)(void *ud, int done, int total); /* progress, after each office */
    void *ud;
} wg_gen_opts;

typedef struct wg_gen_stats {
    size_t offices, communities, grids, addresses, events, workers, roads, rivers;
    size_t rental_grids, family_planning_grids;
    uint64_t households;
} wg_gen_stats;

/* Writes the city into directory dir (created if missing): districts.geojson,
 * communities.geojson, grids.geojson, addresses.csv, events.csv, workers.csv,
 * categories.csv, roads.geojson, rivers.geojson, thematic_rental.geojson,
 * thematic_family_planning.geojson and summary.json (counts and households per office and
 * community). Each file is written under a temporary name and renamed when complete.
 * opts may be NULL for the defaults; bad options give WG_EINVAL. */
WG_API int wg_gen_city(wg_ctx *ctx, const char *dir, const wg_gen_opts *opts,
                       wg_gen_stats *stats /* out, may be NULL */);

#ifdef __cplusplus
}
#endif
#endif
