package backend

import (
	"math"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestSharedPoolCapacityAt(t *testing.T) {
	p := NewSharedPool(SharedPoolConfig{Slots: 8, Queue: 16, Routes: map[string]time.Duration{
		"GET /cart/profile/{userId}": 10 * time.Millisecond,
		"POST /orders":               30 * time.Millisecond,
	}})
	for _, tc := range []struct {
		mix  map[string]float64
		want float64
	}{
		{map[string]float64{"GET /cart/profile/{userId}": 1}, 800},
		{map[string]float64{"POST /orders": 1}, 800.0 / 3},
		// 8 / (0.5·0.01 + 0.5·0.03) = 400; weights need not sum to 1.
		{map[string]float64{"GET /cart/profile/{userId}": 2, "POST /orders": 2}, 400},
		// 8 / (0.75·0.01 + 0.25·0.03) = 533.3
		{map[string]float64{"GET /cart/profile/{userId}": 300, "POST /orders": 100}, 8 / 0.015},
		{map[string]float64{"GET /nope": 1}, 0},
		{map[string]float64{}, 0},
	} {
		if got := p.CapacityAt(tc.mix); math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("CapacityAt(%v) = %v, want %v", tc.mix, got, tc.want)
		}
	}
	if got := p.Capacity("POST /orders"); math.Abs(got-800.0/3) > 1e-6 {
		t.Errorf("Capacity(POST /orders) = %v", got)
	}
	if p.Route("GET /nope") != nil || p.Route("POST /orders") == nil {
		t.Error("Route: wrong handler presence")
	}
}

func TestSharedPoolRoutesByPattern(t *testing.T) {
	p := NewSharedPool(SharedPoolConfig{Slots: 2, Queue: 2, Routes: map[string]time.Duration{
		"GET /cart/profile/{userId}": time.Millisecond,
		"POST /orders":               time.Millisecond,
	}})
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/cart/profile/42", 200},
		{"POST", "/orders", 200},
		{"GET", "/orders", 405},
		{"GET", "/elsewhere", 404},
	} {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, rec.Code, tc.code)
		}
	}
	if s := p.RouteStats("GET /cart/profile/{userId}"); s.Served != 1 {
		t.Errorf("GET route served %d, want 1", s.Served)
	}
	if s := p.Stats(); s.Served != 2 || s.MaxInFlight != 1 {
		t.Errorf("pool stats: served %d max in flight %d, want 2 and 1", s.Served, s.MaxInFlight)
	}
}

// TestSharedPoolMethodsShareSlots: two routes each offered 60% of its own
// alone-capacity together overload the pool (1.2× its capacity at that
// mix), though each alone would fit.
func TestSharedPoolMethodsShareSlots(t *testing.T) {
	p := NewSharedPool(SharedPoolConfig{Slots: 4, Queue: 4, Routes: map[string]time.Duration{
		"GET /a":  20 * time.Millisecond, // alone 200 rps
		"POST /b": 40 * time.Millisecond, // alone 100 rps
	}})
	srv := httptest.NewServer(p)
	defer srv.Close()
	var wg sync.WaitGroup
	var a, b attackResult
	wg.Go(func() { a = attackMethod(t, "GET", srv.URL+"/a", 120, 2*time.Second) })
	wg.Go(func() { b = attackMethod(t, "POST", srv.URL+"/b", 60, 2*time.Second) })
	wg.Wait()
	// Capacity at the mix 120:60 is 4/(2/3·0.02+1/3·0.04) = 150 rps < 180 offered.
	if want := 150.0; math.Abs(p.CapacityAt(map[string]float64{"GET /a": 120, "POST /b": 60})-want) > 1e-6 {
		t.Fatalf("CapacityAt = %v, want %v", p.CapacityAt(map[string]float64{"GET /a": 120, "POST /b": 60}), want)
	}
	if a.unavailable+b.unavailable == 0 {
		t.Errorf("no rejections at 1.2× the shared capacity: GET %+v POST %+v", a, b)
	}
	st := p.Stats()
	if st.Rejected != int64(a.unavailable+b.unavailable) || st.MaxInFlight > 8 || st.MaxInFlight < 4 {
		t.Errorf("stats %+v: want rejected %d and 4 ≤ max in flight ≤ 8", st, a.unavailable+b.unavailable)
	}
	if rs := p.RouteStats("POST /b"); rs.Served != int64(b.ok) {
		t.Errorf("POST route served %d, client saw %d", rs.Served, b.ok)
	}
}

