/* The index's copy of the position inbox as an SQL table: the eponymous virtual table
 * wg_pi_rows(worker_id, at_ms, lon, lat, accuracy_m, received_ms) reads the rows handed to
 * wg_pi_rows_exec, in their order, so that one INSERT ... SELECT moves them into the track
 * without SQLite reading the inbox or sorting it (see wg_positions_merge). */
#include "posindex.h"
#include "internal.h"
#include "store_schema.h"

#include <math.h>
#include <stdlib.h>

typedef struct rows_vtab {
    sqlite3_vtab base;
    wg_ctx *ctx;
} rows_vtab;

typedef struct rows_cursor {
    sqlite3_vtab_cursor base;
    const wg_pi_row *rows;
    size_t n, at;
} rows_cursor;

static int rows_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                        sqlite3_vtab **out, char **err)
{
    (void)argc, (void)argv, (void)err;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(worker_id TEXT, at_ms INTEGER, lon REAL,"
                                      " lat REAL, accuracy_m REAL, received_ms INTEGER)");
    if (rc != SQLITE_OK) return rc;
    rows_vtab *v = sqlite3_malloc(sizeof *v);
    if (!v) return SQLITE_NOMEM;
    *v = (rows_vtab){.ctx = aux};
    *out = &v->base;
    return SQLITE_OK;
}

static int rows_disconnect(sqlite3_vtab *v)
{
    sqlite3_free(v);
    return SQLITE_OK;
}

static int rows_best_index(sqlite3_vtab *v, sqlite3_index_info *info)
{
    /* one plan: every row, in order; SQLite checks any constraint itself */
    info->estimatedCost = (double)((rows_vtab *)v)->ctx->feed_n + 1;
    info->estimatedRows = (sqlite3_int64)((rows_vtab *)v)->ctx->feed_n;
    return SQLITE_OK;
}

static int rows_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
    (void)v;
    rows_cursor *c = sqlite3_malloc(sizeof *c);
    if (!c) return SQLITE_NOMEM;
    *c = (rows_cursor){0};
    *out = &c->base;
    return SQLITE_OK;
}

static int rows_close(sqlite3_vtab_cursor *c)
{
    sqlite3_free(c);
    return SQLITE_OK;
}

static int rows_filter(sqlite3_vtab_cursor *cur, int idx_num, const char *idx_str, int argc,
                       sqlite3_value **argv)
{
    (void)idx_num, (void)idx_str, (void)argc, (void)argv;
    rows_cursor *c = (rows_cursor *)cur;
    const wg_ctx *ctx = ((rows_vtab *)cur->pVtab)->ctx;
    c->rows = ctx->feed;
    c->n = ctx->feed ? ctx->feed_n : 0;
    c->at = 0;
    return SQLITE_OK;
}

static int rows_next(sqlite3_vtab_cursor *cur)
{
    ((rows_cursor *)cur)->at++;
    return SQLITE_OK;
}

static int rows_eof(sqlite3_vtab_cursor *cur)
{
    const rows_cursor *c = (const rows_cursor *)cur;
    return c->at >= c->n;
}

static int rows_column(sqlite3_vtab_cursor *cur, sqlite3_context *out, int col)
{
    const rows_cursor *c = (const rows_cursor *)cur;
    const wg_pi_row *r = &c->rows[c->at];
    switch (col) {
    case 0:
        sqlite3_result_text(out, r->worker_id, -1, SQLITE_STATIC);
        break;
    case 1:
        sqlite3_result_int64(out, r->at_ms);
        break;
    case 2:
        sqlite3_result_double(out, r->lon);
        break;
    case 3:
        sqlite3_result_double(out, r->lat);
        break;
    case 4:
        if (isnan(r->accuracy_m))
            sqlite3_result_null(out);
        else
            sqlite3_result_double(out, r->accuracy_m);
        break;
    default:
        sqlite3_result_int64(out, r->received_ms);
        break;
    }
    return SQLITE_OK;
}

static int rows_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
    *rowid = (sqlite3_int64)((const rows_cursor *)cur)->at + 1;
    return SQLITE_OK;
}

static const sqlite3_module ROWS_MODULE = {
    .iVersion = 1,
    .xCreate = NULL, /* eponymous only: no CREATE VIRTUAL TABLE */
    .xConnect = rows_connect,
    .xBestIndex = rows_best_index,
    .xDisconnect = rows_disconnect,
    .xOpen = rows_open,
    .xClose = rows_close,
    .xFilter = rows_filter,
    .xNext = rows_next,
    .xEof = rows_eof,
    .xColumn = rows_column,
    .xRowid = rows_rowid,
};

int wg_pi_rows_exec(wg_ctx *ctx, const char *sql, const wg_pi_row *rows, size_t n)
{
    if (!ctx->feed_module) {
        if (sqlite3_create_module_v2(ctx->db, "wg_pi_rows", &ROWS_MODULE, ctx, NULL) != SQLITE_OK)
            return wg_fail_sql(ctx, "cannot register wg_pi_rows");
        ctx->feed_module = 1;
    }
    ctx->feed = rows;
    ctx->feed_n = n;
    int rc = wg_exec(ctx, sql);
    ctx->feed = NULL;
    ctx->feed_n = 0;
    return rc;
}
