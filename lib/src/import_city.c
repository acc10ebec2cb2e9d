/* wg_import_city: a city directory (wangge gen output) into an empty store. */
#include "wangge/assign.h"
#include "wangge/events.h"
#include "wangge/import.h"
#include "wangge/store.h"
#include "wangge/validate.h"
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int file_in(char *buf, size_t n, const char *dir, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
    return access(buf, R_OK) == 0;
}

int wg_import_city(wg_ctx *ctx, const char *dir, wg_city_stats *stats)
{
    wg_city_stats local, *st = stats ? stats : &local;
    memset(st, 0, sizeof *st);
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    wg_generation *gens = NULL;
    size_t ngens = 0;
    int rc = wg_gen_list(ctx, &gens, &ngens);
    free(gens);
    if (rc != WG_OK) return rc;
    if (ngens > 0) return wg_fail(ctx, WG_ECONFLICT, "the store already has generations");
    char path[4096];
    static const char *const LEVEL_FILE[4] = {NULL, "districts.geojson", "communities.geojson", "grids.geojson"};
    for (int level = 1; rc == WG_OK && level <= 3; level++) {
        if (!file_in(path, sizeof path, dir, LEVEL_FILE[level]))
            return wg_fail(ctx, WG_EIO, "cannot read %s", path);
        wg_unit_import_opts o = {.level = level};
        wg_import_stats is;
        rc = wg_import_units(ctx, path, &o, &is);
        st->units += is.imported;
    }
    if (rc == WG_OK) rc = wg_gen_publish(ctx, 1.0, 0, &st->generation, NULL);
    wg_point_import_opts po = {0};
    wg_import_stats is;
    if (rc == WG_OK && file_in(path, sizeof path, dir, "addresses.csv")) {
        rc = wg_import_addresses(ctx, path, &po, &is);
        st->addresses = is.imported;
    }
    if (rc == WG_OK && file_in(path, sizeof path, dir, "events.csv")) {
        rc = wg_import_events(ctx, path, &po, &is);
        st->events = is.imported;
    }
    if (rc == WG_OK && file_in(path, sizeof path, dir, "workers.csv")) {
        rc = wg_import_workers(ctx, path, &po, &is);
        st->workers = is.imported;
    }
    static const char *const LAYERS[] = {"roads", "rivers", "thematic_rental", "thematic_family_planning"};
    for (size_t i = 0; rc == WG_OK && i < sizeof LAYERS / sizeof *LAYERS; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.geojson", LAYERS[i]);
        if (!file_in(path, sizeof path, dir, name)) continue;
        wg_unit_import_opts o = {0};
        rc = wg_import_layer(ctx, path, LAYERS[i], &o, &is);
        st->layer_features += is.imported;
    }
    if (rc == WG_OK && (st->addresses || st->events)) {
        wg_assign_stats as;
        rc = wg_assign(ctx, st->generation, 0, NULL, NULL, &as);
    }
    /* the event loop's tables: categories (time limits), a working calendar if the city has
     * one (else the default one applies), and the imported events' grid and time columns */
    if (rc == WG_OK && file_in(path, sizeof path, dir, "categories.csv"))
        rc = wg_categories_import(ctx, path, 0, NULL, NULL, NULL);
    if (rc == WG_OK && file_in(path, sizeof path, dir, "calendar.ini"))
        rc = wg_calendar_import(ctx, path, NULL);
    if (rc == WG_OK && st->events) rc = wg_events_backfill(ctx, st->generation, NULL);
    return rc;
}
