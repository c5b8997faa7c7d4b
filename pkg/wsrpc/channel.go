package wsrpc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/wsrpc/wsrpc/pkg/wsrpc/internal/wire"
)

// Channel is one live connection, the same type on both sides: it multiplexes concurrent
// calls in both directions, dispatches incoming requests to the Methods, and owns the
// connection's limits and lifecycle. All methods are safe for concurrent use.
//
// Inside a handler, ChannelFromContext returns the Channel the request arrived on, so the
// handler can call the peer back.
type Channel struct {
	id          string
	callPrefix  [16]byte      // hex; generated call ids start with it (registerPending)
	callSeq     atomic.Uint64 // and end with this counter
	conn        conn
	cfg         *Config
	methods     *Methods
	frame       messageType
	subprotocol string
	created     time.Time

	// ctx ends when the channel closes; handler contexts derive from it.
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	pending   map[string]*Pending
	recent    map[string]time.Time // custom call ids and when they were last used
	lastSweep time.Time
	closed    bool
	closeErr  error
	done      chan struct{}

	sendSem    chan struct{}
	handlerSem chan struct{}
	handlers   sync.WaitGroup
	readDone   chan struct{}
	closeDone  chan struct{} // closed when the socket's close has finished

	lastRead   atomic.Int64 // unix nanos of the last received message
	idleTimer  *time.Timer
	ageTimer   *time.Timer
	remoteID   string
	remoteErr  error
	synced     chan struct{}
	peerStatus atomic.Int64 // close code received from the peer, -1 if none
	peerReason atomic.Value // string

	values       sync.Map
	disconnected sync.Once
	dialect      atomic.Int32 // a Dialect, or dialectUnpinned
	// woken counts callers an answer has woken that have not run yet: goroutines about
	// to run that often send next, so a sender yields to them before its syscall (see
	// corkConn.release).
	woken atomic.Int32
	// loneAnswer is a running average (ns) of how long calls that were the only one
	// outstanding took to be answered (Config.SpinWait).
	loneAnswer atomic.Int64
	workers    workers
	ordered    orderedQueue // Config.OrderedNotifications
	running    atomic.Int64 // requests and notifications being handled (Server.Shutdown)
	out        byteBudget   // bytes of outgoing messages being written (Config.MaxOutgoingBytes)
	in         byteBudget   // bytes of incoming requests being handled (Config.MaxIncomingBytes)
	inHook     atomic.Bool  // the disconnect hook is running
	// connectHook is closed once the connect hook has returned (or will not run); nil
	// without one. The disconnect hook waits for it, so it never runs first.
	connectHook chan struct{}
	connectOnce sync.Once
	inConnect   atomic.Bool // the connect hook is running
	closedFlag  atomic.Bool // mirrors closed, for lock-free checks
	// batches are the batches sent while the peer's batch support is unknown, oldest first
	// (guarded by mu); batchPeer is what is known of it (batchUnknown, batchYes, batchNo).
	batches   []*batchRecord
	batchPeer atomic.Int32
	// ext: the peer agreed to the wsrpc extensions (ExtensionSubprotocol). Then inflight
	// holds the requests being handled, by id, for the peer to cancel (guarded by imu),
	// and cancelQ the cancellations of our own calls waiting to be sent.
	ext      bool
	imu      sync.Mutex
	inflight map[string]*handlerCtx
	cancelQ  chan []byte

	stats counters // see Stats
}

type chanKey struct{}

// closeHandshakeWait bounds how long a closing channel waits for the peer's close frame.
const closeHandshakeWait = time.Second

