/* Publishing a draft: validate, then flip statuses in one transaction. The read path swaps
 * to the new generation by loading it (wg_lookup_load) after the commit. */
#include "wangge/store.h"
#include "wangge/validate.h"
#include "store_schema.h"

#include <stdio.h>

static int flip(wg_ctx *ctx, int64_t draft)
{
    char sql[320];
    snprintf(sql, sizeof sql,
             "UPDATE generations SET status = 'retired' WHERE status = 'active';"
             "UPDATE generations SET status = 'active',"
             " published_at = strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ','now') WHERE id = %lld;",
             (long long)draft);
    int rc = wg_begin(ctx);
    if (rc == WG_OK) rc = wg_exec(ctx, sql);
    if (rc == WG_OK) rc = wg_commit(ctx);
    if (rc != WG_OK) wg_rollback(ctx);
    return rc;
}

int wg_gen_publish(wg_ctx *ctx, double tol_m2, int force, int64_t *gen, struct wg_report **report)
{
    *gen = 0;
    if (report) *report = NULL;
    int64_t draft;
    int rc = wg_gen_draft(ctx, 0, &draft);
    if (rc == WG_ENOTFOUND) return wg_fail(ctx, rc, "no draft generation to publish");
    if (rc != WG_OK) return rc;
    wg_report *r = NULL;
    rc = wg_validate(ctx, draft, tol_m2, &r);
    if (rc != WG_OK) return rc;
    size_t units = r->units[1] + r->units[2] + r->units[3];
    if (units == 0) rc = wg_fail(ctx, WG_EDATA, "draft generation %lld has no units", (long long)draft);
    else if (r->n && !force)
        rc = wg_fail(ctx, WG_EFAULTS, "draft generation %lld has %zu faults: not published",
                     (long long)draft, r->n);
    if (rc == WG_OK) rc = flip(ctx, draft);
    if (rc == WG_OK) *gen = draft;
    if (report) *report = r;
    else wg_report_free(r);
    return rc;
}
