//go:build !js

package wsrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Pending-call table and send limits over a fake socket: CONFORMANCE.md K, L, M, N, O.

// answer makes the fake peer answer the request with id (a string) with result.
func answer(f *fakeConn, id string, result string) {
	f.peerSend(fmt.Sprintf(`{"jsonrpc":"2.0","id":%q,"result":%s}`, id, result))
}

func TestCallRoundTrip(t *testing.T) { // C102, C103, C107, C44, C48
	ch, f := newFakeChannel(t, nil)
	done := make(chan error, 1)
	var got map[string]any
	go func() { done <- ch.Call(context.Background(), "m", map[string]int{"x": 1}, &got) }()
	req := f.next(t)
	id := req["id"].(string)
	if len(id) != 32 || req["method"] != "m" || req["jsonrpc"] != "2.0" {
		t.Fatalf("%v", req)
	}
	if ch.PendingCount() != 1 {
		t.Fatal("pending count")
	}
	answer(f, id, `{"k":"v"}`)
	if err := <-done; err != nil || got["k"] != "v" {
		t.Fatal(err, got)
	}
	if ch.PendingCount() != 0 {
		t.Fatal("entry not cleared")
	}
}

func TestCallNoParamsOmitted(t *testing.T) { // §2.1
	ch, f := newFakeChannel(t, nil)
	go func() { _ = ch.Call(ctxT(t, time.Second), "m", nil, nil) }()
	if req := f.next(t); req["params"] != nil {
		t.Fatalf("%v", req)
	}
	go func() { _ = ch.Call(ctxT(t, time.Second), "m", []int{1, 2}, nil) }()
	if req := f.next(t); fmt.Sprint(req["params"]) != "[1 2]" {
		t.Fatalf("%v", req)
	}
}

func TestRemoteErrorAnswer(t *testing.T) { // C45, C49
	ch, f := newFakeChannel(t, nil)
	done := make(chan error, 1)
	go func() { done <- ch.Call(context.Background(), "m", nil, nil) }()
	id := f.next(t)["id"].(string)
	f.peerSend(`{"jsonrpc":"2.0","id":"` + id + `","error":{"code":-32603,"message":"Internal server error","data":[1]}}`)
	err := <-done
	var re *Error
	if !errors.As(err, &re) || re.Code != -32603 || string(re.Data) != "[1]" || !errors.Is(err, ErrInternal) {
		t.Fatalf("%v", err)
	}
}

func TestUnknownAndDuplicateResponses(t *testing.T) { // C46, C123, C151, C152, C198
	ch, f := newFakeChannel(t, nil)
	answer(f, "unknown", `1`) // dropped silently: no reply, no failure
	f.peerSend(`{"jsonrpc":"2.0","id":null,"result":1}`)
	f.none(t, 50*time.Millisecond)
	done := make(chan error, 1)
	var n int
	go func() { done <- ch.Call(context.Background(), "m", nil, &n) }()
	id := f.next(t)["id"].(string)
	answer(f, id, `1`)
	answer(f, id, `2`) // second answer ignored
	if err := <-done; err != nil || n != 1 {
		t.Fatal(err, n)
	}
	f.none(t, 50*time.Millisecond)
	if ch.PendingCount() != 0 {
		t.Fatal("pending")
	}
}

func TestNumericIDMatchesStringForm(t *testing.T) { // §3 matching by string form
	ch, f := newFakeChannel(t, nil)
	p, err := ch.Go(context.Background(), "m", nil, WithCallID("5"))
	if err != nil {
		t.Fatal(err)
	}
	f.next(t)
	f.peerSend(`{"jsonrpc":"2.0","id":5,"result":"five"}`)
	var s string
	if err := p.Wait(ctxT(t, 2*time.Second), &s); err != nil || s != "five" {
		t.Fatal(err, s)
	}
}

func TestBareResponseIsNullResult(t *testing.T) { // C213 receive side
	ch, f := newFakeChannel(t, nil)
	p, _ := ch.Go(context.Background(), "m", nil, WithCallID("bare"))
	f.next(t)
	f.peerSend(`{"jsonrpc":"2.0","id":"bare","result":null}`)
	var v any = "unset"
	if err := p.Wait(ctxT(t, 2*time.Second), &v); err != nil || v != nil {
		t.Fatal(err, v)
	}
}

