// Command simple-server is the Go port of fastapi-ws-rpc's simple server example: it
// exposes concat(a, b) at ws://127.0.0.1:9000/ws.
package main

import (
	"context"
	"flag"
	"log/slog"
	"net/http"
	"os"

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
	mux := http.NewServeMux()
	mux.Handle(*path, srv)
	slog.Info("serving", "url", "ws://"+*addr+*path)
	if err := http.ListenAndServe(*addr, mux); err != nil {
		slog.Error("listen", "err", err)
		os.Exit(1)
	}
}
