// Package wsrpcotel instruments wsrpc with OpenTelemetry: a span per call on both sides
// (incoming requests and notifications, outgoing calls and notifications), trace context
// carried between wsrpc peers, and metrics (calls and errors by method and code, a
// duration histogram, calls in flight; connections, reconnects, backpressure rejections,
// messages and bytes from the Stats of the servers and clients it observes). It is built
// on wsrpc's interceptors and Stats; the core package does not depend on it.
//
//	inst, err := wsrpcotel.New() // the global providers, or WithTracerProvider/WithMeterProvider
//	srv, err := wsrpc.NewServer(methods, inst.Option())
//	defer inst.ObserveServer(srv)()
//	c, err := wsrpc.Dial(ctx, url, inst.Option())
//	defer inst.ObserveClient(c)()
//
// Span names are the method names; spans carry rpc.system "jsonrpc", rpc.method,
// rpc.jsonrpc.version, rpc.jsonrpc.request_id (requests), rpc.jsonrpc.error_code and
// rpc.jsonrpc.error_message (errors answered or received), error.type (local failures:
// "timeout", "connection_lost", ...), and wsrpc.channel_id when the connection is known.
//
// Trace context: an outgoing call's span context goes to the peer in the request's
// "$meta" member (W3C traceparent and tracestate, or what WithPropagator's propagator
// writes), and the peer's server span is its child. The core sends "$meta" only on
// connections where both ends are wsrpc (the negotiated subprotocol jsonrpc2.0+wsrpc):
// Python peers never see it, and there each side's spans are children of the context they
// run in.
//
// Metrics from the interceptors (attributes rpc.method and wsrpc.side, "server" for
// incoming and "client" for outgoing, plus the code on errors):
//
//	wsrpc.calls      counter        calls and notifications
//	wsrpc.errors     counter        those that ended with an error (rpc.jsonrpc.error_code, error.type)
//	wsrpc.duration   histogram (s)  how long each took (outgoing notifications and Go: until sent)
//	wsrpc.in_flight  up-down        being handled or awaited now
//
// Metrics from the Stats of the servers and clients registered with ObserveServer and
// ObserveClient (attribute wsrpc.side: "server" for Servers, "client" for Clients; the
// values of several of one side are added up):
//
//	wsrpc.connections          up-down (observable)  open now
//	wsrpc.connections.opened   counter (observable)  accepted (servers) / established (clients)
//	wsrpc.reconnects           counter (observable)  client connections after the first
//	wsrpc.rejected             counter (observable)  requests refused by backpressure (-32000)
//	wsrpc.messages             counter (observable)  messages, network.io.direction receive/transmit
//	wsrpc.bytes                counter (observable)  message payload bytes, by direction
package wsrpcotel

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

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
	keyDirection    = attribute.Key("network.io.direction")
)

var (
	sideServer = keySide.String("server")
	sideClient = keySide.String("client")
)

type config struct {
	tp   trace.TracerProvider
	mp   metric.MeterProvider
	prop propagation.TextMapPropagator
}

// Option configures New.
type Option func(*config)

// WithTracerProvider sets the tracer provider (default: otel.GetTracerProvider()). With
// noop.NewTracerProvider() (metrics only) no span is started at all, and the trace context
// a call is made in still goes to wsrpc peers.
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider sets the meter provider (default: otel.GetMeterProvider()).
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// WithPropagator sets how trace context is written into and read from the "$meta" of
// requests between wsrpc peers (default: W3C Trace Context, propagation.TraceContext{}).
// propagation.NewCompositeTextMapPropagator() with no propagators turns it off.
func WithPropagator(p propagation.TextMapPropagator) Option { return func(c *config) { c.prop = p } }

