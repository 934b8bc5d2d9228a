package cw

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func postForm(t *testing.T, h http.Handler, form url.Values) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if !IsCloudWatchRequest(req) {
		t.Fatalf("IsCloudWatchRequest = false for Action=%s", form.Get("Action"))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); ct != "text/xml" {
		t.Errorf("Content-Type = %q, want text/xml", ct)
	}
	return rec.Code, rec.Body.Bytes()
}

type xmlError struct {
	XMLName xml.Name `xml:"http://monitoring.amazonaws.com/doc/2010-08-01/ ErrorResponse"`
	Type    string   `xml:"Error>Type"`
	Code    string   `xml:"Error>Code"`
	Message string   `xml:"Error>Message"`
	ReqID   string   `xml:"RequestId"`
}

type xmlMetricDataResult struct {
	ID         string    `xml:"Id"`
	Label      string    `xml:"Label"`
	StatusCode string    `xml:"StatusCode"`
	Timestamps []string  `xml:"Timestamps>member"`
	Values     []float64 `xml:"Values>member"`
}

type xmlGetMetricData struct {
	XMLName   xml.Name              `xml:"http://monitoring.amazonaws.com/doc/2010-08-01/ GetMetricDataResponse"`
	Results   []xmlMetricDataResult `xml:"GetMetricDataResult>MetricDataResults>member"`
	NextToken string                `xml:"GetMetricDataResult>NextToken"`
	ReqID     string                `xml:"ResponseMetadata>RequestId"`
}

