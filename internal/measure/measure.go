// Package measure reads the AWS/ApiGateway CloudWatch metrics of an API
// stage and reports what it serves (requests, peak rate, errors, latency,
// daily totals) next to the throttles and usage plans configured on it.
//
// Use Run for one stage with apictl's AWS clients, Measure with narrow
// clients (tests) or for every stage of an API at once. All CloudWatch
// queries of a run go into as few GetMetricData calls as the 500-query limit
// allows.
package measure

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/apictl/apictl/internal/awsfacts"
	"github.com/apictl/apictl/internal/report"

	"github.com/apictl/apictl/internal/awsapi"
)

// DefaultSince is the window measured when neither Since nor Start is set.
const DefaultSince = 24 * time.Hour

// Options select what to measure.
type Options struct {
	// API is the name or id of a REST or HTTP API.
	API string
	// Stage limits the run to one stage; empty measures all stages.
	Stage string
	// Since is the window length ending at End (or now); DefaultSince when
	// zero and Start is zero.
	Since time.Duration
	// Start and End fix the window; End defaults to now.
	Start, End time.Time
	// PeriodSeconds overrides the automatic period (a multiple of 60).
	PeriodSeconds int
	// ByMethod adds the per-method breakdown.
	ByMethod bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Region names the account throttle default in warnings (2,500 rps in
	// some regions); Run fills it from the clients.
	Region string
}

// Run measures one stage of an API with apictl's AWS clients: opts.Stage,
// or the API's only stage.
func Run(ctx context.Context, c *awsapi.Clients, opts Options) (*Usage, error) {
	if opts.Region == "" {
		opts.Region = c.Region
	}
	us, err := Measure(ctx, FromAWS(c), opts)
	if err != nil {
		return nil, err
	}
	if len(us) != 1 {
		names := make([]string, len(us))
		for i, u := range us {
			names[i] = u.Stage
		}
		return nil, &HintError{
			Err:  fmt.Errorf("api %q has %d stages", opts.API, len(us)),
			hint: "pick one of its stages: " + strings.Join(names, ", "),
		}
	}
	return us[0], nil
}

// Measure measures every selected stage of the API, one Usage per stage,
// sorted by stage name.
func Measure(ctx context.Context, c Clients, opts Options) (Stages, error) {
	if c.CloudWatch == nil {
		return nil, errors.New("measure: no cloudwatch client")
	}
	if opts.API == "" {
		return nil, ErrNoAPI
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	start, end, period, rule, windowWarnings, err := resolveWindow(opts, now().UTC())
	if err != nil {
		return nil, err
	}
	g := grid{start: start, end: end, period: period}

	api, namesakes, err := resolveAPI(ctx, c, opts.API)
	if err != nil {
		return nil, err
	}
	if len(namesakes) > 0 {
		windowWarnings = append(windowWarnings, fmt.Sprintf("REST APIs %s share the metric name %q: CloudWatch keys REST API metrics by name (non-ASCII characters removed), so their traffic is counted here too", strings.Join(namesakes, ", "), awsfacts.MetricAPIName(api.Name, api.ID)))
	}
	all, err := listStages(ctx, c, api)
	if err != nil {
		return nil, err
	}
	stages, err := selectStages(all, opts.Stage, api)
	if err != nil {
		return nil, err
	}
	plans := map[string][]UsagePlan{}
	if api.Kind == APITypeREST {
		if plans, err = usagePlans(ctx, c.REST, api.ID); err != nil {
			return nil, err
		}
	}
	account, accountSource := accountThrottle(ctx, c, opts.Region)
	methods := map[string][]Method{}
	listed := map[string]map[string]bool{} // stage → method keys ListMetrics listed
	if opts.ByMethod {
		if methods, err = discoverMethods(ctx, c.CloudWatch, api); err != nil {
			return nil, err
		}
		for stage, ms := range methods {
			listed[stage] = map[string]bool{}
			for _, m := range ms {
				listed[stage][m.Key()] = true
			}
		}
		// ListMetrics leaves out metrics without data in the past two
		// weeks: query every method the API defines as well.
		defined, ok, err := definedMethods(ctx, c, api)
		if err != nil {
			// Not fatal: the ListMetrics answer still stands.
			windowWarnings = append(windowWarnings, fmt.Sprintf("could not list the methods of %s (%v): methods whose metrics ListMetrics no longer lists (no data in the past two weeks) are left out", api, err))
		}
		if ok && err == nil {
			for _, st := range stages {
				methods[st.Name] = mergeMethods(methods[st.Name], defined)
			}
		}
	}

	var scopes []scope
	for si, st := range stages {
		scopes = append(scopes, scope{stageIdx: si, methodIdx: -1, dims: stageDims(api.Kind, api.Name, api.ID, st.Name)})
		for mi, m := range methods[st.Name] {
			scopes = append(scopes, scope{stageIdx: si, methodIdx: mi, dims: methodDims(api.Kind, api.Name, api.ID, st.Name, m)})
		}
	}
	qs := buildQueries(api.Kind, scopes, period, int(g.seconds()))
	data, err := fetchMetricData(ctx, c.CloudWatch, qs, start, end)
	if err != nil {
		return nil, fmt.Errorf("measure %s: %w", api, err)
	}
	forms := map[[2]int]string{} // HTTP API: the dimension set each route's data matched
	if api.Kind == APITypeHTTP && opts.ByMethod {
		if forms, err = routeFallback(ctx, c.CloudWatch, api, stages, methods, data, period, int(g.seconds()), start, end); err != nil {
			return nil, err
		}
	}

	out := make([]*Usage, len(stages))
	for si, st := range stages {
		u := &Usage{
			API: api.Name, APIID: api.ID, APIType: api.Kind, Stage: st.Name,
			Window:          Window{Start: start, End: end, Seconds: g.seconds()},
			PeriodSeconds:   period,
			PeriodRule:      rule,
			DetailedMetrics: st.DetailedMetrics,
			Methods:         []Method{},
			Throttle:        st.Throttle,
			AccountThrottle: account, AccountThrottleSource: accountSource,
			UsagePlans: plans[st.Name],
			Warnings:   append([]string{}, windowWarnings...),
			Hints:      []string{},
		}
		if u.UsagePlans == nil {
			u.UsagePlans = []UsagePlan{}
		}
		fill := func(methodIdx int) (figures, *series) {
			get := func(code string) *series { return data[queryID(si, methodIdx, code)] }
			return computeFigures(g, get), get("cnt")
		}
		tot, cnt := fill(-1)
		if cnt != nil && cnt.partial {
			u.Warnings = append(u.Warnings, "CloudWatch returned partial data for the request count")
		}
		u.Totals = Totals{
			Count: tot.rate.count, AvgRPS: tot.rate.avg, PeakRPS: tot.rate.peak, PeakAt: tot.rate.peakAt,
			BurstEstimateRPS: tot.rate.burst, BurstEstimate: BurstEstimateNote,
			Error4xx: tot.e4, Error5xx: tot.e5,
			Error4xxRate: ratio(tot.e4, tot.rate.count), Error5xxRate: ratio(tot.e5, tot.rate.count),
			LatencyP50Ms: tot.p50, LatencyP99Ms: tot.p99, IntegrationLatencyP99Ms: tot.ip99,
			Headroom: headroom(&account, tot.rate.peak),
		}
		u.rps = tot.rate.perStep
		u.Daily = daily(g, tot.counts)

		for mi, m := range methods[st.Name] {
			f, mcnt := fill(mi)
			if mcnt == nil || len(mcnt.times) == 0 {
				u.MethodsWithoutData = append(u.MethodsWithoutData, m.Key())
				if !listed[st.Name][m.Key()] {
					continue
				}
			}
			m.Count, m.AvgRPS, m.PeakRPS, m.PeakAt, m.BurstEstimateRPS = f.rate.count, f.rate.avg, f.rate.peak, f.rate.peakAt, f.rate.burst
			m.Error4xxRate, m.Error5xxRate = ratio(f.e4, f.rate.count), ratio(f.e5, f.rate.count)
			m.LatencyP50Ms, m.LatencyP99Ms, m.IntegrationLatencyP99Ms = f.p50, f.p99, f.ip99
			m.Throttle, m.ThrottleSource = methodThrottle(st.Throttle, m)
			if m.Throttle == nil {
				a := account
				m.Throttle, m.ThrottleSource = &a, "account"
			}
			m.Headroom = headroom(m.Throttle, m.PeakRPS)
			u.Methods = append(u.Methods, m)
		}
		sortMethods(u.Methods)
		sort.Strings(u.MethodsWithoutData)
		if api.Kind == APITypeHTTP {
			u.RouteMetricForm = routeForm(forms, si, len(methods[st.Name]))
		}
		addFindings(u, api, opts.ByMethod, len(u.Methods) > 0, opts.Region)
		out[si] = u
	}
	return out, nil
}

// figures are the computed numbers of one scope.
type figures struct {
	counts         []float64
	rate           rate
	e4, e5         int64
	p50, p99, ip99 *float64
}

func computeFigures(g grid, get func(code string) *series) figures {
	var f figures
	f.counts = g.buckets(get("cnt"))
	f.rate = countRate(g, f.counts)
	f.e4, f.e5 = sumOf(get("e4")), sumOf(get("e5"))
	f.p50, f.p99, f.ip99 = percentileOf(get("p50")), percentileOf(get("p99")), percentileOf(get("ip99"))
	return f
}

// sortMethods orders methods busiest first, then by key.
func sortMethods(ms []Method) {
	sort.Slice(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Resource != b.Resource {
			return a.Resource < b.Resource
		}
		return a.Method < b.Method
	})
}

// addFindings adds the warnings and hints of a measured stage.
func addFindings(u *Usage, api apiRef, byMethod, hasMethods bool, region string) {
	t := u.Totals
	if t.Count == 0 {
		u.Warnings = append(u.Warnings, fmt.Sprintf("no requests on stage %s between %s and %s", u.Stage, u.Window.Start.Format(time.RFC3339), u.Window.End.Format(time.RFC3339)))
	}
	if byMethod && !hasMethods && t.Count > 0 {
		if u.DetailedMetrics {
			u.Warnings = append(u.Warnings, fmt.Sprintf("no per-method metrics in CloudWatch for stage %s although detailed metrics are enabled: they appear for requests made after enabling", u.Stage))
		} else {
			u.Warnings = append(u.Warnings, fmt.Sprintf("detailed metrics are not enabled on stage %s: CloudWatch has no per-method data, so the breakdown by method is empty", u.Stage))
			u.Hints = append(u.Hints, detailedMetricsHint(api, u.Stage))
		}
	}
	if u.Throttle.Stage == nil {
		u.Warnings = append(u.Warnings, fmt.Sprintf("no */* throttle set on stage %s: methods without their own throttle are limited only by the account-level limit (%s rps, burst %d, shared by every API in the region)", u.Stage, report.Num(u.AccountThrottle.Rate, 3), u.AccountThrottle.Burst))
	}
	// The whole API meets only the account's limit: stage throttles,
	// */* included, apply to each method separately. Rates are compared
	// with rates only: a burst is a bucket size (the old "estimated burst
	// exceeds the burst limit" compared requests per second with it).
	if t.Headroom != nil && *t.Headroom < HeadroomWarn {
		u.Warnings = append(u.Warnings, fmt.Sprintf("stage %s: the API's peak of %s rps leaves headroom %.2f (below %.1f) under the account-level limit of %s rps, shared by every API in the region", u.Stage, report.Num(t.PeakRPS, 3), *t.Headroom, HeadroomWarn, report.Num(u.AccountThrottle.Rate, 3)))
	}
	if n := len(u.MethodsWithoutData); n > 0 && t.Count > 0 && (u.DetailedMetrics || len(u.Methods) > 0) {
		u.Warnings = append(u.Warnings, fmt.Sprintf("no per-method data in the window for %d method(s) of stage %s: %s", n, u.Stage, strings.Join(u.MethodsWithoutData, ", ")))
	}
	if u.RouteMetricForm != "" && u.RouteMetricForm != RouteFormRoute {
		u.Warnings = append(u.Warnings, fmt.Sprintf("per-route metrics of stage %s matched dimensions %s, not the documented %s", u.Stage, u.RouteMetricForm, RouteFormRoute))
	}
	for _, m := range u.Methods {
		if m.Headroom != nil && *m.Headroom < HeadroomWarn {
			u.Warnings = append(u.Warnings, fmt.Sprintf("%s headroom %.2f is below %.1f: %s throttle %s rps against a peak of %s rps", m.Key(), *m.Headroom, HeadroomWarn, throttleSourceText(m.ThrottleSource), report.Num(m.Throttle.Rate, 3), report.Num(m.PeakRPS, 3)))
		}
	}
}

// throttleSourceText names where a method's throttle comes from.
func throttleSourceText(src string) string {
	switch src {
	case "stage":
		return "stage default (*/*)"
	case "account":
		return "account-level"
	}
	return src
}

func detailedMetricsHint(api apiRef, stage string) string {
	if api.Kind == APITypeHTTP {
		return fmt.Sprintf("enable them with `detailedMetrics: true` in a plan + `apictl apply-plan` (or `aws apigatewayv2 update-stage --api-id %s --stage-name %s --default-route-settings DetailedMetricsEnabled=true`)", api.ID, stage)
	}
	return fmt.Sprintf("enable them with `detailedMetrics: true` in a plan + `apictl apply-plan` (or `aws apigateway update-stage --rest-api-id %s --stage-name %s --patch-operations op=replace,path=/*/*/metrics/enabled,value=true`)", api.ID, stage)
}

// num formats a figure without trailing zeros.
