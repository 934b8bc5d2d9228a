package loadtest

import (
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strings"
)

// Colours of the charts (the same in the HTML report and the SVG chart).
const (
	colPass      = "#2a9d8f"
	colFail      = "#e63946"
	colP50       = "#8ab"
	colP99       = "#345"
	colObjective = "#d62828"
	colKnee      = "#e76f51"
	colConfirm   = "#6a4c93"
	colGateway   = "#f4a261"
	colBackend   = "#e63946"
	colClient    = "#7b2cbf"
	colTransport = "#6c757d"
)

// svgPlot draws one chart: axes, lines and labels that never overprint
// (a label that would overlap one already placed moves down a line, or is
// dropped when there is no room left; its figures stay in the tooltips).
type svgPlot struct {
	b              strings.Builder
	w, h           float64
	left, right    float64
	top, bottom    float64
	x0, x1, y0, y1 float64
	placed         []rect
	clipY          bool
}

type rect struct{ x0, y0, x1, y1 float64 }

func (r rect) overlaps(o rect) bool {
	return r.x0 < o.x1 && o.x0 < r.x1 && r.y0 < o.y1 && o.y0 < r.y1
}

const charW, lineH = 6.8, 14.0 // estimated width of a 12px character, line height

func newPlot(w, h, x0, x1, y0, y1 float64) *svgPlot {
	if x1 <= x0 {
		x1 = x0 + 1
	}
	if y1 <= y0 {
		y1 = y0 + 1
	}
	return &svgPlot{w: w, h: h, left: 70, right: 24, top: 44, bottom: 46, x0: x0, x1: x1, y0: y0, y1: y1}
}

func (p *svgPlot) X(v float64) float64 {
	return p.left + (v-p.x0)/(p.x1-p.x0)*(p.w-p.left-p.right)
}

func (p *svgPlot) Y(v float64) float64 {
	y := p.h - p.bottom - (v-p.y0)/(p.y1-p.y0)*(p.h-p.top-p.bottom)
	return math.Max(y, p.top)
}

func (p *svgPlot) printf(format string, a ...any) { fmt.Fprintf(&p.b, format, a...) }

func esc(s string) string { return html.EscapeString(s) }

// axes draws the frame, grid and tick labels.
func (p *svgPlot) axes(xlabel, ylabel string, xticks, yticks []float64, xfmt, yfmt func(float64) string) {
	bot, rgt := p.h-p.bottom, p.w-p.right
	for _, v := range yticks {
		y := p.Y(v)
		p.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`, p.left, y, rgt, y)
		p.printf(`<text x="%.1f" y="%.1f" dx="-6" dy="4" text-anchor="end">%s</text>`, p.left, y, esc(yfmt(v)))
	}
	for _, v := range xticks {
		x := p.X(v)
		p.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`, x, bot, x, bot+4)
		p.printf(`<text x="%.1f" y="%.1f" dy="17" text-anchor="middle">%s</text>`, x, bot, esc(xfmt(v)))
	}
	p.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`, p.left, bot, rgt, bot)
	p.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`, p.left, p.top, p.left, bot)
	p.printf(`<text x="%.1f" y="%.1f" dy="36" text-anchor="end">%s</text>`, rgt, bot, esc(xlabel))
	p.printf(`<text x="14" y="%.1f" transform="rotate(-90 14 %.1f)" text-anchor="middle">%s</text>`, (p.top+bot)/2, (p.top+bot)/2, esc(ylabel))
}

// label places text near (x, y), lower if it would overprint another label;
// it returns false when there is no room.
func (p *svgPlot) label(x, y float64, text, anchor, color, attrs string) bool {
	w := float64(len([]rune(text))) * charW
	x0 := x
	switch anchor {
	case "middle":
		x0 = x - w/2
	case "end":
		x0 = x - w
	}
	if x0 < 2 { // keep it inside the chart
		x0, anchor, x = 2, "start", 2
	}
	if x0+w > p.w-2 {
		x0, anchor, x = p.w-2-w, "end", p.w-2
	}
	for try := 0; try < 4; try++ {
		r := rect{x0, y - lineH + 3, x0 + w, y + 3}
		free := true
		for _, o := range p.placed {
			if r.overlaps(o) {
				free = false
				break
			}
		}
		if free {
			p.placed = append(p.placed, r)
			p.printf(`<text x="%.1f" y="%.1f" text-anchor="%s" fill="%s"%s>%s</text>`, x, y, anchor, color, attrs, esc(text))
			return true
		}
		y += lineH
	}
	return false
}

// hline draws a horizontal reference line (an objective) with its label.
func (p *svgPlot) hline(v float64, text, color, id string) {
	y := p.Y(v)
	p.printf(`<g id="%s"><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5" stroke-dasharray="6 4"/>`, id, p.left, y, p.w-p.right, y, color)
	p.label(p.w-p.right-4, y-4, text, "end", color, ` class="objective-label"`)
	p.printf(`</g>`)
}

