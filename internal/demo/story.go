package demo

import (
	"fmt"
	"strings"
	"time"

	"github.com/apictl/apictl/internal/loadtest"
	"github.com/apictl/apictl/internal/measure"
	"github.com/apictl/apictl/internal/report"
)

// The short views of the demo's steps (without -v): the few figures of
// each command's result that the next step uses.

// measureView is what measure found: the traffic and each method's share
// of it, the mix the load test then uses.
func measureView(u *measure.Usage) report.Document {
	t := u.Totals
	kv := report.KV{Pairs: []report.Pair{{Key: "requests (" + report.ShortDuration(secondsDuration(u.Window.Seconds)) + ")",
		Value: fmt.Sprintf("%s, peak %s rps", report.Thousands(t.Count), report.Num(t.PeakRPS, 3))}}}
	for _, m := range u.Methods {
		share := 0.0
		if t.Count > 0 {
			share = float64(m.Count) / float64(t.Count)
		}
		v := fmt.Sprintf("%s of requests, peak %s rps", report.Percent(share, 0), report.Num(m.PeakRPS, 3))
		if m.LatencyP99Ms != nil {
			v += ", p99 " + report.Num(*m.LatencyP99Ms, 0) + " ms"
		}
		kv.Pairs = append(kv.Pairs, report.Pair{Key: m.Method + " " + m.Resource, Value: v})
	}
	return report.Document{Blocks: []report.Block{kv}}
}

// capacityView is what the search found: the aggregate at the mix, where it
// was bracketed, and each method's allocation of it.
func capacityView(c *loadtest.Capacity) report.Document {
	found := report.Rate(c.SustainableRPS) + " RPS at the mix"
	var notes []string
	if c.Bracket != nil && c.Bracket.Fail > 0 {
		notes = append(notes, fmt.Sprintf("passes at %s, fails at %s", report.Rate(c.Bracket.Pass), report.Rate(c.Bracket.Fail)))
	}
	if c.KneeRPS > 0 {
		notes = append(notes, "latency starts to climb at "+report.Rate(c.KneeRPS))
	}
	if len(notes) > 0 {
		found += " (" + strings.Join(notes, "; ") + ")"
	}
	if !c.Pass {
		found += ": FAIL " + c.Reason
	}
	kv := report.KV{Pairs: []report.Pair{{Key: "sustainable", Value: found}}}
	for _, m := range c.Methods {
		kv.Pairs = append(kv.Pairs, report.Pair{Key: m.Name, Value: fmt.Sprintf("%s RPS (%s of the mix)", report.Rate(m.SustainableRPS), report.Percent(m.Share, 0))})
	}
	return report.Document{Blocks: []report.Block{kv}}
}

func verifiedText(verified bool) string {
	if verified {
		return " Read back: the live state matches the plan."
	}
	return ""
}

func secondsDuration(s int64) time.Duration { return time.Duration(s) * time.Second }
