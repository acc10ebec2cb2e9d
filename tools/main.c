/* wangge — command-line entry: global options, subcommand dispatch, help. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* defined in cmd_events.c */
int cmd_events(cli *c, int argc, char **argv);
int cmd_categories(cli *c, int argc, char **argv);
int cmd_calendar(cli *c, int argc, char **argv);

/* defined in cmd_divide.c */
int cmd_divide(cli *c, int argc, char **argv);
int cmd_merge(cli *c, int argc, char **argv);

/* defined in cmd_draft.c */
int cmd_draft(cli *c, int argc, char **argv);
int cmd_diff(cli *c, int argc, char **argv);
int cmd_rollback(cli *c, int argc, char **argv);

/* defined in cmd_workers.c */
int cmd_workers(cli *c, int argc, char **argv);

/* defined in cmd_check.c and cmd_backup.c */
int cmd_check(cli *c, int argc, char **argv);
int cmd_backup(cli *c, int argc, char **argv);
int cmd_restore(cli *c, int argc, char **argv);

static const command COMMANDS[] = {
    {"init", "create an empty store", "wangge [--store FILE] init", cmd_init},
    {"import", "import units, addresses, events, workers or reference layers",
     "wangge [--store FILE] import --level district|community|grid FILE.geojson\n"
     "        [--code-prop P] [--name-prop P] [--parent-prop P] [--repair] [--replace]\n"
     "        [--skip-rejected]\n"
     "  or   wangge import --addresses FILE.csv|FILE.geojson [--lon-col C] [--lat-col C]\n"
     "        [--households-col C] [--label-col C] [--code-col C] [--replace] [--skip-rejected]\n"
     "  or   wangge import --events FILE.csv|FILE.geojson [--category-col C] [--time-col C]\n"
     "        [--status-col C] [--description-col C] [--replace] [--skip-rejected]\n"
     "  or   wangge import --workers FILE.csv|FILE.geojson [--lon-col C] [--lat-col C]\n"
     "        [--replace] [--skip-rejected]\n"
     "  or   wangge import --layer NAME FILE.geojson [--code-prop P] [--name-prop P] [--repair]\n"
     "        [--replace] [--skip-rejected]\n"
     "Units go into the draft generation (created from the active one if needed). All or\n"
     "nothing: every rejected feature is listed and nothing is stored unless --skip-rejected.\n"
     "--repair makes invalid polygons valid (GEOS MakeValid) and closes unclosed rings,\n"
     "reporting each change. A missing parent code is derived from a 12-digit community\n"
     "or 14/15-digit grid code.\n"
     "Workers (columns id,name,phone,role,home_grid,lon,lat,on_duty; role grid_worker or\n"
     "officer) are updated when their id is stored already; an empty position or on_duty keeps\n"
     "the stored one; --replace deletes all workers first.\n"
     "A layer (NAME: 1-32 of a-z 0-9 _; e.g. roads, rivers, thematic_rental) holds points,\n"
     "lines and polygons with code, name and class (or theme); --replace replaces that layer.",
     cmd_import},
    {"layers", "list the reference layers with their feature counts", "wangge layers",
     cmd_layers},
    {"validate", "check a generation's invariants",
     "wangge validate [--generation N] [--tolerance M2] [--json] [-o FILE]\n"
     "Checks the draft (or --generation N): valid geometry, coordinates in range, one parent,\n"
     "code prefix, inside parent, no sibling overlap, no gap. Areas in m2 (geodesic).\n"
     "Faults of --tolerance m2 (default 1) or less are counted, not listed. Exit 2 on faults.",
     cmd_validate},
    {"publish", "validate the draft and make it the active generation",
     "wangge publish [--tolerance M2] [--force]\n"
     "Refused (exit 2, report printed) if the draft has faults, unless --force.",
     cmd_publish},
    {"generations", "list generations", "wangge generations [--json]", cmd_generations},
    {"draft", "edit the draft generation: replace, split or merge units, or discard it",
     "wangge draft new\n"
     "  or   wangge draft replace --level community|grid --parent CODE [--repair] FILE.geojson\n"
     "  or   wangge draft split CODE [--repair] FILE.geojson\n"
     "  or   wangge draft merge CODE,CODE[,...] [--name NAME]\n"
     "  or   wangge draft discard\n"
     "The draft is made from the active generation when there is none. replace puts the\n"
     "features of FILE (Polygon/MultiPolygon; optional properties code, name) in place of all\n"
     "the units under the parent; split puts them in place of one unit; merge dissolves\n"
     "siblings into one. Codes: an unchanged unit keeps its code; a changed one keeps the code\n"
     "of the old unit it shares most households with (optimal one-to-one matching); the rest\n"
     "get new sequence numbers under the parent in reading order, never a retired one. Prints\n"
     "the code of each feature. Nothing outside the parent changes; 'wangge diff' shows what\n"
     "moves, 'wangge publish' makes the draft active.",
     cmd_draft},
    {"diff", "compare two generations: units, addresses, events, workers, households",
     "wangge diff [--from N] [--to N] [--json] [-o FILE]\n"
     "Default: the active generation against the draft. Lists units added, removed and changed,\n"
     "every address and event whose work grid changes (placed afresh in both generations),\n"
     "workers whose home grid is removed or redrawn or whose position changes grid, and the\n"
     "households of each community and grid before and after.",
     cmd_diff},
    {"rollback", "make the previous generation active again",
     "wangge rollback\n"
     "The generation active before the current one becomes active again (with every address\n"
     "and event assigned in it), the current one retired; repeated, it walks further back.",
     cmd_rollback},
    {"lookup", "district, community and grid of points",
     "wangge lookup [--generation N] [--json] LON LAT\n"
     "  or   wangge lookup [--generation N] --batch FILE|-   (lines: lon,lat)\n"
     "A point on a shared boundary goes to the grid east of it (north on an east-west edge);\n"
     "a point in no grid is 'outside' with the nearest grid and its distance in metres.",
     cmd_lookup},
    {"assign", "(re)assign all addresses and events to the grids of a generation",
     "wangge assign [--generation N] [--threads N] [--changes FILE|-]\n"
     "Prints counts (assigned, outside, changed since the last run); --changes lists each\n"
     "changed item as kind,id,old_code,new_code.",
     cmd_assign},
    {"export", "write a level as GeoJSON, or the validation report",
     "wangge export --level district|community|grid [--generation N] [-o FILE]\n"
     "  or   wangge export --report [--generation N] [--tolerance M2] [-o FILE]",
     cmd_export},
    {"divide", "divide communities into work grids balanced by households, along roads",
     "wangge divide --community CODE | --district CODE  --grids N | --band MIN-MAX\n"
     "        [--best-effort] [--generation N] [--json [--geometry]] [--dry-run]\n"
     "Cuts each community along its roads and rivers (layers roads, rivers) into base units,\n"
     "partitions them with METIS by households and repairs the result: every grid connected,\n"
     "inside the band where the community's households allow it, boundaries on roads.\n"
     "--grids N gives exactly N grids per community; --band MIN-MAX chooses the number whose\n"
     "average is nearest the band's middle, and fails (exit 2, naming the feasible choices) if\n"
     "no number of grids can meet it, unless --best-effort. Reads the draft (else the active\n"
     "generation, or --generation N); writes the grids into the draft, replacing the\n"
     "community's work grids (codes kept where grids match old ones), unless --dry-run.\n"
     "Prints the plan: households, deviation, area, Polsby-Popper, share of boundary on roads\n"
     "per grid; max deviation, RMSE, cut length, gap and overlap per community.",
     cmd_divide},
    {"merge", "merge thematic grid layers into one layer of work grids (多网合一)",
     "wangge merge --layers NAME[,NAME...] [--district CODE | --community CODE]\n"
     "        [--band MIN-MAX | --grids N] [--generation N] [--json [--geometry]] [--dry-run]\n"
     "Cuts each community by its roads, rivers and the boundaries of the thematic grids of the\n"
     "layers (e.g. thematic_rental,thematic_family_planning), and divides it as 'divide' does.\n"
     "Default band 240-360 households (about 300 a grid), best effort. Without --district or\n"
     "--community, every community of the generation. Reports the thematic grids before and\n"
     "the work grids after.",
     cmd_merge},
    {"key", "create, list or revoke API keys for the server's roles",
     "wangge key create --role viewer|worker|dispatcher|planner|admin [--name TEXT] [--worker ID]\n"
     "       wangge key list\n"
     "       wangge key revoke KEY_ID",
     cmd_key},
    {"events", "the event loop: overdue events, statistics for scoring, one event's steps",
     "wangge events overdue [--at TIME] [--grid CODE] [--community CODE] [--limit N] [--json]\n"
     "  or   wangge events list [--grid CODE] [--community CODE] [--status S[,S...]]\n"
     "        [--category CODE] [--assignee ID] [--from TIME] [--to TIME] [--overdue] [--at TIME]\n"
     "        [--limit N] [--json]\n"
     "  or   wangge events stats --by worker|grid|community [--from TIME] [--to TIME] [--at TIME]\n"
     "  or   wangge events show ID\n"
     "  or   wangge events backfill [--generation N]\n"
     "overdue: dispatched events not handled by their deadline (working time from dispatch, see\n"
     "'wangge calendar'), as of --at (default now). stats prints JSON per worker, grid or\n"
     "community for events reported in [--from, --to): events by status, on-time rate (handled\n"
     "by the deadline / handled with a deadline), overdue, reopen count, mean time per step.\n"
     "TIME is YYYY-MM-DD[THH:MM[:SS]][+08:00] (the calendar's UTC offset when none is given).\n"
     "backfill gives events imported from a file their grid and time columns.",
     cmd_events},
    {"categories", "import or list the event categories and their time limits",
     "wangge categories import [--replace] FILE.csv\n"
     "  or   wangge categories list [--json]\n"
     "Columns code,class,class_name,subclass_name,limit,limit_unit,role (geodata/categories.csv):\n"
     "a 4-digit code (2-digit class + 2-digit subclass), the limit in working hours or days.\n"
     "Rows update stored codes; all or nothing, every bad row listed.",
     cmd_categories},
    {"calendar", "the working calendar of deadlines: import, show, compute a deadline",
     "wangge calendar import FILE\n"
     "  or   wangge calendar show\n"
     "  or   wangge calendar deadline --from TIME --hours N | --days N\n"
     "FILE has key = value lines: utc_offset = +08:00, hours = 09:00-12:00,14:00-18:00,\n"
     "weekend = sat,sun, holiday = 2026-10-01..2026-10-07, workday = 2026-10-10 (调休);\n"
     "the import replaces the stored calendar. Without one: UTC+8, Monday-Friday,\n"
     "09:00-12:00 and 14:00-18:00. A working day is one day's working hours.",
     cmd_calendar},
    {"workers", "workers: register, duty, GPS fixes, tracks, nearest on-duty worker",
     "wangge workers list [--json] | show ID\n"
     "  or   wangge workers add --id ID --name NAME --role grid_worker|officer [--phone P]\n"
     "        [--home-grid CODE] [--on-duty | --off-duty]\n"
     "  or   wangge workers duty ID on|off      wangge workers remove ID\n"
     "  or   wangge workers fixes FILE.csv [--crs gcj02]   (worker_id,lon,lat,at[,accuracy_m])\n"
     "  or   wangge workers track ID [--from T] [--to T] [--limit N]\n"
     "  or   wangge workers nearest [--k N] [--on-duty=true|false|any] [--seen-within MIN]\n"
     "        [--role R] [--grid CODE] [--community CODE] [--crs gcj02] [--json] LON LAT\n"
     "        | --batch FILE|-   (lines lon,lat; prints lon,lat,id,distance_m)\n"
     "  or   wangge workers prune [--days N] [--now T]\n"
     "add registers a worker or updates it (an id stored already; a removed worker comes back).\n"
     "fixes stores GPS fixes: one newer than a worker's position moves it, an older one joins\n"
     "the track only, the same worker and time again is a duplicate; fixes more than 5 minutes\n"
     "ahead of now or older than 30 days are refused (listed by line, exit 2). Times T: RFC 3339\n"
     "(+08:00 when no offset is given) or milliseconds since 1970. nearest: filters first (on\n"
     "duty by default), then the k nearest by geodesic distance on WGS84, ties by id; put '--'\n"
     "before a negative LON. prune deletes fixes older than --days (default 30).",
     cmd_workers},
    {"check", "check the store: SQLite integrity and the model's invariants",
     "wangge check [--json] [--quick]\n"
     "Runs PRAGMA integrity_check and foreign_key_check, checks the spatial indexes, then the\n"
     "invariants: one active generation; every address and event assigned in it, to one of\n"
     "its work grids (or outside, with the nearest grid); events filed under their\n"
     "generation's grid, each status the one its last step set, none stored twice; the\n"
     "active generation validates. --quick: quick_check, no validation. Prints one line per\n"
     "check; exit 0 when all pass, 2 naming the failed checks, 3 if the store cannot be read.",
     cmd_check},
    {"backup", "copy the store consistently while it is in use (SQLite online backup)",
     "wangge backup [--force] [--full] OUT\n"
     "Copies one snapshot of the store (a running server keeps writing meanwhile) into\n"
     "OUT.tmp, checks the copy (--full: with integrity_check and validation) and renames it to\n"
     "OUT. An existing OUT is replaced only with --force. A copy that fails the integrity checks\n"
     "is removed (exit 3); invariant faults of the store are reported as warnings.",
     cmd_backup},
    {"restore", "replace the store with a checked backup",
     "wangge [--store FILE] restore [--force] [--allow-faults] BACKUP\n"
     "Copies BACKUP beside the store, checks the copy in full and renames it over the store.\n"
     "Refused, the store untouched: a damaged backup or one that fails an invariant (unless\n"
     "--allow-faults); an existing store without --force; a store a running server has open.",
     cmd_restore},
    {"gen", "generate a synthetic city (Kuichong-like street offices) as GeoJSON and CSV",
     "wangge gen [--seed N] [--scale N] [--county CCCCCC] [--street N] [--households N]\n"
     "           [--grids N] [--communities N] [--events N] [--quiet] DIR\n"
     "Writes districts, communities, grids, roads, rivers, thematic layers (GeoJSON) and\n"
     "addresses, events, workers, categories (CSV) into DIR; the same options give the same\n"
     "bytes. Defaults: seed 1, one office 440307006 with 9 communities, 97 grids, about\n"
     "30000 households and 2000 events; --scale N puts N offices side by side (streets\n"
     "006, 007, ...), generated one at a time so memory stays flat.",
     cmd_gen},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void print_help(FILE *out)
{
    fprintf(out, "wangge — urban grid governance: nested district/community/work-grid polygons\n\n"
                 "usage: wangge [--store FILE] COMMAND [OPTIONS]\n\n"
                 "global options:\n"
                 "  -s, --store FILE   the store (default $WANGGE_STORE or ./wangge.sqlite)\n"
                 "  -h, --help         this help; 'wangge COMMAND --help' for a command\n\n"
                 "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-12s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(out, "  %-12s %s\n", "help", "this help, or 'wangge help COMMAND'");
    fprintf(out, "\nexit codes: 0 ok, 1 usage, 2 bad data or validation faults, 3 store/system\n");
}

void cli_print_usage(const command *cmd, FILE *out)
{
    fprintf(out, "wangge %s — %s\n\nusage: %s\n", cmd->name, cmd->summary, cmd->usage);
}

static const command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(COMMANDS[i].name, name) == 0) return &COMMANDS[i];
    return NULL;
}

