package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/wsrpc/wsrpc/pkg/cluster"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// TestFrozenNode freezes a node process (SIGSTOP). Once the others declare it lost:
// a call in flight to it ends at once with ErrNodeLost, calls to its users fail fast
// (ErrNodeLost or ErrNoTarget, never a timeout), and when it wakes (SIGCONT) it finds
// itself declared lost, closes its connections, and its clients move to the other
// nodes, reachable under the same keys.
func TestFrozenNode(t *testing.T) {
	natsURL := startNATS(t)
	nodes := []*nodeProc{startNode(t, "a", natsURL), startNode(t, "b", natsURL), startNode(t, "c", natsURL)}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	obs, err := cluster.New(ctx, cluster.Config{NodeID: "observer", NATSURLs: []string{natsURL}, Keys: []string{"user"},
		HeartbeatInterval: 200 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()

	urls := []string{nodes[2].url, nodes[0].url, nodes[1].url}
	var victims []*client
	for i := range 4 {
		victims = append(victims, dialClient(t, fmt.Sprintf("c%d", i), urls))
	}
	dialClient(t, "a0", []string{nodes[0].url})
	waitFor(t, 10*time.Second, "presence of every client", func() bool { return len(obs.Presence()) == 5 })

	// A call in flight on the node when it freezes (a frozen node cannot answer it).
	inflight := make(chan error, 1)
	go func() {
		inflight <- obs.Call(ctx, cluster.Key("user", "c0"), "sleep", map[string]int{"ms": 3000}, nil)
	}()
	time.Sleep(300 * time.Millisecond)

	if err := nodes[2].cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	frozen := time.Now()
	t.Cleanup(func() { _ = nodes[2].cmd.Process.Signal(syscall.SIGCONT) })
	waitFor(t, 10*time.Second, "node c declared lost", func() bool { return !slices.Contains(obs.Nodes(), "c") })
	lostAfter := time.Since(frozen)

	select {
	case err := <-inflight:
		if !errors.Is(err, cluster.ErrNodeLost) || !errors.Is(err, wsrpc.ErrConnectionLost) {
			t.Fatalf("call in flight to the frozen node: %v, want ErrNodeLost", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the call in flight to the frozen node did not end when the node was declared lost")
	}

	// Calls to its users fail fast while it is frozen.
	for _, cl := range victims {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		start := time.Now()
		var who string
		err := obs.Call(cctx, cluster.Key("user", cl.user), "whoami", nil, &who)
		cancel()
		took := time.Since(start)
		if !errors.Is(err, cluster.ErrNodeLost) && !errors.Is(err, cluster.ErrNoTarget) {
			t.Fatalf("call to %s on the frozen node: %v (after %v), want ErrNodeLost or ErrNoTarget", cl.user, err, took)
		}
		if took > 5*time.Second {
			t.Fatalf("call to %s on the frozen node took %v", cl.user, took)
		}
	}

	// It wakes, fences itself, and its clients move.
	if err := nodes[2].cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	woke := time.Now()
	for _, cl := range victims {
		deadline := time.Now().Add(20 * time.Second)
		for {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			var who, node string
			err := obs.Call(cctx, cluster.Key("user", cl.user), "whoami", nil, &who)
			if err == nil && who == cl.user {
				cancel()
				break
			}
			if time.Now().After(deadline) {
				nerr := cl.c.Call(cctx, "node", nil, &node)
				cancel()
				t.Fatalf("%s not reachable again %v after SIGCONT: %v (its client: node %q, %v; nodes %v; presence %v)",
					cl.user, time.Since(woke).Round(time.Millisecond), err, node, nerr, obs.Nodes(), obs.Lookup(cluster.Key("user", cl.user)))
			}
			cancel()
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Logf("node declared lost %v after SIGSTOP; its clients reachable again %v after SIGCONT",
		lostAfter.Round(time.Millisecond), time.Since(woke).Round(time.Millisecond))
	waitFor(t, 10*time.Second, "node c back as a new incarnation", func() bool { return slices.Contains(obs.Nodes(), "c") })
}
