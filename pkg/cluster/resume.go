package cluster

import (
	"context"
	"sync"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// Resumer is the client side of recovery on durable topics (TopicConfig.Durable): it
// keeps the position of the last publication received on each topic and, on every
// (re)connect, subscribes again from there, to whichever node the client reached, so
// that the publications missed meanwhile are delivered, in order, before the new ones.
// It drops a publication at or before the position it has (delivered twice), so that
// each reaches fn once.
//
//	r := cluster.NewResumer(func(ctx context.Context, n cluster.Notification) { ... }, "orders")
//	m := wsrpc.NewMethods()
//	r.Register(m)
//	c, err := wsrpc.Dial(ctx, url, wsrpc.WithMethods(m), wsrpc.WithOnConnect(r.OnConnect),
//		wsrpc.WithFallbackURLs(others...), func(c *wsrpc.Config) { c.Sequential = true })
//
// Give the client Config.Sequential, so that publications are handled in the order they
// arrive. Plain topics in the list are subscribed to as Subscribe does (nothing to
// recover). A Resumer serves one client connection at a time.
type Resumer struct {
	// OnResubscribe, when set, is called after each subscription OnConnect makes, with
	// the server's answer for each durable topic (Recovery.Recovered false: some
	// publications cannot be recovered, e.g. Recovery.TooOld) or the error.
	OnResubscribe func(rec map[string]Recovery, err error)
	// Timeout bounds the subscription OnConnect makes (default 10 s).
	Timeout time.Duration

	fn     func(ctx context.Context, n Notification)
	topics []string
	mu     sync.Mutex
	pos    map[string]Position
}

// NewResumer returns a Resumer that subscribes to topics and hands each publication to
// fn once.
func NewResumer(fn func(ctx context.Context, n Notification), topics ...string) *Resumer {
	return &Resumer{fn: fn, topics: topics, pos: map[string]Position{}}
}

// Register registers the "notify" method (HandleNotify) that receives the publications.
func (r *Resumer) Register(m *wsrpc.Methods) {
	HandleNotify(m, func(ctx context.Context, n Notification) {
		if !r.advance(n.Subscription.Topic, Position{Offset: n.Subscription.Offset, Epoch: n.Subscription.Epoch}) {
			return
		}
		r.fn(ctx, n)
	})
}

// advance records p as topic's position; false when p is not after the one it has in
// the same epoch (a publication received already).
func (r *Resumer) advance(topic string, p Position) bool {
	if p.Epoch == "" { // a plain topic, or AllTopics
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := r.pos[topic]; ok && cur.Epoch == p.Epoch && p.Offset <= cur.Offset {
		return false
	}
	r.pos[topic] = p
	return true
}

// Position returns the position of the last publication received on topic (or where
// the last subscription started); false before any.
func (r *Resumer) Position(topic string) (Position, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pos[topic]
	return p, ok
}

// Resubscribe subscribes c to the Resumer's topics from the positions it has
// (SubscribeSince).
func (r *Resumer) Resubscribe(ctx context.Context, c Caller) (map[string]Recovery, error) {
	r.mu.Lock()
	since := make(map[string]Position, len(r.pos))
	for t, p := range r.pos {
		since[t] = p
	}
	r.mu.Unlock()
	rec, err := SubscribeSince(ctx, c, since, r.topics...)
	if err != nil {
		return nil, err
	}
	// Where deliveries start, unless some arrived before the answer.
	for t, rc := range rec {
		r.advance(t, rc.Position)
	}
	return rec, nil
}

// OnConnect is a wsrpc.Config.OnConnect hook (wsrpc.WithOnConnect) that resubscribes.
func (r *Resumer) OnConnect(ctx context.Context, ch *wsrpc.Channel) {
	d := r.Timeout
	if d <= 0 {
		d = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	rec, err := r.Resubscribe(ctx, ch)
	if r.OnResubscribe != nil {
		r.OnResubscribe(rec, err)
	}
}
