package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
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
// to node c, which calls the connection and replies).
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
			for b.Loop() {
				if err := bc.hub.Call(ctx, cluster.Key("user", "u1"), "echo", map[string]string{"text": "hi"}, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFanout: publications to 10,000 subscribers spread over 3 node processes
// (tests/cluster/node), each subscriber a raw JSON-RPC 2.0 WebSocket connection in this
// process that counts the notifications it reads. One op is one publication; the
// deliveries/s metric counts notifications received by subscribers.
func BenchmarkFanout(b *testing.B) {
	const subscribers = 10_000
	natsURL := startNATS(b)
	var urls []string
	for _, id := range []string{"a", "b", "c"} {
		urls = append(urls, startNode(b, id, natsURL).url)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub, err := cluster.New(ctx, cluster.Config{NodeID: "publisher", NATSURLs: []string{natsURL}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()

	var received atomic.Int64
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
			conn, err := subscribeRaw(ctx, fmt.Sprintf("%s?user=s%d", urls[i%3], i))
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
		deadline := time.Now().Add(60 * time.Second)
		for received.Load() < n*subscribers {
			if time.Now().After(deadline) {
				b.Fatalf("deliveries stalled at %d of %d", received.Load(), n*subscribers)
			}
			time.Sleep(200 * time.Microsecond)
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

// subscribeRaw connects as a JSON-RPC 2.0 client and subscribes to "bench".
func subscribeRaw(ctx context.Context, url string) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{Subprotocols: []string{"jsonrpc2.0"}})
	if err != nil {
		return nil, err
	}
	req := `{"jsonrpc":"2.0","id":"00000000000000000000000000000001","method":"subscribe","params":{"topics":["bench"]}}`
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
// connection reading as fast as it can. One op is one burst; "lost" counts the
// deliveries that never arrived (per burst), once nothing has arrived for 3 s.
func BenchmarkBurst(b *testing.B) {
	const (
		subscribers = 30
		burst       = 10_000
	)
	natsURL := startNATS(b)
	var urls []string
	for _, id := range []string{"a", "b", "c"} {
		urls = append(urls, startNode(b, id, natsURL).url)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub, err := cluster.New(ctx, cluster.Config{NodeID: "publisher", NATSURLs: []string{natsURL}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	var received atomic.Int64
	var readers sync.WaitGroup
	var conns []*websocket.Conn
	defer func() {
		cancel()
		for _, c := range conns {
			_ = c.CloseNow()
		}
		readers.Wait()
	}()
	for i := range subscribers {
		conn, err := subscribeRaw(ctx, fmt.Sprintf("%s?user=s%d", urls[i%3], i))
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, conn)
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				if _, _, err := conn.Read(ctx); err != nil {
					return
				}
				received.Add(1)
			}
		}()
	}
	data := map[string]any{"text": "a publication of a realistic small size", "n": 0}
	var lost, took float64
	for b.Loop() {
		start, base := time.Now(), received.Load()
		for range burst {
			if err := pub.Publish(ctx, "bench", data); err != nil {
				b.Fatal(err)
			}
		}
		want := base + burst*subscribers
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
	b.ReportMetric(took/float64(b.N), "s/burst")
	b.ReportMetric(0, "ns/op")
}
