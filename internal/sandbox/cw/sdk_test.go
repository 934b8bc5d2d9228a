package cw

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
)

// gzipRequests counts gzip-encoded requests the test servers received.
var gzipRequests atomic.Int64

// testNow is the emulator's clock in tests: data is put in the hour before it.
var testNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func newTestServer(t testing.TB) (*Store, *cloudwatch.Client) {
	t.Helper()
	store := NewStore(func() time.Time { return testNow })
	h := NewHandler(store)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Encoding") == "gzip" {
			gzipRequests.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	client := cloudwatch.New(cloudwatch.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RetryMaxAttempts: 1,
	})
	return store, client
}

func dims(kv ...string) []types.Dimension {
	var out []types.Dimension
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Dimension{Name: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func metricQuery(id, ns, name string, d []types.Dimension, stat string, period int32) types.MetricDataQuery {
	return types.MetricDataQuery{
		Id: aws.String(id),
		MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String(ns), MetricName: aws.String(name), Dimensions: d},
			Period: aws.Int32(period),
			Stat:   aws.String(stat),
		},
	}
}

// expectedStat computes a statistic from raw samples the way the emulator
// documents it (percentiles by nearest rank).
func expectedStat(vals []float64, stat string) float64 {
	s := slices.Clone(vals)
	sort.Float64s(s)
	var sum float64
	for _, v := range s {
		sum += v
	}
	switch stat {
	case "Sum":
		return sum
	case "Average":
		return sum / float64(len(s))
	case "Minimum":
		return s[0]
	case "Maximum":
		return s[len(s)-1]
	case "SampleCount":
		return float64(len(s))
	}
	st, err := parseStat(stat)
	if err != nil {
		panic(err)
	}
	rank := int(math.Ceil(st.p / 100 * float64(len(s))))
	return s[max(rank, 1)-1]
}

func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestSDKPutMetricDataThenGetMetricDataEachStat(t *testing.T) {
	_, client := newTestServer(t)
	ctx := context.Background()
	const ns = "AWS/ApiGateway"
	d := dims("ApiName", "shop", "Stage", "prod", "Method", "GET", "Resource", "/cart/{id}")
	rng := rand.New(rand.NewPCG(1, 2))
	// Three minutes of samples; the second minute is empty.
	perMinute := map[int][]float64{}
	var data []types.MetricDatum
	for _, minute := range []int{10, 11, 13} {
		for i := 0; i < 40; i++ {
			v := math.Round(rng.ExpFloat64()*50000) / 1000
			perMinute[minute] = append(perMinute[minute], v)
			data = append(data, types.MetricDatum{
				MetricName: aws.String("Latency"),
				Dimensions: d,
				Timestamp:  aws.Time(testNow.Add(-time.Hour + time.Duration(minute)*time.Minute + time.Duration(i)*time.Second)),
				Value:      aws.Float64(v),
				Unit:       types.StandardUnitMilliseconds,
			})
		}
	}
	// The same metric with one more dimension is a different metric.
	data = append(data, types.MetricDatum{MetricName: aws.String("Latency"), Dimensions: append(slices.Clone(d), dims("Extra", "x")...),
		Timestamp: aws.Time(testNow.Add(-50 * time.Minute)), Value: aws.Float64(1e6)})
	// 121 datums is more than 10 KiB, so the SDK gzips the body.
	gz := gzipRequests.Load()
	if _, err := client.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(ns), MetricData: data}); err != nil {
		t.Fatalf("PutMetricData: %v", err)
	}
	if gzipRequests.Load() == gz {
		t.Error("the SDK did not gzip the large PutMetricData body; the gzip path went untested")
	}

	stats := []string{"Sum", "Average", "Minimum", "Maximum", "SampleCount", "p50", "p90", "p99", "p99.9"}
	var queries []types.MetricDataQuery
	for i, st := range stats {
		queries = append(queries, metricQuery(fmt.Sprintf("m%d", i), ns, "Latency", d, st, 60))
	}
	// Dimension order in the query does not matter.
	rev := slices.Clone(d)
	slices.Reverse(rev)
	queries = append(queries, metricQuery("sum2m", ns, "Latency", rev, "Sum", 120))
	out, err := client.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		MetricDataQueries: queries,
		StartTime:         aws.Time(testNow.Add(-time.Hour)),
		EndTime:           aws.Time(testNow),
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	if len(out.MetricDataResults) != len(queries) {
		t.Fatalf("got %d results, want %d", len(out.MetricDataResults), len(queries))
	}
	for i, st := range stats {
		r := out.MetricDataResults[i]
		if aws.ToString(r.Id) != fmt.Sprintf("m%d", i) || aws.ToString(r.Label) != "Latency" || r.StatusCode != types.StatusCodeComplete {
			t.Errorf("%s: id %q label %q status %q", st, aws.ToString(r.Id), aws.ToString(r.Label), r.StatusCode)
		}
		// Default scan order is newest first; only minutes with data appear.
		wantMinutes := []int{13, 11, 10}
		if len(r.Timestamps) != 3 || len(r.Values) != 3 {
			t.Fatalf("%s: got %d timestamps %d values, want 3", st, len(r.Timestamps), len(r.Values))
		}
		for j, minute := range wantMinutes {
			wantTS := testNow.Add(-time.Hour + time.Duration(minute)*time.Minute)
			if !r.Timestamps[j].Equal(wantTS) {
				t.Errorf("%s[%d]: timestamp %v, want %v", st, j, r.Timestamps[j], wantTS)
			}
			want := expectedStat(perMinute[minute], st)
			if math.Abs(r.Values[j]-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Errorf("%s minute %d: got %v, want %v", st, minute, r.Values[j], want)
			}
		}
	}
	// Two-minute periods aligned on StartTime: [10,11] and [12,13].
	r := out.MetricDataResults[len(stats)]
	want := []float64{expectedStat(perMinute[13], "Sum"), expectedStat(append(slices.Clone(perMinute[10]), perMinute[11]...), "Sum")}
	if len(r.Values) != 2 || math.Abs(r.Values[0]-want[0]) > 1e-9 || math.Abs(r.Values[1]-want[1]) > 1e-9 {
		t.Errorf("2-minute sums = %v, want %v", r.Values, want)
	}
}

