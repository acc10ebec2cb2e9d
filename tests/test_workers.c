/* Workers (lib/src/workers.c) and the position index (lib/src/posindex.c):
 *   - the distance bounds the index ranks by hold against geod_inverse (chord below, circle of
 *     the least radius of curvature above, the box bound for cells), and the chord series it
 *     reports agrees with geod_inverse;
 *   - registration, update, deregistration, duty, with every refusal;
 *   - fixes: current, out of order, duplicates (in a batch and across batches), future, too
 *     old, bad coordinates and accuracy, unknown and deregistered workers; the index follows;
 *     the track by time range with a limit; pruning behind the retention;
 *   - nearest against a brute-force ellipsoidal scan (geod_inverse over every worker, filters
 *     applied, sorted by distance then id) on thousands of random queries with filters, with
 *     ties, far queries, the antimeridian and the poles;
 *   - the same WHILE other threads update the index: every update is logged with its sequence
 *     number; a query notes how many updates had completed before it started (u0) and after it
 *     returned (u1), and its answer must equal the brute force on the state after exactly s
 *     updates for some s in [u0, u1 + 1] (the update in flight when it returned may already be
 *     visible). The checker replays the log after the threads have joined, so the check is
 *     exact and the threads run freely;
 *   - wg_posindex_sync against the store and other contexts' changes; the JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <geodesic.h>
#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>

#include "posindex.h"
#include "store_schema.h"
#include "testutil.h"
#include "wangge/import.h"
#include "wangge/store.h"
#include "wangge/workers.h"

static struct geod_geodesic G;

static double geod_m(double lon1, double lat1, double lon2, double lat2)
{
    double s = 0;
    geod_inverse(&G, lat1, lon1, lat2, lon2, &s, NULL, NULL);
    return s;
}

/* xorshift: the same numbers on every run */
static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static double urand(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* ---------------------------------------------------------------- distance bounds */

static void test_bounds(void **state)
{
    (void)state;
    double worst_series[3] = {0}; /* <= 1 km, <= 5 km, <= 10 km */
    for (int i = 0; i < 200000; i++) {
        double lat = -85 + 170 * urand(), lon = -180 + 360 * urand();
        double s = pow(10, -2 + 8.3 * urand()); /* 1 cm .. 2000 km */
        double lat2, lon2;
        geod_direct(&G, lat, lon, 360 * urand(), s, &lat2, &lon2, NULL);
        double d = geod_m(lon, lat, lon2, lat2);
        double p[3], q[3];
        wg_pi_ecef(lon, lat, p);
        wg_pi_ecef(lon2, lat2, q);
        double c = sqrt((p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) +
                        (p[2] - q[2]) * (p[2] - q[2]));
        if (!(wg_pi_lower_m(c) <= d && d <= wg_pi_upper_m(c)))
            fail_msg("bounds [%.9f, %.9f] miss geod %.9f (chord %.9f)", wg_pi_lower_m(c),
                     wg_pi_upper_m(c), d, c);
        if (d <= 10000) {
            double e = fabs(wg_pi_series_m(lon, lat, lon2, lat2) - d);
            int b = d <= 1000 ? 0 : d <= 5000 ? 1 : 2;
            if (e > worst_series[b]) worst_series[b] = e;
        }
        /* the box bound: the box around (lon2, lat2) of up to 0.05 deg, valid for t >= d */
        double hw = 0.05 * urand(), hh = 0.05 * urand();
        double w = lon2 - hw * urand(), e = w + hw, so = lat2 - hh * urand(), n = so + hh;
        double ulon = lon2; /* the box is unwrapped around the query's longitude */
        while (ulon - lon > 180)
            ulon -= 360, w -= 360, e -= 360;
        while (lon - ulon > 180)
            ulon += 360, w += 360, e += 360;
        if (wg_pi_box_lower_m(lon, lat, w, so, e, n, d) > d)
            fail_msg("box bound %.9f above the distance %.9f to a point in the box",
                     wg_pi_box_lower_m(lon, lat, w, so, e, n, d), d);
    }
    print_message(
        "series - geod_inverse: max %.2g m (<= 1 km), %.2g m (<= 5 km), %.2g m (<= 10 km)\n",
        worst_series[0], worst_series[1], worst_series[2]);
    assert_true(worst_series[2] < 1e-7);
}

/* ---------------------------------------------------------------- registration */

static void test_register(void **state)
{
    (void)state;
    char *path;
    wg_ctx *ctx = tu_open_store(&path);
    wg_posindex *idx = wg_posindex_new(0);
    int created = -1;
    wg_worker_reg r = {"W1", "张三", "13800000000", "440307006001001", WG_WORKER_GRID_WORKER, 1};
    assert_int_equal(wg_worker_register(ctx, idx, &r, &created), WG_OK);
    assert_int_equal(created, 1);
    wg_worker w;
    assert_int_equal(wg_worker_get(ctx, "W1", &w), WG_OK);
    assert_string_equal(w.name, "张三");
    assert_string_equal(w.phone, "13800000000");
    assert_string_equal(w.home_grid, "440307006001001");
    assert_int_equal(w.role, WG_WORKER_GRID_WORKER);
    assert_true(w.on_duty && w.active && !w.has_position && w.seen_ms == 0);
    /* update: on_duty -1 keeps the flag; phone and grid cleared */
    wg_worker_reg u = {"W1", "张三丰", NULL, "", WG_WORKER_OFFICER, -1};
    assert_int_equal(wg_worker_register(ctx, idx, &u, &created), WG_OK);
    assert_int_equal(created, 0);
    assert_int_equal(wg_worker_get(ctx, "W1", &w), WG_OK);
    assert_string_equal(w.name, "张三丰");
    assert_string_equal(w.phone, "");
    assert_string_equal(w.home_grid, "");
    assert_int_equal(w.role, WG_WORKER_OFFICER);
    assert_true(w.on_duty);
    assert_int_equal(wg_posindex_get(idx, "W1", &w), WG_OK);
    assert_string_equal(w.name, "张三丰");
    /* refusals */
    const wg_worker_reg bad[] = {
        {"", "a", NULL, NULL, WG_WORKER_OFFICER, 0},
        {"a/b", "a", NULL, NULL, WG_WORKER_OFFICER, 0},
        {"W\n", "a", NULL, NULL, WG_WORKER_OFFICER, 0},
        {"W2", "", NULL, NULL, WG_WORKER_OFFICER, 0},
        {"W2", "a", NULL, NULL, (wg_worker_role)3, 0},
        {"W2", "a", "12ab", NULL, WG_WORKER_OFFICER, 0},
        {"W2", "a", NULL, "123456789012345678901234567890123", WG_WORKER_OFFICER, 0},
        {"W2", "a", NULL, NULL, WG_WORKER_OFFICER, 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(wg_worker_register(ctx, idx, &bad[i], NULL), WG_EINVAL);
    char longid[80];
    memset(longid, 'x', 65);
    longid[65] = '\0';
    wg_worker_reg lr = {longid, "a", NULL, NULL, WG_WORKER_OFFICER, 0};
    assert_int_equal(wg_worker_register(ctx, idx, &lr, NULL), WG_EINVAL);
    assert_int_equal(tu_q_int(ctx, "SELECT count(*) FROM workers"), 1);
    /* duty, deregistration */
    assert_int_equal(wg_worker_set_duty(ctx, idx, "W1", 0), WG_OK);
    assert_int_equal(wg_worker_get(ctx, "W1", &w), WG_OK);
    assert_false(w.on_duty);
    assert_int_equal(wg_worker_set_duty(ctx, idx, "nobody", 1), WG_ENOTFOUND);
    assert_int_equal(wg_worker_set_duty(ctx, idx, "W1", 5), WG_EINVAL);
    assert_int_equal(wg_worker_deregister(ctx, idx, "nobody"), WG_ENOTFOUND);
    assert_int_equal(wg_worker_set_duty(ctx, idx, "W1", 1), WG_OK);
    assert_int_equal(wg_worker_deregister(ctx, idx, "W1"), WG_OK);
    assert_int_equal(wg_worker_deregister(ctx, idx, "W1"), WG_OK); /* again: a no-op */
    assert_int_equal(wg_worker_get(ctx, "W1", &w), WG_OK);
    assert_true(!w.active && !w.on_duty);
    assert_int_equal(wg_worker_set_duty(ctx, idx, "W1", 1), WG_ECONFLICT);
    assert_int_equal(wg_posindex_get(idx, "W1", &w), WG_OK);
    assert_false(w.active);
    /* registering again brings it back */
    assert_int_equal(wg_worker_register(ctx, idx, &r, &created), WG_OK);
    assert_int_equal(created, 0);
    assert_int_equal(wg_worker_get(ctx, "W1", &w), WG_OK);
    assert_true(w.active && w.on_duty);
    wg_worker *all;
    size_t n;
    assert_int_equal(wg_workers_list(ctx, &all, &n), WG_OK);
    assert_int_equal(n, 1);
    free(all);
    wg_posindex_free(idx);
    tu_close_store(ctx, path);
}

/* ---------------------------------------------------------------- fixes and the track */

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */
#define MIN_MS 60000LL

static void test_fixes(void **state)
{
    (void)state;
    char *path;
    wg_ctx *ctx = tu_open_store(&path);
    wg_posindex *idx = wg_posindex_new(0);
    const char *ids[] = {"A", "B", "C"};
    for (int i = 0; i < 3; i++) {
        wg_worker_reg r = {ids[i], ids[i], NULL, NULL, WG_WORKER_GRID_WORKER, 1};
        assert_int_equal(wg_worker_register(ctx, idx, &r, NULL), WG_OK);
    }
    assert_int_equal(wg_worker_deregister(ctx, idx, "C"), WG_OK);
    wg_track_policy pol = {T0, 0, 0};
    const wg_fix f[] = {
        {"A", 114.50, 22.60, T0 - 1 * MIN_MS, 5},              /* current */
        {"A", 114.40, 22.50, T0 - 2 * MIN_MS, NAN},            /* older: track only */
        {"A", 114.41, 22.51, T0 - 1 * MIN_MS, 5},              /* same time: duplicate */
        {"A", 114.50, 22.60, T0 + 6 * MIN_MS, 5},              /* future */
        {"A", 114.50, 22.60, T0 + 4 * MIN_MS, 5},              /* 4 min ahead: fine, current */
        {"A", 114.50, 22.60, T0 - 31LL * 24 * 60 * MIN_MS, 5}, /* behind the retention */
        {"A", NAN, 22.60, T0, 5},
        {"A", 114.5, 91, T0, 5},
        {"A", 181, 22.6, T0, 5},
        {"A", 114.5, 22.6, T0, -1},
        {"Z", 114.5, 22.6, T0, 5},
        {"", 114.5, 22.6, T0, 5},
        {"C", 114.5, 22.6, T0, 5},
        {"B", 114.30, 22.70, T0, NAN},
    };
    const int want_o[] = {WG_FIX_CURRENT,  WG_FIX_TRACK,    WG_FIX_DUPLICATE, WG_FIX_REJECTED,
                          WG_FIX_CURRENT,  WG_FIX_REJECTED, WG_FIX_REJECTED,  WG_FIX_REJECTED,
                          WG_FIX_REJECTED, WG_FIX_REJECTED, WG_FIX_REJECTED,  WG_FIX_REJECTED,
                          WG_FIX_REJECTED, WG_FIX_CURRENT};
    const char *want_r[] = {NULL,
                            NULL,
                            NULL,
                            "future",
                            NULL,
                            "too_old",
                            "bad_coordinates",
                            "bad_coordinates",
                            "bad_coordinates",
                            "bad_accuracy",
                            "unknown_worker",
                            "bad_worker_id",
                            "deregistered",
                            NULL};
    size_t n = sizeof f / sizeof f[0];
    wg_fix_result res[16];
    wg_fix_counts cnt;
    assert_int_equal(wg_positions_add(ctx, idx, f, n, &pol, res, &cnt), WG_OK);
    for (size_t i = 0; i < n; i++) {
        if ((int)res[i].outcome != want_o[i])
            fail_msg("fix %zu: %s, want %s", i, wg_fix_outcome_name(res[i].outcome),
                     wg_fix_outcome_name((wg_fix_outcome)want_o[i]));
        if (want_r[i])
            assert_string_equal(res[i].reason, want_r[i]);
        else
            assert_null(res[i].reason);
    }
    assert_int_equal(cnt.current, 3);
    assert_int_equal(cnt.track, 1);
    assert_int_equal(cnt.duplicate, 1);
    assert_int_equal(cnt.rejected, 9);
    /* with an index the fixes wait in the inbox; readers see them already */
    assert_int_equal(tu_q_int(ctx, "SELECT count(*) FROM position_inbox"), 4);
    assert_int_equal(tu_q_int(ctx, "SELECT count(*) FROM worker_positions"), 0);
    assert_int_equal(tu_q_int(ctx, "SELECT count(*) FROM workers WHERE seen_ms IS NOT NULL"), 0);
    wg_worker w;
    assert_int_equal(wg_worker_get(ctx, "A", &w), WG_OK);
    assert_true(w.has_position && w.seen_ms == T0 + 4 * MIN_MS && w.lon == 114.50);
    assert_int_equal(wg_posindex_get(idx, "A", &w), WG_OK);
    assert_true(w.has_position && w.seen_ms == T0 + 4 * MIN_MS && w.lon == 114.50);
    /* across batches: the same fix again is a duplicate; an older one only joins the track; a
     * fix sent again with another position is still the same fix (the first one stays) */
    const wg_fix g[] = {{"A", 114.50, 22.60, T0 - 1 * MIN_MS, 5},
                        {"A", 114.45, 22.65, T0 + 3 * MIN_MS, NAN},
                        {"B", 114.31, 22.71, T0, NAN},
                        {"B", 114.32, 22.72, T0 + 1, NAN}};
    assert_int_equal(wg_positions_add(ctx, idx, g, 4, &pol, res, &cnt), WG_OK);
    assert_int_equal(res[0].outcome, WG_FIX_DUPLICATE);
    assert_int_equal(res[1].outcome, WG_FIX_TRACK);
    assert_int_equal(res[2].outcome, WG_FIX_DUPLICATE);
    assert_int_equal(res[3].outcome, WG_FIX_CURRENT);
    assert_int_equal(wg_posindex_get(idx, "B", &w), WG_OK);
    assert_true(w.lon == 114.32 && w.seen_ms == T0 + 1);
    assert_int_equal(wg_worker_get(ctx, "A", &w), WG_OK);
    assert_true(w.lon == 114.50 && w.lat == 22.60); /* the out-of-order fix did not move it */
    /* without an index the store alone decides: an older fix never moves the position */
    const wg_fix h[] = {{"B", 114.0, 22.0, T0 - 5 * MIN_MS, NAN}};
    assert_int_equal(wg_positions_add(ctx, NULL, h, 1, &pol, res, NULL), WG_OK);
    assert_int_equal(res[0].outcome, WG_FIX_TRACK);
    /* ... and merges the inbox: everything is in the track and the workers table */
    assert_int_equal(tu_q_int(ctx, "SELECT count(*) FROM position_inbox"), 0);
    assert_int_equal(tu_q_int(ctx, "SELECT count(*) FROM worker_positions"), 7);
    assert_int_equal(tu_q_int(ctx, "SELECT seen_ms FROM workers WHERE id = 'A'"), T0 + 4 * MIN_MS);
    assert_int_equal(tu_q_int(ctx, "SELECT seen_ms FROM workers WHERE id = 'B'"), T0 + 1);
    /* a fix already in the track is a duplicate for the index's path too */
    const wg_fix again[] = {{"B", 114.0, 22.0, T0 - 5 * MIN_MS, NAN}};
    assert_int_equal(wg_positions_add(ctx, idx, again, 1, &pol, res, NULL), WG_OK);
    assert_int_equal(res[0].outcome, WG_FIX_DUPLICATE);
    size_t moved = 99;
    assert_int_equal(wg_positions_merge(ctx, NULL, &moved), WG_OK);
    assert_int_equal(moved, 0);
    /* the track */
    wg_track_point *tp;
    size_t np;
    int more;
    assert_int_equal(wg_track_get(ctx, "A", T0 - 60 * MIN_MS, T0 + 60 * MIN_MS, 0, &tp, &np, &more),
                     WG_OK);
    assert_int_equal(np, 4);
    assert_false(more);
    assert_true(tp[0].at_ms == T0 - 2 * MIN_MS && isnan(tp[0].accuracy_m) && tp[0].lon == 114.40);
    assert_true(tp[1].at_ms == T0 - MIN_MS && tp[1].lon == 114.50 &&
                tp[1].accuracy_m == 5); /* the first one */
    assert_true(tp[3].at_ms == T0 + 4 * MIN_MS);
    free(tp);
    assert_int_equal(wg_track_get(ctx, "A", T0 - 90 * 1000, T0 + 4 * MIN_MS, 2, &tp, &np, &more),
                     WG_OK);
    assert_int_equal(np, 2);
    assert_true(more);
    assert_true(tp[0].at_ms == T0 - MIN_MS && tp[1].at_ms == T0 + 3 * MIN_MS);
    free(tp);
    assert_int_equal(wg_track_get(ctx, "nobody", 0, T0, 0, &tp, &np, NULL), WG_ENOTFOUND);
    assert_int_equal(wg_track_get(ctx, "C", 0, T0 * 2, 0, &tp, &np, NULL),
                     WG_OK); /* deregistered: readable */
    assert_int_equal(np, 0);
    free(tp);
    /* pruning behind a time keeps the rest and the current positions */
    size_t gone;
    assert_int_equal(wg_track_prune(ctx, T0 - MIN_MS, &gone), WG_OK);
    assert_int_equal(gone, 2); /* A at -2 min, B at -5 min */
    assert_int_equal(tu_q_int(ctx, "SELECT count(*) FROM worker_positions"), 5);
    assert_int_equal(tu_q_int(ctx, "SELECT min(at_ms) FROM worker_positions") == T0 - MIN_MS, 1);
    assert_int_equal(wg_worker_get(ctx, "B", &w), WG_OK);
    assert_true(w.has_position && w.lon == 114.32);
    /* a fix of a pruned-away time is refused as too old once it is behind the retention */
    wg_track_policy later = {T0 + 40LL * 24 * 60 * MIN_MS, 0, 0};
    const wg_fix old[] = {{"A", 114.5, 22.6, T0, NAN}};
    assert_int_equal(wg_positions_add(ctx, idx, old, 1, &later, res, NULL), WG_OK);
    assert_string_equal(res[0].reason, "too_old");
    wg_track_policy shorter = {T0, 0, 2 * MIN_MS};
    const wg_fix old2[] = {{"A", 114.5, 22.6, T0 - 3 * MIN_MS, NAN}};
    assert_int_equal(wg_positions_add(ctx, idx, old2, 1, &shorter, res, NULL), WG_OK);
    assert_string_equal(res[0].reason, "too_old");
    assert_int_equal(wg_positions_add(ctx, idx, NULL, 0, &pol, NULL, &cnt), WG_OK);
    wg_posindex_free(idx);
    tu_close_store(ctx, path);
}

/* A new store and index with one officer, A, registered. */
static wg_ctx *store_with_officer_a(char **path, wg_posindex **idx)
{
    wg_ctx *ctx = tu_open_store(path);
    *idx = wg_posindex_new(0);
    wg_worker_reg r = {"A", "A", NULL, NULL, WG_WORKER_OFFICER, 1};
    assert_int_equal(wg_worker_register(ctx, *idx, &r, NULL), WG_OK);
    return ctx;
}

/* A batch that fails before its commit leaves nothing behind in the index: sent again, its fixes
 * are stored, not taken for duplicates of the rolled-back ones. */
static void test_batch_rollback(void **state)
{
    (void)state;
    char *path;
    wg_posindex *idx;
    wg_ctx *ctx = store_with_officer_a(&path, &idx);
    wg_track_policy pol = {T0, 0, 0};
    const wg_fix f[] = {{"A", 114.1, 22.1, T0 - 3000, NAN},
                        {"A", 114.2, 22.2, T0 - 2000, NAN},
                        {"A", 114.3, 22.3, T0 - 1000, NAN}};
    wg_fix_result res[3];
    /* the store refuses the third fix: the whole batch is rolled back */
    assert_int_equal(wg_exec(ctx, "CREATE TEMP TRIGGER boom BEFORE INSERT ON main.position_inbox"
                                  " WHEN NEW.lon > 114.25 BEGIN SELECT RAISE(ABORT, 'boom'); END"),
                     WG_OK);
    assert_int_not_equal(wg_positions_add(ctx, idx, f, 3, &pol, res, NULL), WG_OK);
    assert_int_equal(tu_q_int(ctx, "SELECT count(*) FROM position_inbox"), 0);
    assert_int_equal(wg_exec(ctx, "DROP TRIGGER temp.boom"), WG_OK);
    wg_fix_counts cnt;
    assert_int_equal(wg_positions_add(ctx, idx, f, 3, &pol, res, &cnt), WG_OK);
    assert_int_equal(cnt.current, 3);
    assert_int_equal(cnt.duplicate, 0);
    assert_int_equal(tu_q_int(ctx, "SELECT count(*) FROM position_inbox"), 3);
    /* and once they are stored, a repeat is a duplicate before and after the merge */
    assert_int_equal(wg_positions_add(ctx, idx, f, 3, &pol, res, &cnt), WG_OK);
    assert_int_equal(cnt.duplicate, 3);
    assert_int_equal(wg_positions_merge(ctx, idx, NULL), WG_OK);
    assert_int_equal(wg_positions_add(ctx, idx, f, 3, &pol, res, &cnt), WG_OK);
    assert_int_equal(cnt.duplicate, 3);
    assert_int_equal(tu_q_int(ctx, "SELECT count(*) FROM worker_positions"), 3);
    assert_int_equal(tu_q_int(ctx, "SELECT count(*) FROM position_inbox"), 0);
    wg_posindex_free(idx);
    tu_close_store(ctx, path);
}

/* The index skips the track's key for a fix outside the time ranges it knows the worker's
 * stored fixes lie in, and for one its key sets answer for. Fixes another process stored
 * (the CLI, straight into the track) show as a newest fix outside those ranges at the next
 * sync: from then on every older fix of that worker is asked of the track again. */
static void test_foreign_fixes(void **state)
{
    (void)state;
    char *path;
    wg_posindex *idx;
    wg_ctx *ctx = store_with_officer_a(&path, &idx);
    assert_int_equal(wg_posindex_sync(idx, ctx, NULL), WG_OK);
    wg_track_policy pol = {T0, 0, 0};
    wg_fix_counts cnt;
    const wg_fix mine[] = {{"A", 114.1, 22.1, T0 - 100000, NAN},
                           {"A", 114.2, 22.2, T0 - 50000, NAN}};
    assert_int_equal(wg_positions_add(ctx, idx, mine, 2, &pol, NULL, &cnt), WG_OK);
    assert_int_equal(cnt.current, 2);
    /* two merges: this process's keys leave the key sets, the track answers for them */
    assert_int_equal(wg_positions_merge(ctx, idx, NULL), WG_OK);
    assert_int_equal(wg_positions_merge(ctx, idx, NULL), WG_OK);
    assert_int_equal(wg_positions_add(ctx, idx, mine, 2, &pol, NULL, &cnt), WG_OK);
    assert_int_equal(cnt.duplicate, 2);
    /* another process stores one fix between them and a newer one */
    const wg_fix theirs[] = {{"A", 114.3, 22.3, T0 - 75000, NAN},
                             {"A", 114.4, 22.4, T0 - 10000, NAN}};
    assert_int_equal(wg_positions_add(ctx, NULL, theirs, 2, &pol, NULL, &cnt), WG_OK);
    assert_int_equal(cnt.current, 1);
    assert_int_equal(wg_posindex_sync(idx, ctx, NULL), WG_OK);
    /* both are duplicates here too; a fix nobody stored between them is out of order */
    assert_int_equal(wg_positions_add(ctx, idx, theirs, 2, &pol, NULL, &cnt), WG_OK);
    assert_int_equal(cnt.duplicate, 2);
    const wg_fix gap = {"A", 114.5, 22.5, T0 - 60000, NAN};
    assert_int_equal(wg_positions_add(ctx, idx, &gap, 1, &pol, NULL, &cnt), WG_OK);
    assert_int_equal(cnt.track, 1);
    assert_int_equal(wg_positions_merge(ctx, idx, NULL), WG_OK);
    assert_int_equal(tu_q_int(ctx, "SELECT count(*) FROM worker_positions"), 5);
    wg_posindex_free(idx);
    tu_close_store(ctx, path);
}

static void merge_stats(wg_ctx *ctx, wg_posindex *idx, size_t want_moved, uint64_t want_merges,
                        uint64_t want_presorted)
{
    size_t moved = 0;
    assert_int_equal(wg_positions_merge(ctx, idx, &moved), WG_OK);
    assert_int_equal(moved, want_moved);
    wg_posindex_stats st;
    wg_posindex_get_stats(idx, &st);
    assert_int_equal(st.merges, want_merges);
    assert_int_equal(st.presorted_merges, want_presorted);
    assert_int_equal(tu_q_int(ctx, "SELECT count(*) FROM position_inbox"), 0);
}

/* A merge moves the index's own copy of the inbox, sorted in memory, when the inbox is that
 * copy; when another process wrote to the inbox or merged it since, SQLite reads and sorts the
 * inbox instead, and nothing is lost. */
static void test_merge_from_copy(void **state)
{
    (void)state;
    char *path;
    wg_posindex *idx;
    wg_ctx *ctx = store_with_officer_a(&path, &idx);
    wg_worker_reg rb = {"B", "B", NULL, NULL, WG_WORKER_OFFICER, 1};
    assert_int_equal(wg_worker_register(ctx, idx, &rb, NULL), WG_OK);
    wg_track_policy pol = {T0, 0, 0};
    merge_stats(ctx, idx, 0, 1, 0); /* no copy yet: it starts here */
    /* a rolled-back batch leaves nothing in the copy */
    const wg_fix f[] = {{"B", 114.11, 22.11, T0 - 1000, 5},   {"A", 114.12, 22.12, T0 - 3000, NAN},
                        {"B", 114.13, 22.13, T0 - 3000, NAN}, {"A", 114.14, 22.14, T0 - 1000, 7},
                        {"A", 114.15, 22.15, T0 - 2000, NAN}, {"B", 114.99, 22.99, T0 - 2000, NAN}};
    assert_int_equal(wg_exec(ctx, "CREATE TEMP TRIGGER boom BEFORE INSERT ON main.position_inbox"
                                  " WHEN NEW.lon > 114.9 BEGIN SELECT RAISE(ABORT, 'boom'); END"),
                     WG_OK);
    assert_int_not_equal(wg_positions_add(ctx, idx, f, 6, &pol, NULL, NULL), WG_OK);
    assert_int_equal(wg_exec(ctx, "DROP TRIGGER temp.boom"), WG_OK);
    wg_fix_counts cnt;
    assert_int_equal(wg_positions_add(ctx, idx, f, 5, &pol, NULL, &cnt), WG_OK);
    assert_int_equal(cnt.current + cnt.track, 5);
    merge_stats(ctx, idx, 5, 2, 1);
    /* every column of every fix, in order, and each worker's newest */
    char buf[512];
    const char *track = tu_q_text(ctx, "SELECT group_concat(worker_id || ':' || (at_ms - " "1767225600000"
                                 ") || ':' || lon || ':' || lat || ':' || ifnull(accuracy_m, '-') || ':' ||"
                                 " (received_ms - 1767225600000), ' ') FROM"
                                 " (SELECT * FROM worker_positions ORDER BY worker_id, at_ms)", buf, sizeof buf);
    assert_string_equal(track, "A:-3000:114.12:22.12:-:0 A:-2000:114.15:22.15:-:0 A:-1000:114.14:22.14:7.0:0"
                               " B:-3000:114.13:22.13:-:0 B:-1000:114.11:22.11:5.0:0");
    const char *pos = tu_q_text(ctx, "SELECT group_concat(id || ':' || lon || ':' || (seen_ms - 1767225600000), ' ')"
                               " FROM (SELECT * FROM workers ORDER BY id)", buf, sizeof buf);
    assert_string_equal(pos, "A:114.14:-1000 B:114.11:-1000");

    /* another process (its own index) adds to the inbox: SQLite moves both */
    wg_ctx *other = wg_ctx_new();
    assert_int_equal(wg_store_open(other, path, 0), WG_OK);
    wg_posindex *idx2 = wg_posindex_new(0);
    const wg_fix a1 = {"A", 114.2, 22.2, T0 - 500, NAN}, b1 = {"B", 114.3, 22.3, T0 - 400, NAN};
    assert_int_equal(wg_positions_add(ctx, idx, &a1, 1, &pol, NULL, NULL), WG_OK);
    assert_int_equal(wg_positions_add(other, idx2, &b1, 1, &pol, NULL, NULL), WG_OK);
    merge_stats(ctx, idx, 2, 3, 1);
    /* another process merged the inbox, and then added as many fixes as the copy holds: the
     * count of merges tells */
    const wg_fix a2 = {"A", 114.4, 22.4, T0 - 300, NAN}, b2 = {"B", 114.5, 22.5, T0 - 200, NAN};
    assert_int_equal(wg_positions_add(ctx, idx, &a2, 1, &pol, NULL, NULL), WG_OK);
    assert_int_equal(wg_positions_merge(other, NULL, NULL), WG_OK);
    assert_int_equal(wg_positions_add(other, idx2, &b2, 1, &pol, NULL, NULL), WG_OK);
    merge_stats(ctx, idx, 1, 4, 1);
    /* and then the copy is used again */
    const wg_fix a3 = {"A", 114.6, 22.6, T0 - 100, NAN};
    assert_int_equal(wg_positions_add(ctx, idx, &a3, 1, &pol, NULL, NULL), WG_OK);
    merge_stats(ctx, idx, 1, 5, 2);
    assert_int_equal(tu_q_int(ctx, "SELECT count(*) FROM worker_positions"), 10);
    pos = tu_q_text(ctx, "SELECT group_concat(id || ':' || lon || ':' || (seen_ms - 1767225600000), ' ')"
                         " FROM (SELECT * FROM workers ORDER BY id)", buf, sizeof buf);
    assert_string_equal(pos, "A:114.6:-100 B:114.5:-200");
    assert_int_equal(tu_q_int(ctx, "SELECT value FROM wg_meta WHERE key = 'position_merges'"), 5);
    wg_posindex_free(idx2);
    wg_ctx_free(other);
    wg_posindex_free(idx);
    tu_close_store(ctx, path);
}

/* The position writer: threads posting through it (each its own workers, fixes in and out of
 * order, repeats) get the outcomes their streams get when stored one batch after another
 * without it, while it merges every 20 ms; freeing it merges the rest. */
enum { PW_THREADS = 4, PW_WORKERS = 5, PW_BATCHES = 120, PW_MAX = 30 };

typedef struct pw_stream {
    wg_poswriter *pw;
    int t;
    char ids[PW_WORKERS][8];
    wg_fix f[PW_BATCHES][PW_MAX];
    size_t n[PW_BATCHES];
    wg_fix_result res[PW_BATCHES][PW_MAX];
    int rc;
} pw_stream;

static void *pw_post(void *arg)
{
    pw_stream *st = arg;
    wg_ctx *ctx = wg_ctx_new();
    wg_track_policy pol = {T0, 0, 0};
    for (int b = 0; b < PW_BATCHES && st->rc == WG_OK; b++)
        st->rc = wg_poswriter_add(st->pw, ctx, st->f[b], st->n[b], &pol, st->res[b], NULL);
    wg_ctx_free(ctx);
    return NULL;
}

static void test_poswriter_threads(void **state)
{
    (void)state;
    char *pa, *pb;
    wg_ctx *a = tu_open_store(&pa), *b = tu_open_store(&pb);
    wg_posindex *idx = wg_posindex_new(0);
    static pw_stream st[PW_THREADS];
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int t = 0; t < PW_THREADS; t++) {
        st[t].t = t;
        st[t].rc = WG_OK;
        for (int w = 0; w < PW_WORKERS; w++) {
            snprintf(st[t].ids[w], sizeof st[t].ids[w], "P%d%d", t, w);
            wg_worker_reg r = {st[t].ids[w], st[t].ids[w], NULL, NULL, WG_WORKER_OFFICER, 1};
            assert_int_equal(wg_worker_register(a, idx, &r, NULL), WG_OK);
            assert_int_equal(wg_worker_register(b, NULL, &r, NULL), WG_OK);
        }
        for (int k = 0; k < PW_BATCHES; k++) {
            st[t].n[k] = 1 + (x = x * 6364136223846793005ull + 1442695040888963407ull) % PW_MAX;
            for (size_t i = 0; i < st[t].n[k]; i++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                st[t].f[k][i] = (wg_fix){st[t].ids[(x >> 33) % PW_WORKERS], 114 + (double)((x >> 20) % 1000) / 2000,
                                         22.5, T0 - (int64_t)((x >> 40) % 300) * 1000, NAN};
            }
        }
    }
    wg_poswriter_opts po = {20, 64, 0};
    wg_poswriter *pw = wg_poswriter_new(a, pa, idx, &po);
    assert_non_null(pw);
    pthread_t th[PW_THREADS];
    for (int t = 0; t < PW_THREADS; t++) {
        st[t].pw = pw;
        assert_int_equal(pthread_create(&th[t], NULL, pw_post, &st[t]), 0);
    }
    for (int t = 0; t < PW_THREADS; t++) pthread_join(th[t], NULL);
    wg_poswriter_drain(pw); /* the counts are complete once every batch is reported */
    wg_poswriter_stats ps;
    wg_poswriter_get_stats(pw, &ps);
    assert_int_equal(wg_poswriter_free(pw, a), WG_OK);
    assert_int_equal(ps.batches, PW_THREADS * PW_BATCHES);
    assert_true(ps.transactions >= 1 && ps.transactions <= ps.batches && ps.merges >= 1);
    size_t kinds[4] = {0};
    wg_track_policy pol = {T0, 0, 0};
    for (int t = 0; t < PW_THREADS; t++) {
        assert_int_equal(st[t].rc, WG_OK);
        for (int k = 0; k < PW_BATCHES; k++) {
            wg_fix_result want[PW_MAX];
            assert_int_equal(wg_positions_add(b, NULL, st[t].f[k], st[t].n[k], &pol, want, NULL), WG_OK);
            for (size_t i = 0; i < st[t].n[k]; i++) {
                if (want[i].outcome != st[t].res[k][i].outcome)
                    fail_msg("thread %d batch %d fix %zu: %s through the writer, %s alone", t, k, i,
                             wg_fix_outcome_name(st[t].res[k][i].outcome), wg_fix_outcome_name(want[i].outcome));
                kinds[want[i].outcome]++;
            }
        }
    }
    assert_true(kinds[WG_FIX_CURRENT] && kinds[WG_FIX_TRACK] && kinds[WG_FIX_DUPLICATE]);
    assert_int_equal(tu_q_int(a, "SELECT count(*) FROM position_inbox"), 0);
    const char *sql[] = {"SELECT count(*) FROM worker_positions",
                         "SELECT sum(at_ms % 100003 * length(worker_id)) FROM worker_positions",
                         "SELECT sum(seen_ms % 100003) FROM workers",
                         "SELECT sum(CAST(lon * 1e6 AS INTEGER) % 100003) FROM workers"};
    for (size_t i = 0; i < 4; i++) assert_int_equal(tu_q_int(a, sql[i]), tu_q_int(b, sql[i]));
    print_message("writer: %llu batches in %llu transactions, %llu merges; outcomes current %zu, out of order %zu, duplicate %zu\n",
                  (unsigned long long)ps.batches, (unsigned long long)ps.transactions,
                  (unsigned long long)ps.merges, kinds[0], kinds[1], kinds[2]);
    wg_posindex_free(idx);
    tu_close_store(a, pa);
    tu_close_store(b, pb);
}

/* The inbox changes where fixes wait, not what is decided: random batches (several workers,
 * fixes in and out of order, repeats within and across batches, an unknown worker) give the
 * same outcomes, track and positions when added with an index and merged at random moments as
 * when added without one (which merges every time). */
static void test_inbox_same_outcomes(void **state)
{
    (void)state;
    char *pa, *pb;
    wg_ctx *a = tu_open_store(&pa), *b = tu_open_store(&pb);
    wg_posindex *idx = wg_posindex_new(0);
    char ids[12][8];
    for (int i = 0; i < 12; i++) {
        snprintf(ids[i], sizeof ids[i], "G%02d", i);
        wg_worker_reg r = {ids[i], ids[i], NULL, NULL, WG_WORKER_OFFICER, 1};
        assert_int_equal(wg_worker_register(a, idx, &r, NULL), WG_OK);
        assert_int_equal(wg_worker_register(b, NULL, &r, NULL), WG_OK);
    }
    wg_track_policy pol = {T0, 0, 0};
    size_t merges = 0, checked = 0, kinds[4] = {0};
    for (int batch = 0; batch < 300; batch++) {
        if (batch == 150) { /* a server restart: merge, then a new index learns from the track */
            assert_int_equal(wg_positions_merge(a, NULL, NULL), WG_OK);
            wg_posindex_free(idx);
            idx = wg_posindex_new(0);
            assert_int_equal(wg_posindex_sync(idx, a, NULL), WG_OK);
        } else if (batch % 25 == 3) { /* the index learns what the track holds */
            assert_int_equal(wg_posindex_sync(idx, a, NULL), WG_OK);
        }
        wg_fix f[40];
        size_t n = 1 + rnd() % 40;
        for (size_t i = 0; i < n; i++) {
            int w = (int)(rnd() % 13); /* 12: nobody */
            f[i] = (wg_fix){w < 12 ? ids[w] : "nobody", 114 + urand() * 0.5, 22 + urand() * 0.5,
                            T0 - (int64_t)(rnd() % 400) * 1000, NAN};
        }
        wg_fix_result ra[40], rb[40];
        assert_int_equal(wg_positions_add(a, idx, f, n, &pol, ra, NULL), WG_OK);
        assert_int_equal(wg_positions_add(b, NULL, f, n, &pol, rb, NULL), WG_OK);
        for (size_t i = 0; i < n; i++, checked++) {
            if (ra[i].outcome != rb[i].outcome)
                fail_msg("batch %d fix %zu: %s with the inbox, %s without", batch, i,
                         wg_fix_outcome_name(ra[i].outcome), wg_fix_outcome_name(rb[i].outcome));
            kinds[ra[i].outcome]++;
        }
        if (rnd() % 7 == 0) { /* the server's merge (the index forgets its inbox keys) or
                                 * another process's (it keeps them: they are in the track) */
            assert_int_equal(wg_positions_merge(a, rnd() % 2 ? idx : NULL, NULL), WG_OK);
            merges++;
        }
        if (batch % 50 == 49) /* what readers see agrees before any merge too */
            for (int w = 0; w < 12; w++) {
                wg_worker wa, wb, wi;
                assert_int_equal(wg_worker_get(a, ids[w], &wa), WG_OK);
                assert_int_equal(wg_worker_get(b, ids[w], &wb), WG_OK);
                assert_int_equal(wg_posindex_get(idx, ids[w], &wi), WG_OK);
                assert_true(wa.seen_ms == wb.seen_ms && wa.lon == wb.lon && wa.lat == wb.lat);
                assert_true(wi.seen_ms == wb.seen_ms && wi.lon == wb.lon && wi.lat == wb.lat);
                wg_track_point *ta, *tb;
                size_t na, nb;
                assert_int_equal(wg_track_get(a, ids[w], 0, T0, 0, &ta, &na, NULL), WG_OK);
                assert_int_equal(wg_track_get(b, ids[w], 0, T0, 0, &tb, &nb, NULL), WG_OK);
                assert_int_equal(na, nb);
                for (size_t k = 0; k < na; k++)
                    assert_true(ta[k].at_ms == tb[k].at_ms && ta[k].lon == tb[k].lon);
                free(ta), free(tb);
            }
    }
    /* every kind of outcome came up, and the merged stores are the same row for row */
    assert_true(kinds[WG_FIX_CURRENT] && kinds[WG_FIX_TRACK] && kinds[WG_FIX_DUPLICATE] &&
                kinds[WG_FIX_REJECTED] && merges > 10);
    /* the index's merges (since the restart) moved its sorted copy of the inbox, except
     * after another process's merge */
    wg_posindex_stats ist;
    wg_posindex_get_stats(idx, &ist);
    assert_true(ist.presorted_merges > 0 && ist.presorted_merges < ist.merges);
    assert_int_equal(wg_positions_merge(a, NULL, NULL), WG_OK);
    const char *sql[] = {"SELECT count(*) FROM worker_positions",
                         "SELECT sum(at_ms % 100003 * length(worker_id)) FROM worker_positions",
                         "SELECT sum(seen_ms % 100003) FROM workers",
                         "SELECT sum(CAST(lon * 1e6 AS INTEGER) % 100003) FROM workers",
                         "SELECT sum(CAST((lon + lat) * 1e6 AS INTEGER) % 100003 * (at_ms % 1000003))"
                         " FROM worker_positions"};
    for (size_t i = 0; i < 5; i++) assert_int_equal(tu_q_int(a, sql[i]), tu_q_int(b, sql[i]));
    assert_int_equal(tu_q_int(a, "SELECT count(*) FROM position_inbox"), 0);
    print_message("inbox: %zu fixes, %zu merges (of the last index's %llu, %llu from its copy), outcomes current %zu,"
                  " out of order %zu, duplicate %zu, rejected %zu\n",
                  checked, merges, (unsigned long long)ist.merges, (unsigned long long)ist.presorted_merges,
                  kinds[0], kinds[1], kinds[2], kinds[3]);
    wg_posindex_free(idx);
    tu_close_store(a, pa);
    tu_close_store(b, pb);
}

/* ---------------------------------------------------------------- a model and the brute force */

typedef struct mworker {
    char id[24], grid[20], comm[16];
    int role, duty, active, has_pos;
    double lon, lat;
    int64_t seen;
} mworker;

typedef struct mquery {
    wg_near_query q;
    char grid[20], comm[16];
    char ids[10][24];
    double dist[10];
    size_t n;
    uint64_t u0, u1;
} mquery;

static void to_worker(const mworker *m, wg_worker *w)
{
    memset(w, 0, sizeof *w);
    snprintf(w->id, sizeof w->id, "%.64s", m->id);
    snprintf(w->name, sizeof w->name, "name %.64s", m->id);
    snprintf(w->home_grid, sizeof w->home_grid, "%s", m->grid);
    w->role = (wg_worker_role)m->role;
    w->on_duty = m->duty;
    w->active = m->active;
    w->has_position = m->has_pos;
    w->lon = m->lon;
    w->lat = m->lat;
    w->seen_ms = m->seen;
}

typedef struct bf_hit {
    double d;
    const char *id;
} bf_hit;

static int bf_cmp(const void *a, const void *b)
{
    const bf_hit *x = a, *y = b;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* The brute force: every worker, the filters, geod_inverse, sorted by (distance, id). */
static size_t brute(const mworker *ws, size_t nw, const wg_near_query *q, bf_hit *out)
{
    bf_hit *all = malloc(nw * sizeof *all);
    size_t m = 0;
    int64_t min_seen = q->now_ms - q->seen_within_ms;
    for (size_t i = 0; i < nw; i++) {
        const mworker *w = &ws[i];
        if (!w->active || !w->has_pos) continue;
        if (q->duty == WG_DUTY_ON && !w->duty) continue;
        if (q->duty == WG_DUTY_OFF && w->duty) continue;
        if (q->roles && !(q->roles & (unsigned)w->role)) continue;
        if (q->grid && strcmp(q->grid, w->grid) != 0) continue;
        if (q->community && strcmp(q->community, w->comm) != 0) continue;
        if (q->seen_within_ms > 0 && (w->seen == 0 || w->seen < min_seen)) continue;
        all[m].d = geod_m(q->lon, q->lat, w->lon, w->lat);
        all[m].id = w->id;
        m++;
    }
    qsort(all, m, sizeof *all, bf_cmp);
    size_t n = m < (size_t)q->k ? m : (size_t)q->k;
    memcpy(out, all, n * sizeof *out);
    free(all);
    return n;
}

/* 1 when the index's answer is the brute force's on ws (message into why otherwise). */
static int same_answer(const mworker *ws, size_t nw, const mquery *mq, char *why, size_t len)
{
    bf_hit want[16];
    size_t n = brute(ws, nw, &mq->q, want);
    if (n != mq->n) {
        snprintf(why, len, "%zu answers, brute force %zu", mq->n, n);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(want[i].id, mq->ids[i]) != 0 || fabs(want[i].d - mq->dist[i]) > 1e-6) {
            snprintf(why, len, "answer %zu: %s at %.9f m, brute force %s at %.9f m", i, mq->ids[i],
                     mq->dist[i], want[i].id, want[i].d);
            return 0;
        }
    }
    return 1;
}

static const char *grid_code(int c, int g, char *out, size_t len)
{
    snprintf(out, len, "440307006%03d%03d", c, g);
    return out;
}

static void random_worker(mworker *w, int i, double lon0, double lat0, double span)
{
    memset(w, 0, sizeof *w);
    snprintf(w->id, sizeof w->id, "W%05d", i);
    int c = 1 + (int)(rnd() % 6), g = 1 + (int)(rnd() % 5);
    if (rnd() % 10) {
        grid_code(c, g, w->grid, sizeof w->grid);
        snprintf(w->comm, sizeof w->comm, "%.12s", w->grid);
    }
    w->role = rnd() % 4 ? WG_WORKER_GRID_WORKER : WG_WORKER_OFFICER;
    w->duty = rnd() % 3 != 0;
    w->active = rnd() % 20 != 0;
    w->has_pos = rnd() % 25 != 0;
    w->lon = lon0 + span * urand();
    w->lat = lat0 + span * 0.7 * urand();
    w->seen = rnd() % 8 ? T0 - (int64_t)(rnd() % (30 * MIN_MS)) : 0;
}

static void random_query(mquery *mq, double lon0, double lat0, double span)
{
    memset(mq, 0, sizeof *mq);
    wg_near_query *q = &mq->q;
    q->lon = lon0 - 0.1 * span + 1.2 * span * urand();
    q->lat = lat0 - 0.1 * span + 0.9 * span * urand();
    static const int KS[] = {1, 1, 1, 2, 3, 5, 10};
    q->k = KS[rnd() % 7];
    q->duty = (int)(rnd() % 3);
    q->now_ms = T0;
    if (rnd() % 3 == 0) q->seen_within_ms = (int64_t)(1 + rnd() % 20) * MIN_MS;
    if (rnd() % 4 == 0) q->roles = 1 + (unsigned)(rnd() % 3);
    int f = (int)(rnd() % 8);
    if (f == 0)
        q->grid = grid_code(1 + (int)(rnd() % 6), 1 + (int)(rnd() % 5), mq->grid, sizeof mq->grid);
    if (f == 1) {
        snprintf(mq->comm, sizeof mq->comm, "440307006%03d",
                 1 + (int)(rnd() % 7)); /* 7: nobody's */
        q->community = mq->comm;
    }
}

/* Runs a query on idx into mq. */
static void ask(wg_posindex *idx, mquery *mq)
{
    wg_near out[10];
    size_t n;
    assert_int_equal(wg_posindex_nearest(idx, &mq->q, out, &n), WG_OK);
    mq->n = n;
    for (size_t i = 0; i < n; i++) {
        snprintf(mq->ids[i], sizeof mq->ids[i], "%s", out[i].id);
        mq->dist[i] = out[i].dist_m;
        if (i && (out[i].dist_m < out[i - 1].dist_m)) fail_msg("answers out of order");
    }
}

static wg_posindex *index_of(const mworker *ws, size_t n, double cell_deg)
{
    wg_posindex *idx = wg_posindex_new(cell_deg);
    assert_non_null(idx);
    for (size_t i = 0; i < n; i++) {
        wg_worker w;
        to_worker(&ws[i], &w);
        assert_int_equal(wg_posindex_put(idx, &w), WG_OK);
    }
    return idx;
}

static void check_queries(wg_posindex *idx, const mworker *ws, size_t nw, int nq, double lon0,
                          double lat0, double span)
{
    char why[256];
    for (int i = 0; i < nq; i++) {
        mquery mq;
        random_query(&mq, lon0, lat0, span);
        ask(idx, &mq);
        if (!same_answer(ws, nw, &mq, why, sizeof why))
            fail_msg(
                "query %d (%.7f, %.7f, k %d, duty %d, roles %u, seen %lld, grid %s, comm %s): %s",
                i, mq.q.lon, mq.q.lat, mq.q.k, mq.q.duty, mq.q.roles,
                (long long)mq.q.seen_within_ms, mq.q.grid ? mq.q.grid : "-",
                mq.q.community ? mq.q.community : "-", why);
    }
}

static void test_nearest_brute_force(void **state)
{
    (void)state;
    enum { NW = 1600 };
    mworker *ws = calloc(NW + 16, sizeof *ws);
    size_t nw = NW;
    for (int i = 0; i < NW; i++)
        random_worker(&ws[i], i, 114.30, 22.50, 0.3);
    /* ties: three workers at one point, and a pair mirrored across a meridian */
    for (int i = 0; i < 3; i++) {
        mworker *w = &ws[nw++];
        random_worker(w, 0, 114.3, 22.5, 0.3);
        snprintf(w->id, sizeof w->id, "T%c", "bca"[i]);
        w->lon = 114.4123456, w->lat = 22.6123456, w->duty = 1, w->active = 1, w->has_pos = 1,
        w->seen = T0;
    }
    for (int i = 0; i < 2; i++) {
        mworker *w = &ws[nw++];
        random_worker(w, 0, 114.3, 22.5, 0.3);
        snprintf(w->id, sizeof w->id, "M%c", "zy"[i]);
        w->lon = i ? 114.4877 : 114.5123, w->lat = 22.55, w->duty = 1, w->active = 1,
        w->has_pos = 1, w->seen = T0;
        snprintf(w->grid, sizeof w->grid, "440307006009009");
        snprintf(w->comm, sizeof w->comm, "440307006009");
    }
    wg_posindex *idx = index_of(ws, nw, 0);
    check_queries(idx, ws, nw, 4000, 114.30, 22.50, 0.3);
    /* the ties come back by id */
    mquery mq = {0};
    mq.q = (wg_near_query){114.4123456, 22.6123456, 3, WG_DUTY_ANY, 0, T0, 0, NULL, NULL};
    ask(idx, &mq);
    assert_int_equal(mq.n, 3);
    assert_string_equal(mq.ids[0], "Ta");
    assert_string_equal(mq.ids[1], "Tb");
    assert_string_equal(mq.ids[2], "Tc");
    assert_true(mq.dist[0] == 0 && mq.dist[2] == 0);
    char why[256];
    mq.q = (wg_near_query){114.5, 22.55, 2, WG_DUTY_ON, 0, T0, 0, "440307006009009", NULL};
    ask(idx, &mq);
    if (!same_answer(ws, nw, &mq, why, sizeof why)) fail_msg("mirrored pair: %s", why);
    assert_int_equal(mq.n, 2);
    assert_string_equal(mq.ids[0], "My"); /* equal distances (geod_inverse is symmetric): by id */
    assert_string_equal(mq.ids[1], "Mz");
    print_message("mirrored pair: %s %.9f, %s %.9f (geod_inverse: %.9f %.9f)\n", mq.ids[0],
                  mq.dist[0], mq.ids[1], mq.dist[1], geod_m(114.5, 22.55, 114.4877, 22.55),
                  geod_m(114.5, 22.55, 114.5123, 22.55));
    /* far queries: the other side of the world, the pole, outside every cell */
    double far[][2] = {{-70.0, -33.4}, {0, 89.999},      {114.45, -89.99},
                       {-180, 0},      {179.9999, 22.6}, {114.3, 22.2}};
    for (size_t i = 0; i < sizeof far / sizeof far[0]; i++) {
        mq = (mquery){0};
        mq.q = (wg_near_query){far[i][0], far[i][1], 2, (int)(i % 3), 0, T0, 0, NULL, NULL};
        ask(idx, &mq);
        if (!same_answer(ws, nw, &mq, why, sizeof why)) fail_msg("far query %zu: %s", i, why);
    }
    /* bad queries */
    wg_near out[2];
    size_t n;
    wg_near_query bad = {114.5, 22.6, 0, 0, 0, 0, 0, NULL, NULL};
    assert_int_equal(wg_posindex_nearest(idx, &bad, out, &n), WG_EINVAL);
    bad.k = 1, bad.lat = 95;
    assert_int_equal(wg_posindex_nearest(idx, &bad, out, &n), WG_EINVAL);
    bad.lat = NAN;
    assert_int_equal(wg_posindex_nearest(idx, &bad, out, &n), WG_EINVAL);
    wg_posindex_free(idx);
    /* small cells (many rings) and big cells (many workers a cell) give the same answers */
    idx = index_of(ws, nw, 0.001);
    check_queries(idx, ws, nw, 500, 114.30, 22.50, 0.3);
    wg_posindex_free(idx);
    idx = index_of(ws, nw, 0.5);
    check_queries(idx, ws, nw, 500, 114.30, 22.50, 0.3);
    wg_posindex_free(idx);
    free(ws);
}

static void test_nearest_antimeridian(void **state)
{
    (void)state;
    /* workers on both sides of 180 degrees and near both poles */
    enum { NW = 400 };
    mworker ws[NW];
    for (int i = 0; i < NW; i++) {
        random_worker(&ws[i], i, 179.8, -0.2, 0.4);
        if (ws[i].lon > 180) ws[i].lon -= 360;
        if (i % 10 == 0) ws[i].lat = 89.5 + 0.5 * urand(), ws[i].lon = -180 + 360 * urand();
        if (i % 10 == 1) ws[i].lat = -89.5 - 0.5 * urand(), ws[i].lon = -180 + 360 * urand();
    }
    for (int cell = 0; cell < 2; cell++) {
        wg_posindex *idx = index_of(ws, NW, cell ? 0.05 : 0.01);
        char why[256];
        for (int i = 0; i < 1500; i++) {
            mquery mq;
            random_query(&mq, 179.8, -0.2, 0.4);
            if (mq.q.lon > 180) mq.q.lon -= 360;
            if (i % 7 == 0) mq.q.lat = 89.9 * (i % 2 ? 1 : -1), mq.q.lon = -180 + 360 * urand();
            if (i % 11 == 0) mq.q.lon = i % 2 ? 180 : -180;
            ask(idx, &mq);
            if (!same_answer(ws, NW, &mq, why, sizeof why))
                fail_msg("query %d (%.7f, %.7f, k %d): %s", i, mq.q.lon, mq.q.lat, mq.q.k, why);
        }
        wg_posindex_free(idx);
    }
}

static void test_nearest_empty_and_updates(void **state)
{
    (void)state;
    wg_posindex *idx = wg_posindex_new(0);
    wg_near out[3];
    size_t n = 9;
    wg_near_query q = {114.5, 22.6, 3, WG_DUTY_ANY, 0, T0, 0, NULL, NULL};
    assert_int_equal(wg_posindex_nearest(idx, &q, out, &n), WG_OK);
    assert_int_equal(n, 0);
    mworker m;
    random_worker(&m, 1, 114.5, 22.6, 0.01);
    m.active = m.has_pos = m.duty = 1;
    wg_worker w;
    to_worker(&m, &w);
    assert_int_equal(wg_posindex_put(idx, &w), WG_OK);
    assert_int_equal(wg_posindex_nearest(idx, &q, out, &n), WG_OK);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].id, "W00001");
    assert_string_equal(out[0].name, "name W00001");
    /* a fix only moves it when newer */
    assert_int_equal(wg_posindex_move(idx, "W00001", 114.6, 22.7, m.seen + 1), 1);
    assert_int_equal(wg_posindex_move(idx, "W00001", 114.0, 22.0, m.seen), 0);
    assert_int_equal(wg_posindex_move(idx, "nobody", 114.0, 22.0, m.seen), WG_ENOTFOUND);
    assert_int_equal(wg_posindex_move(idx, "W00001", 200, 22.0, m.seen + 5), WG_EINVAL);
    assert_int_equal(wg_posindex_nearest(idx, &q, out, &n), WG_OK);
    assert_true(n == 1 && out[0].lon == 114.6);
    assert_int_equal(wg_posindex_set_duty(idx, "W00001", 0), WG_OK);
    q.duty = WG_DUTY_ON;
    assert_int_equal(wg_posindex_nearest(idx, &q, out, &n), WG_OK);
    assert_int_equal(n, 0);
    char id[65];
    assert_int_equal(wg_posindex_nearest_fn(idx, 114.5, 22.6, id, sizeof id), 0);
    assert_int_equal(wg_posindex_set_duty(idx, "W00001", 1), WG_OK);
    assert_int_equal(wg_posindex_nearest_fn(idx, 114.5, 22.6, id, sizeof id), 1);
    assert_string_equal(id, "W00001");
    size_t known, placed;
    wg_posindex_counts(idx, &known, &placed);
    assert_true(known == 1 && placed == 1);
    assert_int_equal(wg_posindex_remove(idx, "W00001"), WG_OK);
    assert_int_equal(wg_posindex_remove(idx, "W00001"), WG_ENOTFOUND);
    wg_posindex_counts(idx, &known, &placed);
    assert_true(known == 0 && placed == 0);
    q.duty = WG_DUTY_ANY;
    assert_int_equal(wg_posindex_nearest(idx, &q, out, &n), WG_OK);
    assert_int_equal(n, 0);
    assert_null(wg_posindex_new(5));
    wg_posindex_free(idx);
}

