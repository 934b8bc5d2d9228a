package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apictl/apictl/internal/sandbox"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

type fixture struct {
	sb     *sandbox.Sandbox
	c      Client
	rest   *apigateway.Client
	apiID  string
	region string
}

// newFixture starts a sandbox with REST API cart-api (GET /, GET
// /cart/profile/{userId}, POST /orders) deployed to stage prod, and clients
// that do not retry by themselves (Apply's own retries are under test).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	if _, err := sb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return fixtureOn(t, sb)
}

// setupCartAPI creates REST API cart-api (GET /, GET /cart/profile/{userId},
// POST /orders) deployed to stage prod and returns its id.
func setupCartAPI(t *testing.T, ag *apigateway.Client) string {
	t.Helper()
	ctx := context.Background()
	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("cart-api")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(api.Id)
	res, err := ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: &id})
	if err != nil {
		t.Fatal(err)
	}
	root := aws.ToString(res.Items[0].Id)
	mk := func(parent, part string) string {
		r, err := ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: &id, ParentId: &parent, PathPart: &part})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(r.Id)
	}
	method := func(res, verb string, keyRequired bool) {
		if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: &id, ResourceId: &res, HttpMethod: &verb, AuthorizationType: aws.String("NONE"), ApiKeyRequired: keyRequired}); err != nil {
			t.Fatal(err)
		}
		if _, err := ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: &id, ResourceId: &res, HttpMethod: &verb, Type: types.IntegrationTypeMock}); err != nil {
			t.Fatal(err)
		}
	}
	method(root, "GET", false)
	method(mk(mk(mk(root, "cart"), "profile"), "{userId}"), "GET", true)
	method(mk(root, "orders"), "POST", false)
	if _, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	return id
}

func fastApply() ApplyOptions {
	return ApplyOptions{Getenv: env, RetryBase: time.Millisecond, RetryMax: 10 * time.Millisecond}
}

func mutating(calls map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range calls {
		if strings.HasPrefix(op, "Create") || strings.HasPrefix(op, "Update") || strings.HasPrefix(op, "Delete") || strings.HasPrefix(op, "Tag") || strings.HasPrefix(op, "Untag") || strings.Contains(op, ":Update") || strings.Contains(op, ":Delete") {
			out[op] = n
		}
	}
	return out
}

func (f *fixture) apply(t *testing.T, p *Plan, dopts DiffOptions, aopts ApplyOptions) (*Changes, *Result, error) {
	t.Helper()
	ctx := context.Background()
	if dopts.Getenv == nil {
		dopts.Getenv = env
	}
	ch, err := Diff(ctx, f.c, p, dopts)
	if err != nil {
		return nil, nil, err
	}
	res, err := Apply(ctx, f.c, ch, aopts)
	return ch, res, err
}

func (f *fixture) mustBeConverged(t *testing.T, p *Plan) {
	t.Helper()
	f.sb.ResetCalls()
	ch, res, err := f.apply(t, p, DiffOptions{}, fastApply())
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Empty() {
		t.Fatalf("re-apply has changes:\n%s", ch.Text())
	}
	if m := mutating(f.sb.Calls()); len(m) != 0 || len(res.Calls) != 0 {
		t.Fatalf("re-apply made mutating calls: sandbox %v, apply %v", m, res.Calls)
	}
}

