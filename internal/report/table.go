package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
	"github.com/muesli/termenv"
)

type styles struct {
	title, key, header, info, warn, ok, fail lipgloss.Style
	border, add, change, remove              lipgloss.Style
}

func newStyles(w io.Writer, color bool) (*lipgloss.Renderer, styles) {
	r := lipgloss.NewRenderer(w)
	if color {
		r.SetColorProfile(termenv.ANSI256)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	return r, styles{
		title:  r.NewStyle().Bold(true).Foreground(lipgloss.Color("12")),
		key:    r.NewStyle().Foreground(lipgloss.Color("8")),
		header: r.NewStyle().Bold(true).Padding(0, 1),
		info:   r.NewStyle().Foreground(lipgloss.Color("12")),
		warn:   r.NewStyle().Foreground(lipgloss.Color("11")),
		ok:     r.NewStyle().Foreground(lipgloss.Color("10")),
		fail:   r.NewStyle().Foreground(lipgloss.Color("9")).Bold(true),
		border: r.NewStyle().Foreground(lipgloss.Color("8")),
		add:    r.NewStyle().Foreground(lipgloss.Color("2")),
		change: r.NewStyle().Foreground(lipgloss.Color("3")),
		remove: r.NewStyle().Foreground(lipgloss.Color("1")),
	}
}

var notePrefix = map[NoteLevel]string{Info: "•", Warn: "!", OK: "✓", Fail: "✗"}

func renderTable(w io.Writer, doc Document, color bool) error {
	r, st := newStyles(w, color)
	var out strings.Builder
	if doc.Title != "" {
		out.WriteString(st.title.Render(doc.Title) + "\n")
	}
	for i, b := range doc.Blocks {
		if i > 0 || doc.Title != "" {
			out.WriteString("\n")
		}
		switch b := deref(b).(type) {
		case KV:
			if b.Title != "" {
				out.WriteString(st.title.Render(b.Title) + "\n")
			}
			width := 0
			for _, p := range b.Pairs {
				width = max(width, lipgloss.Width(p.Key))
			}
			for _, p := range b.Pairs {
				pad := strings.Repeat(" ", width-lipgloss.Width(p.Key))
				out.WriteString("  " + st.key.Render(p.Key+":") + pad + " " + p.Value + "\n")
			}
		case Table:
			if b.Title != "" {
				out.WriteString(st.title.Render(b.Title) + "\n")
			}
			t := table.New().
				Border(lipgloss.NormalBorder()).
				BorderStyle(st.border).
				Headers(b.Headers...).
				Rows(b.Rows...).
				StyleFunc(func(row, col int) lipgloss.Style {
					if row == table.HeaderRow {
						return st.header
					}
					s := r.NewStyle().Padding(0, 1)
					if col < len(b.Align) && b.Align[col] == AlignRight {
						s = s.Align(lipgloss.Right)
					}
					if row >= 0 && row < len(b.Rows) && col < len(b.Rows[row]) {
						s = verdictStyle(s, b.Rows[row][col])
					}
					return s
				})
			out.WriteString(t.Render() + "\n")
		case Note:
			style := map[NoteLevel]lipgloss.Style{Info: st.info, Warn: st.warn, OK: st.ok, Fail: st.fail}[b.Level]
			for _, line := range wrap(notePrefix[b.Level]+" "+b.Text, TextWidth, "  ") {
				out.WriteString(style.Render(line) + "\n")
			}
		case Text:
			if b.Title != "" {
				out.WriteString(st.title.Render(b.Title) + "\n")
			}
			text := strings.TrimRight(b.Text, "\n")
			if b.Lang == "diff" && color {
				text = colorDiff(text, st)
			}
			out.WriteString(text + "\n")
		case Chart:
			if b.Title != "" {
				out.WriteString(st.title.Render(b.Title) + "\n")
			}
			out.WriteString(strings.TrimRight(b.Text, "\n") + "\n")
		default:
			return fmt.Errorf("report: unknown block %T", b)
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// verdictStyle colours a verdict cell as terraform colours its results:
// "pass"/"PASS" green, "FAIL…" red and bold.
func verdictStyle(s lipgloss.Style, cell string) lipgloss.Style {
	switch {
	case strings.HasPrefix(cell, "FAIL"):
		return s.Foreground(lipgloss.Color("9")).Bold(true)
	case cell == "pass" || cell == "PASS" || strings.HasPrefix(cell, "PASS "):
		return s.Foreground(lipgloss.Color("10"))
	}
	return s
}

// colorDiff colours a terraform-style diff by the sign of each line:
// + green, ~ yellow, - red.
func colorDiff(text string, st styles) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		switch t := strings.TrimLeft(l, " "); {
		case strings.HasPrefix(t, "+"):
			lines[i] = st.add.Render(l)
		case strings.HasPrefix(t, "~"):
			lines[i] = st.change.Render(l)
		case strings.HasPrefix(t, "-/+"), strings.HasPrefix(t, "-"):
			lines[i] = st.remove.Render(l)
		}
	}
	return strings.Join(lines, "\n")
}

// TextWidth is the width notes are wrapped to in the table format.
const TextWidth = 120

// wrap breaks s into lines of at most width runes at spaces; lines after
// the first start with indent. A word longer than width stays whole.
func wrap(s string, width int, indent string) []string {
	var lines []string
	line := ""
	for _, word := range strings.Split(s, " ") {
		switch {
		case line == "":
			line = word
		case len([]rune(line))+1+len([]rune(word)) > width:
			lines = append(lines, line)
			line = indent + word
		default:
			line += " " + word
		}
	}
	return append(lines, line)
}
