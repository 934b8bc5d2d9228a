// Package demo runs apictl's whole loop against the built-in emulator: a
// REST API (cart-api, stage prod) in internal/sandbox in front of sample
// backends of known capacity. It sends baseline traffic so CloudWatch has
// data, then runs the real commands, measure → loadtest --find-max
// --per-method → plan generate → apply-plan, and verifies the result with
// an attack at twice the found rate: the gateway must answer 429 above the
// planned rate while the backends stay within their latency objective.
//
// The package does not import the command tree (internal/cli imports it);
// the caller passes a Runner that executes an apictl command line in process.
package demo

import (
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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"

	"github.com/apictl/apictl/internal/loadtest"
	"github.com/apictl/apictl/internal/plan"
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
	// Methods are the demo API's methods (default DefaultMethods).
	Methods []Method
	// Run executes the apictl commands of each step.
	Run Runner
	// ShowCapacity renders a load-test result as 'apictl loadtest' does.
	ShowCapacity func(w io.Writer, c *loadtest.Capacity) error
	// Keep leaves the sandbox running after the demo (the caller closes
	// World).
	Keep bool
}

// Summary is the JSON model of a demo run.
type Summary struct {
	API        string            `json:"api"`
	Stage      string            `json:"stage"`
	Endpoint   string            `json:"endpoint"`
	Headroom   float64           `json:"headroom"`
	Objectives []string          `json:"objectives"`
	Methods    []MethodSummary   `json:"methods"`
	Seconds    float64           `json:"seconds"`
	Files      map[string]string `json:"files,omitempty"`
	Commands   []string          `json:"equivalent_commands"`
	Pass       bool              `json:"pass"`
}

// MethodSummary compares, for one method, the backend's true capacity, what
// the search found, what the plan set and what the verification saw.
type MethodSummary struct {
	Method          string  `json:"method"`
	TrueCapacityRPS float64 `json:"true_capacity_rps"`
	FoundRPS        float64 `json:"found_rps"`
	FoundError      float64 `json:"found_error"` // (found - true) / true
	// PlannedRPS and PlannedBurst are the stage throttle of the method.
	PlannedRPS   float64 `json:"planned_rps"`
	PlannedBurst int     `json:"planned_burst"`
	// PartnerRPS and PartnerBurst are the per-key throttle of the method in
	// the partner usage plan, which the verification's key is in.
	PartnerRPS   float64 `json:"partner_rps"`
	PartnerBurst int     `json:"partner_burst"`
	Verify       Verify  `json:"verify"`
}

