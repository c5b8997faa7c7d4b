//go:build !js

package wsrpc

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Regression tests for the liveness findings: replies held back, hooks and deadlines that
// block, a notification that deadlocks. Each waits generously (seconds) for something
// that takes milliseconds when it works, and never happens when it is broken.

// rawClient is a minimal WebSocket client that writes frames byte for byte.
type rawClient struct {
	c  net.Conn
	br *bufio.Reader
}

func dialRawClient(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	var k [16]byte
	_, _ = rand.Read(k[:])
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(k[:]) + "\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: jsonrpc2.0\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			return &rawClient{c: c, br: br}
		}
	}
}

// clientFrame returns a masked client frame.
func clientFrame(op byte, payload []byte) []byte {
	out := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		out = append(out, 0x80|byte(n))
	case n < 65536:
		out = append(out, 0x80|126, byte(n>>8), byte(n))
	default:
		out = append(out, 0x80|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	mask := []byte{1, 2, 3, 4}
	out = append(out, mask...)
	for i, c := range payload {
		out = append(out, c^mask[i%4])
	}
	return out
}

// frames reads server frames (opcode, payload) until it has seen want of them or d passed.
func (r *rawClient) frames(t *testing.T, want int, d time.Duration) map[byte][]string {
	t.Helper()
	got := map[byte][]string{}
	_ = r.c.SetReadDeadline(time.Now().Add(d))
	for n := 0; n < want; n++ {
		var h [2]byte
		if _, err := readFull(r.br, h[:]); err != nil {
			t.Logf("after %d frames: %v", n, err)
			return got
		}
		size := int(h[1] & 0x7f)
		if size == 126 {
			var e [2]byte
			if _, err := readFull(r.br, e[:]); err != nil {
				return got
			}
			size = int(e[0])<<8 | int(e[1])
		}
		p := make([]byte, size)
		if _, err := readFull(r.br, p); err != nil {
			return got
		}
		got[h[0]&0x0f] = append(got[h[0]&0x0f], string(p))
	}
	return got
}

func readFull(br *bufio.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k, err := br.Read(p[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func listenProto(t *testing.T, opts ...Option) *Listener {
	t.Helper()
	m, _ := protoMethods()
	srv, err := NewServer(m, append([]Option{WithLogger(quietLogger)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Listen("127.0.0.1:0", "/ws", srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

const addRequest = `{"jsonrpc":"2.0","id":"%d","method":"add","params":{"a":%d,"b":1}}`

// A request and a ping in one TCP write: the reply and the pong go out without the client
// sending anything more (they were held until the next data message).
func TestReplyAndPongNotHeldBehindPing(t *testing.T) {
	l := listenProto(t)
	ws := dialRawClient(t, l.Addr().String())
	for i := range 20 {
		buf := append(clientFrame(1, fmt.Appendf(nil, addRequest, i, 41)), clientFrame(9, []byte("hi"))...)
		if _, err := ws.c.Write(buf); err != nil {
			t.Fatal(err)
		}
		got := ws.frames(t, 2, 5*time.Second)
		if len(got[1]) != 1 || !strings.Contains(got[1][0], `"result":42`) || len(got[10]) != 1 || got[10][0] != "hi" {
			t.Fatalf("round %d: want the reply and the pong, got %q", i, got)
		}
	}
}

// A request followed by the first bytes of the next message: the reply does not wait for
// the rest of that message.
func TestReplyNotHeldBehindPartialMessage(t *testing.T) {
	l := listenProto(t)
	ws := dialRawClient(t, l.Addr().String())
	big := clientFrame(1, []byte(`{"jsonrpc":"2.0","id":"big","method":"echo","params":{"message":"`+strings.Repeat("x", 3000)+`"}}`))
	if _, err := ws.c.Write(append(clientFrame(1, fmt.Appendf(nil, addRequest, 1, 41)), big[:100]...)); err != nil {
		t.Fatal(err)
	}
	got := ws.frames(t, 1, 5*time.Second)
	if len(got[1]) != 1 || !strings.Contains(got[1][0], `"result":42`) {
		t.Fatalf("reply to the first request held back: got %q", got)
	}
	if _, err := ws.c.Write(big[100:]); err != nil {
		t.Fatal(err)
	}
	if got := ws.frames(t, 1, 5*time.Second); len(got[1]) != 1 || !strings.Contains(got[1][0], `"id":"big"`) {
		t.Fatalf("answer to the completed message: %q", got)
	}
}

// The project's own client: a call and a WebSocket ping at the same moment, many times.
func TestCallAndPingAtOnce(t *testing.T) {
	l := listenProto(t)
	c := dialTest(t, l.URL())
	ch := c.Channel()
	for i := range 200 {
		var wg sync.WaitGroup
		var perr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			perr = ch.Ping(ctxT(t, 10*time.Second), false)
		}()
		var sum int
		err := c.Call(ctxT(t, 10*time.Second), "add", addParams{A: i, B: 1}, &sum)
		wg.Wait()
		if err != nil || sum != i+1 || perr != nil {
			t.Fatalf("round %d: add = %d, %v; ping: %v", i, sum, err, perr)
		}
	}
}

// Client.Close from the client's own OnDisconnect hook returns (it waited for the
// goroutine running the hook).
func TestClientCloseFromOnDisconnect(t *testing.T) {
	m := NewMethods()
	m.Handle("drop", func(ctx context.Context, _ json.RawMessage) (any, error) {
		_ = ChannelFromContext(ctx).conn.CloseNow()
		return nil, nil
	})
	_, url := startServer(t, m)
	var cl atomic.Pointer[Client]
	returned := make(chan error, 1)
	c := dialTest(t, url, WithOnDisconnect(func(ch *Channel, err error) {
		if c := cl.Load(); c != nil {
			returned <- c.Close()
		}
	}))
	cl.Store(c)
	if err := c.Notify(ctxT(t, 5*time.Second), "drop", nil); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-returned:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Client.Close called from OnDisconnect has not returned")
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("client not done after Close")
	}
	if err := c.Call(ctxT(t, time.Second), "add", addParams{}, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("call after Close: %v, want ErrClosed", err)
	}
}

// A handler that waits for its own call back to the peer gives its handler slot back, so
// a notification arriving before that answer cannot deadlock the connection
// (MaxConcurrentRequests = 1: the notification needs the only slot).
func TestNotificationWaitingForSlotDoesNotDeadlock(t *testing.T) {
	m := NewMethods()
	m.Handle("cb", func(ctx context.Context, _ json.RawMessage) (any, error) {
		var r int
		err := ChannelFromContext(ctx).Call(ctx, "twice", map[string]int{"n": 1}, &r) // no deadline
		return r, err
	})
	noted := make(chan struct{}, 1)
	m.Handle("note", func(ctx context.Context, _ json.RawMessage) (any, error) {
		noted <- struct{}{}
		return nil, nil
	})
	_, url := startServer(t, m, func(c *Config) { c.MaxConcurrentRequests = 1 })
	cm := NewMethods()
	cm.Handle("twice", func(ctx context.Context, _ json.RawMessage) (any, error) {
		_ = ChannelFromContext(ctx).Notify(ctx, "note", nil) // e.g. a progress report
		return 2, nil
	})
	c := dialTest(t, url, WithMethods(cm))
	var r int
	if err := c.Call(ctxT(t, 10*time.Second), "cb", nil, &r); err != nil || r != 2 {
		t.Fatalf("cb = %d, %v", r, err)
	}
	select {
	case <-noted:
	case <-time.After(10 * time.Second):
		t.Fatal("the notification was never handled")
	}
}

// A call with a deadline returns by its deadline whatever the connection's handlers do:
// here the client's only handler slot is busy and a notification waits for it, ahead of
// the call's answer.
func TestCallDeadlineWhileHandlersBusy(t *testing.T) {
	m, _ := protoMethods()
	m.Handle("fire", func(ctx context.Context, _ json.RawMessage) (any, error) {
		ch := ChannelFromContext(ctx)
		_ = ch.Notify(ctx, "slow", nil)
		_ = ch.Notify(ctx, "slow", nil)
		return "ok", nil
	})
	_, url := startServer(t, m)
	release := make(chan struct{})
	defer close(release)
	cm := NewMethods()
	cm.Handle("slow", func(ctx context.Context, _ json.RawMessage) (any, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, nil
	})
	c := dialTest(t, url, WithMethods(cm), func(cfg *Config) { cfg.MaxConcurrentRequests = 1 })
	for i := range 5 { // calls without a deadline first
		var sum int
		if err := c.Call(context.Background(), "add", addParams{A: i, B: 1}, &sum); err != nil || sum != i+1 {
			t.Fatalf("add: %d, %v", sum, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Call(ctx, "fire", nil, nil)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("a call with a 200 ms deadline returned after %v (%v)", d, err)
	}
	if err != nil && !errors.Is(err, ErrTimeout) {
		t.Fatalf("fire: %v", err)
	}
}

// failPinger is a transport whose WebSocket pings never get an answer.
type failPinger struct {
	*fakeConn
	pings atomic.Int32
}

func (f *failPinger) Ping(ctx context.Context) error {
	f.pings.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

// Keepalive drops the connection after exactly MaxFailures unanswered pings.
func TestKeepaliveDropsAfterMaxFailures(t *testing.T) {
	for _, n := range []int{1, 2} {
		f := &failPinger{fakeConn: newFakeConn()}
		ch := newChannel(f, testConfig(t, WithKeepalive(20*time.Millisecond, n)), NewMethods(), "", nil)
		ch.startKeepalive()
		ch.start()
		select {
		case <-ch.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("MaxFailures %d: not dropped", n)
		}
		ch.wait()
		if got := f.pings.Load(); got != int32(n) {
			t.Errorf("MaxFailures %d: dropped after %d pings", n, got)
		}
		if err := ch.Err(); !errors.Is(err, ErrKeepalive) || !errors.Is(err, ErrConnectionLost) {
			t.Errorf("MaxFailures %d: Err() = %v, want ErrKeepalive and ErrConnectionLost", n, err)
		}
	}
}
