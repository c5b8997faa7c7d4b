package wsrpcotel_test

import (
	"context"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
	"github.com/wsrpc/wsrpc/pkg/wsrpcotel"
)

// TestMetricsOnly: with the no-op tracer provider no span is started, the calls are still
// counted, a recording span of the caller's own is neither ended nor changed, and the
// trace context the call is made in still reaches a traced wsrpc peer (as with a no-op
// tracer, which passes it on).
func TestMetricsOnly(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	metricsOnly, err := wsrpcotel.New(wsrpcotel.WithTracerProvider(noop.NewTracerProvider()), wsrpcotel.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	traced, err := wsrpcotel.New(wsrpcotel.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}

	m := wsrpc.NewMethods()
	wsrpc.Register(m, "concat", func(_ context.Context, p struct{ A, B string }) (string, error) { return p.A + p.B, nil })
	_, url := serve(t, m, traced.Option()) // the peer traces
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := wsrpc.Dial(ctx, url, quiet, metricsOnly.Option()) // this side counts only
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// The caller's own span, from another provider.
	own := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewInMemoryExporter()))
	defer func() { _ = own.Shutdown(context.Background()) }()
	callCtx, mine := own.Tracer("app").Start(ctx, "app")
	spans.Reset()
	var s string
	if err := c.Call(callCtx, "concat", struct{ A, B string }{"a", "b"}, &s); err != nil || s != "ab" {
		t.Fatal(s, err)
	}
	if !mine.IsRecording() {
		t.Error("the caller's span was ended by the interceptor")
	}
	if ro, ok := mine.(sdktrace.ReadOnlySpan); ok && len(ro.Attributes()) != 0 {
		t.Errorf("the caller's span got attributes: %v", ro.Attributes())
	}
	mine.End()

	got := waitSpans(t, spans, 1)
	if got[0].SpanKind != trace.SpanKindServer || got[0].Name != "concat" {
		t.Fatalf("peer's span %s %v", got[0].Name, got[0].SpanKind)
	}
	if got[0].Parent.SpanID() != mine.SpanContext().SpanID() || got[0].SpanContext.TraceID() != mine.SpanContext().TraceID() {
		t.Errorf("peer's span: parent %s in trace %s, want the caller's %s in %s", got[0].Parent.SpanID(),
			got[0].SpanContext.TraceID(), mine.SpanContext().SpanID(), mine.SpanContext().TraceID())
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var calls int64 = -1
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			if d, ok := md.Data.(metricdata.Sum[int64]); ok && md.Name == "wsrpc.calls" {
				for _, p := range d.DataPoints {
					method, _ := p.Attributes.Value("rpc.method")
					side, _ := p.Attributes.Value("wsrpc.side")
					if method.Emit() == "concat" && side.Emit() == "client" {
						calls = p.Value
					}
				}
			}
		}
	}
	if calls != 1 {
		t.Errorf("client calls of concat counted: %d, want 1", calls)
	}
}
