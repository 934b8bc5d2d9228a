package sandbox

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// AWS limits per region and account.
const (
	maxUsagePlans            = 300
	maxAPIKeys               = 10000
	maxPlansPerKey           = 10
	maxMethodThrottlesPerAPI = 20
)

type throttleIn struct {
	BurstLimit *int     `json:"burstLimit"`
	RateLimit  *float64 `json:"rateLimit"`
}

func (t *throttleIn) settings() *throttleSettings {
	if t == nil {
		return nil
	}
	out := &throttleSettings{}
	if t.BurstLimit != nil {
		out.BurstLimit = *t.BurstLimit
	}
	if t.RateLimit != nil {
		out.RateLimit = *t.RateLimit
	}
	return out
}

// view is the usage plan as GetUsagePlan answers it.
func (p *usagePlan) view() map[string]any {
	stages := []any{}
	for _, as := range p.APIStages {
		stages = append(stages, as)
	}
	out := map[string]any{"id": p.ID, "name": p.Name, "apiStages": stages}
	if p.Description != "" {
		out["description"] = p.Description
	}
	if p.ProductCode != "" {
		out["productCode"] = p.ProductCode
	}
	if p.Throttle != nil {
		out["throttle"] = p.Throttle
	}
	if p.Quota != nil {
		out["quota"] = p.Quota
	}
	if len(p.Tags) > 0 {
		out["tags"] = p.Tags
	}
	return out
}

// clone copies p deeply enough that patching the copy leaves p as it is.
func (p *usagePlan) clone() *usagePlan {
	c := *p
	c.APIStages = nil
	for _, as := range p.APIStages {
		ac := *as
		ac.Throttle = copyMap(as.Throttle)
		c.APIStages = append(c.APIStages, &ac)
	}
	if p.Throttle != nil {
		t := *p.Throttle
		c.Throttle = &t
	}
	if p.Quota != nil {
		q := *p.Quota
		c.Quota = &q
	}
	c.Tags = copyMap(p.Tags)
	c.KeyOrder = slices.Clone(p.KeyOrder)
	return &c
}

// validatePlan checks a usage plan as AWS does before accepting it.
func (st *state) validatePlan(p *usagePlan) *apiError {
	if strings.TrimSpace(p.Name) == "" {
		return badRequest("Usage plan name must be non-empty")
	}
	seen := map[string]bool{}
	for _, as := range p.APIStages {
		id := as.APIID + ":" + as.Stage
		if seen[id] {
			return conflict("API Stage %s is already associated with this usage plan", id)
		}
		seen[id] = true
		a, ok := st.apis[as.APIID]
		if !ok {
			return badRequest("API Stage not found: %s (no REST API %s)", id, as.APIID)
		}
		if _, ok := a.Stages[as.Stage]; !ok {
			return badRequest("API Stage not found: %s (API %s has no stage %s)", id, as.APIID, as.Stage)
		}
		if len(as.Throttle) == 0 {
			continue
		}
		if p.Throttle == nil {
			return badRequest("Cannot set method-level throttling on API Stage %s: the usage plan has no plan-level throttle; set /throttle/rateLimit and /throttle/burstLimit first", id)
		}
		if len(as.Throttle) > maxMethodThrottlesPerAPI {
			return badRequest("Too many method-level throttles for API Stage %s: %d (at most %d)", id, len(as.Throttle), maxMethodThrottlesPerAPI)
		}
		for k, t := range as.Throttle {
			i := strings.LastIndex(k, "/")
			if i <= 0 {
				return badRequest("Invalid method throttle key %q: expected {resourcePath}/{httpMethod}, e.g. /pets/GET", k)
			}
			path, hm := k[:i], k[i+1:]
			res := a.resourceByPath(path)
			if res == nil {
				return badRequest("Invalid method throttle key %q: API %s has no resource %s", k, as.APIID, path)
			}
			if _, ok := res.Methods[hm]; !ok && hm != "*" {
				return badRequest("Invalid method throttle key %q: resource %s has no method %s", k, path, hm)
			}
			if t.RateLimit < 0 || t.BurstLimit < 0 {
				return badRequest("Throttle limits must be non-negative")
			}
		}
	}
	if t := p.Throttle; t != nil && (t.RateLimit < 0 || t.BurstLimit < 0) {
		return badRequest("Throttle limits must be non-negative")
	}
	if q := p.Quota; q != nil {
		switch q.Period {
		case "DAY":
			if q.Offset != 0 {
				return badRequest("Quota offset must be 0 for period DAY")
			}
		case "WEEK":
			if q.Offset < 0 || q.Offset > 6 {
				return badRequest("Quota offset must be between 0 and 6 for period WEEK")
			}
		case "MONTH":
			if q.Offset < 0 || q.Offset > 27 {
				return badRequest("Quota offset must be between 0 and 27 for period MONTH")
			}
		default:
			return badRequest("Invalid quota period %q: must be one of DAY, WEEK, MONTH", q.Period)
		}
		if q.Limit < 0 {
			return badRequest("Quota limit must be non-negative")
		}
	}
	// A key may belong to only one plan per API stage.
	for _, kid := range p.KeyOrder {
		if other, stageID := st.keyStageConflict(p, kid); other != nil {
			return conflict("Usage Plan %s cannot be added because API Key %s cannot reference multiple Usage Plans with the same API Stage: %s", p.ID, kid, stageID)
		}
	}
	return nil
}

