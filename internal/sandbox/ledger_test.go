package sandbox

// Conformance tests of the emulator against docs/aws-behaviour.md: each
// TestLedger<Entry> enforces the ledger entry of that name, so
// `go test -run Ledger ./...` lists them.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/apictl/apictl/internal/sandbox/cw"
	"github.com/apictl/apictl/internal/sandbox/sandboxtest"
)

// statuses sends n GETs to url and counts the answers by status.
func statuses(t *testing.T, url, key string, n int) map[int]int {
	t.Helper()
	got := map[int]int{}
	for i := 0; i < n; i++ {
		got[invoke(t, "GET", url, key).status]++
	}
	return got
}

func updateStage(t *testing.T, ag *apigateway.Client, apiID string, ops ...agtypes.PatchOperation) *apigateway.UpdateStageOutput {
	t.Helper()
	return must[*apigateway.UpdateStageOutput](t)(ag.UpdateStage(context.Background(), &apigateway.UpdateStageInput{
		RestApiId: aws.String(apiID), StageName: aws.String("prod"), PatchOperations: ops}))
}

func TestLedgerPatchPathEscaping(t *testing.T) {
	w := newPetWorld(t)
	p := w.api
	out := updateStage(t, w.ag, p.ID,
		patch(agtypes.OpReplace, "/~1pets~1{petId}/GET/throttling/rateLimit", "7"),
		patch(agtypes.OpReplace, "/*/*/throttling/rateLimit", "9"))
	if ms, ok := out.MethodSettings["~1pets~1{petId}/GET"]; !ok || ms.ThrottlingRateLimit != 7 {
		t.Fatalf("method setting key: want ~1pets~1{petId}/GET with rate 7, got %v", out.MethodSettings)
	}
	if ms, ok := out.MethodSettings["*/*"]; !ok || ms.ThrottlingRateLimit != 9 {
		t.Fatalf("*/* key: %v", out.MethodSettings)
	}
	// An unescaped slash is a different (invalid) path.
	_, err := w.ag.UpdateStage(context.Background(), &apigateway.UpdateStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("prod"),
		PatchOperations: []agtypes.PatchOperation{patch(agtypes.OpReplace, "/pets/{petId}/GET/throttling/rateLimit", "7")}})
	wantAPIError(t, err, "BadRequestException")
}

func TestLedgerStageThrottlePerMethod(t *testing.T) {
	w := newPetWorld(t)
	updateStage(t, w.ag, w.api.ID,
		patch(agtypes.OpReplace, "/*/*/throttling/rateLimit", "1"),
		patch(agtypes.OpReplace, "/*/*/throttling/burstLimit", "2"))
	base := w.base
	// */* is a per-method limit: each method has its own bucket of 2, the
	// stage as a whole serves more than 2.
	for _, path := range []string{"/", "/pets/1", "/users/1"} {
		if got := statuses(t, base+path, "", 3); got[200] != 2 || got[429] != 1 {
			t.Fatalf("GET %s with */* burst 2: %v", path, got)
		}
	}
}

func TestLedgerThrottleOrder(t *testing.T) {
	w := newPetWorld(t)
	ag, p, base := w.ag, w.api, w.base
	// GET /pets needs a key. Stage burst 2; key A's plan burst 1, key B's 100.
	updateStage(t, ag, p.ID,
		patch(agtypes.OpReplace, "/~1pets/GET/throttling/rateLimit", "1"),
		patch(agtypes.OpReplace, "/~1pets/GET/throttling/burstLimit", "2"))
	keyA, _ := keyInPlan(t, ag, p.ID, &apigateway.CreateUsagePlanInput{Name: aws.String("a"), Throttle: &agtypes.ThrottleSettings{RateLimit: 1, BurstLimit: 1}})
	keyB, _ := keyInPlan(t, ag, p.ID, &apigateway.CreateUsagePlanInput{Name: aws.String("b"), Throttle: &agtypes.ThrottleSettings{RateLimit: 100, BurstLimit: 100}})
	wantResult(t, invoke(t, "GET", base+"/pets", keyA), 200, "")
	// Rejected by A's plan throttle, which comes first: no stage token spent.
	wantResult(t, invoke(t, "GET", base+"/pets", keyA), 429, "Too Many Requests")
	// So the stage bucket still has one token for B, then none.
	wantResult(t, invoke(t, "GET", base+"/pets", keyB), 200, "")
	wantResult(t, invoke(t, "GET", base+"/pets", keyB), 429, "Too Many Requests")
}

