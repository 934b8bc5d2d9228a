package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/measure"
	"github.com/apictl/apictl/internal/report"
)

// MeasureOptions are the options of `apictl measure`.
type MeasureOptions struct {
	IO     *IOStreams
	AWS    func(ctx context.Context) (*awsapi.Clients, error)
	Render func(v report.Documenter) error
	Now    func() time.Time
	// Verbose and Quiet decide the progress line on stderr (shown on a
	// terminal or with -v, never with -q).
	Verbose func() bool
	Quiet   func() bool

	API    string
	Stage  string
	Since  string
	Start  string
	End    string
	By     string
	Period string
}

// NewCmdMeasure reads what an API serves from CloudWatch.
func NewCmdMeasure(f *Factory, runF func(*MeasureOptions) error) *cobra.Command {
	opts := &MeasureOptions{IO: f.IO, AWS: f.AWS, Render: f.Render, Now: f.Now, Verbose: f.Verbose, Quiet: f.Quiet}
	cmd := &cobra.Command{
		Use:   "measure --api NAME|ID [--stage S] [--since 24h | --start T [--end T]] [--by method] [--period auto]",
		Short: "Show what an API serves, from CloudWatch, next to its throttles",
		Long: `Read the AWS/ApiGateway CloudWatch metrics of a REST or HTTP API and show what
it serves: requests, average and peak RPS (and when), an estimated per-second
burst, 4xx/5xx rates, latency p50/p99, integration latency and daily totals,
next to the stage and method throttles and the usage plans attached to it.
Headroom is throttle rate / peak RPS; below 1.2, or without any throttle, it
is flagged.

The period is the finest CloudWatch still keeps for the age of the window
start (60s up to 15 days, 300s up to 63 days, 3600s up to 455 days), made
coarser until the window holds at most 1440 periods; --period overrides it.
The window is cut to whole periods, leaving out the one still filling.

--by method breaks the figures down per method (REST: Method+Resource; HTTP:
Route). It needs detailed metrics on the stage; when they are off, measure
says so and how to turn them on.

All CloudWatch queries go into as few GetMetricData calls as possible (500
queries per call). The JSON output (-o json) is an input of 'apictl plan
generate': one object per stage, an array of them when several stages were
measured.`,
		Example: `  apictl measure --api cart-api --stage prod
  apictl measure --api cart-api --stage prod --since 7d --by method
  apictl measure --api a1b2c3d4e5 --start 2026-11-01 --end 2026-11-08 --period 1h
  apictl measure --api cart-api --stage prod -o json > m.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.API == "" {
				return FlagErrorf("--api is required")
			}
			if opts.Since != "" && opts.Start != "" {
				return FlagErrorf("--since and --start cannot be used together")
			}
			if opts.End != "" && opts.Start == "" && opts.Since == "" {
				return FlagErrorf("--end needs --start or --since")
			}
			if opts.By != "" && opts.By != "method" {
				return FlagErrorf("invalid --by %q: only \"method\" is supported", opts.By)
			}
			if runF != nil {
				return runF(opts)
			}
			return measureRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.API, "api", "", "REST or HTTP API name or id (required)")
	fl.StringVar(&opts.Stage, "stage", "", "stage to measure (default: all stages)")
	fl.StringVar(&opts.Since, "since", "", "window ending now: 1h, 24h, 7d, … (default 24h)")
	fl.StringVar(&opts.Start, "start", "", "window start, RFC 3339 or YYYY-MM-DD (UTC)")
	fl.StringVar(&opts.End, "end", "", "window end, RFC 3339 or YYYY-MM-DD (default: now)")
	fl.StringVar(&opts.By, "by", "", "break down by: method")
	fl.StringVar(&opts.Period, "period", "auto", "CloudWatch period: auto or a multiple of 60s (60s, 5m, 1h)")
	return cmd
}

// measureOptions turns the flags into measure.Options.
func (opts *MeasureOptions) measureOptions() (measure.Options, error) {
	mo := measure.Options{API: opts.API, Stage: opts.Stage, ByMethod: opts.By == "method", Now: opts.Now}
	var err error
	if opts.Since != "" {
		if mo.Since, err = measure.ParseSince(opts.Since); err != nil {
			var d *measure.DurationError
			if errors.As(err, &d) {
				err = fmt.Errorf("invalid --since %q: %s", d.Value, d.Why)
			}
			return mo, &FlagError{Err: err}
		}
	}
	if opts.Start != "" {
		if mo.Start, err = measure.ParseTime(opts.Start); err != nil {
			return mo, &FlagError{Err: fmt.Errorf("--start: %w", err)}
		}
	}
	if opts.End != "" {
		if mo.End, err = measure.ParseTime(opts.End); err != nil {
			return mo, &FlagError{Err: fmt.Errorf("--end: %w", err)}
		}
		if opts.Since != "" {
			mo.Start = mo.End.Add(-mo.Since)
		}
	}
	if mo.PeriodSeconds, err = measure.ParsePeriod(opts.Period); err != nil {
		return mo, &FlagError{Err: err}
	}
	return mo, nil
}

func measureRun(ctx context.Context, opts *MeasureOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	mo, err := opts.measureOptions()
	if err != nil {
		return err
	}
	clients, err := opts.AWS(ctx)
	if err != nil {
		return err
	}
	quiet := opts.Quiet != nil && opts.Quiet()
	verbose := opts.Verbose != nil && opts.Verbose()
	if !quiet && (opts.IO.ErrTTY || verbose) {
		fmt.Fprintf(opts.IO.ErrOut, "measuring %s from CloudWatch…\n", opts.API)
	}
	us, err := measure.Measure(ctx, measure.FromAWS(clients), mo)
	if errors.Is(err, measure.ErrNoAPI) {
		return WithHint(err, "pass --api NAME or ID")
	}
	if err != nil {
		return err
	}
	for _, u := range us {
		// The library says the period was set; here it was with --period.
		u.PeriodRule = strings.Replace(u.PeriodRule, measure.PeriodSetRule, "set with --period", 1)
	}
	return opts.Render(us)
}
