//go:build !js

package wsrpc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeConn is an in-memory transport: the test plays the peer.
type fakeConn struct {
	in      chan []byte // messages the channel will read
	out     chan []byte // messages the channel wrote
	closed  chan struct{}
	once    sync.Once
	mu      sync.Mutex
	block   chan struct{} // when non-nil, writes wait until it is closed
	failW   error         // when set, writes fail with it
	closes  int
	closeCd websocket.StatusCode
}

func newFakeConn() *fakeConn {
	return &fakeConn{in: make(chan []byte, 1024), out: make(chan []byte, 100000), closed: make(chan struct{})}
}

func (f *fakeConn) Read(ctx context.Context) (websocket.MessageType, []byte, error) {
	select {
	case b := <-f.in:
		return websocket.MessageText, b, nil
	case <-f.closed:
		return 0, nil, errors.New("fake: closed")
	}
}

func (f *fakeConn) Write(ctx context.Context, typ websocket.MessageType, p []byte) error {
	f.mu.Lock()
	block, fail := f.block, f.failW
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-f.closed:
			return errors.New("fake: closed")
		}
	}
	if fail != nil {
		return fail
	}
	select {
	case <-f.closed:
		return errors.New("fake: closed")
	default:
	}
	f.out <- append([]byte(nil), p...)
	return nil
}

func (f *fakeConn) Close(code websocket.StatusCode, reason string) error {
	f.mu.Lock()
	f.closes++
	f.closeCd = code
	f.mu.Unlock()
	return f.CloseNow()
}

func (f *fakeConn) CloseNow() error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

// peerSend makes the channel receive raw.
func (f *fakeConn) peerSend(raw string) { f.in <- []byte(raw) }

// next returns the next message the channel wrote, decoded.
func (f *fakeConn) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case b := <-f.out:
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("channel wrote invalid JSON %s: %v", b, err)
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for a message from the channel")
		return nil
	}
}

// none asserts the channel writes nothing for d.
func (f *fakeConn) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case b := <-f.out:
		t.Fatalf("unexpected message %s", b)
	case <-time.After(d):
	}
}

func testConfig(t *testing.T, opts ...Option) *Config {
	t.Helper()
	cfg, err := buildConfig(append([]Option{WithLogger(quietLogger)}, opts...))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// newFakeChannel runs a Channel over a fakeConn; it is closed when the test ends.
func newFakeChannel(t *testing.T, m *Methods, opts ...Option) (*Channel, *fakeConn) {
	t.Helper()
	f := newFakeConn()
	if m == nil {
		m = NewMethods()
	}
	ch := newChannel(f, testConfig(t, opts...), m, "", nil)
	ch.start()
	t.Cleanup(func() { _ = ch.Close() })
	return ch, f
}

// errCode returns the error.code of a decoded reply, or 0.
func errCode(m map[string]any) int {
	e, ok := m["error"].(map[string]any)
	if !ok {
		return 0
	}
	n, _ := e["code"].(json.Number).Int64()
	return int(n)
}

func errMessage(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// startServer serves methods on an httptest server and returns its ws:// URL.
func startServer(t *testing.T, m *Methods, opts ...Option) (*Server, string) {
	t.Helper()
	srv, err := NewServer(m, append([]Option{WithLogger(quietLogger)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	return srv, "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
}

func dialTest(t *testing.T, url string, opts ...Option) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, url, append([]Option{WithLogger(quietLogger)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// protoMethods is CONFORMANCE.md's "Proto" method set.
type addParams struct {
	A int `json:"a"`
	B int `json:"b"`
}

func protoMethods() (*Methods, *int) {
	m := NewMethods()
	noResp := new(int)
	var mu sync.Mutex
	Register(m, "add", func(ctx context.Context, p addParams) (int, error) { return p.A + p.B, nil })
	Register(m, "echo", func(ctx context.Context, p struct {
		Message string `json:"message"`
	}) (string, error) {
		return p.Message, nil
	})
	Register(m, "no_params_method", func(ctx context.Context, _ struct{}) (string, error) { return "success", nil })
	Register(m, "method_with_exception", func(ctx context.Context, _ struct{}) (any, error) {
		return nil, errors.New("Method failed")
	})
	Register(m, "method_returning_noresponse", func(ctx context.Context, _ struct{}) (any, error) {
		mu.Lock()
		*noResp++
		mu.Unlock()
		return nil, ErrNoResponse
	})
	Register(m, "method_with_panic", func(ctx context.Context, _ struct{}) (any, error) { panic("kaboom") })
	return m, noResp
}
