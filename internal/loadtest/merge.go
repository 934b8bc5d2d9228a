package loadtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Errors of Merger, for callers to word.
var (
	// ErrNoResults: nothing to merge (no source, or a source without results).
	ErrNoResults = errors.New("no results")
	// ErrNotPlanResults: the results were not written by a --shard,
	// --ramp or --start-at run, so they carry no step labels.
	ErrNotPlanResults = errNotPlanLabel
	// ErrMismatch: the sources come from different runs (another ramp,
	// shard count, step duration or start time) or repeat a shard.
	ErrMismatch = errors.New("results of different runs")
	// ErrMissingShard: some shard of the run has no results.
	ErrMissingShard = errors.New("shard missing")
)

// Merger merges the --results of the shards of a Plan (RunPlan) into one
// result, as if one generator had sent the whole load: Add each shard's
// results (one source at a time, streamed), then Capacity. Results are
// grouped by the step named in their label (by the schedule, not by when
// they arrived), so a shard that started late still counts in the step it
// ran; the figures are computed from every exact latency (percentiles
// equal those of the concatenated results) and the verdicts with the same
// objectives and the same code as a run on one machine.
type Merger struct {
	// Objectives decide the steps' verdicts (nil: DefaultObjectives).
	Objectives Objectives

	run      string // the run key of the first label seen
	first    stepLabel
	source   string // the source of the first label seen
	steps    map[int]*mergeStep
	shards   map[int]string // shard index → the source that held it
	sources  []string
	requests int
	targets  map[string]bool
}

// maxMergeTargets bounds the distinct targets a merge names.
const maxMergeTargets = 20

type mergeStep struct {
	label     stepLabel
	lat       []time.Duration
	successes int
	codes     map[int]int
	errTexts  map[string]int
	gateway   int
	// starts and ends (Unix ns) of every request, for the most in flight.
	starts, ends []int64
	parts        map[int]*shardPart
}

// shardPart is one shard's share of a step.
type shardPart struct {
	n, ok                     int
	first, lastStart, lastEnd int64 // Unix ns
	okStarts                  []int64
}

// Add reads one source's results (vegeta gob, as --results writes them).
func (m *Merger) Add(source string, r io.Reader) error {
	if m.steps == nil {
		m.steps, m.shards, m.targets = map[int]*mergeStep{}, map[int]string{}, map[string]bool{}
	}
	if slices.Contains(m.sources, source) {
		return fmt.Errorf("%w: %s given twice", ErrMismatch, source)
	}
	m.sources = append(m.sources, source)
	dec := vegeta.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	var (
		res      vegeta.Result
		lastName string
		l        stepLabel
		st       *mergeStep
		n        int
	)
	for {
		res = vegeta.Result{}
		if err := dec.Decode(&res); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			if n == 0 {
				return fmt.Errorf("%s: not vegeta gob results (as a run writes them): %w", source, err)
			}
			return fmt.Errorf("%s: result %d: %w", source, n+1, err)
		}
		n++
		if res.Attack != lastName || st == nil {
			var err error
			if l, err = parseStepLabel(res.Attack); err != nil {
				if errors.Is(err, errNotPlanLabel) {
					return fmt.Errorf("%s: %w: its results are named %q", source, ErrNotPlanResults, res.Attack)
				}
				return fmt.Errorf("%s: result %d is named %q: %w", source, n, res.Attack, err)
			}
			if st, err = m.step(source, l); err != nil {
				return err
			}
			lastName = res.Attack
		}
		st.add(&res, l.Shard.Index)
		if len(m.targets) <= maxMergeTargets {
			m.targets[res.Method+" "+res.URL] = true
		}
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", source, ErrNoResults)
	}
	m.requests += n
	return nil
}

