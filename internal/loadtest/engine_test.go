package loadtest

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/apictl/apictl/internal/sandbox/backend"
)

// testSearchConfig keeps the acceptance searches short: 1 s growth steps,
// 2 s bisection steps, short cool-downs.
func testSearchConfig() SearchConfig {
	return SearchConfig{StepDuration: 2 * time.Second, GrowDuration: time.Second, CoolDown: 200 * time.Millisecond}
}

func logSteps(t *testing.T, c *Capacity) {
	t.Helper()
	for _, st := range c.Steps {
		t.Logf("errors %v codes %v", st.Errors, st.StatusCodes)
		t.Logf("%-7s rate %6.0f achieved %7.1f dur %.2fs req %5d thr %7.1f succ %.3f p50 %6.1fms p99 %7.1fms pass %v %s",
			st.Phase, st.Rate, st.AchievedRate, st.Duration, st.Requests, st.Throughput, st.SuccessRatio, st.Latency.P50, st.Latency.P99, st.Pass, st.Reason)
	}
	t.Logf("sustainable %.0f knee %.0f attack %.1fs warnings %v", c.SustainableRPS, c.KneeRPS, c.AttackSeconds, c.Warnings)
}

func within(got, want, tol float64) bool { return math.Abs(got-want) <= tol*want }