func TestLedgerThrottleTokenBucket(t *testing.T) {
	clock := newFakeClock()
	b := NewTokenBucket(2, 4, clock.Now)
	n := 0
	for b.Allow() {
		n++
	}
	if n != 4 {
		t.Fatalf("a full bucket admits its burst: got %d, want 4", n)
	}
	clock.Advance(time.Second)
	n = 0
	for b.Allow() {
		n++
	}
	if n != 2 {
		t.Fatalf("one second refills rate tokens: got %d, want 2", n)
	}
}

func TestLedgerUsagePlanThrottlePerKey(t *testing.T) {
	ctx := context.Background()
	w := newPetWorld(t)
	ag, p, base := w.ag, w.api, w.base
	keyA, planID := keyInPlan(t, ag, p.ID, &apigateway.CreateUsagePlanInput{Throttle: &agtypes.ThrottleSettings{RateLimit: 1, BurstLimit: 2}})
	k2 := must[*apigateway.CreateApiKeyOutput](t)(ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("k2"), Enabled: true}))
	must[*apigateway.CreateUsagePlanKeyOutput](t)(ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: &planID, KeyId: k2.Id, KeyType: aws.String("API_KEY")}))
	// The same plan, two keys: each key has its own bucket of 2.
	for _, k := range []string{keyA, *k2.Value} {
		if got := statuses(t, base+"/pets", k, 3); got[200] != 2 || got[429] != 1 {
			t.Fatalf("key with plan burst 2: %v", got)
		}
	}
}

func TestLedgerUsagePlanMethodThrottleKeys(t *testing.T) {
	ctx := context.Background()
	w := newPetWorld(t)
	ag, p := w.ag, w.api
	_, planID := keyInPlan(t, ag, p.ID, &apigateway.CreateUsagePlanInput{Throttle: &agtypes.ThrottleSettings{RateLimit: 10, BurstLimit: 10}})
	stage := "/apiStages/" + p.ID + ":prod/throttle/"
	out := must[*apigateway.UpdateUsagePlanOutput](t)(ag.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: &planID,
		PatchOperations: []agtypes.PatchOperation{
			patch(agtypes.OpReplace, stage+"~1pets/GET/rateLimit", "3"),
			patch(agtypes.OpReplace, stage+"~1pets/GET/burstLimit", "4"),
			patch(agtypes.OpReplace, stage+"~1/GET/rateLimit", "5"),
			patch(agtypes.OpReplace, stage+"~1/GET/burstLimit", "6"),
		}}))
	if len(out.ApiStages) != 1 {
		t.Fatalf("api stages: %+v", out.ApiStages)
	}
	th := out.ApiStages[0].Throttle
	if th["/pets/GET"].RateLimit != 3 || th["/pets/GET"].BurstLimit != 4 || th["//GET"].RateLimit != 5 {
		t.Fatalf("plan method throttle keys: want /pets/GET and //GET, got %+v", th)
	}
}

func TestLedgerKeyOnePlanPerStage(t *testing.T) {
	ctx := context.Background()
	w := newPetWorld(t)
	ag, p := w.ag, w.api
	keyValue, _ := keyInPlan(t, ag, p.ID, &apigateway.CreateUsagePlanInput{Name: aws.String("one")})
	keys := must[*apigateway.GetApiKeysOutput](t)(ag.GetApiKeys(ctx, &apigateway.GetApiKeysInput{IncludeValues: aws.Bool(true)}))
	var keyID *string
	for _, k := range keys.Items {
		if aws.ToString(k.Value) == keyValue {
			keyID = k.Id
		}
	}
	two := must[*apigateway.CreateUsagePlanOutput](t)(ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("two"),
		ApiStages: []agtypes.ApiStage{{ApiId: aws.String(p.ID), Stage: aws.String("prod")}}}))
	_, err := ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: two.Id, KeyId: keyID, KeyType: aws.String("API_KEY")})
	wantAPIError(t, err, "ConflictException")
}

