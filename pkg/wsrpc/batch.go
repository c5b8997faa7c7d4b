package wsrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc/internal/wire"
)

// Batches (JSON-RPC 2.0 §6). A wsrpc peer answers a JSON array of requests with one array
// of their answers; the Python libraries answer it with one -32600 error object and run
// none of it. Python clients never send arrays, and wsrpc sends one only when its user
// sends a batch, so Python peers see no change (see the spec's EXTENSIONS.md).

// ErrBatchUnsupported: the peer answered a batch with one error object instead of the
// answers of its entries (the Python libraries do: -32600 "Expected dict, got <class
// 'list'>"), or the connection speaks the legacy dialect, which has no batches. None of
// the batch ran on the peer. With SplitUnsupported the entries are sent one by one instead.
var ErrBatchUnsupported error = &sentinel{msg: "wsrpc: the peer does not support batch requests"}

// batchInvalid is the error object of an invalid batch, or of a batch member that is
// not an object (JSON-RPC 2.0 §7's texts: these replies only ever go to batch senders).
var batchInvalid = wire.ErrorObject{Code: CodeInvalidRequest, Message: "Invalid Request"}

// batchReply collects the answers of an incoming batch's members; the last member to
// finish sends them as one array.
type batchReply struct {
	ids     [][]byte // by member position: the id of the entry (nil: none or null)
	entries [][]byte // by member position: the encoded answer, nil for none
	left    atomic.Int32
}

// put records member i's answer (nil: none); each member calls it exactly once, and the
// reader once more when it has dispatched them all.
func (b *batchReply) put(c *Channel, i int, id, out []byte) {
	if i >= 0 {
		b.ids[i], b.entries[i] = id, out // distinct members: distinct elements
	}
	if b.left.Add(-1) == 0 { // (the atomic orders every put before the send)
		c.sendBatchReply(b)
	}
}

// handleBatch answers an incoming batch (on the reader; JSON-RPC connections only): each
// member is handled as a message of its own, requests and notifications concurrently, and
// the answers go back in one array, in the members' order. An empty batch, or one over
// Config.MaxBatchSize, gets one -32600 error object; a batch of notifications (and
// answers) gets nothing.
func (c *Channel) handleBatch(data []byte) {
	limit := c.cfg.batchLimit()
	members, over := wire.ArrayMembers(data, limit)
	if over {
		c.cfg.Logger.Warn("wsrpc: batch too large", "channel", c.id, "limit", limit)
		e := wire.ErrorObject{Code: CodeInvalidRequest, Message: fmt.Sprintf("Invalid Request: batch of more than %d requests", limit)}
		// The id is null (JSON-RPC 2.0 §6); data names the batch's first call, so that a
		// sender with several batches outstanding knows which one this is.
		all, _ := wire.ArrayMembers(data, -1)
		for _, raw := range all {
			if m := wire.Parse(raw); m.Kind == wire.KindRequest && m.ID != nil {
				e.Data = append(append([]byte(`{"first_id":`), m.ID...), '}')
				break
			}
		}
		c.sendError(nil, e)
		return
	}
	if len(members) == 0 {
		c.sendError(nil, batchInvalid)
		return
	}
	b := &batchReply{ids: make([][]byte, len(members)), entries: make([][]byte, len(members))}
	b.left.Store(int32(len(members)) + 1)
	for i, raw := range members {
		m := wire.Parse(raw)
		switch m.Kind {
		case wire.KindRequest:
			if c.ext && c.cancelRequested(&m) {
				b.put(c, i, nil, nil)
				continue
			}
			r := request{id: m.ID, name: m.Method, params: m.Params, batch: b, idx: i}
			if c.ext {
				r.meta = m.Incoming.Meta
			}
			c.dispatch(r)
		case wire.KindResponse:
			c.complete(&m, 0) // (a member: its result is copied when kept)
			b.put(c, i, nil, nil)
		default:
			if c.completeBare(&m) {
				b.put(c, i, nil, nil)
				continue
			}
			e, id := batchInvalid, []byte(nil)
			if wire.FirstByte(raw) == '{' && m.Reply != nil {
				e = *m.Reply
				if e.Code != CodeParseError {
					id = m.ID
				}
			}
			c.stats.errorsOut.Add(1)
			b.put(c, i, id, wire.EncodeError(id, e))
		}
	}
	// The reader's own share: when it is the last, the reply goes out from a goroutine of
	// its own (writing may wait for the peer to read).
	if b.left.Add(-1) == 0 {
		c.handlers.Add(1)
		go func() {
			defer c.handlers.Done()
			c.sendBatchReply(b)
		}()
	}
}