func TestApplyThenReapplyMakesNoMutatingCalls(t *testing.T) {
	f := newFixture(t)
	p := goodPlan(t)
	ch, res, err := f.apply(t, p, DiffOptions{}, fastApply())
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + ch.Text())
	want := map[string]int{"UpdateStage": 1, "CreateApiKey": 2, "CreateUsagePlan": 2, "CreateUsagePlanKey": 2}
	if got := mutating(f.sb.Calls()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("mutating calls = %v, want %v", got, want)
	}
	if fmt.Sprint(res.Calls) != fmt.Sprint(want) {
		t.Errorf("result calls = %v", res.Calls)
	}
	f.mustBeConverged(t, p)

	// The key value came from the environment.
	k, err := f.rest.GetApiKeys(context.Background(), &apigateway.GetApiKeysInput{NameQuery: aws.String("alice"), IncludeValues: aws.Bool(true)})
	if err != nil || len(k.Items) != 1 || aws.ToString(k.Items[0].Value) != env("ALICE_KEY") || k.Items[0].Tags[ManagedTag] != "true" {
		t.Fatalf("alice = %+v, %v", k, err)
	}

	// One method throttle changed: exactly one UpdateStage, nothing else.
	*p.Stage.Methods[0].Throttle.Rate = 41
	f.sb.ResetCalls()
	if _, _, err := f.apply(t, p, DiffOptions{}, fastApply()); err != nil {
		t.Fatal(err)
	}
	if got := mutating(f.sb.Calls()); fmt.Sprint(got) != "map[UpdateStage:1]" {
		t.Errorf("after one method change, mutating calls = %v", got)
	}
	f.mustBeConverged(t, p)

	// A changed plan: one UpdateUsagePlan with every operation.
	p.UsagePlans[0].Description = "Gold, revised"
	*p.UsagePlans[0].Throttle.Rate = 60
	*p.UsagePlans[0].Methods[0].Rate = 25
	*p.UsagePlans[0].Quota.Limit = 5000
	f.sb.ResetCalls()
	if _, _, err := f.apply(t, p, DiffOptions{}, fastApply()); err != nil {
		t.Fatal(err)
	}
	if got := mutating(f.sb.Calls()); fmt.Sprint(got) != "map[UpdateUsagePlan:1]" {
		t.Errorf("after plan change, mutating calls = %v", got)
	}
	f.mustBeConverged(t, p)

	// The env value changes: the key is replaced and rejoins its plan.
	env2 := func(k string) string { return "a-brand-new-value-for-alice-42" }
	ch, _, err = f.apply(t, p, DiffOptions{Getenv: env2}, ApplyOptions{Getenv: env2})
	if err != nil {
		t.Fatal(err)
	}
	if ch.APIKeys[0].Action != ActionReplace || strings.Contains(ch.Text(), "a-brand-new") {
		t.Errorf("replace:\n%s", ch.Text())
	}
	ch, err = Diff(context.Background(), f.c, p, DiffOptions{Getenv: env2})
	if err != nil || !ch.Empty() {
		t.Fatalf("after replace: %v\n%v", err, ch)
	}
}

