package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/nats-io/nats.go"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// AllTopics is the topic that subscribes to every topic: fastapi-websocket-pubsub's
// ALL_TOPICS. Deliveries to it carry the topic they were published on.
const AllTopics = "__EventNotifier_ALL_TOPICS__"

// Subscription describes, in a delivered Notification, the subscription that matched
// (fastapi-websocket-pubsub's Subscription).
type Subscription struct {
	ID           string `json:"id"`            // random, one per (connection, topic)
	SubscriberID string `json:"subscriber_id"` // the subscriber's channel id on its server
	Topic        string `json:"topic"`         // the topic published on
	NotifierID   string `json:"notifier_id"`   // always empty (sent as null), as in Python
}

// Notification is what a subscriber's "notify" method receives for each publication.
type Notification struct {
	Subscription Subscription    `json:"subscription"`
	Data         json.RawMessage `json:"data"`
}

// HandleNotify registers on a client's methods the "notify" method through which a
// server attached to a Hub delivers publications (as a notification to JSON-RPC 2.0
// clients, as a call to legacy ones and with Config.NotifyAsCall; fn serves both).
// Publications are written to each subscriber in the order they were published (from
// one publisher); to handle them in that order, give the client Config.Sequential, as
// wsrpc runs handlers concurrently otherwise.
func HandleNotify(m *wsrpc.Methods, fn func(ctx context.Context, n Notification)) {
	wsrpc.Register(m, "notify", func(ctx context.Context, n Notification) (any, error) {
		fn(ctx, n)
		return nil, nil
	})
}

// Caller is what Subscribe and Unsubscribe call through: a *wsrpc.Client or a
// *wsrpc.Channel.
type Caller interface {
	Call(ctx context.Context, method string, params any, result any, opts ...wsrpc.CallOption) error
}

// Subscribe asks the server at the other end of c to subscribe this connection to
// topics. Subscriptions belong to the connection: after a reconnect, subscribe again
// (e.g. from the client's OnConnect hook, with the Channel it is given).
func Subscribe(ctx context.Context, c Caller, topics ...string) error {
	return subCall(ctx, c, "subscribe", topics)
}

// Unsubscribe asks the server to drop this connection's subscriptions to topics.
func Unsubscribe(ctx context.Context, c Caller, topics ...string) error {
	return subCall(ctx, c, "unsubscribe", topics)
}

func subCall(ctx context.Context, c Caller, method string, topics []string) error {
	var ok bool
	if err := c.Call(ctx, method, topicsParams{Topics: topics}, &ok); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("cluster: %s %v: the server answered false", method, topics)
	}
	return nil
}

type topicsParams struct {
	Topics []string `json:"topics,omitempty"`
}

