/* Events (lib/src/calendar.c, categories.c, events.c, events_query.c):
 * - time text: RFC 3339 in and out, bad timestamps refused;
 * - deadline arithmetic on the default calendar and on one with the 2026 National Day holiday
 *   (Oct 1-7) and its make-up workdays (Sun Sep 27, Sat Oct 10): across a weekend, across the
 *   holiday, onto a make-up Saturday, starts mid-period, in the lunch break, before and after
 *   hours and on days off, exact period ends; working time between instants; bad calendars;
 *   the calendar's round trip through the store;
 * - categories: import, upsert, every bad row reported with nothing stored;
 * - filing: grid and generation at once, the suggested assignee (on-duty grid worker, else the
 *   nearest callback), a point outside every grid filed and flagged under its nearest grid,
 *   unknown category / bad coordinates / bad times / bad URL refused with nothing stored;
 * - the closed loop: every allowed move, send-back with reopen counts, invalid moves ->
 *   WG_ECONFLICT, optimistic concurrency, the assignee check, steps with actor and time;
 * - listings with filters and paging, overdue;
 * - statistics per worker, grid and community against hand counts of a scripted history. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"
#include "wangge/events.h"
#include "wangge/import.h"
#include "wangge/lookup.h"
#include "wangge/store.h"

/* ---------------------------------------------------------------- helpers */

/* Local China time (UTC+8) as ms; fails the test on a bad literal. */
static int64_t T(const char *s)
{
    int64_t ms = 0;
    char msg[128];
    int rc = wg_time_parse(s, 480, &ms, msg, sizeof msg);
    if (rc != WG_OK) print_error("time %s: %s\n", s, msg);
    assert_int_equal(WG_OK, rc);
    return ms;
}

/* Asserts that ms formats as want (in UTC+8). */
#define assert_time(ms, want) assert_time_at((ms), (want), __LINE__)
static void assert_time_at(int64_t ms, const char *want, int line)
{
    char got[32];
    wg_time_format(ms, 480, got);
    if (strcmp(got, want) != 0) print_error("line %d: got %s, want %s\n", line, got, want);
    assert_string_equal(want, got);
}

/* start + work under cal, as text. */
static void expect_add(const wg_calendar *cal, const char *start, double hours, const char *want)
{
    int64_t end = 0;
    assert_int_equal(WG_OK,
                     wg_calendar_add(cal, T(start), (int64_t)llround(hours * 3600000.0), &end));
    char got[32];
    wg_time_format(end, 480, got);
    if (strcmp(got, want) != 0)
        print_error("%s + %g h: got %s, want %s\n", start, hours, got, want);
    assert_string_equal(want, got);
}

static const char *const HOLIDAY_2026 =
    "# 2026 National Day: Oct 1-7 off, Sun Sep 27 and Sat Oct 10 worked instead\n"
    "utc_offset = +08:00\n"
    "hours = 09:00-12:00, 14:00-18:00\n"
    "weekend = sat, sun\n"
    "holiday = 2026-10-01..2026-10-07   # 国庆节\n"
    "workday = 2026-09-27, 2026-10-10   # 调休\n";

static wg_calendar *holiday_calendar(void)
{
    wg_calendar *cal = NULL;
    wg_ctx *ctx = wg_ctx_new();
    int rc = wg_calendar_parse_text(ctx, HOLIDAY_2026, "holiday", &cal);
    if (rc != WG_OK) print_error("%s\n", wg_errmsg(ctx));
    assert_int_equal(WG_OK, rc);
    wg_ctx_free(ctx);
    return cal;
}

/* ---------------------------------------------------------------- time text */

static void test_time_text(void **state)
{
    (void)state;
    int64_t ms;
    char msg[128], out[32];
    assert_int_equal(WG_OK, wg_time_parse("2026-10-01T05:00:25+08:00", 0, &ms, msg, sizeof msg));
    wg_time_format(ms, 0, out);
    assert_string_equal("2026-09-30T21:00:25Z", out);
    assert_int_equal(WG_OK, wg_time_parse("2026-09-30T21:00:25Z", 480, &ms, NULL, 0));
    assert_time(ms, "2026-10-01T05:00:25+08:00");
    /* no offset: local at the given offset; a date alone is local midnight */
    assert_time(T("2026-10-09 15:30"), "2026-10-09T15:30:00+08:00");
    assert_time(T("2026-10-09"), "2026-10-09T00:00:00+08:00");
    assert_time(T("2026-10-09T15:30:00.250+08:00"), "2026-10-09T15:30:00.250+08:00");
    assert_time(T("2026-10-09T07:30:00-05:00"), "2026-10-09T20:30:00+08:00");
    assert_int_equal(WG_OK,
                     wg_time_parse("2024-02-29T00:00:00Z", 480, &ms, NULL, 0)); /* leap day */
    static const char *const BAD[] = {"",
                                      "yesterday",
                                      "2026-13-01T00:00:00Z",
                                      "2026-02-29T00:00:00Z",
                                      "2026-10-09T24:00:00Z",
                                      "2026-10-09T12:60:00Z",
                                      "2026-10-09T12:00:00+25:00",
                                      "2026-10-09T12:00:00Zjunk",
                                      "1999-12-31T23:59:59Z",
                                      "2200-01-01T00:00:00Z",
                                      "2026-10-9",
                                      "2026-10-09T1:00"};
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        msg[0] = '\0';
        if (wg_time_parse(BAD[i], 480, &ms, msg, sizeof msg) != WG_EDATA)
            print_error("accepted '%s'\n", BAD[i]);
        assert_int_equal(WG_EDATA, wg_time_parse(BAD[i], 480, &ms, msg, sizeof msg));
        assert_true(msg[0] != '\0');
    }
}

/* ---------------------------------------------------------------- the default calendar */

