package measure

import (
	"math"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

func TestCountRateHandComputed(t *testing.T) {
	start := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	g := grid{start: start, end: start.Add(4 * time.Minute), period: 60}
	// 60, (no datapoint), 180, 120 requests per minute.
	s := &series{
		times:  []time.Time{start, start.Add(2 * time.Minute), start.Add(3 * time.Minute), start.Add(-time.Minute), start.Add(4 * time.Minute)},
		values: []float64{60, 180, 120, 999, 999}, // the last two lie outside the window
	}
	counts := g.buckets(s)
	if want := []float64{60, 0, 180, 120}; !equal(counts, want) {
		t.Fatalf("buckets = %v, want %v", counts, want)
	}
	r := countRate(g, counts)
	if r.count != 360 {
		t.Errorf("count = %d, want 360", r.count)
	}
	if r.avg != 1.5 { // 360 / 240 s
		t.Errorf("avg = %v, want 1.5", r.avg)
	}
	if r.peak != 3 { // 180 / 60 s
		t.Errorf("peak = %v, want 3", r.peak)
	}
	if r.peakAt == nil || !r.peakAt.Equal(start.Add(2*time.Minute)) {
		t.Errorf("peak at = %v, want 10:02", r.peakAt)
	}
	if want := 8.2; r.burst != want { // 3 + 3·√3 = 8.196
		t.Errorf("burst = %v, want %v", r.burst, want)
	}
	if want := []float64{1, 0, 3, 2}; !equal(r.perStep, want) {
		t.Errorf("per step = %v, want %v", r.perStep, want)
	}

	empty := countRate(g, make([]float64, 4))
	if empty.count != 0 || empty.peak != 0 || empty.peakAt != nil || empty.burst != 0 {
		t.Errorf("no traffic: %+v", empty)
	}
}

func TestPeakTiesPickFirst(t *testing.T) {
	start := time.Unix(0, 0).UTC()
	r := countRate(grid{start: start, end: start.Add(3 * time.Minute), period: 60}, []float64{5, 9, 9})
	if !r.peakAt.Equal(start.Add(time.Minute)) {
		t.Errorf("peak at %v, want the first busiest period", r.peakAt)
	}
}

func TestDailyByUTCDay(t *testing.T) {
	start := time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC)
	end := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	g := grid{start: start, end: end, period: 21600} // 6 h periods
	counts := []float64{10, 20, 30, 40, 50, 60}      // 27th 18h | 28th 0,6,12,18h | 29th 0h
	got := daily(g, counts)
	want := []Daily{{"2026-11-27", 10, true}, {"2026-11-28", 140, false}, {"2026-11-29", 60, true}}
	if len(got) != len(want) {
		t.Fatalf("daily = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("day %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestWindowFigures(t *testing.T) {
	if got := sumOf(&series{values: []float64{3, 4.0000001}}); got != 7 {
		t.Errorf("sum = %d", got)
	}
	if got := percentileOf(&series{values: []float64{12.5, 80.25, 40}}); got == nil || *got != 80.25 {
		t.Errorf("percentile of several datapoints = %v, want the largest", got)
	}
	if percentileOf(&series{}) != nil || percentileOf(nil) != nil {
		t.Error("percentile without data must be nil")
	}
	if got := ratio(1, 3); got != 0.3333 {
		t.Errorf("ratio = %v", got)
	}
	if ratio(5, 0) != 0 {
		t.Error("ratio of nothing must be 0")
	}
	if h := headroom(&Limit{Rate: 100}, 80); h == nil || *h != 1.25 {
		t.Errorf("headroom = %v", h)
	}
	if headroom(nil, 80) != nil || headroom(&Limit{Rate: 100}, 0) != nil {
		t.Error("headroom without throttle or traffic must be nil")
	}
}

func TestQueryIDsRoundTrip(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)
	for _, c := range []struct{ s, m int }{{0, -1}, {0, 0}, {3, 17}, {12, 499}} {
		for _, sp := range specs {
			id := queryID(c.s, c.m, sp.code)
			if !valid.MatchString(id) {
				t.Errorf("id %q is not a valid CloudWatch id", id)
			}
			s, m, code, err := parseQueryID(id)
			if err != nil || s != c.s || m != c.m || code != sp.code {
				t.Errorf("parse %q = %d %d %q %v", id, s, m, code, err)
			}
		}
	}
	for _, bad := range []string{"x", "s_t_cnt", "sa_t_cnt", "s1_q_cnt", "s1_mx_cnt"} {
		if _, _, _, err := parseQueryID(bad); err == nil {
			t.Errorf("parseQueryID(%q) succeeded", bad)
		}
	}
}

func TestBuildQueriesAndBatches(t *testing.T) {
	var scopes []scope
	scopes = append(scopes, scope{stageIdx: 0, methodIdx: -1, dims: stageDims(APITypeREST, "shop", "a1", "prod")})
	for i := range 20 {
		scopes = append(scopes, scope{stageIdx: 0, methodIdx: i, dims: methodDims(APITypeREST, "shop", "a1", "prod", Method{Method: "GET", Resource: "/r"})})
	}
	qs := buildQueries(APITypeREST, scopes, 60, 3600)
	if len(qs) != 21*QueriesPerScope {
		t.Fatalf("%d queries", len(qs))
	}
	ids := map[string]bool{}
	for _, q := range qs {
		ids[aws.ToString(q.Id)] = true
		want := int32(3600)
		if aws.ToString(q.MetricStat.Metric.MetricName) == "Count" {
			want = 60
		}
		if got := aws.ToInt32(q.MetricStat.Period); got != want {
			t.Errorf("%s period %d, want %d", aws.ToString(q.Id), got, want)
		}
	}
	if len(ids) != len(qs) {
		t.Errorf("query ids are not unique")
	}
	q := qs[QueriesPerScope+1] // first method, 4XXError
	if n := aws.ToString(q.MetricStat.Metric.MetricName); n != "4XXError" {
		t.Errorf("metric %q", n)
	}
	if d := dimsString(q.MetricStat.Metric.Dimensions); d != "ApiName=shop,Stage=prod,Method=GET,Resource=/r" {
		t.Errorf("dims %s", d)
	}
	if b := batches(qs, MaxQueriesPerCall); len(b) != 1 {
		t.Errorf("126 queries in %d batches, want 1", len(b))
	}
	many := make([]cwtypes.MetricDataQuery, 1001)
	b := batches(many, MaxQueriesPerCall)
	if len(b) != 3 || len(b[0]) != 500 || len(b[1]) != 500 || len(b[2]) != 1 {
		t.Errorf("1001 queries split %d ways", len(b))
	}

	hq := buildQueries(APITypeHTTP, []scope{{stageIdx: 1, methodIdx: 2, dims: methodDims(APITypeHTTP, "items", "h1", "$default", routeMethod("GET /items"))}}, 300, 600)
	var names []string
	for _, q := range hq {
		names = append(names, aws.ToString(q.MetricStat.Metric.MetricName)+"/"+aws.ToString(q.MetricStat.Stat))
	}
	if got, want := names, []string{"Count/Sum", "4xx/Sum", "5xx/Sum", "Latency/p50", "Latency/p99", "IntegrationLatency/p99"}; !equalStrings(got, want) {
		t.Errorf("http metrics %v, want %v", got, want)
	}
	if d := dimsString(hq[0].MetricStat.Metric.Dimensions); d != "ApiId=h1,Stage=$default,Route=GET /items" {
		t.Errorf("http dims %s", d)
	}
}

func TestKeys(t *testing.T) {
	for in, want := range map[string]string{"~1pets/GET": "GET /pets", "~1/GET": "GET /", "~1cart~1profile~1{userId}/POST": "POST /cart/profile/{userId}", "~1pets/*": "* /pets"} {
		if got := methodSettingKey(in); got != want {
			t.Errorf("methodSettingKey(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"/pets/GET": "GET /pets", "//GET": "GET /", "/a/{id}/DELETE": "DELETE /a/{id}"} {
		if got := usagePlanKey(in); got != want {
			t.Errorf("usagePlanKey(%q) = %q, want %q", in, got, want)
		}
	}
	if m := routeMethod("$default"); m.Method != "ANY" || m.Key() != "$default" {
		t.Errorf("$default route: %+v", m)
	}
	th := Throttle{Stage: &Limit{Rate: 50, Burst: 100}, Methods: map[string]Limit{"GET /pets": {Rate: 10, Burst: 20}, "* /cart": {Rate: 5, Burst: 5}}}
	for _, c := range []struct {
		m      Method
		rate   float64
		source string
	}{
		{Method{Method: "GET", Resource: "/pets"}, 10, "method"},
		{Method{Method: "POST", Resource: "/cart"}, 5, "method"},
		{Method{Method: "POST", Resource: "/pets"}, 50, "stage"},
	} {
		l, src := methodThrottle(th, c.m)
		if l == nil || l.Rate != c.rate || src != c.source {
			t.Errorf("%s: %v %q, want %v %q", c.m.Key(), l, src, c.rate, c.source)
		}
	}
	if l, src := methodThrottle(Throttle{}, Method{Method: "GET", Resource: "/"}); l != nil || src != "" {
		t.Errorf("no throttle: %v %q", l, src)
	}
	if limitOf(-1, -1) != nil || routeLimit(nil, nil) != nil {
		t.Error("-1 and absent throttle figures mean unset")
	}
	if l := limitOf(0, 0); !l.Blocks() || limit(l) != "0 rps, burst 0 (blocks every request)" {
		t.Errorf("0/0 is a throttle that blocks every request, got %v %q", l, limit(l))
	}
}

func dimsString(ds []cwtypes.Dimension) string {
	s := ""
	for i, d := range ds {
		if i > 0 {
			s += ","
		}
		s += aws.ToString(d.Name) + "=" + aws.ToString(d.Value)
	}
	return s
}

func equal(a, b []float64) bool {
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

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// BenchmarkFigures1440Points computes one scope's figures from a full day of
// one-minute datapoints.
func BenchmarkFigures1440Points(b *testing.B) {
	start := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	g := grid{start: start, end: start.Add(24 * time.Hour), period: 60}
	s := &series{}
	for i := range 1440 {
		s.times = append(s.times, start.Add(time.Duration(i)*time.Minute))
		s.values = append(s.values, float64(i%97))
	}
	one := &series{times: []time.Time{start}, values: []float64{12}}
	get := func(code string) *series {
		if code == "cnt" {
			return s
		}
		return one
	}
	b.ReportAllocs()
	for b.Loop() {
		f := computeFigures(g, get)
		_ = daily(g, f.counts)
	}
}
