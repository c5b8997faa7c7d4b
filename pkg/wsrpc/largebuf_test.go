package wsrpc

import "testing"

// Every size in the pooled range gets a class at least as large and at most 25% (one step)
// larger; class capacities map to their own class; sizes outside the range are not pooled.
func TestLargeBufClass(t *testing.T) {
	for _, n := range []int{32<<10 + 1, 40 << 10, 64 << 10, 64<<10 + 1, 80 << 10, 80<<10 + 1, 1 << 20, 1<<20 + 77, 4<<20 + 100, 10 << 20, 128 << 20} {
		idx, size, ok := largeBufClass(n)
		if !ok {
			t.Fatalf("%d: not pooled", n)
		}
		if size < n || float64(size) > 1.25*float64(n)+1 {
			t.Errorf("%d: class capacity %d", n, size)
		}
		if idx2, size2, _ := largeBufClass(size); idx2 != idx || size2 != size {
			t.Errorf("%d: class %d (%d) but its capacity is in class %d (%d)", n, idx, size, idx2, size2)
		}
		if idx < 0 || idx >= len(largeBufPools) {
			t.Fatalf("%d: class %d out of range", n, idx)
		}
	}
	for _, n := range []int{0, 1000, 32 << 10, 128<<20 + 1} {
		if _, _, ok := largeBufClass(n); ok {
			t.Errorf("%d: pooled", n)
		}
	}
	b := getLargeBuf(1<<20 + 77)
	if len(b) != 0 || cap(b) < 1<<20+77 {
		t.Fatalf("getLargeBuf: len %d cap %d", len(b), cap(b))
	}
}
