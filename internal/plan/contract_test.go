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
