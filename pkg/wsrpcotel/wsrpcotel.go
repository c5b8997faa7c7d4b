// Package wsrpcotel instruments wsrpc with OpenTelemetry: a span per call on both sides
// (incoming requests and notifications, outgoing calls and notifications) and metrics
// (calls and errors by method and code, a duration histogram, calls in flight). It is built
// on wsrpc's interceptors; the core package does not depend on it.
//
//	inst, err := wsrpcotel.New() // the global providers, or WithTracerProvider/WithMeterProvider
//	srv, err := wsrpc.NewServer(methods, inst.Option())
//	c, err := wsrpc.Dial(ctx, url, inst.Option())
//
// Span names are the method names; spans carry rpc.system "jsonrpc", rpc.method,
// rpc.jsonrpc.version, rpc.jsonrpc.request_id (requests), rpc.jsonrpc.error_code and
// rpc.jsonrpc.error_message (errors answered or received), error.type (local failures:
// "timeout", "connection_lost", ...), and wsrpc.channel_id when the connection is known.
//
// Metrics (attributes rpc.method and wsrpc.side, "server" for incoming and "client" for
// outgoing, plus the code on errors):
//
//	wsrpc.calls      counter        calls and notifications
//	wsrpc.errors     counter        those that ended with an error (rpc.jsonrpc.error_code, error.type)
//	wsrpc.duration   histogram (s)  how long each took (outgoing notifications and Go: until sent)
//	wsrpc.in_flight  up-down        being handled or awaited now
//
// Trace context is not carried across the connection (the Python peers have no place for
// it); each side's spans are children of the context they run in.
package wsrpcotel

