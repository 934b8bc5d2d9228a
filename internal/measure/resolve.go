package measure

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/apictl/apictl/internal/awsfacts"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"

	"github.com/apictl/apictl/internal/awsapi"
)

// ErrNoAPI is returned when no API is given to measure.
var ErrNoAPI = errors.New("no api given")

// DurationError is a window length that does not parse or is not positive.
type DurationError struct {
	Value string
	Why   string
}

func (e *DurationError) Error() string { return fmt.Sprintf("invalid duration %q: %s", e.Value, e.Why) }

// PeriodSetRule is the period rule (Usage.PeriodRule, after "300s: ") of a
// period the caller set.
const PeriodSetRule = "set by the caller"

// HintError is an error with a hint for the user (the CLI prints it on a
// "hint:" line).
type HintError struct {
	Err  error
	hint string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

// Hint returns the advice for the user.
func (e *HintError) Hint() string { return e.hint }

// apiRef identifies the measured API (Kind is APITypeREST or APITypeHTTP).
type apiRef = awsapi.APIRef

// listAPIs returns every REST API and HTTP API (WebSocket APIs left out).
func listAPIs(ctx context.Context, c Clients) ([]apiRef, error) {
	var out []apiRef
	if c.REST != nil {
		apis, err := awsapi.ListRestAPIs(ctx, c.REST)
		if err != nil {
			return nil, err
		}
		out = append(out, apis...)
	}
	if c.HTTP != nil {
		apis, err := awsapi.ListHTTPAPIs(ctx, c.HTTP)
		if err != nil {
			return nil, err
		}
		out = append(out, apis...)
	}
	return out, nil
}

// resolveAPI finds the API whose id, else whose name, is nameOrID. It
// also returns the ids of other REST APIs with the same name: CloudWatch
// keys REST API metrics by ApiName, so their traffic is mixed in.
func resolveAPI(ctx context.Context, c Clients, nameOrID string) (apiRef, []string, error) {
	apis, err := listAPIs(ctx, c)
	if err != nil {
		return apiRef{}, nil, err
	}
	a, err := awsapi.FindAPI(apis, nameOrID, "REST or HTTP")
	var nf *awsapi.APINotFoundError
	var amb *awsapi.AmbiguousAPIError
	switch {
	case errors.As(err, &nf):
		return apiRef{}, nil, &HintError{Err: err, hint: "APIs in this region: " + describeAPIs(apis)}
	case errors.As(err, &amb):
		ids := make([]string, len(amb.Matches))
		for i, a := range amb.Matches {
			ids[i] = fmt.Sprintf("%s (%s)", a.ID, strings.ToUpper(a.Kind))
		}
		return apiRef{}, nil, &HintError{
			Err:  fmt.Errorf("api name %q is ambiguous: %d APIs carry it: %s", nameOrID, len(amb.Matches), strings.Join(ids, ", ")),
			hint: "name the API by one of these ids",
		}
	case err != nil:
		return apiRef{}, nil, err
	}
	var namesakes []string
	for _, b := range apis {
		// CloudWatch keys REST API metrics by the ASCII part of the name.
		if a.Kind == APITypeREST && b.Kind == APITypeREST && b.ID != a.ID &&
			awsfacts.MetricAPIName(b.Name, b.ID) == awsfacts.MetricAPIName(a.Name, a.ID) {
			namesakes = append(namesakes, b.ID)
		}
	}
	return a, namesakes, nil
}

func describeAPIs(apis []apiRef) string {
	if len(apis) == 0 {
		return "none (check the region and the endpoint)"
	}
	return awsapi.DescribeAPIs(apis, 20)
}

// stageInfo is what measure needs of a stage.
type stageInfo struct {
	Name            string
	Throttle        Throttle
	DetailedMetrics bool
}

// listStages returns the stages of the API with their throttles, sorted by
// name.
func listStages(ctx context.Context, c Clients, api apiRef) ([]stageInfo, error) {
	var out []stageInfo
	if api.Kind == APITypeREST {
		res, err := c.REST.GetStages(ctx, &apigateway.GetStagesInput{RestApiId: aws.String(api.ID)})
		if err != nil {
			return nil, fmt.Errorf("list stages of %s: %w", api, err)
		}
		for _, s := range res.Item {
			st := stageInfo{Name: aws.ToString(s.StageName), Throttle: Throttle{Methods: map[string]Limit{}}}
			for key, ms := range s.MethodSettings {
				if key == "*/*" {
					st.DetailedMetrics = ms.MetricsEnabled
					st.Throttle.Stage = limitOf(ms.ThrottlingRateLimit, ms.ThrottlingBurstLimit)
					continue
				}
				if l := limitOf(ms.ThrottlingRateLimit, ms.ThrottlingBurstLimit); l != nil {
					st.Throttle.Methods[methodSettingKey(key)] = *l
				}
			}
			out = append(out, st)
		}
	} else {
		err := awsapi.AllPages(ctx, func(ctx context.Context, token *string) (*string, error) {
			res, err := c.HTTP.GetStages(ctx, &apigatewayv2.GetStagesInput{ApiId: aws.String(api.ID), NextToken: token})
			if err != nil {
				return nil, fmt.Errorf("list stages of %s: %w", api, err)
			}
			for _, s := range res.Items {
				st := stageInfo{Name: aws.ToString(s.StageName), Throttle: Throttle{Methods: map[string]Limit{}}}
				if d := s.DefaultRouteSettings; d != nil {
					st.DetailedMetrics = aws.ToBool(d.DetailedMetricsEnabled)
					st.Throttle.Stage = routeLimit(d.ThrottlingRateLimit, d.ThrottlingBurstLimit)
				}
				for route, rs := range s.RouteSettings {
					if l := routeLimit(rs.ThrottlingRateLimit, rs.ThrottlingBurstLimit); l != nil {
						st.Throttle.Methods[route] = *l
					}
				}
				out = append(out, st)
			}
			return res.NextToken, nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// limitOf returns the throttle, nil when it is unset (-1, which API
// Gateway uses for "throttling disabled"). A 0/0 throttle is returned: it
// blocks every request (see Limit.Blocks).
func limitOf(rate float64, burst int32) *Limit {
	if rate < 0 || burst < 0 {
		return nil
	}
	return &Limit{Rate: rate, Burst: burst}
}

// routeLimit is limitOf for HTTP API route settings, whose unset figures
// are absent.
func routeLimit(rate *float64, burst *int32) *Limit {
	if rate == nil && burst == nil {
		return nil
	}
	return limitOf(aws.ToFloat64(rate), aws.ToInt32(burst))
}

// methodSettingKey turns a stage methodSettings key ("~1pets~1{id}/GET",
// root "~1/GET") into "GET /pets/{id}".
func methodSettingKey(key string) string {
	i := strings.LastIndex(key, "/")
	if i < 0 {
		return key
	}
	res := strings.ReplaceAll(strings.ReplaceAll(key[:i], "~1", "/"), "~0", "~")
	if !strings.HasPrefix(res, "/") {
		res = "/" + res
	}
	return key[i+1:] + " " + res
}

// usagePlanKey turns a usage plan method throttle key ("/pets/GET", root
// "//GET") into "GET /pets".
func usagePlanKey(key string) string {
	i := strings.LastIndex(key, "/")
	if i <= 0 {
		return key
	}
	return key[i+1:] + " " + key[:i]
}

// selectStages keeps the stage named stage (all when empty).
func selectStages(all []stageInfo, stage string, api apiRef) ([]stageInfo, error) {
	if len(all) == 0 {
		return nil, &HintError{
			Err:  fmt.Errorf("%s has no stages", api),
			hint: "deploy the API to a stage first",
		}
	}
	if stage == "" {
		return all, nil
	}
	names := make([]string, len(all))
	for i, s := range all {
		if s.Name == stage {
			return []stageInfo{s}, nil
		}
		names[i] = s.Name
	}
	return nil, &HintError{
		Err:  fmt.Errorf("%s has no stage %q", api, stage),
		hint: "its stages: " + strings.Join(names, ", "),
	}
}

// usagePlans returns, per stage name, the usage plans attached to that
// stage of the API (GetUsagePlans, all pages, filtered on apiStages).
func usagePlans(ctx context.Context, c RESTAPI, apiID string) (map[string][]UsagePlan, error) {
	out := map[string][]UsagePlan{}
	plans, err := awsapi.ListUsagePlans(ctx, c)
	if err != nil {
		return nil, err
	}
	for _, p := range plans {
		for _, as := range p.ApiStages {
			if aws.ToString(as.ApiId) != apiID {
				continue
			}
			up := UsagePlan{ID: aws.ToString(p.Id), Name: aws.ToString(p.Name), Methods: map[string]Limit{}}
			if p.Throttle != nil {
				up.Throttle = limitOf(p.Throttle.RateLimit, p.Throttle.BurstLimit)
			}
			if q := p.Quota; q != nil && q.Limit > 0 {
				up.Quota = &Quota{Limit: q.Limit, Offset: q.Offset, Period: string(q.Period)}
			}
			for k, t := range as.Throttle {
				if l := limitOf(t.RateLimit, t.BurstLimit); l != nil {
					up.Methods[usagePlanKey(k)] = *l
				}
			}
			stage := aws.ToString(as.Stage)
			out[stage] = append(out[stage], up)
		}
	}
	for _, ps := range out {
		sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name || ps[i].Name == ps[j].Name && ps[i].ID < ps[j].ID })
	}
	return out, nil
}