// ChannelFromContext returns the Channel a handler's request arrived on, or nil.
func ChannelFromContext(ctx context.Context) *Channel {
	ch, _ := ctx.Value(chanKey{}).(*Channel)
	return ch
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// newChannel wraps c. start must be called to begin reading.
func newChannel(c conn, cfg *Config, methods *Methods, subprotocol string, values map[string]any) *Channel {
	ch := &Channel{
		id:          newID(),
		callPrefix:  [16]byte([]byte(newID()[:16])),
		conn:        c,
		cfg:         cfg,
		methods:     methods,
		frame:       messageText,
		subprotocol: subprotocol,
		created:     time.Now(),
		pending:     make(map[string]*Pending),
		done:        make(chan struct{}),
		readDone:    make(chan struct{}),
		closeDone:   make(chan struct{}),
		synced:      make(chan struct{}),
	}
	ch.lastSweep = ch.created
	ch.peerStatus.Store(-1)
	ch.peerReason.Store("")
	ch.ctx, ch.cancel = context.WithCancel(context.WithValue(context.Background(), chanKey{}, ch))
	if cfg.Binary {
		ch.frame = messageBinary
	}
	if cfg.MaxSendQueue > 0 {
		ch.sendSem = make(chan struct{}, cfg.MaxSendQueue)
	}
	if cfg.MaxConcurrentRequests > 0 {
		ch.handlerSem = make(chan struct{}, cfg.MaxConcurrentRequests)
	}
	for k, v := range values {
		ch.values.Store(k, v)
	}
	if cfg.OnConnect != nil {
		ch.connectHook = make(chan struct{})
	}
	ch.out.init(cfg.maxBytes(cfg.MaxOutgoingBytes))
	ch.in.init(cfg.maxBytes(cfg.MaxIncomingBytes))
	ch.initDialect()
	ch.workers.init()
	if subprotocol == ExtensionSubprotocol {
		ch.ext = true
		ch.cancelQ = make(chan []byte, cancelQueueSize)
		ch.batchPeer.Store(batchYes)
	}
	return ch
}

// start begins reading and arms the idle and age timers.
func (c *Channel) start() {
	c.lastRead.Store(time.Now().UnixNano())
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := c.cfg.IdleTimeout; d > 0 {
		c.idleTimer = time.AfterFunc(d, c.checkIdle)
	}
	if d := c.cfg.MaxConnectionDuration; d > 0 {
		c.ageTimer = time.AfterFunc(d, func() {
			c.cfg.Logger.Warn("wsrpc: maximum connection duration reached", "channel", c.id, "duration", d)
			c.shutdown(wrap(ErrClosed, "maximum connection duration %v reached", d), statusNormalClosure, "max connection duration", true)
		})
	}
	c.workers.start(c)
	if c.ext {
		c.workers.wg.Add(1)
		go func() {
			defer c.workers.wg.Done()
			c.cancelSender()
		}()
	}
}

func (c *Channel) checkIdle() {
	idle := time.Since(time.Unix(0, c.lastRead.Load()))
	if left := c.cfg.IdleTimeout - idle; left > 0 {
		c.mu.Lock()
		if !c.closed {
			c.idleTimer.Reset(left)
		}
		c.mu.Unlock()
		return
	}
	c.cfg.Logger.Info("wsrpc: idle timeout", "channel", c.id, "idle", idle)
	c.shutdown(wrap(errIdle, "idle for %v", c.cfg.IdleTimeout.Round(time.Millisecond)), statusNormalClosure, "idle timeout", true)
}

// ID returns this end's channel id (32 hex digits).
func (c *Channel) ID() string { return c.id }

// Subprotocol returns the negotiated WebSocket subprotocol ("" for none):
// ExtensionSubprotocol between wsrpc peers (see Extended).
func (c *Channel) Subprotocol() string { return c.subprotocol }

// Done is closed when the channel has closed.
func (c *Channel) Done() <-chan struct{} { return c.done }

// Context returns a context that ends when the channel closes.
func (c *Channel) Context() context.Context { return c.ctx }

// Err returns why the channel closed (matching ErrClosed), or nil while it is open.
func (c *Channel) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// CloseStatus returns the close code and reason the peer sent, or -1 and "" if none.
func (c *Channel) CloseStatus() (int, string) {
	return int(c.peerStatus.Load()), c.peerReason.Load().(string)
}

// Age returns how long the channel has existed.
func (c *Channel) Age() time.Duration { return time.Since(c.created) }

// Remaining returns the time left before Config.MaxConnectionDuration closes the channel,
// and false when there is no such limit.
func (c *Channel) Remaining() (time.Duration, bool) {
	d := c.cfg.MaxConnectionDuration
	if d <= 0 {
		return 0, false
	}
	return max(0, d-c.Age()), true
}

// Set stores a value on the channel (per-connection state for handlers).
func (c *Channel) Set(key string, v any) { c.values.Store(key, v) }

// Value returns a value stored with Set (or by Config.Authenticate), or nil.
func (c *Channel) Value(key string) any {
	v, _ := c.values.Load(key)
	return v
}

// PendingCount returns the number of outgoing calls awaiting an answer.
func (c *Channel) PendingCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// RemoteID returns the peer's channel id learned by the channel-id sync handshake
// (Config.SyncChannelID), waiting for it until ctx ends.
func (c *Channel) RemoteID(ctx context.Context) (string, error) {
	select {
	case <-c.synced:
		return c.remoteID, c.remoteErr
	case <-ctx.Done():
		return "", wrapCtx(ctx, "waiting for the remote channel id")
	case <-c.done:
		select {
		case <-c.synced:
			return c.remoteID, c.remoteErr
		default:
		}
		return "", c.Err()
	}
}

// syncRemoteID runs the channel-id handshake (PROTOCOL.md §11).
func (c *Channel) syncRemoteID() {
	defer c.handlers.Done()
	var id any
	err := c.call(c.ctx, "_get_channel_id_", nil, &id, nil, nil) // (not intercepted: the library's own)
	s, _ := id.(string)
	if err == nil && s == "" && id != nil {
		s = fmt.Sprint(id)
	}
	if err == nil && s == "" {
		err = wrap(ErrRemoteValue, "peer returned no channel id")
	}
	if err != nil {
		c.cfg.Logger.Warn("wsrpc: channel id sync failed", "channel", c.id, "err", err)
		if errors.Is(err, ErrRemoteValue) || errors.As(err, new(*Error)) {
			c.remoteErr = wrap(ErrRemoteValue, "%v", err)
			close(c.synced)
		}
		return
	}
	c.remoteID = s
	close(c.synced)
}

// Close closes the connection with status 1000, fails every pending call with ErrClosed,
// runs the disconnect hook, and waits up to Config.CloseGrace for running handlers.
// It is idempotent.
func (c *Channel) Close() error {
	c.shutdown(ErrClosed, statusNormalClosure, "", true)
	if c.inHook.Load() {
		return nil // called from the disconnect hook, which the closing goroutine runs
	}
	c.wait()
	return nil
}

// wait waits for the read loop and, up to CloseGrace, for running handlers.
func (c *Channel) wait() {
	<-c.readDone
	done := make(chan struct{})
	go func() { c.handlers.Wait(); c.workers.wg.Wait(); <-c.closeDone; close(done) }()
	t := time.NewTimer(c.closeGrace())
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		c.cfg.Logger.Warn("wsrpc: handlers still running after close", "channel", c.id)
	}
}

