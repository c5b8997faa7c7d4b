//go:build !js

package wsrpc

import (
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// corkConn coalesces writes under load. coder/websocket writes each message with a
// syscall while holding its write lock, so concurrent messages wait for each other's
// syscalls. corkConn.Write instead copies the bytes and returns; the bytes go out in one
// syscall with whatever else piled up meanwhile, written by one of two: the sender itself
// once the library has released its lock (hold/release, see Channel.send), or a flusher
// goroutine (started on demand, ending when it has nothing left). At low load each message
// still goes out at once from its sender; under load many messages share one syscall.
// Nothing is ever held back waiting for more.
//
// Every syscall has a write deadline (Config.WriteTimeout): a peer that reads nothing for
// that long fails the write, and the channel closes.
type corkConn struct {
	net.Conn
	mu       sync.Mutex
	cond     sync.Cond // signalled when the buffer drains or the flusher stops
	buf      []byte    // bytes waiting for the flusher
	spare    []byte
	flushing bool         // a goroutine is writing buf out (or about to)
	senders  atomic.Int32 // senders between hold and release: one of them writes buf
	appended atomic.Int64 // bytes ever accepted (changed under mu)
	taken    int64        // bytes ever taken out to be written (the next write's offset)
	err      error
	timeout  atomic.Int64 // write deadline of each syscall (a time.Duration); 0 = none
}

// corkLimit is how many bytes may wait before Write blocks (backpressure).
const corkLimit = 1 << 20

func newCorkConn(c net.Conn, writeTimeout time.Duration) *corkConn {
	cc := &corkConn{Conn: c}
	cc.timeout.Store(int64(writeTimeout))
	cc.cond.L = &cc.mu
	return cc
}

// write writes p to the connection, with the write deadline.
func (c *corkConn) write(p []byte) (int, error) {
	if d := time.Duration(c.timeout.Load()); d > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(d))
	}
	return c.Conn.Write(p)
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	for len(c.buf) >= corkLimit && c.err == nil {
		if !c.flushing {
			c.flushing = true
			go c.flush()
		}
		c.cond.Wait()
	}
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return 0, err
	}
	if !c.flushing && c.senders.Load() > 0 {
		// A sender is inside the library's Write: its release writes this out, after the
		// library has let go of its lock (so other senders can add to the same syscall).
		c.appendLocked(p)
		c.mu.Unlock()
		return len(p), nil
	}
	if !c.flushing && len(c.buf) == 0 {
		// Idle: write at once from this goroutine (no handoff, lowest latency); writes
		// arriving meanwhile pile up and go out together.
		c.flushing = true
		c.appended.Add(int64(len(p)))
		c.taken += int64(len(p))
		c.mu.Unlock()
		n, err := c.write(p)
		c.mu.Lock()
		if err != nil {
			c.err = err
		}
		c.flushedLocked()
		c.mu.Unlock()
		return n, err
	}
	c.appendLocked(p)
	if !c.flushing {
		c.flushing = true
		go c.flush()
	}
	c.mu.Unlock()
	return len(p), nil
}

func (c *corkConn) appendLocked(p []byte) {
	c.buf = append(c.buf, p...)
	c.appended.Add(int64(len(p)))
}

// takeLocked hands the waiting bytes to a writer and returns them with their offset.
func (c *corkConn) takeLocked() (out []byte, at int64) {
	out, at = c.buf, c.taken
	c.taken += int64(len(out))
	c.buf, c.spare = c.spare[:0], nil
	return out, at
}

// flushedLocked ends a write made outside flush: what piled up meanwhile goes to a
// flusher goroutine.
func (c *corkConn) flushedLocked() {
	if len(c.buf) > 0 && c.err == nil {
		go c.flush()
	} else {
		c.flushing = false
		c.cond.Broadcast()
	}
}

// corked gives a transport its corkConn's hold and release (see writeHolder).
type corked struct{ cc *corkConn }

func (t corked) hold() int64                                  { return t.cc.hold() }
func (t corked) release(mark int64, yield bool) (bool, error) { return t.cc.release(mark, yield) }
func (t corked) releaseBackground()                           { t.cc.releaseBackground() }

// hold announces a sender about to write one message through the library; it must call
// release with the returned mark once the library's Write has returned.
func (c *corkConn) hold() int64 {
	c.senders.Add(1)
	return c.appended.Load() // the message's bytes come after this offset
}

// release ends a hold. If bytes wait and no one is writing them, this goroutine writes
// them now, its own message among them; first, if yield says goroutines that are likely
// to send are about to run (or other senders are between hold and release), it lets them
// run, so their messages share the syscall. When the write fails, notSent reports whether
// none of the message's bytes can have left (the failed write held all of them and wrote
// nothing).
func (c *corkConn) release(mark int64, yield bool) (notSent bool, err error) {
	c.mu.Lock()
	c.senders.Add(-1)
	if len(c.buf) == 0 || c.flushing || c.err != nil {
		c.mu.Unlock()
		return false, nil
	}
	c.flushing = true
	c.mu.Unlock()
	if yield || c.senders.Load() > 0 {
		// Goroutines about to send (woken callers, senders queued on the library's
		// lock) run first and add their messages to this syscall.
		runtime.Gosched()
	}
	c.mu.Lock()
	n, at, err := c.writeOutLocked()
	c.flushedLocked()
	c.mu.Unlock()
	return err != nil && n == 0 && at <= mark, err
}

// releaseBackground ends a hold as release does, except that a flusher goroutine writes
// out what waits (unless one is writing already): the sender returns without a syscall.
func (c *corkConn) releaseBackground() {
	c.mu.Lock()
	c.senders.Add(-1)
	if len(c.buf) > 0 && !c.flushing && c.err == nil {
		c.flushing = true
		go c.flush()
	}
	c.mu.Unlock()
}

// writeOutLocked writes out what waits and returns how much of it was written, at which
// offset it started and the error. c.mu is held, and released during the syscall.
func (c *corkConn) writeOutLocked() (n int, at int64, err error) {
	out, at := c.takeLocked()
	c.mu.Unlock()
	n, err = c.write(out)
	c.mu.Lock()
	if err != nil {
		c.err = err
	}
	if c.spare == nil {
		c.spare = out[:0]
	}
	return n, at, err
}

func (c *corkConn) flush() {
	c.mu.Lock()
	for len(c.buf) > 0 && c.err == nil {
		c.writeOutLocked()
		c.cond.Broadcast()
	}
	c.flushing = false
	c.cond.Broadcast()
	c.mu.Unlock()
}

// Close gives pending bytes up to 250 ms to go out, then closes the connection.
func (c *corkConn) Close() error {
	c.mu.Lock()
	if len(c.buf) > 0 && !c.flushing && c.err == nil {
		c.flushing = true
		go c.flush()
	}
	if c.flushing && c.err == nil {
		c.timeout.Store(int64(250 * time.Millisecond))
		_ = c.Conn.SetWriteDeadline(time.Now().Add(250 * time.Millisecond))
		for c.flushing {
			c.cond.Wait()
		}
	}
	if c.err == nil {
		c.err = net.ErrClosed
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	return c.Conn.Close()
}
