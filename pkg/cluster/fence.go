package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// Fencing. A node declared lost (it missed three heartbeats: crashed, frozen, cut off)
// gets nothing routed to it any more: calls go to the node subject of an incarnation
// that presence lists as alive, calls in flight to it end at once with ErrNodeLost, and
// a located target on a buried incarnation is refused. The lost node itself, when it
// wakes (its presence loop finds it missed its own heartbeats, or another node tells it
// that it was declared lost), refuses routed calls, closes its connections so that
// their clients move to other nodes, and comes back as a new incarnation. Missing its own
// heartbeats alone (a freeze, or a stall under load) only suspends serving for one loss
// limit: if the others did declare it lost, its next heartbeat tells them, and they tell
// it; if not, it carries on.

// outCall is a routed call or notification in flight from this node to another.
type outCall struct {
	node   incarnation
	cancel context.CancelCauseFunc
}

// track registers a call in flight; false when its node is already buried.
func (h *Hub) track(oc *outCall) bool {
	h.pres.mu.Lock()
	defer h.pres.mu.Unlock()
	if _, dead := h.pres.buried[oc.node]; dead {
		return false
	}
	h.cmu.Lock()
	h.calls[oc] = struct{}{}
	h.cmu.Unlock()
	return true
}

func (h *Hub) untrack(oc *outCall) {
	h.cmu.Lock()
	delete(h.calls, oc)
	h.cmu.Unlock()
}

// failCallsLocked ends the calls in flight to n with ErrNodeLost (h.pres.mu held).
func (h *Hub) failCallsLocked(n incarnation) {
	h.cmu.Lock()
	defer h.cmu.Unlock()
	for oc := range h.calls {
		if oc.node == n {
			oc.cancel(ErrNodeLost)
		}
	}
}

func (h *Hub) isBuried(n incarnation) bool {
	h.pres.mu.Lock()
	defer h.pres.mu.Unlock()
	_, dead := h.pres.buried[n]
	return dead
}

// holders returns the other nodes' incarnations that presence lists as holding t.
func (h *Hub) holders(t Target) []incarnation {
	p := &h.pres
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []incarnation
	for id, v := range p.nodes {
		if id == h.node {
			continue
		}
		for _, e := range v.entries {
			if (t.channel != "" && e.ChannelID == t.channel) || (t.channel == "" && e.Keys[t.key] == t.value) {
				out = append(out, incarnation{id, v.inc})
				break
			}
		}
	}
	return out
}

func (h *Hub) incarnation() string {
	h.pres.mu.Lock()
	defer h.pres.mu.Unlock()
	return h.pres.inc
}

func (h *Hub) lostLimit() time.Duration { return 3 * h.cfg.HeartbeatInterval }

// tick records that the presence loop ran; a gap longer than the loss limit means this
// node was frozen (or starved) long enough for the others to declare it lost: it stops
// serving routed calls until they had the time to tell it so (onFenced), or until NATS
// has been up for a loss limit since.
func (h *Hub) tick() {
	now := time.Since(h.t0)
	if last := time.Duration(h.lastTick.Load()); now-last > h.lostLimit() {
		h.log.Warn("cluster: this node missed its own heartbeats; not serving until the others confirm it is alive", "gap", (now - last).Round(time.Millisecond))
		h.suspectUntil.Store(int64(now + h.lostLimit()))
		// It did not hear the others either: give them time before judging them.
		h.reapAfter.Store(int64(now + 2*h.lostLimit()))
	} else if !h.nc.IsConnected() {
		if until := time.Duration(h.suspectUntil.Load()); until > now {
			h.suspectUntil.Store(int64(now + h.lostLimit()))
		}
		h.reapAfter.Store(int64(now + 2*h.lostLimit()))
	}
	h.lastTick.Store(int64(now))
}

// mayJudge reports whether this node may declare others lost: not while it is cut off
// from NATS or has just been (it cannot hear them; a NATS blip must not make every node
// report every other's connections gone), nor right after it missed its own heartbeats,
// nor while its own heartbeats are not coming back through NATS within two intervals: a
// NATS server (or this node's side of it) stalled under load delays every heartbeat
// alike, and the others' silence then says nothing about them. (Before, such a stall
// made every node declare every other lost, and each fenced itself and closed all its
// connections.)
func (h *Hub) mayJudge() bool {
	now := time.Since(h.t0)
	echoed := h.nc.Opts.NoEcho || now-time.Duration(h.lastEcho.Load()) <= 2*h.cfg.HeartbeatInterval
	return h.nc.IsConnected() && now >= time.Duration(h.reapAfter.Load()) && echoed
}

