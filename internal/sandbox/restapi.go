package sandbox

import (
	"net/http"
	"slices"
	"strings"

	"github.com/apictl/apictl/internal/awsfacts"
)

type opFunc func(r *http.Request) (int, any, *apiError)

// wrap counts the call, applies injected errors and rate limits, runs fn
// under the state lock and writes its answer.
func (s *Sandbox) wrap(op string, fn opFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if e := s.countCall(op); e != nil {
			s.logCall(op, e.Status, e.Type)
			writeError(w, e)
			return
		}
		serve := fn
		if s.takeSilentNoOp(op, r.Method) {
			serve = s.silentNoOp(r)
		}
		s.mu.Lock()
		status, out, e := serve(r)
		s.mu.Unlock()
		if e != nil {
			s.logCall(op, e.Status, e.Type+": "+e.Message)
			writeError(w, e)
			return
		}
		s.logCall(op, status, "")
		writeJSON(w, status, out)
	}
}

// silentNoOp is the answer of a write that is acknowledged and not applied
// (InjectSilentNoOps): a PATCH answers the resource as it is (the GET of
// the same path), a DELETE 202 without a body.
func (s *Sandbox) silentNoOp(r *http.Request) opFunc {
	if r.Method == http.MethodPatch {
		_, path, _ := strings.Cut(r.Pattern, " ")
		if get := s.readers[path]; get != nil {
			return get
		}
	}
	return func(*http.Request) (int, any, *apiError) { return http.StatusAccepted, nil, nil }
}

// Route is one control-plane operation the emulator serves: its AWS
// operation name (as in Calls), HTTP method and path pattern.
type Route struct {
	Op, Method, Path string
}

// Routes lists the control-plane operations of API Gateway (v1 and v2) the
// emulator serves, in registration order; CloudWatch operations are not
// included (they are all POSTs to /).
func (s *Sandbox) Routes() []Route {
	return append([]Route(nil), s.routes...)
}

// handle registers fn for pattern ("PATCH /usageplans/{usagePlanId}") as
// operation op on m.
func (s *Sandbox) handle(m *http.ServeMux, pattern, op string, fn opFunc) {
	m.HandleFunc(pattern, s.wrap(op, fn))
	method, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, Route{Op: op, Method: method, Path: path})
	if method == http.MethodGet {
		s.readers[path] = fn
	}
}

