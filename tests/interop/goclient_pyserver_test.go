package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// goClientMethods is what the Go client exposes to the Python server: the utility methods,
// client_concat, whoami, and a recording _get_channel_id_ (same answer as the built-in) so
// the test can see the server's channel-id sync request.
type goClientMethods struct {
	mu       sync.Mutex
	whoami   []json.RawMessage // the source argument of each whoami call
	idAsked  int
	idAnswer string
}

func (g *goClientMethods) methods() *wsrpc.Methods {
	m := wsrpc.NewMethods()
	wsrpc.AddUtilityMethods(m)
	wsrpc.Register(m, "client_concat", func(ctx context.Context, p struct {
		A string `json:"a"`
		B string `json:"b"`
	}) (string, error) {
		return p.A + p.B, nil
	})
	wsrpc.Register(m, "whoami", func(ctx context.Context, p struct {
		Source json.RawMessage `json:"source,omitempty"`
	}) (string, error) {
		g.mu.Lock()
		g.whoami = append(g.whoami, p.Source)
		g.mu.Unlock()
		return "go-client", nil
	})
	m.Handle("_get_channel_id_", func(ctx context.Context, _ json.RawMessage) (any, error) {
		id := wsrpc.ChannelFromContext(ctx).ID()
		g.mu.Lock()
		g.idAsked++
		g.idAnswer = id
		g.mu.Unlock()
		return id, nil
	})
	return m
}

func noRetry() wsrpc.Option { return func(c *wsrpc.Config) { c.Retry.Disabled = true } }

// remoteErr asserts err is the peer's *Error with exactly this code, message and data.
func remoteErr(err error, code int, message, data string) error {
	var e *wsrpc.Error
	if !errors.As(err, &e) {
		return fmt.Errorf("want remote error %d %q, got %v", code, message, err)
	}
	if e.Code != code || e.Message != message {
		return fmt.Errorf("got %d %q, want %d %q", e.Code, e.Message, code, message)
	}
	if data == "" && len(e.Data) > 0 {
		return fmt.Errorf("unexpected data %s", e.Data)
	}
	if data != "" && sameShape(json.RawMessage(data), e.Data) != "" {
		return fmt.Errorf("data %s, want %s", e.Data, data)
	}
	return nil
}

type goCheck struct {
	name string
	fn   func(ctx context.Context) error
}

// runGoChecks runs named checks as subtests (so failures are reported by name) and returns
// how many ran.
func runGoChecks(t *testing.T, checks []goCheck) int {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := c.fn(ctx); err != nil {
				t.Errorf("check %s FAILED: %v", c.name, err)
			}
		})
	}
	return len(checks)
}

