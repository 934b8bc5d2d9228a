package plan

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/sandbox"
)

// TestApplyClientLeavesRetriesToApply: with clients built as the command
// builds them (the SDK retryer's 8 attempts), the apply client still makes
// exactly Apply's MaxAttempts calls of a throttled write, not attempts × 8.
func TestApplyClientLeavesRetriesToApply(t *testing.T) {
	ctx := context.Background()
	sb := sandbox.New(sandbox.Options{})
	if _, err := sb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	cl, err := awsapi.NewClients(ctx, awsapi.Settings{Region: "us-east-1", EndpointURL: sb.URL(), StaticCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	setupCartAPI(t, cl.APIGateway)
	p := goodPlan(t)
	ch, err := Diff(ctx, NewClient(cl), p, DiffOptions{Getenv: env})
	if err != nil {
		t.Fatal(err)
	}
	sb.ResetCalls()
	sb.InjectErrors("UpdateStage", 5, 429, "TooManyRequestsException")
	opts := fastApply()
	opts.MaxAttempts = 3
	opts.Sleep = func(context.Context, time.Duration) error { return nil }
	_, err = Apply(ctx, NewApplyClient(cl), ch, opts)
	if err == nil || !strings.Contains(err.Error(), "TooManyRequests") {
		t.Fatalf("want the apply to give up on TooManyRequests, got %v", err)
	}
	if got := sb.Calls()["UpdateStage"]; got != 3 {
		t.Errorf("UpdateStage called %d times, want 3 (Apply's attempts only)", got)
	}
}
