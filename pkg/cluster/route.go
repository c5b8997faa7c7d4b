package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
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

// interestSubject is the subject a connection of any node listens on for t: its channel
// id, or its key (queue group: one answer). It is only used to locate a target that
// presence does not list yet.
func (h *Hub) interestSubject(t Target) string {
	if t.channel != "" {
		return h.subject("c", t.channel)
	}
	return h.subject("kq", token(t.key), token(t.value))
}

// nodeSubject is the subject of one incarnation of one node: routed calls go there.
func (h *Hub) nodeSubject(node, inc string) string {
	return h.subject("n", token(node), inc)
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
// The call goes to a node that this node's presence lists as holding the target (one of
// this node's connections when there is one), never to a node declared lost; a target
// presence does not list yet (it has just connected) is looked up through NATS first.
//
// Errors: ErrNoTarget when no node holds such a connection (fast: NATS reports that no
// one listens); the connection's *wsrpc.Error answer as *wsrpc.Error; wsrpc.ErrTimeout
// (also matching context.DeadlineExceeded) when ctx, or Config.CallTimeout if ctx has no
// deadline, expires; ctx.Err() when ctx is cancelled (the serving node is told to give
// up too); wsrpc.ErrConnectionLost when the connection ended while the call waited;
// ErrNodeLost (also matching wsrpc.ErrConnectionLost) at once when the serving node is
// declared lost while the call waits, or when the node could not be reached within
// Config.ReachTimeout; ErrUnavailable when NATS is down (Config.WaitDuringOutage).
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
// for a Channel target, every one of them for a Key target (on every node presence lists
// as holding one). It returns once one node has written it to a connection, or
// ErrNoTarget when none holds such a connection.
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
	if call || t.channel != "" {
		// Fast path: the connection is on this node.
		if ch := h.localFor(t); ch != nil {
			res, err := serveLocal(ctx, ch, method, raw, call)
			if err == nil || !errors.Is(err, wsrpc.ErrClosed) || errors.Is(err, wsrpc.ErrConnectionLost) {
				return res, wrapLocal(err, ctx, method)
			}
			// It closed before anything was sent: another connection may still match.
		}
		return h.routeRemote(ctx, t, method, raw, call)
	}
	// A key notification: every holder, on this node and on the others.
	if n := h.notifyLocal(ctx, t, method, raw); n > 0 {
		if holders := h.holders(t); len(holders) > 0 && h.awaitNATS(ctx) == nil {
			_ = h.notifyNodes(ctx, holders, t, method, raw) // delivered here already
		}
		return nil, nil
	}
	return h.routeRemote(ctx, t, method, raw, call)
}

// routeRemote sends a call or notification to the other nodes holding t: one of them
// for a call, every one for a key notification.
func (h *Hub) routeRemote(ctx context.Context, t Target, method string, raw json.RawMessage, call bool) (json.RawMessage, error) {
	if err := h.awaitNATS(ctx); err != nil {
		return nil, err
	}
	holders := h.holders(t)
	if len(holders) > 0 {
		if !call && t.channel == "" {
			return nil, h.notifyNodes(ctx, holders, t, method, raw)
		}
		n := holders[mrand.IntN(len(holders))]
		res, err := h.send(ctx, n, t, method, raw, call)
		if !errors.Is(err, errAbsent) {
			return res, err
		}
		// Presence was behind (the connection moved or ended): look it up.
	}
	n, err := h.locate(ctx, t, method)
	if err != nil {
		return nil, err
	}
	res, err := h.send(ctx, n, t, method, raw, call)
	if errors.Is(err, errAbsent) {
		return nil, fmt.Errorf("%w: %s", ErrNoTarget, t)
	}
	return res, err
}

// notifyNodes sends a key notification to each node at once; it succeeds when one of
// them wrote it to a connection.
func (h *Hub) notifyNodes(ctx context.Context, nodes []incarnation, t Target, method string, raw json.RawMessage) error {
	errs := make(chan error, len(nodes))
	for _, n := range nodes {
		go func() {
			_, err := h.send(ctx, n, t, method, raw, false)
			errs <- err
		}()
	}
	var first error
	ok := false
	for range nodes {
		err := <-errs
		if err == nil {
			ok = true
		} else if first == nil && !errors.Is(err, errAbsent) {
			first = err
		}
	}
	switch {
	case ok:
		return nil
	case first != nil:
		return first
	}
	return fmt.Errorf("%w: %s", ErrNoTarget, t)
}

// errAbsent: the node asked holds no such connection (nothing was delivered).
var errAbsent = errors.New("cluster: not on that node")

// send routes one call or notification to one node's incarnation and waits for its
// answer. It ends at once with ErrNodeLost when that node is declared lost meanwhile.
func (h *Hub) send(ctx context.Context, n incarnation, t Target, method string, raw json.RawMessage, call bool) (json.RawMessage, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	oc := &outCall{node: n, cancel: cancel}
	if !h.track(oc) {
		return nil, fmt.Errorf("%w: %s (node %s)", ErrNodeLost, t, n.node)
	}
	defer h.untrack(oc)

	dl, _ := ctx.Deadline()
	id := randomID()
	msg := nats.NewMsg(h.nodeSubject(n.node, n.inc))
	msg.Header.Set(hdrMethod, method)
	msg.Header.Set(hdrCallID, id)
	msg.Header.Set(hdrTimeout, strconv.FormatInt(max(time.Until(dl).Milliseconds(), 1), 10))
	if t.channel != "" {
		msg.Header.Set(hdrChannel, t.channel)
	} else {
		msg.Header.Set(hdrKey, t.key)
		msg.Header.Set(hdrValue, t.value)
	}
	if call {
		msg.Header.Set(hdrKind, "call")
	} else {
		msg.Header.Set(hdrKind, "notify")
	}
	msg.Data = raw
	reply, err := h.nc.RequestMsgWithContext(ctx, msg)
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, ErrNodeLost) {
			h.cancelRemote(id) // for when it wakes
			return nil, fmt.Errorf("%w: %s %s (node %s)", ErrNodeLost, method, t, n.node)
		}
		switch {
		case errors.Is(err, nats.ErrNoResponders):
			// That incarnation is gone from NATS: nothing was delivered.
			return nil, errAbsent
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
	switch reply.Header.Get(hdrRefused) {
	case "absent":
		return nil, errAbsent
	case "lost":
		return nil, fmt.Errorf("%w: %s %s: node %s refused it (it was declared lost)", ErrNodeLost, method, t, n.node)
	}
	if k := reply.Header.Get(hdrErr); k != "" {
		return nil, decodeErr(k, reply.Header.Get(hdrNode), reply.Data)
	}
	return reply.Data, nil
}