// sendBatchReply sends a batch's answers as one array, or nothing when it has none. When
// the array is over the message size limit, its results are replaced by -32603 errors
// (as for a single reply too large to send).
func (c *Channel) sendBatchReply(b *batchReply) {
	entries := b.entries[:0:0]
	for _, e := range b.entries {
		if e != nil {
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		return
	}
	err := c.send(wire.AppendBatch(nil, entries))
	if errors.Is(err, ErrMessageTooLarge) && !c.isClosed() {
		c.cfg.Logger.Error("wsrpc: batch reply too large to send", "channel", c.id, "err", err)
		entries = entries[:0]
		for i, e := range b.entries {
			switch {
			case e == nil:
			case bytes.Contains(e, []byte(`"result":`)) && wire.Parse(e).Error == nil:
				entries = append(entries, wire.EncodeError(b.ids[i], wire.ErrorObject{Code: CodeInternalError, Message: "Internal server error"}))
			default:
				entries = append(entries, e)
			}
		}
		err = c.send(wire.AppendBatch(nil, entries))
	}
	if err != nil {
		c.reportError(fmt.Errorf("wsrpc: sending batch reply: %w", err))
	}
}

// Batch support of the peer, as learnt on a connection (Channel.batchPeer).
const (
	batchUnknown int32 = iota
	batchYes           // the peer answered a batch entry, or is a wsrpc peer (extensions)
	batchNo            // the peer answered a batch with "Expected dict"
)

// maxBatchRecords bounds the batches a connection remembers while it waits to learn
// whether its peer supports them.
const maxBatchRecords = 1024

// batchRecord is a sent batch whose fate is unknown: the peer may answer it with one error
// object (see batchRefused).
type batchRecord struct {
	calls   []*Pending
	members [][]byte // each entry as a message of its own (for SplitUnsupported)
	split   bool
	sent    time.Time
}

// BatchOption changes a Batch.
type BatchOption func(*Batch)

// SplitUnsupported makes a batch that the peer does not support (see ErrBatchUnsupported)
// go out again as single calls and notifications, with the same ids; later batches on the
// same connection then go out as single messages straight away.
func SplitUnsupported() BatchOption { return func(b *Batch) { b.split = true } }

// Batch is a JSON-RPC 2.0 batch: calls and notifications sent together in one message,
// which a wsrpc peer runs concurrently and answers in one message. Add entries with Call
// and Notify, then Send; each call's Pending ends with its result or error. A Batch is not
// safe for concurrent use, and is sent once.
//
// Against a peer that answers a batch with one error object (the Python libraries), every
// call ends with ErrBatchUnsupported (nothing ran), unless the batch was made with
// SplitUnsupported.
type Batch struct {
	ch      *Channel
	cl      *Client
	split   bool
	entries []batchEntry
	sent    bool
}

type batchEntry struct {
	method string
	params any
	id     string   // a custom id (WithCallID)
	p      *Pending // nil for a notification
}

// NewBatch starts a batch to send on this channel.
func (c *Channel) NewBatch(opts ...BatchOption) *Batch {
	b := &Batch{ch: c}
	for _, o := range opts {
		o(b)
	}
	return b
}

// NewBatch starts a batch to send on the client's connection (see Batch.Send).
func (c *Client) NewBatch(opts ...BatchOption) *Batch {
	b := &Batch{cl: c}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Call adds a call; its Pending ends with the answer once the batch is sent (wait on it
// only after Send has returned). params are as for Channel.Call; WithCallID applies.
func (b *Batch) Call(method string, params any, opts ...CallOption) *Pending {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	p := &Pending{done: make(chan struct{})}
	b.entries = append(b.entries, batchEntry{method: method, params: params, id: o.id, p: p})
	return p
}

// Notify adds a notification.
func (b *Batch) Notify(method string, params any) {
	b.entries = append(b.entries, batchEntry{method: method, params: params})
}

// Len returns the number of entries.
func (b *Batch) Len() int { return len(b.entries) }

// Send sends the batch: one message holding every entry. It returns once the message has
// been written; the calls' answers arrive on their Pendings. When Send fails nothing was
// sent (or the connection was lost while sending), and every call ends with its error.
// A Client's batch waits for a connection as Client.Call does.
func (b *Batch) Send(ctx context.Context) error {
	if b.sent {
		return wrap(ErrInvalidArgument, "batch already sent")
	}
	b.sent = true
	err := b.send(ctx)
	if err != nil {
		for _, e := range b.entries {
			if e.p != nil {
				e.p.finish(nil, nil, err)
			}
		}
	}
	return err
}

func (b *Batch) send(ctx context.Context) error {
	if len(b.entries) == 0 {
		return wrap(ErrInvalidArgument, "empty batch")
	}
	if err := ctx.Err(); err != nil {
		return wrapCtx(ctx, "batch")
	}
	if b.ch != nil {
		return b.ch.sendBatch(b)
	}
	for {
		ch, err := b.cl.channel(ctx)
		if err != nil {
			return err
		}
		err = ch.sendBatch(b)
		if err != nil && notSent(err) && b.cl.ctx.Err() == nil {
			continue
		}
		return err
	}
}

// sendBatch registers and sends b's entries on c; on failure it forgets them (the caller
// ends them).
func (c *Channel) sendBatch(b *Batch) error {
	if c.legacy() {
		return wrap(ErrBatchUnsupported, "the legacy dialect has no batches")
	}
	peer := c.batchPeer.Load()
	if peer == batchNo {
		if !b.split {
			return wrap(ErrBatchUnsupported, "the peer answered an earlier batch with an error")
		}
		return c.sendSplit(b)
	}
	members, err := c.encodeBatch(b)
	if err != nil {
		return err
	}
	// The batch is remembered until one of its calls is answered, or the peer answers it
	// with one error (see batchRefused); a batch of notifications only while the peer's
	// support is unknown (a peer that supports batches never answers one).
	var rec *batchRecord
	if peer == batchUnknown || slices.ContainsFunc(b.entries, func(e batchEntry) bool { return e.p != nil }) {
		rec = &batchRecord{members: members, split: b.split, sent: time.Now()}
		c.mu.Lock()
		for _, e := range b.entries {
			if e.p != nil {
				rec.calls = append(rec.calls, e.p)
				e.p.batch = rec
			}
		}
		if len(c.batches) >= maxBatchRecords {
			c.batches = c.batches[1:]
		}
		c.batches = append(c.batches, rec)
		c.mu.Unlock()
	}
	if err := c.send(wire.AppendBatch(nil, members)); err != nil {
		c.mu.Lock()
		c.dropBatchLocked(rec)
		c.mu.Unlock()
		c.forgetBatch(b)
		return err
	}
	for _, e := range b.entries {
		c.countSent(e.p != nil)
	}
	return nil
}

// encodeBatch registers b's calls on c and encodes each entry as a message.
func (c *Channel) encodeBatch(b *Batch) ([][]byte, error) {
	members := make([][]byte, len(b.entries))
	for i, e := range b.entries {
		raw, pe, err := marshalParams(e.params)
		if pe != nil {
			raw = bytes.Clone(raw) // kept until the batch is assembled
			putParamEncoder(pe)
		}
		if err == nil && c.legacy() {
			err = wrap(ErrBatchUnsupported, "the legacy dialect has no batches")
		}
		var idRaw []byte
		if err == nil && e.p != nil {
			e.p.ch, e.p.created = c, time.Now()
			idRaw, err = c.registerPending(e.p, e.id)
		}
		if err != nil {
			for _, f := range b.entries[:i] {
				if f.p != nil {
					c.forget(f.p)
				}
			}
			return nil, err
		}
		members[i] = wire.AppendRequest(nil, idRaw, e.method, raw)
	}
	return members, nil
}

func (c *Channel) forgetBatch(b *Batch) {
	for _, e := range b.entries {
		if e.p != nil {
			c.forget(e.p)
		}
	}
}

// sendSplit sends b's entries one by one (SplitUnsupported).
func (c *Channel) sendSplit(b *Batch) error {
	members, err := c.encodeBatch(b)
	if err != nil {
		return err
	}
	for i, m := range members {
		if err := c.send(m); err != nil {
			if i == 0 {
				c.forgetBatch(b)
				return err
			}
			// Some entries have gone: end the others with the error.
			for _, e := range b.entries[i:] {
				if e.p != nil {
					c.forget(e.p)
					e.p.finish(nil, nil, err)
				}
			}
			return nil
		}
		c.countSent(b.entries[i].p != nil)
	}
	return nil
}

// dropBatchLocked forgets a batch record (c.mu held).
func (c *Channel) dropBatchLocked(rec *batchRecord) {
	if rec == nil {
		return
	}
	for i, r := range c.batches {
		if r == rec {
			c.batches = append(c.batches[:i], c.batches[i+1:]...)
			break
		}
	}
	for _, p := range rec.calls {
		p.batch = nil
	}
}

// batchAnswered notes that a call of batch rec was answered: the peer supports batches
// (c.mu held).
func (c *Channel) batchAnsweredLocked(rec *batchRecord) {
	c.dropBatchLocked(rec)
	c.batchPeer.CompareAndSwap(batchUnknown, batchYes)
}

// batchRefused handles an error object with a null id (on the reader): the answer of a
// peer that did not take a batch, which goes to the oldest batch without an answer yet.
// "Expected dict" (the Python libraries) means batches are unsupported; any other error
// (a wsrpc peer's batch limit) ends the batch's calls with it. It reports whether a batch
// took the error.
func (c *Channel) batchRefused(e *Error) bool {
	unsupported := e.Code == CodeInvalidRequest && strings.HasPrefix(e.Message, "Expected dict")
	c.mu.Lock()
	if len(c.batches) == 0 {
		c.mu.Unlock()
		return false
	}
	rec := c.batches[0]
	var named struct {
		FirstID json.RawMessage `json:"first_id"`
	}
	if len(e.Data) > 0 && json.Unmarshal(e.Data, &named) == nil && named.FirstID != nil {
		// A wsrpc peer names the batch by its first call.
		if key := wire.IDKey(named.FirstID); len(key) > 0 {
			if p := c.pending[string(key)]; p != nil && p.batch != nil {
				rec = p.batch
			}
		}
	}
	c.dropBatchLocked(rec)
	if unsupported {
		c.batchPeer.Store(batchNo) // (every other batch sent meanwhile gets its own refusal)
	}
	c.mu.Unlock()
	if unsupported && rec.split {
		c.cfg.Logger.Info("wsrpc: the peer does not support batches; sending the entries one by one", "channel", c.id)
		c.handlers.Add(1)
		go func() {
			defer c.handlers.Done()
			c.resend(rec)
		}()
		return true
	}
	var err error = e
	if unsupported {
		err = fmt.Errorf("%w: the peer answered %d %q", ErrBatchUnsupported, e.Code, e.Message)
	}
	for _, p := range rec.calls {
		c.forget(p)
		p.finish(nil, nil, err)
	}
	return true
}

// resend sends a refused batch's entries one by one (SplitUnsupported): the calls still
// waiting keep their ids and Pendings.
func (c *Channel) resend(rec *batchRecord) {
	for _, m := range rec.members {
		if key := wire.Parse(m).Incoming.ID; key != nil {
			c.mu.Lock()
			_, waiting := c.pending[string(wire.IDKey(key))]
			c.mu.Unlock()
			if !waiting {
				continue // given up on meanwhile
			}
		}
		if err := c.send(m); err != nil {
			c.cfg.Logger.Warn("wsrpc: sending a batch entry on its own failed", "channel", c.id, "err", err)
			for _, p := range rec.calls {
				c.forget(p)
				p.finish(nil, nil, err)
			}
			return
		}
	}
}