func TestLedgerAPIKeyValueLength(t *testing.T) {
	ctx := context.Background()
	_, c := startSandbox(t, Options{})
	ag := c.APIGateway
	for _, tc := range []struct {
		n  int
		ok bool
	}{{19, false}, {20, true}, {128, true}, {129, false}} {
		_, err := ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String(fmt.Sprint("k", tc.n)), Value: aws.String(strings.Repeat("a", tc.n-3) + fmt.Sprintf("%03d", tc.n))})
		if tc.ok && err != nil {
			t.Fatalf("key value of %d characters: %v", tc.n, err)
		}
		if !tc.ok {
			wantAPIError(t, err, "BadRequestException")
		}
	}
}

func TestLedgerQuotaLimits(t *testing.T) {
	ctx := context.Background()
	_, c := startSandbox(t, Options{})
	ag := c.APIGateway
	// Plans per key: 10.
	key := must[*apigateway.CreateApiKeyOutput](t)(ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("k"), Enabled: true}))
	for i := 0; i <= maxPlansPerKey; i++ {
		plan := must[*apigateway.CreateUsagePlanOutput](t)(ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String(fmt.Sprint("p", i))}))
		_, err := ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: plan.Id, KeyId: key.Id, KeyType: aws.String("API_KEY")})
		if i < maxPlansPerKey && err != nil {
			t.Fatalf("plan %d of the key: %v", i+1, err)
		}
		if i == maxPlansPerKey {
			wantAPIError(t, err, "LimitExceededException")
		}
	}
	// Method throttles per API stage in a plan: 20.
	apiID := newTestAPIWithMethods(t, ag, maxMethodThrottlesPerAPI+1)
	plan := must[*apigateway.CreateUsagePlanOutput](t)(ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("m"),
		Throttle: &agtypes.ThrottleSettings{RateLimit: 100, BurstLimit: 100}, ApiStages: []agtypes.ApiStage{{ApiId: &apiID, Stage: aws.String("prod")}}}))
	var ops []agtypes.PatchOperation
	for i := 0; i <= maxMethodThrottlesPerAPI; i++ {
		ops = append(ops, patch(agtypes.OpReplace, fmt.Sprintf("/apiStages/%s:prod/throttle/~1r%d/GET/rateLimit", apiID, i), "1"))
	}
	_, err := ag.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: plan.Id, PatchOperations: ops[:maxMethodThrottlesPerAPI]})
	if err != nil {
		t.Fatalf("%d method throttles: %v", maxMethodThrottlesPerAPI, err)
	}
	_, err = ag.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: plan.Id, PatchOperations: ops})
	if err == nil {
		t.Fatalf("%d method throttles on one API stage accepted", maxMethodThrottlesPerAPI+1)
	}
}

func TestLedgerControlPlaneRates(t *testing.T) {
	clock := newFakeClock()
	limits := AWSControlPlaneLimits()
	if l := limits["UpdateUsagePlan"]; l.Rate != 1.0/20 || l.Burst != 1 {
		t.Fatalf("UpdateUsagePlan limit: %+v", l)
	}
	if l := limits["CreateApiKey"]; l.Rate != 5 {
		t.Fatalf("CreateApiKey limit: %+v", l)
	}
	_, c := startSandbox(t, Options{ThrottleNow: clock.Now, Now: clock.Now, ControlPlaneRateLimits: limits})
	ag := c.APIGateway
	_, upd := planUpdater(t, ag)
	if err := upd(); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, upd(), "TooManyRequestsException")
	clock.Advance(20 * time.Second)
	if err := upd(); err != nil {
		t.Fatalf("after 20 s: %v", err)
	}
}

