package loadtest

import (
	"math"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Timeline records latency over time across a whole run (every step of a
// search, cool-downs included) for the HTML report: Options.Timeline. It
// keeps a small latency histogram per TimelineBucket, not every result, and
// at most maxTimelineBuckets of them (they widen, pairs merged, as the run
// goes on), so its memory grows neither with the run's rate nor with its
// length.
type Timeline struct {
	mu      sync.Mutex
	start   time.Time
	width   time.Duration // of a bucket: TimelineBucket, doubled as needed
	buckets []timelineBucket
	steps   []TimelineStep
}

// TimelineBucket is the finest time resolution of a Timeline.
const TimelineBucket = 250 * time.Millisecond

// maxTimelineBuckets bounds a Timeline's buckets: 5 minutes at the finest
// resolution, twice the points a report draws.
const maxTimelineBuckets = 1200

// TimelineStep places one step of the run on the time axis.
type TimelineStep struct {
	// Start and End are seconds since the run began.
	Start, End float64
	// Label names what the step attacked (the method of a per-method search).
	Label string
	Step  Step
}

// TimelinePoint is the latency of one bucket (or of a merge of buckets).
type TimelinePoint struct {
	// At is the bucket's start in seconds since the run began.
	At       float64
	Requests int
	Errors   int
	// P50 and P99 are in milliseconds (upper edges of histogram bins, 6% wide).
	P50, P99 float64
}

// Latency histogram bins: bin i holds latencies up to histBase·histGrowth^i.
const (
	histBins   = 160
	histGrowth = 1.12
	histBase   = 50 * time.Microsecond
)

type timelineBucket struct {
	n, errors int
	hist      []uint32
}

func histBin(d time.Duration) int {
	if d <= histBase {
		return 0
	}
	i := int(math.Ceil(math.Log(float64(d)/float64(histBase)) / math.Log(histGrowth)))
	return min(i, histBins-1)
}

func histUpper(i int) float64 { // milliseconds
	return float64(histBase) * math.Pow(histGrowth, float64(i)) / 1e6
}

// NewTimeline returns an empty Timeline.
func NewTimeline() *Timeline { return &Timeline{} }

// begin fixes the run's start on the first step.
func (t *Timeline) begin(now time.Time) {
	if t.start.IsZero() {
		t.start = now
	}
}

// Add records one result (an engine sink).
func (t *Timeline) Add(r *vegeta.Result) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.begin(r.Timestamp)
	if t.width == 0 {
		t.width = TimelineBucket
	}
	at := max(r.Timestamp.Sub(t.start), 0)
	for at/t.width >= maxTimelineBuckets {
		t.coarsen()
	}
	i := int(at / t.width)
	for len(t.buckets) <= i {
		t.buckets = append(t.buckets, timelineBucket{})
	}
	b := &t.buckets[i]
	if b.hist == nil {
		b.hist = make([]uint32, histBins)
	}
	b.n++
	if r.Error != "" || r.Code < 200 || r.Code >= 300 {
		b.errors++
	}
	b.hist[histBin(r.Latency)]++
	return nil
}

// coarsen doubles the buckets' width, merging them in pairs.
func (t *Timeline) coarsen() {
	for j := 0; j < len(t.buckets); j += 2 {
		m := t.buckets[j]
		if j+1 < len(t.buckets) {
			m = mergeBuckets(m, t.buckets[j+1])
		}
		t.buckets[j/2] = m
	}
	clear(t.buckets[(len(t.buckets)+1)/2:])
	t.buckets = t.buckets[:(len(t.buckets)+1)/2]
	t.width *= 2
}

func mergeBuckets(a, b timelineBucket) timelineBucket {
	if a.hist == nil {
		return b
	}
	a.n += b.n
	a.errors += b.errors
	for k, v := range b.hist {
		a.hist[k] += v
	}
	return a
}

// addStep places a finished step that began at began. A step from a runner
// that keeps no wall time (tests) follows the previous one.
func (t *Timeline) addStep(began time.Time, label string, st Step) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.begin(began)
	start := began.Sub(t.start).Seconds()
	if n := len(t.steps); n > 0 {
		start = max(start, t.steps[n-1].End)
	}
	t.steps = append(t.steps, TimelineStep{Start: start, End: start + st.Duration, Label: label, Step: st})
}

// Steps returns the steps in the order they ran.
func (t *Timeline) Steps() []TimelineStep {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]TimelineStep(nil), t.steps...)
}

// Points returns the latency over time, with buckets merged so that there
// are at most maxPoints points. Empty buckets (cool-downs) are left out.
func (t *Timeline) Points(maxPoints int) []TimelinePoint {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	per := 1
	if maxPoints > 0 && len(t.buckets) > maxPoints {
		per = (len(t.buckets) + maxPoints - 1) / maxPoints
	}
	var out []TimelinePoint
	hist := make([]uint32, histBins)
	for i := 0; i < len(t.buckets); i += per {
		clear(hist)
		p := TimelinePoint{At: (time.Duration(i) * t.width).Seconds()}
		for _, b := range t.buckets[i:min(i+per, len(t.buckets))] {
			p.Requests += b.n
			p.Errors += b.errors
			for k, v := range b.hist {
				hist[k] += v
			}
		}
		if p.Requests == 0 {
			continue
		}
		p.P50, p.P99 = histQuantile(hist, p.Requests, 0.5), histQuantile(hist, p.Requests, 0.99)
		out = append(out, p)
	}
	return out
}

func histQuantile(hist []uint32, n int, q float64) float64 {
	rank := int(math.Ceil(q * float64(n)))
	seen := 0
	for i, v := range hist {
		seen += int(v)
		if seen >= rank {
			return histUpper(i)
		}
	}
	return histUpper(len(hist) - 1)
}
