package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/apictl/apictl/internal/audit/audittest"
	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/golden"
	"github.com/apictl/apictl/internal/sandbox"
	"github.com/apictl/apictl/internal/sandbox/sandboxtest"
)

// awsCLI runs the AWS CLI against url; the test is skipped when the CLI
// is not installed. Each run starts a Python process (a second or more),
// so independent calls go through Parallel.
func awsCLI(t *testing.T, url string) *sandboxtest.AWSCLI {
	return sandboxtest.NewAWSCLI(t, url, "us-east-1")
}

// runAudit runs apictl in-process and returns its exit code and streams.
func runAudit(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Main(context.Background(), System{Args: args, In: strings.NewReader(""), Out: &out, Err: &errOut,
		Getenv: func(string) string { return "" }, Build: BuildInfo{Version: "test"}})
	return code, out.String(), errOut.String()
}

// brokenAPI is the API of TestAuditSandbox. Its structure (resources,
// methods, integrations, stages, usage plan, keys) is built with the SDK;
// what the audit adds to the emulator (policy, WAF, authorizers, domain
// names, client certificates, access logs) is set with the AWS CLI, as a
// user would.
type brokenAPI struct {
	id, ordersID, orderID, planID, strayKeyID string
}

// must stops the test setup at the first failed SDK call (a panic fails
// the test with the call's stack).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func setUpBrokenAPI(t *testing.T, url string, cli *sandboxtest.AWSCLI) brokenAPI {
	ctx := context.Background()
	c := must(awsapi.NewClients(ctx, SandboxSettings(url))).APIGateway
	s := aws.String
	var b brokenAPI
	api := must(c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: s("orders-api")}))
	b.id = *api.Id
	b.ordersID = *must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: s("orders")})).Id
	b.orderID = *must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: s(b.ordersID), PathPart: s("{id}")})).Id
	for _, m := range []struct{ res, verb, uri string }{
		{b.ordersID, "GET", "http://orders.internal.example/orders"},
		{b.ordersID, "POST", "http://orders.internal.example/orders"},
		{b.orderID, "GET", "http://orders.internal.example/orders/{id}"},
	} {
		// GET /orders takes a key, but no authorization.
		must(c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: s(m.res), HttpMethod: s(m.verb),
			AuthorizationType: s("NONE"), ApiKeyRequired: m.verb == "GET" && m.res == b.ordersID}))
		must(c.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: s(m.res), HttpMethod: s(m.verb),
			Type: agtypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: s(m.verb), Uri: s(m.uri)}))
	}
	dep := must(c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: s("prod")}))
	must(c.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: api.Id, StageName: s("dev"), DeploymentId: dep.Id}))
	patch := func(path, value string) agtypes.PatchOperation {
		return agtypes.PatchOperation{Op: agtypes.OpReplace, Path: s(path), Value: s(value)}
	}
	must(c.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: api.Id, StageName: s("prod"), PatchOperations: []agtypes.PatchOperation{
		patch("/~1orders/POST/throttling/rateLimit", "200"), patch("/~1orders/POST/throttling/burstLimit", "100"),
		patch("/~1orders~1{id}/GET/throttling/rateLimit", "100"), patch("/~1orders~1{id}/GET/throttling/burstLimit", "50"),
	}}))
	plan := must(c.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: s("partners"),
		Throttle: &agtypes.ThrottleSettings{RateLimit: 50, BurstLimit: 50}, ApiStages: []agtypes.ApiStage{{ApiId: api.Id, Stage: s("prod")}}}))
	b.planID = *plan.Id
	key := must(c.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: s("partner-a"), Enabled: true}))
	must(c.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: plan.Id, KeyId: key.Id, KeyType: s("API_KEY")}))
	b.strayKeyID = *must(c.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: s("stray"), Enabled: true})).Id

	cli.Run("apigateway", "create-domain-name", "--domain-name", "api.orders.example", "--regional-certificate-arn",
		"arn:aws:acm:us-east-1:123456789012:certificate/abc", "--endpoint-configuration", "types=REGIONAL", "--security-policy", "TLS_1_0")
	cli.Run("apigateway", "create-base-path-mapping", "--domain-name", "api.orders.example", "--rest-api-id", b.id, "--stage", "prod")
	return b
}

