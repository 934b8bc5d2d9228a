package sandbox

import (
	"net/http"
	"strings"
)

// view is the key as GetApiKey answers it; the value only with
// includeValue.
func (k *apiKey) view(includeValue bool) map[string]any {
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

func (s *Sandbox) createAPIKey(c *call) (int, any, *apiError) {
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
	if e := c.decode(&in); e != nil {
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
	return http.StatusCreated, k.view(true), nil
}

func (s *Sandbox) getAPIKeys(c *call) (int, any, *apiError) {
	q := c.URL.Query()
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
	return listPage(c, ids, func(id string) any { return s.state.keys[id].view(include) })
}

func (s *Sandbox) lookupKey(id string) (*apiKey, *apiError) {
	k, ok := s.state.keys[id]
	if !ok {
		return nil, notFound("Invalid API Key identifier specified")
	}
	return k, nil
}

func (s *Sandbox) getAPIKey(c *call) (int, any, *apiError) {
	return 200, c.key.view(c.URL.Query().Get("includeValue") == "true"), nil
}

// applyPatch applies one UpdateApiKey operation: replace (or add) on
// /enabled, /name, /description and /customerId, remove on all but /enabled.
func (k *apiKey) applyPatch(op patchOp) *apiError {
	if op.Op != "replace" && op.Op != "add" && !(op.Op == "remove" && op.Path != "/enabled") {
		return badOp(op, "replace")
	}
	v := op.value()
	if op.Op == "remove" {
		v = ""
	}
	var e *apiError
	switch op.Path {
	case "/enabled":
		k.Enabled, e = parseBool(v)
	case "/name":
		k.Name = v
	case "/description":
		k.Description = v
	case "/customerId":
		k.CustomerID = v
	default:
		e = badRequest("Invalid patch path %s", op.Path)
	}
	return e
}

func (s *Sandbox) updateAPIKey(c *call) (int, any, *apiError) {
	work := *c.key
	if e := c.applyPatches(work.applyPatch); e != nil {
		return 0, nil, e
	}
	work.Updated = s.opts.Now()
	*c.key = work
	return 200, c.key.view(false), nil
}

func (s *Sandbox) deleteAPIKey(c *call) (int, any, *apiError) {
	k := c.key
	for _, p := range s.state.plans {
		p.KeyOrder = removeString(p.KeyOrder, k.ID)
	}
	delete(s.state.keys, k.ID)
	delete(s.state.keyByValue, k.Value)
	s.state.keyOrder = removeString(s.state.keyOrder, k.ID)
	return http.StatusAccepted, nil, nil
}

// planKeyView is the key as GetUsagePlanKey answers it.
func (k *apiKey) planKeyView() map[string]any {
	out := map[string]any{"id": k.ID, "type": "API_KEY", "value": k.Value}
	if k.Name != "" {
		out["name"] = k.Name
	}
	return out
}
