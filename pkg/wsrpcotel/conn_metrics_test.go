package wsrpcotel_test

import (
	"context"
	"errors"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
	"github.com/wsrpc/wsrpc/pkg/wsrpcotel"
)

// observed collects the observable metrics: "name side direction" -> value.
func observed(t *testing.T, reader *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			if d, ok := md.Data.(metricdata.Sum[int64]); ok {
				for _, p := range d.DataPoints {
					side, _ := p.Attributes.Value("wsrpc.side")
					dir, _ := p.Attributes.Value("network.io.direction")
					if _, has := p.Attributes.Value("rpc.method"); has {
						continue // the interceptors' metrics
					}
					out[md.Name+" "+side.Emit()+" "+dir.Emit()] = p.Value
				}
			}
		}
	}
	return out
}

// TestConnectionMetrics: the observable instruments report the Stats of the observed
// server and client: connections, reconnects, a backpressure rejection, messages and bytes.
func TestConnectionMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	inst, err := wsrpcotel.New(wsrpcotel.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	m := wsrpc.NewMethods()
	started, release := make(chan struct{}), make(chan struct{})
	wsrpc.Register(m, "block", func(ctx context.Context, _ struct{}) (string, error) {
		close(started)
		<-release
		return "done", nil
	})
	wsrpc.Register(m, "add", func(ctx context.Context, p []int) (int, error) { return p[0] + p[1], nil })
	srv, url := serve(t, m, inst.Option(), func(c *wsrpc.Config) { c.MaxConcurrentRequests = 1 })
	unregisterServer := inst.ObserveServer(srv)
	defer unregisterServer()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := wsrpc.Dial(ctx, url, quiet, inst.Option(), wsrpc.WithReconnect(10*time.Millisecond, 50))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	unregisterClient := inst.ObserveClient(c)

	blocked := make(chan error, 1)
	go func() { blocked <- c.Call(ctx, "block", nil, nil) }()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("block did not start")
	}
	var re *wsrpc.Error
	if err := c.Call(ctx, "add", []int{1, 2}, nil); !errors.As(err, &re) || re.Code != wsrpc.CodeServerBusy {
		t.Fatal(err)
	}
	close(release)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	first := c.Channel()
	for _, ch := range srv.Channels() {
		_ = ch.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.Channel() == nil || c.Channel() == first || len(srv.Channels()) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("no reconnect")
		}
		time.Sleep(5 * time.Millisecond)
	}
	var n int
	if err := c.Call(ctx, "add", []int{1, 2}, &n); err != nil || n != 3 {
		t.Fatal(n, err)
	}

	// Wait until the server has counted its last answer (the client may read it first),
	// then the metrics are the Stats, and the two sides mirror each other.
	var ss, cs wsrpc.Stats
	for {
		ss, cs = srv.Stats(), c.Stats()
		if ss.MessagesOut == cs.MessagesIn && ss.Connections == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	got := observed(t, reader)
	for k, want := range map[string]int64{
		"wsrpc.connections server ":        1,
		"wsrpc.connections client ":        1,
		"wsrpc.connections.opened server ": 2,
		"wsrpc.connections.opened client ": 2,
		"wsrpc.reconnects client ":         1,
		"wsrpc.rejected server ":           1,
		"wsrpc.rejected client ":           0,
		"wsrpc.messages server receive":    int64(cs.MessagesOut),
		"wsrpc.messages server transmit":   int64(cs.MessagesIn),
		"wsrpc.messages client transmit":   int64(cs.MessagesOut),
		"wsrpc.bytes server receive":       int64(cs.BytesOut),
		"wsrpc.bytes server transmit":      int64(cs.BytesIn),
		"wsrpc.bytes client receive":       int64(cs.BytesIn),
		"wsrpc.bytes client transmit":      int64(cs.BytesOut),
		"wsrpc.messages client receive":    int64(ss.MessagesOut),
	} {
		if got[k] != want {
			t.Errorf("%s = %d, want %d (all: %v)", k, got[k], want, got)
		}
	}
	// The client sent 5 requests: 2 readiness pings, block, the refused add, add.
	if cs.MessagesOut != 5 || got["wsrpc.bytes client transmit"] == 0 {
		t.Errorf("client stats %+v", cs)
	}

	// Once unregistered, the client is no longer reported.
	unregisterClient()
	got = observed(t, reader)
	if _, ok := got["wsrpc.connections client "]; ok {
		t.Errorf("client still reported after unregistering: %v", got)
	}
	if got["wsrpc.connections server "] != 1 {
		t.Errorf("server no longer reported: %v", got)
	}
}
