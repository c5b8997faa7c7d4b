//go:build !js

package wsrpc

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Tests for the core issue's table: what real applications and attackers do.

// barrier lets n handlers through only together: with fewer running at once it blocks
// (until the test's context ends), so a test using it shows that n ran concurrently.
type barrier struct {
	n       int
	mu      sync.Mutex
	arrived int
	open    chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{n: n, open: make(chan struct{})} }

func (b *barrier) wait(ctx context.Context) error {
	b.mu.Lock()
	b.arrived++
	if b.arrived == b.n {
		close(b.open)
	}
	b.mu.Unlock()
	select {
	case <-b.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Handlers that block (a database, an HTTP call) do not hold up each other: 64 calls in
// flight on one connection all run at once, with no Detach or other tuning.
func TestBlockingHandlersRunConcurrently(t *testing.T) {
	const n = 64
	b := newBarrier(n)
	m := NewMethods()
	Register(m, "query", func(ctx context.Context, p struct {
		N int `json:"n"`
	}) (int, error) {
		if err := b.wait(ctx); err != nil {
			return 0, err
		}
		return p.N, nil
	})
	_, url := startServer(t, m)
	c := dialTest(t, url)
	ctx := ctxT(t, 20*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got int
			if err := c.Call(ctx, "query", map[string]int{"n": i}, &got); err != nil || got != i {
				errs <- fmt.Errorf("query %d = %d, %v", i, got, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Notifications run concurrently like requests: 32 notifications that each wait for all
// the others complete.
func TestNotificationsRunConcurrently(t *testing.T) {
	const n = 32
	b := newBarrier(n)
	ctx := ctxT(t, 20*time.Second)
	var done sync.WaitGroup
	done.Add(n)
	var failed atomic.Int32
	m := NewMethods()
	m.Handle("log", func(hctx context.Context, _ json.RawMessage) (any, error) {
		defer done.Done()
		if b.wait(ctx) != nil {
			failed.Add(1)
		}
		return nil, nil
	})
	_, url := startServer(t, m)
	c := dialTest(t, url)
	for range n {
		if err := c.Notify(ctx, "log", nil); err != nil {
			t.Fatal(err)
		}
	}
	done.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d notifications never ran together with the others", failed.Load())
	}
}

// A handler that keeps a small string from each of 40 messages padded to 1 MiB keeps
// those strings, not the messages.
func TestKeptValuesDoNotPinMessages(t *testing.T) {
	var mu sync.Mutex
	var kept []string
	var keptRaw []json.RawMessage
	m := NewMethods()
	Register(m, "keep", func(ctx context.Context, p struct {
		S string `json:"s"`
	}) (bool, error) {
		mu.Lock()
		kept = append(kept, p.S)
		mu.Unlock()
		return true, nil
	})
	m.Handle("keep_raw", func(ctx context.Context, params json.RawMessage) (any, error) {
		mu.Lock()
		keptRaw = append(keptRaw, params)
		mu.Unlock()
		return true, nil
	})
	_, url := startServer(t, m, WithMaxMessageSize(2<<20))
	c := dialTest(t, url, WithMaxMessageSize(2<<20))
	ch := c.Channel()
	pad := strings.Repeat(" ", 1<<20)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range 40 {
		params := json.RawMessage(fmt.Sprintf(`{"s":"k%05d"%s}`, i, pad))
		if i%2 == 1 {
			// The raw params are what the handler keeps: pad the message around them (the
			// answer, to an id the client does not know, is dropped).
			req := fmt.Sprintf(`{"jsonrpc":"2.0","id":"r%d","method":"keep_raw","params":{"s":"k%05d"}%s}`, i, i, pad)
			if err := ch.send([]byte(req)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var ok bool
		if err := c.Call(ctxT(t, 10*time.Second), "keep", params, &ok); err != nil || !ok {
			t.Fatalf("keep %d: %v", i, err)
		}
	}
	// The last raw request is answered before we look.
	var ok bool
	if err := c.Call(ctxT(t, 10*time.Second), "keep", map[string]string{"s": "last"}, &ok); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		mu.Lock()
		n := len(keptRaw)
		mu.Unlock()
		if n == 20 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	runtime.GC()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	mu.Lock()
	defer mu.Unlock()
	if len(kept) != 21 || len(keptRaw) != 20 || kept[0] != "k00000" || string(keptRaw[0]) != `{"s":"k00001"}` {
		t.Fatalf("kept %d strings, %d raw params: %q %q", len(kept), len(keptRaw), kept[0], keptRaw[0])
	}
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap grew by %d KiB for 40 messages of 1 MiB", grown>>10)
	if grown > 8<<20 {
		t.Fatalf("heap grew by %d MiB after keeping 40 small values: the messages are pinned", grown>>20)
	}
}

// Wrong parameter types: the -32602 text names the method and the JSON argument, never
// Go types or fields, unless in debug mode.
func TestInvalidParamsDiscloseNoGoInternals(t *testing.T) {
	type dbSettings struct {
		Host string `json:"host"`
		Port int    `json:"port"`
	}
	m := NewMethods()
	Register(m, "configure", func(ctx context.Context, p struct {
		Settings map[string]dbSettings `json:"settings"`
		Retries  int                   `json:"retries"`
	}) (bool, error) {
		return true, nil
	})
	Register(m, "chan", func(ctx context.Context, _ struct{}) (chan int, error) { return make(chan int), nil })
	for _, debug := range []bool{false, true} {
		_, url := startServer(t, m, WithDebug(debug))
		c := dialTest(t, url)
		for _, tc := range []struct {
			method string
			params any
			want   string
		}{
			{"configure", map[string]any{"settings": map[string]any{"main": map[string]any{"port": "5432"}}, "retries": 1},
				"Invalid parameters: argument 'settings.port': expected an integer, got string"},
			{"configure", map[string]any{"settings": map[string]any{}, "retries": "x"},
				"Invalid parameters: argument 'retries': expected an integer, got string"},
			{"chan", nil, "Invalid parameters: result is not JSON-serialisable"},
		} {
			err := c.Call(ctxT(t, 5*time.Second), tc.method, tc.params, nil)
			var re *Error
			if !errors.As(err, &re) || re.Code != CodeInvalidParams {
				t.Fatalf("%s: %v", tc.method, err)
			}
			goish := strings.Contains(re.Message, "Go ") || strings.Contains(re.Message, "dbSettings") ||
				strings.Contains(re.Message, "chan int")
			switch {
			case !debug && re.Message != tc.want:
				t.Errorf("production %s: %q, want %q", tc.method, re.Message, tc.want)
			case !debug && goish:
				t.Errorf("production %s discloses Go internals: %q", tc.method, re.Message)
			case debug && (!strings.HasPrefix(re.Message, tc.want) || !goish):
				t.Errorf("debug %s: %q, want %q and the Go detail", tc.method, re.Message, tc.want)
			}
		}
	}
}

// A text message that is not UTF-8 closes the connection with 1007; the same bytes in a
// binary message are answered -32700 (the frame kind says nothing about the text).
func TestInvalidUTF8Closes1007(t *testing.T) {
	l := listenProto(t)
	ws := dialRawClient(t, l.Addr().String())
	bad := []byte("{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"method\":\"echo\",\"params\":{\"message\":\"\xff\xfe\"}}")
	if _, err := ws.c.Write(clientFrame(2, bad)); err != nil {
		t.Fatal(err)
	}
	got := ws.frames(t, 1, 5*time.Second)
	if len(got[1]) != 1 || !strings.Contains(got[1][0], "-32700") {
		t.Fatalf("binary frame: %q, want a -32700 reply", got)
	}
	if _, err := ws.c.Write(clientFrame(1, bad)); err != nil {
		t.Fatal(err)
	}
	got = ws.frames(t, 1, 5*time.Second)
	if len(got[8]) != 1 || len(got[8][0]) < 2 || int(got[8][0][0])<<8|int(got[8][0][1]) != 1007 {
		t.Fatalf("text frame: %q, want a close frame with 1007", got)
	}
}

// One client sends large requests and never reads its replies: the server stops reading
// from it once its byte budgets are spent (the client's writes then block), its memory
// stays bounded, and after the write timeout the connection is closed with
// ErrWriteTimeout.
func TestClientThatNeverReads(t *testing.T) {
	const size = 4 << 20
	m, _ := protoMethods()
	lost := make(chan error, 1)
	_, url := startServer(t, m, WithMaxMessageSize(size+1024), func(c *Config) { c.WriteTimeout = time.Second },
		WithOnDisconnect(func(_ *Channel, err error) { lost <- err }))
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/ws")
	ws := dialRawClient(t, addr)
	if tc, ok := ws.c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096) // and never read: the server's writes fill the socket
	}
	msg := clientFrame(1, []byte(`{"jsonrpc":"2.0","id":"1","method":"echo","params":{"message":"`+strings.Repeat("x", size-100)+`"}}`))
	var sent atomic.Int64
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for range 200 {
			if _, err := ws.c.Write(msg); err != nil {
				return
			}
			sent.Add(1)
		}
	}()
	var peak uint64
	deadline := time.After(30 * time.Second)
	for done := false; !done; {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
		select {
		case err := <-lost:
			if !errors.Is(err, ErrWriteTimeout) || !errors.Is(err, ErrConnectionLost) {
				t.Fatalf("closed with %v, want ErrWriteTimeout", err)
			}
			done = true
		case <-deadline:
			t.Fatal("the connection of a client that never reads was not closed")
		case <-time.After(50 * time.Millisecond):
		}
	}
	_ = ws.c.Close()
	<-writerDone
	t.Logf("client got %d of 200 requests of 4 MiB out; server heap peaked at %d MiB", sent.Load(), peak>>20)
	if sent.Load() >= 200 {
		t.Errorf("the server read all 200 requests: no backpressure")
	}
	if peak > 200<<20 {
		t.Errorf("server heap peaked at %d MiB", peak>>20)
	}
}

// Half-finished HTTP upgrades are dropped by Listen's header timeout.
func TestHalfFinishedUpgradesDropped(t *testing.T) {
	old := listenHeaderTimeout
	listenHeaderTimeout = 500 * time.Millisecond
	defer func() { listenHeaderTimeout = old }()
	l := listenProto(t)
	const n = 50
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadAll(c); err != nil { // EOF (after a 408 or nothing) is nil
			t.Fatalf("connection %d: %v, want it closed by the server", i, err)
		}
	}
}

// Client.Close is bounded whatever the server does: here it trickles a frame one byte at
// a time, so the library's reader is never done with it.
func TestCloseBoundedAgainstTricklingServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		n, _ := c.Read(buf)
		key := ""
		for _, line := range strings.Split(string(buf[:n]), "\r\n") {
			if k, v, ok := strings.Cut(line, ": "); ok && strings.EqualFold(k, "Sec-WebSocket-Key") {
				key = v
			}
		}
		_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Accept: "+acceptKey(key)+"\r\nSec-WebSocket-Protocol: jsonrpc2.0\r\n\r\n")
		frame := append([]byte{0x81, 126, 0x10, 0x00}, []byte(strings.Repeat("x", 4096))...)
		for _, b := range frame {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
		}
	}()
	c, err := Dial(ctxT(t, 10*time.Second), "ws://"+ln.Addr().String()+"/ws", WithLogger(quietLogger),
		func(c *Config) { c.ReadinessCheck = false })
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the trickle has started
	start := time.Now()
	_ = c.Close()
	t.Logf("Client.Close returned after %v", time.Since(start).Round(time.Millisecond))
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Client.Close took %v against a trickling server", d)
	}
}

