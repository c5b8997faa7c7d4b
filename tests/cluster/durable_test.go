package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wsrpc/wsrpc/pkg/cluster"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// durableClient is a user's connection that follows topics through a cluster.Resumer:
// on every (re)connect, to whichever node, it subscribes again from the last offset it
// received. It records each publication's seq and offset by topic, and each
// subscription's answer.
type durableClient struct {
	user string
	r    *cluster.Resumer
	c    *wsrpc.Client
	mu   sync.Mutex
	got  map[string][]int
	offs map[string][]uint64
	recs []map[string]cluster.Recovery
}

func newDurableClient(user string, topics ...string) *durableClient {
	dc := &durableClient{user: user, got: map[string][]int{}, offs: map[string][]uint64{}}
	dc.r = cluster.NewResumer(func(ctx context.Context, n cluster.Notification) {
		var v struct{ Seq int }
		_ = json.Unmarshal(n.Data, &v)
		dc.mu.Lock()
		dc.got[n.Subscription.Topic] = append(dc.got[n.Subscription.Topic], v.Seq)
		dc.offs[n.Subscription.Topic] = append(dc.offs[n.Subscription.Topic], n.Subscription.Offset)
		dc.mu.Unlock()
	}, topics...)
	dc.r.OnResubscribe = func(rec map[string]cluster.Recovery, err error) {
		if err != nil {
			rec = map[string]cluster.Recovery{"error: " + err.Error(): {}}
		}
		dc.mu.Lock()
		dc.recs = append(dc.recs, rec)
		dc.mu.Unlock()
	}
	return dc
}

