//go:build !js

package wsrpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// listenHeaderTimeout is how long Listen's HTTP server waits for a request's headers: a
// client that opens a connection and never finishes its upgrade request is dropped then.
var listenHeaderTimeout = 5 * time.Second

// Listener serves one Server on a TCP address and a URL path; see Listen.
type Listener struct {
	srv  *Server
	ln   net.Listener
	hs   *http.Server
	path string
	done chan struct{}
	once sync.Once
}

// Listen binds addr ("host:port"; port 0 picks a free one) and serves srv at path (default
// "/ws") until Close. It is for programs without an HTTP server of their own (the C and
// Python bindings); others mount the Server on their own mux.
func Listen(addr, path string, srv *Server) (*Listener, error) {
	if srv == nil {
		return nil, wrap(ErrInvalidArgument, "nil server")
	}
	if path == "" {
		path = "/ws"
	}
	if !strings.HasPrefix(path, "/") {
		return nil, wrap(ErrInvalidArgument, "path %q must start with /", path)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("wsrpc: listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(path, srv)
	l := &Listener{srv: srv, ln: ln, path: path, done: make(chan struct{}),
		hs: &http.Server{Handler: mux, ReadHeaderTimeout: listenHeaderTimeout}}
	go func() {
		defer close(l.done)
		if err := l.hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			srv.cfg.Logger.Error("wsrpc: serve", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return l, nil
}

// Addr returns the bound address (with the actual port).
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// URL returns the ws:// URL clients connect to.
func (l *Listener) URL() string { return "ws://" + l.ln.Addr().String() + l.path }

// Close stops accepting connections, closes the Server (every open connection, status
// 1001) and waits until their handlers are done. It is idempotent.
func (l *Listener) Close() error {
	l.once.Do(func() {
		_ = l.hs.Close() // the listener and any not-yet-upgraded connections
		_ = l.srv.Close()
		<-l.done
	})
	return nil
}

// Shutdown stops accepting connections and drains the Server gracefully (see
// Server.Shutdown), then closes the listener's HTTP server.
func (l *Listener) Shutdown(ctx context.Context) error {
	_ = l.ln.Close()
	err := l.srv.Shutdown(ctx)
	_ = l.Close()
	return err
}

// ChannelByID returns the open connection whose id (Channel.ID) is id, or nil.
func (s *Server) ChannelByID(id string) *Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.chans {
		if ch.id == id {
			return ch
		}
	}
	return nil
}
