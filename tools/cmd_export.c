/* wangge export */
#include "cli.h"
#include "wangge/export.h"
#include "wangge/store.h"
#include "wangge/validate.h"

#include <stdlib.h>

enum { OPT_LEVEL = 256, OPT_GEN, OPT_REPORT, OPT_TOL };
static const struct option EXPORT_OPTS[] = {{"level", required_argument, NULL, OPT_LEVEL},
                                            {"generation", required_argument, NULL, OPT_GEN},
                                            {"report", no_argument, NULL, OPT_REPORT},
                                            {"tolerance", required_argument, NULL, OPT_TOL},
                                            {"output", required_argument, NULL, 'o'},
                                            {NULL, 0, NULL, 0}};

static int export_report(wg_ctx *ctx, int64_t gen, double tol, FILE *out)
{
    int64_t id;
    int rc = gen ? wg_gen_resolve(ctx, gen, &id) : wg_gen_draft(ctx, 0, &id);
    if (rc == WG_ENOTFOUND && !gen) rc = wg_gen_active(ctx, &id);
    wg_report *r = NULL;
    if (rc == WG_OK) rc = wg_validate(ctx, id, tol, &r);
    if (rc != WG_OK) return rc;
    char *json = wg_report_json(r);
    fprintf(out, "%s\n", json ? json : "null");
    free(json);
    wg_report_free(r);
    return WG_OK;
}

int cmd_export(cli *c, int argc, char **argv)
{
    int level = 0, report = 0, opt;
    int64_t gen = 0;
    double tol = 1.0;
    const char *output = NULL;
    while ((opt = getopt_long(argc, argv, "o:", EXPORT_OPTS, NULL)) != -1) {
        if (opt == OPT_LEVEL && !(level = wg_level_parse(optarg)))
            return cli_usage(c, "unknown level '%s'", optarg);
        if (opt == OPT_GEN && (!cli_parse_i64(optarg, &gen) || gen <= 0))
            return cli_usage(c, "--generation takes a positive number");
        if (opt == OPT_TOL && (!cli_parse_double(optarg, &tol) || tol < 0))
            return cli_usage(c, "--tolerance takes square metres >= 0");
        if (opt == OPT_REPORT) report = 1;
        if (opt == 'o') output = optarg;
        if (opt == '?') return cli_usage(c, "bad option");
    }
    if (optind != argc) return cli_usage(c, "unexpected argument %s", argv[optind]);
    if (!level == !report) return cli_usage(c, "say --level L or --report");
    wg_ctx *ctx = cli_open(c, 0);
    if (!ctx) return EXIT_STORE;
    FILE *out = output ? fopen(output, "w") : stdout;
    int code = EXIT_OK;
    if (!out) {
        fprintf(stderr, "%s: cannot write %s\n", c->prog, output);
        code = EXIT_STORE;
    } else {
        size_t n = 0;
        int rc = report ? export_report(ctx, gen, tol, out) : wg_export_units(ctx, gen, level, out, &n);
        if (rc != WG_OK) code = cli_fail(c, ctx, rc);
        else if (!report && output) fprintf(stderr, "%s: %zu features written to %s\n", c->prog, n, output);
        if (out != stdout && fclose(out) != 0 && code == EXIT_OK) code = EXIT_STORE;
    }
    wg_ctx_free(ctx);
    return code;
}
