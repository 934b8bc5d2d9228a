package loadtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/apictl/apictl/internal/report"
)

// Document is the human view of a load test, as 'apictl loadtest' shows
// it: within report.MaxTableWidth columns.
func (c *Capacity) Document() report.Document { return c.document(false) }

// Wide is the -v view of c: every figure of every step. Its JSON is c.
func (c *Capacity) Wide() report.Documenter { return wideCapacity{c} }

type wideCapacity struct{ c *Capacity }

func (w wideCapacity) Document() report.Document { return w.c.document(true) }
func (w wideCapacity) JSON() any                 { return w.c }

func (c *Capacity) document(wide bool) report.Document {
	doc := report.Document{Title: "Load test: " + c.Target}
	kv := report.KV{}
	add := func(k, v string) { kv.Pairs = append(kv.Pairs, report.Pair{Key: k, Value: v}) }
	add("Mode", string(c.Mode))
	kv.Pairs = append(kv.Pairs, c.planPairs()...)
	if c.InvokeURL != "" {
		add("Invoke URL", c.InvokeURL)
	}
	if len(c.Targets) > 0 {
		add("Targets", strings.Join(c.Targets, ", "))
	}
	add("Objectives", strings.Join(c.Objectives, ", "))
	if c.Data != nil {
		add("Data", fmt.Sprintf("%s (%d rows, %s, sha256 %s)", c.Data.File, c.Data.Rows, c.Data.Order, shortHash(c.Data.SHA256)))
	}
	if c.Seed != nil {
		add("Seed", strconv.FormatUint(*c.Seed, 10))
	}
	if c.Mode == ModeSearch {
		sust := report.Rate(c.SustainableRPS)
		switch {
		case c.Confirmed:
			sust += " (held for " + strconv.FormatFloat(c.ConfirmRequestedS, 'f', -1, 64) + "s)"
		case c.ConfirmRequestedS > 0:
			sust += " (not confirmed)"
		}
		if c.LimitedBy == "gateway-throttle" {
			sust = "at least " + sust + " (limited by the gateway's throttle)"
		}
		add("Sustainable RPS", sust)
		if c.Mix != nil {
			add("Mix", c.Mix.Source)
		}
		if c.SharedBackend {
			add("Shared backend", "yes: the methods' isolated rates failed together")
		}
		if c.GatewayThrottle != nil {
			add("Gateway throttle", fmt.Sprintf("%s rps burst %d (%s)", report.Rate(c.GatewayThrottle.Rate), c.GatewayThrottle.Burst, c.GatewayThrottle.Source))
		}
		if c.MaxInFlight > 0 {
			add("Max in flight", strconv.Itoa(c.MaxInFlight))
		}
		if c.Bracket != nil && c.Bracket.Fail > 0 {
			add("Bracket", fmt.Sprintf("passes at %s, fails at %s rps", report.Rate(c.Bracket.Pass), report.Rate(c.Bracket.Fail)))
		}
		if c.KneeRPS > 0 {
			add("Knee (latency starts to climb)", report.Rate(c.KneeRPS)+" rps")
		}
		holds := c.Holds
		if len(holds) == 0 && c.Confirm != nil {
			holds = []Step{*c.Confirm}
		}
		if len(holds) > 0 {
			parts := make([]string, len(holds))
			for i, h := range holds {
				parts[i] = fmt.Sprintf("%s rps for %.0fs: %s", report.Rate(h.Rate), h.Duration, Verdict(h))
			}
			add("Confirm holds", strings.Join(parts, " → "))
		}
	} else if len(c.Steps) == 1 {
		st := c.Steps[0]
		add("Requested rate", report.Rate(st.Rate)+" rps")
		add("Achieved rate", fmt.Sprintf("%s rps (%s of requested)", report.Rate(st.AchievedRate), report.Pct(st.AchievedRate, st.Rate)))
		add("Throughput", fmt.Sprintf("%s rps successful", report.Rate(st.Throughput)))
		add("Latency", fmt.Sprintf("p50 %s · p90 %s · p99 %s · max %s", report.Millis(st.Latency.P50), report.Millis(st.Latency.P90), report.Millis(st.Latency.P99), report.Millis(st.Latency.Max)))
		errs := report.Pct(1-st.SuccessRatio, 1)
		if sum := StatusSummary(st); sum != "" {
			errs += " (" + sum + ")"
		}
		add("Errors", errs)
	}
	add("Attack time", fmt.Sprintf("%.1fs", c.AttackSeconds))
	doc.Blocks = append(doc.Blocks, kv)

	if len(c.Methods) > 0 {
		t := report.Table{Title: "Per method", Headers: []string{"Method", "Share", "Sustainable RPS", "Alone", "Knee", "Verdict"},
			Align: []report.Alignment{report.AlignLeft, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignLeft}}
		for _, m := range c.Methods {
			verdict := "pass"
			if !m.Pass {
				verdict = "FAIL " + m.Reason
			}
			knee := "-"
			if m.KneeRPS > 0 {
				knee = report.Rate(m.KneeRPS)
			}
			share, alone := "-", "-"
			if m.Share > 0 {
				share = report.Pct(m.Share, 1)
			}
			if m.IsolatedRPS > 0 {
				alone = report.Rate(m.IsolatedRPS)
			}
			t.Rows = append(t.Rows, []string{m.Name, share, report.Rate(m.SustainableRPS), alone, knee, verdict})
		}
		if !wide {
			report.FitTable(&t, report.MaxTableWidth, 3)
		}
		doc.Blocks = append(doc.Blocks, t)
	}
	if perMethodSearch(c) {
		// One table and one chart per method, in the order they ran.
		for _, m := range c.Methods {
			doc.Blocks = append(doc.Blocks, stepsBlock("Steps: "+m.Name, m.Steps, wide))
			if len(m.Steps) > 1 {
				doc.Blocks = append(doc.Blocks, rateLatencyBlock("p99 latency by rate: "+m.Name, m.Steps, c.Objectives))
			}
		}
	} else {
		if c.Mode == ModeSearch || len(c.Steps) > 1 || wide {
			doc.Blocks = append(doc.Blocks, stepsBlock("Steps", c.Steps, wide))
		}
		if c.Mode == ModeSearch && len(c.Steps) > 1 {
			doc.Blocks = append(doc.Blocks, rateLatencyBlock("p99 latency by rate", c.Steps, c.Objectives))
		}
	}
	if causes := causesBlock(c.Steps, perMethodSearch(c)); causes != nil {
		doc.Blocks = append(doc.Blocks, *causes)
	}
	for _, w := range c.Warnings {
		doc.Blocks = append(doc.Blocks, report.Note{Text: w, Level: report.Warn})
	}
	switch {
	case c.Interrupted:
		doc.Blocks = append(doc.Blocks, report.Note{Text: "interrupted: the figures cover what was measured before the stop", Level: report.Warn})
	case c.RejectedAsInvalid:
		doc.Blocks = append(doc.Blocks, report.Note{Text: c.Reason, Level: report.Fail})
	case c.Pass && c.Mode == ModeSearch:
		doc.Blocks = append(doc.Blocks, report.Note{Text: fmt.Sprintf("PASS: %s rps meets %s", report.Rate(c.SustainableRPS), strings.Join(c.Objectives, ", ")), Level: report.OK})
	case c.Pass:
		doc.Blocks = append(doc.Blocks, report.Note{Text: "PASS: " + strings.Join(c.Objectives, ", ") + " met", Level: report.OK})
	case c.Mode == ModeFixed && len(c.Steps) == 1:
		doc.Blocks = append(doc.Blocks, report.Note{Text: Verdict(c.Steps[0]), Level: report.Fail})
	default:
		doc.Blocks = append(doc.Blocks, report.Note{Text: "FAIL " + c.Reason, Level: report.Fail})
	}
	return doc
}

