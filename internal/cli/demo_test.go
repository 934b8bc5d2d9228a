package cli

import (
	"bytes"
	"testing"

	"github.com/apictl/apictl/internal/report"
)

// TestDemoStreams checks where the demo writes: one stream, in order, on a
// terminal; data on stdout and the rest on stderr when piped; only the
// summary on stdout with -o json.
func TestDemoStreams(t *testing.T) {
	for _, tc := range []struct {
		name             string
		outTTY           bool
		format           report.Format
		showOut, progOut bool
		wantProgressTTY  bool
	}{
		{"terminal", true, report.FormatTable, true, true, true},
		{"piped", false, report.FormatTable, true, false, false},
		{"markdown piped", false, report.FormatMarkdown, true, false, false},
		{"json on a terminal", true, report.FormatJSON, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			s := &IOStreams{Out: &out, ErrOut: &errOut, OutTTY: tc.outTTY}
			show, progress, progressTTY := demoStreams(s, tc.format)
			show.Write([]byte("s"))
			progress.Write([]byte("p"))
			if got := bytes.Contains(out.Bytes(), []byte("s")); got != tc.showOut {
				t.Errorf("show on stdout: %v, want %v", got, tc.showOut)
			}
			if got := bytes.Contains(out.Bytes(), []byte("p")); got != tc.progOut {
				t.Errorf("progress on stdout: %v, want %v", got, tc.progOut)
			}
			if out.Len()+errOut.Len() != 2 {
				t.Errorf("wrote %q to stdout and %q to stderr", out.String(), errOut.String())
			}
			if progressTTY != tc.wantProgressTTY {
				t.Errorf("progress TTY %v, want %v", progressTTY, tc.wantProgressTTY)
			}
		})
	}
}