/* ---------------------------------------------------------------- concurrent updates */

enum { C_NW = 700, C_UPDATES = 30000, C_READERS = 2, C_QUERIES = 3000 };

typedef struct upd {
    int w;
    int kind; /* 0 move (a fix), 1 duty, 2 put (role, grid, activity, anything) */
    mworker after;
} upd;

typedef struct shared {
    wg_posindex *idx;
    const upd *log;
    atomic_ulong applied;
    atomic_int done;
    atomic_ulong queried; /* queries answered so far, all readers */
    mquery *q[C_READERS];
    size_t nq[C_READERS];
    int reader;
} shared;

static void *updater(void *arg)
{
    shared *sh = arg;
    for (size_t i = 0; i < C_UPDATES; i++) {
        const upd *u = &sh->log[i];
        int rc;
        if (u->kind == 0) {
            rc = wg_posindex_move(sh->idx, u->after.id, u->after.lon, u->after.lat, u->after.seen);
            if (rc != 1) fprintf(stderr, "update %zu: move returned %d\n", i, rc);
        } else if (u->kind == 1) {
            rc = wg_posindex_set_duty(sh->idx, u->after.id, u->after.duty);
            if (rc != WG_OK) fprintf(stderr, "update %zu: duty returned %d\n", i, rc);
        } else {
            wg_worker w;
            to_worker(&u->after, &w);
            rc = wg_posindex_put(sh->idx, &w);
            if (rc != WG_OK) fprintf(stderr, "update %zu: put returned %d\n", i, rc);
        }
        atomic_store_explicit(&sh->applied, i + 1, memory_order_release);
        if (i % 64 == 63) { /* let the readers in (two cores for three threads): at least 400
                             * queries spread over the updates, however loaded the machine (for
                             * at most 20 s) */
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            double until = now.tv_sec + now.tv_nsec / 1e9 + 20;
            do
                sched_yield();
            while (atomic_load(&sh->queried) < (i + 1) * 400 / C_UPDATES &&
                   (clock_gettime(CLOCK_MONOTONIC, &now), now.tv_sec + now.tv_nsec / 1e9 < until));
        }
    }
    atomic_store(&sh->done, 1);
    return NULL;
}

