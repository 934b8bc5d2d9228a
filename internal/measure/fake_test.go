package measure

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// fakeCW is a small in-memory CloudWatch for unit tests: Sum and nearest
// rank percentiles over raw datapoints, periods laid from StartTime,
// exact dimension-set matching. With split set, every GetMetricData answer
// comes in two pages (the second half of each result's datapoints behind a
// NextToken), so merging by Id is exercised.
type fakeCW struct {
	points    []fakePoint
	split     bool
	dataCalls int
	dataPages int
	listCalls int
	queries   int
}

type fakePoint struct {
	metric string
	dims   map[string]string
	t      time.Time
	v      float64
}

// request records one request the way API Gateway publishes it: on the
// stage dims, and on the method dims too when method is set.
func (f *fakeCW) request(stageDims map[string]string, methodDims map[string]string, t time.Time, status int, latencyMs float64, errNames [2]string) {
	for _, d := range []map[string]string{stageDims, methodDims} {
		if d == nil {
			continue
		}
		e4, e5 := 0.0, 0.0
		if status >= 400 && status < 500 {
			e4 = 1
		}
		if status >= 500 {
			e5 = 1
		}
		f.points = append(f.points,
			fakePoint{"Count", d, t, 1},
			fakePoint{errNames[0], d, t, e4},
			fakePoint{errNames[1], d, t, e5},
			fakePoint{"Latency", d, t, latencyMs},
			fakePoint{"IntegrationLatency", d, t, latencyMs - 2},
		)
	}
}

func sameDims(a map[string]string, b []cwtypes.Dimension) bool {
	if len(a) != len(b) {
		return false
	}
	for _, d := range b {
		if v, ok := a[aws.ToString(d.Name)]; !ok || v != aws.ToString(d.Value) {
			return false
		}
	}
	return true
}

func (f *fakeCW) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	if len(in.MetricDataQueries) > MaxQueriesPerCall {
		return nil, fmt.Errorf("ValidationError: %d queries > 500", len(in.MetricDataQueries))
	}
	f.dataPages++
	second := aws.ToString(in.NextToken) == "page2"
	if !second {
		f.dataCalls++
		f.queries += len(in.MetricDataQueries)
	}
	start, end := aws.ToTime(in.StartTime), aws.ToTime(in.EndTime)
	out := &cloudwatch.GetMetricDataOutput{}
	for _, q := range in.MetricDataQueries {
		ms := q.MetricStat
		p := time.Duration(aws.ToInt32(ms.Period)) * time.Second
		buckets := map[int][]float64{}
		for _, pt := range f.points {
			if pt.metric != aws.ToString(ms.Metric.MetricName) || !sameDims(pt.dims, ms.Metric.Dimensions) || pt.t.Before(start) || !pt.t.Before(end) {
				continue
			}
			i := int(pt.t.Sub(start) / p)
			buckets[i] = append(buckets[i], pt.v)
		}
		var idx []int
		for i := range buckets {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		r := cwtypes.MetricDataResult{Id: q.Id, StatusCode: cwtypes.StatusCodeComplete}
		for _, i := range idx {
			r.Timestamps = append(r.Timestamps, start.Add(time.Duration(i)*p))
			r.Values = append(r.Values, stat(aws.ToString(ms.Stat), buckets[i]))
		}
		if f.split {
			h := len(r.Timestamps) / 2
			if second {
				r.Timestamps, r.Values = r.Timestamps[h:], r.Values[h:]
			} else {
				r.Timestamps, r.Values = r.Timestamps[:h], r.Values[:h]
			}
		}
		out.MetricDataResults = append(out.MetricDataResults, r)
	}
	if f.split && !second {
		out.NextToken = aws.String("page2")
	}
	return out, nil
}

