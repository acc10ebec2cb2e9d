/* Fuzz target: the working calendar's text format and the time arithmetic built on it
 * (calendar.c: wg_calendar_parse_text, wg_time_parse/format, wg_calendar_add and
 * wg_calendar_work_between), which decide every event's deadline.
 *
 * The input is a calendar file as `wangge calendar import` reads it. Checks:
 *   - parsing refuses with a message, or gives a calendar whose JSON (wg_calendar_json) is
 *     valid JSON, which survives the store (wg_calendar_save then wg_calendar_load give the
 *     same JSON), and whose working day is longer than 0 and at most 24 h;
 *   - every line of the input that wg_time_parse accepts gives a time in [2000, 2200) that
 *     wg_time_format writes (at the calendar's offset and at UTC) and wg_time_parse reads back
 *     to the same millisecond;
 *   - deadlines, from start times and amounts of working time taken from the input's hash:
 *     the end of add(start, w) is not before start, the working time between start and it is
 *     exactly w, more working time never ends earlier, and work_between(a, b) is never more
 *     than b - a.
 */
#include "fuzz_util.h"
#include "internal.h"
#include "wangge/events.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T2000 INT64_C(946684800000)
#define T2200 INT64_C(7258118400000)
#define HOUR_MS INT64_C(3600000)

static wg_ctx *g_ctx, *g_store;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char store[600];
    fz_path(store, sizeof store, "calendar.sqlite");
    g_ctx = wg_ctx_new();
    g_store = wg_ctx_new();
    if (!g_ctx || !g_store || wg_store_open(g_store, store, WG_STORE_CREATE) != WG_OK) {
        fprintf(stderr, "fuzz_calendar: cannot create %s\n", store);
        exit(2);
    }
    return 0;
}

static void time_round_trip(const char *s, int offset_min)
{
    int64_t ms, back;
    char msg[160], out[32];
    if (wg_time_parse(s, offset_min, &ms, msg, sizeof msg) != WG_OK) {
        FZ_CHECK(msg[0], "a refused time without a reason");
        return;
    }
    FZ_CHECK(ms >= T2000 && ms < T2200, "'%.60s' parsed to %lld, outside [2000, 2200)", s,
             (long long)ms);
    int offsets[2] = {offset_min, 0};
    for (int k = 0; k < 2; k++) {
        wg_time_format(ms, offsets[k], out);
        FZ_CHECK(wg_time_parse(out, 12345, &back, msg, sizeof msg) == WG_OK,
                 "'%s' (from '%.60s') does not parse: %s", out, s, msg);
        FZ_CHECK(back == ms, "'%.60s' -> %lld -> '%s' -> %lld", s, (long long)ms, out,
                 (long long)back);
    }
}

static void deadlines(const wg_calendar *cal, uint64_t h)
{
    int64_t day = wg_calendar_day_ms(cal);
    FZ_CHECK(day > 0 && day <= 24 * HOUR_MS, "a working day of %lld ms", (long long)day);
    for (int k = 0; k < 4; k++, h = h * 6364136223846793005ULL + 1442695040888963407ULL) {
        /* a start in 2020..2040 to the minute or millisecond; up to 40 working days */
        int64_t start =
            INT64_C(1577836800000) + (int64_t)((h >> 8) % (INT64_C(20) * 365 * 24 * 60)) * 60000;
        if (h & 1) start += (int64_t)(h >> 40) % 60000;
        int64_t work = (int64_t)((h >> 20) % (uint64_t)(40 * day + 1));
        if (h & 2) work = work / 60000 * 60000;
        int64_t end, end2;
        if (wg_calendar_add(cal, start, work, &end) != WG_OK) continue;
        FZ_CHECK(end >= start, "add(%lld, %lld) = %lld ends before it starts", (long long)start,
                 (long long)work, (long long)end);
        int64_t between = wg_calendar_work_between(cal, start, end);
        FZ_CHECK(between == work, "add(%lld, %lld) = %lld, but the working time between is %lld",
                 (long long)start, (long long)work, (long long)end, (long long)between);
        FZ_CHECK(between <= end - start, "more working time than time");
        if (wg_calendar_add(cal, start, work + 1000, &end2) == WG_OK)
            FZ_CHECK(end2 > end, "more working time ends no later");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_ctx) LLVMFuzzerInitialize(NULL, NULL);
    char *text = malloc(size + 1);
    FZ_CHECK(text, "out of memory");
    memcpy(text, data, size);
    text[size] = '\0';
    wg_calendar *cal = NULL;
    int rc = wg_calendar_parse_text(g_ctx, text, "fuzz.ini", &cal);
    int offset = 480;
    if (rc != WG_OK) {
        FZ_CHECK(rc == WG_EDATA || rc == WG_ENOMEM, "wg_calendar_parse_text: rc %d", rc);
        FZ_CHECK(!cal && wg_errmsg(g_ctx)[0], "a refusal with a calendar or without a message");
    } else {
        FZ_CHECK(cal, "no calendar");
        offset = wg_calendar_offset_min(cal);
        char *json = wg_calendar_json(cal);
        FZ_CHECK(json, "wg_calendar_json failed");
        json_object *o = json_tokener_parse(json);
        FZ_CHECK(json_object_is_type(o, json_type_object), "calendar JSON is no object: %.200s",
                 json);
        json_object_put(o);
        FZ_CHECK(wg_calendar_save(g_store, cal) == WG_OK, "cannot save: %s", wg_errmsg(g_store));
        wg_calendar *back = NULL;
        FZ_CHECK(wg_calendar_load(g_store, &back) == WG_OK, "cannot load: %s", wg_errmsg(g_store));
        char *json2 = wg_calendar_json(back);
        FZ_CHECK(json2 && strcmp(json, json2) == 0, "the stored calendar differs:\n%s\n%s", json,
                 json2);
        free(json2);
        free(json);
        deadlines(back, fz_hash(data, size));
        wg_calendar_free(back);
        wg_calendar_free(cal);
    }
    /* every line as a time */
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        time_round_trip(line, offset);
    }
    free(text);
    return 0;
}
