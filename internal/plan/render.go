package plan

import (
	"fmt"
	"strings"

	"github.com/apictl/apictl/internal/report"
)

var actionSign = map[Action]string{ActionCreate: "+", ActionUpdate: "~", ActionDelete: "-", ActionReplace: "-/+"}

// Text renders the changes terraform-style: "+ create", "~ update" with
// "old → new", "- delete", "-/+ replace". Key values never appear.
func (c *Changes) Text() string {
	var b strings.Builder
	if c.Empty() {
		fmt.Fprintf(&b, "No changes: %s (%s) matches the plan.\n", c.APIName, c.APIID)
		return b.String()
	}
	fmt.Fprintf(&b, "apictl will make these changes to %s API %s (%s):\n", strings.ToUpper(c.APIType), c.APIName, c.APIID)
	section := func(list []*Change) {
		for _, x := range list {
			b.WriteString("\n")
			head := fmt.Sprintf("  %s %s %q", actionSign[x.Action], x.Kind.Label(), x.Name)
			if x.Kind == KindPlanKey {
				verb := "add key %q to usage plan %q"
				if x.Action == ActionDelete {
					verb = "remove key %q from usage plan %q"
				}
				head = fmt.Sprintf("  %s "+verb, actionSign[x.Action], x.Key, x.Plan)
			}
			if x.ID != "" {
				head += " (" + x.ID + ")"
			}
			b.WriteString(head + "\n")
			if x.Reason != "" {
				fmt.Fprintf(&b, "      # %s\n", x.Reason)
			}
			for _, f := range x.Fields {
				switch {
				case f.Old == nil && f.New != nil:
					fmt.Fprintf(&b, "      + %s: %s\n", f.Path, *f.New)
				case f.Old != nil && f.New == nil:
					fmt.Fprintf(&b, "      - %s: %s\n", f.Path, *f.Old)
				case f.Old != nil && f.New != nil:
					fmt.Fprintf(&b, "      ~ %s: %s → %s\n", f.Path, *f.Old, *f.New)
				}
			}
		}
	}
	section(c.Stages)
	section(c.APIKeys)
	section(c.UsagePlans)
	section(c.PlanKeys)
	fmt.Fprintf(&b, "\nPlan: %d to create, %d to update, %d to delete.\n", c.Summary.Create, c.Summary.Update, c.Summary.Delete)
	return b.String()
}

// Document renders the changes for people.
func (c *Changes) Document(title string) report.Document {
	doc := report.Document{Title: title, Blocks: []report.Block{report.Text{Text: c.Text(), Lang: "diff"}}}
	for _, n := range c.Notes {
		doc.Blocks = append(doc.Blocks, report.Note{Text: n, Level: report.Info})
	}
	return doc
}
