package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
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
			collapse := len(b.Rows) > DetailsRows
			switch {
			case collapse && b.Title != "":
				fmt.Fprintf(&out, "### %s\n\n<details><summary>%d rows</summary>\n\n", b.Title, len(b.Rows))
			case collapse:
				fmt.Fprintf(&out, "<details><summary>%d rows</summary>\n\n", len(b.Rows))
			case b.Title != "":
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
			if collapse {
				out.WriteString("\n</details>\n")
			}
		case Note:
			fmt.Fprintf(&out, "> %s %s\n", mdNotePrefix[b.Level], b.Text)
		case Text:
			if b.Title != "" {
				fmt.Fprintf(&out, "### %s\n\n", b.Title)
			}
			text := strings.TrimRight(b.Text, "\n")
			if b.Lang == "diff" {
				text = mdDiff(text)
			}
			out.WriteString("```" + b.Lang + "\n" + text + "\n```\n")
		case Chart:
			if b.Title != "" {
				fmt.Fprintf(&out, "### %s\n\n", b.Title)
			}
			out.WriteString(mermaidXYChart(b))
		default:
			return fmt.Errorf("report: unknown block %T", b)
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// DetailsRows is the number of rows above which a markdown table is folded
// into <details>, so that a step summary stays short.
const DetailsRows = 10

// mermaidXYChart draws a Chart as a mermaid xychart-beta block.
func mermaidXYChart(c Chart) string {
	var b strings.Builder
	b.WriteString("```mermaid\nxychart-beta\n")
	if c.Title != "" {
		fmt.Fprintf(&b, "    title %s\n", mermaidString(c.Title))
	}
	labels := make([]string, len(c.X))
	for i, x := range c.X {
		labels[i] = mermaidString(x)
	}
	fmt.Fprintf(&b, "    x-axis %s [%s]\n", mermaidString(c.XLabel), strings.Join(labels, ", "))
	top := 0.0
	for _, s := range c.Series {
		for _, v := range s.Values {
			top = max(top, v)
		}
	}
	fmt.Fprintf(&b, "    y-axis %s 0 --> %s\n", mermaidString(c.YLabel), mermaidNum(niceCeil(top*1.1)))
	for _, s := range c.Series {
		vals := make([]string, len(s.Values))
		for i, v := range s.Values {
			vals[i] = mermaidNum(v)
		}
		fmt.Fprintf(&b, "    line [%s]\n", strings.Join(vals, ", "))
	}
	b.WriteString("```\n")
	if len(c.Series) > 0 {
		names := make([]string, len(c.Series))
		for i, s := range c.Series {
			names[i] = s.Name
		}
		fmt.Fprintf(&b, "\nLines, in order: %s.\n", strings.Join(names, "; "))
	}
	return b.String()
}

func mermaidString(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, "'") + `"`
}

func mermaidNum(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= v {
			return m * mag
		}
	}
	return 10 * mag
}

// mdDiff moves each line's sign to the first column, where GitHub's diff
// highlighting looks for it ("~" becomes "!", a changed line), keeping the
// indentation after it.
func mdDiff(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		t := strings.TrimLeft(l, " ")
		if t == "" || !strings.ContainsRune("+-~", rune(t[0])) || len(t) < 2 || (t[1] != ' ' && t[1] != '/') {
			continue
		}
		sign := t[:1]
		if sign == "~" {
			sign = "!"
		}
		lines[i] = sign + strings.Repeat(" ", len(l)-len(t)) + t[1:]
	}
	return strings.Join(lines, "\n")
}
