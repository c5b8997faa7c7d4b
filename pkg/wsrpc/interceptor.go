package wsrpc

import (
	"context"
	"encoding/json"
	"errors"
	"runtime/debug"

	"github.com/wsrpc/wsrpc/pkg/wsrpc/internal/wire"
)

// Interceptors are hooks around every request and notification, on both sides of a
// connection: logging, metrics, tracing (see pkg/wsrpcotel), authorisation. Each option
// adds to a chain; the first one added is the outermost. Without any, nothing is added to
// the path of a call.

// IncomingRequest is an incoming request or notification, as an IncomingInterceptor sees
// it. Params and ID are the raw JSON of the message (nil when absent); they must not be
// modified, nor kept after the interceptor returns.
type IncomingRequest struct {
	Channel *Channel
	Method  string
	Params  json.RawMessage
	ID      json.RawMessage // nil for a notification
	Legacy  bool            // the legacy dialect's envelope
	// Meta is the metadata the calling wsrpc peer attached to the request (its MetaMember
	// member, see OutgoingCall.Meta), read in place; none on connections without the
	// extensions (ExtensionSubprotocol), where the member is ignored.
	Meta Meta

	// What the method runs with, whatever an interceptor changes above (see
	// invokeIncoming); inv is nil in a request an interceptor made itself.
	inv    *Channel
	name   string
	params []byte
	legacy bool
	dst    []byte
}

// Meta is the metadata of an incoming request (IncomingRequest.Meta): the MetaMember
// member the calling wsrpc peer sent, an object of strings. It is read where it arrived,
// and a value is decoded only when asked for (trace context costs no map per request).
// The zero Meta, and a member that is not an object of strings, hold no keys.
type Meta struct{ raw []byte }

// Get returns the value of key, "" when absent.
func (m Meta) Get(key string) string {
	v, _ := wire.MetaValue(m.raw, key)
	return v
}

// Lookup returns the value of key and whether it is present.
func (m Meta) Lookup(key string) (string, bool) { return wire.MetaValue(m.raw, key) }

// Keys returns the keys, in no particular order (nil when there are none).
func (m Meta) Keys() []string { return wire.MetaKeys(m.raw) }

// Map returns the keys and values in a new map (nil when there are none).
func (m Meta) Map() map[string]string { return wire.DecodeMeta(m.raw) }

// Present reports whether the request carried a MetaMember member (which may still hold
// no keys, if it is not an object of strings).
func (m Meta) Present() bool { return len(m.raw) > 0 }

// Notification reports whether the request is a notification (no answer is sent).
func (r *IncomingRequest) Notification() bool { return r.ID == nil }

// IncomingHandler runs an incoming request: the next interceptor, or the method. It
// returns the encoded result (valid until the interceptor returns) or the error the peer
// will be answered with (see HandlerFunc for how errors are answered).
type IncomingHandler func(ctx context.Context, req *IncomingRequest) (json.RawMessage, error)

// IncomingInterceptor wraps the handling of incoming requests and notifications: it calls
// next to run the method (or does not, and answers itself), and sees its result or error
// and how long it took. It runs on the request's handler goroutine; ctx is the handler's
// context. A panic in it is recovered and answered like a handler's.
type IncomingInterceptor func(ctx context.Context, req *IncomingRequest, next IncomingHandler) (json.RawMessage, error)