static void test_default_calendar(void **state)
{
    (void)state;
    wg_calendar *cal = wg_calendar_default();
    assert_non_null(cal);
    assert_int_equal(480, wg_calendar_offset_min(cal));
    assert_int_equal(7 * 3600000, wg_calendar_day_ms(cal));
    /* 2026-10-09 is a Friday */
    assert_true(wg_calendar_is_workday(cal, 2026, 10, 9));
    assert_false(wg_calendar_is_workday(cal, 2026, 10, 10));
    assert_false(wg_calendar_is_workday(cal, 2026, 10, 11));
    /* mid-period and across lunch */
    expect_add(cal, "2026-10-12T09:30", 2, "2026-10-12T11:30:00+08:00");
    expect_add(cal, "2026-10-12T10:30", 4, "2026-10-12T16:30:00+08:00");
    /* across the weekend: Friday 15:00 + 1 working day (7 h) = Monday 15:00 */
    expect_add(cal, "2026-10-09T15:00", 7, "2026-10-12T15:00:00+08:00");
    expect_add(cal, "2026-10-09T16:00", 4, "2026-10-12T11:00:00+08:00");
    /* an exact period end stays at that end, never the next period's start */
    expect_add(cal, "2026-10-09T17:00", 1, "2026-10-09T18:00:00+08:00");
    expect_add(cal, "2026-10-12T09:00", 3, "2026-10-12T12:00:00+08:00");
    expect_add(cal, "2026-10-12T09:00", 7, "2026-10-12T18:00:00+08:00");
    /* starts outside working time: the clock starts at the next working moment */
    expect_add(cal, "2026-10-12T07:00", 1, "2026-10-12T10:00:00+08:00");
    expect_add(cal, "2026-10-12T12:30", 1, "2026-10-12T15:00:00+08:00");
    expect_add(cal, "2026-10-12T18:30", 1, "2026-10-13T10:00:00+08:00");
    expect_add(cal, "2026-10-10T10:00", 1, "2026-10-12T10:00:00+08:00"); /* Saturday */
    expect_add(cal, "2026-10-11T23:59", 7, "2026-10-12T18:00:00+08:00"); /* Sunday night */
    /* whole weeks: 5 working days from Monday 10:00 = next Monday 10:00; 10 = two weeks */
    expect_add(cal, "2026-10-12T10:00", 35, "2026-10-19T10:00:00+08:00");
    expect_add(cal, "2026-10-12T10:00", 70, "2026-10-26T10:00:00+08:00");
    /* fractions: half a working day from Monday 09:00 */
    expect_add(cal, "2026-10-12T09:00", 3.5, "2026-10-12T14:30:00+08:00");
    /* zero is the start itself; negative is refused */
    expect_add(cal, "2026-10-10T10:00", 0, "2026-10-10T10:00:00+08:00");
    int64_t end;
    assert_int_equal(WG_EDATA, wg_calendar_add(cal, T("2026-10-10T10:00"), -1, &end));
    /* working time between two instants */
    assert_int_equal(7 * 3600000,
                     wg_calendar_work_between(cal, T("2026-10-09T15:00"), T("2026-10-12T15:00")));
    assert_int_equal(3600000,
                     wg_calendar_work_between(cal, T("2026-10-12T11:30"), T("2026-10-12T14:30")));
    assert_int_equal(0,
                     wg_calendar_work_between(cal, T("2026-10-10T00:00"), T("2026-10-11T23:00")));
    assert_int_equal(0,
                     wg_calendar_work_between(cal, T("2026-10-12T15:00"), T("2026-10-12T14:00")));
    wg_calendar_free(cal);
}

/* ---------------------------------------------------------------- holidays and 调休 */

static void test_holiday_calendar(void **state)
{
    (void)state;
    wg_calendar *cal = holiday_calendar();
    assert_true(wg_calendar_is_workday(cal, 2026, 9, 27));   /* Sunday, make-up workday */
    assert_false(wg_calendar_is_workday(cal, 2026, 10, 1));  /* Thursday, holiday */
    assert_false(wg_calendar_is_workday(cal, 2026, 10, 5));  /* Monday, holiday */
    assert_true(wg_calendar_is_workday(cal, 2026, 10, 8));   /* Thursday after */
    assert_true(wg_calendar_is_workday(cal, 2026, 10, 10));  /* Saturday, make-up */
    assert_false(wg_calendar_is_workday(cal, 2026, 10, 11)); /* Sunday */
    /* across the holiday: Wed Sep 30 16:00 + 1 day: 2 h Wed, Oct 1-7 off, 5 h on Thu Oct 8 */
    expect_add(cal, "2026-09-30T16:00", 7, "2026-10-08T16:00:00+08:00");
    /* into the make-up Sunday: Fri Sep 25 15:00 + 1 day: 3 h Fri, Sat off, 4 h on Sun Sep 27 */
    expect_add(cal, "2026-09-25T15:00", 7, "2026-09-27T15:00:00+08:00");
    /* onto the make-up Saturday, ending exactly at its noon */
    expect_add(cal, "2026-10-09T17:00", 4, "2026-10-10T12:00:00+08:00");
    /* started on a holiday: the clock waits for Thu Oct 8 09:00 */
    expect_add(cal, "2026-10-03T10:00", 2, "2026-10-08T11:00:00+08:00");
    /* 3 working days from Tue Sep 29 10:00: Wed 30, Thu Oct 8, Fri Oct 9 -> 10:00 */
    expect_add(cal, "2026-09-29T10:00", 21, "2026-10-09T10:00:00+08:00");
    /* a Sunday that is not a make-up day: Sat Oct 10 17:00 + 2 h -> Mon Oct 12 10:00 */
    expect_add(cal, "2026-10-10T17:00", 2, "2026-10-12T10:00:00+08:00");
    assert_int_equal(2 * 3600000,
                     wg_calendar_work_between(cal, T("2026-09-30T16:00"), T("2026-10-08T09:00")));
    wg_calendar_free(cal);

    /* another offset and other hours: UTC, 08:30-17:00 without a break, Friday-Saturday weekend */
    wg_ctx *ctx = wg_ctx_new();
    assert_int_equal(
        WG_OK,
        wg_calendar_parse_text(ctx, "utc_offset = +00:00\nhours = 08:30-17:00\nweekend = fri,sat\n",
                               "utc", &cal));
    assert_int_equal(0, wg_calendar_offset_min(cal));
    int64_t end;
    /* Thursday 2026-10-08 16:00Z + 2 h: 1 h Thu, Fri/Sat off, Sunday 08:30 + 1 h */
    assert_int_equal(
        WG_OK, wg_calendar_add(cal, T("2026-10-09T00:00"), 2 * 3600000, &end)); /* Thu 16:00Z */
    char out[32];
    wg_time_format(end, 0, out);
    assert_string_equal("2026-10-11T09:30:00Z", out);
    wg_calendar_free(cal);
    wg_ctx_free(ctx);
}

static void test_bad_calendars(void **state)
{
    (void)state;
    static const char *const BAD[] = {
        "hours = 09:00-08:00\n",                   /* empty period */
        "hours = 09:00-12:00, 11:00-13:00\n",      /* overlap */
        "hours = 14:00-18:00, 09:00-12:00\n",      /* out of order */
        "hours = 9-12\n",                          /* format */
        "hours =\n",                               /* none */
        "weekend = mon,tue,wed,thu,fri,sat,sun\n", /* no working weekday */
        "weekend = caturday\n",
        "holiday = 2026-10-01\nworkday = 2026-10-01\n", /* both */
        "holiday = 2026-10-07..2026-10-01\n",           /* backwards */
        "holiday = 2026-01-01..2027-06-01\n",           /* over 366 days */
        "holiday = 2026-02-30\n",                       /* no such date */
        "utc_offset = +15:00\n",
        "colour = blue\n",     /* unknown key */
        "hours 09:00-12:00\n", /* no '=' */
    };
    wg_ctx *ctx = wg_ctx_new();
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        wg_calendar *cal = NULL;
        int rc = wg_calendar_parse_text(ctx, BAD[i], "bad.ini", &cal);
        if (rc != WG_EDATA) print_error("accepted: %s", BAD[i]);
        assert_int_equal(WG_EDATA, rc);
        assert_null(cal);
        assert_non_null(strstr(wg_errmsg(ctx), "bad.ini:"));
    }
    wg_ctx_free(ctx);
}