typedef struct reader_arg {
    shared *sh;
    int r;
} reader_arg;

static void *reader(void *arg)
{
    reader_arg *ra = arg;
    shared *sh = ra->sh;
    mquery *qs = sh->q[ra->r];
    size_t n = 0; /* the queries were drawn by the main thread (rnd() is not thread-safe) */
    while (n < C_QUERIES && !atomic_load(&sh->done)) {
        mquery *mq = &qs[n];
        mq->u0 = atomic_load_explicit(&sh->applied, memory_order_acquire);
        wg_near out[10];
        size_t got;
        int rc = wg_posindex_nearest(sh->idx, &mq->q, out, &got);
        mq->u1 = atomic_load_explicit(&sh->applied, memory_order_acquire);
        if (rc != WG_OK) got = 0, mq->u0 = UINT64_MAX; /* reported below */
        mq->n = got;
        for (size_t i = 0; i < got; i++) {
            snprintf(mq->ids[i], sizeof mq->ids[i], "%s", out[i].id);
            mq->dist[i] = out[i].dist_m;
        }
        n++;
        atomic_fetch_add(&sh->queried, 1);
    }
    sh->nq[ra->r] = n;
    return NULL;
}

static void apply(mworker *ws, const upd *u)
{
    ws[u->w] = u->after;
}