func TestLedgerDeploymentSnapshot(t *testing.T) {
	ctx := context.Background()
	w := newPetWorld(t)
	ag, p, base := w.ag, w.api, w.base
	// A new method is not served before a deployment ...
	must[*apigateway.PutMethodOutput](t)(ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: aws.String(p.ID), ResourceId: aws.String(p.PetID),
		HttpMethod: aws.String("DELETE"), AuthorizationType: aws.String("NONE")}))
	wantResult(t, invoke(t, "DELETE", base+"/pets/1", ""), 403, "Missing Authentication Token")
	// ... nor is a change to apiKeyRequired ...
	must[*apigateway.UpdateMethodOutput](t)(ag.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: aws.String(p.ID), ResourceId: aws.String(p.PetsID),
		HttpMethod: aws.String("GET"), PatchOperations: []agtypes.PatchOperation{patch(agtypes.OpReplace, "/apiKeyRequired", "false")}}))
	wantResult(t, invoke(t, "GET", base+"/pets", ""), 403, "Forbidden")
	// ... and a deleted method is still served.
	must[*apigateway.DeleteMethodOutput](t)(ag.DeleteMethod(ctx, &apigateway.DeleteMethodInput{RestApiId: aws.String(p.ID), ResourceId: aws.String(p.UserID), HttpMethod: aws.String("GET")}))
	wantResult(t, invoke(t, "GET", base+"/users/1", ""), 200, "")
	redeploy(t, ag, p.ID, "prod")
	wantResult(t, invoke(t, "DELETE", base+"/pets/1", ""), 200, "")
	wantResult(t, invoke(t, "GET", base+"/pets", ""), 200, "")
	wantResult(t, invoke(t, "GET", base+"/users/1", ""), 403, "Missing Authentication Token")
	// A stage pointed back at the old deployment serves the old definition.
	deps := must[*apigateway.GetDeploymentsOutput](t)(ag.GetDeployments(ctx, &apigateway.GetDeploymentsInput{RestApiId: aws.String(p.ID)}))
	updateStage(t, ag, p.ID, patch(agtypes.OpReplace, "/deploymentId", aws.ToString(deps.Items[0].Id)))
	wantResult(t, invoke(t, "DELETE", base+"/pets/1", ""), 403, "Missing Authentication Token")
}

func TestLedgerDeploymentAPISummary(t *testing.T) {
	ctx := context.Background()
	w := newPetWorld(t)
	ag, p := w.ag, w.api
	st := must[*apigateway.GetStageOutput](t)(ag.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("prod")}))
	// Change the live definition after the deployment.
	must[*apigateway.UpdateMethodOutput](t)(ag.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: aws.String(p.ID), ResourceId: aws.String(p.PetsID),
		HttpMethod: aws.String("GET"), PatchOperations: []agtypes.PatchOperation{patch(agtypes.OpReplace, "/apiKeyRequired", "false")}}))
	d := must[*apigateway.GetDeploymentOutput](t)(ag.GetDeployment(ctx, &apigateway.GetDeploymentInput{RestApiId: aws.String(p.ID), DeploymentId: st.DeploymentId,
		Embed: []string{"apisummary"}}))
	if got := d.ApiSummary["/pets"]["GET"]; !got.ApiKeyRequired || aws.ToString(got.AuthorizationType) != "NONE" {
		t.Fatalf("apiSummary /pets GET: want the deployed apiKeyRequired=true, got %+v (summary %v)", got, d.ApiSummary)
	}
	if _, ok := d.ApiSummary["/{proxy+}"]["ANY"]; !ok || len(d.ApiSummary) != 5 {
		t.Fatalf("apiSummary paths: %v", d.ApiSummary)
	}
	plain := must[*apigateway.GetDeploymentOutput](t)(ag.GetDeployment(ctx, &apigateway.GetDeploymentInput{RestApiId: aws.String(p.ID), DeploymentId: st.DeploymentId}))
	if plain.ApiSummary != nil {
		t.Fatalf("apiSummary without embed: %v", plain.ApiSummary)
	}
}

func TestLedgerDeploymentSnapshotAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("three AWS CLI runs take 10-40 s on a loaded machine; runs without -short")
	}
	ctx := context.Background()
	sb, c := startSandbox(t, Options{})
	run := sandboxtest.NewAWSCLI(t, sb.URL(), "us-east-1").JSON
	p := createPetAPI(t, c.APIGateway, "cli-pets")
	sb.SetBackend(p.ID, &okBackend{})
	base := sb.InvokeURL(p.ID, "prod")
	run(nil, "apigateway", "update-method", "--rest-api-id", p.ID, "--resource-id", p.PetsID, "--http-method", "GET",
		"--patch-operations", "op=replace,path=/apiKeyRequired,value=false")
	wantResult(t, invoke(t, "GET", base+"/pets", ""), 403, "Forbidden")
	st := must[*apigateway.GetStageOutput](t)(c.APIGateway.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("prod")}))
	var dep struct {
		APISummary map[string]map[string]struct {
			APIKeyRequired bool `json:"apiKeyRequired"`
		} `json:"apiSummary"`
	}
	run(&dep, "apigateway", "get-deployment", "--rest-api-id", p.ID, "--deployment-id", aws.ToString(st.DeploymentId), "--embed", "apisummary")
	if !dep.APISummary["/pets"]["GET"].APIKeyRequired {
		t.Fatalf("apiSummary of the served deployment: %+v", dep.APISummary)
	}
	run(nil, "apigateway", "create-deployment", "--rest-api-id", p.ID, "--stage-name", "prod")
	wantResult(t, invoke(t, "GET", base+"/pets", ""), 200, "")
}

func cwDims(ds []cw.Dimension) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, d.Name+"="+d.Value)
	}
	return strings.Join(parts, ",")
}

func listedDims(sb *Sandbox, metric string) map[string]bool {
	out := map[string]bool{}
	for _, m := range sb.Metrics().ListMetrics(cw.MetricFilter{Namespace: "AWS/ApiGateway", MetricName: metric}) {
		out[cwDims(m.Dimensions)] = true
	}
	return out
}

func TestLedgerMetricDimensionsREST(t *testing.T) {
	w := newPetWorld(t)
	sb, p, base := w.sb, w.api, w.base
	invoke(t, "GET", base+"/pets/1", "")
	if got := listedDims(sb, "Count"); len(got) != 1 || !got["ApiName=pets,Stage=prod"] {
		t.Fatalf("without detailed metrics: %v", got)
	}
	updateStage(t, w.ag, p.ID, patch(agtypes.OpReplace, "/*/*/metrics/enabled", "true"))
	invoke(t, "GET", base+"/pets/1", "")
	if got := listedDims(sb, "Count"); len(got) != 2 || !got["ApiName=pets,Method=GET,Resource=/pets/{petId},Stage=prod"] {
		t.Fatalf("with detailed metrics: %v", got)
	}
}

func TestLedgerMetricApiNameASCII(t *testing.T) {
	ctx := context.Background()
	sb, c := startSandbox(t, Options{})
	ag := c.APIGateway
	for _, name := range []string{"café-api", "宠物"} {
		api := must[*apigateway.CreateRestApiOutput](t)(ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String(name)}))
		must[*apigateway.PutMethodOutput](t)(ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: api.RootResourceId,
			HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE")}))
		redeploy(t, ag, *api.Id, "prod")
		sb.SetBackend(*api.Id, &okBackend{})
		invoke(t, "GET", sb.InvokeURL(*api.Id, "prod")+"/", "")
		want := "caf-api"
		if name == "宠物" {
			want = *api.Id
		}
		if got := listedDims(sb, "Count"); !got["ApiName="+want+",Stage=prod"] {
			t.Fatalf("ApiName of %q: want %q, got %v", name, want, got)
		}
	}
}

func TestLedgerMetricDimensionsHTTP(t *testing.T) {
	ctx := context.Background()
	sb, c := startSandbox(t, Options{})
	v2 := c.APIGatewayV2
	api := sandboxtest.CreateHTTPAPI(t, v2, "items", "GET /items")
	must[*apigatewayv2.CreateStageOutput](t)(v2.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("prod"),
		DefaultRouteSettings: &v2types.RouteSettings{DetailedMetricsEnabled: aws.Bool(true)}}))
	sb.SetBackend(*api.ApiId, &okBackend{})
	invoke(t, "GET", sb.InvokeURL(*api.ApiId, "prod")+"/items", "")
	got := listedDims(sb, "Count")
	if len(got) != 2 || !got["ApiId="+*api.ApiId+",Stage=prod"] || !got["ApiId="+*api.ApiId+",Route=GET /items,Stage=prod"] {
		t.Fatalf("HTTP API dimensions: %v", got)
	}
	if m := listedDims(sb, "4xx"); len(m) != 2 {
		t.Fatalf("HTTP APIs name their error metrics 4xx/5xx: %v", m)
	}
}

