/* wangge lookup */
#include "cli.h"
#include "wangge/lookup.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_GEN = 256, OPT_JSON, OPT_BATCH };
static const struct option LOOKUP_OPTS[] = {{"generation", required_argument, NULL, OPT_GEN},
                                            {"json", no_argument, NULL, OPT_JSON},
                                            {"batch", required_argument, NULL, OPT_BATCH},
                                            {NULL, 0, NULL, 0}};

static const char *code_of(const wg_lookup *lk, int32_t i)
{
    const wg_unit *u = wg_lookup_unit(lk, i);
    return u ? u->code : NULL;
}

static void print_hit(const wg_lookup *lk, double lon, double lat, const wg_hit *h, int json)
{
    const char *d = code_of(lk, h->district), *c = code_of(lk, h->community), *g = code_of(lk, h->grid);
    if (!json) {
        printf("%.8g,%.8g,%s,%s,%s", lon, lat, d ? d : "", c ? c : "", g ? g : "outside");
        if (!g && h->nearest_grid >= 0) printf(",%s,%.1f", code_of(lk, h->nearest_grid), h->dist_m);
        putchar('\n');
        return;
    }
    char *text = wg_lookup_json(lk, h, lon, lat);
    printf("%s\n", text ? text : "null");
    free(text);
}

static int batch(cli *c, wg_ctx *ctx, const wg_lookup *lk, const char *file, int json)
{
    FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    if (!in) {
        fprintf(stderr, "%s: cannot open %s\n", c->prog, file);
        return EXIT_DATA;
    }
    char line[256];
    size_t lineno = 0;
    int code = EXIT_OK;
    while (fgets(line, sizeof line, in)) {
        lineno++;
        double lon, lat;
        char extra;
        if (line[0] == '\n' || line[0] == '#') continue;
        if (sscanf(line, "%lf , %lf %c", &lon, &lat, &extra) != 2 || lon < -180 || lon > 180 ||
            lat < -90 || lat > 90) {
            fprintf(stderr, "%s: %s:%zu: expected 'lon,lat' in range\n", c->prog, file, lineno);
            code = EXIT_DATA;
            continue;
        }
        wg_hit h;
        wg_lookup_point(lk, ctx, lon, lat, &h);
        print_hit(lk, lon, lat, &h, json);
    }
    if (in != stdin) fclose(in);
    return code;
}

/* Moves the numbers among the arguments (LON LAT; a negative one looks like an option to
 * getopt) out of argv into nums, keeping option values where they are. Returns the new argc. */
static int take_numbers(int argc, char **argv, char **nums, int *nnums)
{
    int out = 1;
    double v;
    *nnums = 0;
    for (int i = 1; i < argc; i++) {
        int is_value = i > 1 && (strcmp(argv[i - 1], "--generation") == 0 || strcmp(argv[i - 1], "--batch") == 0);
        if (!is_value && *nnums < 8 && cli_parse_double(argv[i], &v)) nums[(*nnums)++] = argv[i];
        else argv[out++] = argv[i];
    }
    return out;
}

int cmd_lookup(cli *c, int argc, char **argv)
{
    int64_t gen = 0;
    int json = 0, opt, nnums;
    char *nums[8];
    const char *batch_file = NULL;
    argc = take_numbers(argc, argv, nums, &nnums);
    while ((opt = getopt_long(argc, argv, "", LOOKUP_OPTS, NULL)) != -1) {
        if (opt == OPT_GEN && (!cli_parse_i64(optarg, &gen) || gen <= 0))
            return cli_usage(c, "--generation takes a positive number");
        if (opt == OPT_JSON) json = 1;
        if (opt == OPT_BATCH) batch_file = optarg;
        if (opt == '?') return cli_usage(c, "bad option");
    }
    double lon = 0, lat = 0;
    if (optind != argc) return cli_usage(c, "unexpected argument %s", argv[optind]);
    if (!batch_file) {
        if (nnums != 2) return cli_usage(c, "expected LON LAT");
        cli_parse_double(nums[0], &lon);
        cli_parse_double(nums[1], &lat);
        if (lon < -180 || lon > 180 || lat < -90 || lat > 90)
            return cli_usage(c, "lon must be within [-180, 180] and lat within [-90, 90]");
    } else if (nnums) {
        return cli_usage(c, "unexpected argument %s", nums[0]);
    }
    wg_ctx *ctx = cli_open(c, WG_STORE_READONLY);
    if (!ctx) return EXIT_STORE;
    wg_lookup *lk = NULL;
    int rc = wg_lookup_load(ctx, gen, &lk), code = EXIT_OK;
    if (rc != WG_OK) {
        code = cli_fail(c, ctx, rc);
    } else if (batch_file) {
        code = batch(c, ctx, lk, batch_file, json);
    } else {
        wg_hit h;
        wg_lookup_point(lk, ctx, lon, lat, &h);
        if (!json) printf("lon,lat,district,community,grid[,nearest,distance_m]\n");
        print_hit(lk, lon, lat, &h, json);
    }
    wg_lookup_free(lk);
    wg_ctx_free(ctx);
    return code;
}
