package loadtest

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// window is a rolling second of results in four 250 ms buckets, used for
// the early abort.
type bucket struct {
	n, errors int
	lat       *latencyHist
}

type stepStats struct {
	spec      StepSpec
	step      Step
	lat       *latencyHist
	sent      int
	successes int
	errors    int
	errTexts  map[string]int
	// codes counts status codes (0: transport error).
	codes [600]int
	// gateway counts API Gateway's own 429s; okStarts count the send
	// times of successful requests (for the tail throughput); per are the
	// figures of each target when there are several.
	gateway  int
	okStarts startCounts
	// lastStart is the latest send time of a counted request (requests
	// cancelled by an abort are not counted).
	lastStart time.Duration
	per       []TargetStep
	// first and lastEnd are the earliest start and the latest end of a
	// request, since the attack began.
	first, lastEnd time.Duration
	seen           bool

	buckets [4]bucket
	cur     int
	lastRot time.Time
	began   time.Time
	// win is the merge of the buckets' latencies.
	win *latencyHist
	// pastOnce is true when the previous abort check found the objectives clearly missed.
	pastOnce bool
	// behindChecks counts the checks in a row that found the generator behind.
	behindChecks int
}

func newStepStats(spec StepSpec) *stepStats {
	var per []TargetStep
	if len(spec.Targets) > 1 {
		shares := spec.Targets.Shares()
		for i, t := range spec.Targets {
			per = append(per, TargetStep{Target: t.Label(), Rate: round3(shares[i] * spec.Rate)})
		}
	}
	s := &stepStats{
		per:      per,
		spec:     spec,
		step:     Step{Phase: spec.Phase, Rate: spec.Rate, PlannedDuration: spec.Duration.Seconds(), StatusCodes: map[string]int{}},
		lat:      newLatencyHist(latencyDigits),
		win:      newLatencyHist(windowDigits),
		errTexts: map[string]int{},
		began:    time.Now(),
		lastRot:  time.Now(),
	}
	for i := range s.buckets {
		s.buckets[i].lat = newLatencyHist(windowDigits)
	}
	return s
}

// add records one result. cause is why in-flight requests were cancelled,
// if they were: results cancelled by an abort or interrupt are not
// measurements and are dropped; those cancelled by the drain timeout count
// as errors.
func (s *stepStats) add(began time.Time, o *outcome, cause error) {
	s.sent++
	errText := o.err
	if cause != nil && o.code == 0 && (strings.Contains(errText, cause.Error()) || strings.Contains(errText, "context canceled")) {
		if cause != errDrained {
			return
		}
		errText = errDrained.Error()
	}
	ok := errText == "" && o.code >= 200 && o.code < 300
	s.lastStart = max(s.lastStart, o.start)
	if !s.seen || o.start < s.first {
		s.first, s.seen = o.start, true
	}
	if end := o.start + o.lat; end > s.lastEnd {
		s.lastEnd = end
	}
	s.lat.record(o.lat)
	if c := int(o.code); c < len(s.codes) {
		s.codes[c]++
	} else {
		s.step.StatusCodes[strconv.Itoa(c)]++
	}
	b := &s.buckets[s.cur]
	b.n++
	b.lat.record(o.lat)
	if o.gateway {
		s.gateway++
	}
	if t := int(o.target); t >= 0 && t < len(s.per) {
		s.per[t].Requests++
		if ok {
			s.per[t].Successes++
		}
		if o.gateway {
			s.per[t].Gateway429++
		}
	}
	if ok {
		s.successes++
		s.okStarts.add(o.start)
		return
	}
	s.errors++
	b.errors++
	text := errText
	if text == "" {
		text = statusText(o.code)
	}
	if _, seen := s.errTexts[text]; seen || len(s.errTexts) < 20 {
		s.errTexts[text]++
	}
}

// window returns the figures of the last second.
func (s *stepStats) window() (n, errors int, lat *latencyHist) {
	s.win.reset()
	for i := range s.buckets {
		n += s.buckets[i].n
		errors += s.buckets[i].errors
		s.win.merge(s.buckets[i].lat)
	}
	return n, errors, s.win
}

// rotate starts a new 250 ms bucket, dropping the oldest.
func (s *stepStats) rotate(now time.Time) {
	for now.Sub(s.lastRot) >= 250*time.Millisecond {
		s.lastRot = s.lastRot.Add(250 * time.Millisecond)
		s.cur = (s.cur + 1) % len(s.buckets)
		b := &s.buckets[s.cur]
		b.n, b.errors = 0, 0
		b.lat.reset()
	}
}

// statusTexts are the texts of the status codes ("503 Service
// Unavailable"), made once rather than for every failed request.
var statusTexts = func() (t [600]string) {
	for c := range t {
		t[c] = strconv.Itoa(c) + " " + http.StatusText(c)
	}
	return t
}()

func statusText(code uint16) string {
	if int(code) < len(statusTexts) {
		return statusTexts[code]
	}
	return strconv.Itoa(int(code)) + " " + http.StatusText(int(code))
}

// Early-abort thresholds: a step is stopped when, over the last second and
// with enough samples, errors or latency are at least twice the objective.
const (
	abortMinSamples  = 20
	abortMinResults  = 100
	abortMinElapsed  = time.Second
	abortFactor      = 2.0
	abortMinInFlight = 50
)

