package sandbox

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/apictl/apictl/internal/sandbox/cw"
)

// The HTTP API (apigatewayv2) data plane shares the REST URL scheme:
// http://HOST/restapis/{apiId}/{stage}/_user_request_/{path} where apiId is
// an HTTP API. Routes ("GET /items/{id}", "ANY /{proxy+}", "$default") are
// matched most specific first; stage DefaultRouteSettings and per-route
// RouteSettings throttle; metrics use the HTTP API names (4xx, 5xx) and
// dimensions (ApiId, Stage, Route).

type v2Route struct {
	routeKey   string
	path       string // route path template, "" for $default
	limit      *throttleSettings
	detailed   bool
	routeFound bool
}

func (dp *dataPlane) isHTTPAPI(apiID string) bool {
	dp.s.mu.Lock()
	defer dp.s.mu.Unlock()
	_, ok := dp.s.state.v2apis[apiID]
	return ok
}

func (dp *dataPlane) serveV2(w http.ResponseWriter, r *http.Request, apiID, stageName, rest string) {
	start := time.Now()
	ts := dp.s.opts.Now()
	rt, ok := dp.resolveV2(r, apiID, stageName, rest)
	if !ok {
		dpError(w, http.StatusNotFound, "NotFoundException", "Not Found")
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	var integration time.Duration
	called := false
	switch {
	case !rt.routeFound:
		dpError(rec, http.StatusNotFound, "NotFoundException", "Not Found")
	case !dp.admitV2(rt, apiID, stageName):
		rec.Header().Set("Retry-After", "1")
		dpError(rec, http.StatusTooManyRequests, "TooManyRequestsException", "Too Many Requests")
	default:
		h := dp.s.backendFor(apiID, r.Method, rt.path)
		if h == nil {
			method, _, _ := strings.Cut(rt.routeKey, " ")
			h = dp.s.backendFor(apiID, method, rt.path)
		}
		if h == nil {
			dpError(rec, http.StatusInternalServerError, "InternalServerErrorException", "Internal Server Error")
			break
		}
		r2 := r.Clone(r.Context())
		r2.URL.RawPath = rest
		if p, err := url.PathUnescape(rest); err == nil {
			r2.URL.Path = p
		}
		r2.RequestURI = r2.URL.RequestURI()
		t0 := time.Now()
		h.ServeHTTP(rec, r2)
		integration = time.Since(t0)
		called = true
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	dims := [][]cw.Dimension{{{Name: "ApiId", Value: apiID}, {Name: "Stage", Value: stageName}}}
	if rt.detailed && rt.routeFound {
		dims = append(dims, []cw.Dimension{{Name: "ApiId", Value: apiID}, {Name: "Route", Value: rt.routeKey}, {Name: "Stage", Value: stageName}})
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for _, d := range dims {
		dp.s.putMetric("Count", d, ts, 1, "Count")
		dp.s.putMetric("4xx", d, ts, b2f(rec.status >= 400 && rec.status < 500), "Count")
		dp.s.putMetric("5xx", d, ts, b2f(rec.status >= 500), "Count")
		dp.s.putMetric("Latency", d, ts, ms(time.Since(start)), "Milliseconds")
		if called {
			dp.s.putMetric("IntegrationLatency", d, ts, ms(integration), "Milliseconds")
		}
	}
}

func (dp *dataPlane) resolveV2(r *http.Request, apiID, stageName, rest string) (*v2Route, bool) {
	s := dp.s
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.state.v2apis[apiID]
	if !ok {
		return nil, false
	}
	st, ok := a.Stages[stageName]
	if !ok {
		return nil, false
	}
	var segs []string
	for _, p := range strings.Split(strings.Trim(rest, "/"), "/") {
		if p == "" {
			continue
		}
		if u, err := url.PathUnescape(p); err == nil {
			p = u
		}
		segs = append(segs, p)
	}
	best, bestScore := (*route)(nil), ""
	for _, id := range a.RouteOrder {
		rt := a.Routes[id]
		method, path, ok := strings.Cut(rt.RouteKey, " ")
		if !ok {
			continue
		}
		if method != r.Method && method != "ANY" {
			continue
		}
		score, ok := routeScore(path, segs)
		if !ok {
			continue
		}
		if method != "ANY" {
			score += "1"
		} else {
			score += "0"
		}
		if best == nil || score > bestScore {
			best, bestScore = rt, score
		}
	}
	if best == nil {
		best = a.routeByKey("$default")
	}
	out := &v2Route{}
	if best == nil {
		return out, true
	}
	out.routeFound, out.routeKey = true, best.RouteKey
	if _, path, ok := strings.Cut(best.RouteKey, " "); ok {
		out.path = path
	}
	var rate *float64
	var burst *int
	var detailed *bool
	for _, rs := range []*routeSettings{st.RouteSettings[best.RouteKey], st.DefaultRouteSettings} {
		if rs == nil {
			continue
		}
		if rate == nil {
			rate = rs.ThrottlingRateLimit
		}
		if burst == nil {
			burst = rs.ThrottlingBurstLimit
		}
		if detailed == nil {
			detailed = rs.DetailedMetricsEnabled
		}
	}
	if rate != nil || burst != nil {
		t := throttleSettings{RateLimit: 10000, BurstLimit: 5000}
		if rate != nil {
			t.RateLimit = *rate
		}
		if burst != nil {
			t.BurstLimit = *burst
		}
		out.limit = &t
	}
	out.detailed = detailed != nil && *detailed
	return out, true
}

// routeScore matches a route path template against request segments; the
// score compares lexicographically, literal segments beating {param} beating
// {proxy+}.
func routeScore(template string, segs []string) (string, bool) {
	var parts []string
	for _, p := range strings.Split(strings.Trim(template, "/"), "/") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	var score strings.Builder
	for i, p := range parts {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}") {
			if i == len(segs) || i != len(parts)-1 {
				return "", false
			}
			score.WriteString("1")
			return score.String(), true
		}
		if i >= len(segs) {
			return "", false
		}
		switch {
		case isVariablePart(p):
			score.WriteString("2")
		case p == segs[i]:
			score.WriteString("3")
		default:
			return "", false
		}
	}
	if len(parts) != len(segs) {
		return "", false
	}
	return score.String() + "4", true
}

func (dp *dataPlane) admitV2(rt *v2Route, apiID, stageName string) bool {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	if rt.limit != nil && !dp.bucket("v2/"+apiID+"/"+stageName+"/"+rt.routeKey, rt.limit).Allow() {
		return false
	}
	if dp.account != nil && !dp.account.Allow() {
		return false
	}
	return true
}
