//go:build js && wasm

// Command wasm is the browser (and Node) build of wsrpc: the same core (Channel, reconnect,
// keepalive) compiled for GOOS=js GOARCH=wasm, running on the platform's WebSocket.
//
//	GOOS=js GOARCH=wasm go build -o build/wsrpc.wasm ./wasm
//
// It only translates between JavaScript and Go. On start it sets globalThis.__wsrpc, which
// bindings/js/wsrpc.mjs wraps into the public API:
//
//	__wsrpc.version: string
//	__wsrpc.connect(url, optionsJSON, methodNames, dispatch, onEvent, logLevel) -> Promise<client>
//	    dispatch(name, paramsJSON | undefined) -> Promise<resultJSON | undefined>, rejecting
//	        with {code?: number, message, data?: JSON string, name?}
//	    onEvent(kind, info): kind is "connect", "disconnect", "reconnecting" or "close"
//	client.call(method, paramsJSON | undefined, timeoutSeconds | undefined, AbortSignal | undefined)
//	    -> Promise<resultJSON>
//	client.notify(method, paramsJSON | undefined) -> Promise<undefined>
//	client.register(name), client.unregister(name) -> bool
//	client.channelId() -> string | null
//	client.close() -> Promise<undefined>
//
// Promises reject with plain objects {kind, message, code?, data?}; kind is "remote" for the
// peer's error answer (code, message and data as sent), else one of the local failures
// listed in errorKind. JSON is encoded and decoded on the JavaScript side.
//
// Nothing here blocks inside a js.FuncOf callback: work runs in goroutines that settle
// Promises, and JavaScript Promises are awaited by Go through channels.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"syscall/js"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