func TestLedgerListMetricsTwoWeeks(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	sb, c := startSandbox(t, Options{Now: clock.Now})
	st := sb.Metrics()
	old := cw.Datum{MetricName: "Count", Dimensions: []cw.Dimension{{Name: "ApiName", Value: "old"}, {Name: "Stage", Value: "prod"}}, Timestamp: clock.Now().Add(-15 * 24 * time.Hour), Value: 1}
	recent := cw.Datum{MetricName: "Count", Dimensions: []cw.Dimension{{Name: "ApiName", Value: "recent"}, {Name: "Stage", Value: "prod"}}, Timestamp: clock.Now().Add(-13 * 24 * time.Hour), Value: 1}
	st.Put("AWS/ApiGateway", old)
	st.Put("AWS/ApiGateway", recent)
	out := must[*cloudwatch.ListMetricsOutput](t)(c.CloudWatch.ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/ApiGateway")}))
	var names []string
	for _, m := range out.Metrics {
		for _, d := range m.Dimensions {
			if aws.ToString(d.Name) == "ApiName" {
				names = append(names, aws.ToString(d.Value))
			}
		}
	}
	if len(names) != 1 || names[0] != "recent" {
		t.Fatalf("ListMetrics lists metrics with data in the past two weeks only: got %v", names)
	}
	// GetMetricData still returns the old metric's data.
	res := must[*cloudwatch.GetMetricDataOutput](t)(c.CloudWatch.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(clock.Now().Add(-16 * 24 * time.Hour)), EndTime: aws.Time(clock.Now()),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("q"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/ApiGateway"), MetricName: aws.String("Count"),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("ApiName"), Value: aws.String("old")}, {Name: aws.String("Stage"), Value: aws.String("prod")}}},
			Period: aws.Int32(86400), Stat: aws.String("Sum")}}}}))
	if len(res.MetricDataResults) != 1 || len(res.MetricDataResults[0].Values) != 1 {
		t.Fatalf("GetMetricData of an unlisted metric: %+v", res.MetricDataResults)
	}
}

func TestLedgerARNPartition(t *testing.T) {
	ctx := context.Background()
	_, c := sandboxtest.StartRegion(t, New(Options{Region: "cn-north-1"}), "cn-north-1")
	plan := must[*apigateway.CreateUsagePlanOutput](t)(c.APIGateway.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("p")}))
	if _, err := c.APIGateway.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: aws.String("arn:aws-cn:apigateway:cn-north-1::/usageplans/" + *plan.Id),
		Tags: map[string]string{"a": "b"}}); err != nil {
		t.Fatalf("aws-cn ARN in cn-north-1: %v", err)
	}
	_, err := c.APIGateway.GetTags(ctx, &apigateway.GetTagsInput{ResourceArn: aws.String("arn:aws:apigateway:cn-north-1::/usageplans/" + *plan.Id)})
	wantAPIError(t, err, "BadRequestException")
}

func TestLedgerInvokeURLPartition(t *testing.T) {
	ctx := context.Background()
	for region, suffix := range map[string]string{"cn-northwest-1": ".execute-api.cn-northwest-1.amazonaws.com.cn", "eu-west-1": ".execute-api.eu-west-1.amazonaws.com"} {
		_, c := sandboxtest.StartRegion(t, New(Options{Region: region}), region)
		api := must[*apigatewayv2.CreateApiOutput](t)(c.APIGatewayV2.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("x"), ProtocolType: v2types.ProtocolTypeHttp}))
		if got := aws.ToString(api.ApiEndpoint); got != "https://"+*api.ApiId+suffix {
			t.Fatalf("%s apiEndpoint: %s", region, got)
		}
	}
}

func TestLedgerAccountThrottleDefault(t *testing.T) {
	ctx := context.Background()
	for region, want := range map[string][2]float64{"us-east-1": {10000, 5000}, "af-south-1": {2500, 1250}, "eu-central-2": {2500, 1250}} {
		_, c := sandboxtest.StartRegion(t, New(Options{Region: region}), region)
		acc := must[*apigateway.GetAccountOutput](t)(c.APIGateway.GetAccount(ctx, &apigateway.GetAccountInput{}))
		if acc.ThrottleSettings == nil || acc.ThrottleSettings.RateLimit != want[0] || float64(acc.ThrottleSettings.BurstLimit) != want[1] {
			t.Fatalf("%s account throttle: %+v, want %v", region, acc.ThrottleSettings, want)
		}
	}
}

