package wsrpc

import (
	"sync"
	"sync/atomic"
	"time"
)

// byteBudget bounds the bytes a connection holds in one direction: outgoing messages
// being written (Channel.out) or incoming requests being handled (Channel.in). A taker
// waits while the budget is spent; one message is always let through when nothing else
// holds any of it, whatever its size (the message size limit bounds it). The reader waits
// for room too (waitRoom) before it reads the next message, so a connection over budget
// is not read: the peer's sends wait in TCP instead of in memory.
type byteBudget struct {
	limit   int64 // <= 0: no limit
	used    atomic.Int64
	waiters atomic.Int32
	mu      sync.Mutex
	room    chan struct{} // closed (and replaced) when bytes are given back while someone waits
}

func (b *byteBudget) init(limit int64) {
	b.limit = limit
	b.room = make(chan struct{})
}

// tryTake takes n bytes if the budget has room for them.
func (b *byteBudget) tryTake(n int64) bool {
	u := b.used.Add(n)
	if u <= b.limit || u == n {
		return true
	}
	b.give(n)
	return false
}

// take takes n bytes, waiting for room until done is closed or, with timeout > 0, until
// timeout has passed; it reports whether it took them.
func (b *byteBudget) take(n int64, timeout time.Duration, done <-chan struct{}) bool {
	if b.limit <= 0 || (b.waiters.Load() == 0 && b.tryTake(n)) {
		return true
	}
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	b.waiters.Add(1)
	defer b.waiters.Add(-1)
	for {
		b.mu.Lock()
		room := b.room
		b.mu.Unlock()
		if b.tryTake(n) {
			return true
		}
		select {
		case <-room:
		case <-expired:
			return false
		case <-done:
			return false
		}
	}
}

// give gives n bytes back.
func (b *byteBudget) give(n int64) {
	if b.limit <= 0 || n == 0 {
		return
	}
	b.used.Add(-n)
	if b.waiters.Load() > 0 {
		b.mu.Lock()
		close(b.room)
		b.room = make(chan struct{})
		b.mu.Unlock()
	}
}

// waitRoom waits until the budget has room and nobody waits for it, or done is closed
// (then it reports false).
func (b *byteBudget) waitRoom(done <-chan struct{}) bool {
	if b.limit <= 0 || (b.used.Load() < b.limit && b.waiters.Load() == 0) {
		select {
		case <-done:
			return false
		default:
			return true
		}
	}
	b.waiters.Add(1)
	defer b.waiters.Add(-1)
	for {
		b.mu.Lock()
		room := b.room
		b.mu.Unlock()
		// Others waiting to take (not counting this reader) come first.
		if b.used.Load() < b.limit && b.waiters.Load() == 1 {
			return true
		}
		select {
		case <-room:
		case <-done:
			return false
		}
	}
}