static int has_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    cli c = {getenv("WANGGE_STORE") ? getenv("WANGGE_STORE") : "wangge.sqlite", "wangge"};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            print_help(stdout);
            return EXIT_OK;
        }
        if ((strcmp(argv[i], "-s") == 0 || strcmp(argv[i], "--store") == 0) && i + 1 < argc) {
            c.store = argv[++i];
        } else if (strncmp(argv[i], "--store=", 8) == 0) {
            c.store = argv[i] + 8;
        } else {
            fprintf(stderr, "wangge: unknown option %s (see 'wangge help')\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) {
        const command *cmd = i + 1 < argc ? find(argv[i + 1]) : NULL;
        if (i + 1 < argc && !cmd) {
            fprintf(stderr, "wangge: no command '%s' (see 'wangge help')\n", argv[i + 1]);
            return EXIT_USAGE;
        }
        if (cmd) cli_print_usage(cmd, stdout);
        else print_help(stdout);
        return EXIT_OK;
    }
    const command *cmd = find(argv[i]);
    if (!cmd) {
        fprintf(stderr, "wangge: no command '%s' (see 'wangge help')\n", argv[i]);
        return EXIT_USAGE;
    }
    if (has_help(argc - i, argv + i)) {
        cli_print_usage(cmd, stdout);
        return EXIT_OK;
    }
    char prog[64];
    snprintf(prog, sizeof prog, "wangge %s", cmd->name);
    c.prog = prog;
    optind = 1; /* getopt_long over the subcommand's own argv */
    return cmd->run(&c, argc - i, argv + i);
}