func main() {
	api := js.Global().Get("Object").New()
	api.Set("version", wsrpc.Version)
	api.Set("connect", js.FuncOf(connect))
	js.Global().Set("__wsrpc", api)
	if ready := js.Global().Get("__wsrpc_ready"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}

// client is one wsrpc.Client and the JavaScript functions that serve it.
type client struct {
	c        *wsrpc.Client
	methods  *wsrpc.Methods
	dispatch js.Value // JS: (name, paramsJSON) => Promise<resultJSON>
	onEvent  js.Value // JS: (kind, info) => void, never throws
	funcs    []js.Func
}

// connect(url, optionsJSON, methodNames, dispatch, onEvent, logLevel) -> Promise<client>
func connect(_ js.Value, args []js.Value) any {
	url := arg(args, 0).String()
	opts := arg(args, 1)
	names := arg(args, 2)
	cl := &client{methods: wsrpc.NewMethods(), dispatch: arg(args, 3), onEvent: arg(args, 4)}
	level := arg(args, 5)
	var optsJSON []byte
	if opts.Type() == js.TypeString {
		optsJSON = []byte(opts.String())
	}
	if names.Type() == js.TypeObject {
		for i := 0; i < names.Length(); i++ {
			cl.register(names.Index(i).String())
		}
	}
	return promise(func() (any, error) {
		cfg, err := wsrpc.ParseConfig(optsJSON)
		if err != nil {
			return nil, tagged{"options", err}
		}
		cfg.Methods = cl.methods
		cfg.Logger = slog.New(&consoleHandler{level: logLevel(level)})
		cfg.OnConnect = func(_ context.Context, ch *wsrpc.Channel) {
			cl.emit("connect", map[string]any{"channelId": ch.ID()})
		}
		cfg.OnDisconnect = func(ch *wsrpc.Channel, err error) {
			info := map[string]any{"channelId": ch.ID(), "code": wsrpc.CloseCode(err)}
			if code, reason := ch.CloseStatus(); code >= 0 {
				info["code"], info["reason"] = code, reason
			}
			if err != nil && err != wsrpc.ErrClosed { // ErrClosed itself: closed by this side
				info["error"] = err.Error()
			}
			cl.emit("disconnect", info)
		}
		cfg.OnReconnect = func(attempt int, delay time.Duration, err error) {
			info := map[string]any{"attempt": attempt, "delay": delay.Seconds()}
			if err != nil {
				info["error"] = err.Error()
			}
			cl.emit("reconnecting", info)
		}
		c, err := wsrpc.Dial(context.Background(), url, wsrpc.WithConfig(cfg))
		if err != nil {
			return nil, tagged{"connect_failed", err}
		}
		cl.c = c
		go func() {
			<-c.Done()
			info := map[string]any{}
			if err := c.Err(); err != nil && err != wsrpc.ErrClosed {
				info["error"] = err.Error()
			}
			cl.emit("close", info)
		}()
		return cl.object(), nil
	})
}

// object is the JavaScript face of the client.
func (cl *client) object() js.Value {
	o := js.Global().Get("Object").New()
	fn := func(name string, f func(args []js.Value) any) {
		jf := js.FuncOf(func(_ js.Value, args []js.Value) any { return f(args) })
		cl.funcs = append(cl.funcs, jf)
		o.Set(name, jf)
	}
	fn("call", cl.call)
	fn("notify", cl.notify)
	fn("register", func(args []js.Value) any { cl.register(arg(args, 0).String()); return nil })
	fn("unregister", func(args []js.Value) any { return cl.methods.Remove(arg(args, 0).String()) })
	fn("channelId", func([]js.Value) any {
		if ch := cl.c.Channel(); ch != nil {
			return ch.ID()
		}
		return nil
	})
	fn("close", func([]js.Value) any {
		return promise(func() (any, error) {
			err := cl.c.Close()
			for _, f := range cl.funcs {
				f.Release()
			}
			cl.funcs = nil
			return nil, err
		})
	})
	return o
}

// call(method, paramsJSON, timeoutSeconds, signal) -> Promise<resultJSON>
func (cl *client) call(args []js.Value) any {
	method, params := arg(args, 0).String(), rawJSON(arg(args, 1))
	timeout, signal := arg(args, 2), arg(args, 3)
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if timeout.Type() == js.TypeNumber && timeout.Float() > 0 {
		ctx, cancel = context.WithTimeout(ctx, time.Duration(timeout.Float()*float64(time.Second)))
	}
	release := func() {}
	if signal.Type() == js.TypeObject {
		if signal.Get("aborted").Truthy() {
			cancel()
			return promise(func() (any, error) { return nil, tagged{"aborted", errors.New("wsrpc: call " + method + " aborted")} })
		}
		ctx, cancel = withCancel(ctx, cancel)
		onAbort := js.FuncOf(func(js.Value, []js.Value) any { cancel(); return nil })
		signal.Call("addEventListener", "abort", onAbort)
		release = func() { signal.Call("removeEventListener", "abort", onAbort); onAbort.Release() }
	}
	return promise(func() (any, error) {
		defer release()
		defer cancel()
		var out json.RawMessage
		err := cl.c.Call(ctx, method, params, &out)
		if err != nil && errors.Is(err, context.Canceled) && signal.Type() == js.TypeObject {
			return nil, tagged{"aborted", err}
		}
		return string(out), err
	})
}

func withCancel(ctx context.Context, prev context.CancelFunc) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	return ctx, func() { cancel(); prev() }
}

// notify(method, paramsJSON) -> Promise<undefined>
func (cl *client) notify(args []js.Value) any {
	method, params := arg(args, 0).String(), rawJSON(arg(args, 1))
	return promise(func() (any, error) {
		return nil, cl.c.Notify(context.Background(), method, params)
	})
}

// register makes name callable by the peer; calls go to the JavaScript dispatcher.
func (cl *client) register(name string) {
	cl.methods.Handle(name, func(ctx context.Context, params json.RawMessage) (any, error) {
		var p any = js.Undefined()
		if params != nil {
			p = string(params)
		}
		wsrpc.Detach(ctx) // the JavaScript handler settles later (it may call the peer back)
		v, err := await(ctx, cl.dispatch.Invoke(name, p))
		if err != nil {
			return nil, err
		}
		if v.Type() != js.TypeString {
			return nil, nil // undefined: the result is null
		}
		return json.RawMessage(v.String()), nil
	})
}

