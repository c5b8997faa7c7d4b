//go:build !js

package wsrpc

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"
)

// eventually waits (generously: the machine may be loaded) until get returns want, and
// fails with the last difference otherwise. Counters of a message move once it has been
// written or read, which the other side may see first: the wait is for that.
func eventually(t *testing.T, what string, get func() Stats, want Stats) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := get()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Fatalf("%s stats\n got %s\nwant %s", what, g, w)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// idle waits until every handler slot of the channels is free again (a handler gives its
// slot back after it returns).
func idle(t *testing.T, chans ...*Channel) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for slices.ContainsFunc(chans, func(ch *Channel) bool { return len(ch.handlerSem) > 0 }) {
		if time.Now().After(deadline) {
			t.Fatal("handlers still running")
		}
		time.Sleep(time.Millisecond)
	}
}

// wait waits for a handler to signal on c.
func wait[T any](t *testing.T, c <-chan T) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(10 * time.Second):
		t.Fatal("timed out")
	}
}

// TestStatsChannelScript plays the peer of a Channel message by message and checks every
// counter, bytes included, against what went over the wire.
func TestStatsChannelScript(t *testing.T) {
	m, _ := protoMethods()
	release := make(chan struct{})
	started := make(chan struct{})
	Register(m, "block", func(ctx context.Context, _ struct{}) (string, error) {
		close(started)
		<-release
		return "done", nil
	})
	ch, f := newFakeChannel(t, m, func(c *Config) { c.MaxConcurrentRequests = 1 })
	var in, out uint64
	send := func(s string) { in += uint64(len(s)); f.peerSend(s) }
	var nOut uint64
	next := func() map[string]any {
		t.Helper()
		select {
		case b := <-f.out:
			out += uint64(len(b))
			nOut++
			var m map[string]any
			if b[0] == '[' {
				var arr []map[string]any
				if err := json.Unmarshal(b, &arr); err != nil {
					t.Fatal(err)
				}
				return map[string]any{"batch": arr}
			}
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			return m
		case <-time.After(10 * time.Second):
			t.Fatal("no message from the channel")
			return nil
		}
	}
	ctx := ctxT(t, 10*time.Second)

	send(`{"jsonrpc":"2.0","method":"add","params":{"a":1,"b":2},"id":1}`)
	if r := next(); r["result"] != 3.0 {
		t.Fatal(r)
	}
	send(`{"jsonrpc":"2.0","method":"method_with_exception","params":{},"id":2}`)
	if r := next(); r["error"] == nil {
		t.Fatal(r)
	}
	send(`{"jsonrpc":"2.0","method":"echo","params":{"message":"n"}}`) // notification
	send(`{"jsonrpc":"2.0","id":3}`)                                   // invalid: answered, not a call
	if r := next(); r["error"] == nil {
		t.Fatal(r)
	}
	// One handler slot: block takes it, the next request is refused with -32000.
	idle(t, ch)
	send(`{"jsonrpc":"2.0","method":"block","params":{},"id":4}`)
	wait(t, started)
	eventually(t, "while blocked", ch.Stats, Stats{Connections: 1, ConnectionsTotal: 1, CallsIn: 3, NotificationsIn: 1,
		ErrorsOut: 2, InFlightIn: 1, MessagesIn: 5, MessagesOut: 3, BytesIn: in, BytesOut: out})
	send(`{"jsonrpc":"2.0","method":"add","params":{"a":1,"b":2},"id":5}`)
	if r := next(); r["error"].(map[string]any)["code"] != float64(CodeServerBusy) {
		t.Fatal(r)
	}
	close(release)
	if r := next(); r["result"] != "done" {
		t.Fatal(r)
	}
	// A batch: a call, a notification and an invalid member, one message each way.
	send(`[{"jsonrpc":"2.0","method":"add","params":{"a":2,"b":2},"id":6},{"jsonrpc":"2.0","method":"echo","params":{"message":"m"}},1]`)
	if r := next(); len(r["batch"].([]map[string]any)) != 2 {
		t.Fatal(r)
	}

	// Outgoing: a call answered with an error, a call left in flight, a notification.
	p, err := ch.Go(ctx, "remote", nil)
	if err != nil {
		t.Fatal(err)
	}
	req := next()
	idRaw, _ := json.Marshal(req["id"])
	send(`{"jsonrpc":"2.0","error":{"code":-32601,"message":"no"},"id":` + string(idRaw) + `}`)
	var re *Error
	if err := p.Wait(ctx, nil); !errors.As(err, &re) {
		t.Fatal(err)
	}
	if _, err := ch.Go(ctx, "remote", nil); err != nil {
		t.Fatal(err)
	}
	next()
	if err := ch.Notify(ctx, "note", nil); err != nil {
		t.Fatal(err)
	}
	next()
	eventually(t, "channel", ch.Stats, Stats{Connections: 1, ConnectionsTotal: 1,
		CallsIn: 5, NotificationsIn: 2, CallsOut: 2, NotificationsOut: 1,
		ErrorsIn: 1, ErrorsOut: 4, Rejected: 1, InFlightOut: 1,
		MessagesIn: 8, MessagesOut: nOut, BytesIn: in, BytesOut: out})
	if nOut != 9 {
		t.Errorf("%d messages written, want 9", nOut)
	}

	// Closing fails the call in flight: nothing is awaited any more, the totals stay.
	_ = ch.Close()
	eventually(t, "closed channel", ch.Stats, Stats{ConnectionsTotal: 1,
		CallsIn: 5, NotificationsIn: 2, CallsOut: 2, NotificationsOut: 1,
		ErrorsIn: 1, ErrorsOut: 4, Rejected: 1,
		MessagesIn: 8, MessagesOut: nOut, BytesIn: in, BytesOut: out})
}

