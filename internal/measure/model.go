package measure

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// API types as they appear in Usage.APIType.
const (
	APITypeREST = "rest"
	APITypeHTTP = "http"
)

// Usage is what one API stage served over a window, next to the throttles
// configured on it. It is the JSON model of `apictl measure` and an input of
// `apictl plan generate`: field names are a stable contract.
type Usage struct {
	API           string `json:"api"`
	APIID         string `json:"api_id"`
	APIType       string `json:"api_type"`
	Stage         string `json:"stage"`
	Window        Window `json:"window"`
	PeriodSeconds int    `json:"period_seconds"`
	// PeriodRule says why this period was chosen (retention, datapoint cap
	// or --period).
	PeriodRule string `json:"period_rule"`
	Totals     Totals `json:"totals"`
	// Daily holds the request count per UTC day inside the window (for
	// quotas); the first and last day are partial when the window does not
	// start or end at midnight.
	Daily []Daily `json:"daily"`
	// DetailedMetrics reports whether per-method metrics are enabled on the
	// stage (REST: methodSettings */* metricsEnabled; HTTP: default route
	// DetailedMetricsEnabled).
	DetailedMetrics bool `json:"detailed_metrics"`
	// Methods is filled with --by method, busiest first.
	Methods []Method `json:"methods"`
	// MethodsWithoutData (--by method) names the methods, "GET /pets",
	// that had no data in the window: those ListMetrics did not list
	// (methods the API defines but nobody called, or not since detailed
	// metrics were enabled) are not in Methods.
	MethodsWithoutData []string `json:"methods_without_data,omitempty"`
	// RouteMetricForm (HTTP APIs, --by method) is the dimension set the
	// per-route metrics matched: "ApiId,Stage,Route" (documented),
	// "ApiId,Method,Resource,Stage" (seen in the field) or "mixed"; empty
	// when no route had data.
	RouteMetricForm string   `json:"route_metric_form,omitempty"`
	Throttle        Throttle `json:"throttle"`
	// AccountThrottle is the account-level throttle of the region, the only
	// limit of API-wide traffic; AccountThrottleSource says whether it was
	// read ("account") or is AWS's documented default ("default").
	AccountThrottle       Limit       `json:"account_throttle"`
	AccountThrottleSource string      `json:"account_throttle_source"`
	UsagePlans            []UsagePlan `json:"usage_plans"`
	Warnings              []string    `json:"warnings"`
	Hints                 []string    `json:"hints"`

	// rps is the request rate of each period, for the sparkline.
	rps []float64
}

// RPS returns the average request rate of each period of the window, oldest
// first (periods without data count as zero).
func (u *Usage) RPS() []float64 { return u.rps }

// Window is the measured time range, aligned to whole periods: [Start, End).
type Window struct {
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Seconds int64     `json:"seconds"`
}

// Totals are the figures of the whole stage.
type Totals struct {
	Count int64 `json:"count"`
	// AvgRPS is Count divided by the window length in seconds.
	AvgRPS float64 `json:"avg_rps"`
	// PeakRPS is the largest per-period Sum divided by the period.
	PeakRPS float64 `json:"peak_rps"`
	// PeakAt is the start of the busiest period; null without traffic.
	PeakAt *time.Time `json:"peak_at"`
	// BurstEstimateRPS estimates the busiest second (see BurstEstimate);
	// CloudWatch has no per-second data for API Gateway.
	BurstEstimateRPS float64 `json:"burst_estimate_rps"`
	BurstEstimate    string  `json:"burst_estimate"`
	Error4xx         int64   `json:"error_4xx"`
	Error5xx         int64   `json:"error_5xx"`
	Error4xxRate     float64 `json:"error_4xx_rate"`
	Error5xxRate     float64 `json:"error_5xx_rate"`
	// Latencies are over the whole window, in milliseconds; null without
	// data.
	LatencyP50Ms            *float64 `json:"latency_p50_ms"`
	LatencyP99Ms            *float64 `json:"latency_p99_ms"`
	IntegrationLatencyP99Ms *float64 `json:"integration_latency_p99_ms"`
	// Headroom is the account-level throttle rate divided by PeakRPS (the
	// whole API's traffic meets no other limit: stage throttles apply per
	// method); null without traffic.
	Headroom *float64 `json:"headroom"`
}

