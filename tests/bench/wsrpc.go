package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type concatParams struct {
	A string `json:"a"`
	B string `json:"b"`
}

// sinkCounter counts the notifications received while its gate measures.
type sinkCounter struct {
	count atomic.Int64
	g     atomic.Pointer[gate]
}

func (s *sinkCounter) arm(g *gate) { s.count.Store(0); s.g.Store(g) }

func (s *sinkCounter) hit() {
	if g := s.g.Load(); g != nil && g.measuring() {
		s.count.Add(1)
	}
}

// sleepParams: how long the sleep method waits (a database call, say).
type sleepParams struct {
	Ms int `json:"ms"`
}

// benchMethods: concat; echo (returns its params as they came); sleep (waits params.ms
// milliseconds, then answers "done"); sink (a notification target counting while measuring).
func benchMethods(sink *sinkCounter) *wsrpc.Methods {
	m := wsrpc.NewMethods()
	wsrpc.Register(m, "concat", func(_ context.Context, p concatParams) (string, error) { return p.A + p.B, nil })
	m.Handle("echo", func(_ context.Context, p json.RawMessage) (any, error) { return p, nil })
	wsrpc.Register(m, "sleep", func(_ context.Context, p sleepParams) (string, error) {
		time.Sleep(time.Duration(p.Ms) * time.Millisecond)
		return "done", nil
	})
	wsrpc.Register(m, "sink", func(_ context.Context, p concatParams) (any, error) {
		sink.hit()
		return nil, nil
	})
	return m
}

// loadLimits lifts the default in-flight limits (1000) so 1024 calls fit.
func loadLimits(c *wsrpc.Config) {
	c.MaxPendingRequests = 1 << 16
	c.MaxSendQueue = -1
	c.MaxConcurrentRequests = -1
}

// wsServer is a wsrpc server on loopback with the benchmark methods.
type wsServer struct {
	*httpServer
	srv  *wsrpc.Server
	sink sinkCounter
}

func newWSServer(opts ...wsrpc.Option) (*wsServer, error) { return newWSServerOn(nil, opts...) }

// newWSServerOn is newWSServer over TLS with tc (nil: without).
func newWSServerOn(tc *tls.Config, opts ...wsrpc.Option) (*wsServer, error) {
	s := &wsServer{}
	srv, err := wsrpc.NewServer(benchMethods(&s.sink), append([]wsrpc.Option{wsrpc.WithLogger(quiet)}, opts...)...)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	hs, err := serveHTTPOn(mux, tc)
	if err != nil {
		return nil, err
	}
	s.httpServer, s.srv = hs, srv
	return s, nil
}

func (s *wsServer) Close() {
	_ = s.srv.Close()
	s.httpServer.Close()
}

// wsClients are perConn goroutines calling concat (or call, if set) on each of len(cs)
// wsrpc clients.
type wsClients struct {
	cs       []*wsrpc.Client
	perConn  int
	deadline time.Duration // per call, if set (as most applications call)
	call     func(ctx context.Context, c *wsrpc.Client) error
}

func newWSClients(url string, conns, perConn int, opts ...wsrpc.Option) (*wsClients, error) {
	w := &wsClients{perConn: perConn}
	for range conns {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := wsrpc.Dial(ctx, url, append([]wsrpc.Option{wsrpc.WithLogger(quiet), loadLimits}, opts...)...)
		cancel()
		if err != nil {
			w.close()
			return nil, err
		}
		w.cs = append(w.cs, c)
	}
	return w, nil
}

func (w *wsClients) close() {
	for _, c := range w.cs {
		_ = c.Close()
	}
}

func (w *wsClients) start(g *gate) func() (int64, []time.Duration, error) {
	params := concatParams{A: "hello", B: " world"}
	return workers(g, len(w.cs)*w.perConn, func(i int) error {
		var out string
		// By default no per-call deadline (it would add the context's allocations to the
		// count); a stuck load is caught by the measurement's drain timeout.
		ctx, cancel := context.Background(), context.CancelFunc(nil)
		if w.deadline > 0 {
			ctx, cancel = context.WithTimeout(ctx, w.deadline)
		}
		var err error
		if w.call != nil {
			err = w.call(ctx, w.cs[i%len(w.cs)])
		} else {
			err = w.cs[i%len(w.cs)].Call(ctx, "concat", params, &out)
		}
		if cancel != nil {
			cancel()
		}
		if err != nil || w.call != nil {
			return err
		}
		if out != "hello world" {
			return fmt.Errorf("concat answered %q", out)
		}
		return nil
	})
}

func (w *wsClients) notify(g *gate, senders int) func() (int64, []time.Duration, error) {
	params := concatParams{A: "hello", B: " world"}
	return workers(g, len(w.cs)*senders, func(i int) error {
		return w.cs[i%len(w.cs)].Notify(context.Background(), "sink", params)
	})
}