func (s *Sandbox) v1Routes() *http.ServeMux {
	m := http.NewServeMux()
	h := func(pattern, op string, fn opFunc) { s.handle(m, pattern, op, fn) }

	h("POST /restapis", "CreateRestApi", s.createRestAPI)
	h("GET /restapis", "GetRestApis", s.getRestAPIs)
	h("GET /restapis/{restApiId}", "GetRestApi", s.getRestAPI)
	h("DELETE /restapis/{restApiId}", "DeleteRestApi", s.deleteRestAPI)

	h("GET /restapis/{restApiId}/resources", "GetResources", s.getResources)
	h("GET /restapis/{restApiId}/resources/{resourceId}", "GetResource", s.getResource)
	h("POST /restapis/{restApiId}/resources/{parentId}", "CreateResource", s.createResource)
	h("DELETE /restapis/{restApiId}/resources/{resourceId}", "DeleteResource", s.deleteResource)

	h("PUT /restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}", "PutMethod", s.putMethod)
	h("GET /restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}", "GetMethod", s.getMethod)
	h("PATCH /restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}", "UpdateMethod", s.updateMethod)
	h("DELETE /restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}", "DeleteMethod", s.deleteMethod)
	h("PUT /restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}/integration", "PutIntegration", s.putIntegration)
	h("GET /restapis/{restApiId}/resources/{resourceId}/methods/{httpMethod}/integration", "GetIntegration", s.getIntegration)

	h("POST /restapis/{restApiId}/deployments", "CreateDeployment", s.createDeployment)
	h("GET /restapis/{restApiId}/deployments", "GetDeployments", s.getDeployments)
	h("GET /restapis/{restApiId}/deployments/{deploymentId}", "GetDeployment", s.getDeployment)

	h("POST /restapis/{restApiId}/stages", "CreateStage", s.createStage)
	h("GET /restapis/{restApiId}/stages", "GetStages", s.getStages)
	h("GET /restapis/{restApiId}/stages/{stageName}", "GetStage", s.getStage)
	h("PATCH /restapis/{restApiId}/stages/{stageName}", "UpdateStage", s.updateStage)
	h("DELETE /restapis/{restApiId}/stages/{stageName}", "DeleteStage", s.deleteStage)
	// GetExport answers a document, not JSON through wrap: registered by hand.
	m.HandleFunc("GET /restapis/{restApiId}/stages/{stageName}/exports/{exportType}", s.getExport)
	s.routes = append(s.routes, Route{Op: "GetExport", Method: http.MethodGet, Path: "/restapis/{restApiId}/stages/{stageName}/exports/{exportType}"})

	h("POST /usageplans", "CreateUsagePlan", s.createUsagePlan)
	h("GET /usageplans", "GetUsagePlans", s.getUsagePlans)
	h("GET /usageplans/{usagePlanId}", "GetUsagePlan", s.getUsagePlan)
	h("PATCH /usageplans/{usagePlanId}", "UpdateUsagePlan", s.updateUsagePlan)
	h("DELETE /usageplans/{usagePlanId}", "DeleteUsagePlan", s.deleteUsagePlan)
	h("POST /usageplans/{usagePlanId}/keys", "CreateUsagePlanKey", s.createUsagePlanKey)
	h("GET /usageplans/{usagePlanId}/keys", "GetUsagePlanKeys", s.getUsagePlanKeys)
	h("GET /usageplans/{usagePlanId}/keys/{keyId}", "GetUsagePlanKey", s.getUsagePlanKey)
	h("DELETE /usageplans/{usagePlanId}/keys/{keyId}", "DeleteUsagePlanKey", s.deleteUsagePlanKey)

	h("POST /apikeys", "CreateApiKey", s.createAPIKey)
	h("GET /apikeys", "GetApiKeys", s.getAPIKeys)
	h("GET /apikeys/{apiKey}", "GetApiKey", s.getAPIKey)
	h("PATCH /apikeys/{apiKey}", "UpdateApiKey", s.updateAPIKey)
	h("DELETE /apikeys/{apiKey}", "DeleteApiKey", s.deleteAPIKey)

	h("GET /tags/{resourceArn...}", "GetTags", s.getTags)
	h("PUT /tags/{resourceArn...}", "TagResource", s.tagResource)
	h("DELETE /tags/{resourceArn...}", "UntagResource", s.untagResource)

	h("GET /account", "GetAccount", s.getAccount)
	s.securityRoutes(h)

	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{Status: http.StatusNotFound, Type: "UnknownOperationException",
			Message: "unknown operation " + r.Method + " " + r.URL.Path})
	})
	return m
}

// ---- REST APIs ----

func (s *Sandbox) restAPIView(a *restAPI) map[string]any {
	out := map[string]any{
		"id":                        a.ID,
		"name":                      a.Name,
		"createdDate":               epoch(a.Created),
		"apiKeySource":              a.APIKeySource,
		"endpointConfiguration":     map[string]any{"types": a.EndpointTypes},
		"disableExecuteApiEndpoint": false,
		"rootResourceId":            a.RootID,
	}
	if a.Description != "" {
		out["description"] = a.Description
	}
	if len(a.Tags) > 0 {
		out["tags"] = a.Tags
	}
	a.restAPISecurity.view(out)
	return out
}

func (s *Sandbox) createRestAPI(r *http.Request) (int, any, *apiError) {
	var in struct {
		Name                  string            `json:"name"`
		Description           string            `json:"description"`
		APIKeySource          string            `json:"apiKeySource"`
		Tags                  map[string]string `json:"tags"`
		EndpointConfiguration *struct {
			Types []string `json:"types"`
		} `json:"endpointConfiguration"`
	}
	if e := decodeBody(r, &in); e != nil {
		return 0, nil, e
	}
	if in.Name == "" {
		return 0, nil, badRequest("Invalid REST API name specified: name must not be blank")
	}
	a := &restAPI{
		ID: newID(10), Name: in.Name, Description: in.Description, APIKeySource: in.APIKeySource,
		EndpointTypes: []string{"EDGE"}, Created: s.opts.Now(), Tags: copyMap(in.Tags),
		Resources: map[string]*resource{}, Deployments: map[string]*deployment{}, Stages: map[string]*stage{},
	}
	if a.APIKeySource == "" {
		a.APIKeySource = "HEADER"
	}
	if in.EndpointConfiguration != nil && len(in.EndpointConfiguration.Types) > 0 {
		a.EndpointTypes = in.EndpointConfiguration.Types
	}
	root := &resource{ID: newID(10), Path: "/", Methods: map[string]*method{}}
	a.RootID = root.ID
	a.Resources[root.ID] = root
	a.ResourceOrder = append(a.ResourceOrder, root.ID)
	s.state.apis[a.ID] = a
	s.state.apiOrder = append(s.state.apiOrder, a.ID)
	return http.StatusCreated, s.restAPIView(a), nil
}

