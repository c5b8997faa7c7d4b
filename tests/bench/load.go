package main

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A gate hands out operations to load workers. In timed mode it runs a warm-up, a
// measured window and a stop phase; in count mode (testing.B) it hands out exactly n.
type gate struct {
	count     bool
	remaining atomic.Int64
	phase     atomic.Int32 // timed mode: 0 warm-up, 1 measuring, 2 stopped
}

func countGate(n int) *gate {
	g := &gate{count: true}
	g.remaining.Store(int64(n))
	return g
}

func timedGate() *gate { return &gate{} }

// take reports whether the caller may start one more operation.
func (g *gate) take() bool {
	if g.count {
		return g.remaining.Add(-1) >= 0
	}
	return g.phase.Load() < 2
}

// measuring reports whether an operation completing now counts.
func (g *gate) measuring() bool { return g.count || g.phase.Load() == 1 }

// lats collects latencies of completed operations (one per worker, merged at the end).
type lats struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *lats) add(part []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, part...)
	l.mu.Unlock()
}

// result is one measurement.
type result struct {
	Calls   int64   `json:"calls"`
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"calls_per_sec"`
	P50us   float64 `json:"p50_us"`
	P99us   float64 `json:"p99_us"`
	MaxUs   float64 `json:"max_us,omitempty"`
	Err     string  `json:"error,omitempty"`
}

func summarize(calls int64, window time.Duration, l []time.Duration) result {
	r := result{Calls: calls, Seconds: window.Seconds()}
	if window > 0 {
		r.Rate = float64(calls) / window.Seconds()
	}
	if len(l) > 0 {
		slices.Sort(l)
		r.P50us = us(l[len(l)*50/100])
		r.P99us = us(l[min(len(l)-1, len(l)*99/100)])
		r.MaxUs = us(l[len(l)-1])
	}
	return r
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// A load runs workers on a gate and returns, once they have all finished, the latencies
// of the operations completed while measuring (or just the count, with nil latencies).
type load func(g *gate) (wait func() (calls int64, l []time.Duration, err error))

// timings of one measurement.
type timings struct {
	warm, dur, drain time.Duration
}

// timed runs ld for a warm-up and a measured window and summarizes the window.
func timed(t timings, ld load) result {
	m := measure(t, ld)
	r := summarize(m.calls, m.window, m.l)
	r.Err = m.err
	return r
}

type measurement struct {
	calls  int64
	window time.Duration
	l      []time.Duration
	err    string
}

func measure(t timings, ld load) measurement {
	g := timedGate()
	wait := ld(g)
	time.Sleep(t.warm)
	g.phase.Store(1)
	t0 := time.Now()
	time.Sleep(t.dur)
	g.phase.Store(2)
	window := time.Since(t0)
	type out struct {
		calls int64
		l     []time.Duration
		err   error
	}
	ch := make(chan out, 1)
	go func() { c, l, err := wait(); ch <- out{c, l, err} }()
	select {
	case o := <-ch:
		m := measurement{calls: o.calls, window: window, l: o.l}
		if o.err != nil {
			m.err = o.err.Error()
		}
		return m
	case <-time.After(t.drain):
		return measurement{err: fmt.Sprintf("load did not finish within %v of its end", t.drain)}
	}
}

// interleaved measures the loads in turn, rounds times, each for t.dur/rounds (after
// t.warm the first time, a shorter warm-up later), and merges each load's rounds. Noise
// that comes and goes (other processes on the machine) then hits every load alike, which
// keeps the ratios between them steadier than back-to-back windows would.
func interleaved(t timings, rounds int, loads []load) []result {
	acc := make([]measurement, len(loads))
	for r := range rounds {
		tt := t
		tt.dur = t.dur / time.Duration(rounds)
		if r > 0 {
			tt.warm = min(t.warm, 100*time.Millisecond)
		}
		for i, ld := range loads {
			if ld == nil || acc[i].err != "" {
				continue
			}
			m := measure(tt, ld)
			acc[i].calls += m.calls
			acc[i].window += m.window
			acc[i].l = append(acc[i].l, m.l...)
			acc[i].err = m.err
		}
	}
	out := make([]result, len(loads))
	for i, m := range acc {
		out[i] = summarize(m.calls, m.window, m.l)
		out[i].Err = m.err
	}
	return out
}

// workers runs n goroutines, each doing op while g allows, and records latencies.
func workers(g *gate, n int, op func(worker int) error) func() (int64, []time.Duration, error) {
	var wg sync.WaitGroup
	var all lats
	var firstErr atomic.Pointer[error]
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for g.take() {
				t := time.Now()
				if err := op(w); err != nil {
					firstErr.CompareAndSwap(nil, &err)
					g.phase.Store(2)
					g.remaining.Store(0)
					break
				}
				if g.measuring() {
					mine = append(mine, time.Since(t))
				}
			}
			all.add(mine)
		}()
	}
	return func() (int64, []time.Duration, error) {
		wg.Wait()
		var err error
		if p := firstErr.Load(); p != nil {
			err = *p
		}
		return int64(len(all.all)), all.all, err
	}
}
