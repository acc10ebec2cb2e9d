/* bench_nearest: the position index in-process.
 *
 * N workers (default 10,000) uniform over a city-size box (lon 114.0-114.7, lat 22.0-22.7:
 * about 72 x 78 km), 70 % on duty, 85 % grid workers over 1,000 home grids. One thread asks
 * nearest (k = 1, on duty: the dispatcher's question) at random points of the box for S seconds:
 * first alone, then while a second thread applies U position updates a second (fixes: a step
 * of up to about 50 m and a newer time, paced every 200 us). Then other query shapes, alone
 * (k = 5, any duty, seen within 10 minutes, officers, same community). Finally Q answers of the
 * last state are checked against a brute-force scan with geod_inverse over every worker.
 *
 * usage: bench_nearest [--workers N] [--seconds S] [--updates U] [--cell DEG] [--check Q]
 * prints one line per figure. */
#include "wangge/workers.h"

#include <geodesic.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LON0 114.0
#define LAT0 22.0
#define SPAN 0.7
#define T0 1767225600000LL /* the workers' clock starts here */
#define NPTS (1 << 20)

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}
static double urand(uint64_t *s)
{
    return (double)(rnd(s) >> 11) / 9007199254740992.0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of the calling thread: with other processes on the cores, wall-clock rates fall
 * with the machine's load; the rate per CPU second of the querying thread does not. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double last_cpu_rate; /* queries per CPU second of the last run_queries */

typedef struct model {
    char id[24];
    char grid[20];
    int on_duty, role;
    double lon, lat;
    int64_t seen;
} model;

static model *W;
static size_t NW = 10000;
static double *PX, *PY;

typedef struct upd_arg {
    wg_posindex *idx;
    double rate, seconds;
    atomic_int stop;
    uint64_t done;
    double elapsed;
} upd_arg;

static void *updater(void *p)
{
    upd_arg *a = p;
    uint64_t s = 12345;
    int64_t clock_ms = T0 + 3600000;
    double t0 = now_s();
    struct timespec nap = {0, 200000};
    while (!atomic_load_explicit(&a->stop, memory_order_relaxed)) {
        double t = now_s() - t0;
        uint64_t due = (uint64_t)(t * a->rate);
        while (a->done < due) {
            model *m = &W[rnd(&s) % NW];
            m->lon = fmin(fmax(m->lon + 0.001 * (urand(&s) - 0.5), LON0), LON0 + SPAN);
            m->lat = fmin(fmax(m->lat + 0.001 * (urand(&s) - 0.5), LAT0), LAT0 + SPAN);
            m->seen = ++clock_ms;
            if (wg_posindex_move(a->idx, m->id, m->lon, m->lat, m->seen) != 1)
                fprintf(stderr, "move failed\n");
            a->done++;
        }
        nanosleep(&nap, NULL);
    }
    a->elapsed = now_s() - t0;
    return NULL;
}

/* Queries for `seconds`; returns queries per second. */
static double run_queries(wg_posindex *idx, wg_near_query q, double seconds, size_t *found)
{
    wg_near out[8];
    size_t n, i = 0, hits = 0;
    double t0 = now_s(), t = t0, c0 = cpu_s();
    for (;; i++) {
        if ((i & 1023) == 0 && (t = now_s()) - t0 >= seconds) break;
        q.lon = PX[i & (NPTS - 1)];
        q.lat = PY[i & (NPTS - 1)];
        if (wg_posindex_nearest(idx, &q, out, &n) != WG_OK) {
            fprintf(stderr, "nearest failed\n");
            exit(3);
        }
        hits += n > 0;
    }
    if (found) *found = hits;
    last_cpu_rate = i / (cpu_s() - c0);
    return i / (t - t0);
}

static int by_dist_id(const void *a, const void *b)
{
    const double *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return strcmp(W[(size_t)x[1]].id, W[(size_t)y[1]].id);
}

int main(int argc, char **argv)
{
    double seconds = 5, rate = 100000, cell = 0;
    int check = 200;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--workers") == 0)
            NW = (size_t)atol(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--updates") == 0)
            rate = atof(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--cell") == 0)
            cell = atof(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--check") == 0)
            check = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_nearest [--workers N] [--seconds S] [--updates U] "
                            "[--cell DEG] [--check Q]\n");
            return 1;
        }
    }
    W = calloc(NW, sizeof *W);
    PX = malloc(NPTS * sizeof *PX);
    PY = malloc(NPTS * sizeof *PY);
    wg_posindex *idx = wg_posindex_new(cell);
    if (!W || !PX || !PY || !idx) return 3;
    double t0 = now_s();
    for (size_t i = 0; i < NW; i++) {
        model *m = &W[i];
        snprintf(m->id, sizeof m->id, "B%05zu", i);
        snprintf(m->grid, sizeof m->grid, "440307%03d%03d%03d", (int)(rnd(&rng) % 10),
                 (int)(rnd(&rng) % 10), (int)(rnd(&rng) % 10));
        m->on_duty = rnd(&rng) % 10 < 7;
        m->role = rnd(&rng) % 100 < 85 ? WG_WORKER_GRID_WORKER : WG_WORKER_OFFICER;
        m->lon = LON0 + SPAN * urand(&rng);
        m->lat = LAT0 + SPAN * urand(&rng);
        m->seen = T0 - (int64_t)(rnd(&rng) % 3600000);
        wg_worker w;
        memset(&w, 0, sizeof w);
        snprintf(w.id, sizeof w.id, "%s", m->id);
        snprintf(w.name, sizeof w.name, "worker %zu", i);
        snprintf(w.home_grid, sizeof w.home_grid, "%s",
                 m->role == WG_WORKER_GRID_WORKER ? m->grid : "");
        w.role = (wg_worker_role)m->role;
        w.on_duty = m->on_duty;
        w.active = w.has_position = 1;
        w.lon = m->lon;
        w.lat = m->lat;
        w.seen_ms = m->seen;
        if (wg_posindex_put(idx, &w) != WG_OK) return 3;
    }
    double built = now_s() - t0;
    for (size_t i = 0; i < NPTS; i++) {
        PX[i] = LON0 + SPAN * urand(&rng);
        PY[i] = LAT0 + SPAN * urand(&rng);
    }
    wg_posindex_stats st;
    wg_posindex_get_stats(idx, &st);
    double la[3] = {0};
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fscanf(lf, "%lf %lf %lf", &la[0], &la[1], &la[2]) != 3) la[0] = 0;
        fclose(lf);
    }
    printf("load average %.2f (other processes share the cores)\n", la[0]);
    printf("workers %zu over lon %.1f-%.1f, lat %.1f-%.1f (%.0f x %.0f km); %zu cells of %.4g deg; "
           "built in %.1f ms\n",
           NW, LON0, LON0 + SPAN, LAT0, LAT0 + SPAN, SPAN * 102.7, SPAN * 110.8, st.cells,
           cell ? cell : 0.02, built * 1e3);

    /* geod_inverse alone, for scale */
    struct geod_geodesic g;
    geod_init(&g, 6378137, 1 / 298.257223563);
    double sum = 0, tg = now_s();
    for (int i = 0; i < 200000; i++) {
        double d;
        geod_inverse(&g, PY[i], PX[i], PY[i + 1], PX[i + 1], &d, NULL, NULL);
        sum += d;
    }
    printf("geod_inverse: %.0f ns a call (for scale; %.0f)\n", (now_s() - tg) / 200000 * 1e9,
           sum * 0);

    wg_near_query q = {0};
    q.k = 1;
    q.duty = WG_DUTY_ON;
    size_t found;
    double qs = run_queries(idx, q, seconds, &found);
    printf("nearest k=1 on duty, 1 thread, no updates: %.0f queries/s (%.0f per CPU second of the "
           "thread)\n",
           qs, last_cpu_rate);

    upd_arg ua = {idx, rate, seconds, 0, 0, 0};
    atomic_init(&ua.stop, 0);
    pthread_t th;
    pthread_create(&th, NULL, updater, &ua);
    qs = run_queries(idx, q, seconds, &found);
    atomic_store(&ua.stop, 1);
    pthread_join(th, NULL);
    wg_posindex_stats st2;
    wg_posindex_get_stats(idx, &st2);
    printf("nearest k=1 on duty, 1 thread, while another applies %.0f updates/s: %.0f queries/s "
           "(target >= 2,000,000: %s; "
           "%.0f per CPU second of the thread); %llu retries, %llu under the writers' lock\n",
           ua.done / ua.elapsed, qs, qs >= 2e6 ? "PASS" : "FAIL", last_cpu_rate,
           (unsigned long long)(st2.retries - st.retries),
           (unsigned long long)(st2.locked - st.locked));

    struct {
        const char *what;
        wg_near_query q;
    } shapes[] = {
        {"k=5 on duty", {0, 0, 5, WG_DUTY_ON, 0, 0, 0, NULL, NULL}},
        {"k=1 any duty", {0, 0, 1, WG_DUTY_ANY, 0, 0, 0, NULL, NULL}},
        {"k=1 on duty, seen within 10 min", {0, 0, 1, WG_DUTY_ON, 600000, T0, 0, NULL, NULL}},
        {"k=1 on duty officers", {0, 0, 1, WG_DUTY_ON, 0, 0, WG_WORKER_OFFICER, NULL, NULL}},
        {"k=1 on duty, community 440307005005",
         {0, 0, 1, WG_DUTY_ON, 0, 0, 0, NULL, "440307005005"}},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        qs = run_queries(idx, shapes[i].q, seconds / 2, &found);
        printf("nearest %s, 1 thread, no updates: %.0f queries/s (%.0f per CPU second)\n",
               shapes[i].what, qs, last_cpu_rate);
    }

    /* exactness on the final state: brute force over every on-duty worker with geod_inverse */
    size_t bad = 0;
    double(*all)[2] = malloc(NW * sizeof *all);
    for (int i = 0; i < check; i++) {
        double lon = PX[(size_t)i * 7919 % NPTS], lat = PY[(size_t)i * 7919 % NPTS];
        size_t m = 0;
        for (size_t w = 0; w < NW; w++) {
            if (!W[w].on_duty) continue;
            geod_inverse(&g, lat, lon, W[w].lat, W[w].lon, &all[m][0], NULL, NULL);
            all[m++][1] = (double)w;
        }
        qsort(all, m, sizeof *all, by_dist_id);
        q.lon = lon, q.lat = lat;
        wg_near out[1];
        size_t n;
        wg_posindex_nearest(idx, &q, out, &n);
        if (n != 1 || strcmp(out[0].id, W[(size_t)all[0][1]].id) != 0 ||
            fabs(out[0].dist_m - all[0][0]) > 1e-6)
            bad++;
    }
    printf("exactness: %d answers against a brute-force geod_inverse scan of every on-duty worker: "
           "%zu differ\n",
           check, bad);
    free(all);
    wg_posindex_free(idx);
    free(W);
    free(PX);
    free(PY);
    return bad ? 2 : 0;
}
