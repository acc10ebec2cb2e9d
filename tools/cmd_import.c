/* wangge init | import | layers */
#include "cli.h"
#include "wangge/import.h"
#include "wangge/store.h"

#include <stdlib.h>
#include <string.h>

int cmd_init(cli *c, int argc, char **argv)
{
    if (argc > 1) return cli_usage(c, "unexpected argument %s", argv[1]);
    wg_ctx *ctx = cli_open(c, WG_STORE_CREATE);
    if (!ctx) return EXIT_STORE;
    printf("store %s ready (schema version %d)\n", c->store, WG_SCHEMA_VERSION);
    wg_ctx_free(ctx);
    return EXIT_OK;
}

typedef struct import_out {
    const char *file;
    size_t shown;
} import_out;

/* Every rejection and repair, one line each: "FILE: feature 12 (code X): rejected: kind: reason". */
static void print_issue(void *ud, const wg_import_issue *is)
{
    import_out *o = ud;
    cli_progress_end();
    fprintf(stderr, "%s: %s %zu%s%s%s: %s: %s: %s\n", o->file, is->is_line ? "line" : "feature",
            is->where, is->code ? " (code " : "", is->code ? is->code : "", is->code ? ")" : "",
            is->repaired ? "repaired" : "rejected", is->kind, is->reason);
    o->shown++;
}

enum {
    OPT_LEVEL = 256, OPT_ADDRESSES, OPT_EVENTS, OPT_CODE, OPT_NAME, OPT_PARENT, OPT_REPAIR,
    OPT_REPLACE, OPT_SKIP, OPT_LON, OPT_LAT, OPT_HH, OPT_LABEL, OPT_CODECOL, OPT_CAT, OPT_TIME,
    OPT_STATUS, OPT_DESC, OPT_WORKERS, OPT_LAYER
};

static const struct option IMPORT_OPTS[] = {
    {"level", required_argument, NULL, OPT_LEVEL},
    {"addresses", no_argument, NULL, OPT_ADDRESSES},
    {"events", no_argument, NULL, OPT_EVENTS},
    {"workers", no_argument, NULL, OPT_WORKERS},
    {"layer", required_argument, NULL, OPT_LAYER},
    {"code-prop", required_argument, NULL, OPT_CODE},
    {"name-prop", required_argument, NULL, OPT_NAME},
    {"parent-prop", required_argument, NULL, OPT_PARENT},
    {"repair", no_argument, NULL, OPT_REPAIR},
    {"replace", no_argument, NULL, OPT_REPLACE},
    {"skip-rejected", no_argument, NULL, OPT_SKIP},
    {"lon-col", required_argument, NULL, OPT_LON},
    {"lat-col", required_argument, NULL, OPT_LAT},
    {"households-col", required_argument, NULL, OPT_HH},
    {"label-col", required_argument, NULL, OPT_LABEL},
    {"code-col", required_argument, NULL, OPT_CODECOL},
    {"category-col", required_argument, NULL, OPT_CAT},
    {"time-col", required_argument, NULL, OPT_TIME},
    {"status-col", required_argument, NULL, OPT_STATUS},
    {"description-col", required_argument, NULL, OPT_DESC},
    {NULL, 0, NULL, 0}};

/* What is imported: the kinds of input of `wangge import`. */
enum { K_NONE, K_UNITS, K_ADDRESSES, K_EVENTS, K_WORKERS, K_LAYER };

static void print_stats(int kind, const char *layer, const wg_import_stats *s)
{
    static const char *const what[] = {"", "features", "addresses", "events", "workers",
                                       "features"};
    printf("imported %zu of %zu %s", s->imported, s->read, what[kind]);
    if (kind == K_WORKERS) printf(" (%zu new, %zu updated)", s->imported - s->updated, s->updated);
    if (kind == K_LAYER) printf(" into layer %s", layer);
    if (s->rejected) printf(", %zu rejected", s->rejected);
    if (s->repaired) printf(", %zu repaired (area changed by %.1f m2 in all)", s->repaired,
                            s->repaired_area_change_m2);
    if (s->generation) printf(" into draft generation %lld", (long long)s->generation);
    putchar('\n');
    if (s->code_digits == 15) printf("codes: 15 digits (DB11/T 2157-2023 layout, 3-digit grid sequence)\n");
    else if (s->code_digits == 14) printf("codes: 14 digits (2-digit grid sequence)\n");
}