// Instrumentation holds the tracer and instruments; its interceptors may be installed on
// any number of servers and clients.
type Instrumentation struct {
	tracer   trace.Tracer
	tracing  bool // false with a no-op tracer provider: no span is started (see noSpan)
	prop     propagation.TextMapPropagator
	errors   metric.Int64Counter
	duration metric.Float64Histogram

	// The calls and in-flight counts are atomics per method and side, which observable
	// instruments report when the metrics are collected: a call costs a few atomic adds
	// instead of a measurement each.
	methods atomic.Pointer[map[string]*methodAttrs] // copy-on-write (see attrs)
	other   *methodAttrs                            // methods past maxCachedMethods

	mu      sync.Mutex
	sources map[*source]struct{}
}

// source is a Server or Client whose Stats the observable instruments report.
type source struct {
	side  attribute.KeyValue
	stats func() wsrpc.Stats
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
	if c.prop == nil {
		c.prop = propagation.TraceContext{}
	}
	meter := c.mp.Meter(ScopeName, metric.WithInstrumentationVersion(wsrpc.Version))
	in := &Instrumentation{
		tracer:  c.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(wsrpc.Version)),
		tracing: !isNoop(c.tp),
		prop:    c.prop,
		sources: map[*source]struct{}{},
	}
	in.methods.Store(&map[string]*methodAttrs{})
	in.other = newMethodAttrs(otherMethod)
	var err error
	calls, err := meter.Int64ObservableCounter("wsrpc.calls", metric.WithUnit("{call}"),
		metric.WithDescription("Calls and notifications, incoming (server side) and outgoing (client side)."))
	if err != nil {
		return nil, err
	}
	inFlight, err := meter.Int64ObservableUpDownCounter("wsrpc.in_flight", metric.WithUnit("{call}"),
		metric.WithDescription("Calls being handled or awaited."))
	if err != nil {
		return nil, err
	}
	if _, err := meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		in.observeCalls(o, calls, inFlight)
		return nil
	}, calls, inFlight); err != nil {
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
	if err := in.observables(meter); err != nil {
		return nil, err
	}
	return in, nil
}

// observables creates the instruments that report the observed servers' and clients'
// Stats, and the callback that reads them.
func (in *Instrumentation) observables(meter metric.Meter) error {
	conns, err := meter.Int64ObservableUpDownCounter("wsrpc.connections", metric.WithUnit("{connection}"),
		metric.WithDescription("Connections open now."))
	if err != nil {
		return err
	}
	opened, err := meter.Int64ObservableCounter("wsrpc.connections.opened", metric.WithUnit("{connection}"),
		metric.WithDescription("Connections accepted (servers) or established (clients)."))
	if err != nil {
		return err
	}
	reconnects, err := meter.Int64ObservableCounter("wsrpc.reconnects", metric.WithUnit("{connection}"),
		metric.WithDescription("Client connections after the first."))
	if err != nil {
		return err
	}
	rejected, err := meter.Int64ObservableCounter("wsrpc.rejected", metric.WithUnit("{call}"),
		metric.WithDescription("Requests refused by backpressure (answered -32000)."))
	if err != nil {
		return err
	}
	messages, err := meter.Int64ObservableCounter("wsrpc.messages", metric.WithUnit("{message}"),
		metric.WithDescription("WebSocket messages received and sent."))
	if err != nil {
		return err
	}
	byteCount, err := meter.Int64ObservableCounter("wsrpc.bytes", metric.WithUnit("By"),
		metric.WithDescription("Payload bytes of the messages received and sent."))
	if err != nil {
		return err
	}
	receive, transmit := keyDirection.String("receive"), keyDirection.String("transmit")
	attrs := map[attribute.KeyValue][3]metric.ObserveOption{}
	for _, side := range []attribute.KeyValue{sideServer, sideClient} {
		attrs[side] = [3]metric.ObserveOption{
			metric.WithAttributes(side),
			metric.WithAttributes(side, receive),
			metric.WithAttributes(side, transmit),
		}
	}
	_, err = meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		for side, st := range in.snapshot() {
			a := attrs[side]
			o.ObserveInt64(conns, st.Connections, a[0])
			o.ObserveInt64(opened, int64(st.ConnectionsTotal), a[0])
			if side == sideClient {
				o.ObserveInt64(reconnects, int64(st.Reconnects), a[0])
			}
			o.ObserveInt64(rejected, int64(st.Rejected), a[0])
			o.ObserveInt64(messages, int64(st.MessagesIn), a[1])
			o.ObserveInt64(messages, int64(st.MessagesOut), a[2])
			o.ObserveInt64(byteCount, int64(st.BytesIn), a[1])
			o.ObserveInt64(byteCount, int64(st.BytesOut), a[2])
		}
		return nil
	}, conns, opened, reconnects, rejected, messages, byteCount)
	return err
}

