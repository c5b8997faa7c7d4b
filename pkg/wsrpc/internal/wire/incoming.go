package wire

import "github.com/mailru/easyjson/jlexer"

// UnmarshalUnknown receives every member of an incoming object from the generated decoder
// and records the raw text of the ones the protocol knows.
func (m *Incoming) UnmarshalUnknown(in *jlexer.Lexer, key string) {
	var dst *[]byte
	switch key {
	case "jsonrpc":
		dst = &m.JSONRPC
	case "id":
		dst = &m.ID
	case "method":
		dst = &m.Method
	case "params":
		dst = &m.Params
	case "result":
		dst = &m.Result
	case "error":
		dst = &m.Error
	case "request":
		dst = &m.Request
	case "response":
		dst = &m.Response
	default:
		in.SkipRecursive()
		return
	}
	*dst = in.Raw()
}
