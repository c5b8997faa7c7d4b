//go:build js

package wsrpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall/js"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Browser WebSocket limits (see jsConn).
const (
	browserHighWater = 1 << 20              // bytes the browser may buffer before Write waits
	browserPoll      = 5 * time.Millisecond // how often a waiting Write looks again
	browserCloseWait = DefaultCloseGrace    // longest wait for the close handshake
	browserMaxReason = 123                  // bytes of a close reason (WebSocket API)
)

// jsConn is the transport of the browser build: the JavaScript WebSocket (the global
// WebSocket class, which the loader provides: the platform's or the "ws" package's, see
// bindings/js/websocket.mjs) seen as the conn a Channel expects, so that the same core
// behaves the same in a browser:
//
//   - It has no Ping method: browsers cannot send protocol pings, so Channel.Ping and
//     keepalive use the JSON-RPC "ping".
//   - Messages arrive whole (binaryType "arraybuffer": binary messages as ArrayBuffers, text
//     as strings) and wait in a queue for Read; the Channel checks their size itself.
//   - Browsers accept only close codes 1000 and 3000-4999: any other code is sent as
//     4000+(code-1000) (1009 -> 4009, 1011 -> 4011), keeping the reason.
//   - The browser's send never blocks and buffers without limit. Write waits while more
//     than browserHighWater bytes are buffered (bufferedAmount), so writes push back as on a
//     native socket and Config.MaxSendQueue bounds the queue (ErrBackpressure beyond it).
//   - Once the socket's close event has come and the queued messages have been read, Read
//     returns a wsCloseError with the peer's code and reason (for 1006, an abnormal closure,
//     only net.ErrClosed), so the core sees clean closes and non-retryable codes as natively.
//   - CloseNow cannot abort the connection (browsers always run the close handshake); it
//     starts the close and unblocks Read and Write at once instead of waiting for it.
//
// The event listeners never block (they only queue and signal), and a JavaScript exception
// (a closed socket, a refused close code) becomes an error: nothing here panics.
type jsConn struct {
	ws     js.Value // the JavaScript WebSocket
	ctx    context.Context
	cancel context.CancelFunc // CloseNow, or a close handshake that timed out

	opened chan struct{} // closed by the open event
	closed chan struct{} // closed by the close event, after closeEv and wasClean are set

	mu       sync.Mutex // guards what follows; never held while calling JavaScript
	queue    []queued   // received messages not yet read
	signal   chan struct{}
	closeEv  wsCloseError
	wasClean bool
	ended    bool // the close event has come
	funcs    []listener
}

type listener struct {
	event string
	fn    js.Func
}

type queued struct {
	typ messageType
	p   []byte
}

// newJSConn creates the WebSocket for url, offering protocols, and listens to its events.
func newJSConn(url string, protocols []string) (c *jsConn, err error) {
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return nil, errors.New("no WebSocket in this JavaScript runtime")
	}
	protos := make([]any, len(protocols))
	for i, p := range protocols {
		protos[i] = p
	}
	var ws js.Value
	if err := catchJS(func() { ws = ctor.New(url, protos) }); err != nil {
		return nil, err
	}
	c = &jsConn{ws: ws, opened: make(chan struct{}), closed: make(chan struct{}), signal: make(chan struct{}, 1)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	err = catchJS(func() {
		ws.Set("binaryType", "arraybuffer")
		c.listen("open", func(js.Value) { close(c.opened) })
		c.listen("message", c.onMessage)
		c.listen("close", c.onClose)
	})
	if err != nil {
		c.release()
		return nil, err
	}
	return c, nil
}

// listen adds a listener for the socket's events of one kind; release removes them all.
func (c *jsConn) listen(event string, fn func(e js.Value)) {
	f := js.FuncOf(func(_ js.Value, args []js.Value) any {
		defer func() { _ = recover() }() // (the listeners do not panic; if one did, the program would end)
		e := js.Undefined()
		if len(args) > 0 {
			e = args[0]
		}
		fn(e)
		return nil
	})
	c.mu.Lock()
	c.funcs = append(c.funcs, listener{event, f})
	c.mu.Unlock()
	c.ws.Call("addEventListener", event, f)
}

