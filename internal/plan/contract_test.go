package plan

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/apictl/apictl/internal/loadtest"
	"github.com/apictl/apictl/internal/measure"
)

// TestGenerateReadsTheRealModels guards the JSON contract with the loadtest
// and measure packages: their output types, marshalled, feed Generate.
func TestGenerateReadsTheRealModels(t *testing.T) {
	lt, err := json.Marshal(loadtest.Capacity{Mode: "search", SustainableRPS: 412, Pass: true, Methods: []loadtest.MethodCapacity{
		{Name: "GET /cart/profile/{userId}", Method: "GET", URL: "http://x/cart/profile/42", SustainableRPS: 150, Pass: true},
		{Name: "POST /orders", Method: "POST", SustainableRPS: 0, Pass: false},
	}})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	m, err := json.Marshal(measure.Usage{API: "cart-api", Stage: "prod",
		Window: measure.Window{Start: day, End: day.Add(48 * time.Hour)},
		Totals: measure.Totals{PeakRPS: 99.5},
		Daily:  []measure.Daily{{Date: "2026-11-22", Count: 1000}, {Date: "2026-11-23", Count: 3000}}})
	if err != nil {
		t.Fatal(err)
	}
	ltr, err := DecodeLoadtest(lt)
	if err != nil {
		t.Fatal(err)
	}
	mr, err := DecodeMeasure(m)
	if err != nil {
		t.Fatal(err)
	}
	p, y, err := Generate(GenerateInput{API: "cart-api", Stage: "prod", Loadtest: ltr, Measure: mr, Tiers: []Tier{{"pro", 0.5}}})
	if err != nil {
		t.Fatal(err)
	}
	// GET: floor(0.8 × 150); */*: what it leaves of floor(0.8 × 412) = 329.
	if *p.Stage.Throttle.Rate != 209 || len(p.Stage.Methods) != 1 || *p.Stage.Methods[0].Throttle.Rate != 120 {
		t.Errorf("throttles from loadtest JSON wrong:\n%s", y)
	}
	if q := p.UsagePlans[0].Quota; q == nil || *q.Limit != 1500 {
		t.Errorf("quota from measure JSON wrong:\n%s", y)
	}
	if !strings.Contains(string(y), "Observed peak of the whole API: 99.5 RPS") {
		t.Errorf("peak from measure JSON missing:\n%s", y)
	}
}

// TestCheckLoadtestReadsTheRealModel guards the #10 contract: the fields
// plan generate refuses or plans on, written by loadtest.Capacity, are the
// ones it decodes.
func TestCheckLoadtestReadsTheRealModel(t *testing.T) {
	c := loadtest.Capacity{API: "cart-api", Stage: "prod", Mode: "search", SustainableRPS: 300, Pass: true, Confirmed: true, ConfirmRequestedS: 30,
		Mix: &loadtest.Mix{Source: "measure:m.json", Weights: map[string]float64{"GET /a": 0.6, "POST /b": 0.4}}, LimitedBy: "backend", MaxInFlight: 24,
		Methods: []loadtest.MethodCapacity{
			{Name: "GET /a", SustainableRPS: 180, Share: 0.6, Pass: true, MaxInFlight: 16},
			{Name: "POST /b", SustainableRPS: 120, Share: 0.4, Pass: true, MaxInFlight: 10}}}
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	lt, err := DecodeLoadtest(data)
	if err != nil {
		t.Fatal(err)
	}
	if lt.MaxInFlight != 24 || lt.Mix == nil || lt.Mix.Weights["GET /a"] != 0.6 || lt.Methods[0].Share != 0.6 || lt.Methods[1].MaxInFlight != 10 || !lt.Confirmed {
		t.Errorf("decoded %+v", lt)
	}
	if rs := CheckLoadtest(lt, "cart-api", "prod"); len(rs) != 0 {
		t.Errorf("refused a good result: %+v", rs)
	}
	// Each refusal, from the real model's fields.
	for name, edit := range map[string]func(*loadtest.Capacity){
		"fixed":       func(c *loadtest.Capacity) { c.Mode = "fixed" },
		"interrupted": func(c *loadtest.Capacity) { c.Interrupted = true },
		"no pass":     func(c *loadtest.Capacity) { c.Pass, c.SustainableRPS = false, 0 },
		"confirm":     func(c *loadtest.Capacity) { c.Confirmed, c.Pass = false, false },
		"api":         func(c *loadtest.Capacity) { c.API = "other" },
		"stage":       func(c *loadtest.Capacity) { c.Stage = "test" },
		"gateway": func(c *loadtest.Capacity) {
			c.LimitedBy, c.GatewayThrottle = "gateway-throttle", &loadtest.Throttle{Rate: 240, Burst: 24, Source: "stage prod */*"}
		},
		"gateway method": func(c *loadtest.Capacity) {
			c.Methods[0].LimitedBy, c.Methods[0].GatewayThrottle = "gateway-throttle", &loadtest.Throttle{Rate: 144, Burst: 13, Source: "stage prod GET /a"}
		},
	} {
		bad := c
		bad.Methods = append([]loadtest.MethodCapacity{}, c.Methods...)
		edit(&bad)
		data, _ := json.Marshal(bad)
		lt, err := DecodeLoadtest(data)
		if err != nil {
			t.Fatal(err)
		}
		if rs := CheckLoadtest(lt, "cart-api", "prod"); len(rs) != 1 {
			t.Errorf("%s: refusals %+v, want one", name, rs)
		}
	}
}
