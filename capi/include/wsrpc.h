/*
 * wsrpc.h — C API of wsrpc: bidirectional JSON-RPC 2.0 over WebSockets, wire-compatible
 * with the Python library fastapi-ws-rpc 1.2.x.
 *
 * Link with libwsrpc (pkg-config --cflags --libs wsrpc). The library embeds a Go runtime.
 *
 * ------------------------------------------------------------------------------------
 * CONVENTIONS (they hold for every function below unless its comment says otherwise)
 *
 * Handles.  wsrpc_client, wsrpc_server, wsrpc_queue, wsrpc_call and wsrpc_batch are opaque;
 *   never dereference them.  A handle stays valid until its *_close function (for a call,
 *   also a connect from wsrpc_client_connect_start: until its outcome is taken or it is
 *   released; for a batch: wsrpc_batch_free); after that
 *   every function given it returns WSRPC_ERR_CLOSED (a closed handle value is never
 *   reused, so use-after-close and double close are reported, not undefined).  NULL
 *   handles give WSRPC_ERR_INVALID_ARG.
 *
 * Status.  Functions return a wsrpc_status: WSRPC_OK (0) or an error.  On error, if the
 *   `err` argument is not NULL, *err is filled: err->status, err->message (always set) and,
 *   for WSRPC_ERR_REMOTE, err->rpc_code and err->data_json.  On success *err is not touched.
 *   The library writes *err without reading it first: release its strings with
 *   wsrpc_error_clear() before reusing it, or they leak.
 *
 * Ownership.
 *   - Every `const char *` argument is borrowed: the library copies what it keeps before
 *     the function returns; it may be freed right after.
 *   - Every `char **out` argument receives a string allocated by the library that the
 *     caller owns and must release with wsrpc_free().  On error *out is set to NULL.
 *     Out pointers may be NULL when the value is not wanted.
 *   - Pointers passed TO callbacks (params_json, channel_id, wsrpc_event, wsrpc_error,
 *     result_json) are owned by the library and valid only until the callback returns;
 *     copy what you need.
 *   - `user_data` pointers are never dereferenced by the library; they are passed back to
 *     the callbacks they were registered with.  They must stay valid until the object's
 *     close function has returned (close waits for running callbacks; see below).
 *
 * JSON.  All JSON arguments are UTF-8 NUL-terminated text.  params_json may be NULL, ""
 *   or "null" (no params), a JSON array (positional params) or a JSON object (named
 *   params); anything else is WSRPC_ERR_INVALID_ARG and nothing is sent.
 *
 * Timeouts.  timeout_ms > 0 is a deadline for that call; 0 means the object's
 *   "default_response_timeout" option (none if not set); < 0 is WSRPC_ERR_INVALID_ARG.
 *
 * Threads.  Every function may be called from any thread, concurrently, including from
 *   inside callbacks (except as noted for close).  Callbacks (methods, events, async call
 *   completions; a completion queue has none: its outcomes are taken) run on threads owned by the library's runtime — NOT the thread that
 *   registered them — and several may run at the same time, also for the same method:
 *   make them thread-safe.  A callback may call any wsrpc function, but should not block
 *   for long: a method callback occupies one of the peer's concurrent request slots.
 *
 * Process.  The library contains a Go runtime: one per process, started when the library
 *   is loaded and never stopped; do not dlclose() it, and do not fork() after loading it
 *   unless the child only calls exec*().
 *
 * Logging.  Each client and server logs at the level of its "log_level" option (debug,
 *   info, warn, error, off); without it, at the level named by the environment variable
 *   WSRPC_LOG (same names, read once), else warn.  Records go to the process's log handler
 *   (wsrpc_set_log_handler) or, while none is set, to stderr as text.
 * ------------------------------------------------------------------------------------
 */
#ifndef WSRPC_H
#define WSRPC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header: the project's one version (the file pkg/wsrpc/VERSION in the
 * source tree; `make check-version` fails when these lines differ from it). */
#define WSRPC_VERSION_MAJOR 0
#define WSRPC_VERSION_MINOR 2
#define WSRPC_VERSION_PATCH 0
#define WSRPC_VERSION_STRING "0.2.0"

