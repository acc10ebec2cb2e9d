/* wangge events | categories | calendar: the event loop from the command line (overdue lists,
 * statistics for scoring, one event with its steps), the category table and the working
 * calendar. Thin: parse, call lib (wangge/events.h), format. */
#include "cli.h"
#include "wangge/events.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int cmd_events(cli *c, int argc, char **argv);
int cmd_categories(cli *c, int argc, char **argv);
int cmd_calendar(cli *c, int argc, char **argv);

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A time option in the store calendar's zone (or with its own offset); 0 on failure. */
static int parse_time(const cli *c, wg_ctx *ctx, const char *opt, const char *s, int64_t *ms)
{
    wg_calendar *cal = NULL;
    int offset = WG_CAL_DEFAULT_OFFSET_MIN;
    if (ctx && wg_calendar_load(ctx, &cal) == WG_OK) offset = wg_calendar_offset_min(cal);
    wg_calendar_free(cal);
    char msg[160];
    if (wg_time_parse(s, offset, ms, msg, sizeof msg) == WG_OK) return 1;
    cli_usage(c, "%s '%s': %s", opt, s, msg);
    return 0;
}

static void print_issue(void *ud, const wg_import_issue *is)
{
    const cli *c = ud;
    fprintf(stderr, "%s: line %zu%s%s: %s: %s\n", c->prog, is->where, is->code ? " code " : "",
            is->code ? is->code : "", is->kind, is->reason);
}

/* ---------------------------------------------------------------- events */

enum {
    O_JSON = 256,
    O_AT,
    O_GRID,
    O_COMMUNITY,
    O_STATUS,
    O_CATEGORY,
    O_ASSIGNEE,
    O_FROM,
    O_TO,
    O_LIMIT,
    O_BY,
    O_GEN,
    O_OVERDUE,
    O_REPLACE,
    O_HOURS,
    O_DAYS
};
static const struct option EVENT_OPTS[] = {{"json", no_argument, NULL, O_JSON},
                                           {"at", required_argument, NULL, O_AT},
                                           {"grid", required_argument, NULL, O_GRID},
                                           {"community", required_argument, NULL, O_COMMUNITY},
                                           {"status", required_argument, NULL, O_STATUS},
                                           {"category", required_argument, NULL, O_CATEGORY},
                                           {"assignee", required_argument, NULL, O_ASSIGNEE},
                                           {"from", required_argument, NULL, O_FROM},
                                           {"to", required_argument, NULL, O_TO},
                                           {"limit", required_argument, NULL, O_LIMIT},
                                           {"by", required_argument, NULL, O_BY},
                                           {"generation", required_argument, NULL, O_GEN},
                                           {"overdue", no_argument, NULL, O_OVERDUE},
                                           {"replace", no_argument, NULL, O_REPLACE},
                                           {"hours", required_argument, NULL, O_HOURS},
                                           {"days", required_argument, NULL, O_DAYS},
                                           {NULL, 0, NULL, 0}};

typedef struct ev_args {
    int json, overdue, by, replace;
    const char *at, *from, *to, *hours, *days;
    int64_t gen, limit;
    wg_event_filter f;
} ev_args;

