package measure

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// discoverMethods lists which methods have per-method metrics, per stage
// name: ListMetrics on AWS/ApiGateway Count filtered by the API (ApiName for
// REST, ApiId for HTTP), all pages, keeping metrics that carry Method and
// Resource (REST) or Route (HTTP) dimensions.
func discoverMethods(ctx context.Context, cw Metrics, api apiRef) (map[string][]Method, error) {
	filter := cwtypes.DimensionFilter{Name: aws.String("ApiName"), Value: aws.String(api.Name)}
	if api.Type == APITypeHTTP {
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
			if api.Type == APITypeHTTP {
				route, ok := d["Route"]
				if !ok || len(d) != 3 {
					continue
				}
				meth = routeMethod(route)
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
