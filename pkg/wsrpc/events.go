package wsrpc

import (
	"context"
	"time"
)

// EventKind says what happened to a connection (see Event).
type EventKind int

// Connection events, numbered as in the C API.
const (
	EventConnected    EventKind = 1 // a connection is ready (client: after the readiness check)
	EventDisconnected EventKind = 2 // a connection ended (exactly once per connection)
	EventReconnecting EventKind = 3 // client: a reconnect attempt is about to be made
)

func (k EventKind) String() string {
	switch k {
	case EventConnected:
		return "connected"
	case EventDisconnected:
		return "disconnected"
	case EventReconnecting:
		return "reconnecting"
	}
	return "unknown"
}

// Event is one connection event, the flattened form of the OnConnect, OnDisconnect and
// OnReconnect hooks that bindings forward to foreign callbacks.
type Event struct {
	Kind      EventKind
	ChannelID string        // connected, disconnected: the channel's id
	Attempt   int           // reconnecting: 1-based attempt number
	Delay     time.Duration // reconnecting: wait before the attempt
	Err       error         // disconnected: why (matches ErrClosed); reconnecting: the last error
}

// WithEvents sets the OnConnect, OnDisconnect and OnReconnect hooks so that each reports an
// Event to fn. Like those hooks, fn may run on any goroutine, and must not block for long:
// a client's connected event runs before the connection is handed to callers.
func WithEvents(fn func(Event)) Option {
	return func(c *Config) {
		c.OnConnect = func(_ context.Context, ch *Channel) {
			fn(Event{Kind: EventConnected, ChannelID: ch.ID()})
		}
		c.OnDisconnect = func(ch *Channel, err error) {
			fn(Event{Kind: EventDisconnected, ChannelID: ch.ID(), Err: err})
		}
		c.OnReconnect = func(attempt int, delay time.Duration, err error) {
			fn(Event{Kind: EventReconnecting, Attempt: attempt, Delay: delay, Err: err})
		}
	}
}