// release removes the listeners; an event that comes later finds no Go function.
func (c *jsConn) release() {
	c.mu.Lock()
	funcs := c.funcs
	c.funcs = nil
	c.mu.Unlock()
	for _, l := range funcs {
		_ = catchJS(func() { c.ws.Call("removeEventListener", l.event, l.fn) })
		l.fn.Release()
	}
}

var textEncoder = js.Global().Get("TextEncoder").New()

// JSStringBytes returns the UTF-8 bytes of the JavaScript string v, encoded by the
// JavaScript engine and copied into Go memory once (js.Value.String copies them twice more:
// into a Go string, and again to make bytes of it). For the JavaScript bindings: params and
// results cross as JSON text.
func JSStringBytes(v js.Value) []byte {
	a := textEncoder.Call("encode", v)
	b := make([]byte, a.Length())
	js.CopyBytesToGo(b, a)
	return b
}

func (c *jsConn) onMessage(e js.Value) {
	var m queued
	err := catchJS(func() {
		data := e.Get("data")
		if data.Type() == js.TypeString {
			m = queued{messageText, JSStringBytes(data)}
			return
		}
		a := js.Global().Get("Uint8Array").New(data) // an ArrayBuffer (binaryType "arraybuffer")
		m = queued{messageBinary, make([]byte, a.Length())}
		js.CopyBytesToGo(m.p, a)
	})
	if err != nil {
		return
	}
	c.mu.Lock()
	if !c.ended {
		c.queue = append(c.queue, m)
	}
	c.mu.Unlock()
	c.wake()
}

func (c *jsConn) onClose(e js.Value) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	c.closeEv = wsCloseError{Code: statusAbnormalClosure}
	_ = catchJS(func() {
		if code := e.Get("code"); code.Type() == js.TypeNumber {
			c.closeEv.Code = statusCode(code.Int())
		}
		if reason := e.Get("reason"); reason.Type() == js.TypeString {
			c.closeEv.Reason = reason.String()
		}
		c.wasClean = e.Get("wasClean").Truthy()
	})
	c.mu.Unlock()
	close(c.closed)
	c.wake()
	go c.release() // not from inside a listener: release waits for nothing, but calls JavaScript
}

