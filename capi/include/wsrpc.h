/*
 * wsrpc.h — C API of wsrpc: bidirectional JSON-RPC 2.0 over WebSockets, wire-compatible
 * with the Python library fastapi-ws-rpc 1.2.x.
 *
 * Link with libwsrpc (pkg-config --cflags --libs wsrpc). The library embeds a Go runtime.
 *
 * ------------------------------------------------------------------------------------
 * CONVENTIONS (they hold for every function below unless its comment says otherwise)
 *
 * Handles.  wsrpc_client and wsrpc_server are opaque; never dereference them.  A handle
 *   stays valid until its *_close function; after that every function given it returns
 *   WSRPC_ERR_CLOSED (a closed handle value is never reused, so use-after-close and double
 *   close are reported, not undefined).  NULL handles give WSRPC_ERR_INVALID_ARG.
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
 *   completions) run on threads owned by the library's runtime — NOT the thread that
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
    WSRPC_PENDING = 15               /* wsrpc_call_wait only: not finished yet (not an error) */
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
 * for long while the connect retries.  wsrpc_call_release gives the connect up: it stops
 * the attempt and returns once it has stopped (the client stays unconnected and may
 * connect again).  The same errors as wsrpc_client_connect, at once or from the wait.
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
 * must still be waited for or released.
 */
int wsrpc_call_wait(wsrpc_call *call, int wait_ms, char **result_json, wsrpc_error *err);

/*
 * Give up a pending call: stop waiting for its answer locally (the peer is not told; an
 * answer that arrives later is dropped) and release the handle.  WSRPC_OK, or
 * WSRPC_ERR_CLOSED if the call was already released or its outcome taken by
 * wsrpc_call_wait; WSRPC_ERR_INVALID_ARG for NULL.
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
 * Start a call and return at once; its outcome goes to queue with tag (any number the
 * caller chooses; JSON readers that use doubles keep up to 2^53 exactly).  The arguments,
 * the client and the queue are checked at once (WSRPC_ERR_INVALID_ARG, WSRPC_ERR_CLOSED,
 * WSRPC_ERR_NOT_CONNECTED; then nothing is queued); the call itself is sent by a library
 * thread right after, the calls of one queue in the order they were made, so the caller
 * spends next to no time per call.  On WSRPC_OK the outcome is queued exactly once, unless
 * the queue is closed first: the result, or why the call failed (WSRPC_ERR_BACKPRESSURE,
 * WSRPC_ERR_CLOSED or WSRPC_ERR_CONNECTION_LOST when the client is closed meanwhile,
 * WSRPC_ERR_TIMEOUT after timeout_ms, ...).
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

#endif /* WSRPC_NO_PROTOTYPES */

#ifdef __cplusplus
}
#endif

#endif /* WSRPC_H */