func (s *Sandbox) getRestAPIs(r *http.Request) (int, any, *apiError) {
	return listPage(r, s.state.apiOrder, func(id string) any { return s.restAPIView(s.state.apis[id]) })
}

// listPage answers a GetX-all call: the page of ids that the request's
// position and limit select, each shown by view, and the next position.
func listPage(r *http.Request, ids []string, view func(id string) any) (int, any, *apiError) {
	page, next, e := paginate(r, ids)
	if e != nil {
		return 0, nil, e
	}
	items := make([]any, 0, len(page))
	for _, id := range page {
		items = append(items, view(id))
	}
	return http.StatusOK, listOut(items, next), nil
}

func listOut(items []any, position string) map[string]any {
	out := map[string]any{"item": items}
	if position != "" {
		out["position"] = position
	}
	return out
}

func (s *Sandbox) lookupAPI(r *http.Request) (*restAPI, *apiError) {
	id := r.PathValue("restApiId")
	a, ok := s.state.apis[id]
	if !ok {
		return nil, notFound("Invalid API identifier specified %s:%s", s.opts.AccountID, id)
	}
	return a, nil
}

func (s *Sandbox) getRestAPI(r *http.Request) (int, any, *apiError) {
	a, e := s.lookupAPI(r)
	if e != nil {
		return 0, nil, e
	}
	return 200, s.restAPIView(a), nil
}

func (s *Sandbox) deleteRestAPI(r *http.Request) (int, any, *apiError) {
	a, e := s.lookupAPI(r)
	if e != nil {
		return 0, nil, e
	}
	for _, p := range s.state.plans {
		for _, as := range p.APIStages {
			if as.APIID == a.ID {
				return 0, nil, badRequest("Active stages pointing to this REST API are associated with usage plan %s; remove them from the usage plan first", p.ID)
			}
		}
	}
	delete(s.state.apis, a.ID)
	s.state.apiOrder = removeString(s.state.apiOrder, a.ID)
	return http.StatusAccepted, nil, nil
}

// ---- resources and methods ----

func resourceView(res *resource, embedMethods bool) map[string]any {
	out := map[string]any{"id": res.ID, "path": res.Path}
	if res.ParentID != "" {
		out["parentId"] = res.ParentID
		out["pathPart"] = res.PathPart
	}
	if len(res.Methods) > 0 {
		ms := map[string]any{}
		for k, m := range res.Methods {
			if embedMethods {
				ms[k] = m
			} else {
				ms[k] = map[string]any{}
			}
		}
		out["resourceMethods"] = ms
	}
	return out
}

func (s *Sandbox) getResources(r *http.Request) (int, any, *apiError) {
	a, e := s.lookupAPI(r)
	if e != nil {
		return 0, nil, e
	}
	embed := slices.Contains(r.URL.Query()["embed"], "methods")
	return listPage(r, a.ResourceOrder, func(id string) any { return resourceView(a.Resources[id], embed) })
}

func lookupResource(a *restAPI, id string) (*resource, *apiError) {
	res, ok := a.Resources[id]
	if !ok {
		return nil, notFound("Invalid Resource identifier specified")
	}
	return res, nil
}

func (s *Sandbox) getResource(r *http.Request) (int, any, *apiError) {
	a, e := s.lookupAPI(r)
	if e != nil {
		return 0, nil, e
	}
	res, e := lookupResource(a, r.PathValue("resourceId"))
	if e != nil {
		return 0, nil, e
	}
	return 200, resourceView(res, slices.Contains(r.URL.Query()["embed"], "methods")), nil
}

