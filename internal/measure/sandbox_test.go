package measure_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/measure"
	"github.com/apictl/apictl/internal/sandbox"
	"github.com/apictl/apictl/internal/sandbox/cw"
)

// clock is a settable clock shared by the sandbox and measure.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// now is the measuring time of these tests: the last hour is 11:34–12:34.
var now = time.Date(2026, 11, 29, 12, 34, 56, 0, time.UTC)

func startSandbox(t *testing.T) (*sandbox.Sandbox, *awsapi.Clients, *clock) {
	t.Helper()
	clk := &clock{t: now}
	sb := sandbox.New(sandbox.Options{Region: "us-east-1", Now: clk.Now})
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	c, err := awsapi.NewClients(context.Background(), awsapi.Settings{Region: "us-east-1", EndpointURL: url, StaticCredentials: true, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return sb, c, clk
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// createREST creates a REST API with GET /pets and POST /cart (MOCK
// integrations) deployed to the given stages, and returns its id.
func createREST(t *testing.T, c *apigateway.Client, name string, stages ...string) string {
	t.Helper()
	ctx := context.Background()
	api, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String(name)})
	check(t, err)
	for _, rm := range [][2]string{{"pets", "GET"}, {"cart", "POST"}} {
		res, err := c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String(rm[0])})
		check(t, err)
		_, err = c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String(rm[1]), AuthorizationType: aws.String("NONE")})
		check(t, err)
		_, err = c.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String(rm[1]), Type: agtypes.IntegrationTypeMock})
		check(t, err)
	}
	for _, s := range stages {
		_, err = c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String(s)})
		check(t, err)
	}
	return *api.Id
}

