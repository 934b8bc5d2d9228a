package plan

import "fmt"

// Quota names as the API Gateway quotas page and Service Quotas show them.
const (
	QuotaUsagePlans      = "Usage plans per account per Region"
	QuotaPlansPerKey     = "Usage plans per API key"
	QuotaMethodThrottles = "Method-level throttling settings per stage in a usage plan"
)

// Warning is a plan that goes beyond a default API Gateway quota an
// account can have raised: it may be fine for this account, so it is not
// an error, but apply fails where the quota was not raised.
type Warning struct {
	File  string
	Pos   Pos
	Quota string // one of the Quota* names
	Limit int    // the default value of the quota
	Msg   string
}

func (w *Warning) String() string {
	return fmt.Sprintf("%s:%d:%d: %s (default quota %q is %d; it can be raised in Service Quotas, otherwise apply fails)",
		w.File, w.Pos.Line, w.Pos.Col, w.Msg, w.Quota, w.Limit)
}

// Warnings lists the raisable quotas the plan exceeds, in file order.
func Warnings(p *Plan) []*Warning {
	var ws []*Warning
	add := func(pos Pos, quota string, limit int, format string, args ...any) {
		ws = append(ws, &Warning{File: p.File, Pos: pos, Quota: quota, Limit: limit, Msg: fmt.Sprintf(format, args...)})
	}
	if len(p.UsagePlans) > MaxUsagePlans {
		add(p.Src.Of("usagePlans"), QuotaUsagePlans, MaxUsagePlans, "%d usage plans", len(p.UsagePlans))
	}
	plansOfKey := map[string]int{}
	for _, u := range p.UsagePlans {
		if len(u.Methods) > MaxMethodThrottlesPerStage {
			add(u.Src.Of("methods"), QuotaMethodThrottles, MaxMethodThrottlesPerStage, "usage plan %q: %d method throttles per stage", u.Name, len(u.Methods))
		}
		for j, k := range u.Keys {
			plansOfKey[k]++
			if plansOfKey[k] == MaxPlansPerKey+1 {
				add(u.Src.Of(fmt.Sprintf("keys.%d", j)), QuotaPlansPerKey, MaxPlansPerKey, "API key %q is in more than %d usage plans", k, MaxPlansPerKey)
			}
		}
	}
	return ws
}
