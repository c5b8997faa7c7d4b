package wsrpc

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"unsafe"

	"github.com/mailru/easyjson/jlexer"
	"github.com/mailru/easyjson/jwriter"

	"github.com/wsrpc/wsrpc/pkg/wsrpc/internal/wire"
)

// Fast paths for the common scalar shapes of params and results, so that the hot path
// avoids encoding/json's reflection (and the deep stacks it grows). Strings decoded here
// are copies: a handler that keeps a small string keeps only that string, never the
// message it came in. Anything else, and
// any input the fast path does not accept exactly, goes through encoding/json, so the
// results and the error texts stay those of encoding/json.

// decodeScalar decodes raw into v (a settable scalar field) when it can; ok is false when
// the caller must fall back to encoding/json.
func decodeScalar(raw []byte, v reflect.Value) (ok bool) {
	if len(raw) == 0 || raw[0] == 'n' {
		return false // null and anything odd: encoding/json's rules
	}
	lex := jlexer.Lexer{Data: raw}
	switch v.Kind() {
	case reflect.String:
		if raw[0] != '"' || v.Type() != stringType {
			return false
		}
		s := lex.String() // a copy (see above)
		if !lex.Ok() || !lex.IsStart() && !consumed(&lex) {
			return false
		}
		v.SetString(s)
	case reflect.Bool:
		b := lex.Bool()
		if !consumed(&lex) {
			return false
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(string(raw), 10, v.Type().Bits())
		if err != nil {
			return false
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(string(raw), 10, v.Type().Bits())
		if err != nil {
			return false
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		if !wire.Valid(raw) || raw[0] == '"' || raw[0] == 't' || raw[0] == 'f' || raw[0] == '[' || raw[0] == '{' {
			return false
		}
		f, err := strconv.ParseFloat(string(raw), v.Type().Bits())
		if err != nil {
			return false
		}
		v.SetFloat(f)
	default:
		return false
	}
	return true
}

var stringType = reflect.TypeFor[string]()

func consumed(lex *jlexer.Lexer) bool {
	lex.Consumed()
	return lex.Ok()
}

// unmarshal decodes raw into the pointer v, with fast paths for easyjson types and
// pointers to scalars.
func unmarshal(raw []byte, v any) error {
	switch p := v.(type) {
	case easyUnmarshaler:
		return easyUnmarshal(raw, p)
	case *string, *bool, *int, *int64, *float64:
		if decodeScalar(raw, reflect.ValueOf(p).Elem()) {
			return nil
		}
	case *any:
		if len(raw) > 0 && raw[0] == '"' {
			var s string
			if decodeScalar(raw, reflect.ValueOf(&s).Elem()) {
				*p = s
				return nil
			}
		}
	}
	return json.Unmarshal(raw, v)
}

// marshal encodes v, with fast paths for scalars and easyjson types.
func marshal(v any) ([]byte, error) {
	switch r := v.(type) {
	case string:
		w := jwriter.Writer{NoEscapeHTML: true}
		w.String(r)
		return w.BuildBytes()
	case bool:
		return strconv.AppendBool(nil, r), nil
	case int:
		return strconv.AppendInt(nil, int64(r), 10), nil
	case int64:
		return strconv.AppendInt(nil, r, 10), nil
	case easyMarshaler:
		return easyMarshal(r)
	}
	return json.Marshal(v)
}

// easyMarshaler and easyUnmarshaler are easyjson.Marshaler and easyjson.Unmarshaler (the
// same methods, so the same types satisfy them), and easyMarshal and easyUnmarshal are
// easyjson.Marshal and easyjson.Unmarshal: the easyjson root package imports net/http, which
// the browser build must not link.
type easyMarshaler interface{ MarshalEasyJSON(w *jwriter.Writer) }
type easyUnmarshaler interface{ UnmarshalEasyJSON(l *jlexer.Lexer) }

func easyMarshal(v easyMarshaler) ([]byte, error) {
	if (*[2]uintptr)(unsafe.Pointer(&v))[1] == 0 { // a nil pointer, as easyjson.Marshal sees it
		return []byte("null"), nil
	}
	w := jwriter.Writer{}
	v.MarshalEasyJSON(&w)
	return w.BuildBytes()
}

func easyUnmarshal(data []byte, v easyUnmarshaler) error {
	l := jlexer.Lexer{Data: data}
	v.UnmarshalEasyJSON(&l)
	return l.Error()
}

// errEncodeResult marks a failure to encode a handler's result.
type errEncodeResult struct{ err error }

func (e errEncodeResult) Error() string { return e.err.Error() }

// appendJSON appends v's JSON encoding to dst. Common scalars are written directly; taking
// a pointer keeps v from being boxed (allocated) on those paths.
func appendJSON[R any](dst []byte, v *R) ([]byte, error) {
	switch p := any(v).(type) {
	case *string:
		w := jwriter.Writer{NoEscapeHTML: true}
		w.Buffer.Buf = dst
		w.String(*p)
		return w.BuildBytes()
	case *bool:
		return strconv.AppendBool(dst, *p), nil
	case *int:
		return strconv.AppendInt(dst, int64(*p), 10), nil
	case *int64:
		return strconv.AppendInt(dst, *p, 10), nil
	case *json.RawMessage:
		if len(*p) == 0 {
			return append(dst, "null"...), nil
		}
		if !wire.Valid(*p) {
			return nil, errors.New("result is not valid JSON")
		}
		return append(dst, *p...), nil
	case *ValidJSON:
		if len(*p) == 0 {
			return append(dst, "null"...), nil
		}
		return append(dst, *p...), nil
	}
	b, err := encodeResult(*v, false)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return append(dst, "null"...), nil
	}
	return append(dst, b...), nil
}
