package wsrpc

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// The reader of a connection serves each request itself (Channel.readLoop): no goroutine
// handoff on the request's path. So that a slow or blocking handler cannot hold up the
// connection, the reading moves to another goroutine
//   - at once when a handler served this way waits for the answer to a call of its own
//     (a call back to the peer: only a reader can take the answer in), and
//   - otherwise when one watchdog goroutine per process, looking at every serving reader
//     each watchPeriod, finds the same request being served at two looks in a row (so
//     after between one and two periods).
//
// A serving reader pays two atomic operations and no timer. Arming a timer for each
// request (as this once did) wakes an idle thread of the Go scheduler every time, since
// the timer is sooner than anything the poller sleeps for: measured on loopback with the
// server in a process of its own, that cost more latency than the request itself, and a
// watchdog looking every 100 µs still cost several µs per request. The watchdog runs only
// while some reader has served a request in the last watchIdle.
const (
	watchPeriod = 500 * time.Microsecond
	watchIdle   = 20 * time.Millisecond
)

// inlineBudget is the shortest time a request served by the reader may run before the
// reading may move on (it moves on before twice this).
const inlineBudget = watchPeriod

// watchdogPaused makes the watchdog look without moving any reading on (tests).
var watchdogPaused atomic.Bool

// inlineWatch is one reader's state as the watchdog sees it.
type inlineWatch struct {
	c   *Channel
	ctx context.Context // the handlers' context: the channel's, marked as served inline
	// state is seq<<2 | phase: phase 0 idle, 1 serving request number seq, 3 handed off
	// (the watchdog moved the reading on while it served seq).
	state  atomic.Uint64
	listed atomic.Bool // in the watchdog's list
	seq    uint64      // the reader's request count (reader only)

	seen  uint64 // state at the watchdog's last look (watchdog only)
	quiet int    // looks in a row without a change (watchdog only)
}

const (
	watchServing   = 1
	watchHandedOff = 3
)

type inlineKey struct{}

func newInlineWatch(c *Channel) *inlineWatch {
	w := &inlineWatch{c: c}
	w.ctx = context.WithValue(c.ctx, inlineKey{}, w)
	return w
}

// Detach tells the connection that the handler whose context is ctx may block from now
// on. A connection's reader runs each request itself at first and moves on to another
// goroutine only once the handler has run for 0.5 to 1 ms; after Detach it moves on at
// once, so other requests on the connection are not held up meanwhile. A handler that
// waits for the answer to its own call (a call back to the peer) detaches by itself; call
// Detach before other long waits (I/O, locks, channels). The C library and the browser
// build detach before running their callbacks. Detach does nothing for a context that is
// not a handler's, or once the reading has moved on, and costs a few nanoseconds.
func Detach(ctx context.Context) {
	w, _ := ctx.Value(inlineKey{}).(*inlineWatch)
	if w == nil {
		return
	}
	s := w.state.Load()
	if s&3 == watchServing && w.state.CompareAndSwap(s, s|watchHandedOff) {
		w.c.workers.run(w.c, request{read: true})
	}
}

// serveInline serves r on the reader goroutine and reports whether this goroutine still
// holds the reading (false: the watchdog handed it to another goroutine meanwhile).
func (w *inlineWatch) serveInline(c *Channel, r request) (keep bool) {
	w.seq++
	serving := w.seq<<2 | watchServing
	w.state.Store(serving)
	if !w.listed.Load() && w.listed.CompareAndSwap(false, true) {
		watchdog.add(w)
	}
	c.serve(w.ctx, r.id, r.name, r.params, r.legacy)
	return w.state.CompareAndSwap(serving, w.seq<<2)
}

// look is the watchdog's check of w; it reports whether w stays in the list.
func (w *inlineWatch) look() bool {
	s := w.state.Load()
	if s&3 == watchServing && s == w.seen && !watchdogPaused.Load() {
		// The same request has been running since the last look: move the reading on.
		if w.state.CompareAndSwap(s, s|watchHandedOff) {
			w.c.workers.run(w.c, request{read: true})
		}
		return false // this reader ends as a reader; the next one has a watch of its own
	}
	if s&3 == watchHandedOff {
		return false
	}
	if s == w.seen {
		w.quiet++
	} else {
		w.seen, w.quiet = s, 0
	}
	if w.quiet*int(watchPeriod) < int(watchIdle) {
		return true
	}
	// Idle: drop it, unless the reader started serving meanwhile (it checks listed after
	// publishing its state, the watchdog reads the state after clearing listed: one of
	// the two sees the other).
	w.listed.Store(false)
	if w.state.Load() != s && w.listed.CompareAndSwap(false, true) {
		w.quiet = 0
		return true
	}
	return false
}

var watchdog watchdogLoop

type watchdogLoop struct {
	mu      sync.Mutex
	added   []watched
	running bool
}

// watched is what the watchdog looks at: a serving reader (inlineWatch) or reading lent
// to callers (loanWatch). look reports whether it stays in the list.
type watched interface{ look() bool }

func (d *watchdogLoop) add(w watched) {
	d.mu.Lock()
	d.added = append(d.added, w)
	if !d.running {
		d.running = true
		go d.loop()
	}
	d.mu.Unlock()
}

func (d *watchdogLoop) loop() {
	t := time.NewTicker(watchPeriod)
	defer t.Stop()
	var list []watched
	for range t.C {
		d.mu.Lock()
		list = append(list, d.added...)
		clear(d.added)
		d.added = d.added[:0]
		if len(list) == 0 {
			d.running = false
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		kept := list[:0]
		for _, w := range list {
			if w.look() {
				kept = append(kept, w)
			}
		}
		clear(list[len(kept):])
		list = kept
	}
}