// wake tells a waiting Read to look at the queue again.
func (c *jsConn) wake() {
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

// Read returns the next message, then, once the socket has closed and every message has
// been read, why it closed.
func (c *jsConn) Read(ctx context.Context) (messageType, []byte, error) {
	for {
		if c.ctx.Err() != nil {
			return 0, nil, net.ErrClosed
		}
		c.mu.Lock()
		if len(c.queue) > 0 {
			m := c.queue[0]
			c.queue[0] = queued{}
			c.queue = c.queue[1:]
			if len(c.queue) == 0 {
				c.queue = nil
			}
			c.mu.Unlock()
			return m.typ, m.p, nil
		}
		ended, ce := c.ended, c.closeEv
		c.mu.Unlock()
		if ended {
			if ce.Code == statusAbnormalClosure {
				return 0, nil, fmt.Errorf("failed to read: %w", net.ErrClosed)
			}
			return 0, nil, fmt.Errorf("failed to read: %w: %w", net.ErrClosed, ce)
		}
		select {
		case <-c.signal:
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		case <-c.ctx.Done():
			return 0, nil, net.ErrClosed
		}
	}
}

func (c *jsConn) buffered() (n int) {
	_ = catchJS(func() { n = c.ws.Get("bufferedAmount").Int() })
	return n
}

func (c *jsConn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// Write sends one message, first waiting while the browser buffers more than
// browserHighWater bytes.
func (c *jsConn) Write(ctx context.Context, typ messageType, p []byte) error {
	for c.buffered() > browserHighWater {
		t := time.NewTimer(browserPoll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-c.ctx.Done():
			t.Stop()
			return net.ErrClosed
		case <-c.closed:
			t.Stop()
		}
		if c.isClosed() {
			break
		}
	}
	if c.isClosed() {
		return fmt.Errorf("failed to write: %w", net.ErrClosed)
	}
	var data any
	switch typ {
	case messageText:
		// send decodes the text before it returns, and p is not changed meanwhile: no
		// Go copy of it.
		data = unsafe.String(unsafe.SliceData(p), len(p))
	case messageBinary:
		data = nil
	default:
		return fmt.Errorf("failed to write: unexpected message type: %d", typ)
	}
	err := catchJS(func() {
		if data == nil {
			a := js.Global().Get("Uint8Array").New(len(p))
			js.CopyBytesToJS(a, p)
			data = a
		}
		c.ws.Call("send", data)
	})
	if err != nil {
		return fmt.Errorf("failed to write: %w", err)
	}
	return nil
}

// browserCloseCode maps a close code to one a browser accepts.
func browserCloseCode(code statusCode) statusCode {
	if code == statusNormalClosure || (code >= 3000 && code <= 4999) {
		return code
	}
	if code > 1000 && code < 2000 {
		return 4000 + (code - 1000)
	}
	return statusNormalClosure
}

// startClose asks the socket to close; the close event follows.
func (c *jsConn) startClose(code statusCode, reason string) error {
	if len(reason) > browserMaxReason { // the WebSocket API refuses longer reasons
		reason = reason[:browserMaxReason]
		for len(reason) > 0 && !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	return catchJS(func() { c.ws.Call("close", int(browserCloseCode(code)), reason) })
}

// Close runs the close handshake, waiting for it up to browserCloseWait.
func (c *jsConn) Close(code statusCode, reason string) error {
	if c.isClosed() {
		return fmt.Errorf("failed to close WebSocket: %w", net.ErrClosed)
	}
	if err := c.startClose(code, reason); err != nil {
		return fmt.Errorf("failed to close WebSocket: %w", err)
	}
	t := time.NewTimer(browserCloseWait)
	defer t.Stop()
	select {
	case <-c.closed:
	case <-t.C:
		c.cancel()
		return errors.New("wsrpc: close handshake timed out")
	}
	c.mu.Lock()
	clean, ce := c.wasClean, c.closeEv
	c.mu.Unlock()
	if !clean {
		return fmt.Errorf("failed to close WebSocket: unclean connection close: %w", ce)
	}
	return nil
}

// CloseNow starts closing (status 1000) and unblocks Read and Write without waiting.
func (c *jsConn) CloseNow() error {
	c.cancel()
	if !c.isClosed() {
		_ = c.startClose(statusNormalClosure, "")
	}
	return nil
}

// Subprotocol is the subprotocol the server chose.
func (c *jsConn) Subprotocol() (p string) {
	_ = catchJS(func() {
		if v := c.ws.Get("protocol"); v.Type() == js.TypeString {
			p = v.String()
		}
	})
	return p
}

// catchJS runs fn, turning a JavaScript exception it throws into an error.
func catchJS(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(js.Error); ok {
				err = e
				return
			}
			if e, ok := r.(error); ok {
				err = e
				return
			}
			err = fmt.Errorf("%v", r)
		}
	}()
	fn()
	return nil
}

// dialError is what a failed dial reports, as coder/websocket worded it.
func dialError(url string, err error) error {
	return fmt.Errorf("failed to WebSocket dial %q: %w", url, err)
}

// httpToWS turns an http(s) URL into the ws(s) one (as coder/websocket did).
func httpToWS(url string) string {
	url = strings.Replace(url, "http://", "ws://", 1)
	return strings.Replace(url, "https://", "wss://", 1)
}