func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// Shutdown lets running handlers finish and answer, then closes every connection with
// 1001; new connections are refused meanwhile.
func TestShutdownDrains(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	m := NewMethods()
	Register(m, "work", func(ctx context.Context, _ struct{}) (string, error) {
		started <- struct{}{}
		<-release
		return "done", nil
	})
	srv, url := startServer(t, m)
	c := dialTest(t, url)
	ch := c.Channel()
	p, err := c.Go(ctxT(t, 10*time.Second), "work", nil)
	if err != nil {
		t.Fatal(err)
	}
	<-started
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctxT(t, 10*time.Second)) }()
	for !srv.isClosed() {
		time.Sleep(time.Millisecond)
	}
	if _, err := Dial(ctxT(t, 5*time.Second), url, WithLogger(quietLogger), func(c *Config) { c.Retry.Disabled = true }); err == nil {
		t.Fatal("a new connection was accepted during the drain")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) while a handler ran", err)
	default:
	}
	close(release)
	var out string
	if err := p.Wait(ctxT(t, 10*time.Second), &out); err != nil || out != "done" {
		t.Fatalf("the running call: %q, %v", out, err)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	<-ch.Done()
	if code := CloseCode(ch.Err()); code != 1001 {
		t.Fatalf("closed with %d (%v), want 1001", code, ch.Err())
	}
}

