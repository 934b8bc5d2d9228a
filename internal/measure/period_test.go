package measure

import (
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 29, 12, 34, 56, 0, time.UTC)

func TestChoosePeriod(t *testing.T) {
	day := 24 * time.Hour
	cases := []struct {
		name       string
		age, width time.Duration
		want       int
		ruleHas    string
	}{
		{"1h", time.Hour, time.Hour, 60, "finest"},
		{"24h is exactly 1440 minutes", day, day, 60, "finest"},
		{"25h coarsens to 120s", 25 * time.Hour, 25 * time.Hour, 120, "coarsened from 60s"},
		{"7d coarsens to 600s", 7 * day, 7 * day, 600, "coarsened"},
		{"15d still one-minute data", 15 * day, time.Hour, 60, "finest"},
		{"16d old needs 300s", 16 * day, time.Hour, 300, "finest period CloudWatch keeps"},
		{"20d window of 20d: 300s multiples only", 20 * day, 20 * day, 1200, "coarsened from 300s"},
		{"63d old 300s", 63 * day, day, 300, "finest"},
		{"64d old needs 3600s", 64 * day, day, 3600, "finest"},
		{"100d window", 100 * day, 100 * day, 7200, "coarsened from 3600s"},
		{"455d window", 455 * day, 455 * day, 43200, "coarsened"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := testNow.Add(-c.age)
			got, rule, err := ChoosePeriod(start, start.Add(c.width), testNow)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("period = %d, want %d (rule %q)", got, c.want, rule)
			}
			if !strings.Contains(rule, c.ruleHas) {
				t.Errorf("rule %q does not contain %q", rule, c.ruleHas)
			}
			if n := points(c.width, got); n > MaxPointsPerQuery {
				t.Errorf("%d points > %d", n, MaxPointsPerQuery)
			}
		})
	}
	if _, _, err := ChoosePeriod(testNow.Add(-456*day), testNow, testNow); err == nil || !strings.Contains(err.Error(), "455 days") {
		t.Errorf("456 days old: err = %v, want retention error", err)
	}
}

func TestParsePeriod(t *testing.T) {
	ok := map[string]int{"auto": 0, "": 0, "60s": 60, "5m": 300, "300": 300, "1h": 3600, "86400": 86400}
	for in, want := range ok {
		got, err := ParsePeriod(in)
		if err != nil || got != want {
			t.Errorf("ParsePeriod(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"90s", "0", "-60", "1.5m", "30s", "fast", "100ms"} {
		if got, err := ParsePeriod(in); err == nil {
			t.Errorf("ParsePeriod(%q) = %d, want an error", in, got)
		} else if !strings.Contains(err.Error(), in) {
			t.Errorf("ParsePeriod(%q) error %q does not name the input", in, err)
		}
	}
}

func TestParseSince(t *testing.T) {
	ok := map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "90m": 90 * time.Minute}
	for in, want := range ok {
		got, err := ParseSince(in)
		if err != nil || got != want {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "xd", "-1h", "0s", "week"} {
		if _, err := ParseSince(in); err == nil {
			t.Errorf("ParseSince(%q) succeeded, want an error", in)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for _, in := range []string{"2026-11-28T10:00:00Z", "2026-11-28T11:00:00+01:00", "2026-11-28T10:00", "2026-11-28 10:00"} {
		got, err := ParseTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if got, err := ParseTime("2026-11-28"); err != nil || !got.Equal(want.Truncate(24*time.Hour)) {
		t.Errorf("date: %v %v", got, err)
	}
	if _, err := ParseTime("yesterday"); err == nil {
		t.Error("ParseTime(yesterday) succeeded")
	}
}

func TestResolveWindowAlignsToWholePeriods(t *testing.T) {
	start, end, period, _, warns, err := resolveWindow(Options{Since: time.Hour}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if period != 60 || len(warns) != 0 {
		t.Fatalf("period %d warnings %v", period, warns)
	}
	// now 12:34:56 → the running minute 12:34 is left out.
	if want := time.Date(2026, 11, 29, 11, 34, 0, 0, time.UTC); !start.Equal(want) {
		t.Errorf("start = %v, want %v", start, want)
	}
	if want := time.Date(2026, 11, 29, 12, 34, 0, 0, time.UTC); !end.Equal(want) {
		t.Errorf("end = %v, want %v", end, want)
	}

	// A --period finer than retention keeps warns.
	_, _, p, rule, warns, err := resolveWindow(Options{Since: 20 * 24 * time.Hour, PeriodSeconds: 60}, testNow)
	if err != nil || p != 60 || !strings.Contains(rule, PeriodSetRule) || len(warns) != 1 || !strings.Contains(warns[0], "finer") {
		t.Errorf("period override: p=%d rule=%q warns=%v err=%v", p, rule, warns, err)
	}

	// Explicit start/end.
	s, e, p, _, _, err := resolveWindow(Options{Start: time.Date(2026, 11, 28, 0, 0, 30, 0, time.UTC), End: time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)}, testNow)
	if err != nil || p != 60 || s.Minute() != 0 || s.Second() != 0 || e.Hour() != 6 {
		t.Errorf("explicit window: %v %v %d %v", s, e, p, err)
	}

	if _, _, _, _, _, err := resolveWindow(Options{Start: testNow, End: testNow.Add(-time.Hour)}, testNow); err == nil || !strings.Contains(err.Error(), "not after") {
		t.Errorf("reversed window: err = %v", err)
	}
	if _, _, _, _, _, err := resolveWindow(Options{Since: 30 * time.Second}, testNow); err == nil || !strings.Contains(err.Error(), "whole") {
		t.Errorf("window shorter than a period: err = %v", err)
	}
}
