package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// legacy_client.py reports connect + 9 checks, + 1 with --destructive.
const legacyClientChecks = 11

// TestLegacyGoClientPyServer: a Go client speaking the legacy dialect against the real
// fastapi_websocket_rpc 0.1.29 server.
func TestLegacyGoClientPyServer(t *testing.T) {
	python(t)
	probeVersions(t)
	t.Parallel()
	_, port := startPyServer(t, "legacy_server.py")
	gm := &goClientMethods{}
	dial := func(t *testing.T, timeout time.Duration) *wsrpc.Client {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := wsrpc.Dial(ctx, wsURL(port, "/ws"), quietLogs(), wsrpc.WithDialect(wsrpc.DialectLegacy),
			wsrpc.WithSubprotocols(), wsrpc.WithMethods(gm.methods()), wsrpc.WithTimeout(timeout))
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	c := dial(t, 10*time.Second)
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
			return fmt.Errorf("result %s, want %s (%s)", tail(string(got), 300), expect, msg)
		}
		return nil
	}
	callBack := func(ctx context.Context, method string, args any, expect string) error {
		var id string
		if err := c.Call(ctx, "call_me_back", map[string]any{"method_name": method, "args": args}, &id); err != nil {
			return err
		}
		if !hex32.MatchString(id) {
			return fmt.Errorf("call id %q", id)
		}
		time.Sleep(time.Second)
		r, err := call(ctx, "get_response", map[string]string{"call_id": id})
		return want(r, err, fmt.Sprintf(`{"result":%s,"result_type":"str","call_id":%q}`, expect, id))
	}
	checks := []goCheck{
		{"dialect_and_subprotocol", func(ctx context.Context) error {
			ch := c.Channel()
			if ch.Dialect() != wsrpc.DialectLegacy || ch.Subprotocol() != "" {
				return fmt.Errorf("dialect %v, subprotocol %q", ch.Dialect(), ch.Subprotocol())
			}
			return nil
		}},
		{"_ping_", func(ctx context.Context) error {
			r, err := call(ctx, "_ping_", nil)
			return want(r, err, `"pong"`)
		}},
		{"channel_ping_uses__ping_", func(ctx context.Context) error { return c.Channel().Ping(ctx, true) }},
		{"get_channel_id", func(ctx context.Context) error {
			r, err := call(ctx, "_get_channel_id_", nil)
			return want(r, err, `"00000000000000000000000000000000"`)
		}},
		{"echo", func(ctx context.Context) error {
			r, err := call(ctx, "echo", map[string]string{"text": "héllo 测试 \"q\""})
			return want(r, err, `"héllo 测试 \"q\""`)
		}},
		{"concat", func(ctx context.Context) error {
			r, err := call(ctx, "concat", map[string]string{"a": "foo", "b": "bar"})
			return want(r, err, `"foobar"`)
		}},
		{"concat_ints_coerced", func(ctx context.Context) error {
			r, err := call(ctx, "concat", map[string]int{"a": 1, "b": 2})
			return want(r, err, `"3"`)
		}},
		{"get_process_details", func(ctx context.Context) error {
			r, err := call(ctx, "get_process_details", nil)
			return want(r, err, `{"pid":1,"cmd":[],"workingdir":"<dir>"}`)
		}},
		{"array_params_refused_locally", func(ctx context.Context) error {
			if _, err := call(ctx, "concat", []string{"a", "b"}); err == nil {
				return errors.New("legacy call with array params was sent")
			}
			return nil
		}},
		{"call_me_back_echo", func(ctx context.Context) error {
			return callBack(ctx, "echo", map[string]string{"text": "legacy-recursive"}, `"legacy-recursive"`)
		}},
		{"call_me_back_client_concat", func(ctx context.Context) error {
			return callBack(ctx, "client_concat", map[string]string{"a": "x", "b": "y"}, `"xy"`)
		}},
		{"call_me_back_whoami", func(ctx context.Context) error {
			return callBack(ctx, "whoami", map[string]string{}, `"go-client"`)
		}},
		{"concurrent_50_concat", func(ctx context.Context) error {
			var wg sync.WaitGroup
			errs := make(chan error, 50)
			for i := 0; i < 50; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var s string
					if err := c.Call(ctx, "concat", map[string]string{"a": fmt.Sprint(i), "b": "-"}, &s); err != nil || s != fmt.Sprint(i)+"-" {
						errs <- fmt.Errorf("call %d: %q %v", i, s, err)
					}
				}()
			}
			wg.Wait()
			close(errs)
			return <-errs
		}},
	}
	n := runGoChecks(t, checks)
	// Last, on its own connection: the legacy dialect has no error replies, so an unknown
	// method only ends by the caller's timeout (and the Python server stops serving that
	// connection, FINDINGS §3.1).
	n++
	t.Run("unknown_method_times_out", func(t *testing.T) {
		c2 := dial(t, 1500*time.Millisecond)
		err := c2.Call(context.Background(), "no_such_method", nil, nil)
		if !errors.Is(err, wsrpc.ErrTimeout) {
			t.Errorf("want ErrTimeout, got %v", err)
		}
	})
	recordCompat(t, rowLegacyGoToPy, n)
}

// TestLegacyPyClientGoServerAuto: the real legacy client and the real 2.0 client against
// one Go server with DialectAuto, at the same time (per-connection pinning).
func TestLegacyPyClientGoServerAuto(t *testing.T) {
	python(t)
	probeVersions(t)
	t.Parallel()
	f := newGoFixture(t, nil, quietLogs(), wsrpc.WithDialect(wsrpc.DialectAuto))
	var wg sync.WaitGroup
	var legacy, modern checkRun
	wg.Add(2)
	go func() {
		defer wg.Done()
		legacy = runChecklist(t, 120*time.Second, "legacy_client.py", f.url("/ws"), "--destructive", "--timeout", "3")
	}()
	go func() {
		defer wg.Done()
		modern = runChecklist(t, 150*time.Second, "client_ws_rpc.py", f.url("/ws"), "--timeout", "10")
	}()
	wg.Wait()
	t.Run("legacy_client", func(t *testing.T) {
		recordCompat(t, rowLegacyPyToGo, legacyClientChecks)
		requireAllPass(t, legacy, legacyClientChecks)
	})
	t.Run("jsonrpc_client_same_server", func(t *testing.T) {
		recordCompat(t, rowRPCPyToGo, pyClientChecks)
		requireAllPass(t, orderDependentCheck(t, f, modern), pyClientChecks)
	})
	t.Run("dialects_pinned_per_connection", func(t *testing.T) {
		recordCompat(t, rowLegacyPyToGo, 1)
		f.mu.Lock()
		defer f.mu.Unlock()
		seen := map[wsrpc.Dialect]int{}
		for _, ch := range f.conns {
			seen[ch.Dialect()]++
		}
		if seen[wsrpc.DialectLegacy] == 0 || seen[wsrpc.DialectJSONRPC] == 0 {
			t.Errorf("dialects of the connections that used notes: %v", seen)
		}
	})
}