// marker is a vertical line at a rate, e.g. the found rate.
type marker struct {
	at    float64
	text  string
	color string
	id    string
}

// vlines draws markers; markers at the same place share one line and one
// label ("found 390 rps · knee").
func (p *svgPlot) vlines(ms []marker) {
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].at < ms[j].at })
	var groups [][]marker
	for _, m := range ms {
		if n := len(groups); n > 0 && math.Abs(p.X(groups[n-1][0].at)-p.X(m.at)) < 3 {
			groups[n-1] = append(groups[n-1], m)
			continue
		}
		groups = append(groups, []marker{m})
	}
	for _, g := range groups {
		x := p.X(g[0].at)
		var texts, ids []string
		for _, m := range g {
			texts = append(texts, m.text)
			if m.id != "" {
				ids = append(ids, m.id)
			}
		}
		id := ""
		if len(ids) > 0 {
			id = fmt.Sprintf(` id="%s"`, ids[0])
		}
		p.printf(`<g%s class="marker"><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5" stroke-dasharray="4 3"/>`, id, x, p.top, x, p.h-p.bottom, g[0].color)
		p.label(x, p.top-8, strings.Join(texts, " · "), "middle", g[0].color, ` font-weight="bold"`)
		p.printf(`</g>`)
	}
}

func (p *svgPlot) polyline(xs, ys []float64, color string, width float64, class string) {
	if len(xs) == 0 {
		return
	}
	pts := make([]string, len(xs))
	for i := range xs {
		pts[i] = fmt.Sprintf("%.1f,%.1f", p.X(xs[i]), p.Y(ys[i]))
	}
	p.printf(`<polyline class="%s" points="%s" fill="none" stroke="%s" stroke-width="%.1f"/>`, class, strings.Join(pts, " "), color, width)
}

// svg wraps what was drawn in an <svg> element with its title.
func (p *svgPlot) svg(title, id string) string {
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" id="%s" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="system-ui,sans-serif" font-size="12" role="img"><title>%s</title><rect width="100%%" height="100%%" fill="#fff"/>%s</svg>`,
		id, p.w, p.h, p.w, p.h, esc(title), p.b.String())
}

