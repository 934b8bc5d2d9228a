package sandbox

import (
	"net/http"
	"regexp"
	"strings"
)

// opFunc serves one control-plane operation under the state lock: the
// status and value to answer as JSON (or a *document), or an AWS error.
type opFunc func(c *call) (int, any, *apiError)

// call is one control-plane request with its path parameters resolved: wrap
// looks up each {param} of the route's pattern before the handler runs and
// answers the AWS error (404 NotFoundException mostly) when one names
// nothing, so handlers get objects, never ids.
type call struct {
	*http.Request

	api        *restAPI           // {restApiId}
	resource   *resource          // {resourceId}; the parent for {parentId}
	httpMethod string             // {httpMethod}, upper case
	method     *method            // {httpMethod}; nil for PutMethod, which creates it
	deployment *deployment        // {deploymentId}
	stage      *stage             // {stageName}
	authorizer *authorizer        // {authorizerId}
	plan       *usagePlan         // {usagePlanId}
	key        *apiKey            // {apiKey}, or {keyId}: a key of the usage plan
	tags       *map[string]string // of the resource {resourceArn...} names
	domain     *domainName        // {domainName}
	cert       *clientCertificate // {clientCertificateId}
	httpAPI    *httpAPI           // {ApiId}
	httpStage  *httpStage         // {StageName}
	route      *route             // {RouteId}
}

// decode reads the JSON body into v; an empty body leaves v as it is.
func (c *call) decode(v any) *apiError { return decodeBody(c.Request, v) }

// applyPatches reads an Update call's patchOperations and applies each to
// a copy of the resource (apply is its applyPatch), stopping at the first
// error, so that a bad operation leaves the resource as it was.
func (c *call) applyPatches(apply func(patchOp) *apiError) *apiError {
	ops, e := decodePatch(c.Request)
	if e != nil {
		return e
	}
	for _, op := range ops {
		if e := apply(op); e != nil {
			return e
		}
	}
	return nil
}

// resolver looks up the object a path parameter names and sets it on c.
type resolver func(s *Sandbox, c *call, id string) *apiError

// resolvers are keyed by the name of the path parameter; a route's
// parameters are resolved in the order they stand in its pattern, so
// {resourceId} finds c.api already set by {restApiId}. Parameters not named
// here ({exportType}, {RouteKey}) are left to the handler.
var resolvers = map[string]resolver{
	"restApiId": func(s *Sandbox, c *call, id string) *apiError {
		var ok bool
		if c.api, ok = s.state.apis[id]; !ok {
			return notFound("Invalid API identifier specified %s:%s", s.opts.AccountID, id)
		}
		return nil
	},
	"resourceId": resolveResource,
	"parentId":   resolveResource,
	"httpMethod": func(_ *Sandbox, c *call, id string) *apiError {
		c.httpMethod = strings.ToUpper(id)
		if c.Method == http.MethodPut && strings.HasSuffix(c.Pattern, "/{httpMethod}") {
			return nil // PutMethod creates the method it names
		}
		var ok bool
		if c.method, ok = c.resource.Methods[c.httpMethod]; !ok {
			return notFound("Invalid Method identifier specified")
		}
		return nil
	},
	"deploymentId": func(_ *Sandbox, c *call, id string) *apiError {
		var ok bool
		if c.deployment, ok = c.api.Deployments[id]; !ok {
			return notFound("Invalid Deployment identifier specified")
		}
		return nil
	},
	"stageName": func(_ *Sandbox, c *call, id string) *apiError {
		var ok bool
		if c.stage, ok = c.api.Stages[id]; !ok {
			return notFound("Invalid Stage identifier specified")
		}
		return nil
	},
	"authorizerId": func(_ *Sandbox, c *call, id string) *apiError {
		var ok bool
		if c.authorizer, ok = c.api.Authorizers[id]; !ok {
			return notFound("Invalid Authorizer identifier specified")
		}
		return nil
	},
	"usagePlanId": func(s *Sandbox, c *call, id string) *apiError {
		var ok bool
		if c.plan, ok = s.state.plans[id]; !ok {
			return notFound("Invalid Usage Plan ID specified")
		}
		return nil
	},
	"keyId": func(s *Sandbox, c *call, id string) *apiError {
		if !c.plan.hasKey(id) {
			return notFound("Invalid Usage Plan Key identifier specified")
		}
		c.key = s.state.keys[id]
		return nil
	},
	"apiKey": func(s *Sandbox, c *call, id string) *apiError {
		var e *apiError
		c.key, e = s.lookupKey(id)
		return e
	},
	"resourceArn": func(s *Sandbox, c *call, arn string) *apiError {
		var e *apiError
		c.tags, e = s.tagsOf(arn)
		return e
	},
	"domainName": func(s *Sandbox, c *call, id string) *apiError {
		var ok bool
		if c.domain, ok = s.state.domains[id]; !ok {
			return notFound("Invalid domain name identifier specified")
		}
		return nil
	},
	"clientCertificateId": func(s *Sandbox, c *call, id string) *apiError {
		var ok bool
		if c.cert, ok = s.state.clientCerts[id]; !ok {
			return notFound("Invalid client certificate identifier specified")
		}
		return nil
	},
	"ApiId": func(s *Sandbox, c *call, id string) *apiError {
		var ok bool
		if c.httpAPI, ok = s.state.v2apis[id]; !ok {
			return notFound("Invalid API identifier specified %s", id)
		}
		return nil
	},
	"StageName": func(_ *Sandbox, c *call, id string) *apiError {
		var ok bool
		if c.httpStage, ok = c.httpAPI.Stages[id]; !ok {
			return notFound("Invalid stage identifier specified: %s", id)
		}
		return nil
	},
	"RouteId": func(_ *Sandbox, c *call, id string) *apiError {
		var ok bool
		if c.route, ok = c.httpAPI.Routes[id]; !ok {
			return notFound("Invalid Route identifier specified %s", id)
		}
		return nil
	},
}

