// Package sandbox is a wire-compatible emulator of the parts of Amazon API
// Gateway (REST APIs v1, a subset of apigatewayv2) and CloudWatch that apictl
// uses, plus a throttling data plane that enforces API Gateway's token-bucket
// limits and records CloudWatch metrics. The real aws-sdk-go-v2 clients and
// the AWS CLI talk to it unchanged when pointed at its URL:
//
//	sb := sandbox.New(sandbox.Options{})
//	url, _ := sb.Start("127.0.0.1:0")
//	defer sb.Close()
//	clients, _ := awsapi.NewClients(ctx, awsapi.Settings{Region: "us-east-1", EndpointURL: url, StaticCredentials: true})
//
// One endpoint serves everything: the REST-JSON control planes (/restapis,
// /usageplans, /apikeys, /tags, /v2/apis), CloudWatch (see package cw) and
// the data plane at InvokeURL(apiID, stage) =
// URL()+"/restapis/{apiId}/{stage}/_user_request_", also reachable
// host-style as http://{apiId}.execute-api.localhost:PORT/{stage}/{path}.
//
// A stage serves its deployment: a snapshot of the API's resources, methods
// and integrations taken by CreateDeployment, as on AWS; changes made after
// it take effect on the next deployment (GetDeployment with
// embed=apisummary shows what a deployment holds). Stage settings
// (throttles, metrics) and usage plans apply at once.
//
// A data-plane request is routed to the most specific resource (a literal
// path part beats {param}, which beats {proxy+}) and its method or ANY;
// unknown ones get 403 "Missing Authentication Token". A method with
// apiKeyRequired needs an enabled key, in x-api-key, of a usage plan attached
// to the stage (else 403 "Forbidden"). Then the token buckets are applied in
// API Gateway's order: the key's usage-plan throttle (the plan's per-method
// throttle when it has one), the plan quota (429 "Limit Exceeded"), the
// stage's method settings (a method's own entry overrides "*/*") and the
// account throttle; a rejection is 429 "Too Many Requests" and never reaches
// the backend. The backend is the handler of SetMethodBackend, else of
// SetBackend, else the method's HTTP_PROXY integration URI, else 500.
//
// Every data-plane request on an existing stage records Count, 4XXError,
// 5XXError, Latency and (when the backend was called) IntegrationLatency in
// namespace AWS/ApiGateway with dimensions {ApiName, Stage}, and also
// {ApiName, Method, Resource, Stage} when detailed metrics are enabled for the
// method (its own method setting or "*/*"); ApiName is the API's name with
// non-ASCII characters removed (its id when none is left). ARNs, the
// apiEndpoint of HTTP APIs and GetAccount's default throttle follow the
// region's partition (aws, aws-cn, aws-us-gov) and documented defaults. HTTP APIs use the same URLs, with
// routes, stage route settings, metrics 4xx/5xx and dimensions {ApiId,
// Stage[, Route]}.
//
// Requests signed for S3 are served path-style by a small in-memory S3
// (buckets, objects, ListObjectsV2, multipart uploads; see s3.go), for the
// results of sharded load tests.
//
// All state is in memory and safe for concurrent use.
package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// RateLimit is a token-bucket limit: Rate tokens per second, at most Burst
// tokens stored. For example UpdateUsagePlan's AWS limit of one call per 20
// seconds is RateLimit{Rate: 1.0 / 20, Burst: 1}.
type RateLimit struct {
	Rate  float64
	Burst int
}

// Options configures a Sandbox. The zero value is usable.
type Options struct {
	// Region is used in ARNs and endpoints; default us-east-1.
	Region string
	// AccountID is used in ARNs; default 123456789012.
	AccountID string
	// ControlPlaneRateLimits limits control-plane operations by AWS operation
	// name, e.g. {"UpdateUsagePlan": {Rate: 1.0/20, Burst: 1}}. Calls over the
	// limit get 429 TooManyRequestsException with a Retry-After header. Off
	// when nil.
	ControlPlaneRateLimits map[string]RateLimit
	// AccountThrottle is the account-level data-plane throttle (AWS default
	// is 10000 rps, burst 5000). Off when nil.
	AccountThrottle *RateLimit
	// Now is the clock for timestamps (created dates, metrics, quota
	// periods); default time.Now.
	Now func() time.Time
	// ThrottleNow is the clock of the token buckets (data plane and control
	// plane rate limits); default time.Now. It is separate from Now so that
	// tests can pin metric timestamps while throttling runs in real time.
	ThrottleNow func() time.Time
	// S3MaxBytes bounds the bytes the S3 emulator keeps in memory (objects
	// and parts of unfinished multipart uploads); default DefaultS3MaxBytes.
	S3MaxBytes int64
	// Log, when set, gets one line per control-plane and CloudWatch call
	// ("UpdateUsagePlan 200", "CreateApiKey 400 BadRequestException: …").
	Log io.Writer
}

