package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/loadtest"
	"github.com/apictl/apictl/internal/report"
	"github.com/apictl/apictl/internal/s3results"
)

// LoadtestOptions are the options of `apictl loadtest`.
type LoadtestOptions struct {
	// invokeBase is the stage URL the load of --api goes to.
	invokeBase string

	IO       *IOStreams
	AWS      func(ctx context.Context) (*awsapi.Clients, error)
	Settings *awsapi.Settings
	Render   func(v report.Documenter) error
	Getenv   func(string) string
	Verbose  func() bool
	Quiet    func() bool
	// ReadFile reads --body, --targets and --path-params files; Create
	// opens --results, --html and --chart files (tests replace them).
	ReadFile func(name string) ([]byte, error)
	Create   func(name string) (io.WriteCloser, error)
	// Engine replaces the vegeta engine (tests).
	Runner loadtest.StepRunner
	// discoveryWarnings are what --api discovery found worth telling
	// (methods changed since the stage's deployment); they go to stderr at
	// once and into the result's warnings.
	discoveryWarnings []string

	URL           string
	TargetsFile   string
	TargetsFormat string
	Headers       []string
	Method        string
	BodyFile      string
	// Bodies are the --body values: one plain FILE (kept in BodyFile) or
	// 'METHOD /path=FILE' per method.
	Bodies []string

	// DataFile, DataOrder and Seed feed the requests of --api/--openapi from --data.
	DataFile  string
	DataOrder string
	Seed      uint64
	// OpenAPI is an OpenAPI 3 document whose operations are the targets.
	OpenAPI string

	API            string
	Stage          string
	PathParams     []string
	PathParamsFile string
	InvokeURL      string
	Methods        []string
	Weights        []string
	MixFile        string

	APIKeyEnv    string
	BearerEnv    string
	SigV4        bool
	SigV4Service string

	Rate     float64
	Duration time.Duration

	FindMax      bool
	PerMethod    bool
	StartRate    float64
	MaxRate      float64
	StepDuration time.Duration
	GrowDuration time.Duration
	Precision    float64
	CoolDown     time.Duration
	Budget       time.Duration
	Confirm      time.Duration

	SLOs    []string
	NoAbort bool

	// Attack holds the generator's settings, bound straight to their flags.
	Attack loadtest.AttackOptions

	ResultsFile string
	HTMLFile    string
	ChartFile   string

	// plan holds --shard, --start-at and --ramp (loadtest_shard.go).
	plan planFlags

	// data is the --data file read; warnings are cautions from building the targets.
	data     *loadtest.Data
	warnings []string
	seedSet  bool
}

