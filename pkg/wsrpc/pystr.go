package wsrpc

import "github.com/wsrpc/wsrpc/pkg/wsrpc/internal/wire"

// PyStr returns what Python's str() gives for the decoded JSON value raw: strings as they
// are, true -> "True", null -> "None", objects and arrays in Python's repr form
// ({"a": 1} -> "{'a': 1}"). Used by StringifyResult.
func PyStr(raw []byte) string {
	return wire.PyStrJSON(raw)
}
