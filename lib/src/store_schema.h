/* Private: store schema creation and migration, run when a context opens a store. */
#ifndef WANGGE_STORE_SCHEMA_H
#define WANGGE_STORE_SCHEMA_H
#include "internal.h"

/* Sets the connection pragmas (WAL, synchronous FULL, foreign keys) and, if writable,
 * creates or migrates the schema to WG_SCHEMA_VERSION in one transaction. */
int wg_schema_prepare(wg_ctx *ctx, int writable);
/* Tests only: makes wg_schema_prepare bring stores to `version` (1..WG_SCHEMA_VERSION; any
 * other value restores WG_SCHEMA_VERSION) instead of the current version, so that a test can
 * build a store of an older version with that version's own migrations and then watch it
 * upgrade. Process-wide and not synchronised: never called by the library or the tools. */
void wg_schema_set_target(int version);

/* Runs one SQL statement (or several, separated by ';') with no results. */
int wg_exec(wg_ctx *ctx, const char *sql);
/* The first column of sql's first row as an integer (0 when there is no row). */
int wg_query_i64(wg_ctx *ctx, const char *sql, int64_t *out);
/* Prepares a statement; on failure records the SQL error on ctx. */
int wg_prepare(wg_ctx *ctx, const char *sql, sqlite3_stmt **out);
/* Lets go of the process's writer lock if ctx holds it (wg_begin takes it; commit and rollback
 * let go); for closing a connection in the middle of a transaction. */
void wg_write_release(wg_ctx *ctx);
/* A copy of column col of the current row as text (the caller frees it); NULL for SQL NULL,
 * and when memory runs out. */
char *wg_column_dup(sqlite3_stmt *st, int col);
/* Transactions: BEGIN IMMEDIATE (a writer takes the lock up front, so no deadlock on
 * upgrade), COMMIT, ROLLBACK (rollback never fails from the caller's view). */
int wg_begin(wg_ctx *ctx);
int wg_commit(wg_ctx *ctx);
void wg_rollback(wg_ctx *ctx);
/* Ends what wg_begin opened: commits when rc is WG_OK; otherwise, or when the commit fails,
 * rolls back and keeps the error already recorded on ctx. Returns the final rc. */
int wg_commit_or_rollback(wg_ctx *ctx, int rc);

#endif
