//go:build !js

package wsrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestStress mixes every way of calling over one client connection while the server
// calls back, notifies on its own, and both sides ping (WebSocket pings from keepalive
// every few ms, and explicit ones), with random cancels and, in every other round, the
// client closed half-way. Every call must end with its own answer or an allowed error,
// and nothing may hang. `make test` runs a few seconds of it; `make soak` (part of
// `make fuzz`) runs it for minutes: WSRPC_STRESS_ROUNDS, WSRPC_STRESS_ITERS.
func TestStress(t *testing.T) {
	type echoParams struct {
		N     int `json:"n"`
		Sleep int `json:"sleep"` // microseconds
	}
	m := NewMethods()
	Register(m, "echo", func(ctx context.Context, p echoParams) (int, error) {
		if p.Sleep > 0 {
			time.Sleep(time.Duration(p.Sleep) * time.Microsecond)
		}
		return p.N, nil
	})
	Register(m, "cb", func(ctx context.Context, p struct {
		N int `json:"n"`
	}) (int, error) { // calls the client back, notifying it first
		ch := ChannelFromContext(ctx)
		_ = ch.Notify(ctx, "note", map[string]int{"n": p.N})
		var twice int
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := ch.Call(cctx, "twice", map[string]int{"n": p.N}, &twice); err != nil {
			return 0, err
		}
		return twice + 1, nil
	})
	var bg sync.WaitGroup
	Register(m, "push", func(ctx context.Context, p struct {
		N int `json:"n"`
	}) (string, error) { // notifies and pings the client later, on its own
		ch := ChannelFromContext(ctx)
		bg.Add(1)
		go func() {
			defer bg.Done()
			time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
			_ = ch.Notify(context.Background(), "note", map[string]int{"n": p.N})
			if rand.IntN(3) == 0 {
				pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_ = ch.Ping(pctx, false)
				cancel()
			}
		}()
		return "ok", nil
	})
	// Keepalive pings every 5 ms from both sides; a missed pong in 2.5 ms would drop the
	// connection, which a loaded machine may well cause: so allow many failures.
	keep := func(c *Config) { c.Keepalive = KeepaliveConfig{Interval: 5 * time.Millisecond, MaxFailures: 1000} }
	srv, url := startServer(t, m, keep)
	// The server's handlers add to bg: close the server (its handlers done) before waiting.
	defer func() { _ = srv.Close(); bg.Wait() }()

	const workers = 8
	iters := envInt("WSRPC_STRESS_ITERS", 300)
	for round := range envInt("WSRPC_STRESS_ROUNDS", 6) {
		cm := NewMethods()
		var client atomic.Pointer[Client]
		Register(cm, "twice", func(ctx context.Context, p struct {
			N int `json:"n"`
		}) (int, error) {
			if rand.IntN(2) == 0 { // and calls the server from the callback
				var r int
				cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				defer cancel()
				if err := client.Load().Call(cctx, "echo", echoParams{N: 7}, &r); err != nil || r != 7 {
					return 0, fmt.Errorf("nested echo = %d, %v", r, err)
				}
			}
			return 2 * p.N, nil
		})
		cm.Handle("note", func(ctx context.Context, _ json.RawMessage) (any, error) { return nil, nil })
		c := dialTest(t, url, WithMethods(cm), keep)
		client.Store(c)
		closeAt := -1
		if round%2 == 1 {
			closeAt = iters / 2
		}
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range iters {
					if w == 0 && i == closeAt {
						bg.Add(1)
						go func() { defer bg.Done(); _ = c.Close() }()
					}
					if err := stressOne(c, w*100000+i); err != nil {
						if closeAt >= 0 && errors.Is(err, ErrClosed) {
							return // closed under us (ErrConnectionLost matches ErrClosed too)
						}
						errs <- err
						return
					}
				}
			}()
		}
		finished := make(chan struct{})
		go func() { wg.Wait(); close(finished) }()
		select {
		case <-finished:
		case <-time.After(2 * time.Minute):
			t.Fatalf("round %d: callers still waiting after 2 minutes", round)
		}
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
		_ = c.Close()
	}
}

// stressOne makes one call of a random kind and checks its answer.
func stressOne(c *Client, n int) error {
	var got int
	var err error
	want := n
	sleep := 0
	if rand.IntN(10) == 0 {
		sleep = rand.IntN(3000)
	}
	params := map[string]any{"n": n, "sleep": sleep}
	kind := rand.IntN(9)
	switch kind {
	case 0, 1: // no deadline
		err = c.Call(context.Background(), "echo", params, &got)
	case 2: // a generous deadline
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = c.Call(ctx, "echo", params, &got)
		cancel()
	case 3: // a tiny deadline: may time out
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(1500))*time.Microsecond)
		err = c.Call(ctx, "echo", params, &got)
		cancel()
		if errors.Is(err, ErrTimeout) {
			err, got = nil, want
		}
	case 4: // cancelled at a random moment
		ctx, cancel := context.WithCancel(context.Background())
		t := time.AfterFunc(time.Duration(rand.IntN(1500))*time.Microsecond, cancel)
		err = c.Call(ctx, "echo", params, &got)
		t.Stop()
		cancel()
		if errors.Is(err, context.Canceled) {
			err, got = nil, want
		}
	case 5: // Go, then Wait
		var p *Pending
		if p, err = c.Go(context.Background(), "echo", params); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			err = p.Wait(ctx, &got)
			cancel()
		}
	case 6: // the server calls back
		want = 2*n + 1
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = c.Call(ctx, "cb", map[string]int{"n": n}, &got)
		cancel()
	case 7: // the server notifies and pings later
		var s string
		err = c.Call(context.Background(), "push", map[string]int{"n": n}, &s)
		got = want
		if err == nil && s != "ok" {
			err = fmt.Errorf("push = %q", s)
		}
	case 8: // a notification, then a ping of either kind
		err = c.Notify(context.Background(), "echo", params)
		got = want
		if ch := c.Channel(); err == nil && ch != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			err = ch.Ping(ctx, rand.IntN(2) == 0)
			cancel()
		}
	}
	if err == nil && got != want {
		return fmt.Errorf("kind %d: call %d answered %d (another call's answer)", kind, n, got)
	}
	if err != nil {
		return fmt.Errorf("kind %d, call %d: %w", kind, n, err)
	}
	return nil
}