// Sandbox is an in-memory API Gateway + CloudWatch emulator.
type Sandbox struct {
	opts Options

	mu    sync.Mutex // guards the control-plane state below
	state *state

	logMu sync.Mutex

	callsMu sync.Mutex
	calls   map[string]int
	inject  map[string][]injectedError
	noops   map[string]int // op → silent no-ops left (InjectSilentNoOps)

	routes   []Route           // written only by New
	readers  map[string]opFunc // GET handler by path pattern (silent no-ops)
	cpLimits map[string]*TokenBucket

	backendsMu     sync.RWMutex
	backends       map[string]http.Handler // apiID -> handler
	methodBackends map[string]http.Handler // apiID + " " + METHOD + " " + resourcePath -> handler

	dp *dataPlane
	s3 *s3Store

	metrics metricsSink

	cpMux *http.ServeMux
	v2Mux *http.ServeMux
	cw    http.Handler

	srvMu    sync.Mutex
	srv      *http.Server
	url      string
	serveErr chan error
}

// unusedConns holds the server's connections that have not carried a
// request yet, so that Close can drop them: http.Server.Shutdown counts a
// connection still in StateNew as busy for its first 5 seconds (a client's
// spare dial, which Go's Transport keeps when another connection freed up
// first, sits there), and that is as long as Close's whole grace.
type unusedConns struct {
	mu      sync.Mutex
	m       map[net.Conn]struct{}
	closing bool
}

// track is the server's ConnState hook: a connection leaves the set at
// its first request (or when it closes); once closing, a new one is
// closed as soon as it is accepted.
func (c *unusedConns) track(conn net.Conn, st http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case st == http.StateNew && c.closing:
		_ = conn.Close()
	case st == http.StateNew:
		c.m[conn] = struct{}{}
	default:
		delete(c.m, conn)
	}
}

// close is the server's shutdown hook: it closes the connections no
// request has been read from, and those accepted from now on.
func (c *unusedConns) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	for conn := range c.m {
		_ = conn.Close()
	}
	clear(c.m)
}

type injectedError struct {
	code    int
	errType string
	message string
}

// New returns a Sandbox with the given options.
func New(opts Options) *Sandbox {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ThrottleNow == nil {
		opts.ThrottleNow = time.Now
	}
	s := &Sandbox{
		opts:           opts,
		state:          newState(),
		calls:          map[string]int{},
		inject:         map[string][]injectedError{},
		noops:          map[string]int{},
		readers:        map[string]opFunc{},
		cpLimits:       map[string]*TokenBucket{},
		backends:       map[string]http.Handler{},
		methodBackends: map[string]http.Handler{},
	}
	for op, l := range opts.ControlPlaneRateLimits {
		s.cpLimits[op] = NewTokenBucket(l.Rate, l.Burst, opts.ThrottleNow)
	}
	s.dp = newDataPlane(s)
	s.s3 = newS3Store()
	s.initMetrics()
	s.cpMux = s.v1Routes()
	s.v2Mux = s.v2Routes()
	return s
}

// Handler serves the whole emulator on one endpoint: API Gateway v1 and v2
// control planes, CloudWatch and the data plane.
func (s *Sandbox) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Sandbox) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if isS3Request(r) {
		s.serveS3(w, r)
		return
	}
	if apiID, stage, rest, ok := dataPlaneTarget(r); ok {
		if s.dp.isHTTPAPI(apiID) {
			s.dp.serveV2(w, r, apiID, stage, rest)
		} else {
			s.dp.serve(w, r, apiID, stage, rest)
		}
		return
	}
	if isWAFv2(r) {
		s.serveWAFv2(w, r)
		return
	}
	if s.isCloudWatch(r) {
		s.serveCloudWatch(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/v2/") {
		s.v2Mux.ServeHTTP(w, r)
		return
	}
	s.cpMux.ServeHTTP(w, r)
}

