package wsrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wsrpc/wsrpc/pkg/wsrpc/internal/wire"
)

// JSON-RPC 2.0 error codes. The first five are the ones the protocol defines; CodeServerBusy
// is what a wsrpc peer answers when its per-connection cap on concurrently executing
// requests (Config.MaxConcurrentRequests) is reached.
const (
	CodeParseError     = wire.CodeParseError
	CodeInvalidRequest = wire.CodeInvalidRequest
	CodeMethodNotFound = wire.CodeMethodNotFound
	CodeInvalidParams  = wire.CodeInvalidParams
	CodeInternalError  = wire.CodeInternalError
	CodeServerBusy     = -32000
)

// Error is a JSON-RPC error object: the error a peer answered a call with, or the error a
// handler returns to control exactly what the peer sees.
//
// errors.Is matches an *Error against the sentinel of its code: ErrParse, ErrInvalidRequest,
// ErrMethodNotFound, ErrInvalidParams, ErrInternal and ErrServerBusy.
type Error struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *Error) Error() string {
	if len(e.Data) > 0 {
		return fmt.Sprintf("wsrpc: remote error %d: %s (data: %s)", e.Code, e.Message, e.Data)
	}
	return fmt.Sprintf("wsrpc: remote error %d: %s", e.Code, e.Message)
}

// Is reports whether target is the sentinel of e's code.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrParse:
		return e.Code == CodeParseError
	case ErrInvalidRequest:
		return e.Code == CodeInvalidRequest
	case ErrMethodNotFound:
		return e.Code == CodeMethodNotFound
	case ErrInvalidParams:
		return e.Code == CodeInvalidParams
	case ErrInternal:
		return e.Code == CodeInternalError
	case ErrServerBusy:
		return e.Code == CodeServerBusy
	}
	return false
}

// sentinel is an error value with an optional parent it also matches.
type sentinel struct {
	msg    string
	parent error
}

func (s *sentinel) Error() string { return s.msg }
func (s *sentinel) Is(target error) bool {
	return s.parent != nil && (target == s.parent || errors.Is(s.parent, target))
}

// Sentinel errors, for errors.Is.
var (
	// ErrClosed: the channel or client is closed; nothing more can be sent on it.
	ErrClosed error = &sentinel{msg: "wsrpc: closed"}
	// ErrConnectionLost: the connection ended while a call was waiting for its answer.
	// It also matches ErrClosed. The call may or may not have run on the peer.
	ErrConnectionLost error = &sentinel{msg: "wsrpc: connection lost", parent: ErrClosed}
	// ErrNotConnected: a client is between connections and the call was configured not to
	// wait (Config.FailFast), or it is not connected yet. Nothing was sent.
	ErrNotConnected error = &sentinel{msg: "wsrpc: not connected"}
	// ErrTimeout: no answer arrived in time. It also matches context.DeadlineExceeded.
	// The call may or may not have run on the peer.
	ErrTimeout error = &sentinel{msg: "wsrpc: timeout", parent: context.DeadlineExceeded}
	// ErrBackpressure: a local limit (pending calls, send queue) is reached; nothing was sent.
	ErrBackpressure error = &sentinel{msg: "wsrpc: backpressure"}
	// ErrWriteTimeout: the peer read nothing of what was sent to it for Config.WriteTimeout
	// (a stuck write, or outgoing messages over Config.MaxOutgoingBytes waiting that long).
	// The connection is closed; it comes wrapped with ErrConnectionLost.
	ErrWriteTimeout error = &sentinel{msg: "wsrpc: write timeout"}
	// ErrKeepalive: the peer did not answer keepalive pings (Config.Keepalive); the
	// connection was dropped. It comes wrapped with ErrConnectionLost.
	ErrKeepalive error = &sentinel{msg: "wsrpc: keepalive failed"}
	// ErrMessageTooLarge: a message exceeds Config.MaxMessageSize.
	ErrMessageTooLarge error = &sentinel{msg: "wsrpc: message too large"}
	// ErrInvalidID: a custom call id is too long, still pending, or reused within 10 s.
	ErrInvalidID error = &sentinel{msg: "wsrpc: invalid call id"}
	// ErrRemoteValue: the peer did not tell its channel id (channel-id sync).
	ErrRemoteValue error = &sentinel{msg: "wsrpc: remote returned no value"}
	// ErrCertificate: a configured client certificate is expired or not yet valid.
	ErrCertificate error = &sentinel{msg: "wsrpc: client certificate"}
	// ErrNoResponse, returned by a handler, sends nothing at all, even to a request.
	ErrNoResponse error = &sentinel{msg: "wsrpc: no response"}

	// Matched by *Error values with the corresponding code.
	ErrParse          error = &sentinel{msg: "wsrpc: parse error"}
	ErrInvalidRequest error = &sentinel{msg: "wsrpc: invalid request"}
	ErrMethodNotFound error = &sentinel{msg: "wsrpc: method not found"}
	ErrInvalidParams  error = &sentinel{msg: "wsrpc: invalid params"}
	ErrInternal       error = &sentinel{msg: "wsrpc: internal error"}
	ErrServerBusy     error = &sentinel{msg: "wsrpc: server busy"}
)

// InvalidParams returns an error that a handler can return to answer with -32602
// "Invalid parameters: <detail>".
func InvalidParams(detail string) error {
	return &Error{Code: CodeInvalidParams, Message: "Invalid parameters: " + detail}
}

// wrap returns an error that matches base with errors.Is and reads "base: detail".
func wrap(base error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{base}, args...)...)
}
