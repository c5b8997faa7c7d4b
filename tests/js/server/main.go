// Command server is the Go peer of the JavaScript binding's tests (tests/js): a wsrpc
// Server with methods that exercise every entry point of the binding.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (port 0: any; the address is printed)")
	origins := flag.String("origins", "", "comma-separated Origin host patterns allowed besides same-origin")
	flag.Parse()

	var (
		mu     sync.Mutex
		events []json.RawMessage // notifications received (method log_event)
		closes []closeStatus     // close codes and reasons clients sent (method closes)
	)
	m := wsrpc.NewMethods()
	wsrpc.Register(m, "concat", func(ctx context.Context, p struct {
		A string `json:"a"`
		B string `json:"b"`
	}) (string, error) {
		return p.A + p.B, nil
	})
	m.Handle("echo", func(ctx context.Context, params json.RawMessage) (any, error) {
		if params == nil {
			return nil, nil
		}
		return params, nil
	})
	wsrpc.Register(m, "add", func(ctx context.Context, p struct{ X, Y float64 }) (float64, error) { return p.X + p.Y, nil })
	wsrpc.Register(m, "big", func(ctx context.Context, p struct {
		N int `json:"n"`
	}) (string, error) {
		return strings.Repeat("b", p.N), nil
	})
	wsrpc.Register(m, "fail", func(ctx context.Context, p struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data,omitempty"`
	}) (any, error) {
		return nil, &wsrpc.Error{Code: p.Code, Message: p.Message, Data: p.Data}
	})
	wsrpc.Register(m, "boom", func(ctx context.Context, _ struct{}) (any, error) {
		return nil, errors.New("secret detail")
	})
	wsrpc.Register(m, "sleep", func(ctx context.Context, p struct {
		Seconds float64 `json:"seconds"`
	}) (float64, error) {
		select {
		case <-time.After(time.Duration(p.Seconds * float64(time.Second))):
		case <-ctx.Done():
		}
		return p.Seconds, nil
	})
	// callback calls the client's method and returns what it answered:
	// {"result": ...} or {"error": {code, message, data}}.
	wsrpc.Register(m, "callback", func(ctx context.Context, p struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params,omitempty"`
	}) (any, error) {
		var out json.RawMessage
		err := wsrpc.ChannelFromContext(ctx).Call(ctx, p.Method, p.Params, &out)
		var re *wsrpc.Error
		if errors.As(err, &re) {
			return map[string]any{"error": re}, nil
		}
		if err != nil {
			return nil, err
		}
		return map[string]any{"result": out}, nil
	})
	// notify_me sends the client a notification.
	wsrpc.Register(m, "notify_me", func(ctx context.Context, p struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params,omitempty"`
	}) (bool, error) {
		return true, wsrpc.ChannelFromContext(ctx).Notify(ctx, p.Method, p.Params)
	})
	m.Handle("log_event", func(ctx context.Context, params json.RawMessage) (any, error) {
		mu.Lock()
		events = append(events, append(json.RawMessage{}, params...))
		mu.Unlock()
		return nil, nil
	})
	wsrpc.Register(m, "events", func(ctx context.Context, _ struct{}) ([]json.RawMessage, error) {
		mu.Lock()
		defer mu.Unlock()
		return append([]json.RawMessage{}, events...), nil
	})
	wsrpc.Register(m, "closes", func(ctx context.Context, _ struct{}) ([]closeStatus, error) {
		mu.Lock()
		defer mu.Unlock()
		return append([]closeStatus{}, closes...), nil
	})
	// close_me closes the connection with the given code after answering.
	wsrpc.Register(m, "close_me", func(ctx context.Context, _ struct{}) (bool, error) {
		ch := wsrpc.ChannelFromContext(ctx)
		go func() { time.Sleep(50 * time.Millisecond); _ = ch.Close() }()
		return true, nil
	})

	opts := []wsrpc.Option{wsrpc.WithOnDisconnect(func(ch *wsrpc.Channel, _ error) {
		if code, reason := ch.CloseStatus(); code >= 0 {
			mu.Lock()
			closes = append(closes, closeStatus{code, reason})
			mu.Unlock()
		}
	})}
	if *origins != "" {
		opts = append(opts, wsrpc.WithOriginPatterns(strings.Split(*origins, ",")...))
	}
	srv, err := wsrpc.NewServer(m, opts...)
	if err != nil {
		slog.Error("server", "err", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		slog.Error("listen", "err", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	fmt.Printf("listening ws://%s/ws\n", ln.Addr())
	if err := http.Serve(ln, mux); err != nil {
		slog.Error("serve", "err", err)
		os.Exit(1)
	}
}

// closeStatus is a close frame a client sent.
type closeStatus struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}
