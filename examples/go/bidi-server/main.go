// Command bidi-server is the Go port of fastapi-ws-rpc's bidirectional server example:
// a second after a client connects it calls the client's allow_queries(); every concat(a, b)
// also tells the client allow_exit(delay) with a random delay of 1-4 s.
package main

import (
	"context"
	"flag"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	path := flag.String("path", "/ws", "WebSocket path")
	wait := flag.Duration("wait", time.Second, "delay before allow_queries")
	origins := flag.String("origins", "", "comma-separated Origin host patterns allowed besides same-origin (e.g. '127.0.0.1:*' for the browser example)")
	flag.Parse()

	m := wsrpc.NewMethods()
	wsrpc.Register(m, "concat", func(ctx context.Context, p struct {
		A string `json:"a,omitempty"`
		B string `json:"b,omitempty"`
	}) (string, error) {
		ch := wsrpc.ChannelFromContext(ctx)
		go func() {
			delay := 1 + rand.IntN(4)
			if err := ch.Call(ch.Context(), "allow_exit", map[string]int{"delay": delay}, nil); err != nil {
				slog.Warn("allow_exit", "err", err)
			}
		}()
		return p.A + p.B, nil
	})
	var opts []wsrpc.Option
	if *origins != "" {
		opts = append(opts, wsrpc.WithOriginPatterns(strings.Split(*origins, ",")...))
	}
	srv, err := wsrpc.NewServer(m, append(opts, wsrpc.WithOnConnect(func(ctx context.Context, ch *wsrpc.Channel) {
		select {
		case <-time.After(*wait):
		case <-ctx.Done():
			return
		}
		if err := ch.Call(ctx, "allow_queries", nil, nil); err != nil {
			slog.Warn("allow_queries", "err", err)
		}
	}))...)
	if err != nil {
		slog.Error("server", "err", err)
		os.Exit(1)
	}
	// Listen drops connections that do not finish their upgrade request within seconds;
	// a program with its own http.Server sets ReadHeaderTimeout for the same.
	l, err := wsrpc.Listen(*addr, *path, srv)
	if err != nil {
		slog.Error("listen", "err", err)
		os.Exit(1)
	}
	slog.Info("serving", "url", l.URL())
	// On SIGINT or SIGTERM: let running calls finish (up to 10 s), then close.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = l.Shutdown(sctx)
}
