package wire

import (
	"slices"
	"strings"

	"github.com/mailru/easyjson/jlexer"
	"github.com/mailru/easyjson/jwriter"
)

// Version is the value of the jsonrpc member of every message we send.
const Version = "2.0"

// EncodeRequest encodes a request, or a notification when id is nil. params may be nil.
func EncodeRequest(id []byte, method string, params []byte) []byte {
	return AppendRequest(nil, id, method, params)
}

// MetaMember is the request member that carries a call's metadata between wsrpc peers.
const MetaMember = "$meta"

// AppendMeta adds the member "$meta": {meta's keys and values, keys sorted} to the encoded
// request msg (which must end with its closing brace).
func AppendMeta(msg []byte, meta map[string]string) []byte {
	if len(meta) == 0 || len(msg) == 0 || msg[len(msg)-1] != '}' {
		return msg
	}
	var small [4]string
	keys := small[:0]
	for k := range meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w := jwriter.Writer{NoEscapeHTML: true}
	w.Buffer.Buf = append(msg[:len(msg)-1], `,"`+MetaMember+`":{`...)
	for i, k := range keys {
		if i > 0 {
			w.RawByte(',')
		}
		w.String(k)
		w.RawByte(':')
		w.String(meta[k])
	}
	w.RawString("}}")
	return mustBytes(&w)
}

// DecodeMeta decodes a "$meta" member: an object of strings, else nil.
func DecodeMeta(raw []byte) map[string]string {
	if FirstByte(raw) != '{' {
		return nil
	}
	if m, ok := decodePlainMeta(raw); ok {
		return m
	}
	l := jlexer.Lexer{Data: raw}
	m := map[string]string{}
	l.Delim('{')
	for !l.IsDelim('}') {
		k := l.UnsafeFieldName(false) // (shares raw's memory: copied below)
		switch k {
		case "traceparent":
			k = "traceparent"
		case "tracestate":
			k = "tracestate"
		default:
			k = strings.Clone(k)
		}
		l.WantColon()
		v := l.String()
		if l.Error() != nil {
			return nil
		}
		m[k] = v
		l.WantComma()
	}
	l.Delim('}')
	l.Consumed()
	if l.Error() != nil || len(m) == 0 {
		return nil
	}
	return m
}

// AppendRequest is EncodeRequest writing into dst's spare capacity when it suffices (the
// result then shares dst's memory).
func AppendRequest(dst []byte, id []byte, method string, params []byte) []byte {
	if len(params) >= largeResult {
		// params come last: the envelope without them, then params in one exactly sized
		// buffer (see AppendResult).
		head := AppendRequest(dst, id, method, nil)
		out := make([]byte, 0, len(head)-1+len(paramsMid)+len(params)+1)
		out = append(append(append(out, head[:len(head)-1]...), paramsMid...), params...)
		return append(out, '}')
	}
	w := jwriter.Writer{NoEscapeHTML: true}
	w.Buffer.Buf = dst[:0]
	Request{JSONRPC: Version, ID: id, Method: method, Params: params}.MarshalEasyJSON(&w)
	return mustBytes(&w)
}

// EncodeResult encodes a success response; a nil result is written as null.
func EncodeResult(id, result []byte) []byte { return AppendResult(nil, id, result) }

// AppendResult is EncodeResult writing into dst's spare capacity (see AppendRequest).
// A large result (LargeResult bytes or more) is written into dst when it has room for
// ResultSize bytes, else into one exactly sized new buffer.
func AppendResult(dst, id, result []byte) []byte {
	if len(result) >= largeResult {
		// The same bytes as below, assembled in one buffer: easyjson would copy a large
		// result into its chunks and then again into one slice.
		if len(id) == 0 {
			id = []byte("null")
		}
		out := dst[:0]
		if n := ResultSize(id, result); cap(dst) < n {
			out = make([]byte, 0, n)
		}
		out = append(append(append(append(out, resultHead...), id...), resultMid...), result...)
		return append(out, '}')
	}
	w := jwriter.Writer{NoEscapeHTML: true}
	w.Buffer.Buf = dst[:0]
	Result{JSONRPC: Version, ID: id, Result: result}.MarshalEasyJSON(&w)
	return mustBytes(&w)
}

// largeResult is the result size from which AppendResult assembles the reply directly.
const largeResult = 64 << 10