func isVariablePart(p string) bool { return strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") }

func (s *Sandbox) createResource(r *http.Request) (int, any, *apiError) {
	a, e := s.lookupAPI(r)
	if e != nil {
		return 0, nil, e
	}
	parent, e := lookupResource(a, r.PathValue("parentId"))
	if e != nil {
		return 0, nil, e
	}
	var in struct {
		PathPart string `json:"pathPart"`
	}
	if e := decodeBody(r, &in); e != nil {
		return 0, nil, e
	}
	p := in.PathPart
	if p == "" || strings.Contains(p, "/") {
		return 0, nil, badRequest("Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace")
	}
	if isVariablePart(p) && (len(p) < 3 || strings.Contains(p[1:len(p)-1], "{") || strings.Contains(p[1:len(p)-1], "}")) {
		return 0, nil, badRequest("Invalid path part %q", p)
	}
	if strings.HasSuffix(parent.PathPart, "+}") {
		return 0, nil, badRequest("Cannot create a child of a resource with a greedy path variable: %s", parent.Path)
	}
	for _, id := range a.ResourceOrder {
		sib := a.Resources[id]
		if sib.ParentID != parent.ID {
			continue
		}
		if sib.PathPart == p {
			return 0, nil, conflict("Another resource with the same parent already has this name: %s", p)
		}
		if isVariablePart(sib.PathPart) && isVariablePart(p) {
			return 0, nil, badRequest("A sibling (%s) of this resource already has a variable path part -- only one is allowed", sib.PathPart)
		}
	}
	path := parent.Path + "/" + p
	if parent.Path == "/" {
		path = "/" + p
	}
	res := &resource{ID: newID(10), ParentID: parent.ID, PathPart: p, Path: path, Methods: map[string]*method{}}
	a.Resources[res.ID] = res
	a.ResourceOrder = append(a.ResourceOrder, res.ID)
	return http.StatusCreated, resourceView(res, false), nil
}

func (s *Sandbox) deleteResource(r *http.Request) (int, any, *apiError) {
	a, e := s.lookupAPI(r)
	if e != nil {
		return 0, nil, e
	}
	res, e := lookupResource(a, r.PathValue("resourceId"))
	if e != nil {
		return 0, nil, e
	}
	if res.ID == a.RootID {
		return 0, nil, badRequest("Cannot delete the root resource")
	}
	// Delete the subtree.
	doomed := map[string]bool{res.ID: true}
	for changed := true; changed; {
		changed = false
		for _, id := range a.ResourceOrder {
			if !doomed[id] && doomed[a.Resources[id].ParentID] {
				doomed[id] = true
				changed = true
			}
		}
	}
	keep := a.ResourceOrder[:0:0]
	for _, id := range a.ResourceOrder {
		if doomed[id] {
			delete(a.Resources, id)
		} else {
			keep = append(keep, id)
		}
	}
	a.ResourceOrder = keep
	return http.StatusAccepted, nil, nil
}

var validMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"}

func (s *Sandbox) lookupMethod(r *http.Request) (*restAPI, *resource, *method, *apiError) {
	a, e := s.lookupAPI(r)
	if e != nil {
		return nil, nil, nil, e
	}
	res, e := lookupResource(a, r.PathValue("resourceId"))
	if e != nil {
		return nil, nil, nil, e
	}
	m, ok := res.Methods[strings.ToUpper(r.PathValue("httpMethod"))]
	if !ok {
		return nil, nil, nil, notFound("Invalid Method identifier specified")
	}
	return a, res, m, nil
}

func (s *Sandbox) putMethod(r *http.Request) (int, any, *apiError) {
	a, e := s.lookupAPI(r)
	if e != nil {
		return 0, nil, e
	}
	res, e := lookupResource(a, r.PathValue("resourceId"))
	if e != nil {
		return 0, nil, e
	}
	hm := strings.ToUpper(r.PathValue("httpMethod"))
	if !slices.Contains(validMethods, hm) {
		return 0, nil, badRequest("Invalid HttpMethod specified. Valid options are %s", strings.Join(validMethods, ","))
	}
	if _, ok := res.Methods[hm]; ok {
		return 0, nil, conflict("Method already exists for this resource")
	}
	var in struct {
		AuthorizationType   string            `json:"authorizationType"`
		AuthorizerID        string            `json:"authorizerId"`
		APIKeyRequired      bool              `json:"apiKeyRequired"`
		OperationName       string            `json:"operationName"`
		RequestParameters   map[string]bool   `json:"requestParameters"`
		RequestModels       map[string]string `json:"requestModels"`
		AuthorizationScopes []string          `json:"authorizationScopes"`
	}
	if e := decodeBody(r, &in); e != nil {
		return 0, nil, e
	}
	switch in.AuthorizationType {
	case "NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS":
	case "":
		return 0, nil, badRequest("Invalid authorization type specified: authorizationType is required")
	default:
		return 0, nil, badRequest("Invalid authorization type specified. Valid options are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS")
	}
	m := &method{HTTPMethod: hm, AuthorizationType: in.AuthorizationType, AuthorizerID: in.AuthorizerID,
		APIKeyRequired: in.APIKeyRequired, OperationName: in.OperationName, RequestParameters: in.RequestParameters,
		RequestModels: in.RequestModels, AuthorizationScopes: in.AuthorizationScopes}
	if e := checkMethodAuthorizer(a, m); e != nil {
		return 0, nil, e
	}
	res.Methods[hm] = m
	return http.StatusCreated, m, nil
}

func (s *Sandbox) getMethod(r *http.Request) (int, any, *apiError) {
	_, _, m, e := s.lookupMethod(r)
	if e != nil {
		return 0, nil, e
	}
	return 200, m, nil
}

func (s *Sandbox) updateMethod(r *http.Request) (int, any, *apiError) {
	a, _, m, e := s.lookupMethod(r)
	if e != nil {
		return 0, nil, e
	}
	ops, e := decodePatch(r)
	if e != nil {
		return 0, nil, e
	}
	work := *m
	for _, op := range ops {
		if op.Op != "replace" {
			return 0, nil, badOp(op, "replace")
		}
		v := op.value()
		switch op.Path {
		case "/apiKeyRequired":
			work.APIKeyRequired, e = parseBool(v)
		case "/authorizationType":
			switch v {
			case "NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS":
				work.AuthorizationType = v
			default:
				e = badRequest("Invalid authorization type %q. Valid options are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS", v)
			}
		case "/authorizerId":
			work.AuthorizerID = v
		case "/operationName":
			work.OperationName = v
		default:
			e = badRequest("Invalid patch path %s", op.Path)
		}
		if e != nil {
			return 0, nil, e
		}
	}
	if e := checkMethodAuthorizer(a, &work); e != nil {
		return 0, nil, e
	}
	*m = work
	return 200, m, nil
}

func (s *Sandbox) deleteMethod(r *http.Request) (int, any, *apiError) {
	_, res, m, e := s.lookupMethod(r)
	if e != nil {
		return 0, nil, e
	}
	delete(res.Methods, m.HTTPMethod)
	return http.StatusNoContent, nil, nil
}

func (s *Sandbox) putIntegration(r *http.Request) (int, any, *apiError) {
	_, _, m, e := s.lookupMethod(r)
	if e != nil {
		return 0, nil, e
	}
	var in integration
	if e := decodeBody(r, &in); e != nil {
		return 0, nil, e
	}
	switch in.Type {
	case "HTTP", "HTTP_PROXY":
		if in.URI == "" {
			return 0, nil, badRequest("Invalid integration URI: uri is required for %s integrations", in.Type)
		}
		if in.HTTPMethod == "" {
			return 0, nil, badRequest("Enumeration value for HttpMethod must be non-empty: httpMethod is required for %s integrations", in.Type)
		}
	case "MOCK", "AWS", "AWS_PROXY":
	case "":
		return 0, nil, badRequest("Invalid integration type: type is required")
	default:
		return 0, nil, badRequest("Invalid integration type %q: valid options are HTTP,HTTP_PROXY,AWS,AWS_PROXY,MOCK", in.Type)
	}
	if in.TimeoutInMillis == 0 {
		in.TimeoutInMillis = 29000
	}
	if in.PassthroughBehavior == "" {
		in.PassthroughBehavior = "WHEN_NO_MATCH"
	}
	if in.ConnectionType == "" {
		in.ConnectionType = "INTERNET"
	}
	if in.CacheKeyParameters == nil {
		in.CacheKeyParameters = []string{}
	}
	m.Integration = &in
	return http.StatusCreated, m.Integration, nil
}

func (s *Sandbox) getIntegration(r *http.Request) (int, any, *apiError) {
	_, _, m, e := s.lookupMethod(r)
	if e != nil {
		return 0, nil, e
	}
	if m.Integration == nil {
		return 0, nil, notFound("No integration defined for method")
	}
	return 200, m.Integration, nil
}

// ---- deployments and stages ----

func (s *Sandbox) createDeployment(r *http.Request) (int, any, *apiError) {
	a, e := s.lookupAPI(r)
	if e != nil {
		return 0, nil, e
	}
	var in struct {
		StageName        string            `json:"stageName"`
		StageDescription string            `json:"stageDescription"`
		Description      string            `json:"description"`
		Variables        map[string]string `json:"variables"`
	}
	if e := decodeBody(r, &in); e != nil {
		return 0, nil, e
	}
	hasMethod := false
	for _, res := range a.Resources {
		if len(res.Methods) > 0 {
			hasMethod = true
		}
	}
	if !hasMethod {
		return 0, nil, badRequest("The REST API doesn't contain any methods")
	}
	d := &deployment{ID: newID(6), Description: in.Description, Created: epoch(s.opts.Now()), snap: snapshot(a)}
	a.Deployments[d.ID] = d
	a.DeploymentOrder = append(a.DeploymentOrder, d.ID)
	if in.StageName != "" {
		if st, ok := a.Stages[in.StageName]; ok {
			st.DeploymentID = d.ID
			st.Updated = s.opts.Now()
			for k, v := range in.Variables {
				st.Variables[k] = v
			}
		} else {
			if e := validStageName(in.StageName); e != nil {
				return 0, nil, e
			}
			s.addStage(a, &stage{Name: in.StageName, DeploymentID: d.ID, Description: in.StageDescription,
				Variables: copyMap(in.Variables)})
		}
	}
	return http.StatusCreated, d, nil
}

func (s *Sandbox) getDeployments(r *http.Request) (int, any, *apiError) {
	a, e := s.lookupAPI(r)
	if e != nil {
		return 0, nil, e
	}
	return listPage(r, a.DeploymentOrder, func(id string) any { return a.Deployments[id] })
}

func (s *Sandbox) getDeployment(r *http.Request) (int, any, *apiError) {
	a, e := s.lookupAPI(r)
	if e != nil {
		return 0, nil, e
	}
	d, ok := a.Deployments[r.PathValue("deploymentId")]
	if !ok {
		return 0, nil, notFound("Invalid Deployment identifier specified")
	}
	embed := r.URL.Query()["embed"]
	for _, e := range embed {
		for _, v := range strings.Split(e, ",") {
			if v != "apisummary" {
				return 0, nil, badRequest("Invalid embed value %q: only apisummary is supported", v)
			}
		}
	}
	if len(embed) == 0 {
		return 200, d, nil
	}
	out := map[string]any{"id": d.ID, "createdDate": d.Created, "apiSummary": apiSummary(d.snap)}
	if d.Description != "" {
		out["description"] = d.Description
	}
	return 200, out, nil
}

func validStageName(n string) *apiError {
	if n == "" {
		return badRequest("Stage name must be non-empty")
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return badRequest("Stage name only allows a-zA-Z0-9_")
		}
	}
	return nil
}