// OutgoingCall is an outgoing call or notification, as an OutgoingInterceptor sees it.
type OutgoingCall struct {
	// Channel is the connection it goes out on; nil for a Client's calls, which choose
	// their connection inside next (it may be a new one after a reconnect).
	Channel      *Channel
	Method       string
	Params       any // as given to Call, Go or Notify
	Notification bool
	// Async: started with Go; next returns once the request has been sent, and the
	// answer arrives on the Pending later.
	Async bool
	// Meta is metadata for the peer (trace context, for example: W3C "traceparent" and
	// "tracestate"): an interceptor sets it before it calls next. It is sent as the
	// request's MetaMember member only on connections where the peer agreed to the
	// extensions (ExtensionSubprotocol, wsrpc peers); other peers (the Python libraries)
	// never see it. The IncomingRequest of the peer's interceptors has it as Meta.
	Meta map[string]string

	// Where the call goes and what it returns (set by the core; see the invokers in
	// composeInterceptors): next must be given the OutgoingCall its interceptor received
	// (or a copy of it), which it may change.
	ch     *Channel
	cl     *Client
	result any
	opts   []CallOption
	p      *Pending // Go's, once sent
}

// MetaMember is the member of a request object that carries OutgoingCall.Meta between
// wsrpc peers: {"jsonrpc":"2.0","method":...,"params":...,"id":...,"$meta":{"traceparent":"00-..."}},
// an object of strings. It is sent only on connections that negotiated
// ExtensionSubprotocol, and read only there.
const MetaMember = wire.MetaMember

// appendMeta adds the metadata to an encoded request on extended connections.
func (c *Channel) appendMeta(msg []byte, meta map[string]string) []byte {
	if !c.ext || len(meta) == 0 {
		return msg
	}
	return wire.AppendMeta(msg, meta)
}

// OutgoingInvoker sends the call (and, for Call, waits for its answer and decodes it):
// the next interceptor, or the call itself. It must be given the OutgoingCall the
// interceptor received, or a copy of it (an OutgoingCall made anew fails with
// ErrInvalidArgument): its fields may be changed.
type OutgoingInvoker func(ctx context.Context, call *OutgoingCall) error

// OutgoingInterceptor wraps outgoing calls and notifications made with Call, Go and Notify
// (on a Channel or a Client): it may change ctx for the call (a deadline, values), and
// sees the error (a *Error from the peer, or a local one) and how long the call took.
// Batches are not intercepted, nor the library's own calls (keepalive and readiness pings,
// the channel-id sync); the peer's are incoming requests like any other.
type OutgoingInterceptor func(ctx context.Context, call *OutgoingCall, next OutgoingInvoker) error

// WithIncomingInterceptor adds interceptors around incoming requests and notifications.
func WithIncomingInterceptor(i ...IncomingInterceptor) Option {
	return func(c *Config) { c.IncomingInterceptors = append(c.IncomingInterceptors, i...) }
}

// WithOutgoingInterceptor adds interceptors around outgoing calls and notifications.
func WithOutgoingInterceptor(i ...OutgoingInterceptor) Option {
	return func(c *Config) { c.OutgoingInterceptors = append(c.OutgoingInterceptors, i...) }
}

// interceptorChains are a Config's interceptors composed once, around the invokers below:
// a call then allocates no closures for them.
type interceptorChains struct {
	in                     IncomingHandler
	chCall, chGo, chNotify OutgoingInvoker // Channel.Call, Go, Notify
	clCall, clGo, clNotify OutgoingInvoker // Client.Call, Go, Notify
}

// composeInterceptors composes the Config's interceptors (buildConfig calls it last).
func (c *Config) composeInterceptors() {
	c.chains = nil
	if len(c.IncomingInterceptors) > 0 || len(c.OutgoingInterceptors) > 0 {
		c.chains = newChains(c.IncomingInterceptors, c.OutgoingInterceptors)
	}
}

// interceptors returns the composed interceptors; a Config not made by buildConfig has
// them composed for each call.
func (c *Config) interceptors() *interceptorChains {
	if ch := c.chains; ch != nil {
		return ch
	}
	return newChains(c.IncomingInterceptors, c.OutgoingInterceptors)
}

var errFreshCall = wrap(ErrInvalidArgument, "an OutgoingInterceptor must pass next the OutgoingCall it was given (or a copy)")

