package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultHeadroom is the share of the sustainable rate a generated plan
// allows by default.
const DefaultHeadroom = 0.8

// BurstRule documents how Generate derives a burst from a rate when the load
// test reported no in-flight figure to bound it.
const BurstRule = "burst = max(1, ceil(rate × 0.5)): half a second of traffic at the planned rate"

// BurstShareRule documents how Generate bounds bursts by what the backend
// was seen to absorb at once.
const BurstShareRule = "bursts of the methods together ≤ max_in_flight, the most requests the backend held at once at passing rates; each method's share follows its rate, at most half a second of its rate"

// BestEffortNote says, once, that API Gateway's throttles are not hard
// ceilings (see BestEffortURL).
const BestEffortNote = "AWS applies throttles and quotas best effort: they are targets rather than guaranteed request ceilings"

// BestEffortURL is the AWS page BestEffortNote quotes.
const BestEffortURL = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html"

// BurstFor applies BurstRule.
func BurstFor(rate int) int { return max(1, int(math.Ceil(float64(rate)*0.5))) }

// Limited-by values of a load test result.
const (
	LimitedByBackend         = "backend"
	LimitedByGatewayThrottle = "gateway-throttle"
)

// LoadtestResult is the part of `apictl loadtest -o json` that Generate
// reads (decoded here rather than imported, so the plan package depends only
// on the JSON contract).
type LoadtestResult struct {
	Target string `json:"target"`
	API    string `json:"api"`
	Stage  string `json:"stage"`
	Mode   string `json:"mode"`
	// SustainableRPS is the aggregate the backends took with every method
	// running together at the mix (a single target's rate without methods).
	SustainableRPS float64 `json:"sustainable_rps"`
	// Pass is nil in hand-written results that omit it.
	Pass        *bool `json:"pass"`
	Interrupted bool  `json:"interrupted"`
	// Confirmed is true when a --confirm hold passed; ConfirmRequestedS is
	// the hold asked for (0: none). Confirm is the last hold (older results
	// have only it).
	Confirmed         bool          `json:"confirmed"`
	ConfirmRequestedS float64       `json:"confirm_requested_s"`
	Confirm           *LoadtestStep `json:"confirm"`
	Mix               *LoadtestMix  `json:"mix"`
	// SharedBackend is true when --per-method figures found alone failed
	// when run together.
	SharedBackend   bool             `json:"shared_backend"`
	LimitedBy       string           `json:"limited_by"`
	GatewayThrottle *GatewayThrottle `json:"gateway_throttle"`
	// MaxInFlight is the most requests in flight at once at passing rates
	// (all methods together); 0 when not reported.
	MaxInFlight int              `json:"max_in_flight"`
	Methods     []LoadtestMethod `json:"methods"`
	Steps       []LoadtestStep   `json:"steps"`
	// Shard is set on one shard's own result of a distributed run (its
	// figures are 1/Count of the load; 'loadtest merge' gives the whole).
	Shard *struct {
		Index int `json:"index"`
		Count int `json:"count"`
	} `json:"shard"`
}

// LoadtestStep is the part of a load test step Generate reads.
type LoadtestStep struct {
	Phase string  `json:"phase"`
	Rate  float64 `json:"rate"`
	Pass  bool    `json:"pass"`
	// Gateway429 counts API Gateway's own 429 answers in the step.
	Gateway429 int                  `json:"gateway_429"`
	ByTarget   []LoadtestTargetStep `json:"by_target"`
}

// LoadtestTargetStep is one method's part of a step over a mix.
type LoadtestTargetStep struct {
	Target     string `json:"target"`
	Gateway429 int    `json:"gateway_429"`
}

// throttledTargets names the methods of a step API Gateway answered 429.
func (st *LoadtestStep) throttledTargets() string {
	var names []string
	for _, t := range st.ByTarget {
		if t.Gateway429 > 0 {
			names = append(names, fmt.Sprintf("%s (%d)", t.Target, t.Gateway429))
		}
	}
	if len(names) == 0 {
		return ""
	}
	return ": the live throttle of " + strings.Join(names, ", ")
}

