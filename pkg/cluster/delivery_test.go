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

	"github.com/wsrpc/wsrpc/pkg/cluster"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// seqSubscriber is a client subscribed to one topic that records the "seq" of each
// publication. Until its gate opens, its handler blocks and it reads at most a few KiB
// more: it stands for a subscriber slower than the publisher.
type seqSubscriber struct {
	c        *wsrpc.Client
	gate     chan struct{}
	connects atomic.Int32
	mu       sync.Mutex
	seqs     []int
}

func newSeqSubscriber(t *testing.T, url, user, topic string, gated bool) *seqSubscriber {
	t.Helper()
	s := &seqSubscriber{gate: make(chan struct{})}
	if !gated {
		close(s.gate)
	}
	m := wsrpc.NewMethods()
	cluster.HandleNotify(m, func(ctx context.Context, n cluster.Notification) {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return
		}
		var v struct{ Seq int }
		_ = json.Unmarshal(n.Data, &v)
		s.mu.Lock()
		s.seqs = append(s.seqs, v.Seq)
		s.mu.Unlock()
	})
	subscribed := make(chan error, 1)
	c, err := wsrpc.Dial(ctxT(t, 10*time.Second), url+"?user="+user,
		wsrpc.WithLogger(quiet), wsrpc.WithMethods(m), wsrpc.WithReconnect(50*time.Millisecond, -1),
		wsrpc.WithOnConnect(func(ctx context.Context, ch *wsrpc.Channel) {
			if s.connects.Add(1) > 1 {
				s.open() // held still on its first connection only
			}
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			err := cluster.Subscribe(sctx, ch, topic)
			select {
			case subscribed <- err:
			default:
			}
		}),
		func(c *wsrpc.Config) {
			c.Sequential = true
			c.MaxIncomingBytes = 8 << 10
			c.Keepalive.Interval = -1 // held still, it could not read its pongs
		})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.open()
		_ = c.Close()
	})
	if err := <-subscribed; err != nil {
		t.Fatal(err)
	}
	s.c = c
	return s
}

var openMu sync.Mutex

func (s *seqSubscriber) open() {
	openMu.Lock()
	defer openMu.Unlock()
	select {
	case <-s.gate:
	default:
		close(s.gate)
	}
}

func (s *seqSubscriber) received() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.seqs...)
}

// checkSeqs verifies that s got exactly 0..n-1, in order.
func checkSeqs(t *testing.T, who string, s *seqSubscriber, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(s.received()) < n && time.Now().Before(deadline) && s.connects.Load() == 1 {
		time.Sleep(10 * time.Millisecond)
	}
	if c := s.connects.Load(); c != 1 {
		t.Fatalf("%s: its connection was lost (connected %d times; %d publications received)", who, c, len(s.received()))
	}
	time.Sleep(100 * time.Millisecond) // room for duplicates to show up
	got := s.received()
	if len(got) != n {
		t.Fatalf("%s got %d publications, want %d", who, len(got), n)
	}
	for i, seq := range got {
		if seq != i {
			t.Fatalf("%s: publication %d has seq %d (lost, duplicated or reordered)", who, i, seq)
		}
	}
}

// payload pads publications so that a burst is far more than socket buffers hold.
var payload = strings.Repeat("x", 2000)

