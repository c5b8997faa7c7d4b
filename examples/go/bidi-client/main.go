// Command bidi-client is the Go port of fastapi-ws-rpc's bidirectional client example: it
// waits until the server calls allow_queries(), calls concat("hello", " world"), prints the
// result, then waits until the server's allow_exit(delay) has elapsed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

func main() {
	url := flag.String("url", "ws://localhost:9000/ws", "server URL")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	canQuery := make(chan struct{})
	canExit := make(chan struct{})
	m := wsrpc.NewMethods()
	wsrpc.Register(m, "allow_queries", func(ctx context.Context, _ struct{}) (any, error) {
		fmt.Println("server called allow_queries()")
		closeOnce(canQuery)
		return nil, nil
	})
	wsrpc.Register(m, "allow_exit", func(ctx context.Context, p struct {
		Delay float64 `json:"delay"`
	}) (any, error) {
		fmt.Printf("server called allow_exit(delay=%v)\n", p.Delay)
		go func() {
			time.Sleep(time.Duration(p.Delay * float64(time.Second)))
			closeOnce(canExit)
		}()
		return nil, nil
	})

	c, err := wsrpc.Dial(ctx, *url, wsrpc.WithMethods(m))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	if !waitFor(ctx, canQuery) {
		fmt.Fprintln(os.Stderr, "timed out waiting for allow_queries")
		os.Exit(1)
	}
	var out string
	if err := c.Call(ctx, "concat", map[string]string{"a": "hello", "b": " world"}, &out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(out) // hello world
	if !waitFor(ctx, canExit) {
		fmt.Fprintln(os.Stderr, "timed out waiting for allow_exit")
		os.Exit(1)
	}
}

var onceGuard = make(chan struct{}, 1)

func closeOnce(ch chan struct{}) {
	onceGuard <- struct{}{}
	select {
	case <-ch:
	default:
		close(ch)
	}
	<-onceGuard
}

func waitFor(ctx context.Context, ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}
