package loadtest

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// FuzzParseObjective: any --slo text either parses into an objective whose
// canonical text parses back to the same objective, or is refused with an
// error; it never panics.
func FuzzParseObjective(f *testing.F) {
	for _, s := range []string{"p99<300ms", " P95 <= 1.5s ", "p99.9<2s", "max<5s", "mean<100ms",
		"errors<1%", "errors<=0.01", "throughput>=95%", "errors<1", "p100<1s", "p<", "<", "throughput>0.95"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseObjective(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error text")
			}
			return
		}
		again, err := ParseObjective(o.Text)
		if err != nil {
			t.Fatalf("canonical text %q of %q does not parse: %v", o.Text, s, err)
		}
		if again != o {
			t.Fatalf("round trip of %q: %+v, then %+v", s, o, again)
		}
	})
}

// FuzzParseTargets: a vegeta targets file (http or json format) either
// yields valid targets or an error naming the file; never a panic.
func FuzzParseTargets(f *testing.F) {
	f.Add("GET http://127.0.0.1:8080/pets\nX-A: 1\n\nPOST http://127.0.0.1:8080/orders\n")
	f.Add(`{"method":"GET","url":"http://127.0.0.1/a","header":{"X":["1"]}}` + "\n")
	f.Add(`{"method":"POST","url":"http://127.0.0.1/a","body":"e30="}`)
	f.Add("GET ftp://x\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		// An "@file" line makes vegeta read a body file from disk: arbitrary
		// paths (/dev/zero) are the user's business, not the parser's.
		if strings.Contains(s, "@") {
			t.Skip()
		}
		ts, err := ParseTargets(strings.NewReader(s), "targets.txt", "", nil, http.Header{})
		if err != nil {
			if !strings.Contains(err.Error(), "targets.txt") && !strings.Contains(err.Error(), "target") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(ts) == 0 {
			t.Fatal("no targets and no error")
		}
		if err := ts.Validate(); err != nil {
			t.Fatalf("returned targets fail validation: %v", err)
		}
	})
}

// FuzzParseValues: a path-parameter values file never panics, and every
// error names the file and line.
func FuzzParseValues(f *testing.F) {
	f.Add("userId=42\n# comment\n\nid = 7\n")
	f.Add("=x\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, err := ParseValues(bytes.NewReader([]byte(s)), "values.txt")
		if err != nil && !strings.HasPrefix(err.Error(), "values.txt:") && !strings.HasPrefix(err.Error(), "read values.txt") {
			t.Fatalf("error does not name the file and line: %v", err)
		}
	})
}