// Verify is what the verification attack at twice the found rate saw.
type Verify struct {
	OfferedRPS      float64 `json:"offered_rps"`
	Requests        int     `json:"requests"`
	OKRPS           float64 `json:"ok_rps"`
	ThrottledShare  float64 `json:"throttled_share"` // 429s / requests
	BackendP99MS    float64 `json:"backend_p99_ms"`
	BackendRejected int64   `json:"backend_rejected"`
	ObjectiveP99MS  float64 `json:"objective_p99_ms"`
	// AdmittedLimitRPS is the most the throttles should let through.
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

func (c *Config) showCommand(args []string) {
	fmt.Fprintf(c.Progress, "$ apictl %s\n", strings.Join(args, " "))
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

	cfg.step(0, "Start the emulator and the demo API")
	w, err := NewWorld(ctx, apiName, stageName, cfg.Methods, cfg.Addr)
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
	for _, m := range cfg.Methods {
		fmt.Fprintf(cfg.Progress, "  %-28s backend: %d connections × %v per request = %.0f RPS true capacity\n",
			m.Key(), m.Slots, m.Service, m.Capacity())
	}

	endpoint := []string{"--endpoint-url", w.Sandbox.URL()}
	file := func(name string) string { return filepath.Join(cfg.Dir, name) }
	runTo := func(path string, args ...string) error {
		cfg.showCommand(args)
		full := append(append([]string{}, endpoint...), args...)
		env := map[string]string{LoadtestKeyEnv: w.LoadtestKey}
		if path == "" {
			return cfg.Run(ctx, cfg.Show, env, full...)
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
	show := func(args ...string) error { return runTo("", args...) }

	cfg.step(1, "Baseline traffic so CloudWatch has data")
	writeHistory(w.Sandbox.Metrics(), w, time.Now())
	fmt.Fprintf(cfg.Progress, "wrote a simulated last 24 h of AWS/ApiGateway metrics (daily peak at %.0f%% of capacity)\n", 100*historyPeakShare)
	if err := baseline(ctx, w, tm); err != nil {
		return nil, nil, fmt.Errorf("baseline traffic: %w", err)
	}
	fmt.Fprintf(cfg.Progress, "sent %v of live traffic at %.0f RPS per method through the emulated gateway\n", tm.baseline, tm.baselineRate)

	cfg.step(2, "measure: what the API serves now")
	measureArgs := []string{"measure", "--api", apiName, "--stage", stageName, "--since", "24h", "--by", "method"}
	if err := show(measureArgs...); err != nil {
		return nil, nil, err
	}
	if err := runTo(file("m.json"), append(measureArgs, "-o", "json")...); err != nil {
		return nil, nil, err
	}

	cfg.step(3, "loadtest --find-max --per-method: the sustainable RPS of each backend")
	ltArgs := []string{"loadtest", "--api", apiName, "--stage", stageName, "--find-max", "--per-method",
		"--path-param", "userId=42", "--api-key-env", LoadtestKeyEnv, "--slo", "p99<" + objectiveP99.String(), "--slo", "errors<1%",
		"--start-rate", fmt.Sprint(tm.startRPS), "--step-duration", tm.step.String(),
		"--grow-duration", tm.grow.String(), "--cool-down", tm.coolDown.String(), "-o", "json"}
	if err := runTo(file("lt.json"), ltArgs...); err != nil && !isObjectives(err) {
		return nil, nil, err
	}
	var capacity loadtest.Capacity
	if err := readJSON(file("lt.json"), &capacity); err != nil {
		return nil, nil, err
	}
	if cfg.ShowCapacity != nil {
		if err := cfg.ShowCapacity(cfg.Show, &capacity); err != nil {
			return nil, nil, err
		}
	}

	cfg.step(4, "plan generate: throttles from measured capacity")
	if err := runTo(file("plan.yaml"), "plan", "generate", "--loadtest", file("lt.json"), "--measure", file("m.json"),
		"--api", apiName, "--stage", stageName, "--headroom", fmt.Sprint(cfg.Headroom),
		"--tiers", tierName+":0.5", "--key", keyName+":"+tierName); err != nil {
		return nil, nil, err
	}
	planText, err := os.ReadFile(file("plan.yaml"))
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(cfg.Show, "%s", planText)

	cfg.step(5, "apply-plan: the diff, then applied")
	if err := show("apply-plan", "-f", file("plan.yaml"), "--dry-run"); err != nil {
		return nil, nil, err
	}
	if err := show("apply-plan", "-f", file("plan.yaml"), "--auto-approve"); err != nil {
		return nil, nil, err
	}
	p, err := plan.Load(file("plan.yaml"))
	if err != nil {
		return nil, nil, err
	}

	cfg.step(6, "verify: attack at 2× the found rate with the partner API key")
	key, err := keyValue(ctx, w, keyName)
	if err != nil {
		return nil, nil, err
	}
	sum := &Summary{
		API: apiName, Stage: stageName, Endpoint: w.Sandbox.URL(), Headroom: cfg.Headroom,
		Objectives: []string{"p99<" + objectiveP99.String(), "errors<1%"}, Pass: true,
		Files: map[string]string{"measure": file("m.json"), "loadtest": file("lt.json"), "plan": file("plan.yaml")},
	}
	for _, m := range cfg.Methods {
		ms := MethodSummary{Method: m.Key(), TrueCapacityRPS: m.Capacity()}
		for _, mc := range capacity.Methods {
			if mc.Name == m.Key() {
				ms.FoundRPS = mc.SustainableRPS
			}
		}
		ms.FoundError = (ms.FoundRPS - ms.TrueCapacityRPS) / ms.TrueCapacityRPS
		ms.PlannedRPS, ms.PlannedBurst = plannedThrottle(p, m.Key())
		ms.PartnerRPS, ms.PartnerBurst = partnerThrottle(p, m.Key())
		if ms.FoundRPS > 0 {
			v, err := verify(ctx, w, m, 2*ms.FoundRPS, key, tm.verify, min(ms.PartnerRPS, ms.PlannedRPS), max(ms.PartnerBurst, ms.PlannedBurst))
			if err != nil {
				return nil, nil, err
			}
			ms.Verify = *v
		}
		sum.Pass = sum.Pass && ms.Verify.Pass
		fmt.Fprintf(cfg.Progress, "  %-28s offered %.0f RPS: %.0f%% answered 429, backend p99 %.0f ms (objective %.0f ms)\n",
			m.Key(), ms.Verify.OfferedRPS, 100*ms.Verify.ThrottledShare, ms.Verify.BackendP99MS, ms.Verify.ObjectiveP99MS)
		sum.Methods = append(sum.Methods, ms)
	}
	if tempDir && !cfg.Keep {
		sum.Files = nil
	}
	sum.Commands = equivalentCommands(cfg.Headroom)
	sum.Seconds = math.Round(time.Since(start).Seconds()*10) / 10
	ok = true
	return sum, w, nil
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

// plannedThrottle returns the stage throttle the plan sets for a method.
func plannedThrottle(p *plan.Plan, key string) (float64, int) {
	if p.Stage == nil {
		return 0, 0
	}
	for _, m := range p.Stage.Methods {
		if m.Key == key && m.Throttle != nil && m.Throttle.Rate != nil && m.Throttle.Burst != nil {
			return *m.Throttle.Rate, *m.Throttle.Burst
		}
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

// baseline sends steady low traffic to every method.
func baseline(ctx context.Context, w *World, tm timings) error {
	var targets loadtest.Targets
	for _, m := range w.Methods {
		h := http.Header{}
		h.Set("x-api-key", w.LoadtestKey)
		targets = append(targets, loadtest.Target{Name: m.Key(), Method: m.Verb, URL: w.InvokeURL() + strings.ReplaceAll(m.Path, "{userId}", "42"), Header: h})
	}
	_, err := loadtest.Run(ctx, targets, tm.baselineRate, tm.baseline, loadtest.Options{NoAbort: true})
	return err
}

// keyValue reads the value of the API key the plan created; it is used as a
// header and never printed.
func keyValue(ctx context.Context, w *World, name string) (string, error) {
	out, err := w.Clients.APIGateway.GetApiKeys(ctx, &apigateway.GetApiKeysInput{NameQuery: aws.String(name), IncludeValues: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("read api key %s: %w", name, err)
	}
	for _, k := range out.Items {
		if aws.ToString(k.Name) == name {
			return aws.ToString(k.Value), nil
		}
	}
	return "", fmt.Errorf("api key %s was not created by apply-plan", name)
}

// verify attacks one method at rate for d with the API key and reads the
// backend's own latency, which the gateway's throttle should protect.
//
// It passes when the gateway answered some requests 429, let through no more
// than the planned rate (limit, plus the bucket's burst over the attack,
// with 10% for timing), and the backend stayed within its objectives: p99
// latency, and under 1% of what reached it refused for lack of capacity.
func verify(ctx context.Context, w *World, m Method, rate float64, key string, d time.Duration, limit float64, burst int) (*Verify, error) {
	b := w.Backends[m.Key()]
	b.ResetStats()
	h := http.Header{}
	h.Set("x-api-key", key)
	target := loadtest.Target{Name: m.Key(), Method: m.Verb, URL: w.InvokeURL() + strings.ReplaceAll(m.Path, "{userId}", "42"), Header: h}
	c, err := loadtest.Run(ctx, loadtest.Targets{target}, rate, d, loadtest.Options{NoAbort: true})
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", m.Key(), err)
	}
	st := c.Steps[len(c.Steps)-1]
	bs := b.Stats()
	v := &Verify{
		OfferedRPS:      rate,
		Requests:        st.Requests,
		OKRPS:           st.Throughput,
		BackendP99MS:    float64(bs.P99) / 1e6,
		BackendRejected: bs.Rejected,
		ObjectiveP99MS:  float64(objectiveP99) / 1e6,
	}
	if st.Requests > 0 {
		v.ThrottledShare = float64(st.StatusCodes["429"]) / float64(st.Requests)
	}
	admitted := float64(st.StatusCodes["200"]) / d.Seconds()
	v.AdmittedLimitRPS = 1.1 * (limit + float64(burst)/d.Seconds())
	backendErrors := 0.0
	if reached := bs.Served + bs.Rejected; reached > 0 {
		backendErrors = float64(bs.Rejected) / float64(reached)
	}
	v.Pass = v.ThrottledShare > 0 && v.BackendP99MS <= v.ObjectiveP99MS && backendErrors < 0.01 &&
		limit > 0 && admitted <= v.AdmittedLimitRPS
	return v, nil
}

func equivalentCommands(headroom float64) []string {
	return []string{
		"apictl measure --api cart-api --stage prod --since 7d --by method -o json > m.json",
		"apictl loadtest --api cart-api --stage prod --find-max --per-method --path-param userId=42 --slo 'p99<250ms' --slo 'errors<1%' -o json > lt.json",
		fmt.Sprintf("apictl plan generate --loadtest lt.json --measure m.json --api cart-api --stage prod --headroom %g --tiers partner:0.5 --key partner-app:partner --out plan.yaml", headroom),
		"apictl apply-plan -f plan.yaml --dry-run --detailed-exitcode",
		"apictl apply-plan -f plan.yaml --auto-approve",
	}
}
