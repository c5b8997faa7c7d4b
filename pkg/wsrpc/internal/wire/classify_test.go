package wire

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// Tests cite CONFORMANCE.md items as "Cn".

func TestParseRequests(t *testing.T) {
	cases := []struct {
		name, in string
		kind     Kind
		method   string
		id       string // raw id echoed, "" = none
		params   string
	}{
		{"named params C35", `{"jsonrpc":"2.0","id":"req-1","method":"add","params":{"a":5,"b":3}}`, KindRequest, "add", `"req-1"`, `{"a":5,"b":3}`},
		{"no params C36", `{"jsonrpc":"2.0","id":"r","method":"no_params_method"}`, KindRequest, "no_params_method", `"r"`, ""},
		{"notification C37", `{"jsonrpc":"2.0","method":"log","params":{"x":1}}`, KindRequest, "log", "", `{"x":1}`},
		{"null id is a notification", `{"jsonrpc":"2.0","id":null,"method":"log"}`, KindRequest, "log", "", ""},
		{"positional C41", `{"jsonrpc":"2.0","id":"req-pos-1","method":"add","params":[5,3]}`, KindRequest, "add", `"req-pos-1"`, `[5,3]`},
		{"integer id C60", `{"jsonrpc":"2.0","id":123,"method":"m"}`, KindRequest, "m", `123`, ""},
		{"big integer id kept exactly", `{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"m"}`, KindRequest, "m", `123456789012345678901234567890`, ""},
		{"null params", `{"jsonrpc":"2.0","id":"x","method":"m","params":null}`, KindRequest, "m", `"x"`, ""},
		{"whitespace and key order", ` { "method" : "m" , "id" : "a" , "jsonrpc" : "2.0" } `, KindRequest, "m", `"a"`, ""},
		{"unicode escapes", `{"jsonrpc":"2.0","id":"\u0061","method":"\u6d4b"}`, KindRequest, "测", `"\u0061"`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := Parse([]byte(c.in))
			if m.Kind != c.kind {
				t.Fatalf("kind %v, want %v (reply %+v)", m.Kind, c.kind, m.Reply)
			}
			if m.Method != c.method || string(m.ID) != c.id || string(m.Params) != c.params {
				t.Fatalf("got method %q id %s params %s", m.Method, m.ID, m.Params)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	cases := []struct {
		name, in string
		code     int64
		id       string // "" = null
		contains string
	}{
		{"invalid JSON C210", `{"jsonrpc":`, CodeParseError, "", "Parse error"},
		{"string message C54 C147", `"string message"`, CodeInvalidRequest, "", "Expected dict, got <class 'str'>"},
		{"number C147", `123`, CodeInvalidRequest, "", "<class 'int'>"},
		{"float", `1.5`, CodeInvalidRequest, "", "<class 'float'>"},
		{"list C147", `["list","message"]`, CodeInvalidRequest, "", "<class 'list'>"},
		{"batch C209", `[{"jsonrpc":"2.0","id":1,"method":"a"}]`, CodeInvalidRequest, "", "<class 'list'>"},
		{"null C147", `null`, CodeInvalidRequest, "", "<class 'NoneType'>"},
		{"bool", `true`, CodeInvalidRequest, "", "<class 'bool'>"},
		{"empty object C148", `{}`, CodeInvalidRequest, "", "Unknown message format: {}"},
		{"no method no result C55", `{"jsonrpc":"2.0","id":"req-1"}`, CodeInvalidRequest, `"req-1"`, "Unknown message format: {'jsonrpc': '2.0', 'id': 'req-1'}"},
		{"version 1.0 C50 C142", `{"jsonrpc":"1.0","id":"req-1","method":"m"}`, CodeInvalidRequest, `"req-1"`, "Invalid JSON-RPC version: 1.0"},
		{"missing version C52 C143", `{"id":"req-1","method":"m"}`, CodeInvalidRequest, `"req-1"`, "Invalid JSON-RPC version: None"},
		{"notification with bad version C212", `{"jsonrpc":"1.0","method":"m"}`, CodeInvalidRequest, "", "version"},
		{"response version 1.0 C51", `{"jsonrpc":"1.0","id":"req-1","result":1}`, CodeInvalidRequest, `"req-1"`, "version"},
		{"method not string C56 C144", `{"jsonrpc":"2.0","id":"req-1","method":123}`, CodeInvalidRequest, `"req-1"`, "validation error for JsonRpcRequest"},
		{"missing method C146", `{"jsonrpc":"2.0","id":"req-1","params":{}}`, CodeInvalidRequest, `"req-1"`, "Unknown message format"},
		{"object id C145 go-diverge", `{"jsonrpc":"2.0","id":{"nested":"object"},"method":"m"}`, CodeInvalidRequest, "", "id"},
		{"array id", `{"jsonrpc":"2.0","id":[1],"method":"m"}`, CodeInvalidRequest, "", "id"},
		{"fractional id", `{"jsonrpc":"2.0","id":1.5,"method":"m"}`, CodeInvalidRequest, "", "id"},
		{"bool id", `{"jsonrpc":"2.0","id":true,"method":"m"}`, CodeInvalidRequest, "", "id"},
		{"empty string id C211", `{"jsonrpc":"2.0","id":"","method":"m"}`, CodeInvalidRequest, `""`, "empty"},
		{"257-char id C211", `{"jsonrpc":"2.0","id":"` + strings.Repeat("x", 257) + `","method":"m"}`, CodeInvalidRequest, `"` + strings.Repeat("x", 257) + `"`, "too long"},
		{"negative id C211", `{"jsonrpc":"2.0","id":-1,"method":"m"}`, CodeInvalidRequest, `-1`, "non-negative"},
		{"string params", `{"jsonrpc":"2.0","id":"p","method":"m","params":"x"}`, CodeInvalidRequest, `"p"`, "params"},
		{"bad error member", `{"jsonrpc":"2.0","id":"e","error":{"code":"x","message":"m"}}`, CodeInvalidRequest, `"e"`, "error"},
		{"error without message", `{"jsonrpc":"2.0","id":"e","error":{"code":1}}`, CodeInvalidRequest, `"e"`, "error"},
		{"legacy envelope is unknown in 2.0", `{"request":{"method":"_ping_","arguments":{},"call_id":"x"},"response":null}`, 0, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := Parse([]byte(c.in))
			if c.code == 0 {
				if m.Kind != KindLegacy {
					t.Fatalf("kind %v, want legacy", m.Kind)
				}
				return
			}
			if m.Kind != KindInvalid || m.Reply == nil {
				t.Fatalf("kind %v, want invalid", m.Kind)
			}
			if m.Reply.Code != c.code {
				t.Fatalf("code %d, want %d (%s)", m.Reply.Code, c.code, m.Reply.Message)
			}
			if !strings.Contains(m.Reply.Message, c.contains) {
				t.Fatalf("message %q does not contain %q", m.Reply.Message, c.contains)
			}
			if string(m.ID) != c.id {
				t.Fatalf("reply id %s, want %s", m.ID, c.id)
			}
		})
	}
}

func TestParseResponses(t *testing.T) {
	m := Parse([]byte(`{"jsonrpc":"2.0","id":"req-1","result":"success"}`)) // C48
	if m.Kind != KindResponse || string(m.Key) != "req-1" || string(m.Result) != `"success"` || m.Error != nil {
		t.Fatalf("%+v", m)
	}
	m = Parse([]byte(`{"jsonrpc":"2.0","id":"r","error":{"code":-32603,"message":"boom","data":{"x":1}}}`)) // C49
	if m.Kind != KindResponse || m.Error == nil || m.Error.Code != -32603 || string(m.Error.Data) != `{"x":1}` {
		t.Fatalf("%+v", m)
	}
	m = Parse([]byte(`{"jsonrpc":"2.0","id":"r","result":1,"error":{"code":1,"message":"m"}}`)) // C57
	if m.Kind != KindResponse || m.Error == nil || string(m.Result) != "1" {
		t.Fatalf("%+v", m)
	}
	m = Parse([]byte(`{"jsonrpc":"2.0","id":5,"result":null}`)) // numeric id matches "5"; null result
	if m.Kind != KindResponse || string(m.Key) != "5" || string(m.Result) != "null" {
		t.Fatalf("%+v", m)
	}
	m = Parse([]byte(`{"jsonrpc":"2.0","id":null,"result":1}`)) // C123
	if m.Kind != KindResponse || len(m.Key) != 0 {
		t.Fatalf("%+v", m)
	}
	m = Parse([]byte(`{"jsonrpc":"2.0","id":"r","error":null}`))
	if m.Kind != KindResponse || m.Error != nil || m.Result != nil {
		t.Fatalf("%+v", m)
	}
	m = Parse([]byte(`{"jsonrpc":"2.0","id":"r","result":1,"compressed":false}`))
	if m.Kind != KindResponse {
		t.Fatalf("compressed member must be ignored: %+v", m)
	}
}

func TestEncode(t *testing.T) {
	check := func(got []byte, want string) {
		t.Helper()
		if string(got) != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
		if !json.Valid(got) {
			t.Fatalf("invalid JSON %s", got)
		}
	}
	check(EncodeRequest([]byte(`"abc"`), "add", []byte(`{"x":4}`)), `{"jsonrpc":"2.0","id":"abc","method":"add","params":{"x":4}}`)
	check(EncodeRequest(nil, "log", nil), `{"jsonrpc":"2.0","method":"log"}`)            // C37: no id, no params
	check(EncodeResult([]byte(`"r"`), nil), `{"jsonrpc":"2.0","id":"r","result":null}`)  // C213
	check(EncodeResult([]byte(`7`), []byte(`8`)), `{"jsonrpc":"2.0","id":7,"result":8}`) // C53, C60
	check(EncodeError(nil, ErrorObject{Code: -32600, Message: "m"}), `{"jsonrpc":"2.0","error":{"code":-32600,"message":"m"},"id":null}`)
	check(EncodeError([]byte(`123`), ErrorObject{Code: -32601, Message: "Method 'x' not found", Data: []byte(`{"a":1}`)}), // C58-60
		`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method 'x' not found","data":{"a":1}},"id":123}`)
}

func TestPyRepr(t *testing.T) {
	cases := map[string]string{
		`{"a": [1, true, null, false, 1.5, "it's"]}`: `{'a': [1, True, None, False, 1.5, "it's"]}`,
		`[]`:              `[]`,
		`"x\ny"`:          `'x\ny'`,
		`{"q": "a'b\"c"}`: `{'q': 'a\'b"c'}`,
	}
	for in, want := range cases {
		if got := PyRepr([]byte(in)); got != want {
			t.Errorf("PyRepr(%s) = %s, want %s", in, got, want)
		}
	}
}

// FuzzParse: any input is classified without panicking; replies are valid JSON; requests
// and responses only come from valid JSON objects.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`{"jsonrpc":"2.0","id":"9f1c0d2ab7e84e52a1f0c3d4e5f60718","method":"add","params":{"x":4,"y":5}}`,
		`{"jsonrpc":"2.0","method":"log_event","params":{"level":"info"}}`,
		`{"jsonrpc":"2.0","id":"9f1c","result":9}`,
		`{"jsonrpc":"2.0","id":"9f1c","error":{"code":-32601,"message":"Method 'nope' not found"}}`,
		`{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Expected dict"}, "id": null}`,
		`{"request":{"method":"_ping_","arguments":{},"call_id":"x"},"response":null}`,
		`[1,2]`, `"s"`, `{}`, `{"jsonrpc":"2.0","id":"r1"}`, `{"id":NaN}`, `{`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := Parse(data)
		switch m.Kind {
		case KindInvalid:
			out := EncodeError(m.ID, *m.Reply)
			if !json.Valid(out) {
				t.Fatalf("invalid reply %s", out)
			}
		case KindRequest, KindResponse, KindLegacy:
			if !json.Valid(data) {
				t.Fatalf("accepted invalid JSON %q", data)
			}
			if m.Kind == KindRequest {
				out := EncodeRequest(m.ID, m.Method, m.Params)
				if !json.Valid(out) {
					t.Fatalf("re-encoded request invalid: %s", out)
				}
			}
		}
		if m.ID != nil && !json.Valid(m.ID) {
			t.Fatalf("id not valid JSON: %q", m.ID)
		}
	})
}

