package sandbox

import (
	"net/http"
	"strings"
	"time"
)

// hasMethods reports whether any resource of a has a method: a deployment
// needs one.
func (a *restAPI) hasMethods() bool {
	for _, res := range a.Resources {
		if len(res.Methods) > 0 {
			return true
		}
	}
	return false
}

// view is the deployment as GetDeployment answers it; with embed=apisummary
// it adds the summary of the resources and methods it holds.
func (d *deployment) view(summary bool) any {
	if !summary {
		return d
	}
	out := map[string]any{"id": d.ID, "createdDate": d.Created, "apiSummary": d.snap.summary()}
	if d.Description != "" {
		out["description"] = d.Description
	}
	return out
}

func (s *Sandbox) createDeployment(c *call) (int, any, *apiError) {
	a := c.api
	var in struct {
		StageName        string            `json:"stageName"`
		StageDescription string            `json:"stageDescription"`
		Description      string            `json:"description"`
		Variables        map[string]string `json:"variables"`
	}
	if e := c.decode(&in); e != nil {
		return 0, nil, e
	}
	if !a.hasMethods() {
		return 0, nil, badRequest("The REST API doesn't contain any methods")
	}
	d := &deployment{ID: newID(6), Description: in.Description, Created: epoch(s.opts.Now()), snap: a.snapshot()}
	a.Deployments[d.ID] = d
	a.DeploymentOrder = append(a.DeploymentOrder, d.ID)
	if in.StageName == "" {
		return http.StatusCreated, d, nil
	}
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
		a.addStage(&stage{Name: in.StageName, DeploymentID: d.ID, Description: in.StageDescription,
			Variables: copyMap(in.Variables)}, s.opts.Now())
	}
	return http.StatusCreated, d, nil
}

func (s *Sandbox) getDeployments(c *call) (int, any, *apiError) {
	a := c.api
	return listPage(c, a.DeploymentOrder, func(id string) any { return a.Deployments[id] })
}

func (s *Sandbox) getDeployment(c *call) (int, any, *apiError) {
	embed := c.URL.Query()["embed"]
	for _, e := range embed {
		for _, v := range strings.Split(e, ",") {
			if v != "apisummary" {
				return 0, nil, badRequest("Invalid embed value %q: only apisummary is supported", v)
			}
		}
	}
	return 200, c.deployment.view(len(embed) > 0), nil
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

func (a *restAPI) addStage(st *stage, now time.Time) {
	st.Created, st.Updated = now, now
	if st.Variables == nil {
		st.Variables = map[string]string{}
	}
	st.MethodSettings = map[string]*methodSetting{}
	a.Stages[st.Name] = st
	a.StageOrder = append(a.StageOrder, st.Name)
}

// view is the stage as GetStage answers it.
func (st *stage) view() map[string]any {
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

// clone copies st deeply enough that patching the copy leaves st as it is.
func (st *stage) clone() *stage {
	c := *st
	c.Variables = copyMap(st.Variables)
	c.MethodSettings = make(map[string]*methodSetting, len(st.MethodSettings))
	for k, v := range st.MethodSettings {
		ms := *v
		c.MethodSettings[k] = &ms
	}
	return &c
}

func (s *Sandbox) createStage(c *call) (int, any, *apiError) {
	a := c.api
	var in struct {
		StageName      string            `json:"stageName"`
		DeploymentID   string            `json:"deploymentId"`
		Description    string            `json:"description"`
		Variables      map[string]string `json:"variables"`
		Tags           map[string]string `json:"tags"`
		TracingEnabled bool              `json:"tracingEnabled"`
	}
	if e := c.decode(&in); e != nil {
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
	a.addStage(st, s.opts.Now())
	return http.StatusCreated, st.view(), nil
}

func (s *Sandbox) getStages(c *call) (int, any, *apiError) {
	a := c.api
	dep := c.URL.Query().Get("deploymentId")
	items := []any{}
	for _, n := range a.StageOrder {
		if st := a.Stages[n]; dep == "" || st.DeploymentID == dep {
			items = append(items, st.view())
		}
	}
	return 200, map[string]any{"item": items}, nil
}

func (s *Sandbox) getStage(c *call) (int, any, *apiError) {
	return 200, c.stage.view(), nil
}

func (s *Sandbox) deleteStage(c *call) (int, any, *apiError) {
	a, st := c.api, c.stage
	if p := s.state.planUsing(a.ID, st.Name); p != nil {
		return 0, nil, badRequest("Cannot delete stage %s: it is associated with usage plan %s; remove it from the usage plan first", st.Name, p.ID)
	}
	delete(a.Stages, st.Name)
	a.StageOrder = removeString(a.StageOrder, st.Name)
	return http.StatusAccepted, nil, nil
}

func (s *Sandbox) updateStage(c *call) (int, any, *apiError) {
	// Apply to a copy so that a bad operation leaves the stage unchanged.
	work := c.stage.clone()
	if e := c.applyPatches(func(op patchOp) *apiError { return work.applyPatch(c.api, op) }); e != nil {
		return 0, nil, e
	}
	work.Updated = s.opts.Now()
	*c.stage = *work
	return 200, c.stage.view(), nil
}

// applyPatch applies one UpdateStage operation: the description, the
// deployment, tracing, variables, security settings and method settings
// (/{resourcePath}/{httpMethod}/{group}/{setting}); a the stage's API.
func (st *stage) applyPatch(a *restAPI, op patchOp) *apiError {
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
		res := a.resourceByPath(unescapePointer(parts[0]))
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
