//go:build !js

package wsrpc

import (
	"context"
	"testing"
	"time"
)

func TestSpinWaitConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"spin_wait": 0.00005}`))
	if err != nil || cfg.SpinWait != 50*time.Microsecond {
		t.Fatalf("spin_wait 0.00005 -> %v, %v", cfg.SpinWait, err)
	}
	if cfg := DefaultConfig(); cfg.SpinWait != 0 {
		t.Fatalf("default SpinWait %v, want 0 (off)", cfg.SpinWait)
	}
	for _, d := range []time.Duration{-time.Microsecond, 2 * time.Second} {
		if _, err := NewServer(NewMethods(), func(c *Config) { c.SpinWait = d }); err == nil {
			t.Errorf("SpinWait %v accepted", d)
		}
	}
}

// Lone calls with SpinWait: answers still arrive whether they come within the spin or
// after it; slow answers turn spinning off for the connection, and no spinner is left.
func TestSpinWaitLoneCalls(t *testing.T) {
	m, _ := protoMethods()
	Register(m, "slow", func(ctx context.Context, _ struct{}) (string, error) {
		time.Sleep(3 * time.Millisecond)
		return "late", nil
	})
	_, url := startServer(t, m)
	const spin = 200 * time.Microsecond
	c := dialTest(t, url, func(c *Config) { c.SpinWait = spin })
	for i := range 200 {
		var sum int
		if err := c.Call(ctxT(t, 5*time.Second), "add", addParams{A: i, B: 1}, &sum); err != nil || sum != i+1 {
			t.Fatalf("add %d+1 = %d, %v", i, sum, err)
		}
	}
	if n := c.Channel().loneAnswer.Load(); n <= 0 {
		t.Fatalf("lone answers not timed (average %v)", time.Duration(n))
	}
	for range 40 {
		var s string
		if err := c.Call(ctxT(t, 5*time.Second), "slow", nil, &s); err != nil || s != "late" {
			t.Fatalf("slow = %q, %v", s, err)
		}
	}
	if avg := time.Duration(c.Channel().loneAnswer.Load()); avg <= spin {
		t.Fatalf("average lone answer %v after slow calls: want above SpinWait %v (spinning off)", avg, spin)
	}
	if n := spinners.Load(); n != 0 {
		t.Fatalf("%d spinners left", n)
	}
}
