package loadtest

import (
	"math"
	"time"
)

// Mode is what kind of load test a Capacity records.
type Mode string

// The modes of a load test.
const (
	ModeFixed  Mode = "fixed"  // one step at a fixed rate
	ModeSearch Mode = "search" // a sustainable-rate search (--find-max)
)

// Phase is what a step was for.
type Phase string

// The phases of a step.
const (
	PhaseFixed   Phase = "fixed"   // the step of a fixed-rate run
	PhaseGrow    Phase = "grow"    // a search's growth: the rate multiplied while it passes
	PhaseDescend Phase = "descend" // down from a first step that failed
	PhaseBisect  Phase = "bisect"  // between the last passing and the first failing rate
	PhaseRecheck Phase = "recheck" // an earlier pass re-checked after a lower rate failed
	PhaseJoint   Phase = "joint"   // all methods together at their found rates (--per-method)
	PhaseConfirm Phase = "confirm" // a hold at the found rate (--confirm)
	PhaseRamp    Phase = "ramp"    // a step of a staircase fixed in advance (--ramp)
)

// Capacity is the JSON model of a load test: a fixed-rate run (ModeFixed)
// or a sustainable-rate search (ModeSearch).
type Capacity struct {
	Target string `json:"target"`
	// API and Stage are set when the targets were discovered with --api/--stage.
	API   string `json:"api,omitempty"`
	Stage string `json:"stage,omitempty"`
	// InvokeURL is the stage URL the load went to (with --api): on the
	// endpoint the API was discovered on.
	InvokeURL  string   `json:"invoke_url,omitempty"`
	Targets    []string `json:"targets,omitempty"` // every target when more than one ("GET /pets")
	Mode       Mode     `json:"mode"`
	Objectives []string `json:"objectives"`
	// SustainableRPS is the highest requested rate that met every objective
	// (search), or the rate of a fixed run that passed (0 when it did not).
	SustainableRPS float64 `json:"sustainable_rps"`
	// KneeRPS estimates where latency starts to climb with rate (0 when unknown).
	KneeRPS float64 `json:"knee_rps,omitempty"`
	// Pass is true when a fixed run met its objectives, or a search found a passing rate (and its confirm run passed).
	Pass bool `json:"pass"`
	// Reason explains a failure.
	Reason string `json:"reason,omitempty"`
	// Steps are every measured step in order.
	Steps []Step `json:"steps"`
	// Confirm is the longer run at the found rate (--confirm).
	Confirm *Step `json:"confirm,omitempty"`
	// Methods are per-method searches (--per-method).
	Methods []MethodCapacity `json:"methods,omitempty"`
	// Bracket is the last passing and first failing rate of a search.
	Bracket *Bracket `json:"bracket,omitempty"`
	// AttackSeconds is the total attack time spent (cool-downs excluded).
	AttackSeconds float64 `json:"attack_seconds"`
	// Interrupted is true when the run was stopped (Ctrl-C) before it ended.
	Interrupted bool `json:"interrupted,omitempty"`
	// CoordinatedOmission is true when in some step the load generator, not the server, fell behind.
	CoordinatedOmission bool `json:"coordinated_omission,omitempty"`
	// Warnings are human-readable cautions about the figures.
	Warnings []string `json:"warnings,omitempty"`

	// Mix is the traffic mix the aggregate was searched at (several targets).
	Mix *Mix `json:"mix,omitempty"`
	// SharedBackend is true when the methods' isolated figures (--per-method)
	// failed when run together: they share capacity.
	SharedBackend bool `json:"shared_backend,omitempty"`
	// Confirmed is true when a --confirm hold passed at SustainableRPS.
	Confirmed bool `json:"confirmed"`
	// ConfirmRequestedS is the --confirm duration in seconds (0: none asked).
	ConfirmRequestedS float64 `json:"confirm_requested_s,omitempty"`
	// Holds are every confirm hold in order (Confirm is the last).
	Holds []Step `json:"holds,omitempty"`
	// LimitedBy says what stopped the rate: "backend", "gateway-throttle"
	// (the backend takes at least SustainableRPS) or "" (no failure seen).
	LimitedBy string `json:"limited_by,omitempty"`
	// GatewayThrottle is the live throttle that limited the search.
	GatewayThrottle *Throttle `json:"gateway_throttle,omitempty"`
	// MaxInFlight is the most requests in flight at once in the passing
	// steps at or below SustainableRPS (all methods together).
	MaxInFlight int `json:"max_in_flight,omitempty"`
	// RejectedAsInvalid is true when the run stopped because its requests
	// were mostly answered with request-fault 4xx (bad --data or --body).
	RejectedAsInvalid bool `json:"rejected_as_invalid,omitempty"`
	// Data records the --data file the requests were made from.
	Data *DataInfo `json:"data,omitempty"`
	// Seed is the seed of the random data order and mix (when random).
	Seed *uint64 `json:"seed,omitempty"`

	// Shard, Ramp, StartAt, LateByS and Merged describe distributed and
	// scheduled runs (shard.go, ramp.go, merge.go).
	Shard   *ShardInfo `json:"shard,omitempty"`
	Ramp    *RampInfo  `json:"ramp,omitempty"`
	StartAt string     `json:"start_at,omitempty"`
	LateByS float64    `json:"late_by_s,omitempty"`
	Merged  *MergeInfo `json:"merged,omitempty"`

	// warnings are the typed warnings behind some of Warnings (WordWarnings).
	warnings []Warning
}

