package loadtest

import (
	"context"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/sandbox"
	"github.com/apictl/apictl/internal/sandbox/backend"
)

// Capacity searches against in-process backends of known truth
// (internal/sandbox/backend), through the real engine. Each logs found
// against true figures and the attack time.

// sharedPool is 4 slots shared by GET /cart/profile/{userId} (20 ms alone:
// 200 rps) and POST /orders (60 ms alone: 66.7 rps); at the mix 75/25 it
// takes 4/(0.75·0.02+0.25·0.06) = 133 rps in all.
func sharedPool(t *testing.T) (*backend.SharedPool, Targets) {
	p := backend.NewSharedPool(backend.SharedPoolConfig{Slots: 4, Queue: 8, Routes: map[string]time.Duration{
		"GET /cart/profile/{userId}": 20 * time.Millisecond,
		"POST /orders":               60 * time.Millisecond,
	}})
	url := serve(t, p)
	return p, Targets{
		{Name: "GET /cart/profile/{userId}", Path: "/cart/profile/{userId}", Method: "GET", URL: url + "/cart/profile/42", Weight: 1},
		{Name: "POST /orders", Path: "/orders", Method: "POST", URL: url + "/orders", Weight: 1},
	}
}

func heavy(t *testing.T) {
	t.Helper()
	if raceEnabled && testing.Short() {
		t.Skip("heavy under -race; runs without -short")
	}
}

// parallelSearch marks a capacity search parallel. A search spends its
// time waiting on a backend of known truth (slots, buckets and queues on
// their own clocks) at a few hundred rps, a few percent of a core, against
// objectives of hundreds of milliseconds; go test runs at most -parallel
// (GOMAXPROCS) of them at once, and only after the package's sequential
// tests (the fixed-rate, memory and misbehaving-server tests, which want
// the machine to themselves: a server streaming a huge body saturates a
// core, and a neighbour's requests then miss their drain time) are over.
func parallelSearch(t *testing.T) {
	t.Helper()
	t.Parallel()
}

func quickSearch() SearchConfig {
	return SearchConfig{StartRate: 20, StepDuration: 2 * time.Second, Precision: 0.08, Budget: 30 * time.Second, CoolDown: 500 * time.Millisecond}
}

