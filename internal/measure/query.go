package measure

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apictl/apictl/internal/awsfacts"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// Namespace is the CloudWatch namespace of API Gateway metrics.
const Namespace = "AWS/ApiGateway"

// MaxQueriesPerCall is CloudWatch's limit of queries in one GetMetricData
// call.
const MaxQueriesPerCall = 500

// metricSpec is one figure queried for every scope.
type metricSpec struct {
	code     string // suffix of the query Id
	rest     string // metric name for REST APIs
	http     string // metric name for HTTP APIs
	stat     string
	perPoint bool // one value per period (else one value for the window)
}

// specs are the queries made for each scope. Only Count needs a value per
// period (peak, sparkline, daily totals); the others are asked for one
// datapoint covering the whole window, so percentiles are CloudWatch's own
// over the window rather than a blend of per-period percentiles.
var specs = []metricSpec{
	{code: "cnt", rest: "Count", http: "Count", stat: "Sum", perPoint: true},
	{code: "e4", rest: "4XXError", http: "4xx", stat: "Sum"},
	{code: "e5", rest: "5XXError", http: "5xx", stat: "Sum"},
	{code: "p50", rest: "Latency", http: "Latency", stat: "p50"},
	{code: "p99", rest: "Latency", http: "Latency", stat: "p99"},
	{code: "ip99", rest: "IntegrationLatency", http: "IntegrationLatency", stat: "p99"},
}

// QueriesPerScope is the number of GetMetricData queries made for the stage
// total and for each method.
var QueriesPerScope = len(specs)

// scope is what one group of queries measures: a stage (method empty) or one
// method of it.
type scope struct {
	stageIdx  int
	methodIdx int // -1 for the stage total
	dims      []cwtypes.Dimension
}

// queryID encodes where a result belongs: "s{stage}_t_{code}" for a stage
// total, "s{stage}_m{method}_{code}" for a method. CloudWatch Ids must match
// ^[a-z][a-zA-Z0-9_]*$.
func queryID(stageIdx, methodIdx int, code string) string {
	if methodIdx < 0 {
		return fmt.Sprintf("s%d_t_%s", stageIdx, code)
	}
	return fmt.Sprintf("s%d_m%d_%s", stageIdx, methodIdx, code)
}

// parseQueryID reverses queryID.
func parseQueryID(id string) (stageIdx, methodIdx int, code string, err error) {
	parts := strings.SplitN(id, "_", 3)
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "s") {
		return 0, 0, "", fmt.Errorf("unexpected query id %q", id)
	}
	stageIdx, err = strconv.Atoi(parts[0][1:])
	if err != nil {
		return 0, 0, "", fmt.Errorf("unexpected query id %q", id)
	}
	switch {
	case parts[1] == "t":
		methodIdx = -1
	case strings.HasPrefix(parts[1], "m"):
		methodIdx, err = strconv.Atoi(parts[1][1:])
		if err != nil {
			return 0, 0, "", fmt.Errorf("unexpected query id %q", id)
		}
	default:
		return 0, 0, "", fmt.Errorf("unexpected query id %q", id)
	}
	return stageIdx, methodIdx, parts[2], nil
}

// stageDims are the dimensions of a stage total. REST API metrics carry
// the name as API Gateway writes it: without non-ASCII characters, the id
// when nothing is left.
func stageDims(apiType, apiName, apiID, stage string) []cwtypes.Dimension {
	if apiType == APITypeHTTP {
		return []cwtypes.Dimension{dim("ApiId", apiID), dim("Stage", stage)}
	}
	return []cwtypes.Dimension{dim("ApiName", awsfacts.MetricAPIName(apiName, apiID)), dim("Stage", stage)}
}

// HTTP API per-route metric forms: the documented dimensions and the form
// seen in the field.
const (
	RouteFormRoute          = "ApiId,Stage,Route"
	RouteFormMethodResource = "ApiId,Method,Resource,Stage"
)

// routeMethodResourceDims are the field-observed per-route dimensions of an
// HTTP API (Method and Resource instead of Route); nil for a route key
// without a method ("$default").
func routeMethodResourceDims(apiID, stage string, m Method) []cwtypes.Dimension {
	verb, path, ok := strings.Cut(m.Route, " ")
	if !ok {
		return nil
	}
	return []cwtypes.Dimension{dim("ApiId", apiID), dim("Stage", stage), dim("Method", verb), dim("Resource", path)}
}

// methodDims are the dimensions of one method: REST adds Method and
// Resource, HTTP adds Route.
func methodDims(apiType, apiName, apiID, stage string, m Method) []cwtypes.Dimension {
	d := stageDims(apiType, apiName, apiID, stage)
	if apiType == APITypeHTTP {
		return append(d, dim("Route", m.Route))
	}
	return append(d, dim("Method", m.Method), dim("Resource", m.Resource))
}

func dim(name, value string) cwtypes.Dimension {
	return cwtypes.Dimension{Name: aws.String(name), Value: aws.String(value)}
}

// buildQueries returns the queries of every scope, windowSeconds being the
// period of the one-value-per-window queries.
func buildQueries(apiType string, scopes []scope, period, windowSeconds int) []cwtypes.MetricDataQuery {
	qs := make([]cwtypes.MetricDataQuery, 0, len(scopes)*len(specs))
	for _, sc := range scopes {
		for _, sp := range specs {
			name := sp.rest
			if apiType == APITypeHTTP {
				name = sp.http
			}
			p := windowSeconds
			if sp.perPoint {
				p = period
			}
			qs = append(qs, cwtypes.MetricDataQuery{
				Id:    aws.String(queryID(sc.stageIdx, sc.methodIdx, sp.code)),
				Label: aws.String(label(sc.dims, name, sp.stat)),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{
						Namespace:  aws.String(Namespace),
						MetricName: aws.String(name),
						Dimensions: sc.dims,
					},
					Period: aws.Int32(int32(p)),
					Stat:   aws.String(sp.stat),
				},
				ReturnData: aws.Bool(true),
			})
		}
	}
	return qs
}

func label(dims []cwtypes.Dimension, metric, stat string) string {
	var b strings.Builder
	for i, d := range dims {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(aws.ToString(d.Value))
	}
	return fmt.Sprintf("%s %s %s", b.String(), metric, stat)
}

// batches splits queries into groups of at most size.
func batches(qs []cwtypes.MetricDataQuery, size int) [][]cwtypes.MetricDataQuery {
	if size <= 0 {
		size = MaxQueriesPerCall
	}
	var out [][]cwtypes.MetricDataQuery
	for len(qs) > 0 {
		n := min(size, len(qs))
		out = append(out, qs[:n:n])
		qs = qs[n:]
	}
	return out
}
