package interop

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsrpc/wsrpc/pkg/cluster"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// TestPubSubClientDurableTopic: the real PubSubClient subscribes, through a Go server
// attached to a cluster.Hub, to a durable topic. Its deliveries carry "offset" and
// "epoch" inside "subscription" (the legacy envelope's only room for them), which
// PubSubClient ignores: it gets every event once, in order. (It does not send its
// offsets back, so it does not recover after a reconnect: that takes SubscribeSince.)
func TestPubSubClientDurableTopic(t *testing.T) {
	python(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const topic = "orders"
	hub, err := cluster.New(ctx, cluster.Config{StoreDir: t.TempDir(), Logger: discardLogger(),
		Topics: map[string]cluster.TopicConfig{topic: {Durable: true}}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := hub.NewServer(nil, quietLogs(), wsrpc.WithDialect(wsrpc.DialectAuto))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		ts.Close()
		_ = hub.Close()
	})
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/pubsub"
	sub := startPy(t, 80*time.Second, "pubsub_subscriber.py", url, "--topic", topic, "--count", "5")
	sub.waitLine(t, "READY", 40*time.Second)
	for i := range 5 {
		if err := hub.Publish(ctx, topic, pubsubEvent{Seq: i, Topic: topic, Source: "go"}); err != nil {
			t.Fatal(err)
		}
	}
	expectGoEvents(t, sub, topic, "[0 1 2 3 4]")
}
