package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/loadtest"
	"github.com/apictl/apictl/internal/sandbox"
)

// TestLedgerRegionPartitionARNs: with --region cn-north-1 apictl builds
// aws-cn ARNs (the China sandbox refuses arn:aws:… ones) and amazonaws.com.cn
// invoke URLs.
func TestLedgerRegionPartitionARNs(t *testing.T) {
	ctx := context.Background()
	sb := sandbox.New(sandbox.Options{Region: "cn-north-1"})
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	cl, err := awsapi.NewClients(ctx, awsapi.Settings{Region: "cn-north-1", EndpointURL: url, StaticCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	ag := cl.APIGateway
	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("cn-api")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: api.RootResourceId, HttpMethod: aws.String("GET"),
		AuthorizationType: aws.String("NONE"), ApiKeyRequired: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	// An untagged plan with the plan's name: apictl reads its tags (by ARN)
	// and refuses to adopt it, printing the ARN to tag it with.
	gold, err := ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("gold")})
	if err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(planFile, []byte("apiVersion: apictl/v1\nkind: Plan\napi: cn-api\nstages: [prod]\nusagePlans:\n  - name: gold\n    throttle: {rate: 5, burst: 5}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runApictl(t, "", false, "--endpoint-url", url, "--region", "cn-north-1", "apply-plan", "-f", planFile, "--dry-run")
	want := "arn:aws-cn:apigateway:cn-north-1::/usageplans/" + aws.ToString(gold.Id)
	if r.code != ExitError || !strings.Contains(r.err, want) {
		t.Fatalf("apply-plan in cn-north-1: code %d, want the hint to name %s\nstdout: %s\nstderr: %s", r.code, want, r.stdout, r.err)
	}
	if strings.Contains(r.err, "arn:aws:") {
		t.Fatalf("aws-partition ARN in cn-north-1:\n%s", r.err)
	}
	if got := loadtest.AWSInvokeURL("cn-north-1", "prod")("abc123"); got != "https://abc123.execute-api.cn-north-1.amazonaws.com.cn/prod" {
		t.Fatalf("invoke URL in cn-north-1: %s", got)
	}
}
