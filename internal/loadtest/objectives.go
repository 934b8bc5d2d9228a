package loadtest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ObjectiveKind says which measurement an Objective constrains.
type ObjectiveKind string

// Objective kinds.
const (
	KindLatency    ObjectiveKind = "latency"    // a latency quantile (p50, p99, p99.9, max, mean)
	KindErrors     ObjectiveKind = "errors"     // error ratio: non-2xx responses and transport errors / requests
	KindThroughput ObjectiveKind = "throughput" // successful responses per second / requested rate
)

// Objective is one service level objective such as "p99<300ms".
type Objective struct {
	Kind ObjectiveKind
	// Quantile is the latency quantile in (0,1]; 1 means max, 0 means mean. Only for KindLatency.
	Quantile float64
	// Op is "<", "<=", ">" or ">=".
	Op string
	// Latency is the bound for KindLatency.
	Latency time.Duration
	// Ratio is the bound for KindErrors and KindThroughput, as a fraction (0.01 = 1%).
	Ratio float64
	// Text is the objective as the user wrote it, normalised (no spaces).
	Text string
}

// String returns the objective as text, e.g. "p99<300ms".
func (o Objective) String() string { return o.Text }

// Objectives is a set of objectives that must all hold for a step to pass.
type Objectives []Objective

// DefaultObjectiveTexts are the objectives used when none are given.
var DefaultObjectiveTexts = []string{"p99<1s", "errors<1%", "throughput>=95%"}

// DefaultObjectives returns p99<1s, errors<1%, throughput>=95%.
func DefaultObjectives() Objectives {
	objs, err := ParseObjectives(DefaultObjectiveTexts)
	if err != nil {
		panic(err) // the defaults are constants
	}
	return objs
}

// ParseObjectives parses each text with ParseObjective. Defaults are not
// added: a caller that wants "the user's objectives on top of the defaults"
// uses WithDefaults.
func ParseObjectives(texts []string) (Objectives, error) {
	var out Objectives
	for _, t := range texts {
		for _, part := range strings.Split(t, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			o, err := ParseObjective(part)
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// WithDefaults returns objs plus every default objective whose measurement
// (latency quantile, errors, throughput) objs does not already constrain.
func (objs Objectives) WithDefaults() Objectives {
	out := append(Objectives(nil), objs...)
	for _, d := range DefaultObjectives() {
		covered := false
		for _, o := range objs {
			if o.Kind == d.Kind {
				covered = true
			}
		}
		if !covered {
			out = append(out, d)
		}
	}
	return out
}

// Strings returns the text of every objective.
func (objs Objectives) Strings() []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Text
	}
	return out
}

// ParseObjective parses one objective. Accepted forms (spaces ignored):
//
//	p50<200ms  p99<=1s  p99.9<2s  max<5s  mean<100ms   latency quantiles
//	errors<1%  errors<=0.5%  errors<0.01               error ratio
//	throughput>=99%  throughput>0.95                   successful rps / requested rps
func ParseObjective(text string) (Objective, error) {
	s := strings.ToLower(strings.Join(strings.Fields(text), ""))
	if s == "" {
		return Objective{}, fmt.Errorf("empty objective: want e.g. 'p99<300ms', 'errors<1%%' or 'throughput>=95%%'")
	}
	i := strings.IndexAny(s, "<>=")
	if i <= 0 {
		return Objective{}, fmt.Errorf("objective %q: missing comparison: want METRIC<VALUE, e.g. 'p99<300ms'", text)
	}
	name, rest := s[:i], s[i:]
	op := ""
	for _, cand := range []string{"<=", ">=", "<", ">"} {
		if strings.HasPrefix(rest, cand) {
			op = cand
			break
		}
	}
	if op == "" {
		return Objective{}, fmt.Errorf("objective %q: bad comparison %q: use <, <=, > or >=", text, rest[:1])
	}
	value := rest[len(op):]
	if value == "" {
		return Objective{}, fmt.Errorf("objective %q: missing value after %q", text, op)
	}
	o := Objective{Op: op, Text: name + op + value}
	switch {
	case name == "errors" || name == "error" || name == "error_rate":
		o.Kind = KindErrors
		if op[0] != '<' {
			return Objective{}, fmt.Errorf("objective %q: errors must be bounded from above (errors<1%%)", text)
		}
	case name == "throughput" || name == "success":
		o.Kind = KindThroughput
		if op[0] != '>' {
			return Objective{}, fmt.Errorf("objective %q: throughput must be bounded from below (throughput>=95%%)", text)
		}
	case name == "max" || name == "mean" || name == "avg" || (name[0] == 'p' && len(name) > 1):
		o.Kind = KindLatency
		if op[0] != '<' {
			return Objective{}, fmt.Errorf("objective %q: latency must be bounded from above (%s<300ms)", text, name)
		}
		switch name {
		case "max":
			o.Quantile = 1
		case "mean", "avg":
			o.Quantile = 0
		default:
			q, err := strconv.ParseFloat(name[1:], 64)
			if err != nil || q <= 0 || q >= 100 || math.IsNaN(q) {
				return Objective{}, fmt.Errorf("objective %q: bad percentile %q: want p50, p90, p99, p99.9 …", text, name)
			}
			o.Quantile = q / 100
		}
		d, err := time.ParseDuration(value)
		if err != nil {
			return Objective{}, fmt.Errorf("objective %q: bad latency %q: want a duration with unit, e.g. 300ms or 1.5s", text, value)
		}
		if d <= 0 {
			return Objective{}, fmt.Errorf("objective %q: latency bound must be positive", text)
		}
		o.Latency = d
		return o, nil
	default:
		return Objective{}, fmt.Errorf("objective %q: unknown metric %q: use pNN (p99, p99.9), max, mean, errors or throughput", text, name)
	}
	r, err := parseRatio(value)
	if err != nil {
		return Objective{}, fmt.Errorf("objective %q: %w", text, err)
	}
	if o.Kind == KindErrors && r >= 1 && !strings.HasSuffix(value, "%") {
		// errors<1 would allow every request to fail: a missing % sign.
		return Objective{}, fmt.Errorf("objective %q: did you mean %s%s%%? (a bare number is a fraction: 0.01 = 1%%)", text, name+op, value)
	}
	o.Ratio = r
	return o, nil
}

// parseRatio parses "1%", "0.5%" or "0.01" into a fraction in [0,1].
func parseRatio(v string) (float64, error) {
	pct := strings.HasSuffix(v, "%")
	num := strings.TrimSuffix(v, "%")
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("bad ratio %q: want a percentage like 1%% or a fraction like 0.01", v)
	}
	if pct {
		f /= 100
	} else if f > 1 {
		return 0, fmt.Errorf("ratio %q is above 1: did you mean %s%%", v, num)
	}
	if f < 0 || f > 1 {
		return 0, fmt.Errorf("ratio %q outside 0–100%%", v)
	}
	return f, nil
}