/* Status codes.  The numbers are stable. */
typedef enum wsrpc_status {
    WSRPC_OK = 0,
    WSRPC_ERR_INVALID_ARG = 1,       /* NULL/empty where not allowed, invalid JSON, bad options or URL */
    WSRPC_ERR_CLOSED = 2,            /* the handle or the connection is closed; nothing was sent */
    WSRPC_ERR_CONNECTION_LOST = 3,   /* the connection ended while waiting: the call MAY have run */
    WSRPC_ERR_NOT_CONNECTED = 4,     /* not connected (yet), or reconnecting with fail_fast */
    WSRPC_ERR_TIMEOUT = 5,           /* no answer in time: the call MAY have run */
    WSRPC_ERR_REMOTE = 6,            /* the peer answered with a JSON-RPC error: see rpc_code, data_json */
    WSRPC_ERR_BACKPRESSURE = 7,      /* too many pending calls / full send queue; nothing was sent */
    WSRPC_ERR_MESSAGE_TOO_LARGE = 8, /* a message exceeds max_message_size */
    WSRPC_ERR_CONNECT = 9,           /* connecting failed (refused, handshake rejected, ...) */
    WSRPC_ERR_INVALID_ID = 10,       /* reserved (custom call ids) */
    WSRPC_ERR_INTERNAL = 11,         /* anything else; the message says what */
    WSRPC_ERR_LISTEN = 12,           /* the server could not bind its address */
    WSRPC_ERR_NOT_FOUND = 13,        /* no open connection has that channel id */
    WSRPC_ERR_STATE = 14,            /* wrong state: already connected / already listening */
    WSRPC_PENDING = 15,              /* wsrpc_call_wait, wsrpc_batch_*: not finished yet (not an error) */
    WSRPC_ERR_BATCH_UNSUPPORTED = 16, /* the peer answered a batch with one error (a Python
                                         peer): none of it ran; see WSRPC_BATCH_SPLIT */
    WSRPC_ERR_CANCELED = 17           /* the call was cancelled (wsrpc_call_cancel,
                                         wsrpc_queue_cancel) or, for wsrpc_reply_check,
                                         the request was */
} wsrpc_status;

/* Well-known JSON-RPC error codes (wsrpc_error.rpc_code, wsrpc_reply_error). */
#define WSRPC_RPC_PARSE_ERROR      (-32700)
#define WSRPC_RPC_INVALID_REQUEST  (-32600)
#define WSRPC_RPC_METHOD_NOT_FOUND (-32601)
#define WSRPC_RPC_INVALID_PARAMS   (-32602)
#define WSRPC_RPC_INTERNAL_ERROR   (-32603)
#define WSRPC_RPC_SERVER_BUSY      (-32000)

/* Error details.  Declare one as `wsrpc_error err = WSRPC_ERROR_INIT;` and pass &err.
 * The strings are owned by the caller once filled: release them with wsrpc_error_clear(). */
typedef struct wsrpc_error {
    int status;       /* a wsrpc_status */
    int rpc_code;     /* WSRPC_ERR_REMOTE: the JSON-RPC error code (e.g. -32601); else 0 */
    char *message;    /* human-readable text (for WSRPC_ERR_REMOTE: the peer's message) */
    char *data_json;  /* WSRPC_ERR_REMOTE: the error's "data" member as JSON, or NULL */
} wsrpc_error;

#define WSRPC_ERROR_INIT {0, 0, NULL, NULL}

typedef struct wsrpc_client wsrpc_client; /* opaque */
typedef struct wsrpc_server wsrpc_server; /* opaque */
typedef struct wsrpc_reply wsrpc_reply;   /* opaque; valid only during a method callback */

/* Connection events. */
typedef enum wsrpc_event_kind {
    WSRPC_EVENT_CONNECTED = 1,    /* a connection is ready */
    WSRPC_EVENT_DISCONNECTED = 2, /* a connection ended (once per connection) */
    WSRPC_EVENT_RECONNECTING = 3  /* client: a reconnect attempt will be made after delay_ms */
} wsrpc_event_kind;

typedef struct wsrpc_event {
    int kind;               /* a wsrpc_event_kind */
    const char *channel_id; /* CONNECTED/DISCONNECTED: the connection's id; else NULL */
    int attempt;            /* RECONNECTING: 1-based attempt number; else 0 */
    int delay_ms;           /* RECONNECTING: wait before the attempt; else 0 */
    int status;             /* DISCONNECTED/RECONNECTING: wsrpc_status of the cause, or WSRPC_OK */
    const char *message;    /* text of the cause, or NULL */
} wsrpc_event;

/*
 * A method the peer may call.  `channel_id` is the id of the connection the request came
 * on (on a server, pass it to wsrpc_server_call to call that client back).  `params_json`
 * is the request's params as JSON text: an array, an object, or "null" when absent.
 * Answer through `reply` (valid only until the callback returns):
 *   - wsrpc_reply_result(reply, json)             the result (no call = result null)
 *   - wsrpc_reply_error(reply, code, msg, data)   exactly this JSON-RPC error
 *   - wsrpc_reply_fail(reply, msg)                a handler failure: the peer gets -32603
 *                                                 "Internal server error" (msg only with the
 *                                                 "debug" option); msg is logged
 * For a notification the answer is discarded.  Runs on any thread, possibly concurrently.
 */
typedef void (*wsrpc_method_fn)(void *user_data, const char *channel_id,
                                const char *params_json, wsrpc_reply *reply);

