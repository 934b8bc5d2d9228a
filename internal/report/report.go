// Package report renders apictl's results for people and for programs.
//
// Each result model (a load test's Capacity, measure's Stages, apply-plan's
// ApplyOutput, …) is a Documenter: next to the model, in its own package, a
// Document method builds what a person sees (titles, key/value blocks,
// tables, notes, preformatted text and charts) for the table and markdown
// formats, and the model itself, a plain struct with json tags, is the json
// format. Render takes the model. The number formatters (Rate, Millis, Pct,
// …) keep figures reading alike across the views. The package never decides
// by itself whether colour is on: the caller says so in Options.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Format is an output format chosen with -o.
type Format string

// The output formats.
const (
	FormatTable    Format = "table"
	FormatJSON     Format = "json"
	FormatMarkdown Format = "markdown"
)

// Formats lists the valid formats, for flag help and validation.
var Formats = []Format{FormatTable, FormatJSON, FormatMarkdown}

// ParseFormat checks a -o value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == strings.ToLower(s) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown output format %q (want table, json or markdown)", s)
}

// Options say how to render.
type Options struct {
	Format Format
	Color  bool
}

// Document is what a command shows a person.
type Document struct {
	Title  string
	Blocks []Block
}

// Block is one part of a Document: *KV, *Table, *Note, *Text or *Chart (or
// their values).
type Block interface{ isBlock() }

// Pair is one key/value line.
type Pair struct{ Key, Value string }

// KV is a block of key/value lines.
type KV struct {
	Title string
	Pairs []Pair
}

// Alignment of a table column.
type Alignment int

// Column alignments.
const (
	AlignLeft Alignment = iota
	AlignRight
)

// Table is a titled table.
type Table struct {
	Title   string
	Headers []string
	Rows    [][]string
	// Align is optional, one entry per column; missing entries align left.
	Align []Alignment
}

// NoteLevel says how a note is shown: info, warning, success or failure.
type NoteLevel int

// Note levels.
const (
	Info NoteLevel = iota
	Warn
	OK
	Fail
)

// Note is a one-line remark, such as a warning.
type Note struct {
	Text  string
	Level NoteLevel
}

// Text is preformatted text shown as is (a diff, a chart).
type Text struct {
	Title string
	Text  string
	// Lang names the text's language ("yaml", "diff"): markdown fences it
	// as such, and a diff is coloured like terraform's on a terminal.
	Lang string
}

// Series is one named line of a Chart.
type Series struct {
	Name   string
	Values []float64
}

// Chart is a line chart of Series against the X labels. Markdown draws it
// as a mermaid xychart-beta (GitHub renders it); the table format shows
// Text, a terminal rendering of the same figures.
type Chart struct {
	Title  string
	XLabel string
	YLabel string
	X      []string
	Series []Series
	Text   string
}

func (KV) isBlock()    {}
func (Table) isBlock() {}
func (Note) isBlock()  {}
func (Text) isBlock()  {}
func (Chart) isBlock() {}

// Documenter is a result that knows how a person sees it. Its JSON view is
// the value itself, marshalled as is, unless it is also a JSONer.
type Documenter interface{ Document() Document }

// JSONer is a Documenter whose JSON model is another value (a view that
// shows one stage of several, a wide view of the same model).
type JSONer interface{ JSON() any }

// Document lets a Document render itself: a view with no JSON model of its
// own (its JSON is the Document).
func (d Document) Document() Document { return d }

// Render writes v in the chosen format: its Document as a table or as
// markdown, or v (or v.JSON() for a JSONer) as JSON.
func Render(w io.Writer, opts Options, v Documenter) error {
	switch opts.Format {
	case FormatJSON:
		var data any = v
		if j, ok := v.(JSONer); ok {
			data = j.JSON()
		}
		return RenderJSON(w, data)
	case FormatMarkdown:
		return renderMarkdown(w, v.Document())
	case FormatTable, "":
		return renderTable(w, v.Document(), opts.Color)
	default:
		return fmt.Errorf("unknown output format %q", opts.Format)
	}
}

// RenderJSON writes data as indented JSON followed by a newline. HTML
// characters are not escaped, so paths like /a&b stay readable.
func RenderJSON(w io.Writer, data any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(data); err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	return nil
}

func deref(b Block) Block {
	switch v := b.(type) {
	case *KV:
		return *v
	case *Table:
		return *v
	case *Note:
		return *v
	case *Text:
		return *v
	case *Chart:
		return *v
	}
	return b
}

var sparkRunes = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws values as a line of block characters, lowest to highest.
// An empty slice gives an empty string; equal values give a flat low line.
func Sparkline(values []float64) string {
	if len(values) == 0 {
		return ""
	}
	lo, hi := values[0], values[0]
	for _, v := range values {
		lo, hi = min(lo, v), max(hi, v)
	}
	var b strings.Builder
	for _, v := range values {
		i := 0
		if hi > lo {
			i = int((v - lo) / (hi - lo) * float64(len(sparkRunes)-1))
		}
		b.WriteRune(sparkRunes[i])
	}
	return b.String()
}
