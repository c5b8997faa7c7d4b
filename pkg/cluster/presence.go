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
	// Topics are the topics it subscribes to (Hub.Subscribe), sorted.
	Topics []string `json:"topics,omitempty"`
}

// EventKind says what a PresenceEvent reports.
type EventKind int

// Presence event kinds.
const (
	Connected    EventKind = iota + 1 // a connection appeared
	Disconnected                      // a connection ended (or its node left or was lost)
	Updated                           // a connection's keys changed (Hub.Bind)

	// Key events (WatchKeys).
	Online  // a key value's first connection in the cluster appeared
	Offline // a key value's last connection ended, and none came within Config.OfflineGrace
)

func (k EventKind) String() string {
	switch k {
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	case Updated:
		return "updated"
	case Online:
		return "online"
	case Offline:
		return "offline"
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

// KeyEvent reports that a key value (a user, with Config.Keys {"user"}) went online or
// offline cluster-wide (WatchKeys).
type KeyEvent struct {
	Kind       EventKind // Online or Offline
	Key, Value string
}

const (
	eventConnected    = "connected"
	eventDisconnected = "disconnected"
	eventUpdated      = "updated"
	eventTopics       = "topics" // its subscriptions changed: no PresenceEvent
)

// Wire forms (JSON; presence traffic is small).
type presenceMsg struct {
	Node  string    `json:"node"`
	Inc   string    `json:"inc"` // the node's incarnation: new at each start (and fencing)
	Seq   uint64    `json:"seq"`
	Event string    `json:"event,omitempty"`
	P     *Presence `json:"p,omitempty"`
}

type snapshotMsg struct {
	Node    string     `json:"node"`
	Inc     string     `json:"inc"`
	Seq     uint64     `json:"seq"`
	Entries []Presence `json:"entries"`
	Gone    bool       `json:"gone,omitempty"` // the node is leaving: forget it
}

// presence is this node's replica of the cluster's connections. Each node numbers its
// own changes; others apply them in order, and fetch a snapshot (request/reply to that
// node) whenever they see a gap, a new node, or a heartbeat ahead of what they have.
//
// A node is known by its id and its incarnation, a random id it draws at start. Once a
// node has left (goodbye) or been declared lost, its incarnation is buried: anything
// from it that arrives later (a heartbeat or event handled after the goodbye, on another
// subscription's goroutine; a snapshot answered while it was closing) is ignored, so its
// connections cannot come back. The same node id starting again comes with a new
// incarnation and is welcome.
type presence struct {
	mu       sync.Mutex
	inc      string                               // this node's incarnation
	seq      uint64                               // this node's change counter
	leaving  bool                                 // Close has begun: no heartbeats, no snapshots
	nodes    map[string]*nodeView                 // by node id, this node included
	buried   map[incarnation]grave                // departed incarnations
	watchers map[*watcher[PresenceEvent]]struct{} // Watch subscribers
	kwatch   map[*watcher[KeyEvent]]struct{}      // WatchKeys subscribers
	keyCount map[string]int                       // "key\x00value" -> connections in the cluster
	keys     map[string]*keyState                 // "key\x00value" -> reported online
	topics   map[string]int                       // topic -> subscribed connections in the cluster
	grace    time.Duration                        // before Offline; <= 0: none
}

// keyState is a key value reported Online (KeyEvent), possibly on its way to Offline.
type keyState struct {
	key, value string
	gen        uint64      // bumped whenever its count leaves or comes back to 0
	timer      *time.Timer // counting down to Offline, or nil
}

type incarnation struct{ node, inc string }

type grave struct {
	lost  bool      // declared lost (else it said goodbye)
	until time.Time // forgotten after this
}

// graveTime is how long a departed incarnation is remembered: far longer than any
// message of it can stay in flight.
func (h *Hub) graveTime() time.Duration { return max(time.Minute, 20*h.cfg.HeartbeatInterval) }

type nodeView struct {
	topics   map[string]int // topic -> its connections subscribed
	inc      string
	seq      uint64
	last     time.Time
	syncing  bool
	entries  map[string]Presence
	snapshot bool // a snapshot has been applied
}

type watcher[T any] struct {
	mu     sync.Mutex
	queue  []T
	signal chan struct{}
	accept func(T) bool // nil: everything
}

func (h *Hub) startPresence() error {
	p := &h.pres
	p.inc = randomID()[:16]
	p.nodes = map[string]*nodeView{h.node: {inc: p.inc, entries: map[string]Presence{}, snapshot: true, last: time.Now()}}
	p.buried = map[incarnation]grave{}
	p.watchers = map[*watcher[PresenceEvent]]struct{}{}
	p.kwatch = map[*watcher[KeyEvent]]struct{}{}
	p.keyCount = map[string]int{}
	p.keys = map[string]*keyState{}
	p.topics = map[string]int{}
	p.grace = h.cfg.OfflineGrace
	for _, s := range []struct {
		subj string
		fn   nats.MsgHandler
	}{
		{h.subject("presence", "ev"), h.onPresenceEvent},
		{h.subject("presence", "hb"), h.onHeartbeat},
		{h.subject("presence", "bye"), h.onBye},
		{h.subject("presence", "snap", token(h.node)), h.onSnapshotRequest},
		{h.subject("presence", "fenced"), h.onFenced},
	} {
		sub, err := h.nc.Subscribe(s.subj, s.fn)
		if err != nil {
			return err
		}
		h.hubSubs = append(h.hubSubs, sub)
	}
	h.lastTick.Store(int64(time.Since(h.t0)))
	h.lastEcho.Store(int64(time.Since(h.t0)))
	h.mu.Lock()
	err := h.subscribeNodeLocked(p.inc)
	h.mu.Unlock()
	if err != nil {
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
			h.tick()
			h.heartbeat()
			h.reap()
			h.sweepFlow()
		}
	}
}

func (h *Hub) heartbeat() {
	h.pres.mu.Lock()
	if h.pres.leaving {
		h.pres.mu.Unlock()
		return
	}
	msg := presenceMsg{Node: h.node, Inc: h.pres.inc, Seq: h.pres.seq}
	h.pres.mu.Unlock()
	b, _ := json.Marshal(msg)
	_ = h.nc.Publish(h.subject("presence", "hb"), b)
}

// presenceLocal records a change of this node's connections and announces it
// (called with h.mu held, so changes are numbered in the order they happen).
func (h *Hub) presenceLocal(event string, l *local) {
	pr := Presence{Node: h.node, ChannelID: l.ch.ID(), Keys: maps.Clone(l.keys), Since: l.since}
	if len(l.topics) > 0 {
		pr.Topics = slices.Sorted(maps.Keys(l.topics))
	}
	p := &h.pres
	p.mu.Lock()
	p.seq++
	seq := p.seq
	v := p.nodes[h.node]
	v.seq = seq
	if event == eventDisconnected {
		p.delEntryLocked(v, pr.ChannelID)
	} else {
		p.putEntryLocked(v, pr)
	}
	if event != eventTopics {
		p.emitLocked(PresenceEvent{Kind: kindOf(event), Presence: pr})
	}
	inc := p.inc
	p.mu.Unlock()
	b, _ := json.Marshal(presenceMsg{Node: h.node, Inc: inc, Seq: seq, Event: event, P: &pr})
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
	v, ok := h.viewLocked(msg.Node, msg.Inc)
	if !ok {
		p.mu.Unlock()
		return
	}
	if v == nil || v.syncing || !v.snapshot || msg.Seq > v.seq+1 {
		h.needSnapshotLocked(msg.Node, msg.Inc)
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
		p.delEntryLocked(v, pr.ChannelID)
	} else {
		p.putEntryLocked(v, pr)
	}
	if msg.Event != eventTopics {
		p.emitLocked(PresenceEvent{Kind: kindOf(msg.Event), Presence: pr})
	}
	p.mu.Unlock()
}

func (h *Hub) onHeartbeat(m *nats.Msg) {
	var msg presenceMsg
	if json.Unmarshal(m.Data, &msg) != nil {
		return
	}
	if msg.Node == h.node { // its own, back through NATS (mayJudge)
		h.lastEcho.Store(int64(time.Since(h.t0)))
		return
	}
	p := &h.pres
	p.mu.Lock()
	v, ok := h.viewLocked(msg.Node, msg.Inc)
	if !ok {
		if g := p.buried[incarnation{msg.Node, msg.Inc}]; g.lost && h.mayJudge() {
			h.tellFencedLocked(incarnation{msg.Node, msg.Inc})
		}
		p.mu.Unlock()
		return
	}
	isNew := v == nil
	if v != nil {
		v.last = time.Now()
	}
	if isNew || (!v.syncing && msg.Seq > v.seq) {
		h.needSnapshotLocked(msg.Node, msg.Inc)
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
	p := &h.pres
	p.mu.Lock()
	defer p.mu.Unlock()
	h.buryLocked(msg.Node, msg.Inc, false)
}

// leave stops heartbeats and snapshot answers, then says goodbye: nothing this node
// sends afterwards can make the others take it for alive.
func (h *Hub) leave() {
	p := &h.pres
	p.mu.Lock()
	p.leaving = true
	inc := p.inc
	p.mu.Unlock()
	b, _ := json.Marshal(presenceMsg{Node: h.node, Inc: inc})
	_ = h.nc.Publish(h.subject("presence", "bye"), b)
}

func (h *Hub) onSnapshotRequest(m *nats.Msg) {
	p := &h.pres
	p.mu.Lock()
	v := p.nodes[h.node]
	snap := snapshotMsg{Node: h.node, Inc: p.inc, Seq: v.seq, Gone: p.leaving}
	if !p.leaving {
		snap.Entries = slices.Collect(maps.Values(v.entries))
	}
	p.mu.Unlock()
	b, _ := json.Marshal(snap)
	_ = m.Respond(b)
}

// viewLocked returns the view of node's incarnation inc (nil when it is new to this
// node), and false when that incarnation is buried: ignore its message. A view of an
// older incarnation of the same node is dropped (it restarted).
func (h *Hub) viewLocked(node, inc string) (*nodeView, bool) {
	p := &h.pres
	if _, dead := p.buried[incarnation{node, inc}]; dead {
		return nil, false
	}
	v := p.nodes[node]
	if v != nil && v.inc != inc {
		h.buryLocked(node, v.inc, true)
		v = nil
	}
	return v, true
}

// buryLocked drops the view of node's incarnation inc, reporting its connections
// Disconnected, and ignores that incarnation from now on.
func (h *Hub) buryLocked(node, inc string, lost bool) {
	p := &h.pres
	p.buried[incarnation{node, inc}] = grave{lost: lost, until: time.Now().Add(h.graveTime())}
	h.failCallsLocked(incarnation{node, inc})
	v := p.nodes[node]
	if v == nil || v.inc != inc {
		return
	}
	delete(p.nodes, node)
	for id, e := range v.entries {
		p.delEntryLocked(v, id)
		p.emitLocked(PresenceEvent{Kind: Disconnected, Presence: e, NodeLost: lost})
	}
}

// needSnapshotLocked starts fetching the snapshot of node's incarnation inc unless one
// is on its way.
func (h *Hub) needSnapshotLocked(node, inc string) {
	p := &h.pres
	v := p.nodes[node]
	if v == nil {
		v = &nodeView{inc: inc, entries: map[string]Presence{}, last: time.Now()}
		p.nodes[node] = v
	}
	if v.syncing || h.ctx.Err() != nil {
		return
	}
	v.syncing = h.spawn(func() { h.fetchSnapshot(node, inc) })
}

func (h *Hub) fetchSnapshot(node, inc string) {
	ctx, cancel := context.WithTimeout(h.ctx, 2*time.Second)
	defer cancel()
	reply, err := h.nc.RequestWithContext(ctx, h.subject("presence", "snap", token(node)), nil)
	p := &h.pres
	p.mu.Lock()
	defer p.mu.Unlock()
	v := p.nodes[node]
	if v == nil || v.inc != inc {
		return // dropped or replaced meanwhile
	}
	v.syncing = false
	var snap snapshotMsg
	if err != nil || json.Unmarshal(reply.Data, &snap) != nil {
		return // the next heartbeat retries; a silent node is reaped
	}
	if snap.Inc != inc {
		return // another incarnation answered; its own heartbeat will introduce it
	}
	if snap.Gone {
		h.buryLocked(node, inc, false)
		return
	}
	if v.snapshot && snap.Seq < v.seq {
		return // stale
	}
	next := make(map[string]Presence, len(snap.Entries))
	for _, e := range snap.Entries {
		next[e.ChannelID] = e
	}
	// Additions first: a connection whose keys moved between two entries keeps its count.
	for id, e := range next {
		old, ok := v.entries[id]
		p.putEntryLocked(v, e)
		switch {
		case !ok:
			p.emitLocked(PresenceEvent{Kind: Connected, Presence: e})
		case !maps.Equal(old.Keys, e.Keys):
			p.emitLocked(PresenceEvent{Kind: Updated, Presence: e})
		}
	}
	for id, old := range v.entries {
		if _, ok := next[id]; !ok {
			p.delEntryLocked(v, id)
			p.emitLocked(PresenceEvent{Kind: Disconnected, Presence: old})
		}
	}
	v.seq, v.snapshot, v.last = snap.Seq, true, time.Now()
}

// reap drops nodes that missed three heartbeats, and forgets old graves.
func (h *Hub) reap() {
	limit := 3 * h.cfg.HeartbeatInterval
	now := time.Now()
	p := &h.pres
	p.mu.Lock()
	defer p.mu.Unlock()
	judge := h.mayJudge()
	for id, v := range p.nodes {
		if !judge {
			v.last = now // it could not hear them: their silence says nothing
			continue
		}
		if id != h.node && now.Sub(v.last) > limit {
			h.log.Warn("cluster: node lost (no heartbeat)", "lost", id)
			h.buryLocked(id, v.inc, true)
		}
	}
	for k, g := range p.buried {
		if now.After(g.until) {
			delete(p.buried, k)
		}
	}
}

func (p *presence) emitLocked(ev PresenceEvent) { emit(p.watchers, ev) }

func emit[T any](watchers map[*watcher[T]]struct{}, ev T) {
	for w := range watchers {
		if w.accept != nil && !w.accept(ev) {
			continue
		}
		w.mu.Lock()
		w.queue = append(w.queue, ev)
		w.mu.Unlock()
		select {
		case w.signal <- struct{}{}:
		default:
		}
	}
}

// putEntryLocked adds or replaces a connection in v, counting its keys and topics.
func (p *presence) putEntryLocked(v *nodeView, e Presence) {
	old, had := v.entries[e.ChannelID]
	v.entries[e.ChannelID] = e
	p.countLocked(v, e, 1) // up first: keys it keeps never touch 0
	if had {
		p.countLocked(v, old, -1)
	}
}

// delEntryLocked removes a connection from v, uncounting its keys and topics.
func (p *presence) delEntryLocked(v *nodeView, id string) {
	if old, ok := v.entries[id]; ok {
		delete(v.entries, id)
		p.countLocked(v, old, -1)
	}
}

func (p *presence) countLocked(v *nodeView, e Presence, d int) {
	for _, t := range e.Topics {
		if n := p.topics[t] + d; n > 0 {
			p.topics[t] = n
		} else {
			delete(p.topics, t)
		}
		if v.topics == nil {
			v.topics = map[string]int{}
		}
		if n := v.topics[t] + d; n > 0 {
			v.topics[t] = n
		} else {
			delete(v.topics, t)
		}
	}
	for k, v := range e.Keys {
		kv := k + "\x00" + v
		n := p.keyCount[kv] + d
		if n > 0 {
			p.keyCount[kv] = n
		} else {
			delete(p.keyCount, kv)
		}
		switch {
		case d > 0 && n == 1:
			p.keyUpLocked(kv, k, v)
		case d < 0 && n == 0:
			p.keyDownLocked(kv)
		}
	}
}

// keyUpLocked: kv has a connection again. Online, unless it is online already (its
// Offline pending is called off).
func (p *presence) keyUpLocked(kv, k, v string) {
	st := p.keys[kv]
	if st == nil {
		p.keys[kv] = &keyState{key: k, value: v}
		emit(p.kwatch, KeyEvent{Kind: Online, Key: k, Value: v})
		return
	}
	st.gen++
	if st.timer != nil {
		st.timer.Stop()
		st.timer = nil
	}
}

// keyDownLocked: kv has no connection left. Offline after the grace period, unless
// one comes back meanwhile.
func (p *presence) keyDownLocked(kv string) {
	st := p.keys[kv]
	if st == nil {
		return
	}
	st.gen++
	if p.grace <= 0 {
		delete(p.keys, kv)
		emit(p.kwatch, KeyEvent{Kind: Offline, Key: st.key, Value: st.value})
		return
	}
	gen := st.gen
	st.timer = time.AfterFunc(p.grace, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.keys[kv] != st || st.gen != gen {
			return // it came back (or the hub closed)
		}
		delete(p.keys, kv)
		emit(p.kwatch, KeyEvent{Kind: Offline, Key: st.key, Value: st.value})
	})
}

// stopKeyTimers ends the pending Offline timers (Close).
func (p *presence) stopKeyTimers() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, st := range p.keys {
		st.gen++
		if st.timer != nil {
			st.timer.Stop()
			st.timer = nil
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
	return watch(h, ctx, &h.pres.watchers, nil)
}

// WatchKeys returns the Online and Offline events of the values of key (e.g. "user")
// from now on, until ctx ends or the hub closes (then the channel is closed). A value
// is Online when the cluster has a first connection with it, and Offline when its last
// connection ended and no other came within Config.OfflineGrace: a user whose
// connection moves to another node (even when the new one is seen after the old one
// ended), or whose node has a short NATS outage, stays online and makes no events.
// The counts are those of this node's replica (Connections). Events are queued for a
// slow reader, never dropped.
func (h *Hub) WatchKeys(ctx context.Context, key string) <-chan KeyEvent {
	return watch(h, ctx, &h.pres.kwatch, func(ev KeyEvent) bool { return ev.Key == key })
}

// Connections returns how many live connections t names in the cluster, as this node's
// replica of presence knows them: the connections of a key value on every node (see
// WatchKeys), or 0 or 1 for a channel id.
func (h *Hub) Connections(t Target) int {
	p := &h.pres
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.channel == "" {
		return p.keyCount[t.key+"\x00"+t.value]
	}
	for _, v := range p.nodes {
		if _, ok := v.entries[t.channel]; ok {
			return 1
		}
	}
	return 0
}

func watch[T any](h *Hub, ctx context.Context, set *map[*watcher[T]]struct{}, accept func(T) bool) <-chan T {
	out := make(chan T)
	w := &watcher[T]{signal: make(chan struct{}, 1), accept: accept}
	p := &h.pres
	p.mu.Lock()
	if h.ctx.Err() != nil {
		p.mu.Unlock()
		close(out)
		return out
	}
	(*set)[w] = struct{}{}
	p.mu.Unlock()
	started := h.spawn(func() {
		defer close(out)
		defer func() {
			p.mu.Lock()
			delete(*set, w)
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
		delete(*set, w)
		p.mu.Unlock()
		close(out)
	}
	return out
}
