package wire

import (
	"github.com/mailru/easyjson/jlexer"
	"github.com/mailru/easyjson/jwriter"
)

// RawMessage is a raw piece of JSON, taken without parsing and written as is: easyjson's
// RawMessage (same methods, same encoding), declared here because the easyjson root
// package imports net/http, which the browser build must not link (see noroot/main.go).
type RawMessage []byte

// MarshalEasyJSON writes the raw JSON, or null when empty.
func (v *RawMessage) MarshalEasyJSON(w *jwriter.Writer) {
	if len(*v) == 0 {
		w.RawString("null")
	} else {
		w.Raw(*v, nil)
	}
}

// UnmarshalEasyJSON keeps the raw text of the next value.
func (v *RawMessage) UnmarshalEasyJSON(l *jlexer.Lexer) {
	*v = RawMessage(l.Raw())
}

// UnmarshalJSON implements encoding/json.Unmarshaler.
func (v *RawMessage) UnmarshalJSON(data []byte) error {
	*v = make([]byte, len(data))
	copy(*v, data)
	return nil
}

var nullBytes = []byte("null")

// MarshalJSON implements encoding/json.Marshaler.
func (v RawMessage) MarshalJSON() ([]byte, error) {
	if len(v) == 0 {
		return nullBytes, nil
	}
	return v, nil
}

// IsDefined reports whether the value is present (easyjson's omitempty asks it).
func (v *RawMessage) IsDefined() bool {
	return len(*v) > 0
}
