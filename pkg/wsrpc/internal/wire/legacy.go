package wire

import (
	"errors"

	"github.com/mailru/easyjson/jlexer"
	"github.com/mailru/easyjson/jwriter"
)

// ParseLegacy decodes the request and response members of a legacy envelope
// (PROTOCOL.md §14) classified as KindLegacy. Either result may be nil.
func ParseLegacy(in *Incoming) (*LegacyRequest, *LegacyResponse, error) {
	var req *LegacyRequest
	var resp *LegacyResponse
	if in.Request != nil && !isNull(in.Request) {
		req = new(LegacyRequest)
		lex := jlexer.Lexer{Data: in.Request}
		req.UnmarshalEasyJSON(&lex)
		if lex.Error() != nil || FirstByte(in.Request) != '{' {
			return nil, nil, errors.New("legacy envelope: malformed request")
		}
		if req.Arguments != nil && FirstByte(req.Arguments) != '{' {
			return nil, nil, errors.New("legacy envelope: arguments must be an object")
		}
	}
	if in.Response != nil && !isNull(in.Response) {
		resp = new(LegacyResponse)
		lex := jlexer.Lexer{Data: in.Response}
		resp.UnmarshalEasyJSON(&lex)
		if lex.Error() != nil || FirstByte(in.Response) != '{' {
			return nil, nil, errors.New("legacy envelope: malformed response")
		}
	}
	return req, resp, nil
}

// EncodeLegacyRequest encodes a legacy request; a nil callID is written as null, nil
// arguments as {}.
func EncodeLegacyRequest(callID []byte, method string, args []byte) []byte {
	if args == nil {
		args = []byte("{}")
	}
	w := jwriter.Writer{NoEscapeHTML: true}
	LegacyEnvelope{Request: &LegacyRequest{Method: method, Arguments: args, CallID: callID}}.MarshalEasyJSON(&w)
	return mustBytes(&w)
}

// EncodeLegacyResponse encodes a legacy response.
func EncodeLegacyResponse(result []byte, resultType string, callID []byte) []byte {
	if result == nil {
		result = []byte("null")
	}
	rt := []byte(`"` + resultType + `"`)
	w := jwriter.Writer{NoEscapeHTML: true}
	LegacyEnvelope{Response: &LegacyResponse{Result: result, ResultType: rt, CallID: callID}}.MarshalEasyJSON(&w)
	return mustBytes(&w)
}

// ResultType names a JSON value the way Python's type names do for legacy result_type.
func ResultType(raw []byte) string {
	switch FirstByte(raw) {
	case '"':
		return "str"
	case '{':
		return "dict"
	case '[':
		return "list"
	case 't', 'f':
		return "bool"
	case 'n', 0:
		return "NoneType"
	}
	if isInteger(raw) {
		return "int"
	}
	return "float"
}