/* Connection event callback.  Runs on a library thread; on a server, events of different
 * connections may run concurrently. */
typedef void (*wsrpc_event_fn)(void *user_data, const wsrpc_event *event);

/*
 * Completion of an asynchronous call: called exactly once, on a library thread, with
 * status WSRPC_OK and result_json (the result as JSON text, "null" for none), or an error
 * status with result_json NULL and `error` describing it.  Both pointers are valid only
 * during the callback.
 */
typedef void (*wsrpc_done_fn)(void *user_data, int status, const char *result_json,
                              const wsrpc_error *error);

/* Log levels (the numbers of Go's log/slog; a level between two of them is possible:
 * compare with >=). */
#define WSRPC_LOG_DEBUG (-4)
#define WSRPC_LOG_INFO 0
#define WSRPC_LOG_WARN 4
#define WSRPC_LOG_ERROR 8

/*
 * A log record: level (WSRPC_LOG_*), message (e.g. "wsrpc: incoming message too large")
 * and attrs_json, the record's attributes as a JSON object (e.g. {"channel": "8f3e...",
 * "limit": 1048576}; {} when there are none; durations in seconds).  Both strings are
 * owned by the library and valid only during the call.  Called on library threads, possibly
 * several at once: make it thread-safe and quick.  It must not call wsrpc functions other
 * than wsrpc_version and wsrpc_status_name (a record may be logged while the library holds
 * a lock).
 */
typedef void (*wsrpc_log_fn)(void *user_data, int level, const char *message,
                             const char *attrs_json);

/* Opaque completion queue (wsrpc_queue_new). */
typedef struct wsrpc_queue wsrpc_queue;

/* Opaque pending call (wsrpc_client_call_start / wsrpc_server_call_start /
 * wsrpc_client_connect_start). */
typedef struct wsrpc_call wsrpc_call;

/* Opaque JSON-RPC 2.0 batch (wsrpc_client_batch_new / wsrpc_server_batch_new). */
typedef struct wsrpc_batch wsrpc_batch;

/* Flags of wsrpc_*_batch_new. */
#define WSRPC_BATCH_SPLIT 1 /* a peer without batches (WSRPC_ERR_BATCH_UNSUPPORTED) gets the
                               entries as single calls and notifications instead */

#ifndef WSRPC_NO_PROTOTYPES

/* ---- library ---------------------------------------------------------------------- */

/* The library's version, e.g. "0.2.0": the Go module's wsrpc.Version, the same as the
 * WSRPC_VERSION_STRING of the header it was released with (static storage: do not free). */
const char *wsrpc_version(void);

/* Release a string the library handed out (any `char **` out value).  NULL is ignored. */
void wsrpc_free(void *ptr);

/* Release err->message and err->data_json and zero *err.  NULL is ignored. */
void wsrpc_error_clear(wsrpc_error *err);

/* A static English name for a status code ("ok", "timeout", ...; do not free). */
const char *wsrpc_status_name(int status);

/*
 * Send the library's log records to fn(user_data, ...) instead of stderr (fn NULL: back to
 * stderr).  Process-wide; records are filtered by each object's level (see "Logging")
 * before they reach fn.  When it returns, no call of the previous handler is running any
 * more and none will start, so the previous user_data may be released.  Returns WSRPC_OK,
 * or WSRPC_ERR_STATE when called from inside the log handler itself.  Any thread.
 */
int wsrpc_set_log_handler(wsrpc_log_fn fn, void *user_data);

/* ---- client ----------------------------------------------------------------------- */

/*
 * Create a client (not connected).  options_json (NULL or "" for defaults) is a JSON
 * object with fastapi-ws-rpc's option names; durations are seconds:
 *   {"default_response_timeout": 5, "auto_reconnect": true, "reconnect_delay": 1,
 *    "max_reconnect_attempts": -1, "retry": {"enabled": false}, "headers": {"X-Token": "t"},
 *    "keepalive": {"interval": 10}, "max_message_size": 1048576, "debug": false, ...}
 * "log_level": "debug" | "info" | "warn" | "error" | "off" sets this object's logging.
 * "spin_wait" (seconds, default 0.0002 here, 0 in Go): a blocking call that is the only one
 * outstanding on its connection busy-waits up to this long for its answer before it sleeps
 * (waking a thread blocked in the library costs about 40 us on a same-host round trip);
 * not on connections whose lone answers take longer on average, nor when other calls are
 * outstanding.  0 turns it off: for a process that must not spend CPU while it waits, or
 * one that calls a libwsrpc server in the same process (the spin holds a CPU it needs).
 * Every option is checked here, at once: an unknown member, a value of the wrong type or
 * out of range gives NULL and WSRPC_ERR_INVALID_ARG with a message naming the option
 * (e.g. `wsrpc: invalid argument: options: option "default_response_timeout": want seconds
 * between 0 and ..., got -1`).
 * Release with wsrpc_client_close().
 */
