package audit

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/sandbox"
)

// TestCollectThroughSDK reads a sandbox API with the real SDK clients, and
// skips (with a note) the account-wide reads it is not allowed, but fails
// on other errors.
func TestCollectThroughSDK(t *testing.T) {
	ctx := context.Background()
	sb := sandbox.New(sandbox.Options{})
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	cl, err := awsapi.NewClients(ctx, awsapi.Settings{Region: "us-east-1", EndpointURL: url, StaticCredentials: true, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	ag := cl.APIGateway
	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("pets")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: api.RootResourceId,
		HttpMethod: aws.String("GET"), AuthorizationType: aws.String("AWS_IAM")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: api.RootResourceId,
		HttpMethod: aws.String("GET"), Type: agtypes.IntegrationTypeMock}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	c := Clients{REST: ag, HTTP: cl.APIGatewayV2, Region: "us-east-1"}

	snap, err := Collect(ctx, c, "pets", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if snap.APIID != *api.Id || snap.Type != "REST" || len(snap.Methods) != 1 || snap.Methods[0].Key() != "GET /" ||
		snap.Methods[0].AuthorizationType != "AWS_IAM" || snap.AccountRate != 10000 || len(snap.Skipped) != 0 {
		t.Errorf("snapshot: %+v", snap)
	}

	sb.InjectErrors("GetDomainNames", 1, 403, "AccessDeniedException")
	snap, err = Collect(ctx, c, *api.Id, "prod")
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