// dataPlaneTarget recognises http://HOST/restapis/{id}/{stage}/_user_request_/{path}
// and the host-style http://{id}.execute-api.localhost:PORT/{stage}/{path}.
func dataPlaneTarget(r *http.Request) (apiID, stage, rest string, ok bool) {
	p := r.URL.EscapedPath()
	if strings.HasPrefix(p, "/restapis/") {
		parts := strings.SplitN(strings.TrimPrefix(p, "/restapis/"), "/", 4)
		if len(parts) >= 3 && parts[2] == "_user_request_" {
			rest := "/"
			if len(parts) == 4 {
				rest = "/" + parts[3]
			}
			return unescapeSegment(parts[0]), unescapeSegment(parts[1]), rest, true
		}
		return "", "", "", false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if i := strings.Index(host, ".execute-api."); i > 0 {
		parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 2)
		rest := "/"
		if len(parts) == 2 {
			rest = "/" + parts[1]
		}
		return host[:i], unescapeSegment(parts[0]), rest, true
	}
	return "", "", "", false
}

func unescapeSegment(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves
// Handler() in the background. It returns the base URL.
func (s *Sandbox) Start(addr string) (string, error) {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv != nil {
		return "", errors.New("sandbox already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sandbox listen on %s: %w", addr, err)
	}
	unused := &unusedConns{m: map[net.Conn]struct{}{}}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ConnState: unused.track}
	s.srv.RegisterOnShutdown(unused.close)
	s.url = "http://" + ln.Addr().String()
	s.serveErr = make(chan error, 1)
	go func(srv *http.Server, ch chan error) {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		ch <- err
	}(s.srv, s.serveErr)
	return s.url, nil
}

// URL is the base URL returned by Start ("" before Start).
func (s *Sandbox) URL() string {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	return s.url
}

// Close stops the server started by Start, waiting up to 5 seconds for
// in-flight requests; connections that never carried one are closed at
// once.
func (s *Sandbox) Close() error {
	s.srvMu.Lock()
	srv, ch := s.srv, s.serveErr
	s.srv = nil
	s.srvMu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		_ = srv.Close()
	}
	if serr := <-ch; serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("sandbox close: %w", err)
	}
	return nil
}

// InvokeURL is the data-plane base URL of a REST API stage (or of an HTTP
// API stage: the same scheme serves both).
func (s *Sandbox) InvokeURL(apiID, stage string) string {
	return s.URL() + "/restapis/" + apiID + "/" + stage + "/_user_request_"
}

