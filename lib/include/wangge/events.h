/* wangge — events through the closed loop: categories, the working calendar, filing,
 * transitions, queries and statistics for scoring.
 *
 * Model.
 * - A category is a 4-digit code (2-digit class + 2-digit subclass) with names, a time limit in
 *   working hours or working days and a responsible role (table categories).
 * - The working calendar (wg_meta keys calendar.* and table calendar_days) says when the
 *   deadline clock runs: the same working periods on every working day (default 09:00-12:00 and
 *   14:00-18:00), the weekly days off (default Saturday and Sunday), dated holidays and dated
 *   make-up workdays (调休) that override the week, all in local time at a fixed UTC offset
 *   (default +08:00, China Standard Time, no daylight saving).
 * - A working day is one full day's working periods (7 hours by default), so "N working days"
 *   is N times that much working time: dispatched on Friday at 15:00 with 1 working day, an
 *   event is due on Monday at 15:00. The clock starts at dispatch (at the next working moment
 *   if that is outside working time) and a deadline that falls exactly at the end of a period
 *   is that end (dispatched 17:00 with 1 hour: due 18:00 the same day, not 09:00 the next).
 * - An event is filed at a point with a category; it is placed at once in the active
 *   generation's grid (a point in no grid is kept, flagged outside, under its nearest grid) and
 *   gets a suggested assignee: the grid's worker if on duty, else the nearest on-duty worker.
 * - The closed loop, each step one row of event_steps (action, from, to, actor, time):
 *
 *       reported --register--> registered --dispatch--> dispatched --handle--> handled
 *          |                       |                        ^                     |
 *          +--------cancel---------+--> cancelled           +------send_back------+ (verify fails)
 *                                                           +------send_back------ verified
 *       handled --verify--> verified --evaluate--> evaluated --archive--> archived
 *
 *   dispatch starts the deadline clock (deadline = dispatch + the category's limit in working
 *   time); dispatch again while dispatched reassigns without moving the deadline. send_back
 *   (from handled or verified) returns the event to dispatched and counts a reopen; the deadline
 *   keeps running. An event is closed when it is handled (closed_ms; cleared by a send-back) or
 *   cancelled. Overdue: a deadline, not closed, and now past the deadline. Any other move is
 *   refused with WG_ECONFLICT.
 * - Times are milliseconds since the Unix epoch (UTC). The library never reads the clock:
 *   callers pass now_ms, and may pass an explicit time for a step (not before the event's last
 *   step, not more than WG_EVENT_FUTURE_SLACK_MS after now_ms). Times must lie in
 *   [2000-01-01, 2200-01-01) UTC; 0 means "none" in the structures below.
 */
#ifndef WANGGE_EVENTS_H
#define WANGGE_EVENTS_H

#include "wangge/common.h"
#include "wangge/import.h"
#include "wangge/lookup.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- time */

/* How far in the future (of now_ms) a given time may lie: clocks of phones drift. */
#define WG_EVENT_FUTURE_SLACK_MS (5 * 60 * 1000)
/* China Standard Time, the default offset of the calendar, in minutes east of UTC. */
#define WG_CAL_DEFAULT_OFFSET_MIN 480

/* Parses an RFC 3339 / W3C date-time: YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|(+|-)HH:MM]. Without
 * an offset the time is local at offset_min; a date alone is local midnight. WG_EDATA (with a
 * reason in msg, may be NULL) for anything else, an impossible date or time, or a time outside
 * [2000-01-01, 2200-01-01). */
WG_API int wg_time_parse(const char *s, int offset_min, int64_t *ms /* out */, char *msg,
                         size_t msg_len);
/* Formats ms as "YYYY-MM-DDTHH:MM:SS+HH:MM" at offset_min ("Z" for 0); out holds 32 bytes. */
WG_API void wg_time_format(int64_t ms, int offset_min, char out[32]);

/* ---------------------------------------------------------------- working calendar */

typedef struct wg_calendar wg_calendar;

/* The default calendar: UTC+8, Monday to Friday, 09:00-12:00 and 14:00-18:00, no dated days.
 * NULL when out of memory. Free with wg_calendar_free. */
WG_API wg_calendar *wg_calendar_default(void);
WG_API void wg_calendar_free(wg_calendar *cal);
/* Parses a calendar file (text, "key = value" lines, '#' comments):
 *     utc_offset = +08:00                     (default +08:00)
 *     hours      = 09:00-12:00, 14:00-18:00   (default; sorted, disjoint, within 00:00-24:00)
 *     weekend    = sat, sun                   (default; "none" for no weekly day off)
 *     holiday    = 2026-10-01..2026-10-07     (dates or ranges, comma-separated, repeatable)
 *     workday    = 2026-09-27, 2026-10-10     (make-up workdays, 调休)
 * Unset keys take the defaults. WG_EDATA naming the line for anything malformed, a date both a
 * holiday and a workday, a range over 366 days, or no working weekday at all. Free with
 * wg_calendar_free. */