// shutdown closes the channel once: marks it closed, closes the socket (gracefully with
// code when graceful, else at once), fails pending calls with cause, runs the disconnect hook.
func (c *Channel) shutdown(cause error, code statusCode, reason string, graceful bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.closedFlag.Store(true)
	c.closeErr = cause
	pend := c.pending
	c.pending = map[string]*Pending{}
	if c.idleTimer != nil {
		c.idleTimer.Stop()
	}
	if c.ageTimer != nil {
		c.ageTimer.Stop()
	}
	c.mu.Unlock()

	if graceful {
		// Send the close frame and wait a little for the peer's. A peer that does not answer
		// (or a sender trickling a frame, which holds the library's read lock) must not hold
		// us for the library's 5 s: past closeHandshakeWait the close finishes in the
		// background (Close still waits for it, up to CloseGrace).
		go func() {
			_ = c.conn.Close(code, reason)
			close(c.closeDone)
		}()
		t := time.NewTimer(closeHandshakeWait)
		select {
		case <-c.closeDone:
		case <-t.C:
		}
		t.Stop()
	} else {
		close(c.closeDone)
	}
	_ = c.conn.CloseNow()
	c.cancel()
	for _, p := range pend {
		p.finish(nil, nil, cause)
	}
	// The hook runs before Done is closed, so that whoever waits on Done sees its effects,
	// and after the connect hook has returned (up to CloseGrace), unless that is the
	// caller.
	if c.connectHook != nil && !c.inConnect.Load() {
		t := time.NewTimer(c.closeGrace())
		select {
		case <-c.connectHook:
		case <-t.C:
		}
		t.Stop()
	}
	c.disconnected.Do(func() {
		if fn := c.cfg.OnDisconnect; fn != nil {
			c.inHook.Store(true)
			safeHook(c.cfg, "OnDisconnect", func() { fn(c, cause) })
			c.inHook.Store(false)
		}
	})
	close(c.done)
}

// runConnectHook runs the connect hook, if there is one.
func (c *Channel) runConnectHook() {
	fn := c.cfg.OnConnect
	if fn == nil {
		return
	}
	c.inConnect.Store(true)
	safeHook(c.cfg, "OnConnect", func() { fn(c.ctx, c) })
	c.inConnect.Store(false)
	c.skipConnectHook()
}

// skipConnectHook tells the disconnect hook that the connect hook has returned or will
// never run.
func (c *Channel) skipConnectHook() {
	if c.connectHook != nil {
		c.connectOnce.Do(func() { close(c.connectHook) })
	}
}

