package sandbox

import (
	"net/http"
	"strconv"
	"time"

	"github.com/apictl/apictl/internal/awsfacts"
)

// HTTP APIs (apigatewayv2): apis, routes, stages with route settings.

type httpAPI struct {
	ID, Name, Description, ProtocolType string
	Created                             time.Time
	Tags                                map[string]string
	Routes                              map[string]*route
	RouteOrder                          []string
	Stages                              map[string]*httpStage
	StageOrder                          []string
}

type route struct {
	RouteID           string `json:"routeId"`
	RouteKey          string `json:"routeKey"`
	Target            string `json:"target,omitempty"`
	AuthorizationType string `json:"authorizationType"`
	APIKeyRequired    bool   `json:"apiKeyRequired"`
	OperationName     string `json:"operationName,omitempty"`
	APIGatewayManaged bool   `json:"apiGatewayManaged"`
}

type routeSettings struct {
	DataTraceEnabled       *bool    `json:"dataTraceEnabled,omitempty"`
	DetailedMetricsEnabled *bool    `json:"detailedMetricsEnabled,omitempty"`
	LoggingLevel           *string  `json:"loggingLevel,omitempty"`
	ThrottlingBurstLimit   *int     `json:"throttlingBurstLimit,omitempty"`
	ThrottlingRateLimit    *float64 `json:"throttlingRateLimit,omitempty"`
}

func (rs *routeSettings) merge(in *routeSettings) {
	if in == nil {
		return
	}
	if in.DataTraceEnabled != nil {
		rs.DataTraceEnabled = in.DataTraceEnabled
	}
	if in.DetailedMetricsEnabled != nil {
		rs.DetailedMetricsEnabled = in.DetailedMetricsEnabled
	}
	if in.LoggingLevel != nil {
		rs.LoggingLevel = in.LoggingLevel
	}
	if in.ThrottlingBurstLimit != nil {
		rs.ThrottlingBurstLimit = in.ThrottlingBurstLimit
	}
	if in.ThrottlingRateLimit != nil {
		rs.ThrottlingRateLimit = in.ThrottlingRateLimit
	}
}

type httpStage struct {
	StageName            string                    `json:"stageName"`
	Description          string                    `json:"description,omitempty"`
	DeploymentID         string                    `json:"deploymentId,omitempty"`
	AutoDeploy           bool                      `json:"autoDeploy"`
	DefaultRouteSettings *routeSettings            `json:"defaultRouteSettings,omitempty"`
	RouteSettings        map[string]*routeSettings `json:"routeSettings"`
	StageVariables       map[string]string         `json:"stageVariables,omitempty"`
	Tags                 map[string]string         `json:"tags"`
	Created              isoTime                   `json:"createdDate"`
	Updated              isoTime                   `json:"lastUpdatedDate"`
	APIGatewayManaged    bool                      `json:"apiGatewayManaged"`
	AccessLogSettings    *accessLogSettings        `json:"accessLogSettings,omitempty"`
}

func (s *Sandbox) v2Routes() *http.ServeMux {
	m := http.NewServeMux()
	h := func(pattern, op string, fn opFunc) { s.handle(m, pattern, "apigatewayv2:"+op, fn) }
	h("POST /v2/apis", "CreateApi", s.v2CreateAPI)
	h("GET /v2/apis", "GetApis", s.v2GetAPIs)
	h("GET /v2/apis/{ApiId}", "GetApi", s.v2GetAPI)
	h("DELETE /v2/apis/{ApiId}", "DeleteApi", s.v2DeleteAPI)
	h("POST /v2/apis/{ApiId}/routes", "CreateRoute", s.v2CreateRoute)
	h("GET /v2/apis/{ApiId}/routes", "GetRoutes", s.v2GetRoutes)
	h("GET /v2/apis/{ApiId}/routes/{RouteId}", "GetRoute", s.v2GetRoute)
	h("POST /v2/apis/{ApiId}/stages", "CreateStage", s.v2CreateStage)
	h("GET /v2/apis/{ApiId}/stages", "GetStages", s.v2GetStages)
	h("GET /v2/apis/{ApiId}/stages/{StageName}", "GetStage", s.v2GetStage)
	h("PATCH /v2/apis/{ApiId}/stages/{StageName}", "UpdateStage", s.v2UpdateStage)
	h("DELETE /v2/apis/{ApiId}/stages/{StageName}", "DeleteStage", s.v2DeleteStage)
	h("DELETE /v2/apis/{ApiId}/stages/{StageName}/routesettings/{RouteKey}", "DeleteRouteSettings", s.v2DeleteRouteSettings)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{Status: http.StatusNotFound, Type: "NotFoundException",
			Message: "unknown operation " + r.Method + " " + r.URL.Path})
	})
	return m
}

