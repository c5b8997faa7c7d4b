// C half of the C API: the functions that need no Go (free, status names) and
// the trampolines through which Go calls the user's C callbacks. Go keeps callback
// pointers and user data as uintptr_t, never as Go pointers: user data may be any value
// (a small integer, say), which the Go garbage collector must never see as a pointer. The trampolines record,
// per thread, which wsrpc object's callback is running, so that a close called from
// inside that callback can tell (it must not wait for itself).
#include <stdint.h>
#include <stdlib.h>

#include "wsrpc.h"

static _Thread_local uintptr_t wsrpc__owner;

__attribute__((visibility("hidden"))) uintptr_t wsrpc__cb_owner(void) { return wsrpc__owner; }

__attribute__((visibility("hidden"))) void wsrpc__call_method(uintptr_t fn, uintptr_t user, uintptr_t owner, const char *channel_id,
                        const char *params, uintptr_t reply) {
	uintptr_t prev = wsrpc__owner;
	wsrpc__owner = owner;
	((wsrpc_method_fn)fn)((void *)user, channel_id, params, (wsrpc_reply *)reply);
	wsrpc__owner = prev;
}

__attribute__((visibility("hidden"))) void wsrpc__call_event(uintptr_t fn, uintptr_t user, uintptr_t owner, int kind,
                       const char *channel_id, int attempt, int delay_ms, int status,
                       const char *message) {
	wsrpc_event ev = {kind, channel_id, attempt, delay_ms, status, message};
	uintptr_t prev = wsrpc__owner;
	wsrpc__owner = owner;
	((wsrpc_event_fn)fn)((void *)user, &ev);
	wsrpc__owner = prev;
}

__attribute__((visibility("hidden"))) void wsrpc__call_done(uintptr_t fn, uintptr_t user, uintptr_t owner, int status,
                      const char *result, int rpc_code, char *message, char *data) {
	wsrpc_error err = {status, rpc_code, message, data};
	uintptr_t prev = wsrpc__owner;
	wsrpc__owner = owner;
	((wsrpc_done_fn)fn)((void *)user, status, result, status == WSRPC_OK ? NULL : &err);
	wsrpc__owner = prev;
}

void wsrpc_free(void *ptr) { free(ptr); }

void wsrpc_error_clear(wsrpc_error *err) {
	if (err == NULL) {
		return;
	}
	free(err->message);
	free(err->data_json);
	err->status = 0;
	err->rpc_code = 0;
	err->message = NULL;
	err->data_json = NULL;
}

const char *wsrpc_status_name(int status) {
	switch (status) {
	case WSRPC_OK: return "ok";
	case WSRPC_ERR_INVALID_ARG: return "invalid argument";
	case WSRPC_ERR_CLOSED: return "closed";
	case WSRPC_ERR_CONNECTION_LOST: return "connection lost";
	case WSRPC_ERR_NOT_CONNECTED: return "not connected";
	case WSRPC_ERR_TIMEOUT: return "timeout";
	case WSRPC_ERR_REMOTE: return "remote error";
	case WSRPC_ERR_BACKPRESSURE: return "backpressure";
	case WSRPC_ERR_MESSAGE_TOO_LARGE: return "message too large";
	case WSRPC_ERR_CONNECT: return "connect failed";
	case WSRPC_ERR_INVALID_ID: return "invalid call id";
	case WSRPC_ERR_INTERNAL: return "internal error";
	case WSRPC_ERR_LISTEN: return "listen failed";
	case WSRPC_ERR_NOT_FOUND: return "not found";
	case WSRPC_ERR_STATE: return "wrong state";
	case WSRPC_PENDING: return "pending";
	}
	return "unknown status";
}

__attribute__((visibility("hidden"))) void wsrpc__call_log(uintptr_t fn, uintptr_t user, int level, const char *message,
                     const char *attrs_json) {
	uintptr_t prev = wsrpc__owner;
	wsrpc__owner = UINTPTR_MAX; /* logOwner in log.go */
	((wsrpc_log_fn)fn)((void *)user, level, message, attrs_json);
	wsrpc__owner = prev;
}

/* ---- waiters: a C thread waiting for a pending call ---------------------------------
 *
 * A thread waiting for a call waits here, in C, not inside Go: a C thread blocked in Go
 * parks a goroutine locked to its thread, and waking it hands the scheduler's P from the
 * reader's thread to this one and back (two thread switches more per call).  Go signals the
 * waiter when the answer arrives (Pending.AfterDone) or the call's deadline passes.  Go
 * holds one reference while the call is pending, each waiting thread one while it waits. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

typedef struct wsrpc__waiter {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	atomic_int signaled;
	atomic_int sleepers; /* threads in pthread_cond_(timed)wait */
	atomic_int refs;
} wsrpc__waiter;