func (c *Channel) closeGrace() time.Duration {
	if c.cfg.CloseGrace <= 0 {
		return DefaultCloseGrace
	}
	return c.cfg.CloseGrace
}

func safeHook(cfg *Config, name string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			cfg.Logger.Error("wsrpc: hook panicked", "hook", name, "panic", r)
		}
	}()
	fn()
}

func (c *Channel) isClosed() bool { return c.closedFlag.Load() }

// readLoop reads messages until the connection ends, then closes readDone. It only reads
// and dispatches: answers complete their calls at once, requests and notifications run on
// handler goroutines (see dispatch), so nothing a handler does holds up the
// reading. While the connection's outgoing messages are over their byte budget, it stops
// reading (the peer's sends then wait in TCP) until the budget has room again.
func (c *Channel) readLoop() {
	defer close(c.readDone)
	sized, _ := c.conn.(readSized)
	hint := 0
	for {
		if !c.out.waitRoom(c.done) {
			return // closed while waiting: shutdown has closed the connection
		}
		var typ messageType
		var data []byte
		var err error
		if sized != nil {
			typ, data, err = sized.readSized(&hint)
		} else {
			typ, data, err = c.conn.Read(context.Background())
		}
		if !c.received(typ, data, err) {
			return
		}
	}
}

// received handles what one read of the connection returned, on the goroutine that
// reads; it reports false once the reading has ended (the channel is closing).
func (c *Channel) received(typ messageType, data []byte, err error) bool {
	if err != nil {
		c.readFailed(err)
		return false
	}
	c.stats.messagesIn.Add(1)
	c.stats.bytesIn.Add(uint64(len(data)))
	if c.idleTimer != nil {
		c.lastRead.Store(time.Now().UnixNano())
	}
	if int64(len(data)) > c.cfg.MaxMessageSize {
		c.cfg.Logger.Warn("wsrpc: incoming message too large", "channel", c.id, "size", len(data), "limit", c.cfg.MaxMessageSize)
		c.shutdown(wrap(ErrMessageTooLarge, "incoming message of %d bytes exceeds %d", len(data), c.cfg.MaxMessageSize),
			statusMessageTooBig, "message too big", true)
		return false
	}
	if !c.handleMessage(data, typ == messageText) {
		// RFC 6455 §8.1: a text message that is not UTF-8 fails the connection.
		c.cfg.Logger.Warn("wsrpc: text message is not valid UTF-8", "channel", c.id)
		c.shutdown(wrap(ErrConnectionLost, "the peer sent a text message that is not valid UTF-8"),
			statusInvalidFramePayloadData, "invalid UTF-8", true)
		return false
	}
	return true
}

func (c *Channel) readFailed(err error) {
	if c.isClosed() {
		return
	}
	var ce wsCloseError
	var cause error
	switch {
	case errors.As(err, &ce):
		c.peerStatus.Store(int64(ce.Code))
		c.peerReason.Store(ce.Reason)
		cause = &closeError{code: int(ce.Code), reason: ce.Reason}
	case strings.Contains(err.Error(), "read limited at"):
		// Our read limit: the library has already closed with 1009.
		c.cfg.Logger.Warn("wsrpc: incoming message too large", "channel", c.id, "limit", c.cfg.MaxMessageSize)
		cause = fmt.Errorf("%w: %w: incoming message exceeds %d bytes", ErrConnectionLost, ErrMessageTooLarge, c.cfg.MaxMessageSize)
	default:
		cause = fmt.Errorf("%w: %v", ErrConnectionLost, err)
	}
	c.shutdown(cause, statusNormalClosure, "", false)
}

// closeError is why a channel closed when the peer sent a close frame; it matches
// ErrConnectionLost and ErrClosed.
type closeError struct {
	code   int
	reason string
}

func (e *closeError) Error() string {
	return fmt.Sprintf("wsrpc: connection closed by peer (status %d %q)", e.code, e.reason)
}
func (e *closeError) Is(target error) bool {
	return target == ErrConnectionLost || target == ErrClosed ||
		(target == ErrMessageTooLarge && e.code == int(statusMessageTooBig))
}

// CloseCode returns the close status code carried by err (from a Channel's Err or a failed
// call), or -1.
func CloseCode(err error) int {
	var ce *closeError
	if errors.As(err, &ce) {
		return ce.code
	}
	return -1
}

