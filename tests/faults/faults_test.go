package faults

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// reconnecting are the client options shared by the fault tests.
func reconnecting() []wsrpc.Option {
	return []wsrpc.Option{
		wsrpc.WithReconnect(50*time.Millisecond, -1),
		func(c *wsrpc.Config) {
			c.Reconnect.MaxDelay = 500 * time.Millisecond
			c.HandshakeTimeout = 2 * time.Second
			c.MaxPendingRequests = 5000
			c.MaxSendQueue = 5000
		},
	}
}

// TestServerKilledMidLoad: 1,000 calls in flight when the server process is SIGKILLed and
// restarted on the same port, and 1,000 more issued while it is down.
func TestServerKilledMidLoad(t *testing.T) {
	noLeaks(t)
	srv := startServer(t, "127.0.0.1:0")
	c := dial(t, srv.url(), reconnecting()...)
	tl := newTally()
	var wg sync.WaitGroup
	call := func(i, ms int) {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		var out string
		v := fmt.Sprint(i)
		err := c.Call(ctx, "slow", map[string]any{"ms": ms, "v": v}, &out)
		if err == nil && out != v {
			err = fmt.Errorf("stale answer %q for %q", out, v) // untyped: counts as lost
		}
		tl.record(err)
	}
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		go call(i, rand.IntN(400)) // some finish before the kill, most are in flight
	}
	time.Sleep(150 * time.Millisecond)
	srv.kill()
	for i := 1000; i < 2000; i++ { // issued while the server is down: they wait for the reconnect
		wg.Add(1)
		go call(i, 1)
	}
	time.Sleep(200 * time.Millisecond)
	srv.restart()
	recovery := waitUp(t, c, 10*time.Second)
	wg.Wait()
	tl.report(t, "server killed", recovery)
	if tl.typedErr.Load() == 0 || tl.ok.Load() < 1000 {
		t.Errorf("want in-flight calls failed and outage calls served: ok=%d typed=%d", tl.ok.Load(), tl.typedErr.Load())
	}
}

// TestHalfOpenLink: the proxy silently stops forwarding (no FIN, no RST); keepalive must
// notice within about MaxFailures x Interval, and the client must come back once the link
// forwards again.
func TestHalfOpenLink(t *testing.T) {
	noLeaks(t)
	srv := startServer(t, "127.0.0.1:0")
	px := newProxy(t, srv.addr)
	const interval = 200 * time.Millisecond
	lost := make(chan time.Time, 4)
	opts := append(reconnecting(), wsrpc.WithKeepalive(interval, 2), wsrpc.WithOnDisconnect(func(*wsrpc.Channel, error) {
		select {
		case lost <- time.Now():
		default:
		}
	}))
	c := dial(t, px.url(), opts...)
	tl := newTally()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	tl.record(c.Call(ctx, "echo", map[string]string{"text": "before"}, nil))
	cancel()

	px.hole.Store(true)
	holed := time.Now()
	// A call made into the hole ends with a typed error (timeout or connection lost).
	ctx, cancel = context.WithTimeout(context.Background(), 3*time.Second)
	tl.record(c.Call(ctx, "slow", map[string]any{"ms": 1, "v": "x"}, nil))
	cancel()
	var detected time.Duration
	select {
	case at := <-lost:
		detected = at.Sub(holed)
	case <-time.After(5 * time.Second):
		t.Fatal("half-open link not detected")
	}
	// Detection bound: 2 failed checks, each started every interval, each with a timeout of
	// interval/2 but at least 1 s (see wsrpc.KeepaliveConfig).
	if limit := 2*(interval+time.Second) + 500*time.Millisecond; detected > limit {
		t.Errorf("detected after %v, want <= %v", detected, limit)
	}
	time.Sleep(300 * time.Millisecond)
	px.hole.Store(false)
	px.cut() // connections opened during the hole are stuck mid-handshake: reset them
	recovery := waitUp(t, c, 10*time.Second)
	tl.record(nil)
	t.Logf("half-open detected after %v", detected.Round(time.Millisecond))
	tl.report(t, "half-open link", recovery)
}