static int parse_event_args(cli *c, int argc, char **argv, ev_args *a)
{
    memset(a, 0, sizeof *a);
    wg_event_filter_init(&a->f);
    a->by = -1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", EVENT_OPTS, NULL)) != -1) {
        switch (opt) {
        case O_JSON:
            a->json = 1;
            break;
        case O_AT:
            a->at = optarg;
            break;
        case O_GRID:
            a->f.grid = optarg;
            break;
        case O_COMMUNITY:
            a->f.community = optarg;
            break;
        case O_STATUS:
            a->f.status = optarg;
            break;
        case O_CATEGORY:
            a->f.category = optarg;
            break;
        case O_ASSIGNEE:
            a->f.assignee = optarg;
            break;
        case O_FROM:
            a->from = optarg;
            break;
        case O_TO:
            a->to = optarg;
            break;
        case O_OVERDUE:
            a->overdue = 1;
            break;
        case O_REPLACE:
            a->replace = 1;
            break;
        case O_HOURS:
            a->hours = optarg;
            break;
        case O_DAYS:
            a->days = optarg;
            break;
        case O_LIMIT:
            if (!cli_parse_i64(optarg, &a->limit) || a->limit <= 0)
                return cli_usage(c, "--limit takes a positive number");
            break;
        case O_GEN:
            if (!cli_parse_i64(optarg, &a->gen) || a->gen <= 0)
                return cli_usage(c, "--generation takes a positive number");
            break;
        case O_BY:
            if ((a->by = wg_stats_by_parse(optarg)) < 0)
                return cli_usage(c, "--by takes worker, grid or community");
            break;
        default:
            return cli_usage(c, "bad option");
        }
    }
    return -1;
}

/* Every page of a listing, printed as it comes: JSON lines of the library's format, or a
 * table. */
static int list_events(cli *c, wg_ctx *ctx, ev_args *a, int64_t now, int overdue)
{
    wg_calendar *cal = NULL;
    int rc = wg_calendar_load(ctx, &cal);
    if (rc != WG_OK) return cli_fail(c, ctx, rc);
    int offset = wg_calendar_offset_min(cal);
    wg_calendar_free(cal);
    a->f.overdue = overdue;
    size_t want = a->limit ? (size_t)a->limit : (size_t)-1, shown = 0;
    if (!a->json)
        printf("%-8s %-8s %-10s %-16s %-12s %-25s %s\n", "id", "category", "status", "grid",
               "assignee", overdue ? "deadline" : "reported", overdue ? "late_h" : "description");
    do {
        a->f.limit = want - shown < 1000 ? want - shown : 1000;
        wg_event *v = NULL;
        size_t n = 0;
        int64_t next = 0;
        rc = wg_events_list(ctx, &a->f, now, &v, &n, &next);
        if (rc != WG_OK) return cli_fail(c, ctx, rc);
        for (size_t i = 0; i < n; i++) {
            if (a->json) {
                char *text = NULL;
                if (wg_event_json(ctx, v[i].id, WG_EVJ_PERSONAL, now, &text) == WG_OK)
                    printf("%s\n", text);
                free(text);
                continue;
            }
            char t[32] = "-";
            int64_t when = overdue ? v[i].deadline_ms : v[i].reported_ms;
            if (when) wg_time_format(when, offset, t);
            printf("%-8lld %-8s %-10s %-16s %-12s %-25s ", (long long)v[i].id, v[i].category,
                   wg_event_status_name(v[i].status), v[i].grid_code[0] ? v[i].grid_code : "-",
                   v[i].assignee[0] ? v[i].assignee : "-", t);
            if (overdue)
                printf("%.1f\n", (double)(now - v[i].deadline_ms) / 3600000.0);
            else
                printf("%s\n", v[i].description ? v[i].description : "");
        }
        shown += n;
        wg_events_free(v, n);
        a->f.after_id = next;
    } while (a->f.after_id && shown < want);
    return EXIT_OK;
}

