package sandbox

import (
	"context"
	"testing"

	"github.com/apictl/apictl/internal/sandbox/cw"
	"github.com/apictl/apictl/internal/sandbox/sandboxtest"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
)

func TestHTTPAPIStagesAndRouteSettings(t *testing.T) {
	ctx := context.Background()
	sb, c := startSandbox(t, Options{})
	v2 := c.APIGatewayV2

	api, err := v2.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("items"), ProtocolType: v2types.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	if api.ApiId == nil || api.ProtocolType != v2types.ProtocolTypeHttp || api.CreatedDate == nil || api.ApiEndpoint == nil {
		t.Fatalf("CreateApi: %+v", api)
	}
	for i := 0; i < 2; i++ {
		must[*apigatewayv2.CreateApiOutput](t)(v2.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("more"), ProtocolType: v2types.ProtocolTypeHttp}))
	}
	apis, err := v2.GetApis(ctx, &apigatewayv2.GetApisInput{MaxResults: aws.String("2")})
	if err != nil || len(apis.Items) != 2 || apis.NextToken == nil {
		t.Fatalf("GetApis page 1: %+v %v", apis, err)
	}
	apis2, err := v2.GetApis(ctx, &apigatewayv2.GetApisInput{MaxResults: aws.String("2"), NextToken: apis.NextToken})
	if err != nil || len(apis2.Items) != 1 || apis2.NextToken != nil {
		t.Fatalf("GetApis page 2: %+v %v", apis2, err)
	}
	got, err := v2.GetApi(ctx, &apigatewayv2.GetApiInput{ApiId: api.ApiId})
	if err != nil || *got.Name != "items" {
		t.Fatalf("GetApi: %+v %v", got, err)
	}
	_, err = v2.GetApi(ctx, &apigatewayv2.GetApiInput{ApiId: aws.String("nope")})
	wantAPIError(t, err, "NotFoundException")

	for _, k := range []string{"GET /items", "POST /items"} {
		rt, err := v2.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(k)})
		if err != nil || *rt.RouteKey != k || rt.RouteId == nil {
			t.Fatalf("CreateRoute %s: %+v %v", k, rt, err)
		}
	}
	_, err = v2.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("GET /items")})
	wantAPIError(t, err, "ConflictException")
	routes, err := v2.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: api.ApiId})
	if err != nil || len(routes.Items) != 2 {
		t.Fatalf("GetRoutes: %+v %v", routes, err)
	}

	st, err := v2.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("$default"), AutoDeploy: aws.Bool(true),
		DefaultRouteSettings: &v2types.RouteSettings{ThrottlingRateLimit: aws.Float64(100), ThrottlingBurstLimit: aws.Int32(50)}})
	if err != nil || *st.DefaultRouteSettings.ThrottlingRateLimit != 100 || !*st.AutoDeploy {
		t.Fatalf("CreateStage: %+v %v", st, err)
	}
	_, err = v2.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("$default")})
	wantAPIError(t, err, "ConflictException")

	up, err := v2.UpdateStage(ctx, &apigatewayv2.UpdateStageInput{ApiId: api.ApiId, StageName: aws.String("$default"),
		DefaultRouteSettings: &v2types.RouteSettings{DetailedMetricsEnabled: aws.Bool(true)},
		RouteSettings: map[string]v2types.RouteSettings{
			"GET /items":  {ThrottlingRateLimit: aws.Float64(10), ThrottlingBurstLimit: aws.Int32(5)},
			"POST /items": {ThrottlingRateLimit: aws.Float64(1)},
		}})
	if err != nil {
		t.Fatal(err)
	}
	d := up.DefaultRouteSettings
	if *d.ThrottlingRateLimit != 100 || *d.ThrottlingBurstLimit != 50 || !*d.DetailedMetricsEnabled {
		t.Fatalf("UpdateStage merges default route settings: %+v", d)
	}
	if rs := up.RouteSettings["GET /items"]; *rs.ThrottlingRateLimit != 10 || *rs.ThrottlingBurstLimit != 5 {
		t.Fatalf("route settings: %+v", up.RouteSettings)
	}
	_, err = v2.UpdateStage(ctx, &apigatewayv2.UpdateStageInput{ApiId: api.ApiId, StageName: aws.String("$default"),
		RouteSettings: map[string]v2types.RouteSettings{"GET /nope": {ThrottlingRateLimit: aws.Float64(1)}}})
	wantAPIError(t, err, "NotFoundException")
	_, err = v2.UpdateStage(ctx, &apigatewayv2.UpdateStageInput{ApiId: api.ApiId, StageName: aws.String("nope")})
	wantAPIError(t, err, "NotFoundException")

	if _, err := v2.DeleteRouteSettings(ctx, &apigatewayv2.DeleteRouteSettingsInput{ApiId: api.ApiId, StageName: aws.String("$default"), RouteKey: aws.String("POST /items")}); err != nil {
		t.Fatal(err)
	}
	_, err = v2.DeleteRouteSettings(ctx, &apigatewayv2.DeleteRouteSettingsInput{ApiId: api.ApiId, StageName: aws.String("$default"), RouteKey: aws.String("POST /items")})
	wantAPIError(t, err, "NotFoundException")
	gs, err := v2.GetStage(ctx, &apigatewayv2.GetStageInput{ApiId: api.ApiId, StageName: aws.String("$default")})
	if err != nil || len(gs.RouteSettings) != 1 || gs.RouteSettings["GET /items"].ThrottlingRateLimit == nil {
		t.Fatalf("GetStage after DeleteRouteSettings: %+v %v", gs.RouteSettings, err)
	}
	stages, err := v2.GetStages(ctx, &apigatewayv2.GetStagesInput{ApiId: api.ApiId})
	if err != nil || len(stages.Items) != 1 || *stages.Items[0].StageName != "$default" {
		t.Fatalf("GetStages: %+v %v", stages, err)
	}
	calls := sb.Calls()
	if calls["apigatewayv2:UpdateStage"] != 3 || calls["apigatewayv2:DeleteRouteSettings"] != 2 || calls["UpdateStage"] != 0 {
		t.Fatalf("v2 calls: %v", calls)
	}
}

