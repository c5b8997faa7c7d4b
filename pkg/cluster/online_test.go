package cluster_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsrpc/wsrpc/pkg/cluster"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// keyEvents collects a node's Online/Offline events of "user".
type keyEvents struct {
	mu  sync.Mutex
	evs []cluster.KeyEvent
}

func watchKeys(t *testing.T, hub *cluster.Hub) *keyEvents {
	ke := &keyEvents{}
	ctx, cancel := context.WithCancel(context.Background())
	ch := hub.WatchKeys(ctx, "user")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev := range ch {
			ke.mu.Lock()
			ke.evs = append(ke.evs, ev)
			ke.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return ke
}

func (ke *keyEvents) list() []cluster.KeyEvent {
	ke.mu.Lock()
	defer ke.mu.Unlock()
	return append([]cluster.KeyEvent(nil), ke.evs...)
}

// expect waits up to d for exactly want (and then checks that nothing more came).
func (ke *keyEvents) expect(t *testing.T, d time.Duration, want ...cluster.KeyEvent) {
	t.Helper()
	deadline := time.Now().Add(d)
	for len(ke.list()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	got := ke.list()
	if len(got) != len(want) {
		t.Fatalf("key events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("key events %v, want %v", got, want)
		}
	}
}

func waitCount(t *testing.T, hub *cluster.Hub, user string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for hub.Connections(cluster.Key("user", user)) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d connections, want %d", user, hub.Connections(cluster.Key("user", user)), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var (
	online  = cluster.KeyEvent{Kind: cluster.Online, Key: "user", Value: "u"}
	offline = cluster.KeyEvent{Kind: cluster.Offline, Key: "user", Value: "u"}
)

// A user with two connections who moves one to another node: counted per key across
// the cluster, it never reads offline when its new connection is seen before the old
// one ended, even with no grace period at all.
func TestMovedUserCountedNotOffline(t *testing.T) {
	a := newNode(t, cluster.Config{NodeID: "a", EmbeddedListen: "127.0.0.1:0", OfflineGrace: -1})
	b := newNode(t, cluster.Config{NodeID: "b", NATSURLs: []string{a.hub.NATSURL()}, OfflineGrace: -1})
	ke := watchKeys(t, a.hub)
	userClient(t, a.url, "u")
	old := userClient(t, a.url, "u")
	waitCount(t, a.hub, "u", 2)
	waitCount(t, b.hub, "u", 2)
	ke.expect(t, 5*time.Second, online)

	userClient(t, b.url, "u") // the move: the new connection first,
	waitCount(t, a.hub, "u", 3)
	_ = old.Close() // then the old one ends
	waitCount(t, a.hub, "u", 2)
	waitCount(t, b.hub, "u", 2)
	time.Sleep(200 * time.Millisecond)
	ke.expect(t, 0, online)
	if n := a.hub.Connections(cluster.Key("user", "nobody")); n != 0 {
		t.Fatalf("nobody: %d connections", n)
	}
}

// When the old connection's end is seen first, the grace period keeps the user online:
// no events; once it is really gone, Offline comes after the grace period.
func TestMovedUserGraceNotOffline(t *testing.T) {
	const grace = 2 * time.Second
	a := newNode(t, cluster.Config{NodeID: "a", EmbeddedListen: "127.0.0.1:0", OfflineGrace: grace})
	b := newNode(t, cluster.Config{NodeID: "b", NATSURLs: []string{a.hub.NATSURL()}, OfflineGrace: grace})
	ke := watchKeys(t, a.hub)
	old := userClient(t, a.url, "u")
	waitCount(t, a.hub, "u", 1)
	ke.expect(t, 5*time.Second, online)

	_ = old.Close() // the old connection ends first,
	waitCount(t, a.hub, "u", 0)
	moved := userClient(t, b.url, "u") // then the new one appears, within the grace period
	waitCount(t, a.hub, "u", 1)
	time.Sleep(grace + 500*time.Millisecond)
	ke.expect(t, 0, online)

	_ = moved.Close()
	gone := time.Now()
	waitCount(t, a.hub, "u", 0)
	ke.expect(t, grace+5*time.Second, online, offline)
	if took := time.Since(gone); took < grace-100*time.Millisecond {
		t.Fatalf("Offline %v after the last connection ended, before the grace period (%v)", took, grace)
	}
}

// blipProxy forwards TCP connections to a NATS server; cut drops them all and refuses
// new ones for a while: a NATS outage as a node behind it sees it; stall holds every
// byte for a while: a NATS server too busy to route anything.
type blipProxy struct {
	ln     net.Listener
	target string
	down   atomic.Bool
	gate   sync.RWMutex // held by stall
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newBlipProxy(t *testing.T, target string) *blipProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &blipProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.closeAll()
		p.wg.Wait()
	})
	return p
}

