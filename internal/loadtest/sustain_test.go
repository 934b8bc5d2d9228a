package loadtest

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

// bucketFake is a backend with a burst allowance as a StepRunner: it
// sustains rate; a step above it passes while the bucket's tokens last
// (they carry over from step to step), after which it serves rate and
// rejects the rest.
type bucketFake struct {
	rate, tokens, bucket float64
	calls                []StepSpec
}

func (f *bucketFake) RunStep(_ context.Context, spec StepSpec) (Step, error) {
	f.calls = append(f.calls, spec)
	d, r := spec.Duration.Seconds(), spec.Rate
	st := Step{Phase: spec.Phase, Rate: r, AchievedRate: r, Duration: d, PlannedDuration: d,
		Latency: LatencyMS{P50: 5, P90: 8, P99: 12, Max: 20}}
	served := r * d
	switch need := (r - f.rate) * d; {
	case r <= f.rate:
		f.tokens = math.Min(f.bucket, f.tokens+(f.rate-r)*d)
		st.TailThroughput = r
	case need <= f.tokens:
		f.tokens -= need
		st.TailThroughput = r
	default:
		empty := f.tokens / (r - f.rate) // seconds until the bucket is empty
		f.tokens = 0
		// Like the engine, the step is aborted a second after the errors start.
		d = math.Min(d, empty+1)
		served = r*empty + f.rate*(d-empty)
		st.Duration = d
		st.Aborted, st.Reason = true, "aborted: errors"
		st.TailThroughput = f.rate
		if empty > d*2/3 {
			st.TailThroughput = r
		}
	}
	st.Requests = int(r * d)
	st.Successes = int(served)
	st.SuccessRatio = served / (r * d)
	st.Throughput = served / d
	st.ThroughputRatio = st.Throughput / r
	return st, nil
}

var noSleep = func(context.Context, time.Duration) error { return nil }

