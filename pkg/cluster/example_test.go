package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/wsrpc/wsrpc/pkg/cluster"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// A single node needs no setup: the hub runs an embedded NATS server in-process.
// Connections are addressable by the "user" value their Authenticate hook set.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	hub, err := cluster.New(ctx, cluster.Config{Keys: []string{"user"}, Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer hub.Close()
	srv, err := hub.NewServer(nil, wsrpc.WithLogger(quiet), wsrpc.WithAuthenticate(func(r *http.Request) (map[string]any, error) {
		return map[string]any{"user": r.URL.Query().Get("user")}, nil
	}))
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()

	// A client that answers "whoami" and receives publications.
	m := wsrpc.NewMethods()
	wsrpc.Register(m, "whoami", func(ctx context.Context, _ struct{}) (string, error) { return "alice's browser", nil })
	got := make(chan string, 1)
	cluster.HandleNotify(m, func(ctx context.Context, n cluster.Notification) {
		got <- n.Subscription.Topic + ": " + string(n.Data)
	})
	c, err := wsrpc.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"?user=alice", wsrpc.WithMethods(m), wsrpc.WithLogger(quiet))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	if err := cluster.Subscribe(ctx, c, "news"); err != nil {
		panic(err)
	}

	var who string
	if err := hub.Call(ctx, cluster.Key("user", "alice"), "whoami", nil, &who); err != nil {
		panic(err)
	}
	fmt.Println(who)
	if err := hub.Publish(ctx, "news", map[string]string{"text": "hello"}); err != nil {
		panic(err)
	}
	fmt.Println(<-got)
	// Output:
	// alice's browser
	// news: {"text":"hello"}
}

// Nodes of one service share a NATS deployment. Here the first node's embedded server
// accepts the second on loopback; in production all nodes use NATSURLs of a NATS cluster.
func ExampleConfig_nodes() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := cluster.New(ctx, cluster.Config{NodeID: "n1", EmbeddedListen: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer first.Close()
	second, err := cluster.New(ctx, cluster.Config{NodeID: "n2", NATSURLs: []string{first.NATSURL()}, Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer second.Close()
	for len(first.Nodes()) < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println(first.Nodes())
	// Output: [n1 n2]
}
