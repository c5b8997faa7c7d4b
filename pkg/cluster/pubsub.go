package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

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
	// Offset and Epoch: the publication's place in the history of a durable topic
	// (TopicConfig.Durable); zero on other topics. Keep the last one to recover from
	// (SubscribeSince, Resumer).
	Offset uint64 `json:"offset,omitempty"`
	Epoch  string `json:"epoch,omitempty"`
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
// (e.g. from the client's OnConnect hook, with the Channel it is given; a Resumer does
// it for durable topics, recovering what was missed).
func Subscribe(ctx context.Context, c Caller, topics ...string) error {
	return subCall(ctx, c, "subscribe", topics)
}

// SubscribeSince subscribes like Subscribe and recovers the publications of durable
// topics (TopicConfig.Durable) made after the positions in since (by topic; a durable
// topic not in it starts from now). The answer says, for each durable topic
// subscribed, where its deliveries start and whether the recovery is complete
// (Recovery.Recovered) or retention dropped part of it (Recovery.TooOld); plain topics
// are not in it. The recovered publications are delivered in order, before the later
// ones.
func SubscribeSince(ctx context.Context, c Caller, since map[string]Position, topics ...string) (map[string]Recovery, error) {
	if since == nil {
		since = map[string]Position{}
	}
	var out subscribeResult
	if err := c.Call(ctx, "subscribe", topicsParams{Topics: topics, Since: since}, &out); err != nil {
		return nil, err
	}
	if out.Topics == nil {
		out.Topics = map[string]Recovery{}
	}
	return out.Topics, nil
}

