package sandbox

import (
	"math"
	"sync"
	"time"
)

// TokenBucket is the limiter API Gateway uses for throttling: it holds at
// most Burst tokens, refills at Rate tokens per second, starts full, and each
// admitted request takes one token. In t seconds it admits about Rate·t+Burst
// requests. It is safe for concurrent use.
type TokenBucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

// NewTokenBucket returns a full bucket. now is its clock (time.Now when nil).
func NewTokenBucket(rate float64, burst int, now func() time.Time) *TokenBucket {
	if now == nil {
		now = time.Now
	}
	return &TokenBucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now(), now: now}
}

func (b *TokenBucket) refill() {
	t := b.now()
	if el := t.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(b.burst, b.tokens+el*b.rate)
	}
	b.last = t
}

// Allow takes one token if there is one.
func (b *TokenBucket) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill()
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// Tokens reports the tokens available now.
func (b *TokenBucket) Tokens() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill()
	return b.tokens
}

// Wait is how long until one token is available (0 when one is).
func (b *TokenBucket) Wait() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill()
	if b.tokens >= 1 {
		return 0
	}
	if b.rate <= 0 || b.burst < 1 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

// Limits returns the bucket's rate and burst.
func (b *TokenBucket) Limits() (rate float64, burst int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rate, int(b.burst)
}

// SetLimits changes rate and burst, keeping the tokens already stored (capped
// at the new burst).
func (b *TokenBucket) SetLimits(rate float64, burst int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill()
	b.rate = rate
	b.burst = float64(burst)
	b.tokens = math.Min(b.tokens, b.burst)
}
