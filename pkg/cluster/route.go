package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// Target names the connection(s) a routed Call or Notify goes to.
type Target struct {
	channel    string
	key, value string
}

// Channel targets the connection whose id (wsrpc.Channel.ID on the server) is id.
func Channel(id string) Target { return Target{channel: id} }

// Key targets the connections whose value of key (one of Config.Keys, or bound with
// Hub.Bind) is value, e.g. Key("user", "42"). A Call goes to one of them (one of this
// node's when there is one); a Notify goes to every one of them on every node.
func Key(key, value string) Target { return Target{key: key, value: value} }

func (t Target) String() string {
	if t.channel != "" {
		return "channel " + t.channel
	}
	return t.key + "=" + t.value
}

func (t Target) valid() bool { return t.channel != "" || (t.key != "" && t.value != "") }

func (h *Hub) targetSubject(t Target, call bool) string {
	switch {
	case t.channel != "":
		return h.subject("c", t.channel)
	case call:
		return h.subject("kq", token(t.key), token(t.value))
	default:
		return h.subject("ka", token(t.key), token(t.value))
	}
}

// localFor returns a live connection of this node that t names, or nil.
func (h *Hub) localFor(t Target) *wsrpc.Channel {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t.channel != "" {
		if l := h.locals[t.channel]; l != nil {
			return l.ch
		}
		return nil
	}
	for l := range h.byKey[t.key+"\x00"+t.value] {
		return l.ch
	}
	return nil
}

// Call calls method on the connection t names, wherever in the cluster it is, and
// decodes the result into result (a pointer, or nil to discard it). params are as for
// wsrpc.Channel.Call.
//
// Errors: ErrNoTarget when no node holds such a connection (fast: NATS reports that no
// one listens); the connection's *wsrpc.Error answer as *wsrpc.Error; wsrpc.ErrTimeout
// (also matching context.DeadlineExceeded) when ctx, or Config.CallTimeout if ctx has no
// deadline, expires; ctx.Err() when ctx is cancelled (the serving node is told to give
// up too); wsrpc.ErrConnectionLost when the connection ended while the call waited.
// As with wsrpc calls, after a timeout or a lost connection the method may have run.
func (h *Hub) Call(ctx context.Context, t Target, method string, params any, result any) error {
	raw, err := h.route(ctx, t, method, params, true)
	if err != nil {
		return err
	}
	if result == nil {
		return nil
	}
	if len(raw) == 0 {
		raw = []byte("null")
	}
	if err := json.Unmarshal(raw, result); err != nil {
		return fmt.Errorf("cluster: decoding result of %s: %w", method, err)
	}
	return nil
}

// Notify sends a notification (no answer) to the connection(s) t names: one connection
// for a Channel target, every one of them for a Key target. It returns once one node has
// written it to a connection, or ErrNoTarget when none holds such a connection.
func (h *Hub) Notify(ctx context.Context, t Target, method string, params any) error {
	_, err := h.route(ctx, t, method, params, false)
	return err
}

func (h *Hub) route(ctx context.Context, t Target, method string, params any, call bool) (json.RawMessage, error) {
	if !t.valid() || method == "" {
		return nil, fmt.Errorf("%w: target %q, method %q", ErrInvalidTarget, t, method)
	}
	if h.isClosed() {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxErr(err, method)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.cfg.CallTimeout)
		defer cancel()
	}
	raw, err := marshalParams(params)
	if err != nil {
		return nil, err
	}
	// Fast path: the connection is on this node.
	if call || t.channel != "" {
		if ch := h.localFor(t); ch != nil {
			res, err := serveLocal(ctx, ch, method, raw, call)
			if err == nil || !errors.Is(err, wsrpc.ErrClosed) || errors.Is(err, wsrpc.ErrConnectionLost) {
				return res, wrapLocal(err, ctx, method)
			}
			// It closed before anything was sent: another connection may still match.
		}
	}
	dl, _ := ctx.Deadline()
	id := randomID()
	msg := nats.NewMsg(h.targetSubject(t, call))
	msg.Header.Set(hdrMethod, method)
	msg.Header.Set(hdrCallID, id)
	msg.Header.Set(hdrTimeout, strconv.FormatInt(max(time.Until(dl).Milliseconds(), 1), 10))
	if call {
		msg.Header.Set(hdrKind, "call")
	} else {
		msg.Header.Set(hdrKind, "notify")
	}
	msg.Data = raw
	reply, err := h.nc.RequestMsgWithContext(ctx, msg)
	if err != nil {
		switch {
		case errors.Is(err, nats.ErrNoResponders):
			return nil, fmt.Errorf("%w: %s", ErrNoTarget, t)
		case errors.Is(err, context.Canceled):
			h.cancelRemote(id)
			return nil, fmt.Errorf("cluster: %s %s: %w", method, t, context.Canceled)
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
			return nil, fmt.Errorf("cluster: %s %s: no answer in time: %w", method, t, wsrpc.ErrTimeout)
		case errors.Is(err, nats.ErrMaxPayload):
			return nil, fmt.Errorf("cluster: %s: %w: %v", method, wsrpc.ErrMessageTooLarge, err)
		case errors.Is(err, nats.ErrConnectionClosed):
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("cluster: %s %s: %w", method, t, err)
	}
	if k := reply.Header.Get(hdrErr); k != "" {
		return nil, decodeErr(k, reply.Header.Get(hdrNode), reply.Data)
	}
	return reply.Data, nil
}

