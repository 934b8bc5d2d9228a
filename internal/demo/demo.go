// Package demo runs apictl's whole loop against the built-in emulator: a
// REST API (cart-api, stage prod) in internal/sandbox whose methods share
// one database connection pool of known capacity, each request holding a
// connection for its method's own time. It sends baseline traffic so
// CloudWatch has data, then runs the real commands, measure → loadtest
// --find-max --mix → plan generate → apply-plan, and verifies the result
// with a flood of every method at twice its planned rate at once, sent with
// the load tester's key (whose usage plan has no limits, so what is tested
// is the stage's per-method throttles): the gateway must answer 429 above
// the planned rates while the shared pool rejects (almost) nothing and its
// p99 stays within the objective.
//
// The package does not import the command tree (internal/cli imports it);
// the caller passes a Runner that executes an apictl command line in process.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apictl/apictl/internal/loadtest"
	"github.com/apictl/apictl/internal/measure"
	"github.com/apictl/apictl/internal/plan"
	"github.com/apictl/apictl/internal/report"
)

// Runner executes one apictl command line (without the program name)
// against the sandbox, writing the command's stdout to out; env adds
// environment variables the command sees.
type Runner func(ctx context.Context, out io.Writer, env map[string]string, args ...string) error

// Config configures a demo run.
type Config struct {
	// Quick shortens every phase so the demo ends in under a minute.
	Quick bool
	// Headroom is the share of the found rate the plan allows (default 0.8).
	Headroom float64
	// Dir receives the files the steps exchange (m.json, lt.json,
	// plan.yaml); a temporary directory when empty.
	Dir string
	// Addr is the sandbox listen address (default 127.0.0.1:0).
	Addr string
	// Show receives each step's human output (the commands' tables);
	// Progress receives step titles and progress lines. Either may be
	// io.Discard.
	Show     io.Writer
	Progress io.Writer
	// Methods are the demo API's methods (default DefaultMethods) and Pool
	// the connection pool they share (default DefaultPool).
	Methods []Method
	Pool    Pool
	// Run executes the apictl commands of each step.
	Run Runner
	// ShowFormat is how Show renders results the demo draws itself (the
	// load test's): table or markdown, with or without colour.
	ShowFormat report.Options
	// Keep leaves the sandbox running after the demo (the caller closes
	// World).
	Keep bool
	// Verbose shows every command's whole output (the measure tables, the
	// load test's steps and chart, the plan file, what apply-plan did);
	// by default each step shows the few lines that carry the story.
	Verbose bool
}

// Summary is the JSON model of a demo run.
type Summary struct {
	API        string            `json:"api"`
	Stage      string            `json:"stage"`
	Endpoint   string            `json:"endpoint"`
	Headroom   float64           `json:"headroom"`
	Objectives []string          `json:"objectives"`
	Pool       PoolSummary       `json:"pool"`
	Methods    []MethodSummary   `json:"methods"`
	Seconds    float64           `json:"seconds"`
	Files      map[string]string `json:"files,omitempty"`
	Commands   []string          `json:"equivalent_commands"`
	// NotTested names what the verification flood did not exercise.
	NotTested []string `json:"not_tested"`
	Pass      bool     `json:"pass"`
}

// PoolSummary is the shared connection pool: its true capacity at the mix
// the search used, what the search found, what the plan admits, and what
// the pool did during the verification flood.
type PoolSummary struct {
	Slots int `json:"slots"`
	// Mix is the traffic mix of the search (method → share).
	Mix             map[string]float64 `json:"mix"`
	TrueCapacityRPS float64            `json:"true_capacity_rps"` // at Mix
	FoundRPS        float64            `json:"found_rps"`         // the search's aggregate
	FoundError      float64            `json:"found_error"`       // (found - true) / true
	// PlannedRPS is what the methods' stage throttles admit together;
	// PlannedShare is PlannedRPS / TrueCapacityRPS.
	PlannedRPS   float64 `json:"planned_rps"`
	PlannedShare float64 `json:"planned_share"`
	// UtilisationAtPlan is the share of the pool's connection time the
	// planned rates use: Σ planned × service / slots.
	UtilisationAtPlan float64 `json:"utilisation_at_plan"`
	// SharedBackend is what the search reported (--per-method only).
	SharedBackend bool       `json:"shared_backend"`
	Verify        PoolVerify `json:"verify"`
	// Held is true when, flooded at 2× every planned rate at once, the pool
	// refused under 1% of what reached it and its p99 met the objective.
	Held bool `json:"held"`
}

