package cluster_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wsrpc/wsrpc/pkg/cluster"
)

// TestBurstNoLoss: a burst of 10,000 publications, as fast as Publish returns, to 12
// subscribers over 3 node processes (topics in the default Backpressure mode): every
// subscriber gets every publication once, in order. (With the queues of 1,024 dropping
// on overflow, such bursts lost thousands of deliveries.)
func TestBurstNoLoss(t *testing.T) {
	const burst = 10_000
	natsURL := startNATS(t)
	// The default heartbeat (1 s), as the publisher's: under -race on a loaded machine,
	// 120,000 deliveries can starve a node past the other tests' 600 ms loss limit, and
	// this test is about slow subscribers, not lost nodes.
	var nodes []*nodeProc
	for _, id := range []string{"a", "b", "c"} {
		nodes = append(nodes, startNode(t, id, natsURL, "-heartbeat", "1s"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	pub, err := cluster.New(ctx, cluster.Config{NodeID: "publisher", NATSURLs: []string{natsURL}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	var clients []*client
	for i := range 12 {
		clients = append(clients, dialClient(t, fmt.Sprintf("s%d", i), []string{nodes[i%3].url}))
	}
	waitFor(t, 10*time.Second, "every subscription", func() bool { return pub.TopicStats("news").Subscribers == len(clients) })
	for i := range burst {
		if err := pub.Publish(ctx, "news", map[string]int{"seq": i}); err != nil {
			t.Fatal(err)
		}
	}
	for _, cl := range clients {
		waitFor(t, 90*time.Second, cl.user+" publications", func() bool { return len(cl.received()) >= burst })
	}
	checkExactly(t, clients, 0, burst)
}