// Daily is the request count of one UTC day.
type Daily struct {
	Date    string `json:"date"`
	Count   int64  `json:"count"`
	Partial bool   `json:"partial,omitempty"`
}

// Method is the traffic of one method (REST: Method+Resource; HTTP: Route).
type Method struct {
	Resource string `json:"resource"`
	Method   string `json:"method"`
	// Route is the HTTP API route key (e.g. "GET /items"); empty for REST.
	Route                   string     `json:"route,omitempty"`
	Count                   int64      `json:"count"`
	AvgRPS                  float64    `json:"avg_rps"`
	PeakRPS                 float64    `json:"peak_rps"`
	PeakAt                  *time.Time `json:"peak_at"`
	BurstEstimateRPS        float64    `json:"burst_estimate_rps"`
	Error4xxRate            float64    `json:"error_4xx_rate"`
	Error5xxRate            float64    `json:"error_5xx_rate"`
	LatencyP50Ms            *float64   `json:"latency_p50_ms"`
	LatencyP99Ms            *float64   `json:"latency_p99_ms"`
	IntegrationLatencyP99Ms *float64   `json:"integration_latency_p99_ms"`
	// Throttle is the throttle in force for this method: its own method
	// setting, else the stage default (*/*, which applies to each method
	// separately), else the account-level throttle.
	Throttle *Limit `json:"throttle"`
	// ThrottleSource is "method", "stage" or "account".
	ThrottleSource string `json:"throttle_source"`
	// Headroom is the effective throttle's rate divided by PeakRPS (a rate
	// against a rate; the burst is a bucket size, never compared).
	Headroom *float64 `json:"headroom"`
}

// Key returns the method key used in Throttle.Methods: "GET /pets".
func (m Method) Key() string {
	if m.Route != "" {
		return m.Route
	}
	return m.Method + " " + m.Resource
}

// Limit is a throttle: steady rate in requests per second and burst.
type Limit struct {
	Rate  float64 `json:"rate"`
	Burst int32   `json:"burst"`
}

// Blocks reports whether the limit refuses every request: API Gateway
// answers 429 to all requests through a 0/0 throttle.
func (l *Limit) Blocks() bool { return l != nil && l.Rate == 0 && l.Burst == 0 }

// Throttle is what is configured on the stage now.
type Throttle struct {
	// Stage is the stage-wide default (REST methodSettings "*/*", HTTP
	// DefaultRouteSettings); null when not set.
	Stage *Limit `json:"stage"`
	// Methods are per-method overrides keyed "GET /pets".
	Methods map[string]Limit `json:"methods"`
}

// UsagePlan is a usage plan attached to the measured API stage. Its
// throttle and quota apply per API key.
type UsagePlan struct {
	ID       string           `json:"id"`
	Name     string           `json:"name"`
	Throttle *Limit           `json:"throttle"`
	Quota    *Quota           `json:"quota"`
	Methods  map[string]Limit `json:"methods"`
}

// Quota is a usage plan quota.
type Quota struct {
	Limit  int32  `json:"limit"`
	Offset int32  `json:"offset"`
	Period string `json:"period"`
}

// ReadUsage decodes the JSON written by `apictl measure -o json`: one Usage
// object, or an array of them when several stages were measured. With
// stage set it returns that stage; with stage empty the input must hold
// exactly one.
func ReadUsage(r io.Reader, stage string) (*Usage, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read measure json: %w", err)
	}
	var list []*Usage
	if err := json.Unmarshal(data, &list); err != nil {
		var one Usage
		if err2 := json.Unmarshal(data, &one); err2 != nil {
			return nil, fmt.Errorf("decode measure json: %w", err2)
		}
		list = []*Usage{&one}
	}
	if len(list) == 0 {
		return nil, errors.New("measure json holds no stage")
	}
	var stages []string
	for _, u := range list {
		if stage == "" || u.Stage == stage {
			if stage == "" && len(list) > 1 {
				break
			}
			return u, nil
		}
		stages = append(stages, u.Stage)
	}
	if stage == "" {
		for _, u := range list {
			stages = append(stages, u.Stage)
		}
		return nil, fmt.Errorf("measure json holds several stages (%v): pick one", stages)
	}
	return nil, fmt.Errorf("measure json has no stage %q (it has %v)", stage, stages)
}
