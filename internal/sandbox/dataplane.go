package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/apictl/apictl/internal/awsfacts"
	"github.com/apictl/apictl/internal/sandbox/cw"
)

// dataPlane serves http://HOST/restapis/{id}/{stage}/_user_request_/{path}:
// resource matching, API keys, throttling, quotas, the backend call and
// CloudWatch metrics.
type dataPlane struct {
	s *Sandbox

	mu      sync.Mutex
	buckets map[string]*TokenBucket
	quotas  map[string]*quotaCounter
	account *TokenBucket
}

type quotaCounter struct {
	periodStart time.Time
	used        int
}

func newDataPlane(s *Sandbox) *dataPlane {
	dp := &dataPlane{s: s, buckets: map[string]*TokenBucket{}, quotas: map[string]*quotaCounter{}}
	if t := s.opts.AccountThrottle; t != nil {
		dp.account = NewTokenBucket(t.Rate, t.Burst, s.opts.ThrottleNow)
	}
	return dp
}

// forgetPlan drops the throttle state of a deleted usage plan.
func (dp *dataPlane) forgetPlan(planID string) {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	for k := range dp.buckets {
		if strings.HasPrefix(k, "plan/"+planID+"/") {
			delete(dp.buckets, k)
		}
	}
	for k := range dp.quotas {
		if strings.HasPrefix(k, planID+"/") {
			delete(dp.quotas, k)
		}
	}
}

// dpRoute is what one request needs from the control-plane state, copied
// under the state lock.
type dpRoute struct {
	apiName      string
	resourcePath string
	defMethod    string // the method as defined: GET, ANY, ...
	params       map[string]string
	detailed     bool
	stageLimit   *throttleSettings
	keyRequired  bool
	keyOK        bool
	planID       string
	keyID        string
	planLimit    *throttleSettings
	planLimitKey string
	quota        *quotaSettings
	integration  *integration
}

