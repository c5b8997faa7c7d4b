package wsrpc

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/wsrpc/wsrpc/pkg/wsrpc/internal/wire"
)

// CallOption changes one call.
type CallOption func(*callOptions)

type callOptions struct {
	id         string
	background bool
}

// WithCallID sends the call with a custom id instead of a fresh random one. The id must be
// at most 256 characters, not pending, and not used by another call in the last 10 s;
// otherwise the call fails with ErrInvalidID and nothing is sent.
func WithCallID(id string) CallOption { return func(o *callOptions) { o.id = id } }

// WithBackgroundWrite hands the request to a writer goroutine instead of writing it on the
// caller's goroutine: Go returns once the request is queued, and requests started in quick
// succession go out together in one syscall. For a caller that starts many calls from one
// thread, an event loop say, that must not spend its time in syscalls (the Python binding's
// acall). A write that fails afterwards closes the connection, and the call then fails
// with ErrConnectionLost (not ErrClosed, and a Client does not resend it). Connections
// that do not coalesce writes (js/wasm) write as usual.
func WithBackgroundWrite() CallOption { return func(o *callOptions) { o.background = true } }

// Pending is an outgoing call that has been sent and may not have been answered yet.
type Pending struct {
	ch       *Channel
	key      string
	idBuf    [34]byte // a generated id as JSON text ("<32 hex>"); key points into it
	created  time.Time
	done     chan struct{}
	waiting  bool         // a caller waits on it (guarded by ch.mu)
	removed  atomic.Bool  // completeKey took it out of the table
	ran      atomic.Bool  // the caller woken by the answer has run (Channel.woken)
	lone     bool         // the only outstanding call when it was sent (Config.SpinWait)
	msg      int          // size of the message its answer came in (0 if unknown)
	batch    *batchRecord // the batch it was sent in, while its fate is unknown (guarded by ch.mu)
	answered atomic.Bool  // done is closed (cheaper to poll while spinning)
	awaiting atomic.Bool  // counted in the channel's in-flight calls (see settle)
	once     sync.Once
	after    atomic.Pointer[func()] // AfterDone's functions, or &finished once done is closed

	// set once before done is closed
	resultType string // legacy result_type (JSON text), if any
	result     []byte
	hasErr     *Error
	err        error
}

// ID returns the call id.
func (p *Pending) ID() string { return p.key }

// Done is closed when the answer (or a failure) has arrived.
func (p *Pending) Done() <-chan struct{} { return p.done }

func (p *Pending) finish(result []byte, e *Error, err error) {
	p.settle()
	p.once.Do(func() {
		p.result, p.hasErr, p.err = result, e, err
		p.answered.Store(true)
		close(p.done)
		if f := p.after.Swap(&finished); f != nil {
			(*f)()
		}
	})
}

// finished marks a Pending whose AfterDone functions have run.
var finished = func() {}

// AfterDone arranges for f to run once Done is closed: at once, on the caller's goroutine,
// if it is closed already, else on the goroutine that closes it (the connection's reader,
// usually), right after. f must be quick and must not block; it may call Wait. Each f
// given runs exactly once. It lets a caller be told of the answer without a goroutine per
// call waiting on Done (the C API wakes a waiting C thread, or queues the outcome, this way).
func (p *Pending) AfterDone(f func()) {
	if f == nil {
		return
	}
	for {
		old := p.after.Load()
		if old == &finished {
			f()
			return
		}
		next := &f
		if old != nil {
			prev := *old
			both := func() { prev(); f() }
			next = &both
		}
		if p.after.CompareAndSwap(old, next) {
			return
		}
	}
}

