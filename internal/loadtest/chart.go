package loadtest

import (
	"fmt"
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

// WriteStepsHTML writes a self-contained HTML page with the chart of
// WriteStepsSVG: p50 and p99 latency against requested rate, the
// objectives, the found rate, the knee and any confirm run marked.
func WriteStepsHTML(w io.Writer, c *Capacity) error {
	svg := strings.Join(stepCharts(c), "\n")
	_, err := fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>%s</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}</style></head>
<body><h2>%s</h2><p>objectives: %s · dots: p99 (green passed, red failed) and p50; hover for figures</p>
%s
</body></html>
`, esc("apictl loadtest: "+c.Target), esc("apictl loadtest: "+c.Target), esc(strings.Join(c.Objectives, ", ")), svg)
	return err
}
