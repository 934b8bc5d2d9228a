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
		ls := live.Stages[name]
		c := &Change{Action: ActionUpdate, Kind: "stage", Name: name}
		in := &apigatewayv2.UpdateStageInput{ApiId: aws.String(live.APIID), StageName: aws.String(name)}
		var fields []*Field
		inPlan := map[string]bool{}
		if p.Stage != nil {
			def := ls.Default
			fs := applyDesired(&def, "default route", desiredThrottle(p.Stage.Throttle), p.Stage.DetailedMetrics, true)
			if len(fs) > 0 {
				in.DefaultRouteSettings = &def
				fields = append(fields, fs...)
			}
			routes := map[string]v2types.RouteSettings{}
			for k, v := range ls.Routes {
				routes[k] = v
			}
			changed := false
			for _, m := range p.Stage.Methods {
				inPlan[m.Key] = true
				rs, exists := routes[m.Key]
				want, metrics := desiredThrottle(m.Throttle), m.DetailedMetrics
				if !exists {
					// A new route setting gets every governed field,
					// the default route's where the plan sets none.
					want, metrics = newRouteSetting(p.Stage, def, want, metrics)
				}
				fs := applyDesired(&rs, m.Key, want, metrics, exists)
				routes[m.Key] = rs
				if len(fs) > 0 {
					changed = true
					fields = append(fields, fs...)
				}
			}
			if changed {
				in.RouteSettings = routes
			}
		}
		c.Fields = fields
		if len(fields) > 0 {
			c.httpUpdate = in
		}
		if opts.Prune {
			var extra []string
			for k, rs := range ls.Routes {
				if !inPlan[k] && routeThrottle(rs) != nil {
					extra = append(extra, k)
				}
			}
			sort.Strings(extra)
			for _, k := range extra {
				c.httpDelete = append(c.httpDelete, k)
				c.Fields = append(c.Fields, &Field{Path: k, Old: sp(fmtThrottle(routeThrottle(ls.Routes[k])))})
				if c.httpUpdate != nil && c.httpUpdate.RouteSettings != nil {
					delete(c.httpUpdate.RouteSettings, k)
				}
			}
		}
		if c.httpUpdate != nil || len(c.httpDelete) > 0 {
			ch.Stages = append(ch.Stages, c)
		}
	}
	ch.count()
	return ch, nil
}