// A burst of 10,000 publications from one node to subscribers on another whose queue
// holds 4, one of them held still until the node had to wait for room: with
// Backpressure (the default) every subscriber gets every publication, once, in order.
func TestBurstBackpressureLosesNothing(t *testing.T) {
	const burst = 10_000
	a := newNode(t, cluster.Config{NodeID: "a", EmbeddedListen: "127.0.0.1:0"})
	// The held subscriber does not read: no write timeout or keepalive may close it
	// meanwhile, however long a loaded machine takes to make the node wait.
	b := newNode(t, cluster.Config{NodeID: "b", NATSURLs: []string{a.hub.NATSURL()}, DeliveryQueue: 4}, func(c *wsrpc.Config) {
		c.WriteTimeout = -1
		c.Keepalive.Interval = -1
	})
	slow := newSeqSubscriber(t, b.url, "slow", "news", true)
	fast := newSeqSubscriber(t, b.url, "fast", "news", false)
	ctx := ctxT(t, 90*time.Second)
	published := make(chan error, 1)
	go func() {
		for i := range burst {
			if err := a.hub.Publish(ctx, "news", map[string]any{"seq": i, "pad": payload}); err != nil {
				published <- err
				return
			}
		}
		published <- nil
	}()
	// Held until the node had to wait for it.
	deadline := time.Now().Add(30 * time.Second)
	for b.hub.Stats().Waited == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the node never waited for the held subscriber: %+v", b.hub.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	slow.open()
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	checkSeqs(t, "slow subscriber", slow, burst)
	checkSeqs(t, "fast subscriber", fast, burst)
	st := b.hub.Stats()
	if st.Dropped != 0 || st.Disconnected != 0 || st.Delivered != 2*burst {
		t.Fatalf("stats %+v: want %d delivered, none dropped or disconnected", st, 2*burst)
	}
	if ts := b.hub.TopicStats("news"); ts.Delivered != 2*burst || ts.Waited == 0 || ts.Dropped != 0 {
		t.Fatalf("topic stats %+v", ts)
	}
	if n := slow.connects.Load(); n != 1 {
		t.Fatalf("the slow subscriber connected %d times, want once", n)
	}
}

// With Overflow Disconnect the slow subscriber's connection is closed as soon as its
// queue (64) overflows (its client reconnects and subscribes again); the fast subscriber of
// the same topic gets every publication, undelayed.
func TestSlowSubscriberDisconnected(t *testing.T) {
	const burst = 10_000
	a := newNode(t, cluster.Config{NodeID: "a", EmbeddedListen: "127.0.0.1:0"})
	b := newNode(t, cluster.Config{NodeID: "b", NATSURLs: []string{a.hub.NATSURL()}, DeliveryQueue: 64,
		Topics: map[string]cluster.TopicConfig{"firehose": {Overflow: cluster.Disconnect}}})
	slow := newSeqSubscriber(t, b.url, "slow", "firehose", true)
	fast := newSeqSubscriber(t, b.url, "fast", "firehose", false)
	ctx := ctxT(t, 90*time.Second)
	for i := range burst {
		// As fast as the fast subscriber reads: never more than 32 publications ahead of
		// it, so that only the slow one overflows a queue of 64.
		for len(fast.received()) < i-32 {
			time.Sleep(100 * time.Microsecond)
		}
		if err := a.hub.Publish(ctx, "firehose", map[string]any{"seq": i, "pad": payload}); err != nil {
			t.Fatal(err)
		}
	}
	checkSeqs(t, "fast subscriber", fast, burst)
	st := b.hub.Stats()
	if st.Disconnected != 1 || st.Waited != 0 || st.Dropped == 0 {
		t.Fatalf("stats %+v: want the slow subscriber disconnected once, no waits, its backlog dropped", st)
	}
	if ts := b.hub.TopicStats("firehose"); ts.Disconnected != 1 {
		t.Fatalf("topic stats %+v", ts)
	}
	// The slow client was disconnected, and came back once it read again.
	slow.open()
	deadline := time.Now().Add(10 * time.Second)
	for slow.connects.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the disconnected subscriber did not reconnect")
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := slow.received()
	if len(got) >= burst {
		t.Fatalf("the slow subscriber got %d publications", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("the slow subscriber got seq %d after %d (duplicated or reordered)", got[i], got[i-1])
		}
	}
}