// TestStatsClientServer runs a scripted exchange between a Client and a Server over a
// real connection, with a rejected request, a batch, a call from the server to the client
// and a reconnect, and checks both sides' counters: exact counts, and each side's bytes
// out are the other's bytes in.
func TestStatsClientServer(t *testing.T) {
	m, _ := protoMethods()
	noted := make(chan struct{}, 2)
	Register(m, "note", func(ctx context.Context, _ struct{}) (any, error) { noted <- struct{}{}; return nil, nil })
	Register(m, "fail", func(ctx context.Context, _ struct{}) (any, error) {
		return nil, &Error{Code: 7, Message: "failed"}
	})
	Register(m, "back", func(ctx context.Context, _ struct{}) (string, error) {
		var s string
		err := ChannelFromContext(ctx).Call(ctx, "hello", nil, &s)
		return s, err
	})
	release := make(chan struct{})
	started := make(chan struct{})
	Register(m, "block", func(ctx context.Context, _ struct{}) (string, error) {
		close(started)
		<-release
		return "done", nil
	})
	srv, url := startServer(t, m, func(c *Config) { c.MaxConcurrentRequests = 1 })
	cm := NewMethods()
	Register(cm, "hello", func(ctx context.Context, _ struct{}) (string, error) { return "hi", nil })
	c := dialTest(t, url, WithMethods(cm), WithReconnect(10*time.Millisecond, 50)) // (a readiness ping)
	ctx := ctxT(t, 20*time.Second)

	var n int
	if err := c.Call(ctx, "add", addParams{1, 2}, &n); err != nil || n != 3 {
		t.Fatal(n, err)
	}
	var re *Error
	if err := c.Call(ctx, "fail", nil, nil); !errors.As(err, &re) || re.Code != 7 {
		t.Fatal(err)
	}
	var s string
	if err := c.Call(ctx, "back", nil, &s); err != nil || s != "hi" {
		t.Fatal(s, err)
	}
	if err := c.Notify(ctx, "note", nil); err != nil {
		t.Fatal(err)
	}
	wait(t, noted)
	idle(t, srv.Channels()...)
	blocked := make(chan error, 1)
	go func() { blocked <- c.Call(ctx, "block", nil, nil) }()
	wait(t, started)
	if err := c.Call(ctx, "add", addParams{1, 2}, nil); !errors.As(err, &re) || re.Code != CodeServerBusy {
		t.Fatal(err)
	}
	close(release)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	idle(t, srv.Channels()...)
	b := c.NewBatch()
	bp := b.Call("add", addParams{2, 2})
	b.Notify("note", nil)
	if err := b.Send(ctx); err != nil {
		t.Fatal(err)
	}
	if err := bp.Wait(ctx, &n); err != nil || n != 4 {
		t.Fatal(n, err)
	}
	wait(t, noted)

	// The server drops the connection; the client reconnects (another readiness ping).
	first := c.Channel()
	for _, ch := range srv.Channels() {
		_ = ch.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for (c.Channel() == nil || c.Channel() == first) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := c.Call(ctx, "add", addParams{1, 1}, &n); err != nil || n != 2 {
		t.Fatal(n, err)
	}

	// Client: 9 calls (2 pings, add, fail, back, block, the refused add, the batch's add,
	// add), 2 notifications, the server's call to hello; 11 messages out (the batch is
	// one), 10 in (9 answers, the batch's in one, and hello).
	cs := c.Stats()
	eventually(t, "client", c.Stats, Stats{Connections: 1, ConnectionsTotal: 2, Reconnects: 1,
		CallsIn: 1, CallsOut: 9, NotificationsOut: 2, ErrorsIn: 2,
		MessagesIn: 10, MessagesOut: 11, BytesIn: cs.BytesIn, BytesOut: cs.BytesOut})
	eventually(t, "server", srv.Stats, Stats{Connections: 1, ConnectionsTotal: 2,
		CallsIn: 9, CallsOut: 1, NotificationsIn: 2, ErrorsOut: 2, Rejected: 1,
		MessagesIn: 11, MessagesOut: 10, BytesIn: cs.BytesOut, BytesOut: cs.BytesIn})
	if cs.BytesIn == 0 || cs.BytesOut == 0 {
		t.Errorf("no bytes counted: %+v", cs)
	}
	// What the current connection alone has seen: its readiness ping and one add.
	ch := c.Channel()
	if st := ch.Stats(); st.CallsOut != 2 || st.MessagesIn != 2 || st.ConnectionsTotal != 1 {
		t.Errorf("current channel: %+v", st)
	}
}

// TestStatsInFlightOut: a call counts as in flight until its answer arrives or its caller
// gives up.
func TestStatsInFlightOut(t *testing.T) {
	ch, f := newFakeChannel(t, nil)
	ctx := ctxT(t, 10*time.Second)
	p, err := ch.Go(ctx, "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- ch.Call(short, "b", nil, nil) }()
	f.next(t)
	f.next(t)
	if got := ch.Stats().InFlightOut; got != 2 {
		t.Fatalf("in flight %d, want 2", got)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if got := ch.Stats().InFlightOut; got != 1 {
		t.Fatalf("in flight after giving up %d, want 1", got)
	}
	f.peerSend(`{"jsonrpc":"2.0","result":1,"id":"` + p.ID() + `"}`)
	<-p.Done()
	if got := ch.Stats().InFlightOut; got != 0 {
		t.Fatalf("in flight after the answer %d, want 0", got)
	}
}

// TestStatsCancellations: on an extended connection the cancellations sent and received
// ($/cancelRequest) count as messages, not as notifications.
func TestStatsCancellations(t *testing.T) {
	ch, f := newFakeExtChannel(t, nil, ExtensionSubprotocol)
	short, cancel := context.WithCancel(ctxT(t, 10*time.Second))
	done := make(chan error, 1)
	go func() { done <- ch.Call(short, "slow", nil, nil) }()
	f.next(t) // the call
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if m := f.next(t); m["method"] != CancelMethod {
		t.Fatalf("sent %v", m)
	}
	f.peerSend(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"nothing"}}`)
	eventually(t, "channel", func() Stats { st := ch.Stats(); st.BytesIn, st.BytesOut = 0, 0; return st },
		Stats{Connections: 1, ConnectionsTotal: 1, CallsOut: 1, MessagesIn: 1, MessagesOut: 2})
}