// handleMessage handles one message; it reports false, having done nothing, for a text
// message that is not UTF-8, which the caller handles (see received).
func (c *Channel) handleMessage(data []byte, text bool) bool {
	m := wire.Parse(data)
	if text && m.Kind == wire.KindInvalid && m.Reply != nil && m.Reply.Code == CodeParseError && !utf8.Valid(data) {
		return false
	}
	if m.Kind != wire.KindInvalid {
		c.pin(m.Kind)
	}
	if c.legacy() {
		if m.Kind == wire.KindLegacy {
			c.handleLegacy(&m)
		} else {
			// Legacy peers ignore what is not a legacy envelope.
			c.cfg.Logger.Debug("wsrpc: non-legacy message ignored on a legacy connection", "channel", c.id)
		}
		return true
	}
	switch m.Kind {
	case wire.KindResponse:
		c.complete(&m, len(data))
	case wire.KindRequest:
		if c.ext && c.cancelRequested(&m) {
			return true
		}
		r := request{id: m.ID, name: m.Method, params: m.Params, msg: len(data)}
		if c.ext {
			r.meta = m.Incoming.Meta
		}
		c.dispatch(r)
	case wire.KindLegacy:
		c.sendError(nil, wire.ErrorObject{Code: CodeInvalidRequest, Message: "Unknown message format: " + wire.PyRepr(data)})
	default:
		if m.Reply.Code == CodeInvalidRequest && wire.IsArray(data) {
			c.handleBatch(data)
			return true
		}
		if c.completeBare(&m) {
			return true
		}
		id := m.ID
		if m.Reply.Code == CodeParseError {
			id = nil
		}
		c.sendError(id, *m.Reply)
	}
	return true
}

func (c *Channel) sendError(id []byte, e wire.ErrorObject) {
	if err := c.send(wire.EncodeError(id, e)); err != nil {
		c.reportError(fmt.Errorf("wsrpc: sending error reply: %w", err))
		return
	}
	c.stats.errorsOut.Add(1)
}

func (c *Channel) reportError(err error) {
	if c.isClosed() {
		c.cfg.Logger.Debug("wsrpc: reply dropped, channel closed", "channel", c.id, "err", err)
		return
	}
	c.cfg.Logger.Warn("wsrpc: message processing failed", "channel", c.id, "err", err)
	if fn := c.cfg.OnError; fn != nil {
		safeHook(c.cfg, "OnError", func() { fn(c, err) })
	}
}

// dispatch runs a request (id set) or notification (id nil) on a handler
// goroutine, or on the reader itself when Sequential.
//
// The bytes of the requests being handled count against Config.MaxIncomingBytes: over
// it, the reader waits before it dispatches more (and so reads no more: the peer's sends
// wait in TCP). With MaxConcurrentRequests, a request that finds every handler slot
// taken is answered -32000 at once; a notification waits for a slot, and the reader with
// it (nothing is dropped). Neither wait can deadlock the connection: a handler that
// waits for the answer to a call of its own gives its slot and bytes back first (see
// Pending.Wait), so the reader only ever waits for handlers that do not need it.
func (c *Channel) dispatch(r request) {
	if r.id != nil {
		c.stats.callsIn.Add(1)
	} else {
		c.stats.notificationsIn.Add(1)
	}
	if c.cfg.Sequential {
		if c.ext && r.id != nil && !r.legacy {
			r.tracked = &handlerCtx{Context: c.ctx, c: c}
			c.track(r.tracked, r.id)
		}
		c.handlers.Add(1)
		c.serve(c.ctx, r)
		return
	}
	id, name, legacy := r.id, r.name, r.legacy
	r.in = int64(len(r.params) + len(name))
	if id == nil && r.batch == nil && c.cfg.OrderedNotifications {
		// One at a time, in order, on the ordered runner; bounded by MaxIncomingBytes
		// (not by handler slots: one runs at a time).
		if c.in.take(r.in, 0, c.done) {
			c.handlers.Add(1)
			c.ordered.push(c, r)
		}
		return
	}
	if c.handlerSem != nil {
		if id == nil {
			select {
			case c.handlerSem <- struct{}{}:
			case <-c.done:
				return
			}
		} else {
			select {
			case c.handlerSem <- struct{}{}:
			default:
				msg := fmt.Sprintf("Server busy: too many concurrent requests (%d)", cap(c.handlerSem))
				c.stats.rejected.Add(1)
				if r.batch != nil {
					c.stats.errorsOut.Add(1)
					r.batch.put(c, r.idx, id, wire.EncodeError(id, wire.ErrorObject{Code: CodeServerBusy, Message: msg}))
					return
				}
				if legacy {
					c.cfg.Logger.Warn("wsrpc: legacy request dropped", "channel", c.id, "method", name, "reason", msg)
					return
				}
				// Not on the reader: writing may wait for the peer to read.
				c.handlers.Add(1)
				go func() {
					defer c.handlers.Done()
					c.sendError(id, wire.ErrorObject{Code: CodeServerBusy, Message: msg})
				}()
				return
			}
		}
		r.slot = true
	}
	if !c.in.take(r.in, 0, c.done) {
		if r.slot {
			<-c.handlerSem
		}
		return
	}
	if c.ext && r.id != nil && !legacy {
		r.tracked = &handlerCtx{Context: c.ctx, c: c}
		c.track(r.tracked, id)
	}
	c.handlers.Add(1)
	c.workers.run(c, r)
}