func dpError(w http.ResponseWriter, status int, errType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", errType)
	w.Header().Set("x-amzn-RequestId", newRequestID())
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func (dp *dataPlane) serve(w http.ResponseWriter, r *http.Request, apiID, stageName, rest string) {
	start := time.Now()
	ts := dp.s.opts.Now()
	rt, status := dp.resolve(r, apiID, stageName, rest)
	if status == http.StatusNotFound { // unknown API or stage: no metrics, like AWS
		dpError(w, http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	var integrationLatency time.Duration
	called := false
	switch {
	case status == http.StatusForbidden && rt.resourcePath == "":
		dpError(rec, http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
	case rt.keyRequired && !rt.keyOK:
		dpError(rec, http.StatusForbidden, "ForbiddenException", "Forbidden")
	default:
		switch dp.admit(rt, apiID, stageName, r.Method, ts) {
		case admitThrottled:
			rec.Header().Set("Retry-After", "1")
			dpError(rec, http.StatusTooManyRequests, "TooManyRequestsException", "Too Many Requests")
		case admitQuota:
			dpError(rec, http.StatusTooManyRequests, "LimitExceededException", "Limit Exceeded")
		default:
			t0 := time.Now()
			called = dp.invoke(rec, r, apiID, rt, rest)
			integrationLatency = time.Since(t0)
		}
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	dp.record(rt, stageName, r.Method, ts, rec.status, time.Since(start), integrationLatency, called)
}

// resolve reads the control-plane state. status is 404 for an unknown API or
// stage, 403 for no matching resource or method, 0 when routed.
func (dp *dataPlane) resolve(r *http.Request, apiID, stageName, rest string) (*dpRoute, int) {
	s := dp.s
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.state.apis[apiID]
	if !ok {
		return nil, http.StatusNotFound
	}
	st, ok := a.Stages[stageName]
	if !ok {
		return nil, http.StatusNotFound
	}
	rt := &dpRoute{apiName: awsfacts.MetricAPIName(a.Name, a.ID)}
	// The stage serves its deployment's snapshot, not the live resources:
	// changes to resources and methods take effect on a new deployment.
	served, _ := a.deployed(st)
	res, params := matchResource(served, rest)
	if res == nil {
		return rt, http.StatusForbidden
	}
	m := res.Methods[r.Method]
	if m == nil {
		m = res.Methods["ANY"]
	}
	if m == nil {
		return rt, http.StatusForbidden
	}
	rt.resourcePath, rt.defMethod, rt.params = res.Path, m.HTTPMethod, params
	if m.Integration != nil {
		c := *m.Integration
		rt.integration = &c
	}
	// Stage method settings: the method's own entry overrides */*.
	msKey := escapePointer(res.Path) + "/" + m.HTTPMethod
	def := st.MethodSettings["*/*"]
	own := st.MethodSettings[msKey]
	if own == nil && m.HTTPMethod != r.Method {
		own = st.MethodSettings[escapePointer(res.Path)+"/"+r.Method]
	}
	switch {
	case own != nil:
		rt.detailed = own.MetricsEnabled
		rt.stageLimit = &throttleSettings{RateLimit: own.ThrottlingRateLimit, BurstLimit: own.ThrottlingBurstLimit}
	case def != nil:
		rt.detailed = def.MetricsEnabled
		rt.stageLimit = &throttleSettings{RateLimit: def.ThrottlingRateLimit, BurstLimit: def.ThrottlingBurstLimit}
	}
	if !m.APIKeyRequired {
		return rt, 0
	}
	rt.keyRequired = true
	value := r.Header.Get("x-api-key")
	if value == "" {
		return rt, 0
	}
	key := s.state.keyByValue[value]
	if key == nil || !key.Enabled {
		return rt, 0
	}
	for _, pid := range s.state.planOrder {
		p := s.state.plans[pid]
		as := p.apiStage(apiID + ":" + stageName)
		if as == nil || !p.hasKey(key.ID) {
			continue
		}
		rt.keyOK, rt.planID, rt.keyID = true, p.ID, key.ID
		if p.Throttle != nil {
			t := *p.Throttle
			rt.planLimit, rt.planLimitKey = &t, "plan/"+p.ID+"/"+key.ID
		}
		if t, ok := as.Throttle[res.Path+"/"+m.HTTPMethod]; ok {
			rt.planLimit = &t
			rt.planLimitKey = "plan/" + p.ID + "/" + key.ID + "/" + apiID + "/" + stageName + "/" + res.Path + "/" + m.HTTPMethod
		}
		if p.Quota != nil {
			q := *p.Quota
			rt.quota = &q
		}
		break
	}
	return rt, 0
}

// matchResource finds the resource whose path template matches the request
// path: a literal path part beats {param}, which beats {proxy+}.
func matchResource(a *restAPI, escapedPath string) (*resource, map[string]string) {
	var segs []string
	for _, p := range strings.Split(strings.Trim(escapedPath, "/"), "/") {
		if p == "" {
			continue
		}
		if u, err := url.PathUnescape(p); err == nil {
			p = u
		}
		segs = append(segs, p)
	}
	children := map[string][]*resource{}
	for _, id := range a.ResourceOrder {
		res := a.Resources[id]
		if res.ParentID != "" {
			children[res.ParentID] = append(children[res.ParentID], res)
		}
	}
	params := map[string]string{}
	var match func(res *resource, segs []string) *resource
	match = func(res *resource, segs []string) *resource {
		if len(segs) == 0 {
			return res
		}
		kids := children[res.ID]
		for _, c := range kids {
			if c.PathPart == segs[0] {
				if m := match(c, segs[1:]); m != nil {
					return m
				}
			}
		}
		for _, c := range kids {
			if isVariablePart(c.PathPart) && !strings.HasSuffix(c.PathPart, "+}") {
				name := c.PathPart[1 : len(c.PathPart)-1]
				params[name] = segs[0]
				if m := match(c, segs[1:]); m != nil {
					return m
				}
				delete(params, name)
			}
		}
		for _, c := range kids {
			if strings.HasSuffix(c.PathPart, "+}") {
				params[c.PathPart[1:len(c.PathPart)-2]] = strings.Join(segs, "/")
				return c
			}
		}
		return nil
	}
	res := match(a.Resources[a.RootID], segs)
	return res, params
}

type admitResult int

const (
	admitOK admitResult = iota
	admitThrottled
	admitQuota
)

func (dp *dataPlane) bucket(key string, t *throttleSettings) *TokenBucket {
	// New limits start a new, full bucket, as a redeployed setting does.
	b, ok := dp.buckets[key]
	if ok {
		if rate, burst := b.Limits(); rate == t.RateLimit && burst == t.BurstLimit {
			return b
		}
	}
	b = NewTokenBucket(t.RateLimit, t.BurstLimit, dp.s.opts.ThrottleNow)
	dp.buckets[key] = b
	return b
}

// admit applies, in API Gateway's order, the usage-plan throttle of the API
// key (per method when the plan sets one), its quota, the stage's method
// throttle and the account throttle.
func (dp *dataPlane) admit(rt *dpRoute, apiID, stageName, reqMethod string, ts time.Time) admitResult {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	if rt.planLimit != nil && !dp.bucket(rt.planLimitKey, rt.planLimit).Allow() {
		return admitThrottled
	}
	if q := rt.quota; q != nil {
		key := rt.planID + "/" + rt.keyID
		qc := dp.quotas[key]
		ps := quotaPeriodStart(ts, q)
		if qc == nil || !qc.periodStart.Equal(ps) {
			qc = &quotaCounter{periodStart: ps}
			dp.quotas[key] = qc
		}
		if qc.used >= q.Limit {
			return admitQuota
		}
		qc.used++
	}
	if rt.stageLimit != nil {
		key := "stage/" + apiID + "/" + stageName + "/" + rt.resourcePath + "/" + rt.defMethod
		if !dp.bucket(key, rt.stageLimit).Allow() {
			return admitThrottled
		}
	}
	if dp.account != nil && !dp.account.Allow() {
		return admitThrottled
	}
	return admitOK
}

// quotaPeriodStart is the start of the quota period containing t (UTC); the
// offset counts days from the period's natural start (Sunday for WEEK, the
// 1st for MONTH).
func quotaPeriodStart(t time.Time, q *quotaSettings) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch q.Period {
	case "WEEK":
		since := (int(day.Weekday()) - q.Offset + 7) % 7
		return day.AddDate(0, 0, -since)
	case "MONTH":
		start := time.Date(t.Year(), t.Month(), 1+q.Offset, 0, 0, 0, 0, time.UTC)
		if start.After(t) {
			start = start.AddDate(0, -1, 0)
		}
		return start
	}
	return day
}

// invoke calls the backend; it reports whether one was called.
func (dp *dataPlane) invoke(w http.ResponseWriter, r *http.Request, apiID string, rt *dpRoute, rest string) bool {
	h := dp.s.backendFor(apiID, r.Method, rt.resourcePath)
	if h == nil && rt.defMethod != r.Method {
		h = dp.s.backendFor(apiID, rt.defMethod, rt.resourcePath)
	}
	if h != nil {
		r2 := r.Clone(r.Context())
		r2.URL.RawPath = rest
		if p, err := url.PathUnescape(rest); err == nil {
			r2.URL.Path = p
		} else {
			r2.URL.Path = rest
		}
		r2.RequestURI = r2.URL.RequestURI()
		h.ServeHTTP(w, r2)
		return true
	}
	in := rt.integration
	if in != nil && (in.Type == "HTTP_PROXY" || in.Type == "HTTP") && in.URI != "" {
		target := in.URI
		for name, v := range rt.params {
			target = strings.ReplaceAll(target, "{"+name+"+}", v)
			target = strings.ReplaceAll(target, "{"+name+"}", v)
		}
		u, err := url.Parse(target)
		if err != nil || u.Host == "" {
			dpError(w, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error")
			return false
		}
		u.RawQuery = r.URL.RawQuery
		method := in.HTTPMethod
		if method == "" || method == "ANY" {
			method = r.Method
		}
		proxy := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.Out.URL = u
				pr.Out.Host = u.Host
				pr.Out.Method = method
			},
			ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
				dpError(w, http.StatusBadGateway, "BadGatewayException", "Internal server error")
			},
		}
		proxy.ServeHTTP(w, r)
		return true
	}
	if in != nil && in.Type == "MOCK" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		return false
	}
	dpError(w, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error")
	return false
}

func (dp *dataPlane) record(rt *dpRoute, stageName, reqMethod string, ts time.Time, status int, latency, integration time.Duration, called bool) {
	if rt == nil {
		return
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	dimsets := [][]cw.Dimension{{{Name: "ApiName", Value: rt.apiName}, {Name: "Stage", Value: stageName}}}
	if rt.detailed && rt.resourcePath != "" {
		dimsets = append(dimsets, []cw.Dimension{{Name: "ApiName", Value: rt.apiName}, {Name: "Method", Value: reqMethod},
			{Name: "Resource", Value: rt.resourcePath}, {Name: "Stage", Value: stageName}})
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for _, dims := range dimsets {
		dp.s.putMetric("Count", dims, ts, 1, "Count")
		dp.s.putMetric("4XXError", dims, ts, b2f(status >= 400 && status < 500), "Count")
		dp.s.putMetric("5XXError", dims, ts, b2f(status >= 500), "Count")
		dp.s.putMetric("Latency", dims, ts, ms(latency), "Milliseconds")
		if called {
			dp.s.putMetric("IntegrationLatency", dims, ts, ms(integration), "Milliseconds")
		}
	}
}

// statusRecorder remembers the status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
