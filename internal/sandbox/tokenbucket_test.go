package sandbox

import (
	"math"
	"testing"
	"time"
)

// TestTokenBucketAdmitsRateTimesTPlusBurst drives a bucket with a fake clock
// at a steady offered load well above its rate and checks that it admits
// R·t+B requests in t seconds (±5%).
func TestTokenBucketAdmitsRateTimesTPlusBurst(t *testing.T) {
	cases := []struct {
		rate     float64
		burst    int
		seconds  float64
		offerRPS float64
	}{
		{rate: 10, burst: 5, seconds: 30, offerRPS: 100},
		{rate: 100, burst: 200, seconds: 10, offerRPS: 1000},
		{rate: 0.5, burst: 1, seconds: 60, offerRPS: 20},
		{rate: 1000, burst: 50, seconds: 2, offerRPS: 5000},
	}
	for _, tc := range cases {
		clock := newFakeClock()
		b := NewTokenBucket(tc.rate, tc.burst, clock.Now)
		step := time.Duration(float64(time.Second) / tc.offerRPS)
		n := int(tc.seconds * tc.offerRPS)
		admitted := 0
		for i := 0; i < n; i++ {
			if b.Allow() {
				admitted++
			}
			clock.Advance(step)
		}
		want := tc.rate*tc.seconds + float64(tc.burst)
		if math.Abs(float64(admitted)-want) > 0.05*want {
			t.Errorf("rate %v burst %d over %v s: admitted %d, want %.0f ±5%%", tc.rate, tc.burst, tc.seconds, admitted, want)
		}
	}
}

func TestTokenBucketBurstAndRefill(t *testing.T) {
	clock := newFakeClock()
	b := NewTokenBucket(2, 3, clock.Now)
	for i := 0; i < 3; i++ {
		if !b.Allow() {
			t.Fatalf("request %d of the initial burst rejected", i)
		}
	}
	if b.Allow() {
		t.Fatal("4th request admitted with burst 3 and no time passing")
	}
	if w := b.Wait(); w != 500*time.Millisecond {
		t.Fatalf("Wait = %v, want 500ms", w)
	}
	clock.Advance(500 * time.Millisecond)
	if !b.Allow() || b.Allow() {
		t.Fatal("after 0.5 s at 2/s exactly one token should be back")
	}
	clock.Advance(time.Hour)
	if got := b.Tokens(); got != 3 {
		t.Fatalf("tokens capped at burst: %v", got)
	}
	b.SetLimits(1, 1)
	if r, bu := b.Limits(); r != 1 || bu != 1 || b.Tokens() != 1 {
		t.Fatalf("SetLimits: %v %v tokens %v", r, bu, b.Tokens())
	}
	zero := NewTokenBucket(10, 0, clock.Now)
	if zero.Allow() {
		t.Fatal("burst 0 admitted a request")
	}
}

// TestTokenBucketRealTime checks the same law against the real clock, with
// a tolerance for a loaded machine: 1 s at rate 200, burst 20.
func TestTokenBucketRealTime(t *testing.T) {
	b := NewTokenBucket(200, 20, nil)
	start := time.Now()
	admitted, attempts := 0, 0
	for time.Since(start) < time.Second {
		attempts++
		if b.Allow() {
			admitted++
		}
		time.Sleep(200 * time.Microsecond)
	}
	el := time.Since(start).Seconds()
	want := 200*el + 20
	// Never more than R·t+B; on a loaded machine fewer attempts may be made,
	// so the lower bound is loose (the fake-clock test is the precise one).
	if float64(admitted) > want*1.05 || float64(admitted) < 0.5*math.Min(float64(attempts), want) {
		t.Fatalf("admitted %d of %d in %.2fs, want about %.0f", admitted, attempts, el, want)
	}
}

func BenchmarkTokenBucketAllow(b *testing.B) {
	tb := NewTokenBucket(1e9, 1e9, nil)
	for i := 0; i < b.N; i++ {
		tb.Allow()
	}
}