static void test_calendar_store(void **state)
{
    (void)state;
    char *path;
    wg_ctx *ctx = tu_open_store(&path);
    wg_calendar *cal = NULL;
    assert_int_equal(WG_OK, wg_calendar_load(ctx, &cal)); /* nothing stored: the default */
    assert_int_equal(7 * 3600000, wg_calendar_day_ms(cal));
    assert_true(wg_calendar_is_workday(cal, 2026, 10, 1));
    wg_calendar_free(cal);
    char *file = tu_write_named(".ini", HOLIDAY_2026);
    size_t ndays = 0;
    assert_int_equal(WG_OK, wg_calendar_import(ctx, file, &ndays));
    assert_int_equal(9, ndays);
    assert_int_equal(7, tu_q_int(ctx, "SELECT count(*) FROM calendar_days WHERE kind = 'holiday'"));
    char buf[64];
    assert_string_equal(
        "09:00-12:00,14:00-18:00",
        tu_q_text(ctx, "SELECT value FROM wg_meta WHERE key = 'calendar.hours'", buf, sizeof buf));
    assert_int_equal(WG_OK, wg_calendar_load(ctx, &cal));
    assert_false(wg_calendar_is_workday(cal, 2026, 10, 1));
    assert_true(wg_calendar_is_workday(cal, 2026, 10, 10));
    expect_add(cal, "2026-09-30T16:00", 7, "2026-10-08T16:00:00+08:00");
    char *json = wg_calendar_json(cal);
    assert_non_null(strstr(json, "\"workdays\":[\"2026-09-27\",\"2026-10-10\"]"));
    assert_non_null(strstr(json, "\"weekend\":[\"sat\",\"sun\"]"));
    free(json);
    wg_calendar_free(cal);
    /* a bad file leaves the stored calendar alone */
    tu_remove_temp(file);
    file = tu_write_named(".ini", "hours = 18:00-09:00\n");
    assert_int_equal(WG_EDATA, wg_calendar_import(ctx, file, &ndays));
    assert_int_equal(9, tu_q_int(ctx, "SELECT count(*) FROM calendar_days"));
    tu_remove_temp(file);
    tu_close_store(ctx, path);
}

/* ---------------------------------------------------------------- categories */

static const char *const CATEGORIES = "code,class,class_name,subclass_name,limit,limit_unit,role\n"
                                      "0102,01,市容环境,暴露垃圾,4,hours,grid_worker\n"
                                      "0103,01,市容环境,积存垃圾渣土,1,days,grid_worker\n"
                                      "0401,04,突发事件,路面塌陷,2,hours,officer\n";

static void test_categories(void **state)
{
    (void)state;
    char *path;
    wg_ctx *ctx = tu_open_store(&path);
    char *file = tu_write_named(".csv", CATEGORIES);
    size_t n = 0;
    assert_int_equal(WG_OK, wg_categories_import(ctx, file, 0, NULL, NULL, &n));
    assert_int_equal(3, n);
    tu_remove_temp(file);
    wg_category c;
    assert_int_equal(WG_OK, wg_category_get(ctx, "0103", &c));
    assert_string_equal("积存垃圾渣土", c.name);
    assert_string_equal("市容环境", c.class_name);
    assert_int_equal(1, c.limit_days);
    assert_string_equal("grid_worker", c.role);
    wg_calendar *cal = wg_calendar_default();
    assert_int_equal(7 * 3600000, wg_category_limit_ms(&c, cal));
    assert_int_equal(WG_OK, wg_category_get(ctx, "0102", &c));
    assert_int_equal(4 * 3600000, wg_category_limit_ms(&c, cal));
    wg_calendar_free(cal);
    assert_int_equal(WG_ENOTFOUND, wg_category_get(ctx, "9999", &c));
    /* upsert: a changed limit replaces the stored one, others stay */
    file = tu_write_named(".csv", "code,class_name,subclass_name,limit,limit_unit,role\n0102,"
                                  "市容环境,暴露垃圾,2,hours,grid_worker\n");
    assert_int_equal(WG_OK, wg_categories_import(ctx, file, 0, NULL, NULL, &n));
    tu_remove_temp(file);
    assert_int_equal(WG_OK, wg_category_get(ctx, "0102", &c));
    assert_true(c.limit_value == 2.0);
    wg_category *all = NULL;
    assert_int_equal(WG_OK, wg_categories_list(ctx, &all, &n));
    assert_int_equal(3, n);
    assert_string_equal("0401", all[2].code);
    free(all);
    /* every bad row reported by line; nothing stored */
    file = tu_write_named(".csv", "code,class,class_name,subclass_name,limit,limit_unit,role\n"
                                  "0501,05,街面秩序,无照经营游商,4,hours,officer\n"
                                  "501,05,街面秩序,x,4,hours,officer\n"
                                  "0501,05,街面秩序,dup,4,hours,officer\n"
                                  "0502,06,街面秩序,x,4,hours,officer\n"
                                  "0503,05,街面秩序,,4,hours,officer\n"
                                  "0504,05,街面秩序,x,-1,hours,officer\n"
                                  "0505,05,街面秩序,x,1,weeks,officer\n"
                                  "0506,05,街面秩序,x,1,days,Officer!\n");
    tu_issues is = {0};
    assert_int_equal(WG_EDATA, wg_categories_import(ctx, file, 0, tu_collect_issue, &is, &n));
    tu_remove_temp(file);
    assert_int_equal(0, n);
    assert_int_equal(7, is.n);
    static const char *const KINDS[] = {"bad_code",  "duplicate_code", "bad_class", "missing_name",
                                        "bad_limit", "bad_unit",       "bad_role"};
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(KINDS[i], is.v[i].kind);
        assert_int_equal(i + 3, is.v[i].where);
    }
    assert_int_equal(3, tu_q_int(ctx, "SELECT count(*) FROM categories"));
    /* a header without the needed columns */
    file = tu_write_named(".csv", "code,name\n0101,x\n");
    assert_int_equal(WG_EDATA, wg_categories_import(ctx, file, 0, NULL, NULL, &n));
    tu_remove_temp(file);
    tu_close_store(ctx, path);
}

/* ---------------------------------------------------------------- a small city
 *
 *   22.64 +-----------+-----------+      district 440307001, communities ...001 (west) and
 *         |  G2       |  G4       |      ...002 (east); four grids. Workers: W1 (G1, on duty),
 *   22.63 +-----------+-----------+      W2 (G2, off duty), W3 (G3, on duty), officer O1 (on
 *         |  G1       |  G3       |      duty, near G2), W4 (G4, on duty but far away)
 *   22.62 +-----------+-----------+
 *      114.46      114.47      114.48
 */
#define G1 "440307001001001"
#define G2 "440307001001002"
#define G3 "440307001002001"
#define G4 "440307001002002"
#define C1 "440307001001"
#define C2 "440307001002"

static const tu_rect DISTRICTS[] = {{"440307001", 114.46, 22.62, 114.48, 22.64, NULL}};
static const tu_rect COMMUNITIES[] = {{C1, 114.46, 22.62, 114.47, 22.64, NULL},
                                      {C2, 114.47, 22.62, 114.48, 22.64, NULL}};