static int events_run(cli *c, wg_ctx *ctx, const char *sub, ev_args *a, int argc, char **argv)
{
    int64_t now = now_ms(), from = 0, to = 0;
    if (a->at && !parse_time(c, ctx, "--at", a->at, &now)) return EXIT_USAGE;
    if (a->from && !parse_time(c, ctx, "--from", a->from, &from)) return EXIT_USAGE;
    if (a->to && !parse_time(c, ctx, "--to", a->to, &to)) return EXIT_USAGE;
    a->f.from_ms = from;
    a->f.to_ms = to;
    if (strcmp(sub, "overdue") == 0 || strcmp(sub, "list") == 0) {
        if (optind != argc) return cli_usage(c, "unexpected argument %s", argv[optind]);
        return list_events(c, ctx, a, now, strcmp(sub, "overdue") == 0 || a->overdue);
    }
    if (strcmp(sub, "stats") == 0) {
        if (a->by < 0) return cli_usage(c, "stats needs --by worker|grid|community");
        char *text = NULL;
        int rc = wg_events_stats_json(ctx, (wg_stats_by)a->by, from, to, now, &text);
        if (rc != WG_OK) return cli_fail(c, ctx, rc);
        printf("%s\n", text);
        free(text);
        return EXIT_OK;
    }
    if (strcmp(sub, "show") == 0) {
        int64_t id;
        if (optind + 1 != argc || !cli_parse_i64(argv[optind], &id))
            return cli_usage(c, "show takes one event id");
        char *text = NULL;
        int rc = wg_event_json(ctx, id, WG_EVJ_PERSONAL | WG_EVJ_STEPS, now, &text);
        if (rc != WG_OK) return cli_fail(c, ctx, rc);
        printf("%s\n", text);
        free(text);
        return EXIT_OK;
    }
    if (strcmp(sub, "backfill") == 0) {
        size_t n = 0;
        int rc = wg_events_backfill(ctx, a->gen, &n);
        if (rc != WG_OK) return cli_fail(c, ctx, rc);
        printf("%zu events completed\n", n);
        return EXIT_OK;
    }
    return cli_usage(c, "unknown subcommand '%s' (overdue, list, stats, show, backfill)", sub);
}

/* The subcommand (argv[1]) and its options. Returns -1 to go on, else the exit code; optind
 * then indexes the subcommand's operands in argv + 1. */
static int sub_args(cli *c, int argc, char **argv, const char *say, const char **sub, ev_args *a)
{
    if (argc < 2) return cli_usage(c, "%s", say);
    *sub = argv[1];
    return parse_event_args(c, argc - 1, argv + 1, a);
}

/* `categories import FILE`, `calendar import FILE`: FILE into the store through load, which
 * prints what it did. */
typedef int (*import_fn)(cli *c, wg_ctx *ctx, const char *path, const ev_args *a);
static int run_import(cli *c, int argc, char **argv, const ev_args *a, const char *file,
                      import_fn load)
{
    if (optind + 1 != argc) return cli_usage(c, "import takes one %s", file);
    wg_ctx *ctx = cli_open(c, 0);
    if (!ctx) return EXIT_STORE;
    int rc = load(c, ctx, argv[optind], a);
    int code = rc == WG_OK ? EXIT_OK : cli_fail(c, ctx, rc);
    wg_ctx_free(ctx);
    return code;
}

/* The read-only store for a subcommand with no operands; NULL with *code set otherwise. */
static wg_ctx *open_for_reading(cli *c, int argc, char **argv, int *code)
{
    if (optind != argc) {
        *code = cli_usage(c, "unexpected argument %s", argv[optind]);
        return NULL;
    }
    wg_ctx *ctx = cli_open(c, WG_STORE_READONLY);
    if (!ctx) *code = EXIT_STORE;
    return ctx;
}

int cmd_events(cli *c, int argc, char **argv)
{
    const char *sub = NULL;
    ev_args a;
    int code = sub_args(c, argc, argv, "say overdue, list, stats, show or backfill", &sub, &a);
    if (code >= 0) return code;
    wg_ctx *ctx = cli_open(c, strcmp(sub, "backfill") == 0 ? 0 : WG_STORE_READONLY);
    if (!ctx) return EXIT_STORE;
    code = events_run(c, ctx, sub, &a, argc - 1, argv + 1);
    wg_ctx_free(ctx);
    return code;
}

/* ---------------------------------------------------------------- categories */

static int import_categories(cli *c, wg_ctx *ctx, const char *path, const ev_args *a)
{
    size_t n = 0;
    int rc = wg_categories_import(ctx, path, a->replace, print_issue, c, &n);
    if (rc == WG_OK) printf("%zu categories imported\n", n);
    return rc;
}

