//go:build js && wasm

// Command wasm is the browser (and Node) build of wsrpc: the same core (Channel, reconnect,
// keepalive) compiled for GOOS=js GOARCH=wasm, running on the platform's WebSocket.
//
//	GOOS=js GOARCH=wasm go build -o build/wsrpc.wasm ./wasm
//
// It only translates between JavaScript and Go. bindings/js/wsrpc.mjs runs wasm_exec.js and
// this program with a private global object (its own WebSocket and a "wsrpc" host object),
// so nothing of ours lands on globalThis. On start it hands the API to host.ready:
//
//	host.ready({version, connect})
//	host.dialFailure(url) -> string | undefined: why the last connection to url failed
//	    before it opened (the WebSocket API reports only that it closed)
//	connect(url, optionsJSON, methodNames, dispatch, onEvent, logLevel, AbortSignal | undefined)
//	    -> Promise<client>
//	    dispatch(name, paramsJSON | undefined) -> Promise<resultJSON | undefined>, rejecting
//	        with {code?: number, message, data?: JSON string, name?}
//	    onEvent(kind, info): kind is "connect", "disconnect", "reconnecting" or "close"
//	client.call(method, paramsJSON | undefined, timeoutMs | undefined, AbortSignal | undefined)
//	    -> Promise<resultJSON>
//	client.notify(method, paramsJSON | undefined) -> Promise<undefined>
//	client.batch(entries, split, AbortSignal | undefined) -> [Promise, ...Promise | undefined]
//	    (see client.batch)
//	client.register(name), client.unregister(name) -> bool
//	client.channelId() -> string | null
//	client.stats() -> JSON text of wsrpc.Stats
//	client.close() -> Promise<JSON text of wsrpc.Stats>: the final counters
//
// Promises reject with plain objects {kind, message, code?, data?}; kind is "remote" for the
// peer's error answer (code, message and data as sent), else one of the local failures
// listed in errorKind. JSON is encoded and decoded on the JavaScript side.
//
// The Go program must never end (a panic or "all goroutines are asleep" would end it for
// good, and every later callback would throw): nothing here blocks inside a js.FuncOf
// callback (work runs in goroutines that settle Promises, and JavaScript Promises are
// awaited by Go through channels), and every callback and goroutine recovers from panics,
// which become rejected Promises (or, for the synchronous functions, a returned Error).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// host is the loader's private object (see the package doc).
var host js.Value

func main() {
	host = js.Global().Get("wsrpc")
	api := js.Global().Get("Object").New()
	api.Set("version", wsrpc.Version)
	api.Set("connect", asyncFunc(connect))
	if host.Type() == js.TypeObject {
		host.Call("ready", api)
	}
	select {}
}

// asyncFunc is js.FuncOf for a function that returns a Promise: a panic becomes a rejected one.
func asyncFunc(f func(args []js.Value) any) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) (out any) {
		defer func() {
			if r := recover(); r != nil {
				out = rejected(panicError(r))
			}
		}()
		return f(args)
	})
}

// syncFunc is js.FuncOf for a function that returns a value: a panic returns an Error
// instead (which the loader throws).
func syncFunc(f func(args []js.Value) any) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) (out any) {
		defer func() {
			if r := recover(); r != nil {
				out = js.Global().Get("Error").New(panicError(r).Error())
			}
		}()
		return f(args)
	})
}

func panicError(r any) error {
	err := fmt.Errorf("wsrpc: internal error: %v", r)
	js.Global().Get("console").Call("error", err.Error()+"\n"+string(debug.Stack()))
	return err
}

// client is one wsrpc.Client and the JavaScript functions that serve it.
type client struct {
	c        *wsrpc.Client
	url      string
	methods  *wsrpc.Methods
	dispatch js.Value // JS: (name, paramsJSON) => Promise<resultJSON>
	onEvent  js.Value // JS: (kind, info) => void, never throws
	funcs    []js.Func
}

