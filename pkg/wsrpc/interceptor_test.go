//go:build !js

package wsrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type record struct {
	mu    sync.Mutex
	lines []string
}

func (r *record) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

func (r *record) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.lines
	r.lines = nil
	return out
}

func TestInterceptors(t *testing.T) {
	var in, out record
	incoming := func(name string) IncomingInterceptor {
		return func(ctx context.Context, req *IncomingRequest, next IncomingHandler) (json.RawMessage, error) {
			if req.Channel == nil || ChannelFromContext(ctx) != req.Channel {
				t.Error("no channel")
			}
			if req.Method == "denied" {
				return nil, &Error{Code: -32001, Message: "denied by " + name}
			}
			start := time.Now()
			res, err := next(ctx, req)
			if time.Since(start) < 0 {
				t.Error("negative duration")
			}
			in.add("%s %s params=%s notification=%v result=%s err=%v", name, req.Method, req.Params, req.Notification(), res, err != nil)
			return res, err
		}
	}
	m := NewMethods()
	Register(m, "concat", func(ctx context.Context, p concatParams) (string, error) { return p.A + p.B, nil })
	m.Handle("fail", func(ctx context.Context, _ json.RawMessage) (any, error) { return nil, errors.New("boom") })
	noted := make(chan struct{}, 1)
	m.Handle("note", func(ctx context.Context, _ json.RawMessage) (any, error) { noted <- struct{}{}; return nil, nil })
	m.Handle("panics", func(ctx context.Context, _ json.RawMessage) (any, error) { return nil, nil })
	panicky := func(ctx context.Context, req *IncomingRequest, next IncomingHandler) (json.RawMessage, error) {
		if req.Method == "panics" {
			panic("interceptor bug")
		}
		return next(ctx, req)
	}
	_, url := startServer(t, m, WithIncomingInterceptor(incoming("outer"), incoming("inner")), WithIncomingInterceptor(panicky))

	type key struct{}
	outgoing := func(name string) OutgoingInterceptor {
		return func(ctx context.Context, call *OutgoingCall, next OutgoingInvoker) error {
			if name == "outer" {
				ctx = context.WithValue(ctx, key{}, "set by outer")
			} else if ctx.Value(key{}) != "set by outer" {
				t.Error("the context of the outer interceptor did not reach the inner one")
			}
			err := next(ctx, call)
			var re *Error
			errors.As(err, &re)
			out.add("%s %s notification=%v async=%v code=%v", name, call.Method, call.Notification, call.Async, re != nil && re.Code != 0)
			return err
		}
	}
	c := dialTest(t, url, WithOutgoingInterceptor(outgoing("outer")), WithOutgoingInterceptor(outgoing("inner")))
	ctx := ctxT(t, 5*time.Second)
	in.take() // the readiness ping
	out.take()

	var s string
	if err := c.Call(ctx, "concat", concatParams{A: "a", B: "b"}, &s); err != nil || s != "ab" {
		t.Fatal(s, err)
	}
	if got, want := in.take(), []string{
		`inner concat params={"a":"a","b":"b"} notification=false result="ab" err=false`,
		`outer concat params={"a":"a","b":"b"} notification=false result="ab" err=false`,
	}; !slices.Equal(got, want) {
		t.Errorf("incoming:\n got  %q\n want %q", got, want)
	}
	if got, want := out.take(), []string{"inner concat notification=false async=false code=false", "outer concat notification=false async=false code=false"}; !slices.Equal(got, want) {
		t.Errorf("outgoing:\n got  %q\n want %q", got, want)
	}

	if err := c.Call(ctx, "fail", nil, nil); !errors.Is(err, ErrInternal) {
		t.Error(err)
	}
	if got := in.take(); len(got) != 2 || !strings.HasSuffix(got[0], "err=true") {
		t.Errorf("incoming for an error: %q", got)
	}
	if got := out.take(); len(got) != 2 || !strings.HasSuffix(got[1], "code=true") {
		t.Errorf("outgoing for an error: %q", got)
	}

	// An interceptor may answer itself: the method does not run.
	if err := c.Call(ctx, "denied", nil, nil); err == nil || err.(*Error).Message != "denied by outer" {
		t.Errorf("denied: %v", err)
	}
	// A panic in an interceptor is answered like a handler's.
	if err := c.Call(ctx, "panics", nil, nil); !errors.Is(err, ErrInternal) {
		t.Errorf("panics: %v", err)
	}
	in.take()
	out.take()

	if err := c.Notify(ctx, "note", nil); err != nil {
		t.Fatal(err)
	}
	<-noted
	if got := out.take(); len(got) != 2 || got[0] != "inner note notification=true async=false code=false" {
		t.Errorf("outgoing notification: %q", got)
	}
	p, err := c.Channel().Go(ctx, "concat", concatParams{A: "x", B: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx, &s); err != nil || s != "xy" {
		t.Fatal(s, err)
	}
	if got := out.take(); len(got) != 2 || got[0] != "inner concat notification=false async=true code=false" {
		t.Errorf("outgoing Go: %q", got)
	}
	// The incoming record of the notification is written after its handler returns.
	deadline := time.Now().Add(5 * time.Second)
	var notes []string
	for len(notes) < 2 && time.Now().Before(deadline) {
		for _, l := range in.take() {
			if strings.Contains(l, " note ") {
				notes = append(notes, l)
			}
		}
		time.Sleep(time.Millisecond)
	}
	if len(notes) != 2 || !strings.Contains(notes[0], "notification=true") {
		t.Errorf("incoming notification: %q", notes)
	}
}

func TestAnswerCode(t *testing.T) {
	for err, want := range map[error]int{
		nil:                  0,
		ErrNoResponse:        0,
		&Error{Code: -32001}: -32001,
		errors.New("x"):      CodeInternalError,
		InvalidParams("bad"): CodeInvalidParams,
		&paramError{kind: "TypeError", method: "m", detail: "d"}: CodeInvalidParams,
		fmt.Errorf("wrapped: %w", &Error{Code: -32601}):          -32601,
	} {
		if got := AnswerCode(err); got != want {
			t.Errorf("AnswerCode(%v) = %d, want %d", err, got, want)
		}
	}
}
