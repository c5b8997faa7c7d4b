//go:build !js

package wsrpc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// within runs fn (which may block without limit, as direct calls do) and fails the test if
// it has not returned after d.
func within(t *testing.T, d time.Duration, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("%s: still blocked after %v", what, d)
		return nil
	}
}

// pauseWatchdog keeps the watchdog from giving lent reading back for the test.
func pauseWatchdog(t *testing.T) {
	watchdogPaused.Store(true)
	t.Cleanup(func() { watchdogPaused.Store(false) })
}

// waitRole waits until the channel's reading is in role r.
func waitRole(t *testing.T, ch *Channel, r uint64) uint64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := ch.role.Load()
		if s&3 == r {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("reading in role %d, want %d", s&3, r)
		}
		time.Sleep(time.Millisecond)
	}
}

func addDirect(t *testing.T, c *Client, a int) {
	t.Helper()
	var sum int
	err := within(t, 10*time.Second, "direct call", func() error {
		return c.Call(context.Background(), "add", addParams{A: a, B: 1}, &sum)
	})
	if err != nil || sum != a+1 {
		t.Fatalf("add %d+1 = %d, %v", a, sum, err)
	}
}

// Calls without a deadline read their own answers: after the first (read by the reader
// goroutine, which then lends the reading), each call takes the lent reading, reads its
// answer and lends the reading on: one lending per call, never back to the reader.
func TestCallerReadsItsAnswer(t *testing.T) {
	pauseWatchdog(t)
	m, _ := protoMethods()
	_, url := startServer(t, m)
	c := dialTest(t, url, WithMethods(NewMethods()))
	ch := c.Channel()
	addDirect(t, c, 0)
	s := waitRole(t, ch, roleLent)
	for i := range 100 {
		addDirect(t, c, i)
		got := ch.role.Load()
		if got&3 != roleLent || got>>2 != s>>2+1 {
			t.Fatalf("call %d: role word %d after the call, want lent once more (%d)", i, got, (s>>2+1)<<2|roleLent)
		}
		s = got
	}
	// On a plain connection, so do calls with a deadline (they read whole messages only).
	for i := range 20 {
		var sum int
		if err := c.Call(ctxT(t, 5*time.Second), "add", addParams{A: i, B: 2}, &sum); err != nil || sum != i+2 {
			t.Fatalf("add with deadline = %d, %v", sum, err)
		}
		got := ch.role.Load()
		if got&3 != roleLent || got>>2 != s>>2+1 {
			t.Fatalf("call %d with a deadline: role word %d after the call, want lent once more (%d)", i, got, (s>>2+1)<<2|roleLent)
		}
		s = got
	}
}

// Over TLS the frames cannot be followed as they arrive: calls with a deadline leave the
// reading to the reader goroutine, calls without one still read for themselves.
func TestCallerReadOverTLS(t *testing.T) {
	pauseWatchdog(t)
	m, _ := protoMethods()
	srv, err := NewServer(m, WithLogger(quietLogger))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewTLSServer(srv)
	t.Cleanup(func() { _ = srv.Close(); hs.Close() })
	roots := x509.NewCertPool()
	roots.AddCert(hs.Certificate())
	c := dialTest(t, "wss"+strings.TrimPrefix(hs.URL, "https"), func(c *Config) { c.TLSConfig = &tls.Config{RootCAs: roots} })
	ch := c.Channel()
	if ch.in != nil {
		t.Fatal("an inbox on a TLS connection")
	}
	addDirect(t, c, 0)
	s := waitRole(t, ch, roleLent)
	addDirect(t, c, 1)
	if got := ch.role.Load(); got != (s>>2+1)<<2|roleLent {
		t.Fatalf("role word %d after a call without deadline, want %d", got, (s>>2+1)<<2|roleLent)
	}
	var sum int
	if err := c.Call(ctxT(t, 5*time.Second), "add", addParams{A: 1, B: 2}, &sum); err != nil || sum != 3 {
		t.Fatalf("add with deadline = %d, %v", sum, err)
	}
	if r := ch.role.Load() & 3; r != roleReader {
		t.Fatalf("role %d after a call with a deadline over TLS, want the reader's", r)
	}
}