func patchStage(t *testing.T, c *apigateway.Client, apiID, stage string, kv ...string) {
	t.Helper()
	var ops []agtypes.PatchOperation
	for i := 0; i < len(kv); i += 2 {
		ops = append(ops, agtypes.PatchOperation{Op: agtypes.OpReplace, Path: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	_, err := c.UpdateStage(context.Background(), &apigateway.UpdateStageInput{RestApiId: aws.String(apiID), StageName: aws.String(stage), PatchOperations: ops})
	check(t, err)
}

func restDims(api, stage, method, resource string) []cw.Dimension {
	d := []cw.Dimension{{Name: "ApiName", Value: api}, {Name: "Stage", Value: stage}}
	if method != "" {
		d = append(d, cw.Dimension{Name: "Method", Value: method}, cw.Dimension{Name: "Resource", Value: resource})
	}
	return d
}

// putRequests records n requests at ts the way API Gateway publishes them,
// on each of the dimension sets: Count, errors, latency and integration
// latency (latency - 2 ms).
func putRequests(st *cw.Store, errNames [2]string, ts time.Time, n, n4xx, n5xx int, latencyMs float64, dimsets ...[]cw.Dimension) {
	for _, d := range dimsets {
		st.Put("AWS/ApiGateway", cw.Datum{MetricName: "Count", Dimensions: d, Timestamp: ts, Values: []float64{1}, Counts: []float64{float64(n)}, Unit: "Count"})
		st.Put("AWS/ApiGateway", cw.Datum{MetricName: errNames[0], Dimensions: d, Timestamp: ts, Values: []float64{1, 0}, Counts: []float64{float64(n4xx), float64(n - n4xx)}, Unit: "Count"})
		st.Put("AWS/ApiGateway", cw.Datum{MetricName: errNames[1], Dimensions: d, Timestamp: ts, Values: []float64{1, 0}, Counts: []float64{float64(n5xx), float64(n - n5xx)}, Unit: "Count"})
		st.Put("AWS/ApiGateway", cw.Datum{MetricName: "Latency", Dimensions: d, Timestamp: ts, Values: []float64{latencyMs}, Counts: []float64{float64(n)}, Unit: "Milliseconds"})
		st.Put("AWS/ApiGateway", cw.Datum{MetricName: "IntegrationLatency", Dimensions: d, Timestamp: ts, Values: []float64{latencyMs - 2}, Counts: []float64{float64(n)}, Unit: "Milliseconds"})
	}
}

var restErrs = [2]string{"4XXError", "5XXError"}

func at(hh, mm int) time.Time { return time.Date(2026, 11, 29, hh, mm, 7, 0, time.UTC) }

// setupShop builds the REST fixture most tests use:
//
//	11:40  GET /pets   120 requests, 10 ms
//	12:00  GET /pets    30 requests, 200 ms
//	12:00  POST /cart   60 requests, 50 ms; 6 answered 4xx, 3 answered 5xx
//
// plus a request before the window and one in the running minute. Stage
// prod: */* 2.2 rps burst 5, GET /pets 10 rps burst 20, detailed metrics on;
// usage plan gold (1 rps, burst 2, 1000/day, GET /pets 0.5/1) on prod.
func setupShop(t *testing.T, sb *sandbox.Sandbox, c *awsapi.Clients) string {
	t.Helper()
	id := createREST(t, c.APIGateway, "shop", "prod", "dev")
	patchStage(t, c.APIGateway, id, "prod",
		"/*/*/throttling/rateLimit", "2.2", "/*/*/throttling/burstLimit", "5", "/*/*/metrics/enabled", "true",
		"/~1pets/GET/throttling/rateLimit", "10", "/~1pets/GET/throttling/burstLimit", "20")
	_, err := c.APIGateway.CreateUsagePlan(context.Background(), &apigateway.CreateUsagePlanInput{
		Name:      aws.String("gold"),
		Throttle:  &agtypes.ThrottleSettings{RateLimit: 1, BurstLimit: 2},
		Quota:     &agtypes.QuotaSettings{Limit: 1000, Period: agtypes.QuotaPeriodTypeDay},
		ApiStages: []agtypes.ApiStage{{ApiId: aws.String(id), Stage: aws.String("prod"), Throttle: map[string]agtypes.ThrottleSettings{"/pets/GET": {RateLimit: 0.5, BurstLimit: 1}}}},
	})
	check(t, err)
	st := sb.Metrics()
	stage := restDims("shop", "prod", "", "")
	putRequests(st, restErrs, at(11, 40), 120, 0, 0, 10, stage, restDims("shop", "prod", "GET", "/pets"))
	putRequests(st, restErrs, at(12, 0), 30, 0, 0, 200, stage, restDims("shop", "prod", "GET", "/pets"))
	putRequests(st, restErrs, at(12, 0), 60, 6, 3, 50, stage, restDims("shop", "prod", "POST", "/cart"))
	putRequests(st, restErrs, at(11, 33), 500, 0, 0, 999, stage, restDims("shop", "prod", "GET", "/pets"))
	putRequests(st, restErrs, at(12, 34), 500, 0, 0, 999, stage, restDims("shop", "prod", "GET", "/pets"))
	return id
}

func fv(p *float64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

func TestSandboxRESTEveryFigure(t *testing.T) {
	sb, c, clk := startSandbox(t)
	id := setupShop(t, sb, c)
	sb.ResetCalls()

	u, err := measure.Run(context.Background(), c, measure.Options{API: "shop", Stage: "prod", Since: time.Hour, ByMethod: true, Now: clk.Now})
	check(t, err)

	tot := u.Totals
	// Hand-computed over 11:34–12:34 (3600 s, 60 one-minute periods):
	// 210 requests; busiest minute 11:40 with 120 → 2 rps; latencies sorted
	// 120×10, 60×50, 30×200 ms: p50 = 105th = 10, p99 = 208th = 200.
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"api id", u.APIID, id},
		{"period", u.PeriodSeconds, 60},
		{"window start", u.Window.Start.Format(time.RFC3339), "2026-11-29T11:34:00Z"},
		{"window end", u.Window.End.Format(time.RFC3339), "2026-11-29T12:34:00Z"},
		{"count", tot.Count, int64(210)},
		{"avg rps = 210/3600", tot.AvgRPS, 0.058},
		{"peak rps = 120/60", tot.PeakRPS, 2.0},
		{"peak at", tot.PeakAt.Format(time.RFC3339), "2026-11-29T11:40:00Z"},
		{"burst = 2+3√2", tot.BurstEstimateRPS, 6.2},
		{"4xx", tot.Error4xx, int64(6)},
		{"5xx", tot.Error5xx, int64(3)},
		{"4xx rate = 6/210", tot.Error4xxRate, 0.0286},
		{"5xx rate = 3/210", tot.Error5xxRate, 0.0143},
		{"latency p50", fv(tot.LatencyP50Ms), "10"},
		{"latency p99", fv(tot.LatencyP99Ms), "200"},
		{"integration p99", fv(tot.IntegrationLatencyP99Ms), "198"},
		{"API-wide headroom = account 10000 / peak 2", fv(tot.Headroom), "5000"},
		{"daily", fmt.Sprint(u.Daily), "[{2026-11-29 210 true}]"},
		{"stage throttle", fmt.Sprint(*u.Throttle.Stage), "{2.2 5}"},
		{"method throttles", fmt.Sprint(u.Throttle.Methods), "map[GET /pets:{10 20}]"},
		{"detailed metrics", u.DetailedMetrics, true},
		{"sparkline points", len(u.RPS()), 60},
	} {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	if len(u.Methods) != 2 {
		t.Fatalf("methods = %+v", u.Methods)
	}
	// GET /pets: 150 requests, 120×10 + 30×200 ms → p99 = 149th = 200;
	// peak 2 rps against its own 10 rps throttle → headroom 5.
	pets := u.Methods[0]
	if got := fmt.Sprintf("%s %d %v %v %s %s %s %s", pets.Key(), pets.Count, pets.AvgRPS, pets.PeakRPS, fv(pets.LatencyP50Ms), fv(pets.LatencyP99Ms), pets.ThrottleSource, fv(pets.Headroom)); got != "GET /pets 150 0.042 2 10 200 method 5" {
		t.Errorf("GET /pets: %s", got)
	}
	// POST /cart: 60 requests in one minute → 1 rps, 6/60 4xx, 3/60 5xx,
	// stage throttle 2.2 → headroom 2.2.
	cart := u.Methods[1]
	if got := fmt.Sprintf("%s %d %v %v %v %s %s %s %s", cart.Key(), cart.Count, cart.PeakRPS, cart.Error4xxRate, cart.Error5xxRate, fv(cart.LatencyP99Ms), fv(cart.IntegrationLatencyP99Ms), cart.ThrottleSource, fv(cart.Headroom)); got != "POST /cart 60 1 0.1 0.05 50 48 stage 2.2" {
		t.Errorf("POST /cart: %s", got)
	}

	if len(u.UsagePlans) != 1 {
		t.Fatalf("usage plans %+v", u.UsagePlans)
	}
	up := u.UsagePlans[0]
	if got := fmt.Sprintf("%s %v %v %v", up.Name, *up.Throttle, *up.Quota, up.Methods); got != "gold {1 2} {1000 0 DAY} map[GET /pets:{0.5 1}]" {
		t.Errorf("usage plan: %s", got)
	}
	// */* 2.2 applies to POST /cart alone (peak 1): no warning; the API's
	// peak is compared with the account limit only.
	if len(u.Warnings) != 0 {
		t.Errorf("warnings %q", u.Warnings)
	}

	calls := sb.Calls()
	if calls["GetMetricData"] != 1 || calls["ListMetrics"] != 1 || calls["GetRestApis"] != 1 || calls["GetStages"] != 1 || calls["GetUsagePlans"] != 1 {
		t.Errorf("calls = %v", calls)
	}
}

func TestSandboxAllStagesInOneCall(t *testing.T) {
	sb, c, clk := startSandbox(t)
	setupShop(t, sb, c)
	sb.ResetCalls()
	us, err := measure.Measure(context.Background(), measure.FromAWS(c), measure.Options{API: "shop", Since: time.Hour, Now: clk.Now})
	check(t, err)
	if len(us) != 2 || us[0].Stage != "dev" || us[1].Stage != "prod" || us[0].Totals.Count != 0 || us[1].Totals.Count != 210 {
		t.Fatalf("stages: %d", len(us))
	}
	if !has(us[0].Warnings, "no */* throttle set on stage dev") || !has(us[0].Warnings, "no requests on stage dev") {
		t.Errorf("dev warnings %q", us[0].Warnings)
	}
	if n := sb.Calls()["GetMetricData"]; n != 1 {
		t.Errorf("GetMetricData calls = %d, want 1", n)
	}
	// Run wants a single stage.
	if _, err := measure.Run(context.Background(), c, measure.Options{API: "shop", Since: time.Hour, Now: clk.Now}); err == nil || !strings.Contains(err.Error(), "2 stages") {
		t.Errorf("Run without stage: %v", err)
	}
}

func TestSandboxGetMetricDataBatching(t *testing.T) {
	for _, c := range []struct {
		methods, wantCalls int
	}{
		// The API also defines GET /pets and POST /cart, queried though
		// without data: 2 more scopes.
		{20, 1}, // (20 + 2 + 1 stage total) × 6 = 138 queries
		{80, 1}, // 83 × 6 = 498
		{81, 2}, // 84 × 6 = 504 > 500
		{90, 2}, // 93 × 6 = 558
	} {
		t.Run(fmt.Sprint(c.methods), func(t *testing.T) {
			sb, cl, clk := startSandbox(t)
			createREST(t, cl.APIGateway, "many", "prod")
			for i := range c.methods {
				putRequests(sb.Metrics(), restErrs, at(11, 35).Add(time.Duration(i%55)*time.Minute), i+1, 0, 0, 5, restDims("many", "prod", "GET", fmt.Sprintf("/r%03d", i)))
			}
			putRequests(sb.Metrics(), restErrs, at(12, 0), 1, 0, 0, 5, restDims("many", "prod", "", ""))
			sb.ResetCalls()
			u, err := measure.Run(context.Background(), cl, measure.Options{API: "many", Stage: "prod", Since: time.Hour, ByMethod: true, Now: clk.Now})
			check(t, err)
			if len(u.Methods) != c.methods {
				t.Fatalf("%d methods, want %d", len(u.Methods), c.methods)
			}
			if n := sb.Calls()["GetMetricData"]; n != c.wantCalls {
				t.Errorf("GetMetricData calls = %d, want %d", n, c.wantCalls)
			}
			// Busiest first; every method's count maps back to its own query.
			for i, m := range u.Methods {
				want := int64(c.methods - i)
				if m.Count != want || m.Resource != fmt.Sprintf("/r%03d", want-1) {
					t.Fatalf("method %d = %s %d, want /r%03d %d", i, m.Resource, m.Count, want-1, want)
				}
			}
		})
	}
}

func TestSandboxDetailedMetricsFromRealTraffic(t *testing.T) {
	sb, c, clk := startSandbox(t)
	id := createREST(t, c.APIGateway, "shop", "prod")
	send := func(method, path string, n int) {
		t.Helper()
		for range n {
			req, _ := http.NewRequest(method, sb.InvokeURL(id, "prod")+path, nil)
			res, err := http.DefaultClient.Do(req)
			check(t, err)
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("%s %s: %d", method, path, res.StatusCode)
			}
		}
	}
	clk.Set(at(12, 10))
	send("GET", "/pets", 3)
	clk.Set(now)
	u, err := measure.Run(context.Background(), c, measure.Options{API: "shop", Stage: "prod", Since: time.Hour, ByMethod: true, Now: clk.Now})
	check(t, err)
	if u.Totals.Count != 3 || len(u.Methods) != 0 {
		t.Fatalf("count %d methods %d", u.Totals.Count, len(u.Methods))
	}
	if !has(u.Warnings, "detailed metrics are not enabled on stage prod") {
		t.Errorf("warnings %q", u.Warnings)
	}
	if len(u.Hints) != 1 || !strings.Contains(u.Hints[0], "`detailedMetrics: true` in a plan + `apictl apply-plan`") ||
		!strings.Contains(u.Hints[0], "aws apigateway update-stage --rest-api-id "+id+" --stage-name prod --patch-operations op=replace,path=/*/*/metrics/enabled,value=true") {
		t.Errorf("hints %q", u.Hints)
	}

	// Enable them the way the hint says; new traffic shows per method.
	patchStage(t, c.APIGateway, id, "prod", "/*/*/metrics/enabled", "true")
	clk.Set(at(12, 20))
	send("GET", "/pets", 2)
	send("POST", "/cart", 4)
	clk.Set(now)
	u, err = measure.Run(context.Background(), c, measure.Options{API: "shop", Stage: "prod", Since: time.Hour, ByMethod: true, Now: clk.Now})
	check(t, err)
	if u.Totals.Count != 9 || len(u.Methods) != 2 || len(u.Hints) != 0 || has(u.Warnings, "detailed metrics") {
		t.Fatalf("count %d methods %+v hints %q warnings %q", u.Totals.Count, u.Methods, u.Hints, u.Warnings)
	}
	if u.Methods[0].Key() != "POST /cart" || u.Methods[0].Count != 4 || u.Methods[1].Key() != "GET /pets" || u.Methods[1].Count != 2 {
		t.Errorf("methods %+v", u.Methods)
	}
}

func TestSandboxHTTPAPI(t *testing.T) {
	sb, c, clk := startSandbox(t)
	ctx := context.Background()
	api, err := c.APIGatewayV2.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("items"), ProtocolType: v2types.ProtocolTypeHttp})
	check(t, err)
	_, err = c.APIGatewayV2.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("GET /items")})
	check(t, err)
	_, err = c.APIGatewayV2.CreateStage(ctx, &apigatewayv2.CreateStageInput{
		ApiId: api.ApiId, StageName: aws.String("$default"),
		DefaultRouteSettings: &v2types.RouteSettings{DetailedMetricsEnabled: aws.Bool(true), ThrottlingRateLimit: aws.Float64(100), ThrottlingBurstLimit: aws.Int32(50)},
		RouteSettings:        map[string]v2types.RouteSettings{"GET /items": {ThrottlingRateLimit: aws.Float64(3), ThrottlingBurstLimit: aws.Int32(6)}},
	})
	check(t, err)

	httpErrs := [2]string{"4xx", "5xx"}
	d := func(route string) []cw.Dimension {
		out := []cw.Dimension{{Name: "ApiId", Value: *api.ApiId}, {Name: "Stage", Value: "$default"}}
		if route != "" {
			out = append(out, cw.Dimension{Name: "Route", Value: route})
		}
		return out
	}
	// 12:10: 300 GET /items (15 answered 5xx, 20 ms); 12:11: 60 $default (30 ms).
	putRequests(sb.Metrics(), httpErrs, at(12, 10), 300, 0, 15, 20, d(""), d("GET /items"))
	putRequests(sb.Metrics(), httpErrs, at(12, 11), 60, 0, 0, 30, d(""), d("$default"))
	sb.ResetCalls()

	u, err := measure.Run(ctx, c, measure.Options{API: "items", Since: time.Hour, ByMethod: true, Now: clk.Now})
	check(t, err)
	// 360 requests; busiest minute 300 → 5 rps; 15/360 5xx; account 10000
	// rps → API-wide headroom 2000; GET /items own 3 rps → 0.6, flagged. p99 of 300×20 +
	// 60×30 ms = 357th = 30.
	got := fmt.Sprintf("%s %s %d %v %v %s %s %v", u.APIType, u.Stage, u.Totals.Count, u.Totals.PeakRPS, u.Totals.Error5xxRate, fv(u.Totals.Headroom), fv(u.Totals.LatencyP99Ms), u.DetailedMetrics)
	if want := "http $default 360 5 0.0417 2000 30 true"; got != want {
		t.Errorf("totals: %s, want %s", got, want)
	}
	if len(u.Methods) != 2 {
		t.Fatalf("methods %+v", u.Methods)
	}
	m0, m1 := u.Methods[0], u.Methods[1]
	if got := fmt.Sprintf("%s|%s|%s|%d|%s|%s", m0.Route, m0.Method, m0.Resource, m0.Count, m0.ThrottleSource, fv(m0.Headroom)); got != "GET /items|GET|/items|300|method|0.6" {
		t.Errorf("GET /items: %s", got)
	}
	if got := fmt.Sprintf("%s|%d|%s|%s", m1.Route, m1.Count, m1.ThrottleSource, fv(m1.Headroom)); got != "$default|60|stage|100" {
		t.Errorf("$default: %s", got)
	}
	if !has(u.Warnings, "GET /items headroom 0.60 is below 1.2") {
		t.Errorf("warnings %q", u.Warnings)
	}
	calls := sb.Calls()
	if calls["GetMetricData"] != 1 || calls["GetUsagePlans"] != 0 {
		t.Errorf("calls %v", calls)
	}
}

func TestSandboxResolveErrors(t *testing.T) {
	_, c, clk := startSandbox(t)
	createREST(t, c.APIGateway, "dup", "prod")
	_, err := c.APIGatewayV2.CreateApi(context.Background(), &apigatewayv2.CreateApiInput{Name: aws.String("dup"), ProtocolType: v2types.ProtocolTypeHttp})
	check(t, err)
	run := func(api, stage string) error {
		_, err := measure.Run(context.Background(), c, measure.Options{API: api, Stage: stage, Now: clk.Now})
		return err
	}
	if err := run("dup", ""); err == nil || !strings.Contains(err.Error(), "ambiguous") || !strings.Contains(err.Error(), "(REST)") || !strings.Contains(err.Error(), "(HTTP)") {
		t.Errorf("ambiguous: %v", err)
	}
	var he interface{ Hint() string }
	err = run("nope", "")
	if err == nil || !strings.Contains(err.Error(), `"nope"`) || !asHint(err, &he) || !strings.Contains(he.Hint(), "dup (") {
		t.Errorf("unknown: %v", err)
	}
}

func asHint(err error, target *interface{ Hint() string }) bool {
	h, ok := err.(interface{ Hint() string })
	if ok {
		*target = h
	}
	return ok
}

func has(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
