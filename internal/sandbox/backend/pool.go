package backend

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// pool is the multi-server queue behind Backend, SharedPool and DeepQueue:
// slots served for a per-request service time, a FIFO waiting room of at
// most queue requests (negative: unbounded), 503 beyond it.
type pool struct {
	jitter float64
	// admit holds one token per request inside the pool (serving or
	// queued): a failed non-blocking send means the queue is full. Nil when
	// the queue is unbounded.
	admit chan struct{}
	// slots holds one token per free slot: the time its previous holder's
	// service was due to end. Blocked receivers form the queue (the runtime
	// wakes blocked channel receivers in FIFO order).
	slots chan time.Time

	inFlight atomic.Int64
	queued   atomic.Int64
	total    recorder
}

func newPool(slots, queue int, jitter float64) *pool {
	p := &pool{jitter: jitter, slots: make(chan time.Time, slots)}
	if queue >= 0 {
		p.admit = make(chan struct{}, slots+queue)
	}
	for range slots {
		p.slots <- time.Time{}
	}
	return p
}

// recorder counts what happened to requests and keeps their latencies.
type recorder struct {
	inside atomic.Int64 // requests inside now (queued or serving)

	mu          sync.Mutex
	served      int64
	rejected    int64
	abandoned   int64
	maxInFlight int64
	hist        histogram
}

func (r *recorder) enter() {
	n := r.inside.Add(1)
	r.mu.Lock()
	r.maxInFlight = max(r.maxInFlight, n)
	r.mu.Unlock()
}

func (r *recorder) leave() { r.inside.Add(-1) }

func (r *recorder) reject() {
	r.mu.Lock()
	r.rejected++
	r.mu.Unlock()
}

func (r *recorder) abandon() {
	r.mu.Lock()
	r.abandoned++
	r.mu.Unlock()
}

func (r *recorder) serve(latency time.Duration) {
	r.mu.Lock()
	r.served++
	r.hist.add(latency)
	r.mu.Unlock()
}

func (r *recorder) stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Stats{
		Served:      r.served,
		Rejected:    r.rejected,
		Abandoned:   r.abandoned,
		MaxInFlight: r.maxInFlight,
		P50:         r.hist.quantile(0.50),
		P99:         r.hist.quantile(0.99),
		Max:         r.hist.max,
		Mean:        r.hist.mean(),
	}
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.served, r.rejected, r.abandoned = 0, 0, 0
	r.maxInFlight = r.inside.Load()
	r.hist = histogram{}
}

func (p *pool) stats() Stats {
	s := p.total.stats()
	s.InFlight = p.inFlight.Load()
	s.Queued = p.queued.Load()
	return s
}

func (p *pool) resetStats() { p.total.reset() }

// serve serves one request that holds a slot for service; extra recorders
// (a route's) count it too.
func (p *pool) serve(w http.ResponseWriter, r *http.Request, service time.Duration, extra ...*recorder) {
	start := time.Now()
	recs := append([]*recorder{&p.total}, extra...)
	if p.admit != nil {
		select {
		case p.admit <- struct{}{}:
		default:
			for _, rec := range recs {
				rec.reject()
			}
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"message": "Service Unavailable"})
			return
		}
	}
	for _, rec := range recs {
		rec.enter()
	}
	leave := func() {
		// Leave the counts before the waiting room, so a request admitted
		// in its place never counts alongside this one.
		for _, rec := range recs {
			rec.leave()
		}
		if p.admit != nil {
			<-p.admit
		}
	}

	p.queued.Add(1)
	var freedAt time.Time
	select {
	case freedAt = <-p.slots:
		p.queued.Add(-1)
	case <-r.Context().Done():
		p.queued.Add(-1)
		leave()
		for _, rec := range recs {
			rec.abandon()
		}
		return
	}
	// Service starts when the slot was due to be free, not when this
	// goroutine got to run: scheduler delays on a loaded machine then do not
	// eat into the modelled capacity.
	serviceStart := start
	if freedAt.After(serviceStart) {
		serviceStart = freedAt
	}
	waited := serviceStart.Sub(start)
	p.inFlight.Add(1)
	end := serviceStart.Add(p.serviceTime(service))
	if d := time.Until(end); d > 0 {
		t := time.NewTimer(d)
		<-t.C
	}
	p.inFlight.Add(-1)
	p.slots <- end
	leave()
	latency := time.Since(start)
	for _, rec := range recs {
		rec.serve(latency)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"message":   "ok",
		"queuedMs":  float64(waited.Microseconds()) / 1000,
		"latencyMs": float64(latency.Microseconds()) / 1000,
	})
}

func (p *pool) serviceTime(d time.Duration) time.Duration {
	if p.jitter > 0 && d > 0 {
		f := 1 + p.jitter*(2*rand.Float64()-1)
		d = time.Duration(float64(d) * f)
	}
	return d
}
