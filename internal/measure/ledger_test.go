package measure_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"

	"github.com/apictl/apictl/internal/measure"
	"github.com/apictl/apictl/internal/sandbox/cw"
)

// TestLedgerMeasureByMethodBeyondListMetrics: a method whose only data is
// older than two weeks is not listed by ListMetrics, yet `measure --by
// method` over 30 days reports it (it queries the methods GetResources
// lists) and names the methods that had no data.
func TestLedgerMeasureByMethodBeyondListMetrics(t *testing.T) {
	sb, c, clk := startSandbox(t)
	id := createREST(t, c.APIGateway, "shop", "prod")
	patchStage(t, c.APIGateway, id, "prod", "/*/*/metrics/enabled", "true")
	old := now.Add(-20 * 24 * time.Hour)
	putRequests(sb.Metrics(), restErrs, old, 40, 0, 0, 10, restDims("shop", "prod", "", ""), restDims("shop", "prod", "GET", "/pets"))
	if got := sb.Metrics(); len(listedMethods(got, now)) != 0 {
		t.Fatalf("precondition: ListMetrics lists %v", listedMethods(got, now))
	}
	u, err := measure.Run(context.Background(), c, measure.Options{API: "shop", Stage: "prod", Since: 30 * 24 * time.Hour, ByMethod: true, Now: clk.Now})
	check(t, err)
	if len(u.Methods) != 1 || u.Methods[0].Key() != "GET /pets" || u.Methods[0].Count != 40 {
		t.Fatalf("methods %+v", u.Methods)
	}
	if strings.Join(u.MethodsWithoutData, ",") != "POST /cart" || !has(u.Warnings, "no per-method data in the window for 1 method(s) of stage prod: POST /cart") {
		t.Fatalf("methods without data %v, warnings %q", u.MethodsWithoutData, u.Warnings)
	}
}

// listedMethods is what ListMetrics (two-week window) shows of per-method Count metrics.
func listedMethods(st *cw.Store, at time.Time) []cw.Metric {
	var out []cw.Metric
	for _, m := range st.ListMetrics(cw.MetricFilter{Namespace: "AWS/ApiGateway", MetricName: "Count", ActiveSince: at.Add(-14 * 24 * time.Hour)}) {
		if len(m.Dimensions) == 4 {
			out = append(out, m)
		}
	}
	return out
}

func TestLedgerMeasureApiNameASCII(t *testing.T) {
	sb, c, clk := startSandbox(t)
	createREST(t, c.APIGateway, "café", "prod")
	// API Gateway publishes the name without its non-ASCII characters.
	putRequests(sb.Metrics(), restErrs, at(12, 0), 25, 0, 0, 10, restDims("caf", "prod", "", ""))
	u, err := measure.Run(context.Background(), c, measure.Options{API: "café", Stage: "prod", Since: time.Hour, Now: clk.Now})
	check(t, err)
	if u.Totals.Count != 25 {
		t.Fatalf("count %d: the ApiName dimension of %q is %q", u.Totals.Count, "café", "caf")
	}
}