func TestSharedPoolAtMix(t *testing.T) {
	heavy(t)
	parallelSearch(t)
	pool, ts := sharedPool(t)
	mix, _, err := ParseMix([]byte(`{"api":"cart","stage":"prod","methods":[
		{"resource":"/cart/profile/{userId}","method":"GET","count":300},
		{"resource":"/orders","method":"POST","count":100}]}`), "m.json")
	if err != nil {
		t.Fatal(err)
	}
	ts, _, err = ApplyMix(ts, mix, "m.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg := quickSearch()
	cfg.MixSource = "measure:m.json"
	start := time.Now()
	c, err := Search(context.Background(), ts, cfg, Options{Objectives: mustObjectives(t, "p99<300ms")})
	if err != nil {
		t.Fatal(err)
	}
	logSteps(t, c)
	truth := pool.CapacityAt(map[string]float64{"GET /cart/profile/{userId}": 0.75, "POST /orders": 0.25})
	t.Logf("shared pool at mix 75/25: found %.0f rps, true %.1f, search %s", c.SustainableRPS, truth, time.Since(start).Round(time.Second))
	if !c.Pass || c.SustainableRPS > truth*1.1 || c.SustainableRPS < truth*0.8 {
		t.Fatalf("found %v at the mix, want within -20%%/+10%% of the pool's %v", c.SustainableRPS, truth)
	}
	if c.Mix == nil || c.Mix.Source != "measure:m.json" || len(c.Methods) != 2 {
		t.Fatalf("mix %+v methods %d", c.Mix, len(c.Methods))
	}
	var sum float64
	for _, m := range c.Methods {
		sum += m.SustainableRPS
		if m.MaxInFlight < 1 {
			t.Errorf("%s: max in flight %d", m.Name, m.MaxInFlight)
		}
	}
	if sum > c.SustainableRPS || math.Abs(c.Methods[0].Share-0.75) > 0.01 {
		t.Errorf("allocations sum %v over aggregate %v, shares %v", sum, c.SustainableRPS, c.Methods[0].Share)
	}
	if c.MaxInFlight < 1 {
		t.Errorf("max in flight %d", c.MaxInFlight)
	}
}

func TestSharedPoolPerMethodDetectsSharing(t *testing.T) {
	heavy(t)
	parallelSearch(t)
	pool, ts := sharedPool(t)
	start := time.Now()
	cfg := quickSearch()
	cfg.Precision, cfg.Budget = 0.1, 12*time.Second
	c, err := SearchPerMethod(context.Background(), ts, cfg, Options{Objectives: mustObjectives(t, "p99<300ms")})
	if err != nil {
		t.Fatal(err)
	}
	logSteps(t, c)
	if !c.SharedBackend || !c.Pass {
		t.Fatalf("shared %v pass %v (%s): the isolated rates should fail together", c.SharedBackend, c.Pass, c.Reason)
	}
	mix := map[string]float64{}
	var sum float64
	for _, m := range c.Methods {
		mix[m.Name] = m.Share
		sum += m.SustainableRPS
		t.Logf("%s: alone %.0f (true %.0f), allocation %.1f", m.Name, m.IsolatedRPS, pool.Capacity(m.Name), m.SustainableRPS)
	}
	truth := pool.CapacityAt(mix)
	t.Logf("per-method on a shared pool: allocations sum %.1f, pool at the found mix %.1f, search %s", sum, truth, time.Since(start).Round(time.Second))
	if sum > truth*1.1 || sum < truth*0.7 {
		t.Fatalf("allocations sum %v, want within the pool's %v at the mix (+10%% measuring margin)", sum, truth)
	}
}

// TestDeepQueueFound: a backend that never rejects, whose queue only makes
// latency grow, is found within 10% of its capacity.
func TestDeepQueueFound(t *testing.T) {
	heavy(t)
	parallelSearch(t)
	q := backend.NewDeepQueue(backend.DeepQueueConfig{Slots: 4, Service: 40 * time.Millisecond}) // 100 rps
	url := serve(t, q)
	cfg := quickSearch()
	cfg.StepDuration = 3 * time.Second
	cfg.Budget = 25 * time.Second
	start := time.Now()
	c, err := Search(context.Background(), target(url), cfg, Options{Objectives: mustObjectives(t, "p99<300ms")})
	if err != nil {
		t.Fatal(err)
	}
	logSteps(t, c)
	t.Logf("deep queue: found %.0f rps, true %.0f, search %s", c.SustainableRPS, q.Capacity(), time.Since(start).Round(time.Second))
	if st := q.Stats(); st.Rejected != 0 {
		t.Fatalf("the deep queue rejected %d", st.Rejected)
	}
	if !within(c.SustainableRPS, q.Capacity(), 0.1) {
		t.Fatalf("found %v, want %v ±10%%", c.SustainableRPS, q.Capacity())
	}
}

// TestBurstBucketConfirmed: a bucket holding 6 s of the excess at twice
// the sustained rate, three 2 s steps' worth, so the search's short steps
// overstate the backend; with --confirm 20s the held rate is the sustained
// one ±10%.
func TestBurstBucketConfirmed(t *testing.T) {
	if testing.Short() {
		t.Skip("a 20 s confirm hold; runs without -short")
	}
	parallelSearch(t)
	b := backend.NewBurstBucket(backend.BurstBucketConfig{Rate: 100, Bucket: 600, Service: 2 * time.Millisecond, MaxWait: 100 * time.Millisecond})
	url := serve(t, b)
	cfg := quickSearch()
	cfg.Budget = 12 * time.Second
	cfg.Confirm = 20 * time.Second
	start := time.Now()
	c, err := Search(context.Background(), target(url), cfg, Options{Objectives: mustObjectives(t, "p99<300ms")})
	if err != nil {
		t.Fatal(err)
	}
	logSteps(t, c)
	t.Logf("burst bucket: found %.0f rps (confirmed %v), true sustained %.0f, search+holds %s", c.SustainableRPS, c.Confirmed, b.Capacity(), time.Since(start).Round(time.Second))
	if !c.Confirmed || !within(c.SustainableRPS, b.Capacity(), 0.1) {
		t.Fatalf("found %v confirmed %v (%s), want %v ±10%% confirmed", c.SustainableRPS, c.Confirmed, c.Reason, b.Capacity())
	}
}

// TestGatewayThrottleIsNotBackendCapacity: a stage whose POST /orders is
// throttled at 100 rps in front of a backend that takes 150. The search
// reports it gateway-limited at the throttle (the backend takes at least
// that), the same way twice, through the real SDK against the sandbox.
func TestGatewayThrottleIsNotBackendCapacity(t *testing.T) {
	heavy(t)
	parallelSearch(t)
	ctx := context.Background()
	ag, endpoint, be := ordersStage(t, 100)
	ts, apiID, err := DiscoverTargets(ctx, ag, DiscoverOptions{API: "orders", Stage: "prod", InvokeURL: LocalInvokeURL(endpoint, "prod")})
	if err != nil {
		t.Fatal(err)
	}
	limits, err := ReadGatewayLimits(ctx, ag, apiID, "prod", "", ts)
	if err != nil {
		t.Fatal(err)
	}
	if th := limits.tightest("POST /orders"); th == nil || th.Rate != 100 || th.Source != "stage prod POST /orders" {
		t.Fatalf("live throttle %+v, want 100 rps from stage prod POST /orders", th)
	}
	var answers []float64
	for run := range 2 {
		cfg := quickSearch()
		cfg.Gateway = limits
		start := time.Now()
		c, err := Search(ctx, ts, cfg, Options{Objectives: mustObjectives(t, "p99<300ms")})
		if err != nil {
			t.Fatal(err)
		}
		logSteps(t, c)
		t.Logf("run %d: found %.0f rps limited by %q (%+v), backend true capacity %.0f, search %s",
			run+1, c.SustainableRPS, c.LimitedBy, c.GatewayThrottle, be.Capacity(), time.Since(start).Round(time.Second))
		if c.LimitedBy != "gateway-throttle" || c.GatewayThrottle == nil || c.GatewayThrottle.Rate != 100 {
			t.Fatalf("run %d: limited by %q throttle %+v, want the gateway's 100 rps", run+1, c.LimitedBy, c.GatewayThrottle)
		}
		if c.SustainableRPS < 100 || !hasWarning(c, "at least") {
			t.Fatalf("run %d: sustainable %v, want at least the throttle's 100 (warnings %q)", run+1, c.SustainableRPS, c.Warnings)
		}
		answers = append(answers, c.SustainableRPS)
		time.Sleep(time.Second) // let the stage's bucket refill
	}
	if answers[0] != answers[1] {
		t.Fatalf("two runs gave %v and %v, want the same answer", answers[0], answers[1])
	}
}

// ordersStage starts a sandbox with a REST API "orders" whose stage prod
// has POST /orders throttled at throttle rps (burst 20) in front of a
// 150 rps backend.
func ordersStage(t *testing.T, throttle int) (*apigateway.Client, string, *backend.Backend) {
	t.Helper()
	ctx := context.Background()
	sb := sandbox.New(sandbox.Options{})
	endpoint, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	clients, err := awsapi.NewClients(ctx, awsapi.Settings{Region: "us-east-1", EndpointURL: endpoint, StaticCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	ag := clients.APIGateway
	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id})
	if err != nil {
		t.Fatal(err)
	}
	r, err := ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: res.Items[0].Id, PathPart: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: r.Id, HttpMethod: aws.String("POST"), AuthorizationType: aws.String("NONE")}); err != nil {
		t.Fatal(err)
	}
	be := backend.New(backend.Config{Slots: 3, Service: 20 * time.Millisecond, Queue: 24}) // 150 rps
	sb.SetMethodBackend(aws.ToString(api.Id), "POST", "/orders", be)
	dep, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ag.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: api.Id, StageName: aws.String("prod"), DeploymentId: dep.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: api.Id, StageName: aws.String("prod"), PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/~1orders/POST/throttling/rateLimit"), Value: aws.String(strconv.Itoa(throttle))},
		{Op: agtypes.OpReplace, Path: aws.String("/~1orders/POST/throttling/burstLimit"), Value: aws.String("20")},
	}}); err != nil {
		t.Fatal(err)
	}
	return ag, endpoint, be
}