// measured returns the value the objective constrains, from a step's figures.
func (o Objective) measured(s *Step) float64 {
	switch o.Kind {
	case KindErrors:
		return 1 - s.SuccessRatio
	case KindThroughput:
		return s.ThroughputRatio
	default:
		return float64(s.latency(o.Quantile))
	}
}

func compare(v float64, op string, bound float64) bool {
	switch op {
	case "<":
		return v < bound
	case "<=":
		return v <= bound
	case ">":
		return v > bound
	default:
		return v >= bound
	}
}

// Check reports whether step s meets the objective, and if not why.
func (o Objective) Check(s *Step) (bool, string) {
	if s.Requests == 0 {
		return false, "no requests completed"
	}
	v := o.measured(s)
	switch o.Kind {
	case KindLatency:
		if compare(v, o.Op, float64(o.Latency)) {
			return true, ""
		}
		return false, fmt.Sprintf("%s %s %s %s", o.metricName(), fmtDur(time.Duration(v)), negate(o.Op), fmtDur(o.Latency))
	default:
		if compare(v, o.Op, o.Ratio) {
			return true, ""
		}
		return false, fmt.Sprintf("%s %s %s %s", o.metricName(), fmtPct(v), negate(o.Op), fmtPct(o.Ratio))
	}
}

func (o Objective) metricName() string {
	i := strings.IndexAny(o.Text, "<>=")
	return o.Text[:i]
}

func negate(op string) string {
	switch op {
	case "<":
		return ">="
	case "<=":
		return ">"
	case ">":
		return "<="
	default:
		return "<"
	}
}

// Evaluate checks every objective against the step and returns whether all
// hold and, when not, the reasons joined by "; ".
func (objs Objectives) Evaluate(s *Step) (bool, string) {
	var reasons []string
	for _, o := range objs {
		if ok, why := o.Check(s); !ok {
			reasons = append(reasons, why)
		}
	}
	return len(reasons) == 0, strings.Join(reasons, "; ")
}

// maxErrorRatio is the tightest error bound, or -1 when errors are not constrained.
func (objs Objectives) maxErrorRatio() float64 {
	r := -1.0
	for _, o := range objs {
		if o.Kind == KindErrors && (r < 0 || o.Ratio < r) {
			r = o.Ratio
		}
	}
	return r
}

// latencyObjectives returns only the latency objectives.
func (objs Objectives) latencyObjectives() Objectives {
	var out Objectives
	for _, o := range objs {
		if o.Kind == KindLatency {
			out = append(out, o)
		}
	}
	return out
}

// maxLatency is the loosest latency bound, or 0 when latency is not constrained.
func (objs Objectives) maxLatency() time.Duration {
	var d time.Duration
	for _, o := range objs.latencyObjectives() {
		d = max(d, o.Latency)
	}
	return d
}

func fmtPct(f float64) string {
	p := math.Round(f*10000) / 100
	switch {
	case p == math.Trunc(p):
		return fmt.Sprintf("%.0f%%", p)
	case p*10 == math.Trunc(p*10):
		return fmt.Sprintf("%.1f%%", p)
	default:
		return fmt.Sprintf("%.2f%%", p)
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return trimZeros(strconv.FormatFloat(d.Seconds(), 'f', 2, 64)) + "s"
	case d >= time.Millisecond:
		return trimZeros(strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64)) + "ms"
	default:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 0, 64) + "µs"
	}
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
