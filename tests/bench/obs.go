package main

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
	"github.com/wsrpc/wsrpc/pkg/wsrpcotel"
)

// Section 13: a batch of 100 calls against 100 single calls in flight at once, on one
// connection (the wsrpc client and server of section 1).
// Section 14: the cost of pkg/wsrpcotel per call at 256 in flight: client and server both
// instrumented, against the same client and server without it. Metrics are recorded (and
// never collected); spans go to a discarding batch exporter, with a sampler that keeps 1%
// of the traces (ParentBased(TraceIDRatioBased(0.01)): the target row), every trace
// (AlwaysSample: what recording every span costs, in the SDK mostly), or with a no-op
// tracer (metrics only). Trace context crosses the connection in every row but the last.
// The floor row runs only the OpenTelemetry SDK calls any instrumentation of a call makes
// with the 1% sampler (a client span with its context injected, the context extracted and a
// server span, a duration recorded on each side), on as many goroutines as CPUs: with f
// of those a second and b calls a second without instrumentation, no instrumentation with
// this SDK can do better than f/(f+b) of the baseline.

const batchSize = 100

const (
	nameSingles     = "100 single calls in flight (baseline)"
	nameBatch       = "one batch of 100 calls in flight"
	nameOtelPlain   = "wsrpc client -> wsrpc server (baseline)"
	nameOtelSampled = "both with wsrpcotel: metrics + spans, 1% of traces sampled"
	nameOtelFull    = "both with wsrpcotel: metrics + spans, every trace sampled"
	nameOtelMetric  = "both with wsrpcotel: metrics, no-op tracer"
	nameOtelFloor   = "OpenTelemetry SDK calls of one call, alone (1% sampled; no RPC)"
	otelInflight    = 256
)

func init() {
	sectionTitles["13"] = "batches: one JSON-RPC batch of 100 concat calls at a time against 100 single calls in flight, one connection, wsrpc client -> wsrpc server; calls/s (a batch counts its 100 calls; its latency is the batch's); 3 rounds"
	sectionTitles["14"] = "pkg/wsrpcotel per call at 256 in flight on one connection: client and server instrumented, ratio to both without it; 6 rounds (the variants in turn: noise hits them alike)"
}

// batchCall sends one batch of batchSize concat calls and waits for every answer.
func batchCall(ctx context.Context, c *wsrpc.Client) error {
	b := c.NewBatch()
	ps := make([]*wsrpc.Pending, batchSize)
	params := concatParams{A: "hello", B: " world"}
	for i := range ps {
		ps[i] = b.Call("concat", params)
	}
	if err := b.Send(ctx); err != nil {
		return err
	}
	for _, p := range ps {
		var out string
		if err := p.Wait(ctx, &out); err != nil {
			return err
		}
		if out != "hello world" {
			return fmt.Errorf("concat answered %q", out)
		}
	}
	return nil
}

// scaledLoad counts k calls for each operation of ld (a batch of k calls).
func scaledLoad(ld load, k int64) load {
	return func(g *gate) func() (int64, []time.Duration, error) {
		wait := ld(g)
		return func() (int64, []time.Duration, error) {
			n, l, err := wait()
			return n * k, l, err
		}
	}
}

func batchSection(rep *report, o options, ws *wsServer) {
	s := spec{1, batchSize}
	batch := wsTurn(ws.URL, 1, 1, batchCall)
	measureTurns(rep, o.t, 3, row{Section: "13", Shape: s.String(), Conns: 1, InFlight: batchSize}, 0, []turn{
		{nameSingles, wsTurn(ws.URL, 1, batchSize, nil), 0},
		{nameBatch, func() (load, func(), error) {
			ld, closeFn, err := batch()
			if err != nil {
				return nil, nil, err
			}
			return scaledLoad(ld, batchSize), closeFn, nil
		}, 0},
	})
}

// discard is a span exporter that drops what it is given.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