// Calls returns a copy of the per-operation request counts, keyed by AWS
// operation name ("UpdateUsagePlan", "GetMetricData"); apigatewayv2
// operations are prefixed "apigatewayv2:" ("apigatewayv2:UpdateStage")
// because their names collide with v1's.
func (s *Sandbox) Calls() map[string]int {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// ResetCalls zeroes the counters returned by Calls.
func (s *Sandbox) ResetCalls() {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	s.calls = map[string]int{}
}

// InjectErrors makes the next n calls of op (named as in Calls) fail with
// the HTTP status code and error type, e.g. (429, "TooManyRequestsException").
func (s *Sandbox) InjectErrors(op string, n int, code int, errType string) {
	s.InjectErrorMessage(op, n, code, errType, "")
}

// InjectErrorMessage is InjectErrors with the error's message, for callers
// that tell errors of the same type apart by their words (a
// ConflictException about a concurrent modification is transient, one about
// a key already in another usage plan is not).
func (s *Sandbox) InjectErrorMessage(op string, n int, code int, errType, message string) {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	for i := 0; i < n; i++ {
		s.inject[op] = append(s.inject[op], injectedError{code: code, errType: errType, message: message})
	}
}

// InjectSilentNoOps makes the next n calls of the write op answer success
// without changing anything: a PATCH (UpdateUsagePlan, UpdateStage,
// UpdateApiKey…) answers 200 with the resource as it still is, a DELETE
// answers 202. It emulates a write AWS acknowledged and did not apply, which
// apictl's read-back after apply must catch. Calls of other methods are
// served normally and do not use up the count.
func (s *Sandbox) InjectSilentNoOps(op string, n int) {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	s.noops[op] += n
}

// takeSilentNoOp reports whether this call of op is to be a silent no-op.
func (s *Sandbox) takeSilentNoOp(op, httpMethod string) bool {
	if httpMethod != http.MethodPatch && httpMethod != http.MethodDelete {
		return false
	}
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	if s.noops[op] <= 0 {
		return false
	}
	s.noops[op]--
	return true
}

// SetBackend sets the default integration of a REST API: requests to any of
// its methods without a method backend go to h.
func (s *Sandbox) SetBackend(apiID string, h http.Handler) {
	s.backendsMu.Lock()
	defer s.backendsMu.Unlock()
	if h == nil {
		delete(s.backends, apiID)
		return
	}
	s.backends[apiID] = h
}

// SetMethodBackend sets the integration of one method, e.g.
// ("abc123", "GET", "/pets/{petId}", h). It wins over SetBackend.
func (s *Sandbox) SetMethodBackend(apiID, httpMethod, resourcePath string, h http.Handler) {
	s.backendsMu.Lock()
	defer s.backendsMu.Unlock()
	k := apiID + " " + strings.ToUpper(httpMethod) + " " + resourcePath
	if h == nil {
		delete(s.methodBackends, k)
		return
	}
	s.methodBackends[k] = h
}

func (s *Sandbox) backendFor(apiID, httpMethod, resourcePath string) http.Handler {
	s.backendsMu.RLock()
	defer s.backendsMu.RUnlock()
	if h, ok := s.methodBackends[apiID+" "+httpMethod+" "+resourcePath]; ok {
		return h
	}
	return s.backends[apiID]
}

// countCall counts a call and reports an injected error or control-plane
// rate limit that applies to it.
func (s *Sandbox) countCall(op string) *apiError {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	s.calls[op]++
	if q := s.inject[op]; len(q) > 0 {
		e := q[0]
		s.inject[op] = q[1:]
		if len(s.inject[op]) == 0 {
			delete(s.inject, op)
		}
		msg := "injected error"
		if e.code == http.StatusTooManyRequests {
			msg = "Too Many Requests"
		}
		if e.message != "" {
			msg = e.message
		}
		return &apiError{Status: e.code, Type: e.errType, Message: msg, RetryAfter: retryAfterFor(e.code, 1)}
	}
	if b, ok := s.cpLimits[op]; ok {
		if !b.Allow() {
			wait := b.Wait()
			return &apiError{Status: http.StatusTooManyRequests, Type: "TooManyRequestsException",
				Message: "Too Many Requests", RetryAfter: retryAfterFor(429, wait)}
		}
	}
	return nil
}

func (s *Sandbox) logCall(op string, status int, detail string) {
	if s.opts.Log == nil {
		return
	}
	line := op + " " + fmt.Sprint(status)
	if detail != "" {
		line += " " + detail
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Fprintln(s.opts.Log, line)
}

func retryAfterFor(code int, wait time.Duration) string {
	if code != http.StatusTooManyRequests {
		return ""
	}
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return fmt.Sprint(secs)
}

// readBody reads and restores r.Body so that it can be read again.
func readBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b
}

// cloudWatchOp names the CloudWatch operation of a request for Calls.
func cloudWatchOp(r *http.Request) string {
	if i := strings.Index(r.URL.Path, "/operation/"); i >= 0 {
		return r.URL.Path[i+len("/operation/"):]
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if i := strings.LastIndex(t, "."); i >= 0 {
			return t[i+1:]
		}
		return t
	}
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	body := readBody(r)
	if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
		return v.Get("Action")
	}
	return "CloudWatchUnknown"
}

// AWSControlPlaneLimits returns the documented API Gateway control-plane
// rate limits that matter to apictl, per account and region (Amazon API
// Gateway quotas): UpdateUsagePlan 1 call per 20 seconds, CreateApiKey 5
// per second; UpdateStage is limited more gently so that bursts of stage
// updates meet 429s as they can on AWS. The overall limit of about 10 calls
// per second (burst 40) across all operations is not emulated.
func AWSControlPlaneLimits() map[string]RateLimit {
	return map[string]RateLimit{
		"UpdateUsagePlan": {Rate: 1.0 / 20, Burst: 1},
		"CreateApiKey":    {Rate: 5, Burst: 5},
		"UpdateStage":     {Rate: 1.0 / 2, Burst: 3},
	}
}