// LoadtestMix is the traffic mix a load test searched at.
type LoadtestMix struct {
	Source  string             `json:"source"`
	Weights map[string]float64 `json:"weights"`
}

// GatewayThrottle is a live API Gateway throttle that limited a search.
type GatewayThrottle struct {
	Rate   float64 `json:"rate"`
	Burst  int     `json:"burst"`
	Source string  `json:"source"` // "stage prod */*", "usage plan Gold GET /orders"
}

func (g *GatewayThrottle) String() string {
	if g == nil {
		return "a gateway throttle"
	}
	src := g.Source
	if src == "" {
		src = "gateway throttle"
	}
	return fmt.Sprintf("%s (rate %s RPS, burst %d)", src, fmtNum(g.Rate), g.Burst)
}

// LoadtestMethod is one method's result: its allocation of the aggregate.
type LoadtestMethod struct {
	Name   string `json:"name"`   // "GET /pets/{id}"
	Method string `json:"method"` // "GET"
	Path   string `json:"path"`   // "/pets/{id}" (when Name is absent)
	// SustainableRPS is the method's allocation: what the backend took for
	// it while every method ran together.
	SustainableRPS  float64          `json:"sustainable_rps"`
	Share           float64          `json:"share"`
	IsolatedRPS     float64          `json:"isolated_rps"`
	Pass            *bool            `json:"pass"`
	LimitedBy       string           `json:"limited_by"`
	GatewayThrottle *GatewayThrottle `json:"gateway_throttle"`
	MaxInFlight     int              `json:"max_in_flight"`
	Steps           []LoadtestStep   `json:"steps"`
}

// Key returns the plan method key of m ("GET /pets/{id}").
func (m LoadtestMethod) Key() string {
	if m.Name != "" {
		return m.Name
	}
	return strings.ToUpper(m.Method) + " " + m.Path
}

// RefusalReason says why a load test result is no ground for a plan.
type RefusalReason string

// Reasons of a Refusal.
const (
	RefusalFixedRate      RefusalReason = "fixed-rate"      // not a capacity search
	RefusalInterrupted    RefusalReason = "interrupted"     // the search did not end
	RefusalNoPassingRate  RefusalReason = "no-passing-rate" // the search found no rate meeting the objectives
	RefusalConfirmFailed  RefusalReason = "confirm-failed"  // the confirm hold did not sustain the rate
	RefusalOtherAPI       RefusalReason = "other-api"       // the result measured another API
	RefusalOtherStage     RefusalReason = "other-stage"     // the result measured another stage (Refusal.Stage)
	RefusalGatewayLimited RefusalReason = "gateway-limited" // a throttle of API Gateway, not the backend, limited the search
	RefusalOneShard       RefusalReason = "one-shard"       // one shard's part of a distributed run (1/N of the load)
)

// Refusal is one reason a load test result is no ground for a plan.
type Refusal struct {
	Reason  RefusalReason
	Problem string // what is wrong, lowercase
	Hint    string // what to do about it, naming no CLI flag (the CLI words its own from Reason)
	Stage   string // the stage the result measured (RefusalOtherStage)
}

// RefusalError is returned by Generate when the load test result must not be
// planned from (GenerateInput.Force overrides it). Its Hint says what to do.
type RefusalError struct {
	Source   string // "lt.json"
	Refusals []Refusal
}

func (e *RefusalError) Error() string {
	ps := make([]string, len(e.Refusals))
	for i, r := range e.Refusals {
		ps[i] = r.Problem
	}
	return fmt.Sprintf("refusing to plan from %s: %s", e.Source, strings.Join(ps, "; "))
}

// Hint says how to get a result a plan can rest on, or how to force one.
func (e *RefusalError) Hint() string {
	var hs []string
	for _, r := range e.Refusals {
		if r.Hint != "" && !slices.Contains(hs, r.Hint) {
			hs = append(hs, r.Hint)
		}
	}
	hs = append(hs, "forcing (GenerateInput.Force) writes the plan anyway, with a warning comment in it")
	return strings.Join(hs, "; ")
}

