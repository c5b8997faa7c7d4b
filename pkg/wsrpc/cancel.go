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

// inflight is a request being handled on an extended connection.
type inflight struct {
	key    string
	ctx    context.Context // the handler's context, which the peer may cancel
	cancel context.CancelFunc
}

// track makes the handler context of request id cancellable by the peer; untrack must be
// called when the handler is done. The reader calls it before it hands the request over,
// so that a cancellation read right after its request finds it.
func (c *Channel) track(id []byte) *inflight {
	key := wire.IDKey(id)
	// The key shares the message's memory, which is never modified (each message is read
	// into a buffer of its own) and outlives the entry: no copy.
	e := &inflight{key: unsafe.String(unsafe.SliceData(key), len(key))}
	e.ctx, e.cancel = context.WithCancel(c.ctx)
	c.imu.Lock()
	if c.inflight == nil {
		c.inflight = map[string]*inflight{}
	}
	c.inflight[e.key] = e
	c.imu.Unlock()
	return e
}

func (c *Channel) untrack(e *inflight) {
	c.imu.Lock()
	if c.inflight[e.key] == e {
		delete(c.inflight, e.key)
	}
	c.imu.Unlock()
	e.cancel()
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
		e.cancel()
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