// The defaults detect dead peers and bound what a connection can hold; a server pings its
// clients too: here one that completed its upgrade and then went silent (never answers
// a ping) is dropped by the server's keepalive.
func TestDefaultsAreSafe(t *testing.T) {
	d := DefaultConfig()
	if d.keepaliveInterval() != 20*time.Second || d.Keepalive.MaxFailures != 1 || d.writeTimeout() != 10*time.Second ||
		d.maxBytes(d.MaxOutgoingBytes) != 2*d.MaxMessageSize || d.maxBytes(d.MaxIncomingBytes) != 2*d.MaxMessageSize {
		t.Fatalf("defaults: keepalive %v x%d, write timeout %v, budgets %d/%d", d.keepaliveInterval(), d.Keepalive.MaxFailures,
			d.writeTimeout(), d.maxBytes(d.MaxOutgoingBytes), d.maxBytes(d.MaxIncomingBytes))
	}
	if j, err := ParseConfig([]byte(`{"keepalive":{"interval":0},"write_timeout":0,"max_outgoing_bytes":0}`)); err != nil ||
		j.keepaliveInterval() != 0 || j.writeTimeout() != 0 || j.maxBytes(j.MaxOutgoingBytes) != 0 {
		t.Fatalf("JSON zeros turn them off: %+v %v", j.Keepalive, err)
	}
	lost := make(chan error, 1)
	l := listenProto(t, func(c *Config) { c.Keepalive.Interval = 100 * time.Millisecond },
		WithOnDisconnect(func(_ *Channel, err error) { lost <- err }))
	_ = dialRawClient(t, l.Addr().String()) // upgrades, then never reads nor answers
	select {
	case err := <-lost:
		if !errors.Is(err, ErrKeepalive) {
			t.Fatalf("dropped with %v, want ErrKeepalive", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server kept a silent client")
	}
}

// With OrderedNotifications a connection's notifications run one at a time in the order
// they were sent, while its requests still run concurrently with them, and a notification
// handler that calls the peer and waits for the answer does not stall the connection.
func TestOrderedNotifications(t *testing.T) {
	const n = 200
	ctx := ctxT(t, 20*time.Second)
	var mu sync.Mutex
	var seen []int
	var running, overlap atomic.Int32
	hold, held := make(chan struct{}), make(chan struct{})
	var done sync.WaitGroup
	done.Add(n + 2)
	m := NewMethods()
	Register(m, "log", func(_ context.Context, p []int) (any, error) {
		defer done.Done()
		if running.Add(1) > 1 {
			overlap.Add(1)
		}
		defer running.Add(-1)
		runtime.Gosched()
		mu.Lock()
		seen = append(seen, p[0])
		mu.Unlock()
		return nil, nil
	})
	m.Handle("hold", func(context.Context, json.RawMessage) (any, error) {
		defer done.Done()
		close(held)
		<-hold
		return nil, nil
	})
	m.Handle("ask", func(hctx context.Context, _ json.RawMessage) (any, error) {
		defer done.Done()
		var out string
		err := ChannelFromContext(hctx).Call(hctx, "answer", nil, &out)
		if err != nil || out != "42" {
			t.Errorf("ordered notification calling the peer: %q, %v", out, err)
		}
		return nil, nil
	})
	Register(m, "add", func(_ context.Context, p []int) (int, error) { return p[0] + p[1], nil })
	_, url := startServer(t, m, WithOrderedNotifications(true))
	cm := NewMethods()
	cm.Handle("answer", func(context.Context, json.RawMessage) (any, error) { return "42", nil })
	c := dialTest(t, url, WithMethods(cm))

	// A notification that blocks holds up later notifications, not requests.
	if err := c.Notify(ctx, "hold", nil); err != nil {
		t.Fatal(err)
	}
	<-held
	if err := c.Notify(ctx, "ask", nil); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := c.Notify(ctx, "log", []int{i}); err != nil {
			t.Fatal(err)
		}
	}
	var sum int
	if err := c.Call(ctx, "add", []int{2, 3}, &sum); err != nil || sum != 5 {
		t.Fatalf("a request while notifications are held: %d, %v", sum, err)
	}
	mu.Lock()
	if len(seen) != 0 {
		t.Errorf("%d notifications ran while an earlier one was running", len(seen))
	}
	mu.Unlock()
	close(hold)
	done.Wait()
	if overlap.Load() > 0 {
		t.Errorf("%d notifications ran at the same time as another", overlap.Load())
	}
	for i, v := range seen {
		if v != i {
			t.Fatalf("notifications ran out of order: position %d ran %d (%v...)", i, v, seen[:min(len(seen), i+5)])
		}
	}
}
