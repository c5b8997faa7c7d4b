package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsrpc/wsrpc/pkg/cluster"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// node is one hub with one attached server on an httptest listener.
type node struct {
	hub *cluster.Hub
	srv *wsrpc.Server
	url string
}

// authUser sets the channel value "user" from the ?user= query parameter.
func authUser(r *http.Request) (map[string]any, error) {
	if u := r.URL.Query().Get("user"); u != "" {
		return map[string]any{"user": u}, nil
	}
	return nil, nil
}

const testHeartbeat = 250 * time.Millisecond

func newNode(t *testing.T, cfg cluster.Config, opts ...wsrpc.Option) *node {
	t.Helper()
	cfg.Logger = quiet
	cfg.Keys = []string{"user"}
	// A node silent for three heartbeats is declared lost: 250 ms keeps a node busy on a
	// loaded machine (race detector, other jobs) from being fenced by mistake.
	cfg.HeartbeatInterval = testHeartbeat
	hub, err := cluster.New(ctxT(t, 10*time.Second), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := hub.NewServer(nil, append([]wsrpc.Option{wsrpc.WithLogger(quiet), wsrpc.WithDebug(true), wsrpc.WithAuthenticate(authUser), wsrpc.WithDialect(wsrpc.DialectAuto)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
		_ = hub.Close()
	})
	return &node{hub: hub, srv: srv, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"}
}

// twoNodes returns a node with an embedded NATS server on loopback and one that joins it.
func twoNodes(t *testing.T) (a, b *node) {
	a = newNode(t, cluster.Config{NodeID: "a", EmbeddedListen: "127.0.0.1:0"})
	b = newNode(t, cluster.Config{NodeID: "b", NATSURLs: []string{a.hub.NATSURL()}})
	return a, b
}

// userClient connects as user and answers "whoami", "fail" and "sleep".
func userClient(t *testing.T, url, user string, opts ...wsrpc.Option) *wsrpc.Client {
	t.Helper()
	m := wsrpc.NewMethods()
	wsrpc.Register(m, "whoami", func(ctx context.Context, _ struct{}) (string, error) { return user, nil })
	wsrpc.Register(m, "fail", func(ctx context.Context, _ struct{}) (any, error) {
		return nil, &wsrpc.Error{Code: 4242, Message: "nope", Data: json.RawMessage(`{"why":"test"}`)}
	})
	wsrpc.Register(m, "sleep", func(ctx context.Context, p struct{ Ms int }) (string, error) {
		select {
		case <-time.After(time.Duration(p.Ms) * time.Millisecond):
		case <-ctx.Done():
		}
		return "slept", nil
	})
	c, err := wsrpc.Dial(ctxT(t, 10*time.Second), url+"?user="+user,
		append([]wsrpc.Option{wsrpc.WithLogger(quiet), wsrpc.WithMethods(m)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// waitPresent waits until hub sees n connections.
func waitPresent(t *testing.T, hub *cluster.Hub, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(hub.Presence()) != n {
		if time.Now().After(deadline) {
			t.Fatalf("presence: %d connections, want %d", len(hub.Presence()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSingleNodeEmbedded(t *testing.T) {
	n := newNode(t, cluster.Config{})
	if n.hub.NATSURL() != "" {
		t.Fatalf("embedded server without EmbeddedListen must not listen, got %q", n.hub.NATSURL())
	}
	userClient(t, n.url, "alice")
	waitPresent(t, n.hub, 1)
	var who string
	if err := n.hub.Call(ctxT(t, 5*time.Second), cluster.Key("user", "alice"), "whoami", nil, &who); err != nil || who != "alice" {
		t.Fatalf("call = %q, %v", who, err)
	}
	err := n.hub.Call(ctxT(t, 5*time.Second), cluster.Key("user", "bob"), "whoami", nil, &who)
	if !errors.Is(err, cluster.ErrNoTarget) {
		t.Fatalf("unknown user: %v, want ErrNoTarget", err)
	}
}

func TestRoutedCall(t *testing.T) {
	a, b := twoNodes(t)
	c := userClient(t, b.url, "bob")
	waitPresent(t, a.hub, 1)
	ctx := ctxT(t, 10*time.Second)

	var who string
	if err := a.hub.Call(ctx, cluster.Key("user", "bob"), "whoami", nil, &who); err != nil || who != "bob" {
		t.Fatalf("routed call by key = %q, %v", who, err)
	}
	id := b.srv.Channels()[0].ID()
	if err := a.hub.Call(ctx, cluster.Channel(id), "whoami", nil, &who); err != nil || who != "bob" {
		t.Fatalf("routed call by channel = %q, %v", who, err)
	}

	start := time.Now()
	err := a.hub.Call(ctx, cluster.Key("user", "nobody"), "whoami", nil, &who)
	if !errors.Is(err, cluster.ErrNoTarget) {
		t.Fatalf("no target: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("ErrNoTarget took %v: it must not wait for a timeout", time.Since(start))
	}

	err = a.hub.Call(ctx, cluster.Key("user", "bob"), "fail", nil, nil)
	var re *wsrpc.Error
	if !errors.As(err, &re) || re.Code != 4242 || re.Message != "nope" || string(re.Data) != `{"why":"test"}` {
		t.Fatalf("remote error: %#v (%v)", re, err)
	}

	err = a.hub.Call(ctx, cluster.Key("user", "bob"), "nosuch", nil, nil)
	if !errors.Is(err, wsrpc.ErrMethodNotFound) {
		t.Fatalf("unknown method: %v", err)
	}

	tctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
	err = a.hub.Call(tctx, cluster.Key("user", "bob"), "sleep", map[string]int{"ms": 2000}, nil)
	cancel()
	if !errors.Is(err, wsrpc.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	err = a.hub.Call(cctx, cluster.Key("user", "bob"), "sleep", map[string]int{"ms": 2000}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}

	got := make(chan string, 1)
	c.Methods().Handle("hello", func(ctx context.Context, p json.RawMessage) (any, error) {
		got <- string(p)
		return nil, nil
	})
	if err := a.hub.Notify(ctx, cluster.Key("user", "bob"), "hello", map[string]int{"x": 1}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != `{"x":1}` {
			t.Fatalf("notify params %s", p)
		}
	case <-ctx.Done():
		t.Fatal("notification not delivered")
	}
	if err := a.hub.Notify(ctx, cluster.Key("user", "nobody"), "hello", nil); !errors.Is(err, cluster.ErrNoTarget) {
		t.Fatalf("notify no target: %v", err)
	}
}

// subscriber connects and collects the data of every publication it gets.
type subscriber struct {
	mu   sync.Mutex
	got  []string
	subs []cluster.Subscription
	c    *wsrpc.Client
}

func newSubscriber(t *testing.T, url, user string, topics ...string) *subscriber {
	s := &subscriber{}
	m := wsrpc.NewMethods()
	cluster.HandleNotify(m, func(ctx context.Context, n cluster.Notification) {
		s.mu.Lock()
		s.got = append(s.got, string(n.Data))
		s.subs = append(s.subs, n.Subscription)
		s.mu.Unlock()
	})
	// Sequential: handle notifications one by one, in the order they arrive.
	s.c = userClient(t, url, user, wsrpc.WithMethods(m), func(c *wsrpc.Config) { c.Sequential = true })
	if err := cluster.Subscribe(ctxT(t, 5*time.Second), s.c, topics...); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *subscriber) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		got := append([]string(nil), s.got...)
		s.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPublishAcrossNodes(t *testing.T) {
	a, b := twoNodes(t)
	subs := []*subscriber{
		newSubscriber(t, a.url, "a1", "news"),
		newSubscriber(t, b.url, "b1", "news"),
		newSubscriber(t, b.url, "b2", cluster.AllTopics),
	}
	other := newSubscriber(t, a.url, "a2", "sports")
	ctx := ctxT(t, 10*time.Second)
	const n = 50
	for i := range n {
		if err := a.hub.Publish(ctx, "news", map[string]int{"seq": i}); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range subs {
		got := s.wait(t, n)
		time.Sleep(50 * time.Millisecond) // would-be duplicates
		s.mu.Lock()
		got = append([]string(nil), s.got...)
		sub := s.subs[0]
		s.mu.Unlock()
		if len(got) != n {
			t.Fatalf("subscriber %d got %d publications, want %d", i, len(got), n)
		}
		for j, g := range got {
			var v struct{ Seq int }
			if err := json.Unmarshal([]byte(g), &v); err != nil || v.Seq != j {
				t.Fatalf("subscriber %d: publication %d is %s (out of order or duplicated)", i, j, g)
			}
		}
		if sub.Topic != "news" || sub.ID == "" || sub.SubscriberID == "" {
			t.Fatalf("subscription %+v", sub)
		}
	}
	if got := other.wait(t, 0); len(got) != 0 {
		t.Fatalf("subscriber of another topic got %v", got)
	}

	// A client's own publish reaches everybody but itself (notifier_id defaults to it).
	var ok bool
	err := subs[0].c.Call(ctx, "publish", map[string]any{"topics": []string{"news"}, "data": "hi"}, &ok)
	if err != nil || !ok {
		t.Fatalf("publish by client: %v, %v", ok, err)
	}
	if got := subs[1].wait(t, n+1); len(got) != n+1 || got[n] != `"hi"` {
		t.Fatalf("client publication not delivered: %v", got[n:])
	}
	time.Sleep(100 * time.Millisecond)
	if got := subs[0].wait(t, 0); len(got) != n {
		t.Fatalf("publisher got its own publication")
	}

	// Unsubscribe stops deliveries.
	if err := cluster.Unsubscribe(ctx, subs[1].c, "news"); err != nil {
		t.Fatal(err)
	}
	if err := a.hub.Publish(ctx, "news", "after"); err != nil {
		t.Fatal(err)
	}
	if got := subs[2].wait(t, n+2); len(got) != n+2 {
		t.Fatalf("all-topics subscriber: %d", len(got))
	}
	time.Sleep(100 * time.Millisecond)
	if got := subs[1].wait(t, 0); len(got) != n+1 {
		t.Fatalf("unsubscribed subscriber got %d", len(got))
	}
}

func TestPresence(t *testing.T) {
	a, b := twoNodes(t)
	ctx := ctxT(t, 10*time.Second)
	events := a.hub.Watch(ctx)
	c := userClient(t, b.url, "carol")
	next := func() cluster.PresenceEvent {
		select {
		case ev := <-events:
			return ev
		case <-ctx.Done():
			t.Fatal("no presence event")
		}
		return cluster.PresenceEvent{}
	}
	ev := next()
	if ev.Kind != cluster.Connected || ev.Node != "b" || ev.Keys["user"] != "carol" {
		t.Fatalf("event %+v", ev)
	}
	if got := a.hub.Lookup(cluster.Key("user", "carol")); len(got) != 1 || got[0].Node != "b" {
		t.Fatalf("lookup %+v", got)
	}
	if nodes := a.hub.Nodes(); len(nodes) != 2 {
		t.Fatalf("nodes %v", nodes)
	}
	if err := b.hub.Bind(b.srv.Channels()[0], "room", "r1"); err != nil {
		t.Fatal(err)
	}
	if ev := next(); ev.Kind != cluster.Updated || ev.Keys["room"] != "r1" {
		t.Fatalf("event %+v", ev)
	}
	var who string
	if err := a.hub.Call(ctx, cluster.Key("room", "r1"), "whoami", nil, &who); err != nil || who != "carol" {
		t.Fatalf("call by bound key: %q %v", who, err)
	}
	_ = c.Close()
	if ev := next(); ev.Kind != cluster.Disconnected || ev.Keys["user"] != "carol" || ev.NodeLost {
		t.Fatalf("event %+v", ev)
	}
	// A node that leaves takes its connections with it.
	userClient(t, b.url, "dave")
	if ev := next(); ev.Kind != cluster.Connected {
		t.Fatalf("event %+v", ev)
	}
	_ = b.hub.Close()
	if ev := next(); ev.Kind != cluster.Disconnected || ev.Keys["user"] != "dave" {
		t.Fatalf("event %+v", ev)
	}
	if nodes := a.hub.Nodes(); len(nodes) != 1 {
		t.Fatalf("nodes after b left: %v", nodes)
	}
}