func TestCallTimeout(t *testing.T) { // C108, C137, C191
	ch, f := newFakeChannel(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	p, _ := ch.Go(ctx, "m", nil)
	f.next(t)
	err := p.Wait(ctx, nil)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), p.ID()) {
		t.Fatalf("%v", err)
	}
	if ch.PendingCount() != 0 {
		t.Fatal("timed-out entry not removed")
	}
	answer(f, p.ID(), `1`) // late answer dropped
	f.none(t, 50*time.Millisecond)
}

func TestDefaultTimeout(t *testing.T) {
	ch, _ := newFakeChannel(t, nil, WithTimeout(80*time.Millisecond))
	start := time.Now()
	err := ch.Call(context.Background(), "m", nil, nil)
	if !errors.Is(err, ErrTimeout) || time.Since(start) > 3*time.Second {
		t.Fatal(err)
	}
}

func TestCloseWakesWaiters(t *testing.T) { // C109, C120, C121, C139, C167, C187, C200
	ch, f := newFakeChannel(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- ch.Call(ctxT(t, 10*time.Second), "m", nil, nil)
		}()
	}
	for i := 0; i < 10; i++ {
		f.next(t)
	}
	time.Sleep(20 * time.Millisecond)
	_ = ch.Close()
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrClosed) || errors.Is(err, ErrTimeout) {
			t.Fatalf("want channel-closed, got %v", err)
		}
	}
	if ch.PendingCount() != 0 || ch.Err() == nil {
		t.Fatal("close did not clear")
	}
}

func TestPendingLimit(t *testing.T) { // C110, C111, C112, C127, C128
	ch, f := newFakeChannel(t, nil, WithMaxPendingRequests(3))
	var ps []*Pending
	for i := 0; i < 3; i++ {
		p, err := ch.Go(context.Background(), "m", nil)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
		f.next(t)
	}
	_, err := ch.Go(context.Background(), "m", nil)
	if !errors.Is(err, ErrBackpressure) || !strings.Contains(err.Error(), "3") || !strings.Contains(err.Error(), "pending") {
		t.Fatalf("%v", err)
	}
	f.none(t, 30*time.Millisecond) // nothing sent
	answer(f, ps[0].ID(), "1")
	if err := ps[0].Wait(ctxT(t, time.Second), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Go(context.Background(), "m", nil); err != nil {
		t.Fatalf("capacity not returned: %v", err)
	}
	if DefaultConfig().MaxPendingRequests != 1000 {
		t.Fatal("default pending limit")
	}
}

func TestPendingLimitConcurrent(t *testing.T) { // C129, C163
	ch, _ := newFakeChannel(t, nil, WithMaxPendingRequests(5))
	var ok, bp atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := ch.Go(context.Background(), "m", nil); err == nil {
				ok.Add(1)
			} else if errors.Is(err, ErrBackpressure) {
				bp.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 5 || bp.Load() != 45 {
		t.Fatalf("ok %d backpressure %d", ok.Load(), bp.Load())
	}
}

func TestCustomIDRules(t *testing.T) { // C113, C172, C176, §3 outgoing checks
	ch, f := newFakeChannel(t, nil)
	if _, err := ch.Go(context.Background(), "m", nil, WithCallID(strings.Repeat("x", 257))); !errors.Is(err, ErrInvalidID) {
		t.Fatalf("257-char id: %v", err)
	}
	p, err := ch.Go(context.Background(), "m", nil, WithCallID("same"))
	if err != nil {
		t.Fatal(err)
	}
	f.next(t)
	_, err = ch.Go(context.Background(), "m", nil, WithCallID("same"))
	if !errors.Is(err, ErrInvalidID) || !strings.Contains(err.Error(), "same") {
		t.Fatalf("duplicate: %v", err)
	}
	answer(f, "same", "1")
	_ = p.Wait(ctxT(t, time.Second), nil)
	// Cleared, but within the 10 s cooldown (C114: reuse only after 10 s).
	if _, err := ch.Go(context.Background(), "m", nil, WithCallID("same")); !errors.Is(err, ErrInvalidID) || !strings.Contains(err.Error(), "cooldown") {
		t.Fatalf("cooldown: %v", err)
	}
	ch.mu.Lock()
	ch.recent["same"] = time.Now().Add(-10100 * time.Millisecond) // as if 10.1 s had passed
	ch.mu.Unlock()
	if _, err := ch.Go(context.Background(), "m", nil, WithCallID("same")); err != nil {
		t.Fatalf("reuse after cooldown: %v", err)
	}
	// 100 concurrent uses of one id: exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := ch.Go(context.Background(), "m", nil, WithCallID("race")); err == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d wins", wins.Load())
	}
}

func TestGeneratedIDsUnique(t *testing.T) { // C174, C175
	seen := make(map[string]bool, 10000)
	for i := 0; i < 10000; i++ {
		id := newID()
		if seen[id] || len(id) != 32 || strings.ToLower(id) != id {
			t.Fatalf("bad or duplicate id %q", id)
		}
		seen[id] = true
	}
	ch, _ := newFakeChannel(t, nil, WithMaxPendingRequests(2000), func(c *Config) { c.MaxSendQueue = -1 })
	var wg sync.WaitGroup
	var fails atomic.Int32
	for i := 0; i < 1500; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := ch.Go(context.Background(), "m", nil); err != nil {
				fails.Add(1)
			}
		}()
	}
	wg.Wait()
	if fails.Load() != 0 || ch.PendingCount() != 1500 {
		t.Fatalf("fails %d count %d", fails.Load(), ch.PendingCount())
	}
}

