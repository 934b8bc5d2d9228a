package measure

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apictl/apictl/internal/report"
)

// SparklineWidth is the most columns the RPS sparkline takes; longer
// series are folded, each column showing the busiest period it covers.
const SparklineWidth = 60

// Stages are the measured stages of one API, the result of Measure. One
// stage's JSON is that stage's Usage; several are a list.
type Stages []*Usage

// JSON is the JSON model: the one Usage, or the list.
func (us Stages) JSON() any {
	if len(us) == 1 {
		return us[0]
	}
	return []*Usage(us)
}

// Document builds the table/markdown view of measured stages.
func (us Stages) Document() report.Document {
	var doc report.Document
	if len(us) == 0 {
		doc.Title = "apictl measure"
		doc.Blocks = append(doc.Blocks, report.Note{Text: "nothing measured", Level: report.Info})
		return doc
	}
	doc.Title = fmt.Sprintf("%s / %s (%s API %s)", us[0].API, us[0].Stage, strings.ToUpper(us[0].APIType), us[0].APIID)
	if len(us) > 1 {
		doc.Title = fmt.Sprintf("%s (%s API %s), %d stages", us[0].API, strings.ToUpper(us[0].APIType), us[0].APIID, len(us))
	}
	for _, u := range us {
		doc.Blocks = append(doc.Blocks, stageBlocks(u, len(us) > 1)...)
	}
	return doc
}

