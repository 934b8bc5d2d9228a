package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// A usage plan: created whole; updated with one UpdateUsagePlan carrying
// every patch operation (the per-method throttle map of a stage replaced
// whole); when pruned, its stages detached, then deleted.

// NewUsagePlan is what CreateUsagePlan is called with.
type NewUsagePlan struct {
	Name        string            `json:"name"`
	Description *string           `json:"description,omitempty"`
	Throttle    *ThrottleValue    `json:"throttle,omitempty"`
	Quota       *QuotaValue       `json:"quota,omitempty"`
	APIStages   []NewPlanStage    `json:"api_stages,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// NewPlanStage is a stage a new usage plan is attached to, with its
// per-method throttles keyed "/path/VERB".
type NewPlanStage struct {
	APIID    string                   `json:"api_id"`
	Stage    string                   `json:"stage"`
	Throttle map[string]ThrottleValue `json:"throttle,omitempty"`
}

// usagePlans diffs the usage plans of the plan.
func (d *differ) usagePlans() {
	for _, u := range d.p.UsagePlans {
		d.desiredPlans[u.Name] = true
		cands := d.plansByName[u.Name]
		managed := make([]bool, len(cands))
		ids := make([]string, len(cands))
		for i, lp := range cands {
			managed[i], ids[i] = lp.Managed(), lp.ID
		}
		mi, ok := d.owned(KindUsagePlan, u.Name, managed, ids)
		if !ok {
			continue
		}
		wantStages := dedupe(d.p.PlanStages(u))
		wantMethods := map[MethodID]ThrottleValue{}
		for _, m := range u.Methods {
			id, _ := methodID(m.Key)
			wantMethods[id] = *desiredThrottle(&Throttle{Rate: m.Rate, Burst: m.Burst})
		}
		if mi < 0 {
			d.ch.UsagePlans = append(d.ch.UsagePlans, newUsagePlanChange(u, d.live.APIID, wantStages, wantMethods))
			continue
		}
		lp := cands[mi]
		d.planIDs[u.Name] = lp.ID
		c := &Change{Action: ActionUpdate, Kind: KindUsagePlan, Name: u.Name, ID: lp.ID, Apply: ApplyData{PlanID: lp.ID}}
		planUpdateOps(c, lp, u, d.live.APIID, wantStages, wantMethods)
		if len(c.Apply.Ops) > 0 {
			d.ch.UsagePlans = append(d.ch.UsagePlans, c)
		}
	}
}

func newUsagePlanChange(u UsagePlan, apiID string, wantStages []string, wantMethods map[MethodID]ThrottleValue) *Change {
	in := &NewUsagePlan{Name: u.Name, Tags: map[string]string{ManagedTag: "true", APITag: apiID}}
	c := &Change{Action: ActionCreate, Kind: KindUsagePlan, Name: u.Name, Apply: ApplyData{CreatePlan: in}}
	if u.Description != "" {
		in.Description = aws.String(u.Description)
		c.Fields = append(c.Fields, &Field{Path: "description", New: sp(u.Description)})
	}
	if t := desiredThrottle(u.Throttle); t != nil {
		in.Throttle = t
		c.Fields = append(c.Fields, &Field{Path: "throttle", New: sp(fmtThrottle(t))})
	}
	if u.Quota != nil && u.Quota.Limit != nil {
		in.Quota = &QuotaValue{*u.Quota.Limit, u.Quota.Period, u.Quota.Offset}
		c.Fields = append(c.Fields, &Field{Path: "quota", New: sp(fmtQuota(in.Quota))})
	}
	for _, s := range wantStages {
		as := NewPlanStage{APIID: apiID, Stage: s}
		if len(wantMethods) > 0 {
			as.Throttle = map[string]ThrottleValue{}
			for id, t := range wantMethods {
				as.Throttle[planThrottleKey(id)] = t
			}
		}
		in.APIStages = append(in.APIStages, as)
		c.Fields = append(c.Fields, &Field{Path: "stage " + s, New: sp(fmtMethodMap(wantMethods))})
	}
	return c
}

// pruneUsagePlans deletes (or, without Prune, lists in Unpruned) the managed usage
// plans of this API that the plan no longer lists, and their keys'
// memberships.
func (d *differ) pruneUsagePlans() {
	for _, lp := range d.live.UsagePlans {
		if !lp.Managed() || d.desiredPlans[lp.Name] || (len(lp.Stages) == 0 && lp.Tags[APITag] != d.live.APIID) {
			continue
		}
		if !d.opts.Prune {
			d.ch.Unpruned = append(d.ch.Unpruned, Resource{KindUsagePlan, lp.Name, lp.ID})
			continue
		}
		c := &Change{Action: ActionDelete, Kind: KindUsagePlan, Name: lp.Name, ID: lp.ID, Apply: ApplyData{PlanID: lp.ID}}
		for s := range lp.Stages {
			c.Apply.Detach = append(c.Apply.Detach, d.live.APIID+":"+s)
		}
		c.Apply.Detach = append(c.Apply.Detach, lp.OtherStages...)
		sort.Strings(c.Apply.Detach)
		for _, k := range lp.Keys {
			d.ch.PlanKeys = append(d.ch.PlanKeys, &Change{Action: ActionDelete, Kind: KindPlanKey, Plan: lp.Name, Key: keyName(k, d.keyByID),
				Apply: ApplyData{PlanID: lp.ID, KeyID: k.ID}})
		}
		d.ch.UsagePlans = append(d.ch.UsagePlans, c)
	}
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
	op := func(o PatchOp) { c.Apply.Ops = append(c.Apply.Ops, o) }
	field := func(f *Field) { c.Fields = append(c.Fields, f) }
	if lp.Description != u.Description {
		op(replaceOp("/description", u.Description))
		field(&Field{Path: "description", Old: sp(lp.Description), New: sp(u.Description)})
	}
	want := desiredThrottle(u.Throttle)
	if want != nil {
		if lp.Throttle == nil || !sameRate(lp.Throttle.Rate, want.Rate) {
			op(replaceOp("/throttle/rateLimit", fmtFloat(want.Rate)))
		}
		if lp.Throttle == nil || lp.Throttle.Burst != want.Burst {
			op(replaceOp("/throttle/burstLimit", strconv.Itoa(want.Burst)))
		}
		if lp.Throttle == nil || !sameRate(lp.Throttle.Rate, want.Rate) || lp.Throttle.Burst != want.Burst {
			field(&Field{Path: "throttle", Old: ptrIf(lp.Throttle != nil, fmtThrottle(lp.Throttle)), New: sp(fmtThrottle(want))})
		}
	}
	var wq *QuotaValue
	if u.Quota != nil && u.Quota.Limit != nil {
		wq = &QuotaValue{*u.Quota.Limit, u.Quota.Period, u.Quota.Offset}
	}
	switch {
	case wq == nil && lp.Quota != nil:
		op(removeOp("/quota"))
		field(&Field{Path: "quota", Old: sp(fmtQuota(lp.Quota))})
	case wq != nil && (lp.Quota == nil || *lp.Quota != *wq):
		if lp.Quota == nil || lp.Quota.Limit != wq.Limit {
			op(replaceOp("/quota/limit", strconv.Itoa(wq.Limit)))
		}
		if lp.Quota == nil || lp.Quota.Period != wq.Period {
			op(replaceOp("/quota/period", wq.Period))
		}
		if lp.Quota == nil || lp.Quota.Offset != wq.Offset {
			op(replaceOp("/quota/offset", strconv.Itoa(wq.Offset)))
		}
		field(&Field{Path: "quota", Old: ptrIf(lp.Quota != nil, fmtQuota(lp.Quota)), New: sp(fmtQuota(wq))})
	}
	wantSet := map[string]bool{}
	for _, s := range wantStages {
		wantSet[s] = true
		ref := apiID + ":" + s
		cur, attached := lp.Stages[s]
		if !attached {
			op(addOp("/apiStages", ref))
			field(&Field{Path: "stage " + s, New: sp(fmtMethodMap(wantMethods))})
			if len(wantMethods) > 0 {
				op(replaceOp("/apiStages/"+ref+"/throttle", methodMapJSON(wantMethods)))
			}
			continue
		}
		if !sameMethodMap(cur, wantMethods) {
			// The whole per-method map is replaced in one operation.
			op(replaceOp("/apiStages/"+ref+"/throttle", methodMapJSON(wantMethods)))
			field(&Field{Path: "stage " + s + " methods", Old: sp(fmtMethodMap(cur)), New: sp(fmtMethodMap(wantMethods))})
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
		op(detachOp(apiID + ":" + s))
		field(&Field{Path: "stage " + s, Old: sp(fmtMethodMap(lp.Stages[s]))})
	}
	if want == nil && lp.Throttle != nil {
		op(removeOp("/throttle"))
		field(&Field{Path: "throttle", Old: sp(fmtThrottle(lp.Throttle))})
	}
}

// applyUsagePlan creates or updates a usage plan.
func (e *executor) applyUsagePlan(ctx context.Context, _ *Changes, x *Change) error {
	if x.Action == ActionUpdate {
		return e.updateUsagePlan(ctx, fmt.Sprintf("update usage plan %q", x.Name), x.Apply.PlanID, x.Apply.Ops)
	}
	in, err := createUsagePlanInput(x)
	if err != nil {
		return err
	}
	var out *apigateway.CreateUsagePlanOutput
	err = e.call(ctx, "CreateUsagePlan", fmt.Sprintf("create usage plan %q", x.Name), func(ctx context.Context) error {
		var err error
		out, err = e.c.REST.CreateUsagePlan(ctx, in)
		return err
	})
	if err != nil {
		return err
	}
	e.planID[x.Name] = aws.ToString(out.Id)
	return nil
}

func createUsagePlanInput(x *Change) (*apigateway.CreateUsagePlanInput, error) {
	p := x.Apply.CreatePlan
	if p == nil {
		return nil, fmt.Errorf("create usage plan %q: the change has no usage plan to create", x.Name)
	}
	in := &apigateway.CreateUsagePlanInput{Name: aws.String(p.Name), Description: p.Description, Tags: p.Tags}
	if p.Throttle != nil {
		in.Throttle = sdkThrottle(*p.Throttle)
	}
	if q := p.Quota; q != nil {
		in.Quota = &types.QuotaSettings{Limit: int32(q.Limit), Period: types.QuotaPeriodType(q.Period), Offset: int32(q.Offset)}
	}
	for _, s := range p.APIStages {
		as := types.ApiStage{ApiId: aws.String(s.APIID), Stage: aws.String(s.Stage)}
		if s.Throttle != nil {
			as.Throttle = map[string]types.ThrottleSettings{}
			for k, t := range s.Throttle {
				as.Throttle[k] = *sdkThrottle(t)
			}
		}
		in.ApiStages = append(in.ApiStages, as)
	}
	return in, nil
}

func sdkThrottle(t ThrottleValue) *types.ThrottleSettings {
	return &types.ThrottleSettings{RateLimit: t.Rate, BurstLimit: int32(t.Burst)}
}

func (e *executor) updateUsagePlan(ctx context.Context, what, planID string, ops []PatchOp) error {
	return e.call(ctx, "UpdateUsagePlan", what, func(ctx context.Context) error {
		_, err := e.c.REST.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: aws.String(planID), PatchOperations: sdkPatchOps(ops)})
		return err
	})
}

// deleteUsagePlan detaches every stage of a pruned usage plan, then
// deletes it.
func (e *executor) deleteUsagePlan(ctx context.Context, _ *Changes, x *Change) error {
	if len(x.Apply.Detach) > 0 {
		var ops []PatchOp
		for _, ref := range x.Apply.Detach {
			ops = append(ops, detachOp(ref))
		}
		if err := e.updateUsagePlan(ctx, fmt.Sprintf("detach stages of usage plan %q", x.Name), x.Apply.PlanID, ops); err != nil {
			return err
		}
	}
	return e.call(ctx, "DeleteUsagePlan", fmt.Sprintf("delete usage plan %q", x.Name), func(ctx context.Context) error {
		_, err := e.c.REST.DeleteUsagePlan(ctx, &apigateway.DeleteUsagePlanInput{UsagePlanId: aws.String(x.Apply.PlanID)})
		return err
	})
}
