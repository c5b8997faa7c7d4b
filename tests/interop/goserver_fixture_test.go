package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// goFixture is an in-process wsrpc.Server exposing the method set of py/server_ws_rpc.py
// with the same semantics (see FINDINGS.md §0), so the Python checklist client and the golden
// frames can be run against Go.
type goFixture struct {
	srv *wsrpc.Server
	ts  *httptest.Server

	mu    sync.Mutex
	notes map[*wsrpc.Channel]*connNotes
	conns []*wsrpc.Channel // in connect order
}

// connNotes is one connection's notes plus the answers call_client fetched for the note but
// that get_response must still be able to hand out once (Python leaves them in its pending
// table; a Go Channel's TakeResponse removes them, so they are kept here).
type connNotes struct {
	mu      sync.Mutex
	entries []any
	stash   map[string]json.RawMessage
}

func (f *goFixture) notesOf(ch *wsrpc.Channel) *connNotes {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.notes[ch]
	if n == nil {
		n = &connNotes{stash: map[string]json.RawMessage{}}
		f.notes[ch] = n
		f.conns = append(f.conns, ch)
	}
	return n
}

func (n *connNotes) add(e any) {
	n.mu.Lock()
	n.entries = append(n.entries, e)
	n.mu.Unlock()
}

// pyError is a handler error whose debug type name is a Python exception class.
type pyError struct{ typ, msg string }

func (e *pyError) Error() string     { return e.msg }
func (e *pyError) ErrorType() string { return e.typ }

// pyTypeError mirrors fastapi-ws-rpc's rule that a TypeError raised inside a handler is
// answered with -32602 (PROTOCOL.md §7); a Go handler says so explicitly.
func pyTypeError(method, detail string) error {
	data, _ := json.Marshal(map[string]string{"type": "TypeError", "method": method})
	return &wsrpc.Error{Code: wsrpc.CodeInvalidParams, Message: "Invalid parameters: " + detail, Data: data}
}

func pyTypeName(raw json.RawMessage) string {
	switch v := decodeAny(raw).(type) {
	case string:
		return "str"
	case json.Number:
		if strings.ContainsAny(v.String(), ".eE") {
			return "float"
		}
		return "int"
	case bool:
		return "bool"
	case nil:
		return "NoneType"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return "object"
}

func decodeAny(raw json.RawMessage) any {
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil
	}
	return v
}

// pyAdd is Python's `a + b` on JSON values (the Python handlers do no type checking):
// numbers add (int + int stays an exact int), strings and lists concatenate, anything
// else is Python's TypeError.
func pyAdd(method string, a, b json.RawMessage) (json.RawMessage, error) {
	ta, tb := pyTypeName(a), pyTypeName(b)
	num := func(t string) bool { return t == "int" || t == "float" || t == "bool" }
	switch {
	case ta == "str" && tb == "str":
		var x, y string
		_ = json.Unmarshal(a, &x)
		_ = json.Unmarshal(b, &y)
		return json.Marshal(x + y)
	case ta == "list" && tb == "list":
		var x, y []json.RawMessage
		_ = json.Unmarshal(a, &x)
		_ = json.Unmarshal(b, &y)
		return json.Marshal(append(x, y...))
	case num(ta) && num(tb):
		toNum := func(raw json.RawMessage) string {
			switch string(raw) {
			case "true":
				return "1"
			case "false":
				return "0"
			}
			return string(raw)
		}
		sa, sb := toNum(a), toNum(b)
		if ta != "float" && tb != "float" {
			x, _ := new(big.Int).SetString(sa, 10)
			y, _ := new(big.Int).SetString(sb, 10)
			return json.RawMessage(new(big.Int).Add(x, y).String()), nil
		}
		var x, y float64
		_ = json.Unmarshal([]byte(sa), &x)
		_ = json.Unmarshal([]byte(sb), &y)
		out, err := json.Marshal(x + y)
		if err != nil {
			return nil, pyTypeError(method, err.Error())
		}
		if !strings.ContainsAny(string(out), ".eE") {
			out = append(out, ".0"...) // a Python float always prints as one
		}
		return out, nil
	}
	return nil, pyTypeError(method, fmt.Sprintf("unsupported operand type(s) for +: '%s' and '%s'", ta, tb))
}

