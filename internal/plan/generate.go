package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultHeadroom is the share of the sustainable rate a generated plan
// allows by default.
const DefaultHeadroom = 0.8

// BurstRule documents how Generate derives a burst from a rate.
const BurstRule = "burst = max(1, ceil(rate × 0.5)): half a second of traffic at the planned rate"

// BurstFor applies BurstRule.
func BurstFor(rate int) int { return max(1, int(math.Ceil(float64(rate)*0.5))) }

// LoadtestResult is the part of `apictl loadtest -o json` that Generate
// reads (decoded here rather than imported, so the plan package depends only
// on the JSON contract).
type LoadtestResult struct {
	Target         string           `json:"target"`
	Mode           string           `json:"mode"`
	SustainableRPS float64          `json:"sustainable_rps"`
	Methods        []LoadtestMethod `json:"methods"`
}

// LoadtestMethod is one per-method search result.
type LoadtestMethod struct {
	Name           string  `json:"name"`   // "GET /pets/{id}"
	Method         string  `json:"method"` // "GET"
	Path           string  `json:"path"`   // "/pets/{id}" (when Name is absent)
	SustainableRPS float64 `json:"sustainable_rps"`
	Pass           *bool   `json:"pass"`
}

// Key returns the plan method key of m ("GET /pets/{id}").
func (m LoadtestMethod) Key() string {
	if m.Name != "" {
		return m.Name
	}
	return strings.ToUpper(m.Method) + " " + m.Path
}

// MeasureResult is the part of `apictl measure -o json` that Generate reads.
type MeasureResult struct {
	API    string `json:"api"`
	Stage  string `json:"stage"`
	Window struct {
		Start time.Time `json:"start"`
		End   time.Time `json:"end"`
	} `json:"window"`
	Totals struct {
		Count   int64   `json:"count"`
		PeakRPS float64 `json:"peak_rps"`
	} `json:"totals"`
	Daily []struct {
		Date    string `json:"date"`
		Count   int64  `json:"count"`
		Partial bool   `json:"partial"`
	} `json:"daily"`
	Methods []struct {
		Resource string  `json:"resource"`
		Method   string  `json:"method"`
		Route    string  `json:"route"`
		PeakRPS  float64 `json:"peak_rps"`
	} `json:"methods"`
}

// DecodeLoadtest decodes loadtest JSON.
func DecodeLoadtest(data []byte) (*LoadtestResult, error) {
	var lt LoadtestResult
	if err := json.Unmarshal(data, &lt); err != nil {
		return nil, fmt.Errorf("decode loadtest JSON: %w", err)
	}
	return &lt, nil
}

// DecodeMeasure decodes measure JSON (one object, or the first of an array).
func DecodeMeasure(data []byte) (*MeasureResult, error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		var ms []MeasureResult
		if err := json.Unmarshal(data, &ms); err != nil {
			return nil, fmt.Errorf("decode measure JSON: %w", err)
		}
		if len(ms) == 0 {
			return nil, errors.New("decode measure JSON: empty list")
		}
		return &ms[0], nil
	}
	var m MeasureResult
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode measure JSON: %w", err)
	}
	return &m, nil
}

// Tier is a named usage plan whose throttle and quota are a share of the
// stage's capacity and observed daily traffic.
type Tier struct {
	Name  string
	Share float64 // 0 < Share <= 1
}

// ParseTiers parses "basic:0.1,pro:0.5".
func ParseTiers(s string) ([]Tier, error) {
	var out []Tier
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, share, ok := strings.Cut(part, ":")
		f, err := strconv.ParseFloat(share, 64)
		if !ok || name == "" || err != nil || f <= 0 || f > 1 {
			return nil, fmt.Errorf("tier %q: want NAME:SHARE with 0 < SHARE <= 1 (e.g. basic:0.1)", part)
		}
		if seen[name] {
			return nil, fmt.Errorf("tier %q listed twice", name)
		}
		seen[name] = true
		out = append(out, Tier{Name: name, Share: f})
	}
	return out, nil
}