// Wait waits for the answer and decodes its result into result (which may be nil to
// discard it). A remote error is returned as *Error. If ctx has no deadline the channel's
// Config.DefaultTimeout applies. When Wait gives up, the call is forgotten: a late answer
// is dropped.
func (p *Pending) Wait(ctx context.Context, result any) error {
	c := p.ch
	if c == nil { // a batch entry that was never sent: it has ended with the reason
		select {
		case <-p.done:
			return p.err
		case <-ctx.Done():
			return wrapCtx(ctx, "batch entry never sent")
		}
	}
	if _, ok := ctx.Deadline(); !ok && c.cfg.DefaultTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.DefaultTimeout)
		defer cancel()
	}
	if !p.waiting { // Call registers its entry as waited-for already
		c.mu.Lock()
		p.waiting = true
		c.mu.Unlock()
	}
	select {
	case <-p.done:
	default:
		// A handler waiting for a peer gives back its handler slot and bytes: the reader
		// may need them to take the answer in (see dispatch).
		releaseHandler(ctx)
		if p.lone {
			p.spin()
		}
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		c.forget(p)
		select {
		case <-p.done: // answered in the meantime: take it
		default:
			if p.removed.Load() {
				p.ranAfterWake()
			} else {
				c.sendCancel(p) // (extended connections only)
			}
			if ctx.Err() == context.DeadlineExceeded {
				return wrap(ErrTimeout, "Timeout waiting for response to call %s", p.key)
			}
			return fmt.Errorf("wsrpc: call %s: %w", p.key, ctx.Err())
		}
	}
	if p.lone && c.cfg.SpinWait > 0 {
		c.noteLoneAnswer(time.Since(p.created))
	}
	if p.removed.Load() { // completeKey removes answered entries that have a waiter
		p.ranAfterWake()
	} else {
		c.forget(p)
	}
	if p.err != nil {
		return fmt.Errorf("%w (call %s)", p.err, p.key)
	}
	if p.hasErr != nil {
		e := *p.hasErr
		return &e
	}
	return decodeResult(p.result, result, p.msg)
}

// spinners counts the callers busy-waiting for an answer (Config.SpinWait), process-wide.
var spinners atomic.Int32

// spin busy-waits for the answer, up to Config.SpinWait, when that is likely to pay.
func (p *Pending) spin() {
	c := p.ch
	d := c.cfg.SpinWait
	if d <= 0 || c.loneAnswer.Load() > int64(d) {
		return
	}
	procs := int32(runtime.GOMAXPROCS(0))
	if n := spinners.Add(1); procs < 2 || n > procs-1 {
		spinners.Add(-1)
		return
	}
	deadline := time.Now().Add(d)
	for i := 0; !p.answered.Load(); i++ {
		if i&63 == 63 && time.Now().After(deadline) {
			break
		}
	}
	spinners.Add(-1)
}

// noteLoneAnswer updates the channel's running average of how long lone calls take.
func (c *Channel) noteLoneAnswer(d time.Duration) {
	old := c.loneAnswer.Load()
	c.loneAnswer.Store(old - old/8 + int64(d)/8)
}

// ranAfterWake tells the channel that the caller completeKey woke has run.
func (p *Pending) ranAfterWake() {
	if p.ran.CompareAndSwap(false, true) {
		p.ch.woken.Add(-1)
	}
}

// decodeResult decodes raw, part of a message of msg bytes (0 if unknown), into result. A
// json.RawMessage gets the message's own bytes when they are most of it (see keepable),
// else a copy.
func decodeResult(raw []byte, result any, msg int) error {
	if result == nil {
		return nil
	}
	if r, ok := result.(*json.RawMessage); ok {
		switch {
		case raw == nil:
			*r = append((*r)[:0], "null"...)
		case msg > 0 && 2*len(raw) >= msg:
			*r = raw
		default:
			*r = append((*r)[:0], raw...)
		}
		return nil
	}
	if raw == nil {
		raw = []byte("null")
	}
	if err := unmarshal(raw, result); err != nil {
		return fmt.Errorf("wsrpc: decoding result: %w", err)
	}
	return nil
}

func (c *Channel) forget(p *Pending) {
	c.mu.Lock()
	if c.pending[p.key] == p {
		delete(c.pending, p.key)
		p.settle()
	}
	c.mu.Unlock()
}

// Call sends a request and waits for its answer, decoding the result into result (a
// pointer, or nil to discard it). params may be nil (no params member), a struct or map
// (named params), a slice (positional params) or a json.RawMessage.
//
// Errors: *Error for an error answer; ErrTimeout when ctx (or Config.DefaultTimeout)
// expires; ErrConnectionLost when the connection ends first; ErrBackpressure, ErrClosed,
// ErrMessageTooLarge or ErrInvalidID when nothing was sent. After ErrTimeout and
// ErrConnectionLost the method may have run on the peer.
func (c *Channel) Call(ctx context.Context, method string, params any, result any, opts ...CallOption) error {
	if len(c.cfg.OutgoingInterceptors) > 0 {
		return c.cfg.interceptors().chCall(ctx, &OutgoingCall{Channel: c, Method: method, Params: params,
			ch: c, result: result, opts: opts})
	}
	return c.call(ctx, method, params, result, opts, nil)
}

