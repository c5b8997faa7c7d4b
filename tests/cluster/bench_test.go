package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsrpc/wsrpc/pkg/cluster"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// benchNode is an in-process node: a hub and a wsrpc server on loopback.
func benchNode(b *testing.B, cfg cluster.Config) (*cluster.Hub, string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg.Logger, cfg.Keys = quiet, []string{"user"}
	hub, err := cluster.New(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := hub.NewServer(nil, wsrpc.WithLogger(quiet), wsrpc.WithAuthenticate(func(r *http.Request) (map[string]any, error) {
		return map[string]any{"user": r.URL.Query().Get("user")}, nil
	}))
	if err != nil {
		b.Fatal(err)
	}
	l, err := wsrpc.Listen("127.0.0.1:0", "/ws", srv)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = l.Close()
		_ = hub.Close()
	})
	return hub, l.URL()
}

// BenchmarkCall: one call to a client connected to node c, made on node c itself (the
// hub calls the connection directly) and on node a (NATS request/reply over loopback TCP
// to node c, which calls the connection and replies), with the latency percentiles.
func BenchmarkCall(b *testing.B) {
	hubA, _ := benchNode(b, cluster.Config{NodeID: "a", EmbeddedListen: "127.0.0.1:0"})
	hubC, urlC := benchNode(b, cluster.Config{NodeID: "c", NATSURLs: []string{hubA.NATSURL()}})
	m := wsrpc.NewMethods()
	wsrpc.Register(m, "echo", func(ctx context.Context, p struct{ Text string }) (string, error) { return p.Text, nil })
	ctx := context.Background()
	c, err := wsrpc.Dial(ctx, urlC+"?user=u1", wsrpc.WithMethods(m), wsrpc.WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	for len(hubA.Lookup(cluster.Key("user", "u1"))) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	for _, bc := range []struct {
		name string
		hub  *cluster.Hub
	}{{"local", hubC}, {"routed", hubA}} {
		b.Run(bc.name, func(b *testing.B) {
			var out string
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				if err := bc.hub.Call(ctx, cluster.Key("user", "u1"), "echo", map[string]string{"text": "hi"}, &out); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkFanout: publications to 10,000 subscribers spread over 3 node processes
// (tests/cluster/node), each subscriber a raw JSON-RPC 2.0 WebSocket connection in this
// process that counts the notifications it reads. One op is one publication; the
// deliveries/s metric counts notifications received by subscribers.
//
// This process also runs the NATS server, and the 10,000 readers can keep it from
// routing anything for seconds on a small machine: that used to make every node declare
// every other lost, fence itself and close all its connections, and the benchmark then
// waited for deliveries that could never come (nodes now judge others only while their
// own heartbeats come back through NATS in time). Should subscribers still be
// disconnected, it fails at once saying so, and when deliveries make no progress for
// 30 s it fails with the counts.
//
// The nodes' servers ping their connections every 5 minutes instead of every 20 s: a
// WebSocket ping waits behind the notifications written before it, and at 60,000 to
// 90,000 deliveries/s over 10,000 connections each reads only 6 to 9 a second, so a
// connection that has fallen ~100 behind answers after the ping's 10 s timeout and is
// closed (the default allows one failure): 15 to 1,135 of them at the 20 s mark in runs
// that failed so. Liveness is not what this benchmark measures.
func BenchmarkFanout(b *testing.B) {
	const subscribers = 10_000
	natsURL := startNATS(b)
	var urls []string
	for _, id := range []string{"a", "b", "c"} {
		// The default heartbeat: accepting 10,000 connections on a small machine can
		// starve a node for more than the tests' 600 ms loss limit.
		urls = append(urls, startNode(b, id, natsURL, "-heartbeat", "1s", "-keepalive", "5m").url)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub, err := cluster.New(ctx, cluster.Config{NodeID: "publisher", NATSURLs: []string{natsURL}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()

	var received, closed atomic.Int64
	var conns []*websocket.Conn
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	var dialErr atomic.Value
	for i := range subscribers {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			conn, err := subscribeRaw(ctx, fmt.Sprintf("%s?user=s%d", urls[i%3], i), "bench")
			if err != nil {
				dialErr.Store(err)
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err, _ := dialErr.Load().(error); err != nil {
		b.Fatal(err)
	}
	var readers sync.WaitGroup
	for _, conn := range conns {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				if _, _, err := conn.Read(ctx); err != nil {
					if ctx.Err() == nil {
						closed.Add(1)
					}
					return
				}
				received.Add(1)
			}
		}()
	}
	defer func() {
		cancel()
		for _, c := range conns {
			_ = c.CloseNow()
		}
		readers.Wait()
	}()

	data := map[string]any{"text": "a publication of a realistic small size", "n": 0}
	const window = 20 // publications in flight
	wait := func(n int64) {
		last, progress := received.Load(), time.Now()
		for last < n*subscribers {
			if c := closed.Load(); c > 0 {
				b.Fatalf("%d subscribers disconnected by their node (see the nodes' logs); %d of %d deliveries", c, last, n*subscribers)
			}
			if time.Since(progress) > 30*time.Second {
				b.Fatalf("deliveries stalled at %d of %d; publisher %+v, nodes %v", last, n*subscribers, pub.Stats(), pub.Nodes())
			}
			time.Sleep(200 * time.Microsecond)
			if r := received.Load(); r != last {
				last, progress = r, time.Now()
			}
		}
	}
	b.ResetTimer()
	start := time.Now()
	base := received.Load() / subscribers
	n := int64(0)
	for b.Loop() {
		wait(base + n - window)
		if err := pub.Publish(ctx, "bench", data); err != nil {
			b.Fatal(err)
		}
		n++
	}
	wait(base + n)
	elapsed := time.Since(start)
	b.ReportMetric(float64(n*subscribers)/elapsed.Seconds(), "deliveries/s")
}

// subscribeRaw connects as a JSON-RPC 2.0 client and subscribes to topic.
func subscribeRaw(ctx context.Context, url, topic string) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{Subprotocols: []string{"jsonrpc2.0"}})
	if err != nil {
		return nil, err
	}
	req := `{"jsonrpc":"2.0","id":"00000000000000000000000000000001","method":"subscribe","params":{"topics":["` + topic + `"]}}`
	if err := conn.Write(dctx, websocket.MessageText, []byte(req)); err != nil {
		return nil, err
	}
	if _, _, err := conn.Read(dctx); err != nil { // the answer (true)
		return nil, err
	}
	return conn, nil
}

// BenchmarkBurst: bursts of 10,000 publications from one node (as fast as Publish
// returns) to 30 subscribers spread over 3 node processes, each a raw JSON-RPC 2.0
// connection reading as fast as it can, on a topic in each Overflow mode and on a durable
// topic (JetStream: Publish returns once the stream stored the publication). One op is one
// burst; "lost" counts the deliveries that never arrived (per burst), once nothing has
// arrived for 3 s; "disconnected" the subscribers closed for being too slow (Disconnect
// mode: a burst outruns a queue of 1,024 publications), which subscribe again before
// the next burst.
func BenchmarkBurst(b *testing.B) {
	const (
		subscribers = 30
		burst       = 10_000
	)
	for _, mode := range []string{"backpressure", "disconnect", "durable"} {
		b.Run(mode, func(b *testing.B) {
			natsURL := startNATS(b)
			var urls []string
			for _, id := range []string{"a", "b", "c"} {
				urls = append(urls, startNode(b, id, natsURL, "-disconnect", "disconnect", "-durable", "durable", "-heartbeat", "1s").url)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pub, err := cluster.New(ctx, cluster.Config{NodeID: "publisher", NATSURLs: []string{natsURL}, Logger: quiet,
				Topics: map[string]cluster.TopicConfig{"disconnect": {Overflow: cluster.Disconnect}, "durable": {Durable: true}}})
			if err != nil {
				b.Fatal(err)
			}
			defer pub.Close()
			var received, closed atomic.Int64
			var readers sync.WaitGroup
			var mu sync.Mutex
			var conns []*websocket.Conn
			gone := make(chan int, subscribers) // subscribers disconnected by their node
			defer func() {
				cancel()
				mu.Lock()
				for _, c := range conns {
					_ = c.CloseNow()
				}
				mu.Unlock()
				readers.Wait()
			}()
			subscribe := func(i int) {
				conn, err := subscribeRaw(ctx, fmt.Sprintf("%s?user=s%d", urls[i%3], i), mode)
				if err != nil {
					b.Fatal(err)
				}
				mu.Lock()
				conns = append(conns, conn)
				mu.Unlock()
				readers.Add(1)
				go func() {
					defer readers.Done()
					for {
						if _, _, err := conn.Read(ctx); err != nil {
							if ctx.Err() == nil {
								closed.Add(1)
								gone <- i
							}
							return
						}
						received.Add(1)
					}
				}()
			}
			for i := range subscribers {
				subscribe(i)
			}
			data := map[string]any{"text": "a publication of a realistic small size", "n": 0}
			var lost, took float64
			for b.Loop() {
				for again := true; again; { // they reconnect, as clients would
					select {
					case i := <-gone:
						subscribe(i)
					default:
						again = false
					}
				}
				start, base := time.Now(), received.Load()
				want := base + burst*subscribers
				for range burst {
					if err := pub.Publish(ctx, mode, data); err != nil {
						b.Fatal(err)
					}
				}
				last, lastChange := received.Load(), time.Now()
				for last < want && time.Since(lastChange) < 3*time.Second {
					time.Sleep(5 * time.Millisecond)
					if n := received.Load(); n != last {
						last, lastChange = n, time.Now()
					}
				}
				took += time.Since(start).Seconds()
				lost += float64(want - last)
			}
			b.ReportMetric(lost/float64(b.N), "lost/burst")
			b.ReportMetric(float64(closed.Load())/float64(b.N), "disconnected/burst")
			b.ReportMetric(took/float64(b.N), "s/burst")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkRecovery: 3 node processes, 4 clients on node c that know the others
// (wsrpc.WithFallbackURLs) and 1 on node a. One op: node c is killed (SIGKILL) or frozen
// (SIGSTOP, then SIGCONT once the others declared it lost); the metrics are the seconds
// until every client of node c is reachable again, by a routed call from another
// member, from the kill, or from the SIGCONT (a frozen node's clients cannot tell that
// it froze before their keepalive does, 20 s by default: it is when the node wakes,
// fences itself and closes their connections that they move), and for SIGSTOP the
// seconds until the others declared it lost (calls to its users then fail at once).
// Nodes heartbeat every 200 ms (tests/cluster/node), so lost means 600 ms of silence.
// Each op starts a cluster of its own (run it with -benchtime 1x or a few x).
func BenchmarkRecovery(b *testing.B) {
	for _, mode := range []string{"kill", "sigstop"} {
		b.Run(mode, func(b *testing.B) {
			var lost, reach float64
			for b.Loop() {
				l, r := recoverOnce(b, mode)
				lost += l.Seconds()
				reach += r.Seconds()
			}
			if mode == "sigstop" {
				b.ReportMetric(lost/float64(b.N), "s-to-lost")
			}
			b.ReportMetric(reach/float64(b.N), "s-to-reachable")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func recoverOnce(b *testing.B, mode string) (lost, reach time.Duration) {
	natsURL := startNATS(b)
	nodes := []*nodeProc{startNode(b, "a", natsURL), startNode(b, "b", natsURL), startNode(b, "c", natsURL)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	obs, err := cluster.New(ctx, cluster.Config{NodeID: "observer", NATSURLs: []string{natsURL}, Keys: []string{"user"},
		HeartbeatInterval: 200 * time.Millisecond, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer obs.Close()
	var victims []*client
	for i := range 4 {
		victims = append(victims, dialClient(b, fmt.Sprintf("c%d", i), []string{nodes[2].url, nodes[0].url, nodes[1].url}))
	}
	dialClient(b, "a0", []string{nodes[0].url})
	waitFor(b, 10*time.Second, "presence of every client", func() bool { return len(obs.Presence()) == 5 })
	reachable := func() {
		for _, cl := range victims {
			waitFor(b, 30*time.Second, cl.user+" reachable again", func() bool {
				cctx, cancel := context.WithTimeout(ctx, time.Second)
				defer cancel()
				var who string
				return obs.Call(cctx, cluster.Key("user", cl.user), "whoami", nil, &who) == nil && who == cl.user
			})
		}
	}
	proc := nodes[2].cmd.Process
	if mode == "kill" {
		start := time.Now()
		if err := proc.Kill(); err != nil {
			b.Fatal(err)
		}
		reachable()
		return 0, time.Since(start)
	}
	start := time.Now()
	if err := proc.Signal(syscall.SIGSTOP); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = proc.Signal(syscall.SIGCONT) }()
	waitFor(b, 10*time.Second, "node c declared lost", func() bool { return !slices.Contains(obs.Nodes(), "c") })
	lost = time.Since(start)
	woke := time.Now()
	if err := proc.Signal(syscall.SIGCONT); err != nil {
		b.Fatal(err)
	}
	reachable()
	return lost, time.Since(woke)
}

// BenchmarkCatchUp: a subscriber of a durable topic (2 node processes, JetStream) is
// away for 10 s while one publisher publishes as fast as Publish returns, then connects
// to the other node and subscribes again from its last offset (cluster.Resumer). One op
// is one such absence; the metrics are the publications it missed, the seconds from
// its reconnect until it has them all, the catch-up rate, and the publications lost
// (missing, duplicated or out of order: must be 0).
func BenchmarkCatchUp(b *testing.B) {
	const away = 10 * time.Second
	natsURL := startNATS(b)
	nodes := []*nodeProc{startNode(b, "a", natsURL, "-durable", "catchup:-1", "-heartbeat", "1s"),
		startNode(b, "b", natsURL, "-durable", "catchup:-1", "-heartbeat", "1s")}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub, err := cluster.New(ctx, cluster.Config{NodeID: "publisher", NATSURLs: []string{natsURL}, Logger: quiet,
		Topics: map[string]cluster.TopicConfig{"catchup": {Durable: true, MaxMsgs: -1}}})
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	dc := newDurableClient("u", "catchup")
	dc.dial(b, []string{nodes[0].url})
	seq, on := 0, 0
	var missed, took, lost float64
	for b.Loop() {
		_ = dc.c.Close()
		waitFor(b, 20*time.Second, "the subscriber gone", func() bool { return pub.TopicStats("catchup").Subscribers == 0 })
		from := seq
		for end := time.Now().Add(away); time.Now().Before(end); seq++ {
			if err := pub.Publish(ctx, "catchup", map[string]int{"seq": seq}); err != nil {
				b.Fatal(err)
			}
		}
		have := len(dc.received("catchup"))
		start := time.Now()
		on = 1 - on // the other node
		dc.dial(b, []string{nodes[on].url})
		waitFor(b, 120*time.Second, "the catch-up", func() bool { return len(dc.received("catchup")) >= have+seq-from })
		took += time.Since(start).Seconds()
		missed += float64(seq - from)
		if rec := dc.lastRecovery(); !rec["catchup"].Recovered {
			b.Fatalf("not recovered: %+v", rec)
		}
	}
	time.Sleep(200 * time.Millisecond) // room for duplicates
	// Lost: publications never received, plus deliveries out of order or duplicated.
	got := dc.received("catchup")
	seen := map[int]bool{}
	for i, v := range got {
		if seen[v] || (i > 0 && v != got[i-1]+1) {
			lost++
		}
		seen[v] = true
	}
	lost += float64(seq - len(seen))
	b.ReportMetric(missed/float64(b.N), "missed/op")
	b.ReportMetric(took/float64(b.N), "s-to-catch-up")
	b.ReportMetric(missed/took, "caught-up/s")
	b.ReportMetric(lost, "lost")
	b.ReportMetric(0, "ns/op")
}
