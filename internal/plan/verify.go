package plan

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// Diff are the options the changes were computed with (Prune, Getenv).
	Diff DiffOptions
	// Timeout bounds the wait for API Gateway to show what was written: its
	// reads are eventually consistent (default 60 s).
	Timeout time.Duration
	// Interval is the first pause between two reads; it doubles up to
	// MaxInterval (defaults 1 s and 10 s).
	Interval, MaxInterval time.Duration
	// Progress receives a line per read that still differs (nil: none).
	Progress io.Writer
	// Sleep waits (default: a timer honouring ctx); Now is the clock
	// (default time.Now). Tests replace them.
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time
}

// Verify reads the live state back after Apply and diffs it with the plan
// again, until nothing differs or opts.Timeout has passed. A write AWS
// answered with success but did not apply (a silent no-op) leaves a
// difference that never goes away: Verify then returns a *NotAppliedError
// naming each field AWS did not take. New keys and plan memberships show up
// within the wait, so Verify is also apply's wait for them to be visible.
//
// Verify is separate from Apply so that changes applied from a saved file
// can be verified the same way.
func Verify(ctx context.Context, c Client, p *Plan, opts VerifyOptions) error {
	if opts.Sleep == nil {
		opts.Sleep = defaultSleep
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.MaxInterval < opts.Interval {
		opts.MaxInterval = max(opts.Interval, 10*time.Second)
	}
	start := opts.Now()
	wait := opts.Interval
	for read := 1; ; read++ {
		ch, err := Diff(ctx, c, p, opts.Diff)
		if err != nil {
			return fmt.Errorf("read back after apply: %w", err)
		}
		if ch.Empty() {
			return nil
		}
		elapsed := opts.Now().Sub(start)
		if elapsed+wait > opts.Timeout {
			return &NotAppliedError{Remaining: ch, Waited: elapsed}
		}
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "waiting for API Gateway to show the changes: %d still pending after %s (read %d, giving up after %s)\n",
				ch.Summary.Create+ch.Summary.Update+ch.Summary.Delete, elapsed.Round(time.Second), read, opts.Timeout)
		}
		if err := opts.Sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, opts.MaxInterval)
	}
}

// NotAppliedError says the live state still differs from the plan after
// every write succeeded: AWS acknowledged writes it did not apply.
type NotAppliedError struct {
	// Remaining is the diff that is left.
	Remaining *Changes
	// Waited is how long Verify waited for the changes to show.
	Waited time.Duration
}

func (e *NotAppliedError) Error() string {
	fs := e.Fields()
	noun := "changes"
	if len(fs) == 1 {
		noun = "change"
	}
	return fmt.Sprintf("AWS did not take %d %s: %s", len(fs), noun, strings.Join(fs, "; "))
}

// Hint says what may cause it and what to do.
func (e *NotAppliedError) Hint() string {
	return fmt.Sprintf("the write calls succeeded but the state read back %s later still differs; "+
		"check that the field is supported for this API and region and that nothing else changed it back, then apply again", e.Waited.Round(time.Second))
}

// Fields names each write AWS did not take: "UpdateUsagePlan returned 200
// but /apiStages/a1b2c3:prod/throttle is unchanged".
func (e *NotAppliedError) Fields() []string {
	var out []string
	for _, list := range [][]*Change{e.Remaining.Stages, e.Remaining.APIKeys, e.Remaining.UsagePlans, e.Remaining.PlanKeys} {
		for _, c := range list {
			out = append(out, notTaken(e.Remaining.APIType, c)...)
		}
	}
	return out
}

// notTaken describes why change c, still pending after apply, means a write
// was not taken.
func notTaken(apiType string, c *Change) []string {
	op, status := writeOf(apiType, c)
	what := c.Kind.Label() + " " + fmt.Sprintf("%q", c.Name)
	if c.Kind == KindPlanKey {
		what = fmt.Sprintf("key %q in usage plan %q", c.Key, c.Plan)
	}
	switch c.Action {
	case ActionCreate:
		return []string{fmt.Sprintf("%s returned %d but %s does not exist", op, status, what)}
	case ActionDelete:
		return []string{fmt.Sprintf("%s returned %d but %s still exists", op, status, what)}
	case ActionReplace:
		return []string{fmt.Sprintf("%s returned %d but %s still has its old value", op, status, what)}
	}
	paths := patchPaths(c)
	if len(paths) == 0 {
		for _, f := range c.Fields {
			paths = append(paths, f.Path)
		}
	}
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		out = append(out, fmt.Sprintf("%s of %s returned %d but %s is unchanged", op, what, status, p))
	}
	return out
}

// patchPaths are the distinct paths of a change's patch operations.
func patchPaths(c *Change) []string {
	var out []string
	seen := map[string]bool{}
	for _, op := range c.Apply.Ops {
		p := op.Path
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// writeOf is the API operation that makes change c and its success status.
func writeOf(apiType string, c *Change) (string, int) {
	switch c.Kind {
	case KindStage:
		if apiType == TypeHTTP && c.Apply.HTTPUpdate == nil {
			return "DeleteRouteSettings", 204
		}
		return "UpdateStage", 200
	case KindPlanKey:
		if c.Action == ActionDelete {
			return "DeleteUsagePlanKey", 202
		}
		return "CreateUsagePlanKey", 201
	}
	noun := map[Kind]string{KindUsagePlan: "UsagePlan", KindAPIKey: "ApiKey"}[c.Kind]
	switch c.Action {
	case ActionCreate, ActionReplace:
		return "Create" + noun, 201
	case ActionDelete:
		return "Delete" + noun, 202
	}
	return "Update" + noun, 200
}
