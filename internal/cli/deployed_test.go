package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/apictl/apictl/internal/awsapi"
)

// TestLedgerLoadtestUndeployedChanges: loadtest --api reads the deployment
// the stage serves, warns about methods changed since, and does not send
// load to a method the stage does not serve yet.
func TestLedgerLoadtestUndeployedChanges(t *testing.T) {
	ctx := context.Background()
	rec := &pathRecorder{}
	sb, apiID := cartSandbox(t, rec)
	cl, err := awsapi.NewClients(ctx, SandboxSettings(sb.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ag := cl.APIGateway
	res, err := ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: aws.String(apiID)})
	if err != nil {
		t.Fatal(err)
	}
	var items string
	for _, r := range res.Items {
		if aws.ToString(r.Path) == "/items" {
			items = aws.ToString(r.Id)
		}
	}
	// After the deployment: a new DELETE /items and GET /items now needing a key.
	if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: aws.String(apiID), ResourceId: aws.String(items), HttpMethod: aws.String("DELETE"), AuthorizationType: aws.String("NONE")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: aws.String(apiID), ResourceId: aws.String(items), HttpMethod: aws.String("GET"),
		PatchOperations: []agtypes.PatchOperation{{Op: agtypes.OpReplace, Path: aws.String("/apiKeyRequired"), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runLoadtest(t, "--endpoint-url", sb.URL(), "loadtest", "--api", "cart", "--stage", "prod",
		"--path-param", "userId=42", "--rate", "20", "--duration", "1s", "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{
		"warning: DELETE /items is not in deployment",
		"GET /items: apiKeyRequired is true now but false in the deployment",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	var got struct {
		Targets  []string `json:"targets"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Join(got.Targets, ",") != "GET /cart/profile/{userId},GET /items,POST /items" {
		t.Errorf("targets %v: the undeployed DELETE /items must be left out", got.Targets)
	}
	if len(got.Warnings) < 2 || !strings.Contains(strings.Join(got.Warnings, "\n"), "DELETE /items") {
		t.Errorf("json warnings: %v", got.Warnings)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	// The stage serves the deployed GET /items (no key needed): it reached the backend.
	if rec.paths["GET /items"] == 0 || rec.paths["DELETE /items"] != 0 {
		t.Errorf("backend saw %v", rec.paths)
	}
}

// TestLoadtestUnknownStage: discovery reads the stage, so a stage that does
// not exist fails before any load is sent.
func TestLoadtestUnknownStage(t *testing.T) {
	rec := &pathRecorder{}
	sb, _ := cartSandbox(t, rec)
	_, stderr, err := runLoadtest(t, "--endpoint-url", sb.URL(), "loadtest", "--api", "cart", "--stage", "nostage",
		"--path-param", "userId=42", "--rate", "5", "--duration", "1s")
	if err == nil || !strings.Contains(err.Error(), `api cart has no stage "nostage"`) {
		t.Fatalf("err = %v\n%s", err, stderr)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.paths) != 0 {
		t.Fatalf("load was sent: %v", rec.paths)
	}
}
