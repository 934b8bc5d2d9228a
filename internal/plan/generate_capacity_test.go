package plan

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// mixResult is a --mix search of two methods sharing one pool: 300 RPS at
// 60/40, the backend held 24 requests at once.
const mixResult = `{"target":"cart-api/prod","api":"cart-api","stage":"prod","mode":"search",
 "sustainable_rps":300,"pass":true,"confirmed":true,"confirm_requested_s":20,"limited_by":"backend","max_in_flight":24,
 "mix":{"source":"measure:m.json","weights":{"GET /cart/profile/{userId}":0.6,"POST /orders":0.4}},
 "methods":[
  {"name":"GET /cart/profile/{userId}","method":"GET","path":"/cart/profile/{userId}","share":0.6,"sustainable_rps":180,"pass":true},
  {"name":"POST /orders","method":"POST","path":"/orders","share":0.4,"sustainable_rps":120,"pass":true}]}`

func decodeLT(t *testing.T, s string) *LoadtestResult {
	t.Helper()
	lt, err := DecodeLoadtest([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return lt
}

func methodThrottle(t *testing.T, p *Plan, key string) (float64, int) {
	t.Helper()
	for _, m := range p.Stage.Methods {
		if m.Key == key {
			return *m.Throttle.Rate, *m.Throttle.Burst
		}
	}
	t.Fatalf("plan has no method %s", key)
	return 0, 0
}

func TestGenerateFromMixAllocations(t *testing.T) {
	lt := decodeLT(t, mixResult)
	p, y, err := Generate(GenerateInput{API: "cart-api", Stage: "prod", Loadtest: lt})
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	t.Logf("\n%s", y)
	getRate, getBurst := methodThrottle(t, p, "GET /cart/profile/{userId}")
	postRate, postBurst := methodThrottle(t, p, "POST /orders")
	if getRate != 144 || postRate != 96 { // floor(0.8 × 180), floor(0.8 × 120)
		t.Errorf("rates GET %v POST %v, want 144 and 96", getRate, postRate)
	}
	// */* is what the methods leave of floor(0.8 × 300) = 240: nothing, so 1.
	if r := *p.Stage.Throttle.Rate; r != 1 {
		t.Errorf("*/* rate = %v, want 1 (the methods take the whole planned aggregate)", r)
	}
	// Bursts share max_in_flight 24: 1 each, the other 21 by rate:
	// 1 + 21 × 144/241 = 13, 1 + 21 × 96/241 = 9, */* 1.
	sb := *p.Stage.Throttle.Burst
	if getBurst != 13 || postBurst != 9 || sb != 1 {
		t.Errorf("bursts GET %d POST %d */* %d, want 13, 9, 1", getBurst, postBurst, sb)
	}
	if getBurst+postBurst+sb > 24 {
		t.Errorf("bursts add up to %d > max_in_flight 24", getBurst+postBurst+sb)
	}
	for _, want := range []string{
		"applies to EACH method separately",
		"60% of the 300 RPS aggregate at the mix",
		"together they admit at most 240 RPS",
		"held at most 24 requests at once",
		"targets rather than guaranteed request ceilings",
		BestEffortURL,
	} {
		if !strings.Contains(string(y), want) {
			t.Errorf("YAML lacks %q", want)
		}
	}
	if strings.Count(string(y), "best effort") != 1 {
		t.Errorf("the best-effort note should appear once:\n%s", y)
	}
}

// TestGenerateNeverAdmitsMoreThanTheAggregate: for any allocations, even
// ones that add up to more than the aggregate (methods searched alone), the
// method rates sum to at most headroom × aggregate and bursts to at most
// max_in_flight (when there are fewer throttles than in-flight requests).
func TestGenerateNeverAdmitsMoreThanTheAggregate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		agg := 5 + r.Float64()*2000
		h := 0.3 + 0.7*r.Float64()
		n := 1 + r.IntN(5)
		lt := &LoadtestResult{Mode: "search", SustainableRPS: agg, MaxInFlight: r.IntN(60)}
		over := 0.5 + r.Float64()*2 // allocations sum to over × agg
		ws := make([]float64, n)
		wsum := 0.0
		for j := range ws {
			ws[j] = 0.05 + r.Float64()
			wsum += ws[j]
		}
		for j := range n {
			lt.Methods = append(lt.Methods, LoadtestMethod{Name: fmt.Sprintf("GET /m%d", j), SustainableRPS: over * agg * ws[j] / wsum})
		}
		p, y, err := Generate(GenerateInput{API: "a", Stage: "s", Headroom: h, Loadtest: lt})
		if err != nil {
			if strings.Contains(err.Error(), "below 1 RPS") {
				continue
			}
			t.Fatalf("case %d: %v\n%s", i, err, y)
		}
		sum, bursts := 0.0, *p.Stage.Throttle.Burst
		for _, m := range p.Stage.Methods {
			sum += *m.Throttle.Rate
			bursts += *m.Throttle.Burst
		}
		if limit := h * agg; sum > limit+1e-9 {
			t.Fatalf("case %d: method rates sum to %v > %v × %v = %v\n%s", i, sum, h, agg, limit, y)
		}
		if b := lt.MaxInFlight; b > n && bursts > b {
			t.Fatalf("case %d: bursts sum to %d > max_in_flight %d\n%s", i, bursts, b, y)
		}
	}
}