func TestLedgerHTTPAPIRouteThrottleKeys(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	sb, c := startSandbox(t, Options{ThrottleNow: clock.Now, Now: clock.Now})
	v2 := c.APIGatewayV2
	api := sandboxtest.CreateHTTPAPI(t, v2, "items", "GET /items", "POST /items")
	must[*apigatewayv2.CreateStageOutput](t)(v2.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("prod"),
		DefaultRouteSettings: &v2types.RouteSettings{ThrottlingRateLimit: aws.Float64(1), ThrottlingBurstLimit: aws.Int32(5)},
		RouteSettings:        map[string]v2types.RouteSettings{"GET /items": {ThrottlingRateLimit: aws.Float64(1), ThrottlingBurstLimit: aws.Int32(1)}}}))
	sb.SetBackend(*api.ApiId, &okBackend{})
	base := sb.InvokeURL(*api.ApiId, "prod")
	if got := statuses(t, base+"/items", "", 3); got[200] != 1 || got[429] != 2 {
		t.Fatalf("GET /items with route burst 1: %v", got)
	}
	got := map[int]int{}
	for i := 0; i < 6; i++ {
		got[invoke(t, "POST", base+"/items", "").status]++
	}
	if got[200] != 5 || got[429] != 1 {
		t.Fatalf("POST /items with default burst 5: %v", got)
	}
}

func TestLedgerDataPlaneErrors(t *testing.T) {
	w := newPetWorld(t)
	ag, clock, p, base := w.ag, w.clock, w.api, w.base
	wantResult(t, invoke(t, "DELETE", base+"/pets/1", ""), 403, "Missing Authentication Token")
	wantResult(t, invoke(t, "GET", base+"/pets", ""), 403, "Forbidden")
	// A key that exists but is in no plan of the stage is refused too.
	k := must[*apigateway.CreateApiKeyOutput](t)(ag.CreateApiKey(context.Background(), &apigateway.CreateApiKeyInput{Name: aws.String("loose"), Enabled: true}))
	wantResult(t, invoke(t, "GET", base+"/pets", *k.Value), 403, "Forbidden")
	key, _ := keyInPlan(t, ag, p.ID, &apigateway.CreateUsagePlanInput{Throttle: &agtypes.ThrottleSettings{RateLimit: 1, BurstLimit: 1},
		Quota: &agtypes.QuotaSettings{Limit: 1, Period: agtypes.QuotaPeriodTypeDay}})
	wantResult(t, invoke(t, "GET", base+"/pets", key), 200, "")
	wantResult(t, invoke(t, "GET", base+"/pets", key), 429, "Too Many Requests")
	clock.Advance(2 * time.Second)
	wantResult(t, invoke(t, "GET", base+"/pets", key), 429, "Limit Exceeded")
}

func TestLedgerPagination(t *testing.T) {
	ctx := context.Background()
	_, c := startSandbox(t, Options{})
	ag := c.APIGateway
	for i := 0; i < 3; i++ {
		must[*apigateway.CreateUsagePlanOutput](t)(ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String(fmt.Sprint("p", i))}))
	}
	page := must[*apigateway.GetUsagePlansOutput](t)(ag.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{Limit: aws.Int32(2)}))
	if len(page.Items) != 2 || aws.ToString(page.Position) == "" {
		t.Fatalf("first page: %d items, position %q", len(page.Items), aws.ToString(page.Position))
	}
	next := must[*apigateway.GetUsagePlansOutput](t)(ag.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{Limit: aws.Int32(2), Position: page.Position}))
	if len(next.Items) != 1 || aws.ToString(next.Position) != "" {
		t.Fatalf("last page: %d items, position %q", len(next.Items), aws.ToString(next.Position))
	}
	_, err := ag.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{Limit: aws.Int32(501)})
	wantAPIError(t, err, "BadRequestException")
}