// TestConfirmStepsDownToSustained: a bucket holding 20 s of the excess at
// twice the rate lets short steps pass far above the sustained 100 rps;
// the holds step down to it and report the held rate, confirmed.
func TestConfirmStepsDownToSustained(t *testing.T) {
	f := &bucketFake{rate: 100, tokens: 2000, bucket: 2000}
	c, err := Search(context.Background(), target("http://127.0.0.1:9/x"),
		SearchConfig{StepDuration: 2 * time.Second, Confirm: 60 * time.Second}, Options{Runner: f, Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Pass || !c.Confirmed || c.SustainableRPS > 100 || c.SustainableRPS < 90 {
		t.Fatalf("pass %v confirmed %v sustainable %v (%s); want confirmed within 10%% under 100", c.Pass, c.Confirmed, c.SustainableRPS, c.Reason)
	}
	t.Logf("steps %v", rates(c.Steps))
	last := c.Holds[len(c.Holds)-1]
	if c.Confirm == nil || c.Confirm.Rate != c.SustainableRPS || last.Duration != 60 || !last.Pass {
		t.Fatalf("last hold %+v, want a 60s pass at %v", last, c.SustainableRPS)
	}
	if c.ConfirmRequestedS != 60 {
		t.Errorf("confirm_requested_s %v", c.ConfirmRequestedS)
	}
}

// TestFailedConfirmNeverReportsTheRate: when no hold passes within the
// hold budget, the result has no sustainable rate and is not confirmed.
func TestFailedConfirmNeverReportsTheRate(t *testing.T) {
	// 900 tokens: enough for the search's 2 s step at 200 rps, not for a
	// 30 s hold; the step-down hold at about 100 rps passes but the hold
	// budget ends it before 30 s.
	f := &bucketFake{rate: 100, tokens: 900, bucket: 900}
	cfg := SearchConfig{StepDuration: 2 * time.Second, StartRate: 200, MaxRate: 200, Confirm: 30 * time.Second, HoldBudget: 30 * time.Second}
	c, err := Search(context.Background(), target("http://127.0.0.1:9/x"), cfg, Options{Runner: f, Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	if c.Pass || c.Confirmed || c.SustainableRPS != 0 || !strings.Contains(c.Reason, "confirm") {
		t.Fatalf("pass %v confirmed %v sustainable %v reason %q: a failed confirm must not report a rate", c.Pass, c.Confirmed, c.SustainableRPS, c.Reason)
	}
	if n := len(c.Holds); n < 2 || c.Holds[0].Rate != 200 || c.Holds[0].Pass || c.Holds[n-1].Rate >= 100 {
		t.Fatalf("holds %v, want a failed hold at 200, stepping down below 100", rates(c.Holds))
	}
}

// TestStatefulBackendRechecked: a short search over a bucket that empties
// mid-search: a step served clearly less than a lower rate that passed, so
// that pass is re-checked, not trusted, and the search ends near the
// sustained rate even without --confirm.
func TestStatefulBackendRechecked(t *testing.T) {
	f := &bucketFake{rate: 100, tokens: 1500, bucket: 1500}
	c, err := Search(context.Background(), target("http://127.0.0.1:9/x"), SearchConfig{StepDuration: 4 * time.Second}, Options{Runner: f, Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	rechecks := 0
	for _, st := range c.Steps {
		if st.Phase == "recheck" {
			rechecks++
		}
	}
	if rechecks == 0 || !hasWarning(c, "stateful") {
		t.Fatalf("no re-check (steps %v, warnings %q)", rates(c.Steps), c.Warnings)
	}
	t.Logf("steps %v", rates(c.Steps))
	if c.SustainableRPS > 110 || c.SustainableRPS < 80 {
		t.Fatalf("sustainable %v after re-checks (steps %v), want about the sustained 100", c.SustainableRPS, rates(c.Steps))
	}
}

func hasWarning(c *Capacity, sub string) bool {
	for _, w := range c.Warnings {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

func rates(steps []Step) []string {
	var out []string
	for _, st := range steps {
		v := "F"
		if st.Pass {
			v = "P"
		}
		out = append(out, string(st.Phase)+":"+fmtRate(st.Rate)+v)
	}
	return out
}

func TestIsGatewayThrottle(t *testing.T) {
	for _, tc := range []struct {
		code int
		typ  string
		want bool
	}{
		{429, "TooManyRequestsException", true},
		{429, "LimitExceededException:http://internal.amazon.com/coral/com.amazon.coral.service/", true},
		{429, "", false}, // a backend's own 429
		{503, "TooManyRequestsException", false},
		{403, "ForbiddenException", false},
	} {
		h := http.Header{}
		if tc.typ != "" {
			h.Set("x-amzn-ErrorType", tc.typ)
		}
		if got := isGatewayThrottle(tc.code, h); got != tc.want {
			t.Errorf("isGatewayThrottle(%d, %q) = %v, want %v", tc.code, tc.typ, got, tc.want)
		}
	}
}

func TestStageAndPlanKeyLabels(t *testing.T) {
	for k, want := range map[string]string{"~1orders/POST": "POST /orders", "~1cart~1profile~1{userId}/GET": "GET /cart/profile/{userId}", "~1/GET": "GET /"} {
		if got, ok := stageKeyLabel(k); !ok || got != want {
			t.Errorf("stageKeyLabel(%q) = %q, want %q", k, got, want)
		}
	}
	for k, want := range map[string]string{"/orders/POST": "POST /orders", "//GET": "GET /"} {
		if got, ok := planKeyLabel(k); !ok || got != want {
			t.Errorf("planKeyLabel(%q) = %q, want %q", k, got, want)
		}
	}
}

// TestSearchPerMethodAtMix: with a measured mix, the joint check runs the
// methods at that mix at the highest aggregate where none exceeds its
// isolated rate; on a shared backend the allocations follow the mix.
func TestSearchPerMethodAtMix(t *testing.T) {
	a, b := "http://127.0.0.1:9/a", "http://127.0.0.1:9/b"
	f := &fakeRunner{capacity: map[string]float64{a: 400, b: 100}, shared: true}
	ts := Targets{{Name: "GET /a", Method: "GET", URL: a, Weight: 500}, {Name: "POST /b", Method: "POST", URL: b, Weight: 500}}
	c, err := SearchPerMethod(context.Background(), ts, SearchConfig{StepDuration: 2 * time.Second, MixSource: "measure:m.json"}, Options{Runner: f, Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	var joint *Step
	for i := range c.Steps {
		if c.Steps[i].Phase == "joint" {
			joint = &c.Steps[i]
		}
	}
	// Isolated ≈ 400 and ≈ 100; at 50/50 the joint aggregate is 2×100.
	if joint == nil || joint.Rate < 190 || joint.Rate > 200 {
		t.Fatalf("joint step %+v, want about 200 rps at the 50/50 mix", joint)
	}
	// The pool at 50/50 takes 1/(0.5/400+0.5/100) = 160.
	if !c.SharedBackend || c.Mix.Source != "measure:m.json" || c.Methods[0].Share != 0.5 ||
		c.SustainableRPS > 160 || c.SustainableRPS < 144 || c.Methods[1].SustainableRPS > 80 {
		t.Fatalf("shared %v mix %+v aggregate %v methods %+v", c.SharedBackend, c.Mix, c.SustainableRPS, c.Methods)
	}
}