// goClientChecklist is the client checklist run by a Go wsrpc.Client against
// server_ws_rpc.py (the Go twin of client_ws_rpc.py).
func goClientChecklist(c *wsrpc.Client, gm *goClientMethods, debug bool) []goCheck {
	call := func(ctx context.Context, method string, params any) (json.RawMessage, error) {
		var out json.RawMessage
		err := c.Call(ctx, method, params, &out)
		return out, err
	}
	want := func(got json.RawMessage, err error, expect string) error {
		if err != nil {
			return err
		}
		if msg := sameShape(json.RawMessage(expect), got); msg != "" {
			return fmt.Errorf("result %s, want %s (%s)", tail(string(got), 200), expect, msg)
		}
		return nil
	}
	notes := func(ctx context.Context) ([]map[string]json.RawMessage, error) {
		var out []map[string]json.RawMessage
		err := c.Call(ctx, "get_notes", nil, &out)
		return out, err
	}
	return []goCheck{
		{"concat_named_map", func(ctx context.Context) error {
			r, err := call(ctx, "concat", map[string]string{"a": "foo", "b": "bar"})
			return want(r, err, `"foobar"`)
		}},
		{"concat_named_struct", func(ctx context.Context) error {
			r, err := call(ctx, "concat", struct {
				A string `json:"a"`
				B string `json:"b"`
			}{"x", "y"})
			return want(r, err, `"xy"`)
		}},
		{"concat_array_params", func(ctx context.Context) error {
			r, err := call(ctx, "concat", []any{"a", "b"})
			return want(r, err, `"ab"`)
		}},
		{"array_params_sent_as_array", func(ctx context.Context) error {
			// Only a JSON array can produce Python's positional-count error.
			_, err := call(ctx, "concat", []string{"a", "b", "c"})
			return remoteErr(err, -32602, "Invalid parameters: Too many positional arguments for method 'concat': expected at most 2, got 3",
				`{"type":"ValueError","method":"concat"}`)
		}},
		{"array_params_str_coercion", func(ctx context.Context) error {
			r, err := call(ctx, "concat", []int{1, 2})
			return want(r, err, `"3"`)
		}},
		{"add_floats", func(ctx context.Context) error {
			var x, y float64
			if err := c.Call(ctx, "add", map[string]float64{"a": 1.5, "b": 2.25}, &x); err != nil {
				return err
			}
			if err := c.Call(ctx, "add", map[string]float64{"a": 0.1, "b": 0.2}, &y); err != nil {
				return err
			}
			a, b := 0.1, 0.2 // variables: float64 arithmetic, not exact constant arithmetic
			if x != 3.75 || y != a+b {
				return fmt.Errorf("got %v and %v", x, y)
			}
			return nil
		}},
		{"ping", func(ctx context.Context) error {
			r, err := call(ctx, "ping", nil)
			return want(r, err, `"pong"`)
		}},
		{"channel_ping_method", func(ctx context.Context) error {
			return c.Channel().Ping(ctx, true)
		}},
		{"get_channel_id", func(ctx context.Context) error {
			var id string
			if err := c.Call(ctx, "_get_channel_id_", nil, &id); err != nil {
				return err
			}
			if !hex32.MatchString(id) {
				return fmt.Errorf("channel id %q", id)
			}
			return nil
		}},
		{"echo_unicode_and_object", func(ctx context.Context) error {
			text := "héllo 测试 \U0001F600 \"quoted\" \\ back"
			var s string
			if err := c.Call(ctx, "echo", map[string]string{"text": text}, &s); err != nil || s != text {
				return fmt.Errorf("echo %q: %q %v", text, s, err)
			}
			r, err := call(ctx, "echo", map[string]any{"text": map[string]any{"nested": []any{1, nil, true, 2.5}}})
			return want(r, err, `{"nested":[1,null,true,2.5]}`)
		}},
		{"get_process_details", func(ctx context.Context) error {
			r, err := call(ctx, "get_process_details", nil)
			return want(r, err, `{"pid":1,"cmd":[],"workingdir":"<dir>"}`)
		}},
		{"unknown_method_-32601", func(ctx context.Context) error {
			_, err := call(ctx, "no_such_method", nil)
			if !errors.Is(err, wsrpc.ErrMethodNotFound) {
				return fmt.Errorf("errors.Is(ErrMethodNotFound) false for %v", err)
			}
			return remoteErr(err, -32601, "Method 'no_such_method' not found", "")
		}},
		{"private_method_-32601", func(ctx context.Context) error {
			_, err := call(ctx, "_secret_", nil)
			return remoteErr(err, -32601, "Method '_secret_' not found or not accessible", "")
		}},
		{"unexpected_kwarg_-32602", func(ctx context.Context) error {
			_, err := call(ctx, "concat", map[string]any{"a": "x", "b": "y", "z": 1})
			if !errors.Is(err, wsrpc.ErrInvalidParams) {
				return fmt.Errorf("errors.Is(ErrInvalidParams) false for %v", err)
			}
			return remoteErr(err, -32602, "Invalid parameters: InteropMethods.concat() got an unexpected keyword argument 'z'",
				`{"type":"TypeError","method":"concat"}`)
		}},
		{"missing_kwarg_-32602", func(ctx context.Context) error {
			_, err := call(ctx, "concat", map[string]any{"a": "x"})
			return remoteErr(err, -32602, "Invalid parameters: InteropMethods.concat() missing 1 required positional argument: 'b'",
				`{"type":"TypeError","method":"concat"}`)
		}},
		{"positional_too_few_-32602", func(ctx context.Context) error {
			_, err := call(ctx, "concat", []string{"a"})
			return remoteErr(err, -32602, "Invalid parameters: Too few positional arguments for method 'concat': expected at least 2, got 1",
				`{"type":"ValueError","method":"concat"}`)
		}},
		{"typeerror_in_handler_-32602", func(ctx context.Context) error {
			_, err := call(ctx, "length", map[string]any{"text": 5})
			return remoteErr(err, -32602, "Invalid parameters: object of type 'int' has no len()", `{"type":"TypeError","method":"length"}`)
		}},
		{"handler_error_-32603", func(ctx context.Context) error {
			_, err := call(ctx, "fail", map[string]string{"message": "boom"})
			if !errors.Is(err, wsrpc.ErrInternal) {
				return fmt.Errorf("errors.Is(ErrInternal) false for %v", err)
			}
			if debug {
				return remoteErr(err, -32603, "Internal error: boom", `{"type":"RuntimeError","method":"fail"}`)
			}
			return remoteErr(err, -32603, "Internal server error", "")
		}},
		{"null_result_without_result_member", func(ctx context.Context) error {
			// Python answers {"jsonrpc":"2.0","id":X} (PROTOCOL §2.5); a Go caller must
			// complete the call with a null result instead of timing out.
			r, err := call(ctx, "note", map[string]string{"event": "as-request"})
			return want(r, err, `null`)
		}},
		{"notification_then_get_notes", func(ctx context.Context) error {
			if err := c.Notify(ctx, "note", map[string]string{"event": "go-notified"}); err != nil {
				return err
			}
			ns, err := notes(ctx) // Python processes messages in order
			if err != nil {
				return err
			}
			for _, n := range ns {
				if string(n["event"]) == `"go-notified"` {
					return nil
				}
			}
			return fmt.Errorf("notification not in notes: %v", ns)
		}},
		{"echo_1MiB", func(ctx context.Context) error {
			text := strings.Repeat("0123456789abcdef", 65536)
			var s string
			if err := c.Call(ctx, "echo", map[string]string{"text": text}, &s); err != nil {
				return err
			}
			if s != text {
				return fmt.Errorf("1 MiB echo differs (len %d)", len(s))
			}
			return nil
		}},
		{"big_and_length_1MiB", func(ctx context.Context) error {
			var s string
			var n int
			if err := c.Call(ctx, "big", map[string]int{"n": 1 << 20}, &s); err != nil {
				return err
			}
			if err := c.Call(ctx, "length", map[string]string{"text": strings.Repeat("y", 1<<20)}, &n); err != nil {
				return err
			}
			if len(s) != 1<<20 || strings.Trim(s, "x") != "" || n != 1<<20 {
				return fmt.Errorf("big len %d, length %d", len(s), n)
			}
			return nil
		}},
		{"concurrent_200_concat", func(ctx context.Context) error {
			var wg sync.WaitGroup
			errs := make(chan error, 200)
			for i := 0; i < 200; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var s string
					err := c.Call(ctx, "concat", map[string]string{"a": fmt.Sprintf("k%d-", i), "b": fmt.Sprint(i * i)}, &s)
					if err == nil && s != fmt.Sprintf("k%d-%d", i, i*i) {
						err = fmt.Errorf("call %d: got %q", i, s)
					}
					if err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			return <-errs
		}},
		{"slow", func(ctx context.Context) error {
			start := time.Now()
			r, err := call(ctx, "slow", map[string]float64{"seconds": 0.3})
			if err == nil && time.Since(start) < 300*time.Millisecond {
				return fmt.Errorf("answered too early")
			}
			return want(r, err, `0.3`)
		}},
		{"call_me_back_get_response", func(ctx context.Context) error {
			var id string
			if err := c.Call(ctx, "call_me_back", map[string]any{"method_name": "echo", "args": map[string]string{"text": "recursive-go"}}, &id); err != nil {
				return err
			}
			if !hex32.MatchString(id) {
				return fmt.Errorf("call id %q", id)
			}
			time.Sleep(time.Second)
			r, err := call(ctx, "get_response", map[string]string{"call_id": id})
			return want(r, err, fmt.Sprintf(`{"jsonrpc":"2.0","id":%q,"result":"recursive-go"}`, id))
		}},
		{"call_client_client_concat", func(ctx context.Context) error {
			var id string
			if err := c.Call(ctx, "call_client", map[string]any{"method": "client_concat", "params": map[string]string{"a": "srv-", "b": "ok"}}, &id); err != nil {
				return err
			}
			var entry map[string]json.RawMessage
			for deadline := time.Now().Add(5 * time.Second); entry == nil && time.Now().Before(deadline); {
				ns, err := notes(ctx)
				if err != nil {
					return err
				}
				for _, n := range ns {
					if string(n["call_id"]) == fmt.Sprintf("%q", id) {
						entry = n
					}
				}
				if entry == nil {
					time.Sleep(100 * time.Millisecond)
				}
			}
			if entry == nil {
				return fmt.Errorf("no note for call %s", id)
			}
			if msg := sameShape(json.RawMessage(fmt.Sprintf(`{"jsonrpc":"2.0","id":%q,"result":"srv-ok"}`, id)), entry["response"]); msg != "" {
				return fmt.Errorf("note %v: %s", entry, msg)
			}
			r, err := call(ctx, "get_response", map[string]string{"call_id": id})
			return want(r, err, fmt.Sprintf(`{"jsonrpc":"2.0","id":%q,"result":"srv-ok"}`, id))
		}},
		{"call_client_whoami", func(ctx context.Context) error {
			var id string
			if err := c.Call(ctx, "call_client", map[string]string{"method": "whoami"}, &id); err != nil {
				return err
			}
			time.Sleep(500 * time.Millisecond)
			r, err := call(ctx, "get_response", map[string]string{"call_id": id})
			return want(r, err, fmt.Sprintf(`{"jsonrpc":"2.0","id":%q,"result":"go-client"}`, id))
		}},
	}
}

