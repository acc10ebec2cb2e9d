/* Draft revisions (wg_gen_revision in wangge/store.h). */
#include "wangge/store.h"
#include "internal.h"
#include "store_schema.h"

int wg_gen_revision(wg_ctx *ctx, int64_t id, uint64_t *rev)
{
    *rev = 0;
    wg_gen_status status;
    int rc = wg_gen_get_status(ctx, id, &status);
    if (rc != WG_OK || status != WG_GEN_DRAFT) return rc;
    /* An edit inserts rows that start at the draft (new ids) and closes rows the draft had
     * (last_gen below it); a discarded draft takes its id with it. So the rows starting at
     * the draft (count, newest id) and the rows closed just before it identify its state. */
    sqlite3_stmt *st;
    rc = wg_prepare(ctx,
                    "SELECT (SELECT count(*) FROM units WHERE first_gen = ?1),"
                    " (SELECT coalesce(max(id), 0) FROM units WHERE first_gen = ?1),"
                    " (SELECT count(*) FROM units WHERE last_gen IS NOT NULL AND last_gen < ?1"
                    "   AND last_gen >= (SELECT coalesce(max(id), 0) FROM generations"
                    "                    WHERE id < ?1 AND status <> 'draft')),"
                    " (SELECT coalesce(sum(id), 0) FROM units WHERE first_gen = ?1)",
                    &st);
    if (rc != WG_OK) return rc;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        uint64_t h = 1469598103934665603ULL; /* FNV-1a over the four numbers */
        for (int c = 0; c < 4; c++) {
            uint64_t v = (uint64_t)sqlite3_column_int64(st, c);
            for (int b = 0; b < 8; b++) {
                h ^= (v >> (8 * b)) & 0xff;
                h *= 1099511628211ULL;
            }
        }
        *rev = h | 1; /* never 0 for a draft */
    } else {
        rc = wg_fail_sql(ctx, "cannot read the draft's revision");
    }
    sqlite3_finalize(st);
    return rc;
}
