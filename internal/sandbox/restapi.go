package sandbox

import (
	"net/http"

	"github.com/apictl/apictl/internal/awsfacts"
)

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
