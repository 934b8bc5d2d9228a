package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
)

// mixOf describes the targets' weights as a Mix.
func mixOf(targets Targets, source string) *Mix {
	if source == "" {
		source = "weights"
	}
	m := &Mix{Source: source, Weights: map[string]float64{}}
	for i, sh := range targets.Shares() {
		m.Weights[targets[i].Label()] += round6(sh)
	}
	return m
}

// withShares returns a copy of targets weighted by shares (integer
// weights in thousandths, at least 1).
func withShares(targets Targets, shares []float64) Targets {
	out := make(Targets, len(targets))
	copy(out, targets)
	for i := range out {
		out[i].Weight = max(1, int(math.Round(shares[i]*1000)))
	}
	return out
}

// allocate gives each method of a mix its share of the aggregate rate r
// found, with its own in-flight peak in the passing steps at or below it.
func allocate(targets Targets, r searchResult) []MethodCapacity {
	shares := targets.Shares()
	var out []MethodCapacity
	for i, t := range targets {
		mc := MethodCapacity{
			Name: t.Label(), Method: t.Method, Path: t.Path, URL: t.URL,
			Share: round6(shares[i]), SustainableRPS: roundAlloc(shares[i] * r.sustainable),
			Pass: r.pass, Reason: r.reason, Steps: []Step{},
		}
		mc.MaxInFlight = targetMaxInFlight(r.steps, i, r.sustainable)
		out = append(out, mc)
	}
	return out
}

// roundAlloc rounds an allocation down to a tenth of a request per second
// (never above what was taken together).
func roundAlloc(f float64) float64 { return math.Floor(f*10) / 10 }

func targetMaxInFlight(steps []Step, i int, rate float64) int {
	n := 0
	for _, st := range steps {
		if st.Pass && st.Rate <= rate && i < len(st.ByTarget) {
			n = max(n, st.ByTarget[i].MaxInFlight)
		}
	}
	return n
}

// markGateway sets limited_by on the methods of a gateway-limited result:
// the method whose throttle limits the mix first carries it.
func markGateway(c *Capacity, targets Targets, limits GatewayLimits) {
	if c.LimitedBy != "gateway-throttle" {
		for i := range c.Methods {
			c.Methods[i].LimitedBy = c.LimitedBy
		}
		return
	}
	shares := targets.Shares()
	best, ceiling := -1, 0.0
	for i, t := range targets {
		if lim := limits.tightest(t.Label()); lim != nil && shares[i] > 0 {
			if cl := lim.Rate / shares[i]; best < 0 || cl < ceiling {
				best, ceiling = i, cl
			}
		}
	}
	for i := range c.Methods {
		if i == best {
			c.Methods[i].LimitedBy = "gateway-throttle"
			lim := *limits.tightest(targets[i].Label())
			c.Methods[i].GatewayThrottle = &lim
		}
	}
}

