/* wangge divide | merge: plan work grids for communities (balanced by households, along
 * roads), or merge thematic grid layers into work grids (多网合一); print the plan and, unless
 * --dry-run, write it into the draft. */
#include "cli.h"
#include "wangge/divide.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* declared for main.c's command table */
int cmd_divide(cli *c, int argc, char **argv);
int cmd_merge(cli *c, int argc, char **argv);

enum {
    OPT_COMMUNITY = 256,
    OPT_DISTRICT,
    OPT_GRIDS,
    OPT_BAND,
    OPT_LAYERS,
    OPT_GEN,
    OPT_JSON,
    OPT_DRY,
    OPT_BEST,
    OPT_GEOM
};
static const struct option DIVIDE_OPTS[] = {{"community", required_argument, NULL, OPT_COMMUNITY},
                                            {"district", required_argument, NULL, OPT_DISTRICT},
                                            {"grids", required_argument, NULL, OPT_GRIDS},
                                            {"band", required_argument, NULL, OPT_BAND},
                                            {"layers", required_argument, NULL, OPT_LAYERS},
                                            {"generation", required_argument, NULL, OPT_GEN},
                                            {"json", no_argument, NULL, OPT_JSON},
                                            {"geometry", no_argument, NULL, OPT_GEOM},
                                            {"dry-run", no_argument, NULL, OPT_DRY},
                                            {"best-effort", no_argument, NULL, OPT_BEST},
                                            {NULL, 0, NULL, 0}};

#define MAX_LAYERS 16

typedef struct dopts {
    const char *community, *district;
    char *layer_buf;
    const char *layers[MAX_LAYERS];
    size_t nlayers;
    int json, geometry;
    wg_divide_opts o;
} dopts;

/* "300-500" */
static int parse_band(const char *s, int *lo, int *hi)
{
    const char *dash = strchr(s, '-');
    if (!dash || dash == s) return 0;
    char a[32];
    size_t n = (size_t)(dash - s);
    if (n >= sizeof a) return 0;
    memcpy(a, s, n);
    a[n] = '\0';
    int64_t x, y;
    if (!cli_parse_i64(a, &x) || !cli_parse_i64(dash + 1, &y)) return 0;
    if (x < 0 || y <= 0 || x > y || y > 100000000) return 0;
    *lo = (int)x;
    *hi = (int)y;
    return 1;
}

