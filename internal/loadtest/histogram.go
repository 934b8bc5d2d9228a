package loadtest

import (
	"math"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Latency precision. A step's latencies go into a fixed-size HdrHistogram
// instead of a slice, so that its memory does not grow with the number of
// requests (an hour-long soak costs what a minute does). The figures are
// those of the histogram: latencies are kept to the microsecond from 1 µs
// to 1 h with 3 significant digits, so that a percentile is at most 0.1%
// above the exact figure (exact below 2.048 ms) and never below it (beyond
// the rounding to the microsecond); max and mean are exact. Latencies above
// an hour count as an hour. Exact figures of every request stay in the
// --results file.
const (
	latencyLowest  = time.Microsecond
	latencyHighest = time.Hour
	latencyDigits  = 3
	// windowDigits is the precision of the rolling one-second window
	// behind the early abort and the live progress line: 1%, plenty for
	// decisions made at twice the objective.
	windowDigits = 2
)

// latencyHist is a fixed-size latency histogram with the exact count, sum
// and maximum beside it.
type latencyHist struct {
	h   *hdrhistogram.Histogram
	max time.Duration
	sum time.Duration
}

func newLatencyHist(digits int) *latencyHist {
	return &latencyHist{h: hdrhistogram.New(1, int64(latencyHighest/latencyLowest), digits)}
}

// record adds one latency.
func (l *latencyHist) record(d time.Duration) {
	d = min(max(d, 0), latencyHighest)
	// Ignoring the error is safe: the value is within the range just above.
	_ = l.h.RecordValue(int64((d + latencyLowest/2) / latencyLowest))
	l.max = max(l.max, d)
	l.sum += d
}

// count is the number of latencies recorded.
func (l *latencyHist) count() int { return int(l.h.TotalCount()) }

// quantile returns the q quantile (nearest rank, as the exact figure would
// be; q >= 1 is the maximum): the upper edge of the histogram bucket that
// holds it, never above the maximum.
func (l *latencyHist) quantile(q float64) time.Duration {
	n := l.h.TotalCount()
	if n == 0 {
		return 0
	}
	if q >= 1 {
		return l.max
	}
	rank := max(math.Ceil(q*float64(n)), 1)
	// HdrHistogram rounds p/100·n to the nearest rank: a quarter below the
	// wanted rank lands on it whatever the floating-point error.
	v := time.Duration(l.h.ValueAtPercentile((rank-0.25)/float64(n)*100)) * latencyLowest
	return min(v, l.max)
}

// mean is the exact mean.
func (l *latencyHist) mean() time.Duration {
	if n := l.h.TotalCount(); n > 0 {
		return l.sum / time.Duration(n)
	}
	return 0
}

// reset empties the histogram (keeping its memory).
func (l *latencyHist) reset() {
	l.h.Reset()
	l.max, l.sum = 0, 0
}

// merge adds the latencies of o.
func (l *latencyHist) merge(o *latencyHist) {
	l.h.Merge(o.h)
	l.max = max(l.max, o.max)
	l.sum += o.sum
}

// startCounts counts events (successful requests' send times) in at most
// startBuckets fixed time buckets: when a time falls beyond the last bucket,
// the buckets double in width, pairs merged, so that the memory stays the
// same however long a step runs.
type startCounts struct {
	width time.Duration
	n     [startBuckets]int
}

const (
	startBuckets  = 1024
	minStartWidth = time.Millisecond
)

func (c *startCounts) add(t time.Duration) {
	if c.width == 0 {
		c.width = minStartWidth
	}
	t = max(t, 0)
	for t/c.width >= startBuckets {
		for i := 0; i < startBuckets/2; i++ {
			c.n[i] = c.n[2*i] + c.n[2*i+1]
		}
		clear(c.n[startBuckets/2:])
		c.width *= 2
	}
	c.n[t/c.width]++
}

// between estimates the count of times in [from, to): the buckets inside
// in full, those at the edges in proportion to their overlap (off by less
// than the two edge buckets' counts).
func (c *startCounts) between(from, to time.Duration) float64 {
	if c.width == 0 || to <= from {
		return 0
	}
	var sum float64
	for i := int(max(from, 0) / c.width); i < startBuckets; i++ {
		lo := time.Duration(i) * c.width
		if lo >= to {
			break
		}
		hi := lo + c.width
		if overlap := min(hi, to) - max(lo, from); overlap > 0 && c.n[i] > 0 {
			sum += float64(c.n[i]) * float64(overlap) / float64(c.width)
		}
	}
	return sum
}

// quantiler answers a step's latency quantiles: a latencyHist for a step
// this generator ran, exactLatencies for a step merged from results files.
type quantiler interface {
	quantile(q float64) time.Duration
}

// exactLatencies are sorted latencies: quantiles by nearest rank, exactly
// what the concatenated results say (loadtest merge).
type exactLatencies []time.Duration

func (e exactLatencies) quantile(q float64) time.Duration {
	if len(e) == 0 {
		return 0
	}
	if q >= 1 {
		return e[len(e)-1]
	}
	i := int(math.Ceil(q*float64(len(e)))) - 1
	return e[max(i, 0)]
}
