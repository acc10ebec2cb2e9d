/* The working calendar and deadline arithmetic (see wangge/events.h for the model).
 *
 * Layout. Local time is UTC + offset (fixed: China has no daylight saving). A local date is a
 * day number (days since 1970-01-01); a day is a working day if it is a dated workday (调休),
 * else if it is not a dated holiday and its weekday is not in the weekend mask. Every working
 * day has the same working periods [start, end) in seconds after local midnight, sorted and
 * disjoint. Dated days are one sorted array searched by bisection.
 *
 * Adding working time walks day by day from the start: the first day from the start's time of
 * day, every later day from midnight. Each period gives min(end - from, left); the answer is the
 * instant where `left` reaches zero, which is a period's end when it reaches zero exactly there
 * (the end of working time, not the start of the next period).
 *
 * Worked example, default hours 09-12 and 14-18 (7 h a day), Friday 2026-10-09 15:00 + 1 working
 * day (7 h): Friday gives 15-18 = 3 h (4 h left); Saturday and Sunday are skipped; Monday gives
 * 09-12 = 3 h (1 h left) and then 14:00 + 1 h = Monday 15:00.
 *
 * Stored as wg_meta keys calendar.utc_offset ("+08:00"), calendar.hours ("09:00-12:00,
 * 14:00-18:00") and calendar.weekend ("sat,sun" or "none"), and table calendar_days (day
 * YYYY-MM-DD, kind holiday|workday). */
#include "events_internal.h"
#include "json_out.h"
#include "store_schema.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PERIODS 12
/* The longest date range on one line: a holiday longer than a year is a typo. */
#define MAX_RANGE_DAYS 366

typedef struct cal_day {
    int32_t day; /* days since 1970-01-01, local */
    int8_t work; /* 1 workday (调休), 0 holiday */
} cal_day;

struct wg_calendar {
    int offset_min;
    int nperiods;
    int32_t pstart[MAX_PERIODS], pend[MAX_PERIODS]; /* seconds after local midnight */
    unsigned weekend;                               /* bit w set: weekday w (0 = Sunday) off */
    cal_day *days;                                  /* sorted by day, unique */
    size_t ndays, cap;
};

static const char *const WEEKDAYS[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* ---------------------------------------------------------------- civil dates */

int64_t wg_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void wg_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m)
{
    static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : DAYS[m - 1];
}

/* 0 = Sunday; 1970-01-01 was a Thursday. */
static int weekday(int64_t day)
{
    int64_t w = (day + 4) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

/* ---------------------------------------------------------------- time text */

/* n digits at *p as a number; advances *p. -1 if they are not all digits. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

/* YYYY-MM-DD at *p (advances); day number in *day. */
static int parse_date(const char **p, int64_t *day)
{
    const char *s = *p;
    int y = digits(&s, 4);
    if (y < 0 || *s++ != '-') return 0;
    int m = digits(&s, 2);
    if (m < 1 || m > 12 || *s++ != '-') return 0;
    int d = digits(&s, 2);
    if (d < 1 || d > days_in_month(y, m)) return 0;
    *day = wg_days_from_civil(y, m, d);
    *p = s;
    return 1;
}

static int fail_msg(char *msg, size_t n, const char *text)
{
    if (msg && n) snprintf(msg, n, "%s", text);
    return WG_EDATA;
}

int wg_time_parse(const char *s, int offset_min, int64_t *ms, char *msg, size_t msg_len)
{
    *ms = 0;
    if (!s || !*s) return fail_msg(msg, msg_len, "empty time");
    const char *p = s;
    int64_t day;
    if (!parse_date(&p, &day))
        return fail_msg(msg, msg_len, "not a date-time (expected YYYY-MM-DDTHH:MM:SS+08:00)");
    int64_t t = 0; /* ms after local midnight */
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        int h = digits(&p, 2);
        if (h < 0 || h > 23 || *p++ != ':') return fail_msg(msg, msg_len, "bad hour");
        int mi = digits(&p, 2);
        if (mi < 0 || mi > 59) return fail_msg(msg, msg_len, "bad minute");
        int sec = 0, frac = 0;
        if (*p == ':') {
            p++;
            sec = digits(&p, 2);
            if (sec < 0 || sec > 59) return fail_msg(msg, msg_len, "bad second");
            if (*p == '.' || *p == ',') {
                p++;
                int k = 0;
                for (; *p >= '0' && *p <= '9'; p++, k++)
                    if (k < 3) frac = frac * 10 + (*p - '0');
                if (k == 0) return fail_msg(msg, msg_len, "bad fraction of a second");
                for (; k < 3; k++)
                    frac *= 10;
            }
        }
        t = ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + frac;
    }
    int off = offset_min;
    if (*p == 'Z' || *p == 'z') {
        off = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        int oh = digits(&p, 2), om = 0;
        if (oh < 0 || oh > 14) return fail_msg(msg, msg_len, "bad UTC offset");
        if (*p == ':') p++;
        if (*p) {
            om = digits(&p, 2);
            if (om < 0 || om > 59) return fail_msg(msg, msg_len, "bad UTC offset");
        }
        off = sign * (oh * 60 + om);
    }
    if (*p) return fail_msg(msg, msg_len, "trailing text after the date-time");
    int64_t v = day * WG_DAY_MS + t - (int64_t)off * 60000;
    if (v < WG_TIME_MIN_MS || v >= WG_TIME_MAX_MS)
        return fail_msg(msg, msg_len, "time outside 2000-01-01 .. 2199-12-31");
    *ms = v;
    return WG_OK;
}