// TestGoClientPyServer runs the Go client checklist against the real fastapi_ws_rpc server.
func TestGoClientPyServer(t *testing.T) {
	python(t)
	probeVersions(t)
	const token = "interop-secret-token"
	cases := []struct {
		name     string
		server   []string
		client   []wsrpc.Option
		sp       string // expected negotiated subprotocol
		debug    bool
		path     string
		onConn   bool
		syncID   bool
		extraChk int
	}{
		{name: "default", sp: "jsonrpc2.0"},
		{name: "path_with_client_id", sp: "jsonrpc2.0", path: "/ws/go-1"},
		{name: "debug", server: []string{"--debug"}, sp: "jsonrpc2.0", debug: true},
		{name: "sync_channel_id", server: []string{"--sync-channel-id"}, sp: "jsonrpc2.0", syncID: true},
		{name: "token", server: []string{"--token", token}, client: []wsrpc.Option{wsrpc.WithHeader("X-TOKEN", token)}, sp: "jsonrpc2.0"},
		{name: "on_connect_call_whoami", server: []string{"--on-connect-call", "whoami"}, sp: "jsonrpc2.0", onConn: true},
		{name: "server_no_subprotocol", server: []string{"--subprotocols", ""}, sp: ""},
		{name: "server_custom_subprotocol", server: []string{"--subprotocols", "custom.v1,jsonrpc2.0"},
			client: []wsrpc.Option{wsrpc.WithSubprotocols("custom.v1", "jsonrpc2.0")}, sp: "custom.v1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, port := startPyServer(t, "server_ws_rpc.py", tc.server...)
			path := tc.path
			if path == "" {
				path = "/ws"
			}
			gm := &goClientMethods{}
			opts := append([]wsrpc.Option{quietLogs(), wsrpc.WithMethods(gm.methods()), wsrpc.WithTimeout(15 * time.Second)}, tc.client...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := wsrpc.Dial(ctx, wsURL(port, path), opts...)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			n := 1
			t.Run("subprotocol", func(t *testing.T) {
				if got := c.Channel().Subprotocol(); got != tc.sp {
					t.Errorf("negotiated %q, want %q", got, tc.sp)
				}
			})
			if tc.syncID {
				n++
				t.Run("server_learned_channel_id", func(t *testing.T) {
					// The Python server calls _get_channel_id_ right after accepting; the Go
					// client must answer with its own channel id.
					deadline := time.Now().Add(5 * time.Second)
					for time.Now().Before(deadline) {
						gm.mu.Lock()
						asked, ans := gm.idAsked, gm.idAnswer
						gm.mu.Unlock()
						if asked > 0 {
							if ans != c.Channel().ID() || !hex32.MatchString(ans) {
								t.Errorf("answered %q, channel id %q", ans, c.Channel().ID())
							}
							return
						}
						time.Sleep(50 * time.Millisecond)
					}
					t.Errorf("the Python server never asked for the channel id")
				})
			}
			if tc.onConn {
				n++
				t.Run("on_connect_call", func(t *testing.T) {
					deadline := time.Now().Add(5 * time.Second)
					for time.Now().Before(deadline) {
						var ns []map[string]json.RawMessage
						if err := c.Call(context.Background(), "get_notes", nil, &ns); err != nil {
							t.Fatal(err)
						}
						for _, e := range ns {
							if string(e["kind"]) == `"on_connect"` {
								if sameShape(json.RawMessage(`{"jsonrpc":"2.0","id":"00000000000000000000000000000000","result":"go-client"}`), e["response"]) != "" {
									t.Errorf("on-connect note %v", e)
								}
								gm.mu.Lock()
								defer gm.mu.Unlock()
								if len(gm.whoami) == 0 || string(gm.whoami[0]) != `"server-on-connect"` {
									t.Errorf("whoami calls %s", gm.whoami)
								}
								return
							}
						}
						time.Sleep(100 * time.Millisecond)
					}
					t.Errorf("no on_connect note")
				})
			}
			n += runGoChecks(t, goClientChecklist(c, gm, tc.debug))
			recordCompat(t, rowRPCGoToPy, n)
		})
	}
	t.Run("token_wrong", func(t *testing.T) {
		t.Parallel()
		recordCompat(t, rowRPCGoToPy, 1)
		_, port := startPyServer(t, "server_ws_rpc.py", "--token", token)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := wsrpc.Dial(ctx, wsURL(port, "/ws"), quietLogs(), noRetry(), wsrpc.WithHeader("X-TOKEN", "wrong"))
		if err == nil {
			c.Close()
			t.Fatal("connected with a wrong token")
		}
		if !strings.Contains(err.Error(), "403") {
			t.Errorf("want the HTTP 403 refusal in the error, got %v", err)
		}
	})
}
