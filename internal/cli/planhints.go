package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/apictl/apictl/internal/plan"
)

// The plan library names none of apictl's flags: it reports the ways out
// that go through an option (plan.Remedy) and the resources a diff left
// alone, and these functions word them with the flags.

// flagHint is the hint of a library error worded with the CLI's flags, in
// place of the error's own Hint; ok is false when there is nothing to word.
func flagHint(err error) (hint string, ok bool) {
	switch e := err.(type) {
	case *plan.LiveError:
		switch e.Remedy {
		case plan.RemedyPrune:
			return e.Fix + " (or pass --prune to delete that managed plan)", true
		case plan.RemedyTarget:
			return "check --region/--endpoint-url; " + e.Fix, true
		}
	case *plan.RefusalError:
		var hs []string
		for _, r := range e.Refusals {
			if h := refusalHint(r); h != "" && !slices.Contains(hs, h) {
				hs = append(hs, h)
			}
		}
		return strings.Join(append(hs, "--force writes the plan anyway, with a warning comment in it"), "; "), true
	}
	return "", false
}

// refusalHint says how to get a load test result plan generate can plan
// from, with the flags of loadtest and plan generate.
func refusalHint(r plan.Refusal) string {
	switch r.Reason {
	case plan.RefusalFixedRate:
		return "find the capacity with apictl loadtest --find-max --mix m.json"
	case plan.RefusalNoPassingRate:
		return "check the objectives (--slo) and --start-rate, and that the backend answers at a low rate"
	case plan.RefusalConfirmFailed:
		return "give the search more --budget so --confirm can step down to a rate that holds"
	case plan.RefusalOtherStage:
		return "load-test the stage the plan is for, or pass --stage " + r.Stage
	case plan.RefusalOneShard:
		return "merge every shard's --results with apictl loadtest merge … -o json and plan from that"
	case plan.RefusalGatewayLimited:
		return "a gateway-limited result never lowers a throttle: measure past it, on a test stage without the throttle (loadtest --invoke-url URL of that stage) or with a load-test key (--api-key-env) whose usage plan allows more"
	}
	return r.Hint // names no flag
}

// noteUnpruned adds to the notes of ch, first, the managed resources the
// diff left alone for want of --prune.
func noteUnpruned(ch *plan.Changes) {
	if len(ch.Unpruned) == 0 {
		return
	}
	notes := make([]string, 0, len(ch.Unpruned)+len(ch.Notes))
	for _, r := range ch.Unpruned {
		notes = append(notes, fmt.Sprintf("managed %s %q (%s) is not in the plan; --prune deletes it", r.Kind.Label(), r.Name, r.ID))
	}
	ch.Notes = append(notes, ch.Notes...)
}
