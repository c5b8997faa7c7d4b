package wsrpc

import (
	"encoding/json"

	"github.com/wsrpc/wsrpc/pkg/wsrpc/internal/wire"
)

// ValidJSON is JSON text that the code producing it vouches for. As call params or as a
// handler's result it is sent as it is, without the validation pass a json.RawMessage
// gets (for a large message that pass costs about as much as sending it): use it for
// bytes that a JSON encoder made or that arrived from a peer (a json.RawMessage param is
// already validated). Invalid text is not caught: the peer answers it with a parse error.
type ValidJSON []byte

// MarshalJSON returns v (null when empty).
func (v ValidJSON) MarshalJSON() ([]byte, error) {
	if len(v) == 0 {
		return []byte("null"), nil
	}
	return v, nil
}

// RawParams validates params given as JSON text by a binding (C string, JavaScript string)
// and returns them as a fresh copy, ready for Call, Go or Notify. An empty or
// whitespace-only text and "null" mean "no params" (nil); anything else must be a JSON
// object (named params) or array (positional params). Other input is ErrInvalidArgument.
func RawParams(text []byte) (json.RawMessage, error) {
	text, err := checkParams(text)
	if text == nil || err != nil {
		return nil, err
	}
	return append(json.RawMessage(nil), text...), nil
}

// checkParams validates params given as JSON text and returns them (not a copy), or nil
// for no params.
func checkParams(text []byte) ([]byte, error) {
	switch wire.FirstByte(text) {
	case 0, 'n':
		if wire.FirstByte(text) == 0 || wire.Valid(text) {
			return nil, nil
		}
	case '{', '[':
		if wire.Valid(text) {
			return text, nil
		}
	default:
		return nil, wrap(ErrInvalidArgument, "params must be a JSON object or array, got %.40q", text)
	}
	return nil, wrap(ErrInvalidArgument, "params are not valid JSON: %.40q", text)
}

// RawResult validates a handler result given as JSON text by a binding and returns a copy
// to return from a HandlerFunc. Empty text means null. Invalid JSON is ErrInvalidArgument.
func RawResult(text []byte) (json.RawMessage, error) {
	if wire.FirstByte(text) == 0 {
		return json.RawMessage("null"), nil
	}
	if !wire.Valid(text) {
		return nil, wrap(ErrInvalidArgument, "result is not valid JSON: %.40q", text)
	}
	return append(json.RawMessage(nil), text...), nil
}

// NewRemoteError builds the *Error a handler returns to answer with exactly code, message
// and data (data is JSON text, empty for none; invalid data is ErrInvalidArgument).
func NewRemoteError(code int, message string, data []byte) (*Error, error) {
	e := &Error{Code: code, Message: message}
	if wire.FirstByte(data) != 0 {
		if !wire.Valid(data) {
			return nil, wrap(ErrInvalidArgument, "error data is not valid JSON: %.40q", data)
		}
		e.Data = append(json.RawMessage(nil), data...)
	}
	return e, nil
}
