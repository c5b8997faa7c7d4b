package wsrpc

import (
	"context"
	"errors"
)

// ErrInvalidArgument is returned for bad input handed over by a caller: params or a result
// that are not valid JSON (or not an object/array where one is required), an empty method
// name, a negative timeout. Bindings (C, JavaScript) map it to their "invalid argument"
// error. Nothing was sent.
var ErrInvalidArgument error = &sentinel{msg: "wsrpc: invalid argument"}

// ErrorKind classifies an error returned by this package into the small, stable set of
// outcomes the language bindings expose (C status codes, JavaScript error names, Python
// exception classes). Classify with KindOf; the numbering is stable.
type ErrorKind int

// Error kinds, in a stable order (the C API's status codes use the same numbers up to
// KindOther; WSRPC_ERR_BATCH_UNSUPPORTED is 16).
const (
	KindNone             ErrorKind = iota // no error
	KindInvalidArgument                   // ErrInvalidArgument
	KindClosed                            // ErrClosed (not ErrConnectionLost), context.Canceled
	KindConnectionLost                    // ErrConnectionLost: the call may have run on the peer
	KindNotConnected                      // ErrNotConnected
	KindTimeout                           // ErrTimeout, context.DeadlineExceeded
	KindRemote                            // *Error: the peer answered with a JSON-RPC error
	KindBackpressure                      // ErrBackpressure
	KindMessageTooLarge                   // ErrMessageTooLarge
	KindConnect                           // a connection attempt failed (handshake refused: *HTTPError)
	KindInvalidID                         // ErrInvalidID
	KindOther                             // anything else
	KindBatchUnsupported                  // ErrBatchUnsupported: none of the batch ran on the peer
)

var kindNames = [...]string{
	KindNone:            "ok",
	KindInvalidArgument: "invalid_argument",
	KindClosed:          "closed",
	KindConnectionLost:  "connection_lost",
	KindNotConnected:    "not_connected",
	KindTimeout:         "timeout",
	KindRemote:          "remote",
	KindBackpressure:    "backpressure",
	KindMessageTooLarge: "message_too_large",
	KindConnect:         "connect",
	KindInvalidID:       "invalid_id",
	KindOther:           "other",

	KindBatchUnsupported: "batch_unsupported",
}

// String returns the kind's snake_case name ("timeout", "remote", ...).
func (k ErrorKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "other"
}

// KindOf classifies err (nil is KindNone). A remote *Error is KindRemote even though it
// also matches the sentinel of its code; ErrConnectionLost is checked before ErrClosed,
// which it also matches.
func KindOf(err error) ErrorKind {
	var re *Error
	var he *HTTPError
	switch {
	case err == nil:
		return KindNone
	case errors.As(err, &re):
		return KindRemote
	case errors.Is(err, ErrInvalidArgument):
		return KindInvalidArgument
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return KindTimeout
	case errors.Is(err, ErrConnectionLost):
		return KindConnectionLost
	case errors.Is(err, ErrClosed), errors.Is(err, context.Canceled):
		return KindClosed
	case errors.Is(err, ErrNotConnected):
		return KindNotConnected
	case errors.Is(err, ErrBackpressure):
		return KindBackpressure
	case errors.Is(err, ErrMessageTooLarge):
		return KindMessageTooLarge
	case errors.Is(err, ErrInvalidID):
		return KindInvalidID
	case errors.Is(err, ErrBatchUnsupported):
		return KindBatchUnsupported
	case errors.As(err, &he):
		return KindConnect
	}
	return KindOther
}

// RemoteError returns the peer's JSON-RPC error carried by err, or nil.
func RemoteError(err error) *Error {
	var re *Error
	if errors.As(err, &re) {
		return re
	}
	return nil
}
