/* The position writer (wangge/workers.h): one thread with its own store connection stores the
 * fixes of every thread of the process. Callers queue a batch and wait; the thread takes every
 * batch queued (up to group_fixes fixes), stores them in one transaction with
 * wg_positions_add_batches (decided as if one after the other, in queue order) and wakes their
 * callers. While it commits (an fsync), the next batches queue up, so under load a commit
 * serves several batches; alone, a batch is stored at once. The connection is the only one
 * writing fixes, so its page cache keeps the track's pages between transactions (a connection
 * drops its whole cache when it sees another connection's commit). Between groups, and when
 * asked to stop, it merges the position inbox with the index (wg_positions_merge). */
#define _GNU_SOURCE /* pthread_setname_np */
#include "posindex.h"
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MERGE_MS_DEFAULT 3000
#define GROUP_FIXES_DEFAULT 16384

typedef struct pw_job {
    wg_fix_batch b;
    wg_poswriter_done_fn done;
    void *ud;
    struct pw_job *next;
} pw_job;

struct wg_poswriter {
    wg_ctx *ctx; /* used by the thread only, once started */
    wg_posindex *idx;
    wg_poswriter_opts opts;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    pw_job *head, *tail;
    size_t pending; /* jobs submitted and not yet reported */
    int stop;
    wg_poswriter_stats stats;
    int merge_rc;
    char merge_msg[256];
};

static void merge(wg_poswriter *pw)
{
    double t0 = wg_mono_ms();
    int rc = wg_positions_merge(pw->ctx, pw->idx, NULL);
    double t1 = wg_mono_ms();
    pthread_mutex_lock(&pw->mu);
    pw->stats.merges++;
    pw->stats.merge_us += (uint64_t)((t1 - t0) * 1e3);
    if (rc != WG_OK) pw->stats.merge_failures++;
    pw->merge_rc = rc;
    if (rc != WG_OK) snprintf(pw->merge_msg, sizeof pw->merge_msg, "%s", wg_errmsg(pw->ctx));
    pthread_mutex_unlock(&pw->mu);
}

/* Takes the queued jobs, at most group_fixes fixes (at least one job), off the queue. */
static size_t take(wg_poswriter *pw, pw_job **jobs, size_t cap)
{
    size_t k = 0, fixes = 0;
    while (pw->head && k < cap && (k == 0 || fixes + pw->head->b.n <= pw->opts.group_fixes)) {
        pw_job *j = pw->head;
        pw->head = j->next;
        fixes += j->b.n;
        jobs[k++] = j;
    }
    if (!pw->head) pw->tail = NULL;
    return k;
}

static void *run(void *arg)
{
    wg_poswriter *pw = arg;
    pthread_setname_np(pthread_self(), "wg-poswriter");
    enum { CAP = 256 };
    pw_job *jobs[CAP];
    wg_fix_batch b[CAP];
    double next_merge = wg_mono_ms() + pw->opts.merge_ms;
    pthread_mutex_lock(&pw->mu);
    for (;;) {
        if (!pw->head && !pw->stop) {
            double left = next_merge - wg_mono_ms();
            if (left > 0) {
                int64_t wait = (int64_t)left + 1; /* whole ms, never early */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += wait / 1000;
                ts.tv_nsec += (long)(wait % 1000) * 1000000;
                if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
                pthread_cond_timedwait(&pw->work, &pw->mu, &ts);
                continue;
            }
        }
        size_t k = take(pw, jobs, CAP);
        int stop = pw->stop && !k;
        pthread_mutex_unlock(&pw->mu);
        if (k) {
            for (size_t i = 0; i < k; i++)
                b[i] = jobs[i]->b;
            double t0 = wg_mono_ms();
            int rc = wg_positions_add_batches(pw->ctx, pw->idx, b, k);
            double t1 = wg_mono_ms();
            const char *msg = rc == WG_OK ? NULL : wg_errmsg(pw->ctx);
            for (size_t i = 0; i < k; i++) {
                jobs[i]->done(jobs[i]->ud, rc, msg);
                free(jobs[i]);
            }
            pthread_mutex_lock(&pw->mu);
            pw->stats.transactions++;
            pw->stats.store_us += (uint64_t)((t1 - t0) * 1e3);
            pw->stats.batches += k;
            for (size_t i = 0; i < k; i++)
                pw->stats.fixes += b[i].n;
            pw->pending -= k;
            pthread_cond_broadcast(&pw->done);
            pthread_mutex_unlock(&pw->mu);
        }
        if (stop || wg_mono_ms() >= next_merge) {
            merge(pw);
            next_merge = wg_mono_ms() + pw->opts.merge_ms;
        }
        if (stop) return NULL;
        pthread_mutex_lock(&pw->mu);
    }
}

/* Frees a writer whose thread is not running. */
static void destroy(wg_poswriter *pw)
{
    pthread_mutex_destroy(&pw->mu);
    pthread_cond_destroy(&pw->work);
    pthread_cond_destroy(&pw->done);
    wg_ctx_free(pw->ctx);
    free(pw);
}