func TestLedgerMeasureHTTPRouteForms(t *testing.T) {
	ctx := context.Background()
	sb, c, clk := startSandbox(t)
	v2 := c.APIGatewayV2
	api, err := v2.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("items"), ProtocolType: v2types.ProtocolTypeHttp})
	check(t, err)
	for _, k := range []string{"GET /items", "POST /items", "DELETE /items"} {
		_, err = v2.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(k)})
		check(t, err)
	}
	_, err = v2.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("prod"),
		DefaultRouteSettings: &v2types.RouteSettings{DetailedMetricsEnabled: aws.Bool(true)}})
	check(t, err)
	id := *api.ApiId
	stage := []cw.Dimension{{Name: "ApiId", Value: id}, {Name: "Stage", Value: "prod"}}
	route := append(append([]cw.Dimension{}, stage...), cw.Dimension{Name: "Route", Value: "GET /items"})
	field := append(append([]cw.Dimension{}, stage...), cw.Dimension{Name: "Method", Value: "POST"}, cw.Dimension{Name: "Resource", Value: "/items"})
	httpErrs := [2]string{"4xx", "5xx"}

	// Only the field form: POST /items is found under Method/Resource.
	putRequests(sb.Metrics(), httpErrs, at(12, 5), 30, 0, 0, 10, stage, field)
	u, err := measure.Run(ctx, c, measure.Options{API: "items", Stage: "prod", Since: time.Hour, ByMethod: true, Now: clk.Now})
	check(t, err)
	if len(u.Methods) != 1 || u.Methods[0].Route != "POST /items" || u.Methods[0].Count != 30 || u.RouteMetricForm != measure.RouteFormMethodResource {
		t.Fatalf("field form: methods %+v form %q", u.Methods, u.RouteMetricForm)
	}
	if !has(u.Warnings, "matched dimensions ApiId,Method,Resource,Stage, not the documented ApiId,Stage,Route") {
		t.Errorf("warnings %q", u.Warnings)
	}
	if strings.Join(u.MethodsWithoutData, ",") != "DELETE /items,GET /items" {
		t.Errorf("without data %v", u.MethodsWithoutData)
	}

	// Both forms on different routes.
	putRequests(sb.Metrics(), httpErrs, at(12, 6), 50, 0, 0, 10, stage, route)
	u, err = measure.Run(ctx, c, measure.Options{API: "items", Stage: "prod", Since: time.Hour, ByMethod: true, Now: clk.Now})
	check(t, err)
	if len(u.Methods) != 2 || u.Methods[0].Route != "GET /items" || u.Methods[0].Count != 50 || u.RouteMetricForm != "mixed" {
		t.Fatalf("mixed: methods %+v form %q", u.Methods, u.RouteMetricForm)
	}
}

// TestLedgerMetricRetention: CloudWatch keeps 1-minute data 15 days,
// 5-minute 63 days, 1-hour 455 days; measure never asks for a finer period
// than what is kept for the window start.
func TestLedgerMetricRetention(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct {
		age  time.Duration
		want int
	}{{time.Hour, 60}, {15 * day, 60}, {15*day + time.Minute, 300}, {63 * day, 300}, {64 * day, 3600}, {455 * day, 3600}} {
		got, err := measure.RetentionPeriod(c.age)
		if err != nil || got != c.want {
			t.Errorf("age %v: period %d (%v), want %d", c.age, got, err, c.want)
		}
	}
	if _, err := measure.RetentionPeriod(456 * day); err == nil {
		t.Error("a window older than 455 days is accepted")
	}
}

// TestLedgerMeasureApiNameCollision: "café" and "caf" publish under the same
// ApiName, so measure warns that their traffic is mixed.
func TestLedgerMeasureApiNameCollision(t *testing.T) {
	_, c, clk := startSandbox(t)
	createREST(t, c.APIGateway, "café", "prod")
	other := createREST(t, c.APIGateway, "caf", "prod")
	u, err := measure.Run(context.Background(), c, measure.Options{API: "café", Stage: "prod", Since: time.Hour, Now: clk.Now})
	check(t, err)
	if !has(u.Warnings, "REST APIs "+other+` share the metric name "caf"`) {
		t.Fatalf("warnings %q", u.Warnings)
	}
}

// TestMeasureByMethodWithoutGetResources: when the methods cannot be listed
// (e.g. no permission), --by method still answers from ListMetrics and says
// what it could not do.
func TestMeasureByMethodWithoutGetResources(t *testing.T) {
	sb, c, clk := startSandbox(t)
	createREST(t, c.APIGateway, "shop", "prod")
	putRequests(sb.Metrics(), restErrs, at(12, 0), 7, 0, 0, 10, restDims("shop", "prod", "", ""), restDims("shop", "prod", "GET", "/pets"))
	sb.InjectErrors("GetResources", 1, 403, "AccessDeniedException")
	u, err := measure.Run(context.Background(), c, measure.Options{API: "shop", Stage: "prod", Since: time.Hour, ByMethod: true, Now: clk.Now})
	check(t, err)
	if len(u.Methods) != 1 || u.Methods[0].Count != 7 || !has(u.Warnings, "could not list the methods of shop") {
		t.Fatalf("methods %+v warnings %q", u.Methods, u.Warnings)
	}
}