// refusing reports whether this node must not serve routed calls: it is fenced, or it
// is suspect (tick), or its presence loop has not run for longer than the loss limit (it
// was frozen and the loop has not noticed yet).
func (h *Hub) refusing() bool {
	if h.fenced.Load() {
		return true
	}
	now := time.Since(h.t0)
	return now < time.Duration(h.suspectUntil.Load()) || now-time.Duration(h.lastTick.Load()) > h.lostLimit()
}

// fencedMsg tells a node that another declared it lost.
type fencedMsg struct {
	Node string `json:"node"`
	Inc  string `json:"inc"`
}

// tellFencedLocked tells an incarnation that this node buried as lost, and that still
// speaks, that it was declared lost (h.pres.mu held).
func (h *Hub) tellFencedLocked(n incarnation) {
	b, _ := json.Marshal(fencedMsg{Node: n.node, Inc: n.inc})
	_ = h.nc.Publish(h.subject("presence", "fenced"), b)
}

func (h *Hub) onFenced(m *nats.Msg) {
	var msg fencedMsg
	if json.Unmarshal(m.Data, &msg) != nil || msg.Node != h.node || msg.Inc != h.incarnation() {
		return
	}
	h.log.Warn("cluster: this node was declared lost; fencing")
	h.fence()
}

// fence makes this node refuse routed calls, closes its connections (their clients
// reconnect, to other nodes when they know them), and then rejoins as a new
// incarnation. It returns at once; a fencing already under way absorbs the call.
func (h *Hub) fence() {
	if !h.fenced.CompareAndSwap(false, true) {
		return
	}
	if !h.spawn(h.refence) {
		return
	}
}

func (h *Hub) refence() {
	h.mu.Lock()
	old := make([]*wsrpc.Channel, 0, len(h.locals))
	for _, l := range h.locals {
		old = append(old, l.ch)
	}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, ch := range old {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = ch.Close()
		}()
	}
	wg.Wait()
	for _, ch := range old {
		h.unregister(ch) // in case its disconnect hook has not run yet
	}
	if h.ctx.Err() != nil {
		return
	}
	// A new incarnation: the others know it as a newcomer and fetch its snapshot.
	h.mu.Lock()
	p := &h.pres
	p.mu.Lock()
	p.inc = randomID()[:16]
	p.nodes[h.node].inc = p.inc
	inc := p.inc
	p.mu.Unlock()
	if err := h.subscribeNodeLocked(inc); err != nil {
		h.log.Error("cluster: re-subscribing after fencing", "err", err)
	}
	h.mu.Unlock()
	h.lastTick.Store(int64(time.Since(h.t0)))
	h.suspectUntil.Store(0)
	h.fenced.Store(false)
	h.heartbeat()
	h.log.Warn("cluster: rejoined after fencing", "closed", len(old), "incarnation", inc)
}

// subscribeNodeLocked (h.mu held) moves the node subscription to incarnation inc.
func (h *Hub) subscribeNodeLocked(inc string) error {
	if h.nodeSub != nil {
		_ = h.nodeSub.Unsubscribe()
	}
	sub, err := h.nc.Subscribe(h.nodeSubject(h.node, inc), h.onNodeMsg)
	if err != nil {
		return fmt.Errorf("cluster: subscribe: %w", err)
	}
	h.nodeSub = sub
	return h.nc.FlushTimeout(h.cfg.ReachTimeout)
}

// awaitNATS returns nil when the hub is connected to NATS. Otherwise it waits for the
// connection to come back, up to Config.ReachTimeout (or ctx with
// Config.WaitDuringOutage), then fails with ErrUnavailable.
func (h *Hub) awaitNATS(ctx context.Context) error {
	if h.nc.IsConnected() {
		return nil
	}
	wait := ctx
	if !h.cfg.WaitDuringOutage {
		var cancel context.CancelFunc
		wait, cancel = context.WithTimeout(ctx, h.cfg.ReachTimeout)
		defer cancel()
	}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-wait.Done():
			if ctx.Err() != nil {
				return ctxErr(ctx.Err(), "cluster")
			}
			return fmt.Errorf("%w: %v", ErrUnavailable, h.nc.Status())
		case <-h.ctx.Done():
			return ErrClosed
		case <-t.C:
			if h.nc.IsClosed() {
				return ErrClosed
			}
			if h.nc.IsConnected() {
				return nil
			}
		}
	}
}
