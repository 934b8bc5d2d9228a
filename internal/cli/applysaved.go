package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/plan"
)

// applyPlanSource names where the changes come from in messages.
func applyPlanSource(opts *ApplyPlanOptions) string {
	if opts.From != "" {
		return opts.From
	}
	return opts.File
}

// planSource is the plan the changes were computed from and the diff
// options used: what apply-plan reads back against after applying.
type planSource struct {
	Plan *plan.Plan
	Diff plan.DiffOptions
}

// applyPlanChanges returns the changes apply-plan shows and applies: those
// of a saved plan (--from) after checking the live state has not moved, or
// those computed from the plan file, saved with --out.
func applyPlanChanges(ctx context.Context, opts *ApplyPlanOptions) (*plan.Changes, *awsapi.Clients, planSource, error) {
	progress := func(format string, args ...any) {
		if !opts.Quiet() {
			fmt.Fprintf(opts.IO.ErrOut, format+"\n", args...)
		}
	}
	if opts.From != "" {
		data, err := os.ReadFile(opts.From)
		if err != nil {
			return nil, nil, planSource{}, fmt.Errorf("read saved plan: %w", err)
		}
		saved, err := plan.ReadSaved(data)
		if err != nil {
			hint := "save a plan with: apictl apply-plan -f plan.yaml --dry-run --out changes.json"
			var fe *plan.SavedFormatError
			if errors.As(err, &fe) && fe.Format != "" {
				hint = "save it again with: apictl apply-plan -f plan.yaml --dry-run --out " + opts.From
			}
			return nil, nil, planSource{}, WithHint(fmt.Errorf("%s: %w", opts.From, err), hint)
		}
		clients, err := opts.AWS(ctx)
		if err != nil {
			return nil, nil, planSource{}, err
		}
		progress("Checking that the live state is still the one %s was computed from (%s)…", opts.From, saved.CreatedAt.Format("2006-01-02 15:04:05 UTC"))
		if err := saved.Check(ctx, plan.NewClient(clients), opts.Getenv); err != nil {
			if errors.Is(err, plan.ErrLiveStateChanged) {
				return nil, nil, planSource{}, WithHint(err, fmt.Sprintf("nothing was changed; compute the changes again: apictl apply-plan -f %s --dry-run --out %s", saved.PlanFile, opts.From))
			}
			return nil, nil, planSource{}, fmt.Errorf("%s: %w", opts.From, err)
		}
		src := planSource{Diff: plan.DiffOptions{Prune: saved.Prune, Getenv: opts.Getenv}}
		if sp, err := saved.Plan(); err == nil {
			src.Plan = sp
		}
		return saved.ChangeSet(), clients, src, nil
	}

	var data []byte
	var err error
	name := opts.File
	if opts.File == "-" {
		name = "<stdin>"
		data, err = io.ReadAll(opts.IO.In)
	} else {
		data, err = os.ReadFile(opts.File)
	}
	if err != nil {
		return nil, nil, planSource{}, fmt.Errorf("read plan: %w", err)
	}
	p, err := plan.Check(name, data)
	if err != nil {
		var es plan.Errors
		if errors.As(err, &es) {
			fmt.Fprintln(opts.IO.ErrOut, es.Error())
			return nil, nil, planSource{}, WithHint(fmt.Errorf("%s: %d %s", opts.File, len(es), plural(len(es), "problem", "problems")), "fix the plan; 'apictl plan validate -f "+opts.File+"' lists the same problems")
		}
		return nil, nil, planSource{}, err
	}
	printQuotaWarnings(opts.IO.ErrOut, p)
	if opts.File == "-" && !opts.AutoApprove && !opts.DryRun {
		return nil, nil, planSource{}, WithHint(errors.New("cannot ask for confirmation while the plan comes from stdin"), "pass --auto-approve, or --dry-run")
	}
	clients, err := opts.AWS(ctx)
	if err != nil {
		return nil, nil, planSource{}, err
	}
	c := plan.NewClient(clients)
	progress("Reading live state of %s API %s…", strings.ToUpper(p.EffectiveType()), p.API)
	dopts := plan.DiffOptions{Prune: opts.Prune, Getenv: opts.Getenv}
	src := planSource{Plan: p, Diff: dopts}
	if opts.Out == "" {
		ch, err := plan.Diff(ctx, c, p, dopts)
		if err != nil {
			return nil, nil, planSource{}, fmt.Errorf("%s: %w", opts.File, err)
		}
		noteUnpruned(ch)
		return ch, clients, src, nil
	}
	ch, fp, err := plan.ReadFingerprint(ctx, c, p, dopts)
	if err != nil {
		return nil, nil, planSource{}, fmt.Errorf("%s: %w", opts.File, err)
	}
	noteUnpruned(ch)
	now := opts.Now
	if now == nil {
		return nil, nil, planSource{}, errors.New("apply-plan: no clock")
	}
	saved, err := plan.NewSaved(ch, opts.File, data, opts.Prune, fp, now())
	if err != nil {
		return nil, nil, planSource{}, err
	}
	out, err := json.MarshalIndent(saved, "", "  ")
	if err != nil {
		return nil, nil, planSource{}, fmt.Errorf("save plan: %w", err)
	}
	if err := os.WriteFile(opts.Out, append(out, '\n'), 0o600); err != nil {
		return nil, nil, planSource{}, fmt.Errorf("save plan: %w", err)
	}
	progress("Saved %d %s to %s; apply exactly these with: apictl apply-plan --from %s", len(ch.Stages)+len(ch.UsagePlans)+len(ch.APIKeys)+len(ch.PlanKeys),
		plural(len(ch.Stages)+len(ch.UsagePlans)+len(ch.APIKeys)+len(ch.PlanKeys), "change", "changes"), opts.Out, opts.Out)
	return ch, clients, src, nil
}