// handlerCtx is a handler's context: the channel's, plus what the request holds until its
// handler returns or waits for an answer from a peer: a handler slot
// (MaxConcurrentRequests) and its bytes (MaxIncomingBytes).
type handlerCtx struct {
	context.Context
	c        *Channel
	slot     bool
	in       int64
	msg      int // size of the message the request came in
	released atomic.Bool
	// On extended connections the peer may cancel the request (see Channel.track).
	cancellable bool
	key         string // the request's id (IDKey), in the inflight table
	cmu         sync.Mutex
	done        chan struct{} // made by the first Done
	err         error
	stop        func() bool // stops watching the channel's context
}

type handlerKey struct{}

func (h *handlerCtx) Value(key any) any {
	if key == (handlerKey{}) {
		return h
	}
	return h.Context.Value(key)
}

// release gives the request's slot and bytes back (once).
func (h *handlerCtx) release() {
	if h.released.Load() || !h.released.CompareAndSwap(false, true) {
		return
	}
	if h.slot {
		<-h.c.handlerSem
	}
	h.c.in.give(h.in)
}

// keepable returns raw params a handler may keep: the message's own bytes when they are
// most of it (then keeping them keeps at most twice their size alive, and a large
// message is not copied), else a copy, so that a kept value never keeps a much larger
// message alive.
func keepable(ctx context.Context, params []byte) []byte {
	if h, _ := ctx.Value(handlerKey{}).(*handlerCtx); h != nil && h.msg > 0 && 2*len(params) >= h.msg {
		return params
	}
	return bytes.Clone(params)
}

// releaseHandler gives back what the handler whose context is ctx holds, if ctx is a
// handler's: it is about to wait for a peer, and the reader may need the slot or the
// bytes to take that answer in.
func releaseHandler(ctx context.Context) {
	if h, _ := ctx.Value(handlerKey{}).(*handlerCtx); h != nil {
		h.release()
	}
}

// Detach used to let a connection's reader move on while a handler it ran itself
// blocked. Handlers always run on goroutines of their own now, so it does nothing.
//
// Deprecated: no longer needed; it will be removed.
func Detach(ctx context.Context) {}