// GenerateKey asks Generate to declare an API key in a tier's plan.
type GenerateKey struct {
	Name    string
	Tier    string
	FromEnv string // optional; empty: API Gateway generates the value
}

// GenerateInput is what a plan is generated from.
type GenerateInput struct {
	API      string
	Type     string // rest (default) or http
	Stage    string
	Headroom float64 // default DefaultHeadroom
	Loadtest *LoadtestResult
	Measure  *MeasureResult // optional
	// LoadtestLabel and MeasureLabel name the sources in comments, e.g.
	// "loadtest 2026-11-29".
	LoadtestLabel, MeasureLabel string
	Tiers                       []Tier
	Keys                        []GenerateKey
	// DetailedMetrics enables per-method CloudWatch metrics (default true
	// when nil).
	DetailedMetrics *bool
}

func floorRate(headroom, rps float64) int {
	// Round to 9 decimals first so 0.8 × 500 is 400, not 399.
	return int(math.Floor(math.Round(headroom*rps*1e9) / 1e9))
}

func fmtNum(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// Generate derives a plan from measured capacity. Throttle rates are
// floor(headroom × sustainable RPS), bursts follow BurstRule, tiers get
// share × the stage (and per-method) rates and a daily quota of share × the
// busiest observed day. It returns the plan and its YAML with comments
// explaining every number; the YAML passes Check.
func Generate(in GenerateInput) (*Plan, []byte, error) {
	if in.API == "" {
		return nil, nil, errors.New("generate plan: missing API name")
	}
	if in.Stage == "" {
		return nil, nil, errors.New("generate plan: missing stage")
	}
	if in.Loadtest == nil {
		return nil, nil, errors.New("generate plan: missing loadtest result")
	}
	h := in.Headroom
	if h == 0 {
		h = DefaultHeadroom
	}
	if h <= 0 || h > 1 {
		return nil, nil, fmt.Errorf("generate plan: headroom %g out of range (0, 1]", h)
	}
	typ := in.Type
	if typ == "" {
		typ = TypeREST
	}
	if typ == TypeHTTP && (len(in.Tiers) > 0 || len(in.Keys) > 0) {
		return nil, nil, errors.New("generate plan: HTTP APIs have no usage plans or API keys; drop the tiers and keys")
	}
	ltLabel := in.LoadtestLabel
	if ltLabel == "" {
		ltLabel = "loadtest"
	}
	mLabel := in.MeasureLabel
	if mLabel == "" {
		mLabel = "measure"
	}
	lt := in.Loadtest
	stageRate := floorRate(h, lt.SustainableRPS)
	if stageRate < 1 {
		return nil, nil, fmt.Errorf("generate plan: %s sustainable rate %g RPS × headroom %g is below 1 RPS; run the load test again (did it find a passing rate?)", ltLabel, lt.SustainableRPS, h)
	}

	g := &gen{}
	root := g.mapping()
	root.HeadComment = fmt.Sprintf("apictl plan generated from %s", ltLabel)
	if in.Measure != nil {
		root.HeadComment += " and " + mLabel
	}
	root.HeadComment += fmt.Sprintf(".\nRates are floor(%s × sustainable RPS); %s.\nCheck with: apictl plan validate -f FILE; apply with: apictl apply-plan -f FILE", fmtNum(h), BurstRule)
	g.add(root, "apiVersion", g.str(APIVersion), "")
	g.add(root, "kind", g.str(Kind), "")
	g.add(root, "api", g.str(in.API), "")
	g.add(root, "type", g.str(typ), "")
	g.add(root, "stages", g.flowSeq(g.str(in.Stage)), "")

	stage := g.mapping()
	var peakNote string
	if in.Measure != nil && in.Measure.Totals.PeakRPS > 0 {
		peakNote = fmt.Sprintf("; observed peak %s RPS (%s)", fmtNum(round2(in.Measure.Totals.PeakRPS)), mLabel)
		if in.Measure.Totals.PeakRPS > float64(stageRate) {
			peakNote += " exceeds this rate: clients will see 429s at such peaks"
		}
	}
	g.add(stage, "throttle", g.throttle(stageRate,
		fmt.Sprintf("%s × %s RPS sustainable (%s)%s", fmtNum(h), fmtNum(round2(lt.SustainableRPS)), ltLabel, peakNote)), "")
	dm := in.DetailedMetrics == nil || *in.DetailedMetrics
	g.add(stage, "detailedMetrics", g.boolean(dm), "per-method CloudWatch metrics, so apictl measure --by method sees each method")

	type methodRate struct {
		key  string
		rate int
		src  float64
	}
	var methods []methodRate
	seen := map[string]bool{}
	var skipped, notMethods []string
	for _, m := range lt.Methods {
		key := m.Key()
		if _, _, err := ParseMethodKey(key); err != nil && !(typ == TypeHTTP && key == "$default") {
			// e.g. a URL target: not a method of the API.
			notMethods = append(notMethods, key)
			continue
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		r := floorRate(h, m.SustainableRPS)
		if r < 1 || (m.Pass != nil && !*m.Pass) {
			skipped = append(skipped, key)
			continue
		}
		methods = append(methods, methodRate{key, r, m.SustainableRPS})
	}
	if len(methods) > 0 {
		mm := g.mapping()
		for _, m := range methods {
			v := g.mapping()
			g.add(v, "throttle", g.throttle(m.rate, fmt.Sprintf("%s × %s RPS sustainable for this method (%s)", fmtNum(h), fmtNum(round2(m.src)), ltLabel)), "")
			g.add(mm, m.key, v, "")
		}
		g.add(stage, "methods", mm, "")
	}
	stageKey := g.add(root, "stage", stage, "")
	stageKey.HeadComment = "Stage-wide throttle (*/*) and per-method overrides, applied to every stage above."
	if len(skipped) > 0 {
		stageKey.HeadComment += "\nNo per-method throttle for " + strings.Join(skipped, ", ") + ": its load test found no passing rate ≥ 1 RPS after headroom."
	}
	if len(notMethods) > 0 {
		stageKey.HeadComment += "\nLoad test results not named \"VERB /path\" are left out: " + strings.Join(notMethods, ", ") + "."
	}

	if len(in.Tiers) > 0 {
		peakDay, peakCount, partialOnly := busiestDay(in.Measure)
		plans := g.seq()
		for _, t := range in.Tiers {
			u := g.mapping()
			g.add(u, "name", g.str(t.Name), "")
			g.add(u, "description", g.str(fmt.Sprintf("%s tier: %s of capacity per key (generated by apictl)", t.Name, pct(t.Share))), "")
			r := max(1, floorRate(t.Share, float64(stageRate)))
			g.add(u, "throttle", g.throttle(r, fmt.Sprintf("%s × stage rate %d", fmtNum(t.Share), stageRate)), "")
			if peakCount > 0 {
				q := g.mapping()
				limit := max(1, int(math.Ceil(t.Share*float64(peakCount))))
				note := fmt.Sprintf("%s × %d requests on the busiest observed day %s (%s)", fmtNum(t.Share), peakCount, peakDay, mLabel)
				g.add(q, "limit", g.integer(limit), note)
				g.add(q, "period", g.str("DAY"), "")
				g.add(u, "quota", q, "")
			}
			if len(methods) > 0 {
				mm := g.mapping()
				for i, m := range methods {
					if i == MaxMethodThrottlesPerStage {
						break
					}
					mr := max(1, floorRate(t.Share, float64(m.rate)))
					g.add(mm, m.key, g.rateBurst(mr), fmt.Sprintf("%s × method rate %d", fmtNum(t.Share), m.rate))
				}
				g.add(u, "methods", mm, "")
			}
			var keys []*yaml.Node
			for _, k := range in.Keys {
				if k.Tier == t.Name {
					keys = append(keys, g.str(k.Name))
				}
			}
			if len(keys) > 0 {
				g.add(u, "keys", g.flowSeq(keys...), "")
			}
			if peakCount == 0 {
				switch {
				case in.Measure == nil:
					u.Content[0].HeadComment = "No quota: no daily totals (pass --measure to derive one)."
				case partialOnly:
					u.Content[0].HeadComment = "No quota: " + mLabel + " saw only partial days; measure a window of whole days (e.g. --since 7d)."
				default:
					u.Content[0].HeadComment = "No quota: " + mLabel + " saw no traffic."
				}
			}
			plans.Content = append(plans.Content, u)
		}
		k := g.add(root, "usagePlans", plans, "")
		k.HeadComment = "Usage plans apply per API key, on methods that require one."
	}
	if len(in.Keys) > 0 {
		keys := g.seq()
		for _, k := range in.Keys {
			if !tierNames(in.Tiers)[k.Tier] {
				return nil, nil, fmt.Errorf("generate plan: key %q: unknown tier %q", k.Name, k.Tier)
			}
			m := g.mapping()
			g.add(m, "name", g.str(k.Name), "")
			g.add(m, "description", g.str(k.Tier+" tier key (generated by apictl)"), "")
			g.add(m, "enabled", g.boolean(true), "")
			if k.FromEnv != "" {
				v := g.mapping()
				g.add(v, "fromEnv", g.str(k.FromEnv), "")
				g.add(m, "value", v, "read from the environment at apply time, never stored here")
			}
			keys.Content = append(keys.Content, m)
		}
		g.add(root, "apiKeys", keys, "")
	}

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, nil, fmt.Errorf("generate plan: encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, nil, fmt.Errorf("generate plan: encode YAML: %w", err)
	}
	out := buf.Bytes()
	p, err := Check("generated plan", out)
	if err != nil {
		return nil, out, fmt.Errorf("generate plan: the generated plan is invalid (a bug): %w", err)
	}
	p.File = ""
	return p, out, nil
}

func tierNames(ts []Tier) map[string]bool {
	m := map[string]bool{}
	for _, t := range ts {
		m[t.Name] = true
	}
	return m
}

// busiestDay returns the largest whole-day total. Partial days (the edges of
// a window not aligned to midnight) would understate a daily quota, so they
// never count.
func busiestDay(m *MeasureResult) (date string, count int64, partialOnly bool) {
	if m == nil {
		return "", 0, false
	}
	for _, d := range m.Daily {
		if d.Partial {
			partialOnly = true
			continue
		}
		if d.Count > count || (d.Count == count && d.Date < date) {
			date, count = d.Date, d.Count
		}
	}
	if count > 0 {
		return date, count, false
	}
	return "", 0, partialOnly
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func pct(f float64) string { return fmtNum(round2(f*100)) + "%" }

// gen builds commented YAML nodes.
type gen struct{}

func (gen) mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }
func (gen) seq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Content: items}
}

// flowSeq is a one-line list of scalars.
func (gen) flowSeq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle, Content: items}
}
func (gen) str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}
func (gen) integer(i int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(i)}
}
func (gen) boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

// add appends key: value to m with an optional line comment and returns the key node.
func (g gen) add(m *yaml.Node, key string, v *yaml.Node, comment string) *yaml.Node {
	k := g.str(key)
	if comment != "" {
		if v.Kind == yaml.ScalarNode || v.Style == yaml.FlowStyle {
			v.LineComment = comment
		} else {
			k.LineComment = comment
		}
	}
	m.Content = append(m.Content, k, v)
	return k
}

func (g gen) rateBurst(rate int) *yaml.Node {
	m := g.mapping()
	m.Style = yaml.FlowStyle
	g.add(m, "rate", g.integer(rate), "")
	g.add(m, "burst", g.integer(BurstFor(rate)), "")
	return m
}

func (g gen) throttle(rate int, why string) *yaml.Node {
	m := g.mapping()
	g.add(m, "rate", g.integer(rate), why)
	g.add(m, "burst", g.integer(BurstFor(rate)), fmt.Sprintf("max(1, ceil(%d × 0.5))", rate))
	return m
}
