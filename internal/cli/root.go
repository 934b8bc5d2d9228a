package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/report"
)

// System is what main hands to the CLI: the process's arguments, streams,
// environment and build information.
type System struct {
	Args   []string
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	InTTY  bool
	OutTTY bool
	ErrTTY bool
	Getenv func(string) string
	Build  BuildInfo
}

// Main runs apictl and returns the process exit code.
func Main(ctx context.Context, sys System) int {
	f := newFactory(sys)
	root := NewCmdRoot(f, sys.Build)
	root.SetArgs(sys.Args)
	root.SetIn(sys.In)
	root.SetOut(sys.Out)
	root.SetErr(sys.Err)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		var fe *FlagError
		if errors.As(err, &fe) || isCobraUsageError(err) {
			fmt.Fprintf(sys.Err, "apictl: error: %s\n", err)
			if cmd != nil && cmd != root {
				fmt.Fprintf(sys.Err, "hint: run '%s --help' for usage\n", cmd.CommandPath())
			} else {
				fmt.Fprintln(sys.Err, "hint: run 'apictl --help' for usage")
			}
			return ExitError
		}
		if ctx.Err() != nil && !errors.Is(err, ErrChangesPending) && !errors.Is(err, ErrObjectivesNotMet) {
			err = fmt.Errorf("%w: %w", ErrInterrupted, err)
		}
		PrintError(sys.Err, err)
	}
	return ExitCode(err)
}

func newFactory(sys System) *Factory {
	g := &globals{output: "table"}
	settings := &awsapi.Settings{}
	getenv := sys.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	ios := &IOStreams{In: sys.In, Out: sys.Out, ErrOut: sys.Err, InTTY: sys.InTTY, OutTTY: sys.OutTTY, ErrTTY: sys.ErrTTY}
	f := &Factory{
		globals:  g,
		IO:       ios,
		Settings: settings,
		Output: func() report.Options {
			format, _ := report.ParseFormat(g.output)
			return report.Options{Format: format, Color: ios.ColorEnabled}
		},
		Verbose: func() bool { return g.verbose },
		Quiet:   func() bool { return g.quiet },
		Now:     time.Now,
		Getenv:  getenv,
	}
	f.AWS = newAWSFunc(settings, getenv)
	return f
}

// colorEnabled applies the colour rules of CLI.md.
func colorEnabled(tty bool, noColorFlag bool, getenv func(string) string) bool {
	if !tty || noColorFlag {
		return false
	}
	if getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	return true
}

// NewCmdRoot builds the apictl command tree.
func NewCmdRoot(f *Factory, build BuildInfo) *cobra.Command {
	g := f.globals
	cmd := &cobra.Command{
		Use:   "apictl",
		Short: "Measure, load-test and protect REST APIs on Amazon API Gateway",
		Long: `apictl closes the capacity loop for APIs on Amazon API Gateway:

  measure      what the API serves now, from CloudWatch, next to its throttles
  loadtest     find the sustainable RPS of the backends behind it
  plan         turn that capacity into a declarative plan of throttles,
               usage plans and API keys
  apply-plan   apply the plan idempotently, terraform-style, in CI
  demo         the whole loop against a built-in emulator, no AWS account needed

` + envHelp,
		Example: `  apictl demo --quick
  apictl measure --api cart-api --stage prod --since 7d --by method
  apictl loadtest --api cart-api --stage prod --find-max --per-method
  apictl plan generate --loadtest lt.json --measure m.json --api cart-api --stage prod > plan.yaml
  apictl apply-plan -f plan.yaml --dry-run --detailed-exitcode`,
		Version:       build.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := applyEnvFlags(cmd, f.Getenv); err != nil {
				return err
			}
			if _, err := report.ParseFormat(g.output); err != nil && !acceptsOutput(cmd, g.output) {
				return &FlagError{Err: err}
			}
			if g.verbose && g.quiet {
				return FlagErrorf("--verbose and --quiet cannot be used together")
			}
			f.IO.ColorEnabled = colorEnabled(f.IO.OutTTY, g.noColor, f.Getenv)
			s := f.Settings
			s.Region, s.Profile, s.EndpointURL, s.Getenv = g.region, g.profile, g.endpointURL, f.Getenv
			if s.Endpoints().Loopback() {
				if s.Region == "" && f.Getenv("AWS_REGION") == "" && f.Getenv("AWS_DEFAULT_REGION") == "" {
					s.Region = "us-east-1"
				}
				if f.Getenv("AWS_ACCESS_KEY_ID") == "" && f.Getenv("AWS_PROFILE") == "" && s.Profile == "" {
					s.StaticCredentials = true
				}
			}
			return nil
		},
	}
	cmd.SetVersionTemplate("{{.Version}}\n")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &FlagError{Err: err}
	})
	pf := cmd.PersistentFlags()
	pf.StringVar(&g.region, "region", "", "AWS region (default: AWS_REGION or the profile's)")
	pf.StringVar(&g.profile, "profile", "", "AWS shared config profile (default: AWS_PROFILE)")
	pf.StringVar(&g.endpointURL, "endpoint-url", "", "override the AWS endpoint, e.g. http://127.0.0.1:4566 for 'apictl sandbox serve'")
	pf.StringVarP(&g.output, "output", "o", "table", "output format: table, json or markdown")
	pf.BoolVar(&g.noColor, "no-color", false, "disable colour (also NO_COLOR or TERM=dumb)")
	pf.BoolVarP(&g.verbose, "verbose", "v", false, "print more progress on stderr")
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "print only results and errors")

	cmd.AddCommand(
		NewCmdVersion(f, build),
		NewCmdMeasure(f, nil),
		NewCmdDocs(f, nil),
		NewCmdDemo(f, build, nil),
		NewCmdSandbox(f, nil),
		NewCmdPlan(f, nil),
		NewCmdApplyPlan(f, nil),
		NewCmdLoadtest(f, nil),
		NewCmdAudit(f, build, nil),
		newHelpTopicExitCodes(),
		NewCmdIAMPolicy(f, nil),
	)
	cmd.SetHelpCommand(newHelpCommand())
	return cmd
}

// newHelpTopicExitCodes is a help topic: `apictl help exit-codes`.
func newHelpTopicExitCodes() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "exit-codes",
		Short: "What apictl's exit codes mean",
		Long:  exitCodesHelp,
	}
	cmd.SetHelpFunc(func(c *cobra.Command, _ []string) {
		fmt.Fprint(c.OutOrStdout(), exitCodesHelp)
	})
	return cmd
}

// isCobraUsageError recognises cobra's own argument errors, which do not
// go through the flag error func.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