// searchPerMethod searches each target alone, then checks that the found
// rates hold all at once (at the mix when the targets carry one, else in
// proportion to what was found). When they do not, the methods share a
// backend: the aggregate is searched at that mix and the allocations scaled
// to it. --confirm holds the joint rate.
func (s *session) searchPerMethod(ctx context.Context, c *Capacity, targets Targets, cfg SearchConfig) error {
	c.Pass = true
	iso := cfg
	if len(targets) > 1 {
		iso.Confirm = 0 // the joint rate is the one to hold
	}
	first := true
	found := make([]float64, len(targets))
	for i, t := range targets {
		if ctx.Err() != nil {
			c.Interrupted = true
			break
		}
		if !first {
			if err := s.coolDown(ctx, cfg); err != nil {
				c.Interrupted = true
				break
			}
		}
		first = false
		one := Targets{t}
		r, err := s.searchOne(ctx, one, t.Label(), iso)
		if err != nil {
			return err
		}
		for i := range r.steps {
			r.steps[i].Target = t.Label()
		}
		mc := MethodCapacity{
			Name: t.Label(), Method: t.Method, Path: t.Path, URL: t.URL,
			SustainableRPS: r.sustainable, IsolatedRPS: r.sustainable, KneeRPS: r.knee, Pass: r.pass, Reason: r.reason,
			Bracket: r.bracket, Steps: r.steps, LimitedBy: r.limitedBy, GatewayThrottle: r.throttle, MaxInFlight: r.maxInFlight,
			RejectedAsInvalid: r.rejected,
		}
		c.RejectedAsInvalid = c.RejectedAsInvalid || r.rejected
		found[i] = r.sustainable
		c.Methods = append(c.Methods, mc)
		c.Steps = append(c.Steps, r.steps...)
		c.warn(r.warnings...)
		c.Interrupted = c.Interrupted || r.interrupted
		if !r.pass {
			c.Pass = false
			c.Reason = joinReason(c.Reason, t.Label()+": "+r.reason)
		}
		if len(targets) == 1 {
			c.SustainableRPS = r.sustainable
			c.Confirm, c.Holds, c.Confirmed = r.confirm, r.holds, r.confirmed
			c.LimitedBy, c.GatewayThrottle, c.MaxInFlight = r.limitedBy, r.throttle, r.maxInFlight
			c.Methods[0].Share = 1
		}
		if r.interrupted {
			break
		}
	}
	if len(targets) == 1 || c.Interrupted || !c.Pass {
		if len(targets) > 1 {
			c.SustainableRPS = 0
			for _, f := range found {
				if c.SustainableRPS == 0 || (f > 0 && f < c.SustainableRPS) {
					c.SustainableRPS = f
				}
			}
		}
		return nil
	}

	// Together at the found rates.
	var shares []float64
	var agg float64
	if cfg.MixSource != "" {
		shares = targets.Shares()
		agg = math.Inf(1)
		for i := range targets {
			if shares[i] > 0 {
				agg = math.Min(agg, found[i]/shares[i])
			}
		}
	} else {
		for _, f := range found {
			agg += f
		}
		for _, f := range found {
			shares = append(shares, f/agg)
		}
		cfg.MixSource = "found-rates"
	}
	agg = math.Floor(agg)
	joint := withShares(targets, shares)
	c.Mix = mixOf(joint, cfg.MixSource)
	if err := s.coolDown(ctx, cfg); err != nil {
		c.Interrupted = true
		return nil
	}
	s.used, s.budget = 0, cfg.StepDuration
	st, err := s.run(ctx, PhaseJoint, agg, cfg.StepDuration, joint, "all methods together")
	if err != nil {
		return err
	}
	st.Target = "all"
	c.Steps = append(c.Steps, st)
	if st.Interrupted {
		c.Interrupted = true
		return nil
	}
	var r searchResult
	switch {
	case st.Pass:
		r = searchResult{sustainable: agg, pass: true, steps: []Step{st}}
		if cfg.Confirm > 0 {
			if err := s.hold(ctx, &r, joint, "all methods together", cfg); err != nil {
				return err
			}
			c.Steps = append(c.Steps, r.steps[1:]...)
		}
		r.limitedBy, r.throttle = "", nil
		if !r.confirmed && cfg.Confirm > 0 {
			r.limitedBy = "backend"
		}
	default:
		if !st.GatewayLimited {
			c.SharedBackend = true
			c.Warnings = append(c.Warnings, fmt.Sprintf("the methods share a backend: their isolated rates (%s) failed together at %s rps (%s); the aggregate was searched at that mix and the allocations scaled to it",
				isolatedList(c.Methods), fmtRate(agg), st.Reason))
		}
		if err := s.coolDownAfter(ctx, cfg, &st); err != nil {
			c.Interrupted = true
			return nil
		}
		r, err = s.searchOne(ctx, joint, "all methods together", cfg)
		if err != nil {
			return err
		}
		c.Steps = append(c.Steps, r.steps...)
		c.warn(r.warnings...)
	}
	for i := range r.steps {
		if r.steps[i].Target == "" {
			r.steps[i].Target = "all"
		}
	}
	c.SustainableRPS = r.sustainable
	c.Pass, c.Interrupted = r.pass, r.interrupted
	if !r.pass {
		c.Reason = joinReason(c.Reason, "all methods together: "+r.reason)
	}
	c.Confirm, c.Holds, c.Confirmed = r.confirm, r.holds, r.confirmed
	c.LimitedBy, c.GatewayThrottle = r.limitedBy, r.throttle
	c.MaxInFlight = maxInFlightUpTo(r.steps, r.sustainable)
	c.Bracket = r.bracket
	for i := range c.Methods {
		c.Methods[i].Share = round6(shares[i])
		c.Methods[i].SustainableRPS = roundAlloc(shares[i] * r.sustainable)
		c.Methods[i].Pass = r.pass
		c.Methods[i].MaxInFlight = targetMaxInFlight(r.steps, i, r.sustainable)
	}
	return nil
}

func isolatedList(ms []MethodCapacity) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%s %s", m.Name, fmtRate(m.IsolatedRPS)))
	}
	return strings.Join(parts, ", ")
}

// MeasuredMix is the part of `apictl measure --by method -o json` that
// --mix reads.
type MeasuredMix struct {
	API     string `json:"api"`
	APIID   string `json:"api_id"`
	Stage   string `json:"stage"`
	Methods []struct {
		Resource string  `json:"resource"`
		Method   string  `json:"method"`
		Count    int64   `json:"count"`
		AvgRPS   float64 `json:"avg_rps"`
	} `json:"methods"`
}

// ParseMix reads a measure JSON document and returns each method's share
// of the traffic by label ("GET /orders"): counts, else average rates.
func ParseMix(data []byte, name string) (map[string]float64, *MeasuredMix, error) {
	var m MeasuredMix
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, mixError(name, "not a measure JSON document: %w", err)
	}
	if len(m.Methods) == 0 {
		return nil, nil, mixError(name, "%w", ErrMixNoMethods)
	}
	raw := map[string]float64{}
	var total float64
	for _, me := range m.Methods {
		v := float64(me.Count)
		if v == 0 {
			v = me.AvgRPS
		}
		if me.Method == "" || me.Resource == "" || v <= 0 {
			continue
		}
		raw[strings.ToUpper(me.Method)+" "+me.Resource] += v
		total += v
	}
	if total == 0 {
		return nil, nil, mixError(name, "every method has zero traffic: measure a window with traffic")
	}
	for k := range raw {
		raw[k] /= total
	}
	return raw, &m, nil
}

// ApplyMix weights targets by a measured mix. A method with traffic in the
// mix that is not a target is an error; a target without traffic in the
// mix is dropped with a warning (the mix sends it nothing).
func ApplyMix(targets Targets, mix map[string]float64, name string) (Targets, []Warning, error) {
	have := map[string]bool{}
	for _, t := range targets {
		have[t.Label()] = true
	}
	var missing []string
	for k := range mix {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		return nil, nil, mixError(name, "%s not among the API's methods (%s)", strings.Join(missing, ", "), strings.Join(targets.Labels(), ", "))
	}
	var out Targets
	var warnings []Warning
	for _, t := range targets {
		sh, ok := mix[t.Label()]
		if !ok || sh <= 0 {
			warnings = append(warnings, Warning{Kind: WarnMixNoTraffic, File: name, Target: t.Label()})
			continue
		}
		t.Weight = max(1, int(math.Round(sh*1000)))
		out = append(out, t)
	}
	return out, warnings, nil
}
