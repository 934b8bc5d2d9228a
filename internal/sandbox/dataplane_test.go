package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apictl/apictl/internal/sandbox/cw"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

type dpResult struct {
	status  int
	message string
	body    string
}

func invoke(t *testing.T, method, url, apiKey string) dpResult {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if apiKey != "" {
		req.Header.Set("x-api-key", apiKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(b, &m)
	return dpResult{status: resp.StatusCode, message: m.Message, body: string(b)}
}

func wantResult(t *testing.T, got dpResult, status int, message string) {
	t.Helper()
	if got.status != status || (message != "" && got.message != message) {
		t.Fatalf("got %d %q, want %d %q", got.status, got.body, status, message)
	}
}

// keyInPlan creates an enabled API key in a new usage plan on apiID:prod.
func keyInPlan(t testing.TB, ag *apigateway.Client, apiID string, in *apigateway.CreateUsagePlanInput) (keyValue, planID string) {
	t.Helper()
	ctx := context.Background()
	in.ApiStages = append(in.ApiStages, agtypes.ApiStage{ApiId: aws.String(apiID), Stage: aws.String("prod")})
	if in.Name == nil {
		in.Name = aws.String("plan")
	}
	plan := must[*apigateway.CreateUsagePlanOutput](t)(ag.CreateUsagePlan(ctx, in))
	key := must[*apigateway.CreateApiKeyOutput](t)(ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("k"), Enabled: true}))
	must[*apigateway.CreateUsagePlanKeyOutput](t)(ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: plan.Id, KeyId: key.Id, KeyType: aws.String("API_KEY")}))
	return *key.Value, *plan.Id
}

func TestDataPlaneRoutingKeysAndBackends(t *testing.T) {
	ctx := context.Background()
	w := newPetWorld(t)
	sb, ag, p, base := w.sb, w.ag, w.api, w.base
	sb.SetBackend(p.ID, nil)

	wantResult(t, invoke(t, "GET", sb.InvokeURL("nope", "prod")+"/pets", ""), 403, "Missing Authentication Token")
	wantResult(t, invoke(t, "GET", sb.InvokeURL(p.ID, "nostage")+"/pets", ""), 403, "Missing Authentication Token")
	wantResult(t, invoke(t, "POST", base+"/pets/7", ""), 403, "Missing Authentication Token") // only GET on /pets/{petId}
	wantResult(t, invoke(t, "GET", base+"/", ""), 500, "Internal server error")               // no backend

	def, petBE, userBE := &okBackend{}, &okBackend{}, &okBackend{}
	sb.SetBackend(p.ID, def)
	sb.SetMethodBackend(p.ID, "GET", "/pets/{petId}", petBE)
	sb.SetMethodBackend(p.ID, "GET", "/users/{userId}", userBE)
	wantResult(t, invoke(t, "GET", base+"/", ""), 200, "")
	wantResult(t, invoke(t, "GET", base+"/pets/7", ""), 200, "")
	wantResult(t, invoke(t, "GET", base+"/users/42", ""), 200, "")
	wantResult(t, invoke(t, "DELETE", base+"/a/b/c", ""), 200, "") // {proxy+} ANY
	wantResult(t, invoke(t, "POST", base+"/pets", ""), 200, "")
	if def.Calls() != 3 || petBE.Calls() != 1 || userBE.Calls() != 1 {
		t.Fatalf("backend calls: default %d, pet %d, user %d", def.Calls(), petBE.Calls(), userBE.Calls())
	}
	if petBE.paths[0] != "/pets/7" || def.paths[1] != "/a/b/c" {
		t.Fatalf("backend paths: %v %v", petBE.paths, def.paths)
	}

	// API keys on GET /pets.
	wantResult(t, invoke(t, "GET", base+"/pets", ""), 403, "Forbidden")
	wantResult(t, invoke(t, "GET", base+"/pets", "not-a-key-0123456789xyz"), 403, "Forbidden")
	loose := must[*apigateway.CreateApiKeyOutput](t)(ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("loose"), Enabled: true}))
	wantResult(t, invoke(t, "GET", base+"/pets", *loose.Value), 403, "Forbidden") // in no plan
	value, _ := keyInPlan(t, ag, p.ID, &apigateway.CreateUsagePlanInput{})
	wantResult(t, invoke(t, "GET", base+"/pets", value), 200, "")
	keys := must[*apigateway.GetApiKeysOutput](t)(ag.GetApiKeys(ctx, &apigateway.GetApiKeysInput{IncludeValues: aws.Bool(true)}))
	for _, k := range keys.Items {
		if *k.Value == value {
			must[*apigateway.UpdateApiKeyOutput](t)(ag.UpdateApiKey(ctx, &apigateway.UpdateApiKeyInput{ApiKey: k.Id,
				PatchOperations: []agtypes.PatchOperation{patch(agtypes.OpReplace, "/enabled", "false")}}))
		}
	}
	wantResult(t, invoke(t, "GET", base+"/pets", value), 403, "Forbidden") // disabled

	// HTTP_PROXY integration when no handler is set.
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, `{"path":"`+r.URL.Path+`"}`)
	}))
	defer upstream.Close()
	must[*apigateway.PutIntegrationOutput](t)(ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: aws.String(p.ID),
		ResourceId: aws.String(p.UserID), HttpMethod: aws.String("GET"), Type: agtypes.IntegrationTypeHttpProxy,
		IntegrationHttpMethod: aws.String("GET"), Uri: aws.String(upstream.URL + "/u/{userId}")}))
	sb.SetMethodBackend(p.ID, "GET", "/users/{userId}", nil)
	sb.SetBackend(p.ID, nil)
	redeploy(t, ag, p.ID, "prod") // the integration is served from the next deployment on
	got := invoke(t, "GET", base+"/users/42", "")
	if got.status != http.StatusTeapot || !strings.Contains(got.body, `"/u/42"`) {
		t.Fatalf("HTTP_PROXY: %d %s", got.status, got.body)
	}

	// Host-style URL.
	sb.SetBackend(p.ID, def)
	req, _ := http.NewRequest("GET", sb.URL()+"/prod/pets/9", nil)
	req.Host = p.ID + ".execute-api.localhost"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || petBE.Calls() != 2 {
		t.Fatalf("host-style: %d, pet backend %d calls", resp.StatusCode, petBE.Calls())
	}
}

