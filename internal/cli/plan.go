package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/apictl/apictl/internal/plan"
	"github.com/apictl/apictl/internal/report"
)

// PlanRunFuncs replace the run functions of the plan subcommands in tests;
// nil fields (or a nil *PlanRunFuncs) run the real ones.
type PlanRunFuncs struct {
	Generate func(*PlanGenerateOptions) error
	Validate func(*PlanValidateOptions) error
	Schema   func(*PlanSchemaOptions) error
	Export   func(*PlanExportOptions) error
}

// NewCmdPlan is `apictl plan`: generate, validate and publish the schema of
// plan files.
func NewCmdPlan(f *Factory, runF *PlanRunFuncs) *cobra.Command {
	if runF == nil {
		runF = &PlanRunFuncs{}
	}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Generate, validate and describe plan files (throttles, usage plans, API keys)",
		Long: `A plan file declares the protection of one API: stage and per-method throttles,
usage plans with quotas and per-method throttles, and API keys. It is YAML
with apiVersion: apictl/v1 and kind: Plan; 'apictl plan schema' prints its
JSON Schema, 'apictl plan validate' checks it, 'apictl plan generate' writes
one from measured capacity and 'apictl apply-plan' applies it.

  apiVersion: apictl/v1
  kind: Plan
  api: cart-api              # name or id
  type: rest                 # rest (default) or http
  stages: [prod]
  stage:
    throttle: {rate: 329, burst: 165}     # */* stage default
    detailedMetrics: true
    methods:
      GET /cart/profile/{userId}:
        throttle: {rate: 120, burst: 60}
  usagePlans:
    - name: pro
      throttle: {rate: 100, burst: 50}   # per API key
      quota: {limit: 50000, period: DAY}
      methods:
        GET /cart/profile/{userId}: {rate: 20, burst: 10}
      keys: [alice]
  apiKeys:
    - name: alice
      value: {fromEnv: ALICE_KEY}        # never a literal value

HTTP APIs (type: http) take stage and per-route throttles only: usage plans
and API keys do not exist there.`,
	}
	cmd.AddCommand(NewCmdPlanGenerate(f, runF.Generate), NewCmdPlanValidate(f, runF.Validate), NewCmdPlanSchema(f, runF.Schema))
	cmd.AddCommand(NewCmdPlanExport(f, runF.Export))
	return cmd
}

// PlanGenerateOptions are the options of `apictl plan generate`.
type PlanGenerateOptions struct {
	IO     *IOStreams
	Render func(v report.Documenter) error
	Output func() report.Options

	Loadtest          string
	Measure           string
	API               string
	Type              string
	Stage             string
	Headroom          float64
	Tiers             string
	Keys              []string
	OutFile           string
	NoDetailedMetrics bool
	Force             bool
}

