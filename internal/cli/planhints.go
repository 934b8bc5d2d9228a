package cli

import (
	"fmt"

	"github.com/apictl/apictl/internal/plan"
)

// The plan library names none of apictl's flags: it reports the ways out
// that go through an option (plan.Remedy) and the resources a diff left
// alone, and these functions word them with the flags.

// flagHint is the hint of a library error worded with the CLI's flags, in
// place of the error's own Hint; ok is false when there is nothing to word.
func flagHint(err error) (hint string, ok bool) {
	if le, isLive := err.(*plan.LiveError); isLive {
		switch le.Remedy {
		case plan.RemedyPrune:
			return le.Fix + " (or pass --prune to delete that managed plan)", true
		case plan.RemedyTarget:
			return "check --region/--endpoint-url; " + le.Fix, true
		}
	}
	return "", false
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
