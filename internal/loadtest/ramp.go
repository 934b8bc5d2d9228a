package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// RampSpec is a staircase fixed in advance (--ramp START:STOP:STEPS):
// Steps rates from Start to Stop, evenly spaced (linear). Unlike Search
// it never adapts, so N shards that share a start time run the same steps
// in lockstep without talking to each other.
type RampSpec struct {
	Start, Stop float64
	Steps       int
}

// MaxRampSteps bounds --ramp's STEPS.
const MaxRampSteps = 100

// ErrBadRamp is wrapped by ParseRamp's errors.
var ErrBadRamp = errors.New("bad ramp")

// ParseRamp parses "START:STOP:STEPS", e.g. "100:1000:10" (100, 200, …, 1000 rps).
func ParseRamp(s string) (RampSpec, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) != 3 {
		return RampSpec{}, fmt.Errorf("%w %q: want START:STOP:STEPS, e.g. 100:1000:10", ErrBadRamp, s)
	}
	start, err1 := strconv.ParseFloat(parts[0], 64)
	stop, err2 := strconv.ParseFloat(parts[1], 64)
	steps, err3 := strconv.Atoi(parts[2])
	switch {
	case err1 != nil || err2 != nil || err3 != nil || math.IsNaN(start) || math.IsNaN(stop) || math.IsInf(start, 0) || math.IsInf(stop, 0):
		return RampSpec{}, fmt.Errorf("%w %q: START and STOP are rates (rps), STEPS a whole number, e.g. 100:1000:10", ErrBadRamp, s)
	case start <= 0 || stop <= 0:
		return RampSpec{}, fmt.Errorf("%w %q: rates must be positive", ErrBadRamp, s)
	case stop <= start:
		return RampSpec{}, fmt.Errorf("%w %q: STOP must be above START", ErrBadRamp, s)
	case steps < 2 || steps > MaxRampSteps:
		return RampSpec{}, fmt.Errorf("%w %q: STEPS must be 2 to %d (one rate is a fixed-rate run)", ErrBadRamp, s, MaxRampSteps)
	}
	return RampSpec{Start: start, Stop: stop, Steps: steps}, nil
}

// String is "START:STOP:STEPS".
func (r RampSpec) String() string {
	return fmtFloat(r.Start) + ":" + fmtFloat(r.Stop) + ":" + strconv.Itoa(r.Steps)
}

// Rates are the staircase's rates, lowest first.
func (r RampSpec) Rates() []float64 {
	out := make([]float64, r.Steps)
	for k := range out {
		out[k] = roundRate(r.Start + float64(k)*(r.Stop-r.Start)/float64(r.Steps-1))
	}
	return out
}

// RampInfo records the staircase in a result.
type RampInfo struct {
	Start         float64 `json:"start"`
	Stop          float64 `json:"stop"`
	Steps         int     `json:"steps"`
	Scale         string  `json:"scale"` // "linear"
	StepDurationS float64 `json:"step_duration_s"`
	CoolDownS     float64 `json:"cool_down_s"`
}