func (s *Sandbox) addStage(a *restAPI, st *stage) {
	now := s.opts.Now()
	st.Created, st.Updated = now, now
	if st.Variables == nil {
		st.Variables = map[string]string{}
	}
	st.MethodSettings = map[string]*methodSetting{}
	a.Stages[st.Name] = st
	a.StageOrder = append(a.StageOrder, st.Name)
}

func (s *Sandbox) stageView(a *restAPI, st *stage) map[string]any {
	ms := map[string]any{}
	for k, v := range st.MethodSettings {
		ms[k] = v
	}
	out := map[string]any{
		"stageName":           st.Name,
		"deploymentId":        st.DeploymentID,
		"createdDate":         epoch(st.Created),
		"lastUpdatedDate":     epoch(st.Updated),
		"methodSettings":      ms,
		"cacheClusterEnabled": false,
		"cacheClusterStatus":  "NOT_AVAILABLE",
		"tracingEnabled":      st.TracingEnabled,
	}
	if st.Description != "" {
		out["description"] = st.Description
	}
	if len(st.Variables) > 0 {
		out["variables"] = st.Variables
	}
	if len(st.Tags) > 0 {
		out["tags"] = st.Tags
	}
	st.stageSecurity.view(out)
	return out
}

func (s *Sandbox) createStage(r *http.Request) (int, any, *apiError) {
	a, e := s.lookupAPI(r)
	if e != nil {
		return 0, nil, e
	}
	var in struct {
		StageName      string            `json:"stageName"`
		DeploymentID   string            `json:"deploymentId"`
		Description    string            `json:"description"`
		Variables      map[string]string `json:"variables"`
		Tags           map[string]string `json:"tags"`
		TracingEnabled bool              `json:"tracingEnabled"`
	}
	if e := decodeBody(r, &in); e != nil {
		return 0, nil, e
	}
	if e := validStageName(in.StageName); e != nil {
		return 0, nil, e
	}
	if _, ok := a.Deployments[in.DeploymentID]; !ok {
		return 0, nil, badRequest("Invalid deployment identifier specified: %q", in.DeploymentID)
	}
	if _, ok := a.Stages[in.StageName]; ok {
		return 0, nil, conflict("Stage already exists")
	}
	st := &stage{Name: in.StageName, DeploymentID: in.DeploymentID, Description: in.Description,
		Variables: copyMap(in.Variables), Tags: copyMap(in.Tags), TracingEnabled: in.TracingEnabled}
	s.addStage(a, st)
	return http.StatusCreated, s.stageView(a, st), nil
}

