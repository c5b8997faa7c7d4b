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
// # Handlers and latency
//
// Requests run concurrently, but a connection's reader runs each request itself first (no
// goroutine handoff for quick handlers). A handler that is still running after 0.5 to 1 ms
// makes the reading move on to another goroutine; one that waits for its own call back
// to the peer moves it on at once, and any handler can do so before a long wait with
// [Detach]. Under load, replies and requests written at the same time share syscalls.
//
// On a client, a call reads its own answer from the connection when no other call is
// outstanding, instead of sleeping until the reader goroutine wakes it: on a fast link
// that halves the latency of one call at a time. A call with a deadline or cancellation
// does so on ws:// connections only (where it can see whether a whole message has
// arrived, and so never blocks past its deadline); over wss:// only calls whose context
// cannot end do. Between such calls nobody reads; whatever else needs the connection
// read then (a call started with [Channel.Go], a ping) starts the reader goroutine again
// at once, and a message the server sends on its own is read at most 1 ms after the
// last call. For calls that wait for the reader goroutine, [Config.SpinWait] trades CPU
// for latency.
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
