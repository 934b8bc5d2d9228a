package plan

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
)

func TestApplyHTTPAPI(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v2 := f.c.HTTP.(*apigatewayv2.Client)
	api, err := v2.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("items-api"), ProtocolType: v2types.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	for _, rk := range []string{"GET /items", "POST /items", "GET /items/{id}"} {
		if _, err := v2.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(rk)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v2.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	p := itemsHTTPPlan(t, "POST /items: {throttle: {rate: 10.5, burst: 5}, detailedMetrics: false}")
	f.sb.ResetCalls()
	ch, _, err := f.apply(t, p, DiffOptions{}, fastApply())
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + ch.Text())
	if got := mutating(f.sb.Calls()); fmt.Sprint(got) != "map[apigatewayv2:UpdateStage:1]" {
		t.Errorf("calls = %v", got)
	}
	f.mustBeConverged(t, p)

	*p.Stage.Methods[1].Throttle.Burst = 6
	f.sb.ResetCalls()
	if _, _, err := f.apply(t, p, DiffOptions{}, fastApply()); err != nil {
		t.Fatal(err)
	}
	if got := mutating(f.sb.Calls()); fmt.Sprint(got) != "map[apigatewayv2:UpdateStage:1]" {
		t.Errorf("calls = %v", got)
	}
	f.mustBeConverged(t, p)

	// Drop a route from the plan: kept without --prune, deleted with it.
	p.Stage.Methods = p.Stage.Methods[:1]
	f.mustBeConverged(t, p)
	f.sb.ResetCalls()
	ch, _, err = f.apply(t, p, DiffOptions{Prune: true}, fastApply())
	if err != nil {
		t.Fatal(err)
	}
	if got := mutating(f.sb.Calls()); fmt.Sprint(got) != "map[apigatewayv2:DeleteRouteSettings:1]" {
		t.Errorf("prune calls = %v\n%s", got, ch.Text())
	}
	f.sb.ResetCalls()
	ch, err = Diff(ctx, f.c, p, DiffOptions{Prune: true})
	if err != nil || !ch.Empty() {
		t.Fatalf("after prune: %v\n%s", err, ch.Text())
	}

	// Unknown route.
	p.Stage.Methods[0].Key = "GET /nope"
	if _, err := Diff(ctx, f.c, p, DiffOptions{}); err == nil {
		t.Error("unknown route accepted")
	}
}
