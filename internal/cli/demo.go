package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/demo"
	"github.com/apictl/apictl/internal/report"
)

// DemoOptions are the options of `apictl demo`.
type DemoOptions struct {
	IO       *IOStreams
	Output   func() report.Options
	Getenv   func(string) string
	Verbose  func() bool
	Build    BuildInfo
	Quick    bool
	Keep     bool
	Addr     string
	Dir      string
	Headroom float64
}

// NewCmdDemo runs the whole loop against the built-in emulator.
func NewCmdDemo(f *Factory, build BuildInfo, runF func(*DemoOptions) error) *cobra.Command {
	opts := &DemoOptions{IO: f.IO, Output: f.Output, Getenv: f.Getenv, Verbose: f.Verbose, Build: build}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run measure → loadtest → plan → apply-plan → verify on a built-in emulator",
		Long: `Run apictl's whole loop with no AWS account.

The demo starts the built-in API Gateway + CloudWatch emulator in process
with a REST API, cart-api (stage prod), whose two methods share ONE database
connection pool of known capacity, each at its own cost: a read
(GET /cart/profile/{userId}) holds a connection 20 ms, a write (POST /orders)
40 ms, 70% reads. Searched alone, each would find the whole pool. It sends
baseline traffic so CloudWatch has data, then runs the real commands and
shows their output:

  1. measure        what the API serves now, per method: the traffic mix
  2. loadtest       --find-max --mix: the aggregate the pool sustains at that
                    mix, and each method's allocation of it
  3. plan generate  per-method throttles at --headroom × each allocation (so
                    together they stay within headroom × the aggregate), a
                    partner usage plan and key
  4. apply-plan     the diff, then applied
  5. verify         a flood of every method at 2× its planned stage throttle
                    at once, through the gateway with the load tester's key
                    (its usage plan has no limits, so the stage's per-method
                    throttles are what is tested, not the partner plan's
                    per-key ones): the gateway answers 429 above the planned
                    rates, and the shared pool's own served/refused counts
                    and p99 say whether it held

Each step shows its command and the figures the next step uses; -v shows
every command's whole output (the measure tables, the load test's steps and
chart, the plan file, what apply-plan did). On a terminal the story and the
results share stdout; piped, results go to stdout and the rest to stderr.

It ends with a summary (per method: true capacity at the mix, found,
planned; the pool's utilisation at the planned limits and whether it held;
what the verification did not test) and the equivalent commands to run
against AWS. Load only ever goes to 127.0.0.1.`,
		Example: `  apictl demo --quick
  apictl demo -o json > summary.json
  apictl demo -v            # every command's whole output
  apictl demo --keep        # leave the emulator running to try commands by hand`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Headroom <= 0 || opts.Headroom > 1 {
				return FlagErrorf("--headroom must be in (0, 1], got %g", opts.Headroom)
			}
			if runF != nil {
				return runF(opts)
			}
			return demoRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Quick, "quick", false, "shorter phases: under a minute in all (default run: under two minutes)")
	cmd.Flags().BoolVar(&opts.Keep, "keep", false, "leave the emulator running afterwards and print its endpoint (Ctrl-C to stop)")
	cmd.Flags().StringVar(&opts.Addr, "addr", "127.0.0.1:0", "listen address of the emulator (loopback only)")
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "keep the files the steps exchange (m.json, lt.json, plan.yaml) here (default: a temporary directory)")
	cmd.Flags().Float64Var(&opts.Headroom, "headroom", 0.8, "share of the found rate the plan allows")
	return cmd
}

// demoStreams says where the demo writes: show gets the steps' results,
// progress the step headings, the commands and their progress lines. On a
// terminal both are stdout, so the story reads in order; piped, the data
// stays on stdout and the rest goes to stderr; with -o json only the summary
// is on stdout. progressTTY says whether progress is a terminal.
func demoStreams(s *IOStreams, format report.Format) (show, progress io.Writer, progressTTY bool) {
	switch {
	case format == report.FormatJSON:
		return s.ErrOut, s.ErrOut, s.ErrTTY
	case s.OutTTY:
		return s.Out, s.Out, true
	}
	return s.Out, s.ErrOut, s.ErrTTY
}

func demoRun(ctx context.Context, opts *DemoOptions) error {
	out := opts.Output()
	if !awsapi.IsLoopback("http://" + opts.Addr) {
		return WithHint(fmt.Errorf("--addr %s is not a loopback address", opts.Addr), "the demo sends load; it only listens on 127.0.0.1 or localhost")
	}
	show, progress, progressTTY := demoStreams(opts.IO, out.Format)
	subFormat := "table"
	if out.Format == report.FormatMarkdown {
		subFormat = "markdown"
	}
	run := func(ctx context.Context, w io.Writer, env map[string]string, args ...string) error {
		// Each step is a fresh apictl with no ambient AWS configuration:
		// the emulator needs none, and a user's profile must not leak in.
		sub := newFactory(System{
			In: strings.NewReader(""), Out: w, Err: progress,
			OutTTY: out.Color, ErrTTY: progressTTY,
			Getenv: func(k string) string {
				if v, ok := env[k]; ok {
					return v
				}
				if strings.HasPrefix(k, "AWS_") {
					return ""
				}
				return opts.Getenv(k)
			},
			Build: opts.Build,
		})
		root := NewCmdRoot(sub, opts.Build)
		hasOutput := false
		for _, a := range args {
			if a == "-o" || a == "--output" {
				hasOutput = true
			}
		}
		if !hasOutput {
			args = append(args, "-o", subFormat)
		}
		root.SetArgs(args)
		root.SetOut(w)
		root.SetErr(progress)
		err := root.ExecuteContext(ctx)
		if err != nil {
			return fmt.Errorf("apictl %s: %w", strings.Join(args, " "), err)
		}
		return nil
	}
	start := time.Now()
	sum, world, err := demo.Run(ctx, demo.Config{
		Quick:      opts.Quick,
		Headroom:   opts.Headroom,
		Dir:        opts.Dir,
		Addr:       opts.Addr,
		Show:       show,
		Progress:   progress,
		Verbose:    opts.Verbose != nil && opts.Verbose(),
		Run:        run,
		Keep:       opts.Keep,
		ShowFormat: report.Options{Format: report.Format(subFormat), Color: out.Color},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "\n")
	if err := report.Render(opts.IO.Out, out, sum); err != nil {
		return err
	}
	if opts.Keep {
		defer world.Close()
		fmt.Fprintf(progress, "\nThe emulator keeps running at %s (Ctrl-C to stop). Try:\n", world.Sandbox.URL())
		fmt.Fprintf(progress, "  apictl --endpoint-url %s measure --api cart-api --stage prod --by method\n", world.Sandbox.URL())
		fmt.Fprintf(progress, "  apictl --endpoint-url %s apply-plan -f %s --dry-run\n", world.Sandbox.URL(), sum.Files["plan"])
		fmt.Fprintf(progress, "  aws --endpoint-url %s apigateway get-api-keys --include-values --query 'items[].[name,value]'\n", world.Sandbox.URL())
		fmt.Fprintf(progress, "  curl -H \"x-api-key: $KEY\" %s/cart/profile/42    # every method requires an API key\n", world.InvokeURL())
		<-ctx.Done()
		return nil
	}
	if !sum.Pass {
		return &SilentError{Err: fmt.Errorf("demo verification failed after %v", time.Since(start).Round(time.Second))}
	}
	return nil
}
