package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDocsUpToDate fails when docs/cli no longer matches the command tree;
// regenerate with `go generate ./cmd/apictl`.
func TestDocsUpToDate(t *testing.T) {
	f, _ := NewTestFactory(t)
	root := NewCmdRoot(f, BuildInfo{Version: "test"})
	dir := t.TempDir()
	root.SetArgs([]string{"docs", "--dir", dir})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	generated, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil || len(generated) < 10 {
		t.Fatalf("generated %d pages (%v), want one per command", len(generated), err)
	}
	committed, _ := filepath.Glob(filepath.Join("..", "..", "docs", "cli", "*.md"))
	if len(committed) != len(generated) {
		t.Errorf("docs/cli has %d pages, the command tree %d: run go generate ./cmd/apictl", len(committed), len(generated))
	}
	for _, g := range generated {
		want, _ := os.ReadFile(g)
		got, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli", filepath.Base(g)))
		if err != nil || string(got) != string(want) {
			t.Errorf("docs/cli/%s is out of date: run go generate ./cmd/apictl", filepath.Base(g))
		}
	}
}