func stageBlocks(u *Usage, titled bool) []report.Block {
	prefix := ""
	if titled {
		prefix = "Stage " + u.Stage + ": "
	}
	t := u.Totals
	var blocks []report.Block

	w := u.Window
	blocks = append(blocks, report.KV{Title: prefix + "Window", Pairs: []report.Pair{
		{Key: "window", Value: fmt.Sprintf("%s → %s (%s)", w.Start.UTC().Format("2006-01-02 15:04"), w.End.UTC().Format("2006-01-02 15:04 UTC"), report.ShortDuration(time.Duration(w.Seconds)*time.Second))},
		{Key: "period", Value: u.PeriodRule},
	}})

	peak := "-"
	if t.PeakAt != nil {
		peak = fmt.Sprintf("%s rps at %s", report.Num(t.PeakRPS, 3), t.PeakAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	pairs := []report.Pair{
		{Key: "requests", Value: report.Thousands(t.Count)},
		{Key: "avg rps", Value: report.Num(t.AvgRPS, 3)},
		{Key: "peak rps", Value: peak},
		{Key: "burst (estimate)", Value: report.Num(t.BurstEstimateRPS, 3) + " rps"},
		{Key: "4xx", Value: fmt.Sprintf("%s (%s)", report.Thousands(t.Error4xx), report.Percent(t.Error4xxRate, 3))},
		{Key: "5xx", Value: fmt.Sprintf("%s (%s)", report.Thousands(t.Error5xx), report.Percent(t.Error5xxRate, 3))},
		{Key: "latency p50 / p99", Value: ms(t.LatencyP50Ms) + " / " + ms(t.LatencyP99Ms)},
		{Key: "integration p99", Value: ms(t.IntegrationLatencyP99Ms)},
		{Key: "*/* throttle (each method)", Value: limit(u.Throttle.Stage)},
		{Key: "account limit (all APIs)", Value: accountText(u)},
		{Key: "API-wide headroom", Value: headroomText(t.Headroom, u.AccountThrottle.Rate > 0) + " (account limit / peak rps)"},
	}
	blocks = append(blocks, report.KV{Title: prefix + "Traffic", Pairs: pairs})

	if rps := u.RPS(); len(rps) > 0 {
		folded, per := fold(rps, SparklineWidth)
		title := fmt.Sprintf("%sRPS per %s", prefix, report.ShortDuration(time.Duration(u.PeriodSeconds)*time.Second))
		if per > 1 {
			title = fmt.Sprintf("%sRPS (busiest %s period of every %d)", prefix, report.ShortDuration(time.Duration(u.PeriodSeconds)*time.Second), per)
		}
		blocks = append(blocks, report.Text{Title: title, Text: fmt.Sprintf("%s  max %s rps", report.Sparkline(folded), report.Num(maxOf(rps), 3))})
	}

	if len(u.Daily) > 0 {
		tb := report.Table{Title: prefix + "Daily totals (UTC)", Headers: []string{"DATE", "REQUESTS", ""}, Align: []report.Alignment{report.AlignLeft, report.AlignRight, report.AlignLeft}}
		for _, d := range u.Daily {
			note := ""
			if d.Partial {
				note = "partial day"
			}
			tb.Rows = append(tb.Rows, []string{d.Date, report.Thousands(d.Count), note})
		}
		blocks = append(blocks, tb)
	}

	if len(u.Methods) > 0 {
		tb := report.Table{
			Title:   prefix + "Methods",
			Headers: []string{"METHOD", "RESOURCE", "REQUESTS", "AVG RPS", "PEAK RPS", "4XX", "5XX", "P99", "THROTTLE", "HEADROOM"},
			Align:   []report.Alignment{report.AlignLeft, report.AlignLeft, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignRight, report.AlignLeft, report.AlignRight},
		}
		for _, m := range u.Methods {
			th := limit(m.Throttle)
			switch m.ThrottleSource {
			case "stage":
				th += " (*/*)"
			case "account":
				th += " (account)"
			}
			tb.Rows = append(tb.Rows, []string{m.Method, m.Resource, report.Thousands(m.Count), report.Num(m.AvgRPS, 3), report.Num(m.PeakRPS, 3),
				report.Percent(m.Error4xxRate, 3), report.Percent(m.Error5xxRate, 3), ms(m.LatencyP99Ms), th, headroomText(m.Headroom, m.Throttle != nil)})
		}
		blocks = append(blocks, tb)
	}

	if len(u.Throttle.Methods) > 0 {
		tb := report.Table{Title: prefix + "Method throttles", Headers: []string{"METHOD", "RATE", "BURST"}, Align: []report.Alignment{report.AlignLeft, report.AlignRight, report.AlignRight}}
		for _, k := range sortedKeys(u.Throttle.Methods) {
			l := u.Throttle.Methods[k]
			burst := strconv.Itoa(int(l.Burst))
			if l.Blocks() {
				burst += " (blocks every request)"
			}
			tb.Rows = append(tb.Rows, []string{k, report.Num(l.Rate, 3), burst})
		}
		blocks = append(blocks, tb)
	}

	if len(u.UsagePlans) > 0 {
		tb := report.Table{Title: prefix + "Usage plans (limits per API key)", Headers: []string{"NAME", "ID", "THROTTLE", "QUOTA", "METHOD THROTTLES"}}
		for _, p := range u.UsagePlans {
			quota := "-"
			if p.Quota != nil {
				quota = fmt.Sprintf("%s per %s", report.Thousands(int64(p.Quota.Limit)), strings.ToLower(p.Quota.Period))
			}
			var ms []string
			for _, k := range sortedKeys(p.Methods) {
				ms = append(ms, k+" "+limit(ptrTo(p.Methods[k])))
			}
			methods := "-"
			if len(ms) > 0 {
				methods = strings.Join(ms, "; ")
			}
			tb.Rows = append(tb.Rows, []string{p.Name, p.ID, limit(p.Throttle), quota, methods})
		}
		blocks = append(blocks, tb)
	} else if u.APIType == APITypeREST {
		blocks = append(blocks, report.Note{Text: "no usage plan is attached to stage " + u.Stage, Level: report.Info})
	}

	for _, w := range u.Warnings {
		blocks = append(blocks, report.Note{Text: w, Level: report.Warn})
	}
	for _, h := range u.Hints {
		blocks = append(blocks, report.Note{Text: "hint: " + h, Level: report.Info})
	}
	if t.Count > 0 {
		blocks = append(blocks, report.Note{Text: "burst is an " + t.BurstEstimate, Level: report.Info})
	}
	return blocks
}

// fold shrinks values to at most width columns, each the largest of the
// values it covers; it returns the columns and how many values each covers.
func fold(values []float64, width int) ([]float64, int) {
	if len(values) <= width {
		return values, 1
	}
	per := (len(values) + width - 1) / width
	out := make([]float64, 0, width)
	for i := 0; i < len(values); i += per {
		out = append(out, maxOf(values[i:min(i+per, len(values))]))
	}
	return out, per
}

func maxOf(vs []float64) float64 {
	m := 0.0
	for _, v := range vs {
		m = max(m, v)
	}
	return m
}

func sortedKeys(m map[string]Limit) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func ptrTo(l Limit) *Limit { return &l }

func limit(l *Limit) string {
	if l == nil {
		return "none"
	}
	if l.Blocks() {
		return "0 rps, burst 0 (blocks every request)"
	}
	return fmt.Sprintf("%s rps, burst %d", report.Num(l.Rate, 3), l.Burst)
}

func accountText(u *Usage) string {
	s := limit(&u.AccountThrottle)
	if u.AccountThrottleSource == AccountFromDefault {
		s += " (AWS default)"
	}
	return s
}

func headroomText(h *float64, throttled bool) string {
	switch {
	case !throttled:
		return "⚠ no throttle"
	case h == nil:
		return "-"
	case *h < HeadroomWarn:
		return fmt.Sprintf("⚠ %.2f", *h)
	}
	return fmt.Sprintf("%.2f", *h)
}

func ms(p *float64) string {
	if p == nil {
		return "-"
	}
	return report.Num(*p, 3) + " ms"
}
