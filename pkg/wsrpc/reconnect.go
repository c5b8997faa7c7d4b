package wsrpc

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// nonRetryable are the close codes after which a client never reconnects (BEHAVIOUR.md §16).
var nonRetryable = map[int]bool{1002: true, 1003: true, 1007: true, 1008: true, 1011: true}

// IsRetryableCloseCode reports whether a client may reconnect after the peer closed with code.
func IsRetryableCloseCode(code int) bool { return !nonRetryable[code] }

// reconnectBackOff yields min(Delay·2^n, MaxDelay)·(1 + U[0, 0.25]) for n = 0, 1, … and stops
// after MaxAttempts waits or MaxElapsed (BEHAVIOUR.md §9).
type reconnectBackOff struct {
	cfg   ReconnectConfig
	n     int
	start time.Time
}

func (b *reconnectBackOff) Reset() { b.n, b.start = 0, time.Now() }

func (b *reconnectBackOff) NextBackOff() time.Duration {
	if b.cfg.MaxAttempts > 0 && b.n >= b.cfg.MaxAttempts {
		return backoff.Stop
	}
	if b.cfg.MaxElapsed > 0 && time.Since(b.start) >= b.cfg.MaxElapsed {
		return backoff.Stop
	}
	base := min(float64(b.cfg.Delay)*math.Pow(2, float64(b.n)), float64(b.cfg.MaxDelay))
	b.n++
	return time.Duration(base * (1 + 0.25*rand.Float64()))
}

// retryBackOff is the initial-connect policy (BEHAVIOUR.md §8): after failed attempt k the
// wait is high = clamp(2^(k-1) s, MinWait, MaxWait), uniform in [MinWait, high] with jitter.
type retryBackOff struct {
	cfg RetryConfig
	k   int
}

func (b *retryBackOff) Reset() { b.k = 0 }

func (b *retryBackOff) NextBackOff() time.Duration {
	b.k++
	if b.cfg.Disabled || b.k >= b.cfg.MaxAttempts {
		return backoff.Stop
	}
	high := time.Second << min(b.k-1, 30)
	high = min(max(high, b.cfg.MinWait), b.cfg.MaxWait)
	if b.cfg.NoJitter {
		return high
	}
	return b.cfg.MinWait + time.Duration(rand.Float64()*float64(high-b.cfg.MinWait))
}