// Plan is a load test whose steps are fixed in advance: one fixed-rate
// step, or a RampSpec staircase, due at StartAt + k×(StepDuration +
// CoolDown), and split over shards.
type Plan struct {
	// Ramp is the staircase; with Steps 0 the plan is one fixed step at Rate.
	Ramp RampSpec
	Rate float64
	// StepDuration is the length of the fixed step or of each ramp step.
	StepDuration time.Duration
	// CoolDown separates ramp steps.
	CoolDown time.Duration
	// StartAt is when the first step is due (zero: at once). A generator
	// that gets there late starts at once and records how late it was; it
	// shifts nothing: each later step is still due on the schedule.
	StartAt time.Time
	// Shard is this generator's part of the load (zero: all of it).
	Shard Shard
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// lateTolerance is how late a step may start before it is reported.
const lateTolerance = 100 * time.Millisecond

func (p Plan) rates() []float64 {
	if p.Ramp.Steps > 0 {
		return p.Ramp.Rates()
	}
	return []float64{p.Rate}
}

func (p Plan) phase() Phase {
	if p.Ramp.Steps > 0 {
		return PhaseRamp
	}
	return PhaseFixed
}

// label names step k's results (vegeta's attack name) so that `loadtest
// merge` can group every shard's results by step and check they come from
// one run.
func (p Plan) label(k int) stepLabel {
	rates := p.rates()
	l := stepLabel{
		Step: k + 1, Steps: len(rates), Phase: p.phase(), Rate: rates[k],
		Duration: p.StepDuration, Offset: time.Duration(k) * (p.StepDuration + max(p.CoolDown, 0)),
		Shard: Shard{Index: p.Shard.Index, Count: p.Shard.count()}, At: p.StartAt,
	}
	if p.Ramp.Steps > 0 {
		l.Ramp = p.Ramp.String()
	}
	return l
}

// Validate reports plans that cannot run.
func (p Plan) Validate() error {
	switch {
	case p.StepDuration <= 0:
		return fmt.Errorf("step duration %s must be positive", p.StepDuration)
	case p.Ramp.Steps == 0 && p.Rate <= 0:
		return fmt.Errorf("rate %s must be positive for a scheduled or sharded run", fmtRate(p.Rate))
	case p.Shard.Count > 0 && (p.Shard.Index < 0 || p.Shard.Index >= p.Shard.Count):
		return fmt.Errorf("%w %s", ErrBadShard, p.Shard)
	}
	return nil
}

// RunPlan runs a plan: it waits for StartAt (printing the wait to
// opts.Progress), then runs each step when due, at this shard's part of
// its rate, each step's results named by a label that `loadtest merge`
// groups by. A ramp stops after its first failing step. The Capacity holds
// this generator's own figures (its part of the rates) with Shard set;
// for the whole run merge every shard's results (Merge).
//
// A cancelled ctx during the wait returns an error wrapping
// context.Canceled; during a step it stops the plan with Interrupted set.
func RunPlan(ctx context.Context, targets Targets, p Plan, opts Options) (*Capacity, error) {
	if err := targets.Validate(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	opts.Attack = p.Shard.Attack(opts.Attack)
	s := newSession(opts)
	rates := p.rates()
	mode := ModeFixed
	if p.Ramp.Steps > 0 {
		mode = ModeSearch
	}
	c := newCapacity(targets, mode, s.objs)
	if p.Shard.Sharded() {
		c.Shard = &ShardInfo{Index: p.Shard.Index, Count: p.Shard.Count}
	}
	if p.Ramp.Steps > 0 {
		c.Ramp = &RampInfo{Start: p.Ramp.Start, Stop: p.Ramp.Stop, Steps: p.Ramp.Steps, Scale: "linear",
			StepDurationS: p.StepDuration.Seconds(), CoolDownS: max(p.CoolDown, 0).Seconds()}
	}
	s.budget = time.Duration(len(rates)) * p.StepDuration

	t0 := p.StartAt
	if t0.IsZero() {
		t0 = p.Now()
	} else {
		c.StartAt = t0.UTC().Format(time.RFC3339Nano)
		if err := waitFor(ctx, opts.Progress, opts.ProgressTTY, t0, p.Now, s.opts.Sleep); err != nil {
			return nil, fmt.Errorf("waiting for the start time %s: %w", c.StartAt, err)
		}
		if late := p.Now().Sub(t0); late > lateTolerance {
			c.LateByS = round3(late.Seconds())
			msg := fmt.Sprintf("started %s late: the start time %s had passed; the steps stay due on the schedule (late_by_s records it)", fmtDur(late), c.StartAt)
			c.Warnings = append(c.Warnings, msg)
			if opts.Progress != nil {
				fmt.Fprintln(opts.Progress, "warning: "+msg)
			}
		}
	}

	var steps []Step
	for k, rate := range rates {
		l := p.label(k)
		due := t0.Add(l.Offset)
		if k > 0 {
			if wait := due.Sub(p.Now()); wait > 0 {
				s.progress.CoolDown(wait)
				if err := s.opts.Sleep(ctx, wait); err != nil {
					c.Interrupted = true
					break
				}
			} else if -wait > lateTolerance && !p.StartAt.IsZero() {
				c.Warnings = append(c.Warnings, fmt.Sprintf("step %d started %s late (the step before ran over the cool-down)", k+1, fmtDur(-wait)))
			}
		}
		st, err := s.runLabelled(ctx, l, p.Shard.Rate(rate), p.StepDuration, targets)
		if err != nil {
			return nil, err
		}
		s.used += time.Duration(st.Duration * float64(time.Second))
		steps = append(steps, st)
		if st.Interrupted {
			c.Interrupted = true
			break
		}
		if st.rejected {
			c.RejectedAsInvalid = true
			break
		}
		if !st.Pass && p.Ramp.Steps > 0 {
			// Higher steps would only fail harder; the other shards see
			// the same backend and stop too (a step some shard skipped
			// cannot pass in the merge).
			break
		}
	}
	c.AttackSeconds = round3(s.total.Seconds())
	finishPlan(c, steps, len(rates), opts.Attack)
	if c.RejectedAsInvalid {
		c.Pass, c.SustainableRPS, c.Reason = false, 0, rejectedReason(steps[len(steps)-1])
	}
	if p.Shard.Count > 1 {
		c.Warnings = append(c.Warnings, fmt.Sprintf("these are the figures of shard %s alone (1/%d of each rate): merge every shard's results for the whole run", p.Shard, p.Shard.Count))
	}
	return c, s.close()
}

// runLabelled runs and evaluates one step of a plan, its results named by l.
func (s *session) runLabelled(ctx context.Context, l stepLabel, rate float64, d time.Duration, targets Targets) (Step, error) {
	s.nsteps++
	spec := StepSpec{
		Phase: l.Phase, Rate: rate, Duration: d, Targets: targets,
		Objectives: s.objs, Abort: !s.opts.NoAbort, Name: l.String(),
	}
	s.progress.StepStart(s.nsteps, targets.Describe(), l.Phase, rate, d, s.budget-s.used)
	spec.OnProgress = func(snap Snapshot) { s.progress.Update(snap) }
	began := time.Now()
	st, err := s.runner.RunStep(ctx, spec)
	if err != nil {
		s.progress.Clear()
		return st, err
	}
	s.total += time.Duration(st.Duration * float64(time.Second))
	evaluate(&st, s.objs)
	st.rejected = classifyCauses(&st, s.objs)
	if s.opts.Timeline != nil {
		s.opts.Timeline.addStep(began, targets.Describe(), st)
	}
	s.progress.StepEnd(st)
	return st, nil
}

// finishPlan sets a plan's verdict from its steps: a fixed step passes or
// not; a staircase's sustainable rate is its highest passing step below
// the first failing one (a staircase stops there), with the knee. Merge
// uses it on the merged steps, so both say the same of the same figures.
func finishPlan(c *Capacity, steps []Step, planned int, attack AttackOptions) {
	c.Steps = steps
	for _, st := range steps {
		c.Interrupted = c.Interrupted || st.Interrupted
	}
	if c.Mode == ModeFixed {
		if len(steps) == 1 {
			st := steps[0]
			c.Pass, c.Reason = st.Pass, st.Reason
			if st.Pass {
				c.SustainableRPS = st.Rate
			}
		}
		c.addWarnings(attack)
		return
	}
	var lastPass float64
	var fail *Step
	for i := range steps {
		if !steps[i].Pass {
			fail = &steps[i]
			break
		}
		lastPass = steps[i].Rate
	}
	c.SustainableRPS = lastPass
	c.KneeRPS = Knee(steps)
	c.Pass = lastPass > 0
	switch {
	case fail != nil && !fail.Interrupted:
		c.Bracket = &Bracket{Pass: lastPass, Fail: fail.Rate}
		c.LimitedBy = "backend"
	case lastPass > 0:
		c.Bracket = &Bracket{Pass: lastPass}
	}
	switch {
	case c.Pass:
		if fail == nil && len(steps) == planned {
			c.Warnings = append(c.Warnings, fmt.Sprintf("every step passed up to %s rps: the capacity may be higher (raise the ramp's STOP)", fmtRate(lastPass)))
		}
	case c.Interrupted && fail != nil && fail.Interrupted:
		c.Reason = "interrupted before a passing rate was found"
	case fail != nil:
		c.Reason = fmt.Sprintf("no passing rate: even %s rps missed the objectives", fmtRate(fail.Rate))
		if fail.Reason != "" {
			c.Reason += " (" + fail.Reason + ")"
		}
	default:
		c.Reason = "no step ran"
	}
	c.MaxInFlight = maxInFlightUpTo(steps, c.SustainableRPS)
	c.addWarnings(attack)
}

// waitFor waits until t, saying so on w (live on a terminal).
func waitFor(ctx context.Context, w io.Writer, tty bool, t time.Time, now func() time.Time, sleep func(context.Context, time.Duration) error) error {
	left := t.Sub(now())
	if left <= 0 {
		return ctx.Err()
	}
	say := func(left time.Duration) {
		if w == nil {
			return
		}
		msg := fmt.Sprintf("waiting %s for the start time %s", left.Round(time.Second), t.UTC().Format(time.RFC3339))
		if tty {
			fmt.Fprintf(w, "\r\033[2K%s", msg)
		} else {
			fmt.Fprintln(w, msg)
		}
	}
	// Plain output: one line, then one every 30s; a terminal: every second.
	every := 30 * time.Second
	if tty {
		every = time.Second
	}
	defer func() {
		if w != nil && tty {
			fmt.Fprint(w, "\r\033[2K")
		}
	}()
	for left > 0 {
		say(left)
		if err := sleep(ctx, min(left, every)); err != nil {
			return err
		}
		left = t.Sub(now())
	}
	return nil
}

// stepLabel is what a plan's step results are named (vegeta's Result.Attack):
//
//	apictl step=2/5 phase=ramp rate=150 d=10s off=11s shard=0/3 ramp=100:300:5 at=2026-12-02T15:00:00Z
//
// rate is the step's total rate (every shard together), off the step's
// due time after at (the start time; absent without one).
type stepLabel struct {
	Step, Steps int
	Phase       Phase
	Rate        float64
	Duration    time.Duration
	Offset      time.Duration
	Shard       Shard
	Ramp        string
	At          time.Time
}

const labelPrefix = "apictl "

func (l stepLabel) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%sstep=%d/%d phase=%s rate=%s d=%s off=%s shard=%s", labelPrefix, l.Step, l.Steps, l.Phase,
		fmtFloat(l.Rate), l.Duration, l.Offset, l.Shard)
	if l.Ramp != "" {
		b.WriteString(" ramp=" + l.Ramp)
	}
	if !l.At.IsZero() {
		b.WriteString(" at=" + l.At.UTC().Format(time.RFC3339Nano))
	}
	return b.String()
}