import (
	"context"
	"encoding/json"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/wsrpc/wsrpc/pkg/wsrpcotel"

// Attribute keys.
const (
	keySystem       = attribute.Key("rpc.system")
	keyMethod       = attribute.Key("rpc.method")
	keyVersion      = attribute.Key("rpc.jsonrpc.version")
	keyRequestID    = attribute.Key("rpc.jsonrpc.request_id")
	keyErrorCode    = attribute.Key("rpc.jsonrpc.error_code")
	keyErrorMessage = attribute.Key("rpc.jsonrpc.error_message")
	keyErrorType    = attribute.Key("error.type")
	keyChannel      = attribute.Key("wsrpc.channel_id")
	keySide         = attribute.Key("wsrpc.side")
)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// Option configures New.
type Option func(*config)

// WithTracerProvider sets the tracer provider (default: otel.GetTracerProvider()).
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider sets the meter provider (default: otel.GetMeterProvider()).
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// Instrumentation holds the tracer and instruments; its interceptors may be installed on
// any number of servers and clients.
type Instrumentation struct {
	tracer   trace.Tracer
	calls    metric.Int64Counter
	errors   metric.Int64Counter
	duration metric.Float64Histogram
	inFlight metric.Int64UpDownCounter
}

// New creates the tracer and the instruments.
func New(opts ...Option) (*Instrumentation, error) {
	c := config{}
	for _, o := range opts {
		o(&c)
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	meter := c.mp.Meter(ScopeName, metric.WithInstrumentationVersion(wsrpc.Version))
	in := &Instrumentation{tracer: c.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(wsrpc.Version))}
	var err error
	if in.calls, err = meter.Int64Counter("wsrpc.calls", metric.WithUnit("{call}"),
		metric.WithDescription("Calls and notifications, incoming (server side) and outgoing (client side).")); err != nil {
		return nil, err
	}
	if in.errors, err = meter.Int64Counter("wsrpc.errors", metric.WithUnit("{call}"),
		metric.WithDescription("Calls that ended with an error.")); err != nil {
		return nil, err
	}
	if in.duration, err = meter.Float64Histogram("wsrpc.duration", metric.WithUnit("s"),
		metric.WithDescription("How long calls took.")); err != nil {
		return nil, err
	}
	if in.inFlight, err = meter.Int64UpDownCounter("wsrpc.in_flight", metric.WithUnit("{call}"),
		metric.WithDescription("Calls being handled or awaited.")); err != nil {
		return nil, err
	}
	return in, nil
}

// Option installs both interceptors (on a server or a client).
func (in *Instrumentation) Option() wsrpc.Option {
	return func(c *wsrpc.Config) {
		wsrpc.WithIncomingInterceptor(in.Incoming)(c)
		wsrpc.WithOutgoingInterceptor(in.Outgoing)(c)
	}
}

// Incoming is the interceptor for incoming requests and notifications.
func (in *Instrumentation) Incoming(ctx context.Context, req *wsrpc.IncomingRequest, next wsrpc.IncomingHandler) (json.RawMessage, error) {
	method := attribute.String(string(keyMethod), req.Method)
	side := keySide.String("server")
	attrs := []attribute.KeyValue{keySystem.String("jsonrpc"), method, keyVersion.String("2.0")}
	if req.ID != nil {
		attrs = append(attrs, keyRequestID.String(idText(req.ID)))
	}
	if req.Channel != nil {
		attrs = append(attrs, keyChannel.String(req.Channel.ID()))
	}
	ctx, span := in.tracer.Start(ctx, req.Method, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	defer span.End()
	set := metric.WithAttributes(method, side)
	in.inFlight.Add(ctx, 1, set)
	start := time.Now()
	res, err := next(ctx, req)
	in.inFlight.Add(ctx, -1, set)
	in.duration.Record(ctx, time.Since(start).Seconds(), set)
	if code := wsrpc.AnswerCode(err); code != 0 {
		codeAttr := keyErrorCode.Int(code)
		span.SetAttributes(codeAttr)
		if re := wsrpc.RemoteError(err); re != nil {
			span.SetAttributes(keyErrorMessage.String(re.Message))
		}
		// The handler's own error text stays out of the span's status when the peer does
		// not see it either: only the code is recorded.
		span.SetStatus(codes.Error, "")
		in.calls.Add(ctx, 1, metric.WithAttributes(method, side, codeAttr))
		in.errors.Add(ctx, 1, metric.WithAttributes(method, side, codeAttr))
		return res, err
	}
	in.calls.Add(ctx, 1, set)
	return res, err
}

// Outgoing is the interceptor for outgoing calls and notifications.
func (in *Instrumentation) Outgoing(ctx context.Context, call *wsrpc.OutgoingCall, next wsrpc.OutgoingInvoker) error {
	method := attribute.String(string(keyMethod), call.Method)
	side := keySide.String("client")
	attrs := []attribute.KeyValue{keySystem.String("jsonrpc"), method, keyVersion.String("2.0")}
	if call.Channel != nil {
		attrs = append(attrs, keyChannel.String(call.Channel.ID()))
	}
	kind := trace.SpanKindClient
	if call.Notification {
		kind = trace.SpanKindProducer
	}
	ctx, span := in.tracer.Start(ctx, call.Method, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
	defer span.End()
	set := metric.WithAttributes(method, side)
	in.inFlight.Add(ctx, 1, set)
	start := time.Now()
	err := next(ctx, call)
	in.inFlight.Add(ctx, -1, set)
	in.duration.Record(ctx, time.Since(start).Seconds(), set)
	if err == nil {
		in.calls.Add(ctx, 1, set)
		return nil
	}
	var errAttrs []attribute.KeyValue
	if re := wsrpc.RemoteError(err); re != nil {
		errAttrs = []attribute.KeyValue{keyErrorCode.Int(re.Code)}
		span.SetAttributes(keyErrorCode.Int(re.Code), keyErrorMessage.String(re.Message))
	} else {
		errAttrs = []attribute.KeyValue{keyErrorType.String(wsrpc.KindOf(err).String())}
		span.SetAttributes(errAttrs...)
		span.RecordError(err)
	}
	span.SetStatus(codes.Error, err.Error())
	all := metric.WithAttributes(append([]attribute.KeyValue{method, side}, errAttrs...)...)
	in.calls.Add(ctx, 1, all)
	in.errors.Add(ctx, 1, all)
	return err
}

// idText is a request id as an attribute value: a string's text, an integer's digits.
func idText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