// step checks l against the run seen so far and returns its step.
func (m *Merger) step(source string, l stepLabel) (*mergeStep, error) {
	if m.run == "" {
		m.run, m.first, m.source = l.run(), l, source
	} else if run := l.run(); run != m.run {
		return nil, fmt.Errorf("%w: %s has %s, %s has %s", ErrMismatch, m.source, m.run, source, run)
	}
	if prev, ok := m.shards[l.Shard.Index]; ok && prev != source {
		return nil, fmt.Errorf("%w: shard %s is in both %s and %s", ErrMismatch, l.Shard, prev, source)
	}
	m.shards[l.Shard.Index] = source
	st := m.steps[l.Step]
	if st == nil {
		st = &mergeStep{label: l, codes: map[int]int{}, errTexts: map[string]int{}, parts: map[int]*shardPart{}}
		m.steps[l.Step] = st
	} else if st.label.Rate != l.Rate || st.label.Offset != l.Offset {
		return nil, fmt.Errorf("%w: step %d is %s rps at +%s in one result and %s rps at +%s in %s", ErrMismatch, l.Step,
			fmtRate(st.label.Rate), st.label.Offset, fmtRate(l.Rate), l.Offset, source)
	}
	return st, nil
}

func (st *mergeStep) add(r *vegeta.Result, shard int) {
	start := r.Timestamp.UnixNano()
	end := start + int64(r.Latency)
	st.lat = append(st.lat, r.Latency)
	st.starts = append(st.starts, start)
	st.ends = append(st.ends, end)
	p := st.parts[shard]
	if p == nil {
		p = &shardPart{first: start, lastStart: start, lastEnd: end}
		st.parts[shard] = p
	}
	p.n++
	p.first, p.lastStart, p.lastEnd = min(p.first, start), max(p.lastStart, start), max(p.lastEnd, end)
	st.codes[int(r.Code)]++
	if isGatewayThrottle(int(r.Code), r.Headers) {
		st.gateway++
	}
	if r.Error == "" && r.Code >= 200 && r.Code < 300 {
		st.successes++
		p.ok++
		p.okStarts = append(p.okStarts, start)
		return
	}
	text := r.Error
	if text == "" {
		text = strconv.Itoa(int(r.Code)) + " " + http.StatusText(int(r.Code))
	}
	if _, seen := st.errTexts[text]; seen || len(st.errTexts) < 20 {
		st.errTexts[text]++
	}
}

// Capacity computes the merged figures and verdicts.
func (m *Merger) Capacity() (*Capacity, error) {
	if len(m.sources) == 0 || m.requests == 0 {
		return nil, ErrNoResults
	}
	count := m.first.Shard.count()
	var missing, got []string
	for i := range count {
		if _, ok := m.shards[i]; ok {
			got = append(got, strconv.Itoa(i))
		} else {
			missing = append(missing, strconv.Itoa(i))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: no results of shard %s of %d (got shard %s)", ErrMissingShard,
			strings.Join(missing, ", "), count, strings.Join(got, ", "))
	}
	objs := m.Objectives
	if len(objs) == 0 {
		objs = DefaultObjectives()
	}
	mode := ModeFixed
	if m.first.Phase == PhaseRamp {
		mode = ModeSearch
	}
	c := &Capacity{Mode: mode, Objectives: objs.Strings(),
		Merged: &MergeInfo{Shards: count, Sources: m.sources, Requests: m.requests}}
	c.Target = m.target()
	if l := m.first; l.Ramp != "" {
		r, _ := ParseRamp(l.Ramp)
		c.Ramp = &RampInfo{Start: r.Start, Stop: r.Stop, Steps: r.Steps, Scale: "linear", StepDurationS: l.Duration.Seconds()}
		if s2 := m.steps[2]; s2 != nil {
			c.Ramp.CoolDownS = max(s2.label.Offset-s2.label.Duration, 0).Seconds()
		}
	}
	if !m.first.At.IsZero() {
		c.StartAt = m.first.At.UTC().Format(time.RFC3339Nano)
		c.Merged.LateByS = make([]float64, count)
	}
	nums := make([]int, 0, len(m.steps))
	for k := range m.steps {
		nums = append(nums, k)
	}
	sort.Ints(nums)
	var steps []Step
	for _, k := range nums {
		st := m.steps[k].finish(count)
		evaluate(&st, objs)
		classifyCauses(&st, objs)
		m.steps[k].complete(&st, count)
		steps = append(steps, st)
		c.AttackSeconds += st.Duration
		m.lateness(c, m.steps[k])
		m.steps[k] = nil // its latencies are no longer needed
	}
	c.AttackSeconds = round3(c.AttackSeconds)
	if c.Merged.LateByS != nil {
		for _, l := range c.Merged.LateByS {
			c.LateByS = max(c.LateByS, l)
		}
	}
	finishPlan(c, steps, m.first.Steps, AttackOptions{})
	return c, nil
}

