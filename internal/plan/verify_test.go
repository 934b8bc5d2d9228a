package plan

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/apigateway"
)

func fastVerify() VerifyOptions {
	return VerifyOptions{Diff: DiffOptions{Getenv: env}, Timeout: 50 * time.Millisecond, Interval: 10 * time.Millisecond}
}

// TestLedgerSilentNoOpFailsVerify: UpdateUsagePlan answered 200 and not
// applied (the emulator's silent no-op, through the real SDK) makes Verify
// fail naming the patch path AWS did not take.
func TestLedgerSilentNoOpFailsVerify(t *testing.T) {
	f := newFixture(t)
	p := goodPlan(t)
	ctx := context.Background()
	if _, _, err := f.apply(t, p, DiffOptions{}, fastApply()); err != nil {
		t.Fatal(err)
	}
	if err := Verify(ctx, f.c, p, fastVerify()); err != nil {
		t.Fatalf("verify after a clean apply: %v", err)
	}

	rate := 30.0
	p.UsagePlans[0].Methods[0].Rate = &rate
	f.sb.InjectSilentNoOps("UpdateUsagePlan", 1)
	_, res, err := f.apply(t, p, DiffOptions{}, fastApply())
	if err != nil || res.Calls["UpdateUsagePlan"] != 1 {
		t.Fatalf("apply: %v (calls %v)", err, res.Calls)
	}
	var progress strings.Builder
	opts := fastVerify()
	opts.Progress = &progress
	err = Verify(ctx, f.c, p, opts)
	var na *NotAppliedError
	if !errors.As(err, &na) {
		t.Fatalf("want NotAppliedError, got %v", err)
	}
	want := `UpdateUsagePlan of usage plan "gold" returned 200 but /apiStages/` + f.apiID + `:prod/throttle is unchanged`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q\nwant it to contain %q", err, want)
	}
	if !strings.Contains(progress.String(), "waiting for API Gateway to show the changes") {
		t.Errorf("no progress while waiting: %q", progress.String())
	}

	// Applied again without the fault, the change is taken.
	if _, _, err := f.apply(t, p, DiffOptions{}, fastApply()); err != nil {
		t.Fatal(err)
	}
	if err := Verify(ctx, f.c, p, fastVerify()); err != nil {
		t.Fatalf("verify after the re-apply: %v", err)
	}
}

// TestLedgerEventualConsistencyWaitedFor: a read that lags the writes (a
// membership not yet listed) is waited for, not reported.
func TestLedgerEventualConsistencyWaitedFor(t *testing.T) {
	f := newFixture(t)
	p := goodPlan(t)
	if _, _, err := f.apply(t, p, DiffOptions{}, fastApply()); err != nil {
		t.Fatal(err)
	}
	lag := &laggingKeys{RESTAPI: f.c.REST, hideFor: 2}
	c := f.c
	c.REST = lag
	var sleeps []time.Duration
	opts := fastVerify()
	opts.Timeout = time.Minute
	opts.Sleep = func(_ context.Context, d time.Duration) error { sleeps = append(sleeps, d); return nil }
	if err := Verify(context.Background(), c, p, opts); err != nil {
		t.Fatal(err)
	}
	if len(sleeps) != 2 || sleeps[1] != 2*sleeps[0] {
		t.Errorf("sleeps %v: want two, doubling", sleeps)
	}
}

func TestNotAppliedFieldsNameTheWrite(t *testing.T) {
	rem := &Changes{APIType: TypeREST, PlanKeys: []*Change{{Action: ActionCreate, Kind: "plan_key", Plan: "gold", Key: "alice"}},
		APIKeys: []*Change{{Action: ActionDelete, Kind: "api_key", Name: "old"}}}
	got := (&NotAppliedError{Remaining: rem}).Error()
	for _, want := range []string{
		`CreateUsagePlanKey returned 201 but key "alice" in usage plan "gold" does not exist`,
		`DeleteApiKey returned 202 but API key "old" still exists`,
		"AWS did not take 2 changes",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
}

// laggingKeys is a real client whose usage plans list no keys during the
// first hideFor reads of the live state, as an eventually consistent read
// right after CreateUsagePlanKey may.
type laggingKeys struct {
	RESTAPI
	hideFor, reads int
}

func (l *laggingKeys) GetRestApis(ctx context.Context, in *apigateway.GetRestApisInput, o ...func(*apigateway.Options)) (*apigateway.GetRestApisOutput, error) {
	l.reads++
	return l.RESTAPI.GetRestApis(ctx, in, o...)
}

func (l *laggingKeys) GetUsagePlanKeys(ctx context.Context, in *apigateway.GetUsagePlanKeysInput, o ...func(*apigateway.Options)) (*apigateway.GetUsagePlanKeysOutput, error) {
	out, err := l.RESTAPI.GetUsagePlanKeys(ctx, in, o...)
	if err == nil && l.reads <= l.hideFor {
		out.Items = nil
	}
	return out, err
}
