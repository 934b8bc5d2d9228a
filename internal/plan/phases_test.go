package plan

import "testing"

// TestApplyPhasesCoverEveryChange: each kind and action a diff can give is
// applied by exactly one phase, and removals of a key from a plan come
// before the key changes, which come before it joins a plan.
func TestApplyPhasesCoverEveryChange(t *testing.T) {
	kinds := map[Kind][]Action{
		KindStage:     {ActionUpdate},
		KindPlanKey:   {ActionCreate, ActionDelete},
		KindAPIKey:    {ActionCreate, ActionUpdate, ActionDelete, ActionReplace},
		KindUsagePlan: {ActionCreate, ActionUpdate, ActionDelete},
	}
	at := map[Kind]map[Action]int{}
	for kind, actions := range kinds {
		at[kind] = map[Action]int{}
		for _, a := range actions {
			n := 0
			for i, ph := range applyPhases {
				if ph.kind == kind && ph.selects(&Change{Kind: kind, Action: a}) {
					n++
					at[kind][a] = i
				}
			}
			if n != 1 {
				t.Errorf("%s %s: applied by %d phases, want 1", a, kind, n)
			}
		}
	}
	order := []struct {
		kind   Kind
		action Action
	}{
		{KindPlanKey, ActionDelete}, {KindAPIKey, ActionReplace}, {KindAPIKey, ActionCreate}, {KindUsagePlan, ActionCreate},
		{KindPlanKey, ActionCreate}, {KindUsagePlan, ActionDelete}, {KindAPIKey, ActionDelete},
	}
	for i := 1; i < len(order); i++ {
		a, b := order[i-1], order[i]
		if at[a.kind][a.action] > at[b.kind][b.action] {
			t.Errorf("%s %s is applied after %s %s", a.action, a.kind, b.action, b.kind)
		}
	}
}
