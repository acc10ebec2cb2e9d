/* wangge gen: a synthetic city (no store involved). */
#include "cli.h"
#include "wangge/gen.h"

#include <stdlib.h>
#include <unistd.h>

enum { OPT_SEED = 256, OPT_SCALE, OPT_COUNTY, OPT_STREET, OPT_HH, OPT_GRIDS, OPT_COMM, OPT_EVENTS, OPT_QUIET };
static const struct option GEN_OPTS[] = {{"seed", required_argument, NULL, OPT_SEED},
                                         {"scale", required_argument, NULL, OPT_SCALE},
                                         {"county", required_argument, NULL, OPT_COUNTY},
                                         {"street", required_argument, NULL, OPT_STREET},
                                         {"households", required_argument, NULL, OPT_HH},
                                         {"grids", required_argument, NULL, OPT_GRIDS},
                                         {"communities", required_argument, NULL, OPT_COMM},
                                         {"events", required_argument, NULL, OPT_EVENTS},
                                         {"quiet", no_argument, NULL, OPT_QUIET},
                                         {NULL, 0, NULL, 0}};

static void on_office(void *ud, int done, int total)
{
    (void)ud;
    cli_progress(NULL, (uint64_t)done, (uint64_t)total);
}

int cmd_gen(cli *c, int argc, char **argv)
{
    wg_gen_opts o = {.seed = 1};
    int opt, quiet = 0;
    int64_t v;
    while ((opt = getopt_long(argc, argv, "", GEN_OPTS, NULL)) != -1) {
        int *target = opt == OPT_SCALE ? &o.scale : opt == OPT_STREET ? &o.first_street : opt == OPT_HH ? &o.households
                      : opt == OPT_GRIDS ? &o.grids : opt == OPT_COMM ? &o.communities : opt == OPT_EVENTS ? &o.events : NULL;
        if (opt == OPT_SEED) {
            if (!cli_parse_i64(optarg, &v) || v < 0) return cli_usage(c, "--seed takes a whole number >= 0");
            o.seed = (uint64_t)v;
        } else if (target) {
            if (!cli_parse_i64(optarg, &v) || v < 1 || v > 10000000) return cli_usage(c, "%s takes a positive number", argv[optind - 1]);
            *target = (int)v;
        } else if (opt == OPT_COUNTY) {
            o.county = optarg;
        } else if (opt == OPT_QUIET) {
            quiet = 1;
        } else {
            return cli_usage(c, "bad option");
        }
    }
    if (optind + 1 != argc) return cli_usage(c, "say the output directory (once)");
    const char *dir = argv[optind];
    if (!quiet && isatty(2)) o.on_office = on_office;
    wg_ctx *ctx = wg_ctx_new();
    if (!ctx) {
        fprintf(stderr, "%s: out of memory\n", c->prog);
        return EXIT_STORE;
    }
    wg_gen_stats st;
    int rc = wg_gen_city(ctx, dir, &o, &st);
    if (o.on_office) cli_progress_end();
    int code = rc == WG_OK ? EXIT_OK : cli_fail(c, ctx, rc);
    if (rc == WG_OK && !quiet)
        printf("%s: %zu office(s), %zu communities, %zu grids, %zu addresses (%llu households), %zu events,"
               " %zu workers, %zu roads, %zu rivers, %zu rental + %zu family-planning grids -> %s\n",
               c->prog, st.offices, st.communities, st.grids, st.addresses, (unsigned long long)st.households,
               st.events, st.workers, st.roads, st.rivers, st.rental_grids, st.family_planning_grids, dir);
    wg_ctx_free(ctx);
    return code;
}
