// Command testserver is the wsrpc server the fault-injection tests run as a separate
// process, so that they can kill it (SIGKILL) and restart it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	idle := flag.Duration("idle", 0, "idle timeout")
	maxSize := flag.Int64("max-size", wsrpc.DefaultMaxMessageSize, "max message size")
	flag.Parse()

	var notes atomic.Int64
	m := wsrpc.NewMethods()
	wsrpc.AddUtilityMethods(m)
	wsrpc.Register(m, "slow", func(ctx context.Context, p struct {
		MS int    `json:"ms"`
		V  string `json:"v"`
	}) (string, error) {
		select {
		case <-time.After(time.Duration(p.MS) * time.Millisecond):
			return p.V, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	})
	wsrpc.Register(m, "note", func(ctx context.Context, _ struct{}) (any, error) {
		notes.Add(1)
		return nil, nil
	})
	wsrpc.Register(m, "notes", func(ctx context.Context, _ struct{}) (int64, error) { return notes.Load(), nil })

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := wsrpc.NewServer(m, wsrpc.WithLogger(logger), wsrpc.WithMaxMessageSize(*maxSize),
		func(c *wsrpc.Config) {
			c.IdleTimeout = *idle
			c.MaxConcurrentRequests = 5000
			c.MaxSendQueue = 5000
		})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("LISTENING %s\n", l.Addr())
	_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { srv.ServeHTTP(w, r) }))
}
