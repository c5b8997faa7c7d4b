// Command cluster shows one wsrpc service on three nodes (pkg/cluster over NATS).
//
// With no flags it runs a self-contained demo: three nodes in this process (the first
// one's embedded NATS server accepts the other two on loopback), a client on each node,
// a message routed from a client on node 1 to a client on node 3, a publication every
// client receives, and node 3 stopped while its client moves to another node.
//
//	go run ./examples/go/cluster
//
// With -listen it runs one node until interrupted, for three terminals:
//
//	go run ./examples/go/cluster -listen 127.0.0.1:9001 -nats-listen 127.0.0.1:4222
//	go run ./examples/go/cluster -listen 127.0.0.1:9002 -nats nats://127.0.0.1:4222
//	go run ./examples/go/cluster -listen 127.0.0.1:9003 -nats nats://127.0.0.1:4222
//
// Clients connect to ws://127.0.0.1:900N/ws?user=NAME and may call send(to, text),
// subscribe/unsubscribe/publish, and receive "message" and "notify".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wsrpc/wsrpc/pkg/cluster"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

func main() {
	listen := flag.String("listen", "", "run one node serving WebSockets on this address (default: the 3-node demo)")
	natsURL := flag.String("nats", "", "join the NATS server at this URL")
	natsListen := flag.String("nats-listen", "", "with no -nats: let other nodes join this node's embedded NATS server here")
	id := flag.String("id", "", "node id (default: random)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *listen == "" {
		err = demo(ctx, log)
	} else {
		err = serve(ctx, *id, *listen, *natsURL, *natsListen, log)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// node is one server node: a hub and a wsrpc server.
type node struct {
	hub *cluster.Hub
	l   *wsrpc.Listener
}

func (n *node) Close() {
	_ = n.l.Close() // the server first: its connections leave the hub
	_ = n.hub.Close()
}

func startNode(ctx context.Context, id, listen string, cfg cluster.Config, log *slog.Logger) (*node, error) {
	cfg.NodeID, cfg.Keys, cfg.Logger = id, []string{"user"}, log
	hub, err := cluster.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	m := wsrpc.NewMethods()
	// send(to, text): deliver a message to a user, whichever node they are connected to.
	wsrpc.Register(m, "send", func(ctx context.Context, p struct {
		To   string `json:"to"`
		Text string `json:"text"`
	}) (string, error) {
		from, _ := wsrpc.ChannelFromContext(ctx).Value("user").(string)
		var ack string
		err := hub.Call(ctx, cluster.Key("user", p.To), "message", map[string]string{"from": from, "text": p.Text}, &ack)
		if errors.Is(err, cluster.ErrNoTarget) {
			return "", wsrpc.InvalidParams(p.To + " is not connected")
		}
		return ack, err
	})
	srv, err := hub.NewServer(m, wsrpc.WithLogger(log),
		wsrpc.WithDialect(wsrpc.DialectAuto), // Python fastapi-websocket-pubsub clients too
		wsrpc.WithAuthenticate(func(r *http.Request) (map[string]any, error) {
			user := r.URL.Query().Get("user")
			if user == "" {
				return nil, &wsrpc.HTTPError{Status: http.StatusUnauthorized, Message: "?user= missing"}
			}
			return map[string]any{"user": user}, nil
		}))
	if err != nil {
		_ = hub.Close()
		return nil, err
	}
	l, err := wsrpc.Listen(listen, "/ws", srv)
	if err != nil {
		_ = hub.Close()
		return nil, err
	}
	return &node{hub: hub, l: l}, nil
}

func serve(ctx context.Context, id, listen, natsURL, natsListen string, log *slog.Logger) error {
	cfg := cluster.Config{EmbeddedListen: natsListen}
	if natsURL != "" {
		cfg = cluster.Config{NATSURLs: []string{natsURL}}
	}
	n, err := startNode(ctx, id, listen, cfg, log)
	if err != nil {
		return err
	}
	defer n.Close()
	fmt.Printf("node %s serving %s (NATS: %s)\n", n.hub.NodeID(), n.l.URL(), orEmbedded(n.hub.NATSURL()))
	events := n.hub.Watch(ctx)
	for ev := range events {
		fmt.Printf("presence: %s %s on node %s\n", ev.Kind, ev.Keys["user"], ev.Node)
	}
	return nil
}

func orEmbedded(url string) string {
	if url == "" {
		return "embedded, in-process only"
	}
	return url
}

func demo(ctx context.Context, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	n1, err := startNode(ctx, "node1", "127.0.0.1:0", cluster.Config{EmbeddedListen: "127.0.0.1:0"}, log)
	if err != nil {
		return err
	}
	defer n1.Close()
	nodes := []*node{n1}
	for _, id := range []string{"node2", "node3"} {
		n, err := startNode(ctx, id, "127.0.0.1:0", cluster.Config{NATSURLs: []string{n1.hub.NATSURL()}}, log)
		if err != nil {
			return err
		}
		defer n.Close()
		nodes = append(nodes, n)
	}
	fmt.Printf("3 nodes: %s %s %s, NATS %s\n", nodes[0].l.URL(), nodes[1].l.URL(), nodes[2].l.URL(), n1.hub.NATSURL())

	printed := make(chan string, 16)
	users := []string{"alice", "bob", "carol"}
	var clients []*wsrpc.Client
	for i, user := range users {
		c, err := dialUser(ctx, user, nodes, i, printed, log)
		if err != nil {
			return err
		}
		defer c.Close()
		clients = append(clients, c)
	}
	for len(n1.hub.Presence()) < len(users) {
		time.Sleep(10 * time.Millisecond)
	}
	for _, p := range n1.hub.Presence() {
		fmt.Printf("presence: %s on %s\n", p.Keys["user"], p.Node)
	}

	// alice (node1) sends to carol (node3): node1 routes the call through NATS.
	var ack string
	if err := clients[0].Call(ctx, "send", map[string]string{"to": "carol", "text": "hi from node1"}, &ack); err != nil {
		return err
	}
	fmt.Println(<-printed)
	fmt.Println("alice got:", ack)

	// A publication from application code on node2 reaches every subscriber.
	if err := nodes[1].hub.Publish(ctx, "chat", map[string]string{"text": "hello, everyone"}); err != nil {
		return err
	}
	for range users {
		fmt.Println(<-printed)
	}

	// node3 goes away; carol's client reconnects to another node and is reachable again.
	fmt.Println("stopping node3")
	nodes[2].Close()
	for {
		err := clients[0].Call(ctx, "send", map[string]string{"to": "carol", "text": "still there?"}, &ack)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Println(<-printed)
	for _, p := range n1.hub.Presence() {
		fmt.Printf("presence: %s on %s\n", p.Keys["user"], p.Node)
	}
	return nil
}

// dialUser connects user to nodes[first] with the other nodes as fallbacks; the client
// answers "message", prints publications, and subscribes to "chat" on every connect.
func dialUser(ctx context.Context, user string, nodes []*node, first int, printed chan<- string, log *slog.Logger) (*wsrpc.Client, error) {
	m := wsrpc.NewMethods()
	wsrpc.Register(m, "message", func(ctx context.Context, p struct {
		From string `json:"from"`
		Text string `json:"text"`
	}) (string, error) {
		printed <- fmt.Sprintf("%s got message from %s: %q", user, p.From, p.Text)
		return user + " read it", nil
	})
	cluster.HandleNotify(m, func(ctx context.Context, n cluster.Notification) {
		printed <- fmt.Sprintf("%s got publication on %s: %s", user, n.Subscription.Topic, n.Data)
	})
	var fallbacks []string
	for i, n := range nodes {
		if i != first {
			fallbacks = append(fallbacks, n.l.URL()+"?user="+user)
		}
	}
	// In a random order per client: when a node dies, its clients spread over the others
	// instead of all moving to the same one.
	rand.Shuffle(len(fallbacks), func(i, j int) { fallbacks[i], fallbacks[j] = fallbacks[j], fallbacks[i] })
	return wsrpc.Dial(ctx, nodes[first].l.URL()+"?user="+user,
		wsrpc.WithMethods(m), wsrpc.WithLogger(log),
		wsrpc.WithFallbackURLs(fallbacks...),
		wsrpc.WithReconnect(100*time.Millisecond, -1),
		wsrpc.WithOnConnect(func(ctx context.Context, ch *wsrpc.Channel) {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			_ = cluster.Subscribe(sctx, ch, "chat") // subscriptions belong to a connection
		}))
}