static const tu_rect GRIDS[] = {{G1, 114.46, 22.62, 114.47, 22.63, NULL},
                                {G2, 114.46, 22.63, 114.47, 22.64, NULL},
                                {G3, 114.47, 22.62, 114.48, 22.63, NULL},
                                {G4, 114.47, 22.63, 114.48, 22.64, NULL}};

typedef struct city {
    wg_ctx *ctx;
    char *path;
    wg_lookup *lk;
    int nearest_calls;
    int64_t now; /* the "real" clock of the tests: after every scripted time */
} city;

static int city_setup(void **state)
{
    city *c = calloc(1, sizeof *c);
    c->ctx = tu_open_store(&c->path);
    tu_import_rects(c->ctx, WG_LEVEL_DISTRICT, DISTRICTS, 1, 0);
    tu_import_rects(c->ctx, WG_LEVEL_COMMUNITY, COMMUNITIES, 2, 0);
    tu_import_rects(c->ctx, WG_LEVEL_GRID, GRIDS, 4, 0);
    int64_t gen = 0;
    assert_int_equal(WG_OK, wg_gen_publish(c->ctx, 1.0, 0, &gen, NULL));
    char *file = tu_write_named(".csv", CATEGORIES);
    assert_int_equal(WG_OK, wg_categories_import(c->ctx, file, 0, NULL, NULL, NULL));
    tu_remove_temp(file);
    file = tu_write_named(".ini", HOLIDAY_2026);
    assert_int_equal(WG_OK, wg_calendar_import(c->ctx, file, NULL));
    tu_remove_temp(file);
    char *err = NULL;
    int rc = sqlite3_exec(
        c->ctx->db,
        "INSERT INTO workers(id, name, phone, role, home_grid, lon, lat, on_duty) VALUES"
        " ('W1', '甲', '13800000001', 'grid_worker', '" G1 "', 114.465, 22.625, 1),"
        " ('W2', '乙', '13800000002', 'grid_worker', '" G2 "', 114.465, 22.635, 0),"
        " ('W3', '丙', '13800000003', 'grid_worker', '" G3 "', 114.475, 22.625, 1),"
        " ('W4', '丁', '13800000004', 'grid_worker', '" G4 "', 114.60, 22.70, 1),"
        " ('O1', '戊', '13800000005', 'officer', NULL, 114.468, 22.636, 1)",
        NULL, NULL, &err);
    if (rc != SQLITE_OK) print_error("%s\n", err);
    assert_int_equal(SQLITE_OK, rc);
    assert_int_equal(WG_OK, wg_lookup_load(c->ctx, 0, &c->lk));
    c->now = T("2026-11-21T12:00");
    *state = c;
    return 0;
}

static int city_teardown(void **state)
{
    city *c = *state;
    wg_lookup_free(c->lk);
    tu_close_store(c->ctx, c->path);
    free(c);
    return 0;
}

/* The tests' nearest-worker index: always O1, counting calls. */
static int nearest_o1(void *ud, double lon, double lat, char *id, size_t n)
{
    (void)lon;
    (void)lat;
    ((city *)ud)->nearest_calls++;
    snprintf(id, n, "O1");
    return 1;
}

static wg_event_new ev_at(double lon, double lat, const char *cat, const char *when)
{
    wg_event_new e;
    memset(&e, 0, sizeof e);
    e.lon = lon;
    e.lat = lat;
    e.category = cat;
    e.description = "测试事件";
    e.reporter = "王五 13900000000";
    e.actor = "test";
    e.at_ms = when ? T(when) : 0;
    return e;
}

static int64_t file1(city *c, wg_event_new e)
{
    int64_t id = 0;
    int rc = wg_events_file(c->ctx, c->lk, &e, 1, nearest_o1, c, c->now, &id);
    if (rc != WG_OK) print_error("file: %s\n", wg_errmsg(c->ctx));
    assert_int_equal(WG_OK, rc);
    return id;
}

static int step(city *c, int64_t id, wg_event_action a, const char *when, const char *assignee)
{
    wg_event_step_req q;
    memset(&q, 0, sizeof q);
    q.action = a;
    q.actor = "dispatcher-1";
    q.at_ms = when ? T(when) : 0;
    q.expect_status = -1;
    q.assignee = assignee;
    return wg_event_transition(c->ctx, id, &q, c->now, NULL);
}

#define STEP(c, id, a, when, who)                                                                  \
    do {                                                                                           \
        int rc_ = step((c), (id), (a), (when), (who));                                             \
        if (rc_ != WG_OK)                                                                          \
            print_error("%s at %s: %s\n", wg_event_action_name(a), (when), wg_errmsg((c)->ctx));   \
        assert_int_equal(WG_OK, rc_);                                                              \
    } while (0)

/* ---------------------------------------------------------------- filing */

