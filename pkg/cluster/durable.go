package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// Durable topics (TopicConfig.Durable). Their publications are stored in a JetStream
// stream of their own, which captures the topic's subject (so that AllTopics
// subscribers still get them, live, without offsets). Each publication's offset is its
// sequence number in the stream, and the stream's epoch is its creation time: a stream
// deleted and created again has a new epoch, so that an offset of the old one is never
// taken for one of the new one.
//
// Each subscriber of a durable topic reads the stream through an ordered consumer of its
// own, from the position it subscribed at (the stream's last offset, or the offset it
// asked to recover from), and its node writes what it reads into the subscriber's
// delivery queue, waiting for room: a slow subscriber lags behind in the stream, never
// delays anybody else, and loses nothing while the stream keeps what it has not read.
// When retention (MaxMsgs, MaxAge) drops publications it has not read, its node closes
// its connection (counted in Stats.Dropped and Stats.Disconnected); when it subscribes
// again from its last offset it is told that the publications it missed are too old.

// Default retention of a durable topic's history (TopicConfig.MaxMsgs, MaxAge).
const (
	DefaultHistoryMsgs = 100_000
	DefaultHistoryAge  = time.Hour
)

// ErrBadOffset: a subscription asked to recover from an offset the topic's stream has
// not reached in that epoch (a position that was never delivered).
var ErrBadOffset = errors.New("cluster: offset beyond the topic's history")

// Position is a place in a durable topic's history: the offset of the last publication
// received, and the epoch of the stream it belongs to.
type Position struct {
	Offset uint64 `json:"offset"`
	Epoch  string `json:"epoch"`
}

// Recovery is what the server says of a subscription to a durable topic.
type Recovery struct {
	// Position is where the subscription starts: deliveries follow it. When recovering,
	// it is the position asked for (Recovered) or the one before the oldest publication
	// the history still holds (TooOld); else it is the topic's latest publication.
	Position
	// Recovered: every publication after the position asked for is delivered (false
	// when no position was given, the epoch changed, or TooOld).
	Recovered bool `json:"recovered"`
	// TooOld: retention dropped some publications after the position asked for; those
	// the history still holds are delivered.
	TooOld bool `json:"too_old,omitempty"`
}

// durableTopic reports whether topic is durable on this hub.
func (h *Hub) durableTopic(topic string) bool {
	return topic != AllTopics && h.cfg.Topics[topic].Durable
}

func (h *Hub) anyDurable() bool {
	for topic := range h.cfg.Topics {
		if h.durableTopic(topic) {
			return true
		}
	}
	return false
}

// streamName is the JetStream stream of a durable topic.
func (h *Hub) streamName(topic string) string {
	return token(h.cfg.Prefix) + "_" + token(topic)
}

// stream returns the stream of a durable topic, creating it (or updating its
// retention) on this hub's first use.
func (h *Hub) stream(ctx context.Context, topic string) (jetstream.Stream, error) {
	h.smu.Lock()
	st := h.streams[topic]
	h.smu.Unlock()
	if st != nil {
		return st, nil
	}
	tc := h.cfg.Topics[topic]
	maxMsgs, maxAge := tc.MaxMsgs, tc.MaxAge
	if maxMsgs == 0 {
		maxMsgs = DefaultHistoryMsgs
	}
	if maxAge == 0 {
		maxAge = DefaultHistoryAge
	}
	cfg := jetstream.StreamConfig{
		Name:      h.streamName(topic),
		Subjects:  []string{h.subject("t", token(topic))},
		Storage:   jetstream.FileStorage,
		Retention: jetstream.LimitsPolicy,
		Discard:   jetstream.DiscardOld,
		MaxMsgs:   max(maxMsgs, -1),
		MaxAge:    max(maxAge, 0),
	}
	st, err := h.js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster: the stream of durable topic %q: %w", topic, natsErr(err))
	}
	h.smu.Lock()
	h.streams[topic] = st
	h.smu.Unlock()
	return st, nil
}

// forgetStream drops a cached stream (deleted behind the hub's back, say).
func (h *Hub) forgetStream(topic string) {
	h.smu.Lock()
	delete(h.streams, topic)
	h.smu.Unlock()
}

