/* wangge validate | publish | generations */
#include "cli.h"
#include "wangge/store.h"
#include "wangge/validate.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_GEN = 256, OPT_TOL, OPT_JSON, OPT_FORCE };

static const struct option VALIDATE_OPTS[] = {{"generation", required_argument, NULL, OPT_GEN},
                                              {"tolerance", required_argument, NULL, OPT_TOL},
                                              {"json", no_argument, NULL, OPT_JSON},
                                              {"force", no_argument, NULL, OPT_FORCE},
                                              {"output", required_argument, NULL, 'o'},
                                              {NULL, 0, NULL, 0}};

typedef struct vopts {
    int64_t generation;
    double tol_m2;
    int json, force;
    const char *output;
} vopts;

static int parse_vopts(cli *c, int argc, char **argv, vopts *v)
{
    int opt;
    *v = (vopts){0, 1.0, 0, 0, NULL};
    while ((opt = getopt_long(argc, argv, "o:", VALIDATE_OPTS, NULL)) != -1) {
        if (opt == OPT_GEN && (!cli_parse_i64(optarg, &v->generation) || v->generation <= 0))
            return cli_usage(c, "--generation takes a positive number");
        if (opt == OPT_TOL && (!cli_parse_double(optarg, &v->tol_m2) || v->tol_m2 < 0))
            return cli_usage(c, "--tolerance takes square metres >= 0");
        if (opt == OPT_JSON) v->json = 1;
        if (opt == OPT_FORCE) v->force = 1;
        if (opt == 'o') v->output = optarg;
        if (opt == '?') return cli_usage(c, "bad option");
    }
    if (optind != argc) return cli_usage(c, "unexpected argument %s", argv[optind]);
    return EXIT_OK;
}

/* Writes the report as text or JSON to stdout or the -o file. */
static int emit_report(cli *c, const wg_report *r, const vopts *v)
{
    FILE *out = v->output ? fopen(v->output, "w") : stdout;
    if (!out) {
        fprintf(stderr, "%s: cannot write %s\n", c->prog, v->output);
        return EXIT_STORE;
    }
    if (v->json) {
        char *json = wg_report_json(r);
        fprintf(out, "%s\n", json ? json : "null");
        free(json);
    } else {
        wg_report_print(r, out);
    }
    if (out != stdout) fclose(out);
    return EXIT_OK;
}

/* The generation to validate: the one asked for, else the draft, else the active one. */
static int pick_generation(wg_ctx *ctx, int64_t asked, int64_t *gen)
{
    if (asked) return wg_gen_resolve(ctx, asked, gen);
    int rc = wg_gen_draft(ctx, 0, gen);
    return rc == WG_ENOTFOUND ? wg_gen_active(ctx, gen) : rc;
}

int cmd_validate(cli *c, int argc, char **argv)
{
    vopts v;
    int code = parse_vopts(c, argc, argv, &v);
    if (code != EXIT_OK) return code;
    wg_ctx *ctx = cli_open(c, 0);
    if (!ctx) return EXIT_STORE;
    int64_t gen;
    wg_report *r = NULL;
    int rc = pick_generation(ctx, v.generation, &gen);
    if (rc == WG_OK) rc = wg_validate(ctx, gen, v.tol_m2, &r);
    if (rc != WG_OK) code = cli_fail(c, ctx, rc);
    else code = emit_report(c, r, &v);
    if (code == EXIT_OK && r->n) code = EXIT_DATA;
    wg_report_free(r);
    wg_ctx_free(ctx);
    return code;
}

int cmd_publish(cli *c, int argc, char **argv)
{
    vopts v;
    int code = parse_vopts(c, argc, argv, &v);
    if (code != EXIT_OK) return code;
    wg_ctx *ctx = cli_open(c, 0);
    if (!ctx) return EXIT_STORE;
    wg_report *r = NULL;
    int64_t gen = 0;
    int rc = wg_gen_publish(ctx, v.tol_m2, v.force, &gen, &r);
    if (r && (rc == WG_EFAULTS || r->n)) wg_report_print(r, stderr);
    if (rc == WG_OK) printf("generation %lld is active%s\n", (long long)gen,
                            r && r->n ? " (published with faults: --force)" : "");
    else code = cli_fail(c, ctx, rc);
    wg_report_free(r);
    wg_ctx_free(ctx);
    return code;
}

int cmd_generations(cli *c, int argc, char **argv)
{
    int json = argc > 1 && strcmp(argv[1], "--json") == 0;
    if (argc > 1 + json) return cli_usage(c, "unexpected argument %s", argv[1 + json]);
    wg_ctx *ctx = cli_open(c, 0);
    if (!ctx) return EXIT_STORE;
    wg_generation *g = NULL;
    size_t n = 0;
    int rc = wg_gen_list(ctx, &g, &n), code = EXIT_OK;
    if (rc != WG_OK) code = cli_fail(c, ctx, rc);
    if (json && rc == WG_OK) {
        printf("[");
        for (size_t i = 0; i < n; i++)
            printf("%s{\"id\":%lld,\"status\":\"%s\",\"created_at\":\"%s\",\"published_at\":%s%s%s,"
                   "\"districts\":%lld,\"communities\":%lld,\"grids\":%lld}",
                   i ? "," : "", (long long)g[i].id, wg_gen_status_name(g[i].status),
                   g[i].created_at, g[i].published_at[0] ? "\"" : "", g[i].published_at[0] ? g[i].published_at : "null",
                   g[i].published_at[0] ? "\"" : "", (long long)g[i].units[1],
                   (long long)g[i].units[2], (long long)g[i].units[3]);
        printf("]\n");
    } else if (rc == WG_OK) {
        printf("%-4s %-8s %-21s %-21s %9s %11s %6s\n", "id", "status", "created", "published",
               "districts", "communities", "grids");
        for (size_t i = 0; i < n; i++)
            printf("%-4lld %-8s %-21s %-21s %9lld %11lld %6lld\n", (long long)g[i].id,
                   wg_gen_status_name(g[i].status), g[i].created_at,
                   g[i].published_at[0] ? g[i].published_at : "-", (long long)g[i].units[1],
                   (long long)g[i].units[2], (long long)g[i].units[3]);
    }
    free(g);
    wg_ctx_free(ctx);
    return code;
}
