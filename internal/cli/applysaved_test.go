package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apictl/apictl/internal/plan"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

var mutating = []string{"UpdateStage", "CreateUsagePlan", "UpdateUsagePlan", "DeleteUsagePlan", "CreateApiKey", "UpdateApiKey", "DeleteApiKey", "CreateUsagePlanKey", "DeleteUsagePlanKey"}

func mutatingCalls(calls map[string]int) map[string]int {
	out := map[string]int{}
	for _, op := range mutating {
		if calls[op] > 0 {
			out[op] = calls[op]
		}
	}
	return out
}

// TestSavedPlanAppliesExactlyTheSavedChanges saves the changes of a plan,
// applies them with --from and checks that exactly those were made and the
// live state now matches the plan; the saved file holds no key value.
func TestSavedPlanAppliesExactlyTheSavedChanges(t *testing.T) {
	sb, _ := planSandbox(t)
	planFile := filepath.Join("..", "plan", "testdata", "good.yaml")
	saved := filepath.Join(t.TempDir(), "changes.json")
	ep := []string{"--endpoint-url", sb.URL()}

	r := runApictl(t, "", false, append(ep, "apply-plan", "-f", planFile, "--dry-run", "--out", saved, "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("save: code %d\n%s", r.code, r.err)
	}
	var dry plan.ApplyOutput
	if err := json.Unmarshal([]byte(r.stdout), &dry); err != nil {
		t.Fatal(err)
	}
	if got := mutatingCalls(sb.Calls()); len(got) != 0 {
		t.Fatalf("the dry run made changes: %v", got)
	}
	data, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(planAliceValue)) {
		t.Fatal("the saved plan contains the value of ALICE_KEY")
	}
	if !bytes.Contains(data, []byte(`"fingerprint": "sha256:`)) || !bytes.Contains(data, []byte(`"from_env": "ALICE_KEY"`)) {
		t.Fatalf("saved plan lacks the fingerprint or the key's variable:\n%s", data)
	}

	sb.ResetCalls()
	r = runApictl(t, "", false, append(ep, "apply-plan", "--from", saved, "--auto-approve", "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("apply --from: code %d\n%s\n%s", r.code, r.stdout, r.err)
	}
	var applied plan.ApplyOutput
	if err := json.Unmarshal([]byte(r.stdout), &applied); err != nil {
		t.Fatal(err)
	}
	if !applied.Applied {
		t.Fatalf("not applied: %s", r.stdout)
	}
	// Exactly the saved changes: one call per saved change of each kind.
	want := map[string]int{}
	want["UpdateStage"] = len(dry.Changes.Stages)
	for _, c := range dry.Changes.UsagePlans {
		want[map[string]string{"create": "CreateUsagePlan", "update": "UpdateUsagePlan"}[string(c.Action)]]++
	}
	for _, c := range dry.Changes.APIKeys {
		want[map[string]string{"create": "CreateApiKey", "update": "UpdateApiKey"}[string(c.Action)]]++
	}
	for _, c := range dry.Changes.PlanKeys {
		want[map[string]string{"create": "CreateUsagePlanKey", "delete": "DeleteUsagePlanKey"}[string(c.Action)]]++
	}
	if got := mutatingCalls(sb.Calls()); !sameCounts(got, want) {
		t.Fatalf("apply --from made %v, want one call per saved change %v", got, want)
	}
	if len(applied.Done) != len(dry.Changes.Stages)+len(dry.Changes.UsagePlans)+len(dry.Changes.APIKeys)+len(dry.Changes.PlanKeys) {
		t.Fatalf("done %v, saved changes %+v", applied.Done, dry.Changes.Summary)
	}
	// The live state now matches the plan, including the key value.
	r = runApictl(t, "", false, append(ep, "apply-plan", "-f", planFile, "--dry-run", "--detailed-exitcode")...)
	if r.code != 0 || !strings.Contains(r.stdout, "No changes") {
		t.Fatalf("after apply --from, dry run: code %d\n%s\n%s", r.code, r.stdout, r.err)
	}
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestSavedPlanRefusesWhenLiveStateMoved changes the live state between
// saving and applying, through the SDK and through the AWS CLI: --from
// refuses with exit 1 and makes no change.
func TestSavedPlanRefusesWhenLiveStateMoved(t *testing.T) {
	ctx := context.Background()
	for _, via := range []string{"sdk", "aws-cli"} {
		t.Run(via, func(t *testing.T) {
			_, err := exec.LookPath("aws")
			if via == "aws-cli" && err != nil {
				t.Skip("aws CLI not on PATH; install awscli to run this test")
			}
			sb, ag := planSandbox(t)
			planFile := filepath.Join("..", "plan", "testdata", "good.yaml")
			saved := filepath.Join(t.TempDir(), "changes.json")
			ep := []string{"--endpoint-url", sb.URL()}
			if r := runApictl(t, "", false, append(ep, "apply-plan", "-f", planFile, "--dry-run", "--out", saved)...); r.code != 0 {
				t.Fatalf("save: code %d\n%s", r.code, r.err)
			}
			apis, err := ag.GetRestApis(ctx, &apigateway.GetRestApisInput{})
			if err != nil {
				t.Fatal(err)
			}
			apiID := aws.ToString(apis.Items[0].Id)
			// Someone changes the stage throttle meanwhile.
			if via == "sdk" {
				_, err = ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: &apiID, StageName: aws.String("prod"),
					PatchOperations: []types.PatchOperation{{Op: types.OpReplace, Path: aws.String("/*/*/throttling/rateLimit"), Value: aws.String("7")}}})
				if err != nil {
					t.Fatal(err)
				}
			} else {
				awsCLI(t, sb.URL()).Run("apigateway", "update-stage", "--rest-api-id", apiID, "--stage-name", "prod",
					"--patch-operations", "op=replace,path=/*/*/throttling/rateLimit,value=7")
			}
			sb.ResetCalls()
			r := runApictl(t, "", false, append(ep, "apply-plan", "--from", saved, "--auto-approve")...)
			if r.code != ExitError || !strings.Contains(r.err, "apictl: error: live state changed since the plan was saved: run the plan again") || !strings.Contains(r.err, "hint: ") {
				t.Fatalf("apply --from after a live change: code %d\n%s\n%s", r.code, r.stdout, r.err)
			}
			if got := mutatingCalls(sb.Calls()); len(got) != 0 {
				t.Fatalf("refused apply made changes: %v", got)
			}
		})
	}
}

func TestSavedPlanFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"apply-plan", "-f", "p.yaml", "--out", "c.json"}, "--out saves the changes of a dry run"},
		{[]string{"apply-plan", "--from", "c.json", "-f", "p.yaml"}, "--from applies a saved plan"},
		{[]string{"apply-plan", "--from", "c.json", "--prune"}, "--from applies a saved plan"},
		{[]string{"apply-plan"}, "-f FILE (or --from SAVED.json) is required"},
	} {
		r := runApictl(t, "", false, tc.args...)
		if r.code != ExitError || !strings.Contains(r.err, tc.want) {
			t.Errorf("%v: code %d, stderr %q, want %q", tc.args, r.code, r.err, tc.want)
		}
	}
}
