package sandbox

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// TestSilentNoOps: an injected silent no-op answers the write with success
// and the resource as it still is, changes nothing, and is used up.
func TestSilentNoOps(t *testing.T) {
	sb, c := startSandbox(t, Options{})
	ctx := context.Background()
	ag := c.APIGateway
	plan, err := ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("gold"), Description: aws.String("before")})
	if err != nil {
		t.Fatal(err)
	}
	key, err := ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	update := func() (*apigateway.UpdateUsagePlanOutput, error) {
		return ag.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: plan.Id, PatchOperations: []agtypes.PatchOperation{
			{Op: agtypes.OpReplace, Path: aws.String("/description"), Value: aws.String("after")}}})
	}

	sb.InjectSilentNoOps("UpdateUsagePlan", 1)
	sb.InjectSilentNoOps("DeleteApiKey", 1)
	out, err := update()
	if err != nil {
		t.Fatalf("silent no-op answered an error: %v", err)
	}
	if aws.ToString(out.Description) != "before" || aws.ToString(out.Id) != aws.ToString(plan.Id) {
		t.Errorf("no-op answer %q %q, want the plan as it is", aws.ToString(out.Id), aws.ToString(out.Description))
	}
	if _, err := ag.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: key.Id}); err != nil {
		t.Fatalf("silent delete answered an error: %v", err)
	}
	got, err := ag.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: plan.Id})
	if err != nil || aws.ToString(got.Description) != "before" {
		t.Fatalf("plan changed by a no-op: %v %q", err, aws.ToString(got.Description))
	}
	if _, err := ag.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: key.Id}); err != nil {
		t.Fatalf("key deleted by a no-op: %v", err)
	}

	// Used up: the next write is applied.
	if out, err = update(); err != nil || aws.ToString(out.Description) != "after" {
		t.Fatalf("second update: %v %q", err, aws.ToString(out.Description))
	}
	if calls := sb.Calls(); calls["UpdateUsagePlan"] != 2 || calls["GetUsagePlan"] != 1 {
		t.Errorf("calls %v: the no-op must count as the write, not as a read", calls)
	}
}

// TestRoutesNameEveryOperation: Routes lists each served operation once
// with its method and path, as the IAM policy test needs.
func TestRoutesNameEveryOperation(t *testing.T) {
	sb := New(Options{})
	seen := map[string]Route{}
	for _, r := range sb.Routes() {
		if _, dup := seen[r.Op]; dup {
			t.Errorf("operation %s registered twice", r.Op)
		}
		seen[r.Op] = r
	}
	if r := seen["UpdateUsagePlan"]; r.Method != "PATCH" || r.Path != "/usageplans/{usagePlanId}" {
		t.Errorf("UpdateUsagePlan route %+v", r)
	}
	if r := seen["apigatewayv2:GetApis"]; r.Method != "GET" || r.Path != "/v2/apis" {
		t.Errorf("apigatewayv2:GetApis route %+v", r)
	}
}
