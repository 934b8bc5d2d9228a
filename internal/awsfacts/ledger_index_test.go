package awsfacts

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLedgerIndex keeps docs/aws-behaviour.md honest: every entry has a
// rule, a source with a URL, a confidence of documented, observed or
// assumed, and an enforcing test, and every TestLedger… test the ledger
// names exists in the repository.
func TestLedgerIndex(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "aws-behaviour.md"))
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	funcRe := regexp.MustCompile(`(?m)^func (TestLedger\w+)\(`)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range funcRe.FindAllStringSubmatch(string(b), -1) {
			defined[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	entries := regexp.MustCompile(`(?m)^### `).Split(string(doc), -1)[1:]
	if len(entries) < 25 {
		t.Errorf("the ledger has %d entries, want at least 25", len(entries))
	}
	confRe := regexp.MustCompile(`\*\*Confidence:\*\* (documented|observed|assumed)`)
	for _, e := range entries {
		name := strings.TrimSpace(strings.SplitN(e, "\n", 2)[0])
		if i := strings.Index(e, "\n## "); i >= 0 {
			e = e[:i]
		}
		for _, field := range []string{"**Rule:**", "**Source:**", "**Enforced by:**"} {
			if !strings.Contains(e, field) {
				t.Errorf("entry %s: no %s", name, field)
			}
		}
		if !confRe.MatchString(e) {
			t.Errorf("entry %s: confidence must be documented, observed or assumed", name)
		}
		src := e[strings.Index(e, "**Source:**"):]
		if !strings.Contains(strings.SplitN(src, "**Confidence:**", 2)[0], "https://") {
			t.Errorf("entry %s: the source has no URL", name)
		}
		tests := regexp.MustCompile(`TestLedger\w+`).FindAllString(e, -1)
		if len(tests) == 0 {
			t.Errorf("entry %s names no TestLedger… test", name)
		}
		for _, tn := range tests {
			if !defined[tn] {
				t.Errorf("entry %s names %s, which no test file defines", name, tn)
			}
		}
	}
}
