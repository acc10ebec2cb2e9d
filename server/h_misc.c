/* /health and /metrics (Prometheus text exposition format 0.0.4). */
#include "server.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ROUTE_NAME[RT_COUNT] = {"other", "lookup", "lookup_batch", "tile", "tilejson",
                                                 "features", "health", "metrics", "map", "workers",
                                                 "nearest", "positions", "events", "open311", "plan",
                                                 "keys"};

enum MHD_Result h_health(req *r)
{
    r->snap = state_acquire(r->s, r->ctx);
    if (!r->snap) return reply_error(r, 503, "unavailable", "no active generation");
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string("ok"));
    json_object_object_add(o, "generation", json_object_new_int64(r->snap->gen));
    json_object_object_add(o, "grids", json_object_new_int64((int64_t)wg_lookup_count(r->snap->lk, 3)));
    json_object_object_add(o, "uptime_s", json_object_new_double(srv_now() - r->s->started));
    return reply_json(r, 200, o);
}

enum MHD_Result h_metrics(req *r)
{
    static const char *const BOUNDS[] = {"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
                                         "0.05", "0.25", "1", "+Inf"};
    size_t cap = 64 * 1024, n = 0;
    char *out = malloc(cap);
    if (!out) return reply_error(r, 503, "out_of_memory", "out of memory");
#define EMIT(...) (n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, __VA_ARGS__))
    const metrics *m = &r->s->m;
    EMIT("# HELP wangge_requests_total HTTP requests answered, by route and status class.\n"
         "# TYPE wangge_requests_total counter\n");
    for (int rt = 0; rt < RT_COUNT; rt++)
        for (int c = 1; c <= 5; c++) {
            unsigned long v = atomic_load(&m->requests[rt][c]);
            if (v) EMIT("wangge_requests_total{route=\"%s\",code=\"%dxx\"} %lu\n", ROUTE_NAME[rt], c, v);
        }
    EMIT("# HELP wangge_request_seconds Time from request start to completion.\n"
         "# TYPE wangge_request_seconds histogram\n");
    for (int rt = 0; rt < RT_COUNT; rt++) {
        unsigned long cum = 0;
        for (int b = 0; b <= LAT_BUCKETS; b++) cum += atomic_load(&m->latency[rt][b]);
        if (!cum) continue;
        unsigned long run = 0;
        for (int b = 0; b <= LAT_BUCKETS; b++) {
            run += atomic_load(&m->latency[rt][b]);
            EMIT("wangge_request_seconds_bucket{route=\"%s\",le=\"%s\"} %lu\n", ROUTE_NAME[rt], BOUNDS[b], run);
        }
        EMIT("wangge_request_seconds_sum{route=\"%s\"} %.6f\n", ROUTE_NAME[rt], atomic_load(&m->latency_us_sum[rt]) / 1e6);
        EMIT("wangge_request_seconds_count{route=\"%s\"} %lu\n", ROUTE_NAME[rt], cum);
    }
    EMIT("# HELP wangge_tile_cache_hits_total Tiles served from the cache.\n# TYPE wangge_tile_cache_hits_total counter\n"
         "wangge_tile_cache_hits_total %lu\n", atomic_load(&m->tile_hits));
    EMIT("# HELP wangge_tile_cache_misses_total Tiles rendered.\n# TYPE wangge_tile_cache_misses_total counter\n"
         "wangge_tile_cache_misses_total %lu\n", atomic_load(&m->tile_misses));
    EMIT("# HELP wangge_generation_reloads_total Publishes noticed and loaded.\n# TYPE wangge_generation_reloads_total counter\n"
         "wangge_generation_reloads_total %lu\n", atomic_load(&m->reloads));
    EMIT("# HELP wangge_slow_connections_cut_total Connections cut for not finishing a request within the timeout.\n"
         "# TYPE wangge_slow_connections_cut_total counter\nwangge_slow_connections_cut_total %lu\n", guard_cut(r->s->guard));
    wg_poswriter_stats ps;
    workers_writer_stats(&ps);
    EMIT("# HELP wangge_position_batches_total Batches of GPS fixes stored, the fixes in them, the transactions"
         " that stored them (several batches share one under load), inbox merges and failed merges.\n"
         "# TYPE wangge_position_batches_total counter\nwangge_position_batches_total %llu\n"
         "# TYPE wangge_position_fixes_total counter\nwangge_position_fixes_total %llu\n"
         "# TYPE wangge_position_transactions_total counter\nwangge_position_transactions_total %llu\n"
         "# TYPE wangge_position_merges_total counter\nwangge_position_merges_total %llu\n"
         "# TYPE wangge_position_merge_failures_total counter\nwangge_position_merge_failures_total %llu\n"
         "# TYPE wangge_position_store_seconds_total counter\nwangge_position_store_seconds_total %.3f\n"
         "# TYPE wangge_position_merge_seconds_total counter\nwangge_position_merge_seconds_total %.3f\n",
         (unsigned long long)ps.batches, (unsigned long long)ps.fixes, (unsigned long long)ps.transactions,
         (unsigned long long)ps.merges, (unsigned long long)ps.merge_failures, ps.store_us / 1e6,
         ps.merge_us / 1e6);
    uint64_t presorted = workers_index(r->s) ? wg_posindex_presorted_merges(workers_index(r->s)) : 0;
    EMIT("# HELP wangge_position_merges_presorted_total Inbox merges that moved the position index's own"
         " sorted copy of the inbox (the others had SQLite sort it: another process had written to it).\n"
         "# TYPE wangge_position_merges_presorted_total counter\nwangge_position_merges_presorted_total %llu\n",
         (unsigned long long)presorted);
    struct mallinfo2 mi = mallinfo2();
    EMIT("# HELP wangge_memory_bytes Memory by holder: the heap in use and free (glibc arenas), SQLite's"
         " share of it (page caches, statements), the tile cache's.\n# TYPE wangge_memory_bytes gauge\n"
         "wangge_memory_bytes{what=\"heap_in_use\"} %zu\nwangge_memory_bytes{what=\"heap_free\"} %zu\n"
         "wangge_memory_bytes{what=\"sqlite\"} %lld\nwangge_memory_bytes{what=\"tile_cache\"} %zu\n",
         mi.uordblks + mi.hblkhd, mi.fordblks, wg_store_memory_used(), tiles_bytes(r->s));
    snapshot *snap = state_acquire(r->s, r->ctx);
    if (snap) {
        EMIT("# HELP wangge_active_generation The generation answering requests.\n# TYPE wangge_active_generation gauge\n"
             "wangge_active_generation %lld\n", (long long)snap->gen);
        state_release(snap);
    }
#undef EMIT
    if (n >= cap) n = cap - 1;
    return reply(r, 200, "text/plain; version=0.0.4", out, n, MHD_RESPMEM_MUST_FREE, NULL);
}