// await waits, in the calling goroutine, for a JavaScript Promise. A rejection becomes a
// *wsrpc.Error when it carries a numeric code (sent as is), else a plain error (which the
// core answers with -32603, disclosing its text only with Config.Debug).
func await(ctx context.Context, p js.Value) (js.Value, error) {
	type outcome struct {
		v  js.Value
		ok bool
	}
	done := make(chan outcome, 1)
	var onOK, onErr js.Func
	settle := func(o outcome) {
		done <- o // buffered, and a Promise settles once: never blocks
		onOK.Release()
		onErr.Release()
	}
	onOK = js.FuncOf(func(_ js.Value, args []js.Value) any { settle(outcome{arg(args, 0), true}); return nil })
	onErr = js.FuncOf(func(_ js.Value, args []js.Value) any { settle(outcome{arg(args, 0), false}); return nil })
	p.Call("then", onOK, onErr)
	select {
	case o := <-done:
		if o.ok {
			return o.v, nil
		}
		return js.Undefined(), jsError(o.v)
	case <-ctx.Done():
		return js.Undefined(), ctx.Err()
	}
}

// jsErr is a JavaScript exception thrown by a method.
type jsErr struct{ name, msg string }

func (e *jsErr) Error() string { return e.name + ": " + e.msg }

func jsError(v js.Value) error {
	if v.Type() != js.TypeObject {
		return &jsErr{"Error", v.String()}
	}
	msg, name := str(v.Get("message")), str(v.Get("name"))
	if name == "" {
		name = "Error"
	}
	if code := v.Get("code"); code.Type() == js.TypeNumber && code.Float() == float64(code.Int()) {
		e := &wsrpc.Error{Code: code.Int(), Message: msg}
		if d := v.Get("data"); d.Type() == js.TypeString {
			e.Data = json.RawMessage(d.String())
		}
		return e
	}
	return &jsErr{name, msg}
}

func (cl *client) emit(kind string, info map[string]any) {
	if cl.onEvent.Type() == js.TypeFunction {
		cl.onEvent.Invoke(kind, info)
	}
}

// tagged gives an error its JavaScript kind.
type tagged struct {
	kind string
	err  error
}

func (t tagged) Error() string { return t.err.Error() }
func (t tagged) Unwrap() error { return t.err }

// errorKind names a Go error for JavaScript: the core's wsrpc.KindOf names, plus
// "aborted" for an AbortSignal and "error" for anything unclassified.
func errorKind(err error) string {
	var t tagged
	switch {
	case errors.As(err, &t):
		return t.kind
	case errors.Is(err, context.Canceled):
		return "aborted"
	}
	if k := wsrpc.KindOf(err); k != wsrpc.KindOther {
		return k.String()
	}
	return "error"
}

func errorValue(err error) js.Value {
	o := js.Global().Get("Object").New()
	o.Set("kind", errorKind(err))
	var re *wsrpc.Error
	if errors.As(err, &re) {
		o.Set("code", re.Code)
		o.Set("message", re.Message)
		if len(re.Data) > 0 {
			o.Set("data", string(re.Data))
		}
		return o
	}
	o.Set("message", err.Error())
	return o
}

// promise runs fn in a goroutine and settles a new Promise with its outcome.
func promise(fn func() (any, error)) js.Value {
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			v, err := fn()
			if err != nil {
				reject.Invoke(errorValue(err))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	defer executor.Release()
	return js.Global().Get("Promise").New(executor)
}

func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

func str(v js.Value) string {
	if v.Type() == js.TypeString {
		return v.String()
	}
	if v.IsUndefined() || v.IsNull() {
		return ""
	}
	return v.Call("toString").String()
}

// rawJSON turns a JSON string from JavaScript into params (undefined: no params member).
func rawJSON(v js.Value) json.RawMessage {
	if v.Type() != js.TypeString {
		return nil
	}
	return json.RawMessage(v.String())
}

// consoleHandler is a small slog.Handler writing to the JavaScript console.
type consoleHandler struct {
	level slog.Level
	attrs []slog.Attr
}

func logLevel(v js.Value) slog.Level {
	if l, err := wsrpc.ParseLogLevel(str(v)); err == nil {
		return l
	}
	return slog.LevelWarn // unset or unknown
}

func (h *consoleHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *consoleHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	method := "error"
	switch {
	case r.Level < slog.LevelInfo:
		method = "debug"
	case r.Level < slog.LevelWarn:
		method = "info"
	case r.Level < slog.LevelError:
		method = "warn"
	}
	js.Global().Get("console").Call(method, b.String())
	return nil
}

func (h *consoleHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &consoleHandler{level: h.level, attrs: append(append([]slog.Attr{}, h.attrs...), attrs...)}
}

func (h *consoleHandler) WithGroup(string) slog.Handler { return h }