static void test_file_events(void **state)
{
    city *c = *state;
    wg_event e;
    /* inside G1: grid, community, generation at once; W1 is on duty there */
    int64_t a = file1(c, ev_at(114.465, 22.625, "0102", "2026-10-12T09:00"));
    assert_int_equal(WG_OK, wg_event_get(c->ctx, a, &e));
    assert_string_equal(G1, e.grid_code);
    assert_int_equal(0, e.outside);
    assert_int_equal(1, e.generation);
    assert_string_equal("W1", e.assignee);
    assert_int_equal(WG_EV_REPORTED, e.status);
    assert_int_equal(T("2026-10-12T09:00"), e.reported_ms);
    assert_string_equal("api", e.source);
    wg_event_clear(&e);
    /* inside G2: W2 is off duty, so the nearest on-duty worker (the callback) */
    c->nearest_calls = 0;
    int64_t b = file1(c, ev_at(114.465, 22.635, "0102", NULL));
    assert_int_equal(1, c->nearest_calls);
    assert_int_equal(WG_OK, wg_event_get(c->ctx, b, &e));
    assert_string_equal(G2, e.grid_code);
    assert_string_equal("O1", e.assignee);
    assert_int_equal(c->now, e.reported_ms);
    wg_event_clear(&e);
    /* the library's own scan finds O1 too (W2 off duty, W1 farther) */
    char who[65] = "";
    assert_int_equal(1, wg_nearest_scan(c->ctx, 114.465, 22.635, who, sizeof who));
    assert_string_equal("O1", who);
    /* outside every grid: filed, flagged, under the nearest grid (G3), with its assignment */
    long long before = tu_q_int(c->ctx, "SELECT count(*) FROM events");
    int64_t o = file1(c, ev_at(114.49, 22.625, "0401", "2026-10-12T10:00"));
    assert_int_equal(before + 1, tu_q_int(c->ctx, "SELECT count(*) FROM events"));
    assert_int_equal(WG_OK, wg_event_get(c->ctx, o, &e));
    assert_int_equal(1, e.outside);
    assert_string_equal(G3, e.grid_code);
    assert_string_equal("W3", e.assignee); /* G3's worker is on duty */
    wg_event_clear(&e);
    char buf[256], sql[160];
    snprintf(sql, sizeof sql,
             "SELECT nearest_code FROM assignments WHERE kind = 'event' AND item_id = %lld AND "
             "grid_code IS NULL",
             (long long)o);
    assert_string_equal(G3, tu_q_text(c->ctx, sql, buf, sizeof buf));
    snprintf(sql, sizeof sql, "SELECT note FROM event_steps WHERE event_id = %lld", (long long)o);
    assert_non_null(strstr(tu_q_text(c->ctx, sql, buf, sizeof buf), "outside every grid"));
    /* one report step per event, with the actor */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM event_steps WHERE event_id = %lld AND action = 'report' AND "
             "actor = 'test'",
             (long long)a);
    assert_int_equal(1, tu_q_int(c->ctx, sql));
    /* a batch with one bad event stores nothing, naming the bad one */
    long long n = tu_q_int(c->ctx, "SELECT count(*) FROM events");
    wg_event_new batch[2] = {ev_at(114.465, 22.625, "0102", NULL),
                             ev_at(114.465, 22.625, "9999", NULL)};
    int64_t ids[2] = {-1, -1};
    assert_int_equal(WG_EDATA, wg_events_file(c->ctx, c->lk, batch, 2, nearest_o1, c, c->now, ids));
    assert_non_null(strstr(wg_errmsg(c->ctx), "event 1: unknown category '9999'"));
    assert_int_equal(0, ids[0]);
    assert_int_equal(n, tu_q_int(c->ctx, "SELECT count(*) FROM events"));
    /* bad coordinates, bad category codes, bad times, bad URL, text limits */
    wg_event_new bad = ev_at(181, 22.6, "0102", NULL);
    assert_int_equal(WG_EDATA, wg_events_file(c->ctx, c->lk, &bad, 1, NULL, NULL, c->now, NULL));
    assert_non_null(strstr(wg_errmsg(c->ctx), "bad coordinates"));
    bad = ev_at(NAN, 22.6, "0102", NULL);
    assert_int_equal(WG_EDATA, wg_events_file(c->ctx, c->lk, &bad, 1, NULL, NULL, c->now, NULL));
    bad = ev_at(114.465, 22.625, "12", NULL);
    assert_int_equal(WG_EDATA, wg_events_file(c->ctx, c->lk, &bad, 1, NULL, NULL, c->now, NULL));
    bad = ev_at(114.465, 22.625, NULL, NULL);
    assert_int_equal(WG_EDATA, wg_events_file(c->ctx, c->lk, &bad, 1, NULL, NULL, c->now, NULL));
    bad = ev_at(114.465, 22.625, "0102", NULL);
    bad.at_ms = c->now + 3600000; /* an hour in the future */
    assert_int_equal(WG_EDATA, wg_events_file(c->ctx, c->lk, &bad, 1, NULL, NULL, c->now, NULL));
    assert_non_null(strstr(wg_errmsg(c->ctx), "in the future"));
    bad.at_ms = 86400000; /* 1970 */
    assert_int_equal(WG_EDATA, wg_events_file(c->ctx, c->lk, &bad, 1, NULL, NULL, c->now, NULL));
    bad.at_ms = 0;
    bad.photo_url = "javascript:alert(1)";
    assert_int_equal(WG_EDATA, wg_events_file(c->ctx, c->lk, &bad, 1, NULL, NULL, c->now, NULL));
    bad.photo_url = "https://img.example.cn/a.jpg";
    bad.description = "\xff\xfe";
    assert_int_equal(WG_EDATA, wg_events_file(c->ctx, c->lk, &bad, 1, NULL, NULL, c->now, NULL));
    assert_int_equal(n, tu_q_int(c->ctx, "SELECT count(*) FROM events"));
    bad.description = "ok";
    assert_int_equal(WG_OK, wg_events_file(c->ctx, c->lk, &bad, 1, NULL, NULL, c->now, NULL));
}

/* ---------------------------------------------------------------- the loop */