func (m *Merger) target() string {
	names := make([]string, 0, len(m.targets))
	for t := range m.targets {
		names = append(names, t)
	}
	sort.Strings(names)
	switch {
	case len(names) == 1:
		return names[0]
	case len(names) > maxMergeTargets:
		return fmt.Sprintf("more than %d targets", maxMergeTargets)
	default:
		return fmt.Sprintf("%d targets", len(names))
	}
}

// lateness records how late each shard started the step against the
// schedule (with a start time), or how far apart the shards started it
// (without), and warns when that is a noticeable part of the step.
func (m *Merger) lateness(c *Capacity, st *mergeStep) {
	l := st.label
	tolerance := max(lateTolerance, l.Duration/10)
	if !l.At.IsZero() {
		due := l.At.Add(l.Offset).UnixNano()
		for i, p := range st.parts {
			late := time.Duration(p.first - due)
			if late <= 0 {
				continue
			}
			if i < len(c.Merged.LateByS) {
				c.Merged.LateByS[i] = max(c.Merged.LateByS[i], round3(late.Seconds()))
			}
			if late > tolerance {
				c.Warnings = append(c.Warnings, fmt.Sprintf("shard %d started step %d (%s rps) %s late: the merged figures count its requests in that step, but they overlapped the other shards' only in part", i, l.Step, fmtRate(l.Rate), fmtDur(late)))
			}
		}
		return
	}
	var lo, hi int64
	firstPart := true
	for _, p := range st.parts {
		if firstPart {
			lo, hi, firstPart = p.first, p.first, false
		}
		lo, hi = min(lo, p.first), max(hi, p.first)
	}
	if spread := time.Duration(hi - lo); spread > tolerance {
		c.Warnings = append(c.Warnings, fmt.Sprintf("the shards started step %d (%s rps) up to %s apart (no common start time): they overlapped only in part", l.Step, fmtRate(l.Rate), fmtDur(spread)))
	}
}

// finish computes a merged step's figures, as stepStats.finish does for
// one generator: rates and throughputs are the shards' sums (each over its
// own sending time), latencies exact over every result.
func (st *mergeStep) finish(count int) Step {
	l := st.label
	s := Step{Phase: l.Phase, Rate: l.Rate, PlannedDuration: l.Duration.Seconds(), StatusCodes: map[string]int{}}
	shardRate := l.Rate / float64(count)
	var send time.Duration
	for _, p := range st.parts {
		span := p.span(shardRate, l.Duration)
		send = max(send, span)
		if p.ok > 0 {
			s.Throughput += float64(p.ok) / max(time.Duration(p.lastEnd-p.first), span).Seconds()
		}
		s.TailThroughput += exactTailThroughput(p.okStarts, p.first, min(span, time.Duration(p.lastStart-p.first)+time.Millisecond))
		p.okStarts = nil
	}
	s.Requests = len(st.lat)
	s.Successes = st.successes
	s.Duration = round3(send.Seconds())
	if send > 0 {
		s.AchievedRate = round3(float64(s.Requests) / send.Seconds())
	}
	s.Throughput = round3(s.Throughput)
	s.TailThroughput = round3(s.TailThroughput)
	if s.Requests > 0 {
		s.SuccessRatio = round6(float64(st.successes) / float64(s.Requests))
	}
	if s.Rate > 0 {
		s.ThroughputRatio = round6(s.Throughput / s.Rate)
	}
	s.Gateway429 = st.gateway
	for code, n := range st.codes {
		s.StatusCodes[strconv.Itoa(code)] += n
	}
	s.Errors = topErrors(st.errTexts)
	s.fillExactLatency(st.lat)
	st.lat = nil
	s.MaxInFlight = maxOverlap(st.starts, st.ends)
	st.starts, st.ends = nil, nil
	if s.Rate > 0 && s.Duration > 0 && s.AchievedRate < generatorBehindRatio*s.Rate {
		s.GeneratorBehind = true
	}
	return s
}

