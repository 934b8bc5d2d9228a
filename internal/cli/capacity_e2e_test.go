package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apictl/apictl/internal/demo"
	"github.com/apictl/apictl/internal/plan"
)

// The end-to-end tests of issue #10: measure → loadtest --find-max (--mix,
// or --per-method) → plan generate → apply-plan against the sandbox through
// the real SDK, in front of one connection pool shared by two methods of
// different cost (the backend's truth is known), then a flood of every
// method at 2× its live throttle at once.
//
// Under the race detector every request is several times slower and the
// searches find less than the truth, so there the tests check what holds
// whatever the search found (the throttles add up to at most headroom ×
// the aggregate, the pool holds the flood) and log the figures that need
// an accurate search (≥ 60% of the capacity planned, the loop twice within
// 5%); .ci/run runs them in full without -race.

// e2ePool is small so the searches stay short under -race on two cores:
// 4 connections, GET 20 ms, POST 40 ms, 70% GET: 4 / 0.026 ≈ 154 RPS at
// the mix (200 and 100 RPS alone).
var (
	e2ePool    = demo.Pool{Slots: 4, Queue: 16}
	e2eMethods = []demo.Method{
		{Verb: "GET", Path: "/cart/profile/{userId}", Service: 20 * time.Millisecond, Share: 0.7},
		{Verb: "POST", Path: "/orders", Service: 40 * time.Millisecond, Share: 0.3},
	}
)

// e2eSearch are the search flags: short steps against a fast backend.
var e2eSearch = []string{"--find-max", "--path-param", "userId=42", "--api-key-env", demo.LoadtestKeyEnv,
	"--slo", "p99<250ms", "--slo", "errors<1%", "--start-rate", "20", "--step-duration", "1s", "--grow-duration", "600ms",
	"--cool-down", "200ms", "--precision", "0.05"}

