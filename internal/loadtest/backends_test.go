package loadtest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// slotBackend serves at most slots requests at once, each taking service;
// a request that would wait more than maxWait for a slot is answered 503 at
// once. Its capacity is slots/service requests per second. Slots are
// scheduled on a virtual timeline (a request's slot frees at start+service,
// not when its goroutine wakes up), so sleep jitter on a loaded machine
// does not lower the capacity.
type slotBackend struct {
	mu      sync.Mutex
	free    []time.Time // when each slot frees up
	service time.Duration
	maxWait time.Duration
	served  atomic.Int64
	refused atomic.Int64
}

func newSlotBackend(slots int, service time.Duration, queue int) *slotBackend {
	return &slotBackend{
		free:    make([]time.Time, slots),
		service: service,
		maxWait: time.Duration(queue) * service / time.Duration(slots),
	}
}

func (b *slotBackend) capacity() float64 {
	return float64(len(b.free)) / b.service.Seconds()
}

func (b *slotBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	b.mu.Lock()
	best := 0
	for i := range b.free {
		if b.free[i].Before(b.free[best]) {
			best = i
		}
	}
	start := b.free[best]
	if start.Before(now) {
		start = now
	}
	if start.Sub(now) > b.maxWait {
		b.mu.Unlock()
		b.refused.Add(1)
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	done := start.Add(b.service)
	b.free[best] = done
	b.mu.Unlock()
	time.Sleep(time.Until(done))
	b.served.Add(1)
	w.WriteHeader(http.StatusOK)
}

// bucketBackend answers 429 above rate per second (token bucket).
type bucketBackend struct {
	lim *rate.Limiter
}

func newBucketBackend(perSecond float64, burst int) *bucketBackend {
	return &bucketBackend{lim: rate.NewLimiter(rate.Limit(perSecond), burst)}
}

func (b *bucketBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !b.lim.Allow() {
		http.Error(w, `{"message":"Too Many Requests"}`, http.StatusTooManyRequests)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// okHandler answers 200 with a tiny body.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = w.Write([]byte("ok"))
})

// serve starts a loopback server for h, closed at the end of the test.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func target(url string) Targets {
	return Targets{{Method: "GET", URL: url, Weight: 1}}
}