func TestSDKValuesCountsAndStatisticSetsRoundTrip(t *testing.T) {
	_, client := newTestServer(t)
	ctx := context.Background()
	ts := aws.Time(testNow.Add(-30 * time.Minute))
	_, err := client.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("App"),
		MetricData: []types.MetricDatum{
			{MetricName: aws.String("M"), Timestamp: ts, Values: []float64{0.1, 1e-5, 123456.789, -2.5}, Counts: []float64{3, 1, 2, 1}},
			{MetricName: aws.String("M"), Timestamp: ts, StatisticValues: &types.StatisticSet{SampleCount: aws.Float64(10), Sum: aws.Float64(1000.25), Minimum: aws.Float64(-7), Maximum: aws.Float64(500)}},
			{MetricName: aws.String("M"), Timestamp: ts, Value: aws.Float64(math.Pi)},
		},
	})
	if err != nil {
		t.Fatalf("PutMetricData: %v", err)
	}
	get := func(stat string) []float64 {
		out, err := client.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
			MetricDataQueries: []types.MetricDataQuery{metricQuery("q", "App", "M", nil, stat, 300)},
			StartTime:         aws.Time(testNow.Add(-time.Hour)), EndTime: aws.Time(testNow),
		})
		if err != nil {
			t.Fatalf("GetMetricData %s: %v", stat, err)
		}
		return out.MetricDataResults[0].Values
	}
	wantSum := 0.1*3 + 1e-5 + 123456.789*2 - 2.5 + 1000.25 + math.Pi
	for stat, want := range map[string]float64{"Sum": wantSum, "SampleCount": 18, "Minimum": -7, "Maximum": 123456.789, "Average": wantSum / 18} {
		got := get(stat)
		if len(got) != 1 || math.Abs(got[0]-want) > 1e-9*math.Abs(want) {
			t.Errorf("%s = %v, want [%v]", stat, got, want)
		}
	}
	// Percentiles use only the 8 individual samples (not the statistic set):
	// sorted -2.5, 1e-5, 0.1, 0.1, 0.1, π, 123456.789 ×2.
	if got := get("p50"); len(got) != 1 || got[0] != 0.1 {
		t.Errorf("p50 = %v, want [0.1]", got)
	}
	if got := get("p100"); len(got) != 1 || got[0] != 123456.789 {
		t.Errorf("p100 = %v, want [123456.789]", got)
	}
}