void wg_time_format(int64_t ms, int offset_min, char out[32])
{
    int64_t local = ms + (int64_t)offset_min * 60000;
    int64_t day = wg_floor_div(local, WG_DAY_MS), t = local - day * WG_DAY_MS;
    int y, m, d;
    wg_civil_from_days(day, &y, &m, &d);
    int h = (int)(t / 3600000), mi = (int)(t / 60000 % 60), s = (int)(t / 1000 % 60),
        f = (int)(t % 1000);
    char frac[8] = "", zone[8] = "Z";
    if (f) snprintf(frac, sizeof frac, ".%03d", f);
    if (offset_min) {
        int a = offset_min < 0 ? -offset_min : offset_min;
        snprintf(zone, sizeof zone, "%c%02d:%02d", offset_min < 0 ? '-' : '+', a / 60 % 100,
                 a % 60);
    }
    int k = snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d", y % 10000, m % 100, d % 100, h % 100,
                     mi % 100, s % 100);
    if (k > 0 && k < 20) snprintf(out + k, (size_t)(32 - k), "%.4s%.6s", frac, zone);
}

/* ---------------------------------------------------------------- the calendar */

static void set_defaults(wg_calendar *c)
{
    c->offset_min = WG_CAL_DEFAULT_OFFSET_MIN;
    c->nperiods = 2;
    c->pstart[0] = 9 * 3600;
    c->pend[0] = 12 * 3600;
    c->pstart[1] = 14 * 3600;
    c->pend[1] = 18 * 3600;
    c->weekend = 1u << 0 | 1u << 6;
}

wg_calendar *wg_calendar_default(void)
{
    wg_calendar *c = calloc(1, sizeof *c);
    if (c) set_defaults(c);
    return c;
}

void wg_calendar_free(wg_calendar *cal)
{
    if (!cal) return;
    free(cal->days);
    free(cal);
}

int wg_calendar_offset_min(const wg_calendar *cal)
{
    return cal->offset_min;
}

int64_t wg_calendar_day_ms(const wg_calendar *cal)
{
    int64_t s = 0;
    for (int i = 0; i < cal->nperiods; i++)
        s += cal->pend[i] - cal->pstart[i];
    return s * 1000;
}

