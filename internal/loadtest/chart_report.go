package loadtest

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// WriteReportHTML writes the report of a load test as one self-contained
// HTML page (inline SVG, CSS and a few lines of script; nothing is fetched,
// so it works offline): for a search, latency against rate with the latency
// objective, the found rate, the knee and any confirm runs marked; per
// step, the error share split into gateway 429, backend 5xx, 4xx and
// transport errors; latency over the whole run with the steps and their
// verdicts; one chart per method for a per-method search; and the steps'
// table. tl, from Options.Timeline, gives the latency over time; without it
// each step is drawn at its own p50 and p99.
func WriteReportHTML(w io.Writer, c *Capacity, tl *Timeline) error {
	var b strings.Builder
	title := "apictl loadtest: " + c.Target
	fmt.Fprintf(&b, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>%s</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222;padding:0 1em}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}
.summary{font-size:1.1em}.pass{color:%s}.fail{color:%s;font-weight:bold}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.85em}td,th{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:right}
td.l,th.l{text-align:left}tr.hl{background:#fff3bf}svg{max-width:100%%;height:auto}
.note{color:#555}
</style></head><body>
<h1>%s</h1>
`, esc(title), colPass, colFail, esc(title))
	steps := c.Steps
	perMethod := false // --per-method: each method has its own steps
	for _, m := range c.Methods {
		perMethod = perMethod || len(m.Steps) > 0
	}
	b.WriteString(`<p class="summary" id="summary">`)
	switch {
	case c.Mode == ModeSearch && perMethod:
		fmt.Fprintf(&b, `Found rate per method (each searched alone) meeting %s:`, esc(strings.Join(c.Objectives, ", ")))
		for i, m := range c.Methods {
			cls := "pass"
			if !m.Pass {
				cls = "fail"
			}
			sep := ","
			if i == len(c.Methods)-1 {
				sep = "."
			}
			fmt.Fprintf(&b, ` %s <strong class="%s" id="found-rate-%d">%s rps</strong>%s`, esc(m.Name), cls, i+1, fmtRate(m.SustainableRPS), sep)
		}
	case c.Mode == ModeSearch && c.Pass:
		fmt.Fprintf(&b, `Found rate: <strong class="pass" id="found-rate">%s rps</strong> meets %s.`, fmtRate(c.SustainableRPS), esc(strings.Join(c.Objectives, ", ")))
	case c.Mode == ModeSearch:
		fmt.Fprintf(&b, `<strong class="fail" id="found-rate">No rate found</strong> that meets %s: %s.`, esc(strings.Join(c.Objectives, ", ")), esc(c.Reason))
	case c.Pass:
		fmt.Fprintf(&b, `<strong class="pass" id="verdict">PASS</strong> at %s rps: %s met.`, fmtRate(c.SustainableRPS), esc(strings.Join(c.Objectives, ", ")))
	default:
		fmt.Fprintf(&b, `<strong class="fail" id="verdict">FAIL</strong>: %s (objectives %s).`, esc(c.Reason), esc(strings.Join(c.Objectives, ", ")))
	}
	if c.KneeRPS > 0 {
		fmt.Fprintf(&b, ` Knee (latency starts to climb): %s rps.`, fmtRate(c.KneeRPS))
	}
	if c.Bracket != nil && c.Bracket.Fail > 0 {
		fmt.Fprintf(&b, ` Bracket: passes at %s, fails at %s rps.`, fmtRate(c.Bracket.Pass), fmtRate(c.Bracket.Fail))
	}
	for _, s := range confirmSteps(c) {
		fmt.Fprintf(&b, ` Confirm run at %s rps for %.0fs: %s.`, fmtRate(s.Rate), s.Duration, esc(Verdict(s)))
	}
	fmt.Fprintf(&b, ` Attack time %.1fs.</p>
`, c.AttackSeconds)
	for _, warn := range c.Warnings {
		fmt.Fprintf(&b, "<p class=\"note\">⚠ %s</p>\n", esc(warn))
	}
	if c.Interrupted {
		b.WriteString("<p class=\"note\">⚠ interrupted: the figures cover what was measured before the stop</p>\n")
	}

	if c.Mode == ModeSearch && !perMethod && len(chartPoints(steps)) > 0 {
		b.WriteString("<h2>Latency against rate</h2>\n")
		b.WriteString(rateChart("rate-latency", "Latency against requested rate", steps, c.Objectives, c.SustainableRPS, c.KneeRPS, confirmSteps(c)))
		b.WriteString("\n")
	}
	if len(steps) > 0 {
		b.WriteString("<h2>Errors per step</h2>\n")
		b.WriteString(errorChart(steps, c.Objectives))
		b.WriteString("\n")
	}
	b.WriteString("<h2>Latency over time</h2>\n")
	b.WriteString(timelineChart(c, tl, perMethod))
	b.WriteString("\n")
	if !perMethod && len(c.Methods) > 0 { // a mix: the methods share the steps above
		b.WriteString("<h2>Methods</h2>\n<table id=\"methods\"><thead><tr><th class=\"l\">Method</th><th>Sustainable RPS</th><th class=\"l\">Verdict</th></tr></thead><tbody>")
		for _, m := range c.Methods {
			v, cls := "pass", "pass"
			if !m.Pass {
				v, cls = "FAIL "+m.Reason, "fail"
			}
			fmt.Fprintf(&b, "\n<tr><td class=\"l\">%s</td><td>%s</td><td class=\"l %s\">%s</td></tr>", esc(m.Name), fmtRate(m.SustainableRPS), cls, esc(v))
		}
		b.WriteString("\n</tbody></table>\n")
	}
	for i, m := range c.Methods {
		if !perMethod {
			break
		}
		fmt.Fprintf(&b, "<h2>%s</h2>\n<p>Found rate %s rps", esc(m.Name), fmtRate(m.SustainableRPS))
		if m.KneeRPS > 0 {
			fmt.Fprintf(&b, ", knee %s rps", fmtRate(m.KneeRPS))
		}
		if !m.Pass {
			fmt.Fprintf(&b, ` — <span class="fail">%s</span>`, esc(m.Reason))
		}
		b.WriteString(".</p>\n")
		if len(chartPoints(m.Steps)) > 0 {
			var confirms []Step
			for _, s := range m.Steps {
				if s.Phase == PhaseConfirm {
					confirms = append(confirms, s)
				}
			}
			b.WriteString(rateChart(fmt.Sprintf("method-%d", i+1), "Latency against requested rate: "+m.Name, m.Steps, c.Objectives, m.SustainableRPS, m.KneeRPS, confirms))
			b.WriteString("\n")
		}
	}
	b.WriteString("<h2>Steps</h2>\n")
	b.WriteString(`<div class="scroll">` + stepsTable(steps) + "</div>\n")
	b.WriteString(`<script>
// Hovering a chart element of a step highlights its row in the table.
for (const el of document.querySelectorAll("[data-step]")) {
  const row = document.getElementById("step-" + el.dataset.step);
  if (!row) continue;
  el.addEventListener("mouseenter", () => row.classList.add("hl"))
  el.addEventListener("mouseleave", () => row.classList.remove("hl"));
}
</script>
</body></html>
`)
	_, err := io.WriteString(w, b.String())
	return err
}

func stepsTable(steps []Step) string {
	var b strings.Builder
	perMethod := false
	for _, s := range steps {
		perMethod = perMethod || s.Target != ""
	}
	b.WriteString("<table id=\"steps\"><thead><tr><th>#</th>")
	if perMethod {
		b.WriteString(`<th class="l">Method</th>`)
	}
	b.WriteString(`<th class="l">Phase</th><th>Rate</th><th>Achieved</th><th>Requests</th><th>p50</th><th>p99</th><th>429 gateway</th><th>5xx backend</th><th>4xx</th><th>Transport</th><th class="l">Verdict</th></tr></thead><tbody>`)
	for i, s := range steps {
		c := StepErrorCounts(s)
		cls := "pass"
		if !s.Pass {
			cls = "fail"
		}
		fmt.Fprintf(&b, "\n<tr id=\"step-%d\"><td>%d</td>", i+1, i+1)
		if perMethod {
			fmt.Fprintf(&b, `<td class="l">%s</td>`, esc(s.Target))
		}
		fmt.Fprintf(&b, `<td class="l">%s</td><td>%s</td><td>%s</td><td>%d</td><td>%s</td><td>%s</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td class="l %s">%s</td></tr>`,
			esc(string(s.Phase)), fmtRate(s.Rate), fmtRate(s.AchievedRate), s.Requests, fmtMS(s.Latency.P50), fmtMS(s.Latency.P99),
			c.Gateway, c.Backend, c.Client, c.Transport, cls, esc(Verdict(s)))
	}
	b.WriteString("\n</tbody></table>\n")
	return b.String()
}

// errorChart draws each step's error share as a stacked bar split by cause,
// with the error objective as a line.
func errorChart(steps []Step, objectives []string) string {
	bound := errorObjectiveOf(objectives)
	top := 0.0
	shares := make([]ErrorShare, len(steps))
	for i, s := range steps {
		shares[i] = StepErrorShare(s)
		top = math.Max(top, shares[i].Total())
	}
	if bound > 0 {
		top = math.Max(top, bound*2)
	}
	top = math.Min(math.Max(top*1.1, 0.01), 1)
	n := float64(len(steps))
	p := newPlot(780, 300, 0.5, n+0.5, 0, top)
	var xt []float64
	every := math.Ceil(n / 20)
	for i := 1.0; i <= n; i += every {
		xt = append(xt, i)
	}
	p.axes("step (rate in rps)", "share of requests", xt, niceTicks(0, top, 5),
		func(v float64) string {
			i := int(v) - 1
			if i < 0 || i >= len(steps) {
				return ""
			}
			return fmtRate(steps[i].Rate)
		},
		func(v float64) string { return fmtPct(v) })
	bw := math.Max((p.X(1)-p.X(0))*0.6, 2)
	for i, s := range steps {
		sh := shares[i]
		x := p.X(float64(i+1)) - bw/2
		base := 0.0
		tip := fmt.Sprintf("step %d, %s rps: errors %s (gateway 429 %s, backend 5xx %s, 4xx %s, transport %s) — %s",
			i+1, fmtRate(s.Rate), fmtPct(sh.Total()), fmtPct(sh.Gateway), fmtPct(sh.Backend), fmtPct(sh.Client), fmtPct(sh.Transport), Verdict(s))
		fmt.Fprintf(&p.b, `<g data-step="%d"><title>%s</title>`, i+1, esc(tip))
		for _, part := range []struct {
			v     float64
			color string
			class string
		}{{sh.Gateway, colGateway, "gateway"}, {sh.Backend, colBackend, "backend"}, {sh.Client, colClient, "client"}, {sh.Transport, colTransport, "transport"}} {
			if part.v <= 0 {
				continue
			}
			y0, y1 := p.Y(base), p.Y(math.Min(base+part.v, top))
			p.printf(`<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, part.class, x, y1, bw, math.Max(y0-y1, 0.5), part.color)
			base += part.v
		}
		if sh.Total() == 0 {
			p.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="2" fill="%s"/>`, x, p.Y(0)-2, bw, colPass)
		}
		p.printf(`</g>`)
	}
	if bound >= 0 {
		p.hline(bound, "objective errors<"+fmtPct(bound), colObjective, "errors-objective")
	}
	p.legend([]legendItem{{"gateway 429", colGateway}, {"backend 5xx", colBackend}, {"4xx", colClient}, {"transport", colTransport}})
	return p.svg("Error share per step, by cause", "errors-per-step")
}

// timelineChart draws latency over the whole run: p50 and p99 per time
// bucket (or per step without a timeline), each step as a band coloured by
// its verdict, and the latency objectives.
func timelineChart(c *Capacity, tl *Timeline, perMethod bool) string {
	tsteps := tl.Steps()
	if len(tsteps) == 0 { // no timeline: lay the steps end to end
		at := 0.0
		for _, s := range c.Steps {
			tsteps = append(tsteps, TimelineStep{Start: at, End: at + s.Duration, Label: s.Target, Step: s})
			at += s.Duration
		}
	}
	points := tl.Points(600)
	objs := latencyObjectivesOf(c.Objectives)
	end := 1.0
	var p99s []float64
	for _, s := range tsteps {
		end = math.Max(end, s.End)
		p99s = append(p99s, s.Step.Latency.P99)
	}
	for _, pt := range points {
		end = math.Max(end, pt.At+TimelineBucket.Seconds())
		p99s = append(p99s, pt.P99)
	}
	top := latencyRange(p99s, objs)
	p := newPlot(780, 380, 0, end, 0, top)
	p.top = 60
	if perMethod {
		p.top = 84 // a row for the method names
	}
	p.axes("time since start (s)", "latency", niceTicks(0, end, 8), niceTicks(0, top, 5),
		func(v float64) string { return trimZeros(fmt.Sprintf("%.1f", v)) }, fmtMS)
	// Per method, its name over its run of steps.
	if perMethod {
		for i := 0; i < len(tsteps); {
			j := i
			for j+1 < len(tsteps) && tsteps[j+1].Label == tsteps[i].Label {
				j++
			}
			x0, x1 := p.X(tsteps[i].Start), p.X(tsteps[j].End)
			p.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#555"/>`, x0+2, p.top-34, x1-2, p.top-34)
			p.label((x0+x1)/2, p.top-38, tsteps[i].Label, "middle", "#333", ` class="method-label"`)
			i = j + 1
		}
	}
	// Step bands, with "#n rate" above them where there is room.
	for i, s := range tsteps {
		color := colPass
		if !s.Step.Pass {
			color = colFail
		}
		x0, x1 := p.X(s.Start), p.X(s.End)
		tip := fmt.Sprintf("step %d: %s %s rps, %.1fs", i+1, s.Step.Phase, fmtRate(s.Step.Rate), s.Step.Duration)
		if s.Label != "" && perMethod {
			tip += " · " + s.Label
		}
		tip += " — " + Verdict(s.Step)
		p.printf(`<g data-step="%d" class="step-band"><title>%s</title><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.12"/><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-opacity="0.6"/></g>`,
			i+1, esc(tip), x0, p.top, math.Max(x1-x0, 1), p.h-p.bottom-p.top, color, x0, p.top, x0, p.h-p.bottom, color)
		mark := "✓"
		if !s.Step.Pass {
			mark = "✗"
		}
		p.label((x0+x1)/2, p.top-6, fmt.Sprintf("%s%s", fmtRate(s.Step.Rate), mark), "middle", color, "")
	}
	if len(points) > 0 {
		// Break the lines where no request was sent (cool-downs).
		var xs, y50, y99 []float64
		flush := func() {
			p.polyline(xs, y50, colP50, 1.2, "p50")
			p.polyline(xs, y99, colP99, 1.6, "p99")
			xs, y50, y99 = nil, nil, nil
		}
		gap := 2.5 * (points[len(points)-1].At - points[0].At) / math.Max(float64(len(points)-1), 1)
		gap = math.Max(gap, 2.5*TimelineBucket.Seconds())
		for i, pt := range points {
			if i > 0 && pt.At-points[i-1].At > gap {
				flush()
			}
			xs, y50, y99 = append(xs, pt.At), append(y50, pt.P50), append(y99, pt.P99)
		}
		flush()
	} else {
		for _, s := range tsteps {
			p.polyline([]float64{s.Start, s.End}, []float64{s.Step.Latency.P50, s.Step.Latency.P50}, colP50, 1.2, "p50")
			p.polyline([]float64{s.Start, s.End}, []float64{s.Step.Latency.P99, s.Step.Latency.P99}, colP99, 1.6, "p99")
		}
	}
	for i, o := range objs {
		id := "timeline-objective"
		if i > 0 {
			id = fmt.Sprintf("timeline-objective-%d", i+1)
		}
		p.hline(float64(o.Latency)/1e6, "objective "+o.Text, colObjective, id)
	}
	p.legend([]legendItem{{"p99", colP99}, {"p50", colP50}, {"step passed", colPass}, {"step failed", colFail}})
	return p.svg("Latency over time, steps marked with their rate and verdict", "latency-over-time")
}