wsrpc_client *wsrpc_client_new(const char *options_json, wsrpc_error *err);

/* Register (or replace) a method the server may call.  Allowed before and after
 * connecting.  fn must not be NULL. */
int wsrpc_client_register(wsrpc_client *client, const char *method, wsrpc_method_fn fn,
                          void *user_data, wsrpc_error *err);

/* Set (fn non-NULL) or clear (fn NULL) the connection event callback.  Set it before
 * wsrpc_client_connect to see the first WSRPC_EVENT_CONNECTED.  A client's CONNECTED event
 * runs before the connection is handed to callers: do not call the server from it (during
 * the first connect calls fail with WSRPC_ERR_NOT_CONNECTED, during a reconnect a blocking
 * call would wait for the very connection being announced). */
int wsrpc_client_on_event(wsrpc_client *client, wsrpc_event_fn fn, void *user_data,
                          wsrpc_error *err);

/* Connect to url (ws:// or wss://), retrying as the "retry" option says, and wait until
 * connected.  timeout_ms > 0 bounds the whole attempt; 0 means no overall limit.  Once
 * connected, WSRPC_ERR_STATE; a failed connect may be retried. */
int wsrpc_client_connect(wsrpc_client *client, const char *url, int timeout_ms,
                         wsrpc_error *err);

/*
 * Start wsrpc_client_connect and return at once with a pending call in *call, to wait for
 * with wsrpc_call_wait in slices (as wsrpc_client_call_start; *result_json is NULL on
 * WSRPC_OK) so that a thread that must stay responsive is never blocked in the library
 * for long while the connect retries.  The handle is a pending call like any: it ends with
 * wsrpc_call_wait or wsrpc_call_release, wsrpc_call_on_done may take its outcome instead.
 * wsrpc_call_cancel and wsrpc_call_release give the connect up: they stop the attempt and
 * return once it has stopped (the outcome is WSRPC_ERR_CANCELED; the client stays
 * unconnected and may connect again).  The same errors as wsrpc_client_connect, at once or
 * from the wait.
 */
int wsrpc_client_connect_start(wsrpc_client *client, const char *url, int timeout_ms,
                               wsrpc_call **call, wsrpc_error *err);

/* Call method on the server and wait for the answer.  On WSRPC_OK *result_json (if not
 * NULL) receives the result as JSON text ("null" for none): free it with wsrpc_free. */
int wsrpc_client_call(wsrpc_client *client, const char *method, const char *params_json,
                      int timeout_ms, char **result_json, wsrpc_error *err);

/* Start a call and return at once.  On WSRPC_OK, done(user_data, ...) will be called
 * exactly once (also when the client is closed meanwhile: with WSRPC_ERR_CLOSED or
 * WSRPC_ERR_CONNECTION_LOST), before wsrpc_client_close returns.  On any other return
 * value done is never called.  done must not be NULL. */
int wsrpc_client_call_async(wsrpc_client *client, const char *method,
                            const char *params_json, int timeout_ms, wsrpc_done_fn done,
                            void *user_data, wsrpc_error *err);

/*
 * wsrpc_client_call_async that can be cancelled: the same (the call is sent and waited for
 * on a library thread; done is called exactly once, also with WSRPC_ERR_CANCELED), and
 * *call receives a pending call for wsrpc_call_cancel, valid until done has been called
 * (then WSRPC_ERR_CLOSED); do not wait for it (WSRPC_ERR_STATE) or release it (it is
 * released by the library; wsrpc_call_release cancels it).  On error *call is NULL and
 * done is never called.  call and done must not be NULL.  This is how an event loop calls:
 * one library call per call, nothing sent from the loop's thread.
 */
int wsrpc_client_call_async_cancelable(wsrpc_client *client, const char *method,
                                       const char *params_json, int timeout_ms,
                                       wsrpc_done_fn done, void *user_data, wsrpc_call **call,
                                       wsrpc_error *err);

/*
 * Start a call and return at once with a pending call in *call; then wait for it with
 * wsrpc_call_wait, as long as you like per wait, which is how a thread that must stay
 * responsive (a program's main thread handling signals, an interpreter) calls without
 * blocking in the library for long.  Every pending call must end with a wsrpc_call_wait
 * that returns something other than WSRPC_PENDING, or with wsrpc_call_release; until then
 * it holds its result.  On error *call is NULL (call itself must not be NULL).
 */
int wsrpc_client_call_start(wsrpc_client *client, const char *method,
                            const char *params_json, int timeout_ms, wsrpc_call **call,
                            wsrpc_error *err);