// FuzzSplit: Parse's one-pass split of an object into its members agrees with
// encoding/json (names unescaped, the last duplicate wins, values as raw text).
func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":"9f1c","method":"add","params":{"x":[1,{"y":"}"}]}}`,
		`{"jsonrpc":"2.0","id":1,"result":null,"result":{"a":"\"}"}}`,
		` { "\u006dethod" : "m" , "params" : [ ] } `,
		`{"request":{"method":"_ping_"},"response":null,"error":{"code":1,"message":"x"}}`,
		`{"id":"a\\b","Method":"no"}`, `{}`, `[{"method":"x"}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in Incoming
		ok := validTop(data, &in)
		if ok != (json.Valid(data) && utf8.Valid(data)) {
			t.Fatalf("valid %v, encoding/json and unicode/utf8 say %v: %q", ok, !ok, data)
		}
		if !ok || FirstByte(data) != '{' {
			return
		}
		var ref map[string]json.RawMessage
		if err := json.Unmarshal(data, &ref); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		for name, got := range map[string][]byte{"jsonrpc": in.JSONRPC, "id": in.ID, "method": in.Method,
			"params": in.Params, "result": in.Result, "error": in.Error, "request": in.Request, "response": in.Response} {
			want, present := ref[name]
			if present != (got != nil) || !bytes.Equal(got, want) {
				t.Fatalf("member %q: got %q, want %q (present %v) in %q", name, got, want, present, data)
			}
		}
	})
}
