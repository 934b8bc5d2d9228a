package report

import "github.com/charmbracelet/lipgloss"

// MaxTableWidth is the width a default table view keeps to (-v gives the
// wide view).
const MaxTableWidth = 120

// FitTable shortens the cells of the given columns (the longest first,
// ending them with "…") until the table, as the table format draws it
// (borders and one space of padding each side), is at most width columns.
func FitTable(t *Table, width int, cols ...int) {
	colW := func(c int) int {
		w := lipgloss.Width(t.Headers[c])
		for _, r := range t.Rows {
			if c < len(r) {
				w = max(w, lipgloss.Width(r[c]))
			}
		}
		return w
	}
	total := func() int {
		n := len(t.Headers) + 1
		for c := range t.Headers {
			n += colW(c) + 2
		}
		return n
	}
	for over := total() - width; over > 0; over = total() - width {
		widest, ww := -1, 0
		for _, c := range cols {
			if w := colW(c); w > ww && w > lipgloss.Width(t.Headers[c])+1 {
				widest, ww = c, w
			}
		}
		if widest < 0 {
			return
		}
		limit := max(ww-over, lipgloss.Width(t.Headers[widest])+1)
		// Cut only the one column to the width of the next widest, at most.
		for _, c := range cols {
			if w := colW(c); c != widest && w < ww && w > limit {
				limit = w
			}
		}
		for _, r := range t.Rows {
			if widest < len(r) && lipgloss.Width(r[widest]) > limit {
				r[widest] = Truncate(r[widest], limit)
			}
		}
	}
}

// Truncate cuts s to at most w runes, ending it with "…" when cut.
func Truncate(s string, w int) string {
	rs := []rune(s)
	if len(rs) <= w {
		return s
	}
	return string(rs[:max(w-1, 0)]) + "…"
}