int cmd_categories(cli *c, int argc, char **argv)
{
    const char *sub = NULL;
    ev_args a;
    int code = sub_args(c, argc, argv, "say import FILE or list", &sub, &a);
    if (code >= 0) return code;
    argc--, argv++;
    if (strcmp(sub, "import") == 0)
        return run_import(c, argc, argv, &a, "CSV file", import_categories);
    if (strcmp(sub, "list") != 0)
        return cli_usage(c, "unknown subcommand '%s' (import, list)", sub);
    wg_ctx *ctx = open_for_reading(c, argc, argv, &code);
    if (!ctx) return code;
    code = EXIT_OK;
    wg_category *v = NULL;
    size_t n = 0;
    int rc = wg_categories_list(ctx, &v, &n);
    if (rc != WG_OK) code = cli_fail(c, ctx, rc);
    for (size_t i = 0; rc == WG_OK && i < n; i++) {
        if (a.json)
            printf("{\"code\":\"%s\",\"limit\":%g,\"limit_unit\":\"%s\",\"role\":\"%s\"}\n",
                   v[i].code, v[i].limit_value, v[i].limit_days ? "days" : "hours", v[i].role);
        else
            printf("%s  %-8s %-16s %g working %s%s  %s\n", v[i].code, v[i].class_name, v[i].name,
                   v[i].limit_value, v[i].limit_days ? "day" : "hour",
                   v[i].limit_value == 1 ? "" : "s", v[i].role);
    }
    free(v);
    wg_ctx_free(ctx);
    return code;
}

/* ---------------------------------------------------------------- calendar */

static int import_calendar(cli *c, wg_ctx *ctx, const char *path, const ev_args *a)
{
    size_t n = 0;
    int rc = wg_calendar_import(ctx, path, &n);
    if (rc == WG_OK) printf("calendar imported: %zu dated days\n", n);
    return rc;
}

int cmd_calendar(cli *c, int argc, char **argv)
{
    const char *sub = NULL;
    ev_args a;
    int code = sub_args(c, argc, argv, "say import FILE, show or deadline", &sub, &a);
    if (code >= 0) return code;
    argc--, argv++;
    if (strcmp(sub, "import") == 0)
        return run_import(c, argc, argv, &a, "calendar file", import_calendar);
    if (strcmp(sub, "show") != 0 && strcmp(sub, "deadline") != 0)
        return cli_usage(c, "unknown subcommand '%s' (import, show, deadline)", sub);
    wg_ctx *ctx = open_for_reading(c, argc, argv, &code);
    if (!ctx) return code;
    code = EXIT_OK;
    wg_calendar *cal = NULL;
    int rc = wg_calendar_load(ctx, &cal);
    if (rc != WG_OK)
        code = cli_fail(c, ctx, rc);
    else if (strcmp(sub, "show") == 0) {
        char *text = wg_calendar_json(cal);
        printf("%s\n", text ? text : "null");
        free(text);
    } else {
        const char *hours = a.hours, *days = a.days;
        double v = 0;
        int64_t start = 0, end = 0;
        if (!!hours == !!days || !cli_parse_double(hours ? hours : days, &v) || v < 0)
            code = cli_usage(c, "deadline takes --from TIME and --hours N or --days N");
        else if (!a.from)
            code = cli_usage(c, "deadline takes --from TIME");
        else if (!parse_time(c, ctx, "--from", a.from, &start))
            code = EXIT_USAGE;
        else if (wg_calendar_add(
                     cal, start,
                     (int64_t)(v * (hours ? 3600000.0 : (double)wg_calendar_day_ms(cal))),
                     &end) != WG_OK)
            code = cli_usage(c, "the deadline falls beyond 2199");
        else {
            char t[32];
            wg_time_format(end, wg_calendar_offset_min(cal), t);
            printf("%s\n", t);
        }
    }
    wg_calendar_free(cal);
    wg_ctx_free(ctx);
    return code;
}