func TestQueryProtocolPutGetAndList(t *testing.T) {
	store := NewStore(func() time.Time { return testNow })
	h := NewHandler(store)
	ts := testNow.Add(-20 * time.Minute).Format(time.RFC3339)

	code, body := postForm(t, h, url.Values{
		"Action": {"PutMetricData"}, "Version": {"2010-08-01"}, "Namespace": {"AWS/ApiGateway"},
		"MetricData.member.1.MetricName":               {"Latency"},
		"MetricData.member.1.Timestamp":                {ts},
		"MetricData.member.1.Unit":                     {"Milliseconds"},
		"MetricData.member.1.Dimensions.member.1.Name": {"ApiName"}, "MetricData.member.1.Dimensions.member.1.Value": {"shop"},
		"MetricData.member.1.Dimensions.member.2.Name": {"Stage"}, "MetricData.member.1.Dimensions.member.2.Value": {"prod"},
		"MetricData.member.1.Values.member.1": {"10"}, "MetricData.member.1.Values.member.2": {"20.5"}, "MetricData.member.1.Values.member.3": {"300"},
		"MetricData.member.1.Counts.member.1": {"2"}, "MetricData.member.1.Counts.member.2": {"1"}, "MetricData.member.1.Counts.member.3": {"1"},
		"MetricData.member.2.MetricName":               {"Latency"},
		"MetricData.member.2.Timestamp":                {ts},
		"MetricData.member.2.Dimensions.member.1.Name": {"Stage"}, "MetricData.member.2.Dimensions.member.1.Value": {"prod"},
		"MetricData.member.2.Dimensions.member.2.Name": {"ApiName"}, "MetricData.member.2.Dimensions.member.2.Value": {"shop"},
		"MetricData.member.2.StatisticValues.SampleCount": {"4"}, "MetricData.member.2.StatisticValues.Sum": {"8"},
		"MetricData.member.2.StatisticValues.Minimum": {"1"}, "MetricData.member.2.StatisticValues.Maximum": {"3"},
	})
	if code != 200 || !bytes.Contains(body, []byte(`<PutMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><ResponseMetadata><RequestId>`)) {
		t.Fatalf("PutMetricData: %d %s", code, body)
	}

	form := url.Values{
		"Action": {"GetMetricData"}, "Version": {"2010-08-01"},
		"StartTime": {testNow.Add(-time.Hour).Format(time.RFC3339)}, "EndTime": {testNow.Format(time.RFC3339)},
		"ScanBy": {"TimestampAscending"},
	}
	for i, st := range []string{"Sum", "SampleCount", "Maximum", "p50"} {
		p := fmt.Sprintf("MetricDataQueries.member.%d.", i+1)
		form.Set(p+"Id", strings.ToLower(st))
		form.Set(p+"MetricStat.Metric.Namespace", "AWS/ApiGateway")
		form.Set(p+"MetricStat.Metric.MetricName", "Latency")
		form.Set(p+"MetricStat.Metric.Dimensions.member.1.Name", "ApiName")
		form.Set(p+"MetricStat.Metric.Dimensions.member.1.Value", "shop")
		form.Set(p+"MetricStat.Metric.Dimensions.member.2.Name", "Stage")
		form.Set(p+"MetricStat.Metric.Dimensions.member.2.Value", "prod")
		form.Set(p+"MetricStat.Period", "300")
		form.Set(p+"MetricStat.Stat", st)
	}
	form.Set("MetricDataQueries.member.1.Label", "total latency")
	code, body = postForm(t, h, form)
	if code != 200 {
		t.Fatalf("GetMetricData: %d %s", code, body)
	}
	var gmd xmlGetMetricData
	if err := xml.Unmarshal(body, &gmd); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	want := map[string]float64{"sum": 10*2 + 20.5 + 300 + 8, "samplecount": 8, "maximum": 300, "p50": 10}
	if len(gmd.Results) != 4 || gmd.ReqID == "" || gmd.NextToken != "" {
		t.Fatalf("response %+v", gmd)
	}
	for _, r := range gmd.Results {
		if len(r.Values) != 1 || r.Values[0] != want[r.ID] || r.StatusCode != "Complete" {
			t.Errorf("%s: values %v status %s, want [%v] Complete", r.ID, r.Values, r.StatusCode, want[r.ID])
		}
		if len(r.Timestamps) != 1 || r.Timestamps[0] != "2026-11-29T11:40:00.000Z" {
			t.Errorf("%s: timestamps %v, want the 5-minute period starting 11:40", r.ID, r.Timestamps)
		}
	}
	if gmd.Results[0].Label != "total latency" || gmd.Results[1].Label != "Latency" {
		t.Errorf("labels %q %q", gmd.Results[0].Label, gmd.Results[1].Label)
	}

	code, body = postForm(t, h, url.Values{"Action": {"ListMetrics"}, "Version": {"2010-08-01"}, "Dimensions.member.1.Name": {"Stage"}})
	var lm struct {
		XMLName xml.Name `xml:"http://monitoring.amazonaws.com/doc/2010-08-01/ ListMetricsResponse"`
		Metrics []struct {
			Namespace, MetricName string
			Dimensions            []Dimension `xml:"Dimensions>member"`
		} `xml:"ListMetricsResult>Metrics>member"`
	}
	if err := xml.Unmarshal(body, &lm); err != nil || code != 200 {
		t.Fatalf("ListMetrics: %d %s %v", code, body, err)
	}
	if len(lm.Metrics) != 1 || lm.Metrics[0].MetricName != "Latency" || len(lm.Metrics[0].Dimensions) != 2 ||
		lm.Metrics[0].Dimensions[0] != (Dimension{"ApiName", "shop"}) || lm.Metrics[0].Dimensions[1] != (Dimension{"Stage", "prod"}) {
		t.Errorf("ListMetrics = %+v", lm.Metrics)
	}

	code, body = postForm(t, h, url.Values{
		"Action": {"GetMetricStatistics"}, "Version": {"2010-08-01"}, "Namespace": {"AWS/ApiGateway"}, "MetricName": {"Latency"},
		"Dimensions.member.1.Name": {"ApiName"}, "Dimensions.member.1.Value": {"shop"},
		"Dimensions.member.2.Name": {"Stage"}, "Dimensions.member.2.Value": {"prod"},
		"StartTime": {testNow.Add(-time.Hour).Format(time.RFC3339)}, "EndTime": {testNow.Format(time.RFC3339)}, "Period": {"3600"},
		"ExtendedStatistics.member.1": {"p99"},
	})
	if code != 200 || !bytes.Contains(body, []byte("<ExtendedStatistics><entry><key>p99</key><value>300</value></entry></ExtendedStatistics>")) {
		t.Errorf("GetMetricStatistics: %d %s", code, body)
	}
}