// Mix is a traffic mix: each method's share of the aggregate rate.
type Mix struct {
	// Source is "measure:FILE", "weights" or "found-rates".
	Source string `json:"source"`
	// Weights maps a method ("GET /orders") to its share (they sum to 1).
	Weights map[string]float64 `json:"weights"`
}

// Throttle is a live API Gateway throttle.
type Throttle struct {
	Rate  float64 `json:"rate"`
	Burst int     `json:"burst"`
	// Source names where it is set: "stage prod */*", "stage prod GET /orders",
	// "usage plan Gold", "usage plan Gold GET /orders".
	Source string `json:"source"`
}

// Bracket is the interval a search narrowed the sustainable rate down to.
type Bracket struct {
	Pass float64 `json:"pass"` // highest passing rate (0: none)
	Fail float64 `json:"fail"` // lowest failing rate (0: none, the search reached --max-rate)
}

// MethodCapacity is one method's figures: its search alone (--per-method)
// and its allocation when all methods run together (SustainableRPS: the
// rate the backend took for it at the aggregate, with --mix or after the
// joint check of --per-method).
type MethodCapacity struct {
	Name           string   `json:"name"` // "GET /pets/{id}"
	Method         string   `json:"method"`
	Path           string   `json:"path,omitempty"` // "/pets/{id}" when discovered
	URL            string   `json:"url"`
	SustainableRPS float64  `json:"sustainable_rps"`
	KneeRPS        float64  `json:"knee_rps,omitempty"`
	Pass           bool     `json:"pass"`
	Reason         string   `json:"reason,omitempty"`
	Bracket        *Bracket `json:"bracket,omitempty"`
	Steps          []Step   `json:"steps"`
	// Share is the method's share of the aggregate (0..1).
	Share float64 `json:"share,omitempty"`
	// IsolatedRPS is what the method's search found alone (--per-method).
	IsolatedRPS float64 `json:"isolated_rps,omitempty"`
	// LimitedBy and GatewayThrottle are as on Capacity, for this method.
	LimitedBy       string    `json:"limited_by,omitempty"`
	GatewayThrottle *Throttle `json:"gateway_throttle,omitempty"`
	// MaxInFlight is the method's most requests in flight at once in the
	// passing steps at or below its allocation.
	MaxInFlight int `json:"max_in_flight,omitempty"`
	// RejectedAsInvalid: the method's requests were mostly answered with request-fault 4xx.
	RejectedAsInvalid bool `json:"rejected_as_invalid,omitempty"`
}

// TargetStep is one target's part of a step over a mix.
type TargetStep struct {
	Target string `json:"target"`
	// Rate is the target's requested rate: its share of the step's rate.
	Rate        float64 `json:"rate"`
	Requests    int     `json:"requests"`
	Successes   int     `json:"successes"`
	Throughput  float64 `json:"throughput"`
	Gateway429  int     `json:"gateway_429,omitempty"`
	MaxInFlight int     `json:"max_in_flight,omitempty"`
}