WG_API int wg_calendar_parse_file(wg_ctx *ctx, const char *path, wg_calendar **out);
/* The same from text in memory (name is used in messages). */
WG_API int wg_calendar_parse_text(wg_ctx *ctx, const char *text, const char *name,
                                  wg_calendar **out);
/* The store's calendar (the default if none was imported). Free with wg_calendar_free. */
WG_API int wg_calendar_load(wg_ctx *ctx, wg_calendar **out);
/* Replaces the store's calendar with cal (one transaction). */
WG_API int wg_calendar_save(wg_ctx *ctx, const wg_calendar *cal);
/* wg_calendar_parse_file then wg_calendar_save; *ndays (may be NULL) gets the dated days. */
WG_API int wg_calendar_import(wg_ctx *ctx, const char *path, size_t *ndays /* out */);
/* The calendar as JSON text (malloc'd; NULL when out of memory):
 * {"utc_offset","hours":["09:00-12:00",...],"weekend":["sat","sun"],"day_hours",
 *  "holidays":[dates],"workdays":[dates]}. */
WG_API char *wg_calendar_json(const wg_calendar *cal);

WG_API int wg_calendar_offset_min(const wg_calendar *cal);
/* Working time in one working day, in ms (7 h = 25,200,000 by default). */
WG_API int64_t wg_calendar_day_ms(const wg_calendar *cal);
/* 1 if the local date y-m-d is a working day (week pattern and dated overrides). */
WG_API int wg_calendar_is_workday(const wg_calendar *cal, int y, int m, int d);
/* The instant work_ms of working time after start_ms (see the model above for where the clock
 * starts and how boundaries fall). WG_EDATA if work_ms < 0 or the end lies beyond 2200. */
WG_API int wg_calendar_add(const wg_calendar *cal, int64_t start_ms, int64_t work_ms,
                           int64_t *end_ms /* out */);
/* Working time between two instants (0 if b <= a). */
WG_API int64_t wg_calendar_work_between(const wg_calendar *cal, int64_t a_ms, int64_t b_ms);

/* ---------------------------------------------------------------- categories */

typedef struct wg_category {
    char code[5];        /* 4 digits: class + subclass */
    char class_name[96]; /* e.g. 市容环境 */
    char name[128];      /* the subclass, e.g. 暴露垃圾 */
    double limit_value;  /* > 0 */
    int limit_days;      /* 1: limit_value working days, 0: working hours */
    char role[32];       /* responsible role, e.g. grid_worker, officer */
} wg_category;

/* Imports categories from CSV (the geodata format): code,class,class_name,subclass_name,limit,
 * limit_unit,role (header names; class is optional and, if present, must equal the code's
 * first two digits; limit_unit hours|days). Rows upsert by code; replace deletes the stored
 * categories first. All or nothing: every bad row is reported through on_issue (may be NULL)
 * by line (kinds bad_code, duplicate_code, bad_class, missing_name, bad_limit, bad_unit,
 * bad_role) and nothing is stored (WG_EDATA). *n (may be NULL) gets the rows imported. */
WG_API int wg_categories_import(wg_ctx *ctx, const char *path, int replace, wg_issue_fn on_issue,
                                void *ud, size_t *n /* out */);
/* All categories by code. Caller frees *out with free() (NULL when none). */
WG_API int wg_categories_list(wg_ctx *ctx, wg_category **out, size_t *n /* out */);
/* One category; WG_ENOTFOUND if the code is not stored. */
WG_API int wg_category_get(wg_ctx *ctx, const char *code, wg_category *out);
/* The category's limit as working time in ms under cal. */
WG_API int64_t wg_category_limit_ms(const wg_category *c, const wg_calendar *cal);

/* ---------------------------------------------------------------- events */

typedef enum wg_event_status {
    WG_EV_REPORTED,
    WG_EV_REGISTERED,
    WG_EV_CANCELLED,
    WG_EV_DISPATCHED,
    WG_EV_HANDLED,
    WG_EV_VERIFIED,
    WG_EV_EVALUATED,
    WG_EV_ARCHIVED,
    WG_EV_NSTATUS
} wg_event_status;
/* "reported", ...; NULL outside the enum. Static strings. */
WG_API const char *wg_event_status_name(wg_event_status s);
/* -1 when unknown. */
WG_API int wg_event_status_parse(const char *s);