// span is how long the shard sent requests in a step: from its first to
// its last request plus one interval, at most the step's duration.
func (p *shardPart) span(rate float64, d time.Duration) time.Duration {
	span := time.Duration(p.lastStart - p.first)
	if rate > 0 {
		span += time.Duration(float64(time.Second) / rate)
	}
	return min(span, d)
}

// incompleteShare: a shard that sent less than this share of its part of
// a step (it stopped after a failing step, was aborted or interrupted)
// leaves the step incomplete: it cannot pass.
const incompleteShare = 0.9

// complete fails a step that some shard did not send in full: the load
// the backend saw was less than the step's rate.
func (st *mergeStep) complete(s *Step, count int) {
	want := st.label.Rate / float64(count) * st.label.Duration.Seconds()
	var short []string
	for i := range count {
		n := 0
		if p := st.parts[i]; p != nil {
			n = p.n
		}
		if float64(n) < incompleteShare*want {
			short = append(short, fmt.Sprintf("shard %d sent %d of %.0f", i, n, want))
		}
	}
	if len(short) == 0 {
		return
	}
	s.Pass = false
	s.Reason = joinReason(s.Reason, "incomplete: "+strings.Join(short, ", ")+" requests (stopped after a failing step, aborted or interrupted)")
}

// fillExactLatency sorts lat and fills the latency figures from it
// (nearest rank), exactly: a merge must say what the concatenated results say.
func (s *Step) fillExactLatency(lat []time.Duration) {
	slices.Sort(lat)
	e := exactLatencies(lat)
	s.latencies = e
	if len(lat) == 0 {
		return
	}
	var sum float64
	for _, d := range lat {
		sum += float64(d)
	}
	q := e.quantile
	s.Latency = LatencyMS{
		P50: ms(q(0.50)), P90: ms(q(0.90)), P95: ms(q(0.95)), P99: ms(q(0.99)),
		Max: ms(lat[len(lat)-1]), Mean: ms(time.Duration(sum / float64(len(lat)))),
	}
}

// maxOverlap is the most intervals [starts[i], ends[i]) open at once.
func maxOverlap(starts, ends []int64) int {
	slices.Sort(starts)
	slices.Sort(ends)
	cur, top, j := 0, 0, 0
	for _, s := range starts {
		for j < len(ends) && ends[j] <= s {
			cur--
			j++
		}
		cur++
		top = max(top, cur)
	}
	return top
}

// exactTailThroughput is tailThroughput over exact send times (okStarts,
// Unix nanoseconds, relative to first): a merge has every result, so it
// need not estimate from time buckets as a running step does.
func exactTailThroughput(okStarts []int64, first int64, sendTime time.Duration) float64 {
	if sendTime <= 0 {
		return 0
	}
	from := sendTime * 2 / 3
	n := 0
	for _, t := range okStarts {
		if d := time.Duration(t - first); d >= from && d < sendTime {
			n++
		}
	}
	return round3(float64(n) / (sendTime - from).Seconds())
}