/* Updates made by the querying thread itself between two cell reads (the test hook): every
 * query is interleaved with updates, whatever the scheduler does. */
typedef struct hook_state {
    wg_posindex *idx;
    const upd *log;
    uint64_t applied, limit;
    int every, calls, budget; /* budget: updates left for the current query */
} hook_state;

static void apply_to_index(wg_posindex *idx, const upd *u)
{
    if (u->kind == 0) {
        assert_int_equal(
            wg_posindex_move(idx, u->after.id, u->after.lon, u->after.lat, u->after.seen), 1);
    } else if (u->kind == 1) {
        assert_int_equal(wg_posindex_set_duty(idx, u->after.id, u->after.duty), WG_OK);
    } else {
        wg_worker w;
        to_worker(&u->after, &w);
        assert_int_equal(wg_posindex_put(idx, &w), WG_OK);
    }
}

static void interleave(void *ud, int locked)
{
    hook_state *h = ud;
    if (locked || h->budget <= 0 || h->applied >= h->limit || ++h->calls % h->every) return;
    h->budget--;
    apply_to_index(h->idx, &h->log[h->applied++]);
}

static void make_log(upd *log, size_t n, mworker *cur)
{
    for (size_t i = 0; i < n; i++) {
        upd *u = &log[i];
        u->w = (int)(rnd() % C_NW);
        u->after = cur[u->w];
        int dice = (int)(rnd() % 20);
        if (dice < 15 && cur[u->w].has_pos) {
            u->kind = 0;
            double step = dice < 12 ? 0.003 : 0.1;
            u->after.lon = fmin(fmax(u->after.lon + step * (urand() - 0.5), 114.2), 114.5);
            u->after.lat = fmin(fmax(u->after.lat + step * (urand() - 0.5), 22.4), 22.7);
            u->after.seen = cur[u->w].seen + 1 + (int64_t)(rnd() % MIN_MS);
        } else if (dice < 18) {
            u->kind = 1;
            u->after.duty = !u->after.duty;
        } else {
            u->kind = 2;
            random_worker(&u->after, u->w, 114.30, 22.50, 0.1);
            u->after.seen = cur[u->w].seen + 1;
        }
        cur[u->w] = u->after;
    }
}

