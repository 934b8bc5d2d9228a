package sandbox

import (
	"net/http"
	"time"

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
	s.callsMu.Lock()
	s.calls[op]++
	s.callsMu.Unlock()
	s.cw.ServeHTTP(w, r)
}

func (s *Sandbox) putMetric(name string, dims []cw.Dimension, ts time.Time, v float64, unit string) {
	s.metrics.Put("AWS/ApiGateway", cw.Datum{MetricName: name, Dimensions: dims, Timestamp: ts, Value: v, Unit: unit})
}