// connect(url, optionsJSON, methodNames, dispatch, onEvent, logLevel, signal) -> Promise<client>
func connect(args []js.Value) any {
	url := arg(args, 0).String()
	opts := arg(args, 1)
	names := arg(args, 2)
	cl := &client{url: url, methods: wsrpc.NewMethods(), dispatch: arg(args, 3), onEvent: arg(args, 4)}
	level := arg(args, 5)
	ctx, cancel, release := abortable(context.Background(), arg(args, 6))
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
		defer release()
		defer cancel()
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
			info := map[string]any{"attempt": attempt, "delay": delay.Milliseconds()}
			if err != nil {
				info["error"] = explain(url, err).Error()
			}
			cl.emit("reconnecting", info)
		}
		c, err := wsrpc.Dial(ctx, url, wsrpc.WithConfig(cfg))
		if err != nil {
			if ctx.Err() != nil {
				return nil, tagged{"aborted", err}
			}
			return nil, tagged{"connect", explain(url, err)}
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

// explained is an error with a better message than the one it wraps.
type explained struct {
	msg string
	err error
}

func (e explained) Error() string { return e.msg }
func (e explained) Unwrap() error { return e.err }

// explain replaces the transport's report of a connection that failed before it
// opened ("use of closed network connection") with the reason the socket's events gave.
func explain(url string, err error) error {
	if !errors.Is(err, net.ErrClosed) || host.Type() != js.TypeObject {
		return err
	}
	why := host.Call("dialFailure", url)
	if why.Type() != js.TypeString || why.String() == "" {
		return err
	}
	return explained{fmt.Sprintf("wsrpc: connect %s: %s", url, why.String()), err}
}

// abortable derives a context that an AbortSignal (if signal is one) cancels; release
// removes the signal's listener.
func abortable(ctx context.Context, signal js.Value) (context.Context, context.CancelFunc, func()) {
	ctx, cancel := context.WithCancel(ctx)
	if signal.Type() != js.TypeObject {
		return ctx, cancel, func() {}
	}
	if signal.Get("aborted").Truthy() {
		cancel()
		return ctx, cancel, func() {}
	}
	onAbort := js.FuncOf(func(js.Value, []js.Value) any { cancel(); return nil })
	signal.Call("addEventListener", "abort", onAbort)
	return ctx, cancel, func() { signal.Call("removeEventListener", "abort", onAbort); onAbort.Release() }
}

// object is the JavaScript face of the client.
func (cl *client) object() js.Value {
	o := js.Global().Get("Object").New()
	add := func(name string, jf js.Func) {
		cl.funcs = append(cl.funcs, jf)
		o.Set(name, jf)
	}
	add("call", asyncFunc(cl.call))
	add("notify", asyncFunc(cl.notify))
	add("batch", syncFunc(cl.batch))
	add("register", syncFunc(func(args []js.Value) any { cl.register(arg(args, 0).String()); return nil }))
	add("unregister", syncFunc(func(args []js.Value) any { return cl.methods.Remove(arg(args, 0).String()) }))
	add("channelId", syncFunc(func([]js.Value) any {
		if ch := cl.c.Channel(); ch != nil {
			return ch.ID()
		}
		return nil
	}))
	add("stats", syncFunc(func([]js.Value) any { return cl.stats() }))
	add("close", asyncFunc(func([]js.Value) any {
		return promise(func() (any, error) {
			// The loader calls nothing of this client after close, so its functions can go;
			// it keeps the final counters.
			err := cl.c.Close()
			for _, f := range cl.funcs {
				f.Release()
			}
			cl.funcs = nil
			return cl.stats(), err
		})
	}))
	return o
}

// stats() -> JSON text of wsrpc.Client.Stats (snake_case members; the loader renames them).
func (cl *client) stats() any {
	b, err := json.Marshal(cl.c.Stats())
	if err != nil {
		return js.Global().Get("Error").New(err.Error())
	}
	return string(b)
}

// call(method, paramsJSON, timeoutMs, signal) -> Promise<resultJSON>
func (cl *client) call(args []js.Value) any {
	method, params := arg(args, 0).String(), rawJSON(arg(args, 1))
	timeout, signal := arg(args, 2), arg(args, 3)
	ctx, cancelT := withTimeout(context.Background(), timeout)
	ctx, cancel, release := abortable(ctx, signal)
	return promise(func() (any, error) {
		defer release()
		defer cancel()
		defer cancelT()
		if signal.Type() == js.TypeObject && ctx.Err() == context.Canceled {
			return nil, tagged{"aborted", errors.New("wsrpc: call " + method + " aborted")}
		}
		var out json.RawMessage
		err := cl.c.Call(ctx, method, params, &out)
		if err != nil && errors.Is(err, context.Canceled) && signal.Type() == js.TypeObject {
			return nil, tagged{"aborted", err}
		}
		return string(out), err
	})
}

// batch(entries, split, signal) -> [Promise<undefined>, ...(Promise<resultJSON> | undefined)]
//
// entries are [method, paramsJSON | undefined, isCall, timeoutMs | undefined,
// AbortSignal | undefined]; split is SplitUnsupported; signal aborts the whole batch (before
// it is sent: nothing goes; after: the calls still waiting). The first Promise settles once
// the batch is written (wsrpc.Batch.Send); then one per entry, in order: a call's answer,
// undefined for a notification. Each call waits for its answer with its own signal and
// timeout (wsrpc.Pending.Wait, which cancels it on the peer when it gives up).
func (cl *client) batch(args []js.Value) any {
	entries, signal := arg(args, 0), arg(args, 2)
	var opts []wsrpc.BatchOption
	if arg(args, 1).Truthy() {
		opts = append(opts, wsrpc.SplitUnsupported())
	}
	// First everything that reads JavaScript values (and may panic on odd ones, which
	// syncFunc reports): then no Promise exists yet that nobody would handle.
	type entry struct {
		method  string
		params  json.RawMessage
		call    bool
		ctx     context.Context
		cancel  context.CancelFunc
		release func()
	}
	ctx, cancel, release := abortable(context.Background(), signal)
	var list []entry
	ready := false
	defer func() {
		if !ready {
			for _, e := range list {
				e.release()
				e.cancel()
			}
			release()
			cancel()
		}
	}()
	for i := 0; i < entries.Length(); i++ {
		v := entries.Index(i)
		e := entry{method: v.Index(0).String(), params: rawJSON(v.Index(1)), call: v.Index(2).Truthy(), ctx: ctx, cancel: func() {}, release: func() {}}
		if e.call {
			ectx, cancelT := withTimeout(ctx, v.Index(3))
			ectx, cancelA, releaseA := abortable(ectx, v.Index(4))
			e.ctx, e.cancel, e.release = ectx, func() { cancelA(); cancelT() }, releaseA
		}
		list = append(list, e)
	}
	ready = true

	b := cl.c.NewBatch(opts...)
	sent := make(chan struct{}) // closed once Send has returned
	var wg sync.WaitGroup       // the batch's promises, until they settle
	out := js.Global().Get("Array").New(len(list) + 1)
	for i, e := range list {
		if !e.call {
			b.Notify(e.method, e.params)
			out.SetIndex(i+1, js.Undefined())
			continue
		}
		p := b.Call(e.method, e.params)
		wg.Add(1)
		out.SetIndex(i+1, promise(func() (any, error) {
			defer wg.Done()
			defer e.release()
			defer e.cancel()
			<-sent
			var res json.RawMessage
			err := p.Wait(e.ctx, &res)
			return string(res), err
		}))
	}
	wg.Add(1)
	out.SetIndex(0, promise(func() (any, error) {
		defer wg.Done()
		defer close(sent)
		return nil, b.Send(ctx)
	}))
	go func() {
		wg.Wait()
		release()
		cancel()
	}()
	return out
}

// withTimeout bounds ctx by timeoutMs when it is a positive number of milliseconds.
func withTimeout(ctx context.Context, timeoutMs js.Value) (context.Context, context.CancelFunc) {
	if timeoutMs.Type() == js.TypeNumber && timeoutMs.Float() > 0 {
		return context.WithTimeout(ctx, time.Duration(timeoutMs.Float()*float64(time.Millisecond)))
	}
	return ctx, func() {}
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
		v, err := await(ctx, cl.dispatch.Invoke(name, p))
		if err != nil {
			return nil, err
		}
		if v.Type() != js.TypeString {
			return nil, nil // undefined: the result is null
		}
		return json.RawMessage(wsrpc.JSStringBytes(v)), nil
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
// "aborted" for an AbortSignal, "options" for a bad option, "batch_unsupported" for
// wsrpc.ErrBatchUnsupported and "error" for anything unclassified.
func errorKind(err error) string {
	var t tagged
	switch {
	case errors.As(err, &t):
		return t.kind
	case errors.Is(err, wsrpc.ErrBatchUnsupported):
		return "batch_unsupported"
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

// promise runs fn in a goroutine and settles a new Promise with its outcome (a panic in fn
// rejects it).
func promise(fn func() (any, error)) js.Value {
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			v, err := func() (v any, err error) {
				defer func() {
					if r := recover(); r != nil {
						v, err = nil, panicError(r)
					}
				}()
				return fn()
			}()
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

// rejected is a Promise rejected with err.
func rejected(err error) js.Value {
	return js.Global().Get("Promise").Call("reject", errorValue(err))
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
	return json.RawMessage(wsrpc.JSStringBytes(v))
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