// niceTicks returns about n round tick values from lo to hi.
func niceTicks(lo, hi float64, n int) []float64 {
	if hi <= lo || n < 1 {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

// latencyObjectives returns the latency objectives of a result.
func latencyObjectivesOf(texts []string) Objectives {
	objs, err := ParseObjectives(texts)
	if err != nil {
		return nil
	}
	return objs.latencyObjectives()
}

// errorObjective returns the error bound of a result (-1: none).
func errorObjectiveOf(texts []string) float64 {
	objs, err := ParseObjectives(texts)
	if err != nil {
		return -1
	}
	return objs.maxErrorRatio()
}

func fmtMS(v float64) string {
	if v == 0 {
		return "0"
	}
	return fmtDur(msDur(v))
}

// latencyRange is the latency axis: the objective and the steps' p99 fit,
// but a step far past the objective (an aborted one) is clipped at the
// top rather than squashing every other point.
func latencyRange(p99s []float64, objs Objectives) float64 {
	top, obj := 0.0, 0.0
	for _, o := range objs {
		obj = math.Max(obj, float64(o.Latency)/1e6)
	}
	for _, v := range p99s {
		top = math.Max(top, v)
	}
	if obj > 0 {
		top = math.Min(math.Max(top, obj*1.2), obj*4)
	}
	return math.Max(top*1.1, 1)
}

// rateChart draws p50 and p99 latency against the requested rate, the
// latency objectives as lines, and the found rate, the knee and the
// confirm runs as markers.
func rateChart(id, title string, steps []Step, objectives []string, found, knee float64, confirms []Step) string {
	pts := chartPoints(steps)
	objs := latencyObjectivesOf(objectives)
	maxRate := 1.0
	var p99s []float64
	for _, s := range pts {
		maxRate = math.Max(maxRate, s.Rate)
		p99s = append(p99s, s.Latency.P99)
	}
	for _, s := range confirms {
		maxRate = math.Max(maxRate, s.Rate)
	}
	maxRate *= 1.08
	maxLat := latencyRange(p99s, objs)
	p := newPlot(780, 400, 0, maxRate, 0, maxLat)
	xt := niceTicks(0, maxRate, 6)
	p.axes("requested rate (rps)", "latency", xt, niceTicks(0, maxLat, 5), func(v float64) string { return fmtRate(v) }, fmtMS)
	var markers []marker
	if found > 0 {
		markers = append(markers, marker{at: found, text: "found " + fmtRate(found) + " rps", color: colPass, id: id + "-found"})
	}
	if knee > 0 {
		markers = append(markers, marker{at: knee, text: "knee " + fmtRate(knee) + " rps", color: colKnee, id: id + "-knee"})
	}
	for i, s := range confirms {
		v := "held"
		if !s.Pass {
			v = "failed"
		}
		markers = append(markers, marker{at: s.Rate, text: "confirm " + v, color: colConfirm, id: fmt.Sprintf("%s-confirm-%d", id, i+1)})
	}
	p.vlines(markers)
	for i, o := range objs {
		oid := id + "-objective"
		if i > 0 {
			oid = fmt.Sprintf("%s-objective-%d", id, i+1)
		}
		p.hline(float64(o.Latency)/1e6, "objective "+o.Text, colObjective, oid)
	}
	var xs, y50, y99 []float64
	for _, s := range pts {
		xs = append(xs, s.Rate)
		y50 = append(y50, s.Latency.P50)
		y99 = append(y99, s.Latency.P99)
	}
	p.polyline(xs, y50, colP50, 1.5, "p50")
	p.polyline(xs, y99, colP99, 2, "p99")
	for _, s := range pts {
		color := colPass
		if !s.Pass {
			color = colFail
		}
		tip := fmt.Sprintf("%s rps (%s): p50 %s, p99 %s, errors %s — %s", fmtRate(s.Rate), s.Phase,
			fmtMS(s.Latency.P50), fmtMS(s.Latency.P99), fmtPct(1-s.SuccessRatio), Verdict(s))
		p.printf(`<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s</title></circle>`, p.X(s.Rate), p.Y(s.Latency.P50), colP50, esc(tip))
		p.printf(`<circle cx="%.1f" cy="%.1f" r="5" fill="%s"><title>%s</title></circle>`, p.X(s.Rate), p.Y(s.Latency.P99), color, esc(tip))
	}
	p.legend([]legendItem{{"p99", colP99}, {"p50", colP50}, {"pass", colPass}, {"fail", colFail}})
	return p.svg(title, id)
}

type legendItem struct{ text, color string }

// legend draws the legend in a row under the title line.
func (p *svgPlot) legend(items []legendItem) {
	x := p.left
	y := 14.0
	for _, it := range items {
		p.printf(`<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/>`, x, y-9, it.color)
		p.printf(`<text x="%.1f" y="%.1f">%s</text>`, x+14, y, esc(it.text))
		p.placed = append(p.placed, rect{x, y - lineH + 3, x + 14 + float64(len(it.text))*charW, y + 3})
		x += 24 + float64(len([]rune(it.text)))*charW
	}
}

// confirmSteps are a result's confirm runs (its holds).
func confirmSteps(c *Capacity) []Step {
	if len(c.Holds) > 0 {
		return c.Holds
	}
	var out []Step
	seen := false
	for _, s := range c.Steps {
		if s.Phase == PhaseConfirm {
			out = append(out, s)
			seen = true
		}
	}
	if !seen && c.Confirm != nil {
		out = append(out, *c.Confirm)
	}
	return out
}

// stepCharts are the rate charts of a result: one, or one per method of a
// per-method search (each method searched alone has its own curve).
func stepCharts(c *Capacity) []string {
	var charts []string
	for i, m := range c.Methods {
		if len(m.Steps) == 0 {
			continue
		}
		var confirms []Step
		for _, s := range m.Steps {
			if s.Phase == PhaseConfirm {
				confirms = append(confirms, s)
			}
		}
		charts = append(charts, rateChart(fmt.Sprintf("method-%d", i+1), "Latency against requested rate: "+m.Name, m.Steps, c.Objectives, m.SustainableRPS, m.KneeRPS, confirms))
	}
	if len(charts) == 0 {
		charts = append(charts, rateChart("rate-latency", "Latency against requested rate: "+c.Target, c.Steps, c.Objectives, c.SustainableRPS, c.KneeRPS, confirmSteps(c)))
	}
	return charts
}

// WriteStepsSVG writes the chart of p50 and p99 latency against requested
// rate as a standalone SVG document, the objectives, the found rate, the
// knee and any confirm run marked; a per-method search has one chart per
// method, one under the other.
func WriteStepsSVG(w io.Writer, c *Capacity) error {
	charts := stepCharts(c)
	var err error
	if len(charts) == 1 {
		_, err = io.WriteString(w, xml.Header+charts[0]+"\n")
		return err
	}
	const h = 400.0
	var b strings.Builder
	fmt.Fprintf(&b, `%s<svg xmlns="http://www.w3.org/2000/svg" width="780" height="%.0f" viewBox="0 0 780 %.0f"><title>%s</title>`,
		xml.Header, h*float64(len(charts)), h*float64(len(charts)), esc("apictl loadtest: "+c.Target))
	for i, ch := range charts {
		fmt.Fprintf(&b, `<g transform="translate(0 %.0f)">%s</g>`, h*float64(i), ch)
	}
	b.WriteString("</svg>\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// WriteChart writes the chart as SVG when name ends in .svg, as an HTML
// page otherwise (--chart).
func WriteChart(w io.Writer, name string, c *Capacity) error {
	if strings.HasSuffix(strings.ToLower(name), ".svg") {
		return WriteStepsSVG(w, c)
	}
	return WriteStepsHTML(w, c)
}
