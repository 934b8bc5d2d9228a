package plan

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
)

// HTTPAPI is the part of the API Gateway v2 client used for HTTP API plans;
// *apigatewayv2.Client implements it.
type HTTPAPI interface {
	GetApis(context.Context, *apigatewayv2.GetApisInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetApisOutput, error)
	GetRoutes(context.Context, *apigatewayv2.GetRoutesInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetRoutesOutput, error)
	GetStage(context.Context, *apigatewayv2.GetStageInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetStageOutput, error)
	GetStages(context.Context, *apigatewayv2.GetStagesInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetStagesOutput, error)
	UpdateStage(context.Context, *apigatewayv2.UpdateStageInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.UpdateStageOutput, error)
	DeleteRouteSettings(context.Context, *apigatewayv2.DeleteRouteSettingsInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.DeleteRouteSettingsOutput, error)
}

var _ HTTPAPI = (*apigatewayv2.Client)(nil)

// LiveHTTP is the live state of an HTTP API plan.
type LiveHTTP struct {
	APIID, APIName string
	Routes         map[string]bool
	Stages         map[string]*LiveHTTPStage
}

// LiveHTTPStage holds an HTTP API stage's route settings.
type LiveHTTPStage struct {
	Name    string
	Default v2types.RouteSettings
	Routes  map[string]v2types.RouteSettings
}

// ReadLiveHTTP reads every page of the HTTP API, its routes and the plan's stages.
func ReadLiveHTTP(ctx context.Context, api HTTPAPI, p *Plan) (*LiveHTTP, error) {
	live := &LiveHTTP{Routes: map[string]bool{}, Stages: map[string]*LiveHTTPStage{}}
	a, err := awsapi.ResolveHTTPAPI(ctx, api, p.API)
	if err != nil {
		return nil, apiLookupError(err, "HTTP APIs", "for a REST API set type: rest")
	}
	live.APIID, live.APIName = a.ID, a.Name
	err = awsapi.AllPages(ctx, func(ctx context.Context, next *string) (*string, error) {
		out, err := api.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: &live.APIID, NextToken: next, MaxResults: aws.String("500")})
		if err != nil {
			return nil, fmt.Errorf("read routes of HTTP API %s: %w", live.APIID, err)
		}
		for _, r := range out.Items {
			live.Routes[aws.ToString(r.RouteKey)] = true
		}
		return out.NextToken, nil
	})
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, name := range dedupe(p.Stages) {
		out, err := api.GetStage(ctx, &apigatewayv2.GetStageInput{ApiId: &live.APIID, StageName: aws.String(name)})
		if err != nil {
			if awsapi.IsNotFound(err) {
				missing = append(missing, name)
				continue
			}
			return nil, fmt.Errorf("read stage %s of HTTP API %s: %w", name, live.APIID, err)
		}
		st := &LiveHTTPStage{Name: name, Routes: out.RouteSettings}
		if out.DefaultRouteSettings != nil {
			st.Default = *out.DefaultRouteSettings
		}
		if st.Routes == nil {
			st.Routes = map[string]v2types.RouteSettings{}
		}
		live.Stages[name] = st
	}
	if len(missing) > 0 {
		var have []string
		if out, err := api.GetStages(ctx, &apigatewayv2.GetStagesInput{ApiId: &live.APIID}); err == nil {
			for _, s := range out.Items {
				have = append(have, aws.ToString(s.StageName))
			}
		}
		return nil, &LiveError{Msg: fmt.Sprintf("stage %s of HTTP API %s (%s) does not exist", strings.Join(quoteAll(missing), ", "), live.APIName, live.APIID),
			Fix: fmt.Sprintf("create the stage first, or fix stages: in the plan (existing stages: %s)", listOrNone(have))}
	}
	return live, nil
}

func routeThrottle(rs v2types.RouteSettings) *ThrottleValue {
	if rs.ThrottlingRateLimit == nil && rs.ThrottlingBurstLimit == nil {
		return nil
	}
	return normaliseThrottle(aws.ToFloat64(rs.ThrottlingRateLimit), aws.ToInt32(rs.ThrottlingBurstLimit))
}

