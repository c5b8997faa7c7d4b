//go:build !js

package wsrpc

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Live tests: a real Server and Client over loopback WebSocket. "Cn" = CONFORMANCE.md item.

func utilityMethods() *Methods {
	m := NewMethods()
	AddUtilityMethods(m)
	return m
}

func TestLiveBasic(t *testing.T) { // C1, C2, C3, C5, C26, C27
	_, url := startServer(t, utilityMethods())
	c := dialTest(t, url)
	ctx := ctxT(t, 5*time.Second)
	var s string
	if err := c.Call(ctx, "echo", map[string]string{"text": "Hello World!"}, &s); err != nil || s != "Hello World!" {
		t.Fatal(err, s)
	}
	if err := c.Call(ctx, "ping", nil, &s); err != nil || s != "pong" {
		t.Fatal(err, s)
	}
	if err := c.Call(ctx, "_get_channel_id_", nil, &s); err != nil || len(s) != 32 || s == c.Channel().ID() {
		t.Fatal(err, s)
	}
	var pd struct {
		PID int      `json:"pid"`
		Cmd []string `json:"cmd"`
	}
	if err := c.Call(ctx, "get_process_details", nil, &pd); err != nil || pd.PID == 0 || len(pd.Cmd) == 0 {
		t.Fatal(err, pd)
	}
	if got := c.Channel().Subprotocol(); got != ExtensionSubprotocol { // between wsrpc peers
		t.Fatalf("subprotocol %q", got)
	}
	// Remote errors surface as *Error and match sentinels.
	err := c.Call(ctx, "nope", nil, nil)
	var re *Error
	if !errors.As(err, &re) || re.Code != -32601 || !errors.Is(err, ErrMethodNotFound) {
		t.Fatal(err)
	}
	if err := c.Call(ctx, "echo", map[string]int{"wrong": 1}, nil); !errors.Is(err, ErrInvalidParams) {
		t.Fatal(err)
	}
}

func TestLiveKeepAlive(t *testing.T) { // C4
	_, url := startServer(t, utilityMethods())
	c := dialTest(t, url, WithKeepalive(100*time.Millisecond, 3))
	var s string
	if err := c.Call(ctxT(t, 5*time.Second), "echo", map[string]string{"text": "x"}, &s); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	if c.Channel() == nil {
		t.Fatal("keepalive dropped a healthy connection")
	}
}

func TestLiveRecursiveCallMeBack(t *testing.T) { // C6
	_, url := startServer(t, utilityMethods())
	c := dialTest(t, url, WithMethods(utilityMethods()))
	ctx := ctxT(t, 5*time.Second)
	var id string
	if err := c.Call(ctx, "call_me_back", map[string]any{"method_name": "echo", "args": map[string]string{"text": "recursive-helloworld"}}, &id); err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Result string `json:"result"`
		ID     string `json:"id"`
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		err := c.Call(ctx, "get_response", map[string]string{"call_id": id}, &resp)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resp.Result != "recursive-helloworld" || resp.ID != id {
		t.Fatalf("%+v", resp)
	}
	// Fetched once only.
	if err := c.Call(ctx, "get_response", map[string]string{"call_id": id}, nil); !errors.Is(err, ErrInternal) {
		t.Fatal(err)
	}
}

func TestLiveBinaryFrames(t *testing.T) { // C7, C8
	_, url := startServer(t, utilityMethods(), func(c *Config) { c.Binary = true })
	c := dialTest(t, url, func(c *Config) { c.Binary = true })
	var s string
	if err := c.Call(ctxT(t, 5*time.Second), "echo", map[string]string{"text": "bin"}, &s); err != nil || s != "bin" {
		t.Fatal(err, s)
	}
	var pd map[string]any
	if err := c.Call(ctxT(t, 5*time.Second), "get_process_details", nil, &pd); err != nil || pd["pid"] == nil {
		t.Fatal(err)
	}
}