func TestDataPlaneStageThrottling(t *testing.T) {
	ctx := context.Background()
	w := newPetWorld(t)
	ag, clock, p, be, base := w.ag, w.clock, w.api, w.be, w.base
	must[*apigateway.UpdateStageOutput](t)(ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("prod"),
		PatchOperations: []agtypes.PatchOperation{
			patch(agtypes.OpReplace, "/*/*/throttling/rateLimit", "1"),
			patch(agtypes.OpReplace, "/*/*/throttling/burstLimit", "3"),
			patch(agtypes.OpReplace, "/~1pets~1{petId}/GET/throttling/rateLimit", "2"),
			patch(agtypes.OpReplace, "/~1pets~1{petId}/GET/throttling/burstLimit", "1"),
		}}))

	count := func(path string, n int) (ok, throttled int) {
		for i := 0; i < n; i++ {
			r := invoke(t, "GET", base+path, "")
			switch {
			case r.status == 200:
				ok++
			case r.status == 429 && r.message == "Too Many Requests":
				throttled++
			default:
				t.Fatalf("GET %s: %d %s", path, r.status, r.body)
			}
		}
		return
	}
	// Stage default */*: burst 3 per method, no time passing.
	if ok, th := count("/", 5); ok != 3 || th != 2 {
		t.Fatalf("GET / with */* burst 3: %d ok, %d throttled", ok, th)
	}
	// Each method has its own bucket with the stage default limits.
	if ok, _ := count("/users/1", 4); ok != 3 {
		t.Fatalf("GET /users/{userId}: %d ok, want 3", ok)
	}
	// The per-method setting overrides the stage default.
	if ok, th := count("/pets/1", 3); ok != 1 || th != 2 {
		t.Fatalf("GET /pets/{petId} with burst 1: %d ok, %d throttled", ok, th)
	}
	clock.Advance(time.Second)
	if ok, _ := count("/pets/2", 5); ok != 1 { // rate 2/s but burst 1
		t.Fatalf("GET /pets/{petId} after 1 s: %d ok, want 1", ok)
	}
	if ok, _ := count("/", 5); ok != 1 { // rate 1/s
		t.Fatalf("GET / after 1 s: %d ok, want 1", ok)
	}
	if be.Calls() != 3+3+1+1+1 {
		t.Fatalf("throttled requests reached the backend: %d calls", be.Calls())
	}

	// Removing the method setting falls back to */*.
	must[*apigateway.UpdateStageOutput](t)(ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("prod"),
		PatchOperations: []agtypes.PatchOperation{patch(agtypes.OpRemove, "/~1pets~1{petId}/GET", "")}}))
	clock.Advance(10 * time.Second)
	if ok, _ := count("/pets/3", 5); ok != 3 {
		t.Fatalf("GET /pets/{petId} back on */*: %d ok, want 3", ok)
	}
}

