/* Slow clients. libmicrohttpd's connection timeout counts idle time only, so a client that
 * sends one byte a second (or reads its answer that slowly) would hold a connection for ever.
 * The guard gives every request a deadline instead: a connection must deliver a whole request
 * and take its whole answer within cfg.timeout_s of connecting or of its previous request's
 * end. A watchdog thread looks four times a second and shuts down the socket of a connection
 * past its deadline; libmicrohttpd then sees the socket fail and closes the connection as for
 * any broken client, on its own thread. Connections are registered from the connection
 * notification (started, closed) and their clocks restarted when a request completes; the
 * registry's lock is held while a socket is shut down, and libmicrohttpd reports a connection
 * closed before it closes the socket, so a descriptor number is never shut down after reuse.
 *
 * The watchdog also hands the heap's free pages back to the system every TRIM_INTERVAL_S
 * (malloc_trim): request buffers of every size come and go on many threads, and glibc's
 * arenas keep what they once held, so resident memory crept up for the first half minute of a
 * soak while the heap in use stayed flat (bench/run_soak.sh prints both). */
#include "server.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define TRIM_INTERVAL_S 2.0

typedef struct guard_conn {
    struct guard_conn *prev, *next;
    int fd;
    double since; /* the current request's clock started here */
    int cut;      /* shut down already */
} guard_conn;

struct guard {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    guard_conn head; /* circular list */
    pthread_t thread;
    int running, stop;
    double limit_s;
    atomic_ulong cut;
};

static void *watchdog(void *arg)
{
    struct guard *g = arg;
    double trimmed = srv_now();
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
        double now = srv_now();
        if (now - trimmed >= TRIM_INTERVAL_S) {
            pthread_mutex_unlock(&g->mu);
            malloc_trim(0);
            pthread_mutex_lock(&g->mu);
            trimmed = now;
        }
        for (guard_conn *c = g->head.next; c != &g->head; c = c->next)
            if (!c->cut && now - c->since > g->limit_s) {
                c->cut = 1;
                shutdown(c->fd, SHUT_RDWR);
                atomic_fetch_add(&g->cut, 1);
            }
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

struct guard *guard_new(double limit_s)
{
    struct guard *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->head.next = g->head.prev = &g->head;
    g->limit_s = limit_s;
    if (pthread_create(&g->thread, NULL, watchdog, g) != 0) {
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        free(g);
        return NULL;
    }
    g->running = 1;
    return g;
}

void guard_free(struct guard *g)
{
    if (!g) return;
    pthread_mutex_lock(&g->mu);
    g->stop = 1;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    if (g->running) pthread_join(g->thread, NULL);
    for (guard_conn *c = g->head.next, *n; c != &g->head; c = n) {
        n = c->next;
        free(c);
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

unsigned long guard_cut(struct guard *g)
{
    return g ? atomic_load(&g->cut) : 0;
}

/* MHD_OPTION_NOTIFY_CONNECTION */
void guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                  enum MHD_ConnectionNotificationCode code)
{
    struct guard *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        guard_conn *c = ci ? calloc(1, sizeof *c) : NULL;
        *socket_context = c;
        if (!c) return; /* out of memory: the connection goes unguarded, MHD's idle timeout holds */
        c->fd = ci->connect_fd;
        c->since = srv_now();
        pthread_mutex_lock(&g->mu);
        c->next = g->head.next;
        c->prev = &g->head;
        g->head.next->prev = c;
        g->head.next = c;
        pthread_mutex_unlock(&g->mu);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        guard_conn *c = *socket_context;
        *socket_context = NULL;
        if (!c) return;
        pthread_mutex_lock(&g->mu);
        c->prev->next = c->next;
        c->next->prev = c->prev;
        pthread_mutex_unlock(&g->mu);
        free(c);
    }
}

/* A request of conn finished: its next one has a full deadline. */
void guard_request_done(struct guard *g, struct MHD_Connection *conn)
{
    if (!g) return;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    guard_conn *c = ci ? ci->socket_context : NULL;
    if (!c) return;
    pthread_mutex_lock(&g->mu);
    c->since = srv_now();
    pthread_mutex_unlock(&g->mu);
}