func TestTTLSweep(t *testing.T) { // C116, C118, C125, C182 (uncollected answers only)
	ch, f := newFakeChannel(t, nil)
	old, _ := ch.Go(context.Background(), "m", nil)
	waited, _ := ch.Go(context.Background(), "m", nil)
	f.next(t)
	f.next(t)
	go func() { _ = waited.Wait(ctxT(t, 5*time.Second), nil) }()
	time.Sleep(20 * time.Millisecond)
	ch.mu.Lock()
	old.created = old.created.Add(-2 * pendingTTL)
	waited.created = waited.created.Add(-2 * pendingTTL)
	ch.lastSweep = ch.lastSweep.Add(-2 * pendingTTL)
	ch.mu.Unlock()
	fresh, _ := ch.Go(context.Background(), "m", nil) // triggers the sweep
	f.next(t)
	if ch.PendingCount() != 2 { // old swept; waited (has a waiter, GO-REC) and fresh kept
		t.Fatalf("count %d", ch.PendingCount())
	}
	if _, ok := ch.TakeResponse(old.ID()); ok {
		t.Fatal("swept entry still there")
	}
	answer(f, waited.ID(), "1")
	answer(f, fresh.ID(), `"hi"`)
	time.Sleep(50 * time.Millisecond)
	resp, ok := ch.TakeResponse(fresh.ID())
	if !ok || !strings.Contains(string(resp), `"result":"hi"`) || !strings.Contains(string(resp), fresh.ID()) {
		t.Fatalf("%s %v", resp, ok)
	}
	if _, ok := ch.TakeResponse(fresh.ID()); ok { // removed on fetch
		t.Fatal("fetched twice")
	}
}

func TestSendQueueLimit(t *testing.T) { // C130, C134
	ch, f := newFakeChannel(t, nil, func(c *Config) { c.MaxSendQueue = 5 })
	f.mu.Lock()
	f.block = make(chan struct{})
	f.mu.Unlock()
	var ok, bp atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := ch.Notify(context.Background(), "n", nil)
			if err == nil {
				ok.Add(1)
			} else if errors.Is(err, ErrBackpressure) && strings.Contains(err.Error(), "Send queue full") {
				bp.Add(1)
			}
		}()
	}
	for deadline := time.Now().Add(3 * time.Second); bp.Load() < 5 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	f.mu.Lock()
	close(f.block)
	f.block = nil
	f.mu.Unlock()
	wg.Wait()
	if ok.Load() != 5 || bp.Load() != 5 {
		t.Fatalf("ok %d backpressure %d", ok.Load(), bp.Load())
	}
}

