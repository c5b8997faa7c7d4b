//go:build !js

package wsrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// blockingMethods has "block": it tells started, then waits for its context to end and
// tells when it saw that on cancelled.
func blockingMethods(started chan<- string, cancelled chan<- time.Time) *Methods {
	m := NewMethods()
	m.Handle("block", func(ctx context.Context, p json.RawMessage) (any, error) {
		started <- string(p)
		select {
		case <-ctx.Done():
			cancelled <- time.Now()
			return nil, ctx.Err()
		case <-time.After(10 * time.Second):
			return "not cancelled", nil
		}
	})
	return m
}

func TestCancelOnTheWire(t *testing.T) {
	started, cancelled := make(chan string, 1), make(chan time.Time, 1)
	_, url := startServer(t, blockingMethods(started, cancelled))
	c := dialTest(t, url)
	ch := c.Channel()
	if ch.Subprotocol() != ExtensionSubprotocol || !ch.Extended() {
		t.Fatalf("negotiated %q, want %q", ch.Subprotocol(), ExtensionSubprotocol)
	}

	// The caller cancels its context.
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Call(ctx, "block", nil, nil) }()
	<-started
	at := time.Now()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("call: %v, want context.Canceled", err)
	}
	select {
	case seen := <-cancelled:
		t.Logf("handler saw the caller's cancel after %v", seen.Sub(at))
	case <-time.After(5 * time.Second): // generous: it takes well under 50 ms
		t.Fatal("the handler's context was not cancelled")
	}

	// The caller's deadline passes (also as a custom id, in a batch).
	dctx, dcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer dcancel()
	b := c.NewBatch()
	p := b.Call("block", []int{2}, WithCallID("custom-2"))
	if err := b.Send(dctx); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := p.Wait(dctx, nil); !errors.Is(err, ErrTimeout) {
		t.Errorf("call: %v, want ErrTimeout", err)
	}
	at = time.Now()
	select {
	case seen := <-cancelled:
		t.Logf("handler saw the caller's deadline after %v", seen.Sub(at))
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context was not cancelled at the caller's deadline")
	}
}

// TestCancelServerToClient: the same from a server's handler calling its client back.
func TestCancelServerToClient(t *testing.T) {
	started, cancelled := make(chan string, 1), make(chan time.Time, 1)
	m := NewMethods()
	m.Handle("callback", func(ctx context.Context, _ json.RawMessage) (any, error) {
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		return nil, ChannelFromContext(ctx).Call(cctx, "block", nil, nil)
	})
	_, url := startServer(t, m)
	c := dialTest(t, url, WithMethods(blockingMethods(started, cancelled)))
	if err := c.Call(ctxT(t, 5*time.Second), "callback", nil, nil); !errors.Is(err, ErrInternal) {
		t.Errorf("callback: %v, want the server's -32603", err)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the client's handler was not cancelled")
	}
}

// TestCancelNotNegotiated: without the extension, nothing but the call goes out, and a
// peer's "$/cancelRequest" is an unknown method.
func TestCancelNotNegotiated(t *testing.T) {
	started, cancelled := make(chan string, 1), make(chan time.Time, 1)
	_, url := startServer(t, blockingMethods(started, cancelled))
	c := dialTest(t, url, func(c *Config) { c.NoExtensions = true })
	if ch := c.Channel(); ch.Subprotocol() != DefaultSubprotocol || ch.Extended() {
		t.Fatalf("negotiated %q", ch.Subprotocol())
	}

	ch, f := newFakeChannel(t, nil) // subprotocol "jsonrpc2.0"
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := ch.Call(ctx, "slow", nil, nil); !errors.Is(err, ErrTimeout) {
		t.Fatal(err)
	}
	if m := f.next(t); m["method"] != "slow" {
		t.Fatalf("sent %v", m)
	}
	f.none(t, 100*time.Millisecond)
	f.peerSend(`{"jsonrpc":"2.0","id":"x","method":"$/cancelRequest","params":{"id":"y"}}`)
	if m := f.next(t); errCode(m) != CodeMethodNotFound || !strings.Contains(errMessage(m), CancelMethod) {
		t.Errorf("got %v", m)
	}
}

