package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/apictl/apictl/internal/report"
)

// Document is the report for people (table and markdown formats).
func (r *Report) Document() report.Document {
	auths := "none"
	if len(r.Authorizers) > 0 {
		var parts []string
		for _, a := range r.Authorizers {
			parts = append(parts, fmt.Sprintf("%s (%s)", a.Name, a.Type))
		}
		auths = strings.Join(parts, ", ")
	}
	kv := &report.KV{Pairs: []report.Pair{
		{Key: "api", Value: fmt.Sprintf("%s (%s, %s)", r.API, r.APIID, r.APIType)},
		{Key: "stage", Value: r.Stage},
		{Key: "authorizers", Value: auths},
	}}
	if r.Loadtest != "" {
		kv.Pairs = append(kv.Pairs, report.Pair{Key: "loadtest", Value: r.Loadtest})
	}
	if r.Measure != "" {
		kv.Pairs = append(kv.Pairs, report.Pair{Key: "measure", Value: r.Measure})
	}
	kv.Pairs = append(kv.Pairs, report.Pair{Key: "findings",
		Value: fmt.Sprintf("%d high, %d medium, %d low", r.Counts.High, r.Counts.Medium, r.Counts.Low)})
	doc := report.Document{Title: "apictl audit", Blocks: []report.Block{kv}}
	if len(r.Findings) > 0 {
		t := &report.Table{Title: "Findings", Headers: []string{"Severity", "Rule", "Resource", "Finding"}}
		var details strings.Builder
		for i, f := range r.Findings {
			t.Rows = append(t.Rows, []string{string(f.Severity), f.Rule + " " + f.Name, f.Resource, f.Message})
			if i > 0 {
				details.WriteString("\n")
			}
			fmt.Fprintf(&details, "%s %s · %s\n  evidence: %s\n", f.Rule, f.Name, f.Resource, f.Evidence)
			if f.Fix.CLI != "" {
				fmt.Fprintf(&details, "  fix:      %s\n", f.Fix.CLI)
			}
			if f.Fix.Plan != "" {
				fmt.Fprintf(&details, "  plan:     %s\n", f.Fix.Plan)
			}
			if f.Fix.Text != "" {
				fmt.Fprintf(&details, "  note:     %s\n", f.Fix.Text)
			}
		}
		doc.Blocks = append(doc.Blocks, t, &report.Text{Title: "Evidence and fixes", Text: strings.TrimRight(details.String(), "\n")})
	}
	for _, n := range r.Notes {
		doc.Blocks = append(doc.Blocks, &report.Note{Text: n, Level: report.Info})
	}
	switch n := r.AtOrAbove(r.FailOn); {
	case len(r.Findings) == 0:
		doc.Blocks = append(doc.Blocks, &report.Note{Text: "no findings", Level: report.OK})
	case n > 0:
		doc.Blocks = append(doc.Blocks, &report.Note{Text: fmt.Sprintf("%d finding(s) at or above --fail-on %s", n, r.FailOn), Level: report.Fail})
	default:
		doc.Blocks = append(doc.Blocks, &report.Note{Text: fmt.Sprintf("no finding at or above --fail-on %s", r.FailOn), Level: report.Warn})
	}
	return doc
}

// InformationURI is where the rules are documented.
const InformationURI = "https://github.com/apictl/apictl/blob/main/docs/audit.md"

func sarifLevel(s Severity) string {
	switch s {
	case High:
		return "error"
	case Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the CVSS-like score GitHub code scanning uses to
// label security results (critical ≥ 9, high ≥ 7, medium ≥ 4, low > 0).
func securitySeverity(s Severity) string {
	switch s {
	case High:
		return "8.0"
	case Medium:
		return "5.0"
	}
	return "2.0"
}

// SARIF writes the report as a SARIF 2.1.0 log for GitHub code scanning.
// Each result is located at a pseudo artifact naming the API and stage
// (apigateway/<api>/<stage>) and logically at the resource, and carries a
// fingerprint of rule, API, stage and resource so that code scanning tracks
// it across runs.
func (r *Report) SARIF(w io.Writer, version string) error {
	log := sarif.NewReport()
	run := sarif.NewRunWithInformationURI("apictl", InformationURI)
	if version != "" {
		run.Tool.Driver.WithVersion(version)
	}
	for _, ru := range Rules {
		run.AddRule(ru.ID).
			WithName(ru.Name).
			WithShortDescription(sarif.NewMultiformatMessageString().WithText(ru.Title)).
			WithFullDescription(sarif.NewMultiformatMessageString().WithText(ru.Rationale)).
			WithHelpURI(InformationURI + "#" + strings.ToLower(ru.ID)).
			WithHelp(sarif.NewMultiformatMessageString().WithText(ru.Rationale + " Source: " + ru.Source)).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(ru.Severity))).
			WithProperties(sarif.NewPropertyBag().
				Add("security-severity", securitySeverity(ru.Severity)).
				Add("tags", []string{"security", "api-gateway", ru.Category}))
	}
	artifact := fmt.Sprintf("apigateway/%s/%s", r.API, r.Stage)
	for _, f := range r.Findings {
		text := fmt.Sprintf("%s: %s. Evidence: %s.", f.Resource, f.Message, f.Evidence)
		if f.Fix.CLI != "" {
			text += " Fix: " + f.Fix.CLI
		}
		if f.Fix.Plan != "" {
			text += " Plan: " + f.Fix.Plan
		}
		if f.Fix.Text != "" {
			text += " " + f.Fix.Text
		}
		sum := sha256.Sum256([]byte(f.Rule + "\x00" + r.API + "\x00" + r.Stage + "\x00" + f.Resource))
		run.CreateResultForRule(f.Rule).
			WithLevel(sarifLevel(f.Severity)).
			WithMessage(sarif.NewTextMessage(text)).
			WithPartialFingerprints(map[string]string{"apictlFinding/v1": hex.EncodeToString(sum[:16])}).
			AddLocation(sarif.NewLocationWithPhysicalLocation(
				sarif.NewPhysicalLocation().
					WithArtifactLocation(sarif.NewSimpleArtifactLocation(artifact)).
					WithRegion(sarif.NewSimpleRegion(1, 1))).
				WithLogicalLocations([]*sarif.LogicalLocation{
					sarif.NewLogicalLocation().WithFullyQualifiedName(r.APIID + "/" + r.Stage + "/" + f.Resource).WithKind("resource"),
				}))
	}
	log.AddRun(run)
	if err := log.PrettyWrite(w); err != nil {
		return fmt.Errorf("write sarif: %w", err)
	}
	return nil
}