// TopicStats counts a topic's subscribers across the cluster (from presence) and on
// this node.
func TestTopicStatsSubscribers(t *testing.T) {
	a, b := twoNodes(t)
	ctx := ctxT(t, 10*time.Second)
	s1 := newSeqSubscriber(t, a.url, "s1", "news", false)
	newSeqSubscriber(t, b.url, "s2", "news", false)
	newSeqSubscriber(t, b.url, "s3", "news", false)
	newSeqSubscriber(t, b.url, "s4", "sports", false)
	want := func(hub *cluster.Hub, topic string, subscribers, local int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			ts := hub.TopicStats(topic)
			if ts.Subscribers == subscribers && ts.Local == local {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %+v, want %d subscribers, %d local", topic, ts, subscribers, local)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	want(a.hub, "news", 3, 1)
	want(b.hub, "news", 3, 2)
	want(a.hub, "sports", 1, 0)
	if err := cluster.Unsubscribe(ctx, s1.c, "news"); err != nil {
		t.Fatal(err)
	}
	want(b.hub, "news", 2, 2)
	want(a.hub, "news", 2, 0)
	_ = s1.c.Close()
	want(b.hub, "nothing", 0, 0)
}

// With Backpressure, a subscriber held still slows its publisher down: once the node
// holding it has PublishWindow (16) of the publisher's publications not queued yet,
// Publish waits, and fails with its context without sending anything. Once the
// subscriber reads again, publishing goes on, and it gets everything, once, in order.
func TestPublishWaitsForSlowSubscriber(t *testing.T) {
	a := newNode(t, cluster.Config{NodeID: "a", EmbeddedListen: "127.0.0.1:0", PublishWindow: 16})
	b := newNode(t, cluster.Config{NodeID: "b", NATSURLs: []string{a.hub.NATSURL()}, DeliveryQueue: 4}, func(c *wsrpc.Config) {
		c.WriteTimeout = -1
		c.Keepalive.Interval = -1
	})
	slow := newSeqSubscriber(t, b.url, "slow", "news", true)
	ctx := ctxT(t, 90*time.Second)
	for a.hub.TopicStats("news").Subscribers != 1 {
		if ctx.Err() != nil {
			t.Fatal("node a never saw the subscriber")
		}
		time.Sleep(5 * time.Millisecond)
	}
	publish := func(ctx context.Context, seq int) error {
		return a.hub.Publish(ctx, "news", map[string]any{"seq": seq, "pad": payload})
	}
	seq := 0
	for {
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := publish(pctx, seq)
		cancel()
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("publication %d: %v, want a timeout", seq, err)
			}
			break
		}
		seq++
		if seq == 100_000 {
			t.Fatal("Publish never waited for the held subscriber")
		}
	}
	if st := a.hub.Stats(); st.PublishWaited == 0 {
		t.Fatalf("publisher stats %+v", st)
	}
	slow.open()
	for range 100 {
		if err := publish(ctx, seq); err != nil {
			t.Fatal(err)
		}
		seq++
	}
	checkSeqs(t, "slow subscriber", slow, seq)
	if st := b.hub.Stats(); st.Dropped != 0 || st.Delivered != uint64(seq) {
		t.Fatalf("subscriber node stats %+v, want %d delivered, none dropped", st, seq)
	}
	t.Logf("Publish waited after %d publications", seq-100)
}

// Publish does not wait for nodes without subscribers, nor for Disconnect topics.
func TestPublishWindowOnlyForSubscribedNodes(t *testing.T) {
	a := newNode(t, cluster.Config{NodeID: "a", EmbeddedListen: "127.0.0.1:0", PublishWindow: 1,
		Topics: map[string]cluster.TopicConfig{"firehose": {Overflow: cluster.Disconnect}}})
	newNode(t, cluster.Config{NodeID: "b", NATSURLs: []string{a.hub.NATSURL()}})
	ctx := ctxT(t, 10*time.Second)
	for i := range 1000 {
		for _, topic := range []string{"nobody", "firehose"} {
			if err := a.hub.Publish(ctx, topic, i); err != nil {
				t.Fatal(err)
			}
		}
	}
	if st := a.hub.Stats(); st.PublishWaited != 0 {
		t.Fatalf("stats %+v", st)
	}
}
