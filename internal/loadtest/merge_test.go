package loadtest

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// shardResults writes what shard i of a plan would write to --results:
// each step at its share of the rate for the step's duration, from the
// step's due time plus late, latencies drawn at random (failRatio of them
// 503). skip leaves steps out (a shard that stopped).
type shardSpec struct {
	plan      Plan
	shard     int
	late      time.Duration
	failRatio map[int]float64 // by step (1-based)
	steps     int             // steps written (0: all)
	seed      uint64
}

func writeShard(t *testing.T, s shardSpec) (*bytes.Buffer, []time.Duration) {
	t.Helper()
	var buf bytes.Buffer
	enc := vegeta.NewEncoder(&buf)
	rng := rand.New(rand.NewPCG(s.seed, 7))
	p := s.plan
	p.Shard.Index = s.shard
	t0 := p.StartAt
	var all []time.Duration
	for k, rate := range p.rates() {
		if s.steps > 0 && k >= s.steps {
			break
		}
		l := p.label(k)
		r := p.Shard.Rate(rate)
		n := int(r * p.StepDuration.Seconds())
		for i := range n {
			lat := time.Duration(5e6 + rng.ExpFloat64()*20e6)
			code, errText := uint16(200), ""
			if rng.Float64() < s.failRatio[k+1] {
				code, errText = 503, "503 Service Unavailable"
			}
			res := vegeta.Result{Attack: l.String(), Seq: uint64(i), Code: code, Error: errText,
				Timestamp: t0.Add(l.Offset + s.late + time.Duration(float64(i)/r*1e9)), Latency: lat,
				Method: "GET", URL: "http://127.0.0.1:9/x"}
			if err := enc.Encode(&res); err != nil {
				t.Fatal(err)
			}
			all = append(all, lat)
		}
	}
	return &buf, all
}

// nearestRank is the q quantile of lat by nearest rank, written apart from
// the code under test.
func nearestRank(lat []time.Duration, q float64) float64 {
	s := slices.Clone(lat)
	slices.Sort(s)
	k := int(math.Ceil(q*float64(len(s)))) - 1
	return math.Round(float64(s[max(k, 0)])/1e3) / 1e3
}

var mergePlan = Plan{
	Ramp: RampSpec{Start: 150, Stop: 450, Steps: 3}, StepDuration: 2 * time.Second, CoolDown: 500 * time.Millisecond,
	StartAt: time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC), Shard: Shard{Count: 3},
}

func TestMergeShards(t *testing.T) {
	m := &Merger{}
	perStep := map[int][]time.Duration{}
	for i := range 3 {
		// Step 3 (450 rps) fails: 5% errors.
		buf, _ := writeShard(t, shardSpec{plan: mergePlan, shard: i, seed: uint64(i), failRatio: map[int]float64{3: 0.05}})
		// The latencies of each step, concatenated over the shards.
		dec := vegeta.NewDecoder(bytes.NewReader(buf.Bytes()))
		for {
			var r vegeta.Result
			if dec.Decode(&r) != nil {
				break
			}
			l, _ := parseStepLabel(r.Attack)
			perStep[l.Step] = append(perStep[l.Step], r.Latency)
		}
		if err := m.Add("shard"+string(rune('0'+i))+".bin", buf); err != nil {
			t.Fatal(err)
		}
	}
	c, err := m.Capacity()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Steps) != 3 {
		t.Fatalf("%d steps, want 3", len(c.Steps))
	}
	for k, st := range c.Steps {
		lat := perStep[k+1]
		if st.Requests != len(lat) {
			t.Errorf("step %d: %d requests, want %d", k+1, st.Requests, len(lat))
		}
		for _, q := range []struct {
			name string
			got  float64
			q    float64
		}{{"p50", st.Latency.P50, 0.5}, {"p90", st.Latency.P90, 0.9}, {"p99", st.Latency.P99, 0.99}, {"max", st.Latency.Max, 1}} {
			if want := nearestRank(lat, q.q); q.got != want {
				t.Errorf("step %d %s %v ms, want %v ms (the concatenated results')", k+1, q.name, q.got, want)
			}
		}
		if math.Abs(st.AchievedRate-st.Rate)/st.Rate > 0.02 {
			t.Errorf("step %d: achieved %v rps, want the shards' sum %v within 2%%", k+1, st.AchievedRate, st.Rate)
		}
	}
	if !c.Steps[0].Pass || !c.Steps[1].Pass || c.Steps[2].Pass || !strings.Contains(c.Steps[2].Reason, "errors") {
		t.Errorf("verdicts %v %v %v (%s): want pass pass fail on errors", c.Steps[0].Pass, c.Steps[1].Pass, c.Steps[2].Pass, c.Steps[2].Reason)
	}
	if c.Mode != "search" || c.SustainableRPS != 300 || !c.Pass || c.Bracket.Fail != 450 || c.Merged.Shards != 3 || c.Merged.Requests != 3*(50+100+150)*2 {
		t.Errorf("merged: mode %s sustainable %v pass %v bracket %+v merged %+v", c.Mode, c.SustainableRPS, c.Pass, c.Bracket, c.Merged)
	}
	if c.Ramp == nil || c.Ramp.CoolDownS != 0.5 || c.StartAt != "2026-12-02T15:00:00Z" || c.Target != "GET http://127.0.0.1:9/x" {
		t.Errorf("records: ramp %+v start %q target %q", c.Ramp, c.StartAt, c.Target)
	}
}

