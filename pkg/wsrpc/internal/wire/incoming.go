package wire

import "github.com/mailru/easyjson/jlexer"

// UnmarshalUnknown receives every member of an incoming object from the generated decoder
// and records the raw text of the ones the protocol knows. (Parse splits messages itself,
// in the same pass that validates them; FuzzParse checks it against this decoder.)
func (m *Incoming) UnmarshalUnknown(in *jlexer.Lexer, key string) {
	if dst := m.field(key); dst != nil {
		*dst = in.Raw()
		return
	}
	in.SkipRecursive()
}

// field is where the member named key goes, or nil for a member the protocol ignores.
func (m *Incoming) field(key string) *[]byte {
	switch key {
	case "jsonrpc":
		return &m.JSONRPC
	case "id":
		return &m.ID
	case "method":
		return &m.Method
	case "params":
		return &m.Params
	case "result":
		return &m.Result
	case "error":
		return &m.Error
	case "request":
		return &m.Request
	case "response":
		return &m.Response
	case MetaMember:
		return &m.Meta
	}
	return nil
}

// member records one member of a validated object: key is its raw (quoted) name, val its
// raw value. As with encoding/json (and Python's json), a later duplicate wins.
func (m *Incoming) member(key, val []byte) {
	name := key[1 : len(key)-1]
	var dst *[]byte
	if bytesHasBackslash(name) {
		s, _ := jsonString(key)
		dst = m.field(s)
	} else {
		dst = m.field(string(name)) // no allocation: the conversion only feeds the switch
	}
	if dst != nil {
		*dst = val
	}
}

func bytesHasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}
