// Package cluster_test runs three server nodes as separate processes (tests/cluster/node)
// on loopback, sharing one NATS server that the test embeds, with clients spread over
// them: routed calls across nodes, publish to subscribers on every node, and a node
// killed with SIGKILL whose clients come back through the others.
package cluster_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/goleak"

	"github.com/wsrpc/wsrpc/pkg/cluster"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

var nodeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wsrpc-cluster-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	nodeBin = filepath.Join(dir, "node")
	if out, err := exec.Command("go", "build", "-o", nodeBin, "./node").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the node binary: %v\n%s", err, out)
		os.Exit(1)
	}
	code := 0
	func() {
		defer os.RemoveAll(dir)
		goleak.VerifyTestMain(exitCatcher{m, &code})
	}()
	os.Exit(code)
}

// exitCatcher lets TestMain clean up after goleak.VerifyTestMain, which calls os.Exit.
type exitCatcher struct {
	m    *testing.M
	code *int
}

func (e exitCatcher) Run() int { *e.code = e.m.Run(); return *e.code }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startNATS runs the NATS server the nodes share, on a random loopback port, with
// JetStream (for durable topics) storing in the test's temporary directory.
func startNATS(t testing.TB) string {
	t.Helper()
	// The keepalive settings pkg/cluster documents: a frozen node's interest goes in seconds.
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoSigs: true, NoLog: true,
		PingInterval: cluster.NATSPingInterval, MaxPingsOut: cluster.NATSMaxPingsOut, WriteDeadline: cluster.NATSPingInterval,
		JetStream: true, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server did not start")
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns.ClientURL()
}

// nodeProc is one server node process.
type nodeProc struct {
	id  string
	url string
	cmd *exec.Cmd
	log *strings.Builder
}

func startNode(t testing.TB, id, natsURL string, args ...string) *nodeProc {
	t.Helper()
	cmd := exec.Command(nodeBin, append([]string{"-id", id, "-nats", natsURL, "-listen", "127.0.0.1:0"}, args...)...)
	var logs strings.Builder
	var mu sync.Mutex
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	})
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &nodeProc{id: id, cmd: cmd, log: &logs}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		mu.Lock()
		defer mu.Unlock()
		if t.Failed() && logs.Len() > 0 {
			t.Logf("node %s stderr:\n%s", id, logs.String())
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- url
			}
		}
	}()
	select {
	case n.url = <-ready:
	case <-time.After(20 * time.Second):
		t.Fatalf("node %s did not start", id)
	}
	return n
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// client is one user's connection: it answers whoami, subscribes to "news" on every
// (re)connect, and records the publications it receives.
type client struct {
	user string
	c    *wsrpc.Client
	mu   sync.Mutex
	got  []int
}

