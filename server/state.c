/* Shared read state: the active generation's snapshot, swapped when a publish is noticed, and
 * one library context (GEOS, PROJ, read-only SQLite connection) per server thread.
 *
 * A publish by any process (this server or `wangge publish`) commits to the store's WAL, so
 * a request compares the WAL file's size and change time with what its thread saw last (at
 * most once a millisecond per thread, and at once after a write made through this server);
 * only when they differ does it ask SQLite for the active generation. A new generation is
 * loaded by the first thread that notices, while the others wait on reload_mu, so no request
 * that starts after the publish is noticed is answered from the old generation. */
#include "server.h"
#include "wangge/store.h"
#include "wangge/tiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct thread_state {
    wg_ctx *ctx;
    wg_ctx *wctx; /* writable, opened on first use */
    struct timespec seen_mtime;
    off_t seen_size;
    int seen;
    double checked_at;   /* srv_now() of the last look at the WAL file */
    uint64_t seen_epoch; /* server epoch at that look */
} thread_state;

/* How often a thread looks at the WAL file (seconds): a publish by another process is seen
 * within this long; one stat() per request would cost a third of the request's system calls. */
#define WAL_CHECK_INTERVAL 0.001

/* Page cache of each thread's writable connection: every commit by another thread's connection
 * empties it, so SQLite's default size is all it can use; 64 MiB a thread (the library's
 * default for writers) made resident memory climb for the first half minute of a soak. */
#define WRITER_CACHE_KIB 2048

static void thread_state_free(void *p)
{
    thread_state *t = p;
    if (t) {
        wg_ctx_free(t->ctx);
        wg_ctx_free(t->wctx);
    }
    free(t);
}

double srv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static thread_state *thread_get(server *s)
{
    thread_state *t = pthread_getspecific(s->thread_key);
    if (t) return t;
    t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->ctx = wg_ctx_new();
    if (!t->ctx || wg_store_open(t->ctx, s->cfg.store, WG_STORE_READONLY) != WG_OK) {
        if (t->ctx) fprintf(stderr, "wangge-server: %s\n", wg_errmsg(t->ctx));
        thread_state_free(t);
        return NULL;
    }
    pthread_setspecific(s->thread_key, t);
    return t;
}

wg_ctx *state_thread_ctx(server *s)
{
    thread_state *t = thread_get(s);
    return t ? t->ctx : NULL;
}

wg_ctx *state_thread_wctx(server *s)
{
    thread_state *t = thread_get(s);
    if (!t) return NULL;
    if (!t->wctx) {
        wg_ctx *w = wg_ctx_new();
        if (!w || wg_store_open(w, s->cfg.store, 0) != WG_OK ||
            wg_store_set_cache(w, WRITER_CACHE_KIB) != WG_OK) {
            if (w) fprintf(stderr, "wangge-server: cannot open %s for writing: %s\n", s->cfg.store, wg_errmsg(w));
            wg_ctx_free(w);
            return NULL;
        }
        t->wctx = w;
    }
    return t->wctx;
}

static snapshot *snapshot_load(wg_ctx *ctx, int64_t gen, int *rc)
{
    snapshot *snap = calloc(1, sizeof *snap);
    if (!snap) {
        *rc = WG_ENOMEM;
        return NULL;
    }
    *rc = wg_lookup_load(ctx, gen, &snap->lk);
    if (*rc != WG_OK) {
        free(snap);
        return NULL;
    }
    snap->gen = wg_lookup_generation(snap->lk);
    atomic_init(&snap->refs, 1);
    pthread_mutex_init(&snap->ts_mu, NULL);
    return snap;
}

void state_release(snapshot *snap)
{
    if (!snap || atomic_fetch_sub(&snap->refs, 1) != 1) return;
    wg_lookup_free(snap->lk);
    if (snap->ts) wg_tileset_free(snap->ts);
    pthread_mutex_destroy(&snap->ts_mu);
    free(snap);
}

static snapshot *hold(server *s, snapshot **slot)
{
    pthread_mutex_lock(&s->mu);
    snapshot *snap = *slot;
    if (snap) atomic_fetch_add(&snap->refs, 1);
    pthread_mutex_unlock(&s->mu);
    return snap;
}

/* Loads generation gen as the active snapshot unless it already is. */
static void reload(server *s, wg_ctx *ctx, int64_t gen)
{
    pthread_mutex_lock(&s->reload_mu);
    snapshot *cur = hold(s, &s->cur);
    int current = cur && cur->gen == gen;
    state_release(cur);
    if (!current) {
        int rc;
        snapshot *fresh = snapshot_load(ctx, gen, &rc);
        if (fresh) {
            pthread_mutex_lock(&s->mu);
            snapshot *old = s->cur;
            s->cur = fresh;
            pthread_mutex_unlock(&s->mu);
            state_release(old);
            atomic_fetch_add(&s->m.reloads, 1);
            /* a duty change committed while it loaded is seen now (later ones reach it through
             * state_set_duty) */
            wg_lookup_refresh_duty(fresh->lk, ctx);
        } else {
            fprintf(stderr, "wangge-server: cannot load generation %lld: %s\n", (long long)gen, wg_errmsg(ctx));
        }
    }
    pthread_mutex_unlock(&s->reload_mu);
}

void state_changed(server *s)
{
    atomic_fetch_add(&s->epoch, 1);
}