// keyStageConflict finds another plan that holds key kid and shares an API
// stage with p.
func (st *state) keyStageConflict(p *usagePlan, kid string) (*usagePlan, string) {
	for _, oid := range st.planOrder {
		o := st.plans[oid]
		if o.ID == p.ID || !o.hasKey(kid) {
			continue
		}
		for _, a := range p.APIStages {
			for _, b := range o.APIStages {
				if a.APIID == b.APIID && a.Stage == b.Stage {
					return o, a.APIID + ":" + a.Stage
				}
			}
		}
	}
	return nil, ""
}

func (s *Sandbox) createUsagePlan(c *call) (int, any, *apiError) {
	var in struct {
		Name        string            `json:"name"`
		Description string            `json:"description"`
		APIStages   []*apiStage       `json:"apiStages"`
		Throttle    *throttleIn       `json:"throttle"`
		Quota       *quotaSettings    `json:"quota"`
		Tags        map[string]string `json:"tags"`
	}
	if e := c.decode(&in); e != nil {
		return 0, nil, e
	}
	if len(s.state.plans) >= maxUsagePlans {
		return 0, nil, limitExceeded("Cannot create more than %d usage plans", maxUsagePlans)
	}
	p := &usagePlan{ID: newID(6), Name: in.Name, Description: in.Description, APIStages: in.APIStages,
		Throttle: in.Throttle.settings(), Quota: in.Quota, Tags: copyMap(in.Tags)}
	if e := s.state.validatePlan(p); e != nil {
		return 0, nil, e
	}
	s.state.plans[p.ID] = p
	s.state.planOrder = append(s.state.planOrder, p.ID)
	return http.StatusCreated, p.view(), nil
}

func (s *Sandbox) getUsagePlans(c *call) (int, any, *apiError) {
	keyID := c.URL.Query().Get("keyId")
	var ids []string
	for _, id := range s.state.planOrder {
		if keyID == "" || s.state.plans[id].hasKey(keyID) {
			ids = append(ids, id)
		}
	}
	return listPage(c, ids, func(id string) any { return s.state.plans[id].view() })
}

func (s *Sandbox) getUsagePlan(c *call) (int, any, *apiError) {
	return 200, c.plan.view(), nil
}

func (s *Sandbox) deleteUsagePlan(c *call) (int, any, *apiError) {
	p := c.plan
	if len(p.APIStages) > 0 {
		ids := []string{}
		for _, as := range p.APIStages {
			ids = append(ids, as.APIID+":"+as.Stage)
		}
		return 0, nil, badRequest("Cannot delete Usage Plan %s because there are API Stages associated with it: %s; remove them first", p.ID, strings.Join(ids, ", "))
	}
	delete(s.state.plans, p.ID)
	s.state.planOrder = removeString(s.state.planOrder, p.ID)
	s.dp.forgetPlan(p.ID)
	return http.StatusAccepted, nil, nil
}

