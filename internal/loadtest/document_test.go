package loadtest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/apictl/apictl/internal/report"
)

// TestWideViewSameJSON checks that the -v view of a load test shows more
// columns while its JSON stays the Capacity's own.
func TestWideViewSameJSON(t *testing.T) {
	c := &Capacity{Target: "GET http://127.0.0.1/x", Mode: "search", Objectives: []string{"p99<300ms"}, SustainableRPS: 20, Pass: true,
		Steps: []Step{
			{Rate: 10, Phase: "grow", Requests: 100, AchievedRate: 10, Throughput: 10, SuccessRatio: 1, Pass: true},
			{Rate: 20, Phase: "grow", Requests: 200, AchievedRate: 20, Throughput: 20, SuccessRatio: 1, Pass: true},
		}}
	render := func(v report.Documenter, f report.Format) string {
		var b bytes.Buffer
		if err := report.Render(&b, report.Options{Format: f}, v); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if a, b := render(c, report.FormatJSON), render(c.Wide(), report.FormatJSON); a != b {
		t.Errorf("the wide view's JSON differs from the Capacity's:\n%s\n%s", b, a)
	}
	narrow, wide := render(c, report.FormatTable), render(c.Wide(), report.FormatTable)
	if strings.Contains(narrow, "Achieved") || !strings.Contains(wide, "Achieved") {
		t.Errorf("only the wide view has the Achieved column:\n%s\n%s", narrow, wide)
	}
}