func (c *Channel) call(ctx context.Context, method string, params any, result any, opts []CallOption, meta map[string]string) error {
	p, err := c.startCall(ctx, method, params, true, opts, meta)
	if err != nil {
		return err
	}
	return p.Wait(ctx, result)
}

// Go sends a request without waiting; the answer is collected with Pending.Wait, or with
// TakeResponse by id. An answer nobody collects is dropped after 60 s.
func (c *Channel) Go(ctx context.Context, method string, params any, opts ...CallOption) (*Pending, error) {
	if len(c.cfg.OutgoingInterceptors) > 0 {
		call := &OutgoingCall{Channel: c, Method: method, Params: params, Async: true, ch: c, opts: opts}
		if err := c.cfg.interceptors().chGo(ctx, call); err != nil {
			return nil, err
		}
		return call.p, nil
	}
	return c.startCall(ctx, method, params, false, opts, nil)
}

// startCall registers and sends a call; waited says a caller will Wait for it right away;
// meta is OutgoingCall.Meta.
func (c *Channel) startCall(ctx context.Context, method string, params any, waited bool, opts []CallOption, meta map[string]string) (*Pending, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrapCtx(ctx, "call "+method)
	}
	var o callOptions
	if len(opts) > 0 {
		o = applyCallOptions(opts) // (o escapes there: no allocation when there are none)
	}
	raw, pe, err := marshalParams(params)
	if err != nil {
		return nil, err
	}
	p, idRaw, err := c.register(o.id, waited)
	if err != nil {
		putParamEncoder(pe)
		return nil, err
	}
	buf := getBuf()
	data, err := c.encodeRequest(*buf, idRaw, method, raw)
	putParamEncoder(pe)
	if err == nil {
		if meta != nil {
			data = c.appendMeta(data, meta)
		}
		err = c.sendMode(data, o.background)
	}
	putBuf(buf, data)
	if err != nil {
		c.forget(p)
		return nil, err
	}
	c.stats.callsOut.Add(1)
	return p, nil
}

func applyCallOptions(opts []CallOption) callOptions {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// register creates the pending entry (BEHAVIOUR.md §13 checks, in order).
func (c *Channel) register(custom string, waited bool) (*Pending, []byte, error) {
	p := &Pending{ch: c, created: time.Now(), done: make(chan struct{}), waiting: waited}
	idRaw, err := c.registerPending(p, custom)
	if err != nil {
		return nil, nil, err
	}
	return p, idRaw, nil
}

// registerPending enters p (its ch, created and done set) in the table, with the id
// custom or a generated one, and returns the id as JSON text.
func (c *Channel) registerPending(p *Pending, custom string) ([]byte, error) {
	now := p.created
	key := custom
	var idRaw []byte
	if custom == "" {
		// One allocation for the entry, its id text and its key. The id is 32 hex digits
		// like Python's uuid4().hex: the channel's random prefix, then a counter (unique
		// on the channel; no random read per call).
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], c.callSeq.Add(1))
		p.idBuf[0], p.idBuf[33] = '"', '"'
		copy(p.idBuf[1:17], c.callPrefix[:])
		hex.Encode(p.idBuf[17:33], b[:])
		idRaw = p.idBuf[:]
		key = unsafe.String(&p.idBuf[1], 32) // idBuf is never written again
	} else if n := utf8.RuneCountInString(key); n > wire.MaxIDLength {
		return nil, wrap(ErrInvalidID, "call id of %d characters exceeds %d", n, wire.MaxIDLength)
	} else {
		idRaw, _ = json.Marshal(key)
	}
	p.key = key
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, wrap(ErrClosed, "Cannot send on closed channel")
	}
	if now.Sub(c.lastSweep) >= pendingTTL {
		c.sweepLocked(now)
	}
	if custom != "" {
		if t, ok := c.recent[custom]; ok && now.Sub(t) < idCooldown {
			return nil, wrap(ErrInvalidID, "request id %q was used less than %v ago (cooldown)", custom, idCooldown)
		}
	}
	if len(c.pending) >= c.cfg.MaxPendingRequests {
		return nil, wrap(ErrBackpressure, "maximum pending requests (%d) reached", c.cfg.MaxPendingRequests)
	}
	if _, dup := c.pending[key]; dup {
		return nil, wrap(ErrInvalidID, "request id %q collision: already pending", key)
	}
	if custom != "" {
		if c.recent == nil {
			c.recent = map[string]time.Time{}
		}
		if len(c.recent) >= recentIDMemory {
			for k, t := range c.recent {
				if now.Sub(t) >= idCooldown {
					delete(c.recent, k)
				}
			}
		}
		c.recent[custom] = now
	}
	c.pending[key] = p
	p.awaiting.Store(true)
	c.stats.inFlightOut.Add(1)
	p.lone = len(c.pending) == 1
	return idRaw, nil
}