// CheckLoadtest returns every reason lt is no ground for a plan of api and
// stage: a fixed-rate run, an interrupted search, no passing rate, a failed
// confirm hold, another API or stage, or figures limited by the gateway's
// own throttle (they say only that the backend takes at least that much, so
// planning from them would lower the throttle a little on every run).
func CheckLoadtest(lt *LoadtestResult, api, stage string) []Refusal {
	var rs []Refusal
	if lt.Mode == "fixed" {
		rs = append(rs, Refusal{Reason: RefusalFixedRate, Problem: "it is a fixed-rate run, not a capacity search",
			Hint: "find the capacity with a load test search over the mix of methods"})
	}
	if lt.Shard != nil && lt.Shard.Count > 1 {
		rs = append(rs, Refusal{Reason: RefusalOneShard,
			Problem: fmt.Sprintf("it is shard %d of %d of a distributed run: its rates are 1/%d of the load", lt.Shard.Index, lt.Shard.Count, lt.Shard.Count),
			Hint:    "merge every shard's results and plan from the merged result"})
	}
	if lt.Interrupted {
		rs = append(rs, Refusal{Reason: RefusalInterrupted, Problem: "the search was interrupted before it ended",
			Hint: "run the search again to its end"})
	}
	if lt.Mode != "fixed" && ((lt.Pass != nil && !*lt.Pass && !confirmFailed(lt)) || lt.SustainableRPS <= 0) {
		rs = append(rs, Refusal{Reason: RefusalNoPassingRate, Problem: "the search found no passing rate",
			Hint: "check the objectives and the start rate, and that the backend answers at a low rate"})
	}
	if confirmFailed(lt) {
		held := ""
		if lt.Confirm != nil && lt.Confirm.Rate > 0 {
			held = fmt.Sprintf(" at %s RPS", fmtNum(round2(lt.Confirm.Rate)))
		}
		rs = append(rs, Refusal{Reason: RefusalConfirmFailed, Problem: "its confirm hold" + held + " failed: the rate was not sustained",
			Hint: "give the search more time so its confirm hold can step down to a rate that holds"})
	}
	if lt.API != "" && api != "" && lt.API != api {
		rs = append(rs, Refusal{Reason: RefusalOtherAPI, Problem: fmt.Sprintf("it measured API %q, not %q", lt.API, api),
			Hint: "load-test the API the plan is for (if one is the other's id, name the API the same way in both commands)"})
	}
	if lt.Stage != "" && stage != "" && lt.Stage != stage {
		rs = append(rs, Refusal{Reason: RefusalOtherStage, Problem: fmt.Sprintf("it measured stage %q, not %q", lt.Stage, stage),
			Hint: "load-test the stage the plan is for, or plan for stage " + lt.Stage, Stage: lt.Stage})
	}
	var limited []string
	if lt.LimitedBy == LimitedByGatewayThrottle {
		limited = append(limited, fmt.Sprintf("the search was limited by the gateway's own throttle %s, not by the backend: the backend takes at least %s RPS", lt.GatewayThrottle, fmtNum(round2(lt.SustainableRPS))))
	}
	for _, m := range lt.Methods {
		if m.LimitedBy == LimitedByGatewayThrottle {
			limited = append(limited, fmt.Sprintf("%s was limited by the gateway's own throttle %s: the backend takes at least %s RPS of it", m.Key(), m.GatewayThrottle, fmtNum(round2(m.SustainableRPS))))
		}
	}
	// Defence in depth: a search whose lowest failing step met API
	// Gateway's own 429s may have been stopped by a throttle even when it
	// blames the backend (a small bucket answers 429 below its rate when
	// arrivals bunch up). Planning from it would lower the throttle.
	if lt.LimitedBy != LimitedByGatewayThrottle {
		if st := lowestFailing(lt.Steps); st != nil && st.Gateway429 > 0 {
			limited = append(limited, fmt.Sprintf("API Gateway itself answered %d requests 429 in the lowest failing step (%s RPS)%s; a live throttle (the stage's or the key's usage plan's), not only the backend, failed it", st.Gateway429, fmtNum(round2(st.Rate)), st.throttledTargets()))
		}
		for _, m := range lt.Methods {
			if st := lowestFailing(m.Steps); st != nil && st.Gateway429 > 0 && m.LimitedBy != LimitedByGatewayThrottle {
				limited = append(limited, fmt.Sprintf("API Gateway itself answered %d requests of %s 429 in its lowest failing step (%s RPS): a live throttle, not only the backend, failed it", st.Gateway429, m.Key(), fmtNum(round2(st.Rate))))
			}
		}
	}
	for _, l := range limited {
		rs = append(rs, Refusal{Reason: RefusalGatewayLimited, Problem: l,
			Hint: "a gateway-limited result never lowers a throttle: measure past it, on a test stage without the throttle or with a load-test key whose usage plan allows more"})
	}
	return rs
}