// perMethodSearch is true for --per-method: each method has its own steps
// (a search at a mix has its methods' shares but one series of steps).
func perMethodSearch(c *Capacity) bool {
	for _, m := range c.Methods {
		if len(m.Steps) > 0 {
			return true
		}
	}
	return false
}

// stepsBlock is the table of a run's steps: by default the figures that
// decide (rate, p50, p99, errors by status, the verdict once) within
// report.MaxTableWidth columns; wide adds achieved rate, throughput, p90, max and
// every status code.
func stepsBlock(title string, steps []Step, wide bool) report.Table {
	R, L := report.AlignRight, report.AlignLeft
	t := report.Table{Title: title}
	if wide {
		t.Headers = []string{"#", "Phase", "Rate", "Achieved", "Requests", "Throughput", "Success", "p50", "p90", "p99", "Max", "Errors", "Verdict"}
		t.Align = []report.Alignment{R, L, R, R, R, R, R, R, R, R, R, L, L}
	} else {
		t.Headers = []string{"Step", "Rate", "Requests", "p50", "p99", "Errors", "Verdict"}
		t.Align = []report.Alignment{L, R, R, R, R, L, L}
	}
	for i, st := range steps {
		errs := "0"
		if st.Requests > 0 && st.SuccessRatio < 1 {
			errs = report.Pct(1-st.SuccessRatio, 1)
			if sum := StatusSummary(st); sum != "" {
				errs += " " + sum
			}
		}
		verdict := Verdict(st)
		if wide {
			if st.Reason != "" && !st.Pass {
				verdict = "FAIL " + st.Reason
			}
			t.Rows = append(t.Rows, []string{
				strconv.Itoa(i + 1), string(st.Phase), report.Rate(st.Rate), report.Rate(st.AchievedRate), strconv.Itoa(st.Requests),
				report.Rate(st.Throughput), report.Pct(st.SuccessRatio, 1), report.Millis(st.Latency.P50), report.Millis(st.Latency.P90),
				report.Millis(st.Latency.P99), report.Millis(st.Latency.Max), errs, verdict,
			})
			continue
		}
		t.Rows = append(t.Rows, []string{
			strconv.Itoa(i+1) + " " + string(st.Phase), report.Rate(st.Rate), strconv.Itoa(st.Requests),
			report.Millis(st.Latency.P50), report.Millis(st.Latency.P99), errs, verdict,
		})
	}
	if !wide {
		report.FitTable(&t, report.MaxTableWidth, 5, 6)
	}
	return t
}

