package measure

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
)

var restErrs = [2]string{"4XXError", "5XXError"}

func restDims(stage, method, resource string) map[string]string {
	d := map[string]string{"ApiName": "shop", "Stage": stage}
	if method != "" {
		d["Method"], d["Resource"] = method, resource
	}
	return d
}

// shopFixture: REST API "shop" (a1) with stages prod and dev, one other
// API, usage plans; prod traffic in the last hour before testNow
// (12:34:56, window 11:34–12:34):
//
//	11:40  GET /pets   120 requests, 10 ms
//	12:00  GET /pets    30 requests, 10 ms
//	12:00  POST /cart   60 requests, 50 ms; 6 answered 4xx, 3 answered 5xx
func shopFixture(detailed bool) (*fakeREST, *fakeCW) {
	rest := &fakeREST{
		apis: []agtypes.RestApi{{Id: aws.String("z9"), Name: aws.String("other")}, {Id: aws.String("a1"), Name: aws.String("shop")}},
		stages: map[string][]agtypes.Stage{"a1": {
			{StageName: aws.String("prod"), MethodSettings: map[string]agtypes.MethodSetting{
				"*/*":        {MetricsEnabled: detailed, ThrottlingRateLimit: 2.2, ThrottlingBurstLimit: 5},
				"~1pets/GET": {ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20},
				"~1cart/GET": {LoggingLevel: aws.String("INFO"), ThrottlingRateLimit: -1, ThrottlingBurstLimit: -1},
			}},
			{StageName: aws.String("dev")},
		}},
		plans: []agtypes.UsagePlan{
			{Id: aws.String("up1"), Name: aws.String("gold"),
				ApiStages: []agtypes.ApiStage{{ApiId: aws.String("a1"), Stage: aws.String("prod"), Throttle: map[string]agtypes.ThrottleSettings{"/pets/GET": {RateLimit: 0.5, BurstLimit: 1}}}},
				Throttle:  &agtypes.ThrottleSettings{RateLimit: 1, BurstLimit: 2},
				Quota:     &agtypes.QuotaSettings{Limit: 1000, Period: agtypes.QuotaPeriodTypeDay}},
			{Id: aws.String("up2"), Name: aws.String("elsewhere"), ApiStages: []agtypes.ApiStage{{ApiId: aws.String("z9"), Stage: aws.String("prod")}}},
			{Id: aws.String("up3"), Name: aws.String("devplan"), ApiStages: []agtypes.ApiStage{{ApiId: aws.String("a1"), Stage: aws.String("dev")}}},
		},
	}
	cw := &fakeCW{split: true}
	at := func(hh, mm int) time.Time { return time.Date(2026, 11, 29, hh, mm, 7, 0, time.UTC) }
	mdims := func(m, r string) map[string]string {
		if !detailed {
			return nil
		}
		return restDims("prod", m, r)
	}
	for range 120 {
		cw.request(restDims("prod", "", ""), mdims("GET", "/pets"), at(11, 40), 200, 10, restErrs)
	}
	for range 30 {
		cw.request(restDims("prod", "", ""), mdims("GET", "/pets"), at(12, 0), 200, 10, restErrs)
	}
	for i := range 60 {
		status := 200
		if i < 6 {
			status = 404
		} else if i < 9 {
			status = 502
		}
		cw.request(restDims("prod", "", ""), mdims("POST", "/cart"), at(12, 0), status, 50, restErrs)
	}
	// Outside the window: before it, and in the running minute.
	cw.request(restDims("prod", "", ""), mdims("GET", "/pets"), at(11, 33), 200, 10, restErrs)
	cw.request(restDims("prod", "", ""), mdims("GET", "/pets"), at(12, 34), 200, 10, restErrs)
	return rest, cw
}

func fixedNow() time.Time { return testNow }

func ptr(f float64) *float64 { return &f }