/*
 * Wait up to wait_ms for a pending call (0: just look; < 0: until it finishes).
 * WSRPC_PENDING: not finished yet; nothing is filled (*err untouched), call again.
 * Otherwise the call's outcome, as wsrpc_client_call returns it (*result_json on WSRPC_OK,
 * free it with wsrpc_free), and the pending call is released: the handle is invalid after
 * that (WSRPC_ERR_CLOSED).  The call's own timeout_ms still applies.  Any thread; several
 * threads may wait for one call, and exactly one of them gets the outcome (the others
 * WSRPC_ERR_CLOSED).  Closing the client fails the call (WSRPC_ERR_CLOSED), but the handle
 * must still be waited for or released.  A call that timed out (WSRPC_ERR_TIMEOUT) or was
 * cancelled (WSRPC_ERR_CANCELED, see wsrpc_call_cancel) is cancelled on a wsrpc peer too.
 * WSRPC_ERR_STATE if the call has a done callback (wsrpc_call_on_done).
 */
int wsrpc_call_wait(wsrpc_call *call, int wait_ms, char **result_json, wsrpc_error *err);

/*
 * Cancel a pending call: stop waiting for its answer (an answer that arrives later is
 * dropped) and, on a connection to a wsrpc peer (both ends agreed to the extensions at the
 * handshake; never to a Python peer), ask the peer to cancel the method's handler
 * ($/cancelRequest): its context ends, which a C method sees with wsrpc_reply_check.
 * The handle stays valid: wsrpc_call_wait (also one already blocked in another thread)
 * returns WSRPC_ERR_CANCELED, or the call's outcome if it had ended before; a done
 * callback (wsrpc_call_on_done) is called with it.  WSRPC_OK; WSRPC_ERR_CLOSED if the call
 * was already released or its outcome taken; WSRPC_ERR_INVALID_ARG for NULL.  Any thread.
 * Calls started with wsrpc_*_call_async_cancelable are cancelled the same way.  A call's
 * timeout (timeout_ms, default_response_timeout) cancels it on the peer the same way, for
 * wsrpc_client_call and wsrpc_client_call_async too.
 */
int wsrpc_call_cancel(wsrpc_call *call);

/*
 * Have the outcome of a pending call delivered to done(user_data, ...) instead of waiting
 * for it: called exactly once, on a library thread, as for wsrpc_client_call_async (also
 * when the call is cancelled: WSRPC_ERR_CANCELED, or when the client closes), before the
 * client's close returns.  The handle stays valid for wsrpc_call_cancel until done has been
 * called, and is released then; wsrpc_call_wait on it returns WSRPC_ERR_STATE, and
 * wsrpc_call_release cancels it (done is still called).  WSRPC_ERR_STATE if the call has a
 * done callback already; on any error done is never called.  done must not be NULL.
 */
int wsrpc_call_on_done(wsrpc_call *call, wsrpc_done_fn done, void *user_data, wsrpc_error *err);

/*
 * Give up a pending call and release the handle: wsrpc_call_cancel (the peer is told, when
 * it is a wsrpc peer) without waiting for the outcome.  WSRPC_OK, or WSRPC_ERR_CLOSED if the
 * call was already released or its outcome taken by wsrpc_call_wait; WSRPC_ERR_INVALID_ARG
 * for NULL.
 */
int wsrpc_call_release(wsrpc_call *call);

/* ---- completion queues ------------------------------------------------------------ */

/*
 * For event loops (asyncio, libuv, ...): calls started with wsrpc_client_call_queued /
 * wsrpc_server_call_queued put their outcomes in a queue instead of calling back, and the
 * queue's file descriptor (wsrpc_queue_fd) becomes readable when it holds any.  Watch it
 * for reading in the loop, and when it is readable take every outcome at once with
 * wsrpc_queue_take: one wake-up and one call for however many calls have finished.
 * All functions are thread-safe.  Release with wsrpc_queue_close.
 */
wsrpc_queue *wsrpc_queue_new(wsrpc_error *err);

/* The descriptor to watch for reading (owned by the queue: do not read or close it);
 * -1 for NULL or a closed queue. */
int wsrpc_queue_fd(wsrpc_queue *queue);

/*
 * Take every outcome queued so far: *outcomes_json receives a JSON array (free it with
 * wsrpc_free), or NULL when there is none (after a spurious wake-up, say).  Each member is
 *   [tag, 0, result]                                    the call succeeded, or
 *   [tag, status, null, rpc_code, message, data]        it failed: status as the call's
 *                                                       return value, rpc_code and data
 *                                                       (JSON, null if none) as in
 *                                                       wsrpc_error for WSRPC_ERR_REMOTE.
 * It also makes the descriptor unreadable again until the next outcome arrives.
 */
int wsrpc_queue_take(wsrpc_queue *queue, char **outcomes_json, wsrpc_error *err);

/* Close the queue: its descriptor closes, outcomes not taken yet and those of calls still
 * running are dropped.  WSRPC_OK, WSRPC_ERR_CLOSED if already closed, INVALID_ARG for NULL. */
