package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/apictl/apictl/internal/demo"
	"github.com/apictl/apictl/internal/report"
	"github.com/apictl/apictl/internal/sandbox"
)

// SandboxServeOptions are the options of `apictl sandbox serve`.
type SandboxServeOptions struct {
	IO      *IOStreams
	Output  func() report.Options
	Quiet   func() bool
	Verbose func() bool

	Addr         string
	Region       string
	AWSLimits    bool
	AccountRate  float64
	AccountBurst int
	// Seed names fixtures to create at start: "demo", the README tour's cart-api.
	Seed string

	// Ready, when set, is called with the base URL once the server listens
	// (tests use it to find the port).
	Ready func(url string)
}

// awsControlPlaneLimits are the API Gateway control-plane rate limits that
// matter to apictl (per account and region).
var awsControlPlaneLimits = sandbox.AWSControlPlaneLimits()

// NewCmdSandbox is `apictl sandbox`, the local API Gateway + CloudWatch emulator.
func NewCmdSandbox(f *Factory, runF func(*SandboxServeOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run a local API Gateway + CloudWatch emulator",
		Long: `The sandbox is apictl's in-memory emulator of the parts of Amazon API Gateway
(REST APIs, usage plans, API keys, stages with method throttles; HTTP API stages)
and CloudWatch that apictl uses, with a data plane that enforces API Gateway's
throttles and quotas and records the AWS/ApiGateway metrics. Point apictl, the
AWS CLI or any AWS SDK at it with --endpoint-url to try plans offline or in CI.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newCmdSandboxServe(f, runF))
	return cmd
}

func newCmdSandboxServe(f *Factory, runF func(*SandboxServeOptions) error) *cobra.Command {
	opts := &SandboxServeOptions{IO: f.IO, Output: f.Output, Quiet: f.Quiet, Verbose: f.Verbose}
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:4566]",
		Short: "Serve the emulator until Ctrl-C",
		Long: `Serve the emulator on one endpoint until interrupted (Ctrl-C or SIGTERM). State
is kept in memory and lost on exit.

The endpoint answers the API Gateway (v1 and v2) control planes, CloudWatch
(GetMetricData, ListMetrics, PutMetricData) and the data plane of every REST
API stage:

  http://ADDR/restapis/{apiId}/{stage}/_user_request_/{path}

Requests to the data plane are throttled as API Gateway does (account,
stage and method settings, usage plans per API key, quotas), need an
x-api-key header on methods with apiKeyRequired, and are proxied to the
method's HTTP_PROXY integration URI.

It also serves S3, path-style (http://ADDR/{bucket}/{key}), for results of
sharded load tests (--results s3://…): buckets made with CreateBucket
('aws s3 mb'), PutObject, GetObject, HeadObject, DeleteObject,
ListObjectsV2 and multipart uploads, as the SDK's transfer manager and
'aws s3 cp|ls' use them. Objects are kept in memory, at most 1 GiB in all.

Any credentials are accepted. With -o json the endpoint details are printed
as one JSON object; with -v every control-plane and CloudWatch call is logged
on stderr.`,
		Example: `  apictl sandbox serve
  apictl sandbox serve --addr 127.0.0.1:0 -o json
  apictl sandbox serve --aws-limits --account-rate 10000 --account-burst 5000
  apictl sandbox serve --seed demo            # the README tour's cart-api

  # in another terminal
  export AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  aws apigateway get-usage-plans
  aws s3 mb s3://lt-results && aws s3 ls s3://lt-results/
  apictl measure --api cart-api --stage prod`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.AccountRate < 0 || opts.AccountBurst < 0 {
				return FlagErrorf("--account-rate and --account-burst must not be negative")
			}
			if (opts.AccountRate > 0) != (opts.AccountBurst > 0) {
				return FlagErrorf("--account-rate and --account-burst go together")
			}
			if opts.Region == "" {
				opts.Region = "us-east-1"
			}
			if opts.Seed != "" && opts.Seed != "demo" {
				return FlagErrorf("--seed %q: the only seed is demo", opts.Seed)
			}
			if opts.Seed != "" && (opts.AWSLimits || opts.AccountRate > 0 || cmd.Flags().Changed("sandbox-region")) {
				return FlagErrorf("--seed demo runs the demo's emulator as it is: drop --aws-limits, --account-rate and --sandbox-region")
			}
			if runF != nil {
				return runF(opts)
			}
			return sandboxServeRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:4566", "address to listen on (port 0 picks a free one)")
	fl.StringVar(&opts.Region, "sandbox-region", "us-east-1", "region the emulator uses in ARNs and endpoints")
	fl.BoolVar(&opts.AWSLimits, "aws-limits", false, "enforce AWS control-plane rate limits (UpdateUsagePlan 1 per 20 s, CreateApiKey 5/s, UpdateStage)")
	fl.Float64Var(&opts.AccountRate, "account-rate", 0, "account-level data-plane throttle in requests/s (AWS default 10000; default off)")
	fl.IntVar(&opts.AccountBurst, "account-burst", 0, "account-level data-plane burst (AWS default 5000; default off)")
	fl.StringVar(&opts.Seed, "seed", "", "create fixtures at start: 'demo' is the README tour's cart-api (stage prod, a day of metrics, API key "+demo.TourKey+")")
	return cmd
}

// sandboxEndpoint is the JSON output of `apictl sandbox serve -o json`.
type sandboxEndpoint struct {
	Endpoint  string            `json:"endpoint"`
	Region    string            `json:"region"`
	DataPlane string            `json:"dataPlane"`
	Env       map[string]string `json:"env"`
}

func sandboxServeRun(ctx context.Context, opts *SandboxServeOptions) error {
	so := sandbox.Options{Region: opts.Region}
	if opts.Verbose != nil && opts.Verbose() {
		so.Log = opts.IO.ErrOut
	}
	if opts.AWSLimits {
		so.ControlPlaneRateLimits = awsControlPlaneLimits
	}
	if opts.AccountRate > 0 {
		so.AccountThrottle = &sandbox.RateLimit{Rate: opts.AccountRate, Burst: opts.AccountBurst}
	}
	var sb *sandbox.Sandbox
	seeded := ""
	if opts.Seed == "demo" {
		w, err := demo.Seed(ctx, opts.Addr)
		if err != nil {
			return &HintError{Err: err, Hint: "is another sandbox running? pick another port with --addr 127.0.0.1:0"}
		}
		sb = w.Sandbox
		seeded = fmt.Sprintf("Seeded: REST API %s, stage %s (%s); a simulated last day of metrics;\nAPI key for load tests: export CART_KEY=%s (then --api-key-env CART_KEY)\n",
			w.APIName, w.Stage, strings.Join(methodKeys(w.Methods), ", "), demo.TourKey)
	} else {
		sb = sandbox.New(so)
		if _, err := sb.Start(opts.Addr); err != nil {
			return &HintError{Err: err, Hint: "is another sandbox running? pick another port with --addr 127.0.0.1:0"}
		}
	}
	url := usableURL(sb.URL())
	ep := sandboxEndpoint{
		Endpoint:  url,
		Region:    opts.Region,
		DataPlane: url + "/restapis/{apiId}/{stage}/_user_request_/{path}",
		Env: map[string]string{
			"AWS_ENDPOINT_URL":      url,
			"AWS_REGION":            opts.Region,
			"AWS_DEFAULT_REGION":    opts.Region, // what the AWS CLI v1 reads
			"AWS_ACCESS_KEY_ID":     "test",
			"AWS_SECRET_ACCESS_KEY": "test",
		},
	}
	if err := printSandboxEndpoint(opts.IO.Out, opts.Output().Format, ep, opts.Quiet != nil && opts.Quiet()); err != nil {
		_ = sb.Close()
		return err
	}
	if seeded != "" && opts.Output().Format != report.FormatJSON && (opts.Quiet == nil || !opts.Quiet()) {
		fmt.Fprint(opts.IO.Out, "\n"+seeded)
	}
	if listen := sb.URL(); listen != url {
		fmt.Fprintf(opts.IO.ErrOut, "listening on %s (every interface); this machine reaches it at %s\n", strings.TrimPrefix(listen, "http://"), url)
	}
	if opts.Ready != nil {
		opts.Ready(url)
	}
	<-ctx.Done()
	if err := sb.Close(); err != nil {
		return fmt.Errorf("stop sandbox: %w", err)
	}
	if opts.Quiet == nil || !opts.Quiet() {
		fmt.Fprintln(opts.IO.ErrOut, "sandbox stopped")
	}
	return nil
}

func printSandboxEndpoint(w io.Writer, format report.Format, ep sandboxEndpoint, quiet bool) error {
	if format == report.FormatJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(ep)
	}
	if quiet {
		_, err := fmt.Fprintln(w, ep.Endpoint)
		return err
	}
	_, err := fmt.Fprintf(w, `apictl sandbox listening on %[1]s (region %[2]s)

Use it with:
  apictl --endpoint-url %[1]s measure --api NAME --stage STAGE
  aws --endpoint-url %[1]s apigateway get-usage-plans

or set in your shell:
  export AWS_ENDPOINT_URL=%[1]s
  export AWS_REGION=%[2]s AWS_DEFAULT_REGION=%[2]s AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test

Data plane: %[3]s (API key in header x-api-key)
State is in memory. Press Ctrl-C to stop.
`, ep.Endpoint, ep.Region, ep.DataPlane)
	return err
}

// usableURL turns the URL of a listener on every interface (0.0.0.0, ::)
// into one a client can use: the loopback address with the same port.
func usableURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsUnspecified() {
		return raw
	}
	// A listener on every interface also listens on IPv4's loopback.
	u.Host = net.JoinHostPort("127.0.0.1", u.Port())
	return u.String()
}

func methodKeys(ms []demo.Method) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Key()
	}
	return out
}
