/* Event categories: import from CSV (the geodata format), listing, lookup (wangge/events.h).
 *
 * A category is a 4-digit code, 2-digit class + 2-digit subclass (0102 = class 01 市容环境,
 * subclass 02 暴露垃圾), with the time limit of its events in working hours or working days
 * and the role that answers for them. Rows upsert by code: a table re-exported whole is
 * re-imported as it changes; events keep their category codes even if one is dropped. */
#include "events_internal.h"
#include "import_internal.h"
#include "store_schema.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { C_CODE, C_CLASS, C_CLASS_NAME, C_NAME, C_LIMIT, C_UNIT, C_ROLE, C_COUNT };
static const char *const COLS[C_COUNT] = {"code",  "class",      "class_name", "subclass_name",
                                          "limit", "limit_unit", "role"};

typedef struct cat_job {
    wg_import_run r;
    int cols[C_COUNT];
    sqlite3_stmt *insert;
    char (*seen)[5]; /* codes of this file, to refuse duplicates */
    size_t nseen, cap;
} cat_job;

static const char *field(const cat_job *j, const char *const *fields, int slot)
{
    return j->cols[slot] >= 0 ? wg_imp_nonempty(fields[j->cols[slot]]) : NULL;
}

static int role_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof((wg_category *)0)->role) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || *s == '_')) return 0;
    return 1;
}

static int seen_before(cat_job *j, const char *code)
{
    for (size_t i = 0; i < j->nseen; i++)
        if (strcmp(j->seen[i], code) == 0) return 1;
    if (wg_grow((void **)&j->seen, &j->cap, j->nseen + 1, sizeof *j->seen) != WG_OK) return -1;
    memcpy(j->seen[j->nseen++], code, 5);
    return 0;
}

static int cat_row(void *ud, const char *const *fields, size_t line)
{
    cat_job *j = ud;
    const char *code = field(j, fields, C_CODE), *cls = field(j, fields, C_CLASS),
               *cname = field(j, fields, C_CLASS_NAME), *name = field(j, fields, C_NAME),
               *limit = field(j, fields, C_LIMIT), *unit = field(j, fields, C_UNIT),
               *role = field(j, fields, C_ROLE);
    if (!code || strlen(code) != 4 || !wg_imp_is_digits(code)) {
        wg_imp_issue(&j->r, line, 1, code, 0, "bad_code",
                     "code is not 4 digits (2-digit class + 2-digit subclass)");
        return WG_OK;
    }
    int dup = seen_before(j, code);
    if (dup < 0) return wg_fail(j->r.ctx, WG_ENOMEM, "out of memory");
    if (dup) {
        wg_imp_issue(&j->r, line, 1, code, 0, "duplicate_code",
                     "the code appeared earlier in the file");
        return WG_OK;
    }
    if (cls && (strlen(cls) != 2 || strncmp(cls, code, 2) != 0)) {
        wg_imp_issue(&j->r, line, 1, code, 0, "bad_class",
                     "class is not the code's first two digits");
        return WG_OK;
    }
    if (!cname || !name || strlen(cname) >= sizeof((wg_category *)0)->class_name ||
        strlen(name) >= sizeof((wg_category *)0)->name) {
        wg_imp_issue(&j->r, line, 1, code, 0, "missing_name",
                     "class_name and subclass_name are required (at most 95 and 127 bytes)");
        return WG_OK;
    }
    double v;
    if (!limit || !wg_imp_parse_double(limit, &v) || !isfinite(v) || v <= 0 || v > 10000) {
        wg_imp_issue(&j->r, line, 1, code, 0, "bad_limit",
                     "limit is not a number above 0 (at most 10000)");
        return WG_OK;
    }
    if (!unit || (strcmp(unit, "hours") != 0 && strcmp(unit, "days") != 0)) {
        wg_imp_issue(&j->r, line, 1, code, 0, "bad_unit",
                     "limit_unit is not hours or days (working hours, working days)");
        return WG_OK;
    }
    if (!role || !role_ok(role)) {
        wg_imp_issue(&j->r, line, 1, code, 0, "bad_role",
                     "role is missing or not a name of a-z and _");
        return WG_OK;
    }
    sqlite3_stmt *st = j->insert;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, cname, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 4, v);
    sqlite3_bind_text(st, 5, unit, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, role, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) return wg_fail_sql(j->r.ctx, "cannot store a category");
    j->r.stats->imported++;
    return WG_OK;
}

