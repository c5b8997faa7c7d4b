package wsrpc

import (
	"context"
	"sync/atomic"
)

// Reading by the caller. A call waiting for its answer usually sleeps until the reader
// goroutine has read the answer and woken it: two goroutines take turns for every call.
// On a fast link that hand-over is most of the latency of a call (measured on loopback:
// about 25 µs of a 45 µs round trip, since waking the caller also wakes an idle thread of
// the Go scheduler, often on another CPU), and a plain WebSocket client that writes and
// then reads on one goroutine does not pay it.
//
// So on a client connection the reading is lent to callers: when the reader has taken in
// the answer to a direct call (below) and no other call is outstanding, it stops reading,
// and the next direct call, once sent, reads the connection itself on its own goroutine
// until its answer has come (handling whatever else arrives meanwhile as the reader
// would, with requests going to handler goroutines). It then keeps the reading lent for
// the next call, unless other calls are outstanding, in which case the reader goroutine
// reads again. Only one goroutine reads at a time.
//
// Whatever needs the connection read while the reading is lent and no caller reads (a
// call that is not direct, a call started with Go, a WebSocket ping) gives the reading
// back to the reader goroutine at once; otherwise the watchdog (watchdog.go) gives it
// back once it has been lent and unused for one to two watchPeriods, so a message the
// server sends on its own (a notification, a call) after a burst of calls is read at
// most that much later.
//
// A caller cannot stop half-way through the library's Read (it cannot be abandoned
// without closing the connection). So a call is direct if its caller waits without limit
// (its context's Done is nil and Config.DefaultTimeout is zero): its wait ends only with
// the answer or with the end of the connection, and the reading ends with those too. Or
// if the connection has an inbox (inbox.go: plain TCP, no TLS), which shows whether a
// whole message has arrived: a caller with a deadline calls the library's Read only
// then (so that it returns at once), waits for input with its context, and gives the
// reading back to the reader goroutine when its context ends or a message is too large
// for the inbox.
const (
	roleReader = 0 // the reader goroutine (readLoop) reads
	roleLent   = 1 // nobody reads: the next direct call reads (see above)
	roleCaller = 2 // a caller reads, until its answer has come
)

// The role word is seq<<2 | role; seq counts the lendings, so that the watchdog can tell
// a reading lent and unused since its last look from one lent again meanwhile.

// lend stops the reader goroutine's reading and lends it to callers. Only the reader
// goroutine calls it, holding the reading; if it reports true, the reader must then wait
// in awaitReading: every lending ends with exactly one turn sent back on readTurn.
func (c *Channel) lend() bool {
	if !c.lends || c.isClosed() {
		return false
	}
	c.relend(c.role.Load())
	return true
}

// relend lends the reading, held in role word s by the calling goroutine, to the next
// direct call, unless calls are outstanding: then the reader goroutine reads on for them
// (unless a direct caller took the reading meanwhile).
func (c *Channel) relend(s uint64) {
	lent := (s>>2+1)<<2 | roleLent
	c.role.Store(lent)
	if c.outstanding() {
		c.resumeFrom(lent)
	} else {
		c.loan.watch()
	}
}

// outstanding reports whether calls await answers (the reading must go on for them).
func (c *Channel) outstanding() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending) > 0
}

// takeReading makes the calling goroutine the reader if the reading is lent.
func (c *Channel) takeReading() bool {
	s := c.role.Load()
	return s&3 == roleLent && c.role.CompareAndSwap(s, s&^3|roleCaller)
}

// resumeReading gives lent reading back to the reader goroutine, if it is lent and
// unused.
func (c *Channel) resumeReading() { c.resumeFrom(c.role.Load()) }

// resumeFrom is resumeReading from the role word seen, from.
func (c *Channel) resumeFrom(from uint64) {
	if from&3 == roleLent && c.role.CompareAndSwap(from, from&^3|roleReader) {
		c.readTurn <- struct{}{} // capacity 1, and one turn per lending: never blocks
	}
}

