package loadtest

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// exactQuantile is the nearest-rank q quantile of sorted.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	if q >= 1 {
		return sorted[len(sorted)-1]
	}
	i := int(float64(len(sorted))*q+1-1e-9) - 1 // ceil(q·n) - 1
	return sorted[max(i, 0)]
}

// TestLatencyHistWithinPrecision compares the histogram's figures with the
// exact ones over latencies spread from microseconds to seconds: every
// quantile is at most 0.1% (+1 µs of rounding) above the exact figure and
// never below it (−0.5 µs of rounding); max and mean are exact.
func TestLatencyHistWithinPrecision(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 7, 100, 1013, 50000} {
		lat := make([]time.Duration, n)
		h := newLatencyHist(latencyDigits)
		var sum time.Duration
		for i := range lat {
			// Log-uniform from 1 µs to 10 s.
			lat[i] = time.Duration(float64(time.Microsecond) * math.Pow(10, rng.Float64()*7))
			h.record(lat[i])
			sum += lat[i]
		}
		slices.Sort(lat)
		if h.count() != n {
			t.Fatalf("n=%d: count %d", n, h.count())
		}
		for _, q := range []float64{0.001, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1} {
			want, got := exactQuantile(lat, q), h.quantile(q)
			lo, hi := want-time.Microsecond/2, time.Duration(float64(want)*1.001)+time.Microsecond
			if got < lo || got > hi {
				t.Errorf("n=%d q%v = %s, exact %s (allowed %s..%s)", n, q, got, want, lo, hi)
			}
		}
		if h.quantile(1) != lat[n-1] {
			t.Errorf("n=%d: max %s, exact %s", n, h.quantile(1), lat[n-1])
		}
		if h.mean() != sum/time.Duration(n) {
			t.Errorf("n=%d: mean %s, exact %s", n, h.mean(), sum/time.Duration(n))
		}
	}
}

// TestLatencyHistExactBelow2ms: below 2.048 ms the histogram keeps every
// microsecond, so the figures equal the exact ones to the microsecond.
func TestLatencyHistExactBelow2ms(t *testing.T) {
	h := newLatencyHist(latencyDigits)
	lat := make([]time.Duration, 0, 2000)
	for i := range 2000 {
		d := time.Duration(i+1) * time.Microsecond
		lat = append(lat, d)
		h.record(d)
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		if got, want := h.quantile(q), exactQuantile(lat, q); got != want {
			t.Errorf("q%v = %s, want %s", q, got, want)
		}
	}
}

func TestLatencyHistMergeAndReset(t *testing.T) {
	a, b := newLatencyHist(windowDigits), newLatencyHist(windowDigits)
	for range 90 {
		a.record(10 * time.Millisecond)
	}
	for range 10 {
		b.record(time.Second)
	}
	m := newLatencyHist(windowDigits)
	m.merge(a)
	m.merge(b)
	if m.count() != 100 || m.quantile(0.9) < 10*time.Millisecond || m.quantile(0.9) > 10100*time.Microsecond ||
		m.quantile(0.91) < time.Second || m.quantile(1) != time.Second {
		t.Errorf("merged: n=%d p90=%s p91=%s max=%s", m.count(), m.quantile(0.9), m.quantile(0.91), m.quantile(1))
	}
	m.reset()
	if m.count() != 0 || m.quantile(0.5) != 0 || m.mean() != 0 {
		t.Errorf("after reset: n=%d p50=%s mean=%s", m.count(), m.quantile(0.5), m.mean())
	}
	h := newLatencyHist(latencyDigits)
	h.record(2 * time.Hour)
	h.record(-time.Second)
	if h.count() != 2 || h.quantile(1) != time.Hour || h.quantile(0.5) != 0 {
		t.Errorf("out of range: n=%d max=%s p50=%s", h.count(), h.quantile(1), h.quantile(0.5))
	}
}