type publishParams struct {
	Topics     []string        `json:"topics,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	Sync       *bool           `json:"sync,omitempty"`
	NotifierID *string         `json:"notifier_id,omitempty"`
}

// RegisterMethods adds the pub/sub methods of fastapi-websocket-pubsub to a server's
// methods (Attach does it for you):
//
//   - subscribe(topics) -> true: subscribe the calling connection;
//   - unsubscribe(topics) -> true;
//   - publish(topics, data, sync, notifier_id) -> true: publish data on each topic to
//     every subscriber on every node except the connection whose channel id is
//     notifier_id (default: the caller itself). With sync (the default) the answer
//     comes once NATS has accepted the publication, not once subscribers answered.
//     Left out with Config.NoClientPublish.
func (h *Hub) RegisterMethods(m *wsrpc.Methods) {
	wsrpc.Register(m, "subscribe", func(ctx context.Context, p topicsParams) (bool, error) {
		ch := wsrpc.ChannelFromContext(ctx)
		if err := h.Subscribe(ctx, ch, p.Topics...); err != nil {
			return false, err
		}
		return true, nil
	})
	wsrpc.Register(m, "unsubscribe", func(ctx context.Context, p topicsParams) (bool, error) {
		return true, h.Unsubscribe(wsrpc.ChannelFromContext(ctx), p.Topics...)
	})
	if h.cfg.NoClientPublish {
		return
	}
	wsrpc.Register(m, "publish", func(ctx context.Context, p publishParams) (bool, error) {
		notifier := ""
		if ch := wsrpc.ChannelFromContext(ctx); ch != nil {
			notifier = ch.ID()
		}
		if p.NotifierID != nil {
			notifier = *p.NotifierID
		}
		sync := p.Sync == nil || *p.Sync
		if err := h.publish(ctx, p.Topics, p.Data, notifier, sync); err != nil {
			h.log.Warn("cluster: client publish failed", "topics", p.Topics, "err", err)
			return false, nil // Python answers false when publishing fails
		}
		return true, nil
	})
}

// topicState is this node's interest in one topic.
type topicState struct {
	sub     *nats.Subscription
	members map[*local]string // connection -> subscription id
}

type delivery struct {
	params []byte
}

// Subscribe subscribes a connection of an attached server (e.g. from OnConnect or a
// handler's ChannelFromContext) to topics, cluster-wide. It is idempotent per topic.
// When it returns, publications made afterwards through the same NATS server reach ch.
func (h *Hub) Subscribe(ctx context.Context, ch *wsrpc.Channel, topics ...string) error {
	if ch == nil {
		return ErrNoTarget
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrClosed
	}
	l := h.registerLocked(ch)
	if l == nil {
		h.mu.Unlock()
		return fmt.Errorf("%w: channel %s has closed", ErrNoTarget, ch.ID())
	}
	added := false
	var err error
	for _, topic := range topics {
		if topic == "" {
			continue
		}
		if _, ok := l.topics[topic]; ok {
			continue
		}
		ts := h.topics[topic]
		if ts == nil {
			subj := h.subject("t", token(topic))
			if topic == AllTopics {
				subj = h.subject("t", "*")
			}
			sub, serr := h.nc.Subscribe(subj, func(m *nats.Msg) { h.onPublication(topic, m) })
			if serr != nil {
				err = errors.Join(err, fmt.Errorf("cluster: subscribe %q: %w", topic, serr))
				continue
			}
			_ = sub.SetPendingLimits(-1, 256<<20)
			ts = &topicState{sub: sub, members: map[*local]string{}}
			h.topics[topic] = ts
			added = true
		}
		id := randomID()
		ts.members[l] = id
		l.topics[topic] = id
	}
	h.mu.Unlock()
	if added {
		// Make sure the NATS server knows the interest before the client is told.
		if ferr := h.flush(ctx); ferr != nil {
			err = errors.Join(err, fmt.Errorf("cluster: subscribe: %w", ferr))
		}
	}
	return err
}

// Unsubscribe drops a connection's subscriptions to topics (unknown ones are ignored).
func (h *Hub) Unsubscribe(ch *wsrpc.Channel, topics ...string) error {
	if ch == nil {
		return ErrNoTarget
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.locals[ch.ID()]
	if l == nil || l.ch != ch {
		return fmt.Errorf("%w: channel %s is not a live connection of this node", ErrNoTarget, ch.ID())
	}
	for _, topic := range topics {
		if _, ok := l.topics[topic]; ok {
			h.leaveTopicLocked(l, topic)
		}
	}
	return nil
}

func (h *Hub) leaveTopicLocked(l *local, topic string) {
	delete(l.topics, topic)
	ts := h.topics[topic]
	if ts == nil {
		return
	}
	delete(ts.members, l)
	if len(ts.members) == 0 {
		delete(h.topics, topic)
		if !h.closed {
			_ = ts.sub.Unsubscribe()
		}
	}
}

// Publish sends data (anything encoding/json encodes; a json.RawMessage as is) on topic
// to every subscriber on every node. It returns once the publication is handed to NATS
// (ErrUnavailable when the hub is cut off from NATS past Config.ReachTimeout); delivery
// is asynchronous and not acknowledged.
// Subscribers that are reconnecting when it is published miss it (core NATS, no replay).
func (h *Hub) Publish(ctx context.Context, topic string, data any) error {
	raw, err := marshalData(data)
	if err != nil {
		return err
	}
	return h.publish(ctx, []string{topic}, raw, "", false)
}

func marshalData(data any) (json.RawMessage, error) {
	if r, ok := data.(json.RawMessage); ok {
		if len(r) == 0 {
			return nil, nil
		}
		if !json.Valid(r) {
			return nil, fmt.Errorf("cluster: data: %w", wsrpc.ErrInvalidArgument)
		}
		return r, nil
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("cluster: encoding data: %w: %v", wsrpc.ErrInvalidArgument, err)
	}
	return raw, nil
}

func (h *Hub) publish(ctx context.Context, topics []string, data json.RawMessage, notifier string, flush bool) error {
	if h.isClosed() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return ctxErr(err, "publish")
	}
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	// Cut off from NATS, nats.go would buffer the message and report success.
	if err := h.awaitNATS(ctx); err != nil {
		return fmt.Errorf("cluster: publish: %w", err)
	}
	for _, topic := range topics {
		if topic == "" {
			return fmt.Errorf("%w: empty topic", ErrInvalidTarget)
		}
		msg := nats.NewMsg(h.subject("t", token(topic)))
		msg.Header.Set(hdrTopic, topic)
		if notifier != "" {
			msg.Header.Set(hdrNotify, notifier)
		}
		msg.Data = data
		if err := h.nc.PublishMsg(msg); err != nil {
			switch {
			case errors.Is(err, nats.ErrMaxPayload):
				return fmt.Errorf("cluster: publish %q: %w: %v", topic, wsrpc.ErrMessageTooLarge, err)
			case errors.Is(err, nats.ErrConnectionClosed):
				return ErrClosed
			}
			return fmt.Errorf("cluster: publish %q: %w", topic, err)
		}
	}
	if flush {
		if err := h.flush(ctx); err != nil {
			return fmt.Errorf("cluster: publish: %w", err)
		}
	}
	return nil
}

// onPublication fans a publication out to this node's subscribers of topic (the
// subscription's topic: AllTopics or the published one).
func (h *Hub) onPublication(subTopic string, m *nats.Msg) {
	topic := m.Header.Get(hdrTopic)
	notifier := m.Header.Get(hdrNotify)
	topicJSON, _ := json.Marshal(topic)
	type target struct {
		l  *local
		id string
	}
	h.mu.Lock()
	ts := h.topics[subTopic]
	if ts == nil || ts.sub != m.Sub {
		h.mu.Unlock()
		return
	}
	targets := make([]target, 0, len(ts.members))
	for l, id := range ts.members {
		if notifier != "" && l.ch.ID() == notifier {
			continue
		}
		targets = append(targets, target{l, id})
	}
	h.mu.Unlock()
	for _, t := range targets {
		p := make([]byte, 0, 128+len(topicJSON)+len(m.Data))
		p = append(p, `{"subscription":{"id":"`...)
		p = append(p, t.id...)
		p = append(p, `","subscriber_id":"`...)
		p = append(p, t.l.ch.ID()...)
		p = append(p, `","topic":`...)
		p = append(p, topicJSON...)
		p = append(p, `,"notifier_id":null},"data":`...)
		p = append(p, m.Data...)
		p = append(p, '}')
		h.deliver(t.l, delivery{params: p})
	}
}

// deliver queues a publication for one subscriber; a goroutine per subscriber with
// something queued writes them in order, so one slow subscriber delays only itself.
func (h *Hub) deliver(l *local, d delivery) {
	l.bmu.Lock()
	if len(l.queue) >= h.cfg.DeliveryQueue {
		l.dropped++
		n := l.dropped
		l.bmu.Unlock()
		h.stats.dropped.Add(1)
		if n == 1 || n%1000 == 0 {
			h.log.Warn("cluster: subscriber too slow, publication dropped", "channel", l.ch.ID(), "dropped", n)
		}
		return
	}
	l.queue = append(l.queue, d)
	start := !l.running
	l.running = true
	l.bmu.Unlock()
	if start && !h.spawn(func() { h.drain(l) }) {
		l.bmu.Lock()
		l.running, l.queue = false, nil
		l.bmu.Unlock()
	}
}

// maxUnanswered bounds the "notify" calls to one subscriber waiting for their answers.
const maxUnanswered = 64

func (h *Hub) drain(l *local) {
	var window []*wsrpc.Pending
	for {
		l.bmu.Lock()
		if len(l.queue) == 0 {
			if len(window) == 0 {
				l.running = false
				l.queue = nil
				l.bmu.Unlock()
				return
			}
			l.bmu.Unlock()
			h.awaitDelivery(l, window[0])
			window = window[1:]
			continue
		}
		d := l.queue[0]
		l.queue[0] = delivery{}
		l.queue = l.queue[1:]
		l.bmu.Unlock()

		ch := l.ch
		if h.ctx.Err() != nil || ch.Err() != nil {
			l.bmu.Lock()
			h.stats.dropped.Add(uint64(len(l.queue) + 1))
			l.queue = nil
			l.bmu.Unlock()
			continue
		}
		if h.cfg.NotifyAsCall || ch.Dialect() != wsrpc.DialectJSONRPC {
			p, err := ch.Go(ch.Context(), "notify", json.RawMessage(d.params))
			if err != nil {
				h.deliveryFailed(l, err)
				continue
			}
			h.stats.delivered.Add(1)
			window = append(window, p)
			if len(window) >= maxUnanswered {
				h.awaitDelivery(l, window[0])
				window = window[1:]
			}
			continue
		}
		if err := ch.Notify(ch.Context(), "notify", json.RawMessage(d.params)); err != nil {
			h.deliveryFailed(l, err)
			continue
		}
		h.stats.delivered.Add(1)
	}
}

func (h *Hub) awaitDelivery(l *local, p *wsrpc.Pending) {
	ctx, cancel := context.WithTimeout(h.ctx, h.cfg.DeliveryTimeout)
	defer cancel()
	if err := p.Wait(ctx, nil); err != nil && l.ch.Err() == nil {
		h.log.Debug("cluster: subscriber did not answer notify", "channel", l.ch.ID(), "err", err)
	}
}

func (h *Hub) deliveryFailed(l *local, err error) {
	h.stats.dropped.Add(1)
	if l.ch.Err() == nil {
		h.log.Warn("cluster: delivery failed", "channel", l.ch.ID(), "err", err)
	}
}

// Stats are counters of this node's deliveries since New.
type Stats struct {
	Delivered uint64 // publications written to a subscriber
	Dropped   uint64 // publications not written: slow subscriber, closed connection, error
}

type stats struct {
	delivered, dropped atomic.Uint64
}

// Stats returns this node's delivery counters.
func (h *Hub) Stats() Stats {
	return Stats{Delivered: h.stats.delivered.Load(), Dropped: h.stats.dropped.Load()}
}

// flush waits until the NATS server has processed everything sent so far.
func (h *Hub) flush(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.cfg.CallTimeout)
		defer cancel()
	}
	return h.nc.FlushWithContext(ctx)
}