func otelSection(rep *report, o options) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	tpSampled := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01))))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() {
		_ = tp.Shutdown(context.Background())
		_ = tpSampled.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	}()
	s := spec{1, otelInflight}
	proto := row{Section: "14", Shape: s.String(), Conns: 1, InFlight: otelInflight}
	full, err := wsrpcotel.New(wsrpcotel.WithTracerProvider(tp), wsrpcotel.WithMeterProvider(mp))
	if err != nil {
		proto.Name, proto.Err = nameOtelFull, err.Error()
		rep.add(proto)
		return
	}
	sampled, err := wsrpcotel.New(wsrpcotel.WithTracerProvider(tpSampled), wsrpcotel.WithMeterProvider(mp))
	if err != nil {
		proto.Name, proto.Err = nameOtelSampled, err.Error()
		rep.add(proto)
		return
	}
	metricsOnly, err := wsrpcotel.New(wsrpcotel.WithTracerProvider(noop.NewTracerProvider()), wsrpcotel.WithMeterProvider(mp))
	if err != nil {
		proto.Name, proto.Err = nameOtelMetric, err.Error()
		rep.add(proto)
		return
	}
	var servers []*wsServer
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	// Each variant on a server of its own, the baseline too.
	instrumented := func(in *wsrpcotel.Instrumentation) func() (load, func(), error) {
		return func() (load, func(), error) {
			var opts []wsrpc.Option
			if in != nil {
				opts = append(opts, in.Option())
			}
			srv, err := newWSServer(append([]wsrpc.Option{loadLimits}, opts...)...)
			if err != nil {
				return nil, nil, err
			}
			servers = append(servers, srv)
			return wsTurn(srv.URL, 1, otelInflight, nil, opts...)()
		}
	}
	floor, err := sdkFloor(tpSampled, mp)
	if err != nil {
		proto.Name, proto.Err = nameOtelFloor, err.Error()
		rep.add(proto)
		return
	}
	measureTurns(rep, o.t, 6, proto, 0, []turn{
		{nameOtelPlain, instrumented(nil), 0},
		{nameOtelSampled, instrumented(sampled), 0},
		{nameOtelFull, instrumented(full), 0},
		{nameOtelMetric, instrumented(metricsOnly), 0},
		{nameOtelFloor, func() (load, func(), error) { return floor, func() {}, nil }, 0},
	})
}

// sdkFloor is the load of the floor row: per operation, what wsrpcotel asks of the SDK for
// one call on both sides, with the given providers.
func sdkFloor(tp trace.TracerProvider, mp metric.MeterProvider) (load, error) {
	tracer := tp.Tracer("floor")
	hist, err := mp.Meter("floor").Float64Histogram("floor.duration", metric.WithUnit("s"))
	if err != nil {
		return nil, err
	}
	prop := propagation.TraceContext{}
	method := attribute.String("rpc.method", "concat")
	recClient := []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(method, attribute.String("wsrpc.side", "client")))}
	recServer := []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(method, attribute.String("wsrpc.side", "server")))}
	client := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
	server := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}
	return func(g *gate) func() (int64, []time.Duration, error) {
		n := runtime.GOMAXPROCS(0)
		carriers := make([]propagation.MapCarrier, n) // (wsrpcotel's come from a pool)
		for i := range carriers {
			carriers[i] = propagation.MapCarrier{}
		}
		return workers(g, n, func(i int) error {
			ctx, span := tracer.Start(context.Background(), "concat", client...)
			m := carriers[i]
			clear(m)
			prop.Inject(ctx, m)
			start := time.Now()
			sctx, sspan := tracer.Start(prop.Extract(context.Background(), m), "concat", server...)
			sstart := time.Now()
			hist.Record(sctx, time.Since(sstart).Seconds(), recServer...)
			sspan.End()
			hist.Record(ctx, time.Since(start).Seconds(), recClient...)
			span.End()
			return nil
		})
	}, nil
}