int cmd_import(cli *c, int argc, char **argv)
{
    wg_unit_import_opts uo = {0};
    wg_point_import_opts po = {0};
    int kind = K_NONE;
    const char *layer = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "", IMPORT_OPTS, NULL)) != -1) {
        switch (opt) {
        case OPT_LEVEL:
            uo.level = wg_level_parse(optarg);
            if (!uo.level) return cli_usage(c, "unknown level '%s'", optarg);
            kind = K_UNITS;
            break;
        case OPT_ADDRESSES: kind = K_ADDRESSES; break;
        case OPT_EVENTS: kind = K_EVENTS; break;
        case OPT_WORKERS: kind = K_WORKERS; break;
        case OPT_LAYER:
            layer = optarg;
            kind = K_LAYER;
            break;
        case OPT_CODE: uo.code_prop = optarg; break;
        case OPT_NAME: uo.name_prop = optarg; break;
        case OPT_PARENT: uo.parent_prop = optarg; break;
        case OPT_REPAIR: uo.repair = 1; break;
        case OPT_REPLACE: uo.replace = po.replace = 1; break;
        case OPT_SKIP: uo.skip_rejected = po.skip_rejected = 1; break;
        case OPT_LON: po.lon_col = optarg; break;
        case OPT_LAT: po.lat_col = optarg; break;
        case OPT_HH: po.households_col = optarg; break;
        case OPT_LABEL: po.label_col = optarg; break;
        case OPT_CODECOL: po.code_col = optarg; break;
        case OPT_CAT: po.category_col = optarg; break;
        case OPT_TIME: po.time_col = optarg; break;
        case OPT_STATUS: po.status_col = optarg; break;
        case OPT_DESC: po.description_col = optarg; break;
        default: return cli_usage(c, "bad option");
        }
    }
    if (!kind)
        return cli_usage(c, "say what to import: --level L, --addresses, --events, --workers or"
                            " --layer NAME");
    if (optind + 1 != argc) return cli_usage(c, "expected exactly one input file");
    const char *file = argv[optind];
    import_out out = {file, 0};
    uo.on_issue = po.on_issue = print_issue;
    uo.on_progress = po.on_progress = cli_progress;
    uo.ud = po.ud = &out;
    wg_ctx *ctx = cli_open(c, WG_STORE_CREATE);
    if (!ctx) return EXIT_STORE;
    wg_import_stats st;
    int rc;
    switch (kind) {
    case K_UNITS: rc = wg_import_units(ctx, file, &uo, &st); break;
    case K_ADDRESSES: rc = wg_import_addresses(ctx, file, &po, &st); break;
    case K_EVENTS: rc = wg_import_events(ctx, file, &po, &st); break;
    case K_WORKERS: rc = wg_import_workers(ctx, file, &po, &st); break;
    default: rc = wg_import_layer(ctx, file, layer, &uo, &st); break;
    }
    cli_progress_end();
    int code = EXIT_OK;
    if (rc == WG_OK) print_stats(kind, layer, &st);
    else code = cli_fail(c, ctx, rc);
    wg_ctx_free(ctx);
    return code;
}

int cmd_layers(cli *c, int argc, char **argv)
{
    if (argc > 1) return cli_usage(c, "unexpected argument %s", argv[1]);
    wg_ctx *ctx = cli_open(c, 0);
    if (!ctx) return EXIT_STORE;
    wg_layer_info *v = NULL;
    size_t n = 0;
    int rc = wg_layers_list(ctx, &v, &n);
    int code = EXIT_OK;
    if (rc != WG_OK) code = cli_fail(c, ctx, rc);
    else if (n == 0) printf("no layers\n");
    else {
        printf("%-32s %9s %9s %9s %9s\n", "layer", "features", "points", "lines", "polygons");
        for (size_t i = 0; i < n; i++)
            printf("%-32s %9zu %9zu %9zu %9zu\n", v[i].name, v[i].features, v[i].points,
                   v[i].lines, v[i].polygons);
    }
    free(v);
    wg_ctx_free(ctx);
    return code;
}
