package plan

import (
	"context"
	"fmt"
	"sort"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
)

// A plan key: an API key's membership of a usage plan, added with
// CreateUsagePlanKey and removed with DeleteUsagePlanKey. A key may be in
// one usage plan per API stage.

// planKeys diffs the key memberships of the plan's usage plans.
func (d *differ) planKeys() {
	for _, u := range d.p.UsagePlans {
		lp := (*LivePlan)(nil)
		if id, ok := d.planIDs[u.Name]; ok {
			lp = d.planByID[id]
		}
		liveMembers := map[string]bool{}
		if lp != nil {
			for _, k := range lp.Keys {
				liveMembers[k.ID] = true
			}
		}
		want := map[string]bool{}
		for _, kn := range u.Keys {
			want[kn] = true
			id, existing := d.keyIDs[kn]
			if existing && !d.replacedKeys[kn] && liveMembers[id] {
				continue
			}
			d.ch.PlanKeys = append(d.ch.PlanKeys, &Change{Action: ActionCreate, Kind: KindPlanKey, Plan: u.Name, Key: kn,
				Apply: ApplyData{PlanID: d.planIDs[u.Name], KeyID: d.keyIDs[kn]}})
		}
		if lp == nil {
			continue
		}
		for _, k := range lp.Keys {
			name := keyName(k, d.keyByID)
			if want[name] && (d.keyIDs[name] == k.ID || d.replacedKeys[name]) {
				continue // kept, or leaves with its deleted key
			}
			d.ch.PlanKeys = append(d.ch.PlanKeys, &Change{Action: ActionDelete, Kind: KindPlanKey, Plan: u.Name, Key: name,
				Apply: ApplyData{PlanID: lp.ID, KeyID: k.ID}})
		}
	}
	// Removals first: a key leaves a plan before it joins another.
	sort.SliceStable(d.ch.PlanKeys, func(i, j int) bool {
		return d.ch.PlanKeys[i].Action == ActionDelete && d.ch.PlanKeys[j].Action != ActionDelete
	})
}

// planKeyClashes reports the live memberships outside the plan's usage
// plans that would stop a kept key from joining one: a key may be in one
// usage plan per API stage.
func (d *differ) planKeyClashes() {
	stagesOfKey := map[string]map[string]string{} // key name → "api:stage" → plan name (after apply)
	for _, u := range d.p.UsagePlans {
		for _, kn := range u.Keys {
			for _, s := range dedupe(d.p.PlanStages(u)) {
				if stagesOfKey[kn] == nil {
					stagesOfKey[kn] = map[string]string{}
				}
				stagesOfKey[kn][d.live.APIID+":"+s] = u.Name
			}
		}
	}
	plansOfKey := map[string][]*LivePlan{}
	for _, lp := range d.live.UsagePlans {
		for _, k := range lp.Keys {
			plansOfKey[k.ID] = append(plansOfKey[k.ID], lp)
		}
	}
	for _, kn := range sortedKeys(stagesOfKey) {
		stages := stagesOfKey[kn]
		id, ok := d.keyIDs[kn]
		if !ok || d.replacedKeys[kn] || d.createdKeys[kn] {
			continue
		}
		for _, lp := range plansOfKey[id] {
			if d.desiredPlans[lp.Name] && d.planIDs[lp.Name] == lp.ID {
				continue
			}
			if d.opts.Prune && lp.Managed() && (len(lp.Stages) > 0 || lp.Tags[APITag] == d.live.APIID) {
				continue // deleted by pruning before the key joins
			}
			for _, s := range sortedKeys(lp.Stages) {
				if other, clash := stages[d.live.APIID+":"+s]; clash {
					d.problem(fmt.Sprintf("API key %q is already in usage plan %q (%s) for stage %s, so it cannot join plan %q", kn, lp.Name, lp.ID, s, other),
						"a key can be in one usage plan per API stage: remove it from the other plan")
					if lp.Managed() {
						d.remedy = RemedyPrune // pruning deletes that managed plan
					}
				}
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

// removePlanKey takes a key out of a usage plan; one already out counts as
// removed.
func (e *executor) removePlanKey(ctx context.Context, _ *Changes, x *Change) error {
	return e.call(ctx, "DeleteUsagePlanKey", fmt.Sprintf("remove key %q from usage plan %q", x.Key, x.Plan), func(ctx context.Context) error {
		_, err := e.c.REST.DeleteUsagePlanKey(ctx, &apigateway.DeleteUsagePlanKeyInput{UsagePlanId: aws.String(x.Apply.PlanID), KeyId: aws.String(x.Apply.KeyID)})
		if awsapi.IsNotFound(err) {
			return nil // already gone
		}
		return err
	})
}

// addPlanKey puts a key in a usage plan, either of them possibly created
// earlier in this apply.
func (e *executor) addPlanKey(ctx context.Context, _ *Changes, x *Change) error {
	planID, keyID := x.Apply.PlanID, x.Apply.KeyID
	if planID == "" {
		planID = e.planID[x.Plan]
	}
	if id, ok := e.keyID[x.Key]; ok {
		keyID = id
	}
	if planID == "" || keyID == "" {
		return fmt.Errorf("add key %q to usage plan %q: unresolved id (plan %q, key %q)", x.Key, x.Plan, planID, keyID)
	}
	return e.call(ctx, "CreateUsagePlanKey", fmt.Sprintf("add key %q to usage plan %q", x.Key, x.Plan), func(ctx context.Context) error {
		_, err := e.c.REST.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: aws.String(planID), KeyId: aws.String(keyID), KeyType: aws.String("API_KEY")})
		return err
	})
}
