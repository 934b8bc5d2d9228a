package loadtest

import (
	"context"
	"fmt"
	"io"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/plot"
)

// Options configure Run and Search.
type Options struct {
	Attack AttackOptions
	// Objectives every step must meet (nil: DefaultObjectives).
	Objectives Objectives
	// NoAbort disables the early abort of steps that clearly miss the objectives.
	NoAbort bool
	// Progress receives progress lines (nil: silent). With ProgressTTY the
	// current line is updated in place; otherwise plain lines are written.
	Progress    io.Writer
	ProgressTTY bool
	// Results, when set, receives every result as vegeta gob (readable by `vegeta report`).
	Results io.Writer
	// HTML, when set, receives vegeta's latency-over-time plot at the end.
	HTML io.Writer
	// Timeline, when set, records latency over time and where each step
	// ran, for WriteReportHTML.
	Timeline *Timeline
	// Runner replaces the vegeta engine (tests).
	Runner StepRunner
	// Sleep waits out cool-downs (default: a timer honouring ctx; tests pass a no-op).
	Sleep func(ctx context.Context, d time.Duration) error
}

func (o Options) objectives() Objectives {
	if len(o.Objectives) == 0 {
		return DefaultObjectives()
	}
	return o.Objectives
}

// session holds what Run and Search share: the runner, the outputs, the
// progress printer and the attack-time budget.
type session struct {
	opts     Options
	objs     Objectives
	runner   StepRunner
	engine   *Engine
	plot     *plot.Plot
	progress *Progress
	used     time.Duration // attack time of the current search (for its budget)
	total    time.Duration // attack time of the whole session
	budget   time.Duration
	nsteps   int
	// gateway are the live throttles (SearchConfig.Gateway).
	gateway GatewayLimits
	// results writes --results in request order.
	results *seqOrder
}

func newSession(opts Options) *session {
	s := &session{opts: opts, objs: opts.objectives(), runner: opts.Runner}
	if s.runner == nil {
		s.engine = NewEngine(opts.Attack)
		s.runner = s.engine
		if opts.Results != nil {
			enc := vegeta.NewEncoder(opts.Results)
			s.results = newSeqOrder(func(r *vegeta.Result) error { return enc.Encode(r) })
			s.engine.AddSink(s.results.add)
		}
		if opts.HTML != nil {
			s.plot = plot.New(plot.Title("apictl loadtest"), plot.Downsample(4000))
			s.engine.AddSink(s.plot.Add)
		}
		if opts.Timeline != nil {
			s.engine.AddSink(opts.Timeline.Add)
		}
	}
	s.progress = NewProgress(opts.Progress, opts.ProgressTTY)
	if s.opts.Sleep == nil {
		s.opts.Sleep = sleepCtx
	}
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close writes the HTML plot and reports sink errors.
func (s *session) close() error {
	if s.engine == nil {
		return nil
	}
	defer s.engine.Close()
	if s.results != nil {
		if err := s.results.flush(); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
	}
	if err := s.engine.Err(); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if s.plot != nil {
		s.plot.Close()
		if _, err := s.plot.WriteTo(s.opts.HTML); err != nil {
			return fmt.Errorf("write html plot: %w", err)
		}
	}
	return nil
}

// run runs and evaluates one step.
func (s *session) run(ctx context.Context, phase Phase, rate float64, d time.Duration, targets Targets, label string) (Step, error) {
	s.nsteps++
	spec := StepSpec{
		Phase: phase, Rate: rate, Duration: d, Targets: targets,
		Objectives: s.objs, Abort: !s.opts.NoAbort,
		Name: fmt.Sprintf("%d %s %s rps", s.nsteps, phase, fmtRate(rate)),
	}
	s.progress.StepStart(s.nsteps, label, phase, rate, d, s.budget-s.used)
	spec.OnProgress = func(snap Snapshot) { s.progress.Update(snap) }
	began := time.Now()
	st, err := s.runner.RunStep(ctx, spec)
	if err != nil {
		s.progress.Clear()
		return st, err
	}
	s.used += time.Duration(st.Duration * float64(time.Second))
	s.total += time.Duration(st.Duration * float64(time.Second))
	evaluate(&st, s.objs)
	s.classifyGateway(&st, targets)
	st.rejected = classifyCauses(&st, s.objs)
	// The figures are evaluated: let the step's histogram go (the search
	// keeps its steps, the figures are in Latency).
	st.latencies = nil
	if s.opts.Timeline != nil {
		s.opts.Timeline.addStep(began, label, st)
	}
	s.progress.StepEnd(st)
	return st, nil
}

// evaluate sets Pass and Reason from the objectives. An aborted or
// interrupted step never passes.
func evaluate(st *Step, objs Objectives) {
	ok, why := objs.Evaluate(st)
	switch {
	case st.Aborted:
		st.Pass = false
		if why != "" {
			st.Reason += "; " + why
		}
	case st.Interrupted:
		st.Pass = false
		st.Reason = "interrupted"
	default:
		st.Pass = ok
		st.Reason = why
	}
}

// Run attacks targets at a fixed rate for d and evaluates the objectives.
// A cancelled ctx stops the attack; the Capacity then has Interrupted set
// and holds what was measured.
func Run(ctx context.Context, targets Targets, rate float64, d time.Duration, opts Options) (*Capacity, error) {
	if err := targets.Validate(); err != nil {
		return nil, err
	}
	if d <= 0 {
		return nil, fmt.Errorf("duration %s must be positive", d)
	}
	s := newSession(opts)
	s.budget = d
	c := newCapacity(targets, ModeFixed, s.objs)
	st, err := s.run(ctx, PhaseFixed, rate, d, targets, targets.Describe())
	if err != nil {
		return nil, err
	}
	c.Steps = []Step{st}
	c.AttackSeconds = round3(s.total.Seconds())
	c.Interrupted = st.Interrupted
	c.Pass = st.Pass
	c.Reason = st.Reason
	if st.rejected {
		c.RejectedAsInvalid, c.Reason = true, rejectedReason(st)
	}
	if st.Pass {
		c.SustainableRPS = st.Rate
	}
	c.addWarnings(opts.Attack)
	return c, s.close()
}

func newCapacity(targets Targets, mode Mode, objs Objectives) *Capacity {
	c := &Capacity{Target: targets.Describe(), Mode: mode, Objectives: objs.Strings()}
	if len(targets) > 1 {
		c.Targets = targets.Labels()
	}
	return c
}