// NewCmdLoadtest is `apictl loadtest`.
func NewCmdLoadtest(f *Factory, runF func(*LoadtestOptions) error) *cobra.Command {
	opts := &LoadtestOptions{
		IO: f.IO, AWS: f.AWS, Settings: f.Settings, Render: f.Render, Getenv: f.Getenv,
		Verbose: f.Verbose, Quiet: f.Quiet, ReadFile: os.ReadFile,
		Create: func(name string) (io.WriteCloser, error) { return os.Create(name) },
	}
	cmd := &cobra.Command{
		Use:   "loadtest [URL] [--targets FILE | --api NAME --stage S] [--rate R --duration D | --find-max]",
		Short: "Load-test an API at a fixed rate or find its sustainable RPS",
		Long: `Send load with vegeta's open model (requests leave on schedule whatever the
latency; workers are added as needed unless --max-workers caps them) and check
objectives: --slo 'p99<300ms' --slo 'errors<1%' --slo 'throughput>=95%'
(defaults: p99<1s, errors<1%, throughput>=95%; a given kind replaces its
default). Errors are non-2xx responses (429 included) and transport errors;
throughput is successful responses per second over the requested rate.
Latency percentiles come from a fixed-size histogram per step (HdrHistogram,
1 µs to 1 h, 3 significant digits): at most 0.1% above the exact figure and
never below it (exact below 2 ms); max and mean are exact. So an hour-long
run takes the memory of a minute; --results keeps every exact latency.

Targets: a URL (with --method, -H, --body), a vegeta targets file (--targets,
http or json format), or --api NAME --stage S, which lists the REST API's
methods (GetResources) and fills path parameters from --path-param k=v or a
--path-params file of k=v lines. --weight 'GET /pets=5' weights a mix.
With --api the stage's export (GetExport oas30) adds each method's query
strings, headers, request body and examples; --openapi FILE takes the
operations of an OpenAPI 3 document instead (at --invoke-url, or its first
server).

Realistic requests: --data FILE (CSV with a header row, or JSON lines) fills
path parameters, query strings, headers and body templates by column name,
one row per request: --data-order sequential (round-robin) or random
(seeded with --seed; random also draws a weighted mix at random, and the
same seed sends the same requests in the same order). --body 'POST
/orders=order.json' gives one method its body (repeatable), a Go
text/template: {{.userId}} writes a column, {{json .name}} a JSON value; its
Content-Type comes from -H, else the file's extension. A missing column, a
template that does not parse, a --body key that names no method, or a
method whose required body has neither an example nor a --body is an error
before any request. The JSON records the data file's name, rows and sha256,
and the seed.

Fixed rate: --rate R --duration D. Exit code 3 when the objectives are missed.

Search (--find-max): steady steps from --start-rate, doubling while the
objectives hold, then bisection between the last passing and the first
failing rate until they are within --precision. A failing step's successful
throughput guides the bisection (a saturated backend serves at its capacity).
Steps that clearly miss the objectives (errors or latency at twice the
objective over the last second, or too many requests in flight) are aborted
at once to protect the backend; --cool-down pauses between steps (longer
after a step whose requests queued); --max-rate is never exceeded; --budget
caps the attack time of the search (0 means the default, 1m30s). A rate failing below one that passed
marks the backend stateful: earlier passes are re-checked.
Exit code 3 when no rate passes (or no --confirm hold passes).

Several methods: with --mix M.json (from 'apictl measure --by method -o json')
or --weight, the search finds the AGGREGATE rate at that mix; each method's
allocation is its share of it (methods[].share, methods[].sustainable_rps).
--per-method searches each method alone, then runs them all together at the
found rates (at the mix when given, else in proportion to what was found);
when that fails the methods share a backend (shared_backend): the aggregate
is searched at that mix and the allocations scaled to it, so the per-method
figures always hold all at once.

Sustained, not burst: --confirm D holds the found rate for D; when the hold
fails it steps down (to the throughput of the failing hold's last third) and
holds again, until a rate holds (confirmed) or 3×D of holds are spent. Use a
long --confirm (a minute or more) for backends with a burst allowance
(database burst capacity, burstable CPU credits, a deep queue): short steps
pass far above what they sustain. The holds come on top of --budget.

Gateway throttles: with --api the stage's live throttles (its */* default,
applied to each method separately, and per-method settings) and the usage
plan of the --api-key-env key are read. API Gateway's own 429s above a live
throttle are not backend failure: the result says limited_by
"gateway-throttle" and the backend takes at least that rate; measure past it
on a test stage (--invoke-url) or with a key whose plan allows more.

Errors are counted by cause: request-fault 4xx (400, 404, 422 …: bad
requests, not load) apart from 401/403, 429, 5xx and no answer. A run whose
failures are mostly request-fault 4xx stops at once with "the requests are
being rejected as invalid: check --data/--body" (exit 1) instead of searching
down to the lowest rate.

Progress goes to stderr: one live line on a terminal, plain lines otherwise.
The first Ctrl-C stops and reports what was measured; the second exits.
The JSON output (-o json) is an input of 'apictl plan generate'.

` + planHelp,
		Example: `  apictl loadtest http://127.0.0.1:8080/pets --rate 200 --duration 30s
  apictl loadtest http://127.0.0.1:8080/pets --find-max --slo 'p99<300ms'
  apictl loadtest --targets targets.txt --rate 100 --duration 1m --results r.bin --html report.html
  apictl loadtest http://127.0.0.1:8080/pets --rate 200 --duration 1m --results s3://lt-results/run-42/
  apictl loadtest http://127.0.0.1:8080/pets --find-max --chart chart.svg
  apictl loadtest --api cart-api --stage prod --path-param userId=42 --find-max --per-method -o json > lt.json
  apictl measure --api cart-api --stage prod --by method -o json > mix.json
  apictl loadtest --api cart-api --stage prod --path-param userId=42 --find-max --mix mix.json --confirm 2m -o json > lt.json
  apictl loadtest --api cart-api --stage prod --data users.csv --data-order random --seed 7 --find-max
  apictl loadtest --api shop --stage prod --data users.csv --body 'POST /orders=order.json' --rate 50 --duration 30s
  apictl loadtest --openapi shop.yaml --invoke-url https://abc.execute-api.eu-west-1.amazonaws.com/prod --data users.csv --find-max
  apictl loadtest https://abc.execute-api.eu-west-1.amazonaws.com/prod/pets --sigv4 --rate 50 --duration 10s
  # three generators, each sending 1/3 of 3000 rps, starting together:
  apictl loadtest https://api.example.com/pets --rate 3000 --duration 1m --shard 0/3 --start-at 2026-12-02T15:04:05Z --results shard0.bin
  # a distributed staircase search: 500, 1000, … 5000 rps, 20s each, on each of 3 shards, then the verdict:
  apictl loadtest https://api.example.com/pets --ramp 500:5000:10 --step-duration 20s --shard $I/3 --start-at $T --results shard$I.bin
  apictl loadtest merge shard0.bin shard1.bin shard2.bin -o json > lt.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.URL = args[0]
			}
			opts.seedSet = cmd.Flags().Changed("seed")
			if err := opts.validate(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return loadtestRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.TargetsFile, "targets", "", "vegeta targets file (http or json format)")
	fl.StringVar(&opts.TargetsFormat, "targets-format", "", "targets file format: http or json (default: detect)")
	fl.StringArrayVarP(&opts.Headers, "header", "H", nil, "request header 'Name: value' (repeatable)")
	fl.StringVar(&opts.Method, "method", "GET", "HTTP method for a URL target")
	fl.StringArrayVar(&opts.Bodies, "body", nil, "request body FILE, or 'POST /orders=FILE' for one method of --api/--openapi (repeatable; {{.column}} filled from --data)")
	fl.StringVar(&opts.DataFile, "data", "", "CSV (header row) or JSON-lines FILE whose columns fill path parameters, query strings, headers and body templates by name")
	fl.StringVar(&opts.DataOrder, "data-order", "sequential", "order of the --data rows: sequential (round-robin) or random (also draws a weighted mix at random)")
	fl.Uint64Var(&opts.Seed, "seed", 0, "seed of --data-order random: the same seed sends the same requests in the same order (default: a random seed, recorded in the JSON)")
	fl.StringVar(&opts.OpenAPI, "openapi", "", "OpenAPI 3 FILE (JSON or YAML): load-test its operations at --invoke-url or its first server")

	fl.StringVar(&opts.API, "api", "", "REST API name or id: load-test its methods")
	fl.StringVar(&opts.Stage, "stage", "", "stage to invoke with --api")
	fl.StringArrayVar(&opts.PathParams, "path-param", nil, "path parameter value name=value for --api (repeatable)")
	fl.StringVar(&opts.PathParamsFile, "path-params", "", "file of name=value path parameter lines for --api")
	fl.StringVar(&opts.InvokeURL, "invoke-url", "", "base URL of the stage for --api, e.g. a custom domain (default: the stage on the endpoint the API is discovered on; one on another endpoint is refused)")
	fl.StringSliceVar(&opts.Methods, "methods", nil, "with --api, only these HTTP methods (e.g. GET,POST)")
	fl.StringArrayVar(&opts.Weights, "weight", nil, fmt.Sprintf("weight of a target in the mix, 1 to %d: 'GET /pets=5' (repeatable)", loadtest.MaxWeight))
	fl.StringVar(&opts.MixFile, "mix", "", "traffic mix from 'apictl measure --by method -o json' (with --api): search the aggregate rate at it")

	fl.StringVar(&opts.APIKeyEnv, "api-key-env", "", "send the API key in this environment variable as x-api-key")
	fl.StringVar(&opts.BearerEnv, "bearer-env", "", "send the token in this environment variable as 'Authorization: Bearer …'")
	fl.BoolVar(&opts.SigV4, "sigv4", false, "sign every request with AWS SigV4 (credentials and region from the AWS configuration)")
	fl.StringVar(&opts.SigV4Service, "sigv4-service", "execute-api", "service name for --sigv4")

	fl.Float64Var(&opts.Rate, "rate", 50, "fixed rate in requests per second (0: as fast as --max-workers allow)")
	fl.DurationVar(&opts.Duration, "duration", 10*time.Second, "fixed-rate attack duration")

	def := loadtest.DefaultSearchConfig()
	fl.BoolVar(&opts.FindMax, "find-max", false, "search for the highest rate that meets the objectives")
	fl.BoolVar(&opts.PerMethod, "per-method", false, "with --find-max, search each target (method) alone")
	fl.Float64Var(&opts.StartRate, "start-rate", def.StartRate, "first rate of the search")
	fl.Float64Var(&opts.MaxRate, "max-rate", def.MaxRate, "the search never exceeds this rate")
	fl.DurationVar(&opts.StepDuration, "step-duration", def.StepDuration, "length of a bisection step")
	fl.DurationVar(&opts.GrowDuration, "grow-duration", 0, "length of a growth step (default: half of --step-duration)")
	fl.Float64Var(&opts.Precision, "precision", def.Precision, "stop bisecting when (fail-pass)/pass is at most this")
	fl.DurationVar(&opts.CoolDown, "cool-down", def.CoolDown, "pause between steps (0: none)")
	fl.DurationVar(&opts.Budget, "budget", def.Budget, "maximum total attack time of a search (per method with --per-method)")
	fl.DurationVar(&opts.Confirm, "confirm", 0, "after the search, hold the found rate this long; step down until a rate holds")

	fl.StringArrayVar(&opts.SLOs, "slo", nil, "objective: 'p99<300ms', 'p95<200ms', 'errors<1%', 'throughput>=99%' (repeatable)")
	fl.BoolVar(&opts.NoAbort, "no-abort", false, "do not abort steps that clearly miss the objectives")

	fl.DurationVar(&opts.Attack.Timeout, "timeout", 10*time.Second, "per-request timeout")
	fl.Uint64Var(&opts.Attack.Workers, "workers", 10, "initial workers")
	fl.Uint64Var(&opts.Attack.MaxWorkers, "max-workers", 0, "cap on workers, i.e. concurrency (0: uncapped, an open model)")
	fl.IntVar(&opts.Attack.Connections, "connections", 10000, "maximum idle connections per host")
	fl.IntVar(&opts.Attack.MaxConnections, "max-connections", 0, "maximum connections per host (0: no cap)")
	fl.BoolVar(&opts.Attack.NoKeepAlive, "no-keepalive", false, "open a new connection for every request")
	fl.BoolVar(&opts.Attack.HTTP2, "http2", false, "allow HTTP/2 over TLS")
	fl.IntVar(&opts.Attack.HTTP2Connections, "http2-connections", 0, "with --http2, connections per host to spread the requests over (0: one per 16 of --max-workers, 2 to 64; 8 with uncapped workers)")
	fl.BoolVar(&opts.Attack.Insecure, "insecure", false, "skip TLS certificate verification")
	fl.IntVar(&opts.Attack.Redirects, "redirects", 10, "redirects to follow (-1: none, 3xx is then an error)")
	fl.DurationVar(&opts.Attack.Drain, "drain", 0, "wait for in-flight responses after a step before counting them as errors (default: 2× the latency objective)")

	fl.StringVar(&opts.ResultsFile, "results", "", "write every result (exact latencies included) to FILE in vegeta's gob format ('vegeta report FILE'), or stream it to s3://bucket/prefix/ (object results.gob; with --shard I/N, shard-<I>-of-<N>.gob)")
	fl.StringVar(&opts.HTMLFile, "html", "", "write a self-contained HTML report to FILE: latency against rate with the objectives, errors per step by cause, latency over time")
	fl.StringVar(&opts.ChartFile, "chart", "", "write the chart of latency against rate to FILE: SVG when FILE ends in .svg, else an HTML page")
	opts.plan.register(cmd)
	cmd.AddCommand(NewCmdLoadtestMerge(f, nil))
	cmd.AddCommand(NewCmdLoadtestK8sJob(f, nil))
	return cmd
}

func (opts *LoadtestOptions) validate(cmd *cobra.Command) error {
	sources := 0
	for _, set := range []bool{opts.URL != "", opts.TargetsFile != "", opts.API != "", opts.OpenAPI != ""} {
		if set {
			sources++
		}
	}
	switch {
	case sources == 0:
		return FlagErrorf("no target: give a URL, --targets FILE, --api NAME --stage S or --openapi FILE")
	case sources > 1:
		return FlagErrorf("give only one of a URL, --targets, --api and --openapi")
	case opts.API != "" && opts.Stage == "":
		return FlagErrorf("--api needs --stage")
	case opts.API == "" && (opts.Stage != "" || opts.OpenAPI == "" && (len(opts.PathParams) > 0 || opts.PathParamsFile != "" || opts.InvokeURL != "" || len(opts.Methods) > 0)):
		return FlagErrorf("--stage goes only with --api; --path-param, --path-params, --invoke-url and --methods go with --api or --openapi")
	case opts.API == "" && opts.OpenAPI == "" && (opts.DataFile != "" || cmd.Flags().Changed("data-order") || cmd.Flags().Changed("seed")):
		return FlagErrorf("--data, --data-order and --seed go with --api or --openapi (their path parameters, query strings and body templates take the columns)")
	case cmd.Flags().Changed("data-order") && opts.DataFile == "":
		return FlagErrorf("--data-order goes with --data")
	case opts.PerMethod && !opts.FindMax:
		return FlagErrorf("--per-method goes with --find-max")
	case opts.FindMax && (cmd.Flags().Changed("rate") || cmd.Flags().Changed("duration")):
		return FlagErrorf("--find-max chooses the rates: drop --rate and --duration (see --start-rate, --max-rate, --step-duration)")
	case !opts.FindMax && opts.Confirm > 0:
		return FlagErrorf("--confirm goes with --find-max")
	case opts.MixFile != "" && opts.API == "":
		return FlagErrorf("--mix goes with --api NAME --stage S (its methods are the API's)")
	case opts.MixFile != "" && len(opts.Weights) > 0:
		return FlagErrorf("give --mix or --weight, not both")
	case opts.Rate < 0:
		return FlagErrorf("--rate must not be negative")
	case !opts.FindMax && opts.Rate == 0 && opts.Attack.MaxWorkers == 0:
		return FlagErrorf("--rate 0 (as fast as possible) needs --max-workers")
	case opts.Duration <= 0:
		return FlagErrorf("--duration must be positive")
	case opts.APIKeyEnv != "" && opts.Getenv(opts.APIKeyEnv) == "":
		return FlagErrorf("--api-key-env %s: the variable is empty or unset", opts.APIKeyEnv)
	case opts.BearerEnv != "" && opts.Getenv(opts.BearerEnv) == "":
		return FlagErrorf("--bearer-env %s: the variable is empty or unset", opts.BearerEnv)
	}
	if _, err := loadtest.ParseObjectives(opts.SLOs); err != nil {
		return &FlagError{Err: fmt.Errorf("--slo: %w", err)}
	}
	if err := opts.validatePlan(cmd); err != nil {
		return err
	}
	if _, err := loadtest.ParseDataOrder(opts.DataOrder); err != nil {
		return &FlagError{Err: fmt.Errorf("--data-order: %w", err)}
	}
	opts.BodyFile = ""
	for _, b := range opts.Bodies {
		if _, _, ok := loadtest.ParseMethodBody(b); ok {
			if opts.API == "" && opts.OpenAPI == "" {
				return FlagErrorf("--body %q: a body per method goes with --api or --openapi; give a URL target its body with --body FILE", b)
			}
			continue
		}
		if opts.BodyFile != "" {
			return FlagErrorf("--body given twice: give one plain --body FILE, or one --body 'METHOD /path=FILE' per method")
		}
		opts.BodyFile = b
	}
	return nil
}

// headers builds the common request headers, auth included.
func (opts *LoadtestOptions) headers() (http.Header, error) {
	h := http.Header{}
	for _, raw := range opts.Headers {
		k, v, err := loadtest.ParseHeader(raw)
		if err != nil {
			return nil, &FlagError{Err: fmt.Errorf("-H: %w", err)}
		}
		h.Add(k, v)
	}
	if opts.APIKeyEnv != "" {
		h.Set("X-Api-Key", opts.Getenv(opts.APIKeyEnv))
	}
	if opts.BearerEnv != "" {
		h.Set("Authorization", "Bearer "+opts.Getenv(opts.BearerEnv))
	}
	return h, nil
}

// targets builds the targets from the URL, the targets file or the API.
func (opts *LoadtestOptions) targets(ctx context.Context) (loadtest.Targets, string, error) {
	hdr, err := opts.headers()
	if err != nil {
		return nil, "", err
	}
	var body []byte
	if opts.BodyFile != "" {
		if body, err = opts.ReadFile(opts.BodyFile); err != nil {
			return nil, "", fmt.Errorf("read --body: %w", err)
		}
	}
	var bodies []loadtest.MethodBody
	for _, b := range opts.Bodies {
		key, file, ok := loadtest.ParseMethodBody(b)
		if !ok {
			continue
		}
		data, err := opts.ReadFile(file)
		if err != nil {
			return nil, "", fmt.Errorf("read --body %s: %w", key, err)
		}
		bodies = append(bodies, loadtest.MethodBody{Key: key, File: file, Data: data})
	}
	feed, err := opts.feed()
	if err != nil {
		return nil, "", err
	}
	var ts loadtest.Targets
	apiID := ""
	switch {
	case opts.URL != "":
		ts = loadtest.Targets{{Method: strings.ToUpper(opts.Method), URL: opts.URL, Header: hdr, Body: body, Weight: 1}}
		if err := ts.Validate(); err != nil {
			return nil, "", &FlagError{Err: err}
		}
	case opts.TargetsFile != "":
		data, err := opts.ReadFile(opts.TargetsFile)
		if err != nil {
			return nil, "", fmt.Errorf("read --targets: %w", err)
		}
		if ts, err = loadtest.ParseTargets(strings.NewReader(string(data)), opts.TargetsFile, opts.TargetsFormat, body, hdr); err != nil {
			return nil, "", err
		}
	case opts.OpenAPI != "":
		data, err := opts.ReadFile(opts.OpenAPI)
		if err != nil {
			return nil, "", fmt.Errorf("read --openapi: %w", err)
		}
		doc, err := loadtest.LoadOpenAPI(data, opts.OpenAPI)
		if err != nil {
			return nil, "", err
		}
		ops, err := loadtest.OperationsFromOpenAPI(doc)
		if err != nil {
			return nil, "", fmt.Errorf("openapi %s: %w", opts.OpenAPI, err)
		}
		base := strings.TrimSuffix(opts.InvokeURL, "/")
		if base == "" {
			if base = loadtest.ServerURL(doc); base == "" {
				return nil, "", WithHint(fmt.Errorf("openapi %s declares no server", opts.OpenAPI), "give the base URL with --invoke-url https://ID.execute-api.REGION.amazonaws.com/STAGE")
			}
		}
		params, err := opts.pathParams()
		if err != nil {
			return nil, "", err
		}
		feed.Const = params
		if ts, err = loadtest.BuildTargets(ops, loadtest.BuildOptions{
			Base: base, Feed: feed, Methods: opts.Methods, Header: hdr,
			Body: body, BodyFile: opts.BodyFile, Bodies: bodies,
			Warn: func(w loadtest.Warning) { opts.warnings = append(opts.warnings, loadtestWarning(w)) },
		}); err != nil {
			return nil, "", targetsError(fmt.Errorf("openapi %s: %w", opts.OpenAPI, err))
		}
	default:
		params, err := opts.pathParams()
		if err != nil {
			return nil, "", err
		}
		clients, err := opts.AWS(ctx)
		if err != nil {
			return nil, "", err
		}
		// Load goes where the API was discovered: one endpoint rule
		// (awsapi.ResolveEndpoints) for both.
		invoke, err := loadtest.InvokeURLFor(clients.Endpoints.APIGateway, clients.Region, opts.Stage, opts.InvokeURL)
		var mismatch *loadtest.EndpointMismatchError
		if errors.As(err, &mismatch) {
			return nil, "", WithHint(fmt.Errorf("refusing to load-test: %w", err),
				"discover and load-test the same deployment: drop --invoke-url, or point --endpoint-url / AWS_ENDPOINT_URL_API_GATEWAY at the endpoint that serves it")
		}
		if err != nil {
			return nil, "", FlagErrorf("--invoke-url: %v", err)
		}
		ts, apiID, err = loadtest.DiscoverTargets(ctx, clients.APIGateway, loadtest.DiscoverOptions{
			API: opts.API, Stage: opts.Stage, InvokeURL: invoke, PathParams: params,
			Methods: opts.Methods, Header: hdr, Body: body, BodyFile: opts.BodyFile,
			Bodies: bodies, Feed: feed,
			Warn: func(w loadtest.Warning) {
				text := loadtestWarning(w)
				opts.discoveryWarnings = append(opts.discoveryWarnings, text)
				fmt.Fprintln(opts.IO.ErrOut, "warning: "+text)
			},
		})
		if err != nil {
			return nil, "", targetsError(err)
		}
		opts.invokeBase = invoke(apiID)
	}
	if err := applyWeights(ts, opts.Weights); err != nil {
		return nil, "", err
	}
	return ts, apiID, nil
}

// parseWeight reads one --weight value, 'TARGET=N'. The last '=' splits
// it, so a target named by a URL with a query string can be weighted.
func parseWeight(w string) (name string, weight int, err error) {
	i := strings.LastIndex(w, "=")
	if i >= 0 {
		name = strings.TrimSpace(w[:i])
		weight, err = strconv.Atoi(strings.TrimSpace(w[i+1:]))
	}
	if i < 0 || name == "" || err != nil || weight < 1 || weight > loadtest.MaxWeight {
		return "", 0, FlagErrorf("--weight %q: want 'TARGET=N' with N from 1 to %d, e.g. 'GET /pets=5'", w, loadtest.MaxWeight)
	}
	return name, weight, nil
}

// applyWeights sets the weight of the targets each --weight names (by
// label or URL).
func applyWeights(ts loadtest.Targets, weights []string) error {
	for _, w := range weights {
		name, weight, err := parseWeight(w)
		if err != nil {
			return err
		}
		found := false
		for i := range ts {
			if ts[i].Label() == name || ts[i].URL == name {
				ts[i].Weight, found = weight, true
			}
		}
		if !found {
			return FlagErrorf("--weight %q: no target named %q (targets: %s)", w, name, strings.Join(ts.Labels(), ", "))
		}
	}
	return nil
}

func loadtestRun(ctx context.Context, opts *LoadtestOptions) (err error) {
	defer func() { err = wordLoadtestError(err) }()
	if ctx == nil {
		ctx = context.Background()
	}
	objs, err := loadtest.ParseObjectives(opts.SLOs)
	if err != nil {
		return &FlagError{Err: fmt.Errorf("--slo: %w", err)}
	}
	objs = objs.WithDefaults()
	targets, apiID, err := opts.targets(ctx)
	if err != nil {
		return err
	}
	if err := checkKeys(targets); err != nil {
		return err
	}
	if opts.Runner == nil {
		if err := checkTargetsListen(ctx, targets); err != nil {
			return err
		}
	}
	var mixWarnings []string
	mixSource := ""
	if len(opts.Weights) > 0 {
		mixSource = "weights"
	}
	if opts.MixFile != "" {
		data, err := opts.ReadFile(opts.MixFile)
		if err != nil {
			return fmt.Errorf("read --mix: %w", err)
		}
		mix, measured, err := loadtest.ParseMix(data, opts.MixFile)
		if err != nil {
			return WithHint(err, "make the mix with 'apictl measure --api NAME --stage S --by method -o json > mix.json'")
		}
		var ws []loadtest.Warning
		if targets, ws, err = loadtest.ApplyMix(targets, mix, opts.MixFile); err != nil {
			return WithHint(err, "measure the same API and stage, or deploy the missing methods")
		}
		mixWarnings = loadtestWarnings(ws)
		if measured.Stage != "" && measured.Stage != opts.Stage {
			mixWarnings = append(mixWarnings, fmt.Sprintf("--mix %s was measured on stage %s, not %s", opts.MixFile, measured.Stage, opts.Stage))
		}
		if measured.API != "" && measured.API != opts.API && measured.APIID != opts.API && measured.APIID != apiID {
			mixWarnings = append(mixWarnings, fmt.Sprintf("--mix %s was measured on API %s, not %s", opts.MixFile, measured.API, opts.API))
		}
		mixSource = "measure:" + opts.MixFile
	}
	var limits loadtest.GatewayLimits
	if opts.API != "" && opts.FindMax {
		clients, err := opts.AWS(ctx)
		if err != nil {
			return err
		}
		key := ""
		if opts.APIKeyEnv != "" {
			key = opts.Getenv(opts.APIKeyEnv)
		}
		if limits, err = loadtest.ReadGatewayLimits(ctx, clients.APIGateway, apiID, opts.Stage, key, targets); err != nil {
			// Without them the gateway's 429s count as failures: the
			// search can only come out lower, never overstate the backend.
			mixWarnings = append(mixWarnings, fmt.Sprintf("live throttles not read (%v): the gateway's own 429s count as backend failures in this search (reading them needs apigateway:GET on the stage, API keys and usage plans)", err))
			limits = nil
		}
	}
	lo := loadtest.Options{
		Objectives: objs,
		NoAbort:    opts.NoAbort,
		Runner:     opts.Runner,
		Attack:     opts.Attack,
	}
	if opts.Attack.Redirects == 0 {
		lo.Attack.Redirects = loadtest.NoRedirects // --redirects 0 follows none
	}
	if opts.SigV4 {
		clients, err := opts.AWS(ctx)
		if err != nil {
			return err
		}
		s, err := loadtest.NewSigV4(clients.Config.Credentials, clients.Region)
		if err != nil {
			return WithHint(err, "--sigv4 signs with the AWS configuration: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, and --region")
		}
		s.Service = opts.SigV4Service
		lo.Attack.SigV4 = s
	}
	quiet := opts.Quiet != nil && opts.Quiet()
	if !quiet {
		lo.Progress, lo.ProgressTTY = opts.IO.ErrOut, opts.IO.ErrTTY
	}
	if err := opts.waitForStart(ctx); err != nil {
		return err
	}
	var files []io.WriteCloser
	defer func() {
		for _, f := range files {
			_ = f.Close()
		}
	}()
	open := func(name string) (io.Writer, error) {
		f, err := opts.Create(name)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", name, err)
		}
		files = append(files, f)
		return f, nil
	}
	if opts.ResultsFile != "" {
		if s3results.IsURI(opts.ResultsFile) {
			w, err := opts.createS3Results(ctx)
			if err != nil {
				return err
			}
			files = append(files, w)
			lo.Results = w
		} else if lo.Results, err = open(opts.ResultsFile); err != nil {
			return err
		}
	}
	var timeline *loadtest.Timeline
	var htmlOut io.Writer
	if opts.HTMLFile != "" {
		if htmlOut, err = open(opts.HTMLFile); err != nil {
			return err
		}
		timeline = loadtest.NewTimeline()
		lo.Timeline = timeline
	}

	var c *loadtest.Capacity
	switch {
	case opts.plan.planned():
		c, err = opts.runPlan(ctx, targets, lo)
	case !opts.FindMax:
		c, err = loadtest.Run(ctx, targets, opts.Rate, opts.Duration, lo)
	default:
		cfg := loadtest.SearchConfig{
			StartRate: opts.StartRate, MaxRate: opts.MaxRate, Precision: opts.Precision,
			StepDuration: opts.StepDuration, GrowDuration: opts.GrowDuration,
			CoolDown: opts.CoolDown, Budget: opts.Budget, Confirm: opts.Confirm,
			Gateway: limits, MixSource: mixSource,
		}
		if opts.CoolDown == 0 {
			cfg.CoolDown = loadtest.NoCoolDown // --cool-down 0 pauses not at all
		}
		if opts.PerMethod {
			c, err = loadtest.SearchPerMethod(ctx, targets, cfg, lo)
		} else {
			c, err = loadtest.Search(ctx, targets, cfg, lo)
		}
	}
	if err != nil {
		return err
	}
	c.WordWarnings(loadtestWarning)
	if opts.API != "" {
		c.API, c.Stage = opts.API, opts.Stage
		c.Target = opts.API + " (" + opts.Stage + ")"
		c.Warnings = append(append([]string{}, opts.discoveryWarnings...), c.Warnings...)
		c.InvokeURL = opts.invokeBase
	}
	c.Warnings = append(mixWarnings, c.Warnings...)
	opts.recordInputs(c)
	if opts.ChartFile != "" {
		w, err := open(opts.ChartFile)
		if err != nil {
			return err
		}
		if err := loadtest.WriteChart(w, opts.ChartFile, c); err != nil {
			return fmt.Errorf("write %s: %w", opts.ChartFile, err)
		}
	}
	if htmlOut != nil {
		if err := loadtest.WriteReportHTML(htmlOut, c, timeline); err != nil {
			return fmt.Errorf("write %s: %w", opts.HTMLFile, err)
		}
	}
	for _, f := range files {
		if err := f.Close(); err != nil {
			return fmt.Errorf("close output file: %w", err)
		}
	}
	files = nil
	var view report.Documenter = c
	if opts.Verbose != nil && opts.Verbose() {
		view = c.Wide()
	}
	if err := opts.Render(view); err != nil {
		return err
	}
	if err := noAnswerError(c, opts.APIKeyEnv != ""); err != nil && !c.Interrupted {
		return err
	}
	switch {
	case c.Interrupted:
		return &SilentError{Err: ErrInterrupted}
	case c.RejectedAsInvalid:
		// Not a capacity: the requests are wrong (exit 1, not 3).
		return WithHint(errors.New(loadtest.ErrRequestsRejected+": check --data/--body"),
			"most failures were 400/404/422-like answers, which load does not cause: look at the status codes and errors above, then fix --data, --body or the path parameters (try one request with curl)")
	case !c.Pass && c.Mode == loadtest.ModeFixed:
		return &SilentError{Err: fmt.Errorf("%w: %s", ErrObjectivesNotMet, c.Reason)}
	case !c.Pass:
		return &SilentError{Err: fmt.Errorf("%w: %s", ErrObjectivesNotMet, c.Reason)}
	}
	return nil
}

// pathParams reads --path-params and --path-param into one map.
func (opts *LoadtestOptions) pathParams() (map[string]string, error) {
	params := map[string]string{}
	if opts.PathParamsFile != "" {
		data, err := opts.ReadFile(opts.PathParamsFile)
		if err != nil {
			return nil, fmt.Errorf("read --path-params: %w", err)
		}
		if params, err = loadtest.ParseValues(strings.NewReader(string(data)), opts.PathParamsFile); err != nil {
			return nil, err
		}
	}
	for _, kv := range opts.PathParams {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, FlagErrorf("--path-param %q: want name=value", kv)
		}
		params[k] = v
	}
	return params, nil
}

// feed reads --data (if any) into the feed of the targets, with the order
// and the seed (a random one when --data-order random has no --seed).
func (opts *LoadtestOptions) feed() (*loadtest.Feed, error) {
	order, err := loadtest.ParseDataOrder(opts.DataOrder)
	if err != nil {
		return nil, &FlagError{Err: fmt.Errorf("--data-order: %w", err)}
	}
	f := &loadtest.Feed{Order: order, Seed: opts.Seed}
	if opts.DataFile == "" {
		return f, nil
	}
	raw, err := opts.ReadFile(opts.DataFile)
	if err != nil {
		return nil, fmt.Errorf("read --data: %w", err)
	}
	if f.Data, err = loadtest.ReadData(strings.NewReader(string(raw)), opts.DataFile); err != nil {
		return nil, err
	}
	opts.data = f.Data
	if order == loadtest.OrderRandom && !opts.seedSet {
		f.Seed = rand.Uint64()
		opts.Seed = f.Seed
	}
	return f, nil
}

// targetsError adds a hint to the errors of building targets from an API's definition.
func targetsError(err error) error {
	var missing *loadtest.MissingNameError
	var body *loadtest.BodyMissingError
	var key *loadtest.UnknownBodyKeyError
	var tpl *loadtest.TemplateError
	switch {
	case errors.As(err, &tpl):
		return WithHint(err, "a body is a Go text/template: {{.column}} writes a --data column as it is, {{json .column}} as a JSON value")
	case errors.As(err, &missing):
		return WithHint(err, "a path parameter, required query string or header, or {{."+missing.Name+"}} in a body needs a --data column (or --path-param) of that name")
	case errors.As(err, &body):
		return WithHint(err, "or leave the method out with --methods (e.g. --methods GET)")
	case errors.As(err, &key):
		return WithHint(err, "the key is the method and the resource path as listed, e.g. --body 'POST /orders=order.json'")
	}
	return err
}

// recordInputs puts the data file, the seed and the target-building
// warnings into the result.
func (opts *LoadtestOptions) recordInputs(c *loadtest.Capacity) {
	if opts.data != nil {
		order, _ := loadtest.ParseDataOrder(opts.DataOrder)
		c.Data = opts.data.Info(order)
		if order == loadtest.OrderRandom || opts.seedSet {
			seed := opts.Seed
			c.Seed = &seed
		}
	}
	c.Warnings = append(opts.warnings, c.Warnings...)
}

// MaxTableWidth is the width the default table view keeps to (-v for the
// wide view).
const MaxTableWidth = report.MaxTableWidth