func epochOf(info *jetstream.StreamInfo) string {
	return strconv.FormatInt(info.Created.UnixNano(), 10)
}

// publishDurable stores a publication in its topic's stream and returns once JetStream
// has it.
func (h *Hub) publishDurable(ctx context.Context, topic string, msg *nats.Msg) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.cfg.CallTimeout)
		defer cancel()
	}
	for attempt := 0; ; attempt++ {
		if _, err := h.stream(ctx, topic); err != nil {
			return err
		}
		_, err := h.js.PublishMsg(ctx, msg)
		if err == nil {
			return nil
		}
		if attempt == 0 && (errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders)) {
			h.forgetStream(topic) // deleted meanwhile: create it again
			continue
		}
		return fmt.Errorf("cluster: publish %q: %w", topic, natsErr(err))
	}
}

// natsErr maps NATS errors to the package's: a context's to wsrpc's, a closed
// connection to ErrClosed, no JetStream to ErrUnavailable.
func natsErr(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %v", wsrpc.ErrTimeout, err)
	case errors.Is(err, nats.ErrConnectionClosed):
		return ErrClosed
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount),
		errors.Is(err, nats.ErrNoResponders):
		return fmt.Errorf("%w: JetStream: %v", ErrUnavailable, err)
	}
	return err
}

// follower reads a durable topic's stream for one subscriber.
type follower struct {
	it     jetstream.MessagesContext
	cons   jetstream.Consumer
	stream string
	once   sync.Once
	done   chan struct{}
}

func (f *follower) stop() {
	f.once.Do(func() {
		close(f.done)
		f.it.Stop()
	})
}

// subscribeDurable subscribes l to a durable topic from since (nil: from now).
func (h *Hub) subscribeDurable(ctx context.Context, ch *wsrpc.Channel, topic string, since *Position) (Recovery, error) {
	h.mu.Lock()
	l := h.locals[ch.ID()]
	already := l != nil && l.ch == ch && l.topics[topic] != ""
	h.mu.Unlock()
	if already { // idempotent, as for plain topics: no second recovery
		return Recovery{}, errSubscribed
	}
	st, err := h.stream(ctx, topic)
	if err != nil {
		return Recovery{}, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			h.forgetStream(topic)
		}
		return Recovery{}, fmt.Errorf("cluster: subscribe %q: %w", topic, natsErr(err))
	}
	epoch, s := epochOf(info), info.State
	rec := Recovery{Position: Position{Offset: s.LastSeq, Epoch: epoch}}
	if since != nil && since.Epoch == epoch {
		switch {
		case since.Offset > s.LastSeq:
			return Recovery{}, fmt.Errorf("%w: topic %q: offset %d, latest %d", ErrBadOffset, topic, since.Offset, s.LastSeq)
		case since.Offset == s.LastSeq || since.Offset+1 >= s.FirstSeq:
			rec.Offset, rec.Recovered = since.Offset, true
		default: // the history no longer starts right after since
			rec.Offset, rec.TooOld = s.FirstSeq-1, true
		}
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       rec.Offset + 1,
		InactiveThreshold: max(time.Minute, 2*h.cfg.DeliveryTimeout),
	})
	if err != nil {
		return Recovery{}, fmt.Errorf("cluster: subscribe %q: %w", topic, natsErr(err))
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(256))
	if err != nil {
		return Recovery{}, fmt.Errorf("cluster: subscribe %q: %w", topic, natsErr(err))
	}
	f := &follower{it: it, cons: cons, stream: h.streamName(topic), done: make(chan struct{})}

	h.mu.Lock()
	l = h.registerLocked(ch)
	if l == nil || h.closed {
		h.mu.Unlock()
		f.stop()
		if h.isClosed() {
			return Recovery{}, ErrClosed
		}
		return Recovery{}, fmt.Errorf("%w: channel %s has closed", ErrNoTarget, ch.ID())
	}
	if _, ok := l.topics[topic]; ok { // subscribed meanwhile
		h.mu.Unlock()
		f.stop()
		return Recovery{}, errSubscribed
	}
	ts := h.topics[topic]
	if ts == nil {
		ts = &topicState{members: map[*local]string{}, followers: map[*local]*follower{}}
		h.topics[topic] = ts
	}
	id := randomID()
	ts.members[l] = id
	ts.followers[l] = f
	l.topics[topic] = id
	h.presenceLocal(eventTopics, l)
	ctr := &ts.ctr
	h.mu.Unlock()
	if !h.spawn(func() { h.follow(l, topic, id, epoch, rec.Offset, f, ctr) }) {
		f.stop()
	}
	return rec, nil
}

