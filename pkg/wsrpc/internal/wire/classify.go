package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/mailru/easyjson/jlexer"
)

// JSON-RPC 2.0 error codes used by the protocol.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603
)

// MaxIDLength is the longest string id (in code points) a request may carry.
const MaxIDLength = 256

// Kind says what an incoming message is.
type Kind uint8

const (
	// KindInvalid is a message that must be answered with Message.Reply.
	KindInvalid Kind = iota
	// KindRequest is a request (ID set) or a notification (ID nil).
	KindRequest
	// KindResponse is a response to one of our calls. ID may be nil (ignored by callers).
	KindResponse
	// KindLegacy is an envelope of the legacy fastapi_websocket_rpc dialect.
	KindLegacy
)

// Message is a classified incoming message. Raw slices, and Method, share the input
// buffer's memory: the caller must not modify or reuse the buffer while they are in use.
type Message struct {
	Kind Kind
	// ID is the raw id member when it can be echoed (a string or an integer), else nil.
	ID []byte
	// Key is the string form of ID used to match responses to calls (responses only). It
	// points into the input when the id needs no unescaping; use it as string(Key).
	Key    []byte
	Method string
	// Params is the raw params member; nil when absent or null.
	Params []byte
	// Result is the raw result member; nil when absent.
	Result []byte
	// Error is the error member of a response, nil when absent or null.
	Error *ErrorObject
	// Reply is the error to send back for KindInvalid.
	Reply *ErrorObject
	// Incoming is the decoded object (valid for every kind but a non-object message).
	Incoming Incoming
}

// Parse classifies one incoming message as PROTOCOL.md §4 describes (the size check is
// the caller's). It never fails: malformed input yields KindInvalid with the reply to send.
func Parse(data []byte) (m Message) {
	in := &m.Incoming
	if !validTop(data, in) { // one pass: validates, and splits an object into its members
		m.Incoming = Incoming{}
		m.Reply = &ErrorObject{Code: CodeParseError, Message: "Parse error"}
		return m
	}
	if FirstByte(data) != '{' {
		m.Reply = &ErrorObject{Code: CodeInvalidRequest, Message: "Expected dict, got <class '" + pyTypeName(data) + "'>"}
		return m
	}
	m.ID = echoRaw(in.ID)
	switch {
	case in.Method != nil:
		parseRequest(&m)
	case in.Result != nil || in.Error != nil:
		parseResponse(&m)
	case (in.Request != nil || in.Response != nil) && in.JSONRPC == nil:
		m.Kind = KindLegacy
	default:
		m.Reply = &ErrorObject{Code: CodeInvalidRequest, Message: "Unknown message format: " + PyRepr(data)}
	}
	return m
}

func parseRequest(m *Message) {
	in := &m.Incoming
	if msg, ok := checkVersion(in.JSONRPC); !ok {
		m.Reply = &ErrorObject{Code: CodeInvalidRequest, Message: msg}
		return
	}
	var problems []string
	method, ok := jsonStringShared(in.Method)
	if !ok {
		problems = append(problems, "method\n  Input should be a valid string")
	}
	if in.ID != nil && !isNull(in.ID) {
		if p := checkID(in.ID); p != "" {
			problems = append(problems, "id\n  "+p)
		}
	}
	if in.Params != nil {
		switch FirstByte(in.Params) {
		case '{', '[', 'n':
		default:
			problems = append(problems, "params\n  Input should be a valid dictionary or list")
		}
	}
	if len(problems) > 0 {
		s := "s"
		if len(problems) == 1 {
			s = ""
		}
		m.Reply = &ErrorObject{Code: CodeInvalidRequest, Message: strconv.Itoa(len(problems)) + " validation error" + s +
			" for JsonRpcRequest\n" + strings.Join(problems, "\n")}
		return
	}
	m.Kind = KindRequest
	m.Method = method
	if in.Params != nil && !isNull(in.Params) {
		m.Params = in.Params
	}
	if isNull(in.ID) {
		m.ID = nil
	}
}