func (s *Sandbox) updateUsagePlan(c *call) (int, any, *apiError) {
	work := c.plan.clone()
	if e := c.applyPatches(work.applyPatch); e != nil {
		return 0, nil, e
	}
	if e := s.state.validatePlan(work); e != nil {
		return 0, nil, e
	}
	*c.plan = *work
	return 200, c.plan.view(), nil
}

// hasKey reports whether API key kid is in p.
func (p *usagePlan) hasKey(kid string) bool { return slices.Contains(p.KeyOrder, kid) }

// apiStage finds the API stage "{apiId}:{stage}" of p.
func (p *usagePlan) apiStage(id string) *apiStage {
	for _, as := range p.APIStages {
		if as.APIID+":"+as.Stage == id {
			return as
		}
	}
	return nil
}

// applyPatch applies one UpdateUsagePlan operation.
func (p *usagePlan) applyPatch(op patchOp) *apiError {
	v := op.value()
	isSet := op.Op == "replace" || op.Op == "add"
	switch op.Path {
	case "/name", "/description", "/productCode":
		if !isSet && op.Op != "remove" {
			return badOp(op, "replace")
		}
		if op.Op == "remove" {
			v = ""
		}
		switch op.Path {
		case "/name":
			p.Name = v
		case "/description":
			p.Description = v
		default:
			p.ProductCode = v
		}
		return nil
	case "/apiStages":
		i := strings.LastIndex(v, ":")
		if i <= 0 || i == len(v)-1 {
			return badRequest("Invalid API Stage value %q: expected {apiId}:{stage}", v)
		}
		switch op.Op {
		case "add":
			if p.apiStage(v) != nil {
				return conflict("API Stage %s is already associated with this usage plan", v)
			}
			p.APIStages = append(p.APIStages, &apiStage{APIID: v[:i], Stage: v[i+1:]})
		case "remove":
			if p.apiStage(v) == nil {
				return notFound("API Stage %s is not associated with usage plan %s", v, p.ID)
			}
			p.APIStages = slices.DeleteFunc(p.APIStages, func(as *apiStage) bool { return as.APIID+":"+as.Stage == v })
		default:
			return badOp(op, "add, remove")
		}
		return nil
	case "/throttle":
		if op.Op != "remove" {
			return badOp(op, "remove")
		}
		p.Throttle = nil
		return nil
	case "/throttle/rateLimit", "/throttle/burstLimit":
		if !isSet {
			return badOp(op, "replace")
		}
		if p.Throttle == nil {
			p.Throttle = &throttleSettings{}
		}
		var e *apiError
		if op.Path == "/throttle/rateLimit" {
			p.Throttle.RateLimit, e = parseFloat(v)
		} else {
			p.Throttle.BurstLimit, e = parseInt(v)
		}
		return e
	case "/quota":
		if op.Op != "remove" {
			return badOp(op, "remove")
		}
		p.Quota = nil
		return nil
	case "/quota/limit", "/quota/offset", "/quota/period":
		if !isSet {
			return badOp(op, "replace")
		}
		if p.Quota == nil {
			p.Quota = &quotaSettings{}
		}
		var e *apiError
		switch op.Path {
		case "/quota/limit":
			p.Quota.Limit, e = parseInt(v)
		case "/quota/offset":
			p.Quota.Offset, e = parseInt(v)
		default:
			p.Quota.Period = v
		}
		return e
	}
	if rest, ok := strings.CutPrefix(op.Path, "/apiStages/"); ok {
		return p.applyAPIStagePatch(rest, op)
	}
	return badRequest("Invalid patch path %s", op.Path)
}

