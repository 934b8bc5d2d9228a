package sandbox

import (
	"encoding/json"
	"net/http"

	"github.com/apictl/apictl/internal/awsfacts"
)

// view is the REST API as GetRestApi answers it.
func (a *restAPI) view() map[string]any {
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

// applyPatch applies one UpdateRestApi operation: replace on /policy, /name
// and /description.
func (a *restAPI) applyPatch(op patchOp) *apiError {
	if op.Op != "replace" {
		return badOp(op, "replace")
	}
	switch op.Path {
	case "/policy":
		p := op.value()
		if p != "" && !json.Valid([]byte(p)) {
			return badRequest("Invalid policy document. Please check the policy syntax and try again.")
		}
		a.Policy = p
	case "/name":
		if op.value() == "" {
			return badRequest("Invalid REST API name specified: name must not be blank")
		}
		a.Name = op.value()
	case "/description":
		a.Description = op.value()
	default:
		return badRequest("Invalid patch path %s", op.Path)
	}
	return nil
}

func (s *Sandbox) createRestAPI(c *call) (int, any, *apiError) {
	var in struct {
		Name                  string            `json:"name"`
		Description           string            `json:"description"`
		APIKeySource          string            `json:"apiKeySource"`
		Tags                  map[string]string `json:"tags"`
		EndpointConfiguration *struct {
			Types []string `json:"types"`
		} `json:"endpointConfiguration"`
	}
	if e := c.decode(&in); e != nil {
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
	return http.StatusCreated, a.view(), nil
}

func (s *Sandbox) getRestAPIs(c *call) (int, any, *apiError) {
	return listPage(c, s.state.apiOrder, func(id string) any { return s.state.apis[id].view() })
}

func (s *Sandbox) getRestAPI(c *call) (int, any, *apiError) {
	return 200, c.api.view(), nil
}

func (s *Sandbox) updateRestAPI(c *call) (int, any, *apiError) {
	work := *c.api
	if e := c.applyPatches(work.applyPatch); e != nil {
		return 0, nil, e
	}
	*c.api = work
	return 200, c.api.view(), nil
}

func (s *Sandbox) deleteRestAPI(c *call) (int, any, *apiError) {
	a := c.api
	if p := s.state.planUsing(a.ID, ""); p != nil {
		return 0, nil, badRequest("Active stages pointing to this REST API are associated with usage plan %s; remove them from the usage plan first", p.ID)
	}
	delete(s.state.apis, a.ID)
	s.state.apiOrder = removeString(s.state.apiOrder, a.ID)
	return http.StatusAccepted, nil, nil
}

func (s *Sandbox) getAccount(*call) (int, any, *apiError) {
	out := map[string]any{"features": []string{"UsagePlans"}, "apiKeyVersion": "4"}
	if t := s.opts.AccountThrottle; t != nil {
		out["throttleSettings"] = throttleSettings{BurstLimit: t.Burst, RateLimit: t.Rate}
	} else {
		def := awsfacts.DefaultAccountThrottle(s.opts.Region)
		out["throttleSettings"] = throttleSettings{BurstLimit: def.Burst, RateLimit: def.Rate}
	}
	return 200, out, nil
}