// run is the label without the step's own fields: equal for every step
// and shard of one run.
func (l stepLabel) run() string {
	s := fmt.Sprintf("steps=%d phase=%s d=%s shards=%d", l.Steps, l.Phase, l.Duration, l.Shard.count())
	if l.Ramp != "" {
		s += " ramp=" + l.Ramp
	}
	if !l.At.IsZero() {
		s += " at=" + l.At.UTC().Format(time.RFC3339Nano)
	}
	return s
}

// errNotPlanLabel: the results were not written by a --shard, --ramp or --start-at run.
var errNotPlanLabel = errors.New("not a sharded, ramp or scheduled run's results")

func parseStepLabel(s string) (stepLabel, error) {
	rest, ok := strings.CutPrefix(s, labelPrefix)
	if !ok {
		return stepLabel{}, errNotPlanLabel
	}
	var l stepLabel
	seen := map[string]bool{}
	for _, f := range strings.Fields(rest) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return stepLabel{}, fmt.Errorf("bad field %q", f)
		}
		seen[k] = true
		var err error
		switch k {
		case "step":
			a, b, _ := strings.Cut(v, "/")
			l.Step, err = strconv.Atoi(a)
			if err == nil {
				l.Steps, err = strconv.Atoi(b)
			}
			if err == nil && (l.Step < 1 || l.Step > l.Steps) {
				err = fmt.Errorf("step %s out of range", v)
			}
		case "phase":
			l.Phase = Phase(v)
		case "rate":
			l.Rate, err = strconv.ParseFloat(v, 64)
		case "d":
			l.Duration, err = time.ParseDuration(v)
		case "off":
			l.Offset, err = time.ParseDuration(v)
		case "shard":
			l.Shard, err = ParseShard(v)
		case "ramp":
			_, err = ParseRamp(v)
			l.Ramp = v
		case "at":
			l.At, err = time.Parse(time.RFC3339Nano, v)
		}
		if err != nil {
			return stepLabel{}, fmt.Errorf("bad field %q: %w", f, err)
		}
	}
	for _, k := range []string{"step", "phase", "rate", "d", "shard"} {
		if !seen[k] {
			return stepLabel{}, fmt.Errorf("field %s missing", k)
		}
	}
	return l, nil
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// WaitUntil waits until t, saying so on w (a live line when tty), and
// returns ctx's error when it is cancelled first.
func WaitUntil(ctx context.Context, w io.Writer, tty bool, t time.Time) error {
	return waitFor(ctx, w, tty, t, time.Now, sleepCtx)
}
