package plan

import (
	"strings"
	"testing"
)

func sampleInput() GenerateInput {
	ltJSON := `{"target":"cart","mode":"search","sustainable_rps":412,"methods":[
	 {"name":"GET /cart/profile/{userId}","method":"GET","url":"http://x/cart/profile/42","sustainable_rps":150.5,"pass":true},
	 {"method":"POST","path":"/orders","sustainable_rps":90}]}`
	mJSON := `{"api":"cart-api","stage":"prod","totals":{"count":1000,"peak_rps":300.25},
	 "daily":[{"date":"2026-11-27","count":50000,"partial":true},{"date":"2026-11-28","count":86400}]}`
	lt, err := DecodeLoadtest([]byte(ltJSON))
	if err != nil {
		panic(err)
	}
	m, err := DecodeMeasure([]byte(mJSON))
	if err != nil {
		panic(err)
	}
	return GenerateInput{API: "cart-api", Stage: "prod", Loadtest: lt, Measure: m,
		LoadtestLabel: "loadtest 2026-11-29", MeasureLabel: "measure 2026-11-22..2026-11-29",
		Tiers: []Tier{{"basic", 0.1}, {"pro", 0.5}},
		Keys:  []GenerateKey{{Name: "alice", Tier: "pro", FromEnv: "ALICE_KEY"}, {Name: "bob", Tier: "basic"}}}
}

func TestGenerate(t *testing.T) {
	p, y, err := Generate(sampleInput())
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	t.Logf("\n%s", y)
	// */* is what the methods leave of floor(0.8 × 412) = 329: 329 - 120 - 72.
	if got := *p.Stage.Throttle.Rate; got != 137 {
		t.Errorf("stage rate = %v, want 137", got)
	}
	if got := *p.Stage.Throttle.Burst; got != 69 {
		t.Errorf("stage burst = %v, want 69", got)
	}
	if len(p.Stage.Methods) != 2 || *p.Stage.Methods[0].Throttle.Rate != 120 || *p.Stage.Methods[1].Throttle.Rate != 72 {
		t.Errorf("methods = %+v", p.Stage.Methods)
	}
	if r := *p.UsagePlans[1].Throttle.Rate; r != 96 { // 0.5 × (120 + 72)
		t.Errorf("pro rate = %v, want 96", r)
	}
	if q := p.UsagePlans[1].Quota; q == nil || *q.Limit != 43200 || q.Period != "DAY" {
		t.Errorf("pro quota = %+v", q)
	}
	for _, want := range []string{"# 0.8 × 150.5 RPS allocated to this method (loadtest 2026-11-29)", "applies to EACH method separately", BestEffortURL, "busiest observed day 2026-11-28", "fromEnv: ALICE_KEY"} {
		if !strings.Contains(string(y), want) {
			t.Errorf("YAML lacks %q", want)
		}
	}
}

func TestGenerateQuotaOnlyFromWholeDays(t *testing.T) {
	in := sampleInput()
	in.Measure.Daily = in.Measure.Daily[:1] // only the partial day
	p, y, err := Generate(in)
	if err != nil {
		t.Fatal(err)
	}
	if p.UsagePlans[0].Quota != nil || !strings.Contains(string(y), "saw only partial days") {
		t.Errorf("partial day made a quota:\n%s", y)
	}
	in.Measure = nil
	if _, y, err = Generate(in); err != nil || !strings.Contains(string(y), "pass --measure") {
		t.Errorf("no measure: %v\n%s", err, y)
	}
	in.Headroom = 1.5
	if _, _, err = Generate(in); err == nil {
		t.Error("headroom 1.5 accepted")
	}
	in.Headroom = 0.8
	in.Loadtest = &LoadtestResult{SustainableRPS: 0.9}
	if _, _, err = Generate(in); err == nil || !strings.Contains(err.Error(), "below 1 RPS") {
		t.Errorf("tiny capacity: %v", err)
	}
}

func TestGenerateSkipsNonMethods(t *testing.T) {
	in := sampleInput()
	in.Loadtest.Methods = append(in.Loadtest.Methods, LoadtestMethod{Name: "GET http://example.test/x", SustainableRPS: 10},
		LoadtestMethod{Name: "DELETE /cart", SustainableRPS: 5, Pass: new(bool)})
	p, y, err := Generate(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Stage.Methods) != 2 || !strings.Contains(string(y), "left out: GET http://example.test/x") || !strings.Contains(string(y), "the */* default applies) for DELETE /cart") {
		t.Errorf("methods = %d\n%s", len(p.Stage.Methods), y)
	}
}
