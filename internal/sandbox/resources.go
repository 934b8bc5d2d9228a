package sandbox

import (
	"net/http"
	"slices"
	"strings"
)

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
