package cw

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// TestLedgerGetMetricDataQueryLimit: at most 500 queries per GetMetricData
// call; more is a ValidationError (measure batches its queries).
func TestLedgerGetMetricDataQueryLimit(t *testing.T) {
	_, client := newTestServer(t)
	qs := make([]types.MetricDataQuery, 501)
	for i := range qs {
		qs[i] = metricQuery(fmt.Sprintf("q%d", i), "AWS/ApiGateway", "Count", dims("ApiName", "a", "Stage", "prod"), "Sum", 60)
	}
	in := func(n int) *cloudwatch.GetMetricDataInput {
		return &cloudwatch.GetMetricDataInput{MetricDataQueries: qs[:n], StartTime: aws.Time(testNow.Add(-time.Hour)), EndTime: aws.Time(testNow)}
	}
	if _, err := client.GetMetricData(context.Background(), in(500)); err != nil {
		t.Fatalf("500 queries: %v", err)
	}
	_, err := client.GetMetricData(context.Background(), in(501))
	if code := apiErrorCode(err); code != "ValidationError" {
		t.Fatalf("501 queries: want ValidationError, got %v", err)
	}
}
