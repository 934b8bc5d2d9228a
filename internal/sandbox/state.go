package sandbox

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// state is the control-plane data; guarded by Sandbox.mu.
type state struct {
	apis       map[string]*restAPI
	apiOrder   []string
	plans      map[string]*usagePlan
	planOrder  []string
	keys       map[string]*apiKey
	keyByValue map[string]*apiKey
	keyOrder   []string
	v2apis     map[string]*httpAPI
	v2Order    []string
	securityState
}

func newState() *state {
	return &state{
		apis:       map[string]*restAPI{},
		plans:      map[string]*usagePlan{},
		keys:       map[string]*apiKey{},
		keyByValue: map[string]*apiKey{},
		v2apis:     map[string]*httpAPI{},
		securityState: securityState{
			domains:     map[string]*domainName{},
			clientCerts: map[string]*clientCertificate{},
			webACLs:     map[string]*webACL{},
		},
	}
}

// planUsing is the first usage plan with stage stageName of REST API apiID
// (any of its stages when stageName is ""), nil when none has.
func (st *state) planUsing(apiID, stageName string) *usagePlan {
	for _, id := range st.planOrder {
		p := st.plans[id]
		for _, as := range p.APIStages {
			if as.APIID == apiID && (stageName == "" || as.Stage == stageName) {
				return p
			}
		}
	}
	return nil
}

type restAPI struct {
	ID, Name, Description string
	APIKeySource          string
	EndpointTypes         []string
	Created               time.Time
	Tags                  map[string]string
	RootID                string
	Resources             map[string]*resource
	ResourceOrder         []string
	Deployments           map[string]*deployment
	DeploymentOrder       []string
	Stages                map[string]*stage
	StageOrder            []string
	restAPISecurity
}

type resource struct {
	ID, ParentID, PathPart, Path string
	Methods                      map[string]*method
}

type method struct {
	HTTPMethod          string            `json:"httpMethod"`
	AuthorizationType   string            `json:"authorizationType"`
	AuthorizerID        string            `json:"authorizerId,omitempty"`
	APIKeyRequired      bool              `json:"apiKeyRequired"`
	OperationName       string            `json:"operationName,omitempty"`
	RequestParameters   map[string]bool   `json:"requestParameters,omitempty"`
	RequestModels       map[string]string `json:"requestModels,omitempty"`
	AuthorizationScopes []string          `json:"authorizationScopes,omitempty"`
	Integration         *integration      `json:"methodIntegration,omitempty"`
}

type integration struct {
	Type                string            `json:"type"`
	HTTPMethod          string            `json:"httpMethod,omitempty"`
	URI                 string            `json:"uri,omitempty"`
	ConnectionType      string            `json:"connectionType,omitempty"`
	ConnectionID        string            `json:"connectionId,omitempty"`
	PassthroughBehavior string            `json:"passthroughBehavior,omitempty"`
	TimeoutInMillis     int               `json:"timeoutInMillis"`
	RequestParameters   map[string]string `json:"requestParameters,omitempty"`
	RequestTemplates    map[string]string `json:"requestTemplates,omitempty"`
	CacheNamespace      string            `json:"cacheNamespace,omitempty"`
	CacheKeyParameters  []string          `json:"cacheKeyParameters"`
}

type deployment struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	Created     epoch  `json:"createdDate"`
	// snap is the API's resources and methods as they were when the
	// deployment was created: what the data plane serves for stages that
	// point at it (changes made later take effect on a new deployment).
	snap *restAPI
}

// snapshot deep-copies the resources and methods of a for a deployment.
func (a *restAPI) snapshot() *restAPI {
	c := &restAPI{ID: a.ID, Name: a.Name, RootID: a.RootID, Resources: make(map[string]*resource, len(a.Resources)),
		ResourceOrder: append([]string(nil), a.ResourceOrder...)}
	for id, r := range a.Resources {
		rc := *r
		rc.Methods = make(map[string]*method, len(r.Methods))
		for k, m := range r.Methods {
			mc := *m
			if m.Integration != nil {
				ic := *m.Integration
				mc.Integration = &ic
			}
			rc.Methods[k] = &mc
		}
		c.Resources[id] = &rc
	}
	return c
}

// deployed is what stage st of a serves: the snapshot its deployment took
// (a itself when it has none), and that deployment. The live API and a
// snapshot are both *restAPI, so one set of views serves both.
func (a *restAPI) deployed(st *stage) (*restAPI, *deployment) {
	d, ok := a.Deployments[st.DeploymentID]
	if !ok {
		return a, nil
	}
	if d.snap == nil {
		return a, d
	}
	return d.snap, d
}

// summary is GetDeployment's embed=apisummary view of an API (a deployment's
// snapshot): path → HTTP method → authorizationType and apiKeyRequired.
func (a *restAPI) summary() map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, id := range a.ResourceOrder {
		r := a.Resources[id]
		if len(r.Methods) == 0 {
			continue
		}
		ms := map[string]any{}
		for k, m := range r.Methods {
			ms[k] = map[string]any{"authorizationType": m.AuthorizationType, "apiKeyRequired": m.APIKeyRequired}
		}
		out[r.Path] = ms
	}
	return out
}