func (s *Sandbox) v2APIView(a *httpAPI) map[string]any {
	tags := a.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	out := map[string]any{
		"apiId":                     a.ID,
		"name":                      a.Name,
		"protocolType":              a.ProtocolType,
		"apiEndpoint":               "https://" + awsfacts.ExecuteAPIHost(a.ID, s.opts.Region),
		"createdDate":               isoTime(a.Created),
		"routeSelectionExpression":  "$request.method $request.path",
		"apiKeySelectionExpression": "$request.header.x-api-key",
		"disableExecuteApiEndpoint": false,
		"tags":                      tags,
	}
	if a.Description != "" {
		out["description"] = a.Description
	}
	return out
}

// v2Page applies maxResults/nextToken paging.
func v2Page[T any](r *http.Request, items []T) ([]T, string, *apiError) {
	limit := 100
	if l := r.URL.Query().Get("maxResults"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return nil, "", badRequest("Invalid maxResults: %s", l)
		}
		limit = n
	}
	return paginateWith(r.URL.Query().Get("nextToken"), limit, items)
}

func v2ListOut(items []any, next string) map[string]any {
	out := map[string]any{"items": items}
	if next != "" {
		out["nextToken"] = next
	}
	return out
}

func (s *Sandbox) v2CreateAPI(c *call) (int, any, *apiError) {
	var in struct {
		Name         string            `json:"name"`
		Description  string            `json:"description"`
		ProtocolType string            `json:"protocolType"`
		Tags         map[string]string `json:"tags"`
	}
	if e := c.decode(&in); e != nil {
		return 0, nil, e
	}
	if in.Name == "" {
		return 0, nil, badRequest("Invalid API name: name must not be blank")
	}
	if in.ProtocolType != "HTTP" && in.ProtocolType != "WEBSOCKET" {
		return 0, nil, badRequest("Invalid protocolType %q: must be HTTP or WEBSOCKET", in.ProtocolType)
	}
	a := &httpAPI{ID: newID(10), Name: in.Name, Description: in.Description, ProtocolType: in.ProtocolType,
		Created: s.opts.Now(), Tags: copyMap(in.Tags), Routes: map[string]*route{}, Stages: map[string]*httpStage{}}
	s.state.v2apis[a.ID] = a
	s.state.v2Order = append(s.state.v2Order, a.ID)
	return http.StatusCreated, s.v2APIView(a), nil
}

func (s *Sandbox) v2GetAPIs(c *call) (int, any, *apiError) {
	return v2ListPage(c, s.state.v2Order, func(id string) any { return s.v2APIView(s.state.v2apis[id]) })
}

func (s *Sandbox) v2GetAPI(c *call) (int, any, *apiError) {
	return 200, s.v2APIView(c.httpAPI), nil
}

func (s *Sandbox) v2DeleteAPI(c *call) (int, any, *apiError) {
	a := c.httpAPI
	delete(s.state.v2apis, a.ID)
	s.state.v2Order = removeString(s.state.v2Order, a.ID)
	return http.StatusNoContent, nil, nil
}

func (a *httpAPI) routeByKey(key string) *route {
	for _, id := range a.RouteOrder {
		if a.Routes[id].RouteKey == key {
			return a.Routes[id]
		}
	}
	return nil
}

func (s *Sandbox) v2CreateRoute(c *call) (int, any, *apiError) {
	a := c.httpAPI
	var in struct {
		RouteKey          string `json:"routeKey"`
		Target            string `json:"target"`
		AuthorizationType string `json:"authorizationType"`
		APIKeyRequired    bool   `json:"apiKeyRequired"`
		OperationName     string `json:"operationName"`
	}
	if e := c.decode(&in); e != nil {
		return 0, nil, e
	}
	if in.RouteKey == "" {
		return 0, nil, badRequest("Invalid route key: routeKey is required, e.g. \"GET /items\"")
	}
	if a.routeByKey(in.RouteKey) != nil {
		return 0, nil, conflict("Route with key %s already exists for this API", in.RouteKey)
	}
	if in.AuthorizationType == "" {
		in.AuthorizationType = "NONE"
	}
	rt := &route{RouteID: newID(7), RouteKey: in.RouteKey, Target: in.Target, AuthorizationType: in.AuthorizationType,
		APIKeyRequired: in.APIKeyRequired, OperationName: in.OperationName}
	a.Routes[rt.RouteID] = rt
	a.RouteOrder = append(a.RouteOrder, rt.RouteID)
	return http.StatusCreated, rt, nil
}

func (s *Sandbox) v2GetRoutes(c *call) (int, any, *apiError) {
	a := c.httpAPI
	return v2ListPage(c, a.RouteOrder, func(id string) any { return a.Routes[id] })
}

func (s *Sandbox) v2GetRoute(c *call) (int, any, *apiError) {
	return 200, c.route, nil
}

type v2StageIn struct {
	StageName            string                    `json:"stageName"`
	Description          *string                   `json:"description"`
	DeploymentID         *string                   `json:"deploymentId"`
	AutoDeploy           *bool                     `json:"autoDeploy"`
	DefaultRouteSettings *routeSettings            `json:"defaultRouteSettings"`
	RouteSettings        map[string]*routeSettings `json:"routeSettings"`
	StageVariables       map[string]string         `json:"stageVariables"`
	Tags                 map[string]string         `json:"tags"`
	AccessLogSettings    *accessLogSettings        `json:"accessLogSettings"`
}