static void test_nearest_interleaved(void **state)
{
    (void)state;
    enum { NQ = 2000, NU = 20000 };
    mworker *ws = calloc(C_NW, sizeof *ws), *cur = calloc(C_NW, sizeof *cur),
            *tmp = calloc(C_NW, sizeof *tmp);
    for (int i = 0; i < C_NW; i++) {
        random_worker(&ws[i], i, 114.30, 22.50, 0.1);
        if (!ws[i].seen) ws[i].seen = T0 - 40 * MIN_MS;
    }
    upd *log = calloc(NU, sizeof *log);
    memcpy(cur, ws, C_NW * sizeof *ws);
    make_log(log, NU, cur);
    wg_posindex *idx = index_of(ws, C_NW, 0.005);
    hook_state h = {idx, log, 0, NU, 3, 0, 0};
    wg_pi_test_hook_ud = &h;
    wg_pi_test_hook = interleave;
    memcpy(cur, ws, C_NW * sizeof *ws);
    uint64_t at = 0;
    size_t spanning = 0, later = 0;
    char why[256], why2[256];
    int nq = 0;
    for (; nq < NQ && h.applied < NU; nq++) {
        int i = nq;
        mquery mq;
        random_query(&mq, 114.30, 22.50, 0.1);
        h.budget = 1 + i % 4;
        mq.u0 = h.applied;
        ask(idx, &mq);
        mq.u1 = h.applied;
        while (at < mq.u0)
            apply(cur, &log[at++]);
        if (mq.u1 > mq.u0) spanning++;
        if (same_answer(cur, C_NW, &mq, why, sizeof why)) continue;
        memcpy(tmp, cur, C_NW * sizeof *tmp);
        int ok = 0;
        for (uint64_t s = mq.u0; s < mq.u1 && !ok; s++) { /* here every update is complete */
            apply(tmp, &log[s]);
            ok = same_answer(tmp, C_NW, &mq, why2, sizeof why2);
        }
        if (!ok)
            fail_msg("query %d at (%.7f, %.7f) k %d across updates %llu..%llu matches no state: %s",
                     i, mq.q.lon, mq.q.lat, mq.q.k, (unsigned long long)mq.u0,
                     (unsigned long long)mq.u1, why);
        later++;
    }
    wg_pi_test_hook = NULL;
    wg_posindex_stats st;
    wg_posindex_get_stats(idx, &st);
    print_message("interleaved: %d queries, %zu of them across updates (%zu answered from a state "
                  "after their start); "
                  "%llu updates; %llu retries, %llu under the lock\n",
                  nq, spanning, later, (unsigned long long)h.applied,
                  (unsigned long long)st.retries, (unsigned long long)st.locked);
    assert_int_equal(nq, NQ);
    assert_true(spanning > NQ / 2);
    assert_true(st.retries > 0);
    free(log);
    free(ws);
    free(cur);
    free(tmp);
    wg_posindex_free(idx);
}

