/*
 * load.c - concat load through libwsrpc from C, for `make bench`.
 *
 *   wsrpc-bench-cload URL sync|async INFLIGHT WARMUP_S DURATION_S [ECHO_BYTES]
 *
 * sync:  INFLIGHT pthreads, each calling wsrpc_client_call in a loop.
 * async: INFLIGHT calls kept in flight with wsrpc_client_call_async; each completion
 *        (on a library thread) starts the next call of its slot.
 * With ECHO_BYTES, each call is echo(["xxx...x"]) with params of that many bytes (the
 * answer must be as long) instead of concat.
 * Prints one JSON line: {"calls":N,"seconds":S,"calls_per_sec":R,"p50_us":X,"p99_us":Y}.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <wsrpc.h>

static const char *METHOD = "concat";
static const char *PARAMS = "{\"a\": \"hello\", \"b\": \" world\"}";
static size_t echo_len; /* with ECHO_BYTES: the length of PARAMS, which the answer repeats */

enum { WARM = 0, MEASURE = 1, STOP = 2 };
static atomic_int phase = WARM;
static atomic_int failed = 0;
static wsrpc_client *client;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* One worker (sync) or one in-flight slot (async): its latencies in microseconds. */
typedef struct slot {
    double *lat;
    size_t n, cap;
    double started;
    atomic_int *active;
} slot;

static void record(slot *s, double us) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->lat = realloc(s->lat, s->cap * sizeof(double));
        if (!s->lat) {
            perror("realloc");
            exit(1);
        }
    }
    s->lat[s->n++] = us;
}

static int ok_result(const char *json) {
    if (echo_len) return json && strlen(json) == echo_len;
    return json && strcmp(json, "\"hello world\"") == 0;
}

static void fail(const char *what, const char *msg) {
    if (atomic_fetch_add(&failed, 1) == 0) fprintf(stderr, "cload: %s: %s\n", what, msg ? msg : "?");
    atomic_store(&phase, STOP);
}

static void *sync_worker(void *arg) {
    slot *s = arg;
    while (atomic_load(&phase) != STOP) {
        wsrpc_error err = WSRPC_ERROR_INIT;
        char *res = NULL;
        double t = now_s();
        if (wsrpc_client_call(client, METHOD, PARAMS, 30000, &res, &err) != WSRPC_OK) {
            fail("call", err.message);
            wsrpc_error_clear(&err);
            break;
        }
        double d = now_s() - t;
        if (!ok_result(res)) fail("call", res);
        wsrpc_free(res);
        if (atomic_load(&phase) == MEASURE) record(s, d * 1e6);
    }
    return NULL;
}

static void start_async(slot *s);

static void done(void *user_data, int status, const char *result_json, const wsrpc_error *error) {
    slot *s = user_data;
    double d = now_s() - s->started;
    if (status != WSRPC_OK) {
        fail("call_async", error ? error->message : NULL);
    } else if (!ok_result(result_json)) {
        fail("call_async", result_json);
    } else if (atomic_load(&phase) == MEASURE) {
        record(s, d * 1e6);
    }
    if (atomic_load(&phase) == STOP) {
        atomic_fetch_sub(s->active, 1);
        return;
    }
    start_async(s);
}

static void start_async(slot *s) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    s->started = now_s();
    if (wsrpc_client_call_async(client, METHOD, PARAMS, 30000, done, s, &err) != WSRPC_OK) {
        fail("call_async", err.message);
        wsrpc_error_clear(&err);
        atomic_fetch_sub(s->active, 1);
    }
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: %s URL sync|async INFLIGHT WARMUP_S DURATION_S [ECHO_BYTES]\n", argv[0]);
        return 2;
    }
    if (argc == 7) {
        long size = atol(argv[6]);
        if (size < 4) return 2;
        char *p = malloc((size_t)size + 1);
        if (!p) return 1;
        memset(p, 'x', (size_t)size);
        memcpy(p, "[\"", 2);
        memcpy(p + size - 2, "\"]", 2);
        p[size] = 0;
        METHOD = "echo";
        PARAMS = p;
        echo_len = (size_t)size;
    }
    const char *url = argv[1];
    int async = strcmp(argv[2], "async") == 0;
    int n = atoi(argv[3]);
    double warm = atof(argv[4]), dur = atof(argv[5]);
    if (n <= 0) return 2;

    wsrpc_error err = WSRPC_ERROR_INIT;
    client = wsrpc_client_new("{\"default_response_timeout\": 30}", &err);
    if (!client || wsrpc_client_connect(client, url, 10000, &err) != WSRPC_OK) {
        fprintf(stderr, "cload: connect: %s\n", err.message);
        return 1;
    }
    slot *slots = calloc((size_t)n, sizeof(slot));
    pthread_t *th = calloc((size_t)n, sizeof(pthread_t));
    atomic_int active = n;
    for (int i = 0; i < n; i++) slots[i].active = &active;
    for (int i = 0; i < n; i++) {
        if (async)
            start_async(&slots[i]);
        else
            pthread_create(&th[i], NULL, sync_worker, &slots[i]);
    }
    sleep_s(warm);
    atomic_store(&phase, MEASURE);
    double t0 = now_s();
    sleep_s(dur);
    int expected = MEASURE;
    atomic_compare_exchange_strong(&phase, &expected, STOP);
    double window = now_s() - t0;
    if (async) {
        double deadline = now_s() + 30;
        while (atomic_load(&active) > 0 && now_s() < deadline) sleep_s(0.001);
    } else {
        for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
    }
    wsrpc_client_close(client, NULL);

    size_t total = 0;
    for (int i = 0; i < n; i++) total += slots[i].n;
    double *all = malloc((total + 1) * sizeof(double));
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        memcpy(all + k, slots[i].lat, slots[i].n * sizeof(double));
        k += slots[i].n;
        free(slots[i].lat);
    }
    qsort(all, total, sizeof(double), cmp);
    double p50 = total ? all[total * 50 / 100] : 0, p99 = total ? all[total * 99 / 100] : 0;
    printf("{\"calls\":%zu,\"seconds\":%.6f,\"calls_per_sec\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f%s}\n",
           total, window, (double)total / window, p50, p99,
           atomic_load(&failed) ? ",\"error\":\"calls failed (see stderr)\"" : "");
    free(all);
    free(slots);
    free(th);
    return atomic_load(&failed) ? 1 : 0;
}
