package cluster_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wsrpc/wsrpc/pkg/cluster"
)

// A node's own messages can be handled by another node after its goodbye (heartbeats,
// events and goodbyes travel on different subscriptions, handled on different
// goroutines), and a departing node may still answer a snapshot request until its NATS
// connection closes. Neither may bring its connections back: the test replays, after
// node b said goodbye, a heartbeat b sent before, and answers the snapshot request it
// provokes with the snapshot b gave before leaving.
func TestPresenceNoResurrectionAfterBye(t *testing.T) {
	a, b := twoNodes(t)
	userClient(t, b.url, "bob")
	waitPresent(t, a.hub, 1)

	nc, err := nats.Connect(a.hub.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	hbs := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe("wsrpc.presence.hb", hbs)
	if err != nil {
		t.Fatal(err)
	}
	var hb []byte
	for hb == nil {
		select {
		case m := <-hbs:
			if bytes.Contains(m.Data, []byte(`"node":"b"`)) {
				hb = m.Data
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no heartbeat from b")
		}
	}
	_ = sub.Unsubscribe()
	snap, err := nc.Request("wsrpc.presence.snap.b", nil, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}

	ctx := ctxT(t, 10*time.Second)
	events := a.hub.Watch(ctx)
	_ = b.hub.Close()
	select {
	case ev := <-events:
		if ev.Kind != cluster.Disconnected || ev.NodeLost {
			t.Fatalf("after bye: %+v", ev)
		}
	case <-ctx.Done():
		t.Fatal("no Disconnected after bye")
	}

	// b's late messages: its heartbeat, and its snapshot as answer.
	if _, err := nc.Subscribe("wsrpc.presence.snap.b", func(m *nats.Msg) { _ = m.Respond(snap.Data) }); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("wsrpc.presence.hb", hb); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	// Long enough for a snapshot fetch and for b to be reaped again (3 heartbeats).
	timeout := time.After(7 * testHeartbeat)
	for {
		select {
		case ev := <-events:
			t.Fatalf("event after b left: %v %s (NodeLost %v)", ev.Kind, ev.Keys["user"], ev.NodeLost)
		case <-timeout:
			if p := a.hub.Presence(); len(p) != 0 {
				t.Fatalf("presence after b left: %+v", p)
			}
			return
		}
	}
}
