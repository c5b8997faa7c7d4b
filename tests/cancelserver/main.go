// Command cancelserver is the Go peer of the C and Python skins' cancellation tests
// (tests/c, bindings/python/tests): its handler wait_cancel blocks until its context ends
// and records when, so that a test can measure how long after its cancel a Go handler sees
// ctx.Done(). It prints "LISTENING <port>" once it serves.
//
// Methods (positional params):
//
//	wait_cancel(tag)         blocks until the request's context ends (at most 60 s)
//	started(tag, wait_s)     whether wait_cancel(tag) has started, waiting up to wait_s
//	cancelled(tag, wait_s)   when (Unix ns, the wall clock) wait_cancel(tag) saw ctx.Done(),
//	                         waiting up to wait_s; 0 if it has not
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// slot is what the server knows of one tag.
type slot struct {
	started  chan struct{}
	canceled chan struct{}
	at       int64 // Unix ns when the handler saw ctx.Done(); set before canceled closes
}

type slots struct {
	mu sync.Mutex
	m  map[string]*slot
}

func (s *slots) get(tag string) *slot {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := s.m[tag]
	if sl == nil {
		sl = &slot{started: make(chan struct{}), canceled: make(chan struct{})}
		s.m[tag] = sl
	}
	return sl
}

// start marks tag's slot started; false if it was already.
func (s *slots) start(tag string) (*slot, bool) {
	sl := s.get(tag)
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-sl.started:
		return sl, false
	default:
		close(sl.started)
		return sl, true
	}
}

// args decodes [tag] or [tag, wait_s].
func args(params json.RawMessage) (string, time.Duration, error) {
	var p []json.RawMessage
	var tag string
	var wait float64
	if err := json.Unmarshal(params, &p); err != nil || len(p) == 0 || json.Unmarshal(p[0], &tag) != nil {
		return "", 0, &wsrpc.Error{Code: wsrpc.CodeInvalidParams, Message: "want [tag] or [tag, wait_s]"}
	}
	if len(p) > 1 && json.Unmarshal(p[1], &wait) != nil {
		return "", 0, &wsrpc.Error{Code: wsrpc.CodeInvalidParams, Message: "wait_s must be a number"}
	}
	return tag, time.Duration(wait * float64(time.Second)), nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()

	all := &slots{m: map[string]*slot{}}
	m := wsrpc.NewMethods()
	m.Handle("wait_cancel", func(ctx context.Context, params json.RawMessage) (any, error) {
		tag, _, err := args(params)
		if err != nil {
			return nil, err
		}
		sl, ok := all.start(tag)
		if !ok {
			return nil, &wsrpc.Error{Code: wsrpc.CodeInvalidParams, Message: "tag used already: " + tag}
		}
		t := time.NewTimer(60 * time.Second)
		defer t.Stop()
		select {
		case <-ctx.Done():
			sl.at = time.Now().UnixNano()
			close(sl.canceled)
			return nil, ctx.Err()
		case <-t.C:
			return "done", nil
		}
	})
	wait := func(pick func(*slot) chan struct{}, value func(*slot) any, zero any) wsrpc.HandlerFunc {
		return func(ctx context.Context, params json.RawMessage) (any, error) {
			tag, d, err := args(params)
			if err != nil {
				return nil, err
			}
			sl := all.get(tag)
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-pick(sl):
				return value(sl), nil
			case <-t.C:
				return zero, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	m.Handle("started", wait(func(s *slot) chan struct{} { return s.started }, func(*slot) any { return true }, false))
	m.Handle("cancelled", wait(func(s *slot) chan struct{} { return s.canceled }, func(s *slot) any { return s.at }, 0))

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := wsrpc.NewServer(m, wsrpc.WithLogger(logger))
	if err != nil {
		slog.Error("server", "err", err)
		os.Exit(1)
	}
	l, err := wsrpc.Listen(*addr, "/ws", srv)
	if err != nil {
		slog.Error("listen", "err", err)
		os.Exit(1)
	}
	fmt.Printf("LISTENING %d\n", l.Addr().(*net.TCPAddr).Port)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	_ = l.Close()
}
