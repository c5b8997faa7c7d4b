//go:build !js

package wsrpc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// Benchmarks run over loopback with one connection. Each reports calls/s; compare
// BenchmarkCall with BenchmarkRawEcho (the same bytes echoed by coder/websocket, the
// ceiling for this stack) at the same number of calls in flight.

var inflights = []int{1, 16, 256, 1024}

type concatParams struct {
	A string `json:"a"`
	B string `json:"b"`
}

func benchServer(b *testing.B, opts ...Option) string {
	m := NewMethods()
	Register(m, "concat", func(ctx context.Context, p concatParams) (string, error) { return p.A + p.B, nil })
	srv, err := NewServer(m, append([]Option{WithLogger(quietLogger), func(c *Config) { c.MaxConcurrentRequests = -1; c.MaxSendQueue = -1 }}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	b.Cleanup(func() { srv.Close(); hs.Close() })
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

func BenchmarkCall(b *testing.B) {
	for _, n := range inflights {
		b.Run(fmt.Sprintf("inflight=%d", n), func(b *testing.B) {
			url := benchServer(b)
			c, err := Dial(context.Background(), url, WithLogger(quietLogger), func(c *Config) {
				c.MaxPendingRequests = 1 << 20
				c.MaxSendQueue = -1
			})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			params := concatParams{A: "hello", B: " world"}
			b.ReportAllocs()
			b.ResetTimer()
			runInflight(b, n, func() {
				var out string
				if err := c.Call(context.Background(), "concat", params, &out); err != nil || out != "hello world" {
					b.Error(err, out)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}

// BenchmarkCallVariants is BenchmarkCall at inflight=1 with the extensions off (the
// connection a Python peer gets: no cancellation tracking) and with an interceptor on
// each side (what they cost when installed; none installed costs nothing).
func BenchmarkCallVariants(b *testing.B) {
	pass := func(ctx context.Context, req *IncomingRequest, next IncomingHandler) (json.RawMessage, error) {
		return next(ctx, req)
	}
	passOut := func(ctx context.Context, call *OutgoingCall, next OutgoingInvoker) error { return next(ctx, call) }
	noExt := func(c *Config) { c.NoExtensions = true }
	for _, v := range []struct {
		name   string
		server []Option
		client []Option
	}{
		{"no_extensions", nil, []Option{noExt}},
		{"interceptors", []Option{WithIncomingInterceptor(pass)}, []Option{WithOutgoingInterceptor(passOut)}},
		{"no_extensions+interceptors", []Option{WithIncomingInterceptor(pass)}, []Option{noExt, WithOutgoingInterceptor(passOut)}},
	} {
		b.Run(v.name, func(b *testing.B) {
			url := benchServer(b, v.server...)
			c, err := Dial(context.Background(), url, append([]Option{WithLogger(quietLogger)}, v.client...)...)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			params := concatParams{A: "hello", B: " world"}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var out string
				if err := c.Call(context.Background(), "concat", params, &out); err != nil || out != "hello world" {
					b.Fatal(err, out)
				}
			}
		})
	}
}

// runInflight runs b.N ops with n goroutines.
func runInflight(b *testing.B, n int, op func()) {
	var wg sync.WaitGroup
	ch := make(chan struct{}, b.N)
	for i := 0; i < b.N; i++ {
		ch <- struct{}{}
	}
	close(ch)
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range ch {
				op()
			}
		}()
	}
	wg.Wait()
}

func BenchmarkRawEcho(b *testing.B) {
	req := []byte(`{"jsonrpc":"2.0","id":"9f1c0d2ab7e84e52a1f0c3d4e5f60718","method":"concat","params":{"a":"hello","b":" world"}}`)
	for _, n := range inflights {
		b.Run(fmt.Sprintf("inflight=%d", n), func(b *testing.B) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				wc, err := websocket.Accept(w, r, nil)
				if err != nil {
					return
				}
				defer wc.CloseNow()
				for {
					typ, p, err := wc.Read(context.Background())
					if err != nil {
						return
					}
					if err := wc.Write(context.Background(), typ, p); err != nil {
						return
					}
				}
			}))
			defer hs.Close()
			wc, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer wc.CloseNow()
			sem := make(chan struct{}, n)
			done := make(chan struct{})
			b.ReportAllocs()
			b.ResetTimer()
			go func() {
				for i := 0; i < b.N; i++ {
					if _, _, err := wc.Read(context.Background()); err != nil {
						b.Error(err)
						break
					}
					<-sem
				}
				close(done)
			}()
			var wg sync.WaitGroup
			per := make(chan struct{}, b.N)
			for i := 0; i < b.N; i++ {
				per <- struct{}{}
			}
			close(per)
			for g := 0; g < n; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range per {
						sem <- struct{}{}
						if err := wc.Write(context.Background(), websocket.MessageText, req); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			<-done
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}

// pipeConn is one end of an in-memory message pipe: BenchmarkPipeCall measures the CPU
// cost of wsrpc itself (encoding, dispatch, matching), without sockets.
type pipeConn struct {
	in, out chan []byte
	done    chan struct{}
	once    *sync.Once
}

func newPipe() (*pipeConn, *pipeConn) {
	a, b := make(chan []byte, 4096), make(chan []byte, 4096)
	done, once := make(chan struct{}), &sync.Once{}
	return &pipeConn{in: a, out: b, done: done, once: once}, &pipeConn{in: b, out: a, done: done, once: once}
}

func (p *pipeConn) Read(ctx context.Context) (websocket.MessageType, []byte, error) {
	select {
	case b := <-p.in:
		return websocket.MessageText, b, nil
	case <-p.done:
		return 0, nil, fmt.Errorf("pipe closed")
	}
}

func (p *pipeConn) Write(ctx context.Context, typ websocket.MessageType, b []byte) error {
	select {
	case p.out <- append([]byte(nil), b...):
		return nil
	case <-p.done:
		return fmt.Errorf("pipe closed")
	}
}

func (p *pipeConn) Close(websocket.StatusCode, string) error { return p.CloseNow() }
func (p *pipeConn) CloseNow() error                          { p.once.Do(func() { close(p.done) }); return nil }

func BenchmarkPipeCall(b *testing.B) {
	m := NewMethods()
	Register(m, "concat", func(ctx context.Context, p concatParams) (string, error) { return p.A + p.B, nil })
	cfg, _ := buildConfig([]Option{WithLogger(quietLogger), func(c *Config) { c.MaxPendingRequests = 1 << 20 }})
	x, y := newPipe()
	server := newChannel(x, cfg, m, "", nil)
	client := newChannel(y, cfg, NewMethods(), "", nil)
	server.start()
	client.start()
	defer server.Close()
	defer client.Close()
	params := concatParams{A: "hello", B: " world"}
	b.ReportAllocs()
	b.ResetTimer()
	runInflight(b, 16, func() {
		var out string
		if err := client.Call(context.Background(), "concat", params, &out); err != nil {
			b.Error(err)
		}
	})
}