func resolveResource(_ *Sandbox, c *call, id string) *apiError {
	var ok bool
	if c.resource, ok = c.api.Resources[id]; !ok {
		return notFound("Invalid Resource identifier specified")
	}
	return nil
}

var patternParam = regexp.MustCompile(`\{([A-Za-z]+)(?:\.\.\.)?\}`)

// pathParams names the parameters of a route pattern in order:
// "GET /usageplans/{usagePlanId}/keys/{keyId}" → usagePlanId, keyId.
func pathParams(pattern string) []string {
	var names []string
	for _, m := range patternParam.FindAllStringSubmatch(pattern, -1) {
		names = append(names, m[1])
	}
	return names
}

// resolve sets on c the objects its path parameters name.
func (s *Sandbox) resolve(c *call, params []string) *apiError {
	for _, p := range params {
		if fn := resolvers[p]; fn != nil {
			if e := fn(s, c, c.PathValue(p)); e != nil {
				return e
			}
		}
	}
	return nil
}

// wrap counts the call, applies injected errors and rate limits, resolves
// the path parameters of pattern and runs fn under the state lock, and
// writes its answer.
func (s *Sandbox) wrap(op, pattern string, fn opFunc) http.HandlerFunc {
	params := pathParams(pattern)
	return func(w http.ResponseWriter, r *http.Request) {
		if e := s.countCall(op); e != nil {
			s.logCall(op, e.Status, e.Type)
			writeError(w, e)
			return
		}
		status, out, e := s.serve(op, &call{Request: r}, params, fn)
		if e != nil {
			s.logCall(op, e.Status, e.Type+": "+e.Message)
			writeError(w, e)
			return
		}
		s.logCall(op, status, "")
		if d, ok := out.(*document); ok {
			d.write(w)
			return
		}
		writeJSON(w, status, out)
	}
}

func (s *Sandbox) serve(op string, c *call, params []string, fn opFunc) (int, any, *apiError) {
	noop := s.takeSilentNoOp(op, c.Method)
	s.mu.Lock()
	defer s.mu.Unlock()
	// A silent no-op DELETE answers 202 without looking (InjectSilentNoOps).
	if noop && c.Method == http.MethodDelete {
		return http.StatusAccepted, nil, nil
	}
	if e := s.resolve(c, params); e != nil {
		return 0, nil, e
	}
	if noop {
		return s.silentNoOp(c)
	}
	return fn(c)
}

// silentNoOp is the answer of a PATCH that is acknowledged and not applied
// (InjectSilentNoOps): the resource as it is (the GET of the same path).
func (s *Sandbox) silentNoOp(c *call) (int, any, *apiError) {
	_, path, _ := strings.Cut(c.Pattern, " ")
	if get := s.readers[path]; get != nil {
		return get(c)
	}
	return http.StatusAccepted, nil, nil
}

// document is an answer that is not JSON: GetExport's OpenAPI file.
type document struct {
	contentType, filename string
	body                  []byte
}

func (d *document) write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", d.contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+d.filename+`"`)
	w.Header().Set("x-amzn-RequestId", newRequestID())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(d.body)
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
	m.HandleFunc(pattern, s.wrap(op, pattern, fn))
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
	h("PATCH /restapis/{restApiId}", "UpdateRestApi", s.updateRestAPI)
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
	h("GET /restapis/{restApiId}/stages/{stageName}/exports/{exportType}", "GetExport", s.getExport)

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
func listPage[T any](c *call, ids []T, view func(id T) any) (int, any, *apiError) {
	page, next, e := paginate(c.Request, ids)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, listOut(viewAll(page, view), next), nil
}

// v2ListPage is listPage for apigatewayv2: maxResults/nextToken paging and
// an "items" list.
func v2ListPage[T any](c *call, ids []T, view func(id T) any) (int, any, *apiError) {
	page, next, e := v2Page(c.Request, ids)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, v2ListOut(viewAll(page, view), next), nil
}

func viewAll[T any](ids []T, view func(id T) any) []any {
	items := make([]any, 0, len(ids))
	for _, id := range ids {
		items = append(items, view(id))
	}
	return items
}

func listOut(items []any, position string) map[string]any {
	out := map[string]any{"item": items}
	if position != "" {
		out["position"] = position
	}
	return out
}
