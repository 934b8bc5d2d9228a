package demo

import (
	"fmt"
	"strings"

	"github.com/apictl/apictl/internal/report"
)

// Document is the summary for people: true capacity vs found vs planned per
// method, what the verification saw, and the commands to run against AWS.
func (s *Summary) Document() report.Document {
	t := report.Table{
		Title:   "Summary: true capacity vs found vs planned",
		Headers: []string{"METHOD", "TRUE RPS", "FOUND RPS", "ERROR", "PLANNED RPS/BURST", "VERIFY RPS", "429 SHARE", "BACKEND P99", "OK"},
		Align:   []report.Alignment{report.AlignLeft, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignLeft},
	}
	for _, m := range s.Methods {
		ok := "yes"
		if !m.Verify.Pass {
			ok = "NO"
		}
		t.Rows = append(t.Rows, []string{
			m.Method,
			fmt.Sprintf("%.0f", m.TrueCapacityRPS),
			fmt.Sprintf("%.0f", m.FoundRPS),
			fmt.Sprintf("%+.1f%%", 100*m.FoundError),
			fmt.Sprintf("%.0f / %d", m.PlannedRPS, m.PlannedBurst),
			fmt.Sprintf("%.0f", m.Verify.OfferedRPS),
			fmt.Sprintf("%.0f%%", 100*m.Verify.ThrottledShare),
			fmt.Sprintf("%.0f ms", m.Verify.BackendP99MS),
			ok,
		})
	}
	verdict := report.Note{Level: report.OK, Text: fmt.Sprintf(
		"throttles set at %.0f%% of the found capacity hold the backends within p99 objective at twice that load (%.0f s in all)", 100*s.Headroom, s.Seconds)}
	if !s.Pass {
		verdict = report.Note{Level: report.Fail, Text: "the verification did not hold: see the rows marked NO"}
	}
	return report.Document{
		Title: fmt.Sprintf("apictl demo: %s / %s", s.API, s.Stage),
		Blocks: []report.Block{
			t,
			verdict,
			report.Text{Title: "Against AWS, the same loop is", Text: strings.Join(s.Commands, "\n")},
		},
	}
}