type abParams struct {
	A json.RawMessage `json:"a"`
	B json.RawMessage `json:"b"`
}

// fixtureMethods builds the server_ws_rpc.py method set.
func (f *goFixture) methods() *wsrpc.Methods {
	m := wsrpc.NewMethods()
	wsrpc.AddUtilityMethods(m)
	// concat(a: str, b: str) -> str: declared str, so a non-str result is sent as str(value).
	wsrpc.Register(m, "concat", func(ctx context.Context, p abParams) (json.RawMessage, error) {
		return pyAdd("concat", p.A, p.B)
	}, wsrpc.StringifyResult())
	// add(a: float, b: float) -> float: sent unchanged.
	wsrpc.Register(m, "add", func(ctx context.Context, p abParams) (json.RawMessage, error) {
		return pyAdd("add", p.A, p.B)
	})
	wsrpc.Register(m, "fail", func(ctx context.Context, p struct {
		Message string `json:"message"`
	}) (string, error) {
		return "", &pyError{typ: "RuntimeError", msg: p.Message}
	})
	wsrpc.Register(m, "slow", func(ctx context.Context, p struct {
		Seconds json.Number `json:"seconds"`
	}) (json.Number, error) {
		s, err := p.Seconds.Float64()
		if err != nil {
			return "", pyTypeError("slow", err.Error())
		}
		select {
		case <-time.After(time.Duration(s * float64(time.Second))):
		case <-ctx.Done():
			return "", ctx.Err()
		}
		return p.Seconds, nil
	})
	wsrpc.Register(m, "big", func(ctx context.Context, p struct {
		N int `json:"n"`
	}) (string, error) {
		return strings.Repeat("x", max(p.N, 0)), nil
	})
	wsrpc.Register(m, "length", func(ctx context.Context, p struct {
		Text json.RawMessage `json:"text"`
	}) (int, error) {
		switch v := decodeAny(p.Text).(type) {
		case string:
			return utf8.RuneCountInString(v), nil // Python len() counts code points
		case []any:
			return len(v), nil
		case map[string]any:
			return len(v), nil
		}
		return 0, pyTypeError("length", fmt.Sprintf("object of type '%s' has no len()", pyTypeName(p.Text)))
	})
	wsrpc.Register(m, "sha256", func(ctx context.Context, p struct {
		Text string `json:"text"`
	}) (string, error) {
		return sha256Hex([]byte(p.Text)), nil
	})
	wsrpc.Register(m, "repeat", func(ctx context.Context, p struct {
		Text   string `json:"text"`
		Times  int    `json:"times"`
		Suffix string `json:"suffix"`
	}) (string, error) {
		if p.Times > 0 && len(p.Text) > (64<<20)/p.Times {
			return "", &pyError{typ: "MemoryError", msg: "repeat: result over 64 MiB"}
		}
		return strings.Repeat(p.Text, max(p.Times, 0)) + p.Suffix, nil
	})
	wsrpc.Register(m, "note", func(ctx context.Context, p struct {
		Event json.RawMessage `json:"event"`
	}) (any, error) {
		f.notesOf(wsrpc.ChannelFromContext(ctx)).add(map[string]any{"kind": "note", "event": p.Event})
		return nil, nil
	})
	wsrpc.Register(m, "get_notes", func(ctx context.Context, _ struct{}) ([]any, error) {
		n := f.notesOf(wsrpc.ChannelFromContext(ctx))
		n.mu.Lock()
		defer n.mu.Unlock()
		return append([]any{}, n.entries...), nil
	})
	wsrpc.Register(m, "call_client", func(ctx context.Context, p struct {
		Method  string          `json:"method"`
		Params  json.RawMessage `json:"params,omitempty"`
		Timeout *float64        `json:"timeout"`
	}) (string, error) {
		ch := wsrpc.ChannelFromContext(ctx)
		timeout := 10.0
		if p.Timeout != nil {
			timeout = *p.Timeout
		}
		return f.backgroundCall(ch, "call_client", p.Method, p.Params, timeout)
	})
	// get_response as the library's, except that it first hands out the answers call_client
	// already took from the channel for its note.
	wsrpc.Register(m, "get_response", func(ctx context.Context, p struct {
		CallID string `json:"call_id,omitempty"`
	}) (json.RawMessage, error) {
		ch := wsrpc.ChannelFromContext(ctx)
		n := f.notesOf(ch)
		n.mu.Lock()
		resp, ok := n.stash[p.CallID]
		delete(n.stash, p.CallID)
		n.mu.Unlock()
		if ok {
			return resp, nil
		}
		if resp, ok := ch.TakeResponse(p.CallID); ok {
			return resp, nil
		}
		return nil, &pyError{typ: "KeyError", msg: fmt.Sprintf("%q", p.CallID)}
	})
	return m
}

