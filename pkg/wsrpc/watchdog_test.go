//go:build !js

package wsrpc

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// A handler that blocks holds the reader only until the watchdog moves the reading on:
// a request behind it is answered while it still blocks, and it is answered once it
// returns.
func TestWatchdogMovesReadingPastBlockedHandler(t *testing.T) {
	m := NewMethods()
	release, stop := make(chan struct{}), make(chan struct{})
	m.Handle("block", func(ctx context.Context, _ json.RawMessage) (any, error) {
		select {
		case <-release:
			return "released", nil
		case <-stop: // the test failed: let the channel close
			return nil, nil
		}
	})
	m.Handle("quick", func(ctx context.Context, _ json.RawMessage) (any, error) { return "quick", nil })
	_, f := newFakeChannel(t, m)
	t.Cleanup(func() { close(stop) })    // (runs before the channel's cleanup)
	for round := 0; round < 3; round++ { // the reading moves on each time, to a new reader
		f.peerSend(`{"jsonrpc":"2.0","id":"b","method":"block"}`)
		f.peerSend(`{"jsonrpc":"2.0","id":"q","method":"quick"}`)
		if got := f.next(t); got["id"] != "q" || got["result"] != "quick" {
			t.Fatalf("round %d: first answer %v, want the quick call's while the other blocks", round, got)
		}
		release <- struct{}{}
		if got := f.next(t); got["id"] != "b" || got["result"] != "released" {
			t.Fatalf("round %d: second answer %v", round, got)
		}
	}
}

// The watchdog runs only while readers are busy, and ends when they have been idle.
func TestWatchdogEndsWhenIdle(t *testing.T) {
	m := NewMethods()
	m.Handle("quick", func(ctx context.Context, _ json.RawMessage) (any, error) { return 1, nil })
	_, f := newFakeChannel(t, m)
	f.peerSend(`{"jsonrpc":"2.0","id":"1","method":"quick"}`)
	f.next(t)
	running := func() bool {
		watchdog.mu.Lock()
		defer watchdog.mu.Unlock()
		return watchdog.running
	}
	if !running() {
		t.Fatal("watchdog not running after a request was served inline")
	}
	deadline := time.Now().Add(5 * time.Second)
	for running() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if running() {
		t.Fatalf("watchdog still running %v after the last request", 5*time.Second)
	}
}

// A handler served by the reader that calls the peer back and waits for the answer hands
// the reading on at once (the watchdog is paused here: without the handoff, the answer
// would never be read).
func TestCallBackFromInlineHandlerHandsReadingOn(t *testing.T) {
	watchdogPaused.Store(true)
	t.Cleanup(func() { watchdogPaused.Store(false) })
	m := NewMethods()
	m.Handle("ask_back", func(ctx context.Context, _ json.RawMessage) (any, error) {
		var out string
		if err := ChannelFromContext(ctx).Call(ctx, "peer_method", nil, &out); err != nil {
			return nil, err
		}
		return "peer said " + out, nil
	})
	_, f := newFakeChannel(t, m)
	for round := 0; round < 3; round++ {
		f.peerSend(`{"jsonrpc":"2.0","id":"a","method":"ask_back"}`)
		req := f.next(t)
		if req["method"] != "peer_method" {
			t.Fatalf("round %d: want the call back, got %v", round, req)
		}
		f.peerSend(`{"jsonrpc":"2.0","id":"` + req["id"].(string) + `","result":"hi"}`)
		if got := f.next(t); got["id"] != "a" || got["result"] != "peer said hi" {
			t.Fatalf("round %d: answer %v", round, got)
		}
	}
}

// Detach lets the connection read on at once while the handler blocks (the watchdog is
// paused here); it does nothing for a context that is not an inline handler's.
func TestDetach(t *testing.T) {
	watchdogPaused.Store(true)
	t.Cleanup(func() { watchdogPaused.Store(false) })
	Detach(context.Background()) // no-op
	m := NewMethods()
	release, stop := make(chan struct{}), make(chan struct{})
	m.Handle("block", func(ctx context.Context, _ json.RawMessage) (any, error) {
		Detach(ctx)
		Detach(ctx) // twice: still one reader
		select {
		case <-release:
			return "released", nil
		case <-stop:
			return nil, nil
		}
	})
	m.Handle("quick", func(ctx context.Context, _ json.RawMessage) (any, error) { return "quick", nil })
	_, f := newFakeChannel(t, m)
	t.Cleanup(func() { close(stop) })
	f.peerSend(`{"jsonrpc":"2.0","id":"b","method":"block"}`)
	f.peerSend(`{"jsonrpc":"2.0","id":"q","method":"quick"}`)
	if got := f.next(t); got["id"] != "q" {
		t.Fatalf("first answer %v, want the quick call's while the other blocks", got)
	}
	release <- struct{}{}
	if got := f.next(t); got["id"] != "b" || got["result"] != "released" {
		t.Fatalf("second answer %v", got)
	}
}
