package plan

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

func TestParseKeys(t *testing.T) {
	for key, want := range map[string]MethodID{
		"~1pets/GET":            {"GET", "/pets"},
		"pets/GET":              {"GET", "/pets"},
		"/pets/GET":             {"GET", "/pets"},
		"~1/GET":                {"GET", "/"},
		"//GET":                 {"GET", "/"},
		"~1pets~1{id}/post":     {"POST", "/pets/{id}"},
		"/cart/profile/{u}/GET": {"GET", "/cart/profile/{u}"},
	} {
		got, err := ParseStageMethodKey(key)
		if err != nil || got != want {
			t.Errorf("ParseStageMethodKey(%q) = %v, %v; want %v", key, got, err, want)
		}
	}
	if got := stagePatchKey(MethodID{"GET", "/pets/{id}"}); got != "~1pets~1{id}/GET" {
		t.Errorf("stagePatchKey = %q", got)
	}
	if got := stagePatchKey(MethodID{"GET", "/"}); got != "~1/GET" {
		t.Errorf("root stagePatchKey = %q", got)
	}
	if got := planThrottleKey(MethodID{"GET", "/"}); got != "//GET" {
		t.Errorf("root planThrottleKey = %q", got)
	}
}

func f64(f float64) *float64 { return &f }
func ip(i int) *int          { return &i }

