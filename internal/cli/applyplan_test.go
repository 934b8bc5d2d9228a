package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/plan"
	"github.com/apictl/apictl/internal/sandbox"
)

const planAliceValue = "alice-env-secret-0123456789abcdef"

// planSandbox serves a sandbox with REST API cart-api (GET /, GET
// /cart/profile/{userId}, POST /orders) deployed to stage prod.
func planSandbox(t *testing.T) (*sandbox.Sandbox, *apigateway.Client) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	ctx := context.Background()
	cl, err := awsapi.NewClients(ctx, SandboxSettings(url))
	if err != nil {
		t.Fatal(err)
	}
	ag := cl.APIGateway
	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("cart-api")})
	if err != nil {
		t.Fatal(err)
	}
	id := api.Id
	res, err := ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: id})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(parent *string, part string) *string {
		r, err := ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: id, ParentId: parent, PathPart: &part})
		if err != nil {
			t.Fatal(err)
		}
		return r.Id
	}
	method := func(res *string, verb string, keyRequired bool) {
		if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: id, ResourceId: res, HttpMethod: &verb, AuthorizationType: aws.String("NONE"), ApiKeyRequired: keyRequired}); err != nil {
			t.Fatal(err)
		}
		if _, err := ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: id, ResourceId: res, HttpMethod: &verb, Type: types.IntegrationTypeMock}); err != nil {
			t.Fatal(err)
		}
	}
	root := res.Items[0].Id
	method(root, "GET", false)
	method(mk(mk(mk(root, "cart"), "profile"), "{userId}"), "GET", true)
	method(mk(root, "orders"), "POST", false)
	if _, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	return sb, ag
}

type runResult struct {
	code        int
	stdout, err string
}

func runApictl(t *testing.T, stdin string, inTTY bool, args ...string) runResult {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), System{
		Args: args, In: strings.NewReader(stdin), Out: &out, Err: &errOut, InTTY: inTTY,
		Getenv: func(k string) string {
			if k == "ALICE_KEY" {
				return planAliceValue
			}
			return ""
		},
		Build: BuildInfo{Version: "test"},
	})
	return runResult{code, out.String(), errOut.String()}
}

func TestApplyPlanCommand(t *testing.T) {
	sb, ag := planSandbox(t)
	planFile := filepath.Join("..", "plan", "testdata", "good.yaml")
	ep := []string{"--endpoint-url", sb.URL()}
	var all strings.Builder
	run := func(stdin string, tty bool, args ...string) runResult {
		r := runApictl(t, stdin, tty, append(ep, args...)...)
		all.WriteString(r.stdout + r.err)
		return r
	}

	r := run("", false, "apply-plan", "-f", planFile, "--dry-run", "--detailed-exitcode")
	if r.code != ExitChangesPending || !strings.Contains(r.stdout, `+ usage plan "gold"`) || !strings.Contains(r.stdout, "Plan: 6 to create, 1 to update, 0 to delete.") {
		t.Fatalf("dry run: code %d\n%s\n%s", r.code, r.stdout, r.err)
	}
	if got := sb.Calls(); got["UpdateStage"]+got["CreateUsagePlan"]+got["CreateApiKey"] != 0 {
		t.Fatalf("dry run made changes: %v", got)
	}

	r = run("", false, "apply-plan", "-f", planFile)
	if r.code != ExitError || !strings.Contains(r.err, "stdin is not a terminal") || !strings.Contains(r.err, "hint: ") {
		t.Fatalf("non-terminal without --auto-approve: code %d\n%s", r.code, r.err)
	}

	r = run("no\n", true, "apply-plan", "-f", planFile)
	if r.code != ExitError || !strings.Contains(r.err, "Only 'yes' will be accepted") || !strings.Contains(r.err, "cancelled") {
		t.Fatalf("declined prompt: code %d\n%s", r.code, r.err)
	}

	r = run("yes\n", true, "-v", "apply-plan", "-f", planFile)
	if r.code != 0 || !strings.Contains(r.stdout, "Apply complete: 6 created, 1 updated, 0 deleted") || strings.Count(r.stdout, "targets rather than guaranteed request ceilings") != 1 || !strings.Contains(r.stdout, "(hidden; --show-secrets prints it)") {
		t.Fatalf("apply: code %d\n%s\n%s", r.code, r.stdout, r.err)
	}

	r = run("", false, "apply-plan", "-f", planFile, "--dry-run", "--detailed-exitcode")
	if r.code != 0 || !strings.Contains(r.stdout, "No changes") {
		t.Fatalf("second dry run: code %d\n%s", r.code, r.stdout)
	}
	r = run("", false, "-o", "json", "apply-plan", "-f", planFile, "--auto-approve")
	var out plan.ApplyOutput
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 || !out.Changes.Empty() || out.Applied {
		t.Fatalf("json re-apply: code %d, %v\n%s", r.code, err, r.stdout)
	}

	// Key values: alice's from the environment, bob's generated.
	keys, err := ag.GetApiKeys(context.Background(), &apigateway.GetApiKeysInput{IncludeValues: aws.Bool(true)})
	if err != nil || len(keys.Items) != 2 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	for _, k := range keys.Items {
		if strings.Contains(all.String(), aws.ToString(k.Value)) {
			t.Errorf("output contains the value of key %s", aws.ToString(k.Name))
		}
	}
}