int wsrpc_queue_close(wsrpc_queue *queue);

/*
 * Cancel the queued call with tag (the latest one started with it, if tags repeat), as
 * wsrpc_call_cancel cancels a pending call: stop waiting for its answer and, on a
 * connection to a wsrpc peer, ask the peer to cancel the method's handler; a call not sent
 * yet is never sent.  Its outcome, [tag, WSRPC_ERR_CANCELED, ...], is still queued (unless
 * it had ended before: then that outcome stands).  It does not wait for the call's sending
 * thread.  WSRPC_OK; WSRPC_ERR_CLOSED if no call with tag is running (its outcome is
 * decided already, or the queue is closed); WSRPC_ERR_INVALID_ARG for NULL.  Any thread.
 */
int wsrpc_queue_cancel(wsrpc_queue *queue, uint64_t tag);

/*
 * Start a call and return at once; its outcome goes to queue with tag (any number the
 * caller chooses; JSON readers that use doubles keep up to 2^53 exactly).  The arguments,
 * the client and the queue are checked at once (WSRPC_ERR_INVALID_ARG, WSRPC_ERR_CLOSED,
 * WSRPC_ERR_NOT_CONNECTED; then nothing is queued); the call itself is sent by a library
 * thread right after, the calls of one queue in the order they were made, so the caller
 * spends next to no time per call.  On WSRPC_OK the outcome is queued exactly once, unless
 * the queue is closed first: the result, or why the call failed (WSRPC_ERR_BACKPRESSURE,
 * WSRPC_ERR_CLOSED or WSRPC_ERR_CONNECTION_LOST when the client is closed meanwhile,
 * WSRPC_ERR_TIMEOUT after timeout_ms, WSRPC_ERR_CANCELED after wsrpc_queue_cancel, ...).
 * A call that times out or is cancelled is cancelled on a wsrpc peer too.
 */
int wsrpc_client_call_queued(wsrpc_client *client, const char *method,
                             const char *params_json, int timeout_ms, wsrpc_queue *queue,
                             uint64_t tag, wsrpc_error *err);

/* Send a notification (no answer).  Returns once it is written. */
int wsrpc_client_notify(wsrpc_client *client, const char *method, const char *params_json,
                        wsrpc_error *err);

/* The current connection's channel id (32 hex digits) into *channel_id (free it);
 * WSRPC_ERR_NOT_CONNECTED while there is none. */
int wsrpc_client_channel_id(wsrpc_client *client, char **channel_id, wsrpc_error *err);

/*
 * A snapshot of the client's counters since it connected, as a JSON object into
 * *stats_json (free it with wsrpc_free): {"connections": 1, "connections_total": 1,
 * "reconnects": 0, "calls_in": 0, "calls_out": 12, "notifications_in": 0,
 * "notifications_out": 0, "errors_in": 1, "errors_out": 0, "rejected": 0,
 * "in_flight_in": 0, "in_flight_out": 0, "messages_in": 14, "messages_out": 13,
 * "bytes_in": 2048, "bytes_out": 1536} (the Go core's wsrpc.Stats; counts only grow, except
 * connections and in_flight_*; more members may come).  Every counter is 0 before the first
 * connect.  For programs that export metrics; cheap enough to poll.
 */
int wsrpc_client_stats(wsrpc_client *client, char **stats_json, wsrpc_error *err);

/*
 * Close the connection (status 1000), stop reconnecting, fail pending calls (blocked
 * wsrpc_client_call return WSRPC_ERR_CLOSED, async ones get their done callback), wait
 * until every running callback of this client has returned, and release the handle.
 * No callback of this client starts after it returns.  A second close returns
 * WSRPC_ERR_CLOSED.  Called from inside one of this client's own callbacks it cannot wait
 * for that callback: it starts the shutdown, returns WSRPC_OK at once, and the callbacks
 * still running finish afterwards (their user_data must outlive them).
 */
int wsrpc_client_close(wsrpc_client *client, wsrpc_error *err);

/* ---- method replies (inside a wsrpc_method_fn only) ------------------------------- */

/* Answer with result_json (NULL or "" = null).  Invalid JSON: WSRPC_ERR_INVALID_ARG and
 * the answer is unchanged.  The last reply_* call wins.  After the callback has returned,
 * every reply_* call returns WSRPC_ERR_CLOSED. */
int wsrpc_reply_result(wsrpc_reply *reply, const char *result_json);

/* Answer with a JSON-RPC error: code (e.g. WSRPC_RPC_INVALID_PARAMS or an application
 * code), message (NULL = ""), data_json (NULL = no data member; else valid JSON). */
int wsrpc_reply_error(wsrpc_reply *reply, int code, const char *message,
                      const char *data_json);

/* Answer as a failed handler (see wsrpc_method_fn). */
int wsrpc_reply_fail(wsrpc_reply *reply, const char *message);

