// Command simple-server is the Go port of fastapi-ws-rpc's simple server example: it
// exposes concat(a, b) at ws://127.0.0.1:9000/ws.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	path := flag.String("path", "/ws", "WebSocket path")
	flag.Parse()

	m := wsrpc.NewMethods()
	wsrpc.Register(m, "concat", func(ctx context.Context, p struct {
		A string `json:"a,omitempty"`
		B string `json:"b,omitempty"`
	}) (string, error) {
		return p.A + p.B, nil
	})
	srv, err := wsrpc.NewServer(m)
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