// applyDesired overlays a desired throttle and metrics flag on live route
// settings and reports the changed fields.
func applyDesired(rs *v2types.RouteSettings, label string, t *ThrottleValue, metrics *bool, exists bool) []*Field {
	var fs []*Field
	if t != nil {
		old := routeThrottle(*rs)
		if !exists {
			old = nil
		}
		if old == nil || !sameRate(old.Rate, t.Rate) {
			fs = append(fs, &Field{Path: label + " throttle.rate", Old: ptrIf(old != nil, fmtFloat(rateOf(old))), New: sp(fmtFloat(t.Rate))})
		}
		if old == nil || old.Burst != t.Burst {
			fs = append(fs, &Field{Path: label + " throttle.burst", Old: ptrIf(old != nil, strconv.Itoa(burstOf(old))), New: sp(strconv.Itoa(t.Burst))})
		}
		rs.ThrottlingRateLimit = aws.Float64(t.Rate)
		rs.ThrottlingBurstLimit = aws.Int32(int32(t.Burst))
	}
	if metrics != nil {
		cur := aws.ToBool(rs.DetailedMetricsEnabled)
		if !exists || cur != *metrics {
			if exists || *metrics {
				fs = append(fs, &Field{Path: label + " detailedMetrics", Old: ptrIf(exists, strconv.FormatBool(cur)), New: sp(strconv.FormatBool(*metrics))})
			}
		}
		rs.DetailedMetricsEnabled = aws.Bool(*metrics)
	}
	return fs
}

// newRouteSetting completes the fields of an HTTP API route setting apictl
// is about to create from the stage's default route settings def (as
// planned).
func newRouteSetting(st *StageSettings, def v2types.RouteSettings, t *ThrottleValue, metrics *bool) (*ThrottleValue, *bool) {
	if t == nil {
		t = routeThrottle(def)
	}
	if metrics == nil {
		if metrics = st.DetailedMetrics; metrics == nil {
			metrics = aws.Bool(aws.ToBool(def.DetailedMetricsEnabled))
		}
	}
	return t, metrics
}

func rateOf(t *ThrottleValue) float64 {
	if t == nil {
		return 0
	}
	return t.Rate
}

func burstOf(t *ThrottleValue) int {
	if t == nil {
		return 0
	}
	return t.Burst
}

// ComputeHTTP diffs an HTTP API plan against live state: one UpdateStage
// per changed stage carrying the default and every route setting, and with
// Prune a DeleteRouteSettings per route setting the plan does not list.
func ComputeHTTP(p *Plan, live *LiveHTTP, opts DiffOptions) (*Changes, error) {
	ch := &Changes{APIID: live.APIID, APIName: live.APIName, APIType: TypeHTTP, File: p.File,
		Stages: []*Change{}, UsagePlans: []*Change{}, APIKeys: []*Change{}, PlanKeys: []*Change{}}
	if len(p.UsagePlans) > 0 || len(p.APIKeys) > 0 {
		return nil, &LiveError{Msg: "usage plans and API keys are not supported for HTTP APIs", Fix: "remove usagePlans and apiKeys from the plan, or target a REST API"}
	}
	var unknown []string
	if p.Stage != nil {
		for _, m := range p.Stage.Methods {
			if !live.Routes[m.Key] {
				unknown = append(unknown, m.Key)
			}
		}
	}
	if len(unknown) > 0 {
		var have []string
		for r := range live.Routes {
			have = append(have, r)
		}
		sort.Strings(have)
		return nil, &LiveError{Msg: fmt.Sprintf("%s: HTTP API %s (%s) has no route %s", p.File, live.APIName, live.APIID, strings.Join(quoteAll(unknown), ", ")),
			Fix: "fix the route keys in the plan; routes of the API: " + listOrNone(have)}
	}
	for _, name := range dedupe(p.Stages) {
		if c := httpStageChange(p.Stage, live.APIID, name, live.Stages[name], opts.Prune); c != nil {
			ch.Stages = append(ch.Stages, c)
		}
	}
	ch.count()
	return ch, nil
}

// RouteSettings are the settings of an HTTP API route (or a stage's
// default route), as plain data.
type RouteSettings struct {
	DataTraceEnabled       *bool    `json:"data_trace_enabled,omitempty"`
	DetailedMetricsEnabled *bool    `json:"detailed_metrics_enabled,omitempty"`
	LoggingLevel           string   `json:"logging_level,omitempty"`
	ThrottlingBurstLimit   *int32   `json:"throttling_burst_limit,omitempty"`
	ThrottlingRateLimit    *float64 `json:"throttling_rate_limit,omitempty"`
}

// HTTPStageUpdate is what the UpdateStage of an HTTP API stage is called
// with: the default route settings and every route setting, live ones
// included (the call replaces the map).
type HTTPStageUpdate struct {
	APIID                string                   `json:"api_id"`
	StageName            string                   `json:"stage_name"`
	DefaultRouteSettings *RouteSettings           `json:"default_route_settings,omitempty"`
	RouteSettings        map[string]RouteSettings `json:"route_settings,omitempty"`
}