// TestReadGatewayLimitsUsagePlan: the usage plan of the load test's key
// (found by its value) adds its per-method throttle; the stage's */*
// default applies to a method without its own setting.
func TestReadGatewayLimitsUsagePlan(t *testing.T) {
	ctx := context.Background()
	ag, endpoint, _ := ordersStage(t, 100)
	ts, apiID, err := DiscoverTargets(ctx, ag, DiscoverOptions{API: "orders", Stage: "prod", InvokeURL: LocalInvokeURL(endpoint, "prod")})
	if err != nil {
		t.Fatal(err)
	}
	up, err := ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("Gold"),
		Throttle:  &agtypes.ThrottleSettings{RateLimit: 500, BurstLimit: 100},
		ApiStages: []agtypes.ApiStage{{ApiId: aws.String(apiID), Stage: aws.String("prod"), Throttle: map[string]agtypes.ThrottleSettings{"/orders/POST": {RateLimit: 60, BurstLimit: 10}}}}})
	if err != nil {
		t.Fatal(err)
	}
	key, err := ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("lt"), Enabled: true, Value: aws.String("load-test-key-value-0123456789")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: up.Id, KeyId: key.Id, KeyType: aws.String("API_KEY")}); err != nil {
		t.Fatal(err)
	}
	limits, err := ReadGatewayLimits(ctx, ag, apiID, "prod", "load-test-key-value-0123456789", ts)
	if err != nil {
		t.Fatal(err)
	}
	th := limits.tightest("POST /orders")
	if th == nil || th.Rate != 60 || th.Burst != 10 || th.Source != "usage plan Gold POST /orders" || len(limits["POST /orders"]) != 2 {
		t.Fatalf("limits %+v, want the stage's 100 and the plan's 60 (tightest)", limits)
	}
	none, err := ReadGatewayLimits(ctx, ag, apiID, "prod", "some-other-key-value-000000000", ts)
	if err != nil || len(none["POST /orders"]) != 1 {
		t.Fatalf("unknown key: %+v %v, want the stage throttle only", none, err)
	}
}

func mustObjectives(t *testing.T, slo ...string) Objectives {
	t.Helper()
	o, err := ParseObjectives(slo)
	if err != nil {
		t.Fatal(err)
	}
	return o.WithDefaults()
}
