package demo

import (
	"fmt"
	"strings"

	"github.com/apictl/apictl/internal/report"
)

// Document is the summary for people: per method the pool's true capacity
// for it vs found vs planned and what the flood saw, then the shared pool:
// its capacity at the mix, the planned total, its utilisation at the
// planned limits and whether it held; and the commands to run against AWS.
func (s *Summary) Document() report.Document {
	t := report.Table{
		Title:   "Summary: true capacity vs found vs planned, then a flood at 2× every planned rate at once",
		Headers: []string{"METHOD", "TRUE RPS", "ALONE RPS", "FOUND RPS", "ERROR", "PLANNED RPS/BURST", "FLOOD RPS", "429 SHARE", "POOL SERVED/REFUSED", "POOL P99", "OK"},
		Align: []report.Alignment{report.AlignLeft, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignRight,
			report.AlignRight, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignLeft},
	}
	for _, m := range s.Methods {
		t.Rows = append(t.Rows, []string{
			m.Method,
			fmt.Sprintf("%.0f", m.TrueCapacityRPS),
			fmt.Sprintf("%.0f", m.AloneCapacityRPS),
			fmt.Sprintf("%.0f", m.FoundRPS),
			fmt.Sprintf("%+.1f%%", 100*m.FoundError),
			fmt.Sprintf("%.0f / %d", m.PlannedRPS, m.PlannedBurst),
			fmt.Sprintf("%.0f", m.Verify.OfferedRPS),
			fmt.Sprintf("%.0f%%", 100*m.Verify.ThrottledShare),
			fmt.Sprintf("%d / %d", m.Verify.BackendServed, m.Verify.BackendRejected),
			fmt.Sprintf("%.0f ms", m.Verify.BackendP99MS),
			yesNo(m.Verify.Pass),
		})
	}
	p := s.Pool
	pool := report.KV{Title: fmt.Sprintf("The shared pool (%d connections)", p.Slots), Pairs: []report.Pair{
		{Key: "true capacity at the mix", Value: fmt.Sprintf("%.0f RPS (%s)", p.TrueCapacityRPS, mixText(s))},
		{Key: "found by the search", Value: fmt.Sprintf("%.0f RPS (%+.1f%%)", p.FoundRPS, 100*p.FoundError)},
		{Key: "planned, all methods", Value: fmt.Sprintf("%.0f RPS, %.0f%% of the true capacity", p.PlannedRPS, 100*p.PlannedShare)},
		{Key: "utilisation at the plan", Value: fmt.Sprintf("%.0f%% of the pool's connection time", 100*p.UtilisationAtPlan)},
		{Key: "flood", Value: fmt.Sprintf("%.0f RPS offered: the pool served %d, refused %d, p99 %.0f ms (objective %.0f ms)",
			p.Verify.OfferedRPS, p.Verify.Served, p.Verify.Rejected, p.Verify.P99MS, p.Verify.ObjectiveP99MS)},
		{Key: "held", Value: yesNo(p.Held)},
	}}
	verdict := report.Note{Level: report.OK, Text: fmt.Sprintf(
		"per-method throttles at %.0f%% of each method's allocation held the shared pool within its objectives under twice that load (%.0f s in all)", 100*s.Headroom, s.Seconds)}
	if !s.Pass {
		verdict = report.Note{Level: report.Fail, Text: "the verification did not hold: see the rows marked NO"}
	}
	return report.Document{
		Title: fmt.Sprintf("apictl demo: %s / %s", s.API, s.Stage),
		Blocks: []report.Block{
			t,
			pool,
			verdict,
			report.Text{Title: "Against AWS, the same loop is", Text: strings.Join(s.Commands, "\n")},
		},
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

func mixText(s *Summary) string {
	var parts []string
	for _, m := range s.Methods {
		if w, ok := s.Pool.Mix[m.Method]; ok {
			parts = append(parts, fmt.Sprintf("%.0f%% %s", 100*w, m.Method))
		}
	}
	return strings.Join(parts, ", ")
}
