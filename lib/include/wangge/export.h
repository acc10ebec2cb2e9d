/* wangge — export of units as GeoJSON. */
#ifndef WANGGE_EXPORT_H
#define WANGGE_EXPORT_H

#include <stdio.h>
#include "wangge/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes the units of one level (1..3) of a generation (0 = active) to out as a GeoJSON
 * FeatureCollection, streamed row by row, ordered by code. Each feature has id = code and
 * properties code, name, parent, level, area_m2, generation, plus the unit's other imported
 * properties. *count (may be NULL) receives the number of features written. */
WG_API int wg_export_units(wg_ctx *ctx, int64_t generation, int level, FILE *out,
                           size_t *count /* out */);

#ifdef __cplusplus
}
#endif
#endif
