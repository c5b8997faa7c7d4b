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
	case WSRPC_ERR_BATCH_UNSUPPORTED: return "batch unsupported";
	case WSRPC_ERR_CANCELED: return "canceled";
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
