package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/apictl/apictl/internal/plan"
)

// TestApplyPlanWordsPlanRemediesWithFlags: the plan library reports the
// resources it leaves alone and the ways out through an option as data;
// apply-plan words them with its flags (--prune, --region/--endpoint-url),
// in text, JSON and error hints.
func TestApplyPlanWordsPlanRemediesWithFlags(t *testing.T) {
	sb, ag := planSandbox(t)
	ctx := context.Background()
	apis, err := ag.GetRestApis(ctx, &apigateway.GetRestApisInput{})
	if err != nil || len(apis.Items) != 1 {
		t.Fatalf("test setup: %v", err)
	}
	apiID := aws.ToString(apis.Items[0].Id)
	managed := map[string]string{plan.ManagedTag: "true", plan.APITag: apiID}
	key, err := ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("alice"), Enabled: true, Tags: managed})
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("legacy"), Tags: managed,
		ApiStages: []types.ApiStage{{ApiId: aws.String(apiID), Stage: aws.String("prod")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: legacy.Id, KeyId: key.Id, KeyType: aws.String("API_KEY")}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte("apiVersion: apictl/v1\nkind: Plan\nstages: [prod]\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	ep := []string{"--endpoint-url", sb.URL()}

	keysOnly := write("keys.yaml", "api: cart-api\napiKeys:\n  - name: alice\n")
	note := `managed usage plan "legacy" (` + aws.ToString(legacy.Id) + `) is not in the plan; --prune deletes it`
	r := runApictl(t, "", false, append(ep, "apply-plan", "-f", keysOnly, "--dry-run")...)
	if r.code != ExitOK || !strings.Contains(r.stdout, note) {
		t.Errorf("text: code %d, want the note %q:\n%s%s", r.code, note, r.stdout, r.err)
	}
	r = runApictl(t, "", false, append(ep, "-o", "json", "apply-plan", "-f", keysOnly, "--dry-run")...)
	var out struct {
		Changes struct{ Notes []string } `json:"changes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Changes.Notes) != 1 || out.Changes.Notes[0] != note {
		t.Errorf("json: notes %q (%v), want [%q]", out.Changes.Notes, err, note)
	}

	clash := write("clash.yaml", "api: cart-api\napiKeys:\n  - name: alice\nusagePlans:\n  - name: gold\n    throttle: {rate: 10, burst: 5}\n    keys: [alice]\n")
	r = runApictl(t, "", false, append(ep, "apply-plan", "-f", clash, "--dry-run")...)
	wantHint := "hint: a key can be in one usage plan per API stage: remove it from the other plan (or pass --prune to delete that managed plan)\n"
	if r.code != ExitError || !strings.Contains(r.err, `API key "alice" is already in usage plan "legacy"`) || !strings.Contains(r.err, wantHint) || strings.Count(r.err, "hint:") != 1 {
		t.Errorf("clash: code %d, want one hint %q:\n%s", r.code, wantHint, r.err)
	}

	nope := write("nope.yaml", "api: nope-api\n")
	r = runApictl(t, "", false, append(ep, "apply-plan", "-f", nope, "--dry-run")...)
	if r.code != ExitError || !strings.Contains(r.err, "hint: check --region/--endpoint-url; check the api: field (REST APIs here: cart-api") || strings.Count(r.err, "hint:") != 1 {
		t.Errorf("unknown API: code %d\n%s", r.code, r.err)
	}

	old := filepath.Join(dir, "old.json")
	if err := os.WriteFile(old, []byte(`{"format":"apictl/saved-changes/v0","changes":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runApictl(t, "", false, append(ep, "apply-plan", "--from", old, "--auto-approve")...)
	if r.code != ExitError || !strings.Contains(r.err, `format "apictl/saved-changes/v0", want "apictl/saved-changes/v1"`) ||
		!strings.Contains(r.err, "hint: save it again with: apictl apply-plan -f plan.yaml --dry-run --out "+old) {
		t.Errorf("old saved format: code %d\n%s", r.code, r.err)
	}
}

// TestRefusalHintsNameTheFlags: plan generate's refusals come from the plan
// library without flags; the CLI's hint names them, once each, and --force.
func TestRefusalHintsNameTheFlags(t *testing.T) {
	for reason, want := range map[plan.RefusalReason]string{
		plan.RefusalFixedRate:      "find the capacity with apictl loadtest --find-max --mix m.json",
		plan.RefusalInterrupted:    "run the search again to its end",
		plan.RefusalNoPassingRate:  "check the objectives (--slo) and --start-rate",
		plan.RefusalConfirmFailed:  "give the search more --budget so --confirm can step down",
		plan.RefusalOtherAPI:       "load-test the API the plan is for",
		plan.RefusalOtherStage:     "load-test the stage the plan is for, or pass --stage prod",
		plan.RefusalGatewayLimited: "(loadtest --invoke-url URL of that stage) or with a load-test key (--api-key-env)",
	} {
		var lt plan.LoadtestResult
		rs := []plan.Refusal{}
		for _, r := range plan.CheckLoadtest(refusalFixture(reason, &lt), "cart-api", "test") {
			if r.Reason == reason {
				rs = append(rs, r, r) // twice: the hint says it once
			}
		}
		if len(rs) == 0 {
			t.Fatalf("%s: test setup: CheckLoadtest gives no such refusal", reason)
		}
		var b strings.Builder
		PrintError(&b, &plan.RefusalError{Source: "lt.json", Refusals: rs})
		got := b.String()
		if !strings.Contains(got, "\nhint: ") || !strings.Contains(got, want) || strings.Count(got, want) != 1 ||
			!strings.HasSuffix(got, "; --force writes the plan anyway, with a warning comment in it\n") {
			t.Errorf("%s: want the hint to say %q once, then --force:\n%s", reason, want, got)
		}
	}
}

// refusalFixture returns a load test result of stage prod that CheckLoadtest
// refuses for reason (among others).
func refusalFixture(reason plan.RefusalReason, lt *plan.LoadtestResult) *plan.LoadtestResult {
	pass := true
	*lt = plan.LoadtestResult{API: "cart-api", Stage: "prod", Mode: "search", SustainableRPS: 100, Pass: &pass}
	switch reason {
	case plan.RefusalFixedRate:
		lt.Mode = "fixed"
	case plan.RefusalInterrupted:
		lt.Interrupted = true
	case plan.RefusalNoPassingRate:
		lt.SustainableRPS = 0
	case plan.RefusalConfirmFailed:
		lt.Confirm = &plan.LoadtestStep{Rate: 100}
	case plan.RefusalOtherAPI:
		lt.API = "billing-api"
	case plan.RefusalGatewayLimited:
		lt.LimitedBy = plan.LimitedByGatewayThrottle
		lt.GatewayThrottle = &plan.GatewayThrottle{Rate: 100, Burst: 10, Source: "stage prod */*"}
	}
	return lt
}
