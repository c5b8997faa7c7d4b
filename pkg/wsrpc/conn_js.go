//go:build js

package wsrpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"syscall/js"
	"time"
	"unsafe"

	"github.com/coder/websocket"
)

// Browser WebSocket limits (see browserConn).
const (
	browserHighWater = 1 << 20              // bytes the browser may buffer before Write waits
	browserPoll      = 5 * time.Millisecond // how often a waiting Write looks again
	browserCloseWait = DefaultCloseGrace    // longest wait for the close handshake
	// longest wait for the close event after a failed read
	browserCloseEvent = 250 * time.Millisecond
)

// browserConn adapts coder/websocket's browser Conn to what a Channel expects of its
// transport, so that the same core behaves the same in a browser:
//
//   - It has no Ping method. Browsers cannot send protocol pings and the library's Ping is a
//     no-op that always succeeds, so Channel.Ping and keepalive use the JSON-RPC "ping".
//   - Browsers accept only close codes 1000 and 3000-4999: any other code is sent as
//     4000+(code-1000) (1009 -> 4009, 1011 -> 4011), keeping the reason.
//   - The browser's send never blocks and buffers without limit. Write waits while more
//     than browserHighWater bytes are buffered (bufferedAmount), so writes push back as on a
//     native socket and Config.MaxSendQueue bounds the queue (ErrBackpressure beyond it).
//   - The library's Read reports only "closed" when the peer closes; browserConn listens for
//     the socket's close event itself and returns a websocket.CloseError with the peer's
//     code and reason, so the core sees clean closes and non-retryable codes as natively.
//   - CloseNow cannot abort the connection (browsers always run the close handshake); it
//     starts the close and unblocks Read and Write at once instead of waiting for it.
type browserConn struct {
	c      *websocket.Conn
	ws     js.Value // the JavaScript WebSocket, or undefined if it could not be found
	ctx    context.Context
	cancel context.CancelFunc

	reads    chan readResult // from pump
	closed   chan struct{}   // closed by the socket's close event, after closeErr is set
	closeErr websocket.CloseError
}

func newBrowserConn(c *websocket.Conn) *browserConn {
	b := &browserConn{c: c, ws: jsSocket(c), reads: make(chan readResult), closed: make(chan struct{})}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	if !b.ws.IsUndefined() {
		var onClose js.Func
		onClose = js.FuncOf(func(_ js.Value, args []js.Value) any {
			e := args[0]
			b.closeErr = websocket.CloseError{Code: websocket.StatusCode(e.Get("code").Int()), Reason: e.Get("reason").String()}
			close(b.closed)
			b.ws.Call("removeEventListener", "close", onClose)
			onClose.Release()
			return nil
		})
		b.ws.Call("addEventListener", "close", onClose)
	}
	go b.pump()
	return b
}

// jsSocket finds the JavaScript WebSocket inside a coder/websocket Conn (Conn.ws.v), which
// the library does not export. If its layout changes, the result is undefined and writes
// are not throttled.
func jsSocket(c *websocket.Conn) (v js.Value) {
	defer func() {
		if recover() != nil {
			v = js.Undefined()
		}
	}()
	f := reflect.ValueOf(c).Elem().FieldByName("ws")
	if !f.IsValid() || f.Kind() != reflect.Struct {
		return js.Undefined()
	}
	f = f.FieldByName("v")
	if !f.IsValid() || f.Type() != reflect.TypeFor[js.Value]() {
		return js.Undefined()
	}
	return *(*js.Value)(unsafe.Pointer(f.UnsafeAddr()))
}

// pump reads from the library's Conn for Read. It never hands the library a context that
// ends: on a cancelled read the library starts a close handshake, waiting on the lock that a
// pending close holds until the peer answers, which a dead peer never does.
func (b *browserConn) pump() {
	defer close(b.reads)
	for {
		typ, p, err := b.c.Read(context.Background())
		if err != nil && !b.ws.IsUndefined() {
			// The close event may still be on its way to our listener.
			t := time.NewTimer(browserCloseEvent)
			select {
			case <-b.closed:
				if b.closeErr.Code != websocket.StatusAbnormalClosure {
					err = fmt.Errorf("%w: %w", err, b.closeErr)
				}
			case <-t.C:
			case <-b.ctx.Done():
			}
			t.Stop()
		}
		select {
		case b.reads <- readResult{typ, p, err}:
		case <-b.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

type readResult struct {
	typ websocket.MessageType
	p   []byte
	err error
}

func (b *browserConn) Read(ctx context.Context) (websocket.MessageType, []byte, error) {
	select {
	case r, ok := <-b.reads:
		if !ok {
			return 0, nil, net.ErrClosed
		}
		return r.typ, r.p, r.err
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	case <-b.ctx.Done():
		return 0, nil, net.ErrClosed
	}
}

func (b *browserConn) buffered() int {
	if b.ws.IsUndefined() {
		return 0
	}
	return b.ws.Get("bufferedAmount").Int()
}

func (b *browserConn) Write(ctx context.Context, typ websocket.MessageType, p []byte) error {
	for b.buffered() > browserHighWater {
		t := time.NewTimer(browserPoll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-b.ctx.Done():
			t.Stop()
			return net.ErrClosed
		}
	}
	return b.c.Write(ctx, typ, p)
}

// browserCloseCode maps a close code to one a browser accepts.
func browserCloseCode(code websocket.StatusCode) websocket.StatusCode {
	if code == websocket.StatusNormalClosure || (code >= 3000 && code <= 4999) {
		return code
	}
	if code > 1000 && code < 2000 {
		return 4000 + (code - 1000)
	}
	return websocket.StatusNormalClosure
}

// Close runs the close handshake, waiting for it up to browserCloseWait.
func (b *browserConn) Close(code websocket.StatusCode, reason string) error {
	done := make(chan error, 1)
	go func() { done <- b.c.Close(browserCloseCode(code), reason) }()
	t := time.NewTimer(browserCloseWait)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		b.cancel()
		return errors.New("wsrpc: close handshake timed out")
	}
}

// CloseNow starts closing (status 1000) and unblocks Read and Write without waiting.
func (b *browserConn) CloseNow() error {
	b.cancel()
	go func() { _ = b.c.Close(websocket.StatusNormalClosure, "") }()
	return nil
}

func (b *browserConn) Subprotocol() string { return b.c.Subprotocol() }
