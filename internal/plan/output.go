package plan

import (
	"fmt"
	"strings"

	"github.com/apictl/apictl/internal/report"
)

// ApplyOutput is the JSON model of `apictl apply-plan -o json`; its
// Document is what a person sees after the diff: what was applied, the
// created keys and the outcome.
type ApplyOutput struct {
	Changes *Changes `json:"changes"`
	// Applied is true when the changes were made (false for --dry-run or
	// when there were none).
	Applied bool `json:"applied"`
	// Verified is true when the live state read back after applying
	// matches the plan.
	Verified bool               `json:"verified"`
	DryRun   bool               `json:"dry_run"`
	Calls    map[string]int     `json:"calls"`
	Done     []string           `json:"done"`
	Created  []CreatedKeyOutput `json:"created_keys"`
	Error    string             `json:"error,omitempty"`
}

// CreatedKeyOutput is a created API key; Value only when the caller asked
// for secrets.
type CreatedKeyOutput struct {
	Name  string `json:"name"`
	ID    string `json:"id"`
	Value string `json:"value,omitempty"`
}

// NewApplyOutput is the output of applying ch, before anything was applied.
func NewApplyOutput(ch *Changes, dryRun bool) *ApplyOutput {
	return &ApplyOutput{Changes: ch, DryRun: dryRun, Calls: map[string]int{}, Done: []string{}, Created: []CreatedKeyOutput{}}
}

// Record takes what Apply did; the created keys' values only with
// showSecrets.
func (o *ApplyOutput) Record(res *Result, showSecrets bool) {
	o.Calls, o.Done = res.Calls, res.Done
	for _, k := range res.CreatedKeys {
		ck := CreatedKeyOutput{Name: k.Name, ID: k.ID}
		if showSecrets {
			ck.Value = k.Value()
		}
		o.Created = append(o.Created, ck)
	}
}

// WriteCalls is the number of write calls the apply made.
func (o *ApplyOutput) WriteCalls() int {
	n := 0
	for _, v := range o.Calls {
		n += v
	}
	return n
}

// Outcome is the one-line account of a successful apply: "Apply complete:
// 3 created, 1 updated, 0 deleted (4 write calls)."
func (o *ApplyOutput) Outcome() string {
	s := o.Changes.Summary
	n := o.WriteCalls()
	return fmt.Sprintf("Apply complete: %d created, %d updated, %d deleted (%d %s).",
		s.Create, s.Update, s.Delete, n, report.Plural(n, "write call", "write calls"))
}

// EventualConsistencyNote is said after an apply that created API keys or
// added keys to usage plans.
const EventualConsistencyNote = "New API keys and usage plan memberships can take a short while to take effect on API Gateway: " +
	"a load test started right after this apply may see 403 Forbidden for those keys for a few seconds."

// CreatesAccess reports whether the changes create keys or memberships,
// which API Gateway serves only after a delay.
func (c *Changes) CreatesAccess() bool {
	for _, x := range append(append([]*Change{}, c.APIKeys...), c.PlanKeys...) {
		if x.Action == ActionCreate || x.Action == ActionReplace {
			return true
		}
	}
	return false
}

// Document is the view after the diff: the writes made, the keys created
// (their values hidden unless recorded), and on success the outcome and
// the best-effort note.
func (o *ApplyOutput) Document() report.Document {
	doc := report.Document{}
	if len(o.Done) > 0 {
		doc.Blocks = append(doc.Blocks, report.Text{Title: "Applied", Text: "  " + strings.Join(o.Done, "\n  ")})
	}
	if len(o.Created) > 0 {
		t := report.Table{Title: "Created API keys", Headers: []string{"NAME", "ID", "VALUE"}}
		for _, k := range o.Created {
			v := "(hidden; --show-secrets prints it)"
			if k.Value != "" {
				v = k.Value
			}
			t.Rows = append(t.Rows, []string{k.Name, k.ID, v})
		}
		doc.Blocks = append(doc.Blocks, t)
	}
	if o.Error != "" {
		return doc
	}
	if o.Changes.CreatesAccess() {
		doc.Blocks = append(doc.Blocks, report.Note{Level: report.Warn, Text: EventualConsistencyNote})
	}
	doc.Blocks = append(doc.Blocks,
		report.Note{Level: report.OK, Text: o.Outcome()},
		report.Note{Level: report.Info, Text: BestEffortNote + " (" + BestEffortURL + ")."})
	return doc
}

// ValidationResult is the JSON model of `apictl plan validate -o json`.
type ValidationResult struct {
	File   string            `json:"file"`
	Valid  bool              `json:"valid"`
	Errors []ValidationError `json:"errors"`
	// Warnings are default quotas the plan exceeds that an account can
	// have raised: valid, but apply fails where they were not raised.
	Warnings []ValidationWarning `json:"warnings"`

	// summary describes a valid plan: "REST API cart-api, 1 stage, …".
	summary string
}

// ValidationWarning is a raisable quota the plan exceeds.
type ValidationWarning struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Quota   string `json:"quota"`
	Default int    `json:"default"`
	Message string `json:"message"`
}

// ValidationError is one problem at a position.
type ValidationError struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

// NewValidationResult is the result of checking file: p is the plan read
// (nil when it could not be), es its problems.
func NewValidationResult(file string, p *Plan, es Errors) *ValidationResult {
	res := &ValidationResult{File: file, Valid: len(es) == 0, Errors: []ValidationError{}, Warnings: []ValidationWarning{}}
	for _, e := range es {
		res.Errors = append(res.Errors, ValidationError{Line: e.Pos.Line, Column: e.Pos.Col, Message: e.Msg})
	}
	if p == nil {
		return res
	}
	for _, w := range Warnings(p) {
		res.Warnings = append(res.Warnings, ValidationWarning{Line: w.Pos.Line, Column: w.Pos.Col, Quota: w.Quota, Default: w.Limit, Message: w.Msg})
	}
	pl := report.Plural
	desc := fmt.Sprintf("%s API %s, %d %s", strings.ToUpper(p.EffectiveType()), p.API, len(p.Stages), pl(len(p.Stages), "stage", "stages"))
	if p.Stage != nil {
		desc += fmt.Sprintf(", %d method %s", len(p.Stage.Methods), pl(len(p.Stage.Methods), "setting", "settings"))
	}
	desc += fmt.Sprintf(", %d usage %s, %d API %s", len(p.UsagePlans), pl(len(p.UsagePlans), "plan", "plans"), len(p.APIKeys), pl(len(p.APIKeys), "key", "keys"))
	res.summary = desc
	return res
}

// Document says the plan is valid and what it holds, or lists each
// problem at its position.
func (r *ValidationResult) Document() report.Document {
	if r.Valid {
		return report.Document{Blocks: []report.Block{report.Note{Text: r.File + ": valid (" + r.summary + ")", Level: report.OK}}}
	}
	doc := report.Document{}
	for _, e := range r.Errors {
		doc.Blocks = append(doc.Blocks, report.Note{Text: fmt.Sprintf("%s:%d:%d: %s", r.File, e.Line, e.Column, e.Message), Level: report.Fail})
	}
	return doc
}