int wg_categories_import(wg_ctx *ctx, const char *path, int replace, wg_issue_fn on_issue, void *ud,
                         size_t *n)
{
    if (n) *n = 0;
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    wg_import_stats stats;
    memset(&stats, 0, sizeof stats);
    cat_job j;
    memset(&j, 0, sizeof j);
    j.r = (wg_import_run){ctx, on_issue, NULL, ud, &stats, 0};
    wg_csv_stream *in = NULL;
    int rc = wg_csv_open(ctx, path, &in);
    if (rc != WG_OK) return rc;
    for (int k = 0; k < C_COUNT; k++)
        j.cols[k] = wg_csv_col(in, COLS[k]);
    for (int k = 0; k < C_COUNT; k++)
        if (k != C_CLASS && j.cols[k] < 0) {
            wg_csv_close(in);
            return wg_fail(ctx, WG_EDATA,
                           "%s: header has no '%s' column (expected %s,%s,%s,%s,%s,%s,%s)", path,
                           COLS[k], COLS[0], COLS[1], COLS[2], COLS[3], COLS[4], COLS[5], COLS[6]);
        }
    rc = wg_begin(ctx);
    if (rc == WG_OK && replace) rc = wg_exec(ctx, "DELETE FROM categories");
    if (rc == WG_OK)
        rc = wg_prepare(
            ctx,
            "INSERT INTO categories(code, class_name, name, limit_value, limit_unit, role)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(code) DO UPDATE SET class_name = "
            "excluded.class_name,"
            " name = excluded.name, limit_value = excluded.limit_value,"
            " limit_unit = excluded.limit_unit, role = excluded.role",
            &j.insert);
    if (rc == WG_OK) rc = wg_imp_each_row(&j.r, in, cat_row, &j);
    sqlite3_finalize(j.insert);
    wg_csv_close(in);
    free(j.seen);
    if (rc != WG_OK && sqlite3_get_autocommit(ctx->db)) return rc; /* BEGIN failed */
    rc = wg_imp_finish(&j.r, rc, 0, path, "categories");
    if (rc == WG_OK && n) *n = stats.imported;
    return rc;
}

static void copy_text(char *dst, size_t n, const unsigned char *src)
{
    snprintf(dst, n, "%s", src ? (const char *)src : "");
}

static void row_category(sqlite3_stmt *st, wg_category *c)
{
    memset(c, 0, sizeof *c);
    copy_text(c->code, sizeof c->code, sqlite3_column_text(st, 0));
    copy_text(c->class_name, sizeof c->class_name, sqlite3_column_text(st, 1));
    copy_text(c->name, sizeof c->name, sqlite3_column_text(st, 2));
    c->limit_value = sqlite3_column_double(st, 3);
    const unsigned char *u = sqlite3_column_text(st, 4);
    c->limit_days = u && strcmp((const char *)u, "days") == 0;
    copy_text(c->role, sizeof c->role, sqlite3_column_text(st, 5));
}

#define CAT_COLUMNS "SELECT code, class_name, name, limit_value, limit_unit, role FROM categories"

int wg_categories_list(wg_ctx *ctx, wg_category **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, CAT_COLUMNS " ORDER BY code", &st);
    if (rc != WG_OK) return rc;
    wg_category *v = NULL;
    size_t cnt = 0, cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (wg_grow((void **)&v, &cap, cnt + 1, sizeof *v) != WG_OK) {
            rc = wg_fail(ctx, WG_ENOMEM, "out of memory");
            break;
        }
        row_category(st, &v[cnt++]);
    }
    if (rc == WG_OK && step != SQLITE_DONE) rc = wg_fail_sql(ctx, "cannot read categories");
    sqlite3_finalize(st);
    if (rc != WG_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *n = cnt;
    return WG_OK;
}

int wg_category_get(wg_ctx *ctx, const char *code, wg_category *out)
{
    memset(out, 0, sizeof *out);
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    sqlite3_stmt *st;
    int rc = wg_prepare(ctx, CAT_COLUMNS " WHERE code = ?", &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_text(st, 1, code ? code : "", -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        row_category(st, out);
    else if (step == SQLITE_DONE)
        rc = wg_fail(ctx, WG_ENOTFOUND, "no category '%.16s'", code ? code : "");
    else
        rc = wg_fail_sql(ctx, "cannot read categories");
    sqlite3_finalize(st);
    return rc;
}

int64_t wg_category_limit_ms(const wg_category *c, const wg_calendar *cal)
{
    double unit = c->limit_days ? (double)wg_calendar_day_ms(cal) : 3600000.0;
    return (int64_t)llround(c->limit_value * unit);
}