func TestBurstBucketTokens(t *testing.T) {
	now := time.Unix(1000, 0)
	b := NewBurstBucket(BurstBucketConfig{Rate: 10, Bucket: 5, MaxWait: 150 * time.Millisecond})
	b.now = func() time.Time { return now }
	b.last = now
	for i := range 5 {
		if w, ok := b.reserve(); !ok || w != 0 {
			t.Fatalf("request %d with tokens: wait %v ok %v", i, w, ok)
		}
	}
	// Empty: the next token comes in 100 ms (within MaxWait), the one after in 200 ms (beyond).
	if w, ok := b.reserve(); !ok || w != 100*time.Millisecond {
		t.Fatalf("first wait %v ok %v, want 100ms true", w, ok)
	}
	if _, ok := b.reserve(); ok {
		t.Fatal("a wait of 200ms beyond MaxWait 150ms was admitted")
	}
	now = now.Add(10 * time.Second) // refills, capped at the bucket
	if got := b.Tokens(); got != 5 {
		t.Fatalf("tokens after 10s = %v, want 5 (the bucket)", got)
	}
	if got := b.BurstSeconds(20); got != 0.5 {
		t.Fatalf("BurstSeconds(20) = %v, want 0.5", got)
	}
}

// TestBurstBucketServesBurstThenRate: at 3× the rate, the bucket lets
// everything through first, then only about the rate.
func TestBurstBucketServesBurstThenRate(t *testing.T) {
	b := NewBurstBucket(BurstBucketConfig{Rate: 50, Bucket: 50, Service: time.Millisecond})
	srv := httptest.NewServer(b)
	defer srv.Close()
	first := attack(t, srv.URL, 150, 400*time.Millisecond) // 60 requests, 50 tokens + 20 refilled
	if first.unavailable != 0 {
		t.Fatalf("burst within the bucket rejected %d", first.unavailable)
	}
	later := attack(t, srv.URL, 150, 2*time.Second) // 300 requests, about 100 tokens + the few left
	if later.unavailable == 0 || later.ok > 150 {
		t.Fatalf("after the bucket emptied: %+v, want about 100-130 served and the rest rejected", later)
	}
	if st := b.Stats(); st.Served != int64(first.ok+later.ok) || st.Rejected != int64(later.unavailable) {
		t.Fatalf("stats %+v disagree with the client", st)
	}
}

func TestDeepQueueNeverRejectsLatencyGrows(t *testing.T) {
	q := NewDeepQueue(DeepQueueConfig{Slots: 2, Service: 20 * time.Millisecond}) // 100 rps
	srv := httptest.NewServer(q)
	defer srv.Close()
	res := attack(t, srv.URL, 150, 2*time.Second) // 300 requests, ~100 over capacity
	if res.unavailable+res.other != 0 {
		t.Fatalf("deep queue answered errors: %+v", res)
	}
	st := q.Stats()
	// The last arrivals wait behind ~100 queued requests: about 1 s.
	if st.Max < 500*time.Millisecond || st.MaxInFlight < 50 {
		t.Fatalf("stats %+v: want max latency ≥ 500ms and ≥ 50 in flight at the peak", st)
	}
	if q.Capacity() != 100 {
		t.Fatalf("Capacity = %v", q.Capacity())
	}
}
