package measure

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apictl/apictl/internal/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/measure -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./internal/measure -run %s -update):\n--- got\n%s\n--- want\n%s", name, t.Name(), got, want)
	}
}

func TestDocumentGolden(t *testing.T) {
	rest, cw := shopFixture(true)
	us, err := Measure(context.Background(), Clients{REST: rest, CloudWatch: cw}, Options{API: "shop", Stage: "prod", Since: time.Hour, ByMethod: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []report.Format{report.FormatTable, report.FormatMarkdown, report.FormatJSON} {
		var buf bytes.Buffer
		if err := report.Render(&buf, report.Options{Format: f}, Document(us), us[0]); err != nil {
			t.Fatal(err)
		}
		if f != report.FormatJSON && strings.Contains(buf.String(), "\x1b[") {
			t.Errorf("%s output has escape codes with colour off", f)
		}
		golden(t, "shop-prod."+string(f)+".golden", buf.Bytes())
	}

	// Every stage, without --by method: the detailed-metrics-free view.
	rest, cw = shopFixture(false)
	us, err = Measure(context.Background(), Clients{REST: rest, CloudWatch: cw}, Options{API: "shop", Since: time.Hour, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := report.Render(&buf, report.Options{Format: report.FormatTable}, Document(us), us); err != nil {
		t.Fatal(err)
	}
	golden(t, "shop-all.table.golden", buf.Bytes())
}

func TestFoldKeepsPeaks(t *testing.T) {
	vs := make([]float64, 1440)
	vs[700] = 9
	got, per := fold(vs, SparklineWidth)
	if per != 24 || len(got) != 60 || got[29] != 9 || maxOf(got) != 9 {
		t.Errorf("fold: per %d len %d", per, len(got))
	}
	if got, per := fold([]float64{1, 2}, 60); per != 1 || len(got) != 2 {
		t.Errorf("short series folded")
	}
	if thousands(1234567) != "1,234,567" || thousands(12) != "12" || thousands(-1000) != "-1,000" {
		t.Error("thousands")
	}
}
