package cluster

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Presence is one live connection somewhere in the cluster.
type Presence struct {
	Node      string            `json:"node"`
	ChannelID string            `json:"channel"`
	Keys      map[string]string `json:"keys,omitempty"` // its values of Config.Keys
	Since     time.Time         `json:"since"`
}

// EventKind says what a PresenceEvent reports.
type EventKind int

// Presence event kinds.
const (
	Connected    EventKind = iota + 1 // a connection appeared
	Disconnected                      // a connection ended (or its node left or was lost)
	Updated                           // a connection's keys changed (Hub.Bind)
)

func (k EventKind) String() string {
	switch k {
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	case Updated:
		return "updated"
	}
	return "unknown"
}

// PresenceEvent is a change of the cluster's connections, as seen by this node.
type PresenceEvent struct {
	Kind EventKind
	Presence
	// NodeLost: Disconnected because its node stopped heart-beating (crashed or cut off),
	// not because the connection was seen to close.
	NodeLost bool
}

const (
	eventConnected    = "connected"
	eventDisconnected = "disconnected"
	eventUpdated      = "updated"
)

// Wire forms (JSON; presence traffic is small).
type presenceMsg struct {
	Node  string    `json:"node"`
	Seq   uint64    `json:"seq"`
	Event string    `json:"event,omitempty"`
	P     *Presence `json:"p,omitempty"`
}

type snapshotMsg struct {
	Node    string     `json:"node"`
	Seq     uint64     `json:"seq"`
	Entries []Presence `json:"entries"`
}

// presence is this node's replica of the cluster's connections. Each node numbers its
// own changes; others apply them in order, and fetch a snapshot (request/reply to that
// node) whenever they see a gap, a new node, or a heartbeat ahead of what they have.
type presence struct {
	mu       sync.Mutex
	seq      uint64                // this node's change counter
	nodes    map[string]*nodeView  // by node id, this node included
	watchers map[*watcher]struct{} // Watch subscribers
}

type nodeView struct {
	seq      uint64
	last     time.Time
	syncing  bool
	entries  map[string]Presence
	snapshot bool // a snapshot has been applied
}

type watcher struct {
	mu     sync.Mutex
	queue  []PresenceEvent
	signal chan struct{}
}

func (h *Hub) startPresence() error {
	p := &h.pres
	p.nodes = map[string]*nodeView{h.node: {entries: map[string]Presence{}, snapshot: true, last: time.Now()}}
	p.watchers = map[*watcher]struct{}{}
	for _, s := range []struct {
		subj string
		fn   nats.MsgHandler
	}{
		{h.subject("presence", "ev"), h.onPresenceEvent},
		{h.subject("presence", "hb"), h.onHeartbeat},
		{h.subject("presence", "bye"), h.onBye},
		{h.subject("presence", "snap", token(h.node)), h.onSnapshotRequest},
	} {
		sub, err := h.nc.Subscribe(s.subj, s.fn)
		if err != nil {
			return err
		}
		h.hubSubs = append(h.hubSubs, sub)
	}
	if err := h.nc.Flush(); err != nil {
		return err
	}
	h.heartbeat()
	h.wg.Add(1)
	go h.presenceLoop()
	return nil
}

func (h *Hub) presenceLoop() {
	defer h.wg.Done()
	t := time.NewTicker(h.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
			h.heartbeat()
			h.reap()
		}
	}
}

func (h *Hub) heartbeat() {
	h.pres.mu.Lock()
	seq := h.pres.seq
	h.pres.mu.Unlock()
	b, _ := json.Marshal(presenceMsg{Node: h.node, Seq: seq})
	_ = h.nc.Publish(h.subject("presence", "hb"), b)
}

// presenceLocal records a change of this node's connections and announces it
// (called with h.mu held, so changes are numbered in the order they happen).
func (h *Hub) presenceLocal(event string, l *local) {
	pr := Presence{Node: h.node, ChannelID: l.ch.ID(), Keys: maps.Clone(l.keys), Since: l.since}
	p := &h.pres
	p.mu.Lock()
	p.seq++
	seq := p.seq
	v := p.nodes[h.node]
	v.seq = seq
	if event == eventDisconnected {
		delete(v.entries, pr.ChannelID)
	} else {
		v.entries[pr.ChannelID] = pr
	}
	p.emitLocked(PresenceEvent{Kind: kindOf(event), Presence: pr})
	p.mu.Unlock()
	b, _ := json.Marshal(presenceMsg{Node: h.node, Seq: seq, Event: event, P: &pr})
	_ = h.nc.Publish(h.subject("presence", "ev"), b)
}

