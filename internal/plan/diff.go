package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/apictl/apictl/internal/awsfacts"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
)

// Actions of a change.
const (
	ActionCreate  = "create"
	ActionUpdate  = "update"
	ActionDelete  = "delete"
	ActionReplace = "replace" // delete then create (an API key whose value changed)
)

// Changes is the diff between a plan and live state: the JSON model of
// `apictl apply-plan -o json` and the input of Apply.
type Changes struct {
	APIID   string `json:"api_id"`
	APIName string `json:"api_name"`
	APIType string `json:"api_type"`
	File    string `json:"file,omitempty"`
	// Stages, UsagePlans, APIKeys and PlanKeys list pending changes; empty
	// lists mean the live state matches the plan.
	Stages     []*Change `json:"stages"`
	UsagePlans []*Change `json:"usage_plans"`
	APIKeys    []*Change `json:"api_keys"`
	PlanKeys   []*Change `json:"plan_keys"`
	// Unmanaged lists resources apictl sees but leaves alone (e.g. managed
	// ones absent from the plan without --prune).
	Notes   []string `json:"notes,omitempty"`
	Summary Summary  `json:"summary"`

	region string
}

// Summary counts changes by action.
type Summary struct {
	Create int `json:"create"`
	Update int `json:"update"`
	Delete int `json:"delete"`
}

// Empty reports whether there is nothing to do.
func (c *Changes) Empty() bool {
	return len(c.Stages)+len(c.UsagePlans)+len(c.APIKeys)+len(c.PlanKeys) == 0
}

// Change is one resource to create, update, delete or replace.
type Change struct {
	Action string `json:"action"`
	Kind   string `json:"kind"` // stage, usage_plan, api_key, plan_key
	Name   string `json:"name"`
	ID     string `json:"id,omitempty"`
	// Plan and Key name the two sides of a plan_key change.
	Plan   string   `json:"plan,omitempty"`
	Key    string   `json:"key,omitempty"`
	Reason string   `json:"reason,omitempty"`
	Fields []*Field `json:"fields,omitempty"`

	ops        []types.PatchOperation
	createPlan *apigateway.CreateUsagePlanInput
	createKey  *apigateway.CreateApiKeyInput
	fromEnv    string
	detach     []string // "apiId:stage" to detach before deleting a plan
	planID     string
	keyID      string
	httpUpdate *apigatewayv2.UpdateStageInput
	httpDelete []string // HTTP route keys whose settings are deleted
}

// Field is one changed attribute. Old is absent on create, New on delete.
type Field struct {
	Path      string  `json:"path"`
	Old       *string `json:"old,omitempty"`
	New       *string `json:"new,omitempty"`
	Sensitive bool    `json:"sensitive,omitempty"`
}

// DiffOptions tune Compute and Diff.
type DiffOptions struct {
	// Prune deletes managed usage plans and keys that are not in the plan,
	// and stage method settings the plan does not list.
	Prune bool
	// Getenv resolves fromEnv key values.
	Getenv func(string) string
}

// Client bundles what Diff and Apply talk to.
type Client struct {
	REST   RESTAPI
	HTTP   HTTPAPI
	Region string
}

// NewClient returns the Client of a set of AWS clients.
func NewClient(c *awsapi.Clients) Client {
	return Client{REST: c.APIGateway, HTTP: c.APIGatewayV2, Region: c.Region}
}

// NewApplyClient returns a Client for Apply: the same configuration with the
// SDK's own retries off, because Apply retries every write itself (honouring
// Retry-After, pacing UpdateUsagePlan, saying so on its progress writer);
// with both, a throttled write would be tried up to 6 × 8 times.
func NewApplyClient(c *awsapi.Clients) Client {
	return Client{
		REST:   apigateway.NewFromConfig(c.Config, func(o *apigateway.Options) { o.Retryer = aws.NopRetryer{} }),
		HTTP:   apigatewayv2.NewFromConfig(c.Config, func(o *apigatewayv2.Options) { o.Retryer = aws.NopRetryer{} }),
		Region: c.Region,
	}
}