func TestLiveFloats(t *testing.T) { // C9
	m := NewMethods()
	if err := m.RegisterValue(&calc{}, nil); err != nil {
		t.Fatal(err)
	}
	_, url := startServer(t, m)
	c := dialTest(t, url)
	for i := 0; i < 20; i++ {
		a, b := rand.Float64()*1e6, rand.Float64()
		var sum, prod float64
		if err := c.Call(ctxT(t, 5*time.Second), "add", map[string]float64{"a": a, "b": b}, &sum); err != nil || sum != a+b {
			t.Fatal(err, sum, a+b)
		}
		if err := c.Call(ctxT(t, 5*time.Second), "multiply", []float64{a, b}, &prod); err != nil || prod != a*b {
			t.Fatal(err, prod, a*b)
		}
	}
}

func TestLiveTokenAuth(t *testing.T) { // C10, C11
	_, url := startServer(t, utilityMethods(), WithAuthenticate(func(r *http.Request) (map[string]any, error) {
		if r.Header.Get("X-TOKEN") != "fake-super-secret-token" {
			return nil, &HTTPError{Status: http.StatusForbidden, Message: "bad token"}
		}
		return map[string]any{"user": "alice"}, nil
	}))
	c := dialTest(t, url, WithHeader("X-TOKEN", "fake-super-secret-token"))
	var s string
	if err := c.Call(ctxT(t, 5*time.Second), "echo", map[string]string{"text": "ok"}, &s); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := Dial(ctxT(t, 10*time.Second), url, WithLogger(quietLogger), WithHeader("X-TOKEN", "wrong"),
		func(c *Config) {
			c.Retry = RetryConfig{MaxAttempts: 2, MinWait: 10 * time.Millisecond, MaxWait: 20 * time.Millisecond}
		})
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 403 {
		t.Fatalf("want HTTP 403, got %v", err)
	}
	if time.Since(start) < 10*time.Millisecond {
		t.Fatal("not retried")
	}
}

func TestLiveAuthValuesOnChannel(t *testing.T) {
	m := NewMethods()
	Register(m, "whoami", func(ctx context.Context, _ struct{}) (any, error) {
		return ChannelFromContext(ctx).Value("user"), nil
	})
	_, url := startServer(t, m, WithAuthenticate(func(r *http.Request) (map[string]any, error) {
		return map[string]any{"user": r.URL.Query().Get("user")}, nil
	}))
	c := dialTest(t, url+"?user=bob")
	var s string
	if err := c.Call(ctxT(t, 5*time.Second), "whoami", nil, &s); err != nil || s != "bob" {
		t.Fatal(err, s)
	}
}

// wakeUpMethods is the trigger-flow server: register_wake_up_call starts a background call to
// the client's wake_up after time_delta.
func wakeUpMethods() *Methods {
	m := NewMethods()
	Register(m, "register_wake_up_call", func(ctx context.Context, p struct {
		TimeDelta float64 `json:"time_delta"`
		Name      string  `json:"name"`
	}) (string, error) {
		ch := ChannelFromContext(ctx)
		go func() {
			select {
			case <-time.After(time.Duration(p.TimeDelta * float64(time.Second))):
			case <-ch.Done():
				return
			}
			_ = ch.Call(ch.Context(), "wake_up", map[string]string{"message": "Good morning!", "name": p.Name}, nil)
		}()
		return "True", nil
	})
	return m
}

