package measure

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/apictl/apictl/internal/awsfacts"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// discoverMethods lists which methods have per-method metrics, per stage
// name: ListMetrics on AWS/ApiGateway Count filtered by the API (ApiName for
// REST, ApiId for HTTP), all pages, keeping metrics that carry Method and
// Resource (REST) or Route (HTTP) dimensions.
func discoverMethods(ctx context.Context, cw Metrics, api apiRef) (map[string][]Method, error) {
	filter := cwtypes.DimensionFilter{Name: aws.String("ApiName"), Value: aws.String(awsfacts.MetricAPIName(api.Name, api.ID))}
	if api.Kind == APITypeHTTP {
		filter = cwtypes.DimensionFilter{Name: aws.String("ApiId"), Value: aws.String(api.ID)}
	}
	seen := map[string]map[string]Method{}
	var token *string
	for page := 0; ; page++ {
		if page >= maxPages {
			return nil, fmt.Errorf("list metrics of %s: still paging after %d pages", api, maxPages)
		}
		res, err := cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{
			Namespace:  aws.String(Namespace),
			MetricName: aws.String("Count"),
			Dimensions: []cwtypes.DimensionFilter{filter},
			NextToken:  token,
		})
		if err != nil {
			return nil, fmt.Errorf("list metrics of %s: %w", api, err)
		}
		for _, m := range res.Metrics {
			d := map[string]string{}
			for _, x := range m.Dimensions {
				d[aws.ToString(x.Name)] = aws.ToString(x.Value)
			}
			stage, ok := d["Stage"]
			if !ok {
				continue
			}
			var meth Method
			if api.Kind == APITypeHTTP {
				route, ok := d["Route"]
				mm, okm := d["Method"]
				res, okr := d["Resource"]
				switch {
				case ok && len(d) == 3:
					meth = routeMethod(route)
				case okm && okr && len(d) == 4: // the form seen in the field
					meth = routeMethod(mm + " " + res)
				default:
					continue
				}
			} else {
				mm, ok1 := d["Method"]
				res, ok2 := d["Resource"]
				if !ok1 || !ok2 || len(d) != 4 {
					continue
				}
				meth = Method{Method: mm, Resource: res}
			}
			if seen[stage] == nil {
				seen[stage] = map[string]Method{}
			}
			seen[stage][meth.Key()] = meth
		}
		token = res.NextToken
		if aws.ToString(token) == "" {
			break
		}
	}
	out := make(map[string][]Method, len(seen))
	for stage, ms := range seen {
		list := make([]Method, 0, len(ms))
		for _, m := range ms {
			list = append(list, m)
		}
		sort.Slice(list, func(i, j int) bool {
			if list[i].Resource != list[j].Resource {
				return list[i].Resource < list[j].Resource
			}
			return list[i].Method < list[j].Method
		})
		out[stage] = list
	}
	return out, nil
}

// routeMethod splits an HTTP API route key: "GET /items" → GET, /items;
// "$default" → ANY, $default.
func routeMethod(route string) Method {
	if m, res, ok := strings.Cut(route, " "); ok {
		return Method{Route: route, Method: m, Resource: res}
	}
	return Method{Route: route, Method: "ANY", Resource: route}
}

// methodThrottle returns the throttle in force for m and where it comes
// from: its own setting ("GET /pets", or "* /pets" for all methods of the
// resource), else the stage default.
func methodThrottle(t Throttle, m Method) (*Limit, string) {
	for _, k := range []string{m.Key(), "* " + m.Resource, "ANY " + m.Resource} {
		if l, ok := t.Methods[k]; ok {
			return &l, "method"
		}
	}
	if t.Stage != nil {
		l := *t.Stage
		return &l, "stage"
	}
	return nil, ""
}

// Optional client parts: the real clients have them, narrow test fakes may
// not (then only ListMetrics tells the methods).
type resourceLister interface {
	GetResources(ctx context.Context, in *apigateway.GetResourcesInput, optFns ...func(*apigateway.Options)) (*apigateway.GetResourcesOutput, error)
}

type routeLister interface {
	GetRoutes(ctx context.Context, in *apigatewayv2.GetRoutesInput, optFns ...func(*apigatewayv2.Options)) (*apigatewayv2.GetRoutesOutput, error)
}