func TestSDKGetMetricDataPaging(t *testing.T) {
	store, client := newTestServer(t)
	ctx := context.Background()
	for m := range 50 {
		for _, name := range []string{"A", "B", "C"} {
			store.Put("P", Datum{MetricName: name, Timestamp: testNow.Add(-time.Hour + time.Duration(m)*time.Minute), Value: float64(m)})
		}
	}
	queries := []types.MetricDataQuery{
		metricQuery("a", "P", "A", nil, "Sum", 60),
		metricQuery("b", "P", "B", nil, "Maximum", 60),
		metricQuery("c", "P", "C", nil, "SampleCount", 60),
	}
	hidden := metricQuery("hidden", "P", "A", nil, "Sum", 60)
	hidden.ReturnData = aws.Bool(false)
	queries = append(queries, hidden)
	in := &cloudwatch.GetMetricDataInput{
		MetricDataQueries: queries,
		StartTime:         aws.Time(testNow.Add(-time.Hour)), EndTime: aws.Time(testNow),
		ScanBy:        types.ScanByTimestampAscending,
		MaxDatapoints: aws.Int32(40),
	}
	got := map[string][]float64{}
	var gotTS []time.Time
	pages, partial := 0, 0
	p := cloudwatch.NewGetMetricDataPaginator(client, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		n := 0
		for _, r := range out.MetricDataResults {
			if aws.ToString(r.Id) == "hidden" {
				t.Fatal("a ReturnData=false query was returned")
			}
			got[aws.ToString(r.Id)] = append(got[aws.ToString(r.Id)], r.Values...)
			if aws.ToString(r.Id) == "a" {
				gotTS = append(gotTS, r.Timestamps...)
			}
			if r.StatusCode == types.StatusCodePartialData {
				partial++
			}
			n += len(r.Values)
		}
		if n > 40 {
			t.Errorf("page %d has %d data points, MaxDatapoints is 40", pages, n)
		}
	}
	if pages != 4 { // 150 points / 40
		t.Errorf("got %d pages, want 4", pages)
	}
	if partial == 0 {
		t.Error("no result was marked PartialData before the last page")
	}
	for id, want := range map[string]float64{"a": 0, "b": 0, "c": 1} {
		vals := got[id]
		if len(vals) != 50 {
			t.Fatalf("%s: got %d values over all pages, want 50", id, len(vals))
		}
		if id != "c" {
			for m, v := range vals {
				if v != float64(m)+want {
					t.Fatalf("%s[%d] = %v, want %v (ascending order)", id, m, v, float64(m))
				}
			}
		} else if slices.ContainsFunc(vals, func(v float64) bool { return v != 1 }) {
			t.Fatalf("c: sample counts %v, want all 1", vals)
		}
	}
	if !sort.SliceIsSorted(gotTS, func(i, j int) bool { return gotTS[i].Before(gotTS[j]) }) {
		t.Error("TimestampAscending results are not ascending")
	}

	// A token is tied to its request.
	first, err := client.GetMetricData(ctx, in)
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page: %v, token %v", err, first.NextToken)
	}
	other := *in
	other.MetricDataQueries = queries[:1]
	other.NextToken = first.NextToken
	if _, err := client.GetMetricData(ctx, &other); apiErrorCode(err) != "InvalidNextToken" {
		t.Errorf("token reused with other queries: err %v, want InvalidNextToken", err)
	}
	bad := *in
	bad.NextToken = aws.String("garbage")
	if _, err := client.GetMetricData(ctx, &bad); apiErrorCode(err) != "InvalidNextToken" {
		t.Errorf("garbage token: err %v, want InvalidNextToken", err)
	}
}

