//go:build !js

package wsrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// canonical compacts a JSON text and sorts its object members (encoding/json does), so
// that two answers compare byte for byte whatever their member order.
func canonical(t *testing.T, s string) string {
	t.Helper()
	var v any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("invalid JSON %s: %v", s, err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// specMethods are the methods of the JSON-RPC 2.0 specification's §7 examples.
func specMethods(notified chan<- []int) *Methods {
	m := NewMethods()
	ints := func(raw json.RawMessage) []int {
		var v []int
		_ = json.Unmarshal(raw, &v)
		return v
	}
	m.Handle("sum", func(ctx context.Context, p json.RawMessage) (any, error) {
		n := 0
		for _, x := range ints(p) {
			n += x
		}
		return n, nil
	})
	m.Handle("subtract", func(ctx context.Context, p json.RawMessage) (any, error) {
		v := ints(p)
		return v[0] - v[1], nil
	})
	m.Handle("get_data", func(ctx context.Context, p json.RawMessage) (any, error) {
		return []any{"hello", 5}, nil
	})
	for _, name := range []string{"notify_hello", "notify_sum"} {
		m.Handle(name, func(ctx context.Context, p json.RawMessage) (any, error) {
			notified <- ints(p)
			return nil, nil
		})
	}
	return m
}

// TestBatchSpecExamples runs the batch examples of JSON-RPC 2.0 §7 against a server. The
// answers are compared byte for byte (compacted, members sorted; entries in request
// order), with two texts replaced by wsrpc's: a member that is an object but not a request
// gets the same message as it would alone, and so does an unknown method.
func TestBatchSpecExamples(t *testing.T) {
	notified := make(chan []int, 10)
	_, url := startServer(t, specMethods(notified))
	wc := rawDial(t, url, "jsonrpc2.0")
	const invalid = `{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}`
	wsrpcTexts := strings.NewReplacer(
		`{"code": -32600, "message": "Invalid Request"}, "id": null}, {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}`,
		`{"code": -32600, "message": "Unknown message format: {'foo': 'boo'}"}, "id": null}, {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method 'foo.get' not found"}`)
	cases := []struct{ name, send, want string }{
		{"rpc call Batch", `[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ]`, wsrpcTexts.Replace(`[
        {"jsonrpc": "2.0", "result": 7, "id": "1"},
        {"jsonrpc": "2.0", "result": 19, "id": "2"},
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}, {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
        {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}
    ]`)},
		{"rpc call Batch, invalid JSON", `[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
]`, `{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}`},
		{"rpc call with an empty Array", `[]`, invalid},
		{"rpc call with an invalid Batch (but not empty)", `[1]`, `[` + invalid + `]`},
		{"rpc call with invalid Batch", `[1,2,3]`, `[` + invalid + `,` + invalid + `,` + invalid + `]`},
	}
	for _, c := range cases {
		got := rawRoundTrip(t, wc, c.send)
		if canonical(t, got) != canonical(t, c.want) {
			t.Errorf("%s:\n got  %s\n want %s", c.name, canonical(t, got), canonical(t, c.want))
		}
	}
	if got := <-notified; len(got) != 1 || got[0] != 7 {
		t.Errorf("notify_hello got %v", got)
	}
	// rpc call Batch (all notifications): nothing comes back; the next thing read is the
	// answer to the next request.
	if err := wc.Write(ctxT(t, 5*time.Second), websocket.MessageText, []byte(`[
        {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
    ]`)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		<-notified
	}
	if got := rawRoundTrip(t, wc, `{"jsonrpc":"2.0","id":"after","method":"ping"}`); got != `{"jsonrpc":"2.0","id":"after","result":"pong"}` {
		t.Fatalf("a batch of notifications was answered: %s", got)
	}
}

func TestBatchLimits(t *testing.T) {
	_, url := startServer(t, specMethods(make(chan []int, 10)), WithMaxBatchSize(2), WithMaxMessageSize(300))
	wc := rawDial(t, url, "jsonrpc2.0")
	// At the limit: answered.
	got := rawRoundTrip(t, wc, `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]`)
	if want := `[{"jsonrpc":"2.0","id":1,"result":"pong"},{"jsonrpc":"2.0","id":2,"result":"pong"}]`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// Over it: one -32600, nothing runs.
	got = rawRoundTrip(t, wc, `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"},{"jsonrpc":"2.0","id":3,"method":"ping"}]`)
	if want := `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: batch of more than 2 requests","data":{"first_id":1}},"id":null}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// Over the message limit: the connection closes with 1009, as for any message.
	big := `[{"jsonrpc":"2.0","id":1,"method":"ping","params":["` + strings.Repeat("x", 300) + `"]}]`
	if err := wc.Write(ctxT(t, 5*time.Second), websocket.MessageText, []byte(big)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := wc.Read(ctxT(t, 5*time.Second)); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("read after an oversize batch: %v, want close 1009", err)
	}
}

// TestBatchMembersConcurrent: the members of a batch run at once (each waits for the
// other to have started), and their answers come back in one array, in request order.
func TestBatchMembersConcurrent(t *testing.T) {
	m := NewMethods()
	started := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	m.Handle("meet", func(ctx context.Context, p json.RawMessage) (any, error) {
		var who []string
		_ = json.Unmarshal(p, &who)
		close(started[who[0]])
		select {
		case <-started[who[1]]:
			return who[0], nil
		case <-time.After(5 * time.Second):
			return nil, errors.New("the other member never ran")
		}
	})
	_, url := startServer(t, m)
	wc := rawDial(t, url, "jsonrpc2.0")
	got := rawRoundTrip(t, wc, `[{"jsonrpc":"2.0","id":"x","method":"meet","params":["a","b"]},{"jsonrpc":"2.0","id":"y","method":"meet","params":["b","a"]}]`)
	if want := `[{"jsonrpc":"2.0","id":"x","result":"a"},{"jsonrpc":"2.0","id":"y","result":"b"}]`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestBatchLegacyDialectUnchanged(t *testing.T) {
	_, f := newFakeChannel(t, nil, WithDialect(DialectLegacy))
	f.peerSend(`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`)
	f.none(t, 100*time.Millisecond) // legacy peers ignore what is not a legacy envelope
}

func TestBatchClient(t *testing.T) {
	notified := make(chan []int, 10)
	_, url := startServer(t, specMethods(notified))
	c := dialTest(t, url)
	ctx := ctxT(t, 5*time.Second)

	b := c.NewBatch()
	sum := b.Call("sum", []int{1, 2, 4})
	b.Notify("notify_hello", []int{7})
	missing := b.Call("foo.get", map[string]string{"name": "myself"})
	custom := b.Call("subtract", []int{42, 23}, WithCallID("mine"))
	if b.Len() != 4 {
		t.Fatal(b.Len())
	}
	if err := b.Send(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := sum.Wait(ctx, &n); err != nil || n != 7 {
		t.Errorf("sum: %v %v", n, err)
	}
	if err := missing.Wait(ctx, nil); !errors.Is(err, ErrMethodNotFound) {
		t.Errorf("foo.get: %v", err)
	}
	if err := custom.Wait(ctx, &n); err != nil || n != 19 || custom.ID() != "mine" {
		t.Errorf("subtract: %v %v %s", n, err, custom.ID())
	}
	if got := <-notified; len(got) != 1 || got[0] != 7 {
		t.Errorf("notify_hello got %v", got)
	}
	if err := b.Send(ctx); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("second Send: %v", err)
	}
	if err := c.NewBatch().Send(ctx); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("empty batch: %v", err)
	}
	// A bad entry: nothing is sent, every call ends with the error.
	b = c.Channel().NewBatch()
	ok := b.Call("sum", []int{1})
	b.Call("sum", 42)
	if err := b.Send(ctx); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("bad params: %v", err)
	}
	if err := ok.Wait(ctx, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("entry of a batch not sent: %v", err)
	}
	if n := c.Channel().PendingCount(); n != 0 {
		t.Errorf("%d calls left pending", n)
	}
}

// refusingPeer plays a peer that answers every array as the Python libraries do, and
// answers single requests for "sum" with 1; it returns what it received.
func refusingPeer(t *testing.T, f *fakeConn, stop <-chan struct{}) func() []string {
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			var msg []byte
			select {
			case msg = <-f.out:
			case <-stop:
				return
			}
			mu.Lock()
			got = append(got, string(msg))
			mu.Unlock()
			if bytes.HasPrefix(msg, []byte("[")) {
				f.peerSend(`{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Expected dict, got <class 'list'>"}, "id": null}`)
				continue
			}
			var req struct {
				ID json.RawMessage `json:"id"`
			}
			_ = json.Unmarshal(msg, &req)
			if req.ID != nil {
				f.peerSend(`{"jsonrpc":"2.0","id":` + string(req.ID) + `,"result":1}`)
			}
		}
	}()
	t.Cleanup(func() { <-done })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

func TestBatchUnsupportedPeer(t *testing.T) {
	ch, f := newFakeChannel(t, nil)
	stop := make(chan struct{})
	defer close(stop)
	received := refusingPeer(t, f, stop)
	ctx := ctxT(t, 5*time.Second)

	b := ch.NewBatch()
	p1 := b.Call("sum", []int{1})
	b.Notify("note", nil)
	p2 := b.Call("sum", []int{2})
	if err := b.Send(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Pending{p1, p2} {
		if err := p.Wait(ctx, nil); !errors.Is(err, ErrBatchUnsupported) {
			t.Errorf("entry: %v, want ErrBatchUnsupported", err)
		}
	}
	// Known now: the next batch fails at once, nothing sent.
	b = ch.NewBatch()
	p3 := b.Call("sum", nil)
	if err := b.Send(ctx); !errors.Is(err, ErrBatchUnsupported) {
		t.Errorf("second batch: %v", err)
	}
	if err := p3.Wait(ctx, nil); !errors.Is(err, ErrBatchUnsupported) {
		t.Errorf("second batch entry: %v", err)
	}
	if n := ch.PendingCount(); n != 0 {
		t.Errorf("%d calls left pending", n)
	}
	if got := received(); len(got) != 1 || !strings.HasPrefix(got[0], "[") {
		t.Errorf("peer received %q, want the first batch only", got)
	}
}

func TestBatchSplitUnsupported(t *testing.T) {
	ch, f := newFakeChannel(t, nil)
	stop := make(chan struct{})
	defer close(stop)
	received := refusingPeer(t, f, stop)
	ctx := ctxT(t, 5*time.Second)

	for round := 0; round < 2; round++ {
		b := ch.NewBatch(SplitUnsupported())
		p1 := b.Call("sum", []int{1})
		b.Notify("note", nil)
		p2 := b.Call("sum", []int{2})
		if err := b.Send(ctx); err != nil {
			t.Fatal(err)
		}
		for _, p := range []*Pending{p1, p2} {
			var n int
			if err := p.Wait(ctx, &n); err != nil || n != 1 {
				t.Errorf("round %d: entry %s: %v %v", round, p.ID(), n, err)
			}
		}
	}
	// The first batch went as an array, then as single messages with the same ids; the
	// second straight away as single messages.
	got := received()
	arrays, singles := 0, 0
	for _, m := range got {
		if strings.HasPrefix(m, "[") {
			arrays++
		} else {
			singles++
		}
	}
	if arrays != 1 || singles != 6 {
		t.Errorf("peer received %d arrays and %d single messages, want 1 and 6: %q", arrays, singles, got)
	}
}

func TestBatchSizeConfig(t *testing.T) {
	for in, want := range map[string]int{``: 100, `{"max_batch_size": 7}`: 7, `{"max_batch_size": 0}`: -1} {
		cfg, err := ParseConfig([]byte(in))
		if err != nil || cfg.MaxBatchSize != want {
			t.Errorf("%s: MaxBatchSize %d (%v), want %d", in, cfg.MaxBatchSize, err, want)
		}
	}
	if _, err := buildConfig([]Option{WithMaxBatchSize(-2)}); err == nil {
		t.Error("MaxBatchSize -2 accepted")
	}
}

// TestBatchOverLimitWhileAnotherWaits: a batch refused for its size fails its own calls,
// not those of an earlier batch still running (the refusal names the batch).
func TestBatchOverLimitWhileAnotherWaits(t *testing.T) {
	release := make(chan struct{})
	m := NewMethods()
	m.Handle("wait", func(ctx context.Context, _ json.RawMessage) (any, error) {
		<-release
		return "done", nil
	})
	_, url := startServer(t, m, WithMaxBatchSize(2))
	c := dialTest(t, url)
	ctx := ctxT(t, 5*time.Second)

	slow := c.NewBatch()
	w := slow.Call("wait", nil)
	if err := slow.Send(ctx); err != nil {
		t.Fatal(err)
	}
	big := c.NewBatch()
	big.Notify("ping", nil)
	var calls []*Pending
	for range 3 {
		calls = append(calls, big.Call("ping", nil))
	}
	if err := big.Send(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range calls {
		if err := p.Wait(ctx, nil); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("entry of the batch over the limit: %v, want -32600", err)
		}
	}
	close(release)
	var s string
	if err := w.Wait(ctx, &s); err != nil || s != "done" {
		t.Errorf("the earlier batch: %q %v", s, err)
	}
}