wg_poswriter *wg_poswriter_new(wg_ctx *err, const char *path, wg_posindex *idx,
                               const wg_poswriter_opts *opts)
{
    if (!path || !idx) {
        wg_fail(err, WG_EINVAL, "position writer: no store path or no index");
        return NULL;
    }
    wg_poswriter *pw = calloc(1, sizeof *pw);
    if (!pw || !(pw->ctx = wg_ctx_new())) {
        free(pw);
        wg_fail(err, WG_ENOMEM, "out of memory");
        return NULL;
    }
    if (opts) pw->opts = *opts;
    if (pw->opts.merge_ms <= 0) pw->opts.merge_ms = MERGE_MS_DEFAULT;
    if (!pw->opts.group_fixes) pw->opts.group_fixes = GROUP_FIXES_DEFAULT;
    pw->idx = idx;
    int rc = wg_store_open(pw->ctx, path, 0);
    if (rc == WG_OK && pw->opts.cache_kib > 0) rc = wg_store_set_cache(pw->ctx, pw->opts.cache_kib);
    if (rc == WG_OK) rc = wg_positions_merge(pw->ctx, idx, NULL); /* what a previous run left */
    if (rc != WG_OK) {
        wg_fail(err, rc, "position writer: %s", wg_errmsg(pw->ctx));
        wg_ctx_free(pw->ctx);
        free(pw);
        return NULL;
    }
    pthread_mutex_init(&pw->mu, NULL);
    pthread_cond_init(&pw->work, NULL);
    pthread_cond_init(&pw->done, NULL);
    if (pthread_create(&pw->thread, NULL, run, pw) != 0) {
        wg_fail(err, WG_ENOMEM, "position writer: cannot start its thread");
        destroy(pw);
        return NULL;
    }
    return pw;
}

int wg_poswriter_submit(wg_poswriter *pw, wg_ctx *ctx, const wg_fix *fixes, size_t n,
                        const wg_track_policy *pol, wg_fix_result *results, wg_fix_counts *counts,
                        wg_poswriter_done_fn done, void *ud)
{
    pw_job *j = malloc(sizeof *j);
    if (!j) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    *j = (pw_job){{fixes, n, pol, results, counts}, done, ud, NULL};
    pthread_mutex_lock(&pw->mu);
    if (pw->stop) {
        pthread_mutex_unlock(&pw->mu);
        free(j);
        return wg_fail(ctx, WG_EINVAL, "position writer: stopping");
    }
    if (pw->tail)
        pw->tail->next = j;
    else
        pw->head = j;
    pw->tail = j;
    pw->pending++;
    pthread_cond_signal(&pw->work);
    pthread_mutex_unlock(&pw->mu);
    return WG_OK;
}

/* wg_poswriter_add's wait for its job */
typedef struct waiter {
    wg_poswriter *pw;
    int finished, rc;
    char msg[256];
} waiter;

static void wake(void *ud, int rc, const char *msg)
{
    waiter *w = ud;
    pthread_mutex_lock(&w->pw->mu);
    w->rc = rc;
    if (msg) snprintf(w->msg, sizeof w->msg, "%s", msg);
    w->finished = 1;
    pthread_cond_broadcast(&w->pw->done);
    pthread_mutex_unlock(&w->pw->mu);
}

int wg_poswriter_add(wg_poswriter *pw, wg_ctx *ctx, const wg_fix *fixes, size_t n,
                     const wg_track_policy *pol, wg_fix_result *results, wg_fix_counts *counts)
{
    waiter w = {pw, 0, WG_OK, ""};
    int rc = wg_poswriter_submit(pw, ctx, fixes, n, pol, results, counts, wake, &w);
    if (rc != WG_OK) return rc;
    pthread_mutex_lock(&pw->mu);
    while (!w.finished)
        pthread_cond_wait(&pw->done, &pw->mu);
    pthread_mutex_unlock(&pw->mu);
    if (w.rc != WG_OK) return wg_fail(ctx, w.rc, "%s", w.msg);
    return WG_OK;
}

void wg_poswriter_drain(wg_poswriter *pw)
{
    pthread_mutex_lock(&pw->mu);
    while (pw->pending)
        pthread_cond_wait(&pw->done, &pw->mu);
    pthread_mutex_unlock(&pw->mu);
}

void wg_poswriter_get_stats(wg_poswriter *pw, wg_poswriter_stats *out)
{
    pthread_mutex_lock(&pw->mu);
    *out = pw->stats;
    pthread_mutex_unlock(&pw->mu);
}

int wg_poswriter_free(wg_poswriter *pw, wg_ctx *err)
{
    if (!pw) return WG_OK;
    pthread_mutex_lock(&pw->mu);
    pw->stop = 1;
    pthread_cond_signal(&pw->work);
    pthread_mutex_unlock(&pw->mu);
    pthread_join(pw->thread, NULL);
    int rc = pw->merge_rc;
    if (rc != WG_OK && err) wg_fail(err, rc, "position writer: %s", pw->merge_msg);
    destroy(pw);
    return rc;
}