func TestDataPlaneUsagePlanThrottleAndQuota(t *testing.T) {
	w := newPetWorld(t)
	ag, clock, p, base := w.ag, w.clock, w.api, w.base
	// A second key-protected method to check the per-method plan throttle
	// applies only to its method.
	ctx := context.Background()
	must[*apigateway.PutMethodOutput](t)(ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: aws.String(p.ID), ResourceId: aws.String(p.PetsID),
		HttpMethod: aws.String("PUT"), AuthorizationType: aws.String("NONE"), ApiKeyRequired: true}))
	redeploy(t, ag, p.ID, "prod")

	keyA, _ := keyInPlan(t, ag, p.ID, &apigateway.CreateUsagePlanInput{
		Throttle: &agtypes.ThrottleSettings{RateLimit: 1, BurstLimit: 2},
		Quota:    &agtypes.QuotaSettings{Limit: 6, Period: agtypes.QuotaPeriodTypeDay},
	})
	// Per-method throttle in the plan for GET /pets.
	plans := must[*apigateway.GetUsagePlansOutput](t)(ag.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{}))
	planID := *plans.Items[0].Id
	must[*apigateway.UpdateUsagePlanOutput](t)(ag.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: aws.String(planID),
		PatchOperations: []agtypes.PatchOperation{
			patch(agtypes.OpReplace, "/apiStages/"+p.ID+":prod/throttle/~1pets/GET/rateLimit", "1"),
			patch(agtypes.OpReplace, "/apiStages/"+p.ID+":prod/throttle/~1pets/GET/burstLimit", "4"),
		}}))
	// A second key in the same plan has its own buckets.
	k2 := must[*apigateway.CreateApiKeyOutput](t)(ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("k2"), Enabled: true}))
	must[*apigateway.CreateUsagePlanKeyOutput](t)(ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: aws.String(planID), KeyId: k2.Id, KeyType: aws.String("API_KEY")}))

	statuses := func(method, key string, n int) map[string]int {
		out := map[string]int{}
		for i := 0; i < n; i++ {
			r := invoke(t, method, base+"/pets", key)
			out[r.message]++
			if r.status == 200 {
				out["ok"]++
			}
		}
		return out
	}
	if got := statuses("GET", keyA, 6); got["ok"] != 4 || got["Too Many Requests"] != 2 {
		t.Fatalf("GET /pets with per-method plan burst 4: %v", got)
	}
	if got := statuses("PUT", keyA, 3); got["ok"] != 2 || got["Too Many Requests"] != 1 {
		t.Fatalf("PUT /pets with plan burst 2: %v", got)
	}
	if got := statuses("GET", *k2.Value, 5); got["ok"] != 4 {
		t.Fatalf("second key has its own bucket: %v", got)
	}
	// Quota of 6 per day: key A used 6 already.
	clock.Advance(time.Hour)
	if got := statuses("GET", keyA, 2); got["Limit Exceeded"] != 2 {
		t.Fatalf("quota: %v", got)
	}
	clock.Advance(24 * time.Hour)
	if got := statuses("GET", keyA, 1); got["ok"] != 1 {
		t.Fatalf("quota resets the next day: %v", got)
	}
}