static const cal_day *find_day(const wg_calendar *cal, int64_t day)
{
    size_t lo = 0, hi = cal->ndays;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cal->days[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < cal->ndays && cal->days[lo].day == day ? &cal->days[lo] : NULL;
}

static int is_workday(const wg_calendar *cal, int64_t day)
{
    const cal_day *o = find_day(cal, day);
    if (o) return o->work;
    return !(cal->weekend & (1u << weekday(day)));
}

int wg_calendar_is_workday(const wg_calendar *cal, int y, int m, int d)
{
    return is_workday(cal, wg_days_from_civil(y, m, d));
}

int wg_calendar_add(const wg_calendar *cal, int64_t start_ms, int64_t work_ms, int64_t *end_ms)
{
    *end_ms = 0;
    if (work_ms < 0) return WG_EDATA;
    if (work_ms == 0) {
        *end_ms = start_ms;
        return WG_OK;
    }
    const int64_t off = (int64_t)cal->offset_min * 60000, local = start_ms + off;
    const int64_t last = wg_floor_div(WG_TIME_MAX_MS + off, WG_DAY_MS);
    int64_t day = wg_floor_div(local, WG_DAY_MS), t = local - day * WG_DAY_MS, left = work_ms;
    for (; day <= last; day++, t = 0) {
        if (!is_workday(cal, day)) continue;
        for (int i = 0; i < cal->nperiods; i++) {
            int64_t s = cal->pstart[i] * INT64_C(1000), e = cal->pend[i] * INT64_C(1000);
            if (t >= e) continue;
            int64_t from = t > s ? t : s;
            if (left <= e - from) {
                *end_ms = day * WG_DAY_MS + from + left - off;
                return WG_OK;
            }
            left -= e - from;
        }
    }
    return WG_EDATA;
}

int64_t wg_calendar_work_between(const wg_calendar *cal, int64_t a_ms, int64_t b_ms)
{
    if (b_ms <= a_ms) return 0;
    const int64_t off = (int64_t)cal->offset_min * 60000;
    int64_t a = a_ms + off, b = b_ms + off, sum = 0;
    for (int64_t day = wg_floor_div(a, WG_DAY_MS); day * WG_DAY_MS < b; day++) {
        if (!is_workday(cal, day)) continue;
        for (int i = 0; i < cal->nperiods; i++) {
            int64_t s = day * WG_DAY_MS + cal->pstart[i] * INT64_C(1000);
            int64_t e = day * WG_DAY_MS + cal->pend[i] * INT64_C(1000);
            if (s < a) s = a;
            if (e > b) e = b;
            if (e > s) sum += e - s;
        }
    }
    return sum;
}

/* ---------------------------------------------------------------- parsing */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Past the comma after an item of a list, or at its end: 1. Anything else follows: 0, with
 * why set to usage. */
static int next_item(const char **p, const char *usage, char *why, size_t n)
{
    const char *s = skip_ws(*p);
    if (*s == ',')
        s = skip_ws(s + 1);
    else if (*s) {
        snprintf(why, n, "%s", usage);
        return 0;
    }
    *p = s;
    return 1;
}

/* "+08:00", "+8", "-05:30", "0", "UTC+8"... */
static int parse_offset(const char *v, int *out)
{
    const char *p = v;
    if (strncasecmp(p, "UTC", 3) == 0 || strncasecmp(p, "GMT", 3) == 0) p += 3;
    if (*p == '\0') {
        *out = 0;
        return 1;
    }
    int sign = 1;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    char *end;
    errno = 0;
    long h = strtol(p, &end, 10);
    if (end == p || errno || h < 0 || h > 14) return 0;
    long m = 0;
    if (*end == ':') {
        p = end + 1;
        m = strtol(p, &end, 10);
        if (end != p + 2 || m < 0 || m > 59) return 0;
    }
    if (*end) return 0;
    *out = sign * (int)(h * 60 + m);
    return 1;
}

static int parse_hhmm(const char **p, int32_t *sec)
{
    const char *s = *p;
    int h = digits(&s, 2);
    if (h < 0 || h > 24 || *s++ != ':') return 0;
    int m = digits(&s, 2);
    if (m < 0 || m > 59 || (h == 24 && m != 0)) return 0;
    *sec = h * 3600 + m * 60;
    *p = s;
    return 1;
}

#define HOURS_USAGE "hours are HH:MM-HH:MM periods separated by commas"

/* "09:00-12:00, 14:00-18:00" */
static int parse_hours(const char *v, wg_calendar *c, char *why, size_t n)
{
    int k = 0;
    const char *p = skip_ws(v);
    while (*p) {
        int32_t a, b;
        if (k == MAX_PERIODS) {
            snprintf(why, n, "more than %d working periods", MAX_PERIODS);
            return 0;
        }
        if (!parse_hhmm(&p, &a) || *(p = skip_ws(p)) != '-' ||
            !parse_hhmm((p = skip_ws(p + 1), &p), &b)) {
            snprintf(why, n, HOURS_USAGE);
            return 0;
        }
        if (b <= a || (k > 0 && a < c->pend[k - 1])) {
            snprintf(why, n, "working periods must be non-empty, in order and disjoint");
            return 0;
        }
        c->pstart[k] = a;
        c->pend[k] = b;
        k++;
        if (!next_item(&p, HOURS_USAGE, why, n)) return 0;
    }
    if (k == 0) {
        snprintf(why, n, "no working period");
        return 0;
    }
    c->nperiods = k;
    return 1;
}

/* "sat, sun", "saturday,sunday", "6,7" (ISO: 1 = Monday .. 7 = Sunday), "none" */
static int parse_weekend(const char *v, unsigned *mask, char *why, size_t n)
{
    static const char *const LONG[7] = {"sunday",   "monday", "tuesday", "wednesday",
                                        "thursday", "friday", "saturday"};
    unsigned m = 0;
    const char *p = skip_ws(v);
    if (strcasecmp(p, "none") == 0) {
        *mask = 0;
        return 1;
    }
    while (*p) {
        size_t len = strcspn(p, ", \t");
        int w = -1;
        for (int i = 0; i < 7 && w < 0; i++)
            if ((len == 3 && strncasecmp(p, WEEKDAYS[i], 3) == 0) ||
                (len == strlen(LONG[i]) && strncasecmp(p, LONG[i], len) == 0))
                w = i;
        if (w < 0 && len == 1 && *p >= '1' && *p <= '7') w = (*p - '0') % 7;
        if (w < 0) {
            snprintf(why, n, "weekend lists days as sun, mon, ... sat (or 1-7, or none)");
            return 0;
        }
        m |= 1u << w;
        p = skip_ws(p + len);
        if (*p == ',') p = skip_ws(p + 1);
    }
    if (m == 0x7f) {
        snprintf(why, n, "every weekday is off: no working day left");
        return 0;
    }
    *mask = m;
    return 1;
}

static int add_day(wg_calendar *c, int64_t day, int work, char *why, size_t n)
{
    for (size_t i = c->ndays; i-- > 0;) { /* dates mostly come in order: look from the end */
        if (c->days[i].day < day) break;
        if (c->days[i].day == day) {
            if (c->days[i].work == work) return 1;
            int y, m, d;
            wg_civil_from_days(day, &y, &m, &d);
            snprintf(why, n, "%04d-%02d-%02d is both a holiday and a workday", y, m, d);
            return 0;
        }
    }
    if (wg_grow((void **)&c->days, &c->cap, c->ndays + 1, sizeof *c->days) != WG_OK) {
        snprintf(why, n, "out of memory");
        return 0;
    }
    size_t at = c->ndays;
    while (at > 0 && c->days[at - 1].day > day)
        at--;
    memmove(&c->days[at + 1], &c->days[at], (c->ndays - at) * sizeof *c->days);
    c->days[at] = (cal_day){(int32_t)day, (int8_t)work};
    c->ndays++;
    return 1;
}

#define DATES_USAGE "dates are YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, separated by commas"

/* "2026-10-01..2026-10-07, 2026-10-09" */
static int parse_dates(const char *v, wg_calendar *c, int work, char *why, size_t n)
{
    const char *p = skip_ws(v);
    if (!*p) {
        snprintf(why, n, "no date");
        return 0;
    }
    int64_t lo_day = wg_floor_div(WG_TIME_MIN_MS, WG_DAY_MS),
            hi_day = wg_floor_div(WG_TIME_MAX_MS, WG_DAY_MS);
    while (*p) {
        int64_t a, b;
        if (!parse_date(&p, &a)) {
            snprintf(why, n, DATES_USAGE);
            return 0;
        }
        b = a;
        if (strncmp(p, "..", 2) == 0) {
            p += 2;
            if (!parse_date(&p, &b)) {
                snprintf(why, n, DATES_USAGE);
                return 0;
            }
        }
        if (b < a || b - a >= MAX_RANGE_DAYS) {
            snprintf(why, n, "a date range must run forward and span at most %d days",
                     MAX_RANGE_DAYS);
            return 0;
        }
        if (a < lo_day || b >= hi_day) {
            snprintf(why, n, "dates must lie in 2000-01-01 .. 2199-12-31");
            return 0;
        }
        for (int64_t d = a; d <= b; d++)
            if (!add_day(c, d, work, why, n)) return 0;
        if (!next_item(&p, DATES_USAGE, why, n)) return 0;
    }
    return 1;
}

/* One "key = value" line; 1 ok, 0 with a reason in why. */
static int apply_line(wg_calendar *c, char *line, char *why, size_t n)
{
    char *eq = strchr(line, '=');
    if (!eq) {
        snprintf(why, n, "expected key = value");
        return 0;
    }
    char *k = line, *e = eq;
    while (e > k && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *e = '\0';
    char *v = (char *)skip_ws(eq + 1);
    for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'); e--)
        e[-1] = '\0';
    if (strcmp(k, "utc_offset") == 0 || strcmp(k, "timezone") == 0) {
        if (parse_offset(v, &c->offset_min)) return 1;
        snprintf(why, n, "utc_offset is +HH:MM from -12:00 to +14:00, not '%.40s'", v);
        return 0;
    }
    if (strcmp(k, "hours") == 0) return parse_hours(v, c, why, n);
    if (strcmp(k, "weekend") == 0) return parse_weekend(v, &c->weekend, why, n);
    if (strcmp(k, "holiday") == 0 || strcmp(k, "holidays") == 0)
        return parse_dates(v, c, 0, why, n);
    if (strcmp(k, "workday") == 0 || strcmp(k, "workdays") == 0)
        return parse_dates(v, c, 1, why, n);
    snprintf(why, n, "unknown key '%.40s' (utc_offset, hours, weekend, holiday, workday)", k);
    return 0;
}

int wg_calendar_parse_text(wg_ctx *ctx, const char *text, const char *name, wg_calendar **out)
{
    *out = NULL;
    wg_calendar *c = wg_calendar_default();
    if (!c) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    char *copy = strdup(text);
    if (!copy) {
        wg_calendar_free(c);
        return wg_fail(ctx, WG_ENOMEM, "out of memory");
    }
    int rc = WG_OK, lineno = 0;
    char *save = NULL;
    for (char *line = copy; rc == WG_OK && line; line = save) {
        save = strchr(line, '\n');
        if (save) *save++ = '\0';
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *p = (char *)skip_ws(line);
        if (*p == '\0' || *p == '\r' || *p == ';' || *p == '[')
            continue; /* blank, comment, section */
        char why[200];
        if (!apply_line(c, p, why, sizeof why))
            rc = wg_fail(ctx, WG_EDATA, "%s:%d: %s", name, lineno, why);
    }
    free(copy);
    if (rc == WG_OK && c->weekend == 0x7f)
        rc = wg_fail(ctx, WG_EDATA, "%s: no working weekday", name);
    if (rc != WG_OK) {
        wg_calendar_free(c);
        return rc;
    }
    *out = c;
    return WG_OK;
}

int wg_calendar_parse_file(wg_ctx *ctx, const char *path, wg_calendar **out)
{
    *out = NULL;
    FILE *f = NULL;
    uint64_t total = 0;
    int rc = wg_open_input(ctx, path, &f, &total);
    if (rc != WG_OK) {
        if (f && f != stdin) fclose(f);
        return rc;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char chunk[4096];
    size_t got;
    while (rc == WG_OK && (got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + got + 1 > (1u << 20))
            rc = wg_fail(ctx, WG_EDATA, "%s: a calendar file over 1 MiB", path);
        else if (wg_grow((void **)&buf, &cap, len + got + 1, 1) != WG_OK)
            rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
        else {
            memcpy(buf + len, chunk, got);
            len += got;
        }
    }
    if (rc == WG_OK && ferror(f)) rc = wg_fail(ctx, WG_EIO, "cannot read %s", path);
    if (f != stdin) fclose(f);
    if (rc == WG_OK) {
        if (!buf && wg_grow((void **)&buf, &cap, 1, 1) != WG_OK)
            rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
        if (rc == WG_OK) {
            buf[len] = '\0';
            if (strlen(buf) != len) rc = wg_fail(ctx, WG_EDATA, "%s: not a text file", path);
        }
    }
    if (rc == WG_OK) rc = wg_calendar_parse_text(ctx, buf, path, out);
    free(buf);
    return rc;
}

/* ---------------------------------------------------------------- canonical text */

static void offset_text(int off, char out[16])
{
    int a = off < 0 ? -off : off;
    snprintf(out, 16, "%c%02d:%02d", off < 0 ? '-' : '+', a / 60 % 100, a % 60);
}

static void period_text(const wg_calendar *c, int i, char out[16])
{
    snprintf(out, 16, "%02d:%02d-%02d:%02d", c->pstart[i] / 3600 % 100, c->pstart[i] / 60 % 60,
             c->pend[i] / 3600 % 100, c->pend[i] / 60 % 60);
}

static void hours_text(const wg_calendar *c, char *out, size_t n)
{
    out[0] = '\0';
    for (int i = 0; i < c->nperiods; i++) {
        char p[16];
        period_text(c, i, p);
        if (i) strncat(out, ",", n - strlen(out) - 1);
        strncat(out, p, n - strlen(out) - 1);
    }
}

static void weekend_text(unsigned mask, char *out, size_t n)
{
    out[0] = '\0';
    for (int i = 0; i < 7; i++) { /* Monday first, as a week reads in China */
        int w = (i + 1) % 7;
        if (!(mask & (1u << w))) continue;
        if (out[0]) strncat(out, ",", n - strlen(out) - 1);
        strncat(out, WEEKDAYS[w], n - strlen(out) - 1);
    }
    if (!out[0]) snprintf(out, n, "none");
}

static void date_text(int64_t day, char out[16])
{
    int y, m, d;
    wg_civil_from_days(day, &y, &m, &d);
    snprintf(out, 16, "%04d-%02d-%02d", y % 10000, m, d);
}

char *wg_calendar_json(const wg_calendar *cal)
{
    json_object *o = json_object_new_object(), *hours = json_object_new_array(),
                *weekend = json_object_new_array(), *hol = json_object_new_array(),
                *work = json_object_new_array();
    char t[16];
    offset_text(cal->offset_min, t);
    json_object_object_add(o, "utc_offset", json_object_new_string(t));
    for (int i = 0; i < cal->nperiods; i++) {
        period_text(cal, i, t);
        json_object_array_add(hours, json_object_new_string(t));
    }
    json_object_object_add(o, "hours", hours);
    for (int i = 0; i < 7; i++)
        if (cal->weekend & (1u << ((i + 1) % 7)))
            json_object_array_add(weekend, json_object_new_string(WEEKDAYS[(i + 1) % 7]));
    json_object_object_add(o, "weekend", weekend);
    json_object_object_add(o, "day_hours", wg_json_short(wg_calendar_day_ms(cal) / 3600000.0));
    for (size_t i = 0; i < cal->ndays; i++) {
        date_text(cal->days[i].day, t);
        json_object_array_add(cal->days[i].work ? work : hol, json_object_new_string(t));
    }
    json_object_object_add(o, "holidays", hol);
    json_object_object_add(o, "workdays", work);
    return wg_json_text(o);
}

/* ---------------------------------------------------------------- the store */

static int put_meta(wg_ctx *ctx, sqlite3_stmt *st, const char *key, const char *value)
{
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
    return sqlite3_step(st) == SQLITE_DONE ? WG_OK : wg_fail_sql(ctx, "cannot store the calendar");
}

int wg_calendar_save(wg_ctx *ctx, const wg_calendar *cal)
{
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    sqlite3_stmt *meta = NULL, *day = NULL;
    int rc = wg_begin(ctx);
    if (rc == WG_OK) rc = wg_exec(ctx, "DELETE FROM calendar_days");
    if (rc == WG_OK)
        rc = wg_prepare(ctx, "INSERT OR REPLACE INTO wg_meta(key, value) VALUES (?, ?)", &meta);
    if (rc == WG_OK)
        rc = wg_prepare(ctx, "INSERT INTO calendar_days(day, kind) VALUES (?, ?)", &day);
    char text[256];
    if (rc == WG_OK) {
        offset_text(cal->offset_min, text);
        rc = put_meta(ctx, meta, WG_META_CAL_OFFSET, text);
    }
    if (rc == WG_OK) {
        hours_text(cal, text, sizeof text);
        rc = put_meta(ctx, meta, WG_META_CAL_HOURS, text);
    }
    if (rc == WG_OK) {
        weekend_text(cal->weekend, text, sizeof text);
        rc = put_meta(ctx, meta, WG_META_CAL_WEEKEND, text);
    }
    for (size_t i = 0; rc == WG_OK && i < cal->ndays; i++) {
        date_text(cal->days[i].day, text);
        sqlite3_reset(day);
        sqlite3_bind_text(day, 1, text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(day, 2, cal->days[i].work ? "workday" : "holiday", -1, SQLITE_STATIC);
        if (sqlite3_step(day) != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot store the calendar");
    }
    sqlite3_finalize(meta);
    sqlite3_finalize(day);
    return wg_commit_or_rollback(ctx, rc);
}

int wg_calendar_import(wg_ctx *ctx, const char *path, size_t *ndays)
{
    if (ndays) *ndays = 0;
    wg_calendar *cal = NULL;
    int rc = wg_calendar_parse_file(ctx, path, &cal);
    if (rc == WG_OK) rc = wg_calendar_save(ctx, cal);
    if (rc == WG_OK && ndays) *ndays = cal->ndays;
    wg_calendar_free(cal);
    return rc;
}

int wg_calendar_load(wg_ctx *ctx, wg_calendar **out)
{
    *out = NULL;
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    wg_calendar *c = wg_calendar_default();
    if (!c) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    sqlite3_stmt *st = NULL;
    int rc = wg_prepare(ctx, "SELECT key, value FROM wg_meta WHERE key LIKE 'calendar.%'", &st);
    char why[200] = "";
    int step;
    while (rc == WG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0),
                   *v = (const char *)sqlite3_column_text(st, 1);
        int ok = 1;
        if (strcmp(k, WG_META_CAL_OFFSET) == 0)
            ok = parse_offset(v, &c->offset_min);
        else if (strcmp(k, WG_META_CAL_HOURS) == 0)
            ok = parse_hours(v, c, why, sizeof why);
        else if (strcmp(k, WG_META_CAL_WEEKEND) == 0)
            ok = parse_weekend(v, &c->weekend, why, sizeof why);
        if (!ok) rc = wg_fail(ctx, WG_EDATA, "store: bad %s '%.60s' %s", k, v, why);
    }
    if (rc == WG_OK && step != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read the calendar");
    sqlite3_finalize(st);
    st = NULL;
    if (rc == WG_OK) rc = wg_prepare(ctx, "SELECT day, kind FROM calendar_days ORDER BY day", &st);
    while (rc == WG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(st, 0),
                   *k = (const char *)sqlite3_column_text(st, 1);
        const char *p = d ? d : "";
        int64_t day;
        if (!parse_date(&p, &day) || *p)
            rc = wg_fail(ctx, WG_EDATA, "store: bad calendar day '%.20s'", d ? d : "");
        else if (!add_day(c, day, k && strcmp(k, "workday") == 0, why, sizeof why))
            rc = wg_fail(ctx, WG_EDATA, "store: %s", why);
    }
    if (rc == WG_OK && step != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read the calendar");
    sqlite3_finalize(st);
    if (rc != WG_OK) {
        wg_calendar_free(c);
        return rc;
    }
    *out = c;
    return WG_OK;
}