func TestNegotiatedSubprotocols(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "jsonrpc2.0+wsrpc,jsonrpc2.0"},
		{Config{Subprotocols: []string{"custom.v1", "jsonrpc2.0"}}, "custom.v1,jsonrpc2.0+wsrpc,jsonrpc2.0"},
		{Config{Subprotocols: []string{"custom.v1"}}, "custom.v1"},
		{Config{Subprotocols: []string{}}, ""},
		{Config{NoExtensions: true}, "jsonrpc2.0"},
		{Config{Dialect: DialectLegacy}, "jsonrpc2.0"},
	}
	for _, c := range cases {
		if got := strings.Join(c.cfg.negotiated(), ","); got != c.want {
			t.Errorf("%+v: %q, want %q", c.cfg.Subprotocols, got, c.want)
		}
	}
	if cfg, _ := ParseConfig([]byte(`{"extensions": false}`)); !cfg.NoExtensions {
		t.Error(`"extensions": false not applied`)
	}
}

// TestCancelRightAfterRequest: a cancellation that arrives right behind its request (read
// before the handler has started) still cancels it.
func TestCancelRightAfterRequest(t *testing.T) {
	started, cancelled := make(chan string, 10), make(chan time.Time, 10)
	_, url := startServer(t, blockingMethods(started, cancelled))
	wc := rawDial(t, url, ExtensionSubprotocol, DefaultSubprotocol)
	if wc.Subprotocol() != ExtensionSubprotocol {
		t.Fatalf("negotiated %q", wc.Subprotocol())
	}
	ctx := ctxT(t, 5*time.Second)
	for i := range 20 {
		id := fmt.Sprintf(`"r%d"`, i)
		msgs := []string{
			`{"jsonrpc":"2.0","id":` + id + `,"method":"block"}`,
			`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":` + id + `}}`,
		}
		for _, m := range msgs {
			if err := wc.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
				t.Fatal(err)
			}
		}
		_, b, err := wc.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal server error"},"id":` + id + `}`; string(b) != want {
			t.Fatalf("got %s, want %s", b, want)
		}
		<-started
		<-cancelled
	}
}

// A cancellable handler context is a context.Context in full although its Done channel is
// made lazily: a handler that polls Err sees the peer's cancellation without ever calling
// Done, a context derived from it ends with it, Err and Done agree, and when the handler
// returns, what it derived ends too.
func TestCancelLazyHandlerContext(t *testing.T) {
	polled, derived := make(chan error, 1), make(chan error, 1)
	var kept context.Context
	keptc := make(chan struct{})
	m := NewMethods()
	m.Handle("poll", func(ctx context.Context, _ json.RawMessage) (any, error) {
		for ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		select {
		case <-ctx.Done():
		default:
			t.Error("Err is set but Done is not closed")
		}
		polled <- ctx.Err()
		return nil, ctx.Err()
	})
	m.Handle("derive", func(ctx context.Context, _ json.RawMessage) (any, error) {
		dctx, cancel := context.WithTimeout(ctx, time.Hour)
		defer cancel()
		<-dctx.Done()
		derived <- dctx.Err()
		return nil, dctx.Err()
	})
	m.Handle("keep", func(ctx context.Context, _ json.RawMessage) (any, error) {
		kept = ctx
		close(keptc)
		return "ok", nil
	})
	_, url := startServer(t, m)
	c := dialTest(t, url)
	for _, method := range []string{"poll", "derive"} {
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- c.Call(ctx, method, nil, nil) }()
		time.Sleep(20 * time.Millisecond) // let the request reach its handler (not needed for correctness)
		cancel()
		<-errc
		out := map[string]chan error{"poll": polled, "derive": derived}[method]
		select {
		case err := <-out:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s: handler saw %v, want context.Canceled", method, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the handler's context was not cancelled", method)
		}
	}
	if err := c.Call(ctxT(t, 5*time.Second), "keep", nil, nil); err != nil {
		t.Fatal(err)
	}
	<-keptc
	select {
	case <-kept.Done():
		if !errors.Is(kept.Err(), context.Canceled) {
			t.Errorf("after the handler returned: Err %v, want context.Canceled", kept.Err())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a handler's context did not end after it returned")
	}
}