func TestApplyManyKeysAndPlans(t *testing.T) {
	f := newFixture(t)
	var b strings.Builder
	b.WriteString("apiVersion: apictl/v1\nkind: Plan\napi: cart-api\nstages: [prod]\nstage:\n  throttle: {rate: 200, burst: 100}\nusagePlans:\n")
	for i, tier := range []string{"bronze", "silver", "gold"} {
		fmt.Fprintf(&b, "  - name: %s\n    throttle: {rate: %d, burst: %d}\n    quota: {limit: %d, period: DAY}\n    methods:\n      POST /orders: {rate: %d, burst: 1}\n    keys: [", tier, 10*(i+1), 5*(i+1), 1000*(i+1), i+1)
		for k := i; k < 50; k += 3 {
			if k > i {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "key%02d", k)
		}
		b.WriteString("]\n")
	}
	b.WriteString("apiKeys:\n")
	for k := range 50 {
		fmt.Fprintf(&b, "  - {name: key%02d, customerId: c%d}\n", k, k)
	}
	p, err := Check("many.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	ch, _, err := f.apply(t, p, DiffOptions{}, fastApply())
	if err != nil {
		t.Fatal(err)
	}
	if ch.Summary.Create != 3+50+50 {
		t.Errorf("summary = %+v", ch.Summary)
	}
	if got := mutating(f.sb.Calls()); got["CreateApiKey"] != 50 || got["CreateUsagePlanKey"] != 50 || got["CreateUsagePlan"] != 3 {
		t.Errorf("calls = %v", got)
	}
	f.mustBeConverged(t, p)

	// Move a key between plans: removed from one, added to the other.
	p.UsagePlans[0].Keys = p.UsagePlans[0].Keys[1:] // key00 leaves bronze
	p.UsagePlans[1].Keys = append(p.UsagePlans[1].Keys, "key00")
	f.sb.ResetCalls()
	if _, _, err := f.apply(t, p, DiffOptions{}, fastApply()); err != nil {
		t.Fatal(err)
	}
	if got := mutating(f.sb.Calls()); fmt.Sprint(got) != "map[CreateUsagePlanKey:1 DeleteUsagePlanKey:1]" {
		t.Errorf("key move calls = %v", got)
	}
	f.mustBeConverged(t, p)
}

func TestApplyRetriesTooManyRequests(t *testing.T) {
	f := newFixture(t)
	p := goodPlan(t)
	f.sb.InjectErrors("UpdateStage", 1, 429, "TooManyRequestsException")
	f.sb.InjectErrors("CreateApiKey", 2, 429, "TooManyRequestsException")
	// A conflict about a concurrent modification is transient.
	f.sb.InjectErrorMessage("CreateUsagePlanKey", 1, 409, "ConflictException", "Unable to complete operation due to concurrent modification. Please try again later.")
	var sleeps []time.Duration
	opts := fastApply()
	opts.Sleep = func(ctx context.Context, d time.Duration) error { sleeps = append(sleeps, d); return nil }
	_, res, err := f.apply(t, p, DiffOptions{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Calls["CreateApiKey"] != 4 || res.Calls["UpdateStage"] != 2 || res.Calls["CreateUsagePlanKey"] != 3 {
		t.Errorf("calls = %v", res.Calls)
	}
	// 429s carry Retry-After: 1 and are honoured; the 409 backs off.
	if len(sleeps) != 4 || sleeps[0] != time.Second {
		t.Errorf("sleeps = %v", sleeps)
	}
	f.mustBeConverged(t, p)
}

// TestLedgerPermanentConflictFailsInOneCall: a ConflictException that no
// retry can fix fails at the first answer, with a hint.
func TestLedgerPermanentConflictFailsInOneCall(t *testing.T) {
	f := newFixture(t)
	p := goodPlan(t)
	f.sb.InjectErrorMessage("CreateUsagePlanKey", 1, 409, "ConflictException",
		"Usage Plan x cannot be added because API Key k cannot reference multiple Usage Plans with the same API Stage: a:prod")
	opts := fastApply()
	var sleeps int
	opts.Sleep = func(context.Context, time.Duration) error { sleeps++; return nil }
	_, res, err := f.apply(t, p, DiffOptions{}, opts)
	var ce *ConflictError
	if !errors.As(err, &ce) || !strings.Contains(ce.Hint(), "one usage plan per API stage") {
		t.Fatalf("want a ConflictError with a hint, got %v", err)
	}
	if res.Calls["CreateUsagePlanKey"] != 1 || sleeps != 0 {
		t.Errorf("CreateUsagePlanKey calls = %d, sleeps = %d; want 1 call, no backoff", res.Calls["CreateUsagePlanKey"], sleeps)
	}
}

func TestApplyRetriesExhaustedThenConverges(t *testing.T) {
	f := newFixture(t)
	p := goodPlan(t)
	f.sb.InjectErrors("CreateUsagePlanKey", 5, 429, "TooManyRequestsException")
	opts := fastApply()
	opts.MaxAttempts = 3
	opts.Sleep = func(context.Context, time.Duration) error { return nil }
	_, res, err := f.apply(t, p, DiffOptions{}, opts)
	if err == nil || !strings.Contains(err.Error(), "TooManyRequests") || res.Calls["CreateUsagePlanKey"] != 3 {
		t.Fatalf("want failure after 3 attempts, got %v (calls %v)", err, res.Calls)
	}
	// Two injected errors remain: the re-run retries through them.
	ch, _, err := f.apply(t, p, DiffOptions{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.PlanKeys) != 2 || ch.Summary.Create != 2 || ch.Summary.Update != 0 {
		t.Errorf("re-run should only add the two keys to their plans:\n%s", ch.Text())
	}
	f.mustBeConverged(t, p)
}

func TestApplyFailureMidwayConverges(t *testing.T) {
	f := newFixture(t)
	p := goodPlan(t)
	// The second usage plan creation fails hard (a non-retryable error).
	orig := f.c.REST
	f.c.REST = &failNth{RESTAPI: orig, op: "CreateUsagePlan", n: 2}
	_, res, err := f.apply(t, p, DiffOptions{}, fastApply())
	if err == nil || !strings.Contains(err.Error(), `create usage plan "free"`) {
		t.Fatalf("want failure on the second plan, got %v", err)
	}
	if len(res.Done) == 0 {
		t.Fatal("nothing was applied before the failure")
	}
	f.c.REST = orig
	ch, _, err := f.apply(t, p, DiffOptions{}, fastApply())
	if err != nil {
		t.Fatal(err)
	}
	// Left: plan free and both memberships (they come after plan creation).
	if ch.Summary.Create != 3 || ch.Summary.Update != 0 || len(ch.APIKeys) != 0 || len(ch.Stages) != 0 {
		t.Errorf("re-run changes:\n%s", ch.Text())
	}
	f.mustBeConverged(t, p)
}

// failNth fails the nth call of op with a non-retryable error.
type failNth struct {
	RESTAPI
	op    string
	n     int
	count atomic.Int32
}

func (f *failNth) CreateUsagePlan(ctx context.Context, in *apigateway.CreateUsagePlanInput, o ...func(*apigateway.Options)) (*apigateway.CreateUsagePlanOutput, error) {
	if f.op == "CreateUsagePlan" && int(f.count.Add(1)) == f.n {
		return nil, errors.New("connection reset by peer")
	}
	return f.RESTAPI.CreateUsagePlan(ctx, in, o...)
}

func TestApplyOwnershipAndPrune(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.rest.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("free")}); err != nil {
		t.Fatal(err)
	}
	p := goodPlan(t)
	_, _, err := f.apply(t, p, DiffOptions{}, fastApply())
	var le *LiveError
	if !errors.As(err, &le) || !strings.Contains(le.Msg, `usage plan "free"`) || !strings.Contains(le.Fix, "tag-resource") {
		t.Fatalf("want ownership error, got %v", err)
	}
	if m := mutating(f.sb.Calls()); len(m) != 1 { // only the setup's CreateUsagePlan
		t.Errorf("calls after refusal = %v", m)
	}
	// Rename the plan in the file: now it applies; then drop it and prune.
	p.UsagePlans[1].Name = "free-tier"
	if _, _, err := f.apply(t, p, DiffOptions{}, fastApply()); err != nil {
		t.Fatal(err)
	}
	p.UsagePlans = p.UsagePlans[:1]
	p.APIKeys = p.APIKeys[:1]
	ch, err := Diff(ctx, f.c, p, DiffOptions{Getenv: env})
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Empty() || len(ch.Unpruned) != 2 {
		t.Fatalf("without --prune: %v\n%s", ch.Unpruned, ch.Text())
	}
	f.sb.ResetCalls()
	ch, _, err = f.apply(t, p, DiffOptions{Prune: true}, fastApply())
	if err != nil {
		t.Fatal(err)
	}
	got := mutating(f.sb.Calls())
	if fmt.Sprint(got) != "map[DeleteApiKey:1 DeleteUsagePlan:1 DeleteUsagePlanKey:1 UpdateUsagePlan:1]" {
		t.Errorf("prune calls = %v\n%s", got, ch.Text())
	}
	out, _ := f.rest.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{})
	names := []string{}
	for _, u := range out.Items {
		names = append(names, aws.ToString(u.Name))
	}
	if fmt.Sprint(names) != "[free gold]" {
		t.Errorf("plans left = %v (the unmanaged one must stay)", names)
	}
	f.mustBeConverged(t, p)
}

func TestApplyUnknownMethodAndStage(t *testing.T) {
	f := newFixture(t)
	p := goodPlan(t)
	p.Stages = []string{"prod", "staging"}
	_, err := Diff(context.Background(), f.c, p, DiffOptions{Getenv: env})
	var le *LiveError
	if !errors.As(err, &le) || !strings.Contains(le.Msg, `stage "staging"`) || !strings.Contains(le.Fix, "existing stages: prod") {
		t.Fatalf("err = %v", err)
	}
	p = goodPlan(t)
	p.Stage.Methods[0].Key = "GET /cart/profile"
	_, err = Diff(context.Background(), f.c, p, DiffOptions{Getenv: env})
	if !errors.As(err, &le) || !strings.Contains(le.Msg, `no method "GET /cart/profile"`) || !strings.Contains(le.Fix, "GET /cart/profile/{userId}") {
		t.Fatalf("err = %v", err)
	}
}

func TestSecretsNeverInOutput(t *testing.T) {
	f := newFixture(t)
	p := goodPlan(t)
	ch, res, err := f.apply(t, p, DiffOptions{}, fastApply())
	if err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	all.WriteString(ch.Text())
	j, _ := json.Marshal(struct {
		C *Changes
		R *Result
	}{ch, res})
	all.Write(j)
	bobValue := ""
	for _, k := range res.CreatedKeys {
		if k.Name == "bob" {
			bobValue = k.Value()
		}
	}
	if bobValue == "" || env("ALICE_KEY") == "" {
		t.Fatal("no values to look for")
	}
	for _, v := range []string{bobValue, env("ALICE_KEY")} {
		if strings.Contains(all.String(), v) {
			t.Errorf("output contains a key value")
		}
	}
}

// TestGenerateApplyEnforced: a generated plan applied to the sandbox makes
// its data plane answer 429 above the planned rate.
func TestGenerateApplyEnforced(t *testing.T) {
	f := newFixture(t)
	var served atomic.Int64
	f.sb.SetBackend(f.apiID, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.WriteHeader(200)
	}))
	lt := &LoadtestResult{SustainableRPS: 50, Methods: []LoadtestMethod{{Name: "POST /orders", SustainableRPS: 25}}}
	p, y, err := Generate(GenerateInput{API: "cart-api", Stage: "prod", Loadtest: lt})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.apply(t, p, DiffOptions{}, fastApply()); err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	// POST /orders: rate 20, burst 10. 100 requests from 8 workers: about
	// burst + rate × elapsed pass, the rest get 429.
	url := f.sb.InvokeURL(f.apiID, "prod") + "/orders"
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	jobs := make(chan struct{}, 100)
	for range 100 {
		jobs <- struct{}{}
	}
	close(jobs)
	start := time.Now()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				resp, err := http.Post(url, "application/json", strings.NewReader("{}"))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				codes[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	maxOK := 10 + int(math.Ceil(20*elapsed)) + 1
	if codes[200] < 10 || codes[200] > maxOK || codes[200]+codes[429] != 100 {
		t.Errorf("status codes = %v in %.2fs; want 10..%d successes (rate 20, burst 10), the rest 429", codes, elapsed, maxOK)
	}
	if elapsed < 3 && codes[429] == 0 {
		t.Errorf("no 429 in %.2fs above the planned rate", elapsed)
	}
	if int(served.Load()) != codes[200] {
		t.Errorf("backend served %d, 200s %d", served.Load(), codes[200])
	}
	f.mustBeConverged(t, p)
}