func TestDataPlaneAccountThrottle(t *testing.T) {
	clock := newFakeClock()
	sb, c := startSandbox(t, Options{ThrottleNow: clock.Now, AccountThrottle: &RateLimit{Rate: 1, Burst: 2}})
	p := createPetAPI(t, c.APIGateway, "pets")
	sb.SetBackend(p.ID, &okBackend{})
	base := sb.InvokeURL(p.ID, "prod")
	wantResult(t, invoke(t, "GET", base+"/", ""), 200, "")
	wantResult(t, invoke(t, "GET", base+"/pets/1", ""), 200, "")
	wantResult(t, invoke(t, "GET", base+"/users/1", ""), 429, "Too Many Requests")
	clock.Advance(time.Second)
	wantResult(t, invoke(t, "GET", base+"/users/1", ""), 200, "")
}

func sumSeries(t *testing.T, st *cw.Store, metric string, dims []cw.Dimension, start time.Time) float64 {
	t.Helper()
	pts, err := st.Series(cw.Query{Namespace: "AWS/ApiGateway", MetricName: metric, Dimensions: dims, Stat: "Sum",
		Period: time.Hour, Start: start.Add(-time.Hour), End: start.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, p := range pts {
		total += p.Value
	}
	return total
}

func TestDataPlaneMetrics(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	now := clock.Now()
	sb, c := startSandbox(t, Options{ThrottleNow: clock.Now, Now: clock.Now})
	ag := c.APIGateway
	p := createPetAPI(t, ag, "pets")
	sb.SetBackend(p.ID, &okBackend{})
	sb.SetMethodBackend(p.ID, "GET", "/users/{userId}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	base := sb.InvokeURL(p.ID, "prod")
	must[*apigateway.UpdateStageOutput](t)(ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("prod"),
		PatchOperations: []agtypes.PatchOperation{
			patch(agtypes.OpReplace, "/~1pets~1{petId}/GET/metrics/enabled", "true"),
			patch(agtypes.OpReplace, "/~1pets~1{petId}/GET/throttling/burstLimit", "2"),
			patch(agtypes.OpReplace, "/~1pets~1{petId}/GET/throttling/rateLimit", "1"),
		}}))
	for i := 0; i < 5; i++ {
		invoke(t, "GET", base+"/pets/1", "") // 2 ok, 3 throttled
	}
	invoke(t, "GET", base+"/", "")        // ok
	invoke(t, "GET", base+"/users/1", "") // 503
	invoke(t, "GET", base+"/pets", "")    // 403, no key

	st := sb.Metrics()
	stage := []cw.Dimension{{Name: "ApiName", Value: "pets"}, {Name: "Stage", Value: "prod"}}
	detail := []cw.Dimension{{Name: "ApiName", Value: "pets"}, {Name: "Method", Value: "GET"}, {Name: "Resource", Value: "/pets/{petId}"}, {Name: "Stage", Value: "prod"}}
	checks := []struct {
		metric string
		dims   []cw.Dimension
		want   float64
	}{
		{"Count", stage, 8}, {"4XXError", stage, 4}, {"5XXError", stage, 1},
		{"Count", detail, 5}, {"4XXError", detail, 3}, {"5XXError", detail, 0},
	}
	for _, ck := range checks {
		if got := sumSeries(t, st, ck.metric, ck.dims, now); got != ck.want {
			t.Errorf("%s %v = %v, want %v", ck.metric, ck.dims, got, ck.want)
		}
	}
	// Latency for every request, IntegrationLatency only for backend calls.
	for metric, want := range map[string]float64{"Latency": 8, "IntegrationLatency": 4} {
		pts, err := st.Series(cw.Query{Namespace: "AWS/ApiGateway", MetricName: metric, Dimensions: stage, Stat: "SampleCount",
			Period: time.Hour, Start: now.Add(-time.Hour), End: now.Add(time.Hour)})
		if err != nil || len(pts) != 1 || pts[0].Value != want {
			t.Errorf("%s sample count: %v %v, want %v", metric, pts, err, want)
		}
	}
	// Detailed dimensions only where metrics are enabled.
	for _, m := range st.ListMetrics(cw.MetricFilter{Namespace: "AWS/ApiGateway", Dimensions: []cw.Dimension{{Name: "Resource"}}}) {
		for _, d := range m.Dimensions {
			if d.Name == "Resource" && d.Value != "/pets/{petId}" {
				t.Errorf("detailed metric for %s without metrics enabled", d.Value)
			}
		}
	}

	// Enabling */*/metrics/enabled adds detailed metrics for every method.
	must[*apigateway.UpdateStageOutput](t)(ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("prod"),
		PatchOperations: []agtypes.PatchOperation{patch(agtypes.OpReplace, "/*/*/metrics/enabled", "true")}}))
	invoke(t, "GET", base+"/", "")
	root := []cw.Dimension{{Name: "ApiName", Value: "pets"}, {Name: "Method", Value: "GET"}, {Name: "Resource", Value: "/"}, {Name: "Stage", Value: "prod"}}
	if got := sumSeries(t, st, "Count", root, now); got != 1 {
		t.Errorf("Count for / after */*/metrics/enabled = %v, want 1", got)
	}

	// Round trip through the CloudWatch API.
	cwDims := func(ds []cw.Dimension) []cwtypes.Dimension {
		var out []cwtypes.Dimension
		for _, d := range ds {
			out = append(out, cwtypes.Dimension{Name: aws.String(d.Name), Value: aws.String(d.Value)})
		}
		return out
	}
	out, err := c.CloudWatch.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now.Add(time.Hour)),
		MetricDataQueries: []cwtypes.MetricDataQuery{
			{Id: aws.String("count"), MetricStat: &cwtypes.MetricStat{Stat: aws.String("Sum"), Period: aws.Int32(60),
				Metric: &cwtypes.Metric{Namespace: aws.String("AWS/ApiGateway"), MetricName: aws.String("Count"), Dimensions: cwDims(stage)}}},
			{Id: aws.String("throttled"), MetricStat: &cwtypes.MetricStat{Stat: aws.String("Sum"), Period: aws.Int32(60),
				Metric: &cwtypes.Metric{Namespace: aws.String("AWS/ApiGateway"), MetricName: aws.String("4XXError"), Dimensions: cwDims(detail)}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]float64{}
	for _, r := range out.MetricDataResults {
		for _, v := range r.Values {
			sums[*r.Id] += v
		}
	}
	if sums["count"] != 9 || sums["throttled"] != 3 {
		t.Fatalf("GetMetricData: %v", sums)
	}
	if sb.Calls()["GetMetricData"] != 1 {
		t.Fatalf("CloudWatch calls are counted: %v", sb.Calls())
	}
}

func TestUpdateMethodAPIKeyRequired(t *testing.T) {
	ctx := context.Background()
	w := newPetWorld(t)
	ag, p, base := w.ag, w.api, w.base
	wantResult(t, invoke(t, "GET", base+"/pets/1", ""), 200, "")
	m, err := ag.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: aws.String(p.ID), ResourceId: aws.String(p.PetID), HttpMethod: aws.String("GET"),
		PatchOperations: []agtypes.PatchOperation{patch(agtypes.OpReplace, "/apiKeyRequired", "true")}})
	if err != nil || !*m.ApiKeyRequired {
		t.Fatalf("UpdateMethod: %+v %v", m, err)
	}
	// Not served until the API is deployed again.
	wantResult(t, invoke(t, "GET", base+"/pets/1", ""), 200, "")
	redeploy(t, ag, p.ID, "prod")
	wantResult(t, invoke(t, "GET", base+"/pets/1", ""), 403, "Forbidden")
	_, err = ag.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: aws.String(p.ID), ResourceId: aws.String(p.PetID), HttpMethod: aws.String("GET"),
		PatchOperations: []agtypes.PatchOperation{patch(agtypes.OpReplace, "/authorizationType", "MAGIC")}})
	wantAPIError(t, err, "BadRequestException")
}
