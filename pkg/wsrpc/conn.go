package wsrpc

import "context"

// conn is the transport a Channel runs on: coder/websocket's *websocket.Conn natively (the
// types are aliases of its own there, see wstypes.go), jsConn in the browser build; tests
// use fakes.
type conn interface {
	Read(ctx context.Context) (messageType, []byte, error)
	Write(ctx context.Context, typ messageType, p []byte) error
	Close(code statusCode, reason string) error
	CloseNow() error
}

// pinger is implemented by transports that can send WebSocket protocol pings (not the
// browser's).
type pinger interface {
	Ping(ctx context.Context) error
}

// writeHolder is a transport that coalesces writes (corkConn): a sender holds it around
// the library's Write and, on release, writes out what waits, its own message among
// them, once the library no longer holds its write lock. release reports a failed write;
// notSent says none of the message's bytes can have left.
type writeHolder interface {
	hold() int64
	release(mark int64, yield bool) (notSent bool, err error)
	// releaseBackground ends a hold leaving what waits to a flusher goroutine.
	releaseBackground()
}

// readSized is a transport that sizes its read buffer from the previous message
// (readMessage; the native connections). Declared here for the shared read loop.
type readSized interface {
	readSized(hint *int) (messageType, []byte, error)
}