func TestQueryProtocolErrors(t *testing.T) {
	h := NewHandler(NewStore(func() time.Time { return testNow }))
	form := url.Values{"Action": {"GetMetricData"}, "Version": {"2010-08-01"},
		"StartTime": {"2026-11-29T11:00:00Z"}, "EndTime": {"2026-11-29T12:00:00Z"}}
	for i := 1; i <= 501; i++ {
		p := fmt.Sprintf("MetricDataQueries.member.%d.", i)
		form.Set(p+"Id", fmt.Sprintf("q%d", i))
		form.Set(p+"MetricStat.Metric.Namespace", "N")
		form.Set(p+"MetricStat.Metric.MetricName", "M")
		form.Set(p+"MetricStat.Period", "60")
		form.Set(p+"MetricStat.Stat", "Sum")
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"501 queries", form, 400, "ValidationError"},
		{"unknown action", url.Values{"Action": {"DescribeAlarms"}, "Version": {"2010-08-01"}}, 400, "InvalidAction"},
		{"missing namespace", url.Values{"Action": {"PutMetricData"}, "Version": {"2010-08-01"}, "MetricData.member.1.MetricName": {"M"}, "MetricData.member.1.Value": {"1"}}, 400, "MissingParameter"},
		{"bad number", url.Values{"Action": {"PutMetricData"}, "Version": {"2010-08-01"}, "Namespace": {"N"}, "MetricData.member.1.MetricName": {"M"}, "MetricData.member.1.Value": {"abc"}}, 400, "InvalidParameterValue"},
	} {
		status, body := postForm(t, h, tc.form)
		var e xmlError
		if err := xml.Unmarshal(body, &e); err != nil {
			t.Fatalf("%s: decode %s: %v", tc.name, body, err)
		}
		if status != tc.status || e.Code != tc.code || e.Type != "Sender" || e.Message == "" || e.ReqID == "" {
			t.Errorf("%s: %d %+v, want %d %s from Sender", tc.name, status, e, tc.status, tc.code)
		}
	}
}