// snapshot adds up the Stats of the observed servers and of the observed clients.
func (in *Instrumentation) snapshot() map[attribute.KeyValue]wsrpc.Stats {
	in.mu.Lock()
	srcs := make([]*source, 0, len(in.sources))
	for s := range in.sources {
		srcs = append(srcs, s)
	}
	in.mu.Unlock()
	out := map[attribute.KeyValue]wsrpc.Stats{}
	for _, s := range srcs {
		st := s.stats()
		sum := out[s.side]
		sum.Add(st)
		out[s.side] = sum
	}
	return out
}

// ObserveServer makes the connection metrics report s (its Stats, read when the metrics
// are collected) until the returned function is called.
func (in *Instrumentation) ObserveServer(s *wsrpc.Server) (unregister func()) {
	return in.observe(&source{side: sideServer, stats: s.Stats})
}

// ObserveClient makes the connection metrics report c (its Stats, read when the metrics
// are collected) until the returned function is called.
func (in *Instrumentation) ObserveClient(c *wsrpc.Client) (unregister func()) {
	return in.observe(&source{side: sideClient, stats: c.Stats})
}

func (in *Instrumentation) observe(s *source) func() {
	in.mu.Lock()
	in.sources[s] = struct{}{}
	in.mu.Unlock()
	return func() {
		in.mu.Lock()
		delete(in.sources, s)
		in.mu.Unlock()
	}
}

// maxCachedMethods bounds the methods whose attributes are kept (method names come from
// peers: a peer must not make this grow without end). Others are built per call.
const maxCachedMethods = 1024

// otherMethod stands for the methods past maxCachedMethods in metrics and span attributes
// (as OpenTelemetry's semantic conventions do for unknown HTTP methods).
const otherMethod = "_OTHER"

// methodAttrs are the attributes and options of one method, built once (a call allocates
// nothing for them), and its counts.
type methodAttrs struct {
	method attribute.KeyValue
	span   []attribute.KeyValue // rpc.system, rpc.method, rpc.jsonrpc.version
	server sideAttrs
	client sideAttrs
	notify []trace.SpanStartOption // client side, for notifications (producer spans)
}

// sideAttrs are one side's options (rpc.method and wsrpc.side) and counts.
type sideAttrs struct {
	side  attribute.KeyValue
	set   metric.ObserveOption
	rec   []metric.RecordOption
	start []trace.SpanStartOption
	*counts
	mu     sync.Mutex
	failed map[attribute.KeyValue]*failures // ended with an error, by code or type
}

type failures struct {
	n   atomic.Int64
	set metric.MeasurementOption // rpc.method, wsrpc.side and the code or type
}

// counts are a method's counts on one side, on cache lines of their own: every call writes
// them, and the attributes beside them are read by every call.
type counts struct {
	_        [64]byte
	calls    atomic.Int64 // ended without an error
	inFlight atomic.Int64
	_        [48]byte
}

func (a *sideAttrs) init(kind trace.SpanKind, span []attribute.KeyValue, method, side attribute.KeyValue) {
	a.counts = new(counts)
	set := metric.WithAttributeSet(attribute.NewSet(method, side))
	a.side = side
	a.set = set
	a.rec = []metric.RecordOption{set}
	// The attributes are set once the span is known to record (see spanAttrs): a span
	// that is not sampled costs no copy of them.
	a.start = []trace.SpanStartOption{trace.WithSpanKind(kind)}
}