func (s *Sandbox) getStages(r *http.Request) (int, any, *apiError) {
	a, e := s.lookupAPI(r)
	if e != nil {
		return 0, nil, e
	}
	dep := r.URL.Query().Get("deploymentId")
	items := []any{}
	for _, n := range a.StageOrder {
		st := a.Stages[n]
		if dep == "" || st.DeploymentID == dep {
			items = append(items, s.stageView(a, st))
		}
	}
	return 200, map[string]any{"item": items}, nil
}

func lookupStage(a *restAPI, name string) (*stage, *apiError) {
	st, ok := a.Stages[name]
	if !ok {
		return nil, notFound("Invalid Stage identifier specified")
	}
	return st, nil
}

func (s *Sandbox) getStage(r *http.Request) (int, any, *apiError) {
	a, e := s.lookupAPI(r)
	if e != nil {
		return 0, nil, e
	}
	st, e := lookupStage(a, r.PathValue("stageName"))
	if e != nil {
		return 0, nil, e
	}
	return 200, s.stageView(a, st), nil
}

func (s *Sandbox) deleteStage(r *http.Request) (int, any, *apiError) {
	a, e := s.lookupAPI(r)
	if e != nil {
		return 0, nil, e
	}
	st, e := lookupStage(a, r.PathValue("stageName"))
	if e != nil {
		return 0, nil, e
	}
	for _, p := range s.state.plans {
		for _, as := range p.APIStages {
			if as.APIID == a.ID && as.Stage == st.Name {
				return 0, nil, badRequest("Cannot delete stage %s: it is associated with usage plan %s; remove it from the usage plan first", st.Name, p.ID)
			}
		}
	}
	delete(a.Stages, st.Name)
	a.StageOrder = removeString(a.StageOrder, st.Name)
	return http.StatusAccepted, nil, nil
}

