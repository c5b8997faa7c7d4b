package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

type pubsubEvent struct {
	Seq    int    `json:"seq"`
	Topic  string `json:"topic"`
	Source string `json:"source"`
}

// TestPubSubGoSubscriber: a Go legacy client subscribes through the real
// fastapi_websocket_pubsub endpoint and receives events published by the real PubSubClient
// and by the server itself, each once and in order.
func TestPubSubGoSubscriber(t *testing.T) {
	python(t)
	probeVersions(t)
	t.Parallel()
	recordCompat(t, rowPubSubGoSub, 4)
	_, port := startPyServer(t, "pubsub_server.py")
	url := wsURL(port, "/pubsub")
	const topic = "go-topic"
	var mu sync.Mutex
	var events []pubsubEvent
	var subs []json.RawMessage
	got := make(chan struct{}, 100)
	m := wsrpc.NewMethods()
	// The server CALLS notify and waits for the answer (a synchronous publisher stalls
	// until every subscriber answered, FINDINGS §4), so it must be a method that answers.
	wsrpc.Register(m, "notify", func(ctx context.Context, p struct {
		Subscription json.RawMessage `json:"subscription"`
		Data         pubsubEvent     `json:"data"`
	}) (any, error) {
		mu.Lock()
		events = append(events, p.Data)
		subs = append(subs, p.Subscription)
		mu.Unlock()
		got <- struct{}{}
		return nil, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := wsrpc.Dial(ctx, url, quietLogs(), wsrpc.WithDialect(wsrpc.DialectLegacy), wsrpc.WithSubprotocols(),
		wsrpc.WithMethods(m), wsrpc.WithTimeout(15*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var ok bool
	if err := c.Call(ctx, "subscribe", map[string]any{"topics": []string{topic}}, &ok); err != nil || !ok {
		t.Fatalf("subscribe: %v %v", ok, err)
	}
	waitN := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			select {
			case <-got:
			case <-ctx.Done():
				t.Fatalf("only %d of %d events arrived", i, n)
			}
		}
	}
	// 1. The real PubSubClient publishes 5 events (sync=True).
	pub := startPy(t, 80*time.Second, "pubsub_publisher.py", url, "--topic", topic, "--count", "5")
	pub.waitLine(t, "READY", 40*time.Second)
	if _, err := io.WriteString(pub.stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	pub.waitLine(t, "PUBLISHED 5", 40*time.Second)
	waitN(5)
	// 2. The server publishes 5 events itself.
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/publish?topic=%s&count=5", port, topic), "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"published":5`) {
		t.Fatalf("POST /publish: %d %s", resp.StatusCode, body)
	}
	waitN(5)
	// 3. Nothing else arrives (no duplicates).
	select {
	case <-got:
		t.Errorf("an extra event arrived")
	case <-time.After(500 * time.Millisecond):
	}
	mu.Lock()
	defer mu.Unlock()
	for i, e := range events {
		wantSource, seq := "python-publisher", i
		if i >= 5 {
			wantSource, seq = "server", i-5
		}
		if e.Seq != seq || e.Source != wantSource || e.Topic != topic {
			t.Errorf("event %d: %+v, want seq %d from %s", i, e, seq, wantSource)
		}
	}
	var sub struct {
		Topic        string  `json:"topic"`
		SubscriberID string  `json:"subscriber_id"`
		NotifierID   *string `json:"notifier_id"`
	}
	if len(subs) > 0 {
		_ = json.Unmarshal(subs[0], &sub)
	}
	if sub.Topic != topic || !hex32.MatchString(sub.SubscriberID) {
		t.Errorf("subscription in notify: %s", subs[0])
	}
}

// TestPubSubGoPublisher: a Go legacy client publishes (the argument set PubSubClient.publish
// sends) to a real PubSubClient subscriber.
func TestPubSubGoPublisher(t *testing.T) {
	python(t)
	probeVersions(t)
	t.Parallel()
	recordCompat(t, rowPubSubGoPub, 2)
	_, port := startPyServer(t, "pubsub_server.py")
	url := wsURL(port, "/pubsub")
	const topic = "from-go"
	sub := startPy(t, 80*time.Second, "pubsub_subscriber.py", url, "--topic", topic, "--count", "5")
	sub.waitLine(t, "READY", 40*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := wsrpc.Dial(ctx, url, quietLogs(), wsrpc.WithDialect(wsrpc.DialectLegacy), wsrpc.WithSubprotocols(),
		wsrpc.WithTimeout(15*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 5; i++ {
		var ok bool
		err := c.Call(ctx, "publish", map[string]any{"topics": []string{topic},
			"data": pubsubEvent{Seq: i, Topic: topic, Source: "go"}, "sync": true, "notifier_id": nil}, &ok)
		if err != nil || !ok {
			t.Fatalf("publish %d: %v %v", i, ok, err)
		}
	}
	expectGoEvents(t, sub, topic, "[0 1 2 3 4]")
}

// expectGoEvents waits for pubsub_subscriber.py to exit and checks that it printed the
// events a Go publisher published on topic, with the seqs want (fmt.Sprint of the list).
func expectGoEvents(t *testing.T, sub *proc, topic, want string) {
	t.Helper()
	code, lines := sub.wait(t, 30*time.Second)
	var seqs []int
	for _, l := range lines {
		var e struct {
			Topic string      `json:"topic"`
			Data  pubsubEvent `json:"data"`
		}
		if strings.HasPrefix(l, "{") && json.Unmarshal([]byte(l), &e) == nil {
			if e.Topic != topic || e.Data.Source != "go" {
				t.Errorf("event %s", l)
			}
			seqs = append(seqs, e.Data.Seq)
		}
	}
	if code != 0 || fmt.Sprint(seqs) != want {
		t.Errorf("subscriber exit %d, events %v, want %s", code, seqs, want)
	}
}
