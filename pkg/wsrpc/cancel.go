package wsrpc

import (
	"context"
	"encoding/json"
	"slices"
	"unsafe"

	"github.com/wsrpc/wsrpc/pkg/wsrpc/internal/wire"
)

// Cancellation on the wire, between wsrpc peers only (the spec's EXTENSIONS.md).
//
// A wsrpc client offers the WebSocket subprotocol ExtensionSubprotocol just before
// "jsonrpc2.0"; a wsrpc server selects it, a Python server answers "jsonrpc2.0" (it always
// answers its own first entry) and browsers can offer it too. On a connection where it was
// selected, either side whose caller stops waiting for an answer (its context cancelled or
// past its deadline, or Config.DefaultTimeout) sends the notification
//
//	{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":<the call's id>}}
//
// (LSP's convention), and the peer cancels the context of the handler running that
// request. Nothing of this is ever sent on a connection that did not select the token.

// ExtensionSubprotocol is the WebSocket subprotocol by which two wsrpc peers agree on the
// extensions Python peers do not have: cancellation on the wire (CancelMethod).
const ExtensionSubprotocol = "jsonrpc2.0+wsrpc"

// CancelMethod is the notification that cancels a request on a peer that agreed to the
// extensions; its params are {"id": <the request's id>}.
const CancelMethod = "$/cancelRequest"

// cancelQueueSize bounds the cancellations waiting to be sent on a connection; past it
// they are dropped (cancellation is advisory: the caller has stopped waiting anyway).
const cancelQueueSize = 256

// negotiated is the list of subprotocols offered (clients) or accepted (servers): the
// configured ones, with ExtensionSubprotocol just before "jsonrpc2.0" unless
// Config.NoExtensions or the legacy dialect.
func (c *Config) negotiated() []string {
	list := c.subprotocols()
	i := slices.Index(list, DefaultSubprotocol)
	if c.NoExtensions || c.Dialect == DialectLegacy || i < 0 || slices.Contains(list, ExtensionSubprotocol) {
		return list
	}
	return slices.Insert(slices.Clone(list), i, ExtensionSubprotocol)
}

// Extended reports whether the peer agreed to the wsrpc extensions at the handshake
// (ExtensionSubprotocol): it is a wsrpc peer, and calls cancelled here are cancelled there.
func (c *Channel) Extended() bool { return c.ext }

// track makes the handler context h of request id cancellable by the peer (see
// handlerCtx.cancellable); untrack must be called when the handler is done. The reader
// calls it before it hands the request over, so that a cancellation read right after its
// request finds it.
func (c *Channel) track(h *handlerCtx, id []byte) {
	key := wire.IDKey(id)
	// The key shares the message's memory, which is never modified (each message is read
	// into a buffer of its own) and outlives the entry: no copy.
	h.key = unsafe.String(unsafe.SliceData(key), len(key))
	h.cancellable = true
	c.imu.Lock()
	if c.inflight == nil {
		c.inflight = map[string]*handlerCtx{}
	}
	c.inflight[h.key] = h
	c.imu.Unlock()
}

func (c *Channel) untrack(h *handlerCtx) {
	c.imu.Lock()
	if c.inflight[h.key] == h {
		delete(c.inflight, h.key)
	}
	c.imu.Unlock()
	h.cancel(context.Canceled)
}

// A cancellable handler context (extended connections) is cancelled by the peer's
// CancelMethod, when its handler returns, or with the channel's context. It is cheap when
// nobody looks: its Done channel is made, and the channel's context watched
// (context.AfterFunc), only when Done is first called.

func (h *handlerCtx) Done() <-chan struct{} {
	if !h.cancellable {
		return h.Context.Done()
	}
	h.cmu.Lock()
	defer h.cmu.Unlock()
	if h.done == nil {
		h.done = make(chan struct{})
		if h.err == nil {
			if err := h.Context.Err(); err != nil {
				h.err = err
			} else {
				parent := h.Context
				h.stop = context.AfterFunc(parent, func() { h.cancel(parent.Err()) })
			}
		}
		if h.err != nil {
			close(h.done)
		}
	}
	return h.done
}

func (h *handlerCtx) Err() error {
	if !h.cancellable {
		return h.Context.Err()
	}
	h.cmu.Lock()
	defer h.cmu.Unlock()
	if h.err == nil {
		if err := h.Context.Err(); err != nil {
			h.cancelLocked(err)
		}
	}
	return h.err
}

// cancel cancels a cancellable handler context with err (the first cancellation wins).
func (h *handlerCtx) cancel(err error) {
	h.cmu.Lock()
	h.cancelLocked(err)
	h.cmu.Unlock()
}

func (h *handlerCtx) cancelLocked(err error) {
	if h.err != nil {
		return
	}
	h.err = err
	if h.done != nil {
		close(h.done)
	}
	if h.stop != nil {
		h.stop()
	}
}

// cancelRequested handles a cancellation notification from the peer, on the reader; it
// reports false, doing nothing, for any other message and on connections without the
// extensions (there "$/cancelRequest" is just an unknown method).
func (c *Channel) cancelRequested(m *wire.Message) bool {
	if !c.ext || m.ID != nil || m.Method != CancelMethod {
		return false
	}
	var p struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(m.Params, &p) != nil {
		return true
	}
	key := wire.IDKey(p.ID)
	if len(key) == 0 {
		return true
	}
	c.imu.Lock()
	e := c.inflight[string(key)]
	c.imu.Unlock()
	if e != nil {
		c.cfg.Logger.Debug("wsrpc: request cancelled by the peer", "channel", c.id, "id", string(key))
		e.cancel(context.Canceled)
	}
	return true
}

// sendCancel asks the peer to cancel the call p, which its caller has stopped waiting for
// (extended connections only; never blocks).
func (c *Channel) sendCancel(p *Pending) {
	if !c.ext {
		return
	}
	id := p.idBuf[:]
	if p.idBuf[0] != '"' { // a custom id
		id, _ = json.Marshal(p.key)
	}
	params := make([]byte, 0, len(id)+7)
	params = append(append(append(params, `{"id":`...), id...), '}')
	select {
	case c.cancelQ <- wire.AppendRequest(nil, nil, CancelMethod, params):
	default:
		c.cfg.Logger.Debug("wsrpc: cancellation dropped, too many waiting", "channel", c.id, "id", p.key)
	}
}

// cancelSender sends the queued cancellations until the channel closes.
func (c *Channel) cancelSender() {
	for {
		select {
		case msg := <-c.cancelQ:
			if err := c.send(msg); err != nil {
				c.cfg.Logger.Debug("wsrpc: cancellation not sent", "channel", c.id, "err", err)
			}
		case <-c.done:
			return
		}
	}
}
