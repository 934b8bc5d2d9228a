package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestFormatters(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Rate(312), "312"},
		{Rate(218.4), "218.4"},
		{Rate(290.66), "290.7"},
		{Num(28.8670, 3), "28.867"},
		{Num(10000, 3), "10000"},
		{Num(100, 0), "100"},
		{Num(0.125, -1), "0.125"},
		{Num(2.50, 2), "2.5"},
		{Pct(93.6, 312), "30.0%"},
		{Pct(1, 0), "-"},
		{Percent(0.0004, 3), "0.04%"},
		{Percent(0.49, 0), "49%"},
		{SignedPct(0.014), "+1.4%"},
		{SignedPct(-0.03), "-3.0%"},
		{Millis(1250), "1.25s"},
		{Millis(42.4), "42ms"},
		{Millis(4.44), "4.4ms"},
		{Thousands(2494077), "2,494,077"},
		{Thousands(12), "12"},
		{Thousands(-1000), "-1,000"},
		{ShortDuration(7 * 24 * time.Hour), "7d"},
		{ShortDuration(time.Hour), "1h"},
		{ShortDuration(5 * time.Minute), "5m"},
		{ShortDuration(90 * time.Second), "1m30s"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// model is a result whose JSON view is itself.
type model struct {
	Rate float64 `json:"rate"`
}

func (m model) Document() Document {
	return Document{Title: "Rate " + Rate(m.Rate)}
}

func TestRenderDocumenter(t *testing.T) {
	var js, tb bytes.Buffer
	if err := Render(&js, Options{Format: FormatJSON}, model{Rate: 2.5}); err != nil {
		t.Fatal(err)
	}
	if js.String() != "{\n  \"rate\": 2.5\n}\n" {
		t.Errorf("json view is not the model itself: %q", js.String())
	}
	if err := Render(&tb, Options{Format: FormatTable}, model{Rate: 2.5}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tb.String(), "Rate 2.5") {
		t.Errorf("table view is not the model's Document: %q", tb.String())
	}
}