// TestSearchConcurrencyLimitedBackend: 8 slots × 20 ms = 400 rps, found
// within ±10%. The backend schedules its slots on a virtual timeline so the
// capacity stays 400 rps even when timers fire late on a loaded machine.
func TestSearchConcurrencyLimitedBackend(t *testing.T) {
	parallelSearch(t)
	b := newSlotBackend(8, 20*time.Millisecond, 64)
	url := serve(t, b)
	var progress bytes.Buffer
	c, err := Search(context.Background(), target(url), testSearchConfig(), Options{Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	logSteps(t, c)
	if !c.Pass || !within(c.SustainableRPS, b.capacity(), 0.10) {
		t.Errorf("sustainable %.0f rps, want %.0f ±10%% (pass %v, reason %q)", c.SustainableRPS, b.capacity(), c.Pass, c.Reason)
	}
	if len(c.Steps) < 7 || c.Steps[0].Rate != 10 || c.Steps[1].Rate != 20 {
		t.Errorf("want growth from 10 rps doubling, got %d steps starting %v", len(c.Steps), c.Steps[0].Rate)
	}
	if !strings.Contains(progress.String(), "step 1 grow") {
		t.Errorf("progress lacks step lines:\n%s", progress.String())
	}
}

// TestSearchSandboxBackend runs the search against the sandbox's sample
// backend (8 slots × 20 ms, timer-based). Its real capacity drops when the
// machine is loaded (timers fire late), so only the upper bound is tight:
// the search must never report more than the backend can serve.
func TestSearchSandboxBackend(t *testing.T) {
	parallelSearch(t)
	b := backend.New(backend.Config{Slots: 8, Service: 20 * time.Millisecond, Queue: 32})
	url := serve(t, b)
	cfg := testSearchConfig()
	cfg.StartRate = 50
	c, err := Search(context.Background(), target(url), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	logSteps(t, c)
	if !c.Pass || c.SustainableRPS > 1.1*b.Capacity() || c.SustainableRPS < 0.5*b.Capacity() {
		t.Errorf("sustainable %.0f rps, want between 50%% and 110%% of %.0f", c.SustainableRPS, b.Capacity())
	}
}

func TestSearchTokenBucketBackend(t *testing.T) {
	parallelSearch(t)
	const limit = 300
	url := serve(t, newBucketBackend(limit, 30))
	c, err := Search(context.Background(), target(url), testSearchConfig(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	logSteps(t, c)
	if !c.Pass || !within(c.SustainableRPS, limit, 0.10) {
		t.Errorf("sustainable %.0f rps, want %d ±10%% (pass %v, reason %q)", c.SustainableRPS, limit, c.Pass, c.Reason)
	}
}

// TestFixedRunAchievesRequestedRate: 2000 rps for 5 s against a trivial
// loopback server must achieve ≥ 99% of the requested rate. The race
// detector makes every request (client and server in this process) several
// times dearer, and on a small shared machine 2000 rps is then out of reach
// of any generator; under -race the test checks 200 rps for 3 s at ≥ 90%
// instead (skipped with -short), and CI's run without -race checks the
// full 2000 rps at 99%.
func TestFixedRunAchievesRequestedRate(t *testing.T) {
	rate, d, want := 2000.0, 5*time.Second, 0.99
	if raceEnabled {
		if testing.Short() {
			t.Skip("heavy under -race; runs without -short")
		}
		rate, d, want = 200, 3*time.Second, 0.90
	}
	url := serve(t, okHandler)
	c, err := Run(context.Background(), target(url), rate, d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	logSteps(t, c)
	st := c.Steps[0]
	if ratio := st.AchievedRate / st.Rate; ratio < want {
		t.Errorf("achieved %.1f of %v rps (%.1f%%), want ≥ %.0f%%", st.AchievedRate, st.Rate, 100*ratio, 100*want)
	}
	if st.SuccessRatio != 1 || float64(st.Requests) < want*rate*d.Seconds() {
		t.Errorf("success %.4f, %d requests", st.SuccessRatio, st.Requests)
	}
	if !raceEnabled && (!c.Pass || c.CoordinatedOmission) {
		t.Errorf("pass %v coordinated omission %v: %s %v", c.Pass, c.CoordinatedOmission, c.Reason, c.Warnings)
	}
}

func TestEarlyAbortProtectsBackend(t *testing.T) {
	var hits atomic.Int64
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	c, err := Run(context.Background(), target(url), 200, 10*time.Second, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := c.Steps[0]
	if !st.Aborted || st.Pass || c.Pass || st.Duration > 3 {
		t.Fatalf("aborted %v after %.2fs, pass %v: %s", st.Aborted, st.Duration, st.Pass, st.Reason)
	}
	if !strings.Contains(st.Reason, "aborted: errors 100%") || !strings.Contains(strings.Join(st.Errors, ","), "500 Internal Server Error") {
		t.Errorf("reason %q errors %v", st.Reason, st.Errors)
	}
	if n := hits.Load(); n > 200*3 {
		t.Errorf("backend got %d requests, want the step stopped early", n)
	}
	// Without abort the step runs its course.
	c, err = Run(context.Background(), target(url), 100, time.Second+500*time.Millisecond, Options{NoAbort: true})
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Steps[0]; st.Aborted || st.Duration < 1.5 {
		t.Errorf("NoAbort: aborted %v after %.2fs", st.Aborted, st.Duration)
	}
}

func TestSlowResponsesAbortOnLatencyAndDrain(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	objs, _ := ParseObjectives([]string{"p99<100ms"})
	// No response ever comes: the in-flight count (rate × latency) aborts the step.
	c, err := Run(context.Background(), target(url), 100, 10*time.Second, Options{Objectives: objs})
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Steps[0]; !st.Aborted || st.Duration > 3 || !strings.Contains(st.Reason, "in flight") {
		t.Errorf("aborted %v after %.2fs: %s", st.Aborted, st.Duration, st.Reason)
	}
	// Without abort, requests still in flight after the drain time count as errors.
	start := time.Now()
	c, err = Run(context.Background(), target(url), 20, time.Second, Options{Objectives: objs, NoAbort: true, Attack: AttackOptions{Drain: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	st := c.Steps[0]
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("step took %s, want ~1.3s (drain cancels)", el)
	}
	if st.Requests < 15 || st.SuccessRatio != 0 || !strings.Contains(strings.Join(st.Errors, ","), "drain") {
		t.Errorf("requests %d success %v errors %v", st.Requests, st.SuccessRatio, st.Errors)
	}
}

func TestInterruptReportsWhatWasMeasured(t *testing.T) {
	url := serve(t, okHandler)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(1200*time.Millisecond, cancel)
	start := time.Now()
	c, err := Search(ctx, target(url), SearchConfig{StartRate: 50, StepDuration: 2 * time.Second, GrowDuration: time.Second, CoolDown: 100 * time.Millisecond}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("search went on for %s after the interrupt", time.Since(start))
	}
	if !c.Interrupted || len(c.Steps) == 0 || c.Steps[0].Requests < 40 {
		t.Fatalf("interrupted %v steps %d", c.Interrupted, len(c.Steps))
	}
	if last := c.Steps[len(c.Steps)-1]; !last.Interrupted || last.Pass {
		t.Errorf("last step interrupted %v pass %v", last.Interrupted, last.Pass)
	}
}

func TestResultsFileAndPlots(t *testing.T) {
	url := serve(t, okHandler)
	var results, html bytes.Buffer
	c, err := Search(context.Background(), target(url), SearchConfig{StartRate: 20, MaxRate: 80, StepDuration: 500 * time.Millisecond, GrowDuration: 500 * time.Millisecond, CoolDown: NoCoolDown},
		Options{Results: &results, HTML: &html})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, st := range c.Steps {
		total += st.Requests
	}
	dec := vegeta.NewDecoder(&results)
	n := 0
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if err != io.EOF {
				t.Fatalf("decode result %d: %v", n+1, err)
			}
			break
		}
		if r.Code != 200 || r.URL != url {
			t.Fatalf("result %d: %+v", n+1, r)
		}
		n++
	}
	if n != total || n == 0 {
		t.Errorf("decoded %d results, steps counted %d", n, total)
	}
	if !strings.Contains(html.String(), "<html") || !strings.Contains(html.String(), "grow 20 rps") {
		t.Errorf("html plot lacks attack names: %.300s", html.String())
	}
	var steps bytes.Buffer
	if err := WriteStepsHTML(&steps, c); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(steps.String(), "<svg") || strings.Count(steps.String(), "<circle") != 2*len(c.Steps) {
		t.Errorf("steps chart: %d circles for %d steps", strings.Count(steps.String(), "<circle"), len(c.Steps))
	}
	chart := RateLatencyChart(c.Steps, 20)
	if lines := strings.Count(chart, "\n"); lines != len(c.Steps)+1 || !strings.Contains(chart, "80 rps │") {
		t.Errorf("text chart:\n%s", chart)
	}
}

func TestProgressTTYAndPlain(t *testing.T) {
	url := serve(t, okHandler)
	for _, tty := range []bool{true, false} {
		var out bytes.Buffer
		opts := Options{Progress: &out, ProgressTTY: tty}
		if _, err := Run(context.Background(), target(url), 50, 1200*time.Millisecond, opts); err != nil {
			t.Fatal(err)
		}
		s := out.String()
		live := strings.Contains(s, "\r\x1b[K")
		if live != tty {
			t.Errorf("tty %v: live updates %v in %q", tty, live, s)
		}
		if !strings.Contains(s, "step 1 fixed") || !strings.Contains(s, "PASS") {
			t.Errorf("tty %v: no final step line in %q", tty, s)
		}
		if tty && !strings.Contains(s, "ETA") {
			t.Errorf("tty: no live line with ETA in %q", s)
		}
	}
}

// TestGeneratorBehindStopsTheStep: a rate far beyond what the generator can
// send (200000 rps) stops the step, even without the early abort, instead of
// starting workers and connections without end; coordinated omission is
// flagged.
func TestGeneratorBehindStopsTheStep(t *testing.T) {
	url := serve(t, okHandler)
	c, err := Run(context.Background(), target(url), 200000, 5*time.Second, Options{NoAbort: true})
	if err != nil {
		t.Fatal(err)
	}
	st := c.Steps[0]
	if !st.Aborted || !st.GeneratorBehind || st.Duration > 3 || !strings.Contains(st.Reason, "load generator fell behind") {
		t.Fatalf("aborted %v behind %v after %.2fs: %s", st.Aborted, st.GeneratorBehind, st.Duration, st.Reason)
	}
	if !c.CoordinatedOmission || c.Pass {
		t.Errorf("coordinated omission %v pass %v", c.CoordinatedOmission, c.Pass)
	}
}