// NewCmdPlanGenerate writes a plan from loadtest (and measure) results.
func NewCmdPlanGenerate(f *Factory, runF func(*PlanGenerateOptions) error) *cobra.Command {
	opts := &PlanGenerateOptions{IO: f.IO, Render: f.Render, Output: f.Output}
	cmd := &cobra.Command{
		Use:   "generate --loadtest LT.json [--measure M.json] --api NAME --stage S [--headroom 0.8] [--tiers NAME:SHARE,...]",
		Short: "Write a plan from measured capacity",
		Long: `Write a plan file (YAML, on stdout or --out) from the JSON of 'apictl loadtest'
and optionally of 'apictl measure' (peak RPS and daily totals). Comments in
the YAML say where each number came from.

The load test should be a search of every method together:
'loadtest --api A --stage S --find-max --mix m.json' (or --per-method, which
checks the methods together). Its sustainable_rps is the aggregate the
backends took at the mix, and each method's sustainable_rps its allocation.

  method throttle rate = floor(headroom × the method's allocation), so the
                         methods together admit at most headroom × aggregate
  */* (stage default)  = API Gateway applies it to EACH method separately; it
                         throttles the methods the plan does not list, which
                         may share the backend: they get what the listed
                         methods leave of floor(headroom × aggregate), at
                         least 1
  bursts               = together at most max_in_flight, the most requests
                         the backend held at once at passing rates (1 each,
                         the rest shared by rate, at most half a second of a
                         rate); without it max(1, ceil(rate × 0.5))
  tier (--tiers NAME:SHARE) usage plan, per API key:
    throttle rate      = floor(SHARE × the rates of all methods), per method
                         floor(SHARE × the method's rate)
    daily quota        = ceil(SHARE × requests on the busiest whole day
                         observed by measure); no quota without --measure

plan generate refuses (exit 1) a result no plan should rest on: a fixed-rate
run, an interrupted search, a search with no passing rate, a failed
--confirm hold, a result of another API or stage, and a search limited by
the gateway's own throttle (limited_by: gateway-throttle, or API Gateway's
own 429s in its lowest failing step): that says only
that the backend takes at least the throttle, and planning from it would
lower the throttle on every run. Measure past it on a test stage without the
throttle (loadtest --invoke-url) or with a load-test key whose usage plan
allows more. --force writes the plan anyway, with a warning comment.

AWS applies throttles and quotas best effort: the YAML's header says so.
Keys (--key NAME:TIER[:ENV]) join a tier's plan; with ENV their value is read
from that environment variable at apply time, otherwise API Gateway
generates it. The result always passes 'apictl plan validate'.`,
		Example: `  apictl measure --api cart-api --stage prod --since 7d --by method -o json > m.json
  apictl loadtest --api cart-api --stage prod --find-max --mix m.json --confirm 60s -o json > lt.json
  apictl plan generate --loadtest lt.json --api cart-api --stage prod > plan.yaml
  apictl plan generate --loadtest lt.json --measure m.json --api cart-api --stage prod \
      --headroom 0.7 --tiers basic:0.1,pro:0.5 --key partner:pro:PARTNER_KEY --out plan.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Loadtest == "" || opts.API == "" || opts.Stage == "" {
				return FlagErrorf("--loadtest, --api and --stage are required")
			}
			if opts.Headroom <= 0 || opts.Headroom > 1 {
				return FlagErrorf("--headroom %g out of range: want 0 < headroom <= 1", opts.Headroom)
			}
			if opts.Type != plan.TypeREST && opts.Type != plan.TypeHTTP {
				return FlagErrorf("--type %q: want rest or http", opts.Type)
			}
			if runF != nil {
				return runF(opts)
			}
			return planGenerateRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Loadtest, "loadtest", "", "JSON written by 'apictl loadtest -o json' (required)")
	fl.StringVar(&opts.Measure, "measure", "", "JSON written by 'apictl measure -o json' (for quotas and peak comments)")
	fl.StringVar(&opts.API, "api", "", "name or id of the API (required)")
	fl.StringVar(&opts.Type, "type", plan.TypeREST, "API type: rest or http")
	fl.StringVar(&opts.Stage, "stage", "", "stage name (required)")
	fl.Float64Var(&opts.Headroom, "headroom", plan.DefaultHeadroom, "share of the sustainable rate to allow (0 < h <= 1)")
	fl.StringVar(&opts.Tiers, "tiers", "", "usage plans as NAME:SHARE of capacity, comma-separated (e.g. basic:0.1,pro:0.5)")
	fl.StringArrayVar(&opts.Keys, "key", nil, "API key NAME:TIER[:ENV] in a tier's plan (repeatable)")
	fl.StringVar(&opts.OutFile, "out", "", "write the plan to this file instead of stdout")
	fl.BoolVar(&opts.NoDetailedMetrics, "no-detailed-metrics", false, "do not enable per-method CloudWatch metrics")
	fl.BoolVar(&opts.Force, "force", false, "plan from a load test result that would be refused (the YAML says so)")
	return cmd
}

// sourceLabel names an input file in plan comments: "loadtest 2026-11-29".
func sourceLabel(kind, path string) string {
	if st, err := os.Stat(path); err == nil {
		return kind + " " + st.ModTime().UTC().Format("2006-01-02")
	}
	return kind + " " + filepath.Base(path)
}

// GeneratedPlan is the JSON model of `apictl plan generate -o json`.
type GeneratedPlan struct {
	API       string  `json:"api"`
	Stage     string  `json:"stage"`
	Headroom  float64 `json:"headroom"`
	BurstRule string  `json:"burst_rule"`
	// AggregateRPS is what the backends sustained with every method at the
	// mix; PlannedRPS what the method throttles admit together.
	AggregateRPS float64 `json:"aggregate_rps"`
	PlannedRPS   float64 `json:"planned_rps"`
	// StageThrottle is */*: the throttle of each method not listed.
	StageThrottle *plan.ThrottleValue `json:"stage_throttle"`
	// Forced lists the refusals --force overrode.
	Forced  []string          `json:"forced,omitempty"`
	Methods []GeneratedMethod `json:"methods"`
	Tiers   []string          `json:"tiers"`
	YAML    string            `json:"yaml"`
	File    string            `json:"file,omitempty"`
}

// GeneratedMethod is one method's planned throttle.
type GeneratedMethod struct {
	Method string  `json:"method"`
	Rate   float64 `json:"rate"`
	Burst  int     `json:"burst"`
}

func planGenerateRun(opts *PlanGenerateOptions) error {
	data, err := os.ReadFile(opts.Loadtest)
	if err != nil {
		return fmt.Errorf("read loadtest result: %w", err)
	}
	lt, err := plan.DecodeLoadtest(data)
	if err != nil {
		return fmt.Errorf("%s: %w", opts.Loadtest, err)
	}
	in := plan.GenerateInput{API: opts.API, Type: opts.Type, Stage: opts.Stage, Headroom: opts.Headroom, Loadtest: lt,
		LoadtestLabel: sourceLabel("loadtest", opts.Loadtest), LoadtestFile: opts.Loadtest, Force: opts.Force}
	if opts.NoDetailedMetrics {
		off := false
		in.DetailedMetrics = &off
	}
	if opts.Measure != "" {
		data, err := os.ReadFile(opts.Measure)
		if err != nil {
			return fmt.Errorf("read measure result: %w", err)
		}
		m, err := plan.DecodeMeasure(data)
		if err != nil {
			return fmt.Errorf("%s: %w", opts.Measure, err)
		}
		in.Measure = m
		in.MeasureLabel = sourceLabel("measure", opts.Measure)
		if !m.Window.Start.IsZero() && !m.Window.End.IsZero() {
			in.MeasureLabel = fmt.Sprintf("measure %s..%s", m.Window.Start.UTC().Format("2006-01-02"), m.Window.End.UTC().Format("2006-01-02"))
		}
	}
	if in.Tiers, err = plan.ParseTiers(opts.Tiers); err != nil {
		return &FlagError{Err: fmt.Errorf("--tiers: %w", err)}
	}
	for _, k := range opts.Keys {
		parts := strings.Split(k, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			return FlagErrorf("--key %q: want NAME:TIER or NAME:TIER:ENV", k)
		}
		gk := plan.GenerateKey{Name: parts[0], Tier: parts[1]}
		if len(parts) == 3 {
			gk.FromEnv = parts[2]
		}
		in.Keys = append(in.Keys, gk)
	}
	p, y, err := plan.Generate(in)
	if err != nil {
		return err
	}
	out := GeneratedPlan{API: opts.API, Stage: opts.Stage, Headroom: opts.Headroom, BurstRule: plan.BurstShareRule, YAML: string(y), File: opts.OutFile,
		AggregateRPS: lt.SustainableRPS, Methods: []GeneratedMethod{}, Tiers: []string{}}
	if lt.MaxInFlight <= 0 {
		out.BurstRule = plan.BurstRule
	}
	if opts.Force {
		for _, r := range plan.CheckLoadtest(lt, opts.API, opts.Stage) {
			out.Forced = append(out.Forced, r.Problem)
			fmt.Fprintf(opts.IO.ErrOut, "warning: --force: %s\n", r.Problem)
		}
	}
	if p.Stage != nil && p.Stage.Throttle != nil {
		out.StageThrottle = &plan.ThrottleValue{Rate: *p.Stage.Throttle.Rate, Burst: *p.Stage.Throttle.Burst}
		for _, m := range p.Stage.Methods {
			if m.Throttle != nil {
				out.Methods = append(out.Methods, GeneratedMethod{Method: m.Key, Rate: *m.Throttle.Rate, Burst: *m.Throttle.Burst})
				out.PlannedRPS += *m.Throttle.Rate
			}
		}
		if len(out.Methods) == 0 {
			out.PlannedRPS = out.StageThrottle.Rate
		}
	}
	for _, u := range p.UsagePlans {
		out.Tiers = append(out.Tiers, u.Name)
	}
	if opts.OutFile != "" {
		if err := os.WriteFile(opts.OutFile, y, 0o644); err != nil {
			return fmt.Errorf("write plan: %w", err)
		}
	}
	if f := opts.Output().Format; opts.OutFile == "" && f != report.FormatJSON && f != report.FormatMarkdown {
		_, err := opts.IO.Out.Write(y)
		return err
	}
	return opts.Render(&out)
}

// Document is the plan itself when it was not written to a file, else
// what it holds and what to do next.
func (g *GeneratedPlan) Document() report.Document {
	if g.File == "" {
		return report.Document{Blocks: []report.Block{report.Text{Text: g.YAML, Lang: "yaml"}}}
	}
	doc := report.Document{Title: "Plan written to " + g.File}
	kv := report.KV{Pairs: []report.Pair{
		{Key: "aggregate sustained", Value: fmt.Sprintf("%g RPS", g.AggregateRPS)},
		{Key: "methods admit", Value: fmt.Sprintf("%g RPS together", g.PlannedRPS)},
		{Key: "*/* (each other method)", Value: fmt.Sprintf("rate %g, burst %d", g.StageThrottle.Rate, g.StageThrottle.Burst)}}}
	for _, m := range g.Methods {
		kv.Pairs = append(kv.Pairs, report.Pair{Key: m.Method, Value: fmt.Sprintf("rate %g, burst %d", m.Rate, m.Burst)})
	}
	if len(g.Tiers) > 0 {
		kv.Pairs = append(kv.Pairs, report.Pair{Key: "usage plans", Value: strings.Join(g.Tiers, ", ")})
	}
	doc.Blocks = append(doc.Blocks, kv, report.Note{Text: "next: apictl apply-plan -f " + g.File + " --dry-run", Level: report.Info})
	return doc
}

// PlanValidateOptions are the options of `apictl plan validate`.
type PlanValidateOptions struct {
	IO     *IOStreams
	Render func(v report.Documenter) error
	Output func() report.Options

	File string
}

// NewCmdPlanValidate checks a plan file.
func NewCmdPlanValidate(f *Factory, runF func(*PlanValidateOptions) error) *cobra.Command {
	opts := &PlanValidateOptions{IO: f.IO, Render: f.Render, Output: f.Output}
	cmd := &cobra.Command{
		Use:   "validate -f FILE",
		Short: "Check a plan file: schema, API Gateway limits and consistency",
		Long: `Check a plan file without calling AWS and report every problem at once, each as
FILE:LINE:COLUMN: message — unknown fields, bad types, rates <= 0, negative
bursts, per-method usage-plan throttles without a plan throttle, more than 20
method throttles in a plan, a key in more than 10 plans or in two plans of
the same stage, bad quota periods and offsets, duplicate names, method keys
not written "VERB /path", unknown keys, literal key values, and usage plans or
keys on an HTTP API. Exit status 1 when there is any problem.`,
		Example: `  apictl plan validate -f plan.yaml
  apictl plan validate -f plan.yaml -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if opts.File != "" {
					return FlagErrorf("give the plan file once: -f FILE or an argument")
				}
				opts.File = args[0]
			}
			if opts.File == "" {
				return FlagErrorf("-f FILE is required")
			}
			if runF != nil {
				return runF(opts)
			}
			return planValidateRun(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.File, "file", "f", "", "plan file (- for stdin)")
	return cmd
}

