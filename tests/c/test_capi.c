/*
 * Tests of the C API (wsrpc.h): every entry point, the error paths, and concurrency from
 * several pthreads. The server side is the C server API itself (wsrpc_server_*), listening
 * on a free loopback port, so both halves are exercised.
 *
 * Run under valgrind (make test-c) or AddressSanitizer (make test-c VALGRIND=no).
 * Prints "N passed, 0 failed" at the end; any failed check aborts at once.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wsrpc.h>

static atomic_int checks;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);       \
            abort();                                                                       \
        }                                                                                  \
        atomic_fetch_add(&checks, 1);                                                      \
    } while (0)

/* CHECK_ST(expr, want, &err): expr returns want; on mismatch print the error. */
static void check_st(int st, int want, const wsrpc_error *e, const char *expr, int line) {
    if (st != want) {
        fprintf(stderr, "%s:%d: %s returned %d (%s), want %d (%s): %s\n", __FILE__, line, expr,
                st, wsrpc_status_name(st), want, wsrpc_status_name(want),
                e != NULL && e->message != NULL ? e->message : "(no message)");
        abort();
    }
    if (e != NULL && st != WSRPC_OK && (e->status != st || e->message == NULL)) {
        fprintf(stderr, "%s:%d: %s: error details not filled\n", __FILE__, line, expr);
        abort();
    }
    atomic_fetch_add(&checks, 1);
}
#define CHECK_ST(expr, want, errp) check_st((expr), (want), (errp), #expr, __LINE__)

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* wait until *v >= want, at most ms milliseconds */
static int wait_atomic(atomic_int *v, int want, int ms) {
    for (int i = 0; i < ms / 5; i++) {
        if (atomic_load(v) >= want) {
            return 1;
        }
        sleep_ms(5);
    }
    return atomic_load(v) >= want;
}

/* ---- server side ----------------------------------------------------------------- */

static wsrpc_server *g_server;
static atomic_int srv_connected, srv_disconnected, srv_notes;
static wsrpc_reply *stale_reply;
static pthread_mutex_t stale_mu = PTHREAD_MUTEX_INITIALIZER;

/* concat(a, b): named {"a":..,"b":..} or positional [a, b]; a tiny parser for strings */
static char *json_string_after(const char *p) {
    p = strchr(p, '"');
    if (p == NULL) return NULL;
    const char *end = strchr(p + 1, '"');
    if (end == NULL) return NULL;
    size_t n = (size_t)(end - p - 1);
    char *s = malloc(n + 1);
    memcpy(s, p + 1, n);
    s[n] = 0;
    return s;
}

static void srv_concat(void *user, const char *chan, const char *params, wsrpc_reply *r) {
    (void)user;
    CHECK(chan != NULL && strlen(chan) == 32);
    char *a = NULL, *b = NULL;
    if (params[0] == '[') {
        a = json_string_after(params);
        if (a) b = json_string_after(strstr(params, a) + strlen(a) + 1);
    } else if (params[0] == '{') {
        const char *pa = strstr(params, "\"a\"");
        const char *pb = strstr(params, "\"b\"");
        if (pa && pb) {
            a = json_string_after(strchr(pa + 3, ':'));
            b = json_string_after(strchr(pb + 3, ':'));
        }
    }
    if (a == NULL || b == NULL) {
        wsrpc_reply_error(r, WSRPC_RPC_INVALID_PARAMS, "concat needs a and b", NULL);
    } else {
        size_t n = strlen(a) + strlen(b) + 3;
        char *out = malloc(n);
        snprintf(out, n, "\"%s%s\"", a, b);
        CHECK(wsrpc_reply_result(r, out) == WSRPC_OK);
        free(out);
    }
    free(a);
    free(b);
}

static void srv_echo(void *user, const char *chan, const char *params, wsrpc_reply *r) {
    (void)user;
    (void)chan;
    CHECK(wsrpc_reply_result(r, params) == WSRPC_OK);
}

static void srv_fail(void *user, const char *chan, const char *params, wsrpc_reply *r) {
    (void)user;
    (void)chan;
    (void)params;
    /* invalid data JSON is refused and leaves the reply as it was */
    CHECK(wsrpc_reply_error(r, 4001, "nope", "{bad") == WSRPC_ERR_INVALID_ARG);
    CHECK(wsrpc_reply_error(r, 4001, "custom failure", "{\"why\": \"testing\"}") == WSRPC_OK);
}

static void srv_crash(void *user, const char *chan, const char *params, wsrpc_reply *r) {
    (void)user;
    (void)chan;
    (void)params;
    CHECK(wsrpc_reply_fail(r, "secret detail") == WSRPC_OK);
}

static void srv_bad_result(void *user, const char *chan, const char *params, wsrpc_reply *r) {
    (void)user;
    (void)chan;
    (void)params;
    CHECK(wsrpc_reply_result(r, "{not json") == WSRPC_ERR_INVALID_ARG);
    CHECK(wsrpc_reply_result(r, "[1, 2, 3]") == WSRPC_OK);
    CHECK(wsrpc_reply_result(NULL, "1") == WSRPC_ERR_INVALID_ARG);
    pthread_mutex_lock(&stale_mu);
    stale_reply = r; /* used after the callback returned: must be refused */
    pthread_mutex_unlock(&stale_mu);
}

static void srv_slow(void *user, const char *chan, const char *params, wsrpc_reply *r) {
    (void)user;
    (void)chan;
    int ms = atoi(params + 1); /* [ms] */
    sleep_ms(ms);
    char out[32];
    snprintf(out, sizeof out, "%d", ms);
    wsrpc_reply_result(r, out);
}

static void srv_note(void *user, const char *chan, const char *params, wsrpc_reply *r) {
    (void)user;
    (void)chan;
    (void)params;
    (void)r;
    atomic_fetch_add(&srv_notes, 1);
}

/* call_back(): calls the calling client's client_echo back during the request */
static void srv_call_back(void *user, const char *chan, const char *params, wsrpc_reply *r) {
    (void)user;
    char *res = NULL;
    wsrpc_error err = WSRPC_ERROR_INIT;
    int st = wsrpc_server_call(g_server, chan, "client_echo", params, 5000, &res, &err);
    if (st != WSRPC_OK) {
        wsrpc_reply_fail(r, err.message);
        wsrpc_error_clear(&err);
        return;
    }
    wsrpc_reply_result(r, res);
    wsrpc_free(res);
}

/* whoami(): the server-side channel id of the caller's connection */
static void srv_whoami(void *user, const char *chan, const char *params, wsrpc_reply *r) {
    (void)user;
    (void)params;
    char out[40];
    snprintf(out, sizeof out, "\"%s\"", chan);
    wsrpc_reply_result(r, out);
}

/* wait_cancel([slot, max_ms]): polls wsrpc_reply_check every millisecond for up to max_ms
 * and records, in its slot, that it started, whether and when (CLOCK_MONOTONIC) it saw its
 * request cancelled, and that it ended. */
#define SLOTS 16
static atomic_int wc_started[SLOTS], wc_canceled[SLOTS], wc_ended[SLOTS];
static _Atomic long long wc_seen_ns[SLOTS];

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void srv_wait_cancel(void *user, const char *chan, const char *params, wsrpc_reply *r) {
    (void)user;
    (void)chan;
    int slot = -1, max_ms = 0;
    CHECK(sscanf(params, "[%d , %d]", &slot, &max_ms) == 2 && slot >= 0 && slot < SLOTS);
    CHECK_ST(wsrpc_reply_check(r), WSRPC_OK, (wsrpc_error *)NULL);
    atomic_store(&wc_started[slot], 1);
    for (int i = 0; i < max_ms; i++) {
        int st = wsrpc_reply_check(r);
        if (st == WSRPC_ERR_CANCELED) {
            atomic_store(&wc_seen_ns[slot], now_ns());
            atomic_store(&wc_canceled[slot], 1);
            break;
        }
        CHECK(st == WSRPC_OK);
        sleep_ms(1);
    }
    wsrpc_reply_result(r, "\"done\"");
    atomic_store(&wc_ended[slot], 1);
}

/* sum([n, ...]): the README's batch example */
static void srv_sum(void *user, const char *chan, const char *params, wsrpc_reply *r) {
    (void)user;
    (void)chan;
    long total = 0;
    for (const char *p = params + 1; *p != 0 && *p != ']';) {
        char *end;
        total += strtol(p, &end, 10);
        p = end;
        while (*p == ',' || *p == ' ') p++;
    }
    char out[32];
    snprintf(out, sizeof out, "%ld", total);
    wsrpc_reply_result(r, out);
}

/* server_id(c, sid): the server's channel id for client c's connection */
static void server_id(wsrpc_client *c, char sid[33]) {
    char *res = NULL;
    CHECK(wsrpc_client_call(c, "whoami", NULL, 5000, &res, NULL) == WSRPC_OK);
    CHECK(strlen(res) == 34);
    memcpy(sid, res + 1, 32);
    sid[32] = 0;
    wsrpc_free(res);
}

static void srv_event(void *user, const wsrpc_event *ev) {
    CHECK(user == &srv_connected);
    if (ev->kind == WSRPC_EVENT_CONNECTED) {
        CHECK(ev->channel_id != NULL && strlen(ev->channel_id) == 32);
        atomic_fetch_add(&srv_connected, 1);
    } else if (ev->kind == WSRPC_EVENT_DISCONNECTED) {
        atomic_fetch_add(&srv_disconnected, 1);
    }
}

/* ---- client side ----------------------------------------------------------------- */

static atomic_int cli_connected, cli_disconnected, cli_reconnecting, cli_echoes;

static void cli_echo(void *user, const char *chan, const char *params, wsrpc_reply *r) {
    CHECK(user == (void *)&cli_echoes);
    CHECK(strlen(chan) == 32);
    atomic_fetch_add(&cli_echoes, 1);
    wsrpc_reply_result(r, params);
}

static void cli_event(void *user, const wsrpc_event *ev) {
    (void)user;
    switch (ev->kind) {
    case WSRPC_EVENT_CONNECTED: atomic_fetch_add(&cli_connected, 1); break;
    case WSRPC_EVENT_DISCONNECTED:
        CHECK(ev->message != NULL && ev->status != WSRPC_OK);
        atomic_fetch_add(&cli_disconnected, 1);
        break;
    case WSRPC_EVENT_RECONNECTING:
        CHECK(ev->attempt >= 1 && ev->delay_ms >= 0);
        atomic_fetch_add(&cli_reconnecting, 1);
        break;
    default: CHECK(0);
    }
}

