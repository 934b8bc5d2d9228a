package measure

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// series is the datapoints of one query, oldest first.
type series struct {
	times  []time.Time
	values []float64
	// partial is set when CloudWatch marked the result PartialData
	// after the last page.
	partial bool
}

// maxPages bounds NextToken paging per batch, against a service that keeps
// returning tokens.
const maxPages = 1000

// fetchMetricData runs the queries over [start, end) in as few GetMetricData
// calls as the 500-queries limit allows, follows NextToken, and merges the
// datapoints of every page by query Id.
func fetchMetricData(ctx context.Context, cw Metrics, qs []cwtypes.MetricDataQuery, start, end time.Time) (map[string]*series, error) {
	out := make(map[string]*series, len(qs))
	for _, q := range qs {
		out[aws.ToString(q.Id)] = &series{}
	}
	for bi, batch := range batches(qs, MaxQueriesPerCall) {
		var token *string
		for page := 0; ; page++ {
			if page >= maxPages {
				return nil, fmt.Errorf("get metric data: batch %d still paging after %d pages", bi+1, maxPages)
			}
			res, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
				MetricDataQueries: batch,
				StartTime:         aws.Time(start),
				EndTime:           aws.Time(end),
				ScanBy:            cwtypes.ScanByTimestampAscending,
				NextToken:         token,
			})
			if err != nil {
				return nil, fmt.Errorf("get metric data (%d queries, batch %d): %w", len(batch), bi+1, err)
			}
			for _, r := range res.MetricDataResults {
				id := aws.ToString(r.Id)
				s, ok := out[id]
				if !ok {
					return nil, fmt.Errorf("get metric data: result for unknown query id %q", id)
				}
				if len(r.Timestamps) != len(r.Values) {
					return nil, fmt.Errorf("get metric data: query %q has %d timestamps but %d values", id, len(r.Timestamps), len(r.Values))
				}
				s.times = append(s.times, r.Timestamps...)
				s.values = append(s.values, r.Values...)
				s.partial = r.StatusCode == cwtypes.StatusCodePartialData
			}
			token = res.NextToken
			if aws.ToString(token) == "" {
				break
			}
		}
	}
	for _, s := range out {
		sort.Sort(byTime{s})
	}
	return out, nil
}

type byTime struct{ s *series }

func (b byTime) Len() int           { return len(b.s.times) }
func (b byTime) Less(i, j int) bool { return b.s.times[i].Before(b.s.times[j]) }
func (b byTime) Swap(i, j int) {
	b.s.times[i], b.s.times[j] = b.s.times[j], b.s.times[i]
	b.s.values[i], b.s.values[j] = b.s.values[j], b.s.values[i]
}
