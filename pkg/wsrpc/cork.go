//go:build !js

package wsrpc

import (
	"net"
	"sync"
	"time"
)

// corkConn coalesces writes under load. coder/websocket writes each message with a
// syscall while holding its write lock, so concurrent messages wait for each other's
// syscalls. corkConn.Write instead copies the bytes and returns; one flusher goroutine
// (started on demand, ending when it has nothing left) writes everything that piled up
// while its previous syscall ran. At low load each message still goes out at once; under
// load many messages share one syscall.
type corkConn struct {
	net.Conn
	mu       sync.Mutex
	cond     sync.Cond // signalled when the buffer drains or the flusher stops
	buf      []byte    // bytes waiting for the flusher
	spare    []byte
	flushing bool
	corked   bool // hold writes back until uncork
	err      error
}

// corkLimit is how many bytes may wait before Write blocks (backpressure).
const corkLimit = 1 << 20

// corkBatch is how many held-back bytes start a flush while corked.
var corkBatch = 2048

func newCorkConn(c net.Conn) *corkConn {
	cc := &corkConn{Conn: c}
	cc.cond.L = &cc.mu
	return cc
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.corked && c.err == nil && len(c.buf) < corkLimit {
		c.buf = append(c.buf, p...)
		if len(c.buf) >= corkBatch && !c.flushing {
			// Enough held back to be worth a syscall: send it while more piles up, so
			// the first replies of a long burst do not wait for the last.
			c.flushing = true
			go c.flush()
		}
		c.mu.Unlock()
		return len(p), nil
	}
	for len(c.buf) >= corkLimit && c.err == nil {
		c.cond.Wait()
	}
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return 0, err
	}
	if !c.flushing && len(c.buf) == 0 {
		// Idle: write at once from this goroutine (no handoff, lowest latency); writes
		// arriving meanwhile pile up and go out together.
		c.flushing = true
		c.mu.Unlock()
		n, err := c.Conn.Write(p)
		c.mu.Lock()
		if err != nil {
			c.err = err
		}
		if len(c.buf) > 0 && c.err == nil {
			go c.flush()
		} else {
			c.flushing = false
			c.cond.Broadcast()
		}
		c.mu.Unlock()
		return n, err
	}
	c.buf = append(c.buf, p...)
	if !c.flushing {
		c.flushing = true
		go c.flush()
	}
	c.mu.Unlock()
	return len(p), nil
}

func (c *corkConn) flush() {
	c.mu.Lock()
	for len(c.buf) > 0 && c.err == nil {
		out := c.buf
		c.buf, c.spare = c.spare[:0], nil
		c.mu.Unlock()
		_, err := c.Conn.Write(out)
		c.mu.Lock()
		if err != nil {
			c.err = err
		}
		if c.spare == nil {
			c.spare = out[:0]
		}
		c.cond.Broadcast()
	}
	c.flushing = false
	c.cond.Broadcast()
	c.mu.Unlock()
}

// cork holds writes back (up to corkLimit bytes) until uncork.
func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork sends what was held back, from this goroutine (the caller, a reader about to
// block, has nothing better to do), unless a flush is already running.
func (c *corkConn) uncork() {
	c.mu.Lock()
	c.corked = false
	if len(c.buf) == 0 || c.flushing || c.err != nil {
		c.mu.Unlock()
		return
	}
	c.flushing = true
	c.mu.Unlock()
	c.flush()
}

// Close gives pending bytes up to 250 ms to go out, then closes the connection.
func (c *corkConn) Close() error {
	c.uncork()
	c.mu.Lock()
	if c.flushing && c.err == nil {
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