type stage struct {
	Name           string
	DeploymentID   string
	Description    string
	Created        time.Time
	Updated        time.Time
	Variables      map[string]string
	MethodSettings map[string]*methodSetting // "~1pets/GET", "*/*"
	Tags           map[string]string
	TracingEnabled bool
	stageSecurity
}

type methodSetting struct {
	MetricsEnabled                         bool    `json:"metricsEnabled"`
	LoggingLevel                           string  `json:"loggingLevel"`
	DataTraceEnabled                       bool    `json:"dataTraceEnabled"`
	ThrottlingBurstLimit                   int     `json:"throttlingBurstLimit"`
	ThrottlingRateLimit                    float64 `json:"throttlingRateLimit"`
	CachingEnabled                         bool    `json:"cachingEnabled"`
	CacheTTLInSeconds                      int     `json:"cacheTtlInSeconds"`
	CacheDataEncrypted                     bool    `json:"cacheDataEncrypted"`
	RequireAuthorizationForCacheControl    bool    `json:"requireAuthorizationForCacheControl"`
	UnauthorizedCacheControlHeaderStrategy string  `json:"unauthorizedCacheControlHeaderStrategy"`
}

// defaultMethodSetting is what AWS fills in when a method setting is first
// created: the account default throttle (10000 rps, burst 5000).
func defaultMethodSetting() *methodSetting {
	return &methodSetting{
		LoggingLevel:                           "OFF",
		ThrottlingBurstLimit:                   5000,
		ThrottlingRateLimit:                    10000,
		CacheTTLInSeconds:                      300,
		RequireAuthorizationForCacheControl:    true,
		UnauthorizedCacheControlHeaderStrategy: "SUCCEED_WITH_RESPONSE_HEADER",
	}
}

type usagePlan struct {
	ID, Name, Description, ProductCode string
	APIStages                          []*apiStage
	Throttle                           *throttleSettings
	Quota                              *quotaSettings
	Tags                               map[string]string
	KeyOrder                           []string
}

type apiStage struct {
	APIID    string                      `json:"apiId"`
	Stage    string                      `json:"stage"`
	Throttle map[string]throttleSettings `json:"throttle,omitempty"`
}

type throttleSettings struct {
	BurstLimit int     `json:"burstLimit"`
	RateLimit  float64 `json:"rateLimit"`
}

type quotaSettings struct {
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
	Period string `json:"period"`
}

type apiKey struct {
	ID, Value, Name, Description, CustomerID string
	Enabled                                  bool
	Created, Updated                         time.Time
	StageKeys                                []string
	Tags                                     map[string]string
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

func newID(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idAlphabet[rand.IntN(len(idAlphabet))]
	}
	return string(b)
}

func newRequestID() string {
	return newID(8) + "-" + newID(4) + "-" + newID(4) + "-" + newID(4) + "-" + newID(12)
}

func newKeyValue() string {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 40)
	for i := range b {
		b[i] = alpha[rand.IntN(len(alpha))]
	}
	return string(b)
}

// paginate applies API Gateway's position/limit paging: position is an
// opaque token (here the index of the next item), limit defaults to 25 and
// may be at most 500.
func paginate[T any](r *http.Request, items []T) ([]T, string, *apiError) {
	q := r.URL.Query()
	limit := 25
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return nil, "", badRequest("Invalid limit: %s (must be between 1 and 500)", l)
		}
		limit = n
	}
	return paginateWith(q.Get("position"), limit, items)
}

func paginateWith[T any](position string, limit int, items []T) ([]T, string, *apiError) {
	start := 0
	if position != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(position, "p"))
		if err != nil || n < 0 || n > len(items) {
			return nil, "", badRequest("Invalid position parameter")
		}
		start = n
	}
	end := min(start+limit, len(items))
	next := ""
	if end < len(items) {
		next = "p" + strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

func decodeBody(r *http.Request, v any) *apiError {
	b := readBody(r)
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return badRequest("Invalid request body: %v", err)
	}
	return nil
}

type patchOp struct {
	Op    string  `json:"op"`
	Path  string  `json:"path"`
	Value *string `json:"value"`
	From  string  `json:"from"`
}

func (p patchOp) value() string {
	if p.Value == nil {
		return ""
	}
	return *p.Value
}

// badOp is the error of an operation the path does not take.
func badOp(op patchOp, allowed string) *apiError {
	return badRequest("Invalid patch operation specified. Must be one of: [%s] for path %s, got %q", allowed, op.Path, op.Op)
}

func decodePatch(r *http.Request) ([]patchOp, *apiError) {
	var in struct {
		PatchOperations []patchOp `json:"patchOperations"`
	}
	if err := decodeBody(r, &in); err != nil {
		return nil, err
	}
	return in.PatchOperations, nil
}

// unescapePointer decodes a JSON-pointer segment: ~1 is '/', ~0 is '~'.
func unescapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func copyMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return nil
	}
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func removeString(list []string, v string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

func parseBool(s string) (bool, *apiError) {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, badRequest("Invalid boolean value: %q", s)
	}
	return b, nil
}

func parseFloat(s string) (float64, *apiError) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, badRequest("Invalid number value: %q", s)
	}
	return f, nil
}

func parseInt(s string) (int, *apiError) {
	n, err := strconv.Atoi(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != float64(int(f)) {
			return 0, badRequest("Invalid integer value: %q", s)
		}
		n = int(f)
	}
	return n, nil
}
