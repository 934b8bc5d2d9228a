package cw

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"
)

func TestStoreConcurrentPutAndQuery(t *testing.T) {
	store := NewStore(func() time.Time { return testNow })
	const writers, perWriter = 4, 3000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				store.Put("N", Datum{MetricName: "M", Dimensions: []Dimension{{"W", fmt.Sprint(w % 2)}},
					Value: float64(i % 500), Timestamp: testNow.Add(-time.Duration(i%30) * time.Minute)})
			}
		})
	}
	done := make(chan struct{})
	wg.Go(func() { // a reader racing the writers
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := store.Series(Query{Namespace: "N", MetricName: "M", Dimensions: []Dimension{{"W", "0"}}, Stat: "p99",
				Period: time.Minute, Start: testNow.Add(-time.Hour), End: testNow}); err != nil {
				t.Error(err)
				return
			}
			store.ListMetrics(MetricFilter{Namespace: "N"})
		}
	})
	for store.Points() < writers*perWriter {
		time.Sleep(time.Millisecond)
	}
	close(done)
	wg.Wait()
	var total float64
	for _, w := range []string{"0", "1"} {
		pts, err := store.Series(Query{Namespace: "N", MetricName: "M", Dimensions: []Dimension{{"W", w}}, Stat: "SampleCount",
			Period: time.Hour, Start: testNow.Add(-time.Hour), End: testNow.Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pts {
			total += p.Value
		}
	}
	if total != writers*perWriter {
		t.Fatalf("stored %v samples, want %d", total, writers*perWriter)
	}
}

func TestSeriesRejectsBadStatAndPeriod(t *testing.T) {
	store := NewStore(nil)
	for _, q := range []Query{
		{Stat: "Median", Period: time.Minute},
		{Stat: "p101", Period: time.Minute},
		{Stat: "Sum", Period: 30 * time.Second},
		{Stat: "Sum", Period: 0},
	} {
		if _, err := store.Series(q); err == nil {
			t.Errorf("Series(%+v) accepted", q)
		}
	}
	for _, s := range []string{"p0", "p50", "p99.9", "p99.99", "p100", "Average", "SampleCount"} {
		if _, err := parseStat(s); err != nil {
			t.Errorf("parseStat(%q): %v", s, err)
		}
	}
}

func TestPutIgnoresNonFiniteValues(t *testing.T) {
	store := NewStore(func() time.Time { return testNow })
	store.Put("N", Datum{MetricName: "M", Value: math.NaN()})
	store.Put("N", Datum{MetricName: "M", Values: []float64{1, math.Inf(1), 2}})
	if n := store.Points(); n != 2 {
		t.Fatalf("Points = %d, want 2", n)
	}
}

func BenchmarkSeriesP99(b *testing.B) {
	store := NewStore(func() time.Time { return testNow })
	for i := range 1_000_000 { // one metric, 10^6 points over an hour
		store.Put("N", Datum{MetricName: "L", Value: float64(i%5000) / 10, Timestamp: testNow.Add(-time.Hour + time.Duration(i)*time.Hour/1_000_000)})
	}
	q := Query{Namespace: "N", MetricName: "L", Stat: "p99", Period: 5 * time.Minute, Start: testNow.Add(-time.Hour), End: testNow}
	for b.Loop() {
		if pts, err := store.Series(q); err != nil || len(pts) != 12 {
			b.Fatal(len(pts), err)
		}
	}
}
