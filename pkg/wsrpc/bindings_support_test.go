//go:build !js

package wsrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestKindOf(t *testing.T) {
	cases := []struct {
		err  error
		want ErrorKind
	}{
		{nil, KindNone},
		{&Error{Code: CodeMethodNotFound, Message: "x"}, KindRemote},
		{fmt.Errorf("call: %w", &Error{Code: 1}), KindRemote},
		{wrap(ErrInvalidArgument, "bad"), KindInvalidArgument},
		{wrap(ErrTimeout, "slow"), KindTimeout},
		{context.DeadlineExceeded, KindTimeout},
		{fmt.Errorf("%w: eof", ErrConnectionLost), KindConnectionLost},
		{&closeError{code: 1001}, KindConnectionLost},
		{ErrClosed, KindClosed},
		{context.Canceled, KindClosed},
		{ErrNotConnected, KindNotConnected},
		{wrap(ErrBackpressure, "full"), KindBackpressure},
		{wrap(ErrMessageTooLarge, "big"), KindMessageTooLarge},
		{ErrInvalidID, KindInvalidID},
		{&HTTPError{Status: 403}, KindConnect},
		{errors.New("other"), KindOther},
		{fmt.Errorf("%w: the peer answered -32600", ErrBatchUnsupported), KindBatchUnsupported},
	}
	for _, c := range cases {
		if got := KindOf(c.err); got != c.want {
			t.Errorf("KindOf(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	if KindTimeout.String() != "timeout" || KindBatchUnsupported.String() != "batch_unsupported" || ErrorKind(99).String() != "other" {
		t.Error("kind names")
	}
	if RemoteError(errors.New("x")) != nil || RemoteError(&Error{Code: 5}).Code != 5 {
		t.Error("RemoteError")
	}
}

func TestRawParams(t *testing.T) {
	for _, in := range []string{"", "  ", "null", " null "} {
		if raw, err := RawParams([]byte(in)); err != nil || raw != nil {
			t.Errorf("RawParams(%q) = %q, %v; want nil, nil", in, raw, err)
		}
	}
	for _, in := range []string{`[1,2]`, ` {"a": 1}`} {
		raw, err := RawParams([]byte(in))
		if err != nil || string(raw) != in {
			t.Errorf("RawParams(%q) = %q, %v", in, raw, err)
		}
	}
	for _, in := range []string{`5`, `"s"`, `true`, `{`, `[1,`, `nul`, `{"a":1} x`} {
		if _, err := RawParams([]byte(in)); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("RawParams(%q) err = %v, want ErrInvalidArgument", in, err)
		}
	}
	// the result is a copy, not an alias of the caller's buffer
	buf := []byte(`[1]`)
	raw, _ := RawParams(buf)
	buf[1] = '2'
	if string(raw) != `[1]` {
		t.Error("RawParams aliases its input")
	}
	if raw, err := RawResult(nil); err != nil || string(raw) != "null" {
		t.Errorf("RawResult(nil) = %q, %v", raw, err)
	}
	if _, err := RawResult([]byte(`{x`)); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("RawResult invalid: %v", err)
	}
	if e, err := NewRemoteError(7, "m", []byte(`{"k":1}`)); err != nil || e.Code != 7 || string(e.Data) != `{"k":1}` {
		t.Errorf("NewRemoteError = %v, %v", e, err)
	}
	if _, err := NewRemoteError(7, "m", []byte(`{`)); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("NewRemoteError invalid data: %v", err)
	}
}

// TestListenEventsChannelByID runs a Listener with event hooks on both sides.
func TestListenEventsChannelByID(t *testing.T) {
	var mu sync.Mutex
	var serverEvents, clientEvents []Event
	record := func(dst *[]Event) func(Event) {
		return func(e Event) { mu.Lock(); *dst = append(*dst, e); mu.Unlock() }
	}
	m := NewMethods()
	m.Handle("whoami", func(ctx context.Context, _ json.RawMessage) (any, error) { return ChannelFromContext(ctx).ID(), nil })
	srv, err := NewServer(m, WithEvents(record(&serverEvents)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Listen("127.0.0.1:0", "no-slash", srv); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad path: %v", err)
	}
	ln, err := Listen("127.0.0.1:0", "", srv)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(ln.URL(), "/ws") {
		t.Errorf("URL %s", ln.URL())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, ln.URL(), WithEvents(record(&clientEvents)))
	if err != nil {
		t.Fatal(err)
	}
	var id string
	if err := c.Call(ctx, "whoami", nil, &id); err != nil {
		t.Fatal(err)
	}
	if ch := srv.ChannelByID(id); ch == nil || ch.ID() != id {
		t.Errorf("ChannelByID(%s) = %v", id, ch)
	}
	if srv.ChannelByID("nope") != nil {
		t.Error("ChannelByID(nope) found a channel")
	}
	_ = c.Close()
	_ = ln.Close()
	_ = ln.Close() // idempotent
	mu.Lock()
	defer mu.Unlock()
	if len(clientEvents) != 2 || clientEvents[0].Kind != EventConnected || clientEvents[1].Kind != EventDisconnected {
		t.Errorf("client events %+v", clientEvents)
	}
	if len(serverEvents) < 1 || serverEvents[0].Kind != EventConnected || serverEvents[0].ChannelID != id {
		t.Errorf("server events %+v", serverEvents)
	}
	if EventReconnecting.String() != "reconnecting" {
		t.Error("event names")
	}
}
