/* Private to the event modules (calendar.c, categories.c, events.c, events_query.c): civil
 * date arithmetic, the accepted time range and small shared helpers. */
#ifndef WANGGE_EVENTS_INTERNAL_H
#define WANGGE_EVENTS_INTERNAL_H

#include "wangge/events.h"
#include "internal.h"

#define WG_DAY_MS INT64_C(86400000)
/* Accepted instants: [2000-01-01T00:00:00Z, 2200-01-01T00:00:00Z). Earlier is a typo or a zero
 * clock; later is a typo. Both ends are whole days, so local dates stay inside the table of
 * days the calendar can walk. */
#define WG_TIME_MIN_MS INT64_C(946684800000)
#define WG_TIME_MAX_MS INT64_C(7258118400000)

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms). */
int64_t wg_days_from_civil(int64_t y, int m, int d);
void wg_civil_from_days(int64_t z, int *y, int *m, int *d);
/* Floor division for negative numerators too. */
static inline int64_t wg_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Checks a time given for an event (filing or a step): in the accepted range and no later than
 * now_ms + WG_EVENT_FUTURE_SLACK_MS. WG_EDATA with a message naming `what` otherwise. */
int wg_event_check_time(wg_ctx *ctx, int64_t at_ms, int64_t now_ms, const char *what);

/* The columns wg_event_row reads, in its order (prefix "e." free: FROM events). */
#define WG_EVENT_COLUMNS                                                                           \
    "SELECT id, generation, lon, lat, category, status, grid_code, outside, assignee, "            \
    "reported_ms,"                                                                                 \
    " dispatched_ms, deadline_ms, closed_ms, reopen_count, description, photo_url, reporter, "     \
    "source"                                                                                       \
    " FROM events"
/* One row of WG_EVENT_COLUMNS into e (strings malloc'd); WG_ENOMEM leaves e empty. */
int wg_event_row(sqlite3_stmt *st, wg_event *e);

/* The canonical texts the calendar keeps in wg_meta. */
#define WG_META_CAL_OFFSET "calendar.utc_offset"
#define WG_META_CAL_HOURS "calendar.hours"
#define WG_META_CAL_WEEKEND "calendar.weekend"

#endif