static void test_transitions(void **state)
{
    city *c = *state;
    int64_t id = file1(c, ev_at(114.465, 22.625, "0103", "2026-09-30T15:00"));
    /* not yet registered: dispatch, handle, verify, archive are refused */
    assert_int_equal(WG_ECONFLICT, step(c, id, WG_ACT_DISPATCH, "2026-09-30T15:10", "W1"));
    assert_non_null(strstr(wg_errmsg(c->ctx), "allowed: register, cancel"));
    assert_int_equal(WG_ECONFLICT, step(c, id, WG_ACT_HANDLE, "2026-09-30T15:10", NULL));
    assert_int_equal(WG_ECONFLICT, step(c, id, WG_ACT_VERIFY, "2026-09-30T15:10", NULL));
    assert_int_equal(WG_ECONFLICT, step(c, id, WG_ACT_ARCHIVE, "2026-09-30T15:10", NULL));
    STEP(c, id, WG_ACT_REGISTER, "2026-09-30T15:05", NULL);
    assert_int_equal(WG_ECONFLICT, step(c, id, WG_ACT_REGISTER, "2026-09-30T15:06", NULL));
    /* a step before the last one is a bad time */
    assert_int_equal(WG_EDATA, step(c, id, WG_ACT_DISPATCH, "2026-09-30T15:00", "W1"));
    assert_non_null(strstr(wg_errmsg(c->ctx), "before the event's last step"));
    /* an unknown assignee */
    assert_int_equal(WG_EDATA, step(c, id, WG_ACT_DISPATCH, "2026-09-30T16:00", "W99"));
    /* dispatch Wed Sep 30 16:00, 1 working day: 2 h Wed, holiday Oct 1-7, 5 h Thu Oct 8 */
    STEP(c, id, WG_ACT_DISPATCH, "2026-09-30T16:00", NULL); /* the suggested W1 */
    wg_event e;
    assert_int_equal(WG_OK, wg_event_get(c->ctx, id, &e));
    assert_int_equal(WG_EV_DISPATCHED, e.status);
    assert_string_equal("W1", e.assignee);
    assert_time(e.dispatched_ms, "2026-09-30T16:00:00+08:00");
    assert_time(e.deadline_ms, "2026-10-08T16:00:00+08:00");
    wg_event_clear(&e);
    /* cancellation only before dispatch */
    assert_int_equal(WG_ECONFLICT, step(c, id, WG_ACT_CANCEL, "2026-09-30T16:05", NULL));
    /* reassignment keeps the deadline */
    STEP(c, id, WG_ACT_DISPATCH, "2026-10-08T09:00", "O1");
    assert_int_equal(WG_OK, wg_event_get(c->ctx, id, &e));
    assert_string_equal("O1", e.assignee);
    assert_time(e.deadline_ms, "2026-10-08T16:00:00+08:00");
    wg_event_clear(&e);
    /* a worker may act only on its own task */
    wg_event_step_req q;
    memset(&q, 0, sizeof q);
    q.action = WG_ACT_HANDLE;
    q.expect_status = -1;
    q.only_assignee = "W1";
    q.at_ms = T("2026-10-08T10:00");
    assert_int_equal(WG_ECONFLICT, wg_event_transition(c->ctx, id, &q, c->now, NULL));
    assert_non_null(strstr(wg_errmsg(c->ctx), "assigned to O1"));
    /* optimistic concurrency: the caller saw "registered", but it is dispatched now */
    q.only_assignee = "O1";
    q.expect_status = WG_EV_REGISTERED;
    assert_int_equal(WG_ECONFLICT, wg_event_transition(c->ctx, id, &q, c->now, NULL));
    q.expect_status = WG_EV_DISPATCHED;
    q.actor = "O1";
    assert_int_equal(WG_OK, wg_event_transition(c->ctx, id, &q, c->now, &e));
    assert_int_equal(WG_EV_HANDLED, e.status);
    assert_time(e.closed_ms, "2026-10-08T10:00:00+08:00");
    wg_event_clear(&e);
    /* verification fails: sent back, reopened, the clock keeps running */
    STEP(c, id, WG_ACT_SEND_BACK, "2026-10-08T11:00", NULL);
    assert_int_equal(WG_OK, wg_event_get(c->ctx, id, &e));
    assert_int_equal(WG_EV_DISPATCHED, e.status);
    assert_int_equal(1, e.reopen_count);
    assert_int_equal(0, e.closed_ms);
    wg_event_clear(&e);
    STEP(c, id, WG_ACT_HANDLE, "2026-10-08T15:00", NULL);
    STEP(c, id, WG_ACT_VERIFY, "2026-10-08T15:30", NULL);
    /* evaluation finds it is not solved after all: back to dispatched again */
    STEP(c, id, WG_ACT_SEND_BACK, "2026-10-08T16:00", NULL);
    STEP(c, id, WG_ACT_HANDLE, "2026-10-09T09:30", NULL);
    STEP(c, id, WG_ACT_VERIFY, "2026-10-09T10:00", NULL);
    memset(&q, 0, sizeof q);
    q.action = WG_ACT_EVALUATE;
    q.expect_status = -1;
    q.actor = "dispatcher-1";
    q.score = 7;
    q.at_ms = T("2026-10-09T10:30");
    assert_int_equal(WG_EDATA,
                     wg_event_transition(c->ctx, id, &q, c->now, NULL)); /* scores are 1-5 */
    q.score = 4;
    assert_int_equal(WG_OK, wg_event_transition(c->ctx, id, &q, c->now, NULL));
    assert_int_equal(WG_ECONFLICT,
                     wg_event_transition(c->ctx, id, &q, c->now, NULL)); /* evaluated already */
    STEP(c, id, WG_ACT_ARCHIVE, "2026-10-09T11:00", NULL);
    assert_int_equal(WG_ECONFLICT, step(c, id, WG_ACT_ARCHIVE, "2026-10-09T11:30", NULL));
    assert_non_null(strstr(wg_errmsg(c->ctx), "the loop is over"));
    assert_int_equal(WG_OK, wg_event_get(c->ctx, id, &e));
    assert_int_equal(WG_EV_ARCHIVED, e.status);
    assert_int_equal(2, e.reopen_count);
    assert_time(e.closed_ms, "2026-10-09T09:30:00+08:00"); /* the last handling: late */
    wg_event_clear(&e);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM event_steps WHERE event_id = %lld",
             (long long)id);
    assert_int_equal(13, tu_q_int(c->ctx, sql)); /* report + 12 transitions */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM event_steps WHERE event_id = %lld AND actor = 'dispatcher-1'",
             (long long)id);
    assert_int_equal(11, tu_q_int(c->ctx, sql));
    /* the event with its steps as JSON */
    char *json = NULL;
    assert_int_equal(WG_OK, wg_event_json(c->ctx, id, WG_EVJ_STEPS, c->now, &json));
    assert_non_null(strstr(json, "\"deadline\":\"2026-10-08T16:00:00+08:00\""));
    assert_non_null(strstr(json, "\"community\":\"" C1 "\""));
    assert_non_null(strstr(json, "\"category_name\":\"积存垃圾渣土\""));
    assert_null(strstr(json, "reporter")); /* personal: not asked for */
    assert_non_null(
        strstr(json, "{\"action\":\"send_back\",\"from\":\"verified\",\"to\":\"dispatched\""));
    assert_non_null(strstr(json, "\"note\":\"score=4\",\"score\":4}"));
    free(json);
    assert_int_equal(WG_OK, wg_event_json(c->ctx, id, WG_EVJ_PERSONAL, c->now, &json));
    assert_non_null(strstr(json, "\"reporter\":\"王五 13900000000\""));
    assert_null(strstr(json, "\"steps\""));
    free(json);
    /* cancellation from registered; nothing after it */
    int64_t k = file1(c, ev_at(114.475, 22.635, "0102", "2026-10-12T09:00"));
    STEP(c, k, WG_ACT_REGISTER, "2026-10-12T09:01", NULL);
    STEP(c, k, WG_ACT_CANCEL, "2026-10-12T09:02", NULL);
    assert_int_equal(WG_ECONFLICT, step(c, k, WG_ACT_DISPATCH, "2026-10-12T09:03", "W4"));
    assert_int_equal(WG_ENOTFOUND, step(c, 999999, WG_ACT_REGISTER, NULL, NULL));
    /* a dispatch with no assignee and none suggested */
    int64_t m = file1(c, ev_at(114.475, 22.635, "0102", "2026-10-12T09:00"));
    char *err = NULL;
    char upd[128];
    snprintf(upd, sizeof upd, "UPDATE events SET assignee = NULL WHERE id = %lld", (long long)m);
    assert_int_equal(SQLITE_OK, sqlite3_exec(c->ctx->db, upd, NULL, NULL, &err));
    STEP(c, m, WG_ACT_REGISTER, "2026-10-12T09:01", NULL);
    assert_int_equal(WG_EDATA, step(c, m, WG_ACT_DISPATCH, "2026-10-12T09:02", NULL));
    assert_non_null(strstr(wg_errmsg(c->ctx), "no assignee"));
    /* a step in the future of the clock */
    assert_int_equal(WG_EDATA, step(c, m, WG_ACT_DISPATCH, "2026-12-30T09:02", "W4"));
}