// applyAPIStagePatch handles /apiStages/{apiId}:{stage}/throttle[/{resourcePath}/{method}[/rateLimit|burstLimit]].
func (p *usagePlan) applyAPIStagePatch(rest string, op patchOp) *apiError {
	id, sub, _ := strings.Cut(rest, "/")
	as := p.apiStage(id)
	if as == nil {
		return notFound("API Stage %s is not associated with usage plan %s", id, p.ID)
	}
	if sub == "throttle" {
		switch op.Op {
		case "replace", "add":
			var m map[string]throttleIn
			if err := json.Unmarshal([]byte(op.value()), &m); err != nil {
				return badRequest("Invalid throttle map for API Stage %s: %v (expected e.g. {\"/pets/GET\":{\"rateLimit\":10,\"burstLimit\":20}})", id, err)
			}
			as.Throttle = map[string]throttleSettings{}
			for k, t := range m {
				as.Throttle[k] = *t.settings()
			}
		case "remove":
			as.Throttle = nil
		default:
			return badOp(op, "replace, remove")
		}
		return nil
	}
	tail, ok := strings.CutPrefix(sub, "throttle/")
	if !ok {
		return badRequest("Invalid patch path %s", op.Path)
	}
	segs := strings.Split(tail, "/")
	field := ""
	if last := segs[len(segs)-1]; last == "rateLimit" || last == "burstLimit" {
		field = last
		segs = segs[:len(segs)-1]
	}
	if len(segs) < 2 {
		return badRequest("Invalid patch path %s: expected /apiStages/{apiId}:{stage}/throttle/{resourcePath}/{httpMethod}/rateLimit", op.Path)
	}
	hm := segs[len(segs)-1]
	path := unescapePointer(strings.Join(segs[:len(segs)-1], "/"))
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	key := path + "/" + hm
	switch op.Op {
	case "remove":
		if _, ok := as.Throttle[key]; !ok {
			return notFound("No method throttle %s for API Stage %s", key, id)
		}
		delete(as.Throttle, key)
		return nil
	case "replace", "add":
		if field == "" {
			return badRequest("Invalid patch path %s: missing /rateLimit or /burstLimit", op.Path)
		}
		if as.Throttle == nil {
			as.Throttle = map[string]throttleSettings{}
		}
		t := as.Throttle[key]
		var e *apiError
		if field == "rateLimit" {
			t.RateLimit, e = parseFloat(op.value())
		} else {
			t.BurstLimit, e = parseInt(op.value())
		}
		as.Throttle[key] = t
		return e
	}
	return badOp(op, "replace, remove")
}

// Usage plan keys.

func (s *Sandbox) createUsagePlanKey(c *call) (int, any, *apiError) {
	p := c.plan
	var in struct {
		KeyID   string `json:"keyId"`
		KeyType string `json:"keyType"`
	}
	if e := c.decode(&in); e != nil {
		return 0, nil, e
	}
	if in.KeyType != "API_KEY" {
		return 0, nil, badRequest("Invalid key type %q: must be API_KEY", in.KeyType)
	}
	k, e := s.lookupKey(in.KeyID)
	if e != nil {
		return 0, nil, e
	}
	if p.hasKey(k.ID) {
		return 0, nil, conflict("Usage Plan Key already exists: key %s is already in usage plan %s", k.ID, p.ID)
	}
	plans := 0
	for _, o := range s.state.plans {
		if o.hasKey(k.ID) {
			plans++
		}
	}
	if plans >= maxPlansPerKey {
		return 0, nil, limitExceeded("API Key %s is already in %d usage plans (at most %d)", k.ID, plans, maxPlansPerKey)
	}
	if _, stageID := s.state.keyStageConflict(p, k.ID); stageID != "" {
		return 0, nil, conflict("Usage Plan %s cannot be added because API Key %s cannot reference multiple Usage Plans with the same API Stage: %s", p.ID, k.ID, stageID)
	}
	p.KeyOrder = append(p.KeyOrder, k.ID)
	return http.StatusCreated, k.planKeyView(), nil
}

func (s *Sandbox) getUsagePlanKeys(c *call) (int, any, *apiError) {
	name := c.URL.Query().Get("name")
	var ids []string
	for _, id := range c.plan.KeyOrder {
		if name == "" || strings.HasPrefix(s.state.keys[id].Name, name) {
			ids = append(ids, id)
		}
	}
	return listPage(c, ids, func(id string) any { return s.state.keys[id].planKeyView() })
}

func (s *Sandbox) getUsagePlanKey(c *call) (int, any, *apiError) {
	return 200, c.key.planKeyView(), nil
}

func (s *Sandbox) deleteUsagePlanKey(c *call) (int, any, *apiError) {
	c.plan.KeyOrder = removeString(c.plan.KeyOrder, c.key.ID)
	return http.StatusAccepted, nil, nil
}