func TestLiveTriggerFlow(t *testing.T) { // C12, C13
	for _, fromOnConnect := range []bool{false, true} {
		_, url := startServer(t, wakeUpMethods())
		got := make(chan [2]string, 1)
		cm := NewMethods()
		Register(cm, "wake_up", func(ctx context.Context, p struct {
			Message string `json:"message"`
			Name    string `json:"name"`
		}) (any, error) {
			ChannelFromContext(ctx).Set("woken", p.Name) // lands in the connection's own state
			got <- [2]string{p.Message, p.Name}
			return nil, nil
		})
		args := map[string]any{"time_delta": 0.5, "name": "Logan Nine Fingers"}
		opts := []Option{WithMethods(cm)}
		if fromOnConnect {
			opts = append(opts, WithOnConnect(func(ctx context.Context, ch *Channel) {
				_ = ch.Call(ctx, "register_wake_up_call", args, nil)
			}))
		}
		c := dialTest(t, url, opts...)
		if !fromOnConnect {
			if err := c.Call(ctxT(t, 5*time.Second), "register_wake_up_call", args, nil); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case v := <-got:
			if v != [2]string{"Good morning!", "Logan Nine Fingers"} || c.Channel().Value("woken") != "Logan Nine Fingers" {
				t.Fatal(v)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("wake_up never called")
		}
	}
}

func TestLiveSubprotocols(t *testing.T) { // C20-C34
	def := DefaultConfig()
	if def.subprotocols()[0] != "jsonrpc2.0" {
		t.Fatal("default") // C20, C24, C25
	}
	cases := []struct {
		name   string
		server []string // nil = default
		client []string
		want   string
	}{
		// Between wsrpc peers the extension token is selected (Python peers never offer it,
		// and a Python server answers "jsonrpc2.0": see cancel.go and tests/interop).
		{"default/default C26", nil, nil, ExtensionSubprotocol},
		{"none/none C28", []string{}, []string{}, ""},
		{"client default, server none C29", []string{}, nil, ""},
		{"custom C30", []string{"custom.v1"}, []string{"custom.v1"}, "custom.v1"},
		{"empty client list C33", []string{}, []string{}, ""},
		{"client offers several C34", nil, []string{"custom.v1", "jsonrpc2.0", "another.v2"}, ExtensionSubprotocol},
		{"client offers several, no extensions", nil, []string{"custom.v1", "jsonrpc2.0", "another.v2"}, "jsonrpc2.0"},
		{"server prefers its own order", []string{"b", "a"}, []string{"a", "b"}, "b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sopts := []Option{}
			if tc.server != nil {
				sopts = append(sopts, WithSubprotocols(tc.server...))
			}
			copts := []Option{}
			if strings.HasSuffix(tc.name, "no extensions") {
				copts = append(copts, func(c *Config) { c.NoExtensions = true })
			}
			if tc.client != nil {
				copts = append(copts, WithSubprotocols(tc.client...))
			}
			srv, url := startServer(t, utilityMethods(), sopts...)
			c := dialTest(t, url, copts...)
			var s string
			if err := c.Call(ctxT(t, 5*time.Second), "echo", map[string]string{"text": "x"}, &s); err != nil {
				t.Fatal(err)
			}
			if got := c.Channel().Subprotocol(); got != tc.want {
				t.Fatalf("subprotocol %q, want %q", got, tc.want)
			}
			// The server records the negotiated token too (GO-REC).
			chans := srv.Channels()
			if len(chans) != 1 || chans[0].Subprotocol() != tc.want {
				t.Fatalf("server side: %d channels, subprotocol %q", len(chans), chans[0].Subprotocol())
			}
		})
	}
}

