package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/sandbox/sandboxtest"
)

// importBlocks returns the import blocks of HCL as "to" → "id".
func importBlocks(t *testing.T, src string) map[string]string {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL([]byte(src), "export.tf")
	if diags.HasErrors() {
		t.Fatalf("parse export: %v\n%s", diags, src)
	}
	out := map[string]string{}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "import" {
			continue
		}
		tr, d := hcl.AbsTraversalForExpr(b.Body.Attributes["to"].Expr)
		if d.HasErrors() {
			t.Fatalf("import to: %v", d)
		}
		v, d := b.Body.Attributes["id"].Expr.Value(nil)
		if d.HasErrors() {
			t.Fatalf("import id: %v", d)
		}
		to := tr.RootName() + "." + tr[1].(hcl.TraverseAttr).Name
		out[to] = v.AsString()
	}
	return out
}

// TestPlanExportImport exports a plan with --import against the sandbox
// before and after apply-plan created its resources: the import blocks carry
// the live ids read back through the SDK.
func TestPlanExportImport(t *testing.T) {
	sb, ag := planSandbox(t)
	ctx := context.Background()
	planFile := filepath.Join("..", "plan", "testdata", "good.yaml")
	ep := []string{"--endpoint-url", sb.URL()}

	r := runApictl(t, "", false, append(ep, "plan", "export", "-f", planFile, "--format", "terraform", "--import")...)
	if r.code != 0 {
		t.Fatalf("export before apply: code %d\n%s", r.code, r.err)
	}
	if got := importBlocks(t, r.stdout); len(got) != 0 {
		t.Fatalf("nothing exists yet, got import blocks %v", got)
	}

	if r := runApictl(t, "", false, append(ep, "apply-plan", "-f", planFile, "--auto-approve")...); r.code != 0 {
		t.Fatalf("apply: code %d\n%s\n%s", r.code, r.stdout, r.err)
	}
	out := filepath.Join(t.TempDir(), "apictl.tf")
	r = runApictl(t, "", false, append(ep, "plan", "export", "-f", planFile, "--format", "terraform", "--import", "--out", out)...)
	if r.code != 0 {
		t.Fatalf("export after apply: code %d\n%s", r.code, r.err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := importBlocks(t, string(data))

	apis, err := ag.GetRestApis(ctx, &apigateway.GetRestApisInput{})
	if err != nil {
		t.Fatal(err)
	}
	apiID := aws.ToString(apis.Items[0].Id)
	plans, err := ag.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{})
	if err != nil {
		t.Fatal(err)
	}
	planIDs := map[string]string{}
	for _, u := range plans.Items {
		planIDs[aws.ToString(u.Name)] = aws.ToString(u.Id)
	}
	keys, err := ag.GetApiKeys(ctx, &apigateway.GetApiKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	keyIDs := map[string]string{}
	for _, k := range keys.Items {
		keyIDs[aws.ToString(k.Name)] = aws.ToString(k.Id)
	}
	want := map[string]string{
		"aws_api_gateway_method_settings.all":                     apiID + "/prod/*/*",
		"aws_api_gateway_method_settings.get_cart_profile_userid": apiID + "/prod/cart/profile/{userId}/GET",
		"aws_api_gateway_method_settings.post_orders":             apiID + "/prod/orders/POST",
		"aws_api_gateway_method_settings.get_root":                apiID + "/prod/~1/GET",
		"aws_api_gateway_usage_plan.plan_gold":                    planIDs["gold"],
		"aws_api_gateway_usage_plan.plan_free":                    planIDs["free"],
		"aws_api_gateway_api_key.key_alice":                       keyIDs["alice"],
		"aws_api_gateway_api_key.key_bob":                         keyIDs["bob"],
		"aws_api_gateway_usage_plan_key.gold_alice":               planIDs["gold"] + "/" + keyIDs["alice"],
		"aws_api_gateway_usage_plan_key.free_bob":                 planIDs["free"] + "/" + keyIDs["bob"],
	}
	for to, id := range want {
		if id == "" || strings.HasPrefix(id, "/") || strings.HasSuffix(id, "/") {
			t.Fatalf("test setup: no live id for %s (%q)", to, id)
		}
		if got[to] != id {
			t.Errorf("import %s: id %q, want %q", to, got[to], id)
		}
	}
	if len(got) != len(want) {
		t.Errorf("import blocks %v, want exactly %v", got, want)
	}
	if !strings.Contains(string(data), `default     = "`+apiID+`"`) {
		t.Errorf("rest_api_id variable lacks the live id as default:\n%s", data)
	}
	if strings.Contains(string(data), planAliceValue) {
		t.Fatal("the export contains a key value")
	}
}

func TestPlanExportFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "export", "--format", "terraform"}, "-f FILE is required"},
		{[]string{"plan", "export", "-f", "x.yaml"}, "--format is required"},
		{[]string{"plan", "export", "-f", "x.yaml", "--format", "pulumi"}, `--format "pulumi": want terraform or cloudformation`},
		{[]string{"plan", "export", "-f", "x.yaml", "--format", "cloudformation", "--import"}, "--import needs --format terraform"},
	} {
		r := runApictl(t, "", false, tc.args...)
		if r.code != ExitError || !strings.Contains(r.err, tc.want) {
			t.Errorf("%v: code %d, stderr %q, want %q", tc.args, r.code, r.err, tc.want)
		}
	}
}

// TestPlanExportImportHTTP: an HTTP API plan exports the stage snippet with
// an import block for the live stage.
func TestPlanExportImportHTTP(t *testing.T) {
	sb, _ := planSandbox(t)
	ctx := context.Background()
	cl, err := awsapi.NewClients(ctx, SandboxSettings(sb.URL()))
	if err != nil {
		t.Fatal(err)
	}
	v2 := cl.APIGatewayV2
	api := sandboxtest.CreateHTTPAPI(t, v2, "items-api", "GET /items")
	if _, err := v2.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(t.TempDir(), "http.yaml")
	if err := os.WriteFile(planFile, []byte("apiVersion: apictl/v1\nkind: Plan\napi: items-api\ntype: http\nstages: [prod]\nstage:\n  throttle: {rate: 100, burst: 50}\n  methods:\n    GET /items: {throttle: {rate: 10, burst: 5}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runApictl(t, "", false, "--endpoint-url", sb.URL(), "plan", "export", "-f", planFile, "--format", "terraform", "--import")
	if r.code != 0 {
		t.Fatalf("export: code %d\n%s", r.code, r.err)
	}
	got := importBlocks(t, r.stdout)
	want := aws.ToString(api.ApiId) + "/prod"
	if len(got) != 1 || got["aws_apigatewayv2_stage.prod"] != want {
		t.Fatalf("import blocks %v, want aws_apigatewayv2_stage.prod = %q\n%s", got, want, r.stdout)
	}
	if !strings.Contains(r.stdout, `route_key              = "GET /items"`) {
		t.Fatalf("no route settings for GET /items:\n%s", r.stdout)
	}
}
