package cluster_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsrpc/wsrpc/pkg/cluster"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// While the hub is cut off from NATS, Publish, Call and Notify fail within about
// Config.ReachTimeout with ErrUnavailable, instead of reporting success (Publish) or
// waiting their whole timeout.
func TestOutageFailsFast(t *testing.T) {
	a, b := twoNodes(t)
	_ = a.hub.Close() // b's NATS server goes away
	ctx := ctxT(t, 20*time.Second)
	// Until b's NATS client notices (at worst NATSPingInterval*(NATSMaxPingsOut+1); here the
	// socket closes), messages go to a socket that is already dead: not detectable.
	for b.hub.Conn().IsConnected() {
		if ctx.Err() != nil {
			t.Fatal("b did not notice that NATS went away")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for name, op := range map[string]func() error{
		"publish": func() error { return b.hub.Publish(ctx, "news", "x") },
		"call":    func() error { return b.hub.Call(ctx, cluster.Key("user", "x"), "whoami", nil, nil) },
		"notify":  func() error { return b.hub.Notify(ctx, cluster.Key("user", "x"), "hello", nil) },
	} {
		start := time.Now()
		err := op()
		if !errors.Is(err, cluster.ErrUnavailable) {
			t.Fatalf("%s during an outage: %v, want ErrUnavailable", name, err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("%s during an outage took %v", name, took)
		}
	}
}

// A connection is reachable by its keys from another node as soon as the server's
// connect hook has run (the hub's registration flushes its interest to NATS before
// the hooks that come after it).
func TestReachableAfterConnectHook(t *testing.T) {
	a, b := twoNodes(t)
	hooked := make(chan string, 1)
	srv, err := b.hub.NewServer(nil, wsrpc.WithLogger(quiet), wsrpc.WithAuthenticate(authUser),
		wsrpc.WithOnConnect(func(ctx context.Context, ch *wsrpc.Channel) { hooked <- ch.Value("user").(string) }))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { _ = srv.Close(); hs.Close() })
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
	const n = 20
	for i := range n {
		user := "u" + string(rune('a'+i))
		c := userClient(t, url, user)
		if got := <-hooked; got != user {
			t.Fatalf("hook for %q, want %q", got, user)
		}
		var who string
		if err := a.hub.Call(ctxT(t, 5*time.Second), cluster.Key("user", user), "whoami", nil, &who); err != nil || who != user {
			t.Fatalf("call right after the connect hook of %s: %q, %v", user, who, err)
		}
		_ = c.Close()
	}
}
