//go:build !js

package wsrpc

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Server is an http.Handler that accepts WebSocket connections and serves JSON-RPC on each
// through a Channel. Mount it on any mux and path. Its methods are safe for concurrent use.
type Server struct {
	methods *Methods
	cfg     *Config

	mu     sync.Mutex
	chans  map[*Channel]struct{}
	closed bool
	wg     sync.WaitGroup
	// Stats (guarded by mu): connections accepted, and the counters of those that ended.
	accepted uint64
	ended    Stats
}

// NewServer returns a Server exposing methods (nil for only the built-ins).
func NewServer(methods *Methods, opts ...Option) (*Server, error) {
	cfg, err := buildConfig(opts)
	if err != nil {
		return nil, err
	}
	if methods == nil {
		methods = NewMethods()
	}
	return &Server{methods: methods, cfg: cfg, chans: map[*Channel]struct{}{}}, nil
}

// Methods returns the server's method set.
func (s *Server) Methods() *Methods { return s.methods }

// ServeHTTP authenticates and upgrades the request and starts serving the connection; it
// returns once the connection is running (Close waits for every connection to end).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	var values map[string]any
	if auth := s.cfg.Authenticate; auth != nil {
		v, err := auth(r)
		if err != nil {
			status := http.StatusForbidden
			var he *HTTPError
			if errors.As(err, &he) && he.Status != 0 {
				status = he.Status
			}
			s.cfg.Logger.Info("wsrpc: connection refused by Authenticate", "remote", r.RemoteAddr, "status", status, "err", err)
			http.Error(w, http.StatusText(status), status)
			return
		}
		values = v
	}
	hw := &hijackRecorder{ResponseWriter: w, writeTimeout: s.cfg.writeTimeout()}
	wc, err := websocket.Accept(hw, r, &websocket.AcceptOptions{
		Subprotocols:   s.cfg.negotiated(),
		OriginPatterns: s.cfg.OriginPatterns,
	})
	if err != nil {
		s.cfg.Logger.Info("wsrpc: upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	wc.SetReadLimit(s.cfg.MaxMessageSize)
	var transport conn = wc
	if hw.conn != nil {
		transport = serverConn{Conn: wc, corked: corked{hw.conn}}
	}
	ch := newChannel(transport, s.cfg, s.methods, wc.Subprotocol(), values)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = wc.Close(websocket.StatusGoingAway, "server closed")
		return
	}
	s.chans[ch] = struct{}{}
	s.accepted++
	s.wg.Add(1) // until the connection's goroutines are done (see below)
	s.mu.Unlock()

	// Every handlers.Add happens before the reading starts: once it has, the connection
	// may end (and Channel.wait wait on handlers) at any moment.
	ch.startKeepalive()
	if s.cfg.SyncChannelID {
		ch.handlers.Add(1)
		go ch.syncRemoteID()
	}
	if s.cfg.OnConnect != nil {
		// Runs beside the read loop, so the hook may call the client and wait (GO-REC §2).
		ch.handlers.Add(1)
		go func() {
			defer ch.handlers.Done()
			ch.runConnectHook()
		}()
	}
	ch.start()
	// The hijacked connection no longer needs this goroutine (net/http's, with its grown
	// stack and buffers): return, and let a small one wait for the end of the connection.
	go func() {
		defer s.wg.Done()
		<-ch.readDone
		ch.wait()
		s.ended1(ch)
	}()
}

// ended1 forgets a connection that ended and keeps its counters. It is a function of its
// own, never inlined, so that the goroutine above, which waits for the whole life of the
// connection, starts on a small stack (with the Stats values in its frame it needed a
// second stack page per idle connection).
//
//go:noinline
func (s *Server) ended1(ch *Channel) {
	s.mu.Lock()
	delete(s.chans, ch)
	s.ended.Add(ch.Stats().totals())
	s.mu.Unlock()
}

// Stats returns the server's counters since NewServer: those of its connections, open
// and ended.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.ended
	for ch := range s.chans {
		live := ch.Stats()
		live.ConnectionsTotal = 0
		st.Add(live)
	}
	st.ConnectionsTotal = s.accepted
	return st
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Channels returns the connections open now.
func (s *Server) Channels() []*Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Channel, 0, len(s.chans))
	for ch := range s.chans {
		out = append(out, ch)
	}
	return out
}

// Close refuses new connections, closes every open one (status 1001) and waits until
// their handlers are done.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	chans := make([]*Channel, 0, len(s.chans))
	for ch := range s.chans {
		chans = append(chans, ch)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, ch := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch.shutdown(ErrClosed, websocket.StatusGoingAway, "server closing", true)
		}()
	}
	wg.Wait()
	s.wg.Wait()
	return nil
}

// Shutdown drains the server gracefully: it refuses new connections at once, waits until
// no request or notification is being handled on any connection (requests that arrive
// meanwhile are served), then closes every connection with status 1001 (clients
// reconnect elsewhere) and waits for them to end. If ctx ends first, it closes them all
// the same and returns ctx's error. Close is Shutdown without the drain.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	var err error
	for busy := true; busy; {
		busy = false
		for _, ch := range s.Channels() {
			busy = busy || ch.running.Load() > 0
		}
		if !busy {
			break
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			err = ctx.Err()
			busy = false
		}
	}
	_ = s.Close()
	return err
}

// hijackRecorder keeps the connection websocket.Accept hijacks, so that a channel can drop
// it at once even while the library waits for a close handshake (a peer trickling a frame
// holds the library's read lock for up to 5 s).
type hijackRecorder struct {
	http.ResponseWriter
	writeTimeout time.Duration
	conn         *corkConn
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return c, brw, err
	}
	if err := brw.Writer.Flush(); err != nil {
		return nil, nil, err
	}
	cc := newCorkConn(c, h.writeTimeout)
	h.conn = cc
	return cc, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(cc, brw.Writer.Size())), nil
}

func (h *hijackRecorder) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// serverConn is an accepted connection whose CloseNow also closes the TCP connection.
type serverConn struct {
	*websocket.Conn
	corked
}

func (s serverConn) CloseNow() error {
	_ = s.cc.Close()
	return s.Conn.CloseNow()
}
