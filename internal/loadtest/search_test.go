package loadtest

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

// fakeRunner answers steps from a model of a backend: below capacity
// every request succeeds fast; above it, the excess is refused (429) like a
// token bucket, or, with slowDown, everything is served but slowly.
type fakeRunner struct {
	capacity map[string]float64 // by target URL
	// shared makes the targets of a mix share one backend (each capacity
	// is the target's alone); otherwise each has its own.
	shared   bool
	slowDown bool
	calls    []StepSpec
	// interruptAt cancels the context when the n-th step (1-based) starts.
	interruptAt int
	cancel      context.CancelFunc
	// behindOnce makes the first step at this rate send only half of the rate.
	behindOnce float64
	// failThroughput scales the throughput reported above capacity (default 1).
	failThroughput float64
}

func (f *fakeRunner) RunStep(ctx context.Context, spec StepSpec) (Step, error) {
	f.calls = append(f.calls, spec)
	if f.interruptAt == len(f.calls) {
		f.cancel()
		return Step{Phase: spec.Phase, Rate: spec.Rate, Duration: 0.3, Requests: 3, Successes: 3, SuccessRatio: 1, Interrupted: true}, nil
	}
	c := f.mixCapacity(spec.Targets)
	d := spec.Duration.Seconds()
	st := Step{Phase: spec.Phase, Rate: spec.Rate, AchievedRate: spec.Rate, Duration: d, PlannedDuration: d}
	st.Requests = int(spec.Rate * d)
	if f.behindOnce > 0 && spec.Rate == f.behindOnce {
		f.behindOnce = 0
		st.AchievedRate = spec.Rate / 2
		st.Requests /= 2
		st.GeneratorBehind = true
		st.SuccessRatio, st.Throughput, st.ThroughputRatio = 1, spec.Rate/2, 0.5
		st.Latency = LatencyMS{P50: 10, P90: 12, P99: 15, Max: 20}
		return st, nil
	}
	switch {
	case spec.Rate <= c:
		st.SuccessRatio, st.Throughput, st.ThroughputRatio = 1, spec.Rate, 1
		st.Latency = LatencyMS{P50: 10, P90: 12, P99: 15, Max: 20}
	case f.slowDown:
		st.SuccessRatio, st.Throughput, st.ThroughputRatio = 1, spec.Rate, 1
		st.Latency = LatencyMS{P50: 900, P90: 1500, P99: 2500, Max: 3000}
	default:
		st.SuccessRatio = c / spec.Rate
		st.Throughput, st.ThroughputRatio = c, c/spec.Rate
		if f.failThroughput > 0 {
			st.Throughput *= f.failThroughput
		}
		st.Latency = LatencyMS{P50: 5, P90: 8, P99: 12, Max: 20}
	}
	st.Successes = int(float64(st.Requests) * st.SuccessRatio)
	// Like the engine, abort steps clearly past the default objectives
	// (errors at least 2% or p99 at least 2s) after a second.
	if 1-st.SuccessRatio >= 0.02 || st.Latency.P99 >= 2000 {
		st.Aborted, st.Reason = true, "aborted: clearly past the objectives"
		st.Duration = min(d, 1)
		st.Requests = int(spec.Rate * st.Duration)
		st.Successes = int(float64(st.Requests) * st.SuccessRatio)
	}
	return st, nil
}

// mixCapacity is the aggregate rate the targets' mix can take.
func (f *fakeRunner) mixCapacity(ts Targets) float64 {
	shares := ts.Shares()
	if f.shared {
		var load float64
		for i, t := range ts {
			load += shares[i] / f.capacity[t.URL]
		}
		return 1 / load
	}
	c := math.Inf(1)
	for i, t := range ts {
		c = math.Min(c, f.capacity[t.URL]/shares[i])
	}
	return c
}

func (f *fakeRunner) rates() []float64 {
	var out []float64
	for _, c := range f.calls {
		out = append(out, c.Rate)
	}
	return out
}

const fakeURL = "http://127.0.0.1:9/x"