// locate asks, through the interest subjects of the connections, which node holds t:
// for targets presence does not list yet. It waits at most Config.ReachTimeout.
func (h *Hub) locate(ctx context.Context, t Target, method string) (incarnation, error) {
	lctx, cancel := context.WithTimeout(ctx, h.cfg.ReachTimeout)
	defer cancel()
	msg := nats.NewMsg(h.interestSubject(t))
	msg.Header.Set(hdrKind, "locate")
	reply, err := h.nc.RequestMsgWithContext(lctx, msg)
	if err != nil {
		switch {
		case errors.Is(err, nats.ErrNoResponders):
			return incarnation{}, fmt.Errorf("%w: %s", ErrNoTarget, t)
		case ctx.Err() != nil:
			if errors.Is(ctx.Err(), context.Canceled) {
				return incarnation{}, fmt.Errorf("cluster: %s %s: %w", method, t, context.Canceled)
			}
			return incarnation{}, fmt.Errorf("cluster: %s %s: no answer in time: %w", method, t, wsrpc.ErrTimeout)
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
			return incarnation{}, fmt.Errorf("%w: %s %s: the node holding it did not answer within %v", ErrNodeLost, method, t, h.cfg.ReachTimeout)
		case errors.Is(err, nats.ErrConnectionClosed):
			return incarnation{}, ErrClosed
		}
		return incarnation{}, fmt.Errorf("cluster: %s %s: %w", method, t, err)
	}
	n := incarnation{node: reply.Header.Get(hdrNode), inc: reply.Header.Get(hdrInc)}
	if reply.Header.Get(hdrRefused) == "lost" || h.isBuried(n) {
		return incarnation{}, fmt.Errorf("%w: %s %s (node %s)", ErrNodeLost, method, t, n.node)
	}
	return n, nil
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

// routeLoop answers the locate requests of the per-connection subscriptions.
func (h *Hub) routeLoop() {
	defer h.wg.Done()
	for m := range h.routed {
		h.mu.Lock()
		l := h.owners[m.Sub]
		h.mu.Unlock()
		reply := nats.NewMsg(m.Reply)
		reply.Header.Set(hdrNode, h.node)
		reply.Header.Set(hdrInc, h.incarnation())
		switch {
		case h.refusing():
			reply.Header.Set(hdrRefused, "lost")
		case l == nil: // the connection ended after NATS routed the message here
			reply.Header.Set(hdrRefused, "absent")
		}
		if m.Reply != "" {
			_ = m.RespondMsg(reply)
		}
	}
}

// onNodeMsg serves a call or notification routed to this node.
func (h *Hub) onNodeMsg(m *nats.Msg) {
	if h.refusing() {
		h.refuse(m, "lost")
		return
	}
	if !h.spawn(func() { h.serve(m) }) {
		h.respondErr(m, ErrClosed)
	}
}

func (h *Hub) refuse(m *nats.Msg, why string) {
	if m.Reply == "" {
		return
	}
	reply := nats.NewMsg(m.Reply)
	reply.Header.Set(hdrNode, h.node)
	reply.Header.Set(hdrRefused, why)
	_ = m.RespondMsg(reply)
}

func (h *Hub) serve(m *nats.Msg) {
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
	method, call := m.Header.Get(hdrMethod), m.Header.Get(hdrKind) == "call"
	var t Target
	if c := m.Header.Get(hdrChannel); c != "" {
		t = Channel(c)
	} else {
		t = Key(m.Header.Get(hdrKey), m.Header.Get(hdrValue))
	}
	var res json.RawMessage
	var err error
	if !call && t.channel == "" {
		if h.notifyLocal(ctx, t, method, m.Data) == 0 {
			err = errAbsent
		}
	} else if ch := h.localFor(t); ch == nil {
		err = errAbsent
	} else {
		res, err = serveLocal(ctx, ch, method, m.Data, call)
		if err != nil && errors.Is(err, wsrpc.ErrClosed) && !errors.Is(err, wsrpc.ErrConnectionLost) {
			err = errAbsent // it closed before anything was sent
		}
	}
	if errors.Is(err, errAbsent) {
		h.refuse(m, "absent")
		return
	}
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
		h.log.Warn("cluster: reply failed", "method", method, "err", err)
	}
}

// notifyLocal writes a notification to every connection of this node with t's key and
// returns how many took it.
func (h *Hub) notifyLocal(ctx context.Context, t Target, method string, raw json.RawMessage) int {
	h.mu.Lock()
	var chs []*wsrpc.Channel
	for l := range h.byKey[t.key+"\x00"+t.value] {
		chs = append(chs, l.ch)
	}
	h.mu.Unlock()
	n := 0
	for _, ch := range chs {
		if ch.Notify(ctx, method, raw) == nil {
			n++
		}
	}
	return n
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
