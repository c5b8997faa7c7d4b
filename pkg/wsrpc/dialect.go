package wsrpc

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wsrpc/wsrpc/pkg/wsrpc/internal/wire"
)

// Dialect selects the envelope a connection speaks.
type Dialect int

const (
	// DialectJSONRPC is JSON-RPC 2.0 as fastapi-ws-rpc 1.x speaks it (the default).
	DialectJSONRPC Dialect = iota
	// DialectLegacy is the envelope of the older fastapi_websocket_rpc (0.1.x) and of
	// fastapi-websocket-pubsub: {"request": {...}, "response": {...}}. It has no error
	// replies, no notifications and named arguments only: a call the peer cannot answer
	// only ends by its timeout.
	DialectLegacy
	// DialectAuto (servers) pins each connection's dialect: JSON-RPC when the client
	// negotiated a subprotocol, otherwise by the first message it sends (PROTOCOL.md §14.5).
	// Until then, messages the server sends use the legacy envelope.
	DialectAuto
)

func (d Dialect) String() string {
	switch d {
	case DialectJSONRPC:
		return "jsonrpc"
	case DialectLegacy:
		return "legacy"
	case DialectAuto:
		return "auto"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// WithDialect sets the dialect (client: the one it speaks; server: also DialectAuto).
func WithDialect(d Dialect) Option { return func(c *Config) { c.Dialect = d } }

const dialectUnpinned = -1

// initDialect pins the channel's dialect at creation where it is known.
func (c *Channel) initDialect() {
	switch {
	case c.cfg.Dialect == DialectAuto && c.subprotocol == "":
		c.dialect.Store(dialectUnpinned)
	case c.cfg.Dialect == DialectLegacy:
		c.dialect.Store(int32(DialectLegacy))
	default:
		c.dialect.Store(int32(DialectJSONRPC))
	}
}

// Dialect returns the dialect the channel speaks (DialectAuto while not yet pinned).
func (c *Channel) Dialect() Dialect {
	d := c.dialect.Load()
	if d == dialectUnpinned {
		return DialectAuto
	}
	return Dialect(d)
}

func (c *Channel) legacy() bool {
	d := c.dialect.Load()
	return d == int32(DialectLegacy) || d == dialectUnpinned
}

// pin fixes an unpinned dialect from the first message received.
func (c *Channel) pin(kind wire.Kind) {
	if c.dialect.Load() != dialectUnpinned {
		return
	}
	d := DialectJSONRPC
	if kind == wire.KindLegacy {
		d = DialectLegacy
	}
	if c.dialect.CompareAndSwap(dialectUnpinned, int32(d)) {
		c.cfg.Logger.Debug("wsrpc: dialect pinned", "channel", c.id, "dialect", d)
	}
}

// handleLegacy processes a legacy envelope: the request first, then the response.
func (c *Channel) handleLegacy(m *wire.Message) {
	req, resp, err := wire.ParseLegacy(&m.Incoming)
	if err != nil {
		// Legacy peers log and ignore unparseable envelopes; so do we.
		c.reportError(fmt.Errorf("wsrpc: %w", err))
		return
	}
	if req != nil {
		c.dispatchLegacy(req)
	}
	if resp != nil {
		key := wire.IDKey(resp.CallID)
		if len(key) == 0 {
			return
		}
		result := []byte(resp.Result)
		if result == nil {
			result = []byte("null")
		}
		c.completeKey(key, result, nil, string(resp.ResultType), 0)
	}
}

func (c *Channel) dispatchLegacy(req *wire.LegacyRequest) {
	name := req.Method
	if len(name) > 0 && name[0] == '_' && name != "_ping_" && name != "_get_channel_id_" {
		c.cfg.Logger.Debug("wsrpc: legacy call to a private method ignored", "channel", c.id, "method", name)
		return
	}
	var id []byte
	if req.CallID != nil {
		id = append([]byte(nil), req.CallID...)
	}
	args := []byte(req.Arguments)
	if args == nil {
		args = []byte("{}")
	}
	c.dispatch(request{id: id, name: name, params: args, legacy: true}) // msg 0: raw params are copied
}

// legacyReply encodes the answer to a legacy request, or nil when the dialect has no way to
// say it (errors: the caller will time out).
func (c *Channel) legacyReply(id []byte, name string, result []byte, err error) []byte {
	if err != nil {
		if !errors.Is(err, ErrNoResponse) {
			c.cfg.Logger.Warn("wsrpc: legacy call failed; the dialect cannot report errors", "channel", c.id, "method", name, "err", err)
		}
		return nil
	}
	if id == nil {
		id = []byte("null")
	}
	rt := wire.ResultType(result)
	if m := c.methods.lookup(name); m != nil && m.resultType != "" {
		rt = m.resultType
	}
	return wire.EncodeLegacyResponse(result, rt, id)
}

// encodeRequest encodes an outgoing request (id nil = notification) in the channel's dialect.
func (c *Channel) encodeRequest(dst, id []byte, method string, params []byte) ([]byte, error) {
	if !c.legacy() {
		return wire.AppendRequest(dst, id, method, params), nil
	}
	if wire.FirstByte(params) == '[' {
		return nil, fmt.Errorf("wsrpc: the legacy dialect takes named params only (a JSON object)")
	}
	return wire.EncodeLegacyRequest(id, method, params), nil
}

// pingMethod is the built-in ping of the channel's dialect.
func (c *Channel) pingMethod() string {
	if c.legacy() {
		return "_ping_"
	}
	return "ping"
}

func legacyResponseObject(id string, p *Pending) json.RawMessage {
	idRaw, _ := json.Marshal(id)
	result := p.result
	if result == nil {
		result = []byte("null")
	}
	rt := p.resultType
	if rt == "" {
		rt = `"` + wire.ResultType(result) + `"`
	}
	return json.RawMessage(`{"result":` + string(result) + `,"result_type":` + rt + `,"call_id":` + string(idRaw) + `}`)
}
