package plan

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// TestLedgerNewMethodSettingWrittenExplicitly: a stage method setting
// apply creates gets both throttle fields and metrics/enabled written,
// whatever AWS starts a new setting from (the emulator starts it from the
// account defaults, metrics off), so nothing relies on inheriting */*.
func TestLedgerNewMethodSettingWrittenExplicitly(t *testing.T) {
	f := newFixture(t)
	p := goodPlan(t) // */* detailedMetrics true; GET / sets only a throttle
	ch, _, err := f.apply(t, p, DiffOptions{}, fastApply())
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, op := range ch.Stages[0].Apply.Ops {
		paths = append(paths, op.Path)
	}
	for _, want := range []string{"/~1/GET/throttling/rateLimit", "/~1/GET/throttling/burstLimit", "/~1/GET/metrics/enabled",
		"/~1cart~1profile~1{userId}/GET/metrics/enabled"} {
		if !strings.Contains(strings.Join(paths, " "), want) {
			t.Errorf("UpdateStage lacks %s: %v", want, paths)
		}
	}
	st, err := f.rest.GetStage(context.Background(), &apigateway.GetStageInput{RestApiId: &f.apiID, StageName: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	root := st.MethodSettings["~1/GET"]
	if root.ThrottlingRateLimit != 5 || root.ThrottlingBurstLimit != 5 || !root.MetricsEnabled {
		t.Errorf("GET / setting %+v: want 5/5 with metrics on as */*", root)
	}
	f.mustBeConverged(t, p)
}

// TestLedgerZeroThrottleBlocks: a 0/0 stage method throttle refuses every
// request (429), and apictl shows and diffs it as blocking, not as "no
// throttle".
func TestLedgerZeroThrottleBlocks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.rest.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: &f.apiID, StageName: aws.String("prod"), PatchOperations: []types.PatchOperation{
		{Op: types.OpReplace, Path: aws.String("/~1orders/POST/throttling/rateLimit"), Value: aws.String("0")},
		{Op: types.OpReplace, Path: aws.String("/~1orders/POST/throttling/burstLimit"), Value: aws.String("0")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		resp, err := http.Post(f.sb.InvokeURL(f.apiID, "prod")+"/orders", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("request %d through a 0/0 throttle: %d, want 429", i, resp.StatusCode)
		}
	}

	p := goodPlan(t)
	live, err := ReadLive(ctx, f.c.REST, f.region, p, ReadOptions{Getenv: env})
	if err != nil {
		t.Fatal(err)
	}
	got := live.Stages["prod"].Methods[MethodID{"POST", "/orders"}].Throttle
	if !got.Blocks() {
		t.Fatalf("live POST /orders throttle %+v: want a blocking 0/0", got)
	}
	ch, err := Compute(p, live, DiffOptions{Getenv: env})
	if err != nil {
		t.Fatal(err)
	}
	if text := ch.Text(); !strings.Contains(text, "~ POST /orders throttle.rate: 0 (blocks every request) → 10.5") {
		t.Errorf("diff does not show the blocking throttle:\n%s", text)
	}
	if fmtThrottle(got) != "rate 0, burst 0 (blocks every request)" || fmtThrottle(nil) != "none" {
		t.Errorf("fmtThrottle(0/0) = %q", fmtThrottle(got))
	}
}
