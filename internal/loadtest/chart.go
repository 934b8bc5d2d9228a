package loadtest

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// RateLatencyChart draws the steps as a text bar chart of p99 latency per
// requested rate (sorted by rate), one line per step, e.g.
//
//	160 rps │██████▏                     21.0ms  pass
//	640 rps │██████████████████████████ 2.31s   FAIL
//
// width is the width of the longest bar (default 40).
func RateLatencyChart(steps []Step, width int) string {
	if width <= 0 {
		width = 40
	}
	pts := chartPoints(steps)
	if len(pts) == 0 {
		return ""
	}
	maxLat := 0.0
	for _, p := range pts {
		maxLat = math.Max(maxLat, p.Latency.P99)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%10s │ %s\n", "rate", "p99 latency")
	for _, p := range pts {
		n := 0.0
		if maxLat > 0 {
			n = p.Latency.P99 / maxLat * float64(width)
		}
		bar := bar(n)
		verdict := "pass"
		if !p.Pass {
			verdict = "FAIL"
			if p.Aborted {
				verdict = "FAIL (aborted)"
			}
		}
		fmt.Fprintf(&b, "%6s rps │%-*s %8s  %s\n", fmtRate(p.Rate), width, bar, fmtDur(msDur(p.Latency.P99)), verdict)
	}
	return b.String()
}

// bar renders n (in cells) with eighth-cell precision.
func bar(n float64) string {
	eighths := []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}
	full := int(n)
	frac := int((n - float64(full)) * 8)
	s := strings.Repeat("█", full) + eighths[frac]
	if s == "" && n > 0 {
		s = "▏"
	}
	return s
}

func chartPoints(steps []Step) []Step {
	var pts []Step
	for _, st := range steps {
		if st.Requests > 0 {
			pts = append(pts, st)
		}
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].Rate < pts[j].Rate })
	return pts
}

func msDur(f float64) time.Duration { return time.Duration(f * 1e6) }

// WriteStepsHTML writes a self-contained HTML page with an SVG chart of p50
// and p99 latency against requested rate for the search steps, the
// sustainable rate and the knee marked.
func WriteStepsHTML(w io.Writer, c *Capacity) error {
	pts := chartPoints(c.Steps)
	const (
		width, height       = 760.0, 420.0
		left, right, top, b = 70.0, 20.0, 30.0, 50.0
	)
	maxRate, maxLat := 1.0, 1.0
	for _, p := range pts {
		maxRate = math.Max(maxRate, p.Rate)
		maxLat = math.Max(maxLat, p.Latency.P99)
	}
	maxRate *= 1.05
	maxLat *= 1.1
	x := func(r float64) float64 { return left + r/maxRate*(width-left-right) }
	y := func(l float64) float64 { return height - b - l/maxLat*(height-top-b) }
	type point struct {
		X, Y   float64
		Color  string
		Title  string
		Y50    float64
		Radius float64
	}
	type vline struct {
		X     float64
		Label string
		Color string
	}
	type tick struct {
		Pos   float64
		Label string
	}
	var points []point
	var p50, p99 []string
	for _, p := range pts {
		color := "#2a9d8f"
		if !p.Pass {
			color = "#e63946"
		}
		points = append(points, point{
			X: x(p.Rate), Y: y(p.Latency.P99), Y50: y(p.Latency.P50), Color: color, Radius: 5,
			Title: fmt.Sprintf("%s rps (%s): achieved %s rps, p50 %sms, p99 %sms, errors %s — %s",
				fmtRate(p.Rate), p.Phase, fmtRate(p.AchievedRate), trimZeros(fmt.Sprintf("%.1f", p.Latency.P50)),
				trimZeros(fmt.Sprintf("%.1f", p.Latency.P99)), fmtPct(1-p.SuccessRatio), verdictText(p)),
		})
		p50 = append(p50, fmt.Sprintf("%.1f,%.1f", x(p.Rate), y(p.Latency.P50)))
		p99 = append(p99, fmt.Sprintf("%.1f,%.1f", x(p.Rate), y(p.Latency.P99)))
	}
	var lines []vline
	if c.SustainableRPS > 0 {
		lines = append(lines, vline{X: x(c.SustainableRPS), Label: "sustainable " + fmtRate(c.SustainableRPS) + " rps", Color: "#2a9d8f"})
	}
	if c.KneeRPS > 0 {
		lines = append(lines, vline{X: x(c.KneeRPS), Label: "knee " + fmtRate(c.KneeRPS) + " rps", Color: "#f4a261"})
	}
	var xt, yt []tick
	for i := 0; i <= 5; i++ {
		r := maxRate * float64(i) / 5
		xt = append(xt, tick{Pos: x(r), Label: fmtRate(math.Round(r))})
		l := maxLat * float64(i) / 5
		yt = append(yt, tick{Pos: y(l), Label: fmtDur(msDur(l))})
	}
	data := map[string]any{
		"Title": "apictl loadtest: " + c.Target, "Objectives": strings.Join(c.Objectives, ", "),
		"W": width, "H": height, "Left": left, "Bottom": height - b, "Right": width - right, "Top": top,
		"Points": points, "P50": strings.Join(p50, " "), "P99": strings.Join(p99, " "), "Lines": lines,
		"XTicks": xt, "YTicks": yt,
	}
	return stepsTemplate.Execute(w, data)
}

