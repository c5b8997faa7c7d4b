package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// The workload: concat("hello", " world") with a 32-hex-digit id, as wsrpc sends it.
const (
	reqPrefix = `{"jsonrpc":"2.0","id":"`
	reqSuffix = `","method":"concat","params":{"a":"hello","b":" world"}}`
	idLen     = 32
	notifyMsg = `{"jsonrpc":"2.0","method":"sink","params":{"a":"hello","b":" world"}}`
	subproto  = "jsonrpc2.0"
)

var (
	idKey  = []byte(`"id":"`)
	answer = []byte(`"hello world"`)
	echoed = []byte(`"method":"concat"`)
)

// stopSlot is the slot number of the sentinel request that ends a generator's reader.
const stopSlot = 0xffffffff

// maxRead is the read limit of the raw endpoints (the large-message rows send 4 MiB).
const maxRead = 64 << 20

// A workload is what the raw generator sends: reqPrefix, a 32-hex-digit id, then suffix;
// check tells a right answer (the server's result, or the echo of the request).
type workload struct {
	suffix string
	check  func(p []byte) bool
}

// concatWork is concat("hello", " world"), the workload of sections 1, 6 and 8.
var concatWork = workload{reqSuffix, func(p []byte) bool {
	return bytes.Contains(p, answer) || bytes.Contains(p, echoed)
}}

// httpServer serves h on a loopback port and closes hijacked WebSocket connections too.
type httpServer struct {
	URL string
	hs  *http.Server
	ln  net.Listener

	mu    sync.Mutex
	conns map[*websocket.Conn]struct{}
	wg    sync.WaitGroup
}

func serveHTTP(h http.Handler) (*httpServer, error) { return serveHTTPOn(h, nil) }

// serveHTTPOn serves h over TLS with tc (a wss:// URL), or without TLS when tc is nil.
func serveHTTPOn(h http.Handler, tc *tls.Config) (*httpServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	scheme := "ws://"
	if tc != nil {
		ln, scheme = tls.NewListener(ln, tc), "wss://"
	}
	s := &httpServer{URL: scheme + ln.Addr().String() + "/ws", ln: ln, conns: map[*websocket.Conn]struct{}{}}
	s.hs = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.hs.Serve(ln) }()
	return s, nil
}

// serveWS serves a raw coder/websocket handler (one call per connection).
func serveWS(handle func(c *websocket.Conn)) (*httpServer, error) { return serveWSOn(handle, nil) }

// serveWSOn is serveWS over TLS with tc (nil: without).
func serveWSOn(handle func(c *websocket.Conn), tc *tls.Config) (*httpServer, error) {
	var s *httpServer
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{subproto}})
		if err != nil {
			return
		}
		c.SetReadLimit(maxRead)
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		defer func() {
			c.CloseNow()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			s.wg.Done()
		}()
		handle(c)
	})
	var err error
	s, err = serveHTTPOn(h, tc)
	return s, err
}

func (s *httpServer) Close() {
	_ = s.hs.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.CloseNow()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// rawEcho echoes every message: the ceiling for this stack.
func rawEcho(c *websocket.Conn) {
	ctx := context.Background()
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return
		}
		if c.Write(ctx, typ, p) != nil {
			return
		}
	}
}

// rawResponder answers each request with a result carrying the request's id (a server
// doing the least possible work, to measure a client on its own).
func rawResponder(c *websocket.Conn) {
	ctx := context.Background()
	var out []byte
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return
		}
		id := findID(p)
		if id == nil {
			continue // a notification
		}
		out = append(out[:0], `{"jsonrpc":"2.0","id":"`...)
		out = append(out, id...)
		out = append(out, `","result":"hello world"}`...)
		if c.Write(ctx, typ, out) != nil {
			return
		}
	}
}

// rawSink reads messages and counts them.
func rawSink(sink *sinkCounter) func(c *websocket.Conn) {
	return func(c *websocket.Conn) {
		ctx := context.Background()
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
			sink.hit()
		}
	}
}

// findID returns the string id of a JSON-RPC message, or nil.
func findID(p []byte) []byte {
	i := bytes.Index(p, idKey)
	if i < 0 {
		return nil
	}
	p = p[i+len(idKey):]
	j := bytes.IndexByte(p, '"')
	if j < 0 {
		return nil
	}
	return p[:j]
}

func dialRaw(ctx context.Context, url string) (*websocket.Conn, error) {
	return dialRawWith(ctx, url, nil)
}

// dialRawWith dials with hc (for wss://: a client trusting the bench's certificate), or
// the default client when hc is nil.
func dialRawWith(ctx context.Context, url string, hc *http.Client) (*websocket.Conn, error) {
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{subproto}, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(maxRead)
	return c, nil
}

