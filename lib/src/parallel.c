/* A parallel for with one context per thread (GEOS handles are per thread; see STYLE.md). */
#include "parallel.h"

#include <pthread.h>
#include <unistd.h>

/* More threads than this buys nothing on the machines we run on and bounds the stack arrays. */
#define MAX_THREADS 64

typedef struct share {
    wg_range_fn fn;
    void *arg;
    size_t begin, end;
    int rc;
} share;

static void *run_share(void *p)
{
    share *s = p;
    wg_ctx *ctx = wg_ctx_new();
    if (!ctx) {
        s->rc = WG_ENOMEM;
        return NULL;
    }
    s->fn(s->arg, ctx, s->begin, s->end);
    wg_ctx_free(ctx);
    return NULL;
}

int wg_parallel_for(size_t n, int threads, wg_range_fn fn, void *arg)
{
    if (threads <= 0) threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1) threads = 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    share shares[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0}, rc = WG_OK;
    for (int t = 0; t < threads; t++)
        shares[t] = (share){fn, arg, n * t / threads, n * (t + 1) / threads, WG_OK};
    for (int t = 0; t < threads - 1; t++)
        started[t] = pthread_create(&tid[t], NULL, run_share, &shares[t]) == 0;
    run_share(&shares[threads - 1]);
    for (int t = 0; t < threads - 1; t++) {
        if (started[t]) pthread_join(tid[t], NULL);
        else run_share(&shares[t]); /* a thread that could not start: its share is done here */
    }
    for (int t = 0; t < threads; t++)
        if (shares[t].rc != WG_OK) rc = shares[t].rc;
    return rc;
}