// Diff reads the live state the plan touches and computes the changes.
func Diff(ctx context.Context, c Client, p *Plan, opts DiffOptions) (*Changes, error) {
	if p.EffectiveType() == TypeHTTP {
		if c.HTTP == nil {
			return nil, fmt.Errorf("diff plan: no API Gateway v2 client for an HTTP API plan")
		}
		live, err := ReadLiveHTTP(ctx, c.HTTP, p)
		if err != nil {
			return nil, err
		}
		return ComputeHTTP(p, live, opts)
	}
	if c.REST == nil {
		return nil, fmt.Errorf("diff plan: no API Gateway client")
	}
	live, err := ReadLive(ctx, c.REST, c.Region, p, ReadOptions{Getenv: opts.Getenv})
	if err != nil {
		return nil, err
	}
	return Compute(p, live, opts)
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func sp(s string) *string { return &s }

func ptrIf(ok bool, s string) *string {
	if !ok {
		return nil
	}
	return &s
}

func sameRate(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func desiredThrottle(t *Throttle) *ThrottleValue {
	if t == nil || t.Rate == nil {
		return nil
	}
	tv := &ThrottleValue{Rate: *t.Rate}
	if t.Burst != nil {
		tv.Burst = *t.Burst
	}
	return tv
}

func replaceOp(path, value string) types.PatchOperation {
	return types.PatchOperation{Op: types.OpReplace, Path: aws.String(path), Value: aws.String(value)}
}

// Compute diffs a REST plan against live state. It is pure: no calls.
func Compute(p *Plan, live *Live, opts DiffOptions) (*Changes, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	ch := &Changes{APIID: live.APIID, APIName: live.APIName, APIType: TypeREST, File: p.File, region: live.Region,
		Stages: []*Change{}, UsagePlans: []*Change{}, APIKeys: []*Change{}, PlanKeys: []*Change{}}
	var problems []string
	var hints []string

	// Every method the plan names must exist.
	var unknown []string
	checkMethod := func(key string) (MethodID, bool) {
		verb, path, err := ParseMethodKey(key)
		if err != nil {
			unknown = append(unknown, key)
			return MethodID{}, false
		}
		id := MethodID{verb, path}
		if !live.Methods[id] {
			unknown = append(unknown, key)
			return id, false
		}
		return id, true
	}
	if p.Stage != nil {
		for _, m := range p.Stage.Methods {
			checkMethod(m.Key)
		}
	}
	for _, u := range p.UsagePlans {
		for _, m := range u.Methods {
			checkMethod(m.Key)
		}
	}
	if len(unknown) > 0 {
		var have []string
		for id := range live.Methods {
			have = append(have, id.String())
		}
		sort.Strings(have)
		return nil, &LiveError{
			Msg: fmt.Sprintf("%s: API %s (%s) has no method %s", p.File, live.APIName, live.APIID, strings.Join(quoteAll(dedupe(unknown)), ", ")),
			Fix: "fix the method keys in the plan or create the methods first; methods of the API: " + listOrNone(have),
		}
	}

	// Stages: one UpdateStage per stage with all operations.
	for _, name := range dedupe(p.Stages) {
		ls := live.Stages[name]
		if ls == nil {
			return nil, &LiveError{Msg: fmt.Sprintf("stage %q not read", name)}
		}
		c := &Change{Action: ActionUpdate, Kind: "stage", Name: name}
		if p.Stage != nil {
			if want := desiredThrottle(p.Stage.Throttle); want != nil {
				stageThrottleOps(c, "*/*", "*/*", ls.Default, want)
			}
			if p.Stage.DetailedMetrics != nil && *p.Stage.DetailedMetrics != ls.DefaultMetrics {
				c.ops = append(c.ops, replaceOp("/*/*/metrics/enabled", strconv.FormatBool(*p.Stage.DetailedMetrics)))
				c.Fields = append(c.Fields, &Field{Path: "*/* detailedMetrics", Old: sp(strconv.FormatBool(ls.DefaultMetrics)), New: sp(strconv.FormatBool(*p.Stage.DetailedMetrics))})
			}
			for _, m := range p.Stage.Methods {
				id, _ := checkMethod(m.Key)
				lm, exists := ls.Methods[id]
				key := stagePatchKey(id)
				want, metrics := desiredThrottle(m.Throttle), m.DetailedMetrics
				if !exists {
					// A new method setting may start as a copy of */* or
					// of the account defaults (AWS does not say which):
					// write every governed field, inherited ones included.
					want, metrics = newMethodSetting(p.Stage, ls, want, metrics)
				}
				if want != nil {
					var old *ThrottleValue
					if exists {
						old = lm.Throttle
					}
					stageThrottleOps(c, key, id.String(), old, want)
				}
				if metrics != nil && (!exists || *metrics != lm.Metrics) {
					c.ops = append(c.ops, replaceOp("/"+key+"/metrics/enabled", strconv.FormatBool(*metrics)))
					c.Fields = append(c.Fields, &Field{Path: id.String() + " detailedMetrics", Old: ptrIf(exists, strconv.FormatBool(lm.Metrics)), New: sp(strconv.FormatBool(*metrics))})
				}
			}
		}
		if opts.Prune {
			inPlan := map[MethodID]bool{}
			if p.Stage != nil {
				for _, m := range p.Stage.Methods {
					id, _ := checkMethod(m.Key)
					inPlan[id] = true
				}
			}
			var extra []MethodID
			for id, lm := range ls.Methods {
				if !inPlan[id] && lm.Throttle != nil {
					extra = append(extra, id)
				}
			}
			sort.Slice(extra, func(i, j int) bool { return extra[i].String() < extra[j].String() })
			for _, id := range extra {
				c.ops = append(c.ops, types.PatchOperation{Op: types.OpRemove, Path: aws.String("/" + stagePatchKey(id))})
				c.Fields = append(c.Fields, &Field{Path: id.String(), Old: sp(fmtThrottle(ls.Methods[id].Throttle))})
			}
		}
		if len(c.ops) > 0 {
			ch.Stages = append(ch.Stages, c)
		}
	}

	// Index live resources by name.
	plansByName := map[string][]*LivePlan{}
	planByID := map[string]*LivePlan{}
	for _, lp := range live.UsagePlans {
		plansByName[lp.Name] = append(plansByName[lp.Name], lp)
		planByID[lp.ID] = lp
	}
	keysByName := map[string][]*LiveKey{}
	keyByID := map[string]*LiveKey{}
	for _, lk := range live.APIKeys {
		keysByName[lk.Name] = append(keysByName[lk.Name], lk)
		keyByID[lk.ID] = lk
	}
	owned := func(kind, name string, managed []bool, ids []string) (int, bool) {
		mi := -1
		for i, m := range managed {
			if m {
				if mi >= 0 {
					problems = append(problems, fmt.Sprintf("%s %q: %d managed resources have this name (ids %s)", kind, name, len(ids), strings.Join(ids, ", ")))
					hints = append(hints, "delete the duplicates so one remains")
					return -1, false
				}
				mi = i
			}
		}
		if mi < 0 && len(managed) > 0 {
			arnKind := map[string]string{"usage plan": "usageplans", "API key": "apikeys"}[kind]
			problems = append(problems, fmt.Sprintf("%s %q (id %s) exists but is not managed by apictl (no tag %s=true)", kind, name, ids[0], ManagedTag))
			hints = append(hints, fmt.Sprintf("apictl never adopts resources silently: rename it in the plan, delete it, or adopt it with: aws apigateway tag-resource --resource-arn %s --tags %s=true", awsfacts.APIGatewayARN(live.Region, "/"+arnKind+"/"+ids[0]), ManagedTag))
			return -1, false
		}
		return mi, true
	}

	// API keys.
	desiredKeys := map[string]bool{}
	keyIDs := map[string]string{}     // name → live id (existing, kept)
	replacedKeys := map[string]bool{} // recreated: every membership must be recreated
	createdKeys := map[string]bool{}
	for _, k := range p.APIKeys {
		desiredKeys[k.Name] = true
		var value string
		if k.Value != nil && k.Value.FromEnv != "" {
			value = getenv(k.Value.FromEnv)
			if value == "" {
				problems = append(problems, fmt.Sprintf("API key %q: environment variable %s is not set", k.Name, k.Value.FromEnv))
				hints = append(hints, fmt.Sprintf("export %s with the key value (20 to 128 characters), or drop value: to let API Gateway generate the key", k.Value.FromEnv))
				continue
			}
			if len(value) < 20 || len(value) > 128 {
				problems = append(problems, fmt.Sprintf("API key %q: the value in %s has %d characters; API Gateway wants 20 to 128", k.Name, k.Value.FromEnv, len(value)))
				continue
			}
		}
		cands := keysByName[k.Name]
		managed := make([]bool, len(cands))
		ids := make([]string, len(cands))
		for i, lk := range cands {
			managed[i], ids[i] = lk.Managed(), lk.ID
		}
		mi, ok := owned("API key", k.Name, managed, ids)
		if !ok {
			continue
		}
		create := &apigateway.CreateApiKeyInput{
			Name: aws.String(k.Name), Enabled: k.IsEnabled(),
			Tags: map[string]string{ManagedTag: "true", APITag: live.APIID},
		}
		if k.Description != "" {
			create.Description = aws.String(k.Description)
		}
		if k.CustomerID != "" {
			create.CustomerId = aws.String(k.CustomerID)
		}
		fromEnv := ""
		if k.Value != nil {
			fromEnv = k.Value.FromEnv
		}
		valueField := &Field{Path: "value", New: sp("(generated by API Gateway)"), Sensitive: true}
		if fromEnv != "" {
			valueField.New = sp("(from $" + fromEnv + ")")
		}
		if mi < 0 {
			c := &Change{Action: ActionCreate, Kind: "api_key", Name: k.Name, createKey: create, fromEnv: fromEnv}
			c.Fields = append(c.Fields, keyFields(nil, k)...)
			c.Fields = append(c.Fields, valueField)
			ch.APIKeys = append(ch.APIKeys, c)
			createdKeys[k.Name] = true
			continue
		}
		lk := cands[mi]
		if fromEnv != "" && lk.ValueMatches != nil && !*lk.ValueMatches {
			c := &Change{Action: ActionReplace, Kind: "api_key", Name: k.Name, ID: lk.ID, createKey: create, fromEnv: fromEnv, keyID: lk.ID,
				Reason: "value in $" + fromEnv + " differs from the live key (API key values cannot be changed in place)"}
			c.Fields = append(c.Fields, &Field{Path: "value", Old: sp("(sensitive)"), New: valueField.New, Sensitive: true})
			ch.APIKeys = append(ch.APIKeys, c)
			replacedKeys[k.Name] = true
			continue
		}
		keyIDs[k.Name] = lk.ID
		fields := keyFields(lk, k)
		if len(fields) > 0 {
			c := &Change{Action: ActionUpdate, Kind: "api_key", Name: k.Name, ID: lk.ID, Fields: fields, keyID: lk.ID}
			for _, f := range fields {
				c.ops = append(c.ops, replaceOp("/"+f.Path, aws.ToString(f.New)))
			}
			ch.APIKeys = append(ch.APIKeys, c)
		}
	}

	// Usage plans.
	desiredPlans := map[string]bool{}
	planIDs := map[string]string{} // name → live id
	planOfID := map[string]string{}
	for _, u := range p.UsagePlans {
		desiredPlans[u.Name] = true
		cands := plansByName[u.Name]
		managed := make([]bool, len(cands))
		ids := make([]string, len(cands))
		for i, lp := range cands {
			managed[i], ids[i] = lp.Managed(), lp.ID
		}
		mi, ok := owned("usage plan", u.Name, managed, ids)
		if !ok {
			continue
		}
		wantStages := dedupe(p.PlanStages(u))
		wantMethods := map[MethodID]ThrottleValue{}
		for _, m := range u.Methods {
			id, _ := checkMethod(m.Key)
			wantMethods[id] = *desiredThrottle(&Throttle{Rate: m.Rate, Burst: m.Burst})
		}
		if mi < 0 {
			in := &apigateway.CreateUsagePlanInput{Name: aws.String(u.Name), Tags: map[string]string{ManagedTag: "true", APITag: live.APIID}}
			c := &Change{Action: ActionCreate, Kind: "usage_plan", Name: u.Name, createPlan: in}
			if u.Description != "" {
				in.Description = aws.String(u.Description)
				c.Fields = append(c.Fields, &Field{Path: "description", New: sp(u.Description)})
			}
			if t := desiredThrottle(u.Throttle); t != nil {
				in.Throttle = &types.ThrottleSettings{RateLimit: t.Rate, BurstLimit: int32(t.Burst)}
				c.Fields = append(c.Fields, &Field{Path: "throttle", New: sp(fmtThrottle(t))})
			}
			if u.Quota != nil && u.Quota.Limit != nil {
				in.Quota = &types.QuotaSettings{Limit: int32(*u.Quota.Limit), Period: types.QuotaPeriodType(u.Quota.Period), Offset: int32(u.Quota.Offset)}
				c.Fields = append(c.Fields, &Field{Path: "quota", New: sp(fmtQuota(&QuotaValue{*u.Quota.Limit, u.Quota.Period, u.Quota.Offset}))})
			}
			for _, s := range wantStages {
				as := types.ApiStage{ApiId: aws.String(live.APIID), Stage: aws.String(s)}
				if len(wantMethods) > 0 {
					as.Throttle = map[string]types.ThrottleSettings{}
					for id, t := range wantMethods {
						as.Throttle[planThrottleKey(id)] = types.ThrottleSettings{RateLimit: t.Rate, BurstLimit: int32(t.Burst)}
					}
				}
				in.ApiStages = append(in.ApiStages, as)
				c.Fields = append(c.Fields, &Field{Path: "stage " + s, New: sp(fmtMethodMap(wantMethods))})
			}
			ch.UsagePlans = append(ch.UsagePlans, c)
			continue
		}
		lp := cands[mi]
		planIDs[u.Name] = lp.ID
		planOfID[lp.ID] = u.Name
		c := &Change{Action: ActionUpdate, Kind: "usage_plan", Name: u.Name, ID: lp.ID, planID: lp.ID}
		planUpdateOps(c, lp, u, live.APIID, wantStages, wantMethods)
		if len(c.ops) > 0 {
			ch.UsagePlans = append(ch.UsagePlans, c)
		}
	}

	// Prune: managed plans and keys of this API absent from the plan.
	var notes []string
	for _, lp := range live.UsagePlans {
		if !lp.Managed() || desiredPlans[lp.Name] || (len(lp.Stages) == 0 && lp.Tags[APITag] != live.APIID) {
			continue
		}
		if !opts.Prune {
			notes = append(notes, fmt.Sprintf("managed usage plan %q (%s) is not in the plan; --prune deletes it", lp.Name, lp.ID))
			continue
		}
		c := &Change{Action: ActionDelete, Kind: "usage_plan", Name: lp.Name, ID: lp.ID, planID: lp.ID}
		for s := range lp.Stages {
			c.detach = append(c.detach, live.APIID+":"+s)
		}
		c.detach = append(c.detach, lp.OtherStages...)
		sort.Strings(c.detach)
		for _, k := range lp.Keys {
			ch.PlanKeys = append(ch.PlanKeys, &Change{Action: ActionDelete, Kind: "plan_key", Plan: lp.Name, Key: keyName(k, keyByID), planID: lp.ID, keyID: k.ID})
		}
		ch.UsagePlans = append(ch.UsagePlans, c)
	}
	apiKeyIDs := map[string]bool{} // keys in plans of this API
	for _, lp := range live.UsagePlans {
		if len(lp.Stages) > 0 {
			for _, k := range lp.Keys {
				apiKeyIDs[k.ID] = true
			}
		}
	}
	for _, lk := range live.APIKeys {
		if !lk.Managed() || desiredKeys[lk.Name] || !(apiKeyIDs[lk.ID] || lk.Tags[APITag] == live.APIID) {
			continue
		}
		if !opts.Prune {
			notes = append(notes, fmt.Sprintf("managed API key %q (%s) is not in the plan; --prune deletes it", lk.Name, lk.ID))
			continue
		}
		ch.APIKeys = append(ch.APIKeys, &Change{Action: ActionDelete, Kind: "api_key", Name: lk.Name, ID: lk.ID, keyID: lk.ID})
	}
	for _, c := range ch.APIKeys {
		if c.Action == ActionReplace {
			// The old key's memberships go with it; note unmanaged ones.
			for _, lp := range live.UsagePlans {
				for _, k := range lp.Keys {
					if k.ID == c.keyID && !desiredPlans[lp.Name] {
						notes = append(notes, fmt.Sprintf("replacing API key %q removes it from usage plan %q too", c.Name, lp.Name))
					}
				}
			}
		}
	}

	// Key memberships of the desired plans.
	stagesOfKey := map[string]map[string]string{} // key name → "api:stage" → plan name (after apply)
	for _, u := range p.UsagePlans {
		lp := (*LivePlan)(nil)
		if id, ok := planIDs[u.Name]; ok {
			lp = planByID[id]
		}
		liveMembers := map[string]LivePlanKey{}
		if lp != nil {
			for _, k := range lp.Keys {
				liveMembers[k.ID] = k
			}
		}
		want := map[string]bool{}
		for _, kn := range u.Keys {
			want[kn] = true
			for _, s := range dedupe(p.PlanStages(u)) {
				if stagesOfKey[kn] == nil {
					stagesOfKey[kn] = map[string]string{}
				}
				stagesOfKey[kn][live.APIID+":"+s] = u.Name
			}
			id, existing := keyIDs[kn]
			if existing && !replacedKeys[kn] {
				if _, in := liveMembers[id]; in {
					continue
				}
			}
			ch.PlanKeys = append(ch.PlanKeys, &Change{Action: ActionCreate, Kind: "plan_key", Plan: u.Name, Key: kn, planID: planIDs[u.Name], keyID: keyIDs[kn]})
		}
		if lp != nil {
			for _, k := range lp.Keys {
				name := keyName(k, keyByID)
				if want[name] && keyIDs[name] == k.ID && !replacedKeys[name] {
					continue
				}
				if replacedKeys[name] && want[name] {
					continue // deleting the key removes it from the plan
				}
				ch.PlanKeys = append(ch.PlanKeys, &Change{Action: ActionDelete, Kind: "plan_key", Plan: u.Name, Key: name, planID: lp.ID, keyID: k.ID})
			}
		}
	}
	// A key may be in one plan per API stage: find live memberships outside
	// the desired plans that would clash.
	plansOfKey := map[string][]*LivePlan{}
	for _, lp := range live.UsagePlans {
		for _, k := range lp.Keys {
			plansOfKey[k.ID] = append(plansOfKey[k.ID], lp)
		}
	}
	keyNames := make([]string, 0, len(stagesOfKey))
	for kn := range stagesOfKey {
		keyNames = append(keyNames, kn)
	}
	sort.Strings(keyNames)
	for _, kn := range keyNames {
		stages := stagesOfKey[kn]
		id, ok := keyIDs[kn]
		if !ok || replacedKeys[kn] || createdKeys[kn] {
			continue
		}
		for _, lp := range plansOfKey[id] {
			if desiredPlans[lp.Name] && planIDs[lp.Name] == lp.ID {
				continue
			}
			if opts.Prune && lp.Managed() && (len(lp.Stages) > 0 || lp.Tags[APITag] == live.APIID) {
				continue // deleted by --prune before the key joins
			}
			for _, s := range sortedKeys(lp.Stages) {
				if other, clash := stages[live.APIID+":"+s]; clash {
					problems = append(problems, fmt.Sprintf("API key %q is already in usage plan %q (%s) for stage %s, so it cannot join plan %q", kn, lp.Name, lp.ID, s, other))
					hint := "a key can be in one usage plan per API stage: remove it from the other plan"
					if lp.Managed() {
						hint += " (or pass --prune to delete that managed plan)"
					}
					hints = append(hints, hint)
				}
			}
		}
	}
	if len(problems) > 0 {
		return nil, &LiveError{Msg: strings.Join(dedupe(problems), "; "), Fix: strings.Join(dedupe(hints), "; ")}
	}
	if len(p.UsagePlans) > 0 && len(live.KeyRequired) == 0 && live.KeyRequired != nil {
		notes = append(notes, "no method of the API requires an API key (apiKeyRequired), so usage plan throttles and quotas do not apply to any request yet")
	}
	sort.SliceStable(ch.PlanKeys, func(i, j int) bool {
		a, b := ch.PlanKeys[i], ch.PlanKeys[j]
		if (a.Action == ActionDelete) != (b.Action == ActionDelete) {
			return a.Action == ActionDelete
		}
		return false
	})
	ch.Notes = notes
	ch.count()
	return ch, nil
}

func (c *Changes) count() {
	c.Summary = Summary{}
	for _, list := range [][]*Change{c.Stages, c.UsagePlans, c.APIKeys, c.PlanKeys} {
		for _, x := range list {
			switch x.Action {
			case ActionCreate:
				c.Summary.Create++
			case ActionUpdate:
				c.Summary.Update++
			case ActionDelete:
				c.Summary.Delete++
			case ActionReplace:
				c.Summary.Create++
				c.Summary.Delete++
			}
		}
	}
}

func keyName(k LivePlanKey, byID map[string]*LiveKey) string {
	if k.Name != "" {
		return k.Name
	}
	if lk := byID[k.ID]; lk != nil {
		return lk.Name
	}
	return k.ID
}

func keyFields(lk *LiveKey, k APIKey) []*Field {
	var fs []*Field
	add := func(path, old, new string, exists bool) {
		if exists && old == new {
			return
		}
		if !exists && new == "" {
			return
		}
		fs = append(fs, &Field{Path: path, Old: ptrIf(exists, old), New: sp(new)})
	}
	exists := lk != nil
	var l LiveKey
	if exists {
		l = *lk
	}
	add("description", l.Description, k.Description, exists)
	add("enabled", strconv.FormatBool(l.Enabled), strconv.FormatBool(k.IsEnabled()), exists)
	add("customerId", l.CustomerID, k.CustomerID, exists)
	return fs
}

func fmtThrottle(t *ThrottleValue) string {
	if t == nil {
		return "none"
	}
	if t.Blocks() {
		return "rate 0, burst 0 (blocks every request)"
	}
	return fmt.Sprintf("rate %s, burst %d", fmtFloat(t.Rate), t.Burst)
}

// blockedNote marks a figure of a 0/0 throttle in a field of the diff.
func blockedNote(t *ThrottleValue) string {
	if t.Blocks() {
		return " (blocks every request)"
	}
	return ""
}

func fmtQuota(q *QuotaValue) string {
	if q == nil {
		return "none"
	}
	s := fmt.Sprintf("%d per %s", q.Limit, strings.ToLower(q.Period))
	if q.Offset != 0 {
		s += fmt.Sprintf(" (offset %d)", q.Offset)
	}
	return s
}

func fmtMethodMap(m map[MethodID]ThrottleValue) string {
	if len(m) == 0 {
		return "attached"
	}
	var parts []string
	for id, t := range m {
		parts = append(parts, fmt.Sprintf("%s %s/%d%s", id, fmtFloat(t.Rate), t.Burst, blockedNote(&t)))
	}
	sort.Strings(parts)
	return "attached; methods: " + strings.Join(parts, ", ")
}

func stageThrottleOps(c *Change, key, label string, old, want *ThrottleValue) {
	prefix := "/" + key + "/throttling/"
	if old == nil || !sameRate(old.Rate, want.Rate) {
		c.ops = append(c.ops, replaceOp(prefix+"rateLimit", fmtFloat(want.Rate)))
		var o *string
		if old != nil {
			o = sp(fmtFloat(old.Rate) + blockedNote(old))
		}
		c.Fields = append(c.Fields, &Field{Path: label + " throttle.rate", Old: o, New: sp(fmtFloat(want.Rate))})
	}
	if old == nil || old.Burst != want.Burst {
		c.ops = append(c.ops, replaceOp(prefix+"burstLimit", strconv.Itoa(want.Burst)))
		var o *string
		if old != nil {
			o = sp(strconv.Itoa(old.Burst) + blockedNote(old))
		}
		c.Fields = append(c.Fields, &Field{Path: label + " throttle.burst", Old: o, New: sp(strconv.Itoa(want.Burst))})
	}
}

// newMethodSetting completes the fields of a stage method setting apictl
// is about to create: what the plan does not set for the method is what it
// means the method to inherit, the stage default (planned, else live).
func newMethodSetting(st *StageSettings, ls *LiveStage, t *ThrottleValue, metrics *bool) (*ThrottleValue, *bool) {
	if t == nil {
		if t = desiredThrottle(st.Throttle); t == nil && ls.Default != nil {
			d := *ls.Default
			t = &d
		}
	}
	if metrics == nil {
		if metrics = st.DetailedMetrics; metrics == nil {
			v := ls.DefaultMetrics
			metrics = &v
		}
	}
	return t, metrics
}

func sameMethodMap(a, b map[MethodID]ThrottleValue) bool {
	if len(a) != len(b) {
		return false
	}
	for id, t := range a {
		u, ok := b[id]
		if !ok || !sameRate(t.Rate, u.Rate) || t.Burst != u.Burst {
			return false
		}
	}
	return true
}

func methodMapJSON(m map[MethodID]ThrottleValue) string {
	out := map[string]map[string]any{}
	for id, t := range m {
		out[planThrottleKey(id)] = map[string]any{"rateLimit": t.Rate, "burstLimit": t.Burst}
	}
	b, _ := json.Marshal(out) // map keys are sorted: stable
	return string(b)
}

// planUpdateOps fills c with the patch operations turning lp into u, in an
// order API Gateway accepts: plan throttle before per-method throttles,
// stages attached before their throttles are set, throttle removed last.
func planUpdateOps(c *Change, lp *LivePlan, u UsagePlan, apiID string, wantStages []string, wantMethods map[MethodID]ThrottleValue) {
	if lp.Description != u.Description {
		c.ops = append(c.ops, replaceOp("/description", u.Description))
		c.Fields = append(c.Fields, &Field{Path: "description", Old: sp(lp.Description), New: sp(u.Description)})
	}
	want := desiredThrottle(u.Throttle)
	if want != nil {
		if lp.Throttle == nil || !sameRate(lp.Throttle.Rate, want.Rate) {
			c.ops = append(c.ops, replaceOp("/throttle/rateLimit", fmtFloat(want.Rate)))
		}
		if lp.Throttle == nil || lp.Throttle.Burst != want.Burst {
			c.ops = append(c.ops, replaceOp("/throttle/burstLimit", strconv.Itoa(want.Burst)))
		}
		if lp.Throttle == nil || !sameRate(lp.Throttle.Rate, want.Rate) || lp.Throttle.Burst != want.Burst {
			c.Fields = append(c.Fields, &Field{Path: "throttle", Old: ptrIf(lp.Throttle != nil, fmtThrottle(lp.Throttle)), New: sp(fmtThrottle(want))})
		}
	}
	var wq *QuotaValue
	if u.Quota != nil && u.Quota.Limit != nil {
		wq = &QuotaValue{*u.Quota.Limit, u.Quota.Period, u.Quota.Offset}
	}
	switch {
	case wq == nil && lp.Quota != nil:
		c.ops = append(c.ops, types.PatchOperation{Op: types.OpRemove, Path: aws.String("/quota")})
		c.Fields = append(c.Fields, &Field{Path: "quota", Old: sp(fmtQuota(lp.Quota))})
	case wq != nil && (lp.Quota == nil || *lp.Quota != *wq):
		if lp.Quota == nil || lp.Quota.Limit != wq.Limit {
			c.ops = append(c.ops, replaceOp("/quota/limit", strconv.Itoa(wq.Limit)))
		}
		if lp.Quota == nil || lp.Quota.Period != wq.Period {
			c.ops = append(c.ops, replaceOp("/quota/period", wq.Period))
		}
		if lp.Quota == nil || lp.Quota.Offset != wq.Offset {
			c.ops = append(c.ops, replaceOp("/quota/offset", strconv.Itoa(wq.Offset)))
		}
		c.Fields = append(c.Fields, &Field{Path: "quota", Old: ptrIf(lp.Quota != nil, fmtQuota(lp.Quota)), New: sp(fmtQuota(wq))})
	}
	wantSet := map[string]bool{}
	for _, s := range wantStages {
		wantSet[s] = true
		ref := apiID + ":" + s
		cur, attached := lp.Stages[s]
		if !attached {
			c.ops = append(c.ops, types.PatchOperation{Op: types.OpAdd, Path: aws.String("/apiStages"), Value: aws.String(ref)})
			c.Fields = append(c.Fields, &Field{Path: "stage " + s, New: sp(fmtMethodMap(wantMethods))})
			if len(wantMethods) > 0 {
				c.ops = append(c.ops, replaceOp("/apiStages/"+ref+"/throttle", methodMapJSON(wantMethods)))
			}
			continue
		}
		if !sameMethodMap(cur, wantMethods) {
			// The whole per-method map is replaced in one operation.
			c.ops = append(c.ops, replaceOp("/apiStages/"+ref+"/throttle", methodMapJSON(wantMethods)))
			c.Fields = append(c.Fields, &Field{Path: "stage " + s + " methods", Old: sp(fmtMethodMap(cur)), New: sp(fmtMethodMap(wantMethods))})
		}
	}
	var detach []string
	for s := range lp.Stages {
		if !wantSet[s] {
			detach = append(detach, s)
		}
	}
	sort.Strings(detach)
	for _, s := range detach {
		c.ops = append(c.ops, types.PatchOperation{Op: types.OpRemove, Path: aws.String("/apiStages"), Value: aws.String(apiID + ":" + s)})
		c.Fields = append(c.Fields, &Field{Path: "stage " + s, Old: sp(fmtMethodMap(lp.Stages[s]))})
	}
	if want == nil && lp.Throttle != nil {
		c.ops = append(c.ops, types.PatchOperation{Op: types.OpRemove, Path: aws.String("/throttle")})
		c.Fields = append(c.Fields, &Field{Path: "throttle", Old: sp(fmtThrottle(lp.Throttle))})
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