// sweepLocked drops answers nobody waits for once they are older than the TTL.
func (c *Channel) sweepLocked(now time.Time) {
	c.lastSweep = now
	n := 0
	for k, p := range c.pending {
		if !p.waiting && now.Sub(p.created) >= pendingTTL {
			delete(c.pending, k)
			p.settle()
			n++
		}
	}
	for len(c.batches) > 0 && now.Sub(c.batches[0].sent) >= pendingTTL {
		c.dropBatchLocked(c.batches[0]) // never answered: forget it
	}
	if n > 0 {
		c.cfg.Logger.Info("wsrpc: expired uncollected calls", "channel", c.id, "count", n)
	}
}

// TakeResponse returns the answer to an uncollected call started with Go, as a nested
// JSON-RPC response object, and forgets the call. ok is false if no answer is there (yet).
func (c *Channel) TakeResponse(id string) (resp json.RawMessage, ok bool) {
	c.mu.Lock()
	p := c.pending[id]
	if p == nil || p.waiting {
		c.mu.Unlock()
		return nil, false
	}
	select {
	case <-p.done:
	default:
		c.mu.Unlock()
		return nil, false
	}
	delete(c.pending, id)
	c.mu.Unlock()
	if c.legacy() {
		return legacyResponseObject(id, p), true
	}
	idRaw, _ := json.Marshal(id)
	var errRaw []byte
	if p.hasErr != nil {
		errRaw, _ = json.Marshal(p.hasErr)
	}
	result := p.result
	if result == nil && errRaw == nil {
		result = []byte("null")
	}
	return wire.EncodeResponse(idRaw, result, errRaw), true
}

// complete hands a response to its pending call; unknown ids are dropped.
func (c *Channel) complete(m *wire.Message, msg int) {
	var e *Error
	if m.Error != nil {
		c.stats.errorsIn.Add(1)
		e = &Error{Code: int(m.Error.Code), Message: m.Error.Message, Data: bytes.Clone(m.Error.Data)}
		if len(m.Key) == 0 && c.batchRefused(e) {
			return
		}
	}
	c.completeKey(m.Key, m.Result, e, "", msg)
}

// completeBare handles a message that carries the id of a pending call but neither
// result, error nor method: Python's answer for a null result (it drops null members,
// PROTOCOL.md §2.5). GO-REC: complete the call with a null result instead of letting it
// time out. It reports false (the caller then answers -32600 as Python does) when the
// message is not such an answer or no call waits for it.
func (c *Channel) completeBare(m *wire.Message) bool {
	in := &m.Incoming
	if m.Kind != wire.KindInvalid || m.Reply == nil || m.ID == nil || in.Method != nil || in.Result != nil || in.Error != nil ||
		!strings.HasPrefix(m.Reply.Message, "Unknown message format") {
		return false
	}
	key := wire.IDKey(m.ID)
	if !c.completeKey(key, []byte("null"), nil, "", 0) {
		return false
	}
	c.cfg.Logger.Info("wsrpc: answer without result member taken as a null result", "channel", c.id, "id", string(key))
	return true
}

// completeKey hands an answer to the pending call with that key and reports whether there
// was one.
// msg is the size of the message result is part of (0 if unknown).
func (c *Channel) completeKey(key []byte, result []byte, e *Error, resultType string, msg int) bool {
	if len(key) == 0 {
		return false
	}
	c.mu.Lock()
	p := c.pending[string(key)] // no allocation for a map lookup
	if p != nil {
		if p.batch != nil {
			c.batchAnsweredLocked(p.batch)
		}
		select {
		case <-p.done:
			p = nil // second answer: ignore
		default:
			if p.waiting { // its caller takes the answer: no need to keep it here
				delete(c.pending, string(key))
				p.removed.Store(true)
				c.woken.Add(1) // until the caller runs (see send)
			}
		}
	}
	c.mu.Unlock()
	if p == nil {
		c.cfg.Logger.Debug("wsrpc: response for unknown call dropped", "channel", c.id, "id", key)
		return false
	}
	p.resultType = resultType
	p.msg = msg
	p.finish(result, e, nil)
	return true
}

