package sandbox

import (
	"net/http"
	"strings"
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