static int by_u0(const void *a, const void *b)
{
    const mquery *x = *(const mquery *const *)a, *y = *(const mquery *const *)b;
    return x->u0 < y->u0 ? -1 : x->u0 > y->u0;
}

static void test_nearest_concurrent(void **state)
{
    (void)state;
    mworker *ws = calloc(C_NW, sizeof *ws), *cur = calloc(C_NW, sizeof *cur),
            *tmp = calloc(C_NW, sizeof *tmp);
    for (int i = 0; i < C_NW; i++) {
        random_worker(&ws[i], i, 114.30, 22.50, 0.1);
        if (!ws[i].seen) ws[i].seen = T0 - 40 * MIN_MS;
    }
    /* the log: mostly fixes (short walks, some jumps across the area), duty toggles, and puts
     * that change anything (role, grid, activity, position) */
    upd *log = calloc(C_UPDATES, sizeof *log);
    memcpy(cur, ws, C_NW * sizeof *ws);
    make_log(log, C_UPDATES, cur);
    wg_posindex *idx = index_of(ws, C_NW, 0.005);
    shared sh = {0};
    sh.idx = idx;
    sh.log = log;
    atomic_init(&sh.applied, 0);
    atomic_init(&sh.done, 0);
    atomic_init(&sh.queried, 0);
    for (int r = 0; r < C_READERS; r++) {
        sh.q[r] = calloc(C_QUERIES, sizeof(mquery));
        for (int i = 0; i < C_QUERIES; i++)
            random_query(&sh.q[r][i], 114.30, 22.50, 0.1);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t up, rd[C_READERS];
    reader_arg ra[C_READERS];
    for (int r = 0; r < C_READERS; r++) {
        ra[r] = (reader_arg){&sh, r};
        assert_int_equal(pthread_create(&rd[r], NULL, reader, &ra[r]), 0);
    }
    assert_int_equal(pthread_create(&up, NULL, updater, &sh), 0);
    pthread_join(up, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (int r = 0; r < C_READERS; r++)
        pthread_join(rd[r], NULL);
    /* the check: replay the log in u0 order */
    size_t total = 0;
    for (int r = 0; r < C_READERS; r++)
        total += sh.nq[r];
    mquery **all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0, overlapped = 0, later_state = 0;
    for (int r = 0; r < C_READERS; r++)
        for (size_t i = 0; i < sh.nq[r]; i++)
            all[k++] = &sh.q[r][i];
    qsort(all, total, sizeof *all, by_u0);
    memcpy(cur, ws, C_NW * sizeof *ws);
    uint64_t at = 0;
    char why[256];
    for (size_t i = 0; i < total; i++) {
        mquery *mq = all[i];
        if (mq->u0 == UINT64_MAX) fail_msg("a query failed");
        while (at < mq->u0)
            apply(cur, &log[at++]);
        if (mq->u1 > mq->u0) overlapped++;
        if (same_answer(cur, C_NW, mq, why, sizeof why)) continue;
        memcpy(tmp, cur, C_NW * sizeof *tmp);
        uint64_t last = mq->u1 + 1 < C_UPDATES ? mq->u1 + 1 : C_UPDATES;
        int ok = 0;
        char why2[256];
        for (uint64_t s = mq->u0; s < last && !ok; s++) {
            apply(tmp, &log[s]);
            ok = same_answer(tmp, C_NW, mq, why2, sizeof why2);
        }
        if (!ok)
            fail_msg("query at (%.7f, %.7f) k %d during updates %llu..%llu matches no state: %s",
                     mq->q.lon, mq->q.lat, mq->q.k, (unsigned long long)mq->u0,
                     (unsigned long long)mq->u1, why);
        later_state++;
    }
    wg_posindex_stats st;
    wg_posindex_get_stats(idx, &st);
    print_message("concurrent: %zu queries by %d readers during %d updates in %.0f ms (%zu queries "
                  "overlapped "
                  "updates, %zu matched a state after u0); %llu retries, %llu under the lock\n",
                  total, C_READERS, C_UPDATES,
                  (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6, overlapped,
                  later_state, (unsigned long long)st.retries, (unsigned long long)st.locked);
    assert_true(total >= 390); /* the updater waits for them; overlap is reported, not required */
    /* and the final state */
    assert_int_equal(at <= C_UPDATES, 1);
    while (at < C_UPDATES)
        apply(cur, &log[at++]);
    check_queries(idx, cur, C_NW, 300, 114.30, 22.50, 0.1);
    for (int r = 0; r < C_READERS; r++)
        free(sh.q[r]);
    free(all);
    free(log);
    free(ws);
    free(cur);
    free(tmp);
    wg_posindex_free(idx);
}

/* ---------------------------------------------------------------- sync and JSON */

static void test_sync_and_json(void **state)
{
    (void)state;
    char *path;
    wg_ctx *ctx = tu_open_store(&path);
    const char *csv = "id,name,phone,role,home_grid,lon,lat,on_duty\n"
                      "W1,\"王\"\"五\",13900000001,grid_worker,440307006001001,114.47,22.63,1\n"
                      "W2,李四,13900000002,grid_worker,440307006001002,114.48,22.64,0\n"
                      "F1,赵六,,officer,,114.46,22.62,1\n"
                      "F2,钱七,,officer,,,,1\n";
    char *f = tu_write_named(".csv", csv);
    wg_import_stats st;
    assert_int_equal(wg_import_workers(ctx, f, NULL, &st), WG_OK);
    tu_remove_temp(f);
    wg_posindex *idx = wg_posindex_new(0);
    size_t changed;
    assert_int_equal(wg_posindex_sync(idx, ctx, &changed), WG_OK);
    assert_int_equal(changed, 4);
    size_t known, placed;
    wg_posindex_counts(idx, &known, &placed);
    assert_true(known == 4 && placed == 3);
    assert_int_equal(wg_posindex_sync(idx, ctx, &changed), WG_OK);
    assert_int_equal(changed, 0);
    /* another context (another process) changes the store: a sync picks it up */
    wg_ctx *other = wg_ctx_new();
    assert_int_equal(wg_store_open(other, path, 0), WG_OK);
    assert_int_equal(wg_worker_set_duty(other, NULL, "W2", 1), WG_OK);
    assert_int_equal(wg_worker_deregister(other, NULL, "F1"), WG_OK);
    wg_track_policy pol = {T0, 0, 0};
    wg_fix fx = {"W1", 114.475, 22.635, T0, NAN};
    assert_int_equal(wg_positions_add(other, NULL, &fx, 1, &pol, NULL, NULL), WG_OK);
    assert_int_equal(tu_q_int(other, "DELETE FROM workers WHERE id = 'F2'"), -1);
    assert_int_equal(wg_posindex_sync(idx, ctx, &changed), WG_OK);
    assert_int_equal(changed, 4);
    wg_posindex_counts(idx, &known, &placed);
    assert_true(known == 3 && placed == 2);
    wg_worker w;
    assert_int_equal(wg_posindex_get(idx, "F2", &w), WG_ENOTFOUND);
    assert_int_equal(wg_posindex_get(idx, "W1", &w), WG_OK);
    assert_true(w.lon == 114.475 && w.seen_ms == T0);
    /* JSON: phones only with WG_NEAR_PERSONAL, names escaped, codes without a lookup */
    wg_near out[3];
    size_t n;
    wg_near_query q = {114.47, 22.63, 3, WG_DUTY_ON, 0, T0, 0, NULL, "440307006001"};
    assert_int_equal(wg_posindex_nearest(idx, &q, out, &n), WG_OK);
    assert_int_equal(n, 2);
    char *text = wg_nearest_json(NULL, NULL, &q, out, n, 0);
    json_object *o = json_tokener_parse(text);
    assert_non_null(o);
    assert_null(strstr(text, "phone"));
    assert_non_null(strstr(text, "\"name\":\"王\\\"五\""));
    assert_non_null(strstr(text, "\"filters\":{\"on_duty\":true,\"seen_within_min\":null,\"role\":"
                                 "null,\"grid\":null,\"community\":\"440307006001\"}"));
    assert_non_null(strstr(text, "\"generation\":null,\"count\":2"));
    assert_non_null(
        strstr(text, "\"home_grid\":{\"code\":\"440307006001001\",\"name\":null},\"community\":{"
                     "\"code\":\"440307006001\",\"name\":null},\"current_grid\":null"));
    assert_non_null(strstr(text, "\"seen_at\":\"2026-01-01T00:00:00.000Z\""));
    json_object_put(o);
    free(text);
    text = wg_nearest_json(NULL, NULL, &q, out, n, WG_NEAR_PERSONAL);
    assert_non_null(strstr(text, "\"phone\":\"13900000001\""));
    free(text);
    assert_int_equal(wg_worker_get(ctx, "W1", &w), WG_OK);
    text = wg_worker_json(&w, 0);
    assert_string_equal(text,
                        "{\"id\":\"W1\",\"name\":\"王\\\"五\",\"role\":\"grid_worker\",\"home_"
                        "grid\":\"440307006001001\","
                        "\"on_duty\":true,\"active\":true,\"lon\":114.475,\"lat\":22.635,"
                        "\"seen_at\":\"2026-01-01T00:00:00.000Z\",\"seen_ms\":1767225600000}");
    free(text);
    char iso[32];
    wg_ms_to_iso(-1, iso);
    assert_string_equal(iso, "1969-12-31T23:59:59.999Z");
    wg_ctx_free(other);
    wg_posindex_free(idx);
    tu_close_store(ctx, path);
}

/* The nearest answer's numbers are printed without printf (wg_nearest_json): they must read as
 * printf's "%.10g" (coordinates) and "%.3f" (metres) would print them, for values of every
 * magnitude and sign, powers of ten and their neighbours, ties in the last digit, and 200,000
 * random ones; and times as gmtime would. */
static void test_json_numbers(void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    size_t checked = 0, differ = 0;
    for (int i = 0; i < 200000 + 400; i++) {
        double lon, dist;
        if (i < 400) { /* edges: 10^e and just below, halves, zero, tiny and huge */
            int e = i / 20 - 10;
            double base = pow(10, e);
            double picks[] = {base, nextafter(base, 0), base * 9.9999999995, base * 0.5, -base, 0.0,
                              1e-5, 123456789.5, 1e9, 180.0, -180.0, 22.0, 114.0, 0.0001,
                              0.00009999, 999999999.4, 5e-324, -0.0, 1.25, 2.675};
            lon = picks[i % 20];
            dist = fabs(picks[(i + 7) % 20]) * 1000;
        } else {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            double u = (double)(seed >> 11) / 9007199254740992.0;
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            double v = (double)(seed >> 11) / 9007199254740992.0;
            lon = (u - 0.5) * 360.0 * pow(10, (int)(v * 12) - 9);
            dist = v * pow(10, (int)(u * 10));
            if (i % 4 == 0) /* GPS-like: 8 decimals then a 5, a tie in the tenth digit */
                lon = round((u - 0.5) * 360 * 1e8) / 1e8 + 5e-9, dist = round(dist * 1e3) / 1e3 + 5e-4;
        }
        wg_near w;
        memset(&w, 0, sizeof w);
        w.id = "N1";
        w.name = "n";
        w.lon = lon;
        w.lat = -lon / 3;
        w.dist_m = dist;
        w.seen_ms = (int64_t)(lon * 1e6) + 1767225600000LL;
        wg_near_query q = {lon, w.lat, 1, WG_DUTY_ANY, 0, 0, 0, NULL, NULL};
        char *text = wg_nearest_json(NULL, NULL, &q, &w, 1, 0);
        assert_non_null(text);
        char want[256];
        snprintf(want, sizeof want, "{\"lon\":%.10g,\"lat\":%.10g,", q.lon, q.lat);
        int ok = strncmp(text, want, strlen(want)) == 0;
        snprintf(want, sizeof want, ",\"lon\":%.10g,\"lat\":%.10g,\"seen_at\":", w.lon, w.lat);
        ok = ok && strstr(text, want);
        char iso[32];
        int64_t sec = w.seen_ms >= 0 ? w.seen_ms / 1000 : -((-w.seen_ms + 999) / 1000);
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(want, sizeof want, "\"seen_at\":\"%s.%03dZ\",\"distance_m\":%.3f,", iso,
                 (int)(w.seen_ms - sec * 1000), w.dist_m);
        ok = ok && strstr(text, want);
        if (!ok && differ++ < 5) fprintf(stderr, "differs from printf: %s\n", text);
        checked++;
        free(text);
    }
    fprintf(stderr, "json numbers: %zu answers checked against printf, %zu differ\n", checked, differ);
    assert_int_equal(differ, 0);
}

int main(void)
{
    geod_init(&G, 6378137, 1 / 298.257223563);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_register),
        cmocka_unit_test(test_fixes),
        cmocka_unit_test(test_inbox_same_outcomes),
        cmocka_unit_test(test_batch_rollback),
        cmocka_unit_test(test_foreign_fixes),
        cmocka_unit_test(test_merge_from_copy),
        cmocka_unit_test(test_poswriter_threads),
        cmocka_unit_test(test_nearest_brute_force),
        cmocka_unit_test(test_nearest_antimeridian),
        cmocka_unit_test(test_nearest_empty_and_updates),
        cmocka_unit_test(test_nearest_concurrent),
        cmocka_unit_test(test_nearest_interleaved),
        cmocka_unit_test(test_sync_and_json),
        cmocka_unit_test(test_json_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