typedef enum wg_event_action {
    WG_ACT_REGISTER,
    WG_ACT_CANCEL,
    WG_ACT_DISPATCH,
    WG_ACT_HANDLE,
    WG_ACT_VERIFY,
    WG_ACT_SEND_BACK,
    WG_ACT_EVALUATE,
    WG_ACT_ARCHIVE,
    WG_ACT_COUNT
} wg_event_action;
/* "register", "cancel", "dispatch", "handle", "verify", "send_back", "evaluate", "archive". */
WG_API const char *wg_event_action_name(wg_event_action a);
/* -1 when unknown. */
WG_API int wg_event_action_parse(const char *s);

/* Text limits (bytes of UTF-8), checked on filing. */
enum {
    WG_EVENT_DESC_MAX = 4000,
    WG_EVENT_URL_MAX = 2048,
    WG_EVENT_REPORTER_MAX = 400,
    WG_EVENT_NOTE_MAX = 2000
};

/* An event to file. */
typedef struct wg_event_new {
    double lon, lat;         /* WGS84 */
    const char *category;    /* 4-digit code of a stored category */
    const char *description; /* may be NULL */
    const char *photo_url;   /* NULL, or an http(s) URL */
    const char *reporter;    /* contact of the reporter (personal data); may be NULL */
    const char *source;      /* "api", "open311", ...; NULL = "api" */
    const char *actor;       /* who files it (a key id, worker id); may be NULL */
    int64_t at_ms;           /* when it was reported; 0 = now_ms */
} wg_event_new;

/* The nearest on-duty worker to a point, for the suggested assignee: writes the worker's id
 * (NUL-terminated, at most n bytes) and returns 1; 0 if there is none; a negative WG_E* code on
 * failure. The server wires this to its position index. */
typedef int (*wg_nearest_fn)(void *ud, double lon, double lat, char *worker_id, size_t n);
/* A wg_nearest_fn that scans the workers table (ud: a wg_ctx with the store open): the on-duty
 * active worker with a known position at the least geodesic distance, lowest id on ties. For
 * the CLI and tests; the server uses its in-memory index. */
WG_API int wg_nearest_scan(void *ud, double lon, double lat, char *worker_id, size_t n);

/* Files n events in one transaction (all or nothing): validates each (coordinates, a stored
 * category, text limits, an http(s) photo URL, the time), places it with lk (the active
 * generation's lookup; a point in no grid is filed with outside = 1 under its nearest grid),
 * suggests an assignee (the grid's on-duty grid worker, else nearest(ud, ...) when nearest is
 * not NULL) and records the report step. ids (n of them, may be NULL) get the new ids.
 * The active generation is read inside the transaction: when a publish has made another one
 * active since lk was loaded, the events are placed with that generation's lookup, loaded
 * there (a publish never fails a filing; the caller may reload lk for the next one).
 * WG_EDATA "event i: ..." for the first invalid one (nothing stored). */
WG_API int wg_events_file(wg_ctx *ctx, const wg_lookup *lk, const wg_event_new *ev, size_t n,
                          wg_nearest_fn nearest, void *ud, int64_t now_ms, int64_t *ids /* out */);

/* One transition. */
typedef struct wg_event_step_req {
    wg_event_action action;
    const char *actor;         /* who (key id, worker id, name); may be NULL */
    int64_t at_ms;             /* when; 0 = now_ms */
    int expect_status;         /* optimistic concurrency: -1 any, else the status the caller
                                  saw (WG_ECONFLICT if it has moved on) */
    const char *assignee;      /* dispatch: the worker (NULL: the suggested one) */
    const char *only_assignee; /* when set, refuse (WG_ECONFLICT) unless the event is
                                  assigned to this worker (a worker acting on its own task) */
    int score;                 /* evaluate: 1-5, 0 = none given */
    const char *note;          /* may be NULL */
} wg_event_step_req;

/* An event as stored. Strings of the second group are malloc'd (or NULL): wg_event_clear. */
typedef struct wg_event {
    int64_t id, generation;
    double lon, lat;
    char category[5];
    wg_event_status status;
    char grid_code[33]; /* "" if not placed */
    int outside;        /* 1: in no grid (grid_code is the nearest one) */
    char assignee[65];  /* "" if none; before dispatch, the suggestion */
    int64_t reported_ms, dispatched_ms, deadline_ms, closed_ms; /* 0 = none */
    int reopen_count;
    char *description, *photo_url, *reporter, *source;
} wg_event;
WG_API void wg_event_clear(wg_event *e);

/* Moves an event one step (see the model). WG_ENOTFOUND: no such event; WG_ECONFLICT: the
 * action is not allowed from the event's status, the status is not expect_status, or
 * only_assignee does not match; WG_EDATA: bad time (before the last step, in the future, out of
 * range), unknown assignee, bad score, a dispatch with no assignee and no suggestion, note too
 * long. out (may be NULL) gets the event after the step (wg_event_clear it). */
