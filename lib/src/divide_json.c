/* Division results: freeing them and their JSON (see wangge/divide.h). */
#include "wangge/divide.h"
#include "divide_internal.h"
#include "geom.h"
#include "json_out.h"

#include <json-c/json.h>
#include <stdlib.h>

void wg_plan_free(wg_ctx *ctx, wg_plan *p)
{
    if (!p) return;
    for (int i = 0; p->grids && i < p->n; i++)
        if (p->grids[i].geom) GEOSGeom_destroy_r(ctx->geos, p->grids[i].geom);
    free(p->grids);
    free(p);
}

void wg_division_free(wg_ctx *ctx, wg_division *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n; i++)
        wg_plan_free(ctx, d->plans[i]);
    free(d->plans);
    free(d);
}

static json_object *grid_json(wg_ctx *ctx, const wg_grid_plan *g, unsigned flags)
{
    json_object *o = json_object_new_object(), *label = json_object_new_array();
    if (!o || !label) {
        json_object_put(o);
        json_object_put(label);
        return NULL;
    }
    json_object_object_add(o, "code", g->code[0] ? json_object_new_string(g->code) : NULL);
    json_object_object_add(o, "households", json_object_new_int64(g->households));
    json_object_object_add(o, "deviation", wg_json_fixed(g->deviation, "%.1f"));
    json_object_object_add(o, "deviation_pct", wg_json_fixed(g->deviation_pct, "%.2f"));
    json_object_object_add(o, "area_m2", wg_json_fixed(g->area_m2, "%.1f"));
    json_object_object_add(o, "perimeter_m", wg_json_fixed(g->perimeter_m, "%.1f"));
    json_object_object_add(o, "polsby_popper", wg_json_fixed(g->polsby_popper, "%.4f"));
    json_object_object_add(o, "road_share_internal", wg_json_fixed(g->road_share_internal, "%.4f"));
    json_object_object_add(o, "road_share", wg_json_fixed(g->road_share, "%.4f"));
    json_object_object_add(o, "parts", json_object_new_int(g->parts));
    json_object_object_add(o, "units", json_object_new_int64((int64_t)g->units));
    json_object_array_add(label, wg_json_fixed(g->lon, "%.7f"));
    json_object_array_add(label, wg_json_fixed(g->lat, "%.7f"));
    json_object_object_add(o, "label", label);
    if (flags & WG_DIVIDE_JSON_GEOMETRY) {
        char *gj = wg_geom_to_geojson(ctx, g->geom);
        json_object_object_add(o, "geometry", gj ? json_tokener_parse(gj) : NULL);
        if (gj) GEOSFree_r(ctx->geos, gj);
    }
    return o;
}

static json_object *plan_json(wg_ctx *ctx, const wg_plan *p, unsigned flags)
{
    json_object *o = json_object_new_object(), *grids = json_object_new_array();
    if (!o || !grids) {
        json_object_put(o);
        json_object_put(grids);
        return NULL;
    }
    json_object_object_add(o, "community", json_object_new_string(p->community));
    json_object_object_add(o, "name", json_object_new_string(p->name));
    json_object_object_add(o, "households", json_object_new_int64(p->households));
    json_object_object_add(o, "grids", json_object_new_int(p->n));
    json_object_object_add(o, "target", wg_json_fixed(p->target, "%.2f"));
    json_object_object_add(o, "band_feasible", json_object_new_boolean(p->band_feasible));
    json_object_object_add(o, "band_met", json_object_new_boolean(p->band_met));
    json_object_object_add(o, "note", p->note[0] ? json_object_new_string(p->note) : NULL);
    json_object_object_add(o, "faces", json_object_new_int64((int64_t)p->faces));
    json_object_object_add(o, "units", json_object_new_int64((int64_t)p->units));
    json_object_object_add(o, "split_faces", json_object_new_int64((int64_t)p->split_faces));
    json_object_object_add(o, "slivers", json_object_new_int64((int64_t)p->slivers));
    json_object_object_add(o, "thematic_before",
                           json_object_new_int64((int64_t)p->thematic_before));
    json_object_object_add(o, "max_abs_deviation", wg_json_fixed(p->max_abs_dev, "%.1f"));
    json_object_object_add(o, "max_abs_deviation_pct", wg_json_fixed(p->max_abs_dev_pct, "%.2f"));
    json_object_object_add(o, "range", wg_json_fixed(p->range, "%.0f"));
    json_object_object_add(o, "rmse", wg_json_fixed(p->rmse, "%.2f"));
    json_object_object_add(o, "metis_max_abs_deviation_pct",
                           wg_json_fixed(p->metis_max_abs_dev_pct, "%.2f"));
    json_object_object_add(o, "cut_m", wg_json_fixed(p->cut_m, "%.1f"));
    json_object_object_add(o, "cut_on_roads_share",
                           wg_json_fixed(p->cut_m > 0 ? p->cut_on_roads_m / p->cut_m : 1, "%.4f"));
    json_object_object_add(o, "gap_m2", wg_json_fixed(p->gap_m2, "%.3f"));
    json_object_object_add(o, "overlap_m2", wg_json_fixed(p->overlap_m2, "%.3f"));
    json_object_object_add(o, "outside_m2", wg_json_fixed(p->outside_m2, "%.3f"));
    if (!(flags & WG_DIVIDE_JSON_NO_TIMES))
        json_object_object_add(o, "runtime_ms", wg_json_fixed(p->runtime_ms, "%.1f"));
    for (int k = 0; k < p->n; k++)
        json_object_array_add(grids, grid_json(ctx, &p->grids[k], flags));
    json_object_object_add(o, "work_grids", grids);
    return o;
}

char *wg_division_json(wg_ctx *ctx, const wg_division *d, unsigned flags)
{
    if (!d) return NULL;
    json_object *o = json_object_new_object(), *plans = json_object_new_array(), *band = NULL;
    if (!o || !plans) {
        json_object_put(o);
        json_object_put(plans);
        return NULL;
    }
    json_object_object_add(o, "generation", json_object_new_int64(d->generation));
    json_object_object_add(o, "mode", json_object_new_string(d->merge ? "merge" : "divide"));
    json_object_object_add(o, "grids_asked",
                           d->grids_asked ? json_object_new_int(d->grids_asked) : NULL);
    if (d->band_max > 0 && (band = json_object_new_array())) {
        json_object_array_add(band, json_object_new_int(d->band_min));
        json_object_array_add(band, json_object_new_int(d->band_max));
    }
    json_object_object_add(o, "band", band);
    json_object_object_add(o, "written", json_object_new_boolean(d->written));
    json_object_object_add(o, "communities", json_object_new_int64((int64_t)d->n));
    json_object_object_add(o, "households", json_object_new_int64(d->households));
    json_object_object_add(o, "grids", json_object_new_int64((int64_t)d->grids));
    json_object_object_add(o, "thematic_before",
                           d->merge ? json_object_new_int64((int64_t)d->thematic) : NULL);
    if (!(flags & WG_DIVIDE_JSON_NO_TIMES))
        json_object_object_add(o, "runtime_ms", wg_json_fixed(d->runtime_ms, "%.1f"));
    for (size_t i = 0; i < d->n; i++)
        json_object_array_add(plans, plan_json(ctx, d->plans[i], flags));
    json_object_object_add(o, "plans", plans);
    return wg_json_text(o);
}
