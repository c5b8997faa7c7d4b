/*
 * C port of fastapi-ws-rpc's bidirectional client example, over libwsrpc.
 *
 * It registers two methods the server calls back: allow_queries() (the server calls it about
 * a second after we connect) and allow_exit(delay) (after each concat). It waits for
 * allow_queries, calls concat("hello", " world"), prints the result, then waits until the
 * server's allow_exit delay has elapsed and exits.
 *
 *   cc examples/c/client.c $(PKG_CONFIG_PATH=build pkg-config --cflags --libs wsrpc) -o c-client
 *   ./c-client [ws://127.0.0.1:9000/ws]
 *
 * The method callbacks run on library threads, so they only record what happened (under a
 * mutex) and wake the main thread, which does the waiting.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wsrpc.h>

struct state {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    int can_query;       /* allow_queries() was called */
    double exit_delay;   /* allow_exit(delay) argument, < 0 until called */
};

static void allow_queries(void *user, const char *channel_id, const char *params_json,
                          wsrpc_reply *reply) {
    struct state *st = user;
    (void)channel_id;
    (void)params_json;
    printf("server called allow_queries()\n");
    fflush(stdout);
    pthread_mutex_lock(&st->mu);
    st->can_query = 1;
    pthread_cond_broadcast(&st->changed);
    pthread_mutex_unlock(&st->mu);
    wsrpc_reply_result(reply, NULL); /* result: null */
}

static void allow_exit(void *user, const char *channel_id, const char *params_json,
                       wsrpc_reply *reply) {
    struct state *st = user;
    (void)channel_id;
    /* params are {"delay": N} (named) or [N] (positional); a real program would use a JSON
     * parser, this example only needs the one number. */
    const char *p = strstr(params_json, "\"delay\"");
    p = p ? strchr(p, ':') : strchr(params_json, '[');
    if (p == NULL) {
        wsrpc_reply_error(reply, WSRPC_RPC_INVALID_PARAMS, "allow_exit needs a delay", NULL);
        return;
    }
    double delay = strtod(p + 1, NULL);
    printf("server called allow_exit(delay=%g)\n", delay);
    fflush(stdout);
    pthread_mutex_lock(&st->mu);
    st->exit_delay = delay;
    pthread_cond_broadcast(&st->changed);
    pthread_mutex_unlock(&st->mu);
}

static void on_event(void *user, const wsrpc_event *ev) {
    (void)user;
    if (ev->kind == WSRPC_EVENT_CONNECTED) {
        printf("connected (channel %s)\n", ev->channel_id);
        fflush(stdout);
    }
}

/* wait until *flag (read under st->mu by check) holds, at most seconds; 0 on timeout */
static int wait_for(struct state *st, int (*check)(struct state *), int seconds) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    int ok = 1;
    pthread_mutex_lock(&st->mu);
    while (!check(st)) {
        if (pthread_cond_timedwait(&st->changed, &st->mu, &deadline) != 0) {
            ok = check(st);
            break;
        }
    }
    pthread_mutex_unlock(&st->mu);
    return ok;
}

static int query_allowed(struct state *st) { return st->can_query; }
static int exit_allowed(struct state *st) { return st->exit_delay >= 0; }

static int die(const char *what, wsrpc_error *err) {
    fprintf(stderr, "%s: %s (status %d %s", what, err->message, err->status,
            wsrpc_status_name(err->status));
    if (err->status == WSRPC_ERR_REMOTE) {
        fprintf(stderr, ", JSON-RPC code %d", err->rpc_code);
    }
    fprintf(stderr, ")\n");
    wsrpc_error_clear(err);
    return 1;
}

int main(int argc, char **argv) {
    const char *url = argc > 1 ? argv[1] : "ws://127.0.0.1:9000/ws";
    struct state st = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, -1};
    wsrpc_error err = WSRPC_ERROR_INIT;
    int rc = 1;

    printf("libwsrpc %s\n", wsrpc_version());
    wsrpc_client *c = wsrpc_client_new("{\"default_response_timeout\": 10}", &err);
    if (c == NULL) {
        return die("wsrpc_client_new", &err);
    }
    if (wsrpc_client_register(c, "allow_queries", allow_queries, &st, &err) != WSRPC_OK ||
        wsrpc_client_register(c, "allow_exit", allow_exit, &st, &err) != WSRPC_OK ||
        wsrpc_client_on_event(c, on_event, NULL, &err) != WSRPC_OK) {
        rc = die("register", &err);
        goto out;
    }
    if (wsrpc_client_connect(c, url, 10000, &err) != WSRPC_OK) {
        rc = die("connect", &err);
        goto out;
    }
    if (!wait_for(&st, query_allowed, 10)) {
        fprintf(stderr, "timed out waiting for allow_queries\n");
        goto out;
    }
    char *result = NULL;
    if (wsrpc_client_call(c, "concat", "{\"a\": \"hello\", \"b\": \" world\"}", 5000, &result,
                          &err) != WSRPC_OK) {
        rc = die("concat", &err);
        goto out;
    }
    printf("concat(\"hello\", \" world\") = %s\n", result); /* "hello world" (JSON) */
    wsrpc_free(result);
    if (!wait_for(&st, exit_allowed, 10)) {
        fprintf(stderr, "timed out waiting for allow_exit\n");
        goto out;
    }
    pthread_mutex_lock(&st.mu);
    double delay = st.exit_delay;
    pthread_mutex_unlock(&st.mu);
    struct timespec ts = {(time_t)delay, (long)((delay - (time_t)delay) * 1e9)};
    nanosleep(&ts, NULL);
    printf("exiting after %g s, as the server allowed\n", delay);
    rc = 0;
out:
    wsrpc_client_close(c, NULL); /* waits for running callbacks: st may go away after this */
    return rc;
}