// Notify sends a notification: no id, no answer, nothing to wait for.
func (c *Channel) Notify(ctx context.Context, method string, params any) error {
	if len(c.cfg.OutgoingInterceptors) > 0 {
		return c.cfg.interceptors().chNotify(ctx, &OutgoingCall{Channel: c, Method: method, Params: params,
			Notification: true, ch: c})
	}
	return c.notify(ctx, method, params, nil)
}

func (c *Channel) notify(ctx context.Context, method string, params any, meta map[string]string) error {
	if err := ctx.Err(); err != nil {
		return wrapCtx(ctx, "notify "+method)
	}
	raw, pe, err := marshalParams(params)
	if err != nil {
		return err
	}
	buf := getBuf()
	data, err := c.encodeRequest(*buf, nil, method, raw)
	putParamEncoder(pe)
	if err == nil {
		if meta != nil {
			data = c.appendMeta(data, meta)
		}
		err = c.send(data)
	}
	putBuf(buf, data)
	if err == nil {
		c.stats.notificationsOut.Add(1)
	}
	return err
}

// marshalParams encodes call or notification params. The result may live in pe's buffer
// (params encoded by encoding/json): the caller gives pe back with putParamEncoder once the
// message is encoded; pe is nil otherwise.
func marshalParams(params any) (raw []byte, pe *paramEncoder, err error) {
	switch params.(type) {
	case nil, json.RawMessage, ValidJSON, string, bool, int, int64, easyMarshaler:
		raw, err = marshalParamsOwn(params)
		return raw, nil, err
	}
	pe = paramEncoders.Get().(*paramEncoder)
	pe.buf.Reset()
	if err := pe.enc.Encode(params); err != nil {
		putParamEncoder(pe)
		return nil, nil, fmt.Errorf("%w: encoding params: %v", ErrInvalidArgument, err)
	}
	raw = bytes.TrimSuffix(pe.buf.Bytes(), []byte("\n"))
	switch wire.FirstByte(raw) {
	case '{', '[':
		return raw, pe, nil
	case 'n':
		putParamEncoder(pe)
		return nil, nil, nil
	}
	putParamEncoder(pe)
	return nil, nil, fmt.Errorf("%w: params must encode to a JSON object or array, got %.40s", ErrInvalidArgument, raw)
}

// paramEncoder encodes params with encoding/json into a reused buffer (json.Marshal
// allocates its result on every call). Its output is json.Marshal's plus a newline.
type paramEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var paramEncoders = sync.Pool{New: func() any {
	pe := &paramEncoder{}
	pe.enc = json.NewEncoder(&pe.buf)
	return pe
}}

// putParamEncoder gives pe back (nil is fine); a buffer grown past 64 KiB is dropped.
func putParamEncoder(pe *paramEncoder) {
	if pe != nil && pe.buf.Cap() <= 64<<10 {
		paramEncoders.Put(pe)
	}
}

func marshalParamsOwn(params any) ([]byte, error) {
	switch p := params.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return checkParams(p) // encoded into the message: no copy needed
	case ValidJSON:
		switch wire.FirstByte(p) {
		case '{', '[':
			return p, nil
		case 0, 'n':
			return nil, nil
		}
		return nil, wrap(ErrInvalidArgument, "params must be a JSON object or array, got %.40q", []byte(p))
	}
	raw, err := marshal(params)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding params: %v", ErrInvalidArgument, err)
	}
	switch wire.FirstByte(raw) {
	case '{', '[':
	case 'n':
		return nil, nil
	default:
		return nil, fmt.Errorf("%w: params must encode to a JSON object or array, got %.40s", ErrInvalidArgument, raw)
	}
	return raw, nil
}

// Encode buffers: a message is encoded into a pooled buffer, written (the transport copies
// it), and the buffer is reused.
//
// The capacity must not be one of easyjson's pooled chunk sizes (powers of two from 512
// to 32 KiB): when a message outgrows the buffer, jwriter keeps it as a chunk and, when
// done, puts chunks of those sizes into its own pool, which would then share the memory
// with ours. A capacity it does not pool keeps the buffer ours alone; results that
// outgrow it are fresh slices, never adopted into this pool.
const encodeBufSize = 2000

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, encodeBufSize); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

// putBuf returns b to the pool. used (what was encoded into it) is ignored: it is either
// b's own memory or a fresh slice.
func putBuf(b *[]byte, used []byte) {
	if b == nil {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}