// serve runs one request and sends its reply. It calls handlers.Done and gives back what
// the request holds (handlerCtx).
func (c *Channel) serve(ctx context.Context, r request) {
	h := r.tracked
	if h != nil {
		defer c.untrack(h)
	} else {
		h = &handlerCtx{Context: ctx, c: c}
	}
	h.slot, h.in, h.msg = r.slot, r.in, r.msg
	c.running.Add(1)
	defer c.running.Add(-1)
	defer h.release()
	defer c.handlers.Done()
	ctx = h
	id, name, params, legacy := r.id, r.name, r.params, r.legacy
	rbuf := getBuf()
	defer putBuf(rbuf, nil) // the result may be caller-owned memory: keep only the pooled buffer
	var result []byte
	var err error
	if len(c.cfg.IncomingInterceptors) > 0 {
		result, err = c.intercepted(ctx, &r, (*rbuf)[:0])
	} else {
		result, err = c.invoke(ctx, name, params, legacy, (*rbuf)[:0])
	}
	// The handler is done: its slot and bytes go back before the reply leaves, so that a
	// peer calling again as soon as it has the answer finds the slot free.
	h.release()
	if legacy {
		// Legacy requests with call_id null are still answered (with call_id null).
		if out := c.legacyReply(id, name, result, err); out != nil {
			if err := c.send(out); err != nil {
				c.reportError(fmt.Errorf("wsrpc: sending reply to %s: %w", name, err))
			}
		}
		return
	}
	if id == nil {
		if err != nil && !errors.Is(err, ErrNoResponse) {
			c.cfg.Logger.Warn("wsrpc: notification handler failed", "channel", c.id, "method", name, "err", err)
		}
		if r.batch != nil {
			r.batch.put(c, r.idx, nil, nil)
		}
		return
	}
	var out []byte
	buf := getBuf()
	defer func() { putBuf(buf, out) }()
	if err != nil {
		if errors.Is(err, ErrNoResponse) {
			if r.batch != nil {
				r.batch.put(c, r.idx, nil, nil)
			}
			return
		}
		out = wire.EncodeError(id, c.errorObject(name, err))
	} else if len(result) >= wire.LargeResult {
		// Assembled in a reused buffer (see largebuf.go): once sent (or cloned into a
		// batch reply), nothing refers to it.
		out = wire.AppendResult(getLargeBuf(wire.ResultSize(id, result)), id, result)
		defer putLargeBuf(out)
	} else {
		out = wire.AppendResult(*buf, id, result)
	}
	if r.batch != nil {
		if err != nil {
			c.stats.errorsOut.Add(1)
		}
		r.batch.put(c, r.idx, id, bytes.Clone(out)) // out may be the pooled buffer
		return
	}
	if err := c.send(out); err != nil {
		var we *writeError
		if errors.As(err, &we) {
			// The connection failed while replying: the error hook hears of it (Python runs
			// its error callbacks here too).
			c.cfg.Logger.Debug("wsrpc: reply not sent, connection failed", "channel", c.id, "method", name, "err", err)
			if fn := c.cfg.OnError; fn != nil {
				safeHook(c.cfg, "OnError", func() { fn(c, fmt.Errorf("wsrpc: sending reply to %s: %w", name, err)) })
			}
			return
		}
		// As Python does: when the reply cannot be sent, try an internal-error reply; only if
		// that fails too does the failure escape to the error hook.
		if !c.isClosed() {
			if errors.Is(err, ErrMessageTooLarge) {
				c.cfg.Logger.Error("wsrpc: reply too large to send", "channel", c.id, "method", name, "err", err)
			}
			if c.send(wire.EncodeError(id, wire.ErrorObject{Code: CodeInternalError, Message: "Internal server error"})) == nil {
				c.stats.errorsOut.Add(1)
				return
			}
		}
		c.reportError(fmt.Errorf("wsrpc: sending reply to %s: %w", name, err))
		return
	}
	if err != nil {
		c.stats.errorsOut.Add(1)
	}
}

// invoke resolves and runs a method (PROTOCOL.md §6), returning the encoded result.
func (c *Channel) invoke(ctx context.Context, name string, params []byte, legacy bool, dst []byte) (result []byte, err error) {
	ping := "ping"
	if legacy {
		ping = "_ping_"
	}
	if len(name) > 0 && name[0] == '_' && name != "_get_channel_id_" && name != ping {
		return nil, &Error{Code: CodeMethodNotFound, Message: fmt.Sprintf("Method '%s' not found or not accessible", name)}
	}
	m := c.methods.lookup(name)
	if m == nil {
		switch name {
		case ping:
			return []byte(`"pong"`), nil
		case "_get_channel_id_":
			return []byte(`"` + c.id + `"`), nil
		}
		return nil, &Error{Code: CodeMethodNotFound, Message: fmt.Sprintf("Method '%s' not found", name)}
	}
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	if m.encoded != nil && !m.stringify {
		out, err := m.encoded(ctx, params, dst)
		if err != nil {
			if ee, ok := err.(errEncodeResult); ok { // (errors.As here would allocate on every call)
				return nil, &paramError{kind: "TypeError", method: name, detail: "result is not JSON-serialisable", debug: ee.err.Error()}
			}
		}
		return out, err
	}
	v, err := m.invoke(ctx, params)
	if err != nil {
		return nil, err
	}
	out, err := encodeResult(v, m.stringify)
	if err != nil {
		return nil, &paramError{kind: "TypeError", method: name, detail: "result is not JSON-serialisable", debug: err.Error()}
	}
	return out, nil
}

