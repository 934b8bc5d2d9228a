package loadtest

import (
	"strings"
	"testing"
	"time"
)

func TestParseObjective(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Objective
	}{
		{"p99<300ms", Objective{Kind: KindLatency, Quantile: 0.99, Op: "<", Latency: 300 * time.Millisecond, Text: "p99<300ms"}},
		{" P95 <= 1.5s ", Objective{Kind: KindLatency, Quantile: 0.95, Op: "<=", Latency: 1500 * time.Millisecond, Text: "p95<=1.5s"}},
		{"p99.9<2s", Objective{Kind: KindLatency, Quantile: 0.999, Op: "<", Latency: 2 * time.Second, Text: "p99.9<2s"}},
		{"max<5s", Objective{Kind: KindLatency, Quantile: 1, Op: "<", Latency: 5 * time.Second, Text: "max<5s"}},
		{"mean<100ms", Objective{Kind: KindLatency, Quantile: 0, Op: "<", Latency: 100 * time.Millisecond, Text: "mean<100ms"}},
		{"errors<1%", Objective{Kind: KindErrors, Op: "<", Ratio: 0.01, Text: "errors<1%"}},
		{"errors<=0.5%", Objective{Kind: KindErrors, Op: "<=", Ratio: 0.005, Text: "errors<=0.5%"}},
		{"errors<0.02", Objective{Kind: KindErrors, Op: "<", Ratio: 0.02, Text: "errors<0.02"}},
		{"throughput>=99%", Objective{Kind: KindThroughput, Op: ">=", Ratio: 0.99, Text: "throughput>=99%"}},
		{"throughput>0.9", Objective{Kind: KindThroughput, Op: ">", Ratio: 0.9, Text: "throughput>0.9"}},
	} {
		got, err := ParseObjective(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got.Kind != tc.want.Kind || got.Op != tc.want.Op || got.Latency != tc.want.Latency ||
			!closeTo(got.Quantile, tc.want.Quantile) || !closeTo(got.Ratio, tc.want.Ratio) || got.Text != tc.want.Text {
			t.Errorf("%q: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func closeTo(a, b float64) bool { return a-b < 1e-12 && b-a < 1e-12 }

func TestParseObjectiveErrors(t *testing.T) {
	for _, tc := range []struct{ in, wantErr string }{
		{"", "empty objective"},
		{"p99", "missing comparison"},
		{"<300ms", "missing comparison"},
		{"p99<", "missing value"},
		{"p99=300ms", "bad comparison"},
		{"p99>300ms", "latency must be bounded from above"},
		{"p99<300", "bad latency \"300\""},
		{"p99<-1s", "must be positive"},
		{"p99<0s", "must be positive"},
		{"p100<1s", "bad percentile"},
		{"px<1s", "bad percentile"},
		{"errors>1%", "bounded from above"},
		{"errors<abc", "bad ratio"},
		{"errors<5", "above 1: did you mean 5%"},
		{"errors<150%", "outside 0–100%"},
		{"throughput<95%", "bounded from below"},
		{"latency<1s", "unknown metric \"latency\""},
	} {
		_, err := ParseObjective(tc.in)
		if err == nil {
			t.Errorf("%q: no error, want %q", tc.in, tc.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%q: error %q, want it to contain %q", tc.in, err, tc.wantErr)
		}
		if tc.in != "" && !strings.Contains(err.Error(), "objective \""+tc.in+"\"") {
			t.Errorf("%q: error %q does not name the objective", tc.in, err)
		}
	}
}

func TestParseObjectivesCommaAndDefaults(t *testing.T) {
	objs, err := ParseObjectives([]string{"p99<300ms, errors<0.1%"})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(objs.WithDefaults().Strings(), " ")
	if got != "p99<300ms errors<0.1% throughput>=95%" {
		t.Errorf("got %q", got)
	}
	if got := strings.Join(DefaultObjectives().Strings(), " "); got != "p99<1s errors<1% throughput>=95%" {
		t.Errorf("defaults %q", got)
	}
}

func TestObjectivesEvaluate(t *testing.T) {
	objs := DefaultObjectives()
	st := Step{Requests: 100, SuccessRatio: 1, ThroughputRatio: 1}
	st.fillLatency(histOf(manyLatencies(100, 20*time.Millisecond)))
	if ok, why := objs.Evaluate(&st); !ok {
		t.Fatalf("fast clean step failed: %s", why)
	}
	slow := manyLatencies(98, 20*time.Millisecond)
	slow = append(slow, 1200*time.Millisecond, 1500*time.Millisecond)
	st = Step{Requests: 100, SuccessRatio: 0.98, ThroughputRatio: 0.9}
	st.fillLatency(histOf(slow))
	ok, why := objs.Evaluate(&st)
	if ok {
		t.Fatal("slow failing step passed")
	}
	for _, want := range []string{"p99 1.2s >= 1s", "errors 2% >= 1%", "throughput 90% < 95%"} {
		if !strings.Contains(why, want) {
			t.Errorf("reason %q lacks %q", why, want)
		}
	}
	if ok, why := objs.Evaluate(&Step{}); ok || !strings.Contains(why, "no requests") {
		t.Errorf("empty step: %v %q", ok, why)
	}
}

func manyLatencies(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// histOf records lat in a step's histogram.
func histOf(lat []time.Duration) *latencyHist {
	h := newLatencyHist(latencyDigits)
	for _, d := range lat {
		h.record(d)
	}
	return h
}

func TestQuantileNearestRank(t *testing.T) {
	lat := make([]time.Duration, 100)
	for i := range lat {
		lat[i] = time.Duration(i+1) * time.Millisecond
	}
	h := histOf(lat)
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0.001, time.Millisecond}} {
		// Within the histogram's resolution: never below, at most 0.1% above.
		if got := h.quantile(tc.q); got < tc.want || float64(got) > float64(tc.want)*1.001 {
			t.Errorf("q%v = %s, want %s (+0.1%%)", tc.q, got, tc.want)
		}
	}
}
