package sandbox

import (
	"net/http"
	"strings"
)

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
