package loadtest

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// throttledBackend answers 429 above gateway rps (a gateway throttle) and
// serves the rest through a backend of about 83 rps that answers 503 when
// its queue is full: a search against it meets both causes.
func throttledBackend(gateway float64) http.Handler {
	gw := newBucketBackend(gateway, 5)
	be := newSlotBackend(1, 12*time.Millisecond, 2)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !gw.lim.Allow() {
			http.Error(w, `{"message":"Too Many Requests"}`, http.StatusTooManyRequests)
			return
		}
		be.ServeHTTP(w, r)
	})
}

// reportRun runs a short search with a Timeline and returns the result and
// its HTML report.
func reportRun(t *testing.T) (*Capacity, *Timeline, string) {
	t.Helper()
	url := serve(t, throttledBackend(100))
	tl := NewTimeline()
	c, err := Search(context.Background(), target(url),
		SearchConfig{StartRate: 40, MaxRate: 640, StepDuration: 400 * time.Millisecond, GrowDuration: 400 * time.Millisecond, Precision: 0.15, CoolDown: 100 * time.Millisecond},
		Options{Objectives: mustObjectives(t, "p99<300ms", "errors<1%"), Timeline: tl})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteReportHTML(&out, c, tl); err != nil {
		t.Fatal(err)
	}
	return c, tl, out.String()
}

// checkSVGs decodes every <svg> element of page as strict XML and returns
// how many there were.
func checkSVGs(t *testing.T, page string) int {
	t.Helper()
	n := 0
	for rest := page; ; n++ {
		i := strings.Index(rest, "<svg")
		if i < 0 {
			return n
		}
		j := strings.Index(rest[i:], "</svg>")
		if j < 0 {
			t.Fatalf("unclosed <svg>")
		}
		doc := rest[i : i+j+len("</svg>")]
		dec := xml.NewDecoder(strings.NewReader(doc))
		for {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("svg %d is not well-formed: %v", n+1, err)
			}
		}
		rest = rest[i+j:]
	}
}

func TestReportHTML(t *testing.T) {
	c, tl, page := reportRun(t)
	if !c.Pass || c.SustainableRPS <= 0 {
		t.Fatalf("search found nothing: %+v", c)
	}
	found := regexp.MustCompile(`id="found-rate">([0-9.]+) rps<`).FindStringSubmatch(page)
	if found == nil || found[1] != fmtRate(c.SustainableRPS) {
		t.Errorf("found rate %v, want %s rps", found, fmtRate(c.SustainableRPS))
	}
	for _, id := range []string{"rate-latency-objective", "rate-latency-found", "errors-objective", "timeline-objective", "latency-over-time", "errors-per-step", "steps"} {
		if !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("report lacks #%s", id)
		}
	}
	if n := checkSVGs(t, page); n != 3 {
		t.Errorf("%d charts, want 3 (rate, errors, time)", n)
	}
	// Self-contained: nothing to fetch.
	for _, bad := range []string{"<link", " src=", "https://", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("report refers to something outside it: %q", bad)
		}
	}
	// The failing steps met the throttle: the split says so.
	var gw, be int
	for _, s := range c.Steps {
		e := StepErrorCounts(s)
		gw += e.Gateway
		be += e.Backend
	}
	if gw == 0 || !strings.Contains(page, `class="gateway"`) {
		t.Errorf("%d gateway 429s; bars: %v", gw, strings.Contains(page, `class="gateway"`))
	}
	if be > 0 && !strings.Contains(page, `class="backend"`) {
		t.Errorf("%d backend 5xx but no bar", be)
	}
	// Latency over time covers the whole run, every step placed in order.
	steps := tl.Steps()
	if len(steps) != len(c.Steps) || strings.Count(page, `class="step-band"`) != len(c.Steps) {
		t.Fatalf("%d timeline steps, %d bands, %d steps", len(steps), strings.Count(page, `class="step-band"`), len(c.Steps))
	}
	sum := 0.0
	for i, s := range steps {
		sum += s.Step.Duration
		if i > 0 && s.Start < steps[i-1].End {
			t.Errorf("step %d starts at %.2fs before step %d ends at %.2fs", i+1, s.Start, i, steps[i-1].End)
		}
	}
	if last := steps[len(steps)-1].End; last < sum {
		t.Errorf("timeline ends at %.2fs, the steps last %.2fs", last, sum)
	}
	pts := tl.Points(600)
	if len(pts) < len(steps) {
		t.Errorf("%d timeline points for %d steps", len(pts), len(steps))
	}
	n := 0
	for _, p := range pts {
		n += p.Requests
		if p.P99 < p.P50 || p.P50 <= 0 {
			t.Errorf("point %+v", p)
		}
	}
	total := 0
	for _, s := range c.Steps {
		total += s.Requests
	}
	// Requests cancelled by an abort are not measurements (dropped from the steps).
	if n < total {
		t.Errorf("timeline saw %d requests, steps %d", n, total)
	}
}