// A caller reading with a deadline stops at its deadline (or cancellation) as any caller
// does, and the reading goes back to the reader goroutine, which drops the late answer;
// an answer too large for the inbox is read by the reader goroutine.
func TestCallerReadDeadline(t *testing.T) {
	pauseWatchdog(t)
	m, _ := protoMethods()
	release := make(chan struct{})
	Register(m, "slow", func(ctx context.Context, _ struct{}) (string, error) {
		Detach(ctx)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return "late", nil
	})
	Register(m, "large", func(ctx context.Context, p struct {
		N int `json:"n"`
	}) (string, error) {
		return strings.Repeat("z", p.N), nil
	})
	_, url := startServer(t, m)
	c := dialTest(t, url)
	ch := c.Channel()
	addDirect(t, c, 0)
	waitRole(t, ch, roleLent)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Call(ctx, "slow", nil, nil)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("slow call with a 50 ms deadline: %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("deadline of 50 ms honoured after %v", d)
	}
	if r := ch.role.Load() & 3; r != roleReader {
		t.Fatalf("role %d after the deadline, want the reader's", r)
	}
	release <- struct{}{} // the late answer arrives and is dropped
	addDirect(t, c, 5)

	waitRole(t, ch, roleLent)
	cctx, ccancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, ccancel)
	if err := c.Call(cctx, "slow", nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled slow call: %v, want context.Canceled", err)
	}
	release <- struct{}{}
	addDirect(t, c, 6)

	for _, n := range []int{100, 5000, 70000, 200000} {
		waitRole(t, ch, roleLent)
		var s string
		if err := c.Call(ctxT(t, 10*time.Second), "large", map[string]int{"n": n}, &s); err != nil || len(s) != n {
			t.Fatalf("large(%d): %d bytes, %v", n, len(s), err)
		}
		addDirect(t, c, n)
	}
}

