package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wsrpc/wsrpc/pkg/cluster"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// durableNodes returns two nodes (a embeds NATS with JetStream) on which "orders" is
// durable, keeping at most maxMsgs publications.
func durableNodes(t *testing.T, maxMsgs int64) (a, b *node) {
	topics := map[string]cluster.TopicConfig{"orders": {Durable: true, MaxMsgs: maxMsgs}}
	a = newNode(t, cluster.Config{NodeID: "a", EmbeddedListen: "127.0.0.1:0", Topics: topics, StoreDir: t.TempDir()})
	b = newNode(t, cluster.Config{NodeID: "b", NATSURLs: []string{a.hub.NATSURL()}, Topics: topics})
	return a, b
}

// recorder receives publications through a Resumer and records their seq, offset and
// the answers to its subscriptions.
type recorder struct {
	r    *cluster.Resumer
	gate chan struct{} // until closed, publications wait in the handler (nil: open)
	mu   sync.Mutex
	seqs []int
	offs []uint64
	recs []map[string]cluster.Recovery
	errs []error
}

func newRecorder(topics ...string) *recorder {
	rc := &recorder{}
	rc.r = cluster.NewResumer(func(ctx context.Context, n cluster.Notification) {
		if rc.gate != nil {
			select {
			case <-rc.gate:
			case <-ctx.Done():
				return
			}
		}
		var v struct{ Seq int }
		_ = json.Unmarshal(n.Data, &v)
		rc.mu.Lock()
		rc.seqs = append(rc.seqs, v.Seq)
		rc.offs = append(rc.offs, n.Subscription.Offset)
		rc.mu.Unlock()
	}, topics...)
	rc.r.OnResubscribe = func(rec map[string]cluster.Recovery, err error) {
		rc.mu.Lock()
		rc.recs = append(rc.recs, rec)
		rc.errs = append(rc.errs, err)
		rc.mu.Unlock()
	}
	return rc
}

// dial connects a client that subscribes through the recorder's Resumer, and waits for
// the subscription's answer.
func (rc *recorder) dial(t *testing.T, url string, opts ...wsrpc.Option) *wsrpc.Client {
	t.Helper()
	rc.mu.Lock()
	n := len(rc.recs)
	rc.mu.Unlock()
	m := wsrpc.NewMethods()
	rc.r.Register(m)
	c, err := wsrpc.Dial(ctxT(t, 10*time.Second), url+"?user=rec",
		append([]wsrpc.Option{wsrpc.WithLogger(quiet), wsrpc.WithMethods(m), wsrpc.WithOnConnect(rc.r.OnConnect),
			func(c *wsrpc.Config) { c.Sequential = true }}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	waitUntil(t, "the subscription's answer", func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return len(rc.recs) > n
	})
	return c
}

func (rc *recorder) last() (map[string]cluster.Recovery, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.recs[len(rc.recs)-1], rc.errs[len(rc.errs)-1]
}

func (rc *recorder) received() []int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]int(nil), rc.seqs...)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// expectSeqs waits for len(want) publications and checks that they are exactly want.
func (rc *recorder) expectSeqs(t *testing.T, want []int) {
	t.Helper()
	waitUntil(t, "publications", func() bool { return len(rc.received()) >= len(want) })
	time.Sleep(100 * time.Millisecond) // room for duplicates to show up
	got := rc.received()
	if len(got) != len(want) {
		t.Fatalf("got %d publications %v, want %v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("publication %d is %d, want %d (got %v)", i, got[i], want[i], got)
		}
	}
}

func publishSeqs(t *testing.T, h *cluster.Hub, topic string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := h.Publish(ctxT(t, 10*time.Second), topic, map[string]int{"seq": i}); err != nil {
			t.Fatal(err)
		}
	}
}

