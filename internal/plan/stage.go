package plan

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
)

// A stage of a REST API: its default method settings (*/*) and per-method
// settings (throttle, detailed metrics), changed with one UpdateStage per
// stage carrying every patch operation. HTTP API stages are in http.go.

// stages diffs every stage of the plan.
func (d *differ) stages() error {
	for _, name := range dedupe(d.p.Stages) {
		ls := d.live.Stages[name]
		if ls == nil {
			return &LiveError{Msg: fmt.Sprintf("stage %q not read", name)}
		}
		c := &Change{Action: ActionUpdate, Kind: KindStage, Name: name}
		if d.p.Stage != nil {
			stageSettingsOps(c, d.p.Stage, ls)
		}
		if d.opts.Prune {
			pruneMethodSettingsOps(c, d.p.Stage, ls)
		}
		if len(c.Apply.Ops) > 0 {
			d.ch.Stages = append(d.ch.Stages, c)
		}
	}
	return nil
}

// stageSettingsOps adds to c the operations turning the live stage ls into
// the planned settings st.
func stageSettingsOps(c *Change, st *StageSettings, ls *LiveStage) {
	if want := desiredThrottle(st.Throttle); want != nil {
		stageThrottleOps(c, "*/*", "*/*", ls.Default, want)
	}
	if st.DetailedMetrics != nil && *st.DetailedMetrics != ls.DefaultMetrics {
		c.Apply.Ops = append(c.Apply.Ops, replaceOp("/*/*/metrics/enabled", strconv.FormatBool(*st.DetailedMetrics)))
		c.Fields = append(c.Fields, &Field{Path: "*/* detailedMetrics", Old: sp(strconv.FormatBool(ls.DefaultMetrics)), New: sp(strconv.FormatBool(*st.DetailedMetrics))})
	}
	for _, m := range st.Methods {
		id, _ := methodID(m.Key)
		lm, exists := ls.Methods[id]
		key := stagePatchKey(id)
		want, metrics := desiredThrottle(m.Throttle), m.DetailedMetrics
		if !exists {
			// A new method setting may start as a copy of */* or of the
			// account defaults (AWS does not say which): write every
			// governed field, inherited ones included.
			want, metrics = newMethodSetting(st, ls, want, metrics)
		}
		if want != nil {
			var old *ThrottleValue
			if exists {
				old = lm.Throttle
			}
			stageThrottleOps(c, key, id.String(), old, want)
		}
		if metrics != nil && (!exists || *metrics != lm.Metrics) {
			c.Apply.Ops = append(c.Apply.Ops, replaceOp("/"+key+"/metrics/enabled", strconv.FormatBool(*metrics)))
			c.Fields = append(c.Fields, &Field{Path: id.String() + " detailedMetrics", Old: ptrIf(exists, strconv.FormatBool(lm.Metrics)), New: sp(strconv.FormatBool(*metrics))})
		}
	}
}

// pruneMethodSettingsOps removes the method throttles of ls that the plan's
// stage settings st (possibly nil) do not list.
func pruneMethodSettingsOps(c *Change, st *StageSettings, ls *LiveStage) {
	inPlan := map[MethodID]bool{}
	if st != nil {
		for _, m := range st.Methods {
			id, _ := methodID(m.Key)
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
		c.Apply.Ops = append(c.Apply.Ops, removeOp("/"+stagePatchKey(id)))
		c.Fields = append(c.Fields, &Field{Path: id.String(), Old: sp(fmtThrottle(ls.Methods[id].Throttle))})
	}
}

func stageThrottleOps(c *Change, key, label string, old, want *ThrottleValue) {
	prefix := "/" + key + "/throttling/"
	if old == nil || !sameRate(old.Rate, want.Rate) {
		c.Apply.Ops = append(c.Apply.Ops, replaceOp(prefix+"rateLimit", fmtFloat(want.Rate)))
		var o *string
		if old != nil {
			o = sp(fmtFloat(old.Rate) + blockedNote(old))
		}
		c.Fields = append(c.Fields, &Field{Path: label + " throttle.rate", Old: o, New: sp(fmtFloat(want.Rate))})
	}
	if old == nil || old.Burst != want.Burst {
		c.Apply.Ops = append(c.Apply.Ops, replaceOp(prefix+"burstLimit", strconv.Itoa(want.Burst)))
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

// applyStage updates one stage: of a REST API with one UpdateStage, of an
// HTTP API as applyHTTPStage says.
func (e *executor) applyStage(ctx context.Context, ch *Changes, x *Change) error {
	if ch.APIType == TypeHTTP {
		return e.applyHTTPStage(ctx, ch, x)
	}
	return e.call(ctx, "UpdateStage", "update stage "+x.Name, func(ctx context.Context) error {
		_, err := e.c.REST.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: aws.String(ch.APIID), StageName: aws.String(x.Name), PatchOperations: sdkPatchOps(x.Apply.Ops)})
		return err
	})
}