// rawGen is the minimal load generator: pre-encoded requests, one writer and one reader
// goroutine per connection, perConn requests in flight on each; a response is matched to
// its request by the slot number in the first 8 hex digits of the id.
type rawGen struct {
	conns   []*websocket.Conn
	perConn int
	work    workload
}

func newRawGen(url string, conns, perConn int) (*rawGen, error) {
	return newRawGenWith(url, conns, perConn, concatWork, nil)
}

// newRawGenWith is newRawGen sending w's requests, dialing with hc (see dialRawWith).
func newRawGenWith(url string, conns, perConn int, w workload, hc *http.Client) (*rawGen, error) {
	r := &rawGen{perConn: perConn, work: w}
	for range conns {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		c, err := dialRawWith(ctx, url, hc)
		cancel()
		if err != nil {
			r.close()
			return nil, err
		}
		r.conns = append(r.conns, c)
	}
	return r, nil
}

func (r *rawGen) close() {
	for _, c := range r.conns {
		c.Close(websocket.StatusNormalClosure, "")
	}
}

const hexdig = "0123456789abcdef"

func putHex(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = hexdig[v&15]
		v >>= 4
	}
}

func newRequest(suffix string) []byte {
	b := make([]byte, 0, len(reqPrefix)+idLen+len(suffix))
	b = append(b, reqPrefix...)
	b = append(b, bytes.Repeat([]byte("0"), idLen)...)
	return append(b, suffix...)
}

func (r *rawGen) start(g *gate) func() (int64, []time.Duration, error) {
	var wg sync.WaitGroup
	var all lats
	var firstErr atomic.Pointer[error]
	fail := func(err error) { firstErr.CompareAndSwap(nil, &err) }
	for _, c := range r.conns {
		wg.Add(2)
		n := r.perConn
		ready := make(chan int, n)
		for i := range n {
			ready <- i
		}
		dead := make(chan struct{})
		sent := make([]atomic.Int64, n)
		base := time.Now()
		go func() { // writer
			defer wg.Done()
			ctx := context.Background()
			bufs := make([][]byte, n+1)
			for i := range bufs {
				bufs[i] = newRequest(r.work.suffix)
				slot := uint64(i)
				if i == n {
					slot = stopSlot
				}
				putHex(bufs[i][len(reqPrefix):len(reqPrefix)+8], slot)
			}
			var seq uint64
			for retired := 0; retired < n; {
				var slot int
				select {
				case slot = <-ready:
				case <-dead:
					return
				}
				if !g.take() {
					retired++
					continue
				}
				seq++
				b := bufs[slot]
				putHex(b[len(reqPrefix)+8:len(reqPrefix)+idLen], seq)
				sent[slot].Store(int64(time.Since(base)))
				if err := c.Write(ctx, websocket.MessageText, b); err != nil {
					fail(err)
					return
				}
			}
			if err := c.Write(ctx, websocket.MessageText, bufs[n]); err != nil {
				fail(err)
			}
		}()
		go func() { // reader
			defer wg.Done()
			defer close(dead)
			ctx := context.Background()
			var mine []time.Duration
			defer func() { all.add(mine) }()
			for {
				_, p, err := c.Read(ctx)
				if err != nil {
					fail(err)
					return
				}
				id := findID(p)
				if len(id) != idLen {
					fail(fmt.Errorf("unexpected message %q", p))
					return
				}
				slot := parseHex(id[:8])
				if slot == stopSlot {
					return
				}
				if slot >= uint64(n) {
					fail(fmt.Errorf("bad slot in %q", p))
					return
				}
				if !r.work.check(p) { // a result, or the echo
					fail(fmt.Errorf("unexpected answer %q", p))
					return
				}
				if g.measuring() {
					mine = append(mine, time.Since(base)-time.Duration(sent[slot].Load()))
				}
				ready <- int(slot)
			}
		}()
	}
	return func() (int64, []time.Duration, error) {
		wg.Wait()
		var err error
		if p := firstErr.Load(); p != nil {
			err = *p
		}
		return int64(len(all.all)), all.all, err
	}
}

func parseHex(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 1 << 63
		}
	}
	return v
}

// rawNotifier writes pre-encoded notifications on one connection.
type rawNotifier struct{ c *websocket.Conn }

func newRawNotifier(url string) (*rawNotifier, error) {
	c, err := dialRaw(context.Background(), url)
	if err != nil {
		return nil, err
	}
	return &rawNotifier{c}, nil
}

func (r *rawNotifier) close() { r.c.Close(websocket.StatusNormalClosure, "") }

func (r *rawNotifier) notify(g *gate, senders int) func() (int64, []time.Duration, error) {
	msg := []byte(notifyMsg)
	return workers(g, senders, func(int) error {
		return r.c.Write(context.Background(), websocket.MessageText, msg)
	})
}