func TestQueryProtocolGET(t *testing.T) {
	h := NewHandler(NewStore(func() time.Time { return testNow }))
	req := httptest.NewRequest(http.MethodGet, "/?Action=ListMetrics&Version=2010-08-01&Namespace=X", nil)
	if !IsCloudWatchRequest(req) {
		t.Fatal("GET /?Action=ListMetrics not recognised")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<ListMetricsResult><Metrics></Metrics></ListMetricsResult>") {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}

func TestJSONProtocol(t *testing.T) {
	store := NewStore(func() time.Time { return testNow })
	h := NewHandler(store)
	call := func(op, body string) (int, map[string]any, http.Header) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801."+op)
		if !IsCloudWatchRequest(req) {
			t.Fatalf("%s not recognised", op)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s: %s: %v", op, rec.Body, err)
		}
		return rec.Code, out, rec.Header()
	}
	start := float64(testNow.Add(-time.Hour).Unix())
	code, out, _ := call("PutMetricData", fmt.Sprintf(`{"Namespace":"N","MetricData":[{"MetricName":"M","Timestamp":%v,"Value":2.5},{"MetricName":"M","Timestamp":%v,"Value":4}]}`, start+61, start+62))
	if code != 200 {
		t.Fatalf("PutMetricData: %d %v", code, out)
	}
	code, out, _ = call("GetMetricData", fmt.Sprintf(`{"StartTime":%v,"EndTime":%v,"MetricDataQueries":[{"Id":"a","MetricStat":{"Metric":{"Namespace":"N","MetricName":"M"},"Period":60,"Stat":"Average"}}]}`, start, start+3600))
	if code != 200 {
		t.Fatalf("GetMetricData: %d %v", code, out)
	}
	r := out["MetricDataResults"].([]any)[0].(map[string]any)
	if vals := r["Values"].([]any); len(vals) != 1 || vals[0] != 3.25 {
		t.Errorf("values %v, want [3.25]", vals)
	}
	if tss := r["Timestamps"].([]any); len(tss) != 1 || tss[0] != start+60 {
		t.Errorf("timestamps %v, want [%v] (epoch seconds)", tss, start+60)
	}
	code, out, hdr := call("GetMetricData", `{"MetricDataQueries":[]}`)
	if code != 400 || out["__type"] != "com.amazonaws.cloudwatch#ValidationException" || hdr.Get("X-Amzn-Query-Error") != "ValidationError;Sender" {
		t.Errorf("missing StartTime: %d %v %v", code, out, hdr)
	}
}

func TestIsCloudWatchRequest(t *testing.T) {
	for _, tc := range []struct {
		name, method, path, ctype, body string
		header                          map[string]string
		want                            bool
	}{
		{"CBOR", "POST", "/service/GraniteServiceVersion20100801/operation/GetMetricData", "application/cbor", "\xa0", nil, true},
		{"awsJson1.0", "POST", "/", "application/x-amz-json-1.0", "{}", map[string]string{"X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"}, true},
		{"query form", "POST", "/", "application/x-www-form-urlencoded; charset=utf-8", "Action=GetMetricData&Version=2010-08-01", nil, true},
		{"signed for monitoring", "POST", "/", "application/x-www-form-urlencoded", "", map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20261129/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=00"}, true},
		{"restapis", "POST", "/restapis", "application/json", `{"name":"x"}`, nil, false},
		{"restapis GET", "GET", "/restapis/abc/resources", "", "", nil, false},
		{"usageplans", "PATCH", "/usageplans/u1", "application/json", `{"patchOperations":[]}`, nil, false},
		{"apikeys", "GET", "/apikeys", "", "", nil, false},
		{"tags", "PUT", "/tags/arn%3Aaws%3Aapigateway", "application/json", "{}", nil, false},
		{"v2", "POST", "/v2/apis", "application/json", "{}", nil, false},
		{"data plane", "POST", "/restapis/abc/prod/_user_request_/", "application/x-www-form-urlencoded", "Action=GetMetricData&Version=2010-08-01", nil, false},
		{"form for someone else", "POST", "/", "application/x-www-form-urlencoded", "Action=Subscribe&Version=2012-01-01&x=1", nil, false},
		{"json at root", "POST", "/", "application/json", `{"Action":"GetMetricData"}`, nil, false},
		{"apigateway signed", "POST", "/", "application/json", `{}`, map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20261129/us-east-1/apigateway/aws4_request"}, false},
	} {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		req := httptest.NewRequest(tc.method, tc.path, body)
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		if got := IsCloudWatchRequest(req); got != tc.want {
			t.Errorf("%s: IsCloudWatchRequest = %v, want %v", tc.name, got, tc.want)
		}
		rest, err := io.ReadAll(req.Body)
		if err != nil || string(rest) != tc.body {
			t.Errorf("%s: body after IsCloudWatchRequest = %q, %v; want it unchanged %q", tc.name, rest, err, tc.body)
		}
	}
}

func TestCBORRawWire(t *testing.T) {
	// A hand-made request checks the wire details the SDK hides: the
	// smithy-protocol header, the error body and the query-error header.
	h := NewHandler(NewStore(func() time.Time { return testNow }))
	req := httptest.NewRequest(http.MethodPost, "/service/GraniteServiceVersion20100801/operation/GetMetricData", bytes.NewReader([]byte{0xa0}))
	req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	req.Header.Set("Content-Type", "application/cbor")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 400 || rec.Header().Get("Smithy-Protocol") != "rpc-v2-cbor" || rec.Header().Get("Content-Type") != "application/cbor" ||
		rec.Header().Get("X-Amzn-Query-Error") != "ValidationError;Sender" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	m, err := decodeCBOR(rec.Body.Bytes())
	if err != nil || m["__type"] != "com.amazonaws.cloudwatch#ValidationException" || !strings.Contains(m["message"].(string), "metricDataQueries") {
		t.Fatalf("error body %v %v", m, err)
	}

	req = httptest.NewRequest(http.MethodPost, "/service/GraniteServiceVersion20100801/operation/DeleteAlarms", bytes.NewReader([]byte{0xa0}))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 404 {
		t.Errorf("unknown operation: %d, want 404", rec.Code)
	}
}

func TestSketchRelativeError(t *testing.T) {
	for _, v := range []float64{1e-9, 0.001, 0.5, 1, 3.3, 120, 9999.5, 1e12, -4, -0.02} {
		s := newSketch()
		s.add(v, 1)
		got := s.rankValue(1)
		if rel := math.Abs(got-v) / math.Abs(v); rel > 0.005+1e-12 {
			t.Errorf("sketch(%v) reads back %v: %.3f%% off", v, got, rel*100)
		}
	}
}
