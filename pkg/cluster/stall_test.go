package cluster_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/wsrpc/wsrpc/pkg/cluster"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// A NATS server that routes nothing for longer than the loss limit (busy, as under the
// fan-out benchmark's load), its connections staying up, delays every node's heartbeats
// alike: no node declares another lost, none fences itself, and no client is
// disconnected. (Before, every node declared every other lost, each fenced itself and
// closed all its connections.)
func TestStalledNATSDeclaresNobodyLost(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	proxy := newBlipProxy(t, ns.Addr().String())
	a := newNode(t, cluster.Config{NodeID: "a", NATSURLs: []string{proxy.url()}})
	b := newNode(t, cluster.Config{NodeID: "b", NATSURLs: []string{proxy.url()}})
	var connects atomic.Int32
	userClient(t, a.url, "ua", wsrpc.WithReconnect(20*time.Millisecond, -1),
		wsrpc.WithOnConnect(func(ctx context.Context, ch *wsrpc.Channel) { connects.Add(1) }))
	userClient(t, b.url, "ub")
	waitPresent(t, a.hub, 2)
	waitPresent(t, b.hub, 2)
	ctx := ctxT(t, 60*time.Second)
	evA, evB := a.hub.Watch(ctx), b.hub.Watch(ctx)

	proxy.stall(6 * testHeartbeat) // twice the loss limit
	// Room for what a mistaken loss would bring: the declarations, the fencing, the
	// reconnection (a few heartbeats once NATS routes again).
	time.Sleep(10 * testHeartbeat)
	for name, ev := range map[string]<-chan cluster.PresenceEvent{"a": evA, "b": evB} {
		select {
		case e := <-ev:
			t.Fatalf("node %s saw %+v after a NATS stall", name, e)
		default:
		}
	}
	if n := connects.Load(); n != 1 {
		t.Fatalf("the client of node a connected %d times: its node fenced itself", n)
	}
	var who string
	if err := b.hub.Call(ctx, cluster.Key("user", "ua"), "whoami", nil, &who); err != nil || who != "ua" {
		t.Fatalf("call after the stall: %q, %v", who, err)
	}
}