// awaitReading parks the reader goroutine after lend until the reading comes back, and
// reports whether it may read again (false: the connection has ended).
func (c *Channel) awaitReading() bool {
	select {
	case <-c.readTurn:
	case <-c.done:
		// Closing: read until the library reports the end. If a caller reads now, its
		// read ends with the connection and gives the reading back.
		c.resumeReading()
		<-c.readTurn
	}
	if h := c.handback; h.set {
		c.handback = readEnd{}
		return c.received(h.data, h.err)
	}
	return true
}

// readEnd is what a caller's read returned that ends the reading (an error, or a
// message over the size limit): the reader goroutine deals with it, as if it had read it.
type readEnd struct {
	data []byte
	err  error
	set  bool
}

// input is what a caller that reads with a deadline needs of the connection (inbox): to
// know whether a whole message has arrived, so that the library's Read will not block,
// and to wait for more input until the context ends.
type input interface {
	complete() (yes, known bool)
	wait(ctx context.Context) error
}

// readFor reads the connection on the caller's goroutine until p is answered (or the
// reading ends), then lends the reading on or gives it back. The caller holds the
// reading (takeReading). With a context that can end, it reads only whole messages that
// have arrived (c.in), and gives the reading back to the reader goroutine when the
// context ends or a message cannot be told whole.
func (c *Channel) readFor(ctx context.Context, p *Pending) {
	limited := ctx.Done() != nil
	keep := true
	for !p.answered.Load() {
		if limited && !c.messageArrived(ctx) {
			keep = false
			break
		}
		_, data, err := c.conn.Read(context.Background())
		if err != nil || int64(len(data)) > c.cfg.MaxMessageSize {
			// The end of the reading: the reader goroutine closes the channel (as it
			// would have), which fails p; the caller waits for that as usual.
			c.handback = readEnd{data: data, err: err, set: true}
			break
		}
		c.received(data, nil)
		if c.hasInline { // a request: a handler goroutine serves it, the caller waits
			r := c.inline
			c.hasInline, c.inline = false, request{}
			c.workers.run(c, r)
		}
	}
	c.lendHint = false
	s := c.role.Load()
	if keep && !c.handback.set && !c.isClosed() {
		c.relend(s)
		return
	}
	c.role.Store(s&^3 | roleReader)
	c.readTurn <- struct{}{}
}

// messageArrived waits until a whole message has arrived, and reports false if ctx ended
// first or that cannot be told.
func (c *Channel) messageArrived(ctx context.Context) bool {
	for ctx.Err() == nil {
		yes, known := c.in.complete()
		if yes || !known {
			return yes
		}
		if c.in.wait(ctx) != nil {
			return false
		}
	}
	return false
}

// loanWatch lets the watchdog give back reading that has been lent and unused for a
// whole watchPeriod.
type loanWatch struct {
	c      *Channel
	listed atomic.Bool
	seen   uint64 // role word at the watchdog's last look (watchdog only)
}

func (l *loanWatch) watch() {
	if !l.listed.Load() && l.listed.CompareAndSwap(false, true) {
		watchdog.add(l)
	}
}

func (l *loanWatch) look() bool {
	c := l.c
	s := c.role.Load()
	if s&3 == roleLent && s == l.seen && !watchdogPaused.Load() {
		c.resumeFrom(s) // lent and unused since the last look
	} else if s&3 != roleReader && !c.isClosed() {
		l.seen = s
		return true
	}
	// The reader goroutine reads: drop the watch, unless the reading was lent again
	// meanwhile (lend checks listed after publishing the role, the watchdog reads the
	// role after clearing listed: one of the two sees the other).
	l.listed.Store(false)
	if s2 := c.role.Load(); s2&3 == roleLent && !c.isClosed() && l.listed.CompareAndSwap(false, true) {
		l.seen = s2
		return true
	}
	return false
}
