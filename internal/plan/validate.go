package plan

import (
	"fmt"
	"regexp"
	"strings"
)

// Limits API Gateway enforces that a plan is checked against. The first
// three are default quotas an account can have raised (Service Quotas):
// exceeding them is a Warning. MaxAPIKeys cannot be raised: an error.
const (
	MaxMethodThrottlesPerStage = 20 // per usage plan per API stage
	MaxPlansPerKey             = 10
	MaxUsagePlans              = 300
	MaxAPIKeys                 = 10000
)

var (
	methodVerbs = map[string]bool{"GET": true, "POST": true, "PUT": true, "DELETE": true, "PATCH": true, "HEAD": true, "OPTIONS": true, "ANY": true}
	pathRe      = regexp.MustCompile(`^/$|^(/([A-Za-z0-9._~:@!$&'()*+,;=-]+|\{[A-Za-z0-9_.-]+\+?\}))+$`)
	envNameRe   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	stageNameRe = regexp.MustCompile(`^[A-Za-z0-9_$-]+$`)
)

// ParseMethodKey splits a plan method key "VERB /path" into verb and path.
func ParseMethodKey(key string) (verb, path string, err error) {
	verb, path, ok := strings.Cut(key, " ")
	if !ok || verb == "" || path == "" {
		return "", "", fmt.Errorf("method %q is not formatted \"VERB /path\" (e.g. \"GET /cart/profile/{userId}\")", key)
	}
	if !methodVerbs[verb] {
		return "", "", fmt.Errorf("method %q: unknown HTTP method %q (one of GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS, ANY)", key, verb)
	}
	if !pathRe.MatchString(path) {
		return "", "", fmt.Errorf("method %q: path %q must start with / and contain path parts or {params} separated by single slashes", key, path)
	}
	return verb, path, nil
}

type validator struct {
	p    *Plan
	errs Errors
}