WG_API int wg_event_transition(wg_ctx *ctx, int64_t id, const wg_event_step_req *req,
                               int64_t now_ms, wg_event *out /* out */);
/* One event; WG_ENOTFOUND if none. wg_event_clear(out) afterwards. */
WG_API int wg_event_get(wg_ctx *ctx, int64_t id, wg_event *out /* out */);

/* JSON output flags. */
enum {
    WG_EVJ_PERSONAL = 1, /* include the reporter's contact */
    WG_EVJ_STEPS = 2,    /* include the steps */
};
/* One event as JSON text (malloc'd): {"id","lon","lat","category","category_name","status",
 * "description","photo_url","source","generation","grid","community","outside",
 * "assignee","suggested_assignee","reported_at","dispatched_at","deadline","closed_at",
 * "overdue","reopen_count"[,"reporter"][,"steps":[{"action","from","to","actor","at","note"
 * [,"score"]}]]} with times in the calendar's offset and overdue as at now_ms. */
WG_API int wg_event_json(wg_ctx *ctx, int64_t id, unsigned flags, int64_t now_ms,
                         char **out /* out */);

/* Filters of a listing (zero/NULL = no filter). */
typedef struct wg_event_filter {
    const char *grid;       /* exact work-grid code */
    const char *community;  /* code prefix of the grid (a community or district code) */
    const char *status;     /* a status, or several separated by commas */
    const char *category;   /* a 4-digit code, or a 2-digit class */
    const char *assignee;   /* worker id */
    int64_t from_ms, to_ms; /* reported in [from, to) */
    int has_bbox;
    double bbox[4];   /* lon_min, lat_min, lon_max, lat_max */
    int overdue;      /* only events overdue at now_ms */
    int outside;      /* -1 any (set it!), 0 inside a grid, 1 outside */
    int64_t after_id; /* paging: events with id > after_id */
    size_t limit;     /* default 100, at most 1000 */
} wg_event_filter;
/* Sets a filter to "everything": outside = -1, the rest zero. */
WG_API void wg_event_filter_init(wg_event_filter *f);

/* Events matching f, by id. Caller frees with wg_events_free(*out, *n). *next_after gets the
 * id to pass as after_id for the next page, 0 when this is the last. WG_EINVAL for a bad
 * filter (unknown status, malformed category, bad bbox) with a message. */
WG_API int wg_events_list(wg_ctx *ctx, const wg_event_filter *f, int64_t now_ms, wg_event **out,
                          size_t *n /* out */, int64_t *next_after /* out */);
WG_API void wg_events_free(wg_event *ev, size_t n);
/* The listing as JSON text (malloc'd): {"count","next_after":id|null,"events":[...]}. */
WG_API int wg_events_list_json(wg_ctx *ctx, const wg_event_filter *f, unsigned flags,
                               int64_t now_ms, char **out /* out */);

/* Fills in what events imported from a file lack (wangge import --events, wg_import_city):
 * reported_ms from reported_at, and generation, grid_code and outside from their assignment in
 * generation gen (0 = the active one); source 'import'. *n (may be NULL) gets the rows
 * updated. Events filed through wg_events_file are complete already. */
WG_API int wg_events_backfill(wg_ctx *ctx, int64_t gen, size_t *n /* out */);

/* ---------------------------------------------------------------- statistics */

typedef enum wg_stats_by { WG_STATS_WORKER, WG_STATS_GRID, WG_STATS_COMMUNITY } wg_stats_by;
/* "worker", "grid", "community" -> 0, 1, 2; -1 if unknown. */
WG_API int wg_stats_by_parse(const char *s);

/* Scoring statistics over events reported in [from_ms, to_ms) (0 = open ends), grouped per
 * worker (the assignee of dispatched events), per work grid (outside events under their nearest
 * grid) or per community (the grid's parent), as JSON text (malloc'd):
 * {"by","from","to","at","groups":[{"key","events","by_status":{status:n,...},"with_deadline",
 *  "closed_with_deadline","on_time","on_time_rate":x|null,"overdue","reopen_count",
 *  "outside","mean_step_s":{action:seconds,...}}...],"total":{...}}.
 * on_time_rate = on_time / closed_with_deadline (closed no later than the deadline); overdue
 * counts open events past their deadline at now_ms; mean_step_s is the mean wall
 * time from an event's previous step to each step of that action. */
WG_API int wg_events_stats_json(wg_ctx *ctx, wg_stats_by by, int64_t from_ms, int64_t to_ms,
                                int64_t now_ms, char **out /* out */);

#ifdef __cplusplus
}
#endif
#endif