func (p *blipProxy) url() string { return "nats://" + p.ln.Addr().String() }

func (p *blipProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		for _, pair := range [][2]net.Conn{{c, up}, {up, c}} {
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				buf := make([]byte, 32<<10)
				for {
					n, err := pair[1].Read(buf)
					if n > 0 {
						p.gate.RLock()
						_, werr := pair[0].Write(buf[:n])
						p.gate.RUnlock()
						if werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				_ = pair[0].Close()
				_ = pair[1].Close()
			}()
		}
	}
}

func (p *blipProxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// stall forwards nothing for d, the connections staying up.
func (p *blipProxy) stall(d time.Duration) {
	p.gate.Lock()
	time.Sleep(d)
	p.gate.Unlock()
}

// cut makes a NATS outage of d.
func (p *blipProxy) cut(d time.Duration) {
	p.down.Store(true)
	p.closeAll()
	time.Sleep(d)
	p.down.Store(false)
}

// A NATS outage of node b long enough for node a to declare it lost (and for b to fence
// itself and make its clients reconnect), but shorter than the grace period: node a
// reports b's connections Disconnected and Connected again, but its users never go
// Offline or Online.
func TestNATSBlipNoKeyEvents(t *testing.T) {
	const grace = 4 * time.Second
	a := newNode(t, cluster.Config{NodeID: "a", EmbeddedListen: "127.0.0.1:0", OfflineGrace: grace})
	proxy := newBlipProxy(t, a.hub.NATSURL()[len("nats://"):])
	b := newNode(t, cluster.Config{NodeID: "b", NATSURLs: []string{proxy.url()}, OfflineGrace: grace})
	ctx := ctxT(t, 60*time.Second)
	ke := watchKeys(t, a.hub)
	users := []string{"u1", "u2", "u3"}
	for _, u := range users {
		userClient(t, b.url, u, wsrpc.WithReconnect(20*time.Millisecond, -1), func(c *wsrpc.Config) { c.Reconnect.MaxDelay = 100 * time.Millisecond })
	}
	for _, u := range users {
		waitCount(t, a.hub, u, 1)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(ke.list()) < len(users) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := ke.list(); len(got) != len(users) {
		t.Fatalf("key events before the blip: %v", got)
	}
	events := a.hub.Watch(ctx)

	start := time.Now()
	proxy.cut(time.Second) // 10 heartbeats of node b's
	lost := 0
	for lost < len(users) {
		select {
		case ev := <-events:
			if ev.Kind == cluster.Disconnected && ev.NodeLost {
				lost++
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("node a did not declare node b lost during its outage (%d of its connections reported)", lost)
		}
	}
	for _, u := range users {
		waitCount(t, a.hub, u, 1)
	}
	if back := time.Since(start); back > grace-500*time.Millisecond {
		t.Fatalf("users back only %v after the blip began: too slow for this test's grace period", back)
	}
	time.Sleep(time.Until(start.Add(grace + time.Second)))
	if got := ke.list(); len(got) != len(users) {
		t.Fatalf("key events: %v; want only the %d Online before the blip", got, len(users))
	}
	for _, ev := range ke.list() {
		if ev.Kind != cluster.Online {
			t.Fatalf("key event %v", ev)
		}
	}
	var who string
	if err := a.hub.Call(ctx, cluster.Key("user", "u1"), "whoami", nil, &who); err != nil || who != "u1" {
		t.Fatalf("u1 after the blip: %q, %v", who, err)
	}
}
