package wire

import "github.com/mailru/easyjson/jwriter"

// Version is the value of the jsonrpc member of every message we send.
const Version = "2.0"

// EncodeRequest encodes a request, or a notification when id is nil. params may be nil.
func EncodeRequest(id []byte, method string, params []byte) []byte {
	w := jwriter.Writer{NoEscapeHTML: true}
	Request{JSONRPC: Version, ID: id, Method: method, Params: params}.MarshalEasyJSON(&w)
	return mustBytes(&w)
}

// EncodeResult encodes a success response; a nil result is written as null.
func EncodeResult(id, result []byte) []byte {
	w := jwriter.Writer{NoEscapeHTML: true}
	Result{JSONRPC: Version, ID: id, Result: result}.MarshalEasyJSON(&w)
	return mustBytes(&w)
}

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
