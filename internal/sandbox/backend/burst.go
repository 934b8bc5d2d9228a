package backend

import (
	"math"
	"net/http"
	"sync"
	"time"
)

// BurstBucketConfig sets a BurstBucket.
type BurstBucketConfig struct {
	// Rate is the sustained rate in requests per second: the bucket refills
	// at Rate tokens per second. Values ≤ 0 mean 1.
	Rate float64
	// Bucket is how many tokens the bucket holds; it starts full. Values below 1 mean 1.
	Bucket float64
	// Service is the latency of a request that found a token (default 0: at once).
	Service time.Duration
	// MaxWait is how long a request that found the bucket empty may wait
	// for a token (served late, in arrival order); one that would wait
	// longer is rejected with 503 at once. Zero rejects every request that
	// finds the bucket empty.
	MaxWait time.Duration
}

// BurstBucket is a backend with a burst allowance, like a database's burst
// capacity or a burstable instance's CPU credits: every request takes a
// token from a bucket that refills at Rate; while tokens last it serves any
// rate fast, once they are gone it serves Rate and rejects (or, within
// MaxWait, delays) the excess. Short tests above Rate pass until the
// bucket is empty, so only a hold longer than Bucket/(offered−Rate) shows
// the sustained rate. It is safe for concurrent use.
type BurstBucket struct {
	cfg BurstBucketConfig
	now func() time.Time

	mu     sync.Mutex
	tokens float64 // may go negative: reservations of waiting requests
	last   time.Time

	rec recorder
}

// NewBurstBucket returns a burst-allowance backend with a full bucket.
func NewBurstBucket(cfg BurstBucketConfig) *BurstBucket {
	if cfg.Rate <= 0 {
		cfg.Rate = 1
	}
	cfg.Bucket = math.Max(cfg.Bucket, 1)
	cfg.Service = max(cfg.Service, 0)
	cfg.MaxWait = max(cfg.MaxWait, 0)
	return &BurstBucket{cfg: cfg, now: time.Now, tokens: cfg.Bucket, last: time.Now()}
}

// Config returns the effective configuration (after defaults).
func (b *BurstBucket) Config() BurstBucketConfig { return b.cfg }

// Capacity is the sustained rate: Rate.
func (b *BurstBucket) Capacity() float64 { return b.cfg.Rate }

// BurstSeconds is how long the full bucket lets an offered rate above Rate
// through before it is empty (+Inf at or below Rate).
func (b *BurstBucket) BurstSeconds(offered float64) float64 {
	if offered <= b.cfg.Rate {
		return math.Inf(1)
	}
	return b.cfg.Bucket / (offered - b.cfg.Rate)
}

// Tokens returns the tokens left now (negative while requests wait for one).
func (b *BurstBucket) Tokens() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(b.now())
	return b.tokens
}

func (b *BurstBucket) refill(now time.Time) {
	if now.After(b.last) {
		b.tokens = math.Min(b.cfg.Bucket, b.tokens+now.Sub(b.last).Seconds()*b.cfg.Rate)
		b.last = now
	}
}

// reserve takes a token, returning how long to wait for it, or false when
// the wait would exceed MaxWait.
func (b *BurstBucket) reserve() (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(b.now())
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	wait := time.Duration((1 - b.tokens) / b.cfg.Rate * float64(time.Second))
	if wait > b.cfg.MaxWait {
		return 0, false
	}
	b.tokens--
	return wait, true
}

// ServeHTTP serves one request according to the model.
func (b *BurstBucket) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	wait, ok := b.reserve()
	if !ok {
		b.rec.reject()
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"message": "Service Unavailable"})
		return
	}
	b.rec.enter()
	defer b.rec.leave()
	if d := wait + b.cfg.Service; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			// The token stays spent, like a query whose caller left.
			b.rec.abandon()
			return
		}
	}
	latency := time.Since(start)
	b.rec.serve(latency)
	writeJSON(w, http.StatusOK, map[string]any{
		"message":   "ok",
		"queuedMs":  float64(wait.Microseconds()) / 1000,
		"latencyMs": float64(latency.Microseconds()) / 1000,
	})
}

// Stats returns a snapshot of the counters and latency percentiles
// (InFlight counts requests inside, waiting or served; Queued is 0).
func (b *BurstBucket) Stats() Stats {
	s := b.rec.stats()
	s.InFlight = b.rec.inside.Load()
	return s
}

// ResetStats clears the counters and the latency histogram; the bucket keeps its tokens.
func (b *BurstBucket) ResetStats() { b.rec.reset() }
