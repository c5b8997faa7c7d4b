package wsrpcotel_test

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
	"github.com/wsrpc/wsrpc/pkg/wsrpcotel"
)

type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkCalls: concat round trips at 256 in flight on one connection, plain and with
// both ends instrumented (profiling aid; make bench's section 14 is the measurement).
func BenchmarkCalls(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()
	tpSampled := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}), sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01))))
	defer func() { _ = tpSampled.Shutdown(context.Background()) }()
	full, _ := wsrpcotel.New(wsrpcotel.WithTracerProvider(tp), wsrpcotel.WithMeterProvider(mp))
	sampled, _ := wsrpcotel.New(wsrpcotel.WithTracerProvider(tpSampled), wsrpcotel.WithMeterProvider(mp))
	metricsOnly, _ := wsrpcotel.New(wsrpcotel.WithTracerProvider(noop.NewTracerProvider()), wsrpcotel.WithMeterProvider(mp))
	limits := func(c *wsrpc.Config) {
		c.MaxPendingRequests = 1 << 16
		c.MaxSendQueue = -1
		c.MaxConcurrentRequests = -1
	}
	for _, v := range []struct {
		name string
		opts []wsrpc.Option
	}{
		{"plain", nil},
		{"metrics", []wsrpc.Option{metricsOnly.Option()}},
		{"sampled", []wsrpc.Option{sampled.Option()}},
		{"full", []wsrpc.Option{full.Option()}},
	} {
		b.Run(v.name, func(b *testing.B) {
			m := wsrpc.NewMethods()
			wsrpc.Register(m, "concat", func(_ context.Context, p struct{ A, B string }) (string, error) { return p.A + p.B, nil })
			_, url := serve(b, m, append([]wsrpc.Option{limits}, v.opts...)...)
			c, err := wsrpc.Dial(context.Background(), url, append([]wsrpc.Option{quiet, limits}, v.opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.SetParallelism(256 / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				p := struct{ A, B string }{"hello", " world"}
				var out string
				for pb.Next() {
					if err := c.Call(context.Background(), "concat", p, &out); err != nil {
						b.Error(err)
						return
					}
				}
			})
			// CPU time per call (client and server, this process): steadier than the wall
			// time on a machine that others load.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e3, "cpu-µs/op")
		})
	}
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