func goodPlan(t *testing.T) *Plan {
	t.Helper()
	p, err := Load("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func liveFor(p *Plan) *Live {
	l := &Live{APIID: "api1", APIName: "cart-api", Region: "us-east-1", Methods: map[MethodID]bool{}, Stages: map[string]*LiveStage{}}
	for _, m := range []MethodID{{"GET", "/cart/profile/{userId}"}, {"POST", "/orders"}, {"GET", "/"}} {
		l.Methods[m] = true
	}
	for _, s := range p.Stages {
		l.Stages[s] = &LiveStage{Name: s, Methods: map[MethodID]LiveMethodSetting{}}
	}
	return l
}

var env = func(k string) string {
	if k == "ALICE_KEY" {
		return "alice-secret-value-0123456789"
	}
	return ""
}

// converged returns live state equal to good.yaml, as API Gateway reports
// it (stage keys escaped, plan keys slash form, numbers as floats).
func converged(t *testing.T, p *Plan) *Live {
	l := liveFor(p)
	st := l.Stages["prod"]
	st.Default = &ThrottleValue{100, 50}
	st.DefaultMetrics = true
	for _, m := range []struct {
		key string
		s   types.MethodSetting
	}{
		{"~1cart~1profile~1{userId}/GET", types.MethodSetting{ThrottlingRateLimit: 40, ThrottlingBurstLimit: 20, MetricsEnabled: true}},
		{"~1orders/POST", types.MethodSetting{ThrottlingRateLimit: 10.5, ThrottlingBurstLimit: 5, MetricsEnabled: false}},
		{"~1/GET", types.MethodSetting{ThrottlingRateLimit: 5, ThrottlingBurstLimit: 5, MetricsEnabled: true}},
	} {
		id, err := ParseStageMethodKey(m.key)
		if err != nil {
			t.Fatal(err)
		}
		st.Methods[id] = LiveMethodSetting{Throttle: normaliseThrottle(m.s.ThrottlingRateLimit, m.s.ThrottlingBurstLimit), Metrics: m.s.MetricsEnabled}
	}
	tags := map[string]string{ManagedTag: "true"}
	gold, err := normalisePlan(types.UsagePlan{Id: aws.String("p1"), Name: aws.String("gold"), Description: aws.String("Gold customers"), Tags: tags,
		Throttle: &types.ThrottleSettings{RateLimit: 50, BurstLimit: 25},
		Quota:    &types.QuotaSettings{Limit: 100000, Period: types.QuotaPeriodTypeMonth, Offset: 2},
		ApiStages: []types.ApiStage{{ApiId: aws.String("api1"), Stage: aws.String("prod"),
			Throttle: map[string]types.ThrottleSettings{"/cart/profile/{userId}/GET": {RateLimit: 20, BurstLimit: 10}}}}}, "api1")
	if err != nil {
		t.Fatal(err)
	}
	gold.Keys, gold.KeysRead = []LivePlanKey{{ID: "k1", Name: "alice"}}, true
	free, _ := normalisePlan(types.UsagePlan{Id: aws.String("p2"), Name: aws.String("free"), Tags: tags,
		Throttle:  &types.ThrottleSettings{RateLimit: 2, BurstLimit: 1},
		Quota:     &types.QuotaSettings{Limit: 1000, Period: types.QuotaPeriodTypeDay},
		ApiStages: []types.ApiStage{{ApiId: aws.String("api1"), Stage: aws.String("prod")}}}, "api1")
	free.Keys, free.KeysRead = []LivePlanKey{{ID: "k2", Name: "bob"}}, true
	l.UsagePlans = []*LivePlan{gold, free}
	match := true
	l.APIKeys = []*LiveKey{
		{ID: "k1", Name: "alice", Description: "Alice's key", CustomerID: "cust-1", Enabled: true, Tags: tags, ValueMatches: &match},
		{ID: "k2", Name: "bob", Enabled: false, Tags: tags},
	}
	return l
}

func TestComputeFromScratch(t *testing.T) {
	p := goodPlan(t)
	ch, err := Compute(p, liveFor(p), DiffOptions{Getenv: env})
	if err != nil {
		t.Fatal(err)
	}
	txt := ch.Text()
	t.Log("\n" + txt)
	if len(ch.Stages) != 1 || len(ch.UsagePlans) != 2 || len(ch.APIKeys) != 2 || len(ch.PlanKeys) != 2 {
		t.Fatalf("changes: %d stages, %d plans, %d keys, %d plan keys", len(ch.Stages), len(ch.UsagePlans), len(ch.APIKeys), len(ch.PlanKeys))
	}
	var paths []string
	for _, op := range ch.Stages[0].Apply.Ops {
		paths = append(paths, op.Op+" "+op.Path+"="+aws.ToString(op.Value))
	}
	got := strings.Join(paths, "\n")
	for _, want := range []string{"replace /*/*/throttling/rateLimit=100", "replace /~1cart~1profile~1{userId}/GET/throttling/burstLimit=20",
		"replace /~1orders/POST/throttling/rateLimit=10.5", "replace /~1/GET/throttling/rateLimit=5", "replace /*/*/metrics/enabled=true"} {
		if !strings.Contains(got, want) {
			t.Errorf("stage ops lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(txt, "alice-secret") {
		t.Error("diff shows a key value")
	}
	if !strings.Contains(txt, "(from $ALICE_KEY)") || !strings.Contains(txt, "Plan: 6 to create, 1 to update, 0 to delete.") {
		t.Errorf("unexpected text")
	}
	if ch.UsagePlans[0].Apply.CreatePlan.APIStages[0].Throttle["/cart/profile/{userId}/GET"].Rate != 20 {
		t.Errorf("create plan input = %+v", ch.UsagePlans[0].Apply.CreatePlan)
	}
}

func TestComputeConvergedIsEmpty(t *testing.T) {
	p := goodPlan(t)
	ch, err := Compute(p, converged(t, p), DiffOptions{Getenv: env})
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Empty() {
		t.Fatalf("want no changes, got:\n%s", ch.Text())
	}
}

func TestComputeOneMethodThrottle(t *testing.T) {
	p := goodPlan(t)
	*p.Stage.Methods[0].Throttle.Rate = 41
	*p.UsagePlans[0].Methods[0].Burst = 11
	ch, err := Compute(p, converged(t, p), DiffOptions{Getenv: env})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Stages) != 1 || len(ch.Stages[0].Apply.Ops) != 1 || ch.Stages[0].Apply.Ops[0].Path != "/~1cart~1profile~1{userId}/GET/throttling/rateLimit" {
		t.Errorf("stage ops = %+v", ch.Stages)
	}
	if len(ch.UsagePlans) != 1 || len(ch.UsagePlans[0].Apply.Ops) != 1 {
		t.Fatalf("plan changes = %+v", ch.UsagePlans)
	}
	op := ch.UsagePlans[0].Apply.Ops[0]
	if op.Path != "/apiStages/api1:prod/throttle" || aws.ToString(op.Value) != `{"/cart/profile/{userId}/GET":{"burstLimit":11,"rateLimit":20}}` {
		t.Errorf("plan op = %s %s", op.Path, aws.ToString(op.Value))
	}
	if !strings.Contains(ch.Text(), "~ GET /cart/profile/{userId} throttle.rate: 40 → 41") {
		t.Errorf("text:\n%s", ch.Text())
	}
}

func TestComputeOwnership(t *testing.T) {
	p := goodPlan(t)
	l := converged(t, p)
	l.UsagePlans[1].Tags = map[string]string{}
	_, err := Compute(p, l, DiffOptions{Getenv: env})
	le, ok := err.(*LiveError)
	if !ok || !strings.Contains(le.Msg, `usage plan "free" (id p2) exists but is not managed`) || !strings.Contains(le.Fix, "tag-resource") {
		t.Fatalf("want ownership error, got %v", err)
	}
}

func TestComputePruneAndKeyMove(t *testing.T) {
	p := goodPlan(t)
	l := converged(t, p)
	addLegacyPlan(l)
	ch, err := Compute(p, l, DiffOptions{Getenv: env})
	if err != nil {
		t.Fatal(err)
	}
	want := []Resource{{KindUsagePlan, "legacy", "p3"}, {KindAPIKey, "old", "k9"}}
	if !ch.Empty() || !reflect.DeepEqual(ch.Unpruned, want) || len(ch.Notes) != 0 {
		t.Fatalf("without prune: want %v unpruned, got %v (notes %v)\n%s", want, ch.Unpruned, ch.Notes, ch.Text())
	}
	ch, err = Compute(p, l, DiffOptions{Getenv: env, Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Summary.Delete != 3 { // plan, its key membership, the key
		t.Fatalf("prune:\n%s", ch.Text())
	}
	if len(ch.UsagePlans[0].Apply.Detach) != 1 {
		t.Errorf("detach = %v", ch.UsagePlans[0].Apply.Detach)
	}
}

func TestComputeUnknownMethod(t *testing.T) {
	p := goodPlan(t)
	l := liveFor(p)
	delete(l.Methods, MethodID{"POST", "/orders"})
	_, err := Compute(p, l, DiffOptions{Getenv: env})
	if err == nil || !strings.Contains(err.Error(), `has no method "POST /orders"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestComputeMissingEnv(t *testing.T) {
	p := goodPlan(t)
	_, err := Compute(p, liveFor(p), DiffOptions{})
	if err == nil || !strings.Contains(err.Error(), "ALICE_KEY is not set") {
		t.Fatalf("err = %v", err)
	}
}

func TestDiffGolden(t *testing.T) {
	p := goodPlan(t)
	ch, err := Compute(p, liveFor(p), DiffOptions{Getenv: env})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "diff_create.golden", []byte(ch.Text()))
	j, err := json.MarshalIndent(ch, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "diff_create.json.golden", append(j, '\n'))

	// Updates and deletes: one method changed, a plan dropped and pruned,
	// a key disabled, a method override not in the plan pruned.
	l := converged(t, p)
	l.Stages["prod"].Methods[MethodID{"GET", "/legacy"}] = LiveMethodSetting{Throttle: &ThrottleValue{7, 3}}
	*p.Stage.Methods[0].Throttle.Rate = 45
	p.Stage.Throttle = &Throttle{Rate: f64(120), Burst: ip(60)}
	p.UsagePlans[0].Quota = nil
	p.APIKeys[1].Enabled = nil
	p.UsagePlans = p.UsagePlans[:1]
	ch, err = Compute(p, l, DiffOptions{Getenv: env, Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "diff_update.golden", []byte(ch.Text()))
}

func TestComputeNotesKeylessUsagePlans(t *testing.T) {
	p := goodPlan(t)
	l := converged(t, p)
	l.KeyRequired = map[MethodID]bool{}
	ch, err := Compute(p, l, DiffOptions{Getenv: env})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Notes) != 1 || !strings.Contains(ch.Notes[0], "apiKeyRequired") {
		t.Errorf("notes = %v", ch.Notes)
	}
	l.KeyRequired[MethodID{"GET", "/"}] = true
	if ch, _ = Compute(p, l, DiffOptions{Getenv: env}); len(ch.Notes) != 0 {
		t.Errorf("notes = %v", ch.Notes)
	}
}

func TestComputeKeyInAnotherPlanOfTheStage(t *testing.T) {
	p := goodPlan(t)
	l := converged(t, p)
	l.UsagePlans[0].Keys = nil // alice must join gold...
	other, _ := normalisePlan(types.UsagePlan{Id: aws.String("p9"), Name: aws.String("hand-made"),
		ApiStages: []types.ApiStage{{ApiId: aws.String("api1"), Stage: aws.String("prod")}}}, "api1")
	other.Keys = []LivePlanKey{{ID: "k1", Name: "alice"}} // ...but is in a hand-made plan of prod
	l.UsagePlans = append(l.UsagePlans, other)
	_, err := Compute(p, l, DiffOptions{Getenv: env})
	if err == nil || !strings.Contains(err.Error(), `API key "alice" is already in usage plan "hand-made" (p9) for stage prod`) {
		t.Fatalf("err = %v", err)
	}
	other.Tags = map[string]string{ManagedTag: "true"}
	if _, err := Compute(p, l, DiffOptions{Getenv: env, Prune: true}); err != nil {
		t.Fatalf("with --prune the managed plan goes first: %v", err)
	}
}
