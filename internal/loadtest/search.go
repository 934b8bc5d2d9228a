package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// DefaultCoolDown is the pause between steps when SearchConfig.CoolDown is 0.
const DefaultCoolDown = time.Second

// NoCoolDown in SearchConfig.CoolDown makes steps follow each other at once.
const NoCoolDown time.Duration = -1

// SearchConfig tunes the sustainable-rate search (--find-max).
type SearchConfig struct {
	// StartRate is the first step's rate (default 10 rps).
	StartRate float64
	// MaxRate is never exceeded (default 5000 rps).
	MaxRate float64
	// Growth multiplies the rate after each passing step of the growth phase (default 2).
	Growth float64
	// Precision ends the bisection once (fail-pass)/pass ≤ Precision (default 0.05).
	Precision float64
	// StepDuration is the length of bisection steps (default 10s).
	StepDuration time.Duration
	// GrowDuration is the length of growth steps (default StepDuration/2):
	// far below capacity a shorter step says enough, and it keeps the
	// default search inside Budget.
	GrowDuration time.Duration
	// CoolDown is the pause between steps so queues drain (0:
	// DefaultCoolDown; NoCoolDown: none).
	CoolDown time.Duration
	// Budget caps the total attack time (cool-downs excluded; default 90s).
	// When it runs out the search stops with the bracket reached so far.
	Budget time.Duration
	// Confirm, when positive, runs a final step of this length at the found rate.
	Confirm time.Duration
	// MinRate is the lowest rate tried when even StartRate fails (default 1 rps).
	MinRate float64
	// HoldBudget caps the attack time of the confirm holds, on top of
	// Budget (default 3×Confirm): a failed hold steps down and holds again
	// until one passes or this runs out.
	HoldBudget time.Duration
	// Gateway are the live API Gateway throttles in front of the targets:
	// a step whose failures are the gateway's own 429s at a rate above one
	// of them is not a backend failure.
	Gateway GatewayLimits
	// MixSource names where the targets' weights came from ("measure:m.json",
	// "weights"); empty: "weights" when the weights differ.
	MixSource string
}

// DefaultSearchConfig returns the defaults documented on SearchConfig.
func DefaultSearchConfig() SearchConfig { return SearchConfig{}.withDefaults() }

func (c SearchConfig) withDefaults() SearchConfig {
	if c.StartRate <= 0 {
		c.StartRate = 10
	}
	if c.MaxRate <= 0 {
		c.MaxRate = 5000
	}
	if c.Growth <= 1 {
		c.Growth = 2
	}
	if c.Precision <= 0 {
		c.Precision = 0.05
	}
	if c.StepDuration <= 0 {
		c.StepDuration = 10 * time.Second
	}
	if c.GrowDuration <= 0 {
		c.GrowDuration = max(c.StepDuration/2, min(time.Second, c.StepDuration))
	}
	if c.CoolDown == 0 {
		c.CoolDown = DefaultCoolDown
	}
	if c.Budget <= 0 {
		c.Budget = 90 * time.Second
	}
	if c.MinRate <= 0 {
		c.MinRate = 1
	}
	if c.HoldBudget <= 0 {
		c.HoldBudget = 3 * c.Confirm
	}
	c.StartRate = min(c.StartRate, c.MaxRate)
	return c
}

// Validate reports settings that cannot work.
func (c SearchConfig) Validate() error {
	switch {
	case c.StartRate < 0 || c.MaxRate < 0:
		return errors.New("rates must be positive")
	case c.StartRate > 0 && c.MaxRate > 0 && c.StartRate > c.MaxRate:
		return fmt.Errorf("start rate %s is above max rate %s", fmtRate(c.StartRate), fmtRate(c.MaxRate))
	case c.Precision < 0 || c.Precision >= 1:
		return fmt.Errorf("precision %g outside (0,1): use e.g. 0.05 for 5%%", c.Precision)
	case c.Growth != 0 && c.Growth <= 1:
		return fmt.Errorf("growth %g must be above 1", c.Growth)
	}
	return nil
}