// dial connects to urls[0] (then the others as fallbacks) and waits for its
// subscription's answer.
func (dc *durableClient) dial(t testing.TB, urls []string, opts ...wsrpc.Option) {
	t.Helper()
	n := dc.subscriptions()
	m := wsrpc.NewMethods()
	wsrpc.Register(m, "whoami", func(ctx context.Context, _ struct{}) (string, error) { return dc.user, nil })
	dc.r.Register(m)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wsrpc.Dial(ctx, urls[0]+"?user="+dc.user, append([]wsrpc.Option{
		wsrpc.WithMethods(m), wsrpc.WithLogger(quiet),
		wsrpc.WithFallbackURLs(withUser(urls[1:], dc.user)...),
		wsrpc.WithReconnect(50*time.Millisecond, -1),
		wsrpc.WithOnConnect(dc.r.OnConnect),
		func(c *wsrpc.Config) {
			c.Sequential = true
			c.Reconnect.MaxDelay = 200 * time.Millisecond
			c.HandshakeTimeout = 2 * time.Second
		}}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	dc.c = c
	t.Cleanup(func() { _ = c.Close() })
	waitFor(t, 20*time.Second, dc.user+" subscribed", func() bool { return dc.subscriptions() > n })
}

func (dc *durableClient) subscriptions() int {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	return len(dc.recs)
}

func (dc *durableClient) lastRecovery() map[string]cluster.Recovery {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	return dc.recs[len(dc.recs)-1]
}

func (dc *durableClient) received(topic string) []int {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	return append([]int(nil), dc.got[topic]...)
}

// expect waits until dc received len(want) publications of topic and checks that they
// are exactly want, in order, with offsets that follow each other (durable topics) or
// none (plain ones).
func (dc *durableClient) expect(t testing.TB, topic string, want []int, durable bool) {
	t.Helper()
	waitFor(t, 60*time.Second, fmt.Sprintf("%s: %d publications of %s", dc.user, len(want), topic),
		func() bool { return len(dc.received(topic)) >= len(want) })
	time.Sleep(200 * time.Millisecond) // room for duplicates to show up
	dc.mu.Lock()
	defer dc.mu.Unlock()
	got, offs := dc.got[topic], dc.offs[topic]
	if len(got) != len(want) {
		t.Fatalf("%s got %d publications of %s, want %d", dc.user, len(got), topic, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: publication %d of %s is %d, want %d (lost, duplicated or reordered)", dc.user, i, topic, got[i], want[i])
		}
		if !durable && offs[i] != 0 {
			t.Fatalf("%s: a plain topic's publication carries offset %d", dc.user, offs[i])
		}
		if durable && i > 0 && offs[i] != offs[i-1]+uint64(want[i]-want[i-1]) {
			t.Fatalf("%s: offsets %v for seqs %v", dc.user, offs, got)
		}
	}
}

func span(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestDurableRecovery: 3 node processes on one NATS server with JetStream, "orders"
// durable, "news" plain, clients (one of them in the legacy dialect, as Python's
// PubSubClient speaks it) spread over the nodes. A node is killed while publications
// are made: its clients come back through the other nodes, subscribe again from their
// last offset, are told Recovered, and every client ends up with every publication of
// "orders" exactly once, in order. A subscriber away longer than "tiny"'s retention (5
// publications) is told TooOld and gets what the history still holds.
func TestDurableRecovery(t *testing.T) {
	natsURL := startNATS(t)
	durable := []string{"-durable", "orders,tiny:5"}
	nodes := []*nodeProc{startNode(t, "a", natsURL, durable...), startNode(t, "b", natsURL, durable...), startNode(t, "c", natsURL, durable...)}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	pub, err := cluster.New(ctx, cluster.Config{NodeID: "publisher", NATSURLs: []string{natsURL}, Logger: quiet,
		HeartbeatInterval: 200 * time.Millisecond,
		Topics:            map[string]cluster.TopicConfig{"orders": {Durable: true}, "tiny": {Durable: true, MaxMsgs: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	publish := func(topic string, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if err := pub.Publish(ctx, topic, map[string]int{"seq": i}); err != nil {
				t.Fatalf("publish %s %d: %v", topic, i, err)
			}
		}
	}
	urls := func(first int) []string {
		out := []string{nodes[first].url}
		for i, n := range nodes {
			if i != first {
				out = append(out, n.url)
			}
		}
		return out
	}
	var clients, victims []*durableClient
	for i, n := range nodes {
		for j := range 2 {
			dc := newDurableClient(fmt.Sprintf("%s%d", n.id, j), "orders", "news")
			var opts []wsrpc.Option
			if j == 1 {
				opts = []wsrpc.Option{wsrpc.WithDialect(wsrpc.DialectLegacy), wsrpc.WithSubprotocols()}
			}
			dc.dial(t, urls(i), opts...)
			if rec := dc.lastRecovery(); rec["orders"].Epoch == "" || rec["orders"].Recovered {
				t.Fatalf("%s: first subscription %+v", dc.user, rec)
			}
			clients = append(clients, dc)
			if n.id == "c" {
				victims = append(victims, dc)
			}
		}
	}
	waitFor(t, 20*time.Second, "every subscription", func() bool {
		return pub.TopicStats("orders").Subscribers == len(clients) && pub.TopicStats("news").Subscribers == len(clients)
	})

	const before, during, after = 50, 200, 50
	publish("orders", 0, before)
	publish("news", 0, 10)
	for _, dc := range clients {
		dc.expect(t, "orders", span(0, before), true)
		dc.expect(t, "news", span(0, 10), false)
	}

	if err := nodes[2].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	publish("orders", before, before+during) // while node c's clients move
	for _, dc := range victims {
		waitFor(t, 30*time.Second, dc.user+" subscribed again", func() bool { return dc.subscriptions() >= 2 })
		if rec := dc.lastRecovery(); !rec["orders"].Recovered || rec["orders"].TooOld {
			t.Fatalf("%s: recovery after the node was killed: %+v", dc.user, rec)
		}
	}
	publish("orders", before+during, before+during+after)
	for _, dc := range clients {
		dc.expect(t, "orders", span(0, before+during+after), true)
	}

	t.Run("too old", func(t *testing.T) {
		dc := newDurableClient("t0", "tiny")
		dc.dial(t, urls(0))
		waitFor(t, 20*time.Second, "the subscription", func() bool { return pub.TopicStats("tiny").Subscribers == 1 })
		publish("tiny", 0, 3)
		dc.expect(t, "tiny", span(0, 3), true)
		_ = dc.c.Close()
		waitFor(t, 20*time.Second, "the subscriber gone", func() bool { return pub.TopicStats("tiny").Subscribers == 0 })
		publish("tiny", 3, 13) // the history keeps the last 5: 8..12
		dc.dial(t, urls(1))
		if rec := dc.lastRecovery(); rec["tiny"].Recovered || !rec["tiny"].TooOld {
			t.Fatalf("recovery past retention: %+v", rec)
		}
		dc.expect(t, "tiny", append(span(0, 3), span(8, 13)...), true)
	})
}