// patchOps is --patch-operations in JSON (the shorthand cannot carry {id}).
func patchOps(kv ...string) string {
	var ops []map[string]string
	for i := 0; i+1 < len(kv); i += 2 {
		ops = append(ops, map[string]string{"op": "replace", "path": kv[i], "value": kv[i+1]})
	}
	b, _ := json.Marshal(ops)
	return string(b)
}

const openPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"everyone","Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"}]}`

const vpcePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-0123456789abcdef0"}}}]}`

func (b brokenAPI) fix(t *testing.T, url string, cli *sandboxtest.AWSCLI) {
	ctx := context.Background()
	c := must(awsapi.NewClients(ctx, SandboxSettings(url))).APIGateway
	s := aws.String
	first := cli.Parallel(
		[]string{"wafv2", "create-web-acl", "--name", "orders-acl", "--scope", "REGIONAL", "--default-action", "Allow={}",
			"--visibility-config", "SampledRequestsEnabled=false,CloudWatchMetricsEnabled=false,MetricName=orders"},
		[]string{"apigateway", "create-authorizer", "--rest-api-id", b.id, "--name", "cognito", "--type", "COGNITO_USER_POOLS",
			"--provider-arns", "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc", "--identity-source", "method.request.header.Authorization"},
		[]string{"apigateway", "generate-client-certificate", "--description", "orders"},
		[]string{"apigateway", "update-rest-api", "--rest-api-id", b.id, "--patch-operations", patchOps("/policy", vpcePolicy)},
		[]string{"apigateway", "update-domain-name", "--domain-name", "api.orders.example", "--patch-operations",
			patchOps("/securityPolicy", "TLS_1_2", "/mutualTlsAuthentication/truststoreUri", "s3://orders-trust/ca.pem")},
	)
	acl := first[0]["Summary"].(map[string]any)["ARN"].(string)
	auth := first[1]["id"].(string)
	cert := first[2]["clientCertificateId"].(string)
	cli.Parallel(
		[]string{"wafv2", "associate-web-acl", "--web-acl-arn", acl, "--resource-arn", "arn:aws:apigateway:us-east-1::/restapis/" + b.id + "/stages/prod"},
		[]string{"apigateway", "update-stage", "--rest-api-id", b.id, "--stage-name", "prod", "--patch-operations", patchOps(
			"/tracingEnabled", "true", "/clientCertificateId", cert,
			"/accessLogSettings/destinationArn", "arn:aws:logs:us-east-1:123456789012:log-group:/apigateway/orders",
			"/accessLogSettings/format", "$context.requestId")},
	)

	patch := func(path, value string) agtypes.PatchOperation {
		return agtypes.PatchOperation{Op: agtypes.OpReplace, Path: s(path), Value: s(value)}
	}
	for _, m := range []struct{ res, verb string }{{b.ordersID, "GET"}, {b.ordersID, "POST"}, {b.orderID, "GET"}} {
		must(c.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: s(b.id), ResourceId: s(m.res), HttpMethod: s(m.verb),
			PatchOperations: []agtypes.PatchOperation{patch("/authorizationType", "COGNITO_USER_POOLS"), patch("/authorizerId", auth), patch("/apiKeyRequired", "true")}}))
	}
	must(c.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: s(b.id), ResourceId: s(b.ordersID), HttpMethod: s("GET"),
		Type: agtypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: s("GET"), Uri: s("http://${stageVariables.backendHost}/orders")}))
	must(c.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: s(b.id), ResourceId: s(b.orderID), HttpMethod: s("GET"),
		Type: agtypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: s("GET"), Uri: s("http://${stageVariables.backendHost}/orders/{id}"),
		RequestParameters: map[string]string{"integration.request.path.id": "method.request.path.id"}}))
	// Decouple order intake: POST /orders writes to SQS.
	must(c.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: s(b.id), ResourceId: s(b.ordersID), HttpMethod: s("POST"),
		Type: agtypes.IntegrationTypeAws, IntegrationHttpMethod: s("POST"), Uri: s("arn:aws:apigateway:us-east-1:sqs:path/123456789012/orders")}))
	must(c.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: s(b.id), StageName: s("prod"), PatchOperations: []agtypes.PatchOperation{
		patch("/*/*/throttling/rateLimit", "20"), patch("/*/*/throttling/burstLimit", "20"), patch("/*/*/metrics/enabled", "true"),
		patch("/~1orders/POST/throttling/rateLimit", "20"), patch("/~1orders~1{id}/GET/throttling/rateLimit", "20"),
		patch("/variables/backendHost", "orders.internal.example"),
	}}))
	must(c.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: s(b.id), StageName: s("dev"), PatchOperations: []agtypes.PatchOperation{
		patch("/variables/backendHost", "orders-dev.internal.example")}}))
	must(c.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: s(b.planID), PatchOperations: []agtypes.PatchOperation{
		patch("/quota/limit", "100000"), patch("/quota/period", "MONTH")}}))
	must(c.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: s(b.planID), KeyId: s(b.strayKeyID), KeyType: s("API_KEY")}))
	must(c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: s(b.id), StageName: s("prod")}))
}