func TestMergeLateAndIncomplete(t *testing.T) {
	m := &Merger{}
	for i := range 3 {
		s := shardSpec{plan: mergePlan, shard: i, seed: uint64(i)}
		if i == 1 {
			s.late = 700 * time.Millisecond
		}
		if i == 2 {
			s.steps = 2 // stopped after step 2
		}
		buf, _ := writeShard(t, s)
		if err := m.Add("s"+string(rune('0'+i)), buf); err != nil {
			t.Fatal(err)
		}
	}
	c, err := m.Capacity()
	if err != nil {
		t.Fatal(err)
	}
	if c.LateByS != 0.7 || c.Merged.LateByS[1] != 0.7 || c.Merged.LateByS[0] != 0 {
		t.Errorf("late_by_s %v %v, want 0.7 for shard 1", c.LateByS, c.Merged.LateByS)
	}
	if !slices.ContainsFunc(c.Warnings, func(w string) bool { return strings.Contains(w, "shard 1 started step 1 (150 rps) 700ms late") }) {
		t.Errorf("no lateness warning: %q", c.Warnings)
	}
	if len(c.Steps) != 3 || c.Steps[2].Pass || !strings.Contains(c.Steps[2].Reason, "incomplete: shard 2 sent 0 of 300") {
		t.Fatalf("step 3 without shard 2: %+v", c.Steps[len(c.Steps)-1])
	}
	if c.SustainableRPS != 300 {
		t.Errorf("sustainable %v, want 300", c.SustainableRPS)
	}
}

func TestMergeErrors(t *testing.T) {
	shard := func(p Plan, i int) *bytes.Buffer {
		buf, _ := writeShard(t, shardSpec{plan: p, shard: i})
		return buf
	}
	other := mergePlan
	other.Ramp.Stop = 600
	fourShards := mergePlan
	fourShards.Shard.Count = 4

	m := &Merger{}
	if _, err := m.Capacity(); !errors.Is(err, ErrNoResults) {
		t.Errorf("nothing: %v", err)
	}
	if err := m.Add("empty.bin", &bytes.Buffer{}); !errors.Is(err, ErrNoResults) {
		t.Errorf("empty file: %v", err)
	}

	m = &Merger{}
	_ = m.Add("a.bin", shard(mergePlan, 0))
	if err := m.Add("b.bin", shard(other, 1)); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "ramp=150:450:3") || !strings.Contains(err.Error(), "ramp=150:600:3") {
		t.Errorf("another ramp: %v", err)
	}
	m = &Merger{}
	_ = m.Add("a.bin", shard(mergePlan, 0))
	if err := m.Add("b.bin", shard(fourShards, 1)); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "shards=4") {
		t.Errorf("another shard count: %v", err)
	}
	m = &Merger{}
	_ = m.Add("a.bin", shard(mergePlan, 0))
	if err := m.Add("b.bin", shard(mergePlan, 0)); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "shard 0/3 is in both a.bin and b.bin") {
		t.Errorf("a shard twice: %v", err)
	}
	m = &Merger{}
	_ = m.Add("a.bin", shard(mergePlan, 0))
	_ = m.Add("c.bin", shard(mergePlan, 2))
	if _, err := m.Capacity(); !errors.Is(err, ErrMissingShard) || !strings.Contains(err.Error(), "no results of shard 1 of 3 (got shard 0, 2)") {
		t.Errorf("a shard missing: %v", err)
	}

	var plain bytes.Buffer
	_ = vegeta.NewEncoder(&plain).Encode(&vegeta.Result{Attack: "1 fixed 50 rps", Code: 200})
	m = &Merger{}
	if err := m.Add("plain.bin", &plain); !errors.Is(err, ErrNotPlanResults) {
		t.Errorf("an ordinary run's results: %v", err)
	}
	m = &Merger{}
	if err := m.Add("junk.txt", strings.NewReader("not gob at all")); err == nil || !strings.Contains(err.Error(), "not vegeta gob results") {
		t.Errorf("junk: %v", err)
	}
}

func TestMaxOverlap(t *testing.T) {
	// [0,10) [5,15) [10,20) [12,13): at most 3 at once (12: b, c, d).
	if got := maxOverlap([]int64{0, 5, 10, 12}, []int64{10, 15, 20, 13}); got != 3 {
		t.Errorf("max overlap %d, want 3", got)
	}
}