/*
 * Whether the caller still wants the answer: WSRPC_OK while it does; WSRPC_ERR_CANCELED
 * once the request is cancelled: by a wsrpc peer that gave up the call (wsrpc_call_cancel,
 * its timeout, a cancelled Go context or Python task; see the README's "Cancellation"), or
 * because the connection or the object closed.  A long-running method may poll it and
 * return early (its answer is then dropped).  WSRPC_ERR_CLOSED after the callback has
 * returned.  Cheap; any thread.
 */
int wsrpc_reply_check(wsrpc_reply *reply);

/* ---- server ----------------------------------------------------------------------- */

/* Create a server (not listening).  options_json as for wsrpc_client_new (the client-only
 * members are ignored).  Release with wsrpc_server_close(). */
wsrpc_server *wsrpc_server_new(const char *options_json, wsrpc_error *err);

/* Register (or replace) a method clients may call.  Allowed before and while listening. */
int wsrpc_server_register(wsrpc_server *server, const char *method, wsrpc_method_fn fn,
                          void *user_data, wsrpc_error *err);

/* Set or clear the event callback (CONNECTED / DISCONNECTED per client connection).  A
 * server's CONNECTED callback may call that client back (wsrpc_server_call). */
int wsrpc_server_on_event(wsrpc_server *server, wsrpc_event_fn fn, void *user_data,
                          wsrpc_error *err);

/* Listen on addr ("127.0.0.1:9000"; port 0 picks a free port) and serve WebSocket
 * connections at path (NULL or "" = "/ws").  *url (if not NULL) receives the URL clients
 * connect to, e.g. "ws://127.0.0.1:40123/ws" (free it).  Once only: WSRPC_ERR_STATE after
 * that; WSRPC_ERR_LISTEN when the address cannot be bound. */
int wsrpc_server_listen(wsrpc_server *server, const char *addr, const char *path,
                        char **url, wsrpc_error *err);

/* The open connections' channel ids as a JSON array of strings into *ids_json (free it). */
int wsrpc_server_channels(wsrpc_server *server, char **ids_json, wsrpc_error *err);

/* A snapshot of the server's counters since it was created (all its connections, open and
 * ended; "reconnects" is 0), as for wsrpc_client_stats. */
int wsrpc_server_stats(wsrpc_server *server, char **stats_json, wsrpc_error *err);

/* Call a method of the client connected on channel_id (from a method callback's
 * channel_id, a CONNECTED event or wsrpc_server_channels) and wait; as wsrpc_client_call.
 * WSRPC_ERR_NOT_FOUND if no open connection has that id. */
int wsrpc_server_call(wsrpc_server *server, const char *channel_id, const char *method,
                      const char *params_json, int timeout_ms, char **result_json,
                      wsrpc_error *err);

/* Asynchronous form of wsrpc_server_call; as wsrpc_client_call_async. */
int wsrpc_server_call_async(wsrpc_server *server, const char *channel_id,
                            const char *method, const char *params_json, int timeout_ms,
                            wsrpc_done_fn done, void *user_data, wsrpc_error *err);

/* Cancelable form of wsrpc_server_call_async; as wsrpc_client_call_async_cancelable. */
int wsrpc_server_call_async_cancelable(wsrpc_server *server, const char *channel_id,
                                       const char *method, const char *params_json,
                                       int timeout_ms, wsrpc_done_fn done, void *user_data,
                                       wsrpc_call **call, wsrpc_error *err);

/* Queued form of wsrpc_server_call; as wsrpc_client_call_queued. */
int wsrpc_server_call_queued(wsrpc_server *server, const char *channel_id, const char *method,
                             const char *params_json, int timeout_ms, wsrpc_queue *queue,
                             uint64_t tag, wsrpc_error *err);

/* Pending-call form of wsrpc_server_call; as wsrpc_client_call_start. */
int wsrpc_server_call_start(wsrpc_server *server, const char *channel_id, const char *method,
                            const char *params_json, int timeout_ms, wsrpc_call **call,
                            wsrpc_error *err);

/* Send a notification to the client connected on channel_id. */
int wsrpc_server_notify(wsrpc_server *server, const char *channel_id, const char *method,
                        const char *params_json, wsrpc_error *err);

/* Stop listening, close every connection (status 1001; pending calls fail), wait for
 * running callbacks and release the handle.  Same rules as wsrpc_client_close. */
int wsrpc_server_close(wsrpc_server *server, wsrpc_error *err);

