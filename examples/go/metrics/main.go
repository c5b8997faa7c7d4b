// Command metrics serves wsrpc with OpenTelemetry metrics and exposes them in the
// Prometheus text format: the methods concat(a, b) and fail() at ws://127.0.0.1:9000/ws,
// the metrics at http://127.0.0.1:9000/metrics (package wsrpcotel's instruments through
// the OpenTelemetry Prometheus exporter).
//
//	go run ./examples/go/metrics &
//	go run ./examples/go/simple-client   # a few calls
//	curl -s http://127.0.0.1:9000/metrics | grep ^wsrpc_
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
	"github.com/wsrpc/wsrpc/pkg/wsrpcotel"
)

// service is the wsrpc server and the metrics endpoint on one mux.
type service struct {
	mux   *http.ServeMux
	srv   *wsrpc.Server
	close func() // the server, then the meter provider
}

func newService() (*service, error) {
	reg := prom.NewRegistry()
	exporter, err := prometheus.New(prometheus.WithRegisterer(reg))
	if err != nil {
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	inst, err := wsrpcotel.New(wsrpcotel.WithMeterProvider(mp))
	if err != nil {
		return nil, err
	}

	m := wsrpc.NewMethods()
	wsrpc.Register(m, "concat", func(ctx context.Context, p struct {
		A string `json:"a,omitempty"`
		B string `json:"b,omitempty"`
	}) (string, error) {
		return p.A + p.B, nil
	})
	wsrpc.Register(m, "fail", func(ctx context.Context, _ struct{}) (any, error) {
		return nil, &wsrpc.Error{Code: 1, Message: "failed on purpose"}
	})
	srv, err := wsrpc.NewServer(m, inst.Option())
	if err != nil {
		return nil, err
	}
	unobserve := inst.ObserveServer(srv)

	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return &service{mux: mux, srv: srv, close: func() {
		_ = srv.Close()
		unobserve()
		_ = mp.Shutdown(context.Background())
	}}, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	flag.Parse()
	svc, err := newService()
	if err != nil {
		slog.Error("setup", "err", err)
		os.Exit(1)
	}
	defer svc.close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		slog.Error("listen", "err", err)
		os.Exit(1)
	}
	hs := &http.Server{Handler: svc.mux, ReadHeaderTimeout: 10 * time.Second}
	slog.Info("serving", "ws", "ws://"+ln.Addr().String()+"/ws", "metrics", "http://"+ln.Addr().String()+"/metrics")
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("serve", "err", err)
			os.Exit(1)
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = svc.srv.Shutdown(sctx) // running calls finish first
	_ = hs.Shutdown(sctx)
}