func TestSendQueueUnlimitedAndRecovers(t *testing.T) { // C131, C132
	ch, f := newFakeChannel(t, nil, func(c *Config) { c.MaxSendQueue = -1 })
	for i := 0; i < 100; i++ {
		if err := ch.Notify(context.Background(), "n", nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 100; i++ {
		f.next(t)
	}
	ch2, _ := newFakeChannel(t, nil, func(c *Config) { c.MaxSendQueue = 5 })
	for i := 0; i < 10; i++ {
		if err := ch2.Notify(context.Background(), "n", nil); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSendOnClosed(t *testing.T) { // C133, C140, C202, C205
	ch, f := newFakeChannel(t, nil)
	for i := 0; i < 3; i++ {
		_ = ch.Close()
	}
	if err := ch.Notify(context.Background(), "n", nil); !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "closed") {
		t.Fatal(err)
	}
	if _, err := ch.Go(context.Background(), "m", nil); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	f.mu.Lock()
	closes := f.closes
	f.mu.Unlock()
	if closes != 1 {
		t.Fatalf("socket closed %d times", closes)
	}
	select {
	case <-ch.Done():
	default:
		t.Fatal("Done not closed")
	}
}

func TestSendFailurePropagates(t *testing.T) { // C199, C207, C208
	var hookErr atomic.Value
	ch, f := newFakeChannel(t, nil, WithOnError(func(ch *Channel, err error) { hookErr.Store(err) }))
	f.mu.Lock()
	f.failW = errors.New("connection reset")
	f.mu.Unlock()
	// A reply that cannot be written reaches the error hook (C208).
	f.peerSend(`{"jsonrpc":"2.0","id":"x","method":"ping"}`)
	deadline := time.Now().Add(2 * time.Second)
	for hookErr.Load() == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err, _ := hookErr.Load().(error); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("error hook: %v", err)
	}
	// The sender gets the failure: not sent (ErrClosed, not ErrConnectionLost), and the
	// broken connection is closed (C199, C207).
	err := ch.Notify(context.Background(), "n", nil)
	if !errors.Is(err, ErrClosed) || errors.Is(err, ErrConnectionLost) {
		t.Fatal(err)
	}
	select {
	case <-ch.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("channel not closed after a write failure")
	}
	if !errors.Is(ch.Err(), ErrConnectionLost) {
		t.Fatal(ch.Err())
	}
	_ = ch.Close() // still closable
}

func TestWriteFailureFailsPendingCalls(t *testing.T) {
	ch, f := newFakeChannel(t, nil)
	p, err := ch.Go(context.Background(), "m", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.next(t)
	f.mu.Lock()
	f.failW = errors.New("broken pipe")
	f.mu.Unlock()
	if err := ch.Notify(context.Background(), "n", nil); !errors.Is(err, ErrClosed) || errors.Is(err, ErrConnectionLost) {
		t.Fatal(err)
	}
	// The call sent before may have run: connection lost.
	if err := p.Wait(ctxT(t, 2*time.Second), nil); !errors.Is(err, ErrConnectionLost) {
		t.Fatal(err)
	}
}

func TestDisconnectHookOnce(t *testing.T) { // C189, C190
	var n atomic.Int32
	ch, f := newFakeChannel(t, nil, WithOnDisconnect(func(c *Channel, err error) {
		n.Add(1)
		panic("hook failure is contained")
	}))
	for i := 0; i < 5; i++ {
		_, _ = ch.Go(context.Background(), "m", nil)
		f.next(t)
	}
	_ = ch.Close()
	_ = ch.Close()
	if n.Load() != 1 || ch.PendingCount() != 0 {
		t.Fatalf("hook ran %d times", n.Load())
	}
}

func TestCloseFromDisconnectHook(t *testing.T) {
	done := make(chan struct{})
	ch, f := newFakeChannel(t, nil, WithOnDisconnect(func(c *Channel, err error) {
		_ = c.Close() // must not deadlock when the read loop runs the hook
		close(done)
	}))
	_ = ch
	_ = f.CloseNow() // the peer goes away: the read loop closes the channel
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close from the disconnect hook deadlocked")
	}
}

func TestNewChannelNewID(t *testing.T) { // C206
	a, _ := newFakeChannel(t, nil)
	b, _ := newFakeChannel(t, nil)
	if a.ID() == b.ID() {
		t.Fatal("same id")
	}
}

func TestMaxConnectionDuration(t *testing.T) { // C194, C214
	var n atomic.Int32
	ch, f := newFakeChannel(t, nil, func(c *Config) { c.MaxConnectionDuration = 150 * time.Millisecond },
		WithOnDisconnect(func(*Channel, error) { n.Add(1) }))
	if left, ok := ch.Remaining(); !ok || left <= 0 {
		t.Fatal("Remaining")
	}
	select {
	case <-ch.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("not closed after max duration")
	}
	f.mu.Lock()
	code := f.closeCd
	f.mu.Unlock()
	if code != 1000 || n.Load() != 1 || !errors.Is(ch.Err(), ErrClosed) {
		t.Fatalf("code %d hooks %d err %v", code, n.Load(), ch.Err())
	}
}

func TestIdleTimeout(t *testing.T) { // C215 (fake transport; live variant in live_test.go)
	ch, f := newFakeChannel(t, nil, func(c *Config) { c.IdleTimeout = 600 * time.Millisecond })
	for i := 0; i < 4; i++ { // messages keep it alive (wide margins: CI machines are busy)
		time.Sleep(100 * time.Millisecond)
		f.peerSend(`{"jsonrpc":"2.0","method":"keepalive"}`)
	}
	if ch.isClosed() {
		t.Fatal("closed while active")
	}
	select {
	case <-ch.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("not closed when idle")
	}
}

func TestConcurrentMixed(t *testing.T) { // C159, C161, C168, C169, C170
	m, _ := protoMethods()
	ch, f := newFakeChannel(t, m, WithMaxPendingRequests(2000))
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var v int
			p, err := ch.Go(context.Background(), "m", nil)
			if err != nil {
				errs <- err
				return
			}
			if err := p.Wait(ctxT(t, 10*time.Second), &v); err != nil {
				errs <- err
			}
		}()
	}
	// Answer every request, and send 20 incoming requests while they are pending.
	replies := 0
	for i := 0; i < 20; i++ {
		f.peerSend(fmt.Sprintf(`{"jsonrpc":"2.0","id":"in-%d","method":"add","params":{"a":%d,"b":%d}}`, i, i, i))
	}
	for seen := 0; seen < 220; seen++ {
		msg := f.next(t)
		if msg["method"] == "m" {
			answer(f, msg["id"].(string), "1")
		} else {
			replies++
			id := msg["id"].(string)
			var i int
			fmt.Sscanf(id, "in-%d", &i)
			if msg["result"] != json.Number(fmt.Sprint(2*i)) {
				t.Fatalf("reply %v", msg)
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if replies != 20 || ch.PendingCount() != 0 {
		t.Fatalf("replies %d pending %d", replies, ch.PendingCount())
	}
}

func TestSlowHandlersRunConcurrently(t *testing.T) { // C160: a slow method does not block others
	m := NewMethods()
	var running, peak atomic.Int32
	m.Handle("slow", func(ctx context.Context, _ json.RawMessage) (any, error) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
		running.Add(-1)
		return 1, nil
	})
	_, f := newFakeChannel(t, m)
	for i := 0; i < 10; i++ {
		f.peerSend(fmt.Sprintf(`{"jsonrpc":"2.0","id":"%d","method":"slow"}`, i))
	}
	for i := 0; i < 10; i++ {
		f.next(t)
	}
	if peak.Load() < 5 {
		t.Fatalf("peak concurrency %d", peak.Load())
	}
}

func TestAbandonedCallsLeaveNothing(t *testing.T) { // no goroutine or memory growth
	ch, f := newFakeChannel(t, nil, WithMaxPendingRequests(100000), func(c *Config) { c.MaxSendQueue = -1 })
	go func() { // the peer reads and never answers
		for {
			select {
			case <-f.out:
			case <-f.closed:
				return
			}
		}
	}()
	before := runtime.NumGoroutine()
	var wg sync.WaitGroup
	for i := 0; i < 5000; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			defer cancel()
			if err := ch.Call(ctx, "m", nil, nil); !errors.Is(err, ErrTimeout) {
				t.Errorf("want timeout, got %v", err)
			}
		}()
	}
	wg.Wait()
	if n := ch.PendingCount(); n != 0 {
		t.Fatalf("%d abandoned calls still pending", n)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Fatalf("goroutines grew from %d to %d", before, n)
	}
}

