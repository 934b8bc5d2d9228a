package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	goldenfile "github.com/apictl/apictl/internal/golden"
)

func sampleDoc() Document {
	return Document{
		Title: "cart-api / prod",
		Blocks: []Block{
			KV{Title: "Totals", Pairs: []Pair{{"count", "12,000"}, {"peak rps", "41.5 at 10:04"}}},
			&Table{
				Title:   "Methods",
				Headers: []string{"METHOD", "RESOURCE", "RPS", "P99"},
				Rows: [][]string{
					{"GET", "/cart/profile/{userId}", "40.1", "120ms"},
					{"POST", "/orders|bulk", "3", "80ms"},
				},
				Align: []Alignment{AlignLeft, AlignLeft, AlignRight, AlignRight},
			},
			Note{Text: "no throttle set on POST /orders", Level: Warn},
			Note{Text: "objectives met", Level: OK},
			Text{Title: "Diff", Text: "+ usage plan gold\n~ stage prod */* rate 100 → 80\n"},
		},
	}
}

type sampleData struct {
	API   string   `json:"api"`
	Peak  float64  `json:"peak_rps"`
	Paths []string `json:"paths"`
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func TestRenderGolden(t *testing.T) {
	data := sampleData{API: "cart-api", Peak: 41.5, Paths: []string{"/a&b"}}
	for _, tc := range []struct {
		file string
		opts Options
	}{
		{"doc.table.golden", Options{Format: FormatTable}},
		{"doc.color.golden", Options{Format: FormatTable, Color: true}},
		{"doc.md.golden", Options{Format: FormatMarkdown}},
		{"doc.json.golden", Options{Format: FormatJSON}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, tc.opts, view{Doc: sampleDoc(), Data: data}); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.file, buf.Bytes())
		})
	}
}

func TestTableWithoutColorHasNoEscapes(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, Options{Format: FormatTable}, sampleDoc()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "\x1b[") {
		t.Fatalf("colour off but output has ANSI escapes:\n%q", buf.String())
	}
	var col bytes.Buffer
	if err := Render(&col, Options{Format: FormatTable, Color: true}, sampleDoc()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(col.String(), "\x1b[") {
		t.Fatal("colour on but output has no ANSI escapes")
	}
}

func TestJSONIsValidAndUnescaped(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, Options{Format: FormatJSON}, view{Data: sampleData{Paths: []string{"/a&b"}}}); err != nil {
		t.Fatal(err)
	}
	var back sampleData
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "/a&b") {
		t.Errorf("html escaping should be off: %s", buf.String())
	}
}

func TestMarkdownEscapesPipes(t *testing.T) {
	var buf bytes.Buffer
	doc := Document{Blocks: []Block{Table{Headers: []string{"a"}, Rows: [][]string{{"x|y\nz"}}}}}
	if err := Render(&buf, Options{Format: FormatMarkdown}, doc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `| x\|y<br>z |`) {
		t.Errorf("cell not escaped: %q", buf.String())
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"table", "JSON", "markdown"} {
		if _, err := ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil || !strings.Contains(err.Error(), "yaml") {
		t.Errorf("ParseFormat(yaml) = %v, want error naming it", err)
	}
}

func TestSparkline(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want string
	}{
		{nil, ""},
		{[]float64{1, 1, 1}, "▁▁▁"},
		{[]float64{0, 7}, "▁█"},
		{[]float64{0, 1, 2, 3, 4, 5, 6, 7}, "▁▂▃▄▅▆▇█"},
	} {
		if got := Sparkline(tc.in); got != tc.want {
			t.Errorf("Sparkline(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	if err := Render(&bytes.Buffer{}, Options{Format: "xml"}, Document{}); err == nil {
		t.Fatal("want error for unknown format")
	}
}

func TestMarkdownFencesFoldsAndCharts(t *testing.T) {
	rows := make([][]string, DetailsRows+1)
	for i := range rows {
		rows[i] = []string{strconv.Itoa(i + 1)}
	}
	doc := Document{Blocks: []Block{
		Text{Title: "Plan", Text: "stage:\n  throttle: 5\n", Lang: "yaml"},
		Text{Text: "  ~ stage \"prod\"\n      + throttle.rate: 100\n      - x: 1\nPlan: 0 to create, 1 to update, 0 to delete.", Lang: "diff"},
		Table{Title: "Short", Headers: []string{"#"}, Rows: rows[:2]},
		Table{Title: "Long", Headers: []string{"#"}, Rows: rows},
		Chart{Title: "p99 by rate", XLabel: "rate", YLabel: "ms", X: []string{"10", "20"},
			Series: []Series{{Name: "p99", Values: []float64{25, 120.04}}, {Name: "objective p99<300ms", Values: []float64{300, 300}}}, Text: "terminal chart"},
	}}
	var b strings.Builder
	if err := Render(&b, Options{Format: FormatMarkdown}, doc); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"```yaml\nstage:\n  throttle: 5\n```",
		"```diff\n!   stage \"prod\"\n+       throttle.rate: 100\n-       x: 1\nPlan:",
		"### Long\n\n<details><summary>11 rows</summary>\n\n| # |",
		"| 11 |\n\n</details>\n",
		"```mermaid\nxychart-beta\n    title \"p99 by rate\"\n    x-axis \"rate\" [\"10\", \"20\"]\n    y-axis \"ms\" 0 --> 500\n    line [25, 120]\n    line [300, 300]\n```",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Count(md, "<details>") != 1 {
		t.Errorf("only the long table folds:\n%s", md)
	}
	b.Reset()
	if err := Render(&b, Options{Format: FormatTable}, doc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "terminal chart") || strings.Contains(b.String(), "mermaid") {
		t.Errorf("table view of the chart:\n%s", b.String())
	}
}

func TestTableColoursVerdictsAndDiffs(t *testing.T) {
	doc := Document{Blocks: []Block{
		Table{Headers: []string{"Verdict"}, Rows: [][]string{{"pass"}, {"FAIL p99 641ms > 300ms"}}},
		Text{Text: "  + add\n  ~ change\n  - remove\nPlan: 1 to create", Lang: "diff"},
		Note{Text: strings.Repeat("word ", 40), Level: Info},
	}}
	var plain, colour strings.Builder
	if err := Render(&plain, Options{Format: FormatTable}, doc); err != nil {
		t.Fatal(err)
	}
	if err := Render(&colour, Options{Format: FormatTable, Color: true}, doc); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("escapes with colour off")
	}
	for _, want := range []string{"\x1b[32m  + add", "\x1b[33m  ~ change", "\x1b[31m  - remove", "92mpass", "91mFAIL p99 641ms > 300ms"} {
		if !strings.Contains(colour.String(), want) {
			t.Errorf("coloured output lacks %q:\n%q", want, colour.String())
		}
	}
	for _, line := range strings.Split(plain.String(), "\n") {
		if len([]rune(line)) > TextWidth {
			t.Errorf("note line of %d columns", len([]rune(line)))
		}
	}
}

// view pairs a Document with a separate JSON model (a JSONer).
type view struct {
	Doc  Document
	Data any
}

func (v view) Document() Document { return v.Doc }
func (v view) JSON() any          { return v.Data }
