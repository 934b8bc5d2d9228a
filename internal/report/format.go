package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The number formatters every view uses, so that a rate, a latency or a
// share reads the same in each command's tables.

// Rate formats a rate (or any count that may have a fraction): a whole
// number as is, anything else with one decimal: "312", "218.4".
func Rate(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', 1, 64)
}

// Num formats f with at most decimals digits after the point, trailing
// zeros dropped: Num(28.8670, 3) is "28.867", Num(2.5, 0) "2" (rounded half
// to even, as fmt does). A negative decimals gives the shortest form that
// reads back as f.
func Num(f float64, decimals int) string {
	if decimals < 0 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', decimals, 64)
	if decimals > 0 {
		s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// Pct formats part/whole as a percentage with one decimal, "-" when whole
// is 0: Pct(93.6, 312) is "30.0%".
func Pct(part, whole float64) string {
	if whole == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*part/whole, 'f', 1, 64) + "%"
}

// Percent formats a ratio (0.3 is 30%) with at most decimals digits after
// the point, trailing zeros dropped: Percent(0.0004, 3) is "0.04%".
func Percent(ratio float64, decimals int) string { return Num(100*ratio, decimals) + "%" }

// SignedPct formats a relative error (0.014 is +1.4%) with its sign and one
// decimal: "+1.4%", "-3.0%".
func SignedPct(ratio float64) string { return fmt.Sprintf("%+.1f%%", 100*ratio) }

// Millis formats a latency given in milliseconds with the precision that
// matters at its size: "1.25s", "42ms", "4.4ms".
func Millis(ms float64) string {
	switch {
	case ms >= 1000:
		return strconv.FormatFloat(ms/1000, 'f', 2, 64) + "s"
	case ms >= 10:
		return strconv.FormatFloat(ms, 'f', 0, 64) + "ms"
	default:
		return strconv.FormatFloat(ms, 'f', 1, 64) + "ms"
	}
}

// Thousands formats n with comma separators: "2,494,077".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// ShortDuration formats d in the largest whole unit that divides it: "7d",
// "24h", "5m", else as time.Duration does ("1m30s").
func ShortDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// Plural is one when n is 1, else many: "1 write call", "4 write calls".
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