// Large messages encoded through the pooled buffers must never corrupt one another
// (jwriter's own chunk pool must not get hold of our buffers).
func TestLargeConcurrentMessagesIntact(t *testing.T) {
	m := NewMethods()
	Register(m, "echo", func(ctx context.Context, p struct {
		S string `json:"s"`
	}) (string, error) {
		return p.S, nil
	})
	_, url := startServer(t, m, func(c *Config) { c.MaxSendQueue = -1 })
	c := dialTest(t, url, func(c *Config) { c.MaxSendQueue = -1 })
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				in := strings.Repeat(string(rune('a'+i%26)), 1000+i*997+j*4093)
				var out string
				if err := c.Call(ctxT(t, 20*time.Second), "echo", map[string]string{"s": in}, &out); err != nil {
					errs <- err
					return
				}
				if out != in {
					errs <- fmt.Errorf("corrupted answer: %d bytes, want %d", len(out), len(in))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// Generated call ids are 32 lowercase hex digits (like Python's uuid4().hex), distinct on a
// channel and between channels.
func TestGeneratedCallIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 2 {
		ch, f := newFakeChannel(t, nil)
		for range 50 {
			p, err := ch.Go(context.Background(), "m", nil)
			if err != nil {
				t.Fatal(err)
			}
			id, _ := f.next(t)["id"].(string)
			if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
				t.Fatalf("id %q: not 32 hex digits", id)
			}
			if seen[id] {
				t.Fatalf("id %q generated twice", id)
			}
			seen[id] = true
			_ = p
		}
	}
}