snapshot *state_acquire(server *s, wg_ctx *ctx)
{
    thread_state *t = pthread_getspecific(s->thread_key);
    int told = 0; /* a write through this server asked every thread to look (state_changed): the
                   * WAL's size and time may not show it (a reused WAL, a coarse clock tick) */
    if (t && t->seen) {
        double now = srv_now();
        uint64_t epoch = atomic_load(&s->epoch);
        if (now - t->checked_at < WAL_CHECK_INTERVAL && epoch == t->seen_epoch) return hold(s, &s->cur);
        told = epoch != t->seen_epoch;
        t->checked_at = now;
        t->seen_epoch = epoch;
    }
    struct stat st;
    int have = stat(s->wal_path, &st) == 0;
    if (t && (!t->seen || told ||
              (have && (st.st_size != t->seen_size || st.st_mtim.tv_sec != t->seen_mtime.tv_sec ||
                        st.st_mtim.tv_nsec != t->seen_mtime.tv_nsec)))) {
        t->seen = 1;
        if (have) {
            t->seen_size = st.st_size;
            t->seen_mtime = st.st_mtim;
        }
        int64_t active;
        if (wg_gen_active(ctx, &active) == WG_OK) {
            snapshot *cur = hold(s, &s->cur);
            int stale = !cur || cur->gen != active;
            state_release(cur);
            if (stale) reload(s, ctx, active);
        }
    }
    return hold(s, &s->cur);
}

snapshot *state_acquire_gen(server *s, wg_ctx *ctx, int64_t gen, int *rc)
{
    snapshot *cur = state_acquire(s, ctx);
    if (cur && cur->gen == gen) return cur;
    state_release(cur);
    /* a draft changes under its id: its snapshot is kept only while its revision holds */
    uint64_t rev = 0;
    *rc = wg_gen_revision(ctx, gen, &rev);
    if (*rc != WG_OK) return NULL;
    pthread_mutex_lock(&s->reload_mu);
    snapshot *found = NULL;
    for (int i = 0; i < 4 && !found; i++)
        if (s->extra[i] && s->extra[i]->gen == gen && s->extra[i]->rev == rev) found = hold(s, &s->extra[i]);
    if (!found) {
        found = snapshot_load(ctx, gen, rc);
        if (found) { /* keep it: replace an older revision of it, else evict the oldest slot */
            found->rev = rev;
            pthread_mutex_lock(&s->mu);
            int slot = 3;
            for (int i = 0; i < 4; i++)
                if (s->extra[i] && s->extra[i]->gen == gen) slot = i;
            snapshot *old = s->extra[slot];
            memmove(&s->extra[1], &s->extra[0], (size_t)slot * sizeof s->extra[0]);
            s->extra[0] = found;
            atomic_fetch_add(&found->refs, 1);
            pthread_mutex_unlock(&s->mu);
            state_release(old);
            wg_lookup_refresh_duty(found->lk, ctx);
        }
    }
    pthread_mutex_unlock(&s->reload_mu);
    return found;
}

/* Every snapshot held now (each held once more; release them). */
static int held_all(server *s, snapshot *out[5])
{
    int n = 0;
    pthread_mutex_lock(&s->mu);
    if (s->cur) out[n++] = s->cur;
    for (int i = 0; i < 4; i++)
        if (s->extra[i]) out[n++] = s->extra[i];
    for (int i = 0; i < n; i++) atomic_fetch_add(&out[i]->refs, 1);
    pthread_mutex_unlock(&s->mu);
    return n;
}

void state_set_duty(server *s, const char *worker_id, int on_duty)
{
    snapshot *all[5];
    int n = held_all(s, all);
    for (int i = 0; i < n; i++) {
        wg_lookup_set_duty(all[i]->lk, worker_id, on_duty);
        state_release(all[i]);
    }
}

void state_refresh_duty(server *s, wg_ctx *ctx)
{
    snapshot *all[5];
    int n = held_all(s, all);
    for (int i = 0; i < n; i++) {
        if (wg_lookup_refresh_duty(all[i]->lk, ctx) != WG_OK)
            fprintf(stderr, "wangge-server: cannot read duty flags: %s\n", wg_errmsg(ctx));
        state_release(all[i]);
    }
}

struct wg_tileset *state_tileset(snapshot *snap, wg_ctx *ctx, int *rc)
{
    *rc = WG_OK;
    pthread_mutex_lock(&snap->ts_mu);
    if (!snap->ts) *rc = wg_tileset_build(ctx, snap->gen, &snap->ts);
    struct wg_tileset *ts = snap->ts;
    pthread_mutex_unlock(&snap->ts_mu);
    return ts;
}

int state_init(server *s)
{
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->reload_mu, NULL);
    pthread_mutex_init(&s->log_mu, NULL);
    if (pthread_key_create(&s->thread_key, thread_state_free) != 0) return WG_ENOMEM;
    size_t n = strlen(s->cfg.store) + 8;
    s->wal_path = malloc(n);
    if (!s->wal_path) return WG_ENOMEM;
    snprintf(s->wal_path, n, "%s-wal", s->cfg.store);
    thread_state *t = thread_get(s);
    if (!t) return WG_ESTORE;
    int64_t active;
    int rc = wg_gen_active(t->ctx, &active);
    if (rc != WG_OK) {
        fprintf(stderr, "wangge-server: %s: %s\n", s->cfg.store, wg_errmsg(t->ctx));
        return rc;
    }
    s->cur = snapshot_load(t->ctx, active, &rc);
    if (!s->cur) fprintf(stderr, "wangge-server: cannot load generation %lld: %s\n", (long long)active, wg_errmsg(t->ctx));
    return rc;
}

void state_free(server *s)
{
    state_release(s->cur);
    for (int i = 0; i < 4; i++) state_release(s->extra[i]);
    thread_state_free(pthread_getspecific(s->thread_key));
    pthread_setspecific(s->thread_key, NULL);
    pthread_key_delete(s->thread_key);
    free(s->wal_path);
}