func TestApplyPlanShowSecretsAndJSON(t *testing.T) {
	sb, _ := planSandbox(t)
	planFile := filepath.Join("..", "plan", "testdata", "good.yaml")
	r := runApictl(t, "", false, "--endpoint-url", sb.URL(), "-o", "json", "apply-plan", "-f", planFile, "--auto-approve")
	if r.code != 0 || strings.Contains(r.stdout+r.err, planAliceValue) {
		t.Fatalf("json apply: code %d (or a key value printed)\n%s\n%s", r.code, r.stdout, r.err)
	}
	var out plan.ApplyOutput
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if !out.Applied || len(out.Created) != 2 || out.Calls["CreateApiKey"] != 2 || out.Changes.Summary.Create != 6 {
		t.Fatalf("json model: %+v", out)
	}

	// A fresh account: --show-secrets prints the values.
	sb2, _ := planSandbox(t)
	r = runApictl(t, "", false, "--endpoint-url", sb2.URL(), "apply-plan", "-f", planFile, "--auto-approve", "--show-secrets")
	if r.code != 0 || !strings.Contains(r.stdout, planAliceValue) {
		t.Fatalf("--show-secrets: code %d\n%s\n%s", r.code, r.stdout, r.err)
	}
}

func TestApplyPlanErrors(t *testing.T) {
	sb, _ := planSandbox(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "p.yaml")
	os.WriteFile(bad, []byte("apiVersion: apictl/v1\nkind: Plan\napi: cart-api\nstages: [prod]\nstage:\n  methods:\n    GET /nope: {throttle: {rate: 1, burst: 1}}\n"), 0o644)
	r := runApictl(t, "", false, "--endpoint-url", sb.URL(), "apply-plan", "-f", bad, "--dry-run")
	if r.code != ExitError || !strings.Contains(r.err, `has no method "GET /nope"`) || !strings.Contains(r.err, "hint: ") {
		t.Fatalf("unknown method: code %d\n%s", r.code, r.err)
	}
	os.WriteFile(bad, []byte("apiVersion: apictl/v1\nkind: Plan\napi: cart-api\nstages: [prod]\nfoo: 1\n"), 0o644)
	r = runApictl(t, "", false, "--endpoint-url", sb.URL(), "apply-plan", "-f", bad, "--dry-run")
	if r.code != ExitError || !strings.Contains(r.err, bad+`:5:1: unknown field "foo"`) {
		t.Fatalf("invalid plan: code %d\n%s", r.code, r.err)
	}
	r = runApictl(t, "", false, "apply-plan", "-f", bad, "--detailed-exitcode")
	if r.code != ExitError || !strings.Contains(r.err, "--detailed-exitcode needs --dry-run") {
		t.Fatalf("flag check: code %d\n%s", r.code, r.err)
	}
}