// rateLatencyBlock is p99 latency against rate with the latency objective: a bar
// chart on a terminal, a mermaid xychart in markdown.
func rateLatencyBlock(title string, steps []Step, objectives []string) report.Chart {
	pts := make([]Step, 0, len(steps))
	for _, st := range steps {
		if st.Requests > 0 {
			pts = append(pts, st)
		}
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].Rate < pts[j].Rate })
	ch := report.Chart{Title: title, XLabel: "rate (rps)", YLabel: "p99 (ms)", Text: RateLatencyChart(steps, 40)}
	p99 := report.Series{Name: "p99 latency (ms)"}
	for _, st := range pts {
		ch.X = append(ch.X, report.Rate(st.Rate))
		p99.Values = append(p99.Values, st.Latency.P99)
	}
	ch.Series = append(ch.Series, p99)
	if objs, err := ParseObjectives(objectives); err == nil {
		for _, o := range objs {
			if o.Kind != KindLatency {
				continue
			}
			line := report.Series{Name: "objective " + o.Text}
			for range pts {
				line.Values = append(line.Values, float64(o.Latency)/1e6)
			}
			ch.Series = append(ch.Series, line)
		}
	}
	return ch
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// causesBlock counts each step's failed requests by cause, when any failed:
// request-fault 4xx apart from 429 and 5xx.
func causesBlock(steps []Step, perMethod bool) *report.Table {
	t := report.Table{Title: "Errors by cause", Headers: []string{"#", "Rate", "Requests", "Request-fault 4xx", "401/403", "429", "5xx", "No answer"},
		Align: []report.Alignment{report.AlignRight, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignRight}}
	if perMethod {
		t.Headers = append([]string{"Method"}, t.Headers...)
		t.Align = append([]report.Alignment{report.AlignLeft}, t.Align...)
	}
	for i, st := range steps {
		if st.Causes == nil || st.Causes.Total() == 0 {
			continue
		}
		c := st.Causes
		row := []string{strconv.Itoa(i + 1), report.Rate(st.Rate), strconv.Itoa(st.Requests), strconv.Itoa(c.RequestFault),
			strconv.Itoa(c.Auth), strconv.Itoa(c.Throttled), strconv.Itoa(c.Server), strconv.Itoa(c.Transport)}
		if perMethod {
			row = append([]string{st.Target}, row...)
		}
		t.Rows = append(t.Rows, row)
	}
	if len(t.Rows) == 0 {
		return nil
	}
	return &t
}
