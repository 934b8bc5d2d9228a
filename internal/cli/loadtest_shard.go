package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/apictl/apictl/internal/loadtest"
)

// planFlags are the flags of a distributed or scheduled run: --shard,
// --start-at and --ramp (see loadtest.Plan).
type planFlags struct {
	ShardText   string
	StartAtText string
	RampText    string

	shard   loadtest.Shard
	startAt time.Time
	ramp    loadtest.RampSpec
}

const planHelp = `Distributed and scheduled runs: --shard I/N makes this generator send 1/N
of the load (of a fixed --rate run, or of every --ramp step): shard I counts
from 0 to N-1, like Kubernetes' JOB_COMPLETION_INDEX (a GitHub Actions
matrix lists whatever values you give it: give 0..N-1). --max-workers,
--workers and --max-connections are the whole run's, each shard taking 1/N
(rounded up); every shard sends the same target mix and its own --data feed.
--start-at 2026-12-02T15:04:05Z (RFC 3339) makes the shards start together:
each waits, saying so on stderr (Ctrl-C during the wait exits 130, nothing
sent); a shard that gets there late starts at once, says by how much and
records late_by_s, and its steps stay due on the schedule.
--ramp START:STOP:STEPS runs a staircase fixed in advance: STEPS rates from
START to STOP, evenly spaced (linear), each for --step-duration, step k due
at the start + k×(--step-duration + --cool-down), so N shards run the same
steps in lockstep with no coordinator. A ramp stops after its first failing
step; its sustainable rate is the highest passing step below the first
failing one, with the knee, as the search reports them. Each step's results
are named after it (vegeta's attack name: step, total rate, shard, ramp and
start time), so 'apictl loadtest merge' groups every shard's --results by
step and computes each step's verdict, the sustainable rate and the JSON
'apictl plan generate' reads.`

func (p *planFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&p.ShardText, "shard", "", "send shard I of N of the load: I/N with I from 0 to N-1 (e.g. $JOB_COMPLETION_INDEX/3); merge the shards' --results with 'loadtest merge'")
	fl.StringVar(&p.StartAtText, "start-at", "", "wait until this RFC 3339 time (e.g. 2026-12-02T15:04:05Z) before the first step, so shards start together")
	fl.StringVar(&p.RampText, "ramp", "", "staircase fixed in advance: START:STOP:STEPS rates (linear), each --step-duration, --cool-down apart")
}

// planned is true for a run through loadtest.RunPlan.
func (p *planFlags) planned() bool {
	return p.ShardText != "" || p.StartAtText != "" || p.RampText != ""
}

// validate parses the flags and checks them against the others.
func (opts *LoadtestOptions) validatePlan(cmd *cobra.Command) error {
	p := &opts.plan
	var err error
	if p.ShardText != "" {
		if p.shard, err = loadtest.ParseShard(p.ShardText); err != nil {
			return WithHint(fmt.Errorf("--shard: %w", err), "give --shard I/N with I from 0 to N-1, e.g. --shard 0/3 … --shard 2/3 (in a Kubernetes Indexed Job: --shard $JOB_COMPLETION_INDEX/N)")
		}
	}
	if p.StartAtText != "" {
		if p.startAt, err = loadtest.ParseStartAt(p.StartAtText); err != nil {
			return WithHint(fmt.Errorf("--start-at: %w", err), "give a time in RFC 3339 with its zone, e.g. --start-at $(date -u -d '+2 min' +%Y-%m-%dT%H:%M:%SZ)")
		}
	}
	if p.RampText != "" {
		if p.ramp, err = loadtest.ParseRamp(p.RampText); err != nil {
			return WithHint(fmt.Errorf("--ramp: %w", err), "e.g. --ramp 100:1000:10 runs 100, 200, … 1000 rps, each for --step-duration")
		}
	}
	changed := cmd.Flags().Changed
	switch {
	case !p.planned():
		return nil
	case opts.FindMax:
		return WithHint(errors.New("--find-max adapts each step to what it measured, so shards would drift apart: it does not go with --shard, --start-at or --ramp"),
			"for a search over several generators use --ramp START:STOP:STEPS, and 'apictl loadtest merge' for the verdict")
	case p.RampText != "" && (changed("rate") || changed("duration")):
		return FlagErrorf("--ramp sets the rates: drop --rate and --duration (each step lasts --step-duration)")
	case p.RampText == "" && opts.Rate == 0:
		return FlagErrorf("--rate 0 (as fast as possible) cannot be scheduled or split over shards: give a rate")
	case p.RampText == "" && (changed("step-duration") || changed("cool-down")):
		return FlagErrorf("--step-duration and --cool-down go with --ramp (a fixed run lasts --duration)")
	}
	return nil
}

// runPlan runs a --shard, --start-at or --ramp load test.
func (opts *LoadtestOptions) runPlan(ctx context.Context, targets loadtest.Targets, lo loadtest.Options) (*loadtest.Capacity, error) {
	p := opts.plan
	plan := loadtest.Plan{Ramp: p.ramp, Rate: opts.Rate, StepDuration: opts.Duration, StartAt: p.startAt, Shard: p.shard}
	if p.RampText != "" {
		plan.StepDuration, plan.CoolDown = opts.StepDuration, opts.CoolDown
	}
	if p.shard.Count > 1 && opts.ResultsFile == "" {
		fmt.Fprintf(opts.IO.ErrOut, "warning: --shard %s without --results: this shard's results cannot be merged with the others'\n", p.shard)
	}
	return loadtest.RunPlan(ctx, targets, plan, lo)
}

// waitForStart waits for --start-at before any output file is created,
// so that Ctrl-C during the wait leaves nothing behind (exit 130).
func (opts *LoadtestOptions) waitForStart(ctx context.Context) error {
	if opts.plan.startAt.IsZero() {
		return nil
	}
	var w = opts.IO.ErrOut
	if opts.Quiet != nil && opts.Quiet() {
		w = nil
	}
	if err := loadtest.WaitUntil(ctx, w, opts.IO.ErrTTY, opts.plan.startAt); err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(opts.IO.ErrOut, "apictl: interrupted while waiting for --start-at: nothing was sent")
			return &SilentError{Err: ErrInterrupted}
		}
		return err
	}
	return nil
}