func newChains(ics []IncomingInterceptor, ois []OutgoingInterceptor) *interceptorChains {
	in := IncomingHandler(invokeIncoming)
	for i := len(ics) - 1; i >= 0; i-- {
		ic, inner := ics[i], in
		in = func(ctx context.Context, req *IncomingRequest) (json.RawMessage, error) { return ic(ctx, req, inner) }
	}
	out := func(last OutgoingInvoker) OutgoingInvoker {
		next := last
		for i := len(ois) - 1; i >= 0; i-- {
			oi, inner := ois[i], next
			next = func(ctx context.Context, call *OutgoingCall) error { return oi(ctx, call, inner) }
		}
		return next
	}
	return &interceptorChains{
		in: in,
		chCall: out(func(ctx context.Context, call *OutgoingCall) error {
			if call.ch == nil {
				return errFreshCall
			}
			return call.ch.call(ctx, call.Method, call.Params, call.result, call.opts, call.Meta)
		}),
		chGo: out(func(ctx context.Context, call *OutgoingCall) (err error) {
			if call.ch == nil {
				return errFreshCall
			}
			call.p, err = call.ch.startCall(ctx, call.Method, call.Params, false, call.opts, call.Meta)
			return err
		}),
		chNotify: out(func(ctx context.Context, call *OutgoingCall) error {
			if call.ch == nil {
				return errFreshCall
			}
			return call.ch.notify(ctx, call.Method, call.Params, call.Meta)
		}),
		clCall: out(func(ctx context.Context, call *OutgoingCall) error {
			if call.cl == nil {
				return errFreshCall
			}
			return call.cl.call(ctx, call.Method, call.Params, call.result, call.opts, call.Meta)
		}),
		clGo: out(func(ctx context.Context, call *OutgoingCall) (err error) {
			if call.cl == nil {
				return errFreshCall
			}
			call.p, err = call.cl.startCall(ctx, call.Method, call.Params, false, call.opts, call.Meta)
			return err
		}),
		clNotify: out(func(ctx context.Context, call *OutgoingCall) error {
			if call.cl == nil {
				return errFreshCall
			}
			return call.cl.notify(ctx, call.Method, call.Params, call.Meta)
		}),
	}
}

// invokeIncoming runs the method of a request, after the interceptors: with the name and
// params it arrived with (an interceptor that changes req.Method does not reroute it).
func invokeIncoming(ctx context.Context, req *IncomingRequest) (json.RawMessage, error) {
	if c := req.inv; c != nil {
		return c.invoke(ctx, req.name, req.params, req.legacy, req.dst)
	}
	if req.Channel == nil { // a request an interceptor made itself
		return nil, &Error{Code: CodeInternalError, Message: "Internal server error"}
	}
	return req.Channel.invoke(ctx, req.Method, req.Params, req.Legacy, nil)
}

// intercepted runs an incoming request through the interceptors, then invoke.
func (c *Channel) intercepted(ctx context.Context, r *request, dst []byte) (result []byte, err error) {
	req := &IncomingRequest{Channel: c, Method: r.name, Params: r.params, ID: r.id, Legacy: r.legacy,
		inv: c, name: r.name, params: r.params, legacy: r.legacy, dst: dst}
	req.Meta.raw = r.meta
	defer func() {
		if p := recover(); p != nil {
			result, err = nil, &panicError{value: p, stack: debug.Stack()}
		}
	}()
	return c.cfg.interceptors().in(ctx, req)
}

// AnswerCode returns the JSON-RPC error code the peer is answered with when a handler (or
// an IncomingInterceptor) returns err: an *Error's own code, -32602 for parameters that
// do not bind, -32603 for any other error, and 0 for nil or ErrNoResponse (no error sent).
func AnswerCode(err error) int {
	if err == nil {
		return 0
	}
	var re *Error
	var pe *paramError
	switch {
	case errors.Is(err, ErrNoResponse):
		return 0
	case errors.As(err, &re):
		return re.Code
	case errors.As(err, &pe):
		return pe.rpcError(false).Code
	}
	return CodeInternalError
}