func TestSDKGetMetricDataValidation(t *testing.T) {
	_, client := newTestServer(t)
	ctx := context.Background()
	window := func(q []types.MetricDataQuery) *cloudwatch.GetMetricDataInput {
		return &cloudwatch.GetMetricDataInput{MetricDataQueries: q, StartTime: aws.Time(testNow.Add(-time.Hour)), EndTime: aws.Time(testNow)}
	}
	many := func(n int) []types.MetricDataQuery {
		q := make([]types.MetricDataQuery, n)
		for i := range q {
			q[i] = metricQuery(fmt.Sprintf("q%d", i), "N", "M", nil, "Sum", 60)
		}
		return q
	}
	if out, err := client.GetMetricData(ctx, window(many(500))); err != nil || len(out.MetricDataResults) != 500 {
		t.Fatalf("500 queries: err %v", err)
	}
	_, err := client.GetMetricData(ctx, window(many(501)))
	var ve *types.ValidationException
	if !errors.As(err, &ve) || apiErrorCode(err) != "ValidationError" {
		t.Fatalf("501 queries: got %v, want a ValidationException with code ValidationError", err)
	}

	expr := types.MetricDataQuery{Id: aws.String("e"), Expression: aws.String("SUM(METRICS())")}
	if _, err := client.GetMetricData(ctx, window([]types.MetricDataQuery{expr})); apiErrorCode(err) != "ValidationError" {
		t.Errorf("expression: got %v, want ValidationError", err)
	}
	for name, q := range map[string]types.MetricDataQuery{
		"bad stat":   metricQuery("x", "N", "M", nil, "Median", 60),
		"bad period": metricQuery("x", "N", "M", nil, "Sum", 90),
	} {
		if _, err := client.GetMetricData(ctx, window([]types.MetricDataQuery{q})); apiErrorCode(err) != "InvalidParameterValue" {
			t.Errorf("%s: got %v, want InvalidParameterValue", name, err)
		}
	}
	for name, q := range map[string][]types.MetricDataQuery{
		"bad id":       {metricQuery("Upper", "N", "M", nil, "Sum", 60)},
		"duplicate id": {metricQuery("x", "N", "M", nil, "Sum", 60), metricQuery("x", "N", "M", nil, "Sum", 60)},
	} {
		if _, err := client.GetMetricData(ctx, window(q)); apiErrorCode(err) != "ValidationError" {
			t.Errorf("%s: got %v, want ValidationError", name, err)
		}
	}
	inverted := window(many(1))
	inverted.StartTime, inverted.EndTime = inverted.EndTime, inverted.StartTime
	if _, err := client.GetMetricData(ctx, inverted); apiErrorCode(err) != "ValidationError" {
		t.Errorf("start after end: got %v, want ValidationError", err)
	}
}

func TestSDKPutMetricDataValidation(t *testing.T) {
	store, client := newTestServer(t)
	ctx := context.Background()
	cases := map[string]struct {
		in   cloudwatch.PutMetricDataInput
		code string
	}{
		"no value": {cloudwatch.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []types.MetricDatum{{MetricName: aws.String("M")}}}, "InvalidParameterCombination"},
		"too many values": {cloudwatch.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []types.MetricDatum{
			{MetricName: aws.String("M"), Values: make([]float64, 151)}}}, "InvalidParameterValue"},
		"bad unit": {cloudwatch.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []types.MetricDatum{
			{MetricName: aws.String("M"), Value: aws.Float64(1), Unit: "Parsecs"}}}, "InvalidParameterValue"},
		"value and values": {cloudwatch.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []types.MetricDatum{
			{MetricName: aws.String("M"), Value: aws.Float64(1), Values: []float64{1}}}}, "InvalidParameterCombination"},
		"counts mismatch": {cloudwatch.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []types.MetricDatum{
			{MetricName: aws.String("M"), Values: []float64{1, 2}, Counts: []float64{1}}}}, "InvalidParameterCombination"},
		"too old": {cloudwatch.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []types.MetricDatum{
			{MetricName: aws.String("M"), Value: aws.Float64(1), Timestamp: aws.Time(testNow.Add(-15 * 24 * time.Hour))}}}, "InvalidParameterValue"},
		"NaN": {cloudwatch.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []types.MetricDatum{
			{MetricName: aws.String("M"), Value: aws.Float64(math.NaN())}}}, "InvalidParameterValue"},
	}
	for name, tc := range cases {
		if _, err := client.PutMetricData(ctx, &tc.in); apiErrorCode(err) != tc.code {
			t.Errorf("%s: got %v, want %s", name, err, tc.code)
		}
	}
	if n := store.Points(); n != 0 {
		t.Errorf("rejected requests stored %d points", n)
	}
}

