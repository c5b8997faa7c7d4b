//go:build !js

package wsrpc_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// serve runs srv on a loopback test server and returns its ws:// URL and a stop function.
func serve(srv *wsrpc.Server) (string, func()) {
	hs := httptest.NewServer(srv)
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws", func() { srv.Close(); hs.Close() }
}

// A server exposing concat, and a client calling it.
func Example() {
	m := wsrpc.NewMethods()
	wsrpc.Register(m, "concat", func(ctx context.Context, p struct {
		A string `json:"a"`
		B string `json:"b"`
	}) (string, error) {
		return p.A + p.B, nil
	})
	srv, _ := wsrpc.NewServer(m)
	url, stop := serve(srv)
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := wsrpc.Dial(ctx, url)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	var out string
	err = c.Call(ctx, "concat", map[string]string{"a": "hello", "b": " world"}, &out)
	fmt.Println(out, err)
	err = c.Call(ctx, "concat", []string{"positional", " params"}, &out)
	fmt.Println(out, err)
	// Output:
	// hello world <nil>
	// positional params <nil>
}

// A server method calling back the client that called it, during the call.
func ExampleChannelFromContext() {
	server := wsrpc.NewMethods()
	wsrpc.Register(server, "greet", func(ctx context.Context, p struct {
		Name string `json:"name"`
	}) (string, error) {
		var title string
		if err := wsrpc.ChannelFromContext(ctx).Call(ctx, "title_for", map[string]string{"name": p.Name}, &title); err != nil {
			return "", err
		}
		return "Hello, " + title + " " + p.Name, nil
	})
	srv, _ := wsrpc.NewServer(server)
	url, stop := serve(srv)
	defer stop()

	client := wsrpc.NewMethods()
	wsrpc.Register(client, "title_for", func(ctx context.Context, p struct {
		Name string `json:"name"`
	}) (string, error) {
		return "Dr.", nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := wsrpc.Dial(ctx, url, wsrpc.WithMethods(client))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	var out string
	err = c.Call(ctx, "greet", map[string]string{"name": "Who"}, &out)
	fmt.Println(out, err)
	// Output: Hello, Dr. Who <nil>
}

// Remote errors are *wsrpc.Error values that also match the sentinel of their code.
func ExampleError() {
	srv, _ := wsrpc.NewServer(nil)
	url, stop := serve(srv)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := wsrpc.Dial(ctx, url)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	err = c.Call(ctx, "nope", nil, nil)
	var re *wsrpc.Error
	fmt.Println(errors.As(err, &re), re.Code, re.Message, errors.Is(err, wsrpc.ErrMethodNotFound))
	// Output: true -32601 Method 'nope' not found true
}

// A handler about to wait for something slow lets the connection serve other requests
// meanwhile.

// Every request runs on a goroutine of its own: a handler that waits for something slow
// does not hold up the other requests of its connection.
func Example_blockingHandler() {
	m := wsrpc.NewMethods()
	jobs := make(chan string, 1)
	wsrpc.Register(m, "next_job", func(ctx context.Context, _ struct{}) (string, error) {
		select { // may wait long
		case j := <-jobs:
			return j, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	})
	wsrpc.Register(m, "submit", func(ctx context.Context, p struct {
		Job string `json:"job"`
	}) (bool, error) {
		jobs <- p.Job
		return true, nil
	})
	srv, _ := wsrpc.NewServer(m)
	url, stop := serve(srv)
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := wsrpc.Dial(ctx, url)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	p, _ := c.Go(ctx, "next_job", nil) // waits on the server until a job is submitted
	_ = c.Call(ctx, "submit", map[string]string{"job": "build"}, nil)
	var job string
	fmt.Println(p.Wait(ctx, &job), job)
	// Output:
	// <nil> build
}
