package wire

import "github.com/mailru/easyjson/jwriter"

// Version is the value of the jsonrpc member of every message we send.
const Version = "2.0"

// EncodeRequest encodes a request, or a notification when id is nil. params may be nil.
func EncodeRequest(id []byte, method string, params []byte) []byte {
	return AppendRequest(nil, id, method, params)
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