// shouldAbort evaluates the rolling window and returns why the step should
// stop, or "".
func (s *stepStats) shouldAbort(inflight int64, now time.Time) string {
	if s.lat.count() < abortMinResults && now.Sub(s.began) < abortMinElapsed {
		return ""
	}
	// In-flight requests reveal latency before any response arrives
	// (Little's law: in flight = rate × latency).
	if maxLat := s.spec.Objectives.maxLatency(); maxLat > 0 && s.spec.Rate > 0 {
		limit := s.spec.Rate * abortFactor * maxLat.Seconds()
		if float64(inflight) > max(limit, abortMinInFlight) {
			return fmt.Sprintf("%d requests in flight at %s rps: latency above %s", inflight, fmtRate(s.spec.Rate), fmtDur(time.Duration(abortFactor*float64(maxLat))))
		}
	}
	n, errs, lat := s.window()
	if n < abortMinSamples {
		return ""
	}
	if maxErr := s.spec.Objectives.maxErrorRatio(); maxErr >= 0 {
		ratio := float64(errs) / float64(n)
		if errs >= 5 && ratio > abortFactor*maxErr {
			return fmt.Sprintf("errors %s in the last second (objective <%s)", fmtPct(ratio), fmtPct(maxErr))
		}
	}
	lo := s.spec.Objectives.latencyObjectives()
	for _, o := range lo {
		if o.Quantile == 0 {
			continue
		}
		q := lat.quantile(o.Quantile)
		if float64(q) > abortFactor*float64(o.Latency) {
			return fmt.Sprintf("%s %s in the last second (objective %s)", o.metricName(), fmtDur(q), o.Text)
		}
	}
	return ""
}

// generatorBehind reports, after the first second, when the requests sent
// (answered or in flight) fall more than 10% (and 50 requests) short of
// rate × elapsed.
func (s *stepStats) generatorBehind(inflight int64, elapsed time.Duration) string {
	if s.spec.Rate <= 0 || elapsed < abortMinElapsed {
		return ""
	}
	want := s.spec.Rate * elapsed.Seconds()
	sent := float64(s.sent) + float64(inflight)
	if sent >= 0.9*want || want-sent < 50 {
		return ""
	}
	return fmt.Sprintf("the load generator fell behind: %.0f of %.0f requests sent after %s (CPU-bound?); its figures would understate latency",
		sent, want, elapsed.Round(10*time.Millisecond))
}

func (s *stepStats) snapshot(elapsed time.Duration, inflight int64) Snapshot {
	_, _, lat := s.window()
	return Snapshot{
		Elapsed: elapsed, Duration: s.spec.Duration,
		Sent: s.sent, Completed: s.lat.count(), Errors: s.errors,
		InFlight: inflight, WindowP99: lat.quantile(0.99),
	}
}

// finish computes the step's figures. sendTime is how long requests were sent.
func (s *stepStats) finish(sendTime time.Duration) Step {
	st := s.step
	st.Duration = round3(sendTime.Seconds())
	st.Requests = s.lat.count()
	st.Successes = s.successes
	if sendTime > 0 {
		st.AchievedRate = round3(float64(s.sent) / sendTime.Seconds())
	}
	if st.Requests > 0 {
		st.SuccessRatio = round6(float64(s.successes) / float64(st.Requests))
		span := s.lastEnd - s.first
		if span < sendTime {
			span = sendTime
		}
		st.Throughput = round3(float64(s.successes) / span.Seconds())
		for i := range s.per {
			s.per[i].Throughput = round3(float64(s.per[i].Successes) / span.Seconds())
		}
		st.TailThroughput = tailThroughput(&s.okStarts, min(sendTime, s.lastStart+time.Millisecond))
	}
	st.Gateway429 = s.gateway
	st.ByTarget = s.per
	switch {
	case st.Rate > 0:
		st.ThroughputRatio = round6(st.Throughput / st.Rate)
	default:
		st.Rate = st.AchievedRate
		st.ThroughputRatio = st.SuccessRatio
	}
	st.fillLatency(s.lat)
	for code, n := range s.codes {
		if n > 0 {
			st.StatusCodes[strconv.Itoa(code)] += n
		}
	}
	st.Errors = topErrors(s.errTexts)
	// The generator fell behind when it sent clearly less than requested
	// over a step that ran its course.
	if s.spec.Rate > 0 && !st.Aborted && !st.Interrupted && st.Duration > 0 &&
		st.AchievedRate < generatorBehindRatio*s.spec.Rate {
		st.GeneratorBehind = true
	}
	return st
}

// topErrors lists the five most frequent error texts with their counts
// ("503 Service Unavailable (×12)"), most frequent first.
func topErrors(texts map[string]int) []string {
	type kv struct {
		k string
		n int
	}
	var errs []kv
	for k, n := range texts {
		errs = append(errs, kv{k, n})
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].n > errs[j].n || errs[i].n == errs[j].n && errs[i].k < errs[j].k })
	var out []string
	for _, e := range errs[:min(len(errs), 5)] {
		out = append(out, fmt.Sprintf("%s (×%d)", e.k, e.n))
	}
	return out
}

// generatorBehindRatio: a step that sent less than this share of the
// requested rate is flagged (coordinated omission).
const generatorBehindRatio = 0.95

func round3(f float64) float64 { return math.Round(f*1e3) / 1e3 }
func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

func fmtRate(r float64) string {
	if r == math.Trunc(r) {
		return strconv.FormatFloat(r, 'f', 0, 64)
	}
	return strconv.FormatFloat(r, 'f', 1, 64)
}

// tailThroughput is the successful responses per second among the
// requests sent in the last third of the sending time (up to the last
// request counted: an abort drops what was in flight): after a burst
// allowance or a queue has run out, what the backend sustains.
func tailThroughput(okStarts *startCounts, sendTime time.Duration) float64 {
	if sendTime <= 0 {
		return 0
	}
	from := sendTime * 2 / 3
	return round3(okStarts.between(from, sendTime) / (sendTime - from).Seconds())
}
