/* wangge assign */
#include "cli.h"
#include "wangge/assign.h"

#include <string.h>

enum { OPT_GEN = 256, OPT_THREADS, OPT_CHANGES };
static const struct option ASSIGN_OPTS[] = {{"generation", required_argument, NULL, OPT_GEN},
                                            {"threads", required_argument, NULL, OPT_THREADS},
                                            {"changes", required_argument, NULL, OPT_CHANGES},
                                            {NULL, 0, NULL, 0}};

static void print_change(void *ud, const wg_assign_change *ch)
{
    fprintf((FILE *)ud, "%s,%lld,%s,%s\n", ch->kind, (long long)ch->item_id,
            ch->old_code ? ch->old_code : "outside", ch->new_code ? ch->new_code : "outside");
}

int cmd_assign(cli *c, int argc, char **argv)
{
    int64_t gen = 0, threads = 0;
    const char *changes = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "", ASSIGN_OPTS, NULL)) != -1) {
        if (opt == OPT_GEN && (!cli_parse_i64(optarg, &gen) || gen <= 0))
            return cli_usage(c, "--generation takes a positive number");
        if (opt == OPT_THREADS && (!cli_parse_i64(optarg, &threads) || threads < 1 || threads > 64))
            return cli_usage(c, "--threads takes 1 to 64");
        if (opt == OPT_CHANGES) changes = optarg;
        if (opt == '?') return cli_usage(c, "bad option");
    }
    if (optind != argc) return cli_usage(c, "unexpected argument %s", argv[optind]);
    FILE *out = NULL;
    if (changes) {
        out = strcmp(changes, "-") == 0 ? stdout : fopen(changes, "w");
        if (!out) {
            fprintf(stderr, "%s: cannot write %s\n", c->prog, changes);
            return EXIT_STORE;
        }
        fprintf(out, "kind,id,old_grid,new_grid\n");
    }
    wg_ctx *ctx = cli_open(c, 0);
    int code = ctx ? EXIT_OK : EXIT_STORE;
    wg_assign_stats s;
    int rc = ctx ? wg_assign(ctx, gen, (int)threads, out ? print_change : NULL, out, &s) : WG_OK;
    if (ctx && rc != WG_OK) code = cli_fail(c, ctx, rc);
    if (out && out != stdout) fclose(out);
    if (ctx && rc == WG_OK) {
        FILE *rep = out == stdout ? stderr : stdout;
        fprintf(rep, "generation %lld: %zu addresses, %zu events\n", (long long)s.generation,
                s.addresses, s.events);
        fprintf(rep, "assigned %zu, outside %zu, changed %zu since the last run", s.assigned,
                s.outside, s.changed);
        if (s.previous_generation) fprintf(rep, " (generation %lld)", (long long)s.previous_generation);
        fprintf(rep, ", new %zu\nhouseholds assigned %zu; %.2f s\n", s.fresh, s.households_assigned,
                s.seconds);
    }
    wg_ctx_free(ctx);
    return code;
}
