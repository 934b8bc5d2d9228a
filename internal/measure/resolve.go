package measure

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/apictl/apictl/internal/awsfacts"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
)

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

// apiRef identifies the measured API.
type apiRef struct {
	Type string // APITypeREST or APITypeHTTP
	ID   string
	Name string
}

func (a apiRef) String() string {
	return fmt.Sprintf("%s (%s, %s API)", a.Name, a.ID, strings.ToUpper(a.Type))
}

// listAPIs returns every REST API (GetRestApis, all pages) and HTTP API
// (apigatewayv2 GetApis, all pages; WebSocket APIs left out).
func listAPIs(ctx context.Context, c Clients) ([]apiRef, error) {
	var out []apiRef
	if c.REST != nil {
		var pos *string
		for page := 0; page < maxPages; page++ {
			res, err := c.REST.GetRestApis(ctx, &apigateway.GetRestApisInput{Limit: aws.Int32(500), Position: pos})
			if err != nil {
				return nil, fmt.Errorf("list rest apis: %w", err)
			}
			for _, a := range res.Items {
				out = append(out, apiRef{Type: APITypeREST, ID: aws.ToString(a.Id), Name: aws.ToString(a.Name)})
			}
			pos = res.Position
			if aws.ToString(pos) == "" {
				break
			}
		}
	}
	if c.HTTP != nil {
		var token *string
		for page := 0; page < maxPages; page++ {
			res, err := c.HTTP.GetApis(ctx, &apigatewayv2.GetApisInput{MaxResults: aws.String("500"), NextToken: token})
			if err != nil {
				return nil, fmt.Errorf("list http apis: %w", err)
			}
			for _, a := range res.Items {
				if a.ProtocolType != "" && a.ProtocolType != v2types.ProtocolTypeHttp {
					continue
				}
				out = append(out, apiRef{Type: APITypeHTTP, ID: aws.ToString(a.ApiId), Name: aws.ToString(a.Name)})
			}
			token = res.NextToken
			if aws.ToString(token) == "" {
				break
			}
		}
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
	namesakes := func(a apiRef) []string {
		var ids []string
		for _, b := range apis {
			// CloudWatch keys REST API metrics by the ASCII part of the name.
			if a.Type == APITypeREST && b.Type == APITypeREST && b.ID != a.ID &&
				awsfacts.MetricAPIName(b.Name, b.ID) == awsfacts.MetricAPIName(a.Name, a.ID) {
				ids = append(ids, b.ID)
			}
		}
		return ids
	}
	for _, a := range apis {
		if a.ID == nameOrID {
			return a, namesakes(a), nil
		}
	}
	var named []apiRef
	for _, a := range apis {
		if a.Name == nameOrID {
			named = append(named, a)
		}
	}
	switch len(named) {
	case 1:
		return named[0], namesakes(named[0]), nil
	case 0:
		return apiRef{}, nil, &HintError{
			Err:  fmt.Errorf("no REST or HTTP API named or with id %q", nameOrID),
			hint: "APIs in this region: " + describeAPIs(apis),
		}
	}
	ids := make([]string, len(named))
	for i, a := range named {
		ids[i] = fmt.Sprintf("%s (%s)", a.ID, strings.ToUpper(a.Type))
	}
	return apiRef{}, nil, &HintError{
		Err:  fmt.Errorf("api name %q is ambiguous: %d APIs carry it: %s", nameOrID, len(named), strings.Join(ids, ", ")),
		hint: "pass --api with one of these ids",
	}
}

func describeAPIs(apis []apiRef) string {
	if len(apis) == 0 {
		return "none (check --region and --endpoint-url)"
	}
	sorted := append([]apiRef(nil), apis...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	const max = 20
	parts := make([]string, 0, max+1)
	for i, a := range sorted {
		if i == max {
			parts = append(parts, fmt.Sprintf("… and %d more", len(sorted)-max))
			break
		}
		parts = append(parts, a.String())
	}
	return strings.Join(parts, ", ")
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
	if api.Type == APITypeREST {
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
		var token *string
		for page := 0; page < maxPages; page++ {
			res, err := c.HTTP.GetStages(ctx, &apigatewayv2.GetStagesInput{ApiId: aws.String(api.ID), NextToken: token})
			if err != nil {
				return nil, fmt.Errorf("list stages of %s: %w", api, err)
			}
			for _, s := range res.Items {
				st := stageInfo{Name: aws.ToString(s.StageName), Throttle: Throttle{Methods: map[string]Limit{}}}
				if d := s.DefaultRouteSettings; d != nil {
					st.DetailedMetrics = aws.ToBool(d.DetailedMetricsEnabled)
					st.Throttle.Stage = limitOf(aws.ToFloat64(d.ThrottlingRateLimit), aws.ToInt32(d.ThrottlingBurstLimit))
				}
				for route, rs := range s.RouteSettings {
					if l := limitOf(aws.ToFloat64(rs.ThrottlingRateLimit), aws.ToInt32(rs.ThrottlingBurstLimit)); l != nil {
						st.Throttle.Methods[route] = *l
					}
				}
				out = append(out, st)
			}
			token = res.NextToken
			if aws.ToString(token) == "" {
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// limitOf returns the throttle, nil when neither figure is set (zero, or
// -1 which API Gateway uses for "no limit").
func limitOf(rate float64, burst int32) *Limit {
	if rate <= 0 && burst <= 0 {
		return nil
	}
	return &Limit{Rate: rate, Burst: burst}
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
	var pos *string
	for page := 0; page < maxPages; page++ {
		res, err := c.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{Limit: aws.Int32(500), Position: pos})
		if err != nil {
			return nil, fmt.Errorf("list usage plans: %w", err)
		}
		for _, p := range res.Items {
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
		pos = res.Position
		if aws.ToString(pos) == "" {
			break
		}
	}
	for _, ps := range out {
		sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name || ps[i].Name == ps[j].Name && ps[i].ID < ps[j].ID })
	}
	return out, nil
}
