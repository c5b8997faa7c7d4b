//go:build !js

package wsrpc

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Param binding (PROTOCOL.md §5), CONFORMANCE.md section J.

type optParams struct {
	Required string `json:"required"`
	Optional *int   `json:"optional"`
}

type kwParams struct {
	A int `json:"a"`
	B int `json:"b" wsrpc:"named"`
}

type kwargsParams struct {
	Name  string `json:"name,omitempty"`
	Value int    `json:"value,omitempty"`
}

func bindT[P any](t *testing.T, raw string) (P, error) {
	t.Helper()
	var p P
	var in []byte
	if raw != "" {
		in = []byte(raw)
	}
	err := planFor(reflect.TypeFor[P]()).bind(context.Background(), "m", in, reflect.ValueOf(&p).Elem())
	return p, err
}

func TestBindParams(t *testing.T) {
	if p, err := bindT[addParams](t, `{"a":5,"b":3}`); err != nil || p != (addParams{5, 3}) { // C69, C82
		t.Fatal(p, err)
	}
	if p, err := bindT[addParams](t, `[5,3]`); err != nil || p != (addParams{5, 3}) { // C70, C87
		t.Fatal(p, err)
	}
	if p, err := bindT[optParams](t, `["test"]`); err != nil || p.Required != "test" || p.Optional != nil { // C71, C88
		t.Fatal(p, err)
	}
	if p, err := bindT[optParams](t, `["test",42]`); err != nil || *p.Optional != 42 { // C89
		t.Fatal(p, err)
	}
	if _, err := bindT[struct{}](t, `[]`); err != nil { // C76, C90
		t.Fatal(err)
	}
	if _, err := bindT[struct{}](t, ``); err != nil { // C77
		t.Fatal(err)
	}
	if p, err := bindT[kwargsParams](t, ``); err != nil || p != (kwargsParams{}) { // C83 (defaults = zero values)
		t.Fatal(p, err)
	}
	if p, err := bindT[kwargsParams](t, `{"value":42}`); err != nil || p.Value != 42 { // C84
		t.Fatal(p, err)
	}
	if p, err := bindT[kwParams](t, `{"a":1,"b":2}`); err != nil || p.B != 2 {
		t.Fatal(p, err)
	}
	// Non-struct params decode directly.
	if p, err := bindT[[]int](t, `[1,2,3]`); err != nil || len(p) != 3 {
		t.Fatal(p, err)
	}
	if p, err := bindT[map[string]any](t, `{"x":1}`); err != nil || p["x"] == nil {
		t.Fatal(p, err)
	}
	// Untagged fields match case-insensitively, like encoding/json.
	if p, err := bindT[struct{ A, B string }](t, `{"a":"x","B":"y"}`); err != nil || p.A != "x" || p.B != "y" {
		t.Fatal(p, err)
	}
}

func TestBindErrors(t *testing.T) {
	check := func(err error, kind string, parts ...string) {
		t.Helper()
		var pe *paramError
		if !errors.As(err, &pe) {
			t.Fatalf("want paramError, got %v", err)
		}
		if pe.kind != kind {
			t.Fatalf("kind %s, want %s", pe.kind, kind)
		}
		for _, p := range parts {
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(p)) {
				t.Fatalf("%q does not mention %q", err, p)
			}
		}
	}
	_, err := bindT[addParams](t, `[1,2,3]`)
	check(err, "ValueError", "too many", "expected at most 2") // C73
	_, err = bindT[addParams](t, `[1]`)
	check(err, "ValueError", "too few", "expected at least 2") // C74
	_, err = bindT[kwParams](t, `[1,2]`)
	check(err, "ValueError", "keyword-only", "cannot be called with positional parameters", "['b']") // C75, C91
	_, err = bindT[addParams](t, `{"a":1}`)
	check(err, "TypeError", "missing", "'b'") // C93
	_, err = bindT[addParams](t, `{}`)
	check(err, "TypeError", "missing 2 required positional arguments: 'a' and 'b'")
	_, err = bindT[addParams](t, `{"a":1,"b":2,"c":3}`)
	check(err, "TypeError", "unexpected keyword argument 'c'") // C94
	_, err = bindT[addParams](t, `{"a":"x","b":2}`)
	check(err, "TypeError", "argument 'a'") // C92: Go type-checks (documented divergence)
}

type calc struct{ calls int }

type abParams struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

func (c *calc) Add(ctx context.Context, p abParams) (float64, error)      { return p.A + p.B, nil }
func (c *calc) Multiply(ctx context.Context, p abParams) (float64, error) { return p.A * p.B, nil }
func (c *calc) GetProcessDetails(ctx context.Context) (map[string]int, error) {
	return map[string]int{"pid": 1}, nil
}
func (c *calc) Touch(ctx context.Context) error { c.calls++; return nil }
func (c *calc) Helper(x int) int                { return x } // unsupported shape: skipped

func TestRegisterValue(t *testing.T) {
	m := NewMethods()
	if err := m.RegisterValue(&calc{}, map[string]string{"Multiply": "mul"}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(m.Names(), ",")
	if got != "add,get_process_details,mul,touch" {
		t.Fatalf("names %s", got)
	}
	if err := m.RegisterValue(&calc{}, map[string]string{"Helper": "h"}); err == nil {
		t.Fatal("naming an unsupported method must fail")
	}
	_, f := newFakeChannel(t, m)
	f.peerSend(`{"jsonrpc":"2.0","id":"1","method":"mul","params":[3,4]}`)
	if r := f.next(t); r["result"] != json.Number("12") {
		t.Fatalf("%v", r)
	}
	f.peerSend(`{"jsonrpc":"2.0","id":"2","method":"touch"}`)
	if r := f.next(t); r["result"] != nil || r["id"] != "2" {
		t.Fatalf("%v", r)
	}
	f.peerSend(`{"jsonrpc":"2.0","id":"3","method":"get_process_details","params":{"x":1}}`)
	if r := f.next(t); errCode(r) != -32602 {
		t.Fatalf("%v", r)
	}
	if !m.Remove("touch") || m.Remove("touch") {
		t.Fatal("Remove")
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{"GetProcessDetails": "get_process_details", "HTTPServer": "http_server", "Add": "add", "CallMeBack": "call_me_back", "ID": "id", "GetID2": "get_id2"} {
		if got := SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%s) = %s, want %s", in, got, want)
		}
	}
}

func FuzzBindParams(f *testing.F) {
	for _, s := range []string{`{"a":5,"b":3}`, `[5,3]`, `[1,2,3]`, `{"a":1}`, `[]`, `{"z":1}`, `["x"]`, `{"a":"s"}`} {
		f.Add([]byte(s))
	}
	plan := planFor(reflect.TypeFor[addParams]())
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) || (len(raw) > 0 && raw[0] != '{' && raw[0] != '[') {
			return
		}
		var p addParams
		err := plan.bind(context.Background(), "add", raw, reflect.ValueOf(&p).Elem())
		if err != nil {
			var pe *paramError
			if !errors.As(err, &pe) {
				t.Fatalf("non-param error %v", err)
			}
		}
	})
}