// auditLoadtest is a --find-max --per-method result for orders-api prod:
// the three methods share a backend that takes 120 rps together.
const auditLoadtest = `{"target":"orders-api prod","api":"orders-api","stage":"prod","mode":"search","pass":true,
 "sustainable_rps":120,"shared_backend":true,"confirmed":true,"objectives":[],"steps":[],"attack_seconds":60,
 "methods":[
  {"name":"GET /orders","method":"GET","path":"/orders","url":"","pass":true,"sustainable_rps":60,"steps":[]},
  {"name":"POST /orders","method":"POST","path":"/orders","url":"","pass":true,"sustainable_rps":30,"steps":[]},
  {"name":"GET /orders/{id}","method":"GET","path":"/orders/{id}","url":"","pass":true,"sustainable_rps":30,"steps":[]}]}`

// auditMeasure has POST /orders peaking at 90 rps, three times what its
// backend sustains.
const auditMeasure = `{"api":"orders-api","stage":"prod","totals":{"avg_rps":45,"peak_rps":150},
 "methods":[
  {"resource":"/orders","method":"GET","avg_rps":20,"peak_rps":40},
  {"resource":"/orders","method":"POST","avg_rps":20,"peak_rps":90},
  {"resource":"/orders/{id}","method":"GET","avg_rps":5,"peak_rps":20}]}`