// subscribeResult answers a subscribe that gave "since".
type subscribeResult struct {
	Topics map[string]Recovery `json:"topics"`
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
	// Since (subscribe, a wsrpc extension): positions to recover durable topics from;
	// present (even empty), the answer is a subscribeResult instead of true.
	Since map[string]Position `json:"since,omitzero"`
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
//   - subscribe(topics) -> true: subscribe the calling connection; with "since"
//     ({topic: {"offset", "epoch"}}, see SubscribeSince) it recovers durable topics
//     from there and answers {"topics": {topic: Recovery}} for its durable topics;
//   - unsubscribe(topics) -> true;
//   - publish(topics, data, sync, notifier_id) -> true: publish data on each topic to
//     every subscriber on every node except the connection whose channel id is
//     notifier_id (default: the caller itself). With sync (the default) the answer
//     comes once NATS has accepted the publication, not once subscribers answered.
//     Left out with Config.NoClientPublish.
func (h *Hub) RegisterMethods(m *wsrpc.Methods) {
	wsrpc.Register(m, "subscribe", func(ctx context.Context, p topicsParams) (any, error) {
		ch := wsrpc.ChannelFromContext(ctx)
		rec, err := h.SubscribeFrom(ctx, ch, p.Since, p.Topics...)
		if err != nil {
			if errors.Is(err, ErrBadOffset) {
				return nil, &wsrpc.Error{Code: wsrpc.CodeInvalidParams, Message: err.Error()}
			}
			return nil, err
		}
		if p.Since != nil {
			return subscribeResult{Topics: rec}, nil
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

// Overflow is what a node does with a publication for a subscriber whose delivery
// queue (Config.DeliveryQueue) is full: the subscriber reads slower than the topic is
// published. Either way the subscriber's backlog on the node stays bounded; no mode
// drops publications silently.
type Overflow int

const (
	// Backpressure (the default): the node waits for room in the subscriber's queue.
	// Nothing is dropped for a subscriber that keeps reading: it gets every publication,
	// once, in publish order. Meanwhile the topic's later publications wait on that node,
	// for all its subscribers of the topic, in the node's NATS buffer, and their
	// publishers wait in Publish once Config.PublishWindow of their publications wait
	// there (the buffer, Config.TopicBuffer, bounds what publishers with no window send:
	// past it NATS drops, counted in Stats.Dropped). A subscriber that
	// stops reading altogether holds them up to the server's wsrpc.Config.WriteTimeout
	// (10 s by default), after which its connection is closed (1008 "write timeout").
	Backpressure Overflow = iota
	// Disconnect: the node closes the slow subscriber's connection (with close code
	// 1000, as wsrpc.Channel.Close does, and a warning in the node's log; its client
	// reconnects and subscribes again; what was queued for it is counted in
	// Stats.Dropped, the disconnection in Stats.Disconnected), so that it never delays
	// the topic's other subscribers. Nothing else is dropped.
	Disconnect
)

func (o Overflow) String() string {
	switch o {
	case Backpressure:
		return "backpressure"
	case Disconnect:
		return "disconnect"
	}
	return "Overflow(" + strconv.Itoa(int(o)) + ")"
}

// TopicConfig configures the delivery of one topic (Config.Topics).
type TopicConfig struct {
	Overflow Overflow
	// Durable keeps the topic's publications in a JetStream stream (the NATS server
	// must run JetStream; the embedded one does when a topic is durable): each delivery
	// carries its offset and the stream's epoch (Subscription.Offset, Epoch), and a
	// subscriber that comes back, on any node, recovers what it missed from its last
	// offset (SubscribeSince, Resumer). Publish returns once the stream has stored the
	// publication. Subscribers read the stream at their own pace (Overflow does not
	// apply): a slow one lags behind without delaying anybody, until retention drops
	// what it has not read; then it is disconnected, and told TooOld when it
	// subscribes again.
	Durable bool
	// MaxMsgs and MaxAge bound a durable topic's history: the oldest publications are
	// dropped past MaxMsgs (default DefaultHistoryMsgs, 100,000; negative: no bound) or
	// once older than MaxAge (default DefaultHistoryAge, 1 h; negative: no bound).
	MaxMsgs int64
	MaxAge  time.Duration
}

// topicState is this node's interest in one topic.
type topicState struct {
	sub       *nats.Subscription   // core NATS; nil for a durable topic
	followers map[*local]*follower // durable topic: each member's reader of the stream
	members   map[*local]string    // connection -> subscription id
	ctr       counters             // deliveries through this subscription
}

type delivery struct {
	params []byte
	ctr    *counters // the topic subscription's
}

// Subscribe subscribes a connection of an attached server (e.g. from OnConnect or a
// handler's ChannelFromContext) to topics, cluster-wide. It is idempotent per topic.
// When it returns, publications made afterwards through the same NATS server reach ch.
func (h *Hub) Subscribe(ctx context.Context, ch *wsrpc.Channel, topics ...string) error {
	_, err := h.SubscribeFrom(ctx, ch, nil, topics...)
	return err
}

// SubscribeFrom is Subscribe that recovers durable topics (TopicConfig.Durable) from
// the positions in since (see SubscribeSince): it returns, for each durable topic it
// subscribed ch to, where its deliveries start and whether the recovery is complete.
// An offset the topic never reached in that epoch fails with ErrBadOffset.
func (h *Hub) SubscribeFrom(ctx context.Context, ch *wsrpc.Channel, since map[string]Position, topics ...string) (map[string]Recovery, error) {
	if ch == nil {
		return nil, ErrNoTarget
	}
	var plain []string
	out := map[string]Recovery{}
	var err error
	for _, topic := range topics {
		if !h.durableTopic(topic) {
			plain = append(plain, topic)
			continue
		}
		var from *Position
		if p, ok := since[topic]; ok {
			from = &p
		}
		rec, derr := h.subscribeDurable(ctx, ch, topic, from)
		switch {
		case derr == nil:
			out[topic] = rec
		case errors.Is(derr, errSubscribed):
		default:
			err = errors.Join(err, derr)
		}
	}
	if len(plain) > 0 || len(topics) == 0 {
		err = errors.Join(err, h.subscribePlain(ctx, ch, plain))
	}
	return out, err
}

func (h *Hub) subscribePlain(ctx context.Context, ch *wsrpc.Channel, topics []string) error {
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
	added, joined := false, false
	var err error
	for _, topic := range topics {
		if topic == "" {
			continue
		}
		if _, ok := l.topics[topic]; ok || h.durableTopic(topic) {
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
			_ = sub.SetPendingLimits(-1, h.cfg.TopicBuffer)
			ts = &topicState{sub: sub, members: map[*local]string{}}
			h.topics[topic] = ts
			added = true
		}
		id := randomID()
		ts.members[l] = id
		l.topics[topic] = id
		joined = true
	}
	if joined {
		h.presenceLocal(eventTopics, l)
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
	left := false
	for _, topic := range topics {
		if _, ok := l.topics[topic]; ok {
			h.leaveTopicLocked(l, topic)
			left = true
		}
	}
	if left {
		h.presenceLocal(eventTopics, l)
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
	if f := ts.followers[l]; f != nil {
		delete(ts.followers, l)
		f.stop()
	}
	if len(ts.members) == 0 {
		delete(h.topics, topic)
		if ts.sub == nil {
			return
		}
		if n, err := ts.sub.Dropped(); err == nil && n > 0 {
			h.stats.natsDropped.Add(uint64(n))
		}
		if !h.closed {
			_ = ts.sub.Unsubscribe()
		}
	}
}

// Publish sends data (anything encoding/json encodes; a json.RawMessage as is) on topic
// to every subscriber on every node. It returns once the publication is handed to NATS
// (ErrUnavailable when the hub is cut off from NATS past Config.ReachTimeout); delivery
// is asynchronous. On a Backpressure topic, when Config.PublishWindow of this hub's
// publications are not yet queued for their subscribers on some node (slow
// subscribers), Publish first waits for one of them to be, up to ctx (then it fails
// with ctx's error, wsrpc.ErrTimeout for a deadline, and nothing is sent).
// Subscribers that are reconnecting when it is published miss it (core NATS, no replay),
// unless the topic is durable (TopicConfig.Durable): Publish then returns once the
// topic's stream has stored it, and they recover it.
func (h *Hub) Publish(ctx context.Context, topic string, data any) error {
	raw, err := marshalData(data)
	if err != nil {
		return err
	}
	return h.publish(ctx, []string{topic}, raw, "", false)
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
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
		id, err := h.acquire(ctx, topic)
		if err != nil {
			return err
		}
		msg := nats.NewMsg(h.subject("t", token(topic)))
		msg.Header.Set(hdrTopic, topic)
		if notifier != "" {
			msg.Header.Set(hdrNotify, notifier)
		}
		if id != 0 {
			msg.Reply = h.flow.subject
			msg.Header.Set(hdrPubID, strconv.FormatUint(id, 10))
		}
		msg.Data = data
		if h.durableTopic(topic) {
			if err := h.publishDurable(ctx, topic, msg); err != nil {
				return err
			}
			continue
		}
		if err := h.nc.PublishMsg(msg); err != nil {
			h.release(id)
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
// subscription's topic: AllTopics or the published one). It runs on the subscription's
// own goroutine, so with Backpressure waiting here holds up only this topic.
func (h *Hub) onPublication(subTopic string, m *nats.Msg) {
	topic := m.Header.Get(hdrTopic)
	notifier := m.Header.Get(hdrNotify)
	overflow := h.cfg.Topics[topic].Overflow
	type target struct {
		l  *local
		id string
	}
	defer h.answerPublication(m) // queued for every subscriber here
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
		p := subscriptionHead(t.id, t.l.ch.ID(), topic)
		p = append(p, `},"data":`...)
		p = append(p, m.Data...)
		p = append(p, '}')
		h.deliver(t.l, delivery{params: p, ctr: &ts.ctr}, overflow)
	}
}

// deliver queues a publication for one subscriber; a goroutine per subscriber with
// something queued writes them in order, so that a slow subscriber delays only itself
// (and, with Backpressure, the publications of the topics it slows down). A full queue
// makes it wait for room (Backpressure) or close the connection (Disconnect).
func (h *Hub) deliver(l *local, d delivery, overflow Overflow) {
	l.bmu.Lock()
	waited := false
	for len(l.queue) >= h.cfg.DeliveryQueue && !l.evicted {
		if overflow == Disconnect {
			h.evictLocked(l, d)
			l.bmu.Unlock()
			return
		}
		if l.room == nil {
			l.room = make(chan struct{})
		}
		room := l.room
		l.bmu.Unlock()
		if !waited {
			waited = true
			h.stats.waited.Add(1)
			d.ctr.waited.Add(1)
		}
		select {
		case <-room:
		case <-l.ch.Done():
		case <-h.ctx.Done():
		}
		l.bmu.Lock()
		if l.ch.Err() != nil || h.ctx.Err() != nil {
			l.bmu.Unlock()
			h.drop(d, 1) // the connection or the hub closed meanwhile
			return
		}
	}
	if l.evicted {
		l.bmu.Unlock()
		h.drop(d, 1)
		return
	}
	l.queue = append(l.queue, d)
	start := !l.running
	l.running = true
	l.bmu.Unlock()
	if start && !h.spawn(func() { h.drain(l) }) {
		l.bmu.Lock()
		n := len(l.queue)
		l.running, l.queue = false, nil
		l.bmu.Unlock()
		h.stats.dropped.Add(uint64(n))
	}
}

// evictLocked (l.bmu held) disconnects a subscriber whose queue overflowed, dropping
// what was queued for it and d.
func (h *Hub) evictLocked(l *local, d delivery) {
	l.evicted = true
	n := len(l.queue)
	for _, q := range l.queue {
		q.ctr.dropped.Add(1)
	}
	l.queue = nil
	h.stats.dropped.Add(uint64(n))
	h.drop(d, 1)
	h.stats.disconnected.Add(1)
	d.ctr.disconnected.Add(1)
	h.log.Warn("cluster: subscriber too slow; closing its connection (Overflow Disconnect)",
		"channel", l.ch.ID(), "queued", n, "queue", h.cfg.DeliveryQueue)
	ch := l.ch
	h.spawn(func() { _ = ch.Close() })
}

func (h *Hub) drop(d delivery, n uint64) {
	h.stats.dropped.Add(n)
	d.ctr.dropped.Add(n)
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
		if l.room != nil {
			close(l.room)
			l.room = nil
		}
		l.bmu.Unlock()

		ch := l.ch
		if h.ctx.Err() != nil || ch.Err() != nil {
			l.bmu.Lock()
			for _, q := range l.queue {
				q.ctr.dropped.Add(1)
			}
			h.drop(d, uint64(len(l.queue)+1))
			l.queue = nil
			l.bmu.Unlock()
			continue
		}
		if h.cfg.NotifyAsCall || ch.Dialect() != wsrpc.DialectJSONRPC {
			p, err := ch.Go(ch.Context(), "notify", json.RawMessage(d.params))
			if err != nil {
				h.deliveryFailed(l, d, err)
				continue
			}
			h.stats.delivered.Add(1)
			d.ctr.delivered.Add(1)
			window = append(window, p)
			if len(window) >= maxUnanswered {
				h.awaitDelivery(l, window[0])
				window = window[1:]
			}
			continue
		}
		if err := ch.Notify(ch.Context(), "notify", json.RawMessage(d.params)); err != nil {
			h.deliveryFailed(l, d, err)
			continue
		}
		h.stats.delivered.Add(1)
		d.ctr.delivered.Add(1)
	}
}

func (h *Hub) awaitDelivery(l *local, p *wsrpc.Pending) {
	ctx, cancel := context.WithTimeout(h.ctx, h.cfg.DeliveryTimeout)
	defer cancel()
	if err := p.Wait(ctx, nil); err != nil && l.ch.Err() == nil {
		h.log.Debug("cluster: subscriber did not answer notify", "channel", l.ch.ID(), "err", err)
	}
}

func (h *Hub) deliveryFailed(l *local, d delivery, err error) {
	h.drop(d, 1)
	if l.ch.Err() == nil {
		h.log.Warn("cluster: delivery failed", "channel", l.ch.ID(), "err", err)
	}
}

// Stats are counters of this node's deliveries since New.
type Stats struct {
	Delivered uint64 // publications written to a subscriber
	// Dropped: publications not written to a subscriber: its connection closed first
	// (or was closed by Disconnect), a write failed, or NATS dropped them for this node
	// before they were queued (Config.TopicBuffer overflowed).
	Dropped uint64
	// Waited: publications that found their subscriber's queue full and waited for room
	// (Backpressure).
	Waited uint64
	// Disconnected: subscribers whose connection was closed because their queue was
	// full (Disconnect).
	Disconnected uint64
	// PublishWaited: Publish calls of this hub that waited for slow subscribers
	// (Config.PublishWindow); Unanswered: publications whose subscribed nodes did not
	// all answer within Config.DeliveryTimeout (lost in a NATS outage, or a node
	// stalled), no longer waited for.
	PublishWaited, Unanswered uint64
}

type counters struct {
	delivered, dropped, waited, disconnected atomic.Uint64
}

func (c *counters) load() Stats {
	return Stats{Delivered: c.delivered.Load(), Dropped: c.dropped.Load(), Waited: c.waited.Load(), Disconnected: c.disconnected.Load()}
}

type stats struct {
	counters
	natsDropped               atomic.Uint64 // by NATS, on topic subscriptions since removed
	publishWaited, unanswered atomic.Uint64
}

// Stats returns this node's delivery counters.
func (h *Hub) Stats() Stats {
	s := h.stats.load()
	s.Dropped += h.stats.natsDropped.Load()
	s.PublishWaited, s.Unanswered = h.stats.publishWaited.Load(), h.stats.unanswered.Load()
	h.mu.Lock()
	for _, ts := range h.topics {
		if ts.sub == nil {
			continue
		}
		if n, err := ts.sub.Dropped(); err == nil {
			s.Dropped += uint64(n)
		}
	}
	h.mu.Unlock()
	return s
}

// TopicStats describes one topic as this node sees it.
type TopicStats struct {
	// Subscribers is the number of connections subscribed to the topic in the cluster,
	// as this node's replica of presence knows them (AllTopics subscribers not counted).
	Subscribers int
	// Local is the number of this node's connections subscribed to the topic.
	Local int
	// Stats are this node's delivery counters for the topic, since its first local
	// subscriber (they restart when the topic has had no local subscriber).
	Stats
}

// TopicStats returns what this node knows of topic.
func (h *Hub) TopicStats(topic string) TopicStats {
	h.pres.mu.Lock()
	out := TopicStats{Subscribers: h.pres.topics[topic]}
	h.pres.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	ts := h.topics[topic]
	if ts == nil {
		return out
	}
	out.Local, out.Stats = len(ts.members), ts.ctr.load()
	if ts.sub == nil {
		return out
	}
	if n, err := ts.sub.Dropped(); err == nil {
		out.Dropped += uint64(n)
	}
	return out
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