// LargeResult is the result size from which AppendResult assembles the reply directly
// (and uses dst only when it has room for all of it).
const LargeResult = largeResult

// ResultSize is the length of AppendResult's reply to a large result.
func ResultSize(id, result []byte) int {
	if len(id) == 0 {
		id = []byte("null")
	}
	return len(resultHead) + len(id) + len(resultMid) + len(result) + 1
}

const (
	resultHead = `{"jsonrpc":"` + Version + `","id":`
	resultMid  = `,"result":`
	paramsMid  = `,"params":`
)

// EncodeError encodes an error response; a nil id is written as null.
func EncodeError(id []byte, e ErrorObject) []byte {
	w := jwriter.Writer{NoEscapeHTML: true}
	ErrorResponse{JSONRPC: Version, ID: id, Error: e}.MarshalEasyJSON(&w)
	return mustBytes(&w)
}

// EncodeResponse re-encodes a received response as a nested object (utility get_response).
func EncodeResponse(id, result, errObj []byte) []byte {
	w := jwriter.Writer{NoEscapeHTML: true}
	Response{JSONRPC: Version, ID: id, Result: result, Error: errObj}.MarshalEasyJSON(&w)
	return mustBytes(&w)
}

func mustBytes(w *jwriter.Writer) []byte {
	// BuildBytes only fails when a caller-provided io.Writer fails; we never pass one.
	b, _ := w.BuildBytes()
	return b
}

// scanPlainMeta reads the common "$meta": a few members whose keys and values are strings
// without escapes (trace context), in one pass, calling member for each (with raw's own
// bytes); ok is false for anything else (also {}), which the callers then decode in full,
// dropping what member was given. raw is a valid JSON value (the message was).
func scanPlainMeta(raw []byte, member func(k, v []byte)) bool {
	i := skipSpace(raw, 1)
	if i < len(raw) && raw[i] == '}' {
		return false
	}
	for {
		k, next, ok := plainString(raw, i)
		if !ok {
			return false
		}
		i = skipSpace(raw, next)
		if i >= len(raw) || raw[i] != ':' {
			return false
		}
		v, next, ok := plainString(raw, skipSpace(raw, i+1))
		if !ok {
			return false
		}
		member(k, v)
		i = skipSpace(raw, next)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
			continue
		}
		return i < len(raw) && raw[i] == '}' && skipSpace(raw, i+1) == len(raw)
	}
}

// decodePlainMeta decodes a "$meta" scanPlainMeta reads.
func decodePlainMeta(raw []byte) (map[string]string, bool) {
	var m map[string]string
	ok := scanPlainMeta(raw, func(k, v []byte) {
		if m == nil {
			m = make(map[string]string, 2)
		}
		switch string(k) { // (no allocation: the conversion only feeds the switch)
		case "traceparent":
			m["traceparent"] = string(v)
		case "tracestate":
			m["tracestate"] = string(v)
		default:
			m[string(k)] = string(v)
		}
	})
	return m, ok
}

// MetaValue returns the value of key in a "$meta" member, as DecodeMeta would decode it
// (false when absent, or when raw is not an object of strings), without decoding the
// other members: the common plain member is read in place and only the value copied.
func MetaValue(raw []byte, key string) (string, bool) {
	if FirstByte(raw) != '{' {
		return "", false
	}
	var val []byte
	found := false
	if scanPlainMeta(raw, func(k, v []byte) {
		if string(k) == key { // (the last of duplicate keys, as a map keeps it)
			val, found = v, true
		}
	}) {
		if !found {
			return "", false
		}
		return string(val), true
	}
	v, ok := DecodeMeta(raw)[key]
	return v, ok
}

// MetaKeys returns the keys of a "$meta" member, as DecodeMeta would decode it (nil when
// raw is not an object of strings), in no particular order and each once.
func MetaKeys(raw []byte) []string {
	m := DecodeMeta(raw)
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// plainString reads the string at raw[i] when it has no escapes: its contents and the
// index after its closing quote.
func plainString(raw []byte, i int) ([]byte, int, bool) {
	if i >= len(raw) || raw[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(raw); j++ {
		switch raw[j] {
		case '"':
			return raw[i+1 : j], j + 1, true
		case '\\':
			return nil, 0, false
		}
	}
	return nil, 0, false
}