func wrapLocal(err error, ctx context.Context, method string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, wsrpc.ErrClosed) && !errors.Is(err, wsrpc.ErrConnectionLost) {
		return fmt.Errorf("%w: %v", ErrNoTarget, err)
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return fmt.Errorf("cluster: %s: %w", method, context.Canceled)
	}
	return err
}

func ctxErr(err error, method string) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("cluster: %s: %w", method, wsrpc.ErrTimeout)
	}
	return fmt.Errorf("cluster: %s: %w", method, err)
}

// serveLocal performs a call or notification on a connection of this node.
func serveLocal(ctx context.Context, ch *wsrpc.Channel, method string, params json.RawMessage, call bool) (json.RawMessage, error) {
	if !call {
		return nil, ch.Notify(ctx, method, params)
	}
	var out json.RawMessage
	if err := ch.Call(ctx, method, params, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// routeLoop serves the messages of the per-connection subscriptions.
func (h *Hub) routeLoop() {
	defer h.wg.Done()
	for m := range h.routed {
		h.mu.Lock()
		l := h.owners[m.Sub]
		h.mu.Unlock()
		if l == nil { // the connection ended after NATS routed the message here
			h.respondErr(m, fmt.Errorf("%w: not on this node", wsrpc.ErrClosed))
			continue
		}
		if !h.spawn(func() { h.serve(m, l.ch) }) {
			h.respondErr(m, ErrClosed)
		}
	}
}

func (h *Hub) serve(m *nats.Msg, ch *wsrpc.Channel) {
	ms, _ := strconv.ParseInt(m.Header.Get(hdrTimeout), 10, 64)
	if ms <= 0 {
		ms = h.cfg.CallTimeout.Milliseconds()
	}
	ctx, cancel := context.WithTimeout(h.ctx, time.Duration(ms)*time.Millisecond)
	defer cancel()
	id := m.Header.Get(hdrCallID)
	if id != "" {
		h.mu.Lock()
		h.inflight[id] = cancel
		h.mu.Unlock()
		defer func() {
			h.mu.Lock()
			delete(h.inflight, id)
			h.mu.Unlock()
		}()
	}
	res, err := serveLocal(ctx, ch, m.Header.Get(hdrMethod), m.Data, m.Header.Get(hdrKind) == "call")
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) && h.ctx.Err() == nil {
			return // the caller cancelled (onCancel): nobody waits for the answer
		}
		h.respondErr(m, err)
		return
	}
	reply := nats.NewMsg(m.Reply)
	reply.Header.Set(hdrNode, h.node)
	reply.Data = res
	if err := m.RespondMsg(reply); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		h.log.Warn("cluster: reply failed", "method", m.Header.Get(hdrMethod), "err", err)
	}
}

func (h *Hub) respondErr(m *nats.Msg, err error) {
	if m.Reply == "" {
		return
	}
	kind, body := encodeErr(err)
	reply := nats.NewMsg(m.Reply)
	reply.Header.Set(hdrErr, kind)
	reply.Header.Set(hdrNode, h.node)
	reply.Data = body
	_ = m.RespondMsg(reply)
}

// cancelRemote tells the node serving call id that its caller gave up.
func (h *Hub) cancelRemote(id string) {
	msg := nats.NewMsg(h.subject("cancel"))
	msg.Header.Set(hdrCallID, id)
	_ = h.nc.PublishMsg(msg)
}

func (h *Hub) onCancel(m *nats.Msg) {
	id := m.Header.Get(hdrCallID)
	h.mu.Lock()
	cancel := h.inflight[id]
	h.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func (h *Hub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// marshalParams encodes params for the wire: nil for none, a JSON object or array.
func marshalParams(params any) (json.RawMessage, error) {
	switch p := params.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		if len(p) == 0 {
			return nil, nil
		}
		if !json.Valid(p) {
			return nil, fmt.Errorf("cluster: params: %w", wsrpc.ErrInvalidArgument)
		}
		return p, nil
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("cluster: encoding params: %w: %v", wsrpc.ErrInvalidArgument, err)
	}
	if string(raw) == "null" {
		return nil, nil
	}
	return raw, nil
}
