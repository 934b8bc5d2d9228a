package loadtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shard
		err  string
	}{
		{"0/3", Shard{0, 3}, ""},
		{"2/3", Shard{2, 3}, ""},
		{" 0/1 ", Shard{0, 1}, ""},
		{"3/3", Shard{}, "must be 0 to 2"},
		{"-1/3", Shard{}, "must be 0 to 2"},
		{"0/0", Shard{}, "at least 1"},
		{"a/b", Shard{}, "want I/N"},
		{"1", Shard{}, "want I/N"},
	} {
		got, err := ParseShard(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseShard(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrBadShard)):
			t.Errorf("ParseShard(%q) error %v, want one containing %q", tc.in, err, tc.err)
		}
	}
}

func TestShardSplitsTheLoad(t *testing.T) {
	s := Shard{Index: 1, Count: 3}
	if got := s.Rate(300); got != 100 {
		t.Errorf("rate %v, want 100", got)
	}
	o := s.Attack(AttackOptions{Workers: 10, MaxWorkers: 100, MaxConnections: 8, Connections: 50})
	if o.Workers != 4 || o.MaxWorkers != 34 || o.MaxConnections != 3 || o.Connections != 50 {
		t.Errorf("split attack options %+v: want workers 4, max workers 34, max connections 3, connections 50", o)
	}
	if o := s.Attack(AttackOptions{}); o.MaxWorkers != 0 || o.MaxConnections != 0 {
		t.Errorf("uncapped stays uncapped: %+v", o)
	}
	if got := (Shard{}).Rate(300); got != 300 {
		t.Errorf("unsharded rate %v, want 300", got)
	}
}

func TestParseRamp(t *testing.T) {
	r, err := ParseRamp("100:300:5")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Rates(); len(got) != 5 || got[0] != 100 || got[1] != 150 || got[4] != 300 {
		t.Errorf("rates %v, want 100 150 200 250 300", got)
	}
	if r.String() != "100:300:5" {
		t.Errorf("String %q", r)
	}
	for _, bad := range []string{"100:300", "a:300:5", "300:100:5", "0:100:5", "100:300:1", "100:300:x", "100:300:1000", "NaN:1:3"} {
		if _, err := ParseRamp(bad); err == nil || !errors.Is(err, ErrBadRamp) {
			t.Errorf("ParseRamp(%q) = %v, want ErrBadRamp", bad, err)
		}
	}
}

func TestStepLabelRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	l := stepLabel{Step: 2, Steps: 5, Phase: "ramp", Rate: 150, Duration: 10 * time.Second, Offset: 11 * time.Second,
		Shard: Shard{0, 3}, Ramp: "100:300:5", At: at}
	got, err := parseStepLabel(l.String())
	if err != nil {
		t.Fatal(err)
	}
	if got != l {
		t.Errorf("round trip: %+v, want %+v", got, l)
	}
	if _, err := parseStepLabel("1 fixed 50 rps"); !errors.Is(err, errNotPlanLabel) {
		t.Errorf("an ordinary run's name: %v, want errNotPlanLabel", err)
	}
	if _, err := parseStepLabel("apictl step=7/5 phase=ramp rate=1 d=1s shard=0/1"); err == nil {
		t.Error("step 7 of 5 accepted")
	}
}

// fakeClock advances when slept on.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return ctx.Err()
}

func TestRunPlanShardRamp(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)}
	// Each shard's generator sees 1/3 of each rate; the backend takes 20
	// rps of this shard's load (60 in all): 30 and 60 pass, 90 fails, and
	// the ramp stops there.
	f := &fakeRunner{capacity: map[string]float64{fakeURL: 20}}
	var progress strings.Builder
	start := clock.now.Add(42 * time.Second)
	c, err := RunPlan(context.Background(), target(fakeURL), Plan{
		Ramp: RampSpec{Start: 30, Stop: 150, Steps: 5}, StepDuration: 2 * time.Second, CoolDown: time.Second,
		StartAt: start, Shard: Shard{Index: 1, Count: 3}, Now: clock.Now,
	}, Options{Runner: f, Sleep: clock.Sleep, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.rates(); len(got) != 3 || got[0] != 10 || got[1] != 20 || got[2] != 30 {
		t.Fatalf("shard rates %v, want 10 20 30 (a third of 30 60 90), stopping after the first failure", got)
	}
	for k, call := range f.calls {
		l, err := parseStepLabel(call.Name)
		if err != nil {
			t.Fatalf("step %d name %q: %v", k+1, call.Name, err)
		}
		if l.Step != k+1 || l.Steps != 5 || l.Rate != []float64{30, 60, 90}[k] || l.Shard != (Shard{1, 3}) ||
			l.Offset != time.Duration(k)*3*time.Second || !l.At.Equal(start) || l.Ramp != "30:150:5" {
			t.Errorf("step %d label %+v", k+1, l)
		}
	}
	if !strings.Contains(progress.String(), "waiting 42s for the start time 2026-12-02T15:00:42Z") {
		t.Errorf("the wait is not shown: %q", progress.String())
	}
	if c.Mode != "search" || c.SustainableRPS != 20 || !c.Pass || c.Bracket == nil || c.Bracket.Fail != 30 || c.LimitedBy != "backend" {
		t.Errorf("verdict: mode %s sustainable %v pass %v bracket %+v", c.Mode, c.SustainableRPS, c.Pass, c.Bracket)
	}
	if c.Shard == nil || *c.Shard != (ShardInfo{1, 3}) || c.Ramp == nil || c.Ramp.Steps != 5 || c.StartAt != "2026-12-02T15:00:42Z" || c.LateByS != 0 {
		t.Errorf("records: shard %+v ramp %+v start %q late %v", c.Shard, c.Ramp, c.StartAt, c.LateByS)
	}
}

func TestRunPlanLateStart(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)}
	f := &fakeRunner{capacity: map[string]float64{fakeURL: 1000}}
	var progress strings.Builder
	c, err := RunPlan(context.Background(), target(fakeURL), Plan{
		Rate: 300, StepDuration: 2 * time.Second, StartAt: clock.now.Add(-3500 * time.Millisecond), Shard: Shard{Index: 2, Count: 3}, Now: clock.Now,
	}, Options{Runner: f, Sleep: clock.Sleep, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if c.LateByS != 3.5 || !strings.Contains(progress.String(), "warning: started 3.5s late") {
		t.Errorf("late_by_s %v, progress %q: want 3.5 and a warning", c.LateByS, progress.String())
	}
	if c.Mode != "fixed" || !c.Pass || c.SustainableRPS != 100 || len(f.calls) != 1 || f.calls[0].Rate != 100 {
		t.Errorf("fixed shard run: mode %s pass %v rps %v calls %d", c.Mode, c.Pass, c.SustainableRPS, len(f.calls))
	}
}

func TestRunPlanInterruptedWait(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := &fakeRunner{capacity: map[string]float64{fakeURL: 1000}}
	_, err := RunPlan(ctx, target(fakeURL), Plan{Rate: 10, StepDuration: time.Second, StartAt: clock.now.Add(time.Minute), Now: clock.Now},
		Options{Runner: f, Sleep: clock.Sleep})
	if !errors.Is(err, context.Canceled) || len(f.calls) != 0 {
		t.Errorf("err %v after %d steps: want context.Canceled before any step", err, len(f.calls))
	}
}