func verdictText(p Step) string {
	if p.Pass {
		return "pass"
	}
	return "fail: " + p.Reason
}

var stepsTemplate = template.Must(template.New("steps").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}text{font-size:12px}</style></head>
<body><h2>{{.Title}}</h2><p>Latency against requested rate · objectives: {{.Objectives}} · green passed, red failed</p>
<svg width="{{.W}}" height="{{.H}}" xmlns="http://www.w3.org/2000/svg">
<line x1="{{.Left}}" y1="{{.Bottom}}" x2="{{.Right}}" y2="{{.Bottom}}" stroke="#333"/>
<line x1="{{.Left}}" y1="{{.Top}}" x2="{{.Left}}" y2="{{.Bottom}}" stroke="#333"/>
{{range .XTicks}}<text x="{{.Pos}}" y="{{$.Bottom}}" dy="18" text-anchor="middle">{{.Label}}</text>{{end}}
{{range .YTicks}}<text x="{{$.Left}}" y="{{.Pos}}" dx="-6" text-anchor="end">{{.Label}}</text><line x1="{{$.Left}}" y1="{{.Pos}}" x2="{{$.Right}}" y2="{{.Pos}}" stroke="#eee"/>{{end}}
<text x="{{.Right}}" y="{{.Bottom}}" dy="38" text-anchor="end">requested rate (rps)</text>
{{range .Lines}}<line x1="{{.X}}" y1="{{$.Top}}" x2="{{.X}}" y2="{{$.Bottom}}" stroke="{{.Color}}" stroke-dasharray="4 3"/><text x="{{.X}}" y="{{$.Top}}" dy="-6" text-anchor="middle" fill="{{.Color}}">{{.Label}}</text>{{end}}
<polyline points="{{.P50}}" fill="none" stroke="#8ab" stroke-width="1.5"/>
<polyline points="{{.P99}}" fill="none" stroke="#456" stroke-width="1.5"/>
{{range .Points}}<circle cx="{{.X}}" cy="{{.Y50}}" r="3" fill="#8ab"><title>{{.Title}}</title></circle><circle cx="{{.X}}" cy="{{.Y}}" r="{{.Radius}}" fill="{{.Color}}"><title>{{.Title}}</title></circle>{{end}}
</svg><p>dots: p99 (coloured by verdict) and p50 (grey-blue); hover for figures.</p></body></html>
`))
