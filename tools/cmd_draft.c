/* wangge draft new|replace|split|merge|discard, wangge diff, wangge rollback */
#include "cli.h"
#include "wangge/redraw.h"
#include "wangge/store.h"

#include <stdlib.h>
#include <string.h>

int cmd_draft(cli *c, int argc, char **argv);
int cmd_diff(cli *c, int argc, char **argv);
int cmd_rollback(cli *c, int argc, char **argv);

enum { OPT_LEVEL = 256, OPT_PARENT, OPT_REPAIR, OPT_NAME, OPT_FROM, OPT_TO, OPT_JSON };

static void print_issue(void *ud, const wg_import_issue *is)
{
    fprintf(stderr, "%s: feature %zu%s%s%s: %s: %s: %s\n", (const char *)ud, is->where,
            is->code ? " (code " : "", is->code ? is->code : "", is->code ? ")" : "",
            is->repaired ? "repaired" : "rejected", is->kind, is->reason);
}

/* Prints the code each feature got, and the draft it went into. */
static void print_codes(wg_ctx *ctx, char **codes, size_t n)
{
    int64_t draft = 0;
    wg_gen_draft(ctx, 0, &draft);
    for (size_t i = 0; i < n; i++)
        printf("feature %zu: %s\n", i, codes[i]);
    printf("draft generation %lld: %zu units written\n", (long long)draft, n);
}

typedef struct edit_args {
    int level, repair;
    const char *parent, *name, *file, *code;
} edit_args;

static const struct option EDIT_OPTS[] = {{"level", required_argument, NULL, OPT_LEVEL},
                                          {"parent", required_argument, NULL, OPT_PARENT},
                                          {"repair", no_argument, NULL, OPT_REPAIR},
                                          {"name", required_argument, NULL, OPT_NAME},
                                          {NULL, 0, NULL, 0}};

/* Options of the edit subcommands, then `want` positional arguments (code and/or file). */
static int parse_edit(cli *c, int argc, char **argv, edit_args *a, int want_code, int want_file)
{
    memset(a, 0, sizeof *a);
    int opt;
    while ((opt = getopt_long(argc, argv, "", EDIT_OPTS, NULL)) != -1) {
        if (opt == OPT_LEVEL && (a->level = wg_level_parse(optarg)) < 2)
            return cli_usage(c, "--level takes community or grid");
        if (opt == OPT_PARENT) a->parent = optarg;
        if (opt == OPT_REPAIR) a->repair = 1;
        if (opt == OPT_NAME) a->name = optarg;
        if (opt == '?') return cli_usage(c, "bad option");
    }
    if (want_code && optind < argc) a->code = argv[optind++];
    if (want_file && optind < argc) a->file = argv[optind++];
    if (optind < argc) return cli_usage(c, "unexpected argument %s", argv[optind]);
    if ((want_code && !a->code) || (want_file && !a->file))
        return cli_usage(c, "missing %s", want_code && !a->code ? "code" : "file");
    return EXIT_OK;
}

static int draft_new(cli *c, wg_ctx *ctx, int argc, char **argv)
{
    if (argc > 1) return cli_usage(c, "unexpected argument %s", argv[1]);
    int64_t id = 0;
    int rc = wg_gen_draft(ctx, 1, &id);
    if (rc != WG_OK) return cli_fail(c, ctx, rc);
    printf("draft generation %lld\n", (long long)id);
    return EXIT_OK;
}

static int draft_edit(cli *c, wg_ctx *ctx, int argc, char **argv, int split)
{
    edit_args a;
    int code = parse_edit(c, argc, argv, &a, split, 1);
    if (code != EXIT_OK) return code;
    if (!split && (!a.level || !a.parent))
        return cli_usage(c, "replace needs --level and --parent");
    if (split && (a.level || a.parent)) return cli_usage(c, "split takes no --level or --parent");
    wg_new_unit *u = NULL;
    size_t n = 0;
    char **codes = NULL;
    int rc = wg_new_units_read(ctx, a.file, a.repair, print_issue, (void *)a.file, &u, &n);
    if (rc == WG_OK)
        rc = split ? wg_draft_split(ctx, a.code, u, n, &codes)
                   : wg_draft_replace_children(ctx, a.level, a.parent, u, n, &codes);
    if (rc == WG_OK)
        print_codes(ctx, codes, n);
    else
        code = cli_fail(c, ctx, rc);
    wg_codes_free(codes, n);
    wg_new_units_free(ctx, u, n);
    return code;
}