// backgroundCall starts a call of the peer's method and returns its id at once; when the
// answer arrives it is recorded in the notes and kept for get_response.
func (f *goFixture) backgroundCall(ch *wsrpc.Channel, kind, method string, params json.RawMessage, timeout float64) (string, error) {
	if ch == nil {
		return "", nil
	}
	var args any
	if len(params) > 0 && string(params) != "null" && string(params) != "{}" {
		args = params
	}
	if params == nil || string(params) == "null" {
		params = json.RawMessage("{}")
	}
	start := time.Now()
	pend, err := ch.Go(ch.Context(), method, args)
	if err != nil {
		return "", err
	}
	n := f.notesOf(ch)
	go func() {
		entry := map[string]any{"kind": kind, "call_id": pend.ID(), "method": method, "params": params}
		t := time.NewTimer(time.Duration(timeout * float64(time.Second)))
		defer t.Stop()
		select {
		case <-pend.Done():
			if resp, ok := ch.TakeResponse(pend.ID()); ok {
				entry["response"] = resp
				n.mu.Lock()
				n.stash[pend.ID()] = resp
				n.mu.Unlock()
			} else {
				entry["error"] = "answer not available (" + errText(ch.Err()) + ")"
			}
		case <-t.C:
			entry["error"] = fmt.Sprintf("timeout after %vs", timeout)
		case <-ch.Done():
			entry["error"] = "channel closed: " + errText(ch.Err())
		}
		entry["elapsed"] = time.Since(start).Seconds()
		n.add(entry)
	}()
	return pend.ID(), nil
}

func errText(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// newGoFixture starts the fixture server on a loopback port; routes /ws and /ws/{id}.
// extra may add options that refer to the fixture (e.g. its on-connect hook).
func newGoFixture(t testing.TB, extra func(f *goFixture) []wsrpc.Option, opts ...wsrpc.Option) *goFixture {
	t.Helper()
	f := &goFixture{notes: map[*wsrpc.Channel]*connNotes{}}
	if extra != nil {
		opts = append(opts, extra(f)...)
	}
	srv, err := wsrpc.NewServer(f.methods(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	mux.Handle("/ws/", srv)
	f.ts = httptest.NewServer(mux)
	t.Cleanup(f.ts.Close)
	t.Cleanup(func() { _ = srv.Close() }) // runs first: ends the hijacked connections
	return f
}

func (f *goFixture) url(path string) string {
	return "ws" + strings.TrimPrefix(f.ts.URL, "http") + path
}

// onConnectWhoami is the Go twin of `server_ws_rpc.py --on-connect-call whoami`.
func (f *goFixture) onConnectWhoami(ctx context.Context, ch *wsrpc.Channel) {
	if _, err := f.backgroundCall(ch, "on_connect", "whoami", json.RawMessage(`{"source":"server-on-connect"}`), 10); err != nil && !errors.Is(err, wsrpc.ErrClosed) {
		ch.Set("on_connect_err", err)
	}
}

// sawNote reports whether any connection recorded note(event).
func (f *goFixture) sawNote(event string) bool {
	want, _ := json.Marshal(event)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.notes {
		n.mu.Lock()
		for _, e := range n.entries {
			if m, ok := e.(map[string]any); ok && m["kind"] == "note" {
				if raw, ok := m["event"].(json.RawMessage); ok && string(raw) == string(want) {
					n.mu.Unlock()
					return true
				}
			}
		}
		n.mu.Unlock()
	}
	return false
}
