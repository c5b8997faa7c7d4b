package wsrpcotel_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
	"github.com/wsrpc/wsrpc/pkg/wsrpcotel"
)

var quiet = wsrpc.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

func wsURL(hs *httptest.Server) string { return "ws" + strings.TrimPrefix(hs.URL, "http") }

// serve runs a quiet wsrpc server with m and opts until the test ends; it returns the
// server and its ws:// URL.
func serve(tb testing.TB, m *wsrpc.Methods, opts ...wsrpc.Option) (*wsrpc.Server, string) {
	tb.Helper()
	srv, err := wsrpc.NewServer(m, append([]wsrpc.Option{quiet}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	tb.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	return srv, wsURL(hs)
}

// waitSpans waits (generously) until the exporter holds n spans: a server span ends after
// its answer has been sent, so the caller may see the answer first.
func waitSpans(t *testing.T, spans *tracetest.InMemoryExporter, n int) tracetest.SpanStubs {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(spans.GetSpans()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d spans, want %d: %v", len(spans.GetSpans()), n, spans.GetSpans())
		}
		time.Sleep(time.Millisecond)
	}
	return spans.GetSpans()
}

// TestTraceContextAcrossConnection: between two wsrpc peers, each server span is the
// child of the caller's span (same trace, parent span id), in both directions: client to
// server, and the server calling the client back from inside its handler.
func TestTraceContextAcrossConnection(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	inst, err := wsrpcotel.New(wsrpcotel.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	m := wsrpc.NewMethods()
	wsrpc.Register(m, "back", func(ctx context.Context, _ struct{}) (string, error) {
		var s string
		err := wsrpc.ChannelFromContext(ctx).Call(ctx, "hello", nil, &s)
		return s, err
	})
	noted := make(chan struct{}, 1)
	wsrpc.Register(m, "note", func(ctx context.Context, _ struct{}) (any, error) { noted <- struct{}{}; return nil, nil })
	_, url := serve(t, m, inst.Option())
	cm := wsrpc.NewMethods()
	wsrpc.Register(cm, "hello", func(ctx context.Context, _ struct{}) (string, error) { return "hi", nil })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := wsrpc.Dial(ctx, url, quiet, wsrpc.WithMethods(cm), inst.Option())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.Channel().Extended() {
		t.Fatal("the extensions were not negotiated")
	}
	spans.Reset()

	var s string
	if err := c.Call(ctx, "back", nil, &s); err != nil || s != "hi" {
		t.Fatal(s, err)
	}
	if err := c.Notify(ctx, "note", nil); err != nil {
		t.Fatal(err)
	}
	<-noted
	got := waitSpans(t, spans, 6)
	type key struct {
		name string
		kind trace.SpanKind
	}
	byKey := map[key]tracetest.SpanStub{}
	for _, sp := range got {
		byKey[key{sp.Name, sp.SpanKind}] = sp
	}
	chain := func(parent, child key) {
		t.Helper()
		p, ok1 := byKey[parent]
		c, ok2 := byKey[child]
		if !ok1 || !ok2 {
			t.Fatalf("missing span %v or %v in %v", parent, child, byKey)
		}
		if c.SpanContext.TraceID() != p.SpanContext.TraceID() {
			t.Errorf("%v: trace %s, want %v's %s", child, c.SpanContext.TraceID(), parent, p.SpanContext.TraceID())
		}
		if c.Parent.SpanID() != p.SpanContext.SpanID() || !c.Parent.IsRemote() {
			t.Errorf("%v: parent %s (remote %v), want %v's span %s", child, c.Parent.SpanID(), c.Parent.IsRemote(), parent, p.SpanContext.SpanID())
		}
	}
	chain(key{"back", trace.SpanKindClient}, key{"back", trace.SpanKindServer})   // client -> server
	chain(key{"hello", trace.SpanKindClient}, key{"hello", trace.SpanKindServer}) // server -> client
	chain(key{"note", trace.SpanKindProducer}, key{"note", trace.SpanKindServer}) // a notification
	// In-process: the server's call to hello is a child of its handler's span.
	if h, b := byKey[key{"hello", trace.SpanKindClient}], byKey[key{"back", trace.SpanKindServer}]; h.Parent.SpanID() != b.SpanContext.SpanID() {
		t.Errorf("hello's client span is not a child of back's server span")
	}
}

// recorder is a Python-like JSON-RPC peer: it selects the first of subprotocols that the
// client offers, records every message, and answers each request with a null result.
type recorder struct {
	subprotocols []string
	mu           sync.Mutex
	frames       []string
	proto        string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	c, err := websocket.Accept(w, req, &websocket.AcceptOptions{Subprotocols: r.subprotocols})
	if err != nil {
		return
	}
	defer c.CloseNow()
	r.mu.Lock()
	r.proto = c.Subprotocol()
	r.mu.Unlock()
	ctx := context.Background()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.frames = append(r.frames, string(data))
		r.mu.Unlock()
		if i := strings.Index(string(data), `"id":`); i >= 0 {
			id := string(data[i+5:])
			id = id[:strings.IndexAny(id, ",}")]
			_ = c.Write(ctx, websocket.MessageText, []byte(`{"jsonrpc":"2.0","result":null,"id":`+id+`}`))
		}
	}
}

func (r *recorder) taken() (string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.frames
	r.frames = nil
	return r.proto, out
}

// exchange makes a call (custom id) and a notification from a client with opts, inside a
// sampled span, and returns the subprotocol and the messages the peer received.
func exchange(t *testing.T, rec *recorder, opts ...wsrpc.Option) (string, []string) {
	t.Helper()
	hs := httptest.NewServer(rec)
	defer hs.Close()
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ctx, span := tp.Tracer("test").Start(ctx, "outer")
	defer span.End()
	c, err := wsrpc.Dial(ctx, wsURL(hs), append([]wsrpc.Option{quiet, func(c *wsrpc.Config) { c.ReadinessCheck = false }}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Call(ctx, "add", []int{1, 2}, nil, wsrpc.WithCallID("call-1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Notify(ctx, "note", map[string]string{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	// The notification has no answer: a second call, answered after it, shows it arrived.
	if err := c.Call(ctx, "add", nil, nil, wsrpc.WithCallID("call-2")); err != nil {
		t.Fatal(err)
	}
	return rec.taken()
}

// TestGoldenFramesWithoutExtensions: a peer that did not select jsonrpc2.0+wsrpc (the
// Python libraries answer "jsonrpc2.0") receives byte for byte the same requests from an
// instrumented client as from a plain one; a wsrpc peer receives the trace context.
func TestGoldenFramesWithoutExtensions(t *testing.T) {
	inst, err := wsrpcotel.New(wsrpcotel.WithTracerProvider(sdktrace.NewTracerProvider()))
	if err != nil {
		t.Fatal(err)
	}
	python := &recorder{subprotocols: []string{"jsonrpc2.0"}}
	proto, plain := exchange(t, python)
	proto2, instrumented := exchange(t, python, inst.Option())
	if proto != "jsonrpc2.0" || proto2 != "jsonrpc2.0" {
		t.Fatalf("negotiated %q and %q", proto, proto2)
	}
	want := []string{
		`{"jsonrpc":"2.0","id":"call-1","method":"add","params":[1,2]}`,
		`{"jsonrpc":"2.0","method":"note","params":{"a":"b"}}`,
		`{"jsonrpc":"2.0","id":"call-2","method":"add"}`,
	}
	if strings.Join(plain, "\n") != strings.Join(want, "\n") {
		t.Errorf("plain client sent\n%s\nwant\n%s", strings.Join(plain, "\n"), strings.Join(want, "\n"))
	}
	if strings.Join(instrumented, "\n") != strings.Join(plain, "\n") {
		t.Errorf("instrumented client sent\n%s\nplain one\n%s", strings.Join(instrumented, "\n"), strings.Join(plain, "\n"))
	}

	// The same client against a peer that selects the extension: "$meta" with traceparent.
	wsrpcPeer := &recorder{subprotocols: []string{wsrpc.ExtensionSubprotocol, "jsonrpc2.0"}}
	proto3, extended := exchange(t, wsrpcPeer, inst.Option())
	if proto3 != wsrpc.ExtensionSubprotocol || len(extended) != 3 {
		t.Fatalf("negotiated %q, frames %v", proto3, extended)
	}
	for _, f := range extended {
		if !strings.Contains(f, `,"$meta":{"traceparent":"00-`) {
			t.Errorf("no trace context in %s", f)
		}
	}
}