// Whatever needs the connection read while the reading is lent and unused gets it read:
// a call with a deadline, a call started with Go, a WebSocket ping, and (through the
// watchdog) a message the server sends on its own.
func TestLentReadingComesBack(t *testing.T) {
	m, _ := protoMethods()
	pushed := make(chan struct{})
	Register(m, "push_later", func(ctx context.Context, _ struct{}) (string, error) {
		ch := ChannelFromContext(ctx)
		go func() {
			<-pushed // the answer has been read (and the reading lent) first
			_ = ch.Notify(context.Background(), "pushed", map[string]int{"n": 1})
		}()
		return "ok", nil
	})
	_, url := startServer(t, m)
	got := make(chan struct{}, 1)
	cm := NewMethods()
	cm.Handle("pushed", func(ctx context.Context, _ json.RawMessage) (any, error) {
		got <- struct{}{}
		return nil, nil
	})
	c := dialTest(t, url, WithMethods(cm))
	ch := c.Channel()

	t.Run("deadline", func(t *testing.T) {
		pauseWatchdog(t)
		addDirect(t, c, 1)
		waitRole(t, ch, roleLent)
		var sum int
		if err := c.Call(ctxT(t, 5*time.Second), "add", addParams{A: 2, B: 2}, &sum); err != nil || sum != 4 {
			t.Fatalf("add = %d, %v", sum, err)
		}
	})
	t.Run("go", func(t *testing.T) {
		pauseWatchdog(t)
		addDirect(t, c, 1)
		waitRole(t, ch, roleLent)
		p, err := c.Go(context.Background(), "add", addParams{A: 3, B: 3})
		if err != nil {
			t.Fatal(err)
		}
		var sum int
		if err := p.Wait(ctxT(t, 5*time.Second), &sum); err != nil || sum != 6 {
			t.Fatalf("add = %d, %v", sum, err)
		}
	})
	t.Run("ping", func(t *testing.T) {
		pauseWatchdog(t)
		addDirect(t, c, 1)
		waitRole(t, ch, roleLent)
		if err := ch.Ping(ctxT(t, 5*time.Second), false); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("watchdog", func(t *testing.T) {
		var s string
		if err := within(t, 10*time.Second, "push_later", func() error {
			return c.Call(context.Background(), "push_later", nil, &s)
		}); err != nil || s != "ok" {
			t.Fatalf("push_later = %q, %v", s, err)
		}
		close(pushed)
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			t.Fatal("notification sent after the call never read")
		}
		waitRole(t, ch, roleReader)
	})
}

// A caller that reads also takes in what else arrives: the server's calls back to the
// client while it waits (served by handler goroutines, which call the server again),
// notifications, and the answers to other callers' calls.
func TestCallerReadTakesInEverything(t *testing.T) {
	pauseWatchdog(t) // only callers and the reader goroutine read
	m, _ := protoMethods()
	Register(m, "call_back", func(ctx context.Context, p struct {
		N int `json:"n"`
	}) (int, error) {
		ch := ChannelFromContext(ctx)
		if err := ch.Notify(ctx, "note", map[string]int{"n": p.N}); err != nil {
			return 0, err
		}
		var twice int
		if err := ch.Call(ctx, "twice", map[string]int{"n": p.N}, &twice); err != nil {
			return 0, err
		}
		return twice + 1, nil
	})
	_, url := startServer(t, m)
	cm := NewMethods()
	var notes atomic.Int64
	var client atomic.Pointer[Client]
	Register(cm, "twice", func(ctx context.Context, p struct {
		N int `json:"n"`
	}) (int, error) {
		var sum int // the handler calls the server while the caller reads
		if err := client.Load().Call(ctx, "add", addParams{A: p.N, B: p.N}, &sum); err != nil {
			return 0, err
		}
		return sum, nil
	})
	cm.Handle("note", func(ctx context.Context, _ json.RawMessage) (any, error) { notes.Add(1); return nil, nil })
	c := dialTest(t, url, WithMethods(cm))
	client.Store(c)

	const workers, calls = 6, 150
	var wg sync.WaitGroup
	errs := make(chan error, workers*calls)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				n := w*1000 + i
				var got int
				var err error
				switch i % 4 {
				case 0, 1: // direct
					err = c.Call(context.Background(), "call_back", map[string]int{"n": n}, &got)
				case 2: // with a deadline
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					err = c.Call(ctx, "call_back", map[string]int{"n": n}, &got)
					cancel()
				case 3: // started with Go
					var p *Pending
					if p, err = c.Go(context.Background(), "call_back", map[string]int{"n": n}); err == nil {
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						err = p.Wait(ctx, &got)
						cancel()
					}
				}
				if err == nil && got != 2*n+1 {
					err = fmt.Errorf("call_back(%d) = %d, want %d", n, got, 2*n+1)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	if err := within(t, 60*time.Second, "callers", func() error { wg.Wait(); return nil }); err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for notes.Load() != workers*calls && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := notes.Load(); n != workers*calls {
		t.Fatalf("%d notifications handled, want %d", n, workers*calls)
	}
}

// A connection that ends while a caller reads fails the call as it would otherwise, and
// the channel finishes closing (its reader goroutine ends: goleak checks).
func TestCallerReadConnectionEnds(t *testing.T) {
	pauseWatchdog(t)
	m, _ := protoMethods()
	release := make(chan struct{})
	defer close(release)
	m.Handle("block", func(ctx context.Context, _ json.RawMessage) (any, error) {
		Detach(ctx) // (the watchdog is paused)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, nil
	})
	m.Handle("drop", func(ctx context.Context, _ json.RawMessage) (any, error) {
		_ = ChannelFromContext(ctx).conn.CloseNow()
		return nil, nil
	})
	m.Handle("big", func(ctx context.Context, _ json.RawMessage) (any, error) {
		return strings.Repeat("x", 8192), nil
	})
	_, url := startServer(t, m)

	// Callers without a deadline wait inside the library's Read; callers with one wait for
	// input in the inbox (and the library's closing handshake reads meanwhile).
	for _, kind := range []string{"without deadline", "with a deadline"} {
		callCtx := func() context.Context { return context.Background() }
		if kind == "with a deadline" {
			callCtx = func() context.Context { return ctxT(t, 20*time.Second) }
		}
		t.Run("client closes while a caller reads "+kind, func(t *testing.T) {
			c := dialTest(t, url)
			addDirect(t, c, 1)
			waitRole(t, c.Channel(), roleLent)
			errc := make(chan error, 1)
			go func() { errc <- c.Call(callCtx(), "block", nil, nil) }()
			waitRole(t, c.Channel(), roleCaller)
			time.Sleep(10 * time.Millisecond)
			_ = c.Close()
			select {
			case err := <-errc:
				if !errors.Is(err, ErrClosed) {
					t.Fatalf("call during Close: %v, want ErrClosed", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("call still blocked after Close")
			}
		})
		t.Run("server drops while a caller reads "+kind, func(t *testing.T) {
			c := dialTest(t, url)
			addDirect(t, c, 1)
			ch := c.Channel()
			waitRole(t, ch, roleLent)
			err := within(t, 10*time.Second, "drop", func() error { return c.Call(callCtx(), "drop", nil, nil) })
			if !errors.Is(err, ErrConnectionLost) {
				t.Fatalf("call on a dropped connection: %v, want ErrConnectionLost", err)
			}
			select {
			case <-ch.readDone:
			case <-time.After(5 * time.Second):
				t.Fatal("reader goroutine did not end")
			}
		})
	}
	t.Run("answer too large", func(t *testing.T) {
		c := dialTest(t, url, WithMaxMessageSize(4096))
		addDirect(t, c, 1)
		waitRole(t, c.Channel(), roleLent)
		err := within(t, 10*time.Second, "big", func() error { return c.Call(context.Background(), "big", nil, nil) })
		if !errors.Is(err, ErrConnectionLost) || !errors.Is(err, ErrMessageTooLarge) {
			t.Fatalf("call answered over the size limit: %v, want ErrConnectionLost and ErrMessageTooLarge", err)
		}
	})
}

// Control frames are the library's to answer inside its Read: a caller waiting for input
// with a deadline that sees a ping leaves the reading to the reader goroutine, so the
// server's ping is answered while the call waits (a peer that closes connections whose
// pings go unanswered would otherwise drop it during a long call).
func TestCallerReadAnswersPings(t *testing.T) {
	pauseWatchdog(t)
	m, _ := protoMethods()
	Register(m, "ping_client", func(ctx context.Context, _ struct{}) (string, error) {
		Detach(ctx)
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if err := ChannelFromContext(ctx).Ping(pctx, false); err != nil {
			return "", err
		}
		return "pong received", nil
	})
	_, url := startServer(t, m, WithDebug(true))
	c := dialTest(t, url)
	addDirect(t, c, 0)
	waitRole(t, c.Channel(), roleLent)
	var s string
	if err := c.Call(ctxT(t, 10*time.Second), "ping_client", nil, &s); err != nil || s != "pong received" {
		t.Fatalf("ping_client = %q, %v", s, err)
	}
}