type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// errorObject maps a handler error to the error member (PROTOCOL.md §7).
func (c *Channel) errorObject(name string, err error) wire.ErrorObject {
	var re *Error
	if errors.As(err, &re) {
		return wire.ErrorObject{Code: int64(re.Code), Message: re.Message, Data: []byte(re.Data)}
	}
	var pe *paramError
	if errors.As(err, &pe) {
		e := pe.rpcError(c.cfg.Debug)
		return wire.ErrorObject{Code: int64(e.Code), Message: e.Message, Data: []byte(e.Data)}
	}
	typ := fmt.Sprintf("%T", err)
	var named interface{ ErrorType() string }
	if errors.As(err, &named) {
		typ = named.ErrorType()
	}
	var pn *panicError
	if errors.As(err, &pn) {
		typ = "panic"
		c.cfg.Logger.Error("Failed to execute method", "channel", c.id, "method", name, "err", err, "stack", string(pn.stack))
	} else {
		c.cfg.Logger.Error("Failed to execute method", "channel", c.id, "method", name, "err", err)
	}
	if !c.cfg.Debug {
		return wire.ErrorObject{Code: CodeInternalError, Message: "Internal server error"}
	}
	data, _ := encodeResult(map[string]string{"type": typ, "method": name}, false)
	return wire.ErrorObject{Code: CodeInternalError, Message: "Internal error: " + err.Error(), Data: data}
}

// send writes one message, enforcing the size limit and the send queue.
func (c *Channel) send(data []byte) error { return c.sendMode(data, false) }

// sendMode is send; background leaves the syscall to a writer goroutine where the
// transport coalesces writes (WithBackgroundWrite).
func (c *Channel) sendMode(data []byte, background bool) error {
	if c.isClosed() {
		return wrap(ErrClosed, "Cannot send on closed channel")
	}
	if int64(len(data)) > c.cfg.MaxMessageSize {
		return wrap(ErrMessageTooLarge, "outgoing message of %d bytes exceeds the limit of %d", len(data), c.cfg.MaxMessageSize)
	}
	if c.sendSem != nil {
		select {
		case c.sendSem <- struct{}{}:
			defer func() { <-c.sendSem }()
		default:
			return wrap(ErrBackpressure, "Send queue full: %d/%d pending", len(c.sendSem), cap(c.sendSem))
		}
	}
	n := int64(len(data))
	if !c.out.take(n, c.cfg.writeTimeout(), c.done) {
		if c.isClosed() {
			return wrap(ErrClosed, "Cannot send on closed channel")
		}
		// The peer has not read what was sent to it for a whole write timeout.
		err := fmt.Errorf("%w: %w: outgoing messages over %d bytes waited %v for the peer to read",
			ErrConnectionLost, ErrWriteTimeout, c.out.limit, c.cfg.writeTimeout())
		c.cfg.Logger.Warn("wsrpc: closing a connection whose peer does not read", "channel", c.id, "err", err)
		c.shutdown(err, statusPolicyViolation, "write timeout", true)
		return &writeError{err: err}
	}
	defer c.out.give(n)
	h, holding := c.conn.(writeHolder)
	var mark int64
	if holding {
		mark = h.hold()
	}
	err := c.conn.Write(context.Background(), c.frame, data)
	notSent := true
	if holding && background {
		h.releaseBackground()
	} else if holding {
		if ns, rerr := h.release(mark, c.woken.Load() > 0); err == nil && rerr != nil {
			err, notSent = rerr, ns
		}
	}
	if err != nil {
		// A WebSocket message counts only when complete, and a failed write means its end
		// never left: the peer cannot have acted on it. The connection is broken, though:
		// close the channel (calls already sent fail with ErrConnectionLost) and report
		// this message as not sent, so a Client can send it on its next connection. (If
		// the failed write held only part of the message, or other messages before it,
		// the message may have left: then it is lost with the connection.)
		lost := fmt.Errorf("%w: write failed: %v", ErrConnectionLost, err)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			lost = fmt.Errorf("%w: %w: the peer read nothing for %v", ErrConnectionLost, ErrWriteTimeout, c.cfg.writeTimeout())
		}
		c.shutdown(lost, statusNormalClosure, "", false)
		if !notSent {
			return lost
		}
		return &writeError{err: err}
	}
	c.stats.messagesOut.Add(1)
	c.stats.bytesOut.Add(uint64(n))
	return nil
}

// writeError is a message that could not be written because the connection failed; it
// matches ErrClosed (nothing was sent) but not ErrConnectionLost.
type writeError struct{ err error }

func (e *writeError) Error() string {
	return "wsrpc: closed: connection failed, message not sent: " + e.err.Error()
}
func (e *writeError) Is(target error) bool { return target == ErrClosed }
func (e *writeError) Unwrap() error        { return e.err }

func wrapCtx(ctx context.Context, what string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return wrap(ErrTimeout, "%s", what)
	}
	return fmt.Errorf("wsrpc: %s: %w", what, ctx.Err())
}