/* ---------------------------------------------------------------- statistics
 *
 * A scripted week (Mon 2026-10-12 .. ), calendar with Oct 1-7 off, "now" Wed 10-14 12:00:
 *   E1 G1 0102 (4 h)  reported Mon 09:00, registered 09:10, dispatched 09:30 to W1 (due 15:30),
 *                     handled 11:00 (on time), verified 11:30, evaluated 12:00, archived 12:30
 *   E2 G1 0103 (1 d)  reported Mon 10:00, registered 10:00, dispatched 10:30 to W1 (due Tue
 *                     10:30), handled Tue 16:00 (late), sent back 16:30, handled Wed 09:30,
 *                     verified Wed 10:00
 *   E3 G2 0102 (4 h)  reported Mon 10:00, registered 10:05, dispatched 10:10 to O1 (due 16:10),
 *                     never handled: overdue
 *   E4 G1 0102        reported Mon 11:00, cancelled 11:05
 *   E5 outside (G3) 0401 (2 h) reported Mon 11:00, registered 11:01, dispatched 11:02 to O1
 *                     (due 15:02), handled 14:00 (on time)
 * by worker: W1 {E1, E2}: 2 events, archived 1, verified 1, 2 closed with a deadline, 1 on
 *            time (0.5), reopen 1; register mean (600 + 0) / 2 = 300 s, dispatch (1200 + 1800) / 2
 *            = 1500 s, handle (5400 + 106200 + 61200) / 3 = 57600 s, send_back 1800 s.
 *            O1 {E3, E5}: dispatched 1, handled 1, 1 closed with deadline, on time 1 (1.0),
 *            overdue 1, outside 1.
 * by grid: G1 {E1, E2, E4} (cancelled 1), G2 {E3}, G3 {E5} (outside 1).
 * by community: C1 {E1..E4}: 4, C2 {E5}: 1. */
static void script(city *c, int64_t *e)
{
    e[1] = file1(c, ev_at(114.465, 22.625, "0102", "2026-10-12T09:00"));
    e[2] = file1(c, ev_at(114.466, 22.626, "0103", "2026-10-12T10:00"));
    e[3] = file1(c, ev_at(114.465, 22.635, "0102", "2026-10-12T10:00"));
    e[4] = file1(c, ev_at(114.467, 22.624, "0102", "2026-10-12T11:00"));
    e[5] = file1(c, ev_at(114.49, 22.625, "0401", "2026-10-12T11:00"));
    STEP(c, e[1], WG_ACT_REGISTER, "2026-10-12T09:10", NULL);
    STEP(c, e[1], WG_ACT_DISPATCH, "2026-10-12T09:30", "W1");
    STEP(c, e[1], WG_ACT_HANDLE, "2026-10-12T11:00", NULL);
    STEP(c, e[1], WG_ACT_VERIFY, "2026-10-12T11:30", NULL);
    STEP(c, e[1], WG_ACT_EVALUATE, "2026-10-12T12:00", NULL);
    STEP(c, e[1], WG_ACT_ARCHIVE, "2026-10-12T12:30", NULL);
    STEP(c, e[2], WG_ACT_REGISTER, "2026-10-12T10:00", NULL);
    STEP(c, e[2], WG_ACT_DISPATCH, "2026-10-12T10:30", "W1");
    STEP(c, e[2], WG_ACT_HANDLE, "2026-10-13T16:00", NULL);
    STEP(c, e[2], WG_ACT_SEND_BACK, "2026-10-13T16:30", NULL);
    STEP(c, e[2], WG_ACT_HANDLE, "2026-10-14T09:30", NULL);
    STEP(c, e[2], WG_ACT_VERIFY, "2026-10-14T10:00", NULL);
    STEP(c, e[3], WG_ACT_REGISTER, "2026-10-12T10:05", NULL);
    STEP(c, e[3], WG_ACT_DISPATCH, "2026-10-12T10:10", "O1");
    STEP(c, e[4], WG_ACT_CANCEL, "2026-10-12T11:05", NULL);
    STEP(c, e[5], WG_ACT_REGISTER, "2026-10-12T11:01", NULL);
    STEP(c, e[5], WG_ACT_DISPATCH, "2026-10-12T11:02", "O1");
    STEP(c, e[5], WG_ACT_HANDLE, "2026-10-12T14:00", NULL);
}

static json_object *stats(city *c, wg_stats_by by)
{
    char *text = NULL;
    int rc = wg_events_stats_json(c->ctx, by, T("2026-10-12"), T("2026-10-17"),
                                  T("2026-10-14T12:00"), &text);
    if (rc != WG_OK) print_error("stats: %s\n", wg_errmsg(c->ctx));
    assert_int_equal(WG_OK, rc);
    json_object *o = json_tokener_parse(text);
    assert_non_null(o);
    free(text);
    return o;
}

static json_object *group_of(json_object *o, const char *key)
{
    json_object *groups = json_object_object_get(o, "groups");
    for (size_t i = 0; i < json_object_array_length(groups); i++) {
        json_object *g = json_object_array_get_idx(groups, i);
        if (strcmp(json_object_get_string(json_object_object_get(g, "key")), key) == 0) return g;
    }
    print_error("no group %s\n", key);
    fail();
    return NULL;
}

static int64_t num(json_object *g, const char *name)
{
    return json_object_get_int64(json_object_object_get(g, name));
}

static double dnum(json_object *g, const char *path1, const char *path2)
{
    json_object *x = json_object_object_get(g, path1);
    if (path2) x = json_object_object_get(x, path2);
    assert_non_null(x);
    return json_object_get_double(x);
}