/* "a,b": names into d->layers (pointing into d->layer_buf). */
static int parse_layers(dopts *d, const char *s)
{
    free(d->layer_buf);
    if (!(d->layer_buf = strdup(s))) return 0;
    d->nlayers = 0;
    for (char *save = NULL, *t = strtok_r(d->layer_buf, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        if (!*t || d->nlayers == MAX_LAYERS) return 0;
        d->layers[d->nlayers++] = t;
    }
    return d->nlayers > 0;
}

static int parse(cli *c, int argc, char **argv, dopts *d, int merge)
{
    int opt;
    int64_t v;
    d->o.write = 1;
    while ((opt = getopt_long(argc, argv, "", DIVIDE_OPTS, NULL)) != -1) {
        switch (opt) {
        case OPT_COMMUNITY:
            d->community = optarg;
            break;
        case OPT_DISTRICT:
            d->district = optarg;
            break;
        case OPT_GRIDS:
            if (!cli_parse_i64(optarg, &v) || v < 1 || v > WG_DIVIDE_MAX_GRIDS)
                return cli_usage(c, "--grids takes a number from 1 to %d", WG_DIVIDE_MAX_GRIDS);
            d->o.grids = (int)v;
            break;
        case OPT_BAND:
            if (!parse_band(optarg, &d->o.band_min, &d->o.band_max))
                return cli_usage(c, "--band takes MIN-MAX households per grid, e.g. 300-500");
            break;
        case OPT_LAYERS:
            if (!merge) return cli_usage(c, "--layers is an option of 'wangge merge'");
            if (!parse_layers(d, optarg))
                return cli_usage(c, "--layers takes names separated by commas (at most %d)",
                                 MAX_LAYERS);
            break;
        case OPT_GEN:
            if (!cli_parse_i64(optarg, &d->o.generation) || d->o.generation <= 0)
                return cli_usage(c, "--generation takes a positive number");
            break;
        case OPT_JSON:
            d->json = 1;
            break;
        case OPT_GEOM:
            d->geometry = 1;
            break;
        case OPT_DRY:
            d->o.write = 0;
            break;
        case OPT_BEST:
            d->o.best_effort = 1;
            break;
        default:
            return cli_usage(c, "bad option");
        }
    }
    if (optind != argc) return cli_usage(c, "unexpected argument %s", argv[optind]);
    if (d->community && d->district) return cli_usage(c, "say --community or --district, not both");
    if (!merge && !d->community && !d->district)
        return cli_usage(c, "say --community CODE or --district CODE");
    if (d->o.grids && d->o.band_max) return cli_usage(c, "say --grids or --band, not both");
    if (!merge && !d->o.grids && !d->o.band_max)
        return cli_usage(c, "say --grids N or --band MIN-MAX");
    if (merge && !d->nlayers) return cli_usage(c, "say --layers NAME[,NAME...]");
    if (d->geometry && !d->json) return cli_usage(c, "--geometry goes with --json");
    d->o.layers = d->nlayers ? d->layers : NULL;
    d->o.nlayers = d->nlayers;
    return EXIT_OK;
}

static void print_plan(const wg_plan *p, int merge)
{
    printf("community %s %s: %lld households -> %d grids (target %.1f)", p->community, p->name,
           (long long)p->households, p->n, p->target);
    if (p->band_max > 0)
        printf(", band %d-%d %s", p->band_min, p->band_max, p->band_met ? "met" : "NOT met");
    if (merge) printf(", %zu thematic grids before", p->thematic_before);
    printf("\n  base units %zu (faces %zu, %zu cuts through blocks, %zu slivers joined)\n",
           p->units, p->faces, p->split_faces, p->slivers);
    if (p->note[0]) printf("  note: %s\n", p->note);
    printf("  %-16s %10s %16s %12s %6s %8s %8s %5s %5s\n", "grid", "households", "deviation",
           "area_m2", "pp", "roads_in", "roads", "parts", "units");
    for (int k = 0; k < p->n; k++) {
        const wg_grid_plan *g = &p->grids[k];
        char dev[32];
        snprintf(dev, sizeof dev, "%+.1f (%+.1f%%)", g->deviation, g->deviation_pct);
        printf("  %-16s %10lld %16s %12.0f %6.3f %7.1f%% %7.1f%% %5d %5zu\n",
               g->code[0] ? g->code : "-", (long long)g->households, dev, g->area_m2,
               g->polsby_popper, 100 * g->road_share_internal, 100 * g->road_share, g->parts,
               g->units);
    }
    char metis[32] = "-";
    if (isfinite(p->metis_max_abs_dev_pct))
        snprintf(metis, sizeof metis, "%.2f%%", p->metis_max_abs_dev_pct);
    printf("  max |deviation| %.1f (%.2f%%; METIS alone %s), range %.0f, RMSE %.2f, cut %.0f m "
           "(%.1f%% on roads),"
           " gap %.3f m2, overlap %.3f m2, outside %.3f m2, %.0f ms\n",
           p->max_abs_dev, p->max_abs_dev_pct, metis, p->range, p->rmse, p->cut_m,
           p->cut_m > 0 ? 100 * p->cut_on_roads_m / p->cut_m : 100.0, p->gap_m2, p->overlap_m2,
           p->outside_m2, p->runtime_ms);
}

static void print_division(const wg_division *d)
{
    for (size_t i = 0; i < d->n; i++)
        print_plan(d->plans[i], d->merge);
    printf("%zu communities, %lld households, %zu work grids", d->n, (long long)d->households,
           d->grids);
    if (d->merge) printf(" from %zu thematic grids", d->thematic);
    printf(" (generation %lld), %.0f ms: %s\n", (long long)d->generation, d->runtime_ms,
           d->written ? "written into the draft" : "dry run, nothing written");
}

static int run(cli *c, int argc, char **argv, int merge)
{
    dopts d;
    memset(&d, 0, sizeof d);
    int code = parse(c, argc, argv, &d, merge);
    if (code != EXIT_OK) {
        free(d.layer_buf);
        return code;
    }
    wg_ctx *ctx = cli_open(c, 0);
    if (!ctx) {
        free(d.layer_buf);
        return EXIT_STORE;
    }
    wg_division *div = NULL;
    int rc = wg_divide(ctx, d.community ? d.community : d.district, &d.o, &div);
    if (rc != WG_OK) {
        code = cli_fail(c, ctx, rc);
    } else if (d.json) {
        char *json = wg_division_json(ctx, div, d.geometry ? WG_DIVIDE_JSON_GEOMETRY : 0);
        printf("%s\n", json ? json : "null");
        free(json);
    } else {
        print_division(div);
    }
    wg_division_free(ctx, div);
    wg_ctx_free(ctx);
    free(d.layer_buf);
    return code;
}

int cmd_divide(cli *c, int argc, char **argv)
{
    return run(c, argc, argv, 0);
}

int cmd_merge(cli *c, int argc, char **argv)
{
    return run(c, argc, argv, 1);
}