// definedMethods lists the methods the API defines (REST: GetResources,
// OPTIONS left out; HTTP: GetRoutes), so that --by method queries them even
// when ListMetrics does not list them (it leaves out metrics without data
// in the past two weeks). ok is false when the client cannot list them.
func definedMethods(ctx context.Context, c Clients, api apiRef) (out []Method, ok bool, err error) {
	if api.Kind == APITypeHTTP {
		rl, isRL := c.HTTP.(routeLister)
		if !isRL {
			return nil, false, nil
		}
		var token *string
		for page := 0; page < maxPages; page++ {
			res, err := rl.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: aws.String(api.ID), NextToken: token})
			if err != nil {
				return nil, false, fmt.Errorf("list routes of %s: %w", api, err)
			}
			for _, r := range res.Items {
				out = append(out, routeMethod(aws.ToString(r.RouteKey)))
			}
			token = res.NextToken
			if aws.ToString(token) == "" {
				break
			}
		}
		return out, true, nil
	}
	rl, isRL := c.REST.(resourceLister)
	if !isRL {
		return nil, false, nil
	}
	var pos *string
	for page := 0; page < maxPages; page++ {
		res, err := rl.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: aws.String(api.ID), Embed: []string{"methods"}, Limit: aws.Int32(500), Position: pos})
		if err != nil {
			return nil, false, fmt.Errorf("list resources of %s: %w", api, err)
		}
		for _, r := range res.Items {
			for verb := range r.ResourceMethods {
				if verb != "OPTIONS" {
					out = append(out, Method{Method: verb, Resource: aws.ToString(r.Path)})
				}
			}
		}
		pos = res.Position
		if aws.ToString(pos) == "" {
			break
		}
	}
	return out, true, nil
}

// mergeMethods adds to listed (the methods ListMetrics found on a stage)
// the defined ones it lacks. A defined ANY method is left out when traffic
// of its resource is listed under the request's own methods.
func mergeMethods(listed, defined []Method) []Method {
	out := append([]Method(nil), listed...)
	have := map[string]bool{}
	haveRes := map[string]bool{}
	for _, m := range listed {
		have[m.Key()] = true
		haveRes[m.Resource] = true
	}
	for _, m := range defined {
		if have[m.Key()] || m.Method == "ANY" && m.Route == "" && haveRes[m.Resource] {
			continue
		}
		have[m.Key()] = true
		out = append(out, m)
	}
	return out
}

// routeFallback re-queries, with the Method/Resource dimensions seen in the
// field, the HTTP API routes whose documented Route-form queries returned
// no data, and merges what it finds into data. It returns the form each
// route with data matched, keyed by (stage index, method index).
func routeFallback(ctx context.Context, cw Metrics, api apiRef, stages []stageInfo, methods map[string][]Method, data map[string]*series, period, windowSeconds int, start, end time.Time) (map[[2]int]string, error) {
	forms := map[[2]int]string{}
	var alt []scope
	for si, st := range stages {
		for mi, m := range methods[st.Name] {
			if s := data[queryID(si, mi, "cnt")]; s != nil && len(s.times) > 0 {
				forms[[2]int{si, mi}] = RouteFormRoute
				continue
			}
			if d := routeMethodResourceDims(api.ID, st.Name, m); d != nil {
				alt = append(alt, scope{stageIdx: si, methodIdx: mi, dims: d})
			}
		}
	}
	if len(alt) == 0 {
		return forms, nil
	}
	more, err := fetchMetricData(ctx, cw, buildQueries(api.Kind, alt, period, windowSeconds), start, end)
	if err != nil {
		return nil, fmt.Errorf("measure %s (method/resource route metrics): %w", api, err)
	}
	for _, sc := range alt {
		if s := more[queryID(sc.stageIdx, sc.methodIdx, "cnt")]; s == nil || len(s.times) == 0 {
			continue
		}
		forms[[2]int{sc.stageIdx, sc.methodIdx}] = RouteFormMethodResource
		for _, sp := range specs {
			id := queryID(sc.stageIdx, sc.methodIdx, sp.code)
			data[id] = more[id]
		}
	}
	return forms, nil
}

// routeForm sums up the forms matched by the n routes of stage si.
func routeForm(forms map[[2]int]string, si, n int) string {
	seen := map[string]bool{}
	for mi := 0; mi < n; mi++ {
		if f, ok := forms[[2]int{si, mi}]; ok {
			seen[f] = true
		}
	}
	switch {
	case len(seen) > 1:
		return "mixed"
	case seen[RouteFormRoute]:
		return RouteFormRoute
	case seen[RouteFormMethodResource]:
		return RouteFormMethodResource
	}
	return ""
}