// LatencyMS are latency figures in milliseconds. The percentiles come from
// the step's latency histogram (1 µs to 1 h, 3 significant digits): at most
// 0.1% above the exact nearest-rank figure, never below it; Max and Mean
// are exact.
type LatencyMS struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Step is one steady-rate attack and its figures.
type Step struct {
	// Target names the method a step of a per-method search attacked.
	Target string `json:"target,omitempty"`
	Phase  Phase  `json:"phase"`
	// Rate is the requested (offered) rate in requests per second.
	Rate float64 `json:"rate"`
	// AchievedRate is the rate at which requests were actually sent.
	AchievedRate float64 `json:"achieved_rate"`
	// Duration is how long the step sent requests (shorter than planned when aborted).
	Duration        float64 `json:"duration_s"`
	PlannedDuration float64 `json:"planned_duration_s"`
	Requests        int     `json:"requests"`
	Successes       int     `json:"successes"`
	// Throughput is successful responses per second (the wait for the last responses included).
	Throughput float64 `json:"throughput"`
	// ThroughputRatio is Throughput / Rate.
	ThroughputRatio float64        `json:"throughput_ratio"`
	SuccessRatio    float64        `json:"success_ratio"`
	Latency         LatencyMS      `json:"latency_ms"`
	StatusCodes     map[string]int `json:"status_codes,omitempty"` // "0" = transport error
	Errors          []string       `json:"errors,omitempty"`       // a few distinct error texts
	// Causes count the failed requests by cause (request-fault 4xx apart from 429 and 5xx).
	Causes *ErrorCauses `json:"causes,omitempty"`
	Pass   bool         `json:"pass"`
	Reason string       `json:"reason,omitempty"`
	// Aborted is true when the step was stopped early because objectives were clearly missed.
	Aborted bool `json:"aborted,omitempty"`
	// Interrupted is true when the step was cut short by cancellation.
	Interrupted bool `json:"interrupted,omitempty"`
	// GeneratorBehind is true when fewer requests were sent than requested
	// while the server answered fast: the generator fell behind (coordinated omission).
	GeneratorBehind bool `json:"generator_behind,omitempty"`
	// MaxInFlight is the most requests in flight at once during the step.
	MaxInFlight int `json:"max_in_flight,omitempty"`
	// TailThroughput is the successful throughput of the requests sent in
	// the last third of the step: what a backend sustained once a burst
	// allowance or a queue ran out.
	TailThroughput float64 `json:"tail_throughput,omitempty"`
	// Gateway429 counts API Gateway's own throttling (and quota) answers:
	// 429 with x-amzn-ErrorType TooManyRequestsException or LimitExceededException.
	Gateway429 int `json:"gateway_429,omitempty"`
	// GatewayLimited is true when the step failed because of the
	// gateway's 429s at a rate above a live throttle, not the backend.
	GatewayLimited bool `json:"gateway_limited,omitempty"`
	// ByTarget are the figures of each target of a mix.
	ByTarget []TargetStep `json:"by_target,omitempty"`

	// latencies are the step's latencies until its objectives are
	// evaluated (not serialised).
	latencies quantiler
	// rejected: the step's failures are mostly request-fault 4xx (see classifyCauses).
	rejected bool
}

// latency returns the q quantile (1 = max, 0 = mean) of the step.
func (s *Step) latency(q float64) time.Duration {
	switch {
	case q == 0:
		return time.Duration(s.Latency.Mean * 1e6)
	case s.latencies == nil:
		// Decoded from JSON: fall back to the reported figures.
		switch {
		case q >= 1:
			return time.Duration(s.Latency.Max * 1e6)
		case q >= 0.99:
			return time.Duration(s.Latency.P99 * 1e6)
		case q >= 0.95:
			return time.Duration(s.Latency.P95 * 1e6)
		case q >= 0.90:
			return time.Duration(s.Latency.P90 * 1e6)
		default:
			return time.Duration(s.Latency.P50 * 1e6)
		}
	default:
		return s.latencies.quantile(q)
	}
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// fillLatency keeps lat on the step and fills the Latency figures.
func (s *Step) fillLatency(lat *latencyHist) {
	s.latencies = lat
	if lat.count() == 0 {
		return
	}
	s.Latency = LatencyMS{
		P50:  ms(lat.quantile(0.50)),
		P90:  ms(lat.quantile(0.90)),
		P95:  ms(lat.quantile(0.95)),
		P99:  ms(lat.quantile(0.99)),
		Max:  ms(lat.quantile(1)),
		Mean: ms(lat.mean()),
	}
}
