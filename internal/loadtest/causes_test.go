package loadtest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestCausesOf(t *testing.T) {
	c := CausesOf(map[string]int{"200": 50, "302": 1, "400": 3, "404": 2, "422": 1, "401": 4, "403": 1, "429": 5, "500": 6, "503": 1, "0": 2, "408": 1})
	want := ErrorCauses{RequestFault: 6, Auth: 5, Throttled: 5, Server: 7, Transport: 3}
	if c != want || c.Total() != 26 {
		t.Errorf("causes %+v, want %+v", c, want)
	}
	if s := c.String(); s != "request-fault 4xx 6 · 401/403 5 · 429 5 · 5xx 7 · no answer 3" {
		t.Errorf("string %q", s)
	}
}

// codeRunner answers every step with share bad of its requests answered
// code (the rest 200), aborting like the engine when errors reach 2%.
type codeRunner struct {
	code  int
	bad   float64
	steps int
}

func (r *codeRunner) RunStep(_ context.Context, spec StepSpec) (Step, error) {
	r.steps++
	d := spec.Duration.Seconds()
	st := Step{Phase: spec.Phase, Rate: spec.Rate, AchievedRate: spec.Rate, Duration: d, PlannedDuration: d,
		Latency: LatencyMS{P50: 5, P90: 6, P99: 8, Max: 9}}
	if r.bad >= 0.02 {
		st.Aborted, st.Reason, st.Duration = true, "aborted: errors", min(d, 1)
	}
	st.Requests = int(spec.Rate * st.Duration)
	nbad := int(float64(st.Requests) * r.bad)
	st.Successes = st.Requests - nbad
	st.SuccessRatio = float64(st.Successes) / float64(st.Requests)
	st.Throughput = spec.Rate * st.SuccessRatio
	st.ThroughputRatio = st.SuccessRatio
	st.StatusCodes = map[string]int{"200": st.Successes}
	if nbad > 0 {
		st.StatusCodes[strconv.Itoa(r.code)] = nbad
	}
	return st, nil
}

func TestSearchStopsWhenRequestsAreRejectedAsInvalid(t *testing.T) {
	cfg := SearchConfig{StartRate: 40, MaxRate: 1000, StepDuration: 2 * time.Second, CoolDown: NoCoolDown}
	r := &codeRunner{code: 400, bad: 0.9}
	c, err := Search(context.Background(), target(fakeURL), cfg, Options{Runner: r})
	if err != nil {
		t.Fatal(err)
	}
	if r.steps != 1 || !c.RejectedAsInvalid || c.Pass || !strings.HasPrefix(c.Reason, ErrRequestsRejected) {
		t.Fatalf("steps %d rejected %v pass %v reason %q: want one step, stopped as rejected", r.steps, c.RejectedAsInvalid, c.Pass, c.Reason)
	}
	if st := c.Steps[0]; st.Causes == nil || st.Causes.RequestFault != int(0.9*float64(st.Requests)) || !strings.Contains(c.Reason, "400 ×") {
		t.Errorf("step causes %+v, reason %q", st.Causes, c.Reason)
	}

	// 5xx and 429 are load: the search goes on down to the lowest rate.
	for _, code := range []int{503, 429} {
		r = &codeRunner{code: code, bad: 0.9}
		c, err = Search(context.Background(), target(fakeURL), cfg, Options{Runner: r})
		if err != nil {
			t.Fatal(err)
		}
		if c.RejectedAsInvalid || r.steps < 4 {
			t.Errorf("%d: rejected %v after %d steps: want a normal search down to the minimum rate", code, c.RejectedAsInvalid, r.steps)
		}
	}

	// A few 404s inside the error objective do not stop anything.
	r = &codeRunner{code: 404, bad: 0.005}
	c, err = Search(context.Background(), target(fakeURL), SearchConfig{StartRate: 40, MaxRate: 160, StepDuration: time.Second, CoolDown: NoCoolDown}, Options{Runner: r})
	if err != nil || c.RejectedAsInvalid || !c.Pass || c.SustainableRPS != 160 {
		t.Errorf("0.5%% 404: err %v rejected %v pass %v sustainable %v", err, c.RejectedAsInvalid, c.Pass, c.SustainableRPS)
	}

	// A fixed run whose requests are all 422 is rejected too.
	fr := &codeRunner{code: 422, bad: 1}
	fixed, err := Run(context.Background(), target(fakeURL), 50, time.Second, Options{Runner: fr})
	if err != nil || !fixed.RejectedAsInvalid || !strings.Contains(fixed.Reason, "422 ×50") {
		t.Errorf("fixed run: err %v rejected %v reason %q", err, fixed.RejectedAsInvalid, fixed.Reason)
	}
}

func TestSeqOrderWritesResultsInRequestOrder(t *testing.T) {
	var got []string
	o := newSeqOrder(func(r *vegeta.Result) error {
		got = append(got, r.Attack+":"+strconv.FormatUint(r.Seq, 10))
		return nil
	})
	for _, in := range []struct {
		attack string
		seq    uint64
	}{{"1", 1}, {"1", 0}, {"1", 3}, {"1", 2}, {"1", 5}, {"2", 1}, {"2", 0}, {"2", 2}} {
		if err := o.add(&vegeta.Result{Attack: in.attack, Seq: in.seq}); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.flush(); err != nil {
		t.Fatal(err)
	}
	// Step 1 lost its number 4 (it never came): 5 follows at the step's end.
	if s := strings.Join(got, " "); s != "1:0 1:1 1:2 1:3 1:5 2:0 2:1 2:2" {
		t.Errorf("order %s", s)
	}
}