func seqs(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// A subscriber of a durable topic that disconnects and comes back through another node
// receives exactly what was published meanwhile, in order, with Recovered; offsets
// follow each other.
func TestDurableRecoveryOnAnotherNode(t *testing.T) {
	for _, dialect := range []wsrpc.Dialect{wsrpc.DialectJSONRPC, wsrpc.DialectLegacy} {
		t.Run(dialect.String(), func(t *testing.T) {
			opts := []wsrpc.Option{wsrpc.WithDialect(dialect)}
			if dialect == wsrpc.DialectLegacy { // as Python's PubSubClient: no subprotocol
				opts = append(opts, wsrpc.WithSubprotocols())
			}
			a, b := durableNodes(t, 0)
			rc := newRecorder("orders")
			c := rc.dial(t, a.url, opts...)
			rec, err := rc.last()
			if err != nil || rec["orders"].Recovered || rec["orders"].Epoch == "" {
				t.Fatalf("first subscription: %+v, %v", rec, err)
			}
			waitUntil(t, "the subscription on b's view", func() bool { return b.hub.TopicStats("orders").Subscribers == 1 })
			publishSeqs(t, b.hub, "orders", 0, 10)
			rc.expectSeqs(t, seqs(0, 10))
			_ = c.Close()
			waitUntil(t, "the subscriber gone", func() bool { return a.hub.TopicStats("orders").Subscribers == 0 })
			publishSeqs(t, a.hub, "orders", 10, 25) // missed

			c = rc.dial(t, b.url, opts...)
			rec, err = rc.last()
			if err != nil || !rec["orders"].Recovered || rec["orders"].TooOld {
				t.Fatalf("recovery: %+v, %v", rec, err)
			}
			// Subscribing again is idempotent: no second recovery, no duplicates.
			again, err := cluster.SubscribeSince(ctxT(t, 10*time.Second), c,
				map[string]cluster.Position{"orders": {Offset: 1, Epoch: rec["orders"].Epoch}}, "orders")
			if err != nil || len(again) != 0 {
				t.Fatalf("subscribing again: %+v, %v", again, err)
			}
			publishSeqs(t, a.hub, "orders", 25, 30)
			rc.expectSeqs(t, seqs(0, 30))
			rc.mu.Lock()
			for i, off := range rc.offs {
				if off != rc.offs[0]+uint64(i) {
					t.Errorf("offsets %v do not follow each other", rc.offs)
					break
				}
			}
			rc.mu.Unlock()
			if p, ok := rc.r.Position("orders"); !ok || p.Epoch != rec["orders"].Epoch {
				t.Fatalf("position %+v", p)
			}
		})
	}
}

// Retention (MaxMsgs) dropped part of what a subscriber missed: it is told TooOld and
// gets what the history still holds.
func TestDurableTooOld(t *testing.T) {
	a, b := durableNodes(t, 5)
	rc := newRecorder("orders")
	c := rc.dial(t, a.url)
	publishSeqs(t, a.hub, "orders", 0, 3)
	rc.expectSeqs(t, seqs(0, 3))
	_ = c.Close()
	waitUntil(t, "the subscriber gone", func() bool { return a.hub.TopicStats("orders").Subscribers == 0 })
	// Its node deletes the subscriber's consumer at once, not after its inactive threshold.
	js, err := jetstream.New(a.hub.Conn())
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "no consumer left on the stream", func() bool {
		st, err := js.Stream(ctxT(t, 5*time.Second), "wsrpc_orders")
		if err != nil {
			return false
		}
		info, err := st.Info(ctxT(t, 5*time.Second))
		return err == nil && info.State.Consumers == 0
	})
	publishSeqs(t, a.hub, "orders", 3, 13) // the history keeps 8..12
	rc.dial(t, b.url)
	rec, err := rc.last()
	if err != nil || rec["orders"].Recovered || !rec["orders"].TooOld {
		t.Fatalf("recovery past retention: %+v, %v", rec, err)
	}
	rc.expectSeqs(t, append(seqs(0, 3), seqs(8, 13)...))
}