func kindOf(event string) EventKind {
	switch event {
	case eventConnected:
		return Connected
	case eventDisconnected:
		return Disconnected
	}
	return Updated
}

func (h *Hub) onPresenceEvent(m *nats.Msg) {
	var msg presenceMsg
	if json.Unmarshal(m.Data, &msg) != nil || msg.Node == h.node || msg.P == nil {
		return
	}
	p := &h.pres
	p.mu.Lock()
	v := p.nodes[msg.Node]
	if v == nil || v.syncing || !v.snapshot || msg.Seq > v.seq+1 {
		h.needSnapshotLocked(msg.Node)
		p.mu.Unlock()
		return
	}
	if msg.Seq <= v.seq {
		p.mu.Unlock()
		return
	}
	v.seq, v.last = msg.Seq, time.Now()
	pr := *msg.P
	if msg.Event == eventDisconnected {
		delete(v.entries, pr.ChannelID)
	} else {
		v.entries[pr.ChannelID] = pr
	}
	p.emitLocked(PresenceEvent{Kind: kindOf(msg.Event), Presence: pr})
	p.mu.Unlock()
}

func (h *Hub) onHeartbeat(m *nats.Msg) {
	var msg presenceMsg
	if json.Unmarshal(m.Data, &msg) != nil || msg.Node == h.node {
		return
	}
	p := &h.pres
	p.mu.Lock()
	v := p.nodes[msg.Node]
	isNew := v == nil
	if v != nil {
		v.last = time.Now()
	}
	if isNew || (!v.syncing && msg.Seq > v.seq) {
		h.needSnapshotLocked(msg.Node)
	}
	p.mu.Unlock()
	if isNew {
		h.heartbeat() // let the newcomer learn about this node at once
	}
}

func (h *Hub) onBye(m *nats.Msg) {
	var msg presenceMsg
	if json.Unmarshal(m.Data, &msg) != nil || msg.Node == h.node {
		return
	}
	h.dropNode(msg.Node, false)
}

func (h *Hub) announceBye() {
	b, _ := json.Marshal(presenceMsg{Node: h.node})
	_ = h.nc.Publish(h.subject("presence", "bye"), b)
}

func (h *Hub) onSnapshotRequest(m *nats.Msg) {
	p := &h.pres
	p.mu.Lock()
	v := p.nodes[h.node]
	snap := snapshotMsg{Node: h.node, Seq: v.seq, Entries: slices.Collect(maps.Values(v.entries))}
	p.mu.Unlock()
	b, _ := json.Marshal(snap)
	_ = m.Respond(b)
}

// needSnapshotLocked starts fetching node's snapshot unless one is on its way.
func (h *Hub) needSnapshotLocked(node string) {
	p := &h.pres
	v := p.nodes[node]
	if v == nil {
		v = &nodeView{entries: map[string]Presence{}, last: time.Now()}
		p.nodes[node] = v
	}
	if v.syncing || h.ctx.Err() != nil {
		return
	}
	v.syncing = h.spawn(func() { h.fetchSnapshot(node) })
}

func (h *Hub) fetchSnapshot(node string) {
	ctx, cancel := context.WithTimeout(h.ctx, 2*time.Second)
	defer cancel()
	reply, err := h.nc.RequestWithContext(ctx, h.subject("presence", "snap", token(node)), nil)
	p := &h.pres
	p.mu.Lock()
	defer p.mu.Unlock()
	v := p.nodes[node]
	if v == nil {
		return // dropped meanwhile
	}
	v.syncing = false
	var snap snapshotMsg
	if err != nil || json.Unmarshal(reply.Data, &snap) != nil {
		return // the next heartbeat retries; a silent node is reaped
	}
	if v.snapshot && snap.Seq < v.seq {
		return // stale
	}
	next := make(map[string]Presence, len(snap.Entries))
	for _, e := range snap.Entries {
		next[e.ChannelID] = e
	}
	for id, old := range v.entries {
		if _, ok := next[id]; !ok {
			p.emitLocked(PresenceEvent{Kind: Disconnected, Presence: old})
		}
	}
	for id, e := range next {
		old, ok := v.entries[id]
		switch {
		case !ok:
			p.emitLocked(PresenceEvent{Kind: Connected, Presence: e})
		case !maps.Equal(old.Keys, e.Keys):
			p.emitLocked(PresenceEvent{Kind: Updated, Presence: e})
		}
	}
	v.entries, v.seq, v.snapshot, v.last = next, snap.Seq, true, time.Now()
}

