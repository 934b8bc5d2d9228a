package sandbox

import (
	"net/http"
	"slices"
	"strings"
)

// view is the resource as GetResource answers it; embedMethods (the
// embed=methods query) shows each method whole instead of as {}.
func (res *resource) view(embedMethods bool) map[string]any {
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

// resourceByPath finds a resource by its path template ("/pets/{petId}").
func (a *restAPI) resourceByPath(path string) *resource {
	for _, id := range a.ResourceOrder {
		if a.Resources[id].Path == path {
			return a.Resources[id]
		}
	}
	return nil
}

func isVariablePart(p string) bool { return strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") }

// addResource creates the child p of parent, with AWS's rules for path
// parts and siblings.
func (a *restAPI) addResource(parent *resource, p string) (*resource, *apiError) {
	if p == "" || strings.Contains(p, "/") {
		return nil, badRequest("Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace")
	}
	if isVariablePart(p) && (len(p) < 3 || strings.Contains(p[1:len(p)-1], "{") || strings.Contains(p[1:len(p)-1], "}")) {
		return nil, badRequest("Invalid path part %q", p)
	}
	if strings.HasSuffix(parent.PathPart, "+}") {
		return nil, badRequest("Cannot create a child of a resource with a greedy path variable: %s", parent.Path)
	}
	for _, id := range a.ResourceOrder {
		sib := a.Resources[id]
		if sib.ParentID != parent.ID {
			continue
		}
		if sib.PathPart == p {
			return nil, conflict("Another resource with the same parent already has this name: %s", p)
		}
		if isVariablePart(sib.PathPart) && isVariablePart(p) {
			return nil, badRequest("A sibling (%s) of this resource already has a variable path part -- only one is allowed", sib.PathPart)
		}
	}
	path := parent.Path + "/" + p
	if parent.Path == "/" {
		path = "/" + p
	}
	res := &resource{ID: newID(10), ParentID: parent.ID, PathPart: p, Path: path, Methods: map[string]*method{}}
	a.Resources[res.ID] = res
	a.ResourceOrder = append(a.ResourceOrder, res.ID)
	return res, nil
}

// deleteResource deletes res and the subtree below it.
func (a *restAPI) deleteResource(res *resource) *apiError {
	if res.ID == a.RootID {
		return badRequest("Cannot delete the root resource")
	}
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
	return nil
}

func embedMethods(c *call) bool { return slices.Contains(c.URL.Query()["embed"], "methods") }

func (s *Sandbox) getResources(c *call) (int, any, *apiError) {
	a, embed := c.api, embedMethods(c)
	return listPage(c, a.ResourceOrder, func(id string) any { return a.Resources[id].view(embed) })
}

func (s *Sandbox) getResource(c *call) (int, any, *apiError) {
	return 200, c.resource.view(embedMethods(c)), nil
}

func (s *Sandbox) createResource(c *call) (int, any, *apiError) {
	var in struct {
		PathPart string `json:"pathPart"`
	}
	if e := c.decode(&in); e != nil {
		return 0, nil, e
	}
	res, e := c.api.addResource(c.resource, in.PathPart)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusCreated, res.view(false), nil
}

func (s *Sandbox) deleteResource(c *call) (int, any, *apiError) {
	if e := c.api.deleteResource(c.resource); e != nil {
		return 0, nil, e
	}
	return http.StatusAccepted, nil, nil
}

var validMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"}

func validAuthorizationType(t string) bool {
	switch t {
	case "NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS":
		return true
	}
	return false
}

// applyPatch applies one UpdateMethod operation (replace only).
func (m *method) applyPatch(op patchOp) *apiError {
	if op.Op != "replace" {
		return badOp(op, "replace")
	}
	v := op.value()
	var e *apiError
	switch op.Path {
	case "/apiKeyRequired":
		m.APIKeyRequired, e = parseBool(v)
	case "/authorizationType":
		if !validAuthorizationType(v) {
			return badRequest("Invalid authorization type %q. Valid options are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS", v)
		}
		m.AuthorizationType = v
	case "/authorizerId":
		m.AuthorizerID = v
	case "/operationName":
		m.OperationName = v
	default:
		e = badRequest("Invalid patch path %s", op.Path)
	}
	return e
}

func (s *Sandbox) putMethod(c *call) (int, any, *apiError) {
	hm := c.httpMethod
	if !slices.Contains(validMethods, hm) {
		return 0, nil, badRequest("Invalid HttpMethod specified. Valid options are %s", strings.Join(validMethods, ","))
	}
	if _, ok := c.resource.Methods[hm]; ok {
		return 0, nil, conflict("Method already exists for this resource")
	}
	// The input has the fields of a method; what it names besides is
	// not the caller's to set.
	var m method
	if e := c.decode(&m); e != nil {
		return 0, nil, e
	}
	m.HTTPMethod, m.Integration = hm, nil
	switch {
	case m.AuthorizationType == "":
		return 0, nil, badRequest("Invalid authorization type specified: authorizationType is required")
	case !validAuthorizationType(m.AuthorizationType):
		return 0, nil, badRequest("Invalid authorization type specified. Valid options are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS")
	}
	if e := checkMethodAuthorizer(c.api, &m); e != nil {
		return 0, nil, e
	}
	c.resource.Methods[hm] = &m
	return http.StatusCreated, &m, nil
}

func (s *Sandbox) getMethod(c *call) (int, any, *apiError) {
	return 200, c.method, nil
}

func (s *Sandbox) updateMethod(c *call) (int, any, *apiError) {
	work := *c.method
	if e := c.applyPatches(work.applyPatch); e != nil {
		return 0, nil, e
	}
	if e := checkMethodAuthorizer(c.api, &work); e != nil {
		return 0, nil, e
	}
	*c.method = work
	return 200, c.method, nil
}

func (s *Sandbox) deleteMethod(c *call) (int, any, *apiError) {
	delete(c.resource.Methods, c.method.HTTPMethod)
	return http.StatusNoContent, nil, nil
}

// complete checks a PutIntegration input and fills in AWS's defaults.
func (in *integration) complete() *apiError {
	switch in.Type {
	case "HTTP", "HTTP_PROXY":
		if in.URI == "" {
			return badRequest("Invalid integration URI: uri is required for %s integrations", in.Type)
		}
		if in.HTTPMethod == "" {
			return badRequest("Enumeration value for HttpMethod must be non-empty: httpMethod is required for %s integrations", in.Type)
		}
	case "MOCK", "AWS", "AWS_PROXY":
	case "":
		return badRequest("Invalid integration type: type is required")
	default:
		return badRequest("Invalid integration type %q: valid options are HTTP,HTTP_PROXY,AWS,AWS_PROXY,MOCK", in.Type)
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
	return nil
}

func (s *Sandbox) putIntegration(c *call) (int, any, *apiError) {
	var in integration
	if e := c.decode(&in); e != nil {
		return 0, nil, e
	}
	if e := in.complete(); e != nil {
		return 0, nil, e
	}
	c.method.Integration = &in
	return http.StatusCreated, c.method.Integration, nil
}

func (s *Sandbox) getIntegration(c *call) (int, any, *apiError) {
	if c.method.Integration == nil {
		return 0, nil, notFound("No integration defined for method")
	}
	return 200, c.method.Integration, nil
}
