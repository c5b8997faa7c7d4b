//go:build !js

package wsrpc

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Handler level: a Channel over a fake socket, Proto methods, production mode.
// Comments name the CONFORMANCE.md items ("Cn") each test covers.

func TestHandleValidRequest(t *testing.T) { // C35, C53, C61
	m, _ := protoMethods()
	_, f := newFakeChannel(t, m)
	f.peerSend(`{"jsonrpc":"2.0","id":"req-1","method":"add","params":{"a":5,"b":3}}`)
	r := f.next(t)
	if r["jsonrpc"] != "2.0" || r["id"] != "req-1" || r["result"] != json.Number("8") {
		t.Fatalf("%v", r)
	}
	if _, has := r["error"]; has {
		t.Fatalf("success reply has error: %v", r)
	}
	f.none(t, 50*time.Millisecond) // exactly one reply
}

func TestHandleRequestNoParams(t *testing.T) { // C36, C81
	m, _ := protoMethods()
	_, f := newFakeChannel(t, m)
	f.peerSend(`{"jsonrpc":"2.0","id":"r","method":"no_params_method"}`)
	if r := f.next(t); r["result"] != "success" {
		t.Fatalf("%v", r)
	}
}

func TestHandleNotification(t *testing.T) { // C37
	m := NewMethods()
	ran := make(chan string, 1)
	Register(m, "log", func(ctx context.Context, p struct {
		Level string `json:"level"`
	}) (any, error) {
		ran <- p.Level
		return "ignored", nil
	})
	_, f := newFakeChannel(t, m)
	f.peerSend(`{"jsonrpc":"2.0","method":"log","params":{"level":"info"}}`)
	if got := <-ran; got != "info" {
		t.Fatal(got)
	}
	f.none(t, 100*time.Millisecond)
	// Errors in notifications are not answered either.
	f.peerSend(`{"jsonrpc":"2.0","method":"nope"}`)
	f.none(t, 100*time.Millisecond)
}

func TestHandleNoResponse(t *testing.T) { // C38, C85, C98
	m, count := protoMethods()
	_, f := newFakeChannel(t, m)
	f.peerSend(`{"jsonrpc":"2.0","id":"r","method":"method_returning_noresponse"}`)
	f.none(t, 150*time.Millisecond)
	f.peerSend(`{"jsonrpc":"2.0","id":"r2","method":"add","params":{"a":1,"b":1}}`)
	f.next(t)
	if *count != 1 {
		t.Fatalf("side effect ran %d times", *count)
	}
}

func TestHandleErrors(t *testing.T) {
	m, _ := protoMethods()
	_, f := newFakeChannel(t, m)
	cases := []struct {
		name, in string
		id       any
		code     int
		msg      string // substring
	}{
		{"unknown method C39 C67", `{"jsonrpc":"2.0","id":"a","method":"nope"}`, "a", -32601, "Method 'nope' not found"},
		{"missing arg C40 C93", `{"jsonrpc":"2.0","id":"b","method":"add","params":{"a":5}}`, "b", -32602, "Invalid parameters: add() missing 1 required positional argument: 'b'"},
		{"unexpected arg C94 C158", `{"jsonrpc":"2.0","id":"c","method":"add","params":{"a":1,"b":2,"z":3}}`, "c", -32602, "got an unexpected keyword argument 'z'"},
		{"handler error C42 C154 C156", `{"jsonrpc":"2.0","id":"d","method":"method_with_exception"}`, "d", -32603, "Internal server error"},
		{"panic", `{"jsonrpc":"2.0","id":"p","method":"method_with_panic"}`, "p", -32603, "Internal server error"},
		{"private C43 C65", `{"jsonrpc":"2.0","id":"e","method":"_private_method"}`, "e", -32601, "Method '_private_method' not found or not accessible"},
		{"empty name C99", `{"jsonrpc":"2.0","id":"f","method":""}`, "f", -32601, "not found"},
		{"long name C100", `{"jsonrpc":"2.0","id":"g","method":"` + strings.Repeat("m", 1000) + `"}`, "g", -32601, "not found"},
		{"too many positional C73", `{"jsonrpc":"2.0","id":"h","method":"add","params":[1,2,3]}`, "h", -32602, "Too many positional arguments for method 'add': expected at most 2, got 3"},
		{"too few positional C74", `{"jsonrpc":"2.0","id":"i","method":"add","params":[1]}`, "i", -32602, "Too few positional arguments for method 'add': expected at least 2, got 1"},
		{"wrong type", `{"jsonrpc":"2.0","id":"j","method":"add","params":{"a":"not","b":"int"}}`, "j", -32602, "Invalid parameters: argument 'a'"},
		{"int id C60", `{"jsonrpc":"2.0","id":123,"method":"nope"}`, json.Number("123"), -32601, "not found"},
		{"version C50", `{"jsonrpc":"1.0","id":"req-1","method":"add"}`, "req-1", -32600, "version"},
		{"non-dict C54", `"hello"`, nil, -32600, "dict"},
		{"unknown C55", `{"jsonrpc":"2.0","id":"req-1"}`, "req-1", -32600, "Unknown message format"},
		{"malformed C56", `{"jsonrpc":"2.0","id":"req-1","method":123}`, "req-1", -32600, "validation error"},
		{"parse C210", `{oops`, nil, -32700, "Parse error"},
		{"bad version notification C212", `{"jsonrpc":"3","method":"x"}`, nil, -32600, "version"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.peerSend(c.in)
			r := f.next(t)
			if r["id"] != c.id || errCode(r) != c.code || !strings.Contains(errMessage(r), c.msg) {
				t.Fatalf("got %v", r)
			}
			if c.code == -32603 {
				if e := r["error"].(map[string]any); e["data"] != nil {
					t.Fatalf("production reply discloses data: %v", r)
				}
			}
			if c.code == -32602 {
				data := r["error"].(map[string]any)["data"].(map[string]any)
				if data["method"] != "add" || (data["type"] != "TypeError" && data["type"] != "ValueError") {
					t.Fatalf("data %v", data)
				}
			}
		})
	}
	// The channel survived every bad message (GO-REC: parse errors are not fatal).
	f.peerSend(`{"jsonrpc":"2.0","id":"ok","method":"add","params":[5,3]}`) // C41, C87
	if r := f.next(t); r["result"] != json.Number("8") || r["id"] != "ok" {
		t.Fatalf("%v", r)
	}
}