func stat(name string, vs []float64) float64 {
	if name == "Sum" {
		s := 0.0
		for _, v := range vs {
			s += v
		}
		return s
	}
	pct, err := strconv.ParseFloat(strings.TrimPrefix(name, "p"), 64)
	if err != nil {
		panic("fake cloudwatch: unsupported stat " + name)
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	rank := int(math.Ceil(pct / 100 * float64(len(s))))
	return s[max(rank-1, 0)]
}

// ListMetrics pages one metric at a time.
func (f *fakeCW) ListMetrics(_ context.Context, in *cloudwatch.ListMetricsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.ListMetricsOutput, error) {
	f.listCalls++
	seen := map[string]bool{}
	var all []cwtypes.Metric
	for _, pt := range f.points {
		if in.MetricName != nil && pt.metric != *in.MetricName {
			continue
		}
		ok := true
		for _, fl := range in.Dimensions {
			if pt.dims[aws.ToString(fl.Name)] != aws.ToString(fl.Value) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		var keys []string
		for k := range pt.dims {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var dims []cwtypes.Dimension
		id := pt.metric
		for _, k := range keys {
			dims = append(dims, dim(k, pt.dims[k]))
			id += "|" + k + "=" + pt.dims[k]
		}
		if !seen[id] {
			seen[id] = true
			all = append(all, cwtypes.Metric{Namespace: aws.String(Namespace), MetricName: aws.String(pt.metric), Dimensions: dims})
		}
	}
	i := 0
	if in.NextToken != nil {
		i, _ = strconv.Atoi(*in.NextToken)
	}
	out := &cloudwatch.ListMetricsOutput{}
	if i < len(all) {
		out.Metrics = all[i : i+1]
		if i+1 < len(all) {
			out.NextToken = aws.String(strconv.Itoa(i + 1))
		}
	}
	return out, nil
}

// fakeREST pages GetRestApis one API at a time.
type fakeREST struct {
	apis   []agtypes.RestApi
	stages map[string][]agtypes.Stage
	plans  []agtypes.UsagePlan
}

func (f *fakeREST) GetRestApis(_ context.Context, in *apigateway.GetRestApisInput, _ ...func(*apigateway.Options)) (*apigateway.GetRestApisOutput, error) {
	i := 0
	if in.Position != nil {
		i, _ = strconv.Atoi(*in.Position)
	}
	out := &apigateway.GetRestApisOutput{}
	if i < len(f.apis) {
		out.Items = f.apis[i : i+1]
		if i+1 < len(f.apis) {
			out.Position = aws.String(strconv.Itoa(i + 1))
		}
	}
	return out, nil
}

func (f *fakeREST) GetStages(_ context.Context, in *apigateway.GetStagesInput, _ ...func(*apigateway.Options)) (*apigateway.GetStagesOutput, error) {
	return &apigateway.GetStagesOutput{Item: f.stages[aws.ToString(in.RestApiId)]}, nil
}

func (f *fakeREST) GetUsagePlans(_ context.Context, in *apigateway.GetUsagePlansInput, _ ...func(*apigateway.Options)) (*apigateway.GetUsagePlansOutput, error) {
	i := 0
	if in.Position != nil {
		i, _ = strconv.Atoi(*in.Position)
	}
	out := &apigateway.GetUsagePlansOutput{}
	if i < len(f.plans) {
		out.Items = f.plans[i : i+1]
		if i+1 < len(f.plans) {
			out.Position = aws.String(strconv.Itoa(i + 1))
		}
	}
	return out, nil
}

type fakeHTTP struct {
	apis   []v2types.Api
	stages map[string][]v2types.Stage
}

func (f *fakeHTTP) GetApis(context.Context, *apigatewayv2.GetApisInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetApisOutput, error) {
	return &apigatewayv2.GetApisOutput{Items: f.apis}, nil
}

func (f *fakeHTTP) GetStages(_ context.Context, in *apigatewayv2.GetStagesInput, _ ...func(*apigatewayv2.Options)) (*apigatewayv2.GetStagesOutput, error) {
	return &apigatewayv2.GetStagesOutput{Items: f.stages[aws.ToString(in.ApiId)]}, nil
}