// PoolVerify is the pool's own account of the verification flood.
type PoolVerify struct {
	OfferedRPS     float64 `json:"offered_rps"`
	Served         int64   `json:"served"`
	Rejected       int64   `json:"rejected"`
	P99MS          float64 `json:"p99_ms"`
	ObjectiveP99MS float64 `json:"objective_p99_ms"`
	MaxInFlight    int64   `json:"max_in_flight"`
}

// MethodSummary compares, for one method, the pool's true capacity for it,
// what the search found, what the plan set and what the verification saw.
type MethodSummary struct {
	Method string `json:"method"`
	// TrueCapacityRPS is the method's share of the pool's capacity at the
	// mix; AloneCapacityRPS what the pool would serve of it alone.
	TrueCapacityRPS  float64 `json:"true_capacity_rps"`
	AloneCapacityRPS float64 `json:"alone_capacity_rps"`
	ServiceMS        float64 `json:"service_ms"`
	FoundRPS         float64 `json:"found_rps"`   // its allocation
	FoundError       float64 `json:"found_error"` // (found - true) / true
	// PlannedRPS and PlannedBurst are the stage throttle of the method.
	PlannedRPS   float64 `json:"planned_rps"`
	PlannedBurst int     `json:"planned_burst"`
	// PartnerRPS and PartnerBurst are the per-key throttle of the method in
	// the partner usage plan.
	PartnerRPS   float64 `json:"partner_rps"`
	PartnerBurst int     `json:"partner_burst"`
	Verify       Verify  `json:"verify"`
}

// Verify is what the verification flood saw of one method.
type Verify struct {
	OfferedRPS     float64 `json:"offered_rps"`
	Requests       int     `json:"requests"`
	OKRPS          float64 `json:"ok_rps"`
	ThrottledShare float64 `json:"throttled_share"` // 429s / requests
	// BackendServed, BackendRejected and BackendP99MS are the pool's counts
	// and server-side p99 for this method.
	BackendServed   int64   `json:"backend_served"`
	BackendRejected int64   `json:"backend_rejected"`
	BackendP99MS    float64 `json:"backend_p99_ms"`
	ObjectiveP99MS  float64 `json:"objective_p99_ms"`
	// AdmittedLimitRPS is the most the throttle should let through.
	AdmittedLimitRPS float64 `json:"admitted_limit_rps"`
	Pass             bool    `json:"pass"`
}

// timings are the phase lengths of a run.
type timings struct {
	baseline             time.Duration
	baselineRate         float64
	step, grow, coolDown time.Duration
	startRate, verify    time.Duration
	startRPS             float64
}

func (c Config) timings() timings {
	if c.Quick {
		return timings{baseline: 2 * time.Second, baselineRate: 20, step: 1500 * time.Millisecond, grow: time.Second, coolDown: 300 * time.Millisecond, startRPS: 40, verify: 3 * time.Second}
	}
	return timings{baseline: 8 * time.Second, baselineRate: 25, step: 3 * time.Second, grow: 1500 * time.Millisecond, coolDown: 500 * time.Millisecond, startRPS: 20, verify: 5 * time.Second}
}

// objective is the latency objective of the demo's load test and
// verification; errors<1% is the other.
const (
	objectiveP99 = 250 * time.Millisecond
	apiName      = "cart-api"
	stageName    = "prod"
	keyName      = "partner-app"
	tierName     = "partner"
)

func (c *Config) step(n int, title string) {
	fmt.Fprintf(c.Progress, "\n━━ %d. %s\n", n, title)
}

// separator goes before each result shown: in markdown a blank line, so
// that one result's list or quote does not run into the next.
func (c *Config) separator() string {
	if c.ShowFormat.Format == report.FormatMarkdown {
		return "\n"
	}
	return ""
}

// showCommand prints args as a command a shell runs as shown: an argument
// with characters the shell treats specially ('p99<250ms') is single-quoted.
// hide maps each argument for display (a work file by its name); redirect
// ends the line (" > m.json").
func (c *Config) showCommand(hide func(string) string, args []string, redirect string) {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(hide(a))
	}
	fmt.Fprintf(c.Progress, "$ apictl %s%s\n", strings.Join(quoted, " "), redirect)
}

