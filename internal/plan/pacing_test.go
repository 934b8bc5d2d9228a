package plan

import (
	"context"
	"testing"
	"time"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/sandbox"
)

func TestPacingFor(t *testing.T) {
	for u, loop := range map[string]bool{
		"http://127.0.0.1:4566": true, "http://localhost:4566": true, "http://[::1]:80": true, "http://abc.execute-api.localhost:4566": true,
		"https://apigateway.us-east-1.amazonaws.com": false, "": false, "http://10.0.0.1:4566": false,
	} {
		if p := PacingFor(u); (p == nil) != loop || (!loop && p["UpdateUsagePlan"] != 20*time.Second) {
			t.Errorf("PacingFor(%q) = %v", u, p)
		}
	}
}

// TestApplyPacesUpdateUsagePlan: with the sandbox enforcing an
// UpdateUsagePlan rate limit, paced updates never hit it.
func TestApplyPacesUpdateUsagePlan(t *testing.T) {
	const interval = 300 * time.Millisecond
	sb := sandbox.New(sandbox.Options{ControlPlaneRateLimits: map[string]sandbox.RateLimit{"UpdateUsagePlan": {Rate: 1 / interval.Seconds(), Burst: 1}}})
	if _, err := sb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	f2 := fixtureOn(t, sb)
	p := goodPlan(t)
	if _, _, err := f2.apply(t, p, DiffOptions{}, fastApply()); err != nil {
		t.Fatal(err)
	}
	for i := range p.UsagePlans {
		p.UsagePlans[i].Description = "changed"
	}
	sb.ResetCalls()
	opts := fastApply()
	opts.Pacing = map[string]time.Duration{"UpdateUsagePlan": interval + 100*time.Millisecond}
	start := time.Now()
	_, res, err := f2.apply(t, p, DiffOptions{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := sb.Calls()["UpdateUsagePlan"]; got != 2 || res.Calls["UpdateUsagePlan"] != 2 {
		t.Errorf("UpdateUsagePlan calls = %d (apply counted %v): pacing should avoid 429s", got, res.Calls)
	}
	if el := time.Since(start); el < interval {
		t.Errorf("two paced updates took %v, want >= %v", el, interval)
	}
}

func fixtureOn(t *testing.T, sb *sandbox.Sandbox) *fixture {
	t.Helper()
	cl, err := awsapi.NewClients(context.Background(), awsapi.Settings{Region: "us-east-1", EndpointURL: sb.URL(), StaticCredentials: true, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	id := setupCartAPI(t, cl.APIGateway)
	sb.ResetCalls()
	return &fixture{sb: sb, c: Client{REST: cl.APIGateway, HTTP: cl.APIGatewayV2, Region: "us-east-1"}, rest: cl.APIGateway, apiID: id, region: "us-east-1"}
}
