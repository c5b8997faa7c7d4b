//go:build js

package wsrpc

import (
	"context"
	"log/slog"
	"time"
)

// Config holds every knob of a Client or Server. Zero values mean "the default" unless a
// field says otherwise; build one with DefaultConfig, the With* options, or ParseConfig
// (the JSON form used by the C and JavaScript bindings).
//
// This is the browser build's Config (GOOS=js, config.go has the native one): it has the
// same fields less Header, TLSConfig and HTTPClient (a browser sends no handshake headers of
// ours and does TLS itself) and Authenticate (a browser does not serve), which would link
// net/http and crypto/tls, more than a quarter of the .wasm. TestConfigTwins keeps the two alike.
type Config struct {
	// Limits.
	MaxMessageSize        int64 // bytes, both directions; default 10 MiB
	MaxPendingRequests    int   // outgoing calls awaiting an answer; default 1000
	MaxSendQueue          int   // messages being written at once; default 1000, -1 = unlimited
	MaxConcurrentRequests int   // incoming requests executing at once; default 1000, -1 = unlimited
	Sequential            bool  // handle incoming messages one at a time, in order (Python parity)
	// OrderedNotifications runs a connection's notifications one at a time, in the order
	// they arrived, on a goroutine of their own, while its requests still run concurrently
	// (a notification handler waiting for a peer's answer holds up only later
	// notifications). Batch members are not ordered (JSON-RPC 2.0 §6). Queued
	// notifications count against MaxIncomingBytes; when they fill it, the connection is
	// not read until the one running ends, so a notification handler that calls the peer
	// should give that call a deadline (or set DefaultTimeout).
	OrderedNotifications bool
	// MaxOutgoingBytes bounds the bytes of outgoing messages waiting to be written on a
	// connection (replies, calls, notifications). Over it, senders wait (up to
	// WriteTimeout, then the connection is closed with 1008 and its calls fail with
	// ErrConnectionLost and ErrWriteTimeout) and the connection is not read meanwhile.
	// Default 2 x MaxMessageSize; -1 = unlimited.
	MaxOutgoingBytes int64
	// MaxIncomingBytes bounds the bytes of incoming requests and notifications being
	// handled on a connection (a handler waiting for a peer's answer no longer counts).
	// Over it, the connection is not read until handlers finish (the peer's sends wait
	// in TCP). Default 2 x MaxMessageSize; -1 = unlimited.
	MaxIncomingBytes int64
	// MaxBatchSize bounds the members of an incoming batch (a JSON array of requests,
	// JSON-RPC 2.0 §6): a larger one is answered with one -32600 error and none of it
	// runs. Default 100; -1 = unlimited. (A batch is a message: MaxMessageSize bounds
	// its total size.)
	MaxBatchSize int

	// Timeouts. Zero means none.
	DefaultTimeout        time.Duration // for calls whose context has no deadline
	IdleTimeout           time.Duration // close after this long without a received message
	MaxConnectionDuration time.Duration // close a connection this long after it opened
	HandshakeTimeout      time.Duration // client: WebSocket handshake; default 30 s
	WriteTimeout          time.Duration // longest a write may wait for the peer to read; default 10 s, -1 = none
	CloseGrace            time.Duration // how long Close waits for running handlers; default 5 s (handlers still running then outlive Close; their contexts are cancelled)

	// SpinWait trades CPU for latency on fast links (peers on the same host): a caller
	// whose call is the only one outstanding on its connection busy-waits up to SpinWait
	// for the answer before it sleeps, as long as such answers recently arrived within
	// SpinWait, GOMAXPROCS is at least 2, and fewer than GOMAXPROCS-1 callers spin at
	// once in the process. Waking a sleeping caller costs tens of µs on loopback (see
	// `make bench`). Zero (the default) never spins; a few tens of µs suits loopback.
	SpinWait time.Duration

	// Methods the peer may call (a client's own methods; a server takes them in NewServer).
	Methods *Methods

	// Disclosure: with Debug, -32603 replies carry the handler's error text and type.
	Debug bool

	// Subprotocols offered (client) or accepted (server), in preference order. nil means
	// the default ["jsonrpc2.0"]; an empty non-nil slice disables subprotocols.
	Subprotocols []string
	// Dialect is the envelope spoken: JSON-RPC 2.0 (default), the legacy
	// fastapi_websocket_rpc one, or (servers) DialectAuto to follow each client.
	Dialect Dialect
	// Binary sends binary frames instead of text (both kinds are always accepted).
	Binary bool
	// NoExtensions stops offering (clients) and accepting (servers) ExtensionSubprotocol,
	// by which wsrpc peers agree on cancellation on the wire. Python peers never take it
	// either way: it only matters between wsrpc peers.
	NoExtensions bool

	// Server only.
	SyncChannelID  bool     // learn the client's channel id with _get_channel_id_ on connect
	OriginPatterns []string // extra allowed Origin host patterns (same-origin is always allowed)

	// Client only.
	ReadinessCheck bool // after connecting, ping up to 5 times (1 s each) like Python
	Retry          RetryConfig
	Reconnect      ReconnectConfig
	Keepalive      KeepaliveConfig
	FailFast       bool // calls made while reconnecting fail with ErrNotConnected instead of waiting
	// FallbackURLs are more servers of the same service (e.g. the other nodes of a cluster).
	// Connection attempts start with Dial's url; after a failed attempt, and first after a
	// lost connection, the next attempt goes to another URL chosen at random, so that the
	// clients of a server that died spread over the others (reconnect delays are jittered
	// too).
	FallbackURLs []string

	// Hooks. They may be called from any goroutine, and hooks of one kind may run
	// concurrently (a server runs OnConnect for each connection in its own goroutine). A
	// panic in a hook is recovered and logged. A client runs OnConnect after the new
	// connection has become current, so the hook may call through the Client.
	OnConnect    func(ctx context.Context, ch *Channel) // a connection is ready (ctx ends with it)
	OnDisconnect func(ch *Channel, err error)           // exactly once per connection
	OnError      func(ch *Channel, err error)           // a message could not be processed
	OnReconnect  func(attempt int, delay time.Duration, err error)

	Logger *slog.Logger // default slog.Default()

	// Interceptors around incoming requests and notifications, and around outgoing calls
	// and notifications; the first is the outermost (see WithIncomingInterceptor).
	IncomingInterceptors []IncomingInterceptor
	OutgoingInterceptors []OutgoingInterceptor

	chains *interceptorChains // the interceptors composed once (see composeInterceptors)
}

// setJSONHeaders ignores the handshake headers of the JSON configuration: a browser
// WebSocket cannot send headers.
func setJSONHeaders(*Config, map[string]string) {}