func TestTimelineHistogramQuantiles(t *testing.T) {
	var hist [histBins]uint32
	for i := 1; i <= 1000; i++ {
		hist[histBin(time.Duration(i)*time.Millisecond)]++
	}
	for _, c := range []struct{ q, want float64 }{{0.5, 500}, {0.99, 990}} {
		got := histQuantile(hist[:], 1000, c.q)
		// A bin is 12% wide and the upper edge is reported.
		if got < c.want || got > c.want*histGrowth {
			t.Errorf("q%.2f = %.1fms, want within one bin above %.0fms", c.q, got, c.want)
		}
	}
}

// textBoxes returns the estimated boxes of an SVG's <text> elements.
func textBoxes(t *testing.T, svg string) []rect {
	t.Helper()
	re := regexp.MustCompile(`<text x="([0-9.]+)" y="([0-9.]+)"(?: dx="[^"]*")?(?: dy="[^"]*")?(?: text-anchor="(\w+)")?[^>]*>([^<]*)</text>`)
	var out []rect
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		if strings.Contains(m[0], "dy=") || strings.Contains(m[0], "dx=") {
			continue // axis tick labels, on their own rows
		}
		x, _ := strconv.ParseFloat(m[1], 64)
		y, _ := strconv.ParseFloat(m[2], 64)
		w := float64(len([]rune(unescape(m[4])))) * charW
		switch m[3] {
		case "middle":
			x -= w / 2
		case "end":
			x -= w
		}
		out = append(out, rect{x, y - lineH + 3, x + w, y + 3})
	}
	return out
}

func unescape(s string) string {
	var v string
	if err := xml.Unmarshal([]byte("<a>"+s+"</a>"), &v); err != nil {
		return s
	}
	return v
}

func TestChartLabelsNeverOverprint(t *testing.T) {
	steps := []Step{
		{Phase: "grow", Rate: 100, Requests: 100, Pass: true, Latency: LatencyMS{P50: 20, P99: 40}},
		{Phase: "grow", Rate: 200, Requests: 200, Pass: true, Latency: LatencyMS{P50: 30, P99: 90}},
		{Phase: "grow", Rate: 400, Requests: 400, Reason: "p99 900ms >= 300ms", Latency: LatencyMS{P50: 200, P99: 900}},
		{Phase: "confirm", Rate: 205, Requests: 2000, Pass: true, Latency: LatencyMS{P50: 30, P99: 95}},
	}
	c := &Capacity{Target: "GET http://127.0.0.1/x", Mode: "search", Objectives: []string{"p99<300ms", "errors<1%"},
		Steps: steps, SustainableRPS: 200, KneeRPS: 200, Pass: true}
	var out bytes.Buffer
	if err := WriteChart(&out, "chart.svg", c); err != nil {
		t.Fatal(err)
	}
	svg := out.String()
	if !strings.HasPrefix(svg, "<?xml") {
		t.Errorf("not an SVG document: %.60s", svg)
	}
	checkSVGs(t, svg)
	// The found rate and the knee at the same rate share one label.
	if strings.Count(svg, "found 200 rps") != 1 || !strings.Contains(svg, "found 200 rps · knee 200 rps") {
		t.Errorf("found/knee label:\n%s", svg)
	}
	boxes := textBoxes(t, svg)
	if len(boxes) < 5 {
		t.Fatalf("only %d labels found", len(boxes))
	}
	for i := range boxes {
		for j := i + 1; j < len(boxes); j++ {
			if boxes[i].overlaps(boxes[j]) {
				t.Errorf("labels %d and %d overprint: %+v %+v", i, j, boxes[i], boxes[j])
			}
		}
	}
	out.Reset()
	if err := WriteChart(&out, "chart.html", c); err != nil || !strings.HasPrefix(out.String(), "<!doctype html>") {
		t.Errorf("chart.html: %v %.40s", err, out.String())
	}
}

