package cw

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// fuzzOps are the operations the fuzzers address, by index.
var fuzzOps = []string{"GetMetricData", "GetMetricStatistics", "ListMetrics", "PutMetricData", "Nope"}

func fuzzStore() *Store {
	s := NewStore(func() time.Time { return testNow })
	for i := range 30 {
		s.Put("AWS/ApiGateway", Datum{MetricName: "Count", Value: float64(i), Timestamp: testNow.Add(-time.Duration(i) * time.Minute),
			Dimensions: []Dimension{{Name: "ApiName", Value: "cart-api"}, {Name: "Stage", Value: "prod"}}})
	}
	return s
}

// serveFuzz runs one request through the handler: it must not panic (the
// handler only recovers its own *apiError), and a bad request must be a
// 4xx, never a 5xx.
func serveFuzz(t *testing.T, req *http.Request) {
	rec := httptest.NewRecorder()
	NewHandler(fuzzStore()).ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("status %d for a client request: %s", rec.Code, rec.Body.String())
	}
}

func cborSeed(m cbor.Map) []byte { return cbor.Encode(m) }

// FuzzCBORRequest feeds arbitrary Smithy RPC v2 CBOR bodies to each operation.
func FuzzCBORRequest(f *testing.F) {
	start, end := float64(testNow.Add(-time.Hour).Unix()), float64(testNow.Unix())
	f.Add(uint8(0), cborSeed(cbor.Map{
		"StartTime": &cbor.Tag{ID: 1, Value: cbor.Float64(start)}, "EndTime": &cbor.Tag{ID: 1, Value: cbor.Float64(end)},
		"MetricDataQueries": cbor.List{cbor.Map{"Id": cbor.String("m0"), "MetricStat": cbor.Map{
			"Metric": cbor.Map{"Namespace": cbor.String("AWS/ApiGateway"), "MetricName": cbor.String("Count"),
				"Dimensions": cbor.List{cbor.Map{"Name": cbor.String("ApiName"), "Value": cbor.String("cart-api")}}},
			"Period": cbor.Uint(60), "Stat": cbor.String("p99")}}}}))
	f.Add(uint8(2), cborSeed(cbor.Map{"Namespace": cbor.String("AWS/ApiGateway"), "RecentlyActive": cbor.String("PT3H")}))
	f.Add(uint8(3), cborSeed(cbor.Map{"Namespace": cbor.String("X"), "MetricData": cbor.List{cbor.Map{"MetricName": cbor.String("m"), "Values": cbor.List{cbor.Float64(1)}, "Counts": cbor.List{cbor.Float64(2)}}}}))
	f.Add(uint8(1), []byte{0xbf, 0xff})
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		req := httptest.NewRequest(http.MethodPost, cborPathPrefix+fuzzOps[int(op)%len(fuzzOps)], bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/cbor")
		req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
		serveFuzz(t, req)
	})
}

// FuzzJSONRequest feeds arbitrary awsJson1.0 bodies to each operation.
func FuzzJSONRequest(f *testing.F) {
	f.Add(uint8(0), []byte(`{"StartTime":1764410400,"EndTime":1764417600,"MetricDataQueries":[{"Id":"a","Expression":"SUM(x)"},{"Id":"b","MetricStat":{"Metric":{"Namespace":"AWS/ApiGateway","MetricName":"Count"},"Period":60,"Stat":"Sum"}}]}`))
	f.Add(uint8(1), []byte(`{"Namespace":"AWS/ApiGateway","MetricName":"Count","StartTime":"2026-11-29T11:00:00Z","EndTime":"2026-11-29T12:00:00Z","Period":60,"ExtendedStatistics":["p99"]}`))
	f.Add(uint8(2), []byte(`{"Dimensions":[{"Name":"ApiName"}],"NextToken":"zz"}`))
	f.Add(uint8(3), []byte(`{"Namespace":"X","MetricData":[{"MetricName":"m","StatisticValues":{"SampleCount":0,"Sum":1,"Minimum":1,"Maximum":1}}]}`))
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", targetPrefix+fuzzOps[int(op)%len(fuzzOps)])
		serveFuzz(t, req)
	})
}

// FuzzQueryRequest feeds arbitrary Query-protocol forms (the AWS CLI's).
func FuzzQueryRequest(f *testing.F) {
	f.Add("Action=GetMetricData&Version=2010-08-01&StartTime=2026-11-29T11:00:00Z&EndTime=2026-11-29T12:00:00Z&MetricDataQueries.member.1.Id=m&MetricDataQueries.member.1.MetricStat.Metric.Namespace=AWS/ApiGateway&MetricDataQueries.member.1.MetricStat.Metric.MetricName=Count&MetricDataQueries.member.1.MetricStat.Period=60&MetricDataQueries.member.1.MetricStat.Stat=Sum")
	f.Add("Action=ListMetrics&Namespace=AWS/ApiGateway&Dimensions.member.1.Name=Stage&Dimensions.member.1.Value=prod")
	f.Add("Action=PutMetricData&Namespace=X&MetricData.member.1.MetricName=m&MetricData.member.1.Values.member.1=1&MetricData.member.1.Counts.member.1=3")
	f.Add("Action=GetMetricStatistics&Namespace=AWS/ApiGateway&MetricName=Count&Period=0&Statistics.member.1=Sum")
	f.Add("A.member.1=x&A.member.1.B=y&A=z")
	f.Fuzz(func(t *testing.T, form string) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(form)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		serveFuzz(t, req)
	})
}