func TestDebugModeDisclosure(t *testing.T) { // C155, C157
	m, _ := protoMethods()
	Register(m, "failing_method", func(ctx context.Context, _ struct{}) (any, error) {
		return nil, errorString("Method failed")
	})
	_, f := newFakeChannel(t, m, WithDebug(true))
	f.peerSend(`{"jsonrpc":"2.0","id":"d","method":"failing_method"}`)
	r := f.next(t)
	msg := errMessage(r)
	if errCode(r) != -32603 || !strings.Contains(msg, "Internal error:") || !strings.Contains(msg, "Method failed") {
		t.Fatalf("%v", r)
	}
	data := r["error"].(map[string]any)["data"].(map[string]any)
	if data["method"] != "failing_method" || data["type"] == "" {
		t.Fatalf("data %v", data)
	}
	// Parameter errors look the same in debug mode (C158).
	f.peerSend(`{"jsonrpc":"2.0","id":"e","method":"add","params":{"zz":1}}`)
	if r := f.next(t); errCode(r) != -32602 || !strings.HasPrefix(errMessage(r), "Invalid parameters:") {
		t.Fatalf("%v", r)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestSequentialRepliesInOrder(t *testing.T) { // C62
	m, _ := protoMethods()
	_, f := newFakeChannel(t, m, func(c *Config) { c.Sequential = true })
	f.peerSend(`{"jsonrpc":"2.0","id":"req-1","method":"add","params":{"a":1,"b":2}}`)
	f.peerSend(`{"jsonrpc":"2.0","id":"req-2","method":"echo","params":{"message":"test"}}`)
	r1, r2 := f.next(t), f.next(t)
	if r1["id"] != "req-1" || r1["result"] != json.Number("3") || r2["id"] != "req-2" || r2["result"] != "test" {
		t.Fatalf("%v %v", r1, r2)
	}
}

func TestBuiltins(t *testing.T) { // C2, C3, C66
	ch, f := newFakeChannel(t, nil)
	f.peerSend(`{"jsonrpc":"2.0","id":"p","method":"ping"}`)
	if r := f.next(t); r["result"] != "pong" {
		t.Fatalf("%v", r)
	}
	f.peerSend(`{"jsonrpc":"2.0","id":"c","method":"_get_channel_id_"}`)
	if r := f.next(t); r["result"] != ch.ID() || len(ch.ID()) != 32 {
		t.Fatalf("%v", r)
	}
}

func TestNullResultAlwaysSent(t *testing.T) { // C213 (go-diverge)
	m := NewMethods()
	Register(m, "nothing", func(ctx context.Context, _ struct{}) (any, error) { return nil, nil })
	_, f := newFakeChannel(t, m)
	f.peerSend(`{"jsonrpc":"2.0","id":"n","method":"nothing"}`)
	r := f.next(t)
	if v, ok := r["result"]; !ok || v != nil {
		t.Fatalf("want result: null, got %v", r)
	}
}

func TestStringifyResult(t *testing.T) { // C80 (stringify flag)
	m := NewMethods()
	cases := map[string]any{"int": 123, "true": true, "none": nil, "float": 1.5, "map": map[string]int{"a": 1}, "list": []int{1, 2}, "str": "s"}
	want := map[string]string{"int": "123", "true": "True", "none": "None", "float": "1.5", "map": "{'a': 1}", "list": "[1, 2]", "str": "s"}
	for name, v := range cases {
		m.Handle(name, func(ctx context.Context, _ json.RawMessage) (any, error) { return v, nil }, StringifyResult())
	}
	_, f := newFakeChannel(t, m)
	for name := range cases {
		f.peerSend(`{"jsonrpc":"2.0","id":"` + name + `","method":"` + name + `"}`)
		r := f.next(t)
		if r["result"] != want[r["id"].(string)] {
			t.Errorf("%s: got %v", r["id"], r["result"])
		}
	}
}

func TestUnserialisableResult(t *testing.T) {
	m := NewMethods()
	m.Handle("bad", func(ctx context.Context, _ json.RawMessage) (any, error) { return make(chan int), nil })
	_, f := newFakeChannel(t, m)
	f.peerSend(`{"jsonrpc":"2.0","id":"b","method":"bad"}`)
	if r := f.next(t); errCode(r) != -32602 {
		t.Fatalf("%v", r)
	}
}

func TestUnicodeParams(t *testing.T) { // C101
	m, _ := protoMethods()
	_, f := newFakeChannel(t, m)
	f.peerSend(`{"jsonrpc":"2.0","id":"u","method":"echo","params":{"message":"\u6d4b\u8bd5\u4e2d\u6587"}}`)
	if r := f.next(t); r["result"] != "测试中文" {
		t.Fatalf("%v", r)
	}
}

func TestRemoteErrorCustomCode(t *testing.T) {
	m := NewMethods()
	m.Handle("teapot", func(ctx context.Context, _ json.RawMessage) (any, error) {
		return nil, &Error{Code: -32042, Message: "I am a teapot", Data: json.RawMessage(`{"short":true}`)}
	})
	_, f := newFakeChannel(t, m)
	f.peerSend(`{"jsonrpc":"2.0","id":"t","method":"teapot"}`)
	r := f.next(t)
	if errCode(r) != -32042 || errMessage(r) != "I am a teapot" {
		t.Fatalf("%v", r)
	}
}

func TestServerBusy(t *testing.T) {
	m := NewMethods()
	release := make(chan struct{})
	m.Handle("block", func(ctx context.Context, _ json.RawMessage) (any, error) { <-release; return 1, nil })
	_, f := newFakeChannel(t, m, func(c *Config) { c.MaxConcurrentRequests = 2 })
	f.peerSend(`{"jsonrpc":"2.0","id":"1","method":"block"}`)
	f.peerSend(`{"jsonrpc":"2.0","id":"2","method":"block"}`)
	f.peerSend(`{"jsonrpc":"2.0","id":"3","method":"block"}`)
	r := f.next(t)
	if r["id"] != "3" || errCode(r) != CodeServerBusy {
		t.Fatalf("%v", r)
	}
	close(release)
	f.next(t)
	f.next(t)
}

// A raw handler's json.RawMessage result is validated unless it is the params it was
// given (validated with their message): echoing params back, large or small, answers
// them as they came; a slice of them that is not valid JSON is refused as Python refuses a
// result it cannot serialise.
func TestHandleRawResultValidatedUnlessEchoed(t *testing.T) {
	m := NewMethods()
	m.Handle("echo", func(_ context.Context, p json.RawMessage) (any, error) { return p, nil })
	m.Handle("trim", func(_ context.Context, p json.RawMessage) (any, error) { return p[:len(p)-1], nil })
	_, f := newFakeChannel(t, m)
	for i, params := range []string{`{"a":[1,2]}`, `["` + strings.Repeat("é\\n", 1000) + `"]`} {
		f.peerSend(`{"jsonrpc":"2.0","id":1,"method":"echo","params":` + params + `}`)
		got := f.next(t)
		want, _ := json.Marshal(json.RawMessage(params))
		res, _ := json.Marshal(got["result"])
		var a, b any
		json.Unmarshal(want, &a)
		json.Unmarshal(res, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("echo %d: result %.80s, want %.80s", i, res, want)
		}
		f.peerSend(`{"jsonrpc":"2.0","id":2,"method":"trim","params":` + params + `}`)
		if got := f.next(t); errCode(got) != CodeInvalidParams || !strings.Contains(errMessage(got), "not JSON-serialisable") {
			t.Errorf("trim %d: %v, want -32602 result is not JSON-serialisable (as Python answers)", i, got)
		}
	}
}
