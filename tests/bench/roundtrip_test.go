package main

import (
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Go benchmarks for `make bench` (build/bench/go.txt, benchstat-compatible): one concat
// round trip per op, client and server in this process, so -benchmem's allocs/op and B/op
// count both ends. raw-echo is coder/websocket alone (the floor); wsrpc-client runs the
// wsrpc client against the raw responder and wsrpc-server the raw generator against the
// wsrpc server, so each minus raw-echo approximates one side's own share.

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func benchLoad(b *testing.B, start func(g *gate) func() (int64, []time.Duration, error)) {
	b.ReportAllocs()
	b.ResetTimer()
	calls, _, err := start(countGate(b.N))()
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if calls != int64(b.N) {
		b.Fatalf("%d of %d calls completed", calls, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

func BenchmarkRoundTrip(b *testing.B) {
	echo, err := serveWS(rawEcho)
	if err != nil {
		b.Fatal(err)
	}
	defer echo.Close()
	responder, err := serveWS(rawResponder)
	if err != nil {
		b.Fatal(err)
	}
	defer responder.Close()
	ws, err := newWSServer(loadLimits)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()

	for _, n := range []int{1, 256} {
		b.Run(fmt.Sprintf("raw-echo/inflight=%d", n), func(b *testing.B) {
			g, err := newRawGen(echo.URL, 1, n)
			if err != nil {
				b.Fatal(err)
			}
			defer g.close()
			benchLoad(b, g.start)
		})
		b.Run(fmt.Sprintf("wsrpc/inflight=%d", n), func(b *testing.B) {
			c, err := newWSClients(ws.URL, 1, n)
			if err != nil {
				b.Fatal(err)
			}
			defer c.close()
			benchLoad(b, c.start)
		})
		b.Run(fmt.Sprintf("wsrpc-client/inflight=%d", n), func(b *testing.B) {
			c, err := newWSClients(responder.URL, 1, n)
			if err != nil {
				b.Fatal(err)
			}
			defer c.close()
			benchLoad(b, c.start)
		})
		b.Run(fmt.Sprintf("wsrpc-server/inflight=%d", n), func(b *testing.B) {
			g, err := newRawGen(ws.URL, 1, n)
			if err != nil {
				b.Fatal(err)
			}
			defer g.close()
			benchLoad(b, g.start)
		})
	}
}

// BenchmarkNotify: one notification per op from 16 senders, counted at the receiver.
func BenchmarkNotify(b *testing.B) {
	ws, err := newWSServer(loadLimits)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	rawCount := new(sinkCounter)
	sink, err := serveWS(rawSink(rawCount))
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	for _, v := range []struct {
		name string
		sink *sinkCounter
		mk   func() (notifier, error)
	}{
		{"raw", rawCount, func() (notifier, error) { return newRawNotifier(sink.URL) }},
		{"wsrpc", &ws.sink, func() (notifier, error) { return newWSClients(ws.URL, 1, 16) }},
	} {
		b.Run(v.name, func(b *testing.B) {
			n, err := v.mk()
			if err != nil {
				b.Fatal(err)
			}
			defer n.close()
			g := countGate(b.N)
			v.sink.arm(g)
			b.ReportAllocs()
			b.ResetTimer()
			if _, _, err := n.notify(g, 16)(); err != nil {
				b.Fatal(err)
			}
			deadline := time.Now().Add(30 * time.Second)
			for v.sink.count.Load() < int64(b.N) {
				if time.Now().After(deadline) {
					b.Fatalf("received %d of %d", v.sink.count.Load(), b.N)
				}
				time.Sleep(50 * time.Microsecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "notifications/s")
		})
	}
}