// failed counts a call that ended with an error (code or type errAttr) and returns the
// attributes to record it with.
func (a *sideAttrs) fail(method, errAttr attribute.KeyValue) metric.MeasurementOption {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.failed[errAttr]
	if f == nil {
		if a.failed == nil {
			a.failed = map[attribute.KeyValue]*failures{}
		}
		f = &failures{set: metric.WithAttributeSet(attribute.NewSet(method, a.side, errAttr))}
		a.failed[errAttr] = f
	}
	f.n.Add(1)
	return f.set
}

func (a *sideAttrs) observe(o metric.Observer, calls, inFlight metric.Int64Observable) {
	o.ObserveInt64(calls, a.calls.Load(), a.set)
	o.ObserveInt64(inFlight, a.inFlight.Load(), a.set)
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range a.failed {
		o.ObserveInt64(calls, f.n.Load(), f.set)
	}
}

func newMethodAttrs(method string) *methodAttrs {
	m := keyMethod.String(method)
	span := []attribute.KeyValue{keySystem.String("jsonrpc"), m, keyVersion.String("2.0")}
	a := &methodAttrs{method: m, span: span}
	a.server.init(trace.SpanKindServer, span, m, sideServer)
	a.client.init(trace.SpanKindClient, span, m, sideClient)
	a.notify = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindProducer)}
	return a
}

// observeCalls reports the calls and in-flight counts of every method.
func (in *Instrumentation) observeCalls(o metric.Observer, calls, inFlight metric.Int64Observable) {
	for _, a := range *in.methods.Load() {
		a.server.observe(o, calls, inFlight)
		a.client.observe(o, calls, inFlight)
	}
	in.other.server.observe(o, calls, inFlight)
	in.other.client.observe(o, calls, inFlight)
}

