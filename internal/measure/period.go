package measure

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CloudWatch keeps API Gateway's one-minute datapoints for 15 days, then
// five-minute aggregates up to 63 days and one-hour aggregates up to 455
// days.
const (
	retention60   = 15 * 24 * time.Hour
	retention300  = 63 * 24 * time.Hour
	retention3600 = 455 * 24 * time.Hour
)

// MaxPointsPerQuery is the most datapoints an automatically chosen period
// yields per query over the window.
const MaxPointsPerQuery = 1440

// periodSteps are the periods the automatic choice coarsens through; each
// divides a day so daily totals stay exact.
var periodSteps = []int{60, 120, 180, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400}

// RetentionPeriod returns the finest period CloudWatch still keeps for data
// as old as age, or an error when it keeps nothing that old.
func RetentionPeriod(age time.Duration) (int, error) {
	switch {
	case age <= retention60:
		return 60, nil
	case age <= retention300:
		return 300, nil
	case age <= retention3600:
		return 3600, nil
	}
	return 0, fmt.Errorf("window starts %s ago: CloudWatch keeps API Gateway metrics for 455 days at most", formatAge(age))
}

// ChoosePeriod picks the period for a window starting at start, ending at
// end, measured at now. The rule: start from the finest period CloudWatch
// still keeps for the age of the window start (60 s up to 15 days, 300 s up
// to 63 days, 3600 s up to 455 days), then coarsen through 60, 120, 180,
// 300, 600, 900, 1200, 1800 s, 1, 2, 3, 6, 12, 24 h (multiples of that
// finest period only) until the window holds at most MaxPointsPerQuery
// periods. It returns the period in seconds and the rule applied, in words.
func ChoosePeriod(start, end, now time.Time) (int, string, error) {
	base, err := RetentionPeriod(now.Sub(start))
	if err != nil {
		return 0, "", err
	}
	window := end.Sub(start)
	rule := fmt.Sprintf("%ds: finest period CloudWatch keeps for data %s old", base, formatAge(now.Sub(start)))
	for _, p := range periodSteps {
		if p < base || p%base != 0 {
			continue
		}
		if points(window, p) <= MaxPointsPerQuery {
			if p != base {
				rule = fmt.Sprintf("%ds: coarsened from %ds to keep %d datapoints or fewer per query", p, base, MaxPointsPerQuery)
			}
			return p, rule, nil
		}
	}
	return 86400, fmt.Sprintf("86400s: coarsened from %ds (window longer than %d days)", base, MaxPointsPerQuery), nil
}

func points(window time.Duration, period int) int64 {
	p := int64(period) * int64(time.Second)
	return (int64(window) + p - 1) / p
}

// ParsePeriod parses --period: "auto" (or empty) gives 0; otherwise a
// duration ("60s", "5m", "1h") or bare seconds ("300"), a positive multiple
// of 60 s.
func ParsePeriod(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "auto" {
		return 0, nil
	}
	var secs int64
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		secs = n
	} else {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("invalid period %q: want auto, seconds (300) or a duration (5m)", s)
		}
		if d%time.Second != 0 {
			return 0, fmt.Errorf("invalid period %q: must be whole seconds, a multiple of 60", s)
		}
		secs = int64(d / time.Second)
	}
	if secs <= 0 || secs%60 != 0 {
		return 0, fmt.Errorf("invalid period %q: must be a positive multiple of 60 seconds (API Gateway publishes one-minute metrics)", s)
	}
	if secs > 86400*455 {
		return 0, fmt.Errorf("invalid period %q: longer than CloudWatch's 455-day retention", s)
	}
	return int(secs), nil
}

// ParseSince parses --since: a Go duration ("90m", "24h") or whole days
// ("7d").
func ParseSince(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, &DurationError{Value: s, Why: "want a duration like 1h, 24h or 7d"}
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, &DurationError{Value: s, Why: "want a duration like 1h, 24h or 7d"}
		}
	}
	if d <= 0 {
		return 0, &DurationError{Value: s, Why: "must be positive"}
	}
	return d, nil
}

// ParseTime parses --start/--end: RFC 3339 ("2026-11-28T10:00:00Z"),
// "2006-01-02T15:04" or a date ("2026-11-28"), UTC unless a zone is given.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q: want RFC 3339 (2026-11-28T10:00:00Z) or a date (2026-11-28)", s)
}

// alignDown rounds t down to a multiple of period seconds since the Unix
// epoch, the way CloudWatch lays out its periods.
func alignDown(t time.Time, period int) time.Time {
	u := t.Unix()
	p := int64(period)
	r := u % p
	if r < 0 {
		r += p
	}
	return time.Unix(u-r, 0).UTC()
}

// resolveWindow fixes the window and period of opts at now: [start, end) aligned
// down to whole periods, so the last, still filling period is left out.
func resolveWindow(opts Options, now time.Time) (start, end time.Time, period int, rule string, warnings []string, err error) {
	end = now
	if !opts.End.IsZero() {
		end = opts.End
	}
	switch {
	case !opts.Start.IsZero():
		start = opts.Start
	case opts.Since > 0:
		start = end.Add(-opts.Since)
	default:
		start = end.Add(-DefaultSince)
	}
	if !end.After(start) {
		return start, end, 0, "", nil, fmt.Errorf("window end %s is not after its start %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	if end.After(now) {
		end = now
	}
	if opts.PeriodSeconds > 0 {
		period = opts.PeriodSeconds
		rule = fmt.Sprintf("%ds: %s", period, PeriodSetRule)
		base, rerr := RetentionPeriod(now.Sub(start))
		if rerr != nil {
			return start, end, 0, "", nil, rerr
		}
		if period%base != 0 {
			warnings = append(warnings, fmt.Sprintf("period %ds is finer than CloudWatch keeps for data %s old (%ds): older datapoints are missing", period, formatAge(now.Sub(start)), base))
		}
	} else {
		period, rule, err = ChoosePeriod(start, end, now)
		if err != nil {
			return start, end, 0, "", nil, err
		}
	}
	rawStart, rawEnd := start, end
	start, end = alignDown(start, period), alignDown(end, period)
	if !end.After(start) {
		return start, end, 0, "", nil, fmt.Errorf("window %s to %s holds no whole %ds period", rawStart.Format(time.RFC3339), rawEnd.Format(time.RFC3339), period)
	}
	return start, end, period, rule, warnings, nil
}

func formatAge(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	case d >= 2*time.Hour:
		return fmt.Sprintf("%.1f hours", d.Hours())
	}
	return fmt.Sprintf("%d minutes", int(d.Round(time.Minute)/time.Minute))
}
