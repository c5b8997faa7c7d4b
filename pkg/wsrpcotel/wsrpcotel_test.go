package wsrpcotel_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
	"github.com/wsrpc/wsrpc/pkg/wsrpcotel"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func attrs(kvs []attribute.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		out[string(kv.Key)] = kv.Value.Emit()
	}
	return out
}

func TestSpansAndMetrics(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()
	inst, err := wsrpcotel.New(wsrpcotel.WithTracerProvider(tp), wsrpcotel.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}

	quiet := wsrpc.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	m := wsrpc.NewMethods()
	wsrpc.Register(m, "concat", func(ctx context.Context, p struct {
		A string `json:"a"`
		B string `json:"b"`
	}) (string, error) {
		return p.A + p.B, nil
	})
	noted := make(chan struct{}, 1)
	wsrpc.Register(m, "note", func(ctx context.Context, p struct{}) (any, error) { noted <- struct{}{}; return nil, nil })
	srv, err := wsrpc.NewServer(m, quiet, inst.Option())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wsrpc.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), quiet, inst.Option())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	spans.Reset() // (the readiness ping)

	var s string
	if err := c.Call(ctx, "concat", map[string]string{"a": "x", "b": "y"}, &s); err != nil || s != "xy" {
		t.Fatal(s, err)
	}
	if err := c.Call(ctx, "missing", nil, nil); !errors.Is(err, wsrpc.ErrMethodNotFound) {
		t.Fatal(err)
	}
	if err := c.Notify(ctx, "note", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	<-noted
	short, scancel := context.WithTimeout(ctx, time.Nanosecond)
	defer scancel()
	<-short.Done()
	_ = c.Call(short, "concat", nil, nil) // ends before it is sent: a local error

	// The notification's server span ends after its handler returns: wait for it.
	deadline := time.Now().Add(5 * time.Second)
	for len(spans.GetSpans()) < 7 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	type key struct {
		name string
		kind trace.SpanKind
	}
	got := map[key]tracetest.SpanStub{}
	for _, sp := range spans.GetSpans() {
		got[key{sp.Name, sp.SpanKind}] = sp
	}
	check := func(k key, wantStatus codes.Code, want map[string]string) {
		t.Helper()
		sp, ok := got[k]
		if !ok {
			t.Errorf("no %v span %q (have %d spans)", k.kind, k.name, len(got))
			return
		}
		if sp.Status.Code != wantStatus {
			t.Errorf("%v %q: status %v, want %v", k.kind, k.name, sp.Status.Code, wantStatus)
		}
		a := attrs(sp.Attributes)
		for kk, v := range want {
			if a[kk] != v {
				t.Errorf("%v %q: %s = %q, want %q (all: %v)", k.kind, k.name, kk, a[kk], v, a)
			}
		}
	}
	check(key{"concat", trace.SpanKindServer}, codes.Unset, map[string]string{"rpc.system": "jsonrpc", "rpc.method": "concat"})
	check(key{"missing", trace.SpanKindServer}, codes.Error, map[string]string{"rpc.jsonrpc.error_code": "-32601"})
	check(key{"missing", trace.SpanKindClient}, codes.Error, map[string]string{"rpc.jsonrpc.error_code": "-32601", "rpc.jsonrpc.error_message": "Method 'missing' not found"})
	check(key{"note", trace.SpanKindProducer}, codes.Unset, map[string]string{"rpc.method": "note"})
	check(key{"note", trace.SpanKindServer}, codes.Unset, map[string]string{"rpc.method": "note"})
	if sp, ok := got[key{"concat", trace.SpanKindServer}]; ok && attrs(sp.Attributes)["rpc.jsonrpc.request_id"] == "" {
		t.Error("server span without the request id")
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	sums := map[string]int64{} // "instrument side method code" -> value
	hist := map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			switch d := md.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					side, _ := p.Attributes.Value("wsrpc.side")
					method, _ := p.Attributes.Value("rpc.method")
					code, _ := p.Attributes.Value("rpc.jsonrpc.error_code")
					etype, _ := p.Attributes.Value("error.type")
					sums[md.Name+" "+side.Emit()+" "+method.Emit()+" "+code.Emit()+etype.Emit()] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					side, _ := p.Attributes.Value("wsrpc.side")
					method, _ := p.Attributes.Value("rpc.method")
					hist[side.Emit()+" "+method.Emit()] += p.Count
				}
			}
		}
	}
	for k, want := range map[string]int64{
		"wsrpc.calls server concat ":         1,
		"wsrpc.calls client concat ":         1,
		"wsrpc.calls server missing -32601":  1,
		"wsrpc.errors server missing -32601": 1,
		"wsrpc.errors client missing -32601": 1,
		"wsrpc.calls server note ":           1,
		"wsrpc.calls client note ":           1,
		"wsrpc.errors client concat timeout": 1,
		"wsrpc.in_flight server concat ":     0,
		"wsrpc.in_flight client concat ":     0,
	} {
		if sums[k] != want {
			t.Errorf("%s = %d, want %d", k, sums[k], want)
		}
	}
	if hist["server concat"] != 1 || hist["client concat"] != 2 || hist["server missing"] != 1 {
		t.Errorf("duration histogram counts %v", hist)
	}
}
