/* Private: what the redraw modules (redraw.c: edits and codes; redraw_diff.c: diffs) share. */
#ifndef WANGGE_REDRAW_INTERNAL_H
#define WANGGE_REDRAW_INTERNAL_H

#include "internal.h"

/* Two unit geometries count as the same when, normalised (GEOSNormalize: ring order and start
 * points canonical), they are equal vertex for vertex to REDRAW_SAME_TOL_DEG (about 0.1 mm),
 * or are topologically equal (GEOSEquals: the same point set, e.g. with an extra vertex on an
 * edge). Returns 1 same, 0 different, -1 on a GEOS error (recorded on ctx). */
#define REDRAW_SAME_TOL_DEG 1e-9
int wg_redraw_same_geom(wg_ctx *ctx, const GEOSGeometry *a, const GEOSGeometry *b);

#endif
