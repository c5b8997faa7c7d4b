// Command simple-client is the Go port of fastapi-ws-rpc's simple client example: it calls
// concat("hello", " world") and prints the result.
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

	c, err := wsrpc.Dial(ctx, *url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	var out string
	if err := c.Call(ctx, "concat", map[string]string{"a": "hello", "b": " world"}, &out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(out) // hello world
}