func routeSettingsOf(rs v2types.RouteSettings) RouteSettings {
	return RouteSettings{DataTraceEnabled: rs.DataTraceEnabled, DetailedMetricsEnabled: rs.DetailedMetricsEnabled,
		LoggingLevel: string(rs.LoggingLevel), ThrottlingBurstLimit: rs.ThrottlingBurstLimit, ThrottlingRateLimit: rs.ThrottlingRateLimit}
}

func (r RouteSettings) sdk() v2types.RouteSettings {
	return v2types.RouteSettings{DataTraceEnabled: r.DataTraceEnabled, DetailedMetricsEnabled: r.DetailedMetricsEnabled,
		LoggingLevel: v2types.LoggingLevel(r.LoggingLevel), ThrottlingBurstLimit: r.ThrottlingBurstLimit, ThrottlingRateLimit: r.ThrottlingRateLimit}
}

// httpStageChange diffs the HTTP API stage name (live: ls) against the planned settings
// st (possibly nil): nil when nothing changes.
func httpStageChange(st *StageSettings, apiID, name string, ls *LiveHTTPStage, prune bool) *Change {
	c := &Change{Action: ActionUpdate, Kind: KindStage, Name: name}
	in := &HTTPStageUpdate{APIID: apiID, StageName: name}
	var fields []*Field
	inPlan := map[string]bool{}
	if st != nil {
		def := ls.Default
		fs := applyDesired(&def, "default route", desiredThrottle(st.Throttle), st.DetailedMetrics, true)
		if len(fs) > 0 {
			rs := routeSettingsOf(def)
			in.DefaultRouteSettings = &rs
			fields = append(fields, fs...)
		}
		routes := map[string]v2types.RouteSettings{}
		for k, v := range ls.Routes {
			routes[k] = v
		}
		changed := false
		for _, m := range st.Methods {
			inPlan[m.Key] = true
			rs, exists := routes[m.Key]
			want, metrics := desiredThrottle(m.Throttle), m.DetailedMetrics
			if !exists {
				// A new route setting gets every governed field, the
				// default route's where the plan sets none.
				want, metrics = newRouteSetting(st, def, want, metrics)
			}
			fs := applyDesired(&rs, m.Key, want, metrics, exists)
			routes[m.Key] = rs
			if len(fs) > 0 {
				changed = true
				fields = append(fields, fs...)
			}
		}
		if changed {
			in.RouteSettings = map[string]RouteSettings{}
			for k, v := range routes {
				in.RouteSettings[k] = routeSettingsOf(v)
			}
		}
	}
	c.Fields = fields
	if len(fields) > 0 {
		c.Apply.HTTPUpdate = in
	}
	if prune {
		var extra []string
		for k, rs := range ls.Routes {
			if !inPlan[k] && routeThrottle(rs) != nil {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		for _, k := range extra {
			c.Apply.HTTPDelete = append(c.Apply.HTTPDelete, k)
			c.Fields = append(c.Fields, &Field{Path: k, Old: sp(fmtThrottle(routeThrottle(ls.Routes[k])))})
			if c.Apply.HTTPUpdate != nil && c.Apply.HTTPUpdate.RouteSettings != nil {
				delete(c.Apply.HTTPUpdate.RouteSettings, k)
			}
		}
	}
	if c.Apply.HTTPUpdate == nil && len(c.Apply.HTTPDelete) == 0 {
		return nil
	}
	return c
}

// applyHTTPStage updates an HTTP API stage: one UpdateStage with its route
// settings, then one DeleteRouteSettings per pruned route setting.
func (e *executor) applyHTTPStage(ctx context.Context, ch *Changes, x *Change) error {
	if u := x.Apply.HTTPUpdate; u != nil {
		in := &apigatewayv2.UpdateStageInput{ApiId: aws.String(u.APIID), StageName: aws.String(u.StageName)}
		if u.DefaultRouteSettings != nil {
			rs := u.DefaultRouteSettings.sdk()
			in.DefaultRouteSettings = &rs
		}
		if u.RouteSettings != nil {
			in.RouteSettings = map[string]v2types.RouteSettings{}
			for k, v := range u.RouteSettings {
				in.RouteSettings[k] = v.sdk()
			}
		}
		err := e.call(ctx, "UpdateStage", "update stage "+x.Name, func(ctx context.Context) error {
			_, err := e.c.HTTP.UpdateStage(ctx, in)
			return err
		})
		if err != nil {
			return err
		}
	}
	for _, rk := range x.Apply.HTTPDelete {
		err := e.call(ctx, "DeleteRouteSettings", fmt.Sprintf("delete route settings %s of stage %s", rk, x.Name), func(ctx context.Context) error {
			_, err := e.c.HTTP.DeleteRouteSettings(ctx, &apigatewayv2.DeleteRouteSettingsInput{ApiId: aws.String(ch.APIID), StageName: aws.String(x.Name), RouteKey: aws.String(rk)})
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}