static wsrpc_client *connect_client(const char *url, const char *options) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    wsrpc_client *c = wsrpc_client_new(options, &err);
    CHECK(c != NULL);
    CHECK_ST(wsrpc_client_register(c, "client_echo", cli_echo, &cli_echoes, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_client_connect(c, url, 5000, &err), WSRPC_OK, &err);
    return c;
}

/* async completion bookkeeping */
struct done_box {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    int status;
    int rpc_code;
    char result[256];
};

static void on_done(void *user, int status, const char *result, const wsrpc_error *err) {
    struct done_box *b = user;
    pthread_mutex_lock(&b->mu);
    b->calls++;
    b->status = status;
    if (status == WSRPC_OK) {
        CHECK(result != NULL && err == NULL);
        snprintf(b->result, sizeof b->result, "%s", result);
    } else {
        CHECK(result == NULL && err != NULL && err->status == status && err->message != NULL);
        b->rpc_code = err->rpc_code;
        snprintf(b->result, sizeof b->result, "%s", err->message);
    }
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static void box_init(struct done_box *b) {
    memset(b, 0, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
}

static void box_wait(struct done_box *b, int calls) {
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 10;
    pthread_mutex_lock(&b->mu);
    while (b->calls < calls) {
        CHECK(pthread_cond_timedwait(&b->cv, &b->mu, &dl) == 0);
    }
    pthread_mutex_unlock(&b->mu);
}

static void box_destroy(struct done_box *b) {
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
}

/* ---- tests ----------------------------------------------------------------------- */

static void test_library(void) {
    CHECK(strcmp(wsrpc_version(), WSRPC_VERSION_STRING) == 0);
    CHECK(strcmp(wsrpc_status_name(WSRPC_OK), "ok") == 0);
    CHECK(strcmp(wsrpc_status_name(WSRPC_ERR_TIMEOUT), "timeout") == 0);
    CHECK(strcmp(wsrpc_status_name(999), "unknown status") == 0);
    wsrpc_free(NULL);
    wsrpc_error_clear(NULL);
}

static void test_null_and_bad_args(void) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    char *out = (char *)"sentinel";

    CHECK(wsrpc_client_new("{not json", &err) == NULL);
    CHECK(err.status == WSRPC_ERR_INVALID_ARG && strstr(err.message, "options") != NULL);
    wsrpc_error_clear(&err);
    CHECK(wsrpc_client_new("{\"no_such_option\": 1}", &err) == NULL);
    CHECK(err.status == WSRPC_ERR_INVALID_ARG && strstr(err.message, "no_such_option") != NULL);
    wsrpc_error_clear(&err);
    CHECK(wsrpc_client_new("{\"max_pending_requests\": 0}", NULL) == NULL); /* NULL err is fine */
    CHECK(wsrpc_server_new("[1]", &err) == NULL);
    CHECK(err.status == WSRPC_ERR_INVALID_ARG);
    wsrpc_error_clear(&err);

    CHECK_ST(wsrpc_client_register(NULL, "m", cli_echo, NULL, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_on_event(NULL, cli_event, NULL, NULL), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_client_connect(NULL, "ws://x", 0, NULL), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_client_call(NULL, "m", NULL, 0, &out, &err), WSRPC_ERR_INVALID_ARG, &err);
    CHECK(out == NULL);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_call_async(NULL, "m", NULL, 0, on_done, NULL, NULL), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_client_notify(NULL, "m", NULL, NULL), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_client_channel_id(NULL, NULL, NULL), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_client_close(NULL, NULL), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_server_register(NULL, "m", cli_echo, NULL, NULL), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_server_on_event(NULL, NULL, NULL, NULL), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_server_listen(NULL, "127.0.0.1:0", NULL, NULL, NULL), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_server_channels(NULL, NULL, NULL), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_server_call(NULL, "c", "m", NULL, 0, NULL, NULL), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_server_call_async(NULL, "c", "m", NULL, 0, on_done, NULL, NULL), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_server_notify(NULL, "c", "m", NULL, NULL), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_server_close(NULL, NULL), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_reply_result(NULL, "1"), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_reply_error(NULL, 1, "m", NULL), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_reply_fail(NULL, "m"), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);

    /* a bogus handle value is reported, not dereferenced */
    CHECK_ST(wsrpc_client_call((wsrpc_client *)(uintptr_t)0x7fff0001, "m", NULL, 0, NULL, &err),
             WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);

    /* a client handle is not a server handle */
    wsrpc_client *c = wsrpc_client_new(NULL, &err);
    CHECK(c != NULL);
    CHECK_ST(wsrpc_server_channels((wsrpc_server *)c, &out, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_register(c, NULL, cli_echo, NULL, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_register(c, "", cli_echo, NULL, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_register(c, "m", NULL, NULL, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_connect(c, NULL, 0, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_connect(c, "ws://127.0.0.1:1/ws", -5, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    /* not connected yet */
    CHECK_ST(wsrpc_client_call(c, "m", NULL, 0, &out, &err), WSRPC_ERR_NOT_CONNECTED, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_notify(c, "m", NULL, &err), WSRPC_ERR_NOT_CONNECTED, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_channel_id(c, &out, &err), WSRPC_ERR_NOT_CONNECTED, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_call_async(c, "m", NULL, 0, NULL, NULL, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);
}

static void *close_later(void *c) {
    sleep_ms(200);
    CHECK(wsrpc_client_close((wsrpc_client *)c, NULL) == WSRPC_OK);
    return NULL;
}

static void test_connect_failures(void) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    /* nothing listens on port 1; no retries */
    wsrpc_client *c = wsrpc_client_new("{\"retry\": {\"enabled\": false}}", &err);
    CHECK(c != NULL);
    CHECK_ST(wsrpc_client_connect(c, "ws://127.0.0.1:1/ws", 5000, &err), WSRPC_ERR_CONNECT, &err);
    CHECK(strstr(err.message, "connection refused") != NULL); /* the cause is kept */
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_connect(c, "not a url", 5000, &err), WSRPC_ERR_CONNECT, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);

    /* close from another thread while connect is retrying: connect returns CLOSED */
    c = wsrpc_client_new("{\"retry\": {\"max_attempts\": 1000, \"min_wait\": 0.05, \"max_wait\": 0.05}}", &err);
    CHECK(c != NULL);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, close_later, c) == 0);
    CHECK_ST(wsrpc_client_connect(c, "ws://127.0.0.1:1/ws", 0, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);
    pthread_join(t, NULL);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);

    /* retries bounded by timeout_ms */
    c = wsrpc_client_new("{\"retry\": {\"max_attempts\": 100, \"min_wait\": 0.05, \"max_wait\": 0.05}}", &err);
    CHECK(c != NULL);
    CHECK_ST(wsrpc_client_connect(c, "ws://127.0.0.1:1/ws", 300, &err), WSRPC_ERR_TIMEOUT, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);
}

static char *g_url;

static void test_server_setup(void) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    g_server = wsrpc_server_new("{\"max_message_size\": 65536}", &err);
    CHECK(g_server != NULL);
    CHECK_ST(wsrpc_server_register(g_server, "concat", srv_concat, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_register(g_server, "echo", srv_echo, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_register(g_server, "fail", srv_fail, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_register(g_server, "crash", srv_crash, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_register(g_server, "bad_result", srv_bad_result, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_register(g_server, "slow", srv_slow, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_register(g_server, "note", srv_note, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_register(g_server, "whoami", srv_whoami, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_register(g_server, "call_back", srv_call_back, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_register(g_server, "wait_cancel", srv_wait_cancel, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_register(g_server, "sum", srv_sum, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_register(g_server, "log_event", srv_note, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_register(g_server, "", srv_echo, NULL, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_server_on_event(g_server, srv_event, &srv_connected, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_listen(g_server, NULL, "/ws", &g_url, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_server_listen(g_server, "127.0.0.1:0", "no-slash", &g_url, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_server_listen(g_server, "127.0.0.1:0", "/ws", &g_url, &err), WSRPC_OK, &err);
    CHECK(strncmp(g_url, "ws://127.0.0.1:", 15) == 0 && strstr(g_url, "/ws") != NULL);
    char *again = NULL;
    CHECK_ST(wsrpc_server_listen(g_server, "127.0.0.1:0", "/ws", &again, &err), WSRPC_ERR_STATE, &err);
    CHECK(again == NULL);
    wsrpc_error_clear(&err);

    /* a second server cannot bind the same address */
    const char *port = strrchr(g_url, ':') + 1;
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", atoi(port));
    wsrpc_server *s2 = wsrpc_server_new(NULL, &err);
    CHECK(s2 != NULL);
    CHECK_ST(wsrpc_server_listen(s2, addr, NULL, NULL, &err), WSRPC_ERR_LISTEN, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_server_close(s2, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_close(s2, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);
}

static void test_calls(void) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    char *res = NULL;
    atomic_store(&cli_connected, 0);
    wsrpc_client *c = wsrpc_client_new("{\"default_response_timeout\": 10}", &err);
    CHECK(c != NULL);
    CHECK_ST(wsrpc_client_register(c, "client_echo", cli_echo, &cli_echoes, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_client_on_event(c, cli_event, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_client_connect(c, g_url, 5000, &err), WSRPC_OK, &err);
    CHECK(atomic_load(&cli_connected) == 1);
    CHECK(wait_atomic(&srv_connected, 1, 2000));
    CHECK_ST(wsrpc_client_connect(c, g_url, 5000, &err), WSRPC_ERR_STATE, &err);
    wsrpc_error_clear(&err);

    /* named and positional params */
    CHECK_ST(wsrpc_client_call(c, "concat", "{\"a\": \"hello\", \"b\": \" world\"}", 5000, &res, &err), WSRPC_OK, &err);
    CHECK(strcmp(res, "\"hello world\"") == 0);
    wsrpc_free(res);
    CHECK_ST(wsrpc_client_call(c, "concat", "[\"x\", \"y\"]", 0, &res, &err), WSRPC_OK, &err);
    CHECK(strcmp(res, "\"xy\"") == 0);
    wsrpc_free(res);
    /* result discarded (NULL out) */
    CHECK_ST(wsrpc_client_call(c, "concat", "[\"x\", \"y\"]", 0, NULL, &err), WSRPC_OK, &err);
    /* no params: NULL, "" and "null" arrive as null */
    const char *none[] = {NULL, "", "null", "  "};
    for (int i = 0; i < 4; i++) {
        CHECK_ST(wsrpc_client_call(c, "echo", none[i], 0, &res, &err), WSRPC_OK, &err);
        CHECK(strcmp(res, "null") == 0);
        wsrpc_free(res);
    }
    /* built-in ping */
    CHECK_ST(wsrpc_client_call(c, "ping", NULL, 0, &res, &err), WSRPC_OK, &err);
    CHECK(strcmp(res, "\"pong\"") == 0);
    wsrpc_free(res);
    /* unicode survives */
    CHECK_ST(wsrpc_client_call(c, "echo", "[\"h\xc3\xa9llo \xe2\x9c\x93\"]", 0, &res, &err), WSRPC_OK, &err);
    CHECK(strstr(res, "h\xc3\xa9llo") != NULL || strstr(res, "\\u00e9") != NULL);
    wsrpc_free(res);

    /* bad params: nothing is sent */
    const char *bad[] = {"{", "5", "\"str\"", "[1,", "{\"a\": }", "true"};
    for (int i = 0; i < 6; i++) {
        res = (char *)"sentinel";
        CHECK_ST(wsrpc_client_call(c, "echo", bad[i], 0, &res, &err), WSRPC_ERR_INVALID_ARG, &err);
        CHECK(res == NULL);
        CHECK(strstr(err.message, "params") != NULL);
        wsrpc_error_clear(&err);
    }
    CHECK_ST(wsrpc_client_call(c, NULL, NULL, 0, &res, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_call(c, "echo", NULL, -1, &res, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_notify(c, "note", "{oops", &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);

    /* unknown method: remote -32601, readable */
    CHECK_ST(wsrpc_client_call(c, "no_such_method", "[]", 0, &res, &err), WSRPC_ERR_REMOTE, &err);
    CHECK(err.rpc_code == WSRPC_RPC_METHOD_NOT_FOUND);
    CHECK(strstr(err.message, "no_such_method") != NULL);
    wsrpc_error_clear(&err);
    CHECK(err.message == NULL && err.status == 0);
    /* private names are not callable */
    CHECK_ST(wsrpc_client_call(c, "_private", NULL, 0, &res, &err), WSRPC_ERR_REMOTE, &err);
    CHECK(err.rpc_code == WSRPC_RPC_METHOD_NOT_FOUND);
    wsrpc_error_clear(&err);
    /* application error with data */
    CHECK_ST(wsrpc_client_call(c, "fail", NULL, 0, &res, &err), WSRPC_ERR_REMOTE, &err);
    CHECK(err.rpc_code == 4001 && strcmp(err.message, "custom failure") == 0);
    CHECK(err.data_json != NULL && strstr(err.data_json, "testing") != NULL);
    wsrpc_error_clear(&err);
    /* a failed handler: -32603 without the detail (no debug option) */
    CHECK_ST(wsrpc_client_call(c, "crash", NULL, 0, &res, &err), WSRPC_ERR_REMOTE, &err);
    CHECK(err.rpc_code == WSRPC_RPC_INTERNAL_ERROR && strstr(err.message, "secret") == NULL);
    wsrpc_error_clear(&err);
    /* invalid result JSON is refused, the valid one sent */
    CHECK_ST(wsrpc_client_call(c, "bad_result", NULL, 0, &res, &err), WSRPC_OK, &err);
    CHECK(strcmp(res, "[1,2,3]") == 0 || strcmp(res, "[1, 2, 3]") == 0);
    wsrpc_free(res);
    /* the reply handle is dead once its callback returned */
    pthread_mutex_lock(&stale_mu);
    CHECK(stale_reply != NULL);
    CHECK_ST(wsrpc_reply_result(stale_reply, "1"), WSRPC_ERR_CLOSED, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_reply_error(stale_reply, 1, "x", NULL), WSRPC_ERR_CLOSED, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_reply_fail(stale_reply, "x"), WSRPC_ERR_CLOSED, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_reply_check(stale_reply), WSRPC_ERR_CLOSED, (wsrpc_error *)NULL);
    CHECK_ST(wsrpc_reply_check(NULL), WSRPC_ERR_INVALID_ARG, (wsrpc_error *)NULL);
    pthread_mutex_unlock(&stale_mu);
    /* concat with wrong params: the server's own -32602 */
    CHECK_ST(wsrpc_client_call(c, "concat", "{\"x\": 1}", 0, &res, &err), WSRPC_ERR_REMOTE, &err);
    CHECK(err.rpc_code == WSRPC_RPC_INVALID_PARAMS);
    wsrpc_error_clear(&err);

    /* timeout */
    CHECK_ST(wsrpc_client_call(c, "slow", "[1500]", 200, &res, &err), WSRPC_ERR_TIMEOUT, &err);
    CHECK(res == NULL);
    wsrpc_error_clear(&err);

    /* message too large (server limit 64 KiB: the server closes the connection) is tested
     * last; first the client-side limit on a separate client below */

    /* notifications */
    int before = atomic_load(&srv_notes);
    CHECK_ST(wsrpc_client_notify(c, "note", "{\"event\": \"x\"}", &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_client_notify(c, "note", NULL, &err), WSRPC_OK, &err);
    CHECK(wait_atomic(&srv_notes, before + 2, 3000));
    CHECK_ST(wsrpc_client_notify(c, "", NULL, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);

    /* async calls */
    struct done_box box;
    box_init(&box);
    CHECK_ST(wsrpc_client_call_async(c, "concat", "[\"as\", \"ync\"]", 5000, on_done, &box, &err), WSRPC_OK, &err);
    box_wait(&box, 1);
    CHECK(box.status == WSRPC_OK && strcmp(box.result, "\"async\"") == 0);
    CHECK_ST(wsrpc_client_call_async(c, "nope", NULL, 5000, on_done, &box, &err), WSRPC_OK, &err);
    box_wait(&box, 2);
    CHECK(box.status == WSRPC_ERR_REMOTE && box.rpc_code == WSRPC_RPC_METHOD_NOT_FOUND);
    CHECK_ST(wsrpc_client_call_async(c, "slow", "[1000]", 100, on_done, &box, &err), WSRPC_OK, &err);
    box_wait(&box, 3);
    CHECK(box.status == WSRPC_ERR_TIMEOUT);
    CHECK_ST(wsrpc_client_call_async(c, "echo", "[", 0, on_done, &box, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK(box.calls == 3); /* not called for a refused call */

    /* the server calls the client back: during a request, and from outside */
    int echoes = atomic_load(&cli_echoes);
    CHECK_ST(wsrpc_client_call(c, "call_back", "[\"ping-pong\"]", 5000, &res, &err), WSRPC_OK, &err);
    CHECK(strcmp(res, "[\"ping-pong\"]") == 0);
    wsrpc_free(res);
    CHECK(atomic_load(&cli_echoes) == echoes + 1);

    char *chan = NULL, *ids = NULL;
    CHECK_ST(wsrpc_client_channel_id(c, &chan, &err), WSRPC_OK, &err);
    CHECK(strlen(chan) == 32);
    CHECK_ST(wsrpc_client_channel_id(c, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_channels(g_server, &ids, &err), WSRPC_OK, &err);
    CHECK(ids[0] == '[' && strlen(ids) >= 36);
    /* the client's channel id is its own end's; the server knows the connection by the
     * server end's id (as its callbacks and events see it) */
    char sid[33];
    server_id(c, sid);
    CHECK(strstr(ids, sid) != NULL && strstr(ids, chan) == NULL);
    wsrpc_free(ids);
    CHECK_ST(wsrpc_server_call(g_server, sid, "client_echo", "{\"k\": [1, 2]}", 5000, &res, &err), WSRPC_OK, &err);
    CHECK(strstr(res, "\"k\"") != NULL);
    wsrpc_free(res);
    CHECK_ST(wsrpc_server_call(g_server, sid, "client_nope", NULL, 5000, &res, &err), WSRPC_ERR_REMOTE, &err);
    CHECK(err.rpc_code == WSRPC_RPC_METHOD_NOT_FOUND);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_server_call(g_server, "0123456789abcdef0123456789abcdef", "client_echo", NULL, 0, &res, &err), WSRPC_ERR_NOT_FOUND, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_server_call(g_server, NULL, "client_echo", NULL, 0, &res, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_server_call(g_server, sid, "client_echo", "nope", 0, &res, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    echoes = atomic_load(&cli_echoes);
    CHECK_ST(wsrpc_server_notify(g_server, sid, "client_echo", "[1]", &err), WSRPC_OK, &err);
    CHECK(wait_atomic(&cli_echoes, echoes + 1, 3000));
    CHECK_ST(wsrpc_server_notify(g_server, "unknown", "client_echo", "[1]", &err), WSRPC_ERR_NOT_FOUND, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_server_call_async(g_server, sid, "client_echo", "[7]", 5000, on_done, &box, &err), WSRPC_OK, &err);
    box_wait(&box, 4);
    CHECK(box.status == WSRPC_OK && strcmp(box.result, "[7]") == 0);
    CHECK_ST(wsrpc_server_call_async(g_server, sid, "client_echo", "[7]", 5000, NULL, &box, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_server_call_async(g_server, "nobody", "client_echo", "[7]", 5000, on_done, &box, &err), WSRPC_ERR_NOT_FOUND, &err);
    wsrpc_error_clear(&err);
    wsrpc_free(chan);

    /* registering after connecting works */
    CHECK_ST(wsrpc_client_register(c, "late", cli_echo, &cli_echoes, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_call(g_server, sid, "late", "[\"l\"]", 5000, &res, &err), WSRPC_OK, &err);
    wsrpc_free(res);

    /* close: events, then use-after-close and double close */
    int disc = atomic_load(&srv_disconnected);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);
    CHECK(atomic_load(&cli_disconnected) == 1); /* delivered before close returned */
    CHECK(wait_atomic(&srv_disconnected, disc + 1, 3000));
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_call(c, "echo", NULL, 0, &res, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_call_async(c, "echo", NULL, 0, on_done, &box, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_notify(c, "echo", NULL, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_register(c, "x", cli_echo, NULL, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_on_event(c, NULL, NULL, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_connect(c, g_url, 0, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_channel_id(c, &res, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);
    CHECK(box.calls == 4);
    box_destroy(&box);
}

static void test_limits(void) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    char *res = NULL;
    /* client-side size limit: nothing is sent */
    wsrpc_client *c = connect_client(g_url, "{\"max_message_size\": 200}");
    char big[512];
    memset(big, 'x', sizeof big);
    big[0] = '[';
    big[1] = '"';
    big[sizeof big - 3] = '"';
    big[sizeof big - 2] = ']';
    big[sizeof big - 1] = 0;
    CHECK_ST(wsrpc_client_call(c, "echo", big, 2000, &res, &err), WSRPC_ERR_MESSAGE_TOO_LARGE, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);

    /* backpressure: one pending call allowed */
    c = connect_client(g_url, "{\"max_pending_requests\": 1}");
    struct done_box box;
    box_init(&box);
    CHECK_ST(wsrpc_client_call_async(c, "slow", "[800]", 5000, on_done, &box, &err), WSRPC_OK, &err);
    sleep_ms(150);
    CHECK_ST(wsrpc_client_call(c, "echo", NULL, 2000, &res, &err), WSRPC_ERR_BACKPRESSURE, &err);
    wsrpc_error_clear(&err);
    box_wait(&box, 1);
    CHECK(box.status == WSRPC_OK);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);
    box_destroy(&box);
}

/* close while calls are pending: they complete with an error */
struct pending_arg {
    wsrpc_client *c;
    int status;
};

static void *pending_call(void *p) {
    struct pending_arg *a = p;
    char *res = NULL;
    wsrpc_error err = WSRPC_ERROR_INIT;
    a->status = wsrpc_client_call(a->c, "slow", "[3000]", 10000, &res, &err);
    CHECK(res == NULL);
    wsrpc_error_clear(&err);
    return NULL;
}

static void test_close_with_pending(void) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    wsrpc_client *c = connect_client(g_url, NULL);
    struct done_box box;
    box_init(&box);
    for (int i = 0; i < 3; i++) {
        CHECK_ST(wsrpc_client_call_async(c, "slow", "[3000]", 10000, on_done, &box, &err), WSRPC_OK, &err);
    }
    struct pending_arg a = {c, -1};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, pending_call, &a) == 0);
    sleep_ms(200);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);
    CHECK(box.calls == 3); /* every completion ran before close returned */
    CHECK(box.status == WSRPC_ERR_CLOSED || box.status == WSRPC_ERR_CONNECTION_LOST);
    pthread_join(t, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(a.status == WSRPC_ERR_CLOSED || a.status == WSRPC_ERR_CONNECTION_LOST);
    CHECK((t1.tv_sec - t0.tv_sec) < 3); /* did not wait for the slow calls */
    box_destroy(&box);
}

/* a client method that closes its own client from inside the callback */
static wsrpc_client *self_closer;
static atomic_int self_closed;

static void cli_close_self(void *user, const char *chan, const char *params, wsrpc_reply *r) {
    (void)user;
    (void)chan;
    (void)params;
    wsrpc_reply_result(r, "\"bye\"");
    int st = wsrpc_client_close(self_closer, NULL);
    CHECK(st == WSRPC_OK);
    CHECK(wsrpc_client_close(self_closer, NULL) == WSRPC_ERR_CLOSED);
    atomic_store(&self_closed, 1);
}

static void test_close_from_callback(void) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    self_closer = connect_client(g_url, NULL);
    CHECK_ST(wsrpc_client_register(self_closer, "close_self", cli_close_self, NULL, &err), WSRPC_OK, &err);
    char sid[33];
    server_id(self_closer, sid);
    struct done_box box;
    box_init(&box);
    CHECK_ST(wsrpc_server_call_async(g_server, sid, "close_self", NULL, 5000, on_done, &box, &err), WSRPC_OK, &err);
    box_wait(&box, 1);
    CHECK(wait_atomic(&self_closed, 1, 3000));
    /* the answer may or may not make it out before the connection closes */
    CHECK(box.status == WSRPC_OK || box.status == WSRPC_ERR_CONNECTION_LOST || box.status == WSRPC_ERR_CLOSED);
    box_destroy(&box);
    sleep_ms(100); /* let the background shutdown finish before the leak check */
}

/* concurrency: several threads share one client, others have their own */
#define THREADS 6
#define CALLS 40

/* async completions with small-integer user data (worker index + 1): the library must
 * never treat user_data as a pointer */
static atomic_int async_ok[THREADS];

static void on_done_tagged(void *user, int status, const char *result, const wsrpc_error *err) {
    uintptr_t tag = (uintptr_t)user;
    CHECK(tag >= 1 && tag <= THREADS);
    CHECK(status == WSRPC_OK && result != NULL && err == NULL);
    atomic_fetch_add(&async_ok[tag - 1], 1);
}

struct worker {
    wsrpc_client *shared;
    int id;
    int ok;
};

static void cli_tagged(void *user, const char *chan, const char *params, wsrpc_reply *r) {
    (void)chan;
    (void)params;
    char out[32];
    snprintf(out, sizeof out, "%d", (int)(uintptr_t)user);
    wsrpc_reply_result(r, out);
}

static void cli_event_tagged(void *user, const wsrpc_event *ev) {
    (void)ev;
    CHECK((uintptr_t)user == 3);
}

static void *worker(void *p) {
    struct worker *w = p;
    wsrpc_error err = WSRPC_ERROR_INIT;
    wsrpc_client *own = connect_client(g_url, NULL);
    /* methods and events with small-integer user data too */
    CHECK(wsrpc_client_register(own, "tagged", cli_tagged, (void *)(uintptr_t)(w->id + 7), &err) == WSRPC_OK);
    CHECK(wsrpc_client_on_event(own, cli_event_tagged, (void *)(uintptr_t)3, &err) == WSRPC_OK);
    for (int i = 0; i < CALLS; i++) {
        wsrpc_client *c = (i % 2) ? own : w->shared;
        char params[64], want[64], *res = NULL;
        snprintf(params, sizeof params, "[\"t%d-\", \"%d\"]", w->id, i);
        snprintf(want, sizeof want, "\"t%d-%d\"", w->id, i);
        if (i % 4 == 3) {
            CHECK(wsrpc_client_call_async(c, "concat", params, 5000, on_done_tagged,
                                          (void *)(uintptr_t)(w->id + 1), &err) == WSRPC_OK);
            continue;
        }
        int st = wsrpc_client_call(c, "concat", params, 5000, &res, &err);
        if (st != WSRPC_OK) {
            fprintf(stderr, "worker %d call %d: %s\n", w->id, i, err.message);
            wsrpc_error_clear(&err);
            continue;
        }
        if (strcmp(res, want) == 0) w->ok++;
        wsrpc_free(res);
        if (i % 10 == 0) {
            CHECK(wsrpc_client_notify(c, "note", "[]", NULL) == WSRPC_OK);
        }
    }
    CHECK(wait_atomic(&async_ok[w->id], CALLS / 4, 10000));
    w->ok += atomic_load(&async_ok[w->id]);
    char sid[33], *res = NULL, want[16];
    server_id(own, sid);
    CHECK(wsrpc_server_call(g_server, sid, "tagged", NULL, 5000, &res, &err) == WSRPC_OK);
    snprintf(want, sizeof want, "%d", w->id + 7);
    CHECK(strcmp(res, want) == 0);
    wsrpc_free(res);
    CHECK(wsrpc_client_close(own, NULL) == WSRPC_OK);
    return NULL;
}

static void test_concurrency(void) {
    wsrpc_client *shared = connect_client(g_url, NULL);
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){shared, i, 0};
        CHECK(pthread_create(&t[i], NULL, worker, &w[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].ok == CALLS);
    }
    CHECK(wsrpc_client_close(shared, NULL) == WSRPC_OK);
}

/* concurrent close of one client from several threads: exactly one wins */
static atomic_int close_ok, close_closed;

static void *closer(void *p) {
    int st = wsrpc_client_close((wsrpc_client *)p, NULL);
    if (st == WSRPC_OK) atomic_fetch_add(&close_ok, 1);
    if (st == WSRPC_ERR_CLOSED) atomic_fetch_add(&close_closed, 1);
    return NULL;
}

static void test_concurrent_close(void) {
    wsrpc_client *c = connect_client(g_url, NULL);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, closer, c) == 0);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    CHECK(atomic_load(&close_ok) == 1 && atomic_load(&close_closed) == 3);
}

/* reconnect events: the server goes away, the client tries again */
static void test_reconnect_events(void) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    wsrpc_server *s = wsrpc_server_new(NULL, &err);
    CHECK(s != NULL);
    char *url = NULL;
    CHECK_ST(wsrpc_server_listen(s, "127.0.0.1:0", "/rc", &url, &err), WSRPC_OK, &err);
    atomic_store(&cli_connected, 0);
    atomic_store(&cli_disconnected, 0);
    atomic_store(&cli_reconnecting, 0);
    wsrpc_client *c = wsrpc_client_new(
        "{\"auto_reconnect\": true, \"reconnect_delay\": 0.05, \"max_reconnect_delay\": 0.1,"
        " \"max_reconnect_attempts\": -1}", &err);
    CHECK(c != NULL);
    CHECK_ST(wsrpc_client_on_event(c, cli_event, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_client_connect(c, url, 5000, &err), WSRPC_OK, &err);
    CHECK(atomic_load(&cli_connected) == 1);
    CHECK_ST(wsrpc_server_close(s, &err), WSRPC_OK, &err);
    CHECK(wait_atomic(&cli_disconnected, 1, 3000));
    CHECK(wait_atomic(&cli_reconnecting, 2, 3000));
    /* while reconnecting, a call with a deadline times out */
    char *res = NULL;
    CHECK_ST(wsrpc_client_call(c, "ping", NULL, 100, &res, &err), WSRPC_ERR_TIMEOUT, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);
    int n = atomic_load(&cli_reconnecting);
    sleep_ms(200);
    CHECK(atomic_load(&cli_reconnecting) == n); /* no callback after close returned */
    /* use after close of the server */
    CHECK_ST(wsrpc_server_listen(s, "127.0.0.1:0", NULL, NULL, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_server_register(s, "x", srv_echo, NULL, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_server_call(s, "x", "y", NULL, 0, NULL, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);
    wsrpc_free(url);
}

/* the server closes while a client is connected: the client's calls fail cleanly */
static void test_server_close(void) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    wsrpc_client *c = connect_client(g_url, "{\"auto_reconnect\": false}");
    struct done_box box;
    box_init(&box);
    CHECK_ST(wsrpc_client_call_async(c, "slow", "[2000]", 10000, on_done, &box, &err), WSRPC_OK, &err);
    sleep_ms(100);
    /* server messages above 64 KiB close the connection; just close the server instead */
    CHECK_ST(wsrpc_server_close(g_server, &err), WSRPC_OK, &err);
    box_wait(&box, 1);
    CHECK(box.status == WSRPC_ERR_CONNECTION_LOST || box.status == WSRPC_ERR_CLOSED);
    char *res = NULL;
    int st = wsrpc_client_call(c, "echo", NULL, 1000, &res, &err);
    CHECK(st == WSRPC_ERR_CLOSED || st == WSRPC_ERR_CONNECTION_LOST);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_close(g_server, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);
    box_destroy(&box);
}

/* Every option is checked by *_new, and the message names the option. */
static void test_options(void) {
    static const struct {
        const char *options, *names;
    } bad[] = {
        {"{\"default_response_timeout\": -1}", "\"default_response_timeout\""},
        {"{\"default_response_timeout\": \"5\"}", "\"default_response_timeout\""},
        {"{\"default_response_timeout\": 1e300}", "\"default_response_timeout\""},
        {"{\"retry\": {\"enabled\": \"yes\"}}", "\"retry.enabled\""},
        {"{\"retry\": {\"max_attempts\": 0}}", "\"retry.max_attempts\""},
        {"{\"max_message_size\": 0}", "\"max_message_size\""},
        {"{\"keepalive\": {\"interval\": -2}}", "\"keepalive.interval\""},
        {"{\"log_level\": \"loud\"}", "\"log_level\""},
        {"{\"headers\": {\"X-A\": 1}}", "\"headers"},
        {"{\"no_such_option\": true}", "\"no_such_option\""},
        {"[1]", "JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wsrpc_error err = WSRPC_ERROR_INIT;
        CHECK(wsrpc_client_new(bad[i].options, &err) == NULL);
        if (err.status != WSRPC_ERR_INVALID_ARG || strstr(err.message, bad[i].names) == NULL) {
            fprintf(stderr, "options %s: status %d, message %s\n", bad[i].options, err.status, err.message);
            CHECK(0);
        }
        wsrpc_error_clear(&err);
        CHECK(wsrpc_server_new(bad[i].options, &err) == NULL);
        CHECK(err.status == WSRPC_ERR_INVALID_ARG && strstr(err.message, bad[i].names) != NULL);
        wsrpc_error_clear(&err);
    }
    wsrpc_error err = WSRPC_ERROR_INIT;
    wsrpc_client *c = wsrpc_client_new("{\"log_level\": \"OFF\", \"default_response_timeout\": 0}", &err);
    CHECK(c != NULL);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);
}

/* log records: level, message and attributes, through wsrpc_set_log_handler */
static struct {
    pthread_mutex_t mu;
    int records, level, reentry;
    char attrs[512];
} logbox = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, ""};

static void on_log(void *user, int level, const char *message, const char *attrs) {
    CHECK(user == &logbox && message != NULL && attrs != NULL && attrs[0] == '{');
    if (strcmp(message, "Failed to execute method") != 0) {
        return;
    }
    pthread_mutex_lock(&logbox.mu);
    logbox.records++;
    logbox.level = level;
    snprintf(logbox.attrs, sizeof logbox.attrs, "%s", attrs);
    logbox.reentry = wsrpc_set_log_handler(NULL, NULL); /* refused: it would wait for itself */
    pthread_mutex_unlock(&logbox.mu);
}

static int log_records_for(const char *options) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    char *url = NULL;
    wsrpc_server *s = wsrpc_server_new(options, &err);
    CHECK(s != NULL);
    CHECK_ST(wsrpc_server_register(s, "crash", srv_crash, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_listen(s, "127.0.0.1:0", "/ws", &url, &err), WSRPC_OK, &err);
    wsrpc_client *c = connect_client(url, NULL);
    pthread_mutex_lock(&logbox.mu);
    logbox.records = 0;
    pthread_mutex_unlock(&logbox.mu);
    CHECK_ST(wsrpc_client_call(c, "crash", NULL, 5000, NULL, &err), WSRPC_ERR_REMOTE, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_close(s, &err), WSRPC_OK, &err); /* the record was logged before the answer */
    wsrpc_free(url);
    pthread_mutex_lock(&logbox.mu);
    int n = logbox.records;
    pthread_mutex_unlock(&logbox.mu);
    return n;
}

static void test_log_handler(void) {
    CHECK(wsrpc_set_log_handler(on_log, &logbox) == WSRPC_OK);
    CHECK(log_records_for("{\"log_level\": \"error\"}") == 1);
    CHECK(logbox.level == WSRPC_LOG_ERROR);
    CHECK(strstr(logbox.attrs, "\"method\":\"crash\"") != NULL);
    CHECK(strstr(logbox.attrs, "\"err\":\"secret detail\"") != NULL);
    CHECK(logbox.reentry == WSRPC_ERR_STATE);
    CHECK(log_records_for("{\"log_level\": \"off\"}") == 0);
    CHECK(wsrpc_set_log_handler(NULL, NULL) == WSRPC_OK);
    CHECK(log_records_for("{\"log_level\": \"off\"}") == 0); /* and nothing on stderr either */
}

/* pending calls: start, wait in slices, release */
static void test_pending_calls(void) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    char *res = NULL;
    wsrpc_call *call = (wsrpc_call *)"sentinel";
    CHECK_ST(wsrpc_client_call_start(NULL, "m", NULL, 0, &call, &err), WSRPC_ERR_INVALID_ARG, &err);
    CHECK(call == NULL);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_call_wait(NULL, 0, &res, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK(wsrpc_call_release(NULL) == WSRPC_ERR_INVALID_ARG);

    wsrpc_client *c = connect_client(g_url, NULL);
    CHECK_ST(wsrpc_client_call_start(c, "slow", "[300]", 5000, NULL, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_call_start(c, "concat", "{bad", 0, &call, &err), WSRPC_ERR_INVALID_ARG, &err);
    CHECK(call == NULL);
    wsrpc_error_clear(&err);

    /* waited for in slices until it finishes */
    CHECK_ST(wsrpc_client_call_start(c, "slow", "[300]", 5000, &call, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_call_wait(call, 0, &res, &err), WSRPC_PENDING, (wsrpc_error *)NULL);
    CHECK(res == NULL && err.message == NULL);
    int slices = 0, st;
    while ((st = wsrpc_call_wait(call, 20, &res, &err)) == WSRPC_PENDING) {
        slices++;
    }
    CHECK_ST(st, WSRPC_OK, &err);
    CHECK(slices >= 1 && res != NULL && strcmp(res, "300") == 0);
    wsrpc_free(res);
    res = NULL;
    CHECK_ST(wsrpc_call_wait(call, 0, &res, &err), WSRPC_ERR_CLOSED, &err); /* released */
    wsrpc_error_clear(&err);
    CHECK(wsrpc_call_release(call) == WSRPC_ERR_CLOSED);

    /* remote errors and blocking waits */
    CHECK_ST(wsrpc_client_call_start(c, "fail", NULL, 5000, &call, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_call_wait(call, -1, &res, &err), WSRPC_ERR_REMOTE, &err);
    CHECK(err.rpc_code == 4001 && strcmp(err.message, "custom failure") == 0 && res == NULL);
    wsrpc_error_clear(&err);

    /* released before it finishes: the client goes on working */
    CHECK_ST(wsrpc_client_call_start(c, "slow", "[300]", 5000, &call, &err), WSRPC_OK, &err);
    CHECK(wsrpc_call_release(call) == WSRPC_OK);
    CHECK(wsrpc_call_release(call) == WSRPC_ERR_CLOSED);
    CHECK_ST(wsrpc_client_call(c, "concat", "[\"o\", \"k\"]", 5000, &res, &err), WSRPC_OK, &err);
    CHECK(strcmp(res, "\"ok\"") == 0);
    wsrpc_free(res);
    res = NULL;

    /* the server side, calling this client back */
    char chan[33];
    server_id(c, chan);
    CHECK_ST(wsrpc_server_call_start(g_server, chan, "client_echo", "[\"x\"]", 5000, &call, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_call_wait(call, -1, &res, &err), WSRPC_OK, &err);
    CHECK(strcmp(res, "[\"x\"]") == 0); /* client_echo answers its params */
    wsrpc_free(res);
    res = NULL;
    CHECK_ST(wsrpc_server_call_start(g_server, "0123", "client_echo", NULL, 5000, &call, &err), WSRPC_ERR_NOT_FOUND, &err);
    wsrpc_error_clear(&err);

    /* closing the client fails a pending call; the handle is still waited for */
    CHECK_ST(wsrpc_client_call_start(c, "slow", "[2000]", 5000, &call, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);
    st = wsrpc_call_wait(call, -1, &res, &err);
    CHECK(st == WSRPC_ERR_CLOSED || st == WSRPC_ERR_CONNECTION_LOST);
    CHECK(res == NULL && err.message != NULL);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_call_start(c, "slow", "[1]", 0, &call, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);
}

/* ---- cancellation on the wire -------------------------------------------------------- */

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

struct waiter_arg {
    wsrpc_call *call;
    int status;
};

static void *wait_in_thread(void *p) {
    struct waiter_arg *w = p;
    wsrpc_error err = WSRPC_ERROR_INIT;
    char *res = NULL;
    w->status = wsrpc_call_wait(w->call, -1, &res, &err);
    CHECK(res == NULL);
    wsrpc_error_clear(&err);
    return NULL;
}

/* Every way a C caller gives up a call cancels the C server's handler (wsrpc_reply_check),
 * between two wsrpc peers; a client that declined the extensions leaves it running. */
static void test_cancel(void) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    char *res = NULL;
    char params[32];
    wsrpc_call *call = NULL;
    CHECK(wsrpc_call_cancel(NULL) == WSRPC_ERR_INVALID_ARG);
    CHECK_ST(wsrpc_call_on_done(NULL, on_done, NULL, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    wsrpc_client *c = connect_client(g_url, NULL);

    /* wsrpc_call_cancel, 5 times: the handler sees it within 5 s each time, and the median
     * latency from the cancel to the handler seeing it is at most 50 ms */
    enum { REPS = 5 };
    long long lat[REPS];
    for (int i = 0; i < REPS; i++) {
        snprintf(params, sizeof params, "[%d, 20000]", i);
        CHECK_ST(wsrpc_client_call_start(c, "wait_cancel", params, 30000, &call, &err), WSRPC_OK, &err);
        CHECK(wait_atomic(&wc_started[i], 1, 5000));
        sleep_ms(20);
        long long t0 = now_ns();
        CHECK(wsrpc_call_cancel(call) == WSRPC_OK);
        CHECK_ST(wsrpc_call_wait(call, -1, &res, &err), WSRPC_ERR_CANCELED, &err);
        CHECK(res == NULL);
        wsrpc_error_clear(&err);
        CHECK(wsrpc_call_cancel(call) == WSRPC_ERR_CLOSED); /* the wait took the outcome */
        CHECK(wait_atomic(&wc_canceled[i], 1, 5000));
        lat[i] = atomic_load(&wc_seen_ns[i]) - t0;
        CHECK(lat[i] >= 0);
    }
    qsort(lat, REPS, sizeof lat[0], cmp_ll);
    printf("     cancel -> handler sees it: median %.2f ms (min %.2f, max %.2f) over %d\n",
           lat[REPS / 2] / 1e6, lat[0] / 1e6, lat[REPS - 1] / 1e6, REPS);
    CHECK(lat[REPS / 2] <= 50LL * 1000000LL);

    /* a wait blocked in another thread returns WSRPC_ERR_CANCELED */
    struct waiter_arg w = {NULL, -1};
    CHECK_ST(wsrpc_client_call_start(c, "wait_cancel", "[5, 20000]", 30000, &w.call, &err), WSRPC_OK, &err);
    CHECK(wait_atomic(&wc_started[5], 1, 5000));
    pthread_t th;
    CHECK(pthread_create(&th, NULL, wait_in_thread, &w) == 0);
    sleep_ms(20);
    CHECK(wsrpc_call_cancel(w.call) == WSRPC_OK);
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(w.status == WSRPC_ERR_CANCELED);
    CHECK(wait_atomic(&wc_canceled[5], 1, 5000));

    /* a sync call's timeout cancels the handler */
    CHECK_ST(wsrpc_client_call(c, "wait_cancel", "[6, 20000]", 200, &res, &err), WSRPC_ERR_TIMEOUT, &err);
    wsrpc_error_clear(&err);
    CHECK(wait_atomic(&wc_canceled[6], 1, 5000));

    /* an async call's timeout too */
    struct done_box box;
    box_init(&box);
    CHECK_ST(wsrpc_client_call_async(c, "wait_cancel", "[7, 20000]", 200, on_done, &box, &err), WSRPC_OK, &err);
    box_wait(&box, 1);
    CHECK(box.status == WSRPC_ERR_TIMEOUT);
    CHECK(wait_atomic(&wc_canceled[7], 1, 5000));

    /* wsrpc_call_release */
    CHECK_ST(wsrpc_client_call_start(c, "wait_cancel", "[8, 20000]", 30000, &call, &err), WSRPC_OK, &err);
    CHECK(wait_atomic(&wc_started[8], 1, 5000));
    CHECK(wsrpc_call_release(call) == WSRPC_OK);
    CHECK(wait_atomic(&wc_canceled[8], 1, 5000));

    /* a call with a done callback: cancelled, done gets WSRPC_ERR_CANCELED once */
    box.calls = 0;
    CHECK_ST(wsrpc_client_call_start(c, "wait_cancel", "[9, 20000]", 30000, &call, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_call_on_done(call, on_done, &box, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_call_on_done(call, on_done, &box, &err), WSRPC_ERR_STATE, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_call_wait(call, 0, &res, &err), WSRPC_ERR_STATE, &err);
    wsrpc_error_clear(&err);
    CHECK(wait_atomic(&wc_started[9], 1, 5000));
    CHECK(wsrpc_call_cancel(call) == WSRPC_OK);
    box_wait(&box, 1);
    CHECK(box.calls == 1 && box.status == WSRPC_ERR_CANCELED);
    CHECK(wait_atomic(&wc_canceled[9], 1, 5000));

    /* a done callback gets a normal answer, and the handle ends with it */
    box.calls = 0;
    CHECK_ST(wsrpc_client_call_start(c, "concat", "[\"a\", \"b\"]", 5000, &call, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_call_on_done(call, on_done, &box, &err), WSRPC_OK, &err);
    box_wait(&box, 1);
    CHECK(box.status == WSRPC_OK && strcmp(box.result, "\"ab\"") == 0);
    for (int i = 0; i < 1000 && wsrpc_call_cancel(call) != WSRPC_ERR_CLOSED; i++) {
        sleep_ms(5); /* released right after done returns */
    }
    CHECK(wsrpc_call_cancel(call) == WSRPC_ERR_CLOSED);

    /* wsrpc_client_call_async_cancelable: answered, then cancelled */
    CHECK_ST(wsrpc_client_call_async_cancelable(c, "concat", "[\"g\", \"h\"]", 5000, on_done, &box, NULL, &err),
             WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_call_async_cancelable(c, "concat", NULL, 5000, NULL, &box, &call, &err),
             WSRPC_ERR_INVALID_ARG, &err);
    CHECK(call == NULL);
    wsrpc_error_clear(&err);
    box.calls = 0;
    CHECK_ST(wsrpc_client_call_async_cancelable(c, "concat", "[\"g\", \"h\"]", 5000, on_done, &box, &call, &err),
             WSRPC_OK, &err);
    CHECK(call != NULL);
    box_wait(&box, 1);
    CHECK(box.status == WSRPC_OK && strcmp(box.result, "\"gh\"") == 0);
    CHECK(wsrpc_call_cancel(call) == WSRPC_ERR_CLOSED); /* released before done ran */
    box.calls = 0;
    CHECK_ST(wsrpc_client_call_async_cancelable(c, "wait_cancel", "[14, 20000]", 30000, on_done, &box, &call, &err),
             WSRPC_OK, &err);
    CHECK_ST(wsrpc_call_wait(call, 0, &res, &err), WSRPC_ERR_STATE, &err);
    wsrpc_error_clear(&err);
    CHECK(wait_atomic(&wc_started[14], 1, 5000));
    CHECK(wsrpc_call_cancel(call) == WSRPC_OK);
    box_wait(&box, 1);
    CHECK(box.calls == 1 && box.status == WSRPC_ERR_CANCELED);
    CHECK(wait_atomic(&wc_canceled[14], 1, 5000));

    /* the server's side: a cancelled call cancels the client's handler */
    char chan[33];
    server_id(c, chan);
    CHECK_ST(wsrpc_client_register(c, "wait_cancel", srv_wait_cancel, NULL, &err), WSRPC_OK, &err);
    box.calls = 0;
    CHECK_ST(wsrpc_server_call_async_cancelable(g_server, chan, "wait_cancel", "[15, 20000]", 30000, on_done, &box,
                                                &call, &err),
             WSRPC_OK, &err);
    CHECK(wait_atomic(&wc_started[15], 1, 5000));
    CHECK(wsrpc_call_release(call) == WSRPC_OK); /* cancels; done still runs */
    box_wait(&box, 1);
    CHECK(box.status == WSRPC_ERR_CANCELED);
    CHECK(wait_atomic(&wc_canceled[15], 1, 5000));

    /* cancelling a call that has been answered: its outcome stands */
    CHECK_ST(wsrpc_client_call_start(c, "concat", "[\"c\", \"d\"]", 5000, &call, &err), WSRPC_OK, &err);
    box.calls = 0;
    CHECK_ST(wsrpc_client_call_async(c, "concat", "[\"e\", \"f\"]", 5000, on_done, &box, &err), WSRPC_OK, &err);
    box_wait(&box, 1); /* answered after the first call's answer (one connection, in order) */
    CHECK(wsrpc_call_cancel(call) == WSRPC_OK);
    CHECK_ST(wsrpc_call_wait(call, -1, &res, &err), WSRPC_OK, &err);
    CHECK(strcmp(res, "\"cd\"") == 0);
    wsrpc_free(res);
    res = NULL;
    box_destroy(&box);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);

    /* a client without the extensions: nothing is sent, the handler runs to its end */
    c = connect_client(g_url, "{\"extensions\": false}");
    CHECK_ST(wsrpc_client_call_start(c, "wait_cancel", "[10, 300]", 30000, &call, &err), WSRPC_OK, &err);
    CHECK(wait_atomic(&wc_started[10], 1, 5000));
    CHECK(wsrpc_call_cancel(call) == WSRPC_OK);
    CHECK_ST(wsrpc_call_wait(call, -1, &res, &err), WSRPC_ERR_CANCELED, &err);
    wsrpc_error_clear(&err);
    CHECK(wait_atomic(&wc_ended[10], 1, 5000));
    CHECK(atomic_load(&wc_canceled[10]) == 0);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);

    /* the server closing cancels the handlers still running: tested by close_with_pending's
     * slow handler; here, the handler of a closed client connection sees it */
    c = connect_client(g_url, NULL);
    CHECK_ST(wsrpc_client_call_start(c, "wait_cancel", "[11, 20000]", 30000, &call, &err), WSRPC_OK, &err);
    CHECK(wait_atomic(&wc_started[11], 1, 5000));
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);
    CHECK(wait_atomic(&wc_canceled[11], 1, 5000));
    int st = wsrpc_call_wait(call, -1, &res, &err);
    CHECK(st == WSRPC_ERR_CLOSED || st == WSRPC_ERR_CONNECTION_LOST);
    wsrpc_error_clear(&err);
}

/* Against a Go handler (tests/cancelserver, its URL in WSRPC_TEST_GO_SERVER; make test-c
 * starts one): the handler's ctx.Done() follows wsrpc_call_cancel within 5 s, 5 times, with
 * a median latency of at most 50 ms (measured on the wall clock, which both processes share);
 * a sync call's timeout cancels it too. */
static long long realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* go_call(c, method, params): the result of a call that must succeed, as a number */
static long long go_call(wsrpc_client *c, const char *method, const char *params) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    char *res = NULL;
    CHECK_ST(wsrpc_client_call(c, method, params, 10000, &res, &err), WSRPC_OK, &err);
    long long v = strcmp(res, "true") == 0 ? 1 : strcmp(res, "false") == 0 ? 0 : strtoll(res, NULL, 10);
    wsrpc_free(res);
    return v;
}

static void test_cancel_go_handler(void) {
    const char *url = getenv("WSRPC_TEST_GO_SERVER");
    if (url == NULL || url[0] == 0) {
        printf("     skipped: WSRPC_TEST_GO_SERVER is not set\n");
        return;
    }
    wsrpc_error err = WSRPC_ERROR_INIT;
    char *res = NULL;
    char params[64];
    wsrpc_call *call = NULL;
    wsrpc_client *c = connect_client(url, NULL);
    enum { REPS = 5 };
    long long lat[REPS];
    for (int i = 0; i < REPS; i++) {
        snprintf(params, sizeof params, "[\"c%d\"]", i);
        CHECK_ST(wsrpc_client_call_start(c, "wait_cancel", params, 30000, &call, &err), WSRPC_OK, &err);
        snprintf(params, sizeof params, "[\"c%d\", 5]", i);
        CHECK(go_call(c, "started", params) == 1);
        sleep_ms(20);
        long long t0 = realtime_ns();
        CHECK(wsrpc_call_cancel(call) == WSRPC_OK);
        CHECK_ST(wsrpc_call_wait(call, -1, &res, &err), WSRPC_ERR_CANCELED, &err);
        wsrpc_error_clear(&err);
        long long at = go_call(c, "cancelled", params);
        CHECK(at > 0); /* seen within 5 s */
        lat[i] = at - t0;
    }
    qsort(lat, REPS, sizeof lat[0], cmp_ll);
    printf("     cancel -> Go handler's ctx.Done(): median %.2f ms (min %.2f, max %.2f) over %d\n",
           lat[REPS / 2] / 1e6, lat[0] / 1e6, lat[REPS - 1] / 1e6, REPS);
    CHECK(lat[REPS / 2] <= 50LL * 1000000LL);

    CHECK_ST(wsrpc_client_call(c, "wait_cancel", "[\"c-timeout\"]", 200, &res, &err), WSRPC_ERR_TIMEOUT, &err);
    wsrpc_error_clear(&err);
    CHECK(go_call(c, "cancelled", "[\"c-timeout\", 5]") > 0);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);
}

/* ---- batches ------------------------------------------------------------------------- */

static void check_result(wsrpc_batch *b, int index, const char *want) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    char *res = NULL;
    CHECK_ST(wsrpc_batch_result(b, index, &res, &err), WSRPC_OK, &err);
    if (strcmp(res, want) != 0) {
        fprintf(stderr, "entry %d: got %s, want %s\n", index, res, want);
        CHECK(0);
    }
    wsrpc_free(res);
}

static void test_batches(void) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    char *res = NULL;
    int idx = -1;
    CHECK(wsrpc_client_batch_new(NULL, 0, &err) == NULL && err.status == WSRPC_ERR_INVALID_ARG);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_batch_call(NULL, "m", NULL, NULL, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK(wsrpc_batch_free(NULL) == WSRPC_ERR_INVALID_ARG);

    wsrpc_client *c = connect_client(g_url, NULL);
    CHECK(wsrpc_client_batch_new(c, 4, &err) == NULL && err.status == WSRPC_ERR_INVALID_ARG);
    wsrpc_error_clear(&err);

    /* calls and a notification; results in entry order, a member's error its own */
    int notes = atomic_load(&srv_notes);
    wsrpc_batch *b = wsrpc_client_batch_new(c, 0, &err);
    CHECK(b != NULL);
    CHECK_ST(wsrpc_batch_result(b, 0, &res, &err), WSRPC_ERR_STATE, &err); /* not sent */
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_batch_wait(b, 0, &err), WSRPC_ERR_STATE, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_batch_call(b, "concat", "[\"a\", \"b\"]", &idx, &err), WSRPC_OK, &err);
    CHECK(idx == 0);
    CHECK_ST(wsrpc_batch_notify(b, "note", NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_call(b, "fail", NULL, &idx, &err), WSRPC_OK, &err);
    CHECK(idx == 2);
    CHECK_ST(wsrpc_batch_call(b, "echo", "{\"x\": [1, 2]}", &idx, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_call(b, "slow", "[100]", NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_call(b, "no_such_method", NULL, NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_call(b, "", NULL, NULL, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_batch_call(b, "echo", "{bad", NULL, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_batch_send(b, -1, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_batch_send(b, 10000, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_send(b, 10000, &err), WSRPC_ERR_STATE, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_batch_notify(b, "note", NULL, &err), WSRPC_ERR_STATE, &err);
    wsrpc_error_clear(&err);
    int st;
    while ((st = wsrpc_batch_wait(b, 10, &err)) == WSRPC_PENDING) {
    }
    CHECK_ST(st, WSRPC_OK, &err);
    check_result(b, 0, "\"ab\"");
    check_result(b, 0, "\"ab\""); /* read again */
    check_result(b, 3, "{\"x\": [1, 2]}");
    check_result(b, 4, "100");
    CHECK_ST(wsrpc_batch_result(b, 2, &res, &err), WSRPC_ERR_REMOTE, &err);
    CHECK(err.rpc_code == 4001 && strcmp(err.message, "custom failure") == 0 && res == NULL);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_batch_result(b, 5, &res, &err), WSRPC_ERR_REMOTE, &err);
    CHECK(err.rpc_code == WSRPC_RPC_METHOD_NOT_FOUND);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_batch_result(b, 1, &res, &err), WSRPC_ERR_INVALID_ARG, &err); /* a notification */
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_batch_result(b, 6, &res, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);
    CHECK(wait_atomic(&srv_notes, notes + 1, 5000));
    CHECK(wsrpc_batch_free(b) == WSRPC_OK);
    CHECK(wsrpc_batch_free(b) == WSRPC_ERR_CLOSED);
    CHECK_ST(wsrpc_batch_result(b, 0, &res, &err), WSRPC_ERR_CLOSED, &err);
    wsrpc_error_clear(&err);

    /* the README's example */
    notes = atomic_load(&srv_notes);
    b = wsrpc_client_batch_new(c, 0, &err);
    int sum;
    CHECK_ST(wsrpc_batch_call(b, "sum", "[1, 2, 4]", &sum, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_notify(b, "log_event", "{\"level\": \"info\"}", &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_send(b, 5000, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_wait(b, -1, &err), WSRPC_OK, &err);
    check_result(b, sum, "7");
    CHECK(wait_atomic(&srv_notes, notes + 1, 5000));
    CHECK(wsrpc_batch_free(b) == WSRPC_OK);

    /* notifications only: nothing to wait for */
    b = wsrpc_client_batch_new(c, 0, &err);
    CHECK_ST(wsrpc_batch_send(b, 0, &err), WSRPC_ERR_INVALID_ARG, &err); /* empty */
    wsrpc_error_clear(&err);
    CHECK(wsrpc_batch_free(b) == WSRPC_OK);
    notes = atomic_load(&srv_notes);
    b = wsrpc_client_batch_new(c, 0, &err);
    CHECK_ST(wsrpc_batch_notify(b, "note", NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_notify(b, "note", "[1]", &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_send(b, 0, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_wait(b, 0, &err), WSRPC_OK, &err);
    CHECK(wait_atomic(&srv_notes, notes + 2, 5000));
    CHECK(wsrpc_batch_free(b) == WSRPC_OK);

    /* completion callback */
    struct done_box box;
    box_init(&box);
    b = wsrpc_client_batch_new(c, 0, &err);
    CHECK_ST(wsrpc_batch_call(b, "slow", "[50]", NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_call(b, "concat", "{\"a\": \"x\", \"b\": \"y\"}", NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_on_done(b, on_done, &box, &err), WSRPC_ERR_STATE, &err); /* not sent */
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_batch_send(b, 0, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_on_done(b, on_done, &box, &err), WSRPC_OK, &err);
    box_wait(&box, 1);
    CHECK(box.status == WSRPC_OK);
    check_result(b, 0, "50");
    check_result(b, 1, "\"xy\"");
    CHECK(wsrpc_batch_free(b) == WSRPC_OK);

    /* a timeout ends the calls still unanswered (and cancels their handlers) */
    b = wsrpc_client_batch_new(c, 0, &err);
    CHECK_ST(wsrpc_batch_call(b, "wait_cancel", "[12, 20000]", NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_call(b, "concat", "[\"o\", \"k\"]", NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_send(b, 300, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_wait(b, -1, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_result(b, 0, &res, &err), WSRPC_ERR_TIMEOUT, &err);
    wsrpc_error_clear(&err);
    CHECK(wait_atomic(&wc_canceled[12], 1, 5000));
    /* concat's answer comes in the batch's one array, which goes only once wait_cancel has
     * ended (cancelled, after the deadline): it may or may not have arrived when entry 1 is
     * read, so either outcome is right */
    st = wsrpc_batch_result(b, 1, &res, &err);
    CHECK(st == WSRPC_OK || st == WSRPC_ERR_TIMEOUT);
    wsrpc_free(res);
    res = NULL;
    wsrpc_error_clear(&err);
    CHECK(wsrpc_batch_free(b) == WSRPC_OK);

    /* freeing a sent batch gives up its calls: the handler is cancelled */
    b = wsrpc_client_batch_new(c, 0, &err);
    CHECK_ST(wsrpc_batch_call(b, "wait_cancel", "[13, 20000]", NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_send(b, 0, &err), WSRPC_OK, &err);
    CHECK(wait_atomic(&wc_started[13], 1, 5000));
    CHECK(wsrpc_batch_free(b) == WSRPC_OK);
    CHECK(wait_atomic(&wc_canceled[13], 1, 5000));

    /* the server's side: a batch to a connected client */
    char chan[33];
    server_id(c, chan);
    CHECK(wsrpc_server_batch_new(g_server, "0123", 0, &err) == NULL && err.status == WSRPC_ERR_NOT_FOUND);
    wsrpc_error_clear(&err);
    int echoes = atomic_load(&cli_echoes);
    b = wsrpc_server_batch_new(g_server, chan, 0, &err);
    CHECK(b != NULL);
    CHECK_ST(wsrpc_batch_call(b, "client_echo", "[1]", NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_call(b, "client_echo", "{\"k\": \"v\"}", NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_send(b, 5000, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_wait(b, -1, &err), WSRPC_OK, &err);
    check_result(b, 0, "[1]");
    check_result(b, 1, "{\"k\": \"v\"}");
    CHECK(atomic_load(&cli_echoes) == echoes + 2);
    CHECK(wsrpc_batch_free(b) == WSRPC_OK);

    /* a batch outlives its client: its calls end (closed), the handle stays until freed */
    b = wsrpc_client_batch_new(c, 0, &err);
    CHECK_ST(wsrpc_batch_call(b, "slow", "[2000]", NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_send(b, 0, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_wait(b, -1, &err), WSRPC_OK, &err);
    st = wsrpc_batch_result(b, 0, &res, &err);
    CHECK(st == WSRPC_ERR_CLOSED || st == WSRPC_ERR_CONNECTION_LOST);
    wsrpc_error_clear(&err);
    CHECK(wsrpc_batch_free(b) == WSRPC_OK);
    CHECK(wsrpc_client_batch_new(c, 0, &err) == NULL && err.status == WSRPC_ERR_CLOSED);
    wsrpc_error_clear(&err);
    box_destroy(&box);
}

/* Against a Python fastapi-ws-rpc server (its URL in WSRPC_TEST_PY_SERVER; make test-c
 * starts one): a batch is refused as a whole, or split into single calls. */
static void test_batch_python_peer(void) {
    const char *url = getenv("WSRPC_TEST_PY_SERVER");
    if (url == NULL || url[0] == 0) {
        printf("     skipped: WSRPC_TEST_PY_SERVER is not set\n");
        return;
    }
    wsrpc_error err = WSRPC_ERROR_INIT;
    char *res = NULL;
    wsrpc_client *c = connect_client(url, NULL);
    wsrpc_batch *b = wsrpc_client_batch_new(c, 0, &err);
    CHECK_ST(wsrpc_batch_call(b, "concat", "{\"a\": \"a\", \"b\": \"b\"}", NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_notify(b, "ping", NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_call(b, "concat", "{\"a\": \"c\", \"b\": \"d\"}", NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_send(b, 10000, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_wait(b, -1, &err), WSRPC_OK, &err);
    for (int i = 0; i < 3; i += 2) {
        CHECK_ST(wsrpc_batch_result(b, i, &res, &err), WSRPC_ERR_BATCH_UNSUPPORTED, &err);
        CHECK(strcmp(wsrpc_status_name(err.status), "batch unsupported") == 0);
        wsrpc_error_clear(&err);
    }
    CHECK(wsrpc_batch_free(b) == WSRPC_OK);
    /* the connection remembers: the next batch is refused at once */
    b = wsrpc_client_batch_new(c, 0, &err);
    CHECK_ST(wsrpc_batch_call(b, "concat", "{\"a\": \"a\", \"b\": \"b\"}", NULL, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_batch_send(b, 10000, &err), WSRPC_ERR_BATCH_UNSUPPORTED, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_batch_result(b, 0, &res, &err), WSRPC_ERR_BATCH_UNSUPPORTED, &err);
    wsrpc_error_clear(&err);
    CHECK(wsrpc_batch_free(b) == WSRPC_OK);
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);

    /* WSRPC_BATCH_SPLIT: the entries go again one by one */
    c = connect_client(url, NULL);
    for (int round = 0; round < 2; round++) { /* refused then split; then split at once */
        b = wsrpc_client_batch_new(c, WSRPC_BATCH_SPLIT, &err);
        CHECK(b != NULL);
        CHECK_ST(wsrpc_batch_call(b, "concat", "{\"a\": \"a\", \"b\": \"b\"}", NULL, &err), WSRPC_OK, &err);
        CHECK_ST(wsrpc_batch_notify(b, "ping", NULL, &err), WSRPC_OK, &err);
        CHECK_ST(wsrpc_batch_call(b, "concat", "{\"a\": \"c\", \"b\": \"d\"}", NULL, &err), WSRPC_OK, &err);
        CHECK_ST(wsrpc_batch_send(b, 10000, &err), WSRPC_OK, &err);
        CHECK_ST(wsrpc_batch_wait(b, -1, &err), WSRPC_OK, &err);
        check_result(b, 0, "\"ab\"");
        check_result(b, 2, "\"cd\"");
        CHECK(wsrpc_batch_free(b) == WSRPC_OK);
    }
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);
}

/* ---- stats ----------------------------------------------------------------------------- */

/* stat_of(json, name): the value of counter name in a stats snapshot */
static long long stat_of(const char *json, const char *name) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *p = strstr(json, key);
    CHECK(p != NULL);
    return strtoll(p + strlen(key), NULL, 10);
}

static void test_stats(void) {
    wsrpc_error err = WSRPC_ERROR_INIT;
    char *cs = NULL, *ss = NULL, *res = NULL;
    CHECK_ST(wsrpc_client_stats(NULL, &cs, &err), WSRPC_ERR_INVALID_ARG, &err);
    CHECK(cs == NULL);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_server_stats(NULL, &ss, &err), WSRPC_ERR_INVALID_ARG, &err);
    wsrpc_error_clear(&err);

    wsrpc_client *c = wsrpc_client_new(NULL, &err);
    CHECK(c != NULL);
    CHECK_ST(wsrpc_client_stats(c, &cs, &err), WSRPC_OK, &err); /* not connected: zeros */
    CHECK(cs[0] == '{' && stat_of(cs, "calls_out") == 0 && stat_of(cs, "connections") == 0 && stat_of(cs, "bytes_out") == 0);
    wsrpc_free(cs);
    CHECK_ST(wsrpc_client_connect(c, g_url, 5000, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_server_stats(g_server, &ss, &err), WSRPC_OK, &err);
    long long calls_in = stat_of(ss, "calls_in"), conns = stat_of(ss, "connections_total");
    wsrpc_free(ss);
    CHECK(conns >= 1);
    CHECK_ST(wsrpc_client_stats(c, &cs, &err), WSRPC_OK, &err);
    long long out0 = stat_of(cs, "calls_out"), bytes0 = stat_of(cs, "bytes_out"), errs0 = stat_of(cs, "errors_in");
    long long notes0 = stat_of(cs, "notifications_out");
    CHECK(stat_of(cs, "connections") == 1 && stat_of(cs, "connections_total") == 1 && stat_of(cs, "reconnects") == 0);
    wsrpc_free(cs);

    for (int i = 0; i < 10; i++) {
        CHECK_ST(wsrpc_client_call(c, "concat", "[\"a\", \"b\"]", 5000, &res, &err), WSRPC_OK, &err);
        wsrpc_free(res);
    }
    CHECK_ST(wsrpc_client_call(c, "fail", NULL, 5000, &res, &err), WSRPC_ERR_REMOTE, &err);
    wsrpc_error_clear(&err);
    CHECK_ST(wsrpc_client_notify(c, "note", NULL, &err), WSRPC_OK, &err);

    CHECK_ST(wsrpc_client_stats(c, &cs, &err), WSRPC_OK, &err);
    CHECK(stat_of(cs, "calls_out") == out0 + 11);
    CHECK(stat_of(cs, "errors_in") == errs0 + 1);
    CHECK(stat_of(cs, "notifications_out") == notes0 + 1);
    CHECK(stat_of(cs, "bytes_out") > bytes0 && stat_of(cs, "messages_in") >= 11 && stat_of(cs, "in_flight_out") == 0);
    wsrpc_free(cs);
    CHECK_ST(wsrpc_server_stats(g_server, &ss, &err), WSRPC_OK, &err);
    CHECK(stat_of(ss, "calls_in") >= calls_in + 11 && stat_of(ss, "connections") >= 1);
    wsrpc_free(ss);
    CHECK_ST(wsrpc_client_stats(c, NULL, &err), WSRPC_OK, &err); /* the out pointer may be NULL */
    CHECK_ST(wsrpc_client_close(c, &err), WSRPC_OK, &err);
    CHECK_ST(wsrpc_client_stats(c, &cs, &err), WSRPC_ERR_CLOSED, &err);
    CHECK(cs == NULL);
    wsrpc_error_clear(&err);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"library", test_library},
        {"null_and_bad_args", test_null_and_bad_args},
        {"connect_failures", test_connect_failures},
        {"server_setup", test_server_setup},
        {"calls", test_calls},
        {"limits", test_limits},
        {"options", test_options},
        {"log_handler", test_log_handler},
        {"pending_calls", test_pending_calls},
        {"cancel", test_cancel},
        {"cancel_go_handler", test_cancel_go_handler},
        {"batches", test_batches},
        {"batch_python_peer", test_batch_python_peer},
        {"stats", test_stats},
        {"close_with_pending", test_close_with_pending},
        {"close_from_callback", test_close_from_callback},
        {"concurrency", test_concurrency},
        {"concurrent_close", test_concurrent_close},
        {"reconnect_events", test_reconnect_events},
        {"server_close", test_server_close},
    };
    int n = (int)(sizeof tests / sizeof tests[0]);
    for (int i = 0; i < n; i++) {
        int before = atomic_load(&checks);
        tests[i].fn();
        printf("ok   %-22s (%d checks)\n", tests[i].name, atomic_load(&checks) - before);
    }
    wsrpc_free(g_url);
    printf("%d checks in %d tests\n", atomic_load(&checks), n);
    printf("%d passed, 0 failed\n", n);
    return 0;
}