func TestPlanGenerateAndValidateCommands(t *testing.T) {
	dir := t.TempDir()
	lt := filepath.Join(dir, "lt.json")
	m := filepath.Join(dir, "m.json")
	os.WriteFile(lt, []byte(`{"target":"x","mode":"search","sustainable_rps":412,"methods":[{"name":"GET /cart/profile/{userId}","method":"GET","sustainable_rps":150,"pass":true}]}`), 0o644)
	os.WriteFile(m, []byte(`{"api":"cart-api","stage":"prod","window":{"start":"2026-11-22T00:00:00Z","end":"2026-11-29T00:00:00Z"},"totals":{"peak_rps":120.5},"daily":[{"date":"2026-11-28","count":100000}]}`), 0o644)
	r := runApictl(t, "", false, "plan", "generate", "--loadtest", lt, "--measure", m, "--api", "cart-api", "--stage", "prod", "--tiers", "basic:0.1,pro:0.5", "--key", "alice:pro:ALICE_KEY")
	if r.code != 0 {
		t.Fatalf("generate: %d\n%s", r.code, r.err)
	}
	for _, want := range []string{"rate: 120 # 0.8 × 150 RPS allocated to this method (loadtest ", "rate: 209 # what the listed methods leave of floor(0.8 × 412 RPS) = 329", "limit: 50000 # 0.5 × 100000 requests on the busiest observed day 2026-11-28 (measure 2026-11-22..2026-11-29)", "fromEnv: ALICE_KEY"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("generated plan lacks %q:\n%s", want, r.stdout)
		}
	}
	pf := filepath.Join(dir, "plan.yaml")
	os.WriteFile(pf, []byte(r.stdout), 0o644)
	r = runApictl(t, "", false, "plan", "validate", "-f", pf)
	if r.code != 0 || !strings.Contains(r.stdout, "valid") {
		t.Fatalf("validate generated: %d\n%s%s", r.code, r.stdout, r.err)
	}
	if _, err := plan.Load(pf); err != nil {
		t.Fatal(err)
	}

	r = runApictl(t, "", false, "-o", "json", "plan", "generate", "--loadtest", lt, "--api", "cart-api", "--stage", "prod", "--headroom", "0.5")
	var g GeneratedPlan
	if err := json.Unmarshal([]byte(r.stdout), &g); err != nil || g.StageThrottle.Rate != 131 || g.Methods[0].Rate != 75 || g.PlannedRPS != 75 || g.AggregateRPS != 412 {
		t.Fatalf("generate json: %v\n%s", err, r.stdout)
	}

	bad := filepath.Join("..", "plan", "testdata", "bad.yaml")
	r = runApictl(t, "", false, "-o", "json", "plan", "validate", "-f", bad)
	var v plan.ValidationResult
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.code != ExitError || v.Valid || len(v.Errors) < 20 || v.Errors[0].Line != 1 {
		t.Fatalf("validate json: code %d, %v\n%s", r.code, err, r.stdout)
	}
	r = runApictl(t, "", false, "plan", "validate", bad)
	if r.code != ExitError || !strings.Contains(r.err, bad+":33:12: apiKeys[0].value: a literal API key value is not allowed") || strings.Contains(r.err, "s3cr3t") {
		t.Fatalf("validate table: code %d\n%s", r.code, r.err)
	}

	r = runApictl(t, "", false, "plan", "schema")
	var schema map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &schema); err != nil || schema["$schema"] == nil {
		t.Fatalf("schema: %v", err)
	}
}

// TestApplyPlanGolden: the dry-run diff in each format, a first apply, and
// a second one after a drift that takes one write call. The emulator's
// random ids are replaced by their kind.
func TestApplyPlanGolden(t *testing.T) {
	sb, ag := planSandbox(t)
	planFile := filepath.Join("..", "plan", "testdata", "good.yaml")
	ctx := context.Background()
	normalise := func(s string) string {
		apis, _ := ag.GetRestApis(ctx, &apigateway.GetRestApisInput{})
		for _, a := range apis.Items {
			s = strings.ReplaceAll(s, aws.ToString(a.Id), "API_ID")
		}
		keys, _ := ag.GetApiKeys(ctx, &apigateway.GetApiKeysInput{})
		for _, k := range keys.Items {
			s = strings.ReplaceAll(s, aws.ToString(k.Id), "KEY_ID_"+aws.ToString(k.Name))
		}
		plans, _ := ag.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{})
		for _, p := range plans.Items {
			s = strings.ReplaceAll(s, aws.ToString(p.Id), "PLAN_ID_"+aws.ToString(p.Name))
		}
		return s
	}
	check := func(name string, r runResult, wantCode int) {
		t.Helper()
		if r.code != wantCode {
			t.Errorf("%s: exit %d, want %d\n%s", name, r.code, wantCode, r.err)
		}
		goldenFile(t, filepath.Join("testdata", "applyplan", name), []byte(normalise(r.stdout)))
	}
	ep := []string{"--endpoint-url", sb.URL(), "-q"}
	for _, f := range []struct{ format, ext string }{{"table", "txt"}, {"markdown", "md"}, {"json", "json"}} {
		check("dry-run."+f.ext, runApictl(t, "", false, append(ep, "-o", f.format, "apply-plan", "-f", planFile, "--dry-run", "--detailed-exitcode")...), ExitChangesPending)
	}
	check("apply.txt", runApictl(t, "", false, append(ep, "apply-plan", "-f", planFile, "--auto-approve")...), ExitOK)
	// Drift: someone lowers the stage throttle by hand.
	apis, err := ag.GetRestApis(ctx, &apigateway.GetRestApisInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: apis.Items[0].Id, StageName: aws.String("prod"),
		PatchOperations: []types.PatchOperation{{Op: types.OpReplace, Path: aws.String("/*/*/throttling/rateLimit"), Value: aws.String("7")}}}); err != nil {
		t.Fatal(err)
	}
	r := runApictl(t, "", false, append(ep, "apply-plan", "-f", planFile, "--auto-approve")...)
	check("drift.txt", r, ExitOK)
	if !strings.Contains(r.stdout, "(1 write call)") {
		t.Errorf("want one write call:\n%s", r.stdout)
	}
}