// shellQuote single-quotes s when a POSIX shell would not take it as one
// literal word.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=.,/:@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// Run runs the demo and returns its summary; w is the world it ran in,
// still running when cfg.Keep is set.
func Run(ctx context.Context, cfg Config) (*Summary, *World, error) {
	start := time.Now()
	if cfg.Headroom <= 0 {
		cfg.Headroom = 0.8
	}
	if len(cfg.Methods) == 0 {
		cfg.Methods = DefaultMethods
	}
	if cfg.Pool.Slots == 0 {
		cfg.Pool = DefaultPool
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Show == nil {
		cfg.Show = io.Discard
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	// A temporary work directory goes when the demo ends, unless the
	// emulator stays up (--keep) for the user to apply its plan by hand.
	tempDir := cfg.Dir == ""
	if tempDir {
		dir, err := os.MkdirTemp("", "apictl-demo-")
		if err != nil {
			return nil, nil, fmt.Errorf("create work directory: %w", err)
		}
		cfg.Dir = dir
		if !cfg.Keep {
			defer os.RemoveAll(dir)
		}
	} else if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("create %s: %w", cfg.Dir, err)
	}
	tm := cfg.timings()

	// hide shows a path in the work directory by its file name when the
	// directory goes at the end (its full path would name nothing).
	hide := func(text string) string {
		if tempDir && !cfg.Keep {
			return strings.ReplaceAll(text, cfg.Dir+string(filepath.Separator), "")
		}
		return text
	}

	cfg.step(0, "The demo API on the built-in emulator")
	w, err := NewWorld(ctx, apiName, stageName, cfg.Pool, cfg.Methods, cfg.Addr)
	if err != nil {
		return nil, nil, err
	}
	ok := false
	defer func() {
		if !ok || !cfg.Keep {
			w.Close()
		}
	}()
	fmt.Fprintf(cfg.Progress, "sandbox at %s: REST API %s (id %s), stage %s\n", w.Sandbox.URL(), apiName, w.APIID, stageName)
	fmt.Fprintf(cfg.Progress, "  one database pool of %d connections behind every method (room for %d more to wait):\n", cfg.Pool.Slots, cfg.Pool.Queue)
	for _, m := range cfg.Methods {
		fmt.Fprintf(cfg.Progress, "  %-28s holds a connection %v: %s RPS if it were alone; %s of the traffic\n",
			m.Key(), m.Service, report.Num(cfg.Pool.AloneCapacity(m), 0), report.Percent(m.Share, 0))
	}
	fmt.Fprintf(cfg.Progress, "  true capacity at that mix: %s RPS for all methods together\n", report.Num(cfg.Pool.CapacityAt(cfg.Methods, Mix(cfg.Methods)), 0))

	endpoint := []string{"--endpoint-url", w.Sandbox.URL()}
	file := func(name string) string { return filepath.Join(cfg.Dir, name) }
	// run runs one apictl command, shown as typed; its output goes to
	// path, or to Show when path is empty.
	run := func(path string, args ...string) error {
		redirect := ""
		if path != "" {
			redirect = " > " + shellQuote(hide(path))
		}
		cfg.showCommand(hide, args, redirect)
		full := append(append([]string{}, endpoint...), args...)
		env := map[string]string{LoadtestKeyEnv: w.LoadtestKey}
		if path == "" {
			var buf bytes.Buffer
			err := cfg.Run(ctx, &buf, env, full...)
			if _, werr := io.WriteString(cfg.Show, cfg.separator()+hide(buf.String())); err == nil {
				err = werr
			}
			return err
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := cfg.Run(ctx, f, env, full...); err != nil {
			return err
		}
		return f.Close()
	}
	// showView shows a result the demo draws itself, as the commands do.
	showView := func(v report.Documenter) error {
		if _, err := io.WriteString(cfg.Show, cfg.separator()); err != nil {
			return err
		}
		return report.Render(cfg.Show, cfg.ShowFormat, v)
	}
	note := func(level report.NoteLevel, text string) error {
		return showView(report.Document{Blocks: []report.Block{report.Note{Level: level, Text: text}}})
	}

	cfg.step(1, "Baseline traffic so CloudWatch has data")
	writeHistory(w.Sandbox.Metrics(), w, time.Now())
	fmt.Fprintf(cfg.Progress, "wrote a simulated last 24 h of AWS/ApiGateway metrics (daily peak at %s of capacity)\n", report.Percent(historyPeakShare, 0))
	if err := baseline(ctx, w, tm); err != nil {
		return nil, nil, fmt.Errorf("baseline traffic: %w", err)
	}
	fmt.Fprintf(cfg.Progress, "sent %v of live traffic at %s RPS through the emulated gateway, at the mix\n", tm.baseline, report.Num(tm.baselineRate, 0))

	cfg.step(2, "measure: what the API serves now, and its traffic mix")
	measureArgs := []string{"measure", "--api", apiName, "--stage", stageName, "--since", "24h", "--by", "method"}
	if cfg.Verbose {
		if err := run("", measureArgs...); err != nil {
			return nil, nil, err
		}
	}
	if err := run(file("m.json"), append(measureArgs, "-o", "json")...); err != nil {
		return nil, nil, err
	}
	if !cfg.Verbose {
		var u measure.Usage
		if err := readJSON(file("m.json"), &u); err != nil {
			return nil, nil, err
		}
		if err := showView(measureView(&u)); err != nil {
			return nil, nil, err
		}
	}

	cfg.step(3, "loadtest --find-max --mix: what the shared pool sustains at that mix")
	ltArgs := loadtestArgs(tm, file("m.json"))
	if err := run(file("lt.json"), ltArgs...); err != nil && !isObjectives(err) {
		return nil, nil, err
	}
	var capacity loadtest.Capacity
	if err := readJSON(file("lt.json"), &capacity); err != nil {
		return nil, nil, err
	}
	if cfg.Verbose {
		if capacity.Mix != nil {
			capacity.Mix.Source = hide(capacity.Mix.Source)
		}
		if err := showView(&capacity); err != nil {
			return nil, nil, err
		}
	} else {
		if err := showView(capacityView(&capacity)); err != nil {
			return nil, nil, err
		}
	}
	// The summary reads the result as plan generate does.
	ltData, err := os.ReadFile(file("lt.json"))
	if err != nil {
		return nil, nil, err
	}
	lt, err := plan.DecodeLoadtest(ltData)
	if err != nil {
		return nil, nil, err
	}

	cfg.step(4, "plan generate: per-method throttles from each method's allocation")
	if err := run("", "plan", "generate", "--loadtest", file("lt.json"), "--measure", file("m.json"),
		"--api", apiName, "--stage", stageName, "--headroom", fmt.Sprint(cfg.Headroom),
		"--tiers", tierName+":0.5", "--key", keyName+":"+tierName, "--out", file("plan.yaml")); err != nil {
		return nil, nil, err
	}
	if cfg.Verbose {
		planText, err := os.ReadFile(file("plan.yaml"))
		if err != nil {
			return nil, nil, err
		}
		planDoc := report.Document{Blocks: []report.Block{report.Text{Title: "plan.yaml", Text: string(planText), Lang: "yaml"}}}
		if err := showView(planDoc); err != nil {
			return nil, nil, err
		}
	}

	cfg.step(5, "apply-plan: the diff, then applied")
	if err := run("", "apply-plan", "-f", file("plan.yaml"), "--dry-run"); err != nil {
		return nil, nil, err
	}
	// The apply's own table repeats the diff: its JSON gives what was done.
	if err := run(file("apply.json"), "apply-plan", "-f", file("plan.yaml"), "--auto-approve", "-o", "json"); err != nil {
		return nil, nil, err
	}
	var applied plan.ApplyOutput
	if err := readJSON(file("apply.json"), &applied); err != nil {
		return nil, nil, err
	}
	if cfg.Verbose {
		if err := showView(&applied); err != nil {
			return nil, nil, err
		}
	} else if err := note(report.OK, applied.Outcome()+verifiedText(applied.Verified)); err != nil {
		return nil, nil, err
	}
	p, err := plan.Load(file("plan.yaml"))
	if err != nil {
		return nil, nil, err
	}

	cfg.step(6, "verify: flood every method at 2× its planned stage throttle at once, through the gateway")
	fmt.Fprintf(cfg.Progress, "with the load tester's key, whose usage plan has no limits: what is tested is the stage's per-method\nthrottles and the pool behind them, not the %s plan's per-key throttles\n", tierName)
	sum := &Summary{
		API: apiName, Stage: stageName, Endpoint: w.Sandbox.URL(), Headroom: cfg.Headroom,
		Objectives: []string{"p99<" + objectiveP99.String(), "errors<1%"},
		Files:      map[string]string{"measure": file("m.json"), "loadtest": file("lt.json"), "plan": file("plan.yaml"), "apply": file("apply.json")},
	}
	mix := capacityMix(lt, cfg.Methods)
	trueAgg := cfg.Pool.CapacityAt(cfg.Methods, mix)
	sum.Pool = PoolSummary{Slots: cfg.Pool.Slots, Mix: mix, TrueCapacityRPS: round1(trueAgg), FoundRPS: lt.SustainableRPS,
		SharedBackend: lt.SharedBackend}
	if trueAgg > 0 {
		sum.Pool.FoundError = round3((lt.SustainableRPS - trueAgg) / trueAgg)
	}
	var flood []Flood
	connSeconds := 0.0
	for _, m := range cfg.Methods {
		ms := MethodSummary{Method: m.Key(), AloneCapacityRPS: cfg.Pool.AloneCapacity(m), ServiceMS: float64(m.Service) / 1e6}
		ms.TrueCapacityRPS = round1(trueAgg * share(mix, m.Key()))
		for _, mc := range lt.Methods {
			if mc.Key() == m.Key() {
				ms.FoundRPS = mc.SustainableRPS
			}
		}
		if ms.TrueCapacityRPS > 0 {
			ms.FoundError = round3((ms.FoundRPS - ms.TrueCapacityRPS) / ms.TrueCapacityRPS)
		}
		ms.PlannedRPS, ms.PlannedBurst = EffectiveThrottle(p, m.Key())
		ms.PartnerRPS, ms.PartnerBurst = partnerThrottle(p, m.Key())
		sum.Pool.PlannedRPS += ms.PlannedRPS
		connSeconds += ms.PlannedRPS * m.Service.Seconds()
		flood = append(flood, Flood{Key: m.Key(), Verb: m.Verb, URL: w.MethodURL(m), Rate: 2 * ms.PlannedRPS})
		sum.Methods = append(sum.Methods, ms)
	}
	if trueAgg > 0 {
		sum.Pool.PlannedShare = round3(sum.Pool.PlannedRPS / trueAgg)
	}
	sum.Pool.UtilisationAtPlan = round3(connSeconds / float64(cfg.Pool.Slots))
	res, err := FloodPool(ctx, w.Pool, flood, w.LoadtestKey, tm.verify)
	if err != nil {
		return nil, nil, err
	}
	sum.Pool.Verify = res.Pool
	sum.Pool.Held = res.Held()
	sum.Pass = sum.Pool.Held
	for i := range sum.Methods {
		ms := &sum.Methods[i]
		ms.Verify = res.Methods[i]
		ms.Verify.AdmittedLimitRPS = round1(1.1 * (ms.PlannedRPS + float64(ms.PlannedBurst)/tm.verify.Seconds()))
		ms.Verify.Pass = ms.PlannedRPS > 0 && ms.Verify.ThrottledShare > 0 && ms.Verify.OKRPS <= ms.Verify.AdmittedLimitRPS &&
			ms.Verify.BackendP99MS <= ms.Verify.ObjectiveP99MS
		sum.Pass = sum.Pass && ms.Verify.Pass
		fmt.Fprintf(cfg.Progress, "  %-28s sent %s RPS: the gateway answered 429 to %s; the pool served %d, refused %d, p99 %s ms\n",
			ms.Method, report.Num(ms.Verify.OfferedRPS, 0), report.Percent(ms.Verify.ThrottledShare, 0), ms.Verify.BackendServed, ms.Verify.BackendRejected, report.Num(ms.Verify.BackendP99MS, 0))
	}
	fmt.Fprintf(cfg.Progress, "  the shared pool: served %d, refused %d, p99 %s ms (objective %s ms), at most %d requests inside at once: %s\n",
		sum.Pool.Verify.Served, sum.Pool.Verify.Rejected, report.Num(sum.Pool.Verify.P99MS, 0), report.Num(sum.Pool.Verify.ObjectiveP99MS, 0), sum.Pool.Verify.MaxInFlight, heldText(sum.Pool.Held))
	if tempDir && !cfg.Keep {
		sum.Files = nil
	}
	sum.Commands = equivalentCommands(cfg.Headroom)
	sum.NotTested = []string{"the " + tierName + " usage plan's per-key throttles (the flood used the load tester's key, whose usage plan has no limits)"}
	sum.Seconds = math.Round(time.Since(start).Seconds()*10) / 10
	ok = true
	return sum, w, nil
}

// loadtestArgs is the demo's search: the aggregate at the measured mix,
// through the load tester's unthrottled key.
func loadtestArgs(tm timings, mixFile string) []string {
	return []string{"loadtest", "--api", apiName, "--stage", stageName, "--find-max", "--mix", mixFile,
		"--path-param", "userId=42", "--api-key-env", LoadtestKeyEnv, "--slo", "p99<" + objectiveP99.String(), "--slo", "errors<1%",
		"--start-rate", fmt.Sprint(tm.startRPS), "--step-duration", tm.step.String(),
		"--grow-duration", tm.grow.String(), "--cool-down", tm.coolDown.String(), "-o", "json"}
}

func heldText(held bool) string {
	if held {
		return "it held"
	}
	return "it did NOT hold"
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// capacityMix is the mix the search used (its methods' shares, else its
// mix weights), else the demo's configured shares.
func capacityMix(c *plan.LoadtestResult, methods []Method) map[string]float64 {
	mix := map[string]float64{}
	total := 0.0
	for _, m := range c.Methods {
		if m.Share > 0 {
			mix[m.Key()] = m.Share
			total += m.Share
		}
	}
	if total == 0 && c.Mix != nil {
		for k, v := range c.Mix.Weights {
			mix[k] = v
			total += v
		}
	}
	if total == 0 {
		return Mix(methods)
	}
	for k := range mix {
		mix[k] /= total
	}
	return mix
}

func share(mix map[string]float64, key string) float64 {
	total := 0.0
	for _, v := range mix {
		total += v
	}
	if total == 0 {
		return 0
	}
	return mix[key] / total
}

func isObjectives(err error) bool {
	return err != nil && strings.Contains(err.Error(), "objectives not met")
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// EffectiveThrottle returns the stage throttle API Gateway applies to a
// method under the plan: its own setting, else the stage's */*, which
// applies to each method separately.
func EffectiveThrottle(p *plan.Plan, key string) (float64, int) {
	if p.Stage == nil {
		return 0, 0
	}
	for _, m := range p.Stage.Methods {
		if m.Key == key && m.Throttle != nil && m.Throttle.Rate != nil && m.Throttle.Burst != nil {
			return *m.Throttle.Rate, *m.Throttle.Burst
		}
	}
	if t := p.Stage.Throttle; t != nil && t.Rate != nil && t.Burst != nil {
		return *t.Rate, *t.Burst
	}
	return 0, 0
}

// partnerThrottle returns the per-key throttle of a method in the partner
// usage plan: its per-method throttle, else the plan's.
func partnerThrottle(p *plan.Plan, key string) (float64, int) {
	for _, up := range p.UsagePlans {
		if up.Name != tierName {
			continue
		}
		for _, m := range up.Methods {
			if m.Key == key && m.Rate != nil && m.Burst != nil {
				return *m.Rate, *m.Burst
			}
		}
		if up.Throttle != nil && up.Throttle.Rate != nil && up.Throttle.Burst != nil {
			return *up.Throttle.Rate, *up.Throttle.Burst
		}
	}
	return 0, 0
}

// baseline sends steady low traffic to every method, at the methods' mix.
func baseline(ctx context.Context, w *World, tm timings) error {
	return w.SendMix(ctx, tm.baselineRate, tm.baseline)
}

// SendMix sends rate requests per second for d to the methods, split by
// their shares, with the load tester's key, so CloudWatch sees the mix.
func (w *World) SendMix(ctx context.Context, rate float64, d time.Duration) error {
	var targets loadtest.Targets
	for _, m := range w.Methods {
		h := http.Header{}
		h.Set("x-api-key", w.LoadtestKey)
		targets = append(targets, loadtest.Target{Name: m.Key(), Method: m.Verb, URL: w.MethodURL(m), Header: h,
			Weight: max(1, int(math.Round(m.Share*100)))})
	}
	_, err := loadtest.Run(ctx, targets, rate, d, loadtest.Options{NoAbort: true})
	return err
}

// MethodURL is m's invoke URL, with userId 42 for its path parameter.
func (w *World) MethodURL(m Method) string {
	return w.InvokeURL() + strings.ReplaceAll(m.Path, "{userId}", "42")
}

func equivalentCommands(headroom float64) []string {
	return []string{
		"apictl measure --api cart-api --stage prod --since 7d --by method -o json > m.json",
		"apictl loadtest --api cart-api --stage prod --find-max --mix m.json --confirm 60s --path-param userId=42 --slo 'p99<250ms' --slo 'errors<1%' -o json > lt.json",
		fmt.Sprintf("apictl plan generate --loadtest lt.json --measure m.json --api cart-api --stage prod --headroom %g --tiers partner:0.5 --key partner-app:partner --out plan.yaml", headroom),
		"apictl apply-plan -f plan.yaml --dry-run --detailed-exitcode",
		"apictl apply-plan -f plan.yaml --auto-approve",
	}
}
