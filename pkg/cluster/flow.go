package cluster

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Publisher flow control (Backpressure topics). A publication carries a reply subject;
// each node that receives it answers once it has queued it for all its subscribers of
// the topic, that is once they had room (deliver). The publishing hub counts the
// publications not yet answered by every node that presence lists as subscribing
// (Config.PublishWindow); at the limit, Publish waits until one is, or until its ctx
// ends. So a slow subscriber slows its publishers down instead of piling their
// publications up on its node. A node that is lost, leaves, or no longer lists the
// topic is not waited for; nor is an answer past Config.DeliveryTimeout (a publication
// lost in a NATS outage): counted in Stats.Unanswered.

const hdrPubID = "Wsrpc-Pub"

// DefaultPublishWindow is the default of Config.PublishWindow.
const DefaultPublishWindow = 1024

type flow struct {
	mu      sync.Mutex
	next    uint64
	pending map[uint64]*pubWait
	slots   chan struct{} // one per publication waiting for answers
	sub     *nats.Subscription
	subject string
}

type pubWait struct {
	topic  string
	expect map[incarnation]struct{}
	since  time.Time
}

func (h *Hub) startFlow() error {
	f := &h.flow
	f.pending = map[uint64]*pubWait{}
	if h.cfg.PublishWindow < 0 {
		return nil
	}
	f.slots = make(chan struct{}, h.cfg.PublishWindow)
	f.subject = h.subject("ack", token(h.node), randomID()[:12])
	sub, err := h.nc.Subscribe(f.subject, h.onPubAck)
	if err != nil {
		return fmt.Errorf("cluster: subscribe: %w", err)
	}
	f.sub = sub
	h.hubSubs = append(h.hubSubs, sub)
	return nil
}

// topicNodes returns the incarnations presence lists as having subscribers of topic
// (or of AllTopics), this node included.
func (h *Hub) topicNodes(topic string) map[incarnation]struct{} {
	p := &h.pres
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[incarnation]struct{}{}
	for id, v := range p.nodes {
		if v.listsTopic(topic) {
			out[incarnation{id, v.inc}] = struct{}{}
		}
	}
	return out
}

func (v *nodeView) listsTopic(topic string) bool {
	return v.topics[topic] > 0 || v.topics[AllTopics] > 0
}

// acquire takes a slot of the publish window for a publication of topic, waiting up to
// ctx; it returns the id to send with it, or 0 when no node is to be waited for.
func (h *Hub) acquire(ctx context.Context, topic string) (uint64, error) {
	f := &h.flow
	if f.slots == nil || h.cfg.Topics[topic].Overflow != Backpressure || h.durableTopic(topic) {
		return 0, nil
	}
	expect := h.topicNodes(topic)
	if len(expect) == 0 {
		return 0, nil
	}
	select {
	case f.slots <- struct{}{}:
	default:
		h.stats.publishWaited.Add(1)
		select {
		case f.slots <- struct{}{}:
		case <-ctx.Done():
			return 0, ctxErr(ctx.Err(), "publish (waiting for slow subscribers)")
		case <-h.ctx.Done():
			return 0, ErrClosed
		}
	}
	f.mu.Lock()
	f.next++
	id := f.next
	f.pending[id] = &pubWait{topic: topic, expect: expect, since: time.Now()}
	f.mu.Unlock()
	return id, nil
}

// release gives back the slot of a publication that was not sent.
func (h *Hub) release(id uint64) {
	f := &h.flow
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pending[id]; ok {
		delete(f.pending, id)
		<-f.slots
	}
}

// answerPublication tells the publisher of m that this node has queued it.
func (h *Hub) answerPublication(m *nats.Msg) {
	id := m.Header.Get(hdrPubID)
	if m.Reply == "" || id == "" {
		return
	}
	inc := h.incarnation()
	_ = h.nc.Publish(m.Reply, []byte(id+" "+h.node+" "+inc))
}

func (h *Hub) onPubAck(m *nats.Msg) {
	idText, rest, _ := strings.Cut(string(m.Data), " ")
	node, inc, _ := strings.Cut(rest, " ")
	id, err := strconv.ParseUint(idText, 10, 64)
	if err != nil {
		return
	}
	f := &h.flow
	f.mu.Lock()
	defer f.mu.Unlock()
	if pw := f.pending[id]; pw != nil {
		delete(pw.expect, incarnation{node, inc})
		f.doneIfAnsweredLocked(id, pw)
	}
}

func (f *flow) doneIfAnsweredLocked(id uint64, pw *pubWait) {
	if len(pw.expect) == 0 {
		delete(f.pending, id)
		<-f.slots
	}
}

// sweepFlow (presence loop) stops waiting for nodes that presence no longer lists as
// subscribing (lost, gone, re-incarnated, unsubscribed), and for answers older than
// Config.DeliveryTimeout.
func (h *Hub) sweepFlow() {
	f := &h.flow
	if f.slots == nil {
		return
	}
	p := &h.pres
	p.mu.Lock()
	defer p.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	for id, pw := range f.pending {
		if now.Sub(pw.since) > h.cfg.DeliveryTimeout {
			h.stats.unanswered.Add(1)
			clear(pw.expect)
		}
		for n := range pw.expect {
			if v := p.nodes[n.node]; v == nil || v.inc != n.inc || !v.listsTopic(pw.topic) {
				delete(pw.expect, n)
			}
		}
		f.doneIfAnsweredLocked(id, pw)
	}
}
