package sandbox

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/apictl/apictl/internal/sandbox/cw"
)

type metricsSink = *cw.Store

func (s *Sandbox) initMetrics() {
	s.metrics = cw.NewStore(s.opts.Now)
	s.cw = cw.NewHandler(s.metrics)
}

// Metrics is the emulated CloudWatch store the data plane records into.
func (s *Sandbox) Metrics() *cw.Store { return s.metrics }

func (s *Sandbox) isCloudWatch(r *http.Request) bool { return cw.IsCloudWatchRequest(r) }

func (s *Sandbox) serveCloudWatch(w http.ResponseWriter, r *http.Request) {
	op := cloudWatchOp(r)
	if e := s.countCall(op); e != nil {
		s.logCall(op, e.Status, e.Type)
		writeCloudWatchError(w, r, e)
		return
	}
	if s.opts.Log == nil {
		s.cw.ServeHTTP(w, r)
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	s.cw.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	s.logCall(op, rec.status, "")
}

// writeCloudWatchError answers an injected error or rate limit in the
// protocol of the request: Smithy RPC v2 CBOR, awsJson1.0 or Query (XML).
func writeCloudWatchError(w http.ResponseWriter, r *http.Request, e *apiError) {
	const shapePrefix = "com.amazonaws.cloudwatch#"
	fault := "Sender"
	if e.Status >= 500 {
		fault = "Receiver"
	}
	h := w.Header()
	h.Set("x-amzn-RequestId", newRequestID())
	if e.RetryAfter != "" {
		h.Set("Retry-After", e.RetryAfter)
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/service/"):
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		h.Set("Content-Type", "application/cbor")
		h.Set("X-Amzn-Query-Error", e.Type+";"+fault)
		w.WriteHeader(e.Status)
		_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(shapePrefix + e.Type), "message": cbor.String(e.Message)}))
	case r.Header.Get("X-Amz-Target") != "":
		h.Set("Content-Type", "application/x-amz-json-1.0")
		h.Set("X-Amzn-Query-Error", e.Type+";"+fault)
		w.WriteHeader(e.Status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": shapePrefix + e.Type, "message": e.Message})
	default:
		h.Set("Content-Type", "text/xml")
		w.WriteHeader(e.Status)
		var b bytes.Buffer
		b.WriteString(`<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>` + fault + `</Type><Code>`)
		_ = xml.EscapeText(&b, []byte(e.Type))
		b.WriteString(`</Code><Message>`)
		_ = xml.EscapeText(&b, []byte(e.Message))
		b.WriteString(`</Message></Error><RequestId>` + newRequestID() + `</RequestId></ErrorResponse>`)
		_, _ = w.Write(b.Bytes())
	}
}

func (s *Sandbox) putMetric(name string, dims []cw.Dimension, ts time.Time, v float64, unit string) {
	s.metrics.Put("AWS/ApiGateway", cw.Datum{MetricName: name, Dimensions: dims, Timestamp: ts, Value: v, Unit: unit})
}
