// Package wsrpc is bidirectional JSON-RPC 2.0 over WebSockets, wire-compatible with the
// Python library fastapi-ws-rpc (1.2.x): a Python client can call a wsrpc Server and a wsrpc
// Client can call a Python server, and either side can call the other back.
//
// One Channel type runs each connection on both sides. A Server is an http.Handler that
// accepts connections; a Client dials one and can reconnect. Both expose Methods to the
// peer:
//
//	m := wsrpc.NewMethods()
//	wsrpc.Register(m, "concat", func(ctx context.Context, p struct{ A, B string }) (string, error) {
//		return p.A + p.B, nil
//	})
//	srv, _ := wsrpc.NewServer(m)
//	http.Handle("/ws", srv)
//
//	c, _ := wsrpc.Dial(ctx, "ws://127.0.0.1:9000/ws")
//	var out string
//	err := c.Call(ctx, "concat", map[string]string{"a": "hello", "b": " world"}, &out)
//
// Inside a handler, [ChannelFromContext] returns the connection the request came on, so a
// server method can call the client that called it.
//
// # Handlers, limits and liveness
//
// A connection's reader only reads: answers complete their calls, and every request and
// notification runs on a goroutine of its own (reused from an idle pool), so a handler
// that blocks, for a database or a call back to the peer, holds up nothing else.
// Config.MaxConcurrentRequests caps running handlers per connection (a request over the
// cap is answered -32000; a notification waits, and the reader with it); a handler
// waiting for a peer's answer does not count. Config.OrderedNotifications runs a
// connection's notifications one at a time in arrival order (its requests still
// concurrently); Config.Sequential runs everything one at a time on the reader instead,
// in arrival order, as the Python library does.
//
// Every buffer a connection can fill is bounded in bytes: outgoing messages being
// written (Config.MaxOutgoingBytes) and incoming requests being handled
// (Config.MaxIncomingBytes), each 2 x MaxMessageSize by default. Over either, the
// connection is not read (the peer's sends wait in TCP); a peer that reads nothing of
// what is sent to it for Config.WriteTimeout (10 s) is disconnected (close code 1008,
// ErrWriteTimeout). Keepalive pings run on both sides by default (every 20 s; a dead
// peer is dropped within 30 s), and Client.Close and Server.Close are bounded in time
// whatever the peer does.
//
// Under load, replies and requests written at the same time share syscalls (write
// coalescing); nothing is ever held back waiting for more. [Config.SpinWait] trades CPU
// for the latency of a lone call.
//
// # Beyond the Python library
//
// Where a Python peer cannot notice (the spec's EXTENSIONS.md): batches (JSON-RPC 2.0 §6;
// [Channel.NewBatch], [Client.NewBatch], Config.MaxBatchSize; [ErrBatchUnsupported]
// against a peer that refuses them), cancellation on the wire between wsrpc peers (the
// subprotocol [ExtensionSubprotocol], negotiated at the handshake; the notification
// [CancelMethod]), and interceptors on both sides ([WithIncomingInterceptor],
// [WithOutgoingInterceptor]; package wsrpcotel builds OpenTelemetry on them).
//
// # Large messages: what is copied
//
// The cost of a message should grow with its bytes, not with passes over them. An
// incoming message is read whole (into one buffer sized after the previous message when
// that was large, instead of one that doubles as it fills), then validated and split into
// its members in one pass (internal/wire; the same pass checks UTF-8). Nothing a handler
// may keep keeps a much larger message alive: decoded strings are copies, and raw params
// (a Methods.Handle handler's, a json.RawMessage parameter's) are the message's own bytes
// only when they are at least half of it, else a copy. A json.RawMessage parameter is not
// decoded again. A json.RawMessage result is validated once, unless it is exactly the
// json.RawMessage params the handler was given (already validated); a ValidJSON result
// (or call params) is never validated. A large reply is assembled in one exactly sized
// buffer and written with the library's framing, straight to the socket unless other
// writes are in flight (then it joins the coalescing buffer: one copy). A client masks
// what it sends (RFC 6455), which the library does in its own buffer (one copy).
//
// # Errors
//
// A peer's error answer is an *[Error] (code, message, data). Local failures are sentinels
// for errors.Is: [ErrClosed], [ErrConnectionLost], [ErrTimeout], [ErrBackpressure],
// [ErrMessageTooLarge], [ErrInvalidID], [ErrNotConnected]; an *Error also matches the
// sentinel of its code ([ErrMethodNotFound], [ErrInvalidParams], ...).
//
// # Delivery guarantee
//
// Every call is sent at most once and ends exactly once: with its result, with the peer's
// error, or with a local error. ErrBackpressure, ErrClosed (before sending),
// ErrMessageTooLarge, ErrInvalidID and ErrNotConnected mean nothing was sent. ErrTimeout and
// ErrConnectionLost mean the request may or may not have run on the peer. Calls are never
// resent after a reconnect.
//
// # Dialects, reconnect, keepalive
//
// [DialectLegacy] speaks the envelope of the older fastapi_websocket_rpc (and
// fastapi-websocket-pubsub); a Server with [DialectAuto] pins each connection to what its
// client speaks. [Config.Reconnect] and [Config.Keepalive] (WebSocket pings natively,
// JSON-RPC "ping" in browsers) keep a Client connected; every reconnect is a new Channel.
// The C library (capi), the Python package over it and the wasm build run this same code.
//
// # Protocol
//
// The wire format is JSON-RPC 2.0 as fastapi-ws-rpc speaks it: one JSON value per
// WebSocket message, string ids of 32 hex digits, subprotocol "jsonrpc2.0", built-in
// methods "ping" and "_get_channel_id_", names starting with "_" private. See
// https://www.jsonrpc.org/specification and the project's spec notes.
package wsrpc
