package demo

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apictl/apictl/internal/golden"
	"github.com/apictl/apictl/internal/report"
)

// SummaryFixture is a demo summary recorded from a real run
// (`apictl demo --quick -o json`). The golden files render it, so they are
// exact; cmd/apictl's demo scenario checks that a live run fills the same
// fields.
const SummaryFixture = "testdata/summary.json"

func TestSummaryGolden(t *testing.T) {
	data, err := os.ReadFile(SummaryFixture)
	if err != nil {
		t.Fatal(err)
	}
	var sum Summary
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sum); err != nil {
		t.Fatalf("%s: %v", SummaryFixture, err)
	}
	for _, tc := range []struct {
		format report.Format
		file   string
	}{
		{report.FormatTable, "summary.table.golden"},
		{report.FormatMarkdown, "summary.md.golden"},
		// The JSON view of the fixture is the fixture: a field renamed or
		// dropped from Summary shows here.
		{report.FormatJSON, "summary.json"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.Render(&buf, report.Options{Format: tc.format}, &sum); err != nil {
				t.Fatal(err)
			}
			if tc.format == report.FormatTable {
				for i, line := range strings.Split(buf.String(), "\n") {
					if w := len([]rune(line)); w > report.MaxTableWidth {
						t.Errorf("line %d is %d columns wide, want at most %d:\n%s", i+1, w, report.MaxTableWidth, line)
					}
				}
			}
			golden.Check(t, filepath.Join("testdata", tc.file), buf.Bytes())
		})
	}
}

func TestSummarySaysWhatFailed(t *testing.T) {
	data, err := os.ReadFile(SummaryFixture)
	if err != nil {
		t.Fatal(err)
	}
	var sum Summary
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	sum.Pass, sum.Pool.Held, sum.Methods[1].Verify.Pass = false, false, false
	var buf bytes.Buffer
	if err := report.Render(&buf, report.Options{Format: report.FormatTable}, &sum); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "did not hold") || strings.Count(out, " NO ") != 1 || strings.Contains(out, "kept the shared pool") {
		t.Errorf("a failed verification reads as passed:\n%s", out)
	}
}