/* ---- batches (JSON-RPC 2.0 §6) ------------------------------------------------------
 *
 * A batch sends calls and notifications in one message; a wsrpc peer runs them
 * concurrently and answers the calls in one message.  Build it (wsrpc_batch_call,
 * wsrpc_batch_notify), send it once (wsrpc_batch_send), wait for its calls
 * (wsrpc_batch_wait or wsrpc_batch_on_done), read each call's outcome
 * (wsrpc_batch_result), and free it (wsrpc_batch_free).  A peer that answers a batch with
 * one error object (the Python libraries) ran none of it: every call ends with
 * WSRPC_ERR_BATCH_UNSUPPORTED, unless the batch was made with WSRPC_BATCH_SPLIT, which sends
 * the entries again one by one (and later batches of that connection one by one at once).
 *
 * Entries are numbered from 0 in the order they were added, notifications included.
 * Every function may be called from any thread; a batch's functions are serialised
 * internally.  After wsrpc_batch_free every function given the batch returns
 * WSRPC_ERR_CLOSED (as for closed clients, handle values are never reused).
 */

/* Start a batch on the client's current connection.  flags: 0 or WSRPC_BATCH_SPLIT.
 * NULL on error (WSRPC_ERR_NOT_CONNECTED, WSRPC_ERR_INVALID_ARG for unknown flags, ...).
 * Release with wsrpc_batch_free. */
wsrpc_batch *wsrpc_client_batch_new(wsrpc_client *client, int flags, wsrpc_error *err);

/* Start a batch to the client connected on channel_id (WSRPC_ERR_NOT_FOUND if none). */
wsrpc_batch *wsrpc_server_batch_new(wsrpc_server *server, const char *channel_id, int flags,
                                    wsrpc_error *err);

/* Add a call; *index (if not NULL) receives its entry number.  method and params_json as
 * for wsrpc_client_call (checked here: WSRPC_ERR_INVALID_ARG, nothing added).
 * WSRPC_ERR_STATE once the batch is sent. */
int wsrpc_batch_call(wsrpc_batch *batch, const char *method, const char *params_json,
                     int *index, wsrpc_error *err);

/* Add a notification (it takes an entry number too, and has no answer). */
int wsrpc_batch_notify(wsrpc_batch *batch, const char *method, const char *params_json,
                       wsrpc_error *err);

/*
 * Send the batch (once: WSRPC_ERR_STATE after that) and return once it is written; the
 * calls' answers arrive afterwards.  timeout_ms bounds the wait for them (as for a call:
 * 0 means default_response_timeout, else none); a call unanswered then ends with
 * WSRPC_ERR_TIMEOUT and is cancelled on a wsrpc peer.  An empty batch is
 * WSRPC_ERR_INVALID_ARG.  On an error nothing was sent and every call ends with that
 * error (WSRPC_ERR_BATCH_UNSUPPORTED on a legacy-dialect connection, or after the peer
 * refused an earlier batch without WSRPC_BATCH_SPLIT).
 */
int wsrpc_batch_send(wsrpc_batch *batch, int timeout_ms, wsrpc_error *err);

/* Wait up to wait_ms (0: just look; < 0: until done) for every call of a sent batch to
 * end: WSRPC_OK when they all have (read them with wsrpc_batch_result), WSRPC_PENDING if
 * not yet (nothing filled), WSRPC_ERR_STATE if the batch is not sent.  A batch of
 * notifications only has ended as soon as it is sent. */
int wsrpc_batch_wait(wsrpc_batch *batch, int wait_ms, wsrpc_error *err);

/* Call done(user_data, WSRPC_OK, "null", NULL) once, on a library thread, when every call
 * of the sent batch has ended (at once if they have), before the owner's close returns;
 * then read the outcomes with wsrpc_batch_result (from done too).  WSRPC_ERR_STATE if the
 * batch is not sent; on any error done is never called. */
int wsrpc_batch_on_done(wsrpc_batch *batch, wsrpc_done_fn done, void *user_data,
                        wsrpc_error *err);

/*
 * The outcome of call entry `index`, as wsrpc_client_call returns it: WSRPC_OK and
 * *result_json (if not NULL; free it), or the entry's error in *err (WSRPC_ERR_REMOTE
 * with rpc_code for the peer's error answer, WSRPC_ERR_BATCH_UNSUPPORTED, WSRPC_ERR_TIMEOUT,
 * ...).  WSRPC_PENDING while the entry has not ended; WSRPC_ERR_STATE before the batch is
 * sent; WSRPC_ERR_INVALID_ARG for an index out of range or a notification's.  May be
 * read any number of times.
 */
int wsrpc_batch_result(wsrpc_batch *batch, int index, char **result_json, wsrpc_error *err);

/* Release the batch.  Its calls still unanswered are given up as by wsrpc_call_release
 * (a wsrpc peer is told).  WSRPC_OK; WSRPC_ERR_CLOSED if already freed;
 * WSRPC_ERR_INVALID_ARG for NULL.  Batches are not freed by closing their client. */
int wsrpc_batch_free(wsrpc_batch *batch);

#endif /* WSRPC_NO_PROTOTYPES */

#ifdef __cplusplus
}
#endif

#endif /* WSRPC_H */