__attribute__((visibility("hidden"))) wsrpc__waiter *wsrpc__waiter_new(void) {
	wsrpc__waiter *w = calloc(1, sizeof *w);
	if (w == NULL) {
		return NULL;
	}
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&w->mu, NULL);
	atomic_init(&w->refs, 1);
	return w;
}

__attribute__((visibility("hidden"))) void wsrpc__waiter_ref(wsrpc__waiter *w) {
	atomic_fetch_add(&w->refs, 1);
}

__attribute__((visibility("hidden"))) void wsrpc__waiter_unref(wsrpc__waiter *w) {
	if (atomic_fetch_sub(&w->refs, 1) == 1) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->mu);
		free(w);
	}
}

__attribute__((visibility("hidden"))) void wsrpc__waiter_signal(wsrpc__waiter *w) {
	pthread_mutex_lock(&w->mu);
	atomic_store(&w->signaled, 1);
	if (atomic_load(&w->sleepers) > 0) {
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->mu);
}

/* 1 once signaled, 0 when wait_ms (>= 0) passed first; wait_ms < 0 waits for the signal. */
static int waiter_wait(wsrpc__waiter *w, int wait_ms) {
	struct timespec until;
	if (wait_ms > 0) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&w->mu);
	atomic_fetch_add(&w->sleepers, 1);
	while (!atomic_load(&w->signaled) && wait_ms != 0) {
		if (wait_ms < 0) {
			pthread_cond_wait(&w->cond, &w->mu);
		} else if (pthread_cond_timedwait(&w->cond, &w->mu, &until) == ETIMEDOUT) {
			break;
		}
	}
	atomic_fetch_sub(&w->sleepers, 1);
	int ok = atomic_load(&w->signaled);
	pthread_mutex_unlock(&w->mu);
	return ok;
}

/* In call.go. */
int wsrpc__call_waiter(uintptr_t call, wsrpc__waiter **w, wsrpc_error *err);
int wsrpc__call_collect(uintptr_t call, char **result_json, wsrpc_error *err);
int wsrpc__client_call_begin(uintptr_t client, const char *method, const char *params_json,
                             int timeout_ms, uintptr_t *call, wsrpc__waiter **w, wsrpc_error *err);
int wsrpc__server_call_begin(uintptr_t server, const char *channel_id, const char *method,
                             const char *params_json, int timeout_ms, uintptr_t *call,
                             wsrpc__waiter **w, wsrpc_error *err);

/* Waits on w (a reference the caller holds and this releases), then takes the outcome. */
static int wait_and_collect(uintptr_t call, wsrpc__waiter *w, int wait_ms, char **result_json,
                            wsrpc_error *err) {
	int ready = waiter_wait(w, wait_ms);
	wsrpc__waiter_unref(w);
	if (!ready) {
		return WSRPC_PENDING;
	}
	return wsrpc__call_collect(call, result_json, err);
}

int wsrpc_call_wait(wsrpc_call *call, int wait_ms, char **result_json, wsrpc_error *err) {
	if (result_json != NULL) {
		*result_json = NULL;
	}
	wsrpc__waiter *w = NULL;
	int st = wsrpc__call_waiter((uintptr_t)call, &w, err);
	if (st != WSRPC_OK) {
		return st;
	}
	return wait_and_collect((uintptr_t)call, w, wait_ms, result_json, err);
}

int wsrpc_client_call(wsrpc_client *client, const char *method, const char *params_json,
                      int timeout_ms, char **result_json, wsrpc_error *err) {
	if (result_json != NULL) {
		*result_json = NULL;
	}
	uintptr_t call = 0;
	wsrpc__waiter *w = NULL;
	int st = wsrpc__client_call_begin((uintptr_t)client, method, params_json, timeout_ms, &call, &w, err);
	if (st != WSRPC_OK) {
		return st;
	}
	return wait_and_collect(call, w, -1, result_json, err);
}

int wsrpc_server_call(wsrpc_server *server, const char *channel_id, const char *method,
                      const char *params_json, int timeout_ms, char **result_json,
                      wsrpc_error *err) {
	if (result_json != NULL) {
		*result_json = NULL;
	}
	uintptr_t call = 0;
	wsrpc__waiter *w = NULL;
	int st = wsrpc__server_call_begin((uintptr_t)server, channel_id, method, params_json, timeout_ms,
	                                  &call, &w, err);
	if (st != WSRPC_OK) {
		return st;
	}
	return wait_and_collect(call, w, -1, result_json, err);
}