var errSubscribed = errors.New("already subscribed")

// follow writes a durable topic's publications, read from its stream after offset
// last, into l's delivery queue, until f is stopped.
func (h *Hub) follow(l *local, topic, subID, epoch string, last uint64, f *follower, ctr *counters) {
	defer h.dropConsumer(f)
	head := subscriptionHead(subID, l.ch.ID(), topic)
	tail := []byte(`,"epoch":"` + epoch + `"},"data":`)
	for {
		msg, err := f.it.Next()
		if err != nil {
			select {
			case <-f.done:
				return
			default:
			}
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) || errors.Is(err, nats.ErrConnectionClosed) {
				return
			}
			h.log.Debug("cluster: reading a durable topic", "topic", topic, "err", err)
			select { // transient (NATS reconnecting): the ordered consumer starts again
			case <-f.done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		md, err := msg.Metadata()
		if err != nil {
			continue
		}
		seq := md.Sequence.Stream
		if seq <= last {
			continue // delivered already
		}
		if seq > last+1 { // retention dropped what this subscriber had not read yet
			h.lagged(l, topic, seq-last-1, ctr)
			return
		}
		last = seq
		if n := msg.Headers().Get(hdrNotify); n != "" && n == l.ch.ID() {
			continue
		}
		p := make([]byte, 0, len(head)+len(tail)+24+len(msg.Data()))
		p = append(p, head...)
		p = append(p, `,"offset":`...)
		p = strconv.AppendUint(p, seq, 10)
		p = append(p, tail...)
		p = append(p, msg.Data()...)
		p = append(p, '}')
		h.deliver(l, delivery{params: p, ctr: ctr}, Backpressure)
	}
}

// dropConsumer stops f and deletes its consumer from the server at once (it would go
// after its inactive threshold anyway).
func (h *Hub) dropConsumer(f *follower) {
	f.stop()
	if h.ctx.Err() != nil {
		return // the hub is closing: its connection with it
	}
	if info := f.cons.CachedInfo(); info != nil {
		ctx, cancel := context.WithTimeout(h.ctx, h.cfg.ReachTimeout)
		defer cancel()
		_ = h.js.DeleteConsumer(ctx, f.stream, info.Name)
	}
}

// lagged disconnects a durable topic's subscriber that retention overtook; it
// subscribes again from its last offset and is told TooOld.
func (h *Hub) lagged(l *local, topic string, missed uint64, ctr *counters) {
	h.stats.dropped.Add(missed)
	ctr.dropped.Add(missed)
	h.stats.disconnected.Add(1)
	ctr.disconnected.Add(1)
	h.log.Warn("cluster: subscriber overtaken by the retention of a durable topic; closing its connection",
		"channel", l.ch.ID(), "topic", topic, "missed", missed)
	l.bmu.Lock()
	l.evicted = true
	l.bmu.Unlock()
	ch := l.ch
	h.spawn(func() { _ = ch.Close() })
}

// subscriptionHead is the start of a "notify"'s params, up to the subscription's
// notifier_id: {"subscription":{"id":..,"subscriber_id":..,"topic":..,"notifier_id":null
func subscriptionHead(subID, channelID, topic string) []byte {
	topicJSON := jsonString(topic)
	p := make([]byte, 0, 96+len(subID)+len(channelID)+len(topicJSON))
	p = append(p, `{"subscription":{"id":"`...)
	p = append(p, subID...)
	p = append(p, `","subscriber_id":"`...)
	p = append(p, channelID...)
	p = append(p, `","topic":`...)
	p = append(p, topicJSON...)
	p = append(p, `,"notifier_id":null`...)
	return p
}
