package wsrpc

import (
	"context"

	"github.com/coder/websocket"
)

// conn is the transport a Channel runs on. *websocket.Conn satisfies it; tests use fakes.
type conn interface {
	Read(ctx context.Context) (websocket.MessageType, []byte, error)
	Write(ctx context.Context, typ websocket.MessageType, p []byte) error
	Close(code websocket.StatusCode, reason string) error
	CloseNow() error
}

// pinger is implemented by transports that can send WebSocket protocol pings (not the
// browser's).
type pinger interface {
	Ping(ctx context.Context) error
}