func TestLiveConcurrentAndLarge(t *testing.T) { // 200 concurrent calls, 1 MiB payload (C135, C136)
	m := NewMethods()
	Register(m, "concat", func(ctx context.Context, p struct {
		A string `json:"a"`
		B string `json:"b"`
	}) (string, error) {
		time.Sleep(time.Millisecond)
		return p.A + p.B, nil
	})
	AddUtilityMethods(m)
	_, url := startServer(t, m)
	c := dialTest(t, url)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := strings.Repeat("a", i)
			var out string
			if err := c.Call(ctxT(t, 20*time.Second), "concat", map[string]string{"a": a, "b": "!"}, &out); err != nil {
				errs <- err
			} else if out != a+"!" {
				errs <- errors.New("wrong result " + out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 1<<20)
	var out string
	if err := c.Call(ctxT(t, 20*time.Second), "echo", map[string]string{"text": big}, &out); err != nil || out != big {
		t.Fatal(err, len(out))
	}
}

func TestLiveRecursiveChain(t *testing.T) { // server -> client -> server, while the first call waits
	sm := NewMethods()
	Register(sm, "outer", func(ctx context.Context, p struct {
		N int `json:"n"`
	}) (int, error) {
		var v int
		err := ChannelFromContext(ctx).Call(ctx, "client_step", map[string]int{"n": p.N}, &v)
		return v + 1, err
	})
	Register(sm, "inner", func(ctx context.Context, p struct {
		N int `json:"n"`
	}) (int, error) {
		return p.N * 10, nil
	})
	_, url := startServer(t, sm)
	cm := NewMethods()
	Register(cm, "client_step", func(ctx context.Context, p struct {
		N int `json:"n"`
	}) (int, error) {
		var v int
		err := ChannelFromContext(ctx).Call(ctx, "inner", map[string]int{"n": p.N}, &v)
		return v + 1, err
	})
	c := dialTest(t, url, WithMethods(cm))
	var out int
	if err := c.Call(ctxT(t, 5*time.Second), "outer", map[string]int{"n": 4}, &out); err != nil || out != 42 {
		t.Fatal(err, out)
	}
}

// rawDial opens a plain WebSocket to url, as any non-wsrpc client would.
func rawDial(t *testing.T, url string, protos ...string) *websocket.Conn {
	t.Helper()
	wc, _, err := websocket.Dial(ctxT(t, 5*time.Second), url, &websocket.DialOptions{Subprotocols: protos})
	if err != nil {
		t.Fatal(err)
	}
	wc.SetReadLimit(64 << 20)
	t.Cleanup(func() { wc.CloseNow() })
	return wc
}

func rawRoundTrip(t *testing.T, wc *websocket.Conn, send string) string {
	t.Helper()
	if err := wc.Write(ctxT(t, 5*time.Second), websocket.MessageText, []byte(send)); err != nil {
		t.Fatal(err)
	}
	_, b, err := wc.Read(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLiveRawFrames(t *testing.T) { // hand-written frames get the spec's exact bytes
	m := NewMethods()
	Register(m, "add", func(ctx context.Context, p struct {
		X int `json:"x"`
		Y int `json:"y"`
	}) (int, error) {
		return p.X + p.Y, nil
	})
	_, url := startServer(t, m)
	wc := rawDial(t, url, "jsonrpc2.0")
	if wc.Subprotocol() != "jsonrpc2.0" {
		t.Fatal(wc.Subprotocol())
	}
	cases := [][2]string{
		{`{"jsonrpc": "2.0", "id": "9f1c0d2ab7e84e52a1f0c3d4e5f60718", "method": "add", "params": {"x": 4, "y": 5}}`,
			`{"jsonrpc":"2.0","id":"9f1c0d2ab7e84e52a1f0c3d4e5f60718","result":9}`},
		{`{"jsonrpc":"2.0","id":7,"method":"add","params":[1,2]}`, `{"jsonrpc":"2.0","id":7,"result":3}`},
		{`{"jsonrpc":"2.0","id":"x","method":"nope"}`, `{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method 'nope' not found"},"id":"x"}`},
		{`[{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}]`, `[{"jsonrpc":"2.0","id":1,"result":3}]`}, // a batch (EXTENSIONS.md)
		{`not json`, `{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}`},
		{`{"jsonrpc":"2.0","id":"r1"}`, `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Unknown message format: {'jsonrpc': '2.0', 'id': 'r1'}"},"id":"r1"}`},
		{`{"jsonrpc":"2.0","id":"p","method":"ping"}`, `{"jsonrpc":"2.0","id":"p","result":"pong"}`},
		{`{"jsonrpc":"2.0","id":"q","method":"add","params":{"x":1}}`,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid parameters: add() missing 1 required positional argument: 'y'","data":{"method":"add","type":"TypeError"}},"id":"q"}`},
		{`{"request":{"method":"_ping_","arguments":{},"call_id":"x"},"response":null}`,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Unknown message format: {'request': {'method': '_ping_', 'arguments': {}, 'call_id': 'x'}, 'response': None}"},"id":null}`},
	}
	for _, c := range cases {
		if got := rawRoundTrip(t, wc, c[0]); got != c[1] {
			t.Errorf("sent %s\n got  %s\n want %s", c[0], got, c[1])
		}
	}
	// A notification gets nothing: the next thing read is the answer to the next request.
	if err := wc.Write(ctxT(t, 5*time.Second), websocket.MessageText, []byte(`{"jsonrpc":"2.0","method":"add","params":{"x":1,"y":1}}`)); err != nil {
		t.Fatal(err)
	}
	if got := rawRoundTrip(t, wc, `{"jsonrpc":"2.0","id":"after","method":"ping"}`); got != `{"jsonrpc":"2.0","id":"after","result":"pong"}` {
		t.Fatalf("notification was answered: %s", got)
	}
}

func TestLiveMessageSizeLimit(t *testing.T) { // C217: limit-1, limit pass; limit+1 closes (1009), no reply
	const limit = 4096
	m := NewMethods()
	m.Handle("sink", func(ctx context.Context, _ json.RawMessage) (any, error) { return "ok", nil })
	var disc atomic.Int32
	_, url := startServer(t, m, WithMaxMessageSize(limit), WithOnDisconnect(func(*Channel, error) { disc.Add(1) }))
	frame := func(n int) string {
		head := `{"jsonrpc":"2.0","id":"s","method":"sink","params":{"p":"`
		tail := `"}}`
		return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
	}
	wc := rawDial(t, url, "jsonrpc2.0")
	for _, n := range []int{limit - 1, limit} {
		if got := rawRoundTrip(t, wc, frame(n)); got != `{"jsonrpc":"2.0","id":"s","result":"ok"}` {
			t.Fatalf("size %d: %s", n, got)
		}
	}
	if err := wc.Write(ctxT(t, 5*time.Second), websocket.MessageText, []byte(frame(limit+1))); err != nil {
		t.Fatal(err)
	}
	_, _, err := wc.Read(ctxT(t, 5*time.Second))
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("want close 1009, got %v", err)
	}
	// Oversize outgoing is refused locally.
	c := dialTest(t, url, WithMaxMessageSize(limit))
	err = c.Call(ctxT(t, 5*time.Second), "sink", map[string]string{"p": strings.Repeat("y", limit)}, nil)
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Fatal(err)
	}
}

func TestLiveIdleTimeout(t *testing.T) { // C215
	_, url := startServer(t, utilityMethods(), func(c *Config) { c.IdleTimeout = time.Second })
	// Protocol pings do not count as messages: the session ends.
	quiet := dialTest(t, url, WithKeepalive(100*time.Millisecond, 3))
	// RPC keepalive does: the session stays.
	busy := dialTest(t, url, WithKeepalive(100*time.Millisecond, 3), func(c *Config) { c.Keepalive.RPCPing = true })
	select {
	case <-quiet.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("idle session not ended")
	}
	if busy.Channel() == nil {
		t.Fatal("RPC keepalive did not keep the session")
	}
}

func TestLiveSyncChannelID(t *testing.T) { // C218
	got := make(chan string, 1)
	_, url := startServer(t, utilityMethods(), WithSyncChannelID(true), WithOnConnect(func(ctx context.Context, ch *Channel) {
		id, err := ch.RemoteID(ctx)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- id
	}))
	c := dialTest(t, url)
	select {
	case id := <-got:
		if id != c.Channel().ID() {
			t.Fatalf("server learned %q, client is %q", id, c.Channel().ID())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no sync")
	}
	// A peer that answers the handshake with an error never syncs.
	_, url2 := startServer(t, nil, WithSyncChannelID(true), WithOnConnect(func(ctx context.Context, ch *Channel) {
		_, err := ch.RemoteID(ctx)
		if errors.Is(err, ErrRemoteValue) {
			got <- "remote-value"
		} else {
			got <- "other: " + errString(err)
		}
	}))
	wc := rawDial(t, url2, "jsonrpc2.0")
	_, b, err := wc.Read(ctxT(t, 5*time.Second))
	if err != nil || !strings.Contains(string(b), "_get_channel_id_") {
		t.Fatal(err, string(b))
	}
	var req struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(b, &req)
	_ = wc.Write(ctxT(t, time.Second), websocket.MessageText, []byte(`{"jsonrpc":"2.0","id":"`+req.ID+`","error":{"code":-32601,"message":"no"}}`))
	if v := <-got; v != "remote-value" {
		t.Fatal(v)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// restartable serves a Server on a fixed loopback port that can be stopped and restarted.
type restartable struct {
	t    *testing.T
	addr string
	m    *Methods
	opts []Option
	mu   sync.Mutex
	srv  *Server
	hs   *http.Server
	done chan struct{}
}

func newRestartable(t *testing.T, m *Methods, opts ...Option) *restartable {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &restartable{t: t, addr: l.Addr().String(), m: m, opts: opts}
	r.serve(l)
	t.Cleanup(r.stop)
	return r
}

func (r *restartable) url() string { return "ws://" + r.addr + "/ws" }

func (r *restartable) serve(l net.Listener) {
	srv, err := NewServer(r.m, append([]Option{WithLogger(quietLogger)}, r.opts...)...)
	if err != nil {
		r.t.Fatal(err)
	}
	hs := &http.Server{Handler: srv}
	done := make(chan struct{})
	go func() { _ = hs.Serve(l); close(done) }()
	r.mu.Lock()
	r.srv, r.hs, r.done = srv, hs, done
	r.mu.Unlock()
}

func (r *restartable) stop() {
	r.mu.Lock()
	srv, hs, done := r.srv, r.hs, r.done
	r.srv = nil
	r.mu.Unlock()
	if srv == nil {
		return
	}
	_ = hs.Close()
	_ = srv.Close()
	<-done
}

func (r *restartable) start() {
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if l, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	r.serve(l)
}

func TestLiveReconnect(t *testing.T) { // C216, BEHAVIOUR §9 with GO-REC
	r := newRestartable(t, utilityMethods())
	var connects, disconnects atomic.Int32
	var reconnects atomic.Int32
	c := dialTest(t, r.url(), WithReconnect(50*time.Millisecond, 20),
		WithOnConnect(func(context.Context, *Channel) { connects.Add(1) }),
		WithOnDisconnect(func(*Channel, error) { disconnects.Add(1) }),
		func(c *Config) { c.OnReconnect = func(int, time.Duration, error) { reconnects.Add(1) } })
	first := c.Channel().ID()
	// A call in flight when the link drops fails promptly with ErrConnectionLost.
	cm := c.Channel()
	p, err := cm.Go(context.Background(), "call_me_back", map[string]any{"method_name": "nothing"})
	_ = p
	if err != nil {
		t.Fatal(err)
	}
	blocked := make(chan error, 1)
	go func() {
		// echo never answers because the server is gone by then; use a method that waits
		blocked <- cm.Call(ctxT(t, 10*time.Second), "nonexistent_wait", nil, nil)
	}()
	r.stop()
	r.start()
	// Calls made while reconnecting wait for the new connection.
	var s string
	if err := c.Call(ctxT(t, 10*time.Second), "echo", map[string]string{"text": "back"}, &s); err != nil || s != "back" {
		t.Fatal(err, s)
	}
	if c.Channel().ID() == first {
		t.Fatal("reconnect kept the channel id")
	}
	// It ends with: the peer's answer, ErrConnectionLost (sent, then the link dropped) or
	// ErrClosed (the old channel closed before it was sent).
	if err := <-blocked; err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrMethodNotFound) {
		t.Fatalf("in-flight call: %v", err)
	}
	// The connect hook runs after the new connection has become current: the call above
	// may have gone through before it.
	for deadline := time.Now().Add(5 * time.Second); connects.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if connects.Load() != 2 || disconnects.Load() != 1 || reconnects.Load() < 1 {
		t.Fatalf("connects %d disconnects %d reconnects %d", connects.Load(), disconnects.Load(), reconnects.Load())
	}
}

func TestLiveFailFast(t *testing.T) {
	r := newRestartable(t, utilityMethods())
	c := dialTest(t, r.url(), WithReconnect(time.Hour, 1), func(c *Config) { c.FailFast = true })
	ch := c.Channel()
	r.stop()
	<-ch.Done()
	time.Sleep(20 * time.Millisecond)
	if err := c.Call(ctxT(t, time.Second), "echo", map[string]string{"text": "x"}, nil); !errors.Is(err, ErrNotConnected) {
		t.Fatal(err)
	}
}

// closingServer answers every request with "pong" and closes the connection with code
// when it receives the notification close_now.
func closingServer(t *testing.T, code websocket.StatusCode, reason string) string {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wc, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"jsonrpc2.0"}})
		if err != nil {
			return
		}
		defer wc.CloseNow()
		for {
			_, b, err := wc.Read(r.Context())
			if err != nil {
				return
			}
			var req struct {
				ID     *string `json:"id"`
				Method string  `json:"method"`
			}
			_ = json.Unmarshal(b, &req)
			if req.Method == "close_now" {
				_ = wc.Close(code, reason)
				return
			}
			if req.ID != nil {
				_ = wc.Write(r.Context(), websocket.MessageText, []byte(`{"jsonrpc":"2.0","id":"`+*req.ID+`","result":"pong"}`))
			}
		}
	}))
	t.Cleanup(hs.Close)
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