func findingRules(t *testing.T, jsonOut string) []string {
	t.Helper()
	var rep struct {
		Findings []struct {
			Rule string `json:"rule"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(jsonOut), &rep); err != nil {
		t.Fatalf("audit -o json: %v\n%s", err, jsonOut)
	}
	seen := map[string]bool{}
	var rules []string
	for _, f := range rep.Findings {
		if !seen[f.Rule] {
			seen[f.Rule] = true
			rules = append(rules, f.Rule)
		}
	}
	sort.Strings(rules)
	return rules
}

// TestAuditSandbox sets up, with the AWS CLI, an API that breaks every REST
// rule, checks the four output formats against golden files and the
// --fail-on exit codes, then fixes the API with the AWS CLI and expects no
// finding and exit 0.
func TestAuditSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("about a dozen AWS CLI runs (20 s or more); runs without -short")
	}
	sb, _ := sandboxtest.Start(t, sandbox.New(sandbox.Options{}))
	url := sb.URL()
	cli := awsCLI(t, url)
	b := setUpBrokenAPI(t, url, cli)

	dir := t.TempDir()
	lt, m := filepath.Join(dir, "lt.json"), filepath.Join(dir, "m.json")
	if err := os.WriteFile(lt, []byte(auditLoadtest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(m, []byte(auditMeasure), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"--endpoint-url", url, "audit", "--api", "orders-api", "--stage", "prod"}

	// Before the policy is set: the missing-policy rule.
	_, out, _ := runAudit(append(base, "-o", "json")...)
	if rules := findingRules(t, out); !strings.Contains(strings.Join(rules, " "), "SEC003") {
		t.Errorf("no resource policy: rules %v, want SEC003", rules)
	}
	cli.Run("apigateway", "update-rest-api", "--rest-api-id", b.id, "--patch-operations", patchOps("/policy", openPolicy))

	// Stable placeholders for the ids the sandbox makes up.
	norm := func(s string) string {
		return strings.NewReplacer(b.id, "APIID", b.ordersID, "RES-orders", b.orderID, "RES-order",
			b.planID, "PLANID", b.strayKeyID, "KEYID", dir, "DIR").Replace(s)
	}
	withFiles := append(append([]string{}, base...), "--loadtest", lt, "--measure", m)
	for _, format := range []string{"table", "json", "markdown", "sarif"} {
		code, out, stderr := runAudit(append(withFiles, "-o", format)...)
		if code != ExitObjectivesMiss {
			t.Errorf("-o %s: exit %d, want 3 (high findings)\nstderr: %s", format, code, stderr)
		}
		ext := map[string]string{"table": "txt", "json": "json", "markdown": "md", "sarif": "sarif"}[format]
		golden.Check(t, filepath.Join("testdata", "audit", "broken."+ext), []byte(norm(out)))
		if format == "sarif" {
			validateSARIF(t, out)
		}
	}
	_, out, _ = runAudit(append(withFiles, "-o", "json")...)
	want := []string{"CAP001", "DES001", "DES002", "KEY001", "KEY002", "KEY003", "OPS001", "OPS002", "OPS003",
		"SEC001", "SEC004", "SEC005", "SEC006", "SEC007", "SEC008", "SEC009", "THR001", "THR002", "THR003"}
	if got := findingRules(t, out); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("broken API: rules\n%v, want\n%v", got, want)
	}
	if !strings.Contains(out, `"resource": "POST /orders"`) || !strings.Contains(out, "effective throttle 200 rps (stage prod POST /orders) > sustainable 30 rps") {
		t.Errorf("POST /orders throttled at 200 rps above its sustainable 30 rps is not flagged:\n%s", out)
	}

	// --fail-on thresholds: the broken API has high findings, so every
	// threshold fails; without --loadtest/--measure the capacity rules are
	// silent but others remain.
	for _, lvl := range []string{"low", "medium", "high"} {
		if code, _, _ := runAudit(append(base, "--fail-on", lvl)...); code != ExitObjectivesMiss {
			t.Errorf("--fail-on %s on the broken API: exit %d, want 3", lvl, code)
		}
	}
	if code, _, stderr := runAudit(append(base, "--fail-on", "critical")...); code != ExitError || !strings.Contains(stderr, "--fail-on") {
		t.Errorf("--fail-on critical: exit %d, stderr %q; want 1 and a flag error", code, stderr)
	}

	b.fix(t, url, cli)
	code, out, stderr := runAudit(append(withFiles, "-o", "json", "--fail-on", "low")...)
	if code != ExitOK {
		t.Errorf("fixed API: exit %d, want 0\n%s\n%s", code, out, stderr)
	}
	if rules := findingRules(t, out); len(rules) != 0 {
		t.Errorf("fixed API: rules %v, want none\n%s", rules, out)
	}
	code, out, _ = runAudit(append(withFiles, "--fail-on", "low")...)
	golden.Check(t, filepath.Join("testdata", "audit", "fixed.txt"), []byte(norm(out)))
	if code != ExitOK {
		t.Errorf("fixed API table: exit %d", code)
	}

	// Only a low finding left: X-Ray off. --fail-on low fails, medium and
	// high pass.
	cli.Run("apigateway", "update-stage", "--rest-api-id", b.id, "--stage-name", "prod", "--patch-operations", "op=replace,path=/tracingEnabled,value=false")
	for lvl, wantCode := range map[string]int{"low": ExitObjectivesMiss, "medium": ExitOK, "high": ExitOK} {
		if code, _, _ := runAudit(append(base, "--fail-on", lvl)...); code != wantCode {
			t.Errorf("one low finding, --fail-on %s: exit %d, want %d", lvl, code, wantCode)
		}
	}
	// A medium one too: access logging off.
	cli.Run("apigateway", "update-stage", "--rest-api-id", b.id, "--stage-name", "prod", "--patch-operations", "op=remove,path=/accessLogSettings")
	for lvl, wantCode := range map[string]int{"low": ExitObjectivesMiss, "medium": ExitObjectivesMiss, "high": ExitOK} {
		if code, _, _ := runAudit(append(base, "--fail-on", lvl)...); code != wantCode {
			t.Errorf("low and medium findings, --fail-on %s: exit %d, want %d", lvl, code, wantCode)
		}
	}
}

// validateSARIF checks a SARIF log against the SARIF 2.1.0 JSON schema.
func validateSARIF(t *testing.T, log string) {
	t.Helper()
	if err := audittest.ValidateSARIF(t, []byte(log)); err != nil {
		t.Errorf("sarif does not validate against the 2.1.0 schema: %v", err)
	}
}

// TestAuditHTTPAPI: an HTTP API cannot take a WAF web ACL, and the audit
// says so, next to its unauthorized routes.
func TestAuditHTTPAPI(t *testing.T) {
	sb, _ := sandboxtest.Start(t, sandbox.New(sandbox.Options{}))
	url := sb.URL()
	cli := awsCLI(t, url)
	id := cli.Run("apigatewayv2", "create-api", "--name", "carts", "--protocol-type", "HTTP")["ApiId"].(string)
	cli.Parallel(
		[]string{"apigatewayv2", "create-route", "--api-id", id, "--route-key", "GET /carts"},
		[]string{"apigatewayv2", "create-stage", "--api-id", id, "--stage-name", "prod"},
	)
	code, out, stderr := runAudit("--endpoint-url", url, "audit", "--api", "carts", "--stage", "prod", "-o", "json")
	if code != ExitObjectivesMiss {
		t.Errorf("exit %d, want 3\n%s", code, stderr)
	}
	got := strings.Join(findingRules(t, out), " ")
	if got != "OPS001 OPS002 SEC002 SEC005 THR001" {
		t.Errorf("HTTP API rules %q, want OPS001 OPS002 SEC002 SEC005 THR001\n%s", got, out)
	}
	// Access logs, detailed metrics and a throttle fix three; the route is
	// still unauthorized and no WAF can be attached.
	cli.Run("apigatewayv2", "update-stage", "--api-id", id, "--stage-name", "prod",
		"--access-log-settings", "DestinationArn=arn:aws:logs:us-east-1:123456789012:log-group:carts,Format=$context.requestId",
		"--default-route-settings", "DetailedMetricsEnabled=true,ThrottlingRateLimit=50,ThrottlingBurstLimit=50")
	code, out, _ = runAudit("--endpoint-url", url, "audit", "--api", id, "--stage", "prod", "-o", "json", "--fail-on", "medium")
	if got := strings.Join(findingRules(t, out), " "); got != "SEC002 SEC005" || code != ExitObjectivesMiss {
		t.Errorf("after update-stage: rules %q (exit %d), want SEC002 SEC005 (exit 3)\n%s", got, code, out)
	}
}

func TestNewCmdAuditOptions(t *testing.T) {
	f, _ := NewTestFactory(t)
	var got *AuditOptions
	cmd := NewCmdAudit(f, BuildInfo{Version: "1.2.3"}, func(o *AuditOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--api", "orders-api", "--stage", "prod", "--loadtest", "lt.json", "--measure", "m.json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.API != "orders-api" || got.Stage != "prod" || got.Loadtest != "lt.json" || got.Measure != "m.json" ||
		got.FailOn != "high" || got.Version != "1.2.3" {
		t.Errorf("options %+v", got)
	}
}