// lowestFailing is the failing search step (confirm holds aside) at the
// lowest rate, nil when none failed.
func lowestFailing(steps []LoadtestStep) *LoadtestStep {
	var out *LoadtestStep
	for i := range steps {
		st := &steps[i]
		if st.Pass || st.Phase == "confirm" {
			continue
		}
		if out == nil || st.Rate < out.Rate {
			out = st
		}
	}
	return out
}

func confirmFailed(lt *LoadtestResult) bool {
	if lt.ConfirmRequestedS > 0 {
		return !lt.Confirmed
	}
	// Older results: only the confirm step tells.
	return lt.Confirm != nil && !lt.Confirm.Pass && !lt.Confirmed
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
	// "loadtest 2026-11-29"; LoadtestFile names it in errors ("lt.json").
	LoadtestLabel, MeasureLabel string
	LoadtestFile                string
	Tiers                       []Tier
	Keys                        []GenerateKey
	// DetailedMetrics enables per-method CloudWatch metrics (default true
	// when nil).
	DetailedMetrics *bool
	// Force plans from a load test result CheckLoadtest refuses, with a
	// warning comment in the YAML.
	Force bool
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

// plannedMethod is one method's planned stage throttle.
type plannedMethod struct {
	key   string
	alloc float64 // its allocation of the aggregate, after any scaling
	rate  int
	burst int
	why   string // how rate was derived
}

// Generate derives a plan from measured capacity.
//
// Each method's stage throttle is floor(headroom × its allocation), the
// rate the backend took for that method while every method ran together at
// the mix, so the rates summed over the methods never exceed headroom × the
// aggregate sustained at the mix. The stage's */* throttle applies to each
// method separately (API Gateway has no API-wide throttle but the
// account's), so it is not the aggregate: it is the default of methods the
// plan does not list, set to what the listed methods leave of the planned
// aggregate (at least 1). Bursts of the methods together stay within the
// most requests the backend was seen to hold at once (max_in_flight).
// Tiers get share × the planned rates and a daily quota of share × the
// busiest observed day.
//
// A result CheckLoadtest refuses gives a *RefusalError unless in.Force.
// Generate returns the plan and its YAML with comments explaining every
// number; the YAML passes Check.
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
	refusals := CheckLoadtest(lt, in.API, in.Stage)
	if len(refusals) > 0 && !in.Force {
		src := in.LoadtestFile
		if src == "" {
			src = ltLabel
		}
		return nil, nil, &RefusalError{Source: src, Refusals: refusals}
	}
	aggregate := lt.SustainableRPS
	planned := floorRate(h, aggregate)
	if planned < 1 {
		return nil, nil, fmt.Errorf("generate plan: %s sustainable rate %g RPS × headroom %g is below 1 RPS; run the load test again (did it find a passing rate?)", ltLabel, aggregate, h)
	}

	// Allocations: the methods' sustainable_rps. They sum to the aggregate
	// for a --mix search or a jointly checked --per-method one; anything
	// more (a result of methods searched only alone) is scaled down to it.
	var methods []plannedMethod
	seen := map[string]bool{}
	var skipped, notMethods []string
	sumAlloc := 0.0
	type cand struct {
		key string
		m   LoadtestMethod
	}
	var cands []cand
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
		if m.SustainableRPS <= 0 || (m.Pass != nil && !*m.Pass) {
			skipped = append(skipped, key)
			continue
		}
		cands = append(cands, cand{key, m})
		sumAlloc += m.SustainableRPS
	}
	scale := 1.0
	var scaleNote string
	if sumAlloc > aggregate*(1+1e-9) {
		scale = aggregate / sumAlloc
		scaleNote = fmt.Sprintf("The methods' figures add up to %s RPS, more than the %s RPS the backends took with every method running together: they were scaled down by %s to fit (re-run the search with --mix, or a --per-method search that checks the methods together).",
			fmtNum(round2(sumAlloc)), fmtNum(round2(aggregate)), fmtNum(round2(scale)))
	}
	sumRates := 0
	for _, c := range cands {
		alloc := c.m.SustainableRPS * scale
		r := floorRate(h, alloc)
		if r < 1 {
			skipped = append(skipped, c.key)
			continue
		}
		why := fmt.Sprintf("%s × %s RPS allocated to this method", fmtNum(h), fmtNum(round2(alloc)))
		switch {
		case c.m.Share > 0:
			why += fmt.Sprintf(" (%s of the %s RPS aggregate at the mix)", pct(c.m.Share), fmtNum(round2(aggregate)))
		case c.m.IsolatedRPS > 0 && c.m.IsolatedRPS > c.m.SustainableRPS*1.001:
			why += fmt.Sprintf(" (alone it took %s RPS; less with the other methods running)", fmtNum(round2(c.m.IsolatedRPS)))
		}
		if scale != 1 {
			why += fmt.Sprintf(", scaled by %s", fmtNum(round2(scale)))
		}
		methods = append(methods, plannedMethod{key: c.key, alloc: alloc, rate: r, why: why + " (" + ltLabel + ")"})
		sumRates += r
	}

	// */*: the per-method default of every method the plan does not list.
	stageRate := planned
	var stageWhy, stageNote string
	if len(methods) > 0 {
		stageRate = max(1, planned-sumRates)
		stageWhy = fmt.Sprintf("what the listed methods leave of floor(%s × %s RPS) = %d: %d - %d, at least 1", fmtNum(h), fmtNum(round2(aggregate)), planned, planned, sumRates)
		stageNote = "*/* applies to EACH method separately, not to the API as a whole: it is the throttle of every method not listed\n" +
			"under methods. Those methods were not load-tested and may share the backend with the listed ones, so each gets\n" +
			"only what the listed methods leave of the planned aggregate; each such method may add up to this rate."
	} else {
		stageWhy = fmt.Sprintf("%s × %s RPS sustainable by the single target tested (%s)", fmtNum(h), fmtNum(round2(aggregate)), ltLabel)
		stageNote = "*/* applies to EACH method separately, not to the API as a whole: the load test named no methods, so every\n" +
			"method gets the rate its one target sustained. Methods that share a backend can together exceed it:\n" +
			"load-test them together (apictl loadtest --api A --stage S --find-max --mix m.json) to plan each one."
	}
	var untested []string
	if in.Measure != nil {
		for _, m := range in.Measure.Methods {
			k := measureKey(m.Method, m.Resource, m.Route)
			if k != "" && !seen[k] && m.PeakRPS > 0 {
				untested = append(untested, k)
			}
		}
		slices.Sort(untested)
		if len(untested) > 0 {
			stageNote += "\nServed traffic (" + mLabel + ") but not load-tested, so throttled by */*: " + strings.Join(untested, ", ") + "."
		}
	}

	// Bursts: together at most what the backend held at once.
	budget := lt.MaxInFlight
	rates := []int{stageRate}
	for _, m := range methods {
		rates = append(rates, m.rate)
	}
	bursts, burstNote := shareBursts(rates, budget)
	stageBurst := bursts[0]
	for i := range methods {
		methods[i].burst = bursts[i+1]
		if mf := methodMaxInFlight(lt, methods[i].key); mf > 0 && methods[i].burst > mf {
			methods[i].burst = mf
		}
	}

	g := &gen{}
	root := g.mapping()
	head := fmt.Sprintf("apictl plan generated from %s", ltLabel)
	if in.Measure != nil {
		head += " and " + mLabel
	}
	head += "."
	if len(refusals) > 0 {
		head += "\nWARNING: generated with --force although this load test result is no ground for a plan:"
		for _, r := range refusals {
			head += "\n  - " + r.Problem
		}
		head += "\nReview every rate below before applying it."
	}
	if len(methods) > 0 {
		head += fmt.Sprintf("\nMethod throttles are floor(%s × each method's allocation of the aggregate the backends sustained at the mix),\nso together they admit at most %d RPS (%s × %s).", fmtNum(h), planned, fmtNum(h), fmtNum(round2(aggregate)))
	}
	if lt.SharedBackend {
		head += "\nThe methods share a backend: searched alone each found more than they take together."
	}
	if scaleNote != "" {
		head += "\n" + scaleNote
	}
	head += "\n" + burstNote
	head += "\n" + BestEffortNote + "\n(" + BestEffortURL + "): keep the backend's own limits too."
	head += "\nCheck with: apictl plan validate -f FILE; apply with: apictl apply-plan -f FILE"
	root.HeadComment = head
	g.add(root, "apiVersion", g.str(APIVersion), "")
	g.add(root, "kind", g.str(DocumentKind), "")
	g.add(root, "api", g.str(in.API), "")
	g.add(root, "type", g.str(typ), "")
	g.add(root, "stages", g.flowSeq(g.str(in.Stage)), "")

	stage := g.mapping()
	stageThrottle := g.throttleWith(stageRate, stageBurst, stageWhy, burstWhy(stageRate, stageBurst, budget))
	k := g.add(stage, "throttle", stageThrottle, "")
	k.HeadComment = stageNote
	dm := in.DetailedMetrics == nil || *in.DetailedMetrics
	g.add(stage, "detailedMetrics", g.boolean(dm), "per-method CloudWatch metrics, so apictl measure --by method sees each method")

	if len(methods) > 0 {
		mm := g.mapping()
		for _, m := range methods {
			v := g.mapping()
			why := m.why
			if peak := measurePeak(in.Measure, m.key); peak > float64(m.rate) {
				why += fmt.Sprintf("; observed peak %s RPS (%s) exceeds it: clients will see 429s at such peaks", fmtNum(round2(peak)), mLabel)
			}
			g.add(v, "throttle", g.throttleWith(m.rate, m.burst, why, burstWhy(m.rate, m.burst, budget)), "")
			g.add(mm, m.key, v, "")
		}
		g.add(stage, "methods", mm, "")
	}
	stageKey := g.add(root, "stage", stage, "")
	stageKey.HeadComment = "Stage throttles, applied to every stage above. API Gateway applies them per method."
	if in.Measure != nil && in.Measure.Totals.PeakRPS > 0 {
		stageKey.HeadComment += fmt.Sprintf("\nObserved peak of the whole API: %s RPS (%s); the listed methods admit at most %d RPS together, each other method at most %d.", fmtNum(round2(in.Measure.Totals.PeakRPS)), mLabel, sumRates, stageRate)
	}
	if len(skipped) > 0 {
		stageKey.HeadComment += "\nNo throttle of their own (the */* default applies) for " + strings.Join(skipped, ", ") + ": no passing rate ≥ 1 RPS after headroom."
	}
	if len(notMethods) > 0 {
		stageKey.HeadComment += "\nLoad test results not named \"VERB /path\" are left out: " + strings.Join(notMethods, ", ") + "."
	}

	if len(in.Tiers) > 0 {
		peakDay, peakCount, partialOnly := busiestDay(in.Measure)
		total := sumRates
		if len(methods) == 0 {
			total = stageRate
		}
		plans := g.seq()
		for _, t := range in.Tiers {
			u := g.mapping()
			g.add(u, "name", g.str(t.Name), "")
			g.add(u, "description", g.str(fmt.Sprintf("%s tier: %s of capacity per key (generated by apictl)", t.Name, pct(t.Share))), "")
			r := max(1, floorRate(t.Share, float64(total)))
			b := BurstFor(r)
			if budget > 0 {
				b = max(1, min(b, floorRate(t.Share, float64(budget))))
			}
			g.add(u, "throttle", g.throttleWith(r, b, fmt.Sprintf("%s × %d RPS the plan admits over all methods", fmtNum(t.Share), total), fmt.Sprintf("%s × the bursts, at most half a second", fmtNum(t.Share))), "")
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
					mb := max(1, min(BurstFor(mr), floorRate(t.Share, float64(m.burst))))
					g.add(mm, m.key, g.rateBurstWith(mr, mb), fmt.Sprintf("%s × method rate %d and burst %d", fmtNum(t.Share), m.rate, m.burst))
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

// shareBursts gives each rate a burst: BurstFor(rate), and when budget > 0
// at most its rate's share of budget (at least 1), so the bursts together
// stay within budget unless there are more rates than budget. It returns
// the bursts and a sentence saying how they were set.
func shareBursts(rates []int, budget int) ([]int, string) {
	out := make([]int, len(rates))
	if budget <= 0 {
		for i, r := range rates {
			out[i] = BurstFor(r)
		}
		return out, "Bursts: " + BurstRule + " (the load test reported no max_in_flight to bound them;\nre-run it with this apictl so bursts stay within what the backend absorbs at once)."
	}
	total := 0
	for _, r := range rates {
		total += r
	}
	// Each throttle keeps a burst of 1 (0 would refuse every request); the
	// rest of the budget is shared by rate.
	spare := max(0, budget-len(rates))
	sum := 0
	for i, r := range rates {
		out[i] = min(BurstFor(r), 1+int(math.Floor(float64(spare)*float64(r)/float64(total))))
		sum += out[i]
	}
	note := fmt.Sprintf("Bursts: the backend held at most %d requests at once at passing rates (max_in_flight), so the bursts of\nall methods together, */* included, stay within %d (1 each, the rest shared by rate, at most half a second of a rate): %d in all.", budget, budget, sum)
	if sum > budget {
		note += " (More throttles than requests to share: each keeps a burst of 1.)"
	}
	note += "\nA small bucket answers 429 to requests that bunch up even below its rate: raise a burst only as far as\nthe backend is seen to absorb (a load test with more in flight at passing rates)."
	return out, note
}

func burstWhy(rate, burst, budget int) string {
	if budget <= 0 {
		return fmt.Sprintf("max(1, ceil(%d × 0.5))", rate)
	}
	if burst == BurstFor(rate) {
		return fmt.Sprintf("half a second at %d RPS, within the %d the backend held at once", rate, budget)
	}
	return fmt.Sprintf("this rate's share of the %d requests the backend held at once", budget)
}

// methodMaxInFlight is what the search saw one method hold at once (0:
// unknown).
func methodMaxInFlight(lt *LoadtestResult, key string) int {
	for _, m := range lt.Methods {
		if m.Key() == key {
			return m.MaxInFlight
		}
	}
	return 0
}

// measureKey names a measured method as plans do ("GET /pets").
func measureKey(method, resource, route string) string {
	if route != "" {
		return route
	}
	if method == "" || resource == "" {
		return ""
	}
	return strings.ToUpper(method) + " " + resource
}

// measurePeak is a method's observed peak RPS (0 without measure).
func measurePeak(m *MeasureResult, key string) float64 {
	if m == nil {
		return 0
	}
	for _, x := range m.Methods {
		if measureKey(x.Method, x.Resource, x.Route) == key {
			return x.PeakRPS
		}
	}
	return 0
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

func (g gen) rateBurstWith(rate, burst int) *yaml.Node {
	m := g.mapping()
	m.Style = yaml.FlowStyle
	g.add(m, "rate", g.integer(rate), "")
	g.add(m, "burst", g.integer(burst), "")
	return m
}

func (g gen) throttleWith(rate, burst int, why, burstWhy string) *yaml.Node {
	m := g.mapping()
	g.add(m, "rate", g.integer(rate), why)
	g.add(m, "burst", g.integer(burst), burstWhy)
	return m
}