func (v *validator) at(pos Pos, format string, args ...any) {
	// A field that is missing has no position of its own: point at its
	// parent's, else at the top of the file (every error has FILE:LINE:COL).
	if pos.Line == 0 {
		pos = v.p.Src.Pos
	}
	if pos.Line == 0 {
		pos = Pos{1, 1}
	}
	v.errs = append(v.errs, &Error{File: v.p.File, Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// Validate checks a decoded plan against the plan rules and API Gateway's
// limits. It returns nil or Errors with every problem, in file order.
func Validate(p *Plan) error {
	if p == nil {
		return Errors{{Msg: "no plan"}}
	}
	v := &validator{p: p}
	v.root()
	return v.errs.err()
}

func (v *validator) root() {
	p := v.p
	if p.APIVersion != APIVersion {
		if p.APIVersion == "" {
			v.at(p.Src.Pos, "missing apiVersion (want %q)", APIVersion)
		} else {
			v.at(p.Src.Of("apiVersion"), "unsupported apiVersion %q (want %q)", p.APIVersion, APIVersion)
		}
	}
	if p.Kind != DocumentKind {
		if p.Kind == "" {
			v.at(p.Src.Pos, "missing kind (want %q)", DocumentKind)
		} else {
			v.at(p.Src.Of("kind"), "unsupported kind %q (want %q)", p.Kind, DocumentKind)
		}
	}
	if strings.TrimSpace(p.API) == "" {
		v.at(p.Src.Of("api"), "missing api: the name or id of the target API")
	}
	switch p.Type {
	case "", TypeREST, TypeHTTP:
	default:
		v.at(p.Src.Of("type"), "unknown type %q (rest or http)", p.Type)
	}
	if len(p.Stages) == 0 {
		v.at(p.Src.Of("stages"), "missing stages: list at least one stage name")
	}
	stageSet := map[string]bool{}
	for i, s := range p.Stages {
		pos := p.Src.Of(fmt.Sprintf("stages.%d", i))
		switch {
		case !stageNameRe.MatchString(s):
			v.at(pos, "stage name %q: only letters, digits, -, _ and $ are allowed", s)
		case stageSet[s]:
			v.at(pos, "duplicate stage %q", s)
		}
		stageSet[s] = true
	}
	if p.Stage != nil {
		v.stage(p.Stage)
	}
	if p.EffectiveType() == TypeHTTP {
		if len(p.UsagePlans) > 0 {
			v.at(p.Src.Of("usagePlans"), "usage plans are not supported for HTTP APIs (API Gateway v2 has no usage plans); throttle with stage.throttle and stage.methods, or use a REST API")
		}
		if len(p.APIKeys) > 0 {
			v.at(p.Src.Of("apiKeys"), "API keys are not supported for HTTP APIs; use a REST API or an authorizer")
		}
		return
	}
	keyIdx := v.keys()
	v.usagePlans(stageSet, keyIdx)
}

func (v *validator) throttle(t *Throttle, what string) {
	if t.Rate == nil {
		v.at(t.Src.Pos, "%s: missing rate", what)
	} else if *t.Rate <= 0 {
		v.at(t.Src.Of("rate"), "%s: rate must be greater than 0 requests per second, got %g", what, *t.Rate)
	}
	if t.Burst == nil {
		v.at(t.Src.Pos, "%s: missing burst", what)
	} else if *t.Burst < 0 {
		v.at(t.Src.Of("burst"), "%s: burst must not be negative, got %d", what, *t.Burst)
	}
}

func (v *validator) methodKey(key string, pos Pos) bool {
	if v.p.EffectiveType() == TypeHTTP && key == "$default" {
		return true
	}
	if _, _, err := ParseMethodKey(key); err != nil {
		v.at(pos, "%v", err)
		return false
	}
	return true
}

func (v *validator) stage(s *StageSettings) {
	if s.Throttle != nil {
		v.throttle(s.Throttle, "stage.throttle")
	}
	seen := map[string]bool{}
	for _, m := range s.Methods {
		what := fmt.Sprintf("stage.methods[%q]", m.Key)
		if v.methodKey(m.Key, m.Src.Pos) {
			if seen[m.Key] {
				v.at(m.Src.Pos, "duplicate method %q", m.Key)
			}
			seen[m.Key] = true
		}
		if m.Throttle == nil && m.DetailedMetrics == nil {
			v.at(m.Src.Pos, "%s: set throttle or detailedMetrics (or remove the entry)", what)
		}
		if m.Throttle != nil {
			v.throttle(m.Throttle, what+".throttle")
		}
	}
}

// keys checks apiKeys and returns name → index.
func (v *validator) keys() map[string]int {
	idx := map[string]int{}
	envs := map[string]string{}
	if len(v.p.APIKeys) > MaxAPIKeys {
		v.at(v.p.Src.Of("apiKeys"), "%d API keys exceed the API Gateway limit of %d per region", len(v.p.APIKeys), MaxAPIKeys)
	}
	for i, k := range v.p.APIKeys {
		if strings.TrimSpace(k.Name) == "" {
			v.at(k.Src.Pos, "apiKeys[%d]: missing name", i)
			continue
		}
		if _, dup := idx[k.Name]; dup {
			v.at(k.Src.Of("name"), "duplicate API key name %q", k.Name)
			continue
		}
		idx[k.Name] = i
		if k.Value != nil {
			switch {
			case k.Value.FromEnv == "":
				v.at(k.Value.Src.Pos, "API key %q: value needs fromEnv: VARIABLE", k.Name)
			case !envNameRe.MatchString(k.Value.FromEnv):
				v.at(k.Value.Src.Of("fromEnv"), "API key %q: %q is not a valid environment variable name", k.Name, k.Value.FromEnv)
			default:
				if other, dup := envs[k.Value.FromEnv]; dup {
					v.at(k.Value.Src.Of("fromEnv"), "API key %q: environment variable %s is already the value of key %q (key values must be unique)", k.Name, k.Value.FromEnv, other)
				}
				envs[k.Value.FromEnv] = k.Name
			}
		}
	}
	return idx
}

func (v *validator) usagePlans(stageSet map[string]bool, keyIdx map[string]int) {
	p := v.p
	names := map[string]bool{}
	type membership struct{ plan, stage string }
	keyPlans := map[string][]string{}          // key → plan names
	keyStage := map[string]map[string]string{} // key → stage → plan
	reported := map[membership]bool{}
	for i, u := range p.UsagePlans {
		what := fmt.Sprintf("usage plan %q", u.Name)
		if strings.TrimSpace(u.Name) == "" {
			v.at(u.Src.Pos, "usagePlans[%d]: missing name", i)
			what = fmt.Sprintf("usagePlans[%d]", i)
		} else if names[u.Name] {
			v.at(u.Src.Of("name"), "duplicate usage plan name %q", u.Name)
		}
		names[u.Name] = true
		ustages := map[string]bool{}
		for j, s := range u.Stages {
			pos := u.Src.Of(fmt.Sprintf("stages.%d", j))
			if !stageSet[s] {
				v.at(pos, "%s: stage %q is not in the plan's stages %v", what, s, p.Stages)
			} else if ustages[s] {
				v.at(pos, "%s: duplicate stage %q", what, s)
			}
			ustages[s] = true
		}
		if u.Throttle != nil {
			v.throttle(u.Throttle, what+".throttle")
		}
		if u.Quota != nil {
			v.quota(u.Quota, what+".quota")
		}
		if len(u.Methods) > 0 && u.Throttle == nil {
			v.at(u.Src.Of("methods"), "%s: per-method throttles need a plan throttle (API Gateway rejects them otherwise); add throttle: {rate, burst}", what)
		}
		seen := map[string]bool{}
		for _, m := range u.Methods {
			if v.methodKey(m.Key, m.Src.Pos) {
				if seen[m.Key] {
					v.at(m.Src.Pos, "%s: duplicate method %q", what, m.Key)
				}
				seen[m.Key] = true
			}
			v.throttle(&Throttle{Rate: m.Rate, Burst: m.Burst, Src: m.Src}, fmt.Sprintf("%s.methods[%q]", what, m.Key))
		}
		inPlan := map[string]bool{}
		for j, k := range u.Keys {
			pos := u.Src.Of(fmt.Sprintf("keys.%d", j))
			if _, ok := keyIdx[k]; !ok {
				v.at(pos, "%s: unknown API key %q (declare it under apiKeys)", what, k)
				continue
			}
			if inPlan[k] {
				v.at(pos, "%s: key %q listed twice", what, k)
				continue
			}
			inPlan[k] = true
			keyPlans[k] = append(keyPlans[k], u.Name)
			if keyStage[k] == nil {
				keyStage[k] = map[string]string{}
			}
			for _, s := range dedupe(p.PlanStages(u)) {
				if other, ok := keyStage[k][s]; ok {
					if !reported[membership{u.Name, k}] {
						v.at(pos, "API key %q is in usage plans %q and %q for the same stage %q; a key can be in only one plan per API stage", k, other, u.Name, s)
						reported[membership{u.Name, k}] = true
					}
					continue
				}
				keyStage[k][s] = u.Name
			}
		}
	}
}

func (v *validator) quota(q *Quota, what string) {
	if q.Limit == nil {
		v.at(q.Src.Pos, "%s: missing limit", what)
	} else if *q.Limit <= 0 {
		v.at(q.Src.Of("limit"), "%s: limit must be greater than 0, got %d", what, *q.Limit)
	}
	maxOffset := -1
	switch q.Period {
	case "DAY":
		maxOffset = 0
	case "WEEK":
		maxOffset = 6
	case "MONTH":
		maxOffset = 27
	case "":
		v.at(q.Src.Pos, "%s: missing period (DAY, WEEK or MONTH)", what)
	default:
		v.at(q.Src.Of("period"), "%s: bad period %q (DAY, WEEK or MONTH)", what, q.Period)
	}
	if q.Offset < 0 || (maxOffset >= 0 && q.Offset > maxOffset) {
		if maxOffset < 0 {
			maxOffset = 27
		}
		v.at(q.Src.Of("offset"), "%s: offset %d out of range 0..%d for period %s", what, q.Offset, maxOffset, q.Period)
	}
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