static void test_stats(void **state)
{
    city *c = *state;
    int64_t e[6];
    script(c, e);
    json_object *o = stats(c, WG_STATS_WORKER), *g;
    assert_int_equal(2, json_object_array_length(json_object_object_get(o, "groups")));
    g = group_of(o, "W1");
    assert_int_equal(2, num(g, "events"));
    assert_int_equal(1, dnum(g, "by_status", "archived"));
    assert_int_equal(1, dnum(g, "by_status", "verified"));
    assert_int_equal(2, num(g, "with_deadline"));
    assert_int_equal(2, num(g, "closed_with_deadline"));
    assert_int_equal(1, num(g, "on_time"));
    assert_near(0.5, dnum(g, "on_time_rate", NULL), 1e-12);
    assert_int_equal(0, num(g, "overdue"));
    assert_int_equal(1, num(g, "reopen_count"));
    assert_near(300, dnum(g, "mean_step_s", "register"), 1e-9);
    assert_near(1500, dnum(g, "mean_step_s", "dispatch"), 1e-9);
    assert_near(57600, dnum(g, "mean_step_s", "handle"), 1e-9);
    assert_near(1800, dnum(g, "mean_step_s", "send_back"), 1e-9);
    assert_near(1800, dnum(g, "mean_step_s", "verify"), 1e-9); /* 30 min each */
    g = group_of(o, "O1");
    assert_int_equal(2, num(g, "events"));
    assert_int_equal(1, dnum(g, "by_status", "dispatched"));
    assert_int_equal(1, dnum(g, "by_status", "handled"));
    assert_int_equal(1, num(g, "closed_with_deadline"));
    assert_near(1.0, dnum(g, "on_time_rate", NULL), 1e-12);
    assert_int_equal(1, num(g, "overdue"));
    assert_int_equal(1, num(g, "outside"));
    assert_int_equal(4, num(json_object_object_get(o, "total"), "events"));
    json_object_put(o);

    o = stats(c, WG_STATS_GRID);
    assert_int_equal(3, json_object_array_length(json_object_object_get(o, "groups")));
    g = group_of(o, G1);
    assert_int_equal(3, num(g, "events"));
    assert_int_equal(1, dnum(g, "by_status", "cancelled"));
    assert_near(0.5, dnum(g, "on_time_rate", NULL), 1e-12);
    g = group_of(o, G2);
    assert_int_equal(1, num(g, "events"));
    assert_int_equal(1, num(g, "overdue"));
    assert_null(json_object_object_get(g, "on_time_rate"));
    g = group_of(o, G3);
    assert_int_equal(1, num(g, "outside"));
    assert_int_equal(5, num(json_object_object_get(o, "total"), "events"));
    json_object_put(o);

    o = stats(c, WG_STATS_COMMUNITY);
    assert_int_equal(2, json_object_array_length(json_object_object_get(o, "groups")));
    assert_int_equal(4, num(group_of(o, C1), "events"));
    assert_int_equal(1, num(group_of(o, C2), "events"));
    assert_int_equal(1, num(json_object_object_get(o, "total"), "overdue")); /* E3 only */
    json_object_put(o);

    /* an empty period */
    char *text = NULL;
    assert_int_equal(WG_OK, wg_events_stats_json(c->ctx, WG_STATS_GRID, T("2025-01-01"),
                                                 T("2025-02-01"), c->now, &text));
    assert_non_null(strstr(text, "\"groups\":[]"));
    free(text);
    assert_int_equal(WG_EINVAL, wg_events_stats_json(c->ctx, WG_STATS_GRID, T("2026-02-01"),
                                                     T("2026-01-01"), c->now, &text));

    /* listings: overdue at Wed 12:00 is E3 alone; filters; paging */
    wg_event_filter f;
    wg_event_filter_init(&f);
    f.overdue = 1;
    wg_event *v = NULL;
    size_t n = 0;
    int64_t next = 0;
    assert_int_equal(WG_OK, wg_events_list(c->ctx, &f, T("2026-10-14T12:00"), &v, &n, &next));
    assert_int_equal(1, n);
    assert_int_equal(e[3], v[0].id);
    wg_events_free(v, n);
    wg_event_filter_init(&f);
    f.community = C1;
    f.from_ms = T("2026-10-12");
    f.to_ms = T("2026-10-13");
    assert_int_equal(WG_OK, wg_events_list(c->ctx, &f, c->now, &v, &n, &next));
    assert_int_equal(4, n);
    wg_events_free(v, n);
    f.status = "archived,verified";
    assert_int_equal(WG_OK, wg_events_list(c->ctx, &f, c->now, &v, &n, &next));
    assert_int_equal(2, n);
    wg_events_free(v, n);
    wg_event_filter_init(&f);
    f.outside = 1;
    f.category = "04";
    assert_int_equal(WG_OK, wg_events_list(c->ctx, &f, c->now, &v, &n, &next));
    assert_int_equal(1, n);
    assert_int_equal(e[5], v[0].id);
    wg_events_free(v, n);
    wg_event_filter_init(&f);
    f.has_bbox = 1;
    f.bbox[0] = 114.464, f.bbox[1] = 22.623, f.bbox[2] = 114.4665, f.bbox[3] = 22.6265;
    f.from_ms = T("2026-10-12");
    assert_int_equal(WG_OK, wg_events_list(c->ctx, &f, c->now, &v, &n, &next));
    assert_int_equal(2, n); /* E1 and E2 */
    wg_events_free(v, n);
    wg_event_filter_init(&f);
    f.grid = G1;
    f.from_ms = T("2026-10-12");
    f.limit = 2;
    assert_int_equal(WG_OK, wg_events_list(c->ctx, &f, c->now, &v, &n, &next));
    assert_int_equal(2, n);
    assert_int_equal(e[2], next);
    wg_events_free(v, n);
    f.after_id = next;
    assert_int_equal(WG_OK, wg_events_list(c->ctx, &f, c->now, &v, &n, &next));
    assert_int_equal(1, n);
    assert_int_equal(e[4], v[0].id);
    assert_int_equal(0, next);
    wg_events_free(v, n);
    wg_event_filter_init(&f);
    f.status = "done";
    assert_int_equal(WG_EINVAL, wg_events_list(c->ctx, &f, c->now, &v, &n, &next));
    f.status = NULL;
    f.limit = 5000;
    assert_int_equal(WG_EINVAL, wg_events_list(c->ctx, &f, c->now, &v, &n, &next));
    wg_event_filter_init(&f);
    f.assignee = "O1";
    f.from_ms = T("2026-10-12");
    f.to_ms = T("2026-10-13");
    text = NULL;
    assert_int_equal(WG_OK, wg_events_list_json(c->ctx, &f, 0, T("2026-10-14T12:00"), &text));
    assert_non_null(strstr(text, "\"count\":2,\"next_after\":null"));
    assert_non_null(strstr(text, "\"overdue\":true"));
    free(text);
}

/* ---------------------------------------------------------------- imported events */

static void test_backfill(void **state)
{
    city *c = *state;
    char *file =
        tu_write_named(".csv", "lon,lat,category,time,status,description\n"
                               "114.465,22.625,0102,2026-10-01T05:00:25+08:00,archived,a\n"
                               "114.49,22.625,0102,2026-10-02T06:00:00+08:00,cancelled,b\n");
    wg_point_import_opts o;
    memset(&o, 0, sizeof o);
    wg_import_stats st;
    assert_int_equal(WG_OK, wg_import_events(c->ctx, file, &o, &st));
    tu_remove_temp(file);
    long long first = tu_q_int(c->ctx, "SELECT min(id) FROM events WHERE reported_ms IS NULL");
    /* place them as 'wangge assign' would */
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO assignments VALUES (1, 'event', %lld, '" G1
             "', NULL, NULL), (1, 'event', %lld, NULL, '" G3 "', 1000)",
             first, first + 1);
    char *err = NULL;
    assert_int_equal(SQLITE_OK, sqlite3_exec(c->ctx->db, sql, NULL, NULL, &err));
    size_t n = 0;
    assert_int_equal(WG_OK, wg_events_backfill(c->ctx, 0, &n));
    assert_int_equal(2, n);
    wg_event e;
    assert_int_equal(WG_OK, wg_event_get(c->ctx, first, &e));
    assert_string_equal(G1, e.grid_code);
    assert_time(e.reported_ms, "2026-10-01T05:00:25+08:00");
    assert_string_equal("import", e.source);
    wg_event_clear(&e);
    assert_int_equal(WG_OK, wg_event_get(c->ctx, first + 1, &e));
    assert_string_equal(G3, e.grid_code);
    assert_int_equal(1, e.outside);
    wg_event_clear(&e);
    assert_int_equal(WG_OK, wg_events_backfill(c->ctx, 0, &n));
    assert_int_equal(0, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_text),
        cmocka_unit_test(test_default_calendar),
        cmocka_unit_test(test_holiday_calendar),
        cmocka_unit_test(test_bad_calendars),
        cmocka_unit_test(test_calendar_store),
        cmocka_unit_test(test_categories),
        cmocka_unit_test_setup_teardown(test_file_events, city_setup, city_teardown),
        cmocka_unit_test_setup_teardown(test_transitions, city_setup, city_teardown),
        cmocka_unit_test_setup_teardown(test_stats, city_setup, city_teardown),
        cmocka_unit_test_setup_teardown(test_backfill, city_setup, city_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