func TestGenerateScalesAllocationsFoundAlone(t *testing.T) {
	// An older --per-method result: each method found the whole pool alone.
	lt := &LoadtestResult{Mode: "search", SustainableRPS: 200, Methods: []LoadtestMethod{
		{Name: "GET /a", SustainableRPS: 200}, {Name: "POST /b", SustainableRPS: 200}}}
	p, y, err := Generate(GenerateInput{API: "a", Stage: "s", Loadtest: lt})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := methodThrottle(t, p, "GET /a")
	b, _ := methodThrottle(t, p, "POST /b")
	if a != 80 || b != 80 || !strings.Contains(string(y), "scaled down by 0.5") {
		t.Errorf("rates %v, %v; want 80 each, scaled by 0.5\n%s", a, b, y)
	}
}

func TestGenerateSingleTargetStageDefault(t *testing.T) {
	lt := &LoadtestResult{Mode: "search", SustainableRPS: 250}
	p, y, err := Generate(GenerateInput{API: "a", Stage: "s", Loadtest: lt})
	if err != nil {
		t.Fatal(err)
	}
	if *p.Stage.Throttle.Rate != 200 || !strings.Contains(string(y), "applies to EACH method separately") || !strings.Contains(string(y), "--mix") {
		t.Errorf("single target:\n%s", y)
	}
}

