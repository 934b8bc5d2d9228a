package backend

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

type attackResult struct {
	ok, unavailable, other int
	elapsed                time.Duration // first send to last answer
}

// attack is a small open-loop generator: it sends rate requests per second for
// dur regardless of how fast answers come, then waits for all of them.
func attack(t *testing.T, url string, rate float64, dur time.Duration) attackResult {
	t.Helper()
	return attackMethod(t, http.MethodGet, url, rate, dur)
}

// attackMethod is attack with another HTTP method.
func attackMethod(t *testing.T, method, url string, rate float64, dur time.Duration) attackResult {
	t.Helper()
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxIdleConns: 512},
	}
	defer client.CloseIdleConnections()
	var (
		mu  sync.Mutex
		res attackResult
		wg  sync.WaitGroup
	)
	n := int(rate * dur.Seconds())
	start := time.Now()
	for i := range n {
		if wait := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); wait > 0 {
			time.Sleep(wait)
		}
		wg.Go(func() {
			req, err := http.NewRequest(method, url, nil)
			if err != nil {
				panic(err)
			}
			resp, err := client.Do(req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.other++
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
				res.ok++
			case http.StatusServiceUnavailable:
				res.unavailable++
			default:
				res.other++
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

func TestCapacity(t *testing.T) {
	b := New(Config{Slots: 4, Service: 50 * time.Millisecond, Queue: 8})
	if got := b.Capacity(); math.Abs(got-80) > 1e-9 {
		t.Fatalf("Capacity() = %v, want 80", got)
	}
	if got := New(Config{Slots: 3}).Capacity(); !math.IsInf(got, 1) {
		t.Fatalf("Capacity() with zero service = %v, want +Inf", got)
	}
}

func TestHalfCapacityLatencyIsServiceTime(t *testing.T) {
	const service = 50 * time.Millisecond
	b := New(Config{Slots: 4, Service: service, Queue: 8})
	srv := httptest.NewServer(b)
	defer srv.Close()

	res := attack(t, srv.URL, b.Capacity()/2, 1500*time.Millisecond)
	st := b.Stats()
	t.Logf("client: %+v; backend: %+v", res, st)
	if res.unavailable != 0 || res.other != 0 || st.Rejected != 0 {
		t.Fatalf("at half capacity got %d 503s, %d other failures, want none", res.unavailable, res.other)
	}
	if st.Served != int64(res.ok) {
		t.Errorf("Served = %d, client saw %d 200s", st.Served, res.ok)
	}
	// The histogram answers a bucket's midpoint, up to 1-2/(1+γ) ≈ 0.5% below
	// the true value: a P50 of exactly the service time may read as 49.95ms.
	if st.P50 < atResolution(service) || st.P50 > service*13/10 {
		t.Errorf("P50 = %v, want ≈ %v (service time, no queueing)", st.P50, service)
	}
	if st.P99 < atResolution(service) {
		t.Errorf("P99 = %v below the service time %v", st.P99, service)
	}
}

func TestDoubleCapacityRejectsAndServesAtCapacity(t *testing.T) {
	// A longer service time keeps scheduler delays on a loaded machine a
	// small fraction of it.
	const service = 100 * time.Millisecond
	const slots, queue = 8, 16
	b := New(Config{Slots: slots, Service: service, Queue: queue})
	// Throughput is measured server-side from the completion times of served
	// requests, so client-side delays on a loaded machine do not count.
	var (
		mu   sync.Mutex
		done []time.Time
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			mu.Lock()
			done = append(done, time.Now())
			mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	defer srv.Close()

	res := attack(t, srv.URL, 2*b.Capacity(), 2*time.Second)
	st := b.Stats()
	mu.Lock()
	defer mu.Unlock()
	if len(done) < 4*slots {
		t.Fatalf("only %d requests served", len(done))
	}
	// The first completions are the first `slots` requests, all started at
	// once; after them the backend completes one request per Service/Slots.
	slices.SortFunc(done, time.Time.Compare)
	throughput := float64(len(done)-slots) / done[len(done)-1].Sub(done[slots-1]).Seconds()
	t.Logf("client: %+v; served %.1f rps of capacity %.1f; backend: %+v", res, throughput, b.Capacity(), st)
	if res.unavailable == 0 || st.Rejected != int64(res.unavailable) {
		t.Fatalf("503s: client saw %d, backend counted %d; want some and equal", res.unavailable, st.Rejected)
	}
	if res.other != 0 {
		t.Fatalf("%d requests failed otherwise", res.other)
	}
	if math.Abs(throughput-b.Capacity())/b.Capacity() > 0.10 {
		t.Errorf("served throughput %.1f rps, want capacity %.1f ±10%%", throughput, b.Capacity())
	}
	// With the queue full, a served request waited for about Queue/Slots services.
	if st.P99 < atResolution(2*service) {
		t.Errorf("P99 = %v, want latency to climb above 2×service (%v) when overloaded", st.P99, 2*service)
	}
	if bound := service * (1 + queue/slots); st.Max > 2*bound {
		t.Errorf("Max = %v, far more than the bounded queue allows (≈%v)", st.Max, bound)
	}
}

func TestQueueFullRejectsImmediately(t *testing.T) {
	b := New(Config{Slots: 1, Service: 300 * time.Millisecond, Queue: 1})
	srv := httptest.NewServer(b)
	defer srv.Close()

	var wg sync.WaitGroup
	for range 2 { // one served, one queued
		wg.Go(func() {
			resp, err := http.Get(srv.URL)
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	deadline := time.Now().Add(2 * time.Second)
	for b.Stats().Queued != 1 || b.Stats().InFlight != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("backend never got to 1 in flight + 1 queued: %+v", b.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || body["message"] != "Service Unavailable" {
		t.Fatalf("got %d %v, want 503 {\"message\":\"Service Unavailable\"}", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	wg.Wait()
	st := b.Stats()
	if st.Served != 2 || st.Rejected != 1 {
		t.Fatalf("Stats = %+v, want 2 served 1 rejected", st)
	}
	b.ResetStats()
	if st := b.Stats(); st.Served != 0 || st.Rejected != 0 || st.P99 != 0 {
		t.Fatalf("after ResetStats: %+v", st)
	}
}

func TestAbandonedWhileQueuedFreesQueue(t *testing.T) {
	b := New(Config{Slots: 1, Service: 200 * time.Millisecond, Queue: 1})
	srv := httptest.NewServer(b)
	defer srv.Close()

	go func() {
		resp, err := http.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
	}()
	for b.Stats().InFlight != 1 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("queued request answered %d before its client gave up", resp.StatusCode)
	}
	deadline := time.Now().Add(2 * time.Second)
	for b.Stats().Abandoned != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("abandoned request not counted: %+v", b.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	if q := b.Stats().Queued; q != 0 {
		t.Fatalf("Queued = %d after the client left, want 0", q)
	}
}

// atResolution is the lowest value the histogram may report for a true
// latency of d: a bucket's midpoint is at least 2/(1+γ) of any value in it.
func atResolution(d time.Duration) time.Duration {
	return time.Duration(math.Floor(float64(d) * 2 / (1 + histGamma)))
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 10000; i++ {
		h.add(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5000 * time.Microsecond}, {0.99, 9900 * time.Microsecond}, {1, 10000 * time.Microsecond}} {
		got := h.quantile(tc.q)
		if rel := math.Abs(float64(got-tc.want)) / float64(tc.want); rel > 0.01 {
			t.Errorf("quantile(%v) = %v, want %v ±1%%", tc.q, got, tc.want)
		}
	}
	if m := h.mean(); m != 5000500*time.Nanosecond {
		t.Errorf("mean = %v", m)
	}
}

func TestJitterStaysInBounds(t *testing.T) {
	b := New(Config{Slots: 1, Service: 10 * time.Millisecond, Jitter: 0.5})
	for range 1000 {
		d := b.pool.serviceTime(b.cfg.Service)
		if d < 5*time.Millisecond || d > 15*time.Millisecond {
			t.Fatalf("service time %v outside 10ms ±50%%", d)
		}
	}
}

func BenchmarkServeHTTPNoService(b *testing.B) {
	be := New(Config{Slots: 64, Queue: 1024})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			be.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
}