// resourceByPath finds a resource by its path template ("/pets/{petId}").
func resourceByPath(a *restAPI, path string) *resource {
	for _, id := range a.ResourceOrder {
		if a.Resources[id].Path == path {
			return a.Resources[id]
		}
	}
	return nil
}

func (s *Sandbox) updateStage(r *http.Request) (int, any, *apiError) {
	a, e := s.lookupAPI(r)
	if e != nil {
		return 0, nil, e
	}
	st, e := lookupStage(a, r.PathValue("stageName"))
	if e != nil {
		return 0, nil, e
	}
	ops, e := decodePatch(r)
	if e != nil {
		return 0, nil, e
	}
	// Apply to a copy so that a bad operation leaves the stage unchanged.
	work := *st
	work.Variables = copyMap(st.Variables)
	work.MethodSettings = map[string]*methodSetting{}
	for k, v := range st.MethodSettings {
		c := *v
		work.MethodSettings[k] = &c
	}
	for _, op := range ops {
		if e := applyStagePatch(a, &work, op); e != nil {
			return 0, nil, e
		}
	}
	work.Updated = s.opts.Now()
	*st = work
	return 200, s.stageView(a, st), nil
}

func applyStagePatch(a *restAPI, st *stage, op patchOp) *apiError {
	path := op.Path
	switch {
	case path == "/description":
		st.Description = op.value()
		return nil
	case path == "/deploymentId":
		if _, ok := a.Deployments[op.value()]; !ok {
			return badRequest("Invalid deployment identifier specified")
		}
		st.DeploymentID = op.value()
		return nil
	case path == "/tracingEnabled":
		b, e := parseBool(op.value())
		st.TracingEnabled = b
		return e
	case isStageSecurityPath(path):
		return st.stageSecurity.applyPatch(op)
	case strings.HasPrefix(path, "/variables/"):
		name := unescapePointer(strings.TrimPrefix(path, "/variables/"))
		switch op.Op {
		case "replace", "add":
			st.Variables[name] = op.value()
		case "remove":
			delete(st.Variables, name)
		default:
			return badRequest("Invalid patch operation specified. Must be one of: [replace, add, remove]")
		}
		return nil
	}
	// Method settings: /{resourcePath}/{httpMethod}/{group}/{setting}.
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) != 2 && len(parts) != 4 {
		return badRequest("Invalid patch path %s", path)
	}
	key := parts[0] + "/" + parts[1]
	if key != "*/*" {
		res := resourceByPath(a, unescapePointer(parts[0]))
		if res == nil {
			return badRequest("Invalid method setting path: %s. No resource with path %s", path, unescapePointer(parts[0]))
		}
		if _, ok := res.Methods[parts[1]]; !ok && parts[1] != "*" {
			return badRequest("Invalid method setting path: %s. No method %s on resource %s", path, parts[1], res.Path)
		}
	}
	if len(parts) == 2 {
		if op.Op != "remove" {
			return badRequest("Invalid patch operation specified for path %s. Must be: remove", path)
		}
		delete(st.MethodSettings, key)
		return nil
	}
	if op.Op != "replace" {
		return badRequest("Invalid patch operation specified for path %s. Must be: replace", path)
	}
	ms, ok := st.MethodSettings[key]
	if !ok {
		if def, ok := st.MethodSettings["*/*"]; ok && key != "*/*" {
			c := *def
			ms = &c
		} else {
			ms = defaultMethodSetting()
		}
		st.MethodSettings[key] = ms
	}
	v := op.value()
	var e *apiError
	switch parts[2] + "/" + parts[3] {
	case "throttling/rateLimit":
		ms.ThrottlingRateLimit, e = parseFloat(v)
	case "throttling/burstLimit":
		ms.ThrottlingBurstLimit, e = parseInt(v)
	case "metrics/enabled":
		ms.MetricsEnabled, e = parseBool(v)
	case "logging/loglevel":
		switch v {
		case "OFF", "ERROR", "INFO":
			ms.LoggingLevel = v
		default:
			e = badRequest("Invalid logging level %q. Must be one of: OFF, ERROR, INFO", v)
		}
	case "logging/dataTrace":
		ms.DataTraceEnabled, e = parseBool(v)
	case "caching/enabled":
		ms.CachingEnabled, e = parseBool(v)
	case "caching/ttlInSeconds":
		ms.CacheTTLInSeconds, e = parseInt(v)
	case "caching/dataEncrypted":
		ms.CacheDataEncrypted, e = parseBool(v)
	case "caching/requireAuthorizationForCacheControl":
		ms.RequireAuthorizationForCacheControl, e = parseBool(v)
	case "caching/unauthorizedCacheControlHeaderStrategy":
		ms.UnauthorizedCacheControlHeaderStrategy = v
	default:
		e = badRequest("Invalid method setting path: %s", path)
	}
	if e == nil && (ms.ThrottlingRateLimit < 0 || ms.ThrottlingBurstLimit < 0) {
		e = badRequest("Throttling limits must be non-negative")
	}
	return e
}

func (s *Sandbox) getAccount(r *http.Request) (int, any, *apiError) {
	out := map[string]any{"features": []string{"UsagePlans"}, "apiKeyVersion": "4"}
	if t := s.opts.AccountThrottle; t != nil {
		out["throttleSettings"] = throttleSettings{BurstLimit: t.Burst, RateLimit: t.Rate}
	} else {
		def := awsfacts.DefaultAccountThrottle(s.opts.Region)
		out["throttleSettings"] = throttleSettings{BurstLimit: def.Burst, RateLimit: def.Rate}
	}
	return 200, out, nil
}