// An offset the topic never reached is a clear error; a subscription without "since"
// answers true as fastapi-websocket-pubsub does; plain topics carry no offset.
func TestDurableBadOffsetAndPlainTopics(t *testing.T) {
	a, _ := durableNodes(t, 0)
	c := userClient(t, a.url, "x")
	ctx := ctxT(t, 10*time.Second)
	rec, err := cluster.SubscribeSince(ctx, c, nil, "orders")
	if err != nil {
		t.Fatal(err)
	}
	since := map[string]cluster.Position{"orders": {Offset: rec["orders"].Offset + 100, Epoch: rec["orders"].Epoch}}
	_, err = cluster.SubscribeSince(ctx, userClient(t, a.url, "y"), since, "orders")
	if !errors.Is(err, wsrpc.ErrInvalidParams) {
		t.Fatalf("offset from the future: %v, want invalid params", err)
	}
	var ok bool
	if err := c.Call(ctx, "subscribe", map[string]any{"topics": []string{"orders", "news"}}, &ok); err != nil || !ok {
		t.Fatalf("plain subscribe: %v %v", ok, err)
	}
	rec, err = cluster.SubscribeSince(ctx, userClient(t, a.url, "z"), map[string]cluster.Position{}, "news")
	if err != nil || len(rec) != 0 {
		t.Fatalf("plain topic with since: %+v, %v", rec, err)
	}

	// AllTopics subscribers get a durable topic's publications live, without offsets;
	// its subscribers get them with.
	all := newSubscriber(t, a.url, "all", cluster.AllTopics)
	durable := newSubscriber(t, a.url, "d", "orders")
	if err := a.hub.Publish(ctx, "orders", "hello"); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*subscriber{"all topics": all, "durable": durable} {
		if got := s.wait(t, 1); len(got) != 1 || got[0] != `"hello"` {
			t.Fatalf("%s subscriber got %v", name, got)
		}
	}
	if sub := all.subs[0]; sub.Topic != "orders" || sub.Offset != 0 || sub.Epoch != "" {
		t.Fatalf("all-topics delivery %+v", sub)
	}
	if sub := durable.subs[0]; sub.Topic != "orders" || sub.Offset == 0 || sub.Epoch == "" {
		t.Fatalf("durable delivery %+v", sub)
	}
}

// A stream deleted and created again has a new epoch: an old position is not
// recovered from (Recovered false, not TooOld), and deliveries start afresh.
func TestDurableEpochChange(t *testing.T) {
	a, _ := durableNodes(t, 0)
	rc := newRecorder("orders")
	c := rc.dial(t, a.url)
	publishSeqs(t, a.hub, "orders", 0, 3)
	rc.expectSeqs(t, seqs(0, 3))
	old, _ := rc.r.Position("orders")
	_ = c.Close()
	waitUntil(t, "the subscriber gone", func() bool { return a.hub.TopicStats("orders").Subscribers == 0 })
	js, err := jetstream.New(a.hub.Conn())
	if err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteStream(ctxT(t, 10*time.Second), "wsrpc_orders"); err != nil {
		t.Fatal(err)
	}
	publishSeqs(t, a.hub, "orders", 3, 5) // a new stream: offsets 1 and 2 again
	rc.dial(t, a.url)
	rec, err := rc.last()
	if err != nil || rec["orders"].Recovered || rec["orders"].TooOld || rec["orders"].Epoch == old.Epoch {
		t.Fatalf("after the stream was recreated: %+v (old %+v), %v", rec, old, err)
	}
	publishSeqs(t, a.hub, "orders", 5, 7)
	rc.expectSeqs(t, append(seqs(0, 3), 5, 6))
}