// printQuotaWarnings writes the plan's raisable-quota warnings to stderr.
func printQuotaWarnings(w io.Writer, p *plan.Plan) {
	for _, x := range plan.Warnings(p) {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
}

// loadPlanFile reads and checks a plan ("-" is stdin).
func loadPlanFile(path string, stdin io.Reader) (*plan.Plan, error) {
	if path == "-" {
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read plan from stdin: %w", err)
		}
		return plan.Check("<stdin>", data)
	}
	return plan.Load(path)
}

func planValidateRun(opts *PlanValidateOptions) error {
	p, err := loadPlanFile(opts.File, opts.IO.In)
	var es plan.Errors
	if err != nil && !errors.As(err, &es) {
		return err
	}
	res := plan.NewValidationResult(opts.File, p, es)
	if p != nil && opts.Output().Format != report.FormatJSON {
		printQuotaWarnings(opts.IO.ErrOut, p)
	}
	if opts.Output().Format == report.FormatJSON {
		if err := opts.Render(res); err != nil {
			return err
		}
		if len(es) > 0 {
			return &SilentError{Err: fmt.Errorf("%s: %d problems", opts.File, len(es))}
		}
		return nil
	}
	if len(es) > 0 {
		fmt.Fprintln(opts.IO.ErrOut, es.Error())
		return fmt.Errorf("%s: %d %s", opts.File, len(es), plural(len(es), "problem", "problems"))
	}
	return opts.Render(res)
}

func plural(n int, one, many string) string { return report.Plural(n, one, many) }

// PlanSchemaOptions are the options of `apictl plan schema`.
type PlanSchemaOptions struct {
	IO *IOStreams
}

// NewCmdPlanSchema prints the plan JSON Schema.
func NewCmdPlanSchema(f *Factory, runF func(*PlanSchemaOptions) error) *cobra.Command {
	opts := &PlanSchemaOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema (draft 2020-12) of plan files",
		Long: `Print the JSON Schema (draft 2020-12) of plan files, generated from the same Go
model the parser uses. Point your editor's YAML language server at it:

  # yaml-language-server: $schema=plan.schema.json

The schema covers structure and ranges; 'apictl plan validate' also checks
the rules across fields (limits, key memberships, duplicates).`,
		Example: `  apictl plan schema > plan.schema.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			_, err := opts.IO.Out.Write(plan.SchemaJSON())
			return err
		},
	}
}