func TestSDKListMetrics(t *testing.T) {
	store, client := newTestServer(t)
	ctx := context.Background()
	put := func(ns, name string, kv ...string) {
		var d []Dimension
		for i := 0; i+1 < len(kv); i += 2 {
			d = append(d, Dimension{kv[i], kv[i+1]})
		}
		store.Put(ns, Datum{MetricName: name, Dimensions: d, Value: 1, Timestamp: testNow.Add(-time.Minute)})
	}
	put("AWS/ApiGateway", "Count", "ApiName", "shop", "Stage", "prod")
	put("AWS/ApiGateway", "Count", "ApiName", "shop", "Stage", "dev")
	put("AWS/ApiGateway", "Latency", "ApiName", "shop", "Stage", "prod")
	put("AWS/ApiGateway", "Count", "ApiName", "shop")
	put("AWS/ApiGateway", "Count", "ApiId", "abc123", "Stage", "prod")
	put("Other", "Count", "ApiName", "shop")
	store.Put("AWS/ApiGateway", Datum{MetricName: "Old", Value: 1, Timestamp: testNow.Add(-5 * time.Hour)})

	list := func(in cloudwatch.ListMetricsInput) []string {
		out, err := client.ListMetrics(ctx, &in)
		if err != nil {
			t.Fatalf("ListMetrics: %v", err)
		}
		var got []string
		for _, m := range out.Metrics {
			s := aws.ToString(m.Namespace) + " " + aws.ToString(m.MetricName)
			for _, d := range m.Dimensions {
				s += " " + aws.ToString(d.Name) + "=" + aws.ToString(d.Value)
			}
			got = append(got, s)
		}
		sort.Strings(got)
		return got
	}
	check := func(name string, in cloudwatch.ListMetricsInput, want ...string) {
		t.Helper()
		if got := list(in); !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", name, got, want)
		}
	}
	gw := aws.String("AWS/ApiGateway")
	check("namespace+name+dimension value", cloudwatch.ListMetricsInput{Namespace: gw, MetricName: aws.String("Count"),
		Dimensions: []types.DimensionFilter{{Name: aws.String("Stage"), Value: aws.String("prod")}}},
		"AWS/ApiGateway Count ApiId=abc123 Stage=prod", "AWS/ApiGateway Count ApiName=shop Stage=prod")
	check("name-only dimension filter", cloudwatch.ListMetricsInput{Namespace: gw, Dimensions: []types.DimensionFilter{{Name: aws.String("ApiName")}, {Name: aws.String("Stage")}}},
		"AWS/ApiGateway Count ApiName=shop Stage=dev", "AWS/ApiGateway Count ApiName=shop Stage=prod", "AWS/ApiGateway Latency ApiName=shop Stage=prod")
	check("metric name across namespaces", cloudwatch.ListMetricsInput{MetricName: aws.String("Latency")},
		"AWS/ApiGateway Latency ApiName=shop Stage=prod")
	check("other namespace", cloudwatch.ListMetricsInput{Namespace: aws.String("Other")}, "Other Count ApiName=shop")
	if got := list(cloudwatch.ListMetricsInput{Namespace: gw}); len(got) != 6 {
		t.Errorf("all in namespace: %d metrics, want 6", len(got))
	}
	if got := list(cloudwatch.ListMetricsInput{Namespace: gw, RecentlyActive: types.RecentlyActivePt3h}); len(got) != 5 {
		t.Errorf("recently active: %d metrics %q, want 5 (Old is 5 h old)", len(got), got)
	}

	// Paging: 1203 metrics come back in pages of 500.
	for i := range 1200 {
		put("Many", fmt.Sprintf("M%04d", i), "K", "v")
	}
	seen := map[string]bool{}
	pages := 0
	p := cloudwatch.NewListMetricsPaginator(client, &cloudwatch.ListMetricsInput{Namespace: aws.String("Many")})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.Metrics) > 500 {
			t.Fatalf("page of %d metrics", len(out.Metrics))
		}
		for _, m := range out.Metrics {
			seen[aws.ToString(m.MetricName)] = true
		}
	}
	if pages != 3 || len(seen) != 1200 {
		t.Errorf("paging: %d pages, %d distinct metrics; want 3 and 1200", pages, len(seen))
	}
}