func dialClient(t testing.TB, user string, urls []string) *client {
	t.Helper()
	cl := &client{user: user}
	m := wsrpc.NewMethods()
	wsrpc.Register(m, "whoami", func(ctx context.Context, _ struct{}) (string, error) { return user, nil })
	wsrpc.Register(m, "sleep", func(ctx context.Context, p struct{ Ms int }) (string, error) {
		select { // until done, cancelled, or the connection ends
		case <-time.After(time.Duration(p.Ms) * time.Millisecond):
		case <-ctx.Done():
		case <-wsrpc.ChannelFromContext(ctx).Done():
		}
		return "slept", nil
	})
	cluster.HandleNotify(m, func(ctx context.Context, n cluster.Notification) {
		var v struct{ Seq int }
		_ = json.Unmarshal(n.Data, &v)
		cl.mu.Lock()
		cl.got = append(cl.got, v.Seq)
		cl.mu.Unlock()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wsrpc.Dial(ctx, urls[0]+"?user="+user,
		wsrpc.WithMethods(m), wsrpc.WithLogger(quiet),
		wsrpc.WithFallbackURLs(withUser(urls[1:], user)...),
		wsrpc.WithReconnect(50*time.Millisecond, -1),
		wsrpc.WithOnConnect(func(ctx context.Context, ch *wsrpc.Channel) {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if err := cluster.Subscribe(sctx, ch, "news"); err != nil {
				t.Logf("%s: subscribe: %v", user, err)
			}
		}),
		func(c *wsrpc.Config) {
			c.Sequential = true // handle publications in the order they arrive
			c.Reconnect.MaxDelay = 200 * time.Millisecond
			c.HandshakeTimeout = 2 * time.Second
		})
	if err != nil {
		t.Fatal(err)
	}
	cl.c = c
	t.Cleanup(func() { _ = c.Close() })
	return cl
}

func withUser(urls []string, user string) []string {
	out := make([]string, len(urls))
	for i, u := range urls {
		out[i] = u + "?user=" + user
	}
	return out
}

func (cl *client) received() []int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return append([]int(nil), cl.got...)
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkExactly verifies that every client got exactly the publications from..to-1, in order.
func checkExactly(t *testing.T, clients []*client, from, to int) {
	t.Helper()
	for _, cl := range clients {
		waitFor(t, 15*time.Second, cl.user+" publications", func() bool { return len(cl.received()) >= to-from })
	}
	time.Sleep(200 * time.Millisecond) // room for duplicates to show up
	for _, cl := range clients {
		got := cl.received()
		if len(got) != to-from {
			t.Fatalf("%s got %d publications, want %d", cl.user, len(got), to-from)
		}
		for i, seq := range got {
			if seq != from+i {
				t.Fatalf("%s: publication %d has seq %d, want %d (lost, duplicated or reordered)", cl.user, i, seq, from+i)
			}
		}
	}
}

func TestThreeNodes(t *testing.T) {
	natsURL := startNATS(t)
	nodes := []*nodeProc{startNode(t, "a", natsURL), startNode(t, "b", natsURL), startNode(t, "c", natsURL)}
	urls := func(first int) []string { // first node's URL, then the others
		out := []string{nodes[first].url}
		for i, n := range nodes {
			if i != first {
				out = append(out, n.url)
			}
		}
		return out
	}

	// The test process is a fourth, server-less member: it observes and publishes.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	obs, err := cluster.New(ctx, cluster.Config{NodeID: "observer", NATSURLs: []string{natsURL}, Keys: []string{"user"},
		HeartbeatInterval: 200 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	events := obs.Watch(ctx)

	const perNode = 4
	var clients []*client
	byNode := map[string][]*client{}
	for i, n := range nodes {
		for j := range perNode {
			cl := dialClient(t, fmt.Sprintf("%s%d", n.id, j), urls(i))
			clients = append(clients, cl)
			byNode[n.id] = append(byNode[n.id], cl)
		}
	}
	waitFor(t, 10*time.Second, "presence of every client", func() bool { return len(obs.Presence()) == len(clients) })
	for _, p := range obs.Presence() {
		if p.Keys["user"][:1] != p.Node {
			t.Fatalf("presence %+v: user on the wrong node", p)
		}
	}

	t.Run("routed call", func(t *testing.T) {
		// Application code on node a calls a client connected to node c.
		var who string
		a0 := byNode["a"][0]
		if err := a0.c.Call(ctx, "route", map[string]string{"user": "c3", "method": "whoami"}, &who); err != nil || who != "c3" {
			t.Fatalf("a -> c3: %q, %v", who, err)
		}
		// And from the observer to every client.
		for _, cl := range clients {
			if err := obs.Call(ctx, cluster.Key("user", cl.user), "whoami", nil, &who); err != nil || who != cl.user {
				t.Fatalf("observer -> %s: %q, %v", cl.user, who, err)
			}
		}
		err := obs.Call(ctx, cluster.Key("user", "nobody"), "whoami", nil, &who)
		if !errors.Is(err, cluster.ErrNoTarget) {
			t.Fatalf("nobody: %v", err)
		}
		// Through a node, the error comes back as a JSON-RPC error answer.
		err = a0.c.Call(ctx, "route", map[string]string{"user": "b1", "method": "nosuch"}, nil)
		if !errors.Is(err, wsrpc.ErrMethodNotFound) {
			t.Fatalf("route to an unknown method: %v", err)
		}
	})

	const firstBatch = 100
	t.Run("publish to every node", func(t *testing.T) {
		for i := range firstBatch {
			if err := obs.Publish(ctx, "news", map[string]int{"seq": i}); err != nil {
				t.Fatal(err)
			}
		}
		checkExactly(t, clients, 0, firstBatch)
	})

	t.Run("client publish", func(t *testing.T) {
		// A client on node b publishes through the RPC method; everybody else gets it.
		b0 := byNode["b"][0]
		var ok bool
		err := b0.c.Call(ctx, "publish", map[string]any{"topics": []string{"news"}, "data": map[string]int{"seq": firstBatch}, "sync": true}, &ok)
		if err != nil || !ok {
			t.Fatalf("publish: %v %v", ok, err)
		}
		for _, cl := range clients {
			want := firstBatch + 1
			if cl == b0 {
				want = firstBatch
			}
			waitFor(t, 10*time.Second, cl.user+" client publication", func() bool { return len(cl.received()) >= want })
		}
		time.Sleep(200 * time.Millisecond)
		if n := len(b0.received()); n != firstBatch {
			t.Fatalf("the publisher got its own publication (%d)", n)
		}
		for _, cl := range clients {
			cl.mu.Lock()
			cl.got = nil
			cl.mu.Unlock()
		}
	})

	t.Run("kill a node", func(t *testing.T) {
		drained := false
		for !drained { // skip the connect events seen so far
			select {
			case <-events:
			default:
				drained = true
			}
		}
		victims := byNode["c"]
		if err := nodes[2].cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		// Its clients come back through a and b, addressable under the same keys.
		for _, cl := range victims {
			waitFor(t, 20*time.Second, cl.user+" reachable again", func() bool {
				cctx, cancel := context.WithTimeout(ctx, time.Second)
				defer cancel()
				var who string
				return obs.Call(cctx, cluster.Key("user", cl.user), "whoami", nil, &who) == nil && who == cl.user
			})
			var node string
			if err := cl.c.Call(ctx, "node", nil, &node); err != nil || node == "c" {
				t.Fatalf("%s now on node %q (%v)", cl.user, node, err)
			}
		}
		t.Logf("clients of the killed node reachable again after %v", time.Since(killed).Round(time.Millisecond))
		// Presence: node c's connections reported gone (node lost), and every user back.
		lost := map[string]bool{}
		waitFor(t, 10*time.Second, "node-lost presence events", func() bool {
			for {
				select {
				case ev := <-events:
					if ev.Kind == cluster.Disconnected && ev.Node == "c" {
						lost[ev.Keys["user"]] = ev.NodeLost
					}
					continue
				default:
				}
				return len(lost) == len(victims)
			}
		})
		for user, nodeLost := range lost {
			if !nodeLost {
				t.Errorf("%s: disconnect not marked NodeLost", user)
			}
		}
		waitFor(t, 10*time.Second, "presence without node c", func() bool {
			ps := obs.Presence()
			for _, p := range ps {
				if p.Node == "c" {
					return false
				}
			}
			return len(ps) == len(clients)
		})
		if nodes := obs.Nodes(); strings.Join(nodes, ",") != "a,b,observer" {
			t.Fatalf("nodes after the kill: %v", nodes)
		}
		// The reconnected clients subscribed again: a new batch reaches everybody once.
		// (Publications made while they were reconnecting would have been lost.)
		for i := range 20 {
			if err := obs.Publish(ctx, "news", map[string]int{"seq": 1000 + i}); err != nil {
				t.Fatal(err)
			}
		}
		checkExactly(t, clients, 1000, 1020)
	})
}