func parseResponse(m *Message) {
	in := &m.Incoming
	if msg, ok := checkVersion(in.JSONRPC); !ok {
		m.Reply = &ErrorObject{Code: CodeInvalidRequest, Message: msg}
		return
	}
	if in.Error != nil && !isNull(in.Error) {
		var eo ErrorObject
		lex := jlexer.Lexer{Data: in.Error}
		eo.UnmarshalEasyJSON(&lex)
		if lex.Error() != nil || FirstByte(in.Error) != '{' {
			m.Reply = &ErrorObject{Code: CodeInvalidRequest,
				Message: "1 validation error for JsonRpcResponse\nerror\n  Input should be an object with an integer code and a string message"}
			return
		}
		m.Error = &eo
	}
	m.Kind = KindResponse
	m.Result = in.Result
	m.Key = keyBytes(m.ID)
}

func checkVersion(raw []byte) (string, bool) {
	if string(raw) == `"2.0"` { // no allocation
		return "", true
	}
	if v, ok := jsonString(raw); ok && v == "2.0" {
		return "", true
	}
	return "Invalid JSON-RPC version: " + pyValue(raw), false
}

// checkID validates a non-null request id and returns the problem, or "".
func checkID(raw []byte) string {
	if s, ok := jsonStringShared(raw); ok { // (only measured: no copy needed)
		n := utf8.RuneCountInString(s)
		if n < 1 {
			return "Value error, Request ID string cannot be empty"
		}
		if n > MaxIDLength {
			return "Value error, Request ID string too long (max " + strconv.Itoa(MaxIDLength) + " characters)"
		}
		return ""
	}
	if isInteger(raw) {
		if raw[0] == '-' {
			return "Value error, Request ID integer must be non-negative"
		}
		return ""
	}
	return "Input should be a valid string or integer"
}

// echoRaw returns the id to echo in a reply: strings and integers only.
func echoRaw(raw []byte) []byte {
	if len(raw) == 0 || isNull(raw) {
		return nil
	}
	if raw[0] == '"' || isInteger(raw) {
		return raw // Parse validated the whole message: a string token is well formed
	}
	return nil
}

// keyBytes is the match key of an echoable id, without allocating for plain strings.
func keyBytes(id []byte) []byte {
	if len(id) == 0 {
		return nil
	}
	if id[0] == '"' {
		if bytes.IndexByte(id, '\\') < 0 {
			return id[1 : len(id)-1]
		}
		s, _ := jsonString(id)
		return []byte(s)
	}
	return id
}

// IDKey returns the matching key of a raw id (its string form), or nil when it has none.
// raw must come from a message that Parse validated.
func IDKey(raw []byte) []byte { return keyBytes(echoRaw(raw)) }

func jsonString(raw []byte) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// jsonStringShared is jsonString without a copy for strings without escapes: the result
// shares raw's memory, so raw must never be modified afterwards (received messages are
// not: each is read into a buffer of its own).
func jsonStringShared(raw []byte) (string, bool) {
	if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		if len(raw) == 2 {
			return "", true
		}
		return unsafe.String(&raw[1], len(raw)-2), true
	}
	return jsonString(raw)
}

func isNull(raw []byte) bool { return len(raw) == 4 && string(raw) == "null" }

func isInteger(raw []byte) bool {
	if len(raw) == 0 {
		return false
	}
	start := 0
	if raw[0] == '-' {
		start = 1
	}
	if start == len(raw) {
		return false
	}
	for _, c := range raw[start:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func FirstByte(data []byte) byte {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

func pyTypeName(data []byte) string {
	switch FirstByte(data) {
	case '[':
		return "list"
	case '"':
		return "str"
	case 't', 'f':
		return "bool"
	case 'n':
		return "NoneType"
	case '{':
		return "dict"
	}
	if isInteger(bytes.TrimSpace(data)) {
		return "int"
	}
	return "float"
}