// A subscriber of a durable topic that reads slower than the topic is published lags
// behind in the stream without delaying the topic's other subscribers; once retention
// drops publications it has not read, its node disconnects it, and when it subscribes
// again it is told TooOld and gets what the history holds: nothing twice, nothing out
// of order.
func TestDurableLaggingSubscriberOvertaken(t *testing.T) {
	// The history keeps 200; the fast subscriber is never more than a batch (100)
	// behind; the slow one is held still while 1500 are published, 16 KB each, far more
	// than the stream reader's buffer (256), its queue (4) and the sockets hold (about
	// 4 MB: 260 of them).
	const n, keep, batch = 1500, 200, 100
	pad := strings.Repeat("x", 16000)
	topics := map[string]cluster.TopicConfig{"orders": {Durable: true, MaxMsgs: keep}}
	a := newNode(t, cluster.Config{NodeID: "a", Topics: topics, DeliveryQueue: 4},
		func(c *wsrpc.Config) { c.WriteTimeout = 2 * time.Minute }) // held still is not dead here
	fast := newRecorder("orders")
	fast.dial(t, a.url)
	slow := newRecorder("orders")
	slow.gate = make(chan struct{})
	var connects atomic.Int32
	slow.dial(t, a.url, wsrpc.WithReconnect(20*time.Millisecond, -1),
		wsrpc.WithOnConnect(func(ctx context.Context, ch *wsrpc.Channel) {
			connects.Add(1)
			slow.r.OnConnect(ctx, ch)
		}),
		func(c *wsrpc.Config) {
			c.MaxIncomingBytes = 8 << 10 // held still, it reads at most a few KiB more
			c.Keepalive.Interval = -1
		})
	ctx := ctxT(t, 60*time.Second)
	for i := 0; i < n; i += batch {
		for j := i; j < i+batch; j++ {
			if err := a.hub.Publish(ctx, "orders", map[string]any{"seq": j, "pad": pad}); err != nil {
				t.Fatal(err)
			}
		}
		fast.expectSeqs(t, seqs(0, i+batch)) // while the slow one is held still
	}
	close(slow.gate)
	waitUntil(t, "the slow subscriber back", func() bool {
		slow.mu.Lock()
		defer slow.mu.Unlock()
		return len(slow.recs) >= 2
	})
	rec, err := slow.last()
	if err != nil || !rec["orders"].TooOld {
		t.Fatalf("the overtaken subscriber's new subscription: %+v, %v", rec, err)
	}
	waitUntil(t, "the history's publications", func() bool {
		got := slow.received()
		return len(got) > 0 && got[len(got)-1] == n-1
	})
	got := slow.received()
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("the slow subscriber got %d after %d", got[i], got[i-1])
		}
	}
	if len(got) >= n || connects.Load() < 2 {
		t.Fatalf("the slow subscriber got %d of %d publications, connected %d times", len(got), n, connects.Load())
	}
	t.Logf("the slow subscriber got %d of %d publications (recovery from %d)", len(got), n, rec["orders"].Offset)
	if st := a.hub.Stats(); st.Disconnected == 0 || st.Dropped == 0 {
		t.Fatalf("stats %+v", st)
	}
}

// Plain topics are core NATS: what is published while a subscriber is away is not
// replayed, even to a Resumer, and plain deliveries carry no offset.
func TestPlainTopicNoReplay(t *testing.T) {
	a, b := durableNodes(t, 0)
	rc := newRecorder("news")
	c := rc.dial(t, a.url)
	waitUntil(t, "the subscription on b's view", func() bool { return b.hub.TopicStats("news").Subscribers == 1 })
	publishSeqs(t, b.hub, "news", 0, 3)
	rc.expectSeqs(t, seqs(0, 3))
	_ = c.Close()
	waitUntil(t, "the subscriber gone", func() bool { return b.hub.TopicStats("news").Subscribers == 0 })
	publishSeqs(t, b.hub, "news", 3, 6) // lost for it
	rc.dial(t, b.url)
	if rec, err := rc.last(); err != nil || len(rec) != 0 {
		t.Fatalf("plain topic subscription: %+v, %v", rec, err)
	}
	publishSeqs(t, a.hub, "news", 6, 9)
	rc.expectSeqs(t, append(seqs(0, 3), seqs(6, 9)...))
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, off := range rc.offs {
		if off != 0 {
			t.Fatalf("plain deliveries carry offsets %v", rc.offs)
		}
	}
}
