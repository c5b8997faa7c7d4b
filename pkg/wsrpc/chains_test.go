//go:build !js

package wsrpc

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// TestInterceptorCopies: interceptors may pass next a copy of the call or request they
// were given, with fields changed; an outgoing call made anew is refused with
// ErrInvalidArgument, and a request made anew runs what it names.
func TestInterceptorCopies(t *testing.T) {
	m, _ := protoMethods()
	rewrite := WithIncomingInterceptor(func(ctx context.Context, req *IncomingRequest, next IncomingHandler) (json.RawMessage, error) {
		switch req.Method {
		case "copy": // a copy with another method: the method the request named runs
			r := *req
			r.Method = "echo"
			return next(ctx, &r)
		case "anew": // a request of its own: what it names runs
			return next(ctx, &IncomingRequest{Channel: req.Channel, Method: "echo", Params: json.RawMessage(`{"message":"new"}`)})
		}
		return next(ctx, req)
	})
	Register(m, "copy", func(ctx context.Context, p struct{}) (string, error) { return "copy ran", nil })
	_, url := startServer(t, m, rewrite)
	fresh := false
	c := dialTest(t, url, WithOutgoingInterceptor(func(ctx context.Context, call *OutgoingCall, next OutgoingInvoker) error {
		if fresh {
			return next(ctx, &OutgoingCall{Method: call.Method, Params: call.Params})
		}
		cp := *call
		if cp.Method == "echo" {
			cp.Params = map[string]string{"message": "changed"}
		}
		return next(ctx, &cp)
	}))
	ctx := ctxT(t, 10*time.Second)
	var s string
	if err := c.Call(ctx, "echo", map[string]string{"message": "x"}, &s); err != nil || s != "changed" {
		t.Errorf("copied call: %q %v", s, err)
	}
	if err := c.Call(ctx, "copy", nil, &s); err != nil || s != "copy ran" {
		t.Errorf("copied request: %q %v", s, err)
	}
	if err := c.Call(ctx, "anew", nil, &s); err != nil || s != "new" {
		t.Errorf("request made anew: %q %v", s, err)
	}
	fresh = true
	if err := c.Call(ctx, "echo", nil, &s); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("call made anew: %v", err)
	}
	if _, err := c.Go(ctx, "echo", nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Go made anew: %v", err)
	}
	if err := c.Notify(ctx, "echo", nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("notification made anew: %v", err)
	}
}