// Search looks for the highest rate at which targets meet the objectives:
// steady steps growing geometrically from StartRate while they pass, then a
// bisection between the last passing and the first failing rate until the
// bracket is within Precision; never above MaxRate, inside Budget, with a
// cool-down between steps. With perMethod each target is searched alone as
// well (after the mix). A cancelled ctx stops the search; the Capacity then
// has Interrupted set and holds what was measured.
func Search(ctx context.Context, targets Targets, cfg SearchConfig, opts Options) (*Capacity, error) {
	return search(ctx, targets, cfg, opts, false)
}

// SearchPerMethod searches each target alone (and not the mix); the
// Capacity's Methods hold the results and SustainableRPS is their minimum.
func SearchPerMethod(ctx context.Context, targets Targets, cfg SearchConfig, opts Options) (*Capacity, error) {
	return search(ctx, targets, cfg, opts, true)
}

func search(ctx context.Context, targets Targets, cfg SearchConfig, opts Options, perMethod bool) (*Capacity, error) {
	if err := targets.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := newSession(opts)
	s.gateway = cfg.Gateway
	if perMethod && s.progress != nil {
		s.progress.NameTarget = true
	}
	c := newCapacity(targets, ModeSearch, s.objs)
	c.ConfirmRequestedS = cfg.Confirm.Seconds()
	if !perMethod {
		r, err := s.searchOne(ctx, targets, targets.Describe(), cfg)
		if err != nil {
			return nil, err
		}
		c.apply(r)
		if len(targets) > 1 {
			c.Mix = mixOf(targets, cfg.MixSource)
			c.Methods = allocate(targets, r)
		}
		markGateway(c, targets, cfg.Gateway)
	} else {
		if err := s.searchPerMethod(ctx, c, targets, cfg); err != nil {
			return nil, err
		}
		if len(targets) > 1 {
			markGateway(c, targets, cfg.Gateway)
		}
	}
	if c.LimitedBy == "gateway-throttle" && c.GatewayThrottle != nil {
		c.warn(Warning{Kind: WarnGatewayLimited, Throttle: c.GatewayThrottle, Rate: c.SustainableRPS})
	}
	c.AttackSeconds = round3(s.total.Seconds())
	c.addWarnings(opts.Attack)
	return c, s.close()
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// searchResult is the outcome of one search (the mix, or one method).
type searchResult struct {
	sustainable float64
	knee        float64
	pass        bool
	reason      string
	bracket     *Bracket
	steps       []Step
	confirm     *Step
	holds       []Step
	confirmed   bool
	interrupted bool
	warnings    []Warning
	limitedBy   string
	throttle    *Throttle
	maxInFlight int
	// gwCeiling is the aggregate rate at which a live throttle limits (0: none seen).
	gwCeiling float64
	stateful  bool
	// rejected: the search stopped on requests rejected as invalid.
	rejected bool
}

func (c *Capacity) apply(r searchResult) {
	c.SustainableRPS = r.sustainable
	c.KneeRPS = r.knee
	c.Pass = r.pass
	c.Reason = r.reason
	c.Bracket = r.bracket
	c.Steps = r.steps
	c.Confirm = r.confirm
	c.Holds = r.holds
	c.Confirmed = r.confirmed
	c.Interrupted = r.interrupted
	c.LimitedBy = r.limitedBy
	c.GatewayThrottle = r.throttle
	c.MaxInFlight = r.maxInFlight
	c.warn(r.warnings...)
	c.RejectedAsInvalid = r.rejected
}

func (s *session) coolDown(ctx context.Context, cfg SearchConfig) error {
	return s.coolDownAfter(ctx, cfg, nil)
}

// maxDrainWait bounds the longer cool-down after a failing step.
const maxDrainWait = 15 * time.Second

// coolDownAfter pauses between steps; after a failing step whose requests
// queued (its slowest answer took longer than the cool-down) it waits
// about that long, so the next step does not start behind the backlog the
// failing one left in a deep queue.
func (s *session) coolDownAfter(ctx context.Context, cfg SearchConfig, prev *Step) error {
	d := cfg.CoolDown
	if prev != nil && !prev.Pass && cfg.CoolDown > 0 {
		d = max(d, min(time.Duration(prev.Latency.Max*float64(time.Millisecond)), maxDrainWait))
	}
	if d <= 0 {
		return ctx.Err()
	}
	s.progress.CoolDown(d)
	return s.opts.Sleep(ctx, d)
}

// roundRate rounds a rate to a whole number of requests per second (to a
// tenth below 10 rps).
func roundRate(r float64) float64 {
	if r < 10 {
		return math.Round(r*10) / 10
	}
	return math.Round(r)
}

// errBudget stops a search whose attack-time budget ran out.
var errBudget = errors.New("attack-time budget exhausted")

// searchOne runs one search over targets.
func (s *session) searchOne(ctx context.Context, targets Targets, label string, cfg SearchConfig) (searchResult, error) {
	var (
		res       searchResult
		lastPass  float64 // highest passing rate
		firstFail float64 // lowest failing rate (0: none yet)
		// failThroughput is the successful throughput of the step at
		// firstFail; when a backend saturates, it estimates its capacity.
		failThroughput float64
		hintUsed       bool
		// probesAbove counts the steps still to run just above the last
		// pass after a throughput-guided pass (the estimate tends to be a
		// little low: the failing step's throughput includes its own ramp).
		probesAbove int
		stepsRun    int
	)
	s.used, s.budget = 0, cfg.Budget
	minStep := min(time.Second, cfg.GrowDuration)

	retried := map[float64]bool{}
	passed := map[float64]bool{}    // rates whose latest step passed
	rechecked := map[float64]bool{} // passes re-checked after a stateful sign
	var prev *Step
	var step func(phase Phase, rate float64, d time.Duration) (Step, error)
	step = func(phase Phase, rate float64, d time.Duration) (Step, error) {
		remaining := cfg.Budget - s.used
		if remaining < minStep {
			return Step{}, errBudget
		}
		if stepsRun > 0 {
			if err := s.coolDownAfter(ctx, cfg, prev); err != nil {
				return Step{}, err
			}
		}
		stepsRun++
		st, err := s.run(ctx, phase, rate, min(d, remaining), targets, label)
		if err != nil {
			return st, err
		}
		res.steps = append(res.steps, st)
		prev = &res.steps[len(res.steps)-1]
		if st.Interrupted {
			return st, context.Canceled
		}
		if st.rejected {
			return st, &RejectedError{Reason: rejectedReason(st)}
		}
		if !st.Pass && !st.GatewayLimited && !retried[rate] {
			switch {
			case st.GeneratorBehind:
				// The generator, not the server, fell behind (a stalled
				// machine): the step says nothing about the server. Run it
				// once more before counting it as a failure.
				retried[rate] = true
				res.warnings = append(res.warnings, note("%s: step at %s rps re-run: the generator sent only %s rps", label, fmtRate(rate), fmtRate(st.AchievedRate)))
				return step(phase, rate, d)
			case phase == PhaseGrow && !st.Aborted && !s.opts.NoAbort:
				// The first failure sets the top of the bracket: when it
				// was marginal (not clearly past the objectives, so not
				// aborted) confirm it, so that a passing blip on the
				// backend or the machine does not cut the search short.
				retried[rate] = true
				return step(phase, rate, d)
			}
		}
		switch {
		case st.Pass:
			passed[rate] = true
			lastPass = max(lastPass, rate)
		case st.GatewayLimited:
			if c := gatewayCeiling(targets, s.gateway); c > 0 && (res.gwCeiling == 0 || c < res.gwCeiling) {
				res.gwCeiling = c
			}
			if firstFail == 0 || rate < firstFail {
				firstFail, failThroughput, hintUsed = rate, st.Throughput, true
			}
		case !st.GeneratorBehind && lastPass > 0 && lastPass < rate && !rechecked[lastPass] &&
			st.Throughput < lastPass*(1-2*cfg.Precision):
			// A saturated backend serves about its capacity; this one
			// served clearly less than a lower rate that passed earlier:
			// its capacity dropped (a burst allowance ran out). Re-check
			// that pass before building on it.
			passed[rate] = false
			if firstFail == 0 || rate < firstFail {
				firstFail, failThroughput, hintUsed = rate, st.Throughput, false
			}
			rechecked[lastPass] = true
			if !res.stateful {
				res.warnings = append(res.warnings, note("%s: %s rps served only %s rps, less than the %s rps that passed before: the backend is stateful (a burst allowance or a filling queue); earlier passes were re-checked", label, fmtRate(rate), fmtRate(st.Throughput), fmtRate(lastPass)))
			}
			res.stateful = true
			return step(PhaseRecheck, lastPass, d)
		default:
			passed[rate] = false
			if lastPass >= rate {
				// A rate failed below one that passed: the backend is
				// stateful (a burst allowance ran out, a queue filled up).
				// Trust no pass at or above it; re-check the highest
				// pass below it before building on it.
				if !res.stateful {
					res.warnings = append(res.warnings, note("%s: %s rps failed after %s rps had passed: the backend is stateful (a burst allowance or a filling queue); earlier passes were re-checked", label, fmtRate(rate), fmtRate(lastPass)))
				}
				res.stateful = true
				lastPass = 0
				for r := range passed {
					if r >= rate {
						passed[r] = false
					}
				}
				for r, ok := range passed {
					if ok && r < rate {
						lastPass = max(lastPass, r)
					}
				}
				firstFail, failThroughput, hintUsed = rate, st.Throughput, st.GeneratorBehind
				if lastPass > 0 && !rechecked[lastPass] {
					rechecked[lastPass] = true
					return step(PhaseRecheck, lastPass, d)
				}
				return st, nil
			}
			if firstFail == 0 || rate < firstFail {
				firstFail = rate
				failThroughput = st.Throughput
				// A generator that fell behind says nothing of the server's throughput.
				hintUsed = st.GeneratorBehind
			}
		}
		return st, nil
	}

	stop := func(err error) (searchResult, error) {
		var rejected *RejectedError
		switch {
		case errors.As(err, &rejected):
			// Lower rates would be rejected alike: stop here.
			r, err := s.finishSearch(ctx, res, lastPass, firstFail, targets, label, cfg, false)
			r.pass, r.reason, r.rejected = false, rejected.Reason, true
			return r, err
		case errors.Is(err, errBudget):
			res.warnings = append(res.warnings, Warning{Kind: WarnBudgetSpent, Label: label, Budget: cfg.Budget})
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
			res.interrupted = true
		default:
			return res, err
		}
		return s.finishSearch(ctx, res, lastPass, firstFail, targets, label, cfg, false)
	}

	// Growth phase.
	rate := roundRate(cfg.StartRate)
	for {
		st, err := step(PhaseGrow, rate, cfg.GrowDuration)
		if err != nil {
			return stop(err)
		}
		if !st.Pass || firstFail > 0 || rate >= cfg.MaxRate {
			break
		}
		rate = min(roundRate(rate*cfg.Growth), cfg.MaxRate)
	}

	// A stateful backend can take back every pass (lastPass 0 again):
	// then descend and bisect once more.
	for round := 0; round < 3; round++ {
		// Descend when even the start rate failed.
		if lastPass == 0 {
			for rate = roundRate(firstFail / cfg.Growth); rate >= cfg.MinRate; rate = roundRate(rate / cfg.Growth) {
				st, err := step(PhaseDescend, rate, cfg.StepDuration)
				if err != nil {
					return stop(err)
				}
				if st.Pass {
					break
				}
			}
			if lastPass == 0 {
				return s.finishSearch(ctx, res, 0, firstFail, targets, label, cfg, true)
			}
		}

		// Bisection.
		for firstFail > 0 && lastPass > 0 && (firstFail-lastPass)/lastPass > cfg.Precision {
			next := roundRate((lastPass + firstFail) / 2)
			hinted, above := false, false
			switch {
			case res.gwCeiling > 0 && lastPass >= math.Floor(res.gwCeiling):
				// The gateway's throttle, not the backend, is the limit:
				// rates above it say nothing more about the backend.
				next = 0
			case res.gwCeiling > 0 && math.Floor(res.gwCeiling) > lastPass && math.Floor(res.gwCeiling) < firstFail:
				next = math.Floor(res.gwCeiling)
			case probesAbove > 0:
				probesAbove--
				if p := roundRate(lastPass * (1 + 0.9*cfg.Precision)); p > lastPass && p < next {
					next, above = p, true
				}
			case !hintUsed && failThroughput < firstFail*(1-cfg.Precision):
				hintUsed = true
				if h := roundRate(failThroughput * (1 - cfg.Precision/2)); h > lastPass*(1+cfg.Precision/2) && h < firstFail {
					next, hinted = h, true
				}
			}
			if next <= lastPass || next >= firstFail {
				break // integer rates cannot split the bracket further (or the gateway limits)
			}
			st, err := step(PhaseBisect, next, cfg.StepDuration)
			if err != nil {
				return stop(err)
			}
			switch {
			case st.Pass && hinted:
				probesAbove = 3
			case !st.Pass || !above:
				probesAbove = 0
			}
		}
		if lastPass > 0 {
			break
		}
	}
	return s.finishSearch(ctx, res, lastPass, firstFail, targets, label, cfg, true)
}

// finishSearch sets the verdict, the knee and runs the confirm step.
func (s *session) finishSearch(ctx context.Context, res searchResult, lastPass, firstFail float64, targets Targets, label string, cfg SearchConfig, complete bool) (searchResult, error) {
	if c := math.Floor(res.gwCeiling); c > 0 && lastPass > c {
		// Above the gateway's throttle a step passes only on its burst
		// allowance: the throttle's rate is the answer (the backend takes
		// at least that), the same on every run.
		lastPass = c
	}
	res.sustainable = lastPass
	res.bracket = &Bracket{Pass: lastPass, Fail: firstFail}
	res.knee = Knee(res.steps)
	switch {
	case lastPass == 0 && res.interrupted:
		res.reason = "interrupted before a passing rate was found"
	case lastPass == 0:
		res.reason = fmt.Sprintf("no passing rate: even %s rps missed the objectives", fmtRate(firstFail))
		if st := lowestFailing(res.steps); st != nil && st.Reason != "" {
			res.reason += " (" + st.Reason + ")"
		}
	default:
		res.pass = true
	}
	if lastPass > 0 && firstFail == 0 && complete {
		res.warnings = append(res.warnings, Warning{Kind: WarnMaxRateReached, Label: label, Rate: cfg.MaxRate})
	}
	if res.pass && cfg.Confirm > 0 && !res.interrupted {
		if err := s.hold(ctx, &res, targets, label, cfg); err != nil {
			return res, err
		}
	}
	res.limitedBy, res.throttle = limitedBy(res, targets, s.gateway)
	res.maxInFlight = maxInFlightUpTo(res.steps, res.sustainable)
	return res, nil
}

// hold runs the confirm holds: the found rate for cfg.Confirm; when a
// hold fails, a lower rate (the failing hold's tail throughput, a little
// under it, and at least Precision below the failed rate) until one holds
// or HoldBudget runs out. The sustainable rate becomes the held rate; no
// hold passing leaves the result failed.
func (s *session) hold(ctx context.Context, res *searchResult, targets Targets, label string, cfg SearchConfig) error {
	rate := res.sustainable
	var used time.Duration
	var prev *Step
	if n := len(res.steps); n > 0 {
		prev = &res.steps[n-1]
	}
	for {
		if err := s.coolDownAfter(ctx, cfg, prev); err != nil {
			res.interrupted = true
			return nil
		}
		d := min(cfg.Confirm, cfg.HoldBudget-used)
		s.budget = s.used + d
		st, err := s.run(ctx, PhaseConfirm, rate, d, targets, label)
		if err != nil {
			return err
		}
		used += time.Duration(st.Duration * float64(time.Second))
		res.holds = append(res.holds, st)
		res.steps = append(res.steps, st)
		res.confirm = &res.holds[len(res.holds)-1]
		prev = &res.steps[len(res.steps)-1]
		switch {
		case st.Interrupted:
			res.interrupted = true
			res.pass, res.sustainable = false, 0
			res.reason = "interrupted during the confirm hold"
			return nil
		case st.Pass && d >= cfg.Confirm:
			res.sustainable, res.confirmed = rate, true
			if len(res.holds) > 1 {
				res.warnings = append(res.warnings, note("%s: the search's %s rps did not hold for %s; %s rps did (a burst allowance or a filling queue: short steps overstate it)",
					label, fmtRate(res.holds[0].Rate), cfg.Confirm, fmtRate(rate)))
			}
			return nil
		case st.Pass:
			res.pass, res.sustainable = false, 0
			res.reason = fmt.Sprintf("confirm: %s rps held only %s of the %s asked before the hold budget ran out", fmtRate(rate), fmtDur(time.Duration(st.Duration*float64(time.Second))), cfg.Confirm)
			return nil
		}
		if st.GatewayLimited {
			res.pass, res.sustainable = false, 0
			res.reason = fmt.Sprintf("confirm run at %s rps failed on the gateway's own throttle: %s", fmtRate(rate), st.Reason)
			return nil
		}
		next := rate * (1 - cfg.Precision)
		if st.TailThroughput > 0 {
			next = min(next, st.TailThroughput*(1-cfg.Precision/2))
		}
		next = roundRate(next)
		if cfg.HoldBudget-used < min(time.Second, cfg.Confirm) || next < cfg.MinRate || next >= rate {
			res.pass, res.sustainable = false, 0
			res.reason = fmt.Sprintf("confirm run at %s rps for %s failed (%s) and the hold budget of %s ran out before a lower rate held", fmtRate(rate), cfg.Confirm, st.Reason, cfg.HoldBudget)
			return nil
		}
		rate = next
	}
}

// limitedBy says what limited a search: the backend (its lowest failing
// step failed on its own), the gateway's throttle (that step failed on
// the gateway's 429s above a live throttle) or nothing.
func limitedBy(res searchResult, targets Targets, limits GatewayLimits) (string, *Throttle) {
	// The lowest failure above the answer: failures at or below it were
	// re-run and passed (a blip), or were the gateway's throttle capped.
	var lf *Step
	for i, st := range res.steps {
		if !st.Pass && !st.Interrupted && st.Rate > res.sustainable && (lf == nil || st.Rate < lf.Rate) {
			lf = &res.steps[i]
		}
	}
	if lf == nil && !res.pass {
		lf = lowestFailing(res.steps)
	}
	switch {
	case lf == nil:
		return "", nil
	case lf.GatewayLimited:
		_, th := tightestThrottle(targets, limits)
		return "gateway-throttle", th
	}
	return "backend", nil
}

// addWarnings flags coordinated omission (once, with the worst step).
func (c *Capacity) addWarnings(opts AttackOptions) {
	var behind []Step
	for _, st := range c.Steps {
		if st.GeneratorBehind {
			behind = append(behind, st)
		}
	}
	if len(behind) == 0 {
		return
	}
	c.CoordinatedOmission = true
	worst := behind[0]
	for _, st := range behind {
		if st.AchievedRate/st.Rate < worst.AchievedRate/worst.Rate {
			worst = st
		}
	}
	c.warn(Warning{Kind: WarnGeneratorBehind, Steps: len(behind), Rate: worst.Rate, Achieved: worst.AchievedRate, MaxWorkers: opts.MaxWorkers})
}