func fakeSearch(t *testing.T, f *fakeRunner, cfg SearchConfig, targets Targets) (*Capacity, int) {
	t.Helper()
	sleeps := 0
	if targets == nil {
		targets = target(fakeURL)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.cancel = cancel
	c, err := Search(ctx, targets, cfg, Options{
		Runner: f,
		Sleep: func(ctx context.Context, d time.Duration) error {
			sleeps++
			return ctx.Err()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, sleeps
}

func attackSeconds(f *fakeRunner) float64 {
	total := 0.0
	for _, c := range f.calls {
		total += c.Duration.Seconds()
	}
	return total
}

// fakeAttackSeconds adds up the durations the fake reported (aborted steps last 1 s).
func fakeAttackSeconds(c *Capacity) float64 {
	total := 0.0
	for _, st := range c.Steps {
		total += st.Duration
	}
	return total
}

func TestSearchConvergesWithinPrecision(t *testing.T) {
	for _, slow := range []bool{false, true} {
		for _, capacity := range []float64{12, 55, 400, 777, 1234, 4200} {
			f := &fakeRunner{capacity: map[string]float64{fakeURL: capacity}, slowDown: slow}
			c, sleeps := fakeSearch(t, f, SearchConfig{}, nil)
			name := map[bool]string{false: "refuses", true: "slows"}[slow]
			if !c.Pass {
				t.Errorf("%s %.0f: no pass: %s", name, capacity, c.Reason)
				continue
			}
			// Never above what meets errors<1% (capacity/0.99 when the
			// excess is refused), within precision below capacity.
			if c.SustainableRPS > capacity/0.99 || c.SustainableRPS < capacity*(1-0.05) {
				t.Errorf("%s %.0f: sustainable %.0f, want within 5%% below; rates %v", name, capacity, c.SustainableRPS, f.rates())
			}
			b := c.Bracket
			if b == nil || b.Fail == 0 || (b.Fail-b.Pass)/b.Pass > 0.05 && b.Fail-b.Pass > 1 {
				t.Errorf("%s %.0f: bracket %+v wider than precision", name, capacity, b)
			}
			if got := fakeAttackSeconds(c); got > 90 {
				t.Errorf("%s %.0f: %.0fs of attack, budget is 90s; rates %v", name, capacity, got, f.rates())
			}
			if c.AttackSeconds != fakeAttackSeconds(c) {
				t.Errorf("%s %.0f: attack_seconds %.1f, steps add up to %.1f", name, capacity, c.AttackSeconds, fakeAttackSeconds(c))
			}
			if sleeps != len(f.calls)-1 {
				t.Errorf("%s %.0f: %d cool-downs for %d steps, want one between steps", name, capacity, sleeps, len(f.calls))
			}
			if len(c.Steps) != len(f.calls) {
				t.Errorf("%s %.0f: %d steps reported, %d run", name, capacity, len(c.Steps), len(f.calls))
			}
		}
	}
}

func TestSearchGrowthThenThroughputGuidedBisect(t *testing.T) {
	f := &fakeRunner{capacity: map[string]float64{fakeURL: 400}}
	c, _ := fakeSearch(t, f, SearchConfig{}, nil)
	// 640 fails serving 400: probe just under 400 (390), then just above (408).
	want := []float64{10, 20, 40, 80, 160, 320, 640, 390, 408}
	if got := f.rates(); !equalRates(got, want) {
		t.Fatalf("rates %v, want %v", got, want)
	}
	for i, call := range f.calls {
		wantD := 10 * time.Second
		if i < 7 {
			wantD = 5 * time.Second // growth steps are half as long
		}
		if call.Duration != wantD || !call.Abort {
			t.Errorf("step %d: duration %s abort %v, want %s with abort", i+1, call.Duration, call.Abort, wantD)
		}
	}
	if c.SustainableRPS != 390 || c.Bracket.Fail != 408 {
		t.Errorf("sustainable %v bracket %+v, want 390 [390,408]", c.SustainableRPS, c.Bracket)
	}
	if c.Steps[6].Phase != "grow" || c.Steps[7].Phase != "bisect" || c.Steps[6].Pass {
		t.Errorf("phases: %s %s pass %v", c.Steps[6].Phase, c.Steps[7].Phase, c.Steps[6].Pass)
	}
	if !strings.Contains(c.Steps[6].Reason, "errors") {
		t.Errorf("640 rps reason %q, want the error objective", c.Steps[6].Reason)
	}
}

func TestSearchProbesAboveALowThroughputEstimate(t *testing.T) {
	f := &fakeRunner{capacity: map[string]float64{fakeURL: 400}, failThroughput: 0.92}
	c, _ := fakeSearch(t, f, SearchConfig{}, nil)
	// 640 fails serving 368 (an underestimate): 359 passes, then steps of
	// 4.5% upwards until one fails, instead of bisecting from 640 down.
	want := []float64{10, 20, 40, 80, 160, 320, 640, 359, 375, 392, 410}
	if got := f.rates(); !equalRates(got, want) {
		t.Fatalf("rates %v, want %v", got, want)
	}
	if c.SustainableRPS != 392 {
		t.Errorf("sustainable %v, want 392", c.SustainableRPS)
	}
}

func TestSearchPlainBisectWhenLatencyFails(t *testing.T) {
	f := &fakeRunner{capacity: map[string]float64{fakeURL: 400}, slowDown: true}
	c, _ := fakeSearch(t, f, SearchConfig{}, nil)
	// Throughput does not reveal the capacity: midpoints.
	want := []float64{10, 20, 40, 80, 160, 320, 640, 480, 400, 440, 420} // [400,420] is within 5%
	if got := f.rates(); !equalRates(got, want) {
		t.Fatalf("rates %v, want %v", got, want)
	}
	if c.SustainableRPS != 400 || !strings.Contains(c.Steps[6].Reason, "p99 2.5s >= 1s") {
		t.Errorf("sustainable %v, 640 reason %q", c.SustainableRPS, c.Steps[6].Reason)
	}
}

func TestSearchNeverExceedsMaxRate(t *testing.T) {
	f := &fakeRunner{capacity: map[string]float64{fakeURL: 100000}}
	c, _ := fakeSearch(t, f, SearchConfig{MaxRate: 300, StepDuration: 2 * time.Second}, nil)
	for _, r := range f.rates() {
		if r > 300 {
			t.Fatalf("rate %v above max 300: %v", r, f.rates())
		}
	}
	if got := f.rates(); got[len(got)-1] != 300 || c.SustainableRPS != 300 || !c.Pass {
		t.Errorf("rates %v sustainable %v, want to end at 300", got, c.SustainableRPS)
	}
	if len(c.Warnings) == 0 || !strings.Contains(c.Warnings[0], "up to the maximum rate 300") {
		t.Errorf("want a max-rate warning, got %v", c.Warnings)
	}
	// A front end words it in its own terms, in place.
	c.WordWarnings(func(w Warning) string { return string(w.Kind) })
	if c.Warnings[0] != string(WarnMaxRateReached) {
		t.Errorf("reworded warnings %v, want %q first", c.Warnings, WarnMaxRateReached)
	}
}

func TestSearchDescendsWhenStartFails(t *testing.T) {
	f := &fakeRunner{capacity: map[string]float64{fakeURL: 3}}
	c, _ := fakeSearch(t, f, SearchConfig{StepDuration: 2 * time.Second}, nil)
	if got := f.rates(); got[0] != 10 || got[1] != 5 || got[2] != 2.5 {
		t.Fatalf("rates %v, want 10, 5, 2.5, …", got)
	}
	if !c.Pass || c.SustainableRPS > 3 || c.SustainableRPS < 2.5 {
		t.Errorf("sustainable %v, want in [2.5,3]", c.SustainableRPS)
	}
}

func TestSearchNoPassingRate(t *testing.T) {
	f := &fakeRunner{capacity: map[string]float64{fakeURL: 0}}
	c, _ := fakeSearch(t, f, SearchConfig{StepDuration: time.Second}, nil)
	if c.Pass || c.SustainableRPS != 0 || !strings.Contains(c.Reason, "no passing rate") {
		t.Errorf("pass %v sustainable %v reason %q", c.Pass, c.SustainableRPS, c.Reason)
	}
	if got := f.rates(); got[len(got)-1] < 1 {
		t.Errorf("went below the 1 rps minimum: %v", got)
	}
}

func TestSearchStopsWhenBudgetRunsOut(t *testing.T) {
	f := &fakeRunner{capacity: map[string]float64{fakeURL: 400}, slowDown: true}
	c, _ := fakeSearch(t, f, SearchConfig{Budget: 30 * time.Second}, nil)
	if got := fakeAttackSeconds(c); got > 30 {
		t.Errorf("attack %.0fs, budget 30s", got)
	}
	if !c.Pass || c.SustainableRPS != 320 {
		t.Errorf("sustainable %v, want the last pass 320", c.SustainableRPS)
	}
	if len(c.Warnings) == 0 || !strings.Contains(c.Warnings[0], "budget") {
		t.Errorf("want a budget warning, got %v", c.Warnings)
	}
}

func TestSearchInterrupted(t *testing.T) {
	f := &fakeRunner{capacity: map[string]float64{fakeURL: 400}, interruptAt: 4}
	c, _ := fakeSearch(t, f, SearchConfig{}, nil)
	if !c.Interrupted || len(f.calls) != 4 || len(c.Steps) != 4 {
		t.Fatalf("interrupted %v after %d calls, %d steps; want to stop at step 4", c.Interrupted, len(f.calls), len(c.Steps))
	}
	if c.SustainableRPS != 40 || c.Steps[3].Pass {
		t.Errorf("sustainable %v, want 40 (last full pass)", c.SustainableRPS)
	}
}

func TestSearchConfirm(t *testing.T) {
	f := &fakeRunner{capacity: map[string]float64{fakeURL: 400}}
	c, _ := fakeSearch(t, f, SearchConfig{Confirm: 30 * time.Second}, nil)
	last := f.calls[len(f.calls)-1]
	if last.Phase != "confirm" || last.Rate != c.SustainableRPS || last.Duration != 30*time.Second {
		t.Fatalf("last step %s %v %s, want confirm at %v for 30s", last.Phase, last.Rate, last.Duration, c.SustainableRPS)
	}
	if c.Confirm == nil || !c.Confirm.Pass || !c.Pass {
		t.Errorf("confirm %+v pass %v", c.Confirm, c.Pass)
	}
}

func TestSearchRerunsStepWhenGeneratorFellBehind(t *testing.T) {
	f := &fakeRunner{capacity: map[string]float64{fakeURL: 400}, behindOnce: 160}
	c, _ := fakeSearch(t, f, SearchConfig{}, nil)
	if got := f.rates(); got[4] != 160 || got[5] != 160 || got[6] != 320 {
		t.Fatalf("rates %v, want 160 twice then 320", got)
	}
	if !c.CoordinatedOmission || c.SustainableRPS != 390 {
		t.Errorf("coordinated omission %v sustainable %v", c.CoordinatedOmission, c.SustainableRPS)
	}
}

func TestSearchPerMethod(t *testing.T) {
	a, b := "http://127.0.0.1:9/a", "http://127.0.0.1:9/b"
	f := &fakeRunner{capacity: map[string]float64{a: 100, b: 400}}
	ts := Targets{{Name: "GET /a", Method: "GET", URL: a}, {Name: "GET /b", Method: "GET", URL: b}}
	ctx := context.Background()
	c, err := SearchPerMethod(ctx, ts, SearchConfig{StepDuration: 2 * time.Second}, Options{Runner: f, Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Methods) != 2 || c.Methods[0].Name != "GET /a" || c.Methods[1].Name != "GET /b" {
		t.Fatalf("methods %+v", c.Methods)
	}
	if m := c.Methods[0]; m.SustainableRPS > 100 || m.SustainableRPS < 95 || m.IsolatedRPS != m.SustainableRPS {
		t.Errorf("GET /a sustainable %v isolated %v, want ~100 both", m.SustainableRPS, m.IsolatedRPS)
	}
	if m := c.Methods[1]; m.SustainableRPS > 400 || m.SustainableRPS < 380 {
		t.Errorf("GET /b sustainable %v, want ~400", m.SustainableRPS)
	}
	// Separate backends: the found rates hold together.
	if c.SharedBackend || math.Abs(c.SustainableRPS-(c.Methods[0].SustainableRPS+c.Methods[1].SustainableRPS)) > 1 {
		t.Errorf("shared %v overall %v, want not shared and the sum of the methods'", c.SharedBackend, c.SustainableRPS)
	}
	for i, call := range f.calls {
		if want := 1 + btoi(i == len(f.calls)-1); len(call.Targets) != want {
			t.Fatalf("step %d (%s) hit %d targets, want %d", i, call.Phase, len(call.Targets), want)
		}
	}
	if last := f.calls[len(f.calls)-1]; last.Phase != "joint" {
		t.Fatalf("last step %s, want the joint check", last.Phase)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestSearchPerMethodSharedBackend: two methods that share one backend
// each find the whole backend alone; together at those rates they fail, so
// the result says shared_backend and its allocations sum to what the
// shared backend takes at the found mix.
func TestSearchPerMethodSharedBackend(t *testing.T) {
	a, b := "http://127.0.0.1:9/a", "http://127.0.0.1:9/b"
	f := &fakeRunner{capacity: map[string]float64{a: 400, b: 100}, shared: true}
	ts := Targets{{Name: "GET /a", Method: "GET", URL: a}, {Name: "POST /b", Method: "POST", URL: b}}
	c, err := SearchPerMethod(context.Background(), ts, SearchConfig{StepDuration: 2 * time.Second}, Options{Runner: f, Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if !c.SharedBackend || !c.Pass {
		t.Fatalf("shared %v pass %v (%s), want a shared backend found", c.SharedBackend, c.Pass, c.Reason)
	}
	// Found alone ≈ 400 and ≈ 100: mix 0.8/0.2, true capacity at it 1/(0.8/400+0.2/100) = 250.
	var sum float64
	for _, m := range c.Methods {
		sum += m.SustainableRPS
	}
	if sum > 250 || sum < 250*(1-0.1) || math.Abs(sum-c.SustainableRPS) > 0.5 {
		t.Errorf("allocations sum %v (aggregate %v), want within 10%% under the pool's 250 at the mix", sum, c.SustainableRPS)
	}
	if c.Mix == nil || c.Mix.Source != "found-rates" || math.Abs(c.Methods[0].Share-0.8) > 0.02 {
		t.Errorf("mix %+v share %v, want found-rates at 0.8/0.2", c.Mix, c.Methods[0].Share)
	}
}

func TestFixedRunVerdict(t *testing.T) {
	for _, tc := range []struct {
		capacity float64
		pass     bool
	}{{500, true}, {100, false}} {
		f := &fakeRunner{capacity: map[string]float64{fakeURL: tc.capacity}}
		c, err := Run(context.Background(), target(fakeURL), 200, 3*time.Second, Options{Runner: f})
		if err != nil {
			t.Fatal(err)
		}
		if c.Pass != tc.pass || len(c.Steps) != 1 || c.Mode != "fixed" {
			t.Errorf("capacity %v: pass %v steps %d mode %s", tc.capacity, c.Pass, len(c.Steps), c.Mode)
		}
		if !tc.pass && (c.SustainableRPS != 0 || !strings.Contains(c.Reason, "errors 50% >= 1%")) {
			t.Errorf("capacity %v: sustainable %v reason %q", tc.capacity, c.SustainableRPS, c.Reason)
		}
	}
}

func TestKnee(t *testing.T) {
	mk := func(rate, p50, succ float64) Step {
		return Step{Rate: rate, Requests: 100, SuccessRatio: succ, Latency: LatencyMS{P50: p50}}
	}
	for _, tc := range []struct {
		name  string
		steps []Step
		want  float64
	}{
		{"bend", []Step{mk(100, 20, 1), mk(200, 21, 1), mk(400, 22, 1), mk(600, 80, 1), mk(800, 300, 1)}, 400},
		{"noise lower down ignored", []Step{mk(100, 20, 1), mk(200, 45, 1), mk(400, 22, 1), mk(600, 80, 1)}, 400},
		{"errors bend too", []Step{mk(100, 1, 1), mk(200, 1, 1), mk(300, 1, 0.9)}, 200},
		{"flat to the end", []Step{mk(100, 20, 1), mk(200, 21, 1), mk(400, 22, 1)}, 0},
		{"too few", []Step{mk(100, 20, 1), mk(200, 80, 1)}, 0},
	} {
		if got := Knee(tc.steps); got != tc.want {
			t.Errorf("%s: knee %v, want %v", tc.name, got, tc.want)
		}
	}
}

func equalRates(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9 {
			return false
		}
	}
	return true
}