func TestHTTPAPIDataPlane(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	sb, c := startSandbox(t, Options{ThrottleNow: clock.Now, Now: clock.Now})
	v2 := c.APIGatewayV2
	api := sandboxtest.CreateHTTPAPI(t, v2, "items", "GET /items", "GET /items/{id}", "POST /items/{id}")
	must[*apigatewayv2.CreateStageOutput](t)(v2.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("prod"),
		DefaultRouteSettings: &v2types.RouteSettings{ThrottlingRateLimit: aws.Float64(1), ThrottlingBurstLimit: aws.Int32(3), DetailedMetricsEnabled: aws.Bool(true)},
		RouteSettings:        map[string]v2types.RouteSettings{"GET /items/{id}": {ThrottlingBurstLimit: aws.Int32(1)}}}))
	be, post := &okBackend{}, &okBackend{}
	sb.SetBackend(*api.ApiId, be)
	sb.SetMethodBackend(*api.ApiId, "POST", "/items/{id}", post)
	base := sb.InvokeURL(*api.ApiId, "prod")

	wantResult(t, invoke(t, "GET", base+"/nothing", ""), 404, "Not Found")
	wantResult(t, invoke(t, "GET", sb.InvokeURL(*api.ApiId, "nostage")+"/items", ""), 404, "Not Found")
	got := map[int]int{}
	for i := 0; i < 5; i++ {
		got[invoke(t, "GET", base+"/items", "").status]++
	}
	if got[200] != 3 || got[429] != 2 {
		t.Fatalf("GET /items with default burst 3: %v", got)
	}
	got = map[int]int{}
	for i := 0; i < 3; i++ {
		got[invoke(t, "GET", base+"/items/7", "").status]++
	}
	if got[200] != 1 || got[429] != 2 {
		t.Fatalf("GET /items/{id} with route burst 1: %v", got)
	}
	wantResult(t, invoke(t, "POST", base+"/items/7", ""), 200, "")
	must[*apigatewayv2.CreateStageOutput](t)(v2.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("$default")}))
	wantResult(t, invoke(t, "POST", sb.InvokeURL(*api.ApiId, "%24default")+"/items/8", ""), 200, "")
	if be.Calls() != 4 || post.Calls() != 2 || post.paths[0] != "/items/7" {
		t.Fatalf("backends: default %d, post %d %v", be.Calls(), post.Calls(), post.paths)
	}

	now := clock.Now()
	stage := []cw.Dimension{{Name: "ApiId", Value: *api.ApiId}, {Name: "Stage", Value: "prod"}}
	route := []cw.Dimension{{Name: "ApiId", Value: *api.ApiId}, {Name: "Route", Value: "GET /items/{id}"}, {Name: "Stage", Value: "prod"}}
	for _, ck := range []struct {
		metric string
		dims   []cw.Dimension
		want   float64
	}{{"Count", stage, 10}, {"4xx", stage, 5}, {"5xx", stage, 0}, {"Count", route, 3}, {"4xx", route, 2}} {
		if v := sumSeries(t, sb.Metrics(), ck.metric, ck.dims, now); v != ck.want {
			t.Errorf("%s %v = %v, want %v", ck.metric, ck.dims, v, ck.want)
		}
	}
}

func TestHTTPAPIDeletes(t *testing.T) {
	ctx := context.Background()
	_, c := startSandbox(t, Options{})
	v2 := c.APIGatewayV2
	api := must[*apigatewayv2.CreateApiOutput](t)(v2.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("x"), ProtocolType: v2types.ProtocolTypeHttp}))
	rt := must[*apigatewayv2.CreateRouteOutput](t)(v2.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("GET /a")}))
	got, err := v2.GetRoute(ctx, &apigatewayv2.GetRouteInput{ApiId: api.ApiId, RouteId: rt.RouteId})
	if err != nil || *got.RouteKey != "GET /a" || got.AuthorizationType != v2types.AuthorizationTypeNone {
		t.Fatalf("GetRoute: %+v %v", got, err)
	}
	_, err = v2.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("x"), ProtocolType: "GRPC"})
	wantAPIError(t, err, "BadRequestException")
	must[*apigatewayv2.CreateStageOutput](t)(v2.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("s")}))
	if _, err := v2.DeleteStage(ctx, &apigatewayv2.DeleteStageInput{ApiId: api.ApiId, StageName: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	_, err = v2.GetStage(ctx, &apigatewayv2.GetStageInput{ApiId: api.ApiId, StageName: aws.String("s")})
	wantAPIError(t, err, "NotFoundException")
	if _, err := v2.DeleteApi(ctx, &apigatewayv2.DeleteApiInput{ApiId: api.ApiId}); err != nil {
		t.Fatal(err)
	}
	_, err = v2.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: api.ApiId})
	wantAPIError(t, err, "NotFoundException")
}