// TestStartCountsBetween compares the bucketed count of send times in the
// last third of a step with the exact count, for steps short and long
// enough that the buckets widen many times.
func TestStartCountsBetween(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, d := range []time.Duration{300 * time.Millisecond, 5 * time.Second, time.Minute, 30 * time.Minute} {
		var c startCounts
		var starts []time.Duration
		for range 20000 {
			s := time.Duration(rng.Int64N(int64(d)))
			starts = append(starts, s)
			c.add(s)
		}
		from, to := d*2/3, d
		exact := 0
		for _, s := range starts {
			if s >= from && s < to {
				exact++
			}
		}
		got := c.between(from, to)
		// Off by at most the two edge buckets' counts: 20000 starts over
		// at least 512 buckets put about 40 in each.
		if diff := got - float64(exact); diff > 120 || diff < -120 {
			t.Errorf("%s: %.1f starts in the last third, exact %d (width %s)", d, got, exact, c.width)
		}
		if c.width > max(d/(startBuckets/2), minStartWidth) {
			t.Errorf("%s: buckets %s wide, want at most %s", d, c.width, d/(startBuckets/2))
		}
	}
	var c startCounts
	if c.between(0, time.Second) != 0 {
		t.Error("empty counts not 0")
	}
}

// fill adds n results of a steady step to s: 2% errors, latencies from
// 1 to 100 ms, sent at 10,000 rps.
func fill(s *stepStats, n int) {
	for i := range n {
		o := outcome{start: time.Duration(i) * 100 * time.Microsecond, lat: time.Duration(1+i%100) * time.Millisecond, code: 200, target: -1}
		if i%50 == 0 {
			o.code = 503
		}
		s.add(time.Time{}, &o, nil)
	}
}

// TestStepStatsMemoryFlat: the figures of a step take the same memory
// whatever the number of requests. A million more results in a step keep
// (almost) nothing more on the heap: one latency kept per request would
// be 8 MB.
func TestStepStatsMemoryFlat(t *testing.T) {
	s := newStepStats(StepSpec{Phase: "fixed", Rate: 10000, Duration: 100 * time.Second, Objectives: DefaultObjectives()})
	fill(s, 1000)
	before := heapInUse()
	fill(s, 1_000_000)
	after := heapInUse()
	if after > before && after-before > 256<<10 {
		t.Errorf("a million more results kept %d more bytes on the heap, want the figures' memory flat", after-before)
	}
	st := s.finish(100 * time.Second)
	if st.Requests != 1_001_000 || st.Latency.P50 < 50 || st.Latency.P50 > 50.05 || st.Latency.Max != 100 {
		t.Errorf("figures: requests %d p50 %v max %v", st.Requests, st.Latency.P50, st.Latency.Max)
	}
}

// heapInUse is the heap kept alive after a collection.
func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkStepStatsAdd is the cost of recording one result in a step's
// figures: B/op stays at 0 however many results a step has.
func BenchmarkStepStatsAdd(b *testing.B) {
	s := newStepStats(StepSpec{Phase: "fixed", Rate: 10000, Duration: time.Hour, Objectives: DefaultObjectives()})
	b.ReportAllocs()
	b.ResetTimer()
	fill(s, b.N)
}

// TestTimelineMemoryFlat: a Timeline over two hours keeps at most
// maxTimelineBuckets buckets, and its points still count every result.
func TestTimelineMemoryFlat(t *testing.T) {
	tl := NewTimeline()
	start := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	n := 0
	for at := time.Duration(0); at < 2*time.Hour; at += 100 * time.Millisecond {
		lat := 10 * time.Millisecond
		if n%100 == 99 {
			lat = 500 * time.Millisecond
		}
		if err := tl.Add(&vegeta.Result{Timestamp: start.Add(at), Latency: lat, Code: 200}); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if len(tl.buckets) > maxTimelineBuckets || tl.width <= TimelineBucket {
		t.Errorf("%d buckets %s wide after two hours, want at most %d", len(tl.buckets), tl.width, maxTimelineBuckets)
	}
	total := 0
	pts := tl.Points(600)
	for _, p := range pts {
		total += p.Requests
	}
	if total != n || len(pts) > 600 || pts[len(pts)-1].At < 7000 {
		t.Errorf("points count %d of %d results, %d points, last at %.0fs", total, n, len(pts), pts[len(pts)-1].At)
	}
	// Most results take 10 ms: a merged point's p50 is the upper edge of
	// the 12%-wide bin that holds 10 ms.
	if p := pts[len(pts)/2]; p.P50 < 10 || p.P50 > 11.2 {
		t.Errorf("p50 of a point %.2f ms, want 10 ms within the timeline's 12%% bins", p.P50)
	}
}