// TestRandomCuts: a proxy resets every connection at random intervals of 100-500 ms
// during a sustained load (20 s by default, FAULT_DURATION to change).
func TestRandomCuts(t *testing.T) {
	noLeaks(t)
	dur := 20 * time.Second
	if d, err := time.ParseDuration(os.Getenv("FAULT_DURATION")); err == nil {
		dur = d
	}
	srv := startServer(t, "127.0.0.1:0")
	px := newProxy(t, srv.addr)
	c := dial(t, px.url(), reconnecting()...)
	tl := newTally()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				v := fmt.Sprintf("%d-%d", w, i)
				var out string
				err := c.Call(ctx, "slow", map[string]any{"ms": rand.IntN(20), "v": v}, &out)
				cancel()
				if err == nil && out != v {
					err = fmt.Errorf("stale answer %q for %q", out, v)
				}
				tl.record(err)
			}
		}()
	}
	cuts := 0
	deadline := time.Now().Add(dur)
	for time.Now().Before(deadline) {
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
		cuts += px.cut()
	}
	close(stop)
	wg.Wait()
	recovery := waitUp(t, c, 10*time.Second)
	t.Logf("%d connections cut", cuts)
	tl.report(t, "random cuts", recovery)
	if tl.ok.Load() == 0 || cuts == 0 {
		t.Error("no progress or no cuts")
	}
}

// TestSilentServer: a server that accepts TCP but never completes the handshake, and one
// that upgrades but never answers anything.
func TestSilentServer(t *testing.T) {
	noLeaks(t)
	tl := newTally()
	// 1. Never answers the handshake: Dial fails after HandshakeTimeout x attempts.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err = wsrpc.Dial(ctx, "ws://"+l.Addr().String()+"/ws", wsrpc.WithLogger(quiet), func(c *wsrpc.Config) {
		c.HandshakeTimeout = 300 * time.Millisecond
		c.Retry = wsrpc.RetryConfig{MaxAttempts: 2, MinWait: 10 * time.Millisecond, MaxWait: 10 * time.Millisecond}
	})
	cancel()
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("dial to a mute server: %v after %v", err, time.Since(start))
	}
	l.Close()
	mu.Lock()
	for _, c := range held {
		c.Close()
	}
	mu.Unlock()

	// 2. Upgrades, then never reads or answers: calls time out, keepalive drops the link.
	quit := make(chan struct{})
	var handlers sync.WaitGroup
	defer handlers.Wait()
	defer close(quit)
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		wc, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"jsonrpc2.0"}})
		if err != nil {
			return
		}
		<-quit
		wc.CloseNow()
	})}
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	go hs.Serve(l2)
	defer hs.Close()
	lost := make(chan struct{}, 1)
	c := dial(t, "ws://"+l2.Addr().String()+"/ws", wsrpc.WithKeepalive(150*time.Millisecond, 2),
		func(c *wsrpc.Config) { c.ReadinessCheck = false },
		wsrpc.WithOnDisconnect(func(*wsrpc.Channel, error) { lost <- struct{}{} }))
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	err = c.Call(ctx, "echo", map[string]string{"text": "anyone?"}, nil)
	cancel()
	if !errors.Is(err, wsrpc.ErrTimeout) {
		t.Fatalf("want timeout, got %v", err)
	}
	tl.record(err)
	select {
	case <-lost:
	case <-time.After(10 * time.Second): // 2 checks, each with a 1 s timeout
		t.Fatal("keepalive did not drop a server that never answers")
	}
	tl.report(t, "silent server", 0)
}