// applyV2Stage merges in into st (UpdateStage merges route settings per
// route key and per field).
func applyV2Stage(a *httpAPI, st *httpStage, in *v2StageIn) *apiError {
	for k, rs := range in.RouteSettings {
		if a.routeByKey(k) == nil {
			return notFound("Unable to find Route by key %s within the provided RouteSettings", k)
		}
		if err := checkRouteSettings(rs); err != nil {
			return err
		}
	}
	if err := checkRouteSettings(in.DefaultRouteSettings); err != nil {
		return err
	}
	if e := applyV2AccessLog(st, in.AccessLogSettings); e != nil {
		return e
	}
	if in.Description != nil {
		st.Description = *in.Description
	}
	if in.DeploymentID != nil {
		st.DeploymentID = *in.DeploymentID
	}
	if in.AutoDeploy != nil {
		st.AutoDeploy = *in.AutoDeploy
	}
	if in.DefaultRouteSettings != nil {
		if st.DefaultRouteSettings == nil {
			st.DefaultRouteSettings = &routeSettings{}
		}
		st.DefaultRouteSettings.merge(in.DefaultRouteSettings)
	}
	for k, rs := range in.RouteSettings {
		cur, ok := st.RouteSettings[k]
		if !ok {
			cur = &routeSettings{}
			st.RouteSettings[k] = cur
		}
		cur.merge(rs)
	}
	for k, v := range in.StageVariables {
		if st.StageVariables == nil {
			st.StageVariables = map[string]string{}
		}
		st.StageVariables[k] = v
	}
	return nil
}

func checkRouteSettings(rs *routeSettings) *apiError {
	if rs == nil {
		return nil
	}
	if (rs.ThrottlingBurstLimit != nil && *rs.ThrottlingBurstLimit < 0) || (rs.ThrottlingRateLimit != nil && *rs.ThrottlingRateLimit < 0) {
		return badRequest("Throttling limits must be non-negative")
	}
	return nil
}

func cloneHTTPStage(st *httpStage) *httpStage {
	c := *st
	if st.DefaultRouteSettings != nil {
		d := *st.DefaultRouteSettings
		c.DefaultRouteSettings = &d
	}
	c.RouteSettings = map[string]*routeSettings{}
	for k, v := range st.RouteSettings {
		rv := *v
		c.RouteSettings[k] = &rv
	}
	c.StageVariables = copyMap(st.StageVariables)
	c.Tags = copyMap(st.Tags)
	return &c
}

func (s *Sandbox) v2CreateStage(c *call) (int, any, *apiError) {
	a := c.httpAPI
	var in v2StageIn
	if e := c.decode(&in); e != nil {
		return 0, nil, e
	}
	if in.StageName == "" {
		return 0, nil, badRequest("Stage name must be non-empty")
	}
	if _, ok := a.Stages[in.StageName]; ok {
		return 0, nil, conflict("Stage %s already exists", in.StageName)
	}
	now := isoTime(s.opts.Now())
	st := &httpStage{StageName: in.StageName, RouteSettings: map[string]*routeSettings{}, Tags: copyMap(in.Tags),
		Created: now, Updated: now, DefaultRouteSettings: &routeSettings{}}
	if st.Tags == nil {
		st.Tags = map[string]string{}
	}
	if e := applyV2Stage(a, st, &in); e != nil {
		return 0, nil, e
	}
	a.Stages[st.StageName] = st
	a.StageOrder = append(a.StageOrder, st.StageName)
	return http.StatusCreated, st, nil
}

func (s *Sandbox) v2GetStages(c *call) (int, any, *apiError) {
	a := c.httpAPI
	return v2ListPage(c, a.StageOrder, func(n string) any { return a.Stages[n] })
}

func (s *Sandbox) v2GetStage(c *call) (int, any, *apiError) {
	return 200, c.httpStage, nil
}

func (s *Sandbox) v2UpdateStage(c *call) (int, any, *apiError) {
	a, st := c.httpAPI, c.httpStage
	var in v2StageIn
	if e := c.decode(&in); e != nil {
		return 0, nil, e
	}
	work := cloneHTTPStage(st)
	if e := applyV2Stage(a, work, &in); e != nil {
		return 0, nil, e
	}
	work.Updated = isoTime(s.opts.Now())
	*st = *work
	return 200, st, nil
}

func (s *Sandbox) v2DeleteStage(c *call) (int, any, *apiError) {
	a, st := c.httpAPI, c.httpStage
	delete(a.Stages, st.StageName)
	a.StageOrder = removeString(a.StageOrder, st.StageName)
	return http.StatusNoContent, nil, nil
}

func (s *Sandbox) v2DeleteRouteSettings(c *call) (int, any, *apiError) {
	st := c.httpStage
	key := c.PathValue("RouteKey")
	if _, ok := st.RouteSettings[key]; !ok {
		return 0, nil, notFound("Unable to find route settings for route key %s in stage %s", key, st.StageName)
	}
	delete(st.RouteSettings, key)
	st.Updated = isoTime(s.opts.Now())
	return http.StatusNoContent, nil, nil
}