func TestGenerateNamesUntestedMethods(t *testing.T) {
	in := GenerateInput{API: "cart-api", Stage: "prod", Loadtest: decodeLT(t, mixResult)}
	m, err := DecodeMeasure([]byte(`{"api":"cart-api","stage":"prod","totals":{"peak_rps":50},"methods":[
	 {"resource":"/cart/profile/{userId}","method":"GET","peak_rps":200},{"resource":"/health","method":"GET","peak_rps":2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	in.Measure = m
	_, y, err := Generate(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"not load-tested, so throttled by */*: GET /health", "observed peak 200 RPS (measure) exceeds it"} {
		if !strings.Contains(string(y), want) {
			t.Errorf("YAML lacks %q:\n%s", want, y)
		}
	}
}

// refusalCase edits the mix result into one plan generate must refuse.
type refusalCase struct {
	name   string
	edit   func(*LoadtestResult)
	want   string // in the error
	reason RefusalReason
	stage  string // --stage (default prod)
}

var refusalCases = []refusalCase{
	{name: "fixed-rate run", edit: func(lt *LoadtestResult) { lt.Mode = "fixed" },
		want: "fixed-rate run", reason: RefusalFixedRate},
	{name: "interrupted", edit: func(lt *LoadtestResult) { lt.Interrupted = true },
		want: "interrupted", reason: RefusalInterrupted},
	{name: "no passing rate", edit: func(lt *LoadtestResult) { f := false; lt.Pass = &f; lt.SustainableRPS = 0; lt.ConfirmRequestedS = 0 },
		want: "no passing rate", reason: RefusalNoPassingRate},
	{name: "failed confirm", edit: func(lt *LoadtestResult) {
		f := false
		lt.Pass, lt.Confirmed, lt.Confirm = &f, false, &LoadtestStep{Rate: 300}
	}, want: "confirm hold at 300 RPS failed", reason: RefusalConfirmFailed},
	{name: "failed confirm, older result", edit: func(lt *LoadtestResult) {
		lt.ConfirmRequestedS, lt.Confirmed, lt.Confirm = 0, false, &LoadtestStep{Rate: 300}
	}, want: "confirm hold at 300 RPS failed", reason: RefusalConfirmFailed},
	{name: "another API", edit: func(lt *LoadtestResult) { lt.API = "billing-api" },
		want: `measured API "billing-api", not "cart-api"`, reason: RefusalOtherAPI},
	{name: "another stage", edit: func(lt *LoadtestResult) {}, stage: "test",
		want: `measured stage "prod", not "test"`, reason: RefusalOtherStage},
	{name: "gateway-limited", edit: func(lt *LoadtestResult) {
		lt.LimitedBy = LimitedByGatewayThrottle
		lt.GatewayThrottle = &GatewayThrottle{Rate: 240, Burst: 24, Source: "stage prod */*"}
	}, want: "limited by the gateway's own throttle stage prod */* (rate 240 RPS, burst 24)", reason: RefusalGatewayLimited},
	{name: "gateway-limited method", edit: func(lt *LoadtestResult) {
		lt.Methods[1].LimitedBy = LimitedByGatewayThrottle
		lt.Methods[1].GatewayThrottle = &GatewayThrottle{Rate: 96, Burst: 9, Source: "stage prod POST /orders"}
	}, want: "POST /orders was limited by the gateway's own throttle stage prod POST /orders (rate 96 RPS, burst 9)", reason: RefusalGatewayLimited},
	{name: "gateway 429s blamed on the backend", edit: func(lt *LoadtestResult) {
		lt.Steps = []LoadtestStep{{Phase: "grow", Rate: 100, Pass: true}, {Phase: "grow", Rate: 400, Pass: false},
			{Phase: "bisect", Rate: 320, Pass: false, Gateway429: 37}, {Phase: "confirm", Rate: 50, Pass: false, Gateway429: 5}}
		lt.Steps[2].ByTarget = []LoadtestTargetStep{{Target: "POST /orders", Gateway429: 37}}
	}, want: "API Gateway itself answered 37 requests 429 in the lowest failing step (320 RPS): the live throttle of POST /orders (37)", reason: RefusalGatewayLimited},
}

func TestGenerateRefusals(t *testing.T) {
	for _, c := range refusalCases {
		t.Run(c.name, func(t *testing.T) {
			lt := decodeLT(t, mixResult)
			c.edit(lt)
			stage := c.stage
			if stage == "" {
				stage = "prod"
			}
			in := GenerateInput{API: "cart-api", Stage: stage, Loadtest: lt, LoadtestFile: "lt.json"}
			_, _, err := Generate(in)
			var re *RefusalError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a refusal", err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "refusing to plan from lt.json: ") {
				t.Errorf("error %q lacks %q", err, c.want)
			}
			if strings.Contains(re.Hint(), "--") || !strings.Contains(re.Hint(), re.Refusals[0].Hint) {
				t.Errorf("hint %q names a CLI flag, or lacks the refusal's own", re.Hint())
			}
			if len(re.Refusals) != 1 || re.Refusals[0].Reason != c.reason {
				t.Errorf("refusals = %+v, want just this one", re.Refusals)
			}
			// --force plans anyway and says why in the YAML.
			if c.name == "no passing rate" {
				return // nothing to plan from even when forced
			}
			in.Force = true
			_, y, err := Generate(in)
			if err != nil {
				t.Fatalf("--force: %v", err)
			}
			if !strings.Contains(string(y), "# WARNING: generated with --force") || !strings.Contains(string(y), c.want) {
				t.Errorf("forced plan lacks the warning:\n%s", y)
			}
		})
	}
}

func TestGenerateAcceptsAGoodResult(t *testing.T) {
	if rs := CheckLoadtest(decodeLT(t, mixResult), "cart-api", "prod"); len(rs) != 0 {
		t.Errorf("refusals of a good result: %+v", rs)
	}
	// A result from URL targets names no API or stage: nothing to compare.
	if rs := CheckLoadtest(&LoadtestResult{Mode: "search", SustainableRPS: 10}, "cart-api", "prod"); len(rs) != 0 {
		t.Errorf("refusals of a URL search: %+v", rs)
	}
}
