package wsrpc

import (
	"encoding/json"

	"github.com/wsrpc/wsrpc/pkg/wsrpc/internal/wire"
)

// RawParams validates params given as JSON text by a binding (C string, JavaScript string)
// and returns them as a fresh copy, ready for Call, Go or Notify. An empty or
// whitespace-only text and "null" mean "no params" (nil); anything else must be a JSON
// object (named params) or array (positional params). Other input is ErrInvalidArgument.
func RawParams(text []byte) (json.RawMessage, error) {
	switch wire.FirstByte(text) {
	case 0:
		return nil, nil
	case '{', '[', 'n':
	default:
		return nil, wrap(ErrInvalidArgument, "params must be a JSON object or array, got %.40q", text)
	}
	if !json.Valid(text) {
		return nil, wrap(ErrInvalidArgument, "params are not valid JSON: %.40q", text)
	}
	if wire.FirstByte(text) == 'n' {
		return nil, nil // "null"
	}
	return append(json.RawMessage(nil), text...), nil
}

// RawResult validates a handler result given as JSON text by a binding and returns a copy
// to return from a HandlerFunc. Empty text means null. Invalid JSON is ErrInvalidArgument.
func RawResult(text []byte) (json.RawMessage, error) {
	if wire.FirstByte(text) == 0 {
		return json.RawMessage("null"), nil
	}
	if !json.Valid(text) {
		return nil, wrap(ErrInvalidArgument, "result is not valid JSON: %.40q", text)
	}
	return append(json.RawMessage(nil), text...), nil
}

// NewRemoteError builds the *Error a handler returns to answer with exactly code, message
// and data (data is JSON text, empty for none; invalid data is ErrInvalidArgument).
func NewRemoteError(code int, message string, data []byte) (*Error, error) {
	e := &Error{Code: code, Message: message}
	if wire.FirstByte(data) != 0 {
		if !json.Valid(data) {
			return nil, wrap(ErrInvalidArgument, "error data is not valid JSON: %.40q", data)
		}
		e.Data = append(json.RawMessage(nil), data...)
	}
	return e, nil
}
