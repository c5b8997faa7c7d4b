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

	"github.com/coder/websocket"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (port 0: any; the address is printed)")
	origins := flag.String("origins", "", "comma-separated Origin host patterns allowed besides same-origin")
	flag.Parse()

	var (
		mu        sync.Mutex
		events    []json.RawMessage // notifications received (method log_event)
		closes    []closeStatus     // close codes and reasons clients sent (method closes)
		cancelled []string          // tokens of the hold calls whose context ended
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
	// hold tells the client it runs with the notification held_started({token}), waits
	// until its context ends (the client cancels the call on the wire, or the connection
	// closes), then tells the client so with held_cancelled({token}); it answers false
	// after a minute.
	wsrpc.Register(m, "hold", func(ctx context.Context, p struct {
		Token string `json:"token"`
	}) (bool, error) {
		ch := wsrpc.ChannelFromContext(ctx)
		if err := ch.Notify(ctx, "held_started", map[string]string{"token": p.Token}); err != nil {
			return false, err
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Minute):
			return false, nil
		}
		mu.Lock()
		cancelled = append(cancelled, p.Token)
		mu.Unlock()
		nctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ch.Notify(nctx, "held_cancelled", map[string]string{"token": p.Token})
		return true, nil
	})
	// cancelled lists the tokens of the hold calls whose context ended.
	wsrpc.Register(m, "cancelled", func(ctx context.Context, _ struct{}) ([]string, error) {
		mu.Lock()
		defer mu.Unlock()
		return append([]string{}, cancelled...), nil
	})
	// extended reports whether this connection agreed to the wsrpc extensions
	// (subprotocol jsonrpc2.0+wsrpc: cancellation on the wire).
	wsrpc.Register(m, "extended", func(ctx context.Context, _ struct{}) (bool, error) {
		return wsrpc.ChannelFromContext(ctx).Extended(), nil
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
	py := &pythonPeer{}
	if *origins != "" {
		py.origins = strings.Split(*origins, ",")
	}
	mux.Handle("/py", py)
	mux.HandleFunc("/py/received", py.received)
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

// pythonPeer answers as the Python libraries do where wsrpc goes beyond them: it selects
// only the subprotocol "jsonrpc2.0", answers any array (a batch) with one -32600 "Expected
// dict" error object with a null id, answers the calls "echo" (result: the params) and
// "ping" ("pong") and never answers the others. GET /py/received lists the messages it
// received.
type pythonPeer struct {
	origins []string
	mu      sync.Mutex
	got     []string
}

func (p *pythonPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"jsonrpc2.0"}, OriginPatterns: p.origins})
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := r.Context()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.got = append(p.got, string(data))
		p.mu.Unlock()
		var reply string
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		switch {
		case strings.HasPrefix(strings.TrimSpace(string(data)), "["):
			reply = `{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Expected dict, got <class 'list'>"}, "id": null}`
		case json.Unmarshal(data, &req) != nil || req.ID == nil:
			continue
		case req.Method == "ping":
			reply = fmt.Sprintf(`{"jsonrpc": "2.0", "result": "pong", "id": %s}`, req.ID)
		case req.Method == "echo":
			if req.Params == nil {
				req.Params = json.RawMessage("null")
			}
			reply = fmt.Sprintf(`{"jsonrpc": "2.0", "result": %s, "id": %s}`, req.Params, req.ID)
		default:
			continue
		}
		if err := c.Write(ctx, websocket.MessageText, []byte(reply)); err != nil {
			return
		}
	}
}

func (p *pythonPeer) received(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	got := append([]string{}, p.got...)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(got)
}