// TestSlowloris: a sender trickles one frame byte by byte; the server drops it on its idle
// timeout while other clients keep being served.
func TestSlowloris(t *testing.T) {
	noLeaks(t)
	srv := startServer(t, "127.0.0.1:0", "-idle", "1s")
	conn, err := net.Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: jsonrpc2.0\r\n\r\n", srv.addr, key)
	br := bufio.NewReader(conn)
	status, _ := br.ReadString('\n')
	if !strings.Contains(status, "101") {
		t.Fatalf("handshake: %q", status)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" {
			break
		}
	}
	payload := []byte(`{"jsonrpc":"2.0","id":"s","method":"echo","params":{"text":"` + strings.Repeat("z", 200) + `"}}`)
	frame := maskedTextFrame(payload)
	closed := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		for _, b := range frame {
			if _, err := conn.Write([]byte{b}); err != nil {
				closed <- time.Since(start)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		closed <- -1
	}()
	go func() { // the server closing the socket ends our reads
		buf := make([]byte, 512)
		for {
			if _, err := conn.Read(buf); err != nil {
				conn.Close()
				return
			}
		}
	}()
	// Meanwhile a normal client is served.
	c := dial(t, srv.url())
	tl := newTally()
	for i := 0; i < 10; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		tl.record(c.Call(ctx, "echo", map[string]string{"text": "normal"}, nil))
		cancel()
	}
	select {
	case d := <-closed:
		if d < 0 {
			t.Fatal("the trickled frame was accepted to the end")
		}
		t.Logf("slowloris connection dropped after %v (idle timeout 1s)", d.Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("slowloris connection never dropped")
	}
	tl.report(t, "slowloris", 0)
	if tl.ok.Load() != 10 {
		t.Error("normal client was not served")
	}
}

func maskedTextFrame(p []byte) []byte {
	mask := [4]byte{1, 2, 3, 4}
	f := []byte{0x81}
	switch {
	case len(p) < 126:
		f = append(f, 0x80|byte(len(p)))
	default:
		f = append(f, 0x80|126, byte(len(p)>>8), byte(len(p)))
	}
	f = append(f, mask[:]...)
	for i, b := range p {
		f = append(f, b^mask[i%4])
	}
	return f
}

// TestNotificationFlood: 100,000 notifications, none lost, the connection stays usable.
func TestNotificationFlood(t *testing.T) {
	noLeaks(t)
	srv := startServer(t, "127.0.0.1:0")
	c := dial(t, srv.url())
	tl := newTally()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	for i := 0; i < 100000; i++ {
		tl.record(c.Notify(ctx, "note", nil))
	}
	var n int64
	for time.Since(start) < 60*time.Second {
		if err := c.Call(ctx, "notes", nil, &n); err != nil {
			t.Fatal(err)
		}
		if n == 100000 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("100k notifications delivered in %v", time.Since(start).Round(time.Millisecond))
	if n != 100000 {
		t.Fatalf("server counted %d notifications, want 100000", n)
	}
	tl.report(t, "notification flood", 0)
}

// TestSizeLimits: messages of limit-1 and limit bytes pass, limit+1 closes the connection
// with 1009 and the client reconnects.
func TestSizeLimits(t *testing.T) {
	noLeaks(t)
	const limit = 64 << 10
	srv := startServer(t, "127.0.0.1:0", "-max-size", fmt.Sprint(limit))
	lost := make(chan error, 4)
	c := dial(t, srv.url(), append(reconnecting(), wsrpc.WithMaxMessageSize(16<<20),
		wsrpc.WithOnDisconnect(func(_ *wsrpc.Channel, err error) {
			select {
			case lost <- err:
			default:
			}
		}))...)
	tl := newTally()
	frame := func(n int) map[string]string {
		// {"jsonrpc":"2.0","id":"<32 hex>","method":"echo","params":{"text":"..."}}
		overhead := len(`{"jsonrpc":"2.0","id":"","method":"echo","params":{"text":""}}`) + 32
		return map[string]string{"text": strings.Repeat("q", n-overhead)}
	}
	for _, n := range []int{limit - 1, limit} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := c.Call(ctx, "echo", frame(n), nil)
		cancel()
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		tl.record(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	err := c.Call(ctx, "echo", frame(limit+1), nil)
	cancel()
	if !errors.Is(err, wsrpc.ErrConnectionLost) {
		t.Fatalf("limit+1: want connection lost, got %v", err)
	}
	tl.record(err)
	// The call fails as the channel closes; the disconnect hook runs right after.
	var lostErr error
	select {
	case lostErr = <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("no disconnect")
	}
	if code := wsrpc.CloseCode(lostErr); code != 1009 {
		t.Fatalf("close code %d (%v), want 1009", code, lostErr)
	}
	recovery := waitUp(t, c, 10*time.Second)
	tl.report(t, "size limits", recovery)
}
