package audit

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/apictl/apictl/internal/sandbox"
	"github.com/apictl/apictl/internal/sandbox/sandboxtest"
)

// TestCollectThroughSDK reads a sandbox API with the real SDK clients, and
// skips (with a note) the account-wide reads it is not allowed, but fails
// on other errors.
func TestCollectThroughSDK(t *testing.T) {
	ctx := context.Background()
	sb, cl := sandboxtest.Start(t, sandbox.New(sandbox.Options{}))
	ag := cl.APIGateway
	api := sandboxtest.NewRestAPI(t, ag, "pets")
	api.Method("/", "GET", apigateway.PutMethodInput{AuthorizationType: aws.String("AWS_IAM")})
	if _, err := ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: aws.String(api.ID), ResourceId: aws.String(api.Resource("/")),
		HttpMethod: aws.String("GET"), Type: agtypes.IntegrationTypeMock}); err != nil {
		t.Fatal(err)
	}
	api.Deploy("prod")
	c := Clients{REST: ag, HTTP: cl.APIGatewayV2, Region: "us-east-1"}

	snap, err := Collect(ctx, c, "pets", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if snap.APIID != api.ID || snap.Type != "REST" || len(snap.Methods) != 1 || snap.Methods[0].Key() != "GET /" ||
		snap.Methods[0].AuthorizationType != "AWS_IAM" || snap.AccountRate != 10000 || len(snap.Skipped) != 0 {
		t.Errorf("snapshot: %+v", snap)
	}

	sb.InjectErrors("GetDomainNames", 1, 403, "AccessDeniedException")
	snap, err = Collect(ctx, c, api.ID, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Skipped) != 1 || !strings.Contains(snap.Skipped[0], "SEC007") {
		t.Errorf("skipped %q, want the domain names", snap.Skipped)
	}
	r := Evaluate(snap, Inputs{}, High)
	if len(r.Notes) != 1 || !strings.HasPrefix(r.Notes[0], "could not read custom domain names (AccessDeniedException)") {
		t.Errorf("notes %q", r.Notes)
	}

	sb.InjectErrors("GetDomainNames", 1, 500, "InternalFailure")
	if _, err := Collect(ctx, c, "pets", "prod"); err == nil {
		t.Error("a server error while reading domain names was ignored")
	}
	if _, err := Collect(ctx, c, "pets", "staging"); err == nil || !strings.Contains(err.Error(), `no stage "staging"`) {
		t.Errorf("unknown stage: %v", err)
	}
	if _, err := Collect(ctx, c, "cats", "prod"); err == nil || !strings.Contains(err.Error(), `"cats"`) {
		t.Errorf("unknown api: %v", err)
	}
}