func TestErrorShareSplit(t *testing.T) {
	st := Step{Requests: 200, StatusCodes: map[string]int{"200": 100, "429": 72, "503": 12, "403": 6, "0": 10}}
	sh := StepErrorShare(st)
	if sh.Gateway != 0.36 || sh.Backend != 0.06 || sh.Client != 0.03 || sh.Transport != 0.05 || math.Abs(sh.Total()-0.5) > 1e-9 {
		t.Errorf("share %+v", sh)
	}
	if got := StatusSummary(st); got != "429×72 gateway, 503×12, transport×10, 403×6" {
		t.Errorf("summary %q", got)
	}
	for _, c := range []struct {
		st   Step
		want string
	}{
		{Step{Pass: true}, "pass"},
		{Step{Reason: "p99 641ms >= 300ms"}, "FAIL p99 641ms > 300ms"},
		{Step{Aborted: true, Reason: "aborted: errors above twice the objective in the last second; errors 37.5% >= 1%; throughput 62.5% < 95%"}, "FAIL errors 37.5% > 1% (aborted)"},
		{Step{Reason: "errors 1% >= 1%"}, "FAIL errors 1% >= 1%"},
	} {
		if got := Verdict(c.st); got != c.want {
			t.Errorf("Verdict(%q) = %q, want %q", c.st.Reason, got, c.want)
		}
	}
}

func TestReportHTMLFixedAndPerMethod(t *testing.T) {
	url := serve(t, okHandler)
	tl := NewTimeline()
	c, err := Run(context.Background(), target(url), 50, 1200*time.Millisecond, Options{Timeline: tl})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteReportHTML(&out, c, tl); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	// A fixed run keeps its latency over time, with no rate chart.
	if !strings.Contains(page, `id="verdict">PASS<`) || !strings.Contains(page, `id="latency-over-time"`) || strings.Contains(page, `id="rate-latency"`) {
		t.Errorf("fixed-run report:\n%.2000s", page)
	}
	if pts := tl.Points(600); len(pts) < 3 || !strings.Contains(page, `class="p99"`) {
		t.Errorf("%d points over 1.2s", len(pts))
	}
	checkSVGs(t, page)

	// Per method: one chart per method, its found rate in the summary,
	// the method names over their steps (no timeline: steps end to end).
	pm := &Capacity{Target: "cart", Mode: "search", Objectives: []string{"p99<300ms"}, Pass: true, SustainableRPS: 100}
	for i, name := range []string{"GET /a", "POST /b"} {
		steps := []Step{
			{Target: name, Phase: "grow", Rate: 50, Requests: 250, Duration: 5, Pass: true, Latency: LatencyMS{P50: 10, P99: 20}},
			{Target: name, Phase: "grow", Rate: 100, Requests: 500, Duration: 5, Pass: true, Latency: LatencyMS{P50: 10, P99: 40}},
			{Target: name, Phase: "grow", Rate: 200, Requests: 200, Duration: 1, Aborted: true, Reason: "p99 900ms >= 300ms", Latency: LatencyMS{P50: 200, P99: 900}},
		}
		pm.Methods = append(pm.Methods, MethodCapacity{Name: name, SustainableRPS: float64(100 * (i + 1)), Pass: true, Steps: steps})
		pm.Steps = append(pm.Steps, steps...)
	}
	out.Reset()
	if err := WriteReportHTML(&out, pm, nil); err != nil {
		t.Fatal(err)
	}
	page = out.String()
	for _, want := range []string{`id="found-rate-1">100 rps<`, `id="found-rate-2">200 rps<`, `id="method-1"`, `id="method-2-objective"`, `class="method-label">GET /a<`, `class="method-label">POST /b<`} {
		if !strings.Contains(page, want) {
			t.Errorf("per-method report lacks %s", want)
		}
	}
	if n := checkSVGs(t, page); n != 4 {
		t.Errorf("%d charts, want errors, time and one per method", n)
	}
}

func TestChartPerMethod(t *testing.T) {
	c := &Capacity{Target: "cart", Mode: "search", Objectives: []string{"p99<300ms"}}
	for _, name := range []string{"GET /a", "POST /b"} {
		steps := []Step{
			{Target: name, Phase: "grow", Rate: 50, Requests: 250, Pass: true, Latency: LatencyMS{P50: 10, P99: 20}},
			{Target: name, Phase: "grow", Rate: 100, Requests: 100, Reason: "p99 900ms >= 300ms", Latency: LatencyMS{P50: 200, P99: 900}},
		}
		c.Methods = append(c.Methods, MethodCapacity{Name: name, SustainableRPS: 50, Pass: true, Steps: steps})
		c.Steps = append(c.Steps, steps...)
	}
	for _, name := range []string{"c.svg", "c.html"} {
		var out bytes.Buffer
		if err := WriteChart(&out, name, c); err != nil {
			t.Fatal(err)
		}
		doc := out.String()
		if strings.HasSuffix(name, ".svg") {
			dec := xml.NewDecoder(strings.NewReader(doc))
			for {
				if _, err := dec.Token(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("%s: not well-formed: %v", name, err)
				}
			}
		}
		for _, want := range []string{"rate: GET /a", "rate: POST /b", `id="method-1-objective"`, `id="method-2-found"`} {
			if !strings.Contains(doc, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
	}
}
