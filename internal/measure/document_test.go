package measure

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goldenfile "github.com/apictl/apictl/internal/golden"

	"github.com/apictl/apictl/internal/report"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func TestDocumentGolden(t *testing.T) {
	rest, cw := shopFixture(true)
	us, err := Measure(context.Background(), Clients{REST: rest, CloudWatch: cw}, Options{API: "shop", Stage: "prod", Since: time.Hour, ByMethod: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []report.Format{report.FormatTable, report.FormatMarkdown, report.FormatJSON} {
		var buf bytes.Buffer
		if err := report.Render(&buf, report.Options{Format: f}, us); err != nil {
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
	if err := report.Render(&buf, report.Options{Format: report.FormatTable}, us); err != nil {
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
	if report.Thousands(1234567) != "1,234,567" || report.Thousands(12) != "12" || report.Thousands(-1000) != "-1,000" {
		t.Error("thousands")
	}
}