// reap drops nodes that missed three heartbeats.
func (h *Hub) reap() {
	limit := 3 * h.cfg.HeartbeatInterval
	var lost []string
	h.pres.mu.Lock()
	for id, v := range h.pres.nodes {
		if id != h.node && time.Since(v.last) > limit {
			lost = append(lost, id)
		}
	}
	h.pres.mu.Unlock()
	for _, id := range lost {
		h.log.Warn("cluster: node lost (no heartbeat)", "lost", id)
		h.dropNode(id, true)
	}
}

func (h *Hub) dropNode(node string, lost bool) {
	p := &h.pres
	p.mu.Lock()
	defer p.mu.Unlock()
	v := p.nodes[node]
	if v == nil {
		return
	}
	delete(p.nodes, node)
	for _, e := range v.entries {
		p.emitLocked(PresenceEvent{Kind: Disconnected, Presence: e, NodeLost: lost})
	}
}

func (p *presence) emitLocked(ev PresenceEvent) {
	for w := range p.watchers {
		w.mu.Lock()
		w.queue = append(w.queue, ev)
		w.mu.Unlock()
		select {
		case w.signal <- struct{}{}:
		default:
		}
	}
}

// Presence returns every connection of the cluster as this node knows it (eventually
// consistent: changes on other nodes arrive within milliseconds, a crashed node's
// connections go after three heartbeat intervals). Sorted by node, then channel id.
func (h *Hub) Presence() []Presence {
	p := &h.pres
	p.mu.Lock()
	var out []Presence
	for _, v := range p.nodes {
		for _, e := range v.entries {
			out = append(out, e)
		}
	}
	p.mu.Unlock()
	slices.SortFunc(out, func(a, b Presence) int {
		if c := strings.Compare(a.Node, b.Node); c != 0 {
			return c
		}
		return strings.Compare(a.ChannelID, b.ChannelID)
	})
	return out
}

// Lookup returns the connections t names, from Presence.
func (h *Hub) Lookup(t Target) []Presence {
	var out []Presence
	for _, e := range h.Presence() {
		if (t.channel != "" && e.ChannelID == t.channel) || (t.channel == "" && t.key != "" && e.Keys[t.key] == t.value) {
			out = append(out, e)
		}
	}
	return out
}

// Nodes returns the ids of the nodes this node knows to be alive, itself included.
func (h *Hub) Nodes() []string {
	h.pres.mu.Lock()
	defer h.pres.mu.Unlock()
	return slices.Sorted(maps.Keys(h.pres.nodes))
}

// Watch returns the cluster's presence events from now on, in the order this node saw
// them, until ctx ends or the hub closes (then the channel is closed). Events are
// queued for a slow reader, never dropped.
func (h *Hub) Watch(ctx context.Context) <-chan PresenceEvent {
	out := make(chan PresenceEvent)
	w := &watcher{signal: make(chan struct{}, 1)}
	p := &h.pres
	p.mu.Lock()
	if h.ctx.Err() != nil {
		p.mu.Unlock()
		close(out)
		return out
	}
	p.watchers[w] = struct{}{}
	p.mu.Unlock()
	started := h.spawn(func() {
		defer close(out)
		defer func() {
			p.mu.Lock()
			delete(p.watchers, w)
			p.mu.Unlock()
		}()
		for {
			w.mu.Lock()
			q := w.queue
			w.queue = nil
			w.mu.Unlock()
			for _, ev := range q {
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				case <-h.ctx.Done():
					return
				}
			}
			select {
			case <-w.signal:
			case <-ctx.Done():
				return
			case <-h.ctx.Done():
				return
			}
		}
	})
	if !started {
		p.mu.Lock()
		delete(p.watchers, w)
		p.mu.Unlock()
		close(out)
	}
	return out
}