type e2e struct {
	t   *testing.T
	w   *demo.World
	dir string
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	w, err := demo.NewWorld(context.Background(), "cart-api", "prod", e2ePool, e2eMethods, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return &e2e{t: t, w: w, dir: t.TempDir()}
}

func (e *e2e) file(name string) string { return filepath.Join(e.dir, name) }

// run runs apictl against the sandbox in real time, the load tester's key
// in its environment; stdout goes to out (a file name) when given.
func (e *e2e) run(out string, args ...string) runResult {
	e.t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), System{
		Args: append([]string{"--endpoint-url", e.w.Sandbox.URL()}, args...), In: strings.NewReader(""), Out: &stdout, Err: &stderr,
		Getenv: func(k string) string {
			if k == demo.LoadtestKeyEnv {
				return e.w.LoadtestKey
			}
			return ""
		},
		Build: BuildInfo{Version: "test"},
	})
	if out != "" {
		if err := os.WriteFile(out, stdout.Bytes(), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
	return runResult{code, stdout.String(), stderr.String()}
}

func (e *e2e) must(out string, args ...string) runResult {
	e.t.Helper()
	r := e.run(out, args...)
	if r.code != 0 {
		e.t.Fatalf("apictl %s: exit %d\n%s", strings.Join(args, " "), r.code, r.err)
	}
	return r
}

// measureMix measures the methods' traffic mix from a simulated day of
// metrics (live traffic reaches measure only in whole minutes).
func (e *e2e) measureMix() {
	e.t.Helper()
	e.w.WriteHistory(time.Now())
	e.must(e.file("m.json"), "measure", "--api", "cart-api", "--stage", "prod", "--since", "24h", "--by", "method", "-o", "json")
}

func (e *e2e) loadtest(extra ...string) (*plan.LoadtestResult, time.Duration) {
	e.t.Helper()
	start := time.Now()
	args := append(append([]string{"loadtest", "--api", "cart-api", "--stage", "prod"}, e2eSearch...), extra...)
	r := e.run(e.file("lt.json"), append(args, "-o", "json")...)
	took := time.Since(start)
	if r.code != 0 && r.code != ExitObjectivesMiss {
		e.t.Fatalf("loadtest: exit %d\n%s", r.code, r.err)
	}
	lt, err := plan.DecodeLoadtest([]byte(r.stdout))
	if err != nil {
		e.t.Fatalf("%v\n%s", err, r.stdout)
	}
	return lt, took
}

// stepsText lists the steps of lt.json, to tell a search stopped by a
// stall of the machine from one stopped by the backend.
func (e *e2e) stepsText() string {
	data, err := os.ReadFile(e.file("lt.json"))
	if err != nil {
		return err.Error()
	}
	var lt struct {
		Steps []struct {
			Phase  string  `json:"phase"`
			Rate   float64 `json:"rate"`
			Pass   bool    `json:"pass"`
			Reason string  `json:"reason"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(data, &lt); err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, st := range lt.Steps {
		fmt.Fprintf(&b, "  %s %.0f pass=%v %s\n", st.Phase, st.Rate, st.Pass, st.Reason)
	}
	return b.String()
}

// planAndApply generates the plan from lt.json and applies it.
func (e *e2e) planAndApply() *plan.Plan {
	e.t.Helper()
	e.must("", "plan", "generate", "--loadtest", e.file("lt.json"), "--api", "cart-api", "--stage", "prod", "--out", e.file("plan.yaml"))
	e.must("", "apply-plan", "-f", e.file("plan.yaml"), "--auto-approve")
	p, err := plan.Load(e.file("plan.yaml"))
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// liveThrottles reads each method's effective stage throttle back from the
// gateway (its setting, else */*), as apply-plan left it.
func (e *e2e) liveThrottles() map[string][2]float64 {
	e.t.Helper()
	r := e.must("", "measure", "--api", "cart-api", "--stage", "prod", "--since", "1h", "-o", "json")
	var u struct {
		Throttle struct {
			Stage   *struct{ Rate, Burst float64 }
			Methods map[string]struct{ Rate, Burst float64 }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &u); err != nil {
		e.t.Fatal(err)
	}
	out := map[string][2]float64{}
	for _, m := range e2eMethods {
		switch l, ok := u.Throttle.Methods[m.Key()]; {
		case ok:
			out[m.Key()] = [2]float64{l.Rate, l.Burst}
		case u.Throttle.Stage != nil:
			out[m.Key()] = [2]float64{u.Throttle.Stage.Rate, u.Throttle.Stage.Burst}
		}
	}
	return out
}

// floodHolds floods every method at 2× its live throttle at once with the
// load tester's key (its usage plan has no limits: only the stage
// throttles stand between the flood and the pool) and checks the pool's
// own account: nothing refused, p99 within the objective, and the plan
// admits at least 60% of the pool's capacity at the mix.
func (e *e2e) floodHolds(lt *plan.LoadtestResult) {
	e.t.Helper()
	live := e.liveThrottles()
	var floods []demo.Flood
	planned := 0.0
	for _, m := range e2eMethods {
		th, ok := live[m.Key()]
		if !ok || th[0] <= 0 {
			e.t.Fatalf("%s has no live throttle: %v", m.Key(), live)
		}
		planned += th[0]
		floods = append(floods, demo.Flood{Key: m.Key(), Verb: m.Verb, URL: e.w.MethodURL(m), Rate: 2 * th[0]})
	}
	mix := map[string]float64{}
	for _, m := range lt.Methods {
		mix[m.Key()] = m.SustainableRPS
	}
	truth := e2ePool.CapacityAt(e2eMethods, mix)
	res, err := demo.FloodPool(context.Background(), e.w.Pool, floods, e.w.LoadtestKey, 3*time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Logf("pool at the found mix: true %.0f RPS, found %.1f, planned %.0f (%.0f%%); flood %.0f RPS: served %d, refused %d, p99 %.0f ms, max in flight %d",
		truth, lt.SustainableRPS, planned, 100*planned/truth, res.Pool.OfferedRPS, res.Pool.Served, res.Pool.Rejected, res.Pool.P99MS, res.Pool.MaxInFlight)
	for i, m := range e2eMethods {
		v := res.Methods[i]
		e.t.Logf("  %s: live throttle %v; flood %.0f RPS, %.0f%% answered 429, pool served %d refused %d", m.Key(), live[m.Key()], v.OfferedRPS, 100*v.ThrottledShare, v.BackendServed, v.BackendRejected)
		if v.ThrottledShare <= 0 {
			e.t.Errorf("%s: no 429 at twice its throttle", m.Key())
		}
	}
	if res.Pool.Rejected != 0 {
		e.t.Errorf("the pool refused %d requests of the flood (served %d)", res.Pool.Rejected, res.Pool.Served)
	}
	if res.Pool.P99MS > res.Pool.ObjectiveP99MS {
		e.t.Errorf("the pool's p99 %.0f ms exceeds the objective %.0f ms", res.Pool.P99MS, res.Pool.ObjectiveP99MS)
	}
	if planned < 0.6*truth && !raceEnabled {
		e.t.Errorf("the plan admits %.0f RPS, less than 60%% of the pool's %.0f RPS at the mix; the search's steps:\n%s", planned, truth, e.stepsText())
	}
}

func TestE2ESharedPoolMix(t *testing.T) {
	e := newE2E(t)
	e.measureMix()
	lt, took := e.loadtest("--mix", e.file("m.json"))
	t.Logf("search --mix: %.1f RPS in %v", lt.SustainableRPS, took.Round(100*time.Millisecond))
	if lt.Mix == nil || len(lt.Methods) != 2 {
		t.Fatalf("no mix or methods in the result: %+v", lt)
	}
	for _, m := range lt.Methods {
		if m.Share <= 0 {
			t.Errorf("%s: no share", m.Key())
		}
	}
	p := e.planAndApply()
	sum := 0.0
	for _, m := range p.Stage.Methods {
		sum += *m.Throttle.Rate
	}
	if sum > plan.DefaultHeadroom*lt.SustainableRPS+1e-9 {
		t.Errorf("the method throttles add up to %.0f > %.2f × %.1f", sum, plan.DefaultHeadroom, lt.SustainableRPS)
	}
	e.floodHolds(lt)

	// The loop again, on the same stage: now the live throttles stand in
	// the way. Either the search sees past them to the same figures, or it
	// says the gateway limited it and plan generate refuses, naming it.
	first := map[string]float64{}
	for _, m := range p.Stage.Methods {
		first[m.Key] = *m.Throttle.Rate
	}
	e.measureMix()
	lt2, took2 := e.loadtest("--mix", e.file("m.json"))
	t.Logf("second search: %.1f RPS, limited by %q %v, in %v", lt2.SustainableRPS, lt2.LimitedBy, lt2.GatewayThrottle, took2.Round(100*time.Millisecond))
	r := e.run("", "plan", "generate", "--loadtest", e.file("lt.json"), "--api", "cart-api", "--stage", "prod", "--out", e.file("plan2.yaml"))
	check := t.Errorf
	if raceEnabled {
		check = t.Logf // a search slowed by the race detector is no measure
	}
	if r.code != 0 {
		named := strings.Contains(r.err, "gateway's own throttle stage prod") || strings.Contains(r.err, "API Gateway itself answered")
		if r.code != ExitError || !named || !strings.Contains(r.err, "hint:") {
			t.Fatalf("second plan: exit %d, want 0 or a refusal naming the throttle\n%s", r.code, r.err)
		}
		t.Logf("second plan refused: %s", strings.SplitN(r.err, "\n", 2)[0])
		return
	}
	p2, err := plan.Load(e.file("plan2.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range p2.Stage.Methods {
		if a, b := first[m.Key], *m.Throttle.Rate; math.Abs(a-b) > 0.05*a {
			check("%s: %v then %v, more than 5%% apart", m.Key, a, b)
		}
	}
}

func TestE2ESharedPoolPerMethod(t *testing.T) {
	if raceEnabled {
		// Two searches alone, a joint check and a search at the mix: too
		// long under the race detector; .ci/run runs it without.
		t.Skip("runs without -race (.ci/run)")
	}
	e := newE2E(t)
	lt, took := e.loadtest("--per-method")
	t.Logf("search --per-method: %.1f RPS in %v, shared_backend %v", lt.SustainableRPS, took.Round(100*time.Millisecond), lt.SharedBackend)
	for _, m := range lt.Methods {
		t.Logf("  %s: alone %.1f, together %.1f", m.Key(), m.IsolatedRPS, m.SustainableRPS)
	}
	if !lt.SharedBackend {
		t.Errorf("shared_backend not detected for two methods on one pool")
	}
	e.planAndApply()
	e.floodHolds(lt)
}
