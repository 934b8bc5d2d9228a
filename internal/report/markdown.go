package report

import (
	"fmt"
	"io"
	"strings"
)

var mdNotePrefix = map[NoteLevel]string{Info: "ℹ️", Warn: "⚠️", OK: "✅", Fail: "❌"}

// mdEscape keeps a cell on one line and stops pipes from splitting it.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", "<br>")
}

func renderMarkdown(w io.Writer, doc Document) error {
	var out strings.Builder
	if doc.Title != "" {
		fmt.Fprintf(&out, "## %s\n", doc.Title)
	}
	for i, b := range doc.Blocks {
		if i > 0 || doc.Title != "" {
			out.WriteString("\n")
		}
		switch b := deref(b).(type) {
		case KV:
			if b.Title != "" {
				fmt.Fprintf(&out, "### %s\n\n", b.Title)
			}
			for _, p := range b.Pairs {
				fmt.Fprintf(&out, "- **%s:** %s\n", mdEscape(p.Key), mdEscape(p.Value))
			}
		case Table:
			if b.Title != "" {
				fmt.Fprintf(&out, "### %s\n\n", b.Title)
			}
			out.WriteString("|")
			for _, h := range b.Headers {
				out.WriteString(" " + mdEscape(h) + " |")
			}
			out.WriteString("\n|")
			for c := range b.Headers {
				if c < len(b.Align) && b.Align[c] == AlignRight {
					out.WriteString(" ---: |")
				} else {
					out.WriteString(" --- |")
				}
			}
			out.WriteString("\n")
			for _, row := range b.Rows {
				out.WriteString("|")
				for _, cell := range row {
					out.WriteString(" " + mdEscape(cell) + " |")
				}
				out.WriteString("\n")
			}
		case Note:
			fmt.Fprintf(&out, "> %s %s\n", mdNotePrefix[b.Level], b.Text)
		case Text:
			if b.Title != "" {
				fmt.Fprintf(&out, "### %s\n\n", b.Title)
			}
			out.WriteString("```\n" + strings.TrimRight(b.Text, "\n") + "\n```\n")
		default:
			return fmt.Errorf("report: unknown block %T", b)
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}