func TestLiveCloseCodes(t *testing.T) { // C14-C19
	if !IsRetryableCloseCode(1012) || IsRetryableCloseCode(1002) { // C15, C18
		t.Fatal("retryable set")
	}
	for _, code := range []int{1002, 1003, 1007, 1008, 1011} {
		if IsRetryableCloseCode(code) {
			t.Fatal(code)
		}
	}
	// C16: a non-retryable code closes the client for good, even with reconnect on.
	var reconnects atomic.Int32
	onReconnect := func(c *Config) { c.OnReconnect = func(int, time.Duration, error) { reconnects.Add(1) } }
	c := dialTest(t, closingServer(t, websocket.StatusProtocolError, "Protocol violation"), WithReconnect(10*time.Millisecond, 5), onReconnect)
	_ = c.Notify(ctxT(t, time.Second), "close_now", nil)
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("client did not close")
	}
	if CloseCode(c.Err()) != 1002 || reconnects.Load() != 0 {
		t.Fatalf("err %v reconnects %d", c.Err(), reconnects.Load())
	}
	// C14, C17: 1012 is recorded on the old channel; the client reconnects and the new
	// channel starts with no recorded close status.
	c2 := dialTest(t, closingServer(t, websocket.StatusServiceRestart, "Service Restart"), WithReconnect(10*time.Millisecond, 5), onReconnect)
	old := c2.Channel()
	_ = c2.Notify(ctxT(t, time.Second), "close_now", nil)
	<-old.Done()
	if code, reason := old.CloseStatus(); code != 1012 || reason != "Service Restart" {
		t.Fatalf("close status %d %q", code, reason)
	}
	if err := c2.Call(ctxT(t, 5*time.Second), "ping", nil, nil); err != nil {
		t.Fatal(err)
	}
	if code, _ := c2.Channel().CloseStatus(); code != -1 || reconnects.Load() != 1 {
		t.Fatalf("new channel status %d, reconnects %d", code, reconnects.Load())
	}
}

func TestClientCloseIdempotent(t *testing.T) { // C19
	_, url := startServer(t, utilityMethods())
	c := dialTest(t, url)
	for i := 0; i < 3; i++ {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Call(ctxT(t, time.Second), "ping", nil, nil); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}
