// Package backend is the sandbox's sample integration: an http.Handler that
// behaves like "a Lambda querying a relational database with few
// connections", so load tests have a backend whose true capacity is known.
//
// The model is a multi-server queue (M/D/c with a finite waiting room):
//
//   - Slots connection slots (the database connection pool). A request must
//     hold a slot while it is served.
//   - Each request holds its slot for Service (optionally varied uniformly by
//     ±Jitter·Service), timed with a timer, not by burning CPU. A request
//     that takes over a slot from a queued position starts its service when
//     the slot was due to be free, so goroutine wake-up delays on a loaded
//     machine do not lower the capacity.
//   - When every slot is busy, a request waits in a FIFO queue of at most Queue
//     requests. The wait counts as latency, so above capacity latency climbs
//     to about Service·(1+Queue/Slots).
//   - When the queue is full too, the request is rejected at once with
//     503 {"message":"Service Unavailable"}.
//
// Capacity is therefore Slots/Service requests per second: offered load below
// it is served in about Service; offered load above it is served at Capacity
// and the excess is rejected. A request whose client goes away while it
// waits in the queue leaves the queue (counted as Abandoned); once it holds a
// slot it keeps it for its whole service time, like a database query that
// runs on after its caller has gone.
//
// Stats reports counters and server-side latency percentiles of the served
// requests (queue wait + service), from a log-bucketed histogram with about
// 0.5% relative error, so it costs constant memory however long it runs.
package backend

import (
	"encoding/json"
	"math"
	"net/http"
	"time"
)

// Config sets the model's parameters.
type Config struct {
	// Slots is the number of connection slots (requests served at once); values below 1 mean 1.
	Slots int
	// Service is how long one request holds a slot. Zero serves at once.
	Service time.Duration
	// Queue is how many requests may wait for a slot; beyond that requests get 503. Negative means 0.
	Queue int
	// Jitter varies each service time uniformly within ±Jitter·Service (0 ≤ Jitter ≤ 1). Optional.
	Jitter float64
}

// Stats is a snapshot of what a backend has done since it was made or its
// ResetStats.
type Stats struct {
	Served    int64 // requests answered 200
	Rejected  int64 // requests answered 503 because the queue was full (or the bucket empty)
	Abandoned int64 // requests whose client went away while queued
	InFlight  int64 // requests holding a slot now
	Queued    int64 // requests waiting for a slot now
	// MaxInFlight is the most requests inside the backend at once (holding
	// a slot or queued) since the last reset.
	MaxInFlight int64
	// P50, P99 and Max are server-side latencies (queue wait + service) of served requests.
	P50, P99, Max time.Duration
	Mean          time.Duration
}

// Backend is the sample backend; it is safe for concurrent use.
type Backend struct {
	cfg Config
	slotted
}

// New returns a backend with the given configuration.
func New(cfg Config) *Backend {
	if cfg.Slots < 1 {
		cfg.Slots = 1
	}
	if cfg.Queue < 0 {
		cfg.Queue = 0
	}
	if cfg.Service < 0 {
		cfg.Service = 0
	}
	cfg.Jitter = math.Max(0, math.Min(1, cfg.Jitter))
	return &Backend{cfg: cfg, slotted: slotted{newPool(cfg.Slots, cfg.Queue, cfg.Jitter), cfg.Slots, cfg.Service}}
}

// Config returns the effective configuration (after defaults).
func (b *Backend) Config() Config { return b.cfg }

// slotted is what Backend and DeepQueue share: a pool of slots, each busy
// for the service time of the request it serves.
type slotted struct {
	pool    *pool
	slots   int
	service time.Duration
}

// Capacity is the sustainable throughput in requests per second:
// Slots/Service. It is +Inf when Service is zero.
func (s slotted) Capacity() float64 {
	if s.service <= 0 {
		return math.Inf(1)
	}
	return float64(s.slots) / s.service.Seconds()
}

// ServeHTTP serves one request according to the model, after the queue
// ahead of it.
func (s slotted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.pool.serve(w, r, s.service)
}

// Stats returns a snapshot of the counters and latency percentiles.
func (s slotted) Stats() Stats { return s.pool.stats() }

// ResetStats clears the counters and the latency histogram; requests in
// progress are counted when they finish.
func (s slotted) ResetStats() { s.pool.resetStats() }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// histogram is a log-bucketed latency histogram: bucket i holds durations in
// (γ^(i-1), γ^i] nanoseconds with γ = 1.01, so a quantile read back as the
// bucket's midpoint is within ~0.5% of the true value.
type histogram struct {
	counts [histBuckets]int64
	n      int64
	sum    time.Duration
	max    time.Duration
}

const (
	histGamma   = 1.01
	histBuckets = 3200 // γ^3200 ns ≈ 4·10^13 ns ≈ 11 h
)

var logGamma = math.Log(histGamma)

func (h *histogram) add(d time.Duration) {
	i := 0
	if d > 1 {
		i = int(math.Ceil(math.Log(float64(d)) / logGamma))
	}
	i = min(i, histBuckets-1)
	h.counts[i]++
	h.n++
	h.sum += d
	h.max = max(h.max, d)
}

func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			if i == 0 {
				return time.Duration(min(int64(1), int64(h.max)))
			}
			mid := 2 * math.Pow(histGamma, float64(i)) / (1 + histGamma)
			return min(time.Duration(mid), h.max)
		}
	}
	return h.max
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}
