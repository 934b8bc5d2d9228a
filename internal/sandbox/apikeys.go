package sandbox

import (
	"net/http"
	"strings"
)

func apiKeyView(k *apiKey, includeValue bool) map[string]any {
	stageKeys := k.StageKeys
	if stageKeys == nil {
		stageKeys = []string{}
	}
	out := map[string]any{
		"id": k.ID, "enabled": k.Enabled, "createdDate": epoch(k.Created), "lastUpdatedDate": epoch(k.Updated),
		"stageKeys": stageKeys,
	}
	if k.Name != "" {
		out["name"] = k.Name
	}
	if k.Description != "" {
		out["description"] = k.Description
	}
	if k.CustomerID != "" {
		out["customerId"] = k.CustomerID
	}
	if len(k.Tags) > 0 {
		out["tags"] = k.Tags
	}
	if includeValue {
		out["value"] = k.Value
	}
	return out
}

func (s *Sandbox) createAPIKey(r *http.Request) (int, any, *apiError) {
	var in struct {
		Name        string            `json:"name"`
		Description string            `json:"description"`
		Enabled     bool              `json:"enabled"`
		Value       string            `json:"value"`
		CustomerID  string            `json:"customerId"`
		Tags        map[string]string `json:"tags"`
		StageKeys   []struct {
			RestAPIID string `json:"restApiId"`
			StageName string `json:"stageName"`
		} `json:"stageKeys"`
	}
	if e := decodeBody(r, &in); e != nil {
		return 0, nil, e
	}
	if len(s.state.keys) >= maxAPIKeys {
		return 0, nil, limitExceeded("Cannot create more than %d API keys", maxAPIKeys)
	}
	if in.Value != "" {
		if len(in.Value) < 20 {
			return 0, nil, badRequest("API Key value should be at least 20 characters")
		}
		if len(in.Value) > 128 {
			return 0, nil, badRequest("API Key value should be at most 128 characters")
		}
		if _, ok := s.state.keyByValue[in.Value]; ok {
			return 0, nil, conflict("API Key already exists")
		}
	} else {
		in.Value = newKeyValue()
	}
	now := s.opts.Now()
	k := &apiKey{ID: newID(10), Value: in.Value, Name: in.Name, Description: in.Description, CustomerID: in.CustomerID,
		Enabled: in.Enabled, Created: now, Updated: now, Tags: copyMap(in.Tags)}
	for _, sk := range in.StageKeys {
		k.StageKeys = append(k.StageKeys, sk.RestAPIID+"/"+sk.StageName)
	}
	s.state.keys[k.ID] = k
	s.state.keyByValue[k.Value] = k
	s.state.keyOrder = append(s.state.keyOrder, k.ID)
	return http.StatusCreated, apiKeyView(k, true), nil
}

func (s *Sandbox) getAPIKeys(r *http.Request) (int, any, *apiError) {
	q := r.URL.Query()
	name, customer := q.Get("name"), q.Get("customerId")
	include := q.Get("includeValues") == "true"
	var ids []string
	for _, id := range s.state.keyOrder {
		k := s.state.keys[id]
		if name != "" && !strings.HasPrefix(k.Name, name) {
			continue
		}
		if customer != "" && k.CustomerID != customer {
			continue
		}
		ids = append(ids, id)
	}
	return listPage(r, ids, func(id string) any { return apiKeyView(s.state.keys[id], include) })
}

func (s *Sandbox) lookupKey(id string) (*apiKey, *apiError) {
	k, ok := s.state.keys[id]
	if !ok {
		return nil, notFound("Invalid API Key identifier specified")
	}
	return k, nil
}

func (s *Sandbox) getAPIKey(r *http.Request) (int, any, *apiError) {
	k, e := s.lookupKey(r.PathValue("apiKey"))
	if e != nil {
		return 0, nil, e
	}
	return 200, apiKeyView(k, r.URL.Query().Get("includeValue") == "true"), nil
}

func (s *Sandbox) updateAPIKey(r *http.Request) (int, any, *apiError) {
	k, e := s.lookupKey(r.PathValue("apiKey"))
	if e != nil {
		return 0, nil, e
	}
	ops, e := decodePatch(r)
	if e != nil {
		return 0, nil, e
	}
	work := *k
	for _, op := range ops {
		if op.Op != "replace" && op.Op != "add" && !(op.Op == "remove" && op.Path != "/enabled") {
			return 0, nil, badOp(op, "replace")
		}
		v := op.value()
		if op.Op == "remove" {
			v = ""
		}
		switch op.Path {
		case "/enabled":
			b, e := parseBool(v)
			if e != nil {
				return 0, nil, e
			}
			work.Enabled = b
		case "/name":
			work.Name = v
		case "/description":
			work.Description = v
		case "/customerId":
			work.CustomerID = v
		default:
			return 0, nil, badRequest("Invalid patch path %s", op.Path)
		}
	}
	work.Updated = s.opts.Now()
	*k = work
	return 200, apiKeyView(k, false), nil
}

func (s *Sandbox) deleteAPIKey(r *http.Request) (int, any, *apiError) {
	k, e := s.lookupKey(r.PathValue("apiKey"))
	if e != nil {
		return 0, nil, e
	}
	for _, p := range s.state.plans {
		p.KeyOrder = removeString(p.KeyOrder, k.ID)
	}
	delete(s.state.keys, k.ID)
	delete(s.state.keyByValue, k.Value)
	s.state.keyOrder = removeString(s.state.keyOrder, k.ID)
	return http.StatusAccepted, nil, nil
}
