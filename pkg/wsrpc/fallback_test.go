//go:build !js

package wsrpc

import (
	"context"
	"net"
	"testing"
	"time"
)

// deadURL returns a ws:// URL on a loopback port nobody listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "ws://" + addr + "/ws"
}

func serverName(name string) *Methods {
	m := NewMethods()
	Register(m, "name", func(ctx context.Context, _ struct{}) (string, error) { return name, nil })
	return m
}

func TestFallbackURLsOnDial(t *testing.T) {
	_, url := startServer(t, serverName("b"))
	c := dialTest(t, deadURL(t), WithFallbackURLs(url), func(c *Config) {
		c.Retry = RetryConfig{MaxAttempts: 3, MinWait: 10 * time.Millisecond, MaxWait: 20 * time.Millisecond}
	})
	var got string
	if err := c.Call(ctxT(t, 5*time.Second), "name", nil, &got); err != nil || got != "b" {
		t.Fatalf("call = %q, %v; want b", got, err)
	}
}

func TestFallbackURLsOnReconnect(t *testing.T) {
	srvA, urlA := startServer(t, serverName("a"))
	_, urlB := startServer(t, serverName("b"))
	c := dialTest(t, urlA, WithFallbackURLs(urlB), WithReconnect(10*time.Millisecond, -1))
	ctx := ctxT(t, 10*time.Second)
	var got string
	if err := c.Call(ctx, "name", nil, &got); err != nil || got != "a" {
		t.Fatalf("call = %q, %v; want a", got, err)
	}
	_ = srvA.Close() // A goes away for good: the client must come back through B
	for {
		err := c.Call(ctx, "name", nil, &got)
		if err == nil && got == "b" {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("never reached b: %q, %v", got, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