// attrs returns the method's attributes: from the cache (a copy-on-write map read
// without locking), or built and cached.
func (in *Instrumentation) attrs(method string) *methodAttrs {
	if a := (*in.methods.Load())[method]; a != nil {
		return a
	}
	a := newMethodAttrs(method)
	in.mu.Lock()
	defer in.mu.Unlock()
	old := *in.methods.Load()
	if prev := old[method]; prev != nil {
		return prev
	}
	if len(old) >= maxCachedMethods {
		return in.other
	}
	next := make(map[string]*methodAttrs, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[method] = a
	in.methods.Store(&next)
	return a
}

// Option installs both interceptors (on a server or a client).
func (in *Instrumentation) Option() wsrpc.Option {
	return func(c *wsrpc.Config) {
		wsrpc.WithIncomingInterceptor(in.Incoming)(c)
		wsrpc.WithOutgoingInterceptor(in.Outgoing)(c)
	}
}

// Incoming is the interceptor for incoming requests and notifications. A request from a
// wsrpc peer that carries trace context ("$meta") gets a server span that is a child of
// the caller's span.
func (in *Instrumentation) Incoming(ctx context.Context, req *wsrpc.IncomingRequest, next wsrpc.IncomingHandler) (json.RawMessage, error) {
	ma := in.attrs(req.Method)
	if req.Meta.Present() {
		ctx = in.prop.Extract(ctx, metaCarrier{&req.Meta})
	}
	span := noSpan
	if in.tracing {
		ctx, span = in.tracer.Start(ctx, req.Method, ma.server.start...)
		defer span.End()
	}
	if span.IsRecording() {
		var kv [5]attribute.KeyValue
		attrs := append(kv[:0], ma.span...)
		if req.ID != nil {
			attrs = append(attrs, keyRequestID.String(idText(req.ID)))
		}
		if req.Channel != nil {
			attrs = append(attrs, keyChannel.String(req.Channel.ID()))
		}
		span.SetAttributes(attrs...)
	}
	side := &ma.server
	side.inFlight.Add(1)
	start := time.Now()
	res, err := next(ctx, req)
	side.inFlight.Add(-1)
	in.duration.Record(ctx, time.Since(start).Seconds(), side.rec...)
	if err == nil {
		side.calls.Add(1)
		return res, nil
	}
	if code := wsrpc.AnswerCode(err); code != 0 {
		codeAttr := keyErrorCode.Int(code)
		span.SetAttributes(codeAttr)
		if re := wsrpc.RemoteError(err); re != nil {
			span.SetAttributes(keyErrorMessage.String(re.Message))
		}
		// The handler's own error text stays out of the span's status when the peer does
		// not see it either: only the code is recorded.
		span.SetStatus(codes.Error, "")
		in.errors.Add(ctx, 1, side.fail(ma.method, codeAttr))
		return res, err
	}
	side.calls.Add(1)
	return res, err
}

// Outgoing is the interceptor for outgoing calls and notifications. It hands the call's
// span context to the core as OutgoingCall.Meta, which sends it to wsrpc peers only.
func (in *Instrumentation) Outgoing(ctx context.Context, call *wsrpc.OutgoingCall, next wsrpc.OutgoingInvoker) error {
	ma := in.attrs(call.Method)
	opts := ma.client.start
	if call.Notification {
		opts = ma.notify
	}
	span := noSpan
	if in.tracing {
		ctx, span = in.tracer.Start(ctx, call.Method, opts...)
		defer span.End()
	}
	if span.IsRecording() {
		var kv [4]attribute.KeyValue
		attrs := append(kv[:0], ma.span...)
		if call.Channel != nil {
			attrs = append(attrs, keyChannel.String(call.Channel.ID()))
		}
		span.SetAttributes(attrs...)
	}
	// (ctx holds span; without tracing, the context the call was made in, passed on.)
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && (call.Channel == nil || call.Channel.Extended()) {
		if call.Meta == nil {
			// The core has encoded Meta once next returns: the map goes back to the pool.
			m := metaPool.Get().(map[string]string)
			call.Meta = m
			defer func() { call.Meta = nil; clear(m); metaPool.Put(m) }()
		}
		in.prop.Inject(ctx, propagation.MapCarrier(call.Meta))
	}
	side := &ma.client
	side.inFlight.Add(1)
	start := time.Now()
	err := next(ctx, call)
	side.inFlight.Add(-1)
	in.duration.Record(ctx, time.Since(start).Seconds(), side.rec...)
	if err == nil {
		side.calls.Add(1)
		return nil
	}
	var errAttr attribute.KeyValue
	if re := wsrpc.RemoteError(err); re != nil {
		errAttr = keyErrorCode.Int(re.Code)
		span.SetAttributes(errAttr, keyErrorMessage.String(re.Message))
	} else {
		errAttr = keyErrorType.String(wsrpc.KindOf(err).String())
		span.SetAttributes(errAttr)
		span.RecordError(err)
	}
	span.SetStatus(codes.Error, err.Error())
	in.errors.Add(ctx, 1, side.fail(ma.method, errAttr))
	return err
}

// noSpan stands for the span of a call when tracing is off (a no-op tracer provider, for
// metrics only): starting a no-op span would cost a context per call for nothing. Trace
// context the call's context carries still reaches wsrpc peers, as a no-op tracer passes
// it on.
var noSpan trace.Span = noop.Span{}

// isNoop reports whether tp is OpenTelemetry's no-op tracer provider.
func isNoop(tp trace.TracerProvider) bool {
	_, ok := tp.(noop.TracerProvider)
	return ok
}

// metaCarrier reads a request's metadata for a propagator (no map is made for it).
type metaCarrier struct{ m *wsrpc.Meta }

func (c metaCarrier) Get(key string) string { return c.m.Get(key) }
func (c metaCarrier) Set(string, string)    {} // (incoming: read only)
func (c metaCarrier) Keys() []string        { return c.m.Keys() }

// metaPool holds the maps that carry trace context to the core (OutgoingCall.Meta).
var metaPool = sync.Pool{New: func() any { return make(map[string]string, 2) }}

// idText is a request id as an attribute value: a string's text, an integer's digits.
func idText(raw json.RawMessage) string {
	if len(raw) >= 2 && raw[0] == '"' {
		if !bytes.ContainsRune(raw, '\\') {
			return string(raw[1 : len(raw)-1])
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}
