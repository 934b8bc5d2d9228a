package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/apictl/apictl/internal/audit"
	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/report"
)

// extraOutputAnnotation lists, on a command, -o values it accepts beyond
// table, json and markdown (comma-separated), e.g. "sarif" for audit.
const extraOutputAnnotation = "apictl/extra-output"

// acceptsOutput reports whether cmd takes the -o value as one of its own
// extra formats.
func acceptsOutput(cmd *cobra.Command, output string) bool {
	for _, f := range strings.Split(cmd.Annotations[extraOutputAnnotation], ",") {
		if f != "" && strings.EqualFold(f, output) {
			return true
		}
	}
	return false
}

// ErrFindings is returned when audit finds something at or above --fail-on;
// it exits 3 like unmet objectives.
var ErrFindings = fmt.Errorf("audit findings at or above --fail-on: %w", ErrObjectivesNotMet)

// AuditOptions are the options of `apictl audit`.
type AuditOptions struct {
	IO     *IOStreams
	AWS    func(ctx context.Context) (*awsapi.Clients, error)
	Render func(v report.Documenter) error
	// Output is the raw -o value (audit also takes sarif).
	Output func() string
	// Version is apictl's version, for the SARIF tool driver.
	Version string
	// ReadFile reads --loadtest and --measure files (os.ReadFile by default).
	ReadFile func(name string) ([]byte, error)

	API      string
	Stage    string
	Loadtest string
	Measure  string
	FailOn   string
}

// NewCmdAudit checks an API stage like a linter.
func NewCmdAudit(f *Factory, build BuildInfo, runF func(*AuditOptions) error) *cobra.Command {
	opts := &AuditOptions{IO: f.IO, AWS: f.AWS, Render: f.Render, ReadFile: os.ReadFile, Version: build.Version,
		Output: func() string { return f.globals.output }}
	cmd := &cobra.Command{
		Use:   "audit --api NAME|ID --stage S [--loadtest lt.json] [--measure m.json] [--fail-on high]",
		Short: "Check an API stage against the security layers and its measured capacity",
		Long: `Read a REST or HTTP API stage from AWS and check it like a linter:

  security layers   a WAF web ACL on the stage (HTTP APIs cannot take one),
                    a resource policy that does not allow everyone, authorization
                    on every method (an API key is not authorization), the
                    authorizers and their kinds, TLS 1.2 and mutual TLS on
                    custom domains, a client certificate for HTTP backends
  throttling, keys  methods left to the account-wide default throttle; with
                    --loadtest, throttles above what the backend sustains (for
                    a shared backend, their sum); usage plans on methods that
                    need no key; keys in no plan; plans without a quota
  capacity          with --loadtest and --measure, methods whose measured peak
                    exceeds what the backend sustains: throttle or decouple
                    through SQS, with the numbers
  operability       access logging, detailed metrics, X-Ray tracing
  design            backend hosts hard-coded where a stage variable would do,
                    path parameters not mapped into the integration

Each finding has a stable rule id, a severity (low, medium, high), the
resource, the evidence read from AWS and the fix: an AWS CLI command or the
plan-file change apictl would make. docs/audit.md describes every rule.

-o sarif writes SARIF 2.1.0 for GitHub code scanning. apictl audit exits 3
when there are findings at or above --fail-on (default high), 0 otherwise.`,
		Example: `  apictl audit --api orders-api --stage prod
  apictl audit --api orders-api --stage prod --fail-on medium -o markdown >> "$GITHUB_STEP_SUMMARY"
  apictl audit --api orders-api --stage prod --loadtest lt.json --measure m.json
  apictl audit --api orders-api --stage prod -o sarif > audit.sarif`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{extraOutputAnnotation: "sarif"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.API == "" {
				return FlagErrorf("--api is required")
			}
			if opts.Stage == "" {
				return FlagErrorf("--stage is required")
			}
			if _, err := audit.ParseSeverity(opts.FailOn); err != nil {
				return FlagErrorf("--fail-on: %w", err)
			}
			if opts.Measure != "" && opts.Loadtest == "" {
				return FlagErrorf("--measure needs --loadtest: the measured peak is compared with the sustainable rate")
			}
			if runF != nil {
				return runF(opts)
			}
			return auditRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.API, "api", "", "REST or HTTP API name or id (required)")
	fl.StringVar(&opts.Stage, "stage", "", "stage to audit (required)")
	fl.StringVar(&opts.Loadtest, "loadtest", "", "result of 'apictl loadtest --find-max -o json' for this API and stage")
	fl.StringVar(&opts.Measure, "measure", "", "result of 'apictl measure --by method -o json' (needs --loadtest)")
	fl.StringVar(&opts.FailOn, "fail-on", "high", "exit 3 when findings at or above this severity exist: low, medium or high")
	return cmd
}

func auditRun(ctx context.Context, opts *AuditOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	failOn, err := audit.ParseSeverity(opts.FailOn)
	if err != nil {
		return &FlagError{Err: err}
	}
	clients, err := opts.AWS(ctx)
	if err != nil {
		return err
	}
	snap, err := audit.Collect(ctx, audit.Clients{REST: clients.APIGateway, HTTP: clients.APIGatewayV2, Region: clients.Region}, opts.API, opts.Stage)
	if err != nil {
		if nf, ok := err.(*audit.NotFoundError); ok {
			return WithHint(err, nf.HintText())
		}
		return err
	}
	in := audit.Inputs{LoadtestFile: opts.Loadtest, MeasureFile: opts.Measure}
	if opts.Loadtest != "" {
		b, err := opts.ReadFile(opts.Loadtest)
		if err != nil {
			return fmt.Errorf("read --loadtest: %w", err)
		}
		if in.Loadtest, err = audit.DecodeLoadtest(strings.NewReader(string(b)), snap); err != nil {
			return WithHint(fmt.Errorf("%s: %w", opts.Loadtest, err), "run apictl loadtest --api "+opts.API+" --stage "+opts.Stage+" --find-max -o json")
		}
	}
	if opts.Measure != "" {
		b, err := opts.ReadFile(opts.Measure)
		if err != nil {
			return fmt.Errorf("read --measure: %w", err)
		}
		if in.Measure, err = audit.DecodeMeasure(strings.NewReader(string(b)), snap); err != nil {
			return WithHint(fmt.Errorf("%s: %w", opts.Measure, err), "run apictl measure --api "+opts.API+" --stage "+opts.Stage+" --by method -o json")
		}
	}
	rep := audit.Evaluate(snap, in, failOn)
	if strings.EqualFold(opts.Output(), "sarif") {
		err = rep.SARIF(opts.IO.Out, opts.Version)
	} else {
		err = opts.Render(rep)
	}
	if err != nil {
		return err
	}
	if rep.Failed {
		return &SilentError{Err: fmt.Errorf("%w: %d", ErrFindings, rep.AtOrAbove(failOn))}
	}
	return nil
}