static int draft_merge(cli *c, wg_ctx *ctx, int argc, char **argv)
{
    edit_args a;
    int code = parse_edit(c, argc, argv, &a, 1, 0);
    if (code != EXIT_OK) return code;
    if (a.level || a.parent || a.repair) return cli_usage(c, "merge takes only --name");
    char *list = strdup(a.code), *save = NULL;
    const char **codes = calloc(strlen(a.code) + 1, sizeof *codes);
    size_t n = 0;
    if (!list || !codes) {
        free(list);
        free(codes);
        return cli_usage(c, "out of memory");
    }
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
        codes[n++] = t;
    char *merged = NULL;
    int rc = n < 2 ? WG_EINVAL : wg_draft_merge(ctx, codes, n, a.name, &merged);
    if (n < 2)
        code = cli_usage(c, "merge takes two or more codes, comma-separated");
    else if (rc != WG_OK)
        code = cli_fail(c, ctx, rc);
    else
        printf("merged %zu units into %s\n", n, merged);
    free(merged);
    free(codes);
    free(list);
    return code;
}

static int draft_discard(cli *c, wg_ctx *ctx, int argc, char **argv)
{
    if (argc > 1) return cli_usage(c, "unexpected argument %s", argv[1]);
    int64_t id = 0;
    int rc = wg_draft_discard(ctx, &id);
    if (rc != WG_OK) return cli_fail(c, ctx, rc);
    printf("draft generation %lld discarded\n", (long long)id);
    return EXIT_OK;
}

int cmd_draft(cli *c, int argc, char **argv)
{
    if (argc < 2) return cli_usage(c, "which: new, replace, split, merge or discard?");
    const char *sub = argv[1];
    static const char *const SUBS[] = {"new", "replace", "split", "merge", "discard"};
    int k = 0;
    while (k < 5 && strcmp(sub, SUBS[k]) != 0)
        k++;
    if (k == 5) return cli_usage(c, "no draft subcommand '%s'", sub);
    wg_ctx *ctx = cli_open(c, 0);
    if (!ctx) return EXIT_STORE;
    argc--, argv++; /* getopt over the subcommand's own arguments */
    optind = 1;
    int code = k == 0   ? draft_new(c, ctx, argc, argv)
               : k == 1 ? draft_edit(c, ctx, argc, argv, 0)
               : k == 2 ? draft_edit(c, ctx, argc, argv, 1)
               : k == 3 ? draft_merge(c, ctx, argc, argv)
                        : draft_discard(c, ctx, argc, argv);
    wg_ctx_free(ctx);
    return code;
}

static const struct option DIFF_OPTS[] = {{"from", required_argument, NULL, OPT_FROM},
                                          {"to", required_argument, NULL, OPT_TO},
                                          {"json", no_argument, NULL, OPT_JSON},
                                          {"output", required_argument, NULL, 'o'},
                                          {NULL, 0, NULL, 0}};

int cmd_diff(cli *c, int argc, char **argv)
{
    int64_t from = 0, to = 0;
    int json = 0, opt;
    const char *output = NULL;
    while ((opt = getopt_long(argc, argv, "o:", DIFF_OPTS, NULL)) != -1) {
        if (opt == OPT_FROM && (!cli_parse_i64(optarg, &from) || from <= 0))
            return cli_usage(c, "--from takes a generation number");
        if (opt == OPT_TO && (!cli_parse_i64(optarg, &to) || to <= 0))
            return cli_usage(c, "--to takes a generation number");
        if (opt == OPT_JSON) json = 1;
        if (opt == 'o') output = optarg;
        if (opt == '?') return cli_usage(c, "bad option");
    }
    if (optind != argc) return cli_usage(c, "unexpected argument %s", argv[optind]);
    wg_ctx *ctx = cli_open(c, WG_STORE_READONLY);
    if (!ctx) return EXIT_STORE;
    wg_diff *d = NULL;
    int rc = wg_gen_diff(ctx, from, to, &d), code = EXIT_OK;
    FILE *out = rc == WG_OK && output ? fopen(output, "w") : stdout;
    if (rc != WG_OK)
        code = cli_fail(c, ctx, rc);
    else if (!out) {
        fprintf(stderr, "%s: cannot write %s\n", c->prog, output);
        code = EXIT_DATA;
    } else if (json) {
        char *text = wg_diff_json(d);
        fprintf(out, "%s\n", text ? text : "null");
        free(text);
    } else {
        wg_diff_print(d, out);
    }
    if (out && out != stdout) fclose(out);
    wg_diff_free(d);
    wg_ctx_free(ctx);
    return code;
}

int cmd_rollback(cli *c, int argc, char **argv)
{
    if (argc > 1) return cli_usage(c, "unexpected argument %s", argv[1]);
    wg_ctx *ctx = cli_open(c, 0);
    if (!ctx) return EXIT_STORE;
    int64_t was = 0, now = 0;
    int rc = wg_gen_active(ctx, &was), code = EXIT_OK;
    if (rc == WG_OK) rc = wg_gen_rollback(ctx, &now);
    if (rc != WG_OK)
        code = cli_fail(c, ctx, rc);
    else
        printf("generation %lld is active (generation %lld rolled back)\n", (long long)now,
               (long long)was);
    wg_ctx_free(ctx);
    return code;
}
