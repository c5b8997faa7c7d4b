// Command node is one server node of the multi-process cluster test: a wsrpc server
// attached to a cluster.Hub that joins the NATS server given with -nats.
//
//	node -id a -nats nats://127.0.0.1:4222 [-listen 127.0.0.1:0] [-heartbeat 200ms] [-disconnect TOPIC]
//	     [-durable TOPIC[:MAXMSGS],...] [-keepalive INTERVAL]
//
// It prints "READY ws://HOST:PORT/ws" once serving and runs until SIGINT/SIGTERM.
// Clients connect with ?user=NAME, which makes them addressable as Key("user", NAME).
// Methods: node() -> this node's id; route(user, method) -> the result of calling method
// on that user's connection wherever it is (application code on this node reaching a
// client on another); plus the hub's subscribe/unsubscribe/publish.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wsrpc/wsrpc/pkg/cluster"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

func main() {
	id := flag.String("id", "", "node id")
	natsURL := flag.String("nats", "", "NATS server URL (empty: embedded)")
	listen := flag.String("listen", "127.0.0.1:0", "WebSocket listen address")
	heartbeat := flag.Duration("heartbeat", 200*time.Millisecond, "presence heartbeat interval (lost after 3)")
	disconnect := flag.String("disconnect", "", "a topic whose slow subscribers are disconnected (Overflow Disconnect)")
	durable := flag.String("durable", "", "durable topics (JetStream history), comma-separated, each with an optional :MAXMSGS")
	keepalive := flag.Duration("keepalive", 0, "the server's keepalive interval (0: wsrpc's default)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("node", *id)
	topics := map[string]cluster.TopicConfig{}
	if *disconnect != "" {
		topics[*disconnect] = cluster.TopicConfig{Overflow: cluster.Disconnect}
	}
	for _, d := range strings.Split(*durable, ",") {
		if d == "" {
			continue
		}
		name, limit, _ := strings.Cut(d, ":")
		tc := cluster.TopicConfig{Durable: true}
		if limit != "" {
			n, err := strconv.ParseInt(limit, 10, 64)
			if err != nil {
				log.Error("bad -durable", "err", err)
				os.Exit(2)
			}
			tc.MaxMsgs = n
		}
		topics[name] = tc
	}
	if err := run(*id, *natsURL, *listen, *heartbeat, *keepalive, topics, log); err != nil {
		log.Error("node failed", "err", err)
		os.Exit(1)
	}
}

func run(id, natsURL, listen string, heartbeat, keepalive time.Duration, topics map[string]cluster.TopicConfig, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := cluster.Config{NodeID: id, Keys: []string{"user"}, HeartbeatInterval: heartbeat, Logger: log, Topics: topics}
	if natsURL != "" {
		cfg.NATSURLs = []string{natsURL}
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	hub, err := cluster.New(sctx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer hub.Close()

	m := wsrpc.NewMethods()
	wsrpc.Register(m, "node", func(ctx context.Context, _ struct{}) (string, error) { return id, nil })
	wsrpc.Register(m, "route", func(ctx context.Context, p struct {
		User   string `json:"user"`
		Method string `json:"method"`
	}) (json.RawMessage, error) {
		var out json.RawMessage
		err := hub.Call(ctx, cluster.Key("user", p.User), p.Method, nil, &out)
		return out, err
	})
	srv, err := hub.NewServer(m, wsrpc.WithLogger(log), wsrpc.WithDialect(wsrpc.DialectAuto),
		wsrpc.WithAuthenticate(func(r *http.Request) (map[string]any, error) {
			return map[string]any{"user": r.URL.Query().Get("user")}, nil
		}), func(c *wsrpc.Config) {
			if keepalive != 0 {
				c.Keepalive.Interval = keepalive
			}
		})
	if err != nil {
		return err
	}
	l, err := wsrpc.Listen(listen, "/ws", srv)
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Printf("READY %s\n", l.URL())
	<-ctx.Done()
	return nil
}