func TestSDKGetMetricStatistics(t *testing.T) {
	store, client := newTestServer(t)
	for i := range 100 {
		store.Put("N", Datum{MetricName: "Latency", Unit: "Milliseconds", Value: float64(i + 1), Timestamp: testNow.Add(-10*time.Minute + time.Duration(i)*time.Second)})
	}
	out, err := client.GetMetricStatistics(context.Background(), &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("N"), MetricName: aws.String("Latency"),
		StartTime: aws.Time(testNow.Add(-time.Hour)), EndTime: aws.Time(testNow), Period: aws.Int32(3600),
		Statistics: []types.Statistic{types.StatisticSum, types.StatisticMaximum, types.StatisticSampleCount},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Datapoints) != 1 {
		t.Fatalf("got %d datapoints, want 1", len(out.Datapoints))
	}
	dp := out.Datapoints[0]
	if aws.ToFloat64(dp.Sum) != 5050 || aws.ToFloat64(dp.Maximum) != 100 || aws.ToFloat64(dp.SampleCount) != 100 || dp.Average != nil || dp.Unit != types.StandardUnitMilliseconds {
		t.Errorf("datapoint %+v", dp)
	}
	out, err = client.GetMetricStatistics(context.Background(), &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("N"), MetricName: aws.String("Latency"),
		StartTime: aws.Time(testNow.Add(-time.Hour)), EndTime: aws.Time(testNow), Period: aws.Int32(3600),
		ExtendedStatistics: []string{"p99", "p50"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if es := out.Datapoints[0].ExtendedStatistics; es["p99"] != 99 || es["p50"] != 50 {
		t.Errorf("extended statistics %v, want p99=99 p50=50", es)
	}
	_, err = client.GetMetricStatistics(context.Background(), &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("N"), MetricName: aws.String("Latency"),
		StartTime: aws.Time(testNow.Add(-48 * time.Hour)), EndTime: aws.Time(testNow), Period: aws.Int32(60),
		Statistics: []types.Statistic{types.StatisticSum},
	})
	if apiErrorCode(err) != "InvalidParameterCombination" {
		t.Errorf("2880 datapoints: got %v, want InvalidParameterCombination", err)
	}
}

func TestPercentileAccuracyOnLargeBuckets(t *testing.T) {
	store := NewStore(func() time.Time { return testNow })
	rng := rand.New(rand.NewPCG(7, 8))
	var all []float64
	for i := range 200000 {
		v := math.Exp(rng.NormFloat64()*0.8) * 120 // log-normal latencies around 120 ms
		all = append(all, v)
		store.Put("N", Datum{MetricName: "L", Value: v, Timestamp: testNow.Add(-10*time.Minute + time.Duration(i%600)*time.Second)})
	}
	for _, st := range []string{"p50", "p90", "p99", "p99.9"} {
		pts, err := store.Series(Query{Namespace: "N", MetricName: "L", Stat: st, Period: 10 * time.Minute, Start: testNow.Add(-10 * time.Minute), End: testNow})
		if err != nil || len(pts) != 1 {
			t.Fatalf("%s: %v %v", st, pts, err)
		}
		want := expectedStat(all, st)
		if rel := math.Abs(pts[0].Value-want) / want; rel > 0.01 {
			t.Errorf("%s = %v, exact %v: off by %.2f%%, want within 1%%", st, pts[0].Value, want, rel*100)
		}
	}
}

func BenchmarkGetMetricData500Queries(b *testing.B) {
	store, client := newTestServer(b)
	// 1000 metrics × 60 minutes × 17 samples ≈ 10^6 data points.
	rng := rand.New(rand.NewPCG(1, 1))
	for m := range 1000 {
		d := []Dimension{{"ApiName", "shop"}, {"Resource", fmt.Sprintf("/r%d", m)}}
		for s := range 60 * 17 {
			store.Put("AWS/ApiGateway", Datum{MetricName: "Latency", Dimensions: d, Value: rng.ExpFloat64() * 100,
				Timestamp: testNow.Add(-time.Hour + time.Duration(s)*time.Hour/(60*17))})
		}
	}
	queries := make([]types.MetricDataQuery, 500)
	for i := range queries {
		queries[i] = metricQuery(fmt.Sprintf("q%d", i), "AWS/ApiGateway", "Latency", dims("ApiName", "shop", "Resource", fmt.Sprintf("/r%d", i)), "p99", 300)
	}
	in := &cloudwatch.GetMetricDataInput{MetricDataQueries: queries, StartTime: aws.Time(testNow.Add(-time.Hour)), EndTime: aws.Time(testNow)}
	b.ResetTimer()
	for b.Loop() {
		out, err := client.GetMetricData(context.Background(), in)
		if err != nil || len(out.MetricDataResults[0].Values) != 12 {
			b.Fatalf("%v", err)
		}
	}
	b.ReportMetric(float64(store.Points()), "points")
}

func BenchmarkStorePut(b *testing.B) {
	store := NewStore(func() time.Time { return testNow })
	d := []Dimension{{"ApiName", "shop"}, {"Stage", "prod"}, {"Method", "GET"}, {"Resource", "/items"}}
	i := 0
	for b.Loop() {
		store.Put("AWS/ApiGateway", Datum{MetricName: "Latency", Dimensions: d, Value: float64(i % 1000), Timestamp: testNow.Add(time.Duration(i) * time.Millisecond)})
		i++
	}
}