func eqPtr(a, b *float64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func fmtPtr(p *float64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

func TestMeasureRESTHandComputed(t *testing.T) {
	rest, cw := shopFixture(true)
	us, err := Measure(context.Background(), Clients{REST: rest, HTTP: &fakeHTTP{}, CloudWatch: cw}, Options{API: "shop", Since: time.Hour, ByMethod: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 2 || us[0].Stage != "dev" || us[1].Stage != "prod" {
		t.Fatalf("stages %d", len(us))
	}
	u := us[1]
	if u.API != "shop" || u.APIID != "a1" || u.APIType != APITypeREST || u.PeriodSeconds != 60 {
		t.Errorf("header %s %s %s %d", u.API, u.APIID, u.APIType, u.PeriodSeconds)
	}
	if want := time.Date(2026, 11, 29, 11, 34, 0, 0, time.UTC); !u.Window.Start.Equal(want) || u.Window.Seconds != 3600 {
		t.Errorf("window %v %d", u.Window.Start, u.Window.Seconds)
	}
	tot := u.Totals
	peakAt := time.Date(2026, 11, 29, 11, 40, 0, 0, time.UTC)
	checks := []struct {
		name      string
		got, want any
	}{
		{"count", tot.Count, int64(210)},
		{"avg rps 210/3600", tot.AvgRPS, 0.058},
		{"peak rps 120/60", tot.PeakRPS, 2.0},
		{"peak at", tot.PeakAt.Format(time.RFC3339), peakAt.Format(time.RFC3339)},
		{"burst 2+3·√2", tot.BurstEstimateRPS, 6.2},
		{"4xx", tot.Error4xx, int64(6)},
		{"5xx", tot.Error5xx, int64(3)},
		{"4xx rate 6/210", tot.Error4xxRate, 0.0286},
		{"5xx rate 3/210", tot.Error5xxRate, 0.0143},
		{"p50", fmtPtr(tot.LatencyP50Ms), "10"},
		{"p99", fmtPtr(tot.LatencyP99Ms), "50"},
		{"integration p99", fmtPtr(tot.IntegrationLatencyP99Ms), "48"},
		{"API-wide headroom: account 10000 / peak 2", fmtPtr(tot.Headroom), "5000"},
		{"daily", fmt.Sprint(u.Daily), "[{2026-11-29 210 true}]"},
		{"stage throttle", fmt.Sprint(*u.Throttle.Stage), "{2.2 5}"},
		{"method throttles", fmt.Sprint(u.Throttle.Methods), "map[GET /pets:{10 20}]"},
		{"detailed", u.DetailedMetrics, true},
		{"rps points", len(u.RPS()), 60},
		{"rps at 11:40", u.RPS()[6], 2.0},
		{"rps at 12:00", u.RPS()[26], 1.5},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	if len(u.Methods) != 2 {
		t.Fatalf("methods %+v", u.Methods)
	}
	pets, cart := u.Methods[0], u.Methods[1]
	if pets.Key() != "GET /pets" || pets.Count != 150 || pets.PeakRPS != 2 || pets.AvgRPS != 0.042 || pets.Error4xxRate != 0 ||
		!eqPtr(pets.LatencyP99Ms, ptr(10)) || pets.ThrottleSource != "method" || pets.Throttle.Rate != 10 || !eqPtr(pets.Headroom, ptr(5)) {
		t.Errorf("GET /pets = %+v (headroom %s)", pets, fmtPtr(pets.Headroom))
	}
	if cart.Key() != "POST /cart" || cart.Count != 60 || cart.PeakRPS != 1 || cart.Error4xxRate != 0.1 || cart.Error5xxRate != 0.05 ||
		!eqPtr(cart.LatencyP99Ms, ptr(50)) || !eqPtr(cart.IntegrationLatencyP99Ms, ptr(48)) || cart.ThrottleSource != "stage" || !eqPtr(cart.Headroom, ptr(2.2)) {
		t.Errorf("POST /cart = %+v (headroom %s)", cart, fmtPtr(cart.Headroom))
	}
	if !cart.PeakAt.Equal(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("cart peak at %v", cart.PeakAt)
	}

	if len(u.UsagePlans) != 1 || u.UsagePlans[0].Name != "gold" || u.UsagePlans[0].Quota.Limit != 1000 || u.UsagePlans[0].Quota.Period != "DAY" ||
		u.UsagePlans[0].Throttle.Rate != 1 || fmt.Sprint(u.UsagePlans[0].Methods) != "map[GET /pets:{0.5 1}]" {
		t.Errorf("usage plans %+v", u.UsagePlans)
	}
	if len(us[0].UsagePlans) != 1 || us[0].UsagePlans[0].ID != "up3" {
		t.Errorf("dev usage plans %+v", us[0].UsagePlans)
	}

	var wantWarn []string // POST /cart's */* 2.2 is its own, not compared with the API's peak
	if len(u.Warnings) != len(wantWarn) {
		t.Errorf("warnings %q", u.Warnings)
	}
	for _, w := range wantWarn {
		if !contains(u.Warnings, w) {
			t.Errorf("no warning %q in %q", w, u.Warnings)
		}
	}
	if !contains(us[0].Warnings, "no requests on stage dev") || !contains(us[0].Warnings, "no */* throttle set on stage dev") {
		t.Errorf("dev warnings %q", us[0].Warnings)
	}

	// Both stages and both methods: 4 scopes × 6 = 24 queries in one call
	// (two pages); ListMetrics followed every page.
	if cw.dataCalls != 1 || cw.dataPages != 2 || cw.queries != 24 {
		t.Errorf("GetMetricData calls %d pages %d queries %d", cw.dataCalls, cw.dataPages, cw.queries)
	}
	if cw.listCalls < 2 {
		t.Errorf("ListMetrics called %d times, want paging", cw.listCalls)
	}
}

func TestMeasureDetailedMetricsHint(t *testing.T) {
	rest, cw := shopFixture(false)
	u, err := Measure(context.Background(), Clients{REST: rest, CloudWatch: cw}, Options{API: "a1", Stage: "prod", Since: time.Hour, ByMethod: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(u) != 1 || len(u[0].Methods) != 0 || u[0].Totals.Count != 210 {
		t.Fatalf("%+v", u)
	}
	if !contains(u[0].Warnings, "detailed metrics are not enabled on stage prod") {
		t.Errorf("warnings %q", u[0].Warnings)
	}
	if len(u[0].Hints) != 1 || !strings.Contains(u[0].Hints[0], "detailedMetrics: true") || !strings.Contains(u[0].Hints[0], "apictl apply-plan") ||
		!strings.Contains(u[0].Hints[0], "--patch-operations op=replace,path=/*/*/metrics/enabled,value=true") {
		t.Errorf("hints %q", u[0].Hints)
	}
	// Without --by method nothing is said about detailed metrics.
	u, err = Measure(context.Background(), Clients{REST: rest, CloudWatch: cw}, Options{API: "a1", Stage: "prod", Since: time.Hour, Now: fixedNow})
	if err != nil || contains(u[0].Warnings, "detailed metrics") || len(u[0].Hints) != 0 {
		t.Errorf("without --by method: %v %q %q", err, u[0].Warnings, u[0].Hints)
	}
}

func TestMeasureBatchesAbove500Queries(t *testing.T) {
	rest, cw := shopFixture(true)
	cw.split = false
	// 90 methods × 6 + 6 = 546 queries → 2 calls.
	for i := range 90 {
		cw.request(restDims("prod", "", ""), restDims("prod", "GET", fmt.Sprintf("/r%02d", i)), time.Date(2026, 11, 29, 12, 10, 0, 0, time.UTC), 200, 5, restErrs)
	}
	us, err := Measure(context.Background(), Clients{REST: rest, CloudWatch: cw}, Options{API: "shop", Stage: "prod", Since: time.Hour, ByMethod: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(us[0].Methods); n != 92 {
		t.Fatalf("%d methods", n)
	}
	if cw.dataCalls != 2 || cw.queries != 93*6 {
		t.Errorf("GetMetricData calls %d queries %d, want 2 calls, %d queries", cw.dataCalls, cw.queries, 93*6)
	}
	last := us[0].Methods[len(us[0].Methods)-1]
	if last.Count != 1 || last.Resource != "/r89" {
		t.Errorf("last method %+v", last)
	}
}

func TestResolveErrors(t *testing.T) {
	rest, cw := shopFixture(true)
	rest.apis = append(rest.apis, agtypes.RestApi{Id: aws.String("b2"), Name: aws.String("dup")})
	http := &fakeHTTP{apis: []v2types.Api{
		{ApiId: aws.String("h1"), Name: aws.String("dup"), ProtocolType: v2types.ProtocolTypeHttp},
		{ApiId: aws.String("w1"), Name: aws.String("ws"), ProtocolType: v2types.ProtocolTypeWebsocket},
	}}
	c := Clients{REST: rest, HTTP: http, CloudWatch: cw}
	run := func(o Options) error {
		o.Now = fixedNow
		_, err := Measure(context.Background(), c, o)
		return err
	}
	var he *HintError
	err := run(Options{API: "dup"})
	if err == nil || !strings.Contains(err.Error(), "ambiguous") || !strings.Contains(err.Error(), "b2 (REST)") || !strings.Contains(err.Error(), "h1 (HTTP)") {
		t.Errorf("ambiguous: %v", err)
	}
	err = run(Options{API: "nope"})
	if !errors.As(err, &he) || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(he.Hint(), "shop (a1, REST API)") || strings.Contains(he.Hint(), "ws") {
		t.Errorf("unknown api: %v / hint %v", err, he)
	}
	err = run(Options{API: "shop", Stage: "qa"})
	if !errors.As(err, &he) || !strings.Contains(err.Error(), `no stage "qa"`) || he.Hint() != "its stages: dev, prod" {
		t.Errorf("unknown stage: %v / %v", err, he)
	}
	// By id, a namesake REST API is warned about (metrics are keyed by name).
	rest.apis = append(rest.apis, agtypes.RestApi{Id: aws.String("c3"), Name: aws.String("dup")})
	rest.stages["b2"] = rest.stages["a1"]
	us, err := Measure(context.Background(), c, Options{API: "b2", Stage: "prod", Since: time.Hour, Now: fixedNow})
	if err != nil || !contains(us[0].Warnings, `REST APIs c3 share the metric name "dup": CloudWatch keys REST API metrics by name`) {
		t.Errorf("namesake warning: %v %q", err, us[0].Warnings)
	}
	if err := run(Options{API: ""}); err == nil {
		t.Error("empty api accepted")
	}
}

func TestMeasureHTTPAPI(t *testing.T) {
	http := &fakeHTTP{
		apis: []v2types.Api{{ApiId: aws.String("h1"), Name: aws.String("items"), ProtocolType: v2types.ProtocolTypeHttp}},
		stages: map[string][]v2types.Stage{"h1": {{
			StageName:            aws.String("$default"),
			DefaultRouteSettings: &v2types.RouteSettings{DetailedMetricsEnabled: aws.Bool(true), ThrottlingRateLimit: aws.Float64(100), ThrottlingBurstLimit: aws.Int32(50)},
			RouteSettings:        map[string]v2types.RouteSettings{"GET /items": {ThrottlingRateLimit: aws.Float64(3), ThrottlingBurstLimit: aws.Int32(6)}},
		}}},
	}
	cw := &fakeCW{}
	errs := [2]string{"4xx", "5xx"}
	sd := map[string]string{"ApiId": "h1", "Stage": "$default"}
	rd := func(route string) map[string]string {
		return map[string]string{"ApiId": "h1", "Stage": "$default", "Route": route}
	}
	for i := range 300 { // 12:10, 300 GET /items, 15 of them 5xx
		status := 200
		if i < 15 {
			status = 503
		}
		cw.request(sd, rd("GET /items"), time.Date(2026, 11, 29, 12, 10, 0, 0, time.UTC), status, 20, errs)
	}
	for range 60 { // 12:11, 60 $default
		cw.request(sd, rd("$default"), time.Date(2026, 11, 29, 12, 11, 0, 0, time.UTC), 200, 30, errs)
	}
	us, err := Measure(context.Background(), Clients{REST: &fakeREST{}, HTTP: http, CloudWatch: cw}, Options{API: "items", Since: time.Hour, ByMethod: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	u := us[0]
	if u.APIType != APITypeHTTP || u.Stage != "$default" || u.Totals.Count != 360 || u.Totals.PeakRPS != 5 || u.Totals.Error5xxRate != round(15.0/360, 4) ||
		!eqPtr(u.Totals.Headroom, ptr(2000)) || !u.DetailedMetrics {
		t.Errorf("http totals %+v", u.Totals)
	}
	if len(u.Methods) != 2 || u.Methods[0].Route != "GET /items" || u.Methods[0].Method != "GET" || u.Methods[0].Resource != "/items" ||
		!eqPtr(u.Methods[0].Headroom, ptr(0.6)) || u.Methods[1].Route != "$default" || u.Methods[1].ThrottleSource != "stage" {
		t.Errorf("http methods %+v", u.Methods)
	}
	if !contains(u.Warnings, "GET /items headroom 0.60 is below 1.2: method throttle 3 rps against a peak of 5 rps") {
		t.Errorf("warnings %q", u.Warnings)
	}
	if len(u.UsagePlans) != 0 {
		t.Errorf("http api usage plans %+v", u.UsagePlans)
	}
}

func contains(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
