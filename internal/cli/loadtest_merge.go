package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/loadtest"
	"github.com/apictl/apictl/internal/report"
	"github.com/apictl/apictl/internal/s3results"
)

// LoadtestMergeOptions are the options of `apictl loadtest merge`.
type LoadtestMergeOptions struct {
	IO      *IOStreams
	AWS     func(ctx context.Context) (*awsapi.Clients, error)
	Render  func(v report.Documenter) error
	Verbose func() bool
	// Open reads a results file (tests replace it).
	Open func(name string) (io.ReadCloser, error)

	Sources []string
	SLOs    []string
}

// NewCmdLoadtestMerge is `apictl loadtest merge`.
func NewCmdLoadtestMerge(f *Factory, runF func(*LoadtestMergeOptions) error) *cobra.Command {
	opts := &LoadtestMergeOptions{
		IO: f.IO, AWS: f.AWS, Render: f.Render, Verbose: f.Verbose,
		Open: func(name string) (io.ReadCloser, error) { return os.Open(name) },
	}
	cmd := &cobra.Command{
		Use:   "merge FILE...|s3://bucket/prefix/ [--slo OBJECTIVE]...",
		Short: "Merge the --results of the shards of a distributed load test into one result",
		Long: `Read the --results of every shard of a 'loadtest --shard I/N' run (or of a
--ramp or --start-at run on one machine), files or S3 objects (every object
directly under s3://bucket/prefix/, or s3://bucket/key), one at a time,
streamed, and report the
whole run as one generator would have: each step's requests from every shard
together (grouped by the step their results are named after, that is by the
schedule, not by when they arrived), its latency percentiles computed from
every exact latency (they equal those of the concatenated results), its rate
and throughput the sum of the shards', and its verdict against the
objectives (--slo, defaults as for loadtest) by the same code as a run on
one machine. A step some shard did not send in full (it stopped after a
failing step, was aborted or interrupted) cannot pass.

A --ramp run gives the sustainable rate (the highest passing step below the
first failing one) with the knee, and the JSON (-o json) is the same as a
single-machine run's: 'apictl plan generate --loadtest merged.json' takes it.
A shard that started late (late_by_s) is warned about.

Every shard 0..N-1 must be there, all from one run (same ramp, step
duration, cool-down, start time and shard count); each shard once.
Exit code 3 when a fixed run's objectives are missed or no ramp step passed.`,
		Example: `  apictl loadtest merge shard0.bin shard1.bin shard2.bin
  apictl loadtest merge s3://lt-results/run-42/ -o json > lt.json
  apictl loadtest merge results/*.bin --slo 'p99<300ms' -o json > lt.json
  apictl plan generate --loadtest lt.json --api shop --stage prod > plan.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Sources = args
			if len(args) == 0 {
				return FlagErrorf("give the shards' results: FILE... or s3://bucket/prefix/")
			}
			if _, err := loadtest.ParseObjectives(opts.SLOs); err != nil {
				return &FlagError{Err: fmt.Errorf("--slo: %w", err)}
			}
			if runF != nil {
				return runF(opts)
			}
			return loadtestMergeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.SLOs, "slo", nil, "objective: 'p99<300ms', 'errors<1%', 'throughput>=99%' (repeatable; defaults as for loadtest)")
	return cmd
}

func loadtestMergeRun(ctx context.Context, opts *LoadtestMergeOptions) error {
	objs, err := loadtest.ParseObjectives(opts.SLOs)
	if err != nil {
		return &FlagError{Err: fmt.Errorf("--slo: %w", err)}
	}
	m := &loadtest.Merger{Objectives: objs.WithDefaults()}
	if ctx == nil {
		ctx = context.Background()
	}
	for _, src := range opts.Sources {
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		if s3results.IsURI(src) {
			err = opts.addS3(ctx, m, src)
		} else {
			err = opts.addFile(m, src)
		}
		if err != nil {
			return mergeError(err)
		}
	}
	c, err := m.Capacity()
	if err != nil {
		return mergeError(err)
	}
	var view report.Documenter = c
	if opts.Verbose != nil && opts.Verbose() {
		view = c.Wide()
	}
	if err := opts.Render(view); err != nil {
		return err
	}
	if !c.Pass {
		return &SilentError{Err: fmt.Errorf("%w: %s", ErrObjectivesNotMet, c.Reason)}
	}
	return nil
}

func (opts *LoadtestMergeOptions) addFile(m *loadtest.Merger, name string) error {
	f, err := opts.Open(name)
	if err != nil {
		return fmt.Errorf("read results: %w", err)
	}
	defer f.Close()
	return m.Add(name, f)
}

// addS3 reads the object s3://bucket/key, or every object directly under
// s3://bucket/prefix/ (a URI ending in "/"), one at a time, streamed.
func (opts *LoadtestMergeOptions) addS3(ctx context.Context, m *loadtest.Merger, uri string) error {
	clients, err := opts.AWS(ctx)
	if err != nil {
		return err
	}
	if !strings.HasSuffix(uri, "/") && strings.Contains(strings.TrimPrefix(uri, s3results.Scheme), "/") {
		// s3://bucket/run-1 is an object, or else a prefix.
		r, err := s3results.Open(ctx, clients.S3, uri)
		switch {
		case err == nil:
			defer r.Close()
			return m.Add(uri, r)
		case !errors.As(err, new(*s3results.NoSuchObjectError)):
			return err
		}
		uri += "/"
	}
	objects, err := s3results.List(ctx, clients.S3, uri)
	if err != nil {
		return err
	}
	if len(objects) == 0 {
		return fmt.Errorf("%w: no objects under %s", loadtest.ErrNoResults, uri)
	}
	for _, o := range objects {
		r, err := s3results.Open(ctx, clients.S3, o)
		if err != nil {
			return err
		}
		err = m.Add(o, r)
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// mergeError adds what to do to the Merger's errors.
func mergeError(err error) error {
	switch {
	case errors.Is(err, loadtest.ErrNotPlanResults):
		return WithHint(err, "merge reads the --results of 'loadtest --shard I/N' (or --ramp, --start-at) runs; an ordinary run's file is read by 'vegeta report FILE'")
	case errors.Is(err, loadtest.ErrMismatch):
		return WithHint(err, "merge the shards of one run: the same --ramp, --step-duration, --cool-down, --start-at and N in --shard I/N, each shard once")
	case errors.Is(err, loadtest.ErrMissingShard):
		return WithHint(err, "every shard 0..N-1 must have written its --results: look at the missing shard's log, then run the whole run again")
	case errors.Is(err, loadtest.ErrNoResults):
		return WithHint(err, "a shard that stopped before its first request writes no results: look at its log")
	case errors.As(err, new(*s3results.NoSuchBucketError)), errors.As(err, new(*s3results.NoSuchObjectError)), errors.As(err, new(*s3results.URIError)):
		return WithHint(err, "give the s3://bucket/prefix/ the shards wrote with --results (aws s3 ls s3://bucket/prefix/ lists it), with --endpoint-url for the sandbox")
	case errors.Is(err, os.ErrNotExist):
		return WithHint(err, "give the files the shards wrote with --results")
	}
	return WithHint(err, "give the files the shards wrote with --results (vegeta gob)")
}
