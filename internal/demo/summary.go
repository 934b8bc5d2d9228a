package demo

import (
	"fmt"
	"strings"

	"github.com/apictl/apictl/internal/report"
)

// Document is the summary for people: per method the pool's true capacity
// for it vs found vs planned and what the flood saw, then the shared pool:
// its capacity at the mix, the planned total, its utilisation at the
// planned limits and whether it held; what the verification did not test;
// and the commands to run against AWS. The table keeps to
// report.MaxTableWidth columns.
func (s *Summary) Document() report.Document {
	R := report.AlignRight
	t := report.Table{
		Title:   "Summary: true vs found vs planned RPS, then a flood at 2× every planned rate (served, refused, p99: the pool's)",
		Headers: []string{"METHOD", "TRUE RPS", "FOUND RPS", "PLANNED/BURST", "FLOOD RPS", "429", "SERVED/REFUSED", "P99", "OK"},
		Align:   []report.Alignment{report.AlignLeft, R, R, R, R, R, R, R, report.AlignLeft},
	}
	for _, m := range s.Methods {
		t.Rows = append(t.Rows, []string{
			m.Method,
			report.Num(m.TrueCapacityRPS, 0),
			report.Num(m.FoundRPS, 0) + " (" + report.SignedPct(m.FoundError) + ")",
			fmt.Sprintf("%s / %d", report.Num(m.PlannedRPS, 0), m.PlannedBurst),
			report.Num(m.Verify.OfferedRPS, 0),
			report.Percent(m.Verify.ThrottledShare, 0),
			fmt.Sprintf("%d / %d", m.Verify.BackendServed, m.Verify.BackendRejected),
			report.Num(m.Verify.BackendP99MS, 0) + " ms",
			yesNo(m.Verify.Pass),
		})
	}
	report.FitTable(&t, report.MaxTableWidth, 0)
	p := s.Pool
	pool := report.KV{Title: fmt.Sprintf("The shared pool (%d connections)", p.Slots), Pairs: []report.Pair{
		{Key: "true capacity at the mix", Value: fmt.Sprintf("%s RPS (%s)", report.Num(p.TrueCapacityRPS, 0), mixText(s))},
		{Key: "found by the search", Value: fmt.Sprintf("%s RPS (%s)", report.Num(p.FoundRPS, 0), report.SignedPct(p.FoundError))},
		{Key: "planned, all methods", Value: fmt.Sprintf("%s RPS, %s of the true capacity", report.Num(p.PlannedRPS, 0), report.Percent(p.PlannedShare, 0))},
		{Key: "utilisation at the plan", Value: report.Percent(p.UtilisationAtPlan, 0) + " of the pool's connection time"},
		{Key: "flood", Value: fmt.Sprintf("%s RPS offered: the pool served %d, refused %d, p99 %s ms (objective %s ms)",
			report.Num(p.Verify.OfferedRPS, 0), p.Verify.Served, p.Verify.Rejected, report.Num(p.Verify.P99MS, 0), report.Num(p.Verify.ObjectiveP99MS, 0))},
		{Key: "held", Value: yesNo(p.Held)},
	}}
	verdict := report.Note{Level: report.OK, Text: fmt.Sprintf(
		"flooded at twice their rates at once, the stage's per-method throttles (%s of each method's allocation) kept the shared pool under 1%% refused and p99 within %s ms (%s s in all)",
		report.Percent(s.Headroom, 0), report.Num(p.Verify.ObjectiveP99MS, 0), report.Num(s.Seconds, 0))}
	if !s.Pass {
		verdict = report.Note{Level: report.Fail, Text: "the verification did not hold: see the rows marked NO"}
	}
	blocks := []report.Block{t, pool, verdict}
	for _, n := range s.NotTested {
		blocks = append(blocks, report.Note{Level: report.Info, Text: "not tested: " + n})
	}
	cmds := make([]string, len(s.Commands))
	for i, c := range s.Commands {
		cmds[i] = wrapCommand(c, report.MaxTableWidth)
	}
	blocks = append(blocks, report.Text{Title: "Against AWS, the same loop is", Text: strings.Join(cmds, "\n"), Lang: "sh"})
	return report.Document{Title: fmt.Sprintf("apictl demo: %s / %s", s.API, s.Stage), Blocks: blocks}
}

// wrapCommand breaks a shell command line longer than width before a flag
// (or a redirection), keeping each flag with its value; each break is a
// backslash-newline, so the command still runs as pasted.
func wrapCommand(cmd string, width int) string {
	var groups []string
	for _, w := range strings.Fields(cmd) {
		if len(groups) > 0 && !strings.HasPrefix(w, "-") && !strings.HasPrefix(w, ">") {
			groups[len(groups)-1] += " " + w
			continue
		}
		groups = append(groups, w)
	}
	var b strings.Builder
	line := 0
	for i, g := range groups {
		switch {
		case i > 0 && line+1+len(g)+2 > width:
			b.WriteString(" \\\n    ")
			line = 4
		case i > 0:
			b.WriteString(" ")
			line++
		}
		b.WriteString(g)
		line += len(g)
	}
	return b.String()
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
			parts = append(parts, report.Percent(w, 0)+" "+m.Method)
		}
	}
	return strings.Join(parts, ", ")
}
