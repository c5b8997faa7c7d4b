package wsrpc

import (
	"math/bits"
	"sync"
)

// Replies to large results (wire.AppendResult's direct path, from 64 KiB) are assembled in
// buffers reused across calls and connections: a stream of large replies then allocates
// (and clears, and grows the heap by) nothing per reply, and the collector runs about half
// as often as when each reply was a fresh buffer. The buffers sit in sync.Pools, one per
// size class (four classes per power of two, so a buffer is at most 25% larger than its
// reply); a pool is emptied by the garbage collector, so idle memory is given back.
const (
	largeBufMinShift = 16 // 64 KiB
	largeBufMaxShift = 27 // 128 MiB: larger replies get buffers of their own
	largeBufSteps    = 4
)

var largeBufPools [(largeBufMaxShift - largeBufMinShift + 1) * largeBufSteps]sync.Pool

// largeBufClass returns the pool index and the capacity of the class for n bytes; ok is
// false when n is outside the pooled range.
func largeBufClass(n int) (idx, size int, ok bool) {
	if n <= 1<<(largeBufMinShift-1) || n > 1<<largeBufMaxShift {
		return 0, 0, false
	}
	k := bits.Len(uint(n - 1)) // 1<<(k-1) < n <= 1<<k
	step := 1 << (k - 1) / largeBufSteps
	q := (n - 1<<(k-1) + step - 1) / step // 1..largeBufSteps
	return (k-largeBufMinShift)*largeBufSteps + q - 1, 1<<(k-1) + q*step, true
}

// getLargeBuf returns an empty buffer with room for n bytes: a pooled one when n is in the
// pooled range. Give it back with putLargeBuf once nothing refers to its bytes.
func getLargeBuf(n int) []byte {
	idx, size, ok := largeBufClass(n)
	if !ok {
		return make([]byte, 0, n)
	}
	if b, _ := largeBufPools[idx].Get().(*[]byte); b != nil {
		return (*b)[:0]
	}
	return make([]byte, 0, size)
}

// putLargeBuf gives b to the pool of its class (only buffers made by getLargeBuf have a
// class capacity; anything else is left to the collector).
func putLargeBuf(b []byte) {
	if idx, size, ok := largeBufClass(cap(b)); ok && size == cap(b) {
		b = b[:0]
		largeBufPools[idx].Put(&b)
	}
}
