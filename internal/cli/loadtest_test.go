package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/apictl/apictl/internal/loadtest"
	"github.com/apictl/apictl/internal/sandbox"
	"github.com/apictl/apictl/internal/sandbox/sandboxtest"
)

func TestLoadtestFlags(t *testing.T) {
	run := func(env map[string]string, args ...string) (*LoadtestOptions, error) {
		f, _ := NewTestFactory(t)
		f.Getenv = func(k string) string { return env[k] }
		var got *LoadtestOptions
		cmd := NewCmdLoadtest(f, func(o *LoadtestOptions) error { got = o; return nil })
		cmd.SetArgs(append([]string{}, args...))
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		return got, cmd.Execute()
	}
	o, err := run(map[string]string{"KEY": "secret"}, "http://127.0.0.1:1/x", "--find-max", "--slo", "p99<300ms", "--api-key-env", "KEY", "-H", "X-A: b", "--max-rate", "800")
	if err != nil {
		t.Fatal(err)
	}
	if o.URL != "http://127.0.0.1:1/x" || !o.FindMax || o.MaxRate != 800 || o.StartRate != 10 || o.Precision != 0.05 {
		t.Errorf("options %+v", o)
	}
	h, err := o.headers()
	if err != nil || h.Get("X-Api-Key") != "secret" || h.Get("X-A") != "b" {
		t.Errorf("headers %v %v", h, err)
	}
	var fe *FlagError
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "no target"},
		{[]string{"http://h/x", "--targets", "t.txt"}, "only one of"},
		{[]string{"--api", "cart"}, "--api needs --stage"},
		{[]string{"http://h/x", "--stage", "prod"}, "go with --api"},
		{[]string{"http://h/x", "--per-method"}, "--per-method goes with --find-max"},
		{[]string{"http://h/x", "--find-max", "--rate", "10"}, "drop --rate"},
		{[]string{"http://h/x", "--rate", "0"}, "needs --max-workers"},
		{[]string{"http://h/x", "--slo", "p99<fast"}, `--slo: objective "p99<fast": bad latency`},
		{[]string{"http://h/x", "--api-key-env", "NOPE"}, "NOPE: the variable is empty"},
		{[]string{"http://h/x", "--confirm", "10s"}, "--confirm goes with --find-max"},
		{[]string{"http://h/x", "--find-max", "--mix", "m.json"}, "--mix goes with --api"},
		{[]string{"--api", "a", "--stage", "s", "--find-max", "--mix", "m.json", "--weight", "GET /x=2"}, "--mix or --weight"},
	} {
		_, err := run(nil, c.args...)
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want flag error %q", c.args, err, c.want)
		}
	}
}

// cartSandbox starts a sandbox with REST API "cart" (GET /cart/profile/{userId},
// GET, POST and OPTIONS /items) on stage prod, its integration served by h.
func cartSandbox(t *testing.T, h http.Handler) (*sandbox.Sandbox, string) {
	t.Helper()
	sb, clients := sandboxtest.Start(t, sandbox.New(sandbox.Options{}))
	api := sandboxtest.NewRestAPI(t, clients.APIGateway, "cart")
	api.Method("/cart/profile/{userId}", "GET", apigateway.PutMethodInput{})
	for _, m := range []string{"GET", "POST", "OPTIONS"} {
		api.Method("/items", m, apigateway.PutMethodInput{})
	}
	api.Serve(sb, "prod", h)
	return sb, api.ID
}

// pathRecorder answers 200 (or code) and records the paths it saw.
type pathRecorder struct {
	mu    sync.Mutex
	code  int
	paths map[string]int
}

func (p *pathRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	if p.paths == nil {
		p.paths = map[string]int{}
	}
	p.paths[r.Method+" "+r.URL.Path]++
	code := p.code
	p.mu.Unlock()
	if code == 0 {
		code = 200
	}
	w.WriteHeader(code)
}

func runLoadtest(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return runWithEnv(t, nil, args...)
}

func TestLoadtestAPIDiscoveryFixedRunJSON(t *testing.T) {
	rec := &pathRecorder{}
	sb, _ := cartSandbox(t, rec)
	dir := t.TempDir()
	out, stderr, err := runLoadtest(t, "--endpoint-url", sb.URL(), "loadtest", "--api", "cart", "--stage", "prod",
		"--path-param", "userId=42", "--rate", "60", "--duration", "1s", "--weight", "GET /items=2",
		"--results", filepath.Join(dir, "r.bin"), "--html", filepath.Join(dir, "plot.html"), "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var got struct {
		Target     string   `json:"target"`
		API        string   `json:"api"`
		Mode       string   `json:"mode"`
		Objectives []string `json:"objectives"`
		Pass       bool     `json:"pass"`
		Targets    []string `json:"targets"`
		Steps      []struct {
			Rate         float64            `json:"rate"`
			AchievedRate float64            `json:"achieved_rate"`
			Duration     float64            `json:"duration_s"`
			Requests     int                `json:"requests"`
			Throughput   float64            `json:"throughput"`
			SuccessRatio float64            `json:"success_ratio"`
			Latency      map[string]float64 `json:"latency_ms"`
			Pass         bool               `json:"pass"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.API != "cart" || got.Mode != "fixed" || !got.Pass || len(got.Steps) != 1 || strings.Join(got.Objectives, " ") != "p99<1s errors<1% throughput>=95%" {
		t.Fatalf("json %s", out)
	}
	if strings.Join(got.Targets, ",") != "GET /cart/profile/{userId},GET /items,POST /items" {
		t.Errorf("targets %v (OPTIONS must be skipped)", got.Targets)
	}
	st := got.Steps[0]
	if st.Rate != 60 || st.Requests < 55 || st.SuccessRatio != 1 || st.Latency["p99"] <= 0 || st.AchievedRate < 50 {
		t.Errorf("step %+v", st)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	// Weights 1:2:1 → /items GET gets about half.
	if rec.paths["GET /cart/profile/42"] < 10 || rec.paths["GET /items"] < 2*rec.paths["POST /items"]-3 {
		t.Errorf("backend saw %v", rec.paths)
	}
	f, err := os.Open(filepath.Join(dir, "r.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r vegeta.Result
	if err := vegeta.NewDecoder(f).Decode(&r); err != nil || r.Code != 200 {
		t.Errorf("results file: %v %+v", err, r)
	}
	if html, _ := os.ReadFile(filepath.Join(dir, "plot.html")); !bytes.Contains(html, []byte("<html")) {
		t.Errorf("html plot missing")
	}
}

func TestLoadtestObjectivesMissedExitsThree(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusTooManyRequests)
	}))
	defer srv.Close()
	out, _, err := runLoadtest(t, "loadtest", srv.URL, "--rate", "40", "--duration", "1s", "-q")
	if ExitCode(err) != ExitObjectivesMiss || !errors.Is(err, ErrObjectivesNotMet) {
		t.Fatalf("exit %d err %v", ExitCode(err), err)
	}
	if !strings.Contains(out, "FAIL errors 100% > 1%") || !strings.Contains(out, "429×") {
		t.Errorf("report:\n%s", out)
	}
	var buf bytes.Buffer
	PrintError(&buf, err)
	if buf.Len() != 0 {
		t.Errorf("the report already says why; stderr got %q", buf.String())
	}
}

func TestLoadtestFindMaxPerMethodTable(t *testing.T) {
	rec := &pathRecorder{}
	sb, _ := cartSandbox(t, rec)
	dir := t.TempDir()
	out, stderr, err := runLoadtest(t, "--endpoint-url", sb.URL(), "loadtest", "--api", "cart", "--stage", "prod",
		"--path-param", "userId=7", "--methods", "GET", "--find-max", "--per-method", "--start-rate", "10", "--max-rate", "40",
		"--step-duration", "400ms", "--cool-down", "0", "--chart", filepath.Join(dir, "chart.html"))
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{"Load test: cart (prod)", "Per method", "GET /cart/profile/{userId}", "GET /items", "Sustainable RPS", "p99 latency by rate: GET /items", "max-rate"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "POST /items") {
		t.Errorf("--methods GET let POST through:\n%s", out)
	}
	if !strings.Contains(stderr, "step 1 GET /cart/profile/{userId} grow") || !strings.Contains(stderr, "GET /items grow") {
		t.Errorf("no progress on stderr: %q", stderr)
	}
	if chart, _ := os.ReadFile(filepath.Join(dir, "chart.html")); !bytes.Contains(chart, []byte("<svg")) {
		t.Errorf("chart missing")
	}
}

func TestLoadtestMissingPathParamHint(t *testing.T) {
	sb, _ := cartSandbox(t, &pathRecorder{})
	_, _, err := runLoadtest(t, "--endpoint-url", sb.URL(), "loadtest", "--api", "cart", "--stage", "prod", "--rate", "5", "--duration", "1s")
	if err == nil || !strings.Contains(err.Error(), "--path-param userId=VALUE") {
		t.Fatalf("err %v", err)
	}
	_, _, err = runLoadtest(t, "--endpoint-url", sb.URL(), "loadtest", "--api", "nope", "--stage", "prod")
	if err == nil || !strings.Contains(err.Error(), `no REST API named or with id "nope"`) {
		t.Fatalf("err %v", err)
	}
}

// capacityRunner is a deterministic stand-in for the vegeta engine: up to
// capacity rps every request succeeds with latency growing with load;
// above, the excess is refused with 429 (and the step aborted after 1 s).
type capacityRunner struct{ capacity float64 }

func (r capacityRunner) RunStep(_ context.Context, spec loadtest.StepSpec) (loadtest.Step, error) {
	d := spec.Duration.Seconds()
	st := loadtest.Step{Phase: spec.Phase, Rate: spec.Rate, AchievedRate: spec.Rate, Duration: d, PlannedDuration: d}
	load := math.Min(spec.Rate/r.capacity, 1)
	st.Latency = loadtest.LatencyMS{P50: 20 + 30*load*load, P90: 22 + 60*load*load, P95: 23 + 70*load*load, P99: 25 + 100*load*load, Max: 40 + 150*load*load, Mean: 21 + 30*load*load}
	st.SuccessRatio = math.Min(1, r.capacity/spec.Rate)
	if st.SuccessRatio < 0.98 {
		st.Aborted, st.Reason, st.Duration = true, "aborted: errors above twice the objective in the last second", 1
		st.AchievedRate = spec.Rate
	}
	st.Requests = int(spec.Rate * st.Duration)
	st.Successes = int(float64(st.Requests) * st.SuccessRatio)
	st.Throughput = spec.Rate * st.SuccessRatio
	st.ThroughputRatio = st.SuccessRatio
	if st.SuccessRatio < 1 {
		st.StatusCodes = map[string]int{"200": st.Successes, "429": st.Requests - st.Successes}
		st.Errors = []string{fmt.Sprintf("429 Too Many Requests (×%d)", st.Requests-st.Successes)}
	} else {
		st.StatusCodes = map[string]int{"200": st.Requests}
	}
	return st, nil
}

func TestLoadtestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"search", []string{"http://127.0.0.1:9/pets", "--find-max", "--cool-down", "0", "--slo", "p99<300ms"}},
		{"fixed-fail", []string{"http://127.0.0.1:9/pets", "--rate", "500", "--duration", "5s"}},
		{"search-16", []string{"http://127.0.0.1:9/pets", "--find-max", "--cool-down", "0", "--slo", "p99<300ms", "--start-rate", "0.5", "--precision", "0.005", "--budget", "10m", "--confirm", "30s"}},
	} {
		for _, format := range []string{"table", "markdown", "json"} {
			f, tio := NewTestFactory(t)
			root := NewCmdRoot(f, BuildInfo{Version: "test"})
			for _, c := range root.Commands() {
				if c.Name() == "loadtest" {
					root.RemoveCommand(c)
				}
			}
			root.AddCommand(NewCmdLoadtest(f, func(o *LoadtestOptions) error {
				o.Runner = capacityRunner{capacity: 400}
				return loadtestRun(context.Background(), o)
			}))
			root.SetArgs(append([]string{"loadtest", "-q", "-o", format}, tc.args...))
			root.SetOut(tio.Out)
			root.SetErr(tio.ErrOut)
			err := root.Execute()
			if tc.name == "fixed-fail" && ExitCode(err) != ExitObjectivesMiss {
				t.Errorf("%s %s: exit %d (%v), want 3", tc.name, format, ExitCode(err), err)
			}
			if format == "table" {
				for i, line := range strings.Split(tio.Out.String(), "\n") {
					if w := len([]rune(line)); w > MaxTableWidth {
						t.Errorf("%s: line %d is %d columns wide, want at most %d:\n%s", tc.name, i+1, w, MaxTableWidth, line)
					}
				}
			}
			if strings.HasPrefix(tc.name, "search") && err != nil {
				t.Errorf("%s %s: %v", tc.name, format, err)
			}
			ext := map[string]string{"table": "txt", "markdown": "md", "json": "json"}[format]
			goldenFile(t, filepath.Join("testdata", "loadtest", tc.name+"."+ext), tio.Out.Bytes())
		}
	}
}

// TestLoadtestSigV4UsesAWSConfig: --sigv4 signs with the configured
// credentials and region (the sandbox's fake ones with a loopback
// --endpoint-url); the server recomputes every signature.
func TestLoadtestSigV4UsesAWSConfig(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKIDSANDBOX", SecretAccessKey: "sandbox-secret"}
	var mu sync.Mutex
	ok, bad := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		signed := ""
		for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ", ") {
			if k, v, found := strings.Cut(part, "="); found && k == "SignedHeaders" {
				signed = v
			}
		}
		when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
		re, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
		for _, h := range strings.Split(signed, ";") {
			if h != "host" {
				re.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
			}
		}
		const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		if err == nil {
			err = v4.NewSigner().SignHTTP(context.Background(), creds, re, emptySHA256, "execute-api", "us-east-1", when)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil || auth == "" || re.Header.Get("Authorization") != auth {
			bad++
			w.WriteHeader(http.StatusForbidden)
			return
		}
		ok++
	}))
	defer srv.Close()
	_, stderr, err := runLoadtest(t, "--endpoint-url", srv.URL, "loadtest", srv.URL+"/pets?x=1", "--sigv4", "--rate", "20", "--duration", "1s", "-q")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if ok < 15 || bad != 0 {
		t.Errorf("verified %d, rejected %d", ok, bad)
	}
}

func TestLoadtestMixFromMeasure(t *testing.T) {
	sb, _ := cartSandbox(t, &pathRecorder{})
	dir := t.TempDir()
	mix := filepath.Join(dir, "mix.json")
	if err := os.WriteFile(mix, []byte(`{"api":"cart","stage":"prod","methods":[
		{"resource":"/cart/profile/{userId}","method":"GET","count":300,"avg_rps":3},
		{"resource":"/items","method":"POST","count":100,"avg_rps":1}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runLoadtest(t, "--endpoint-url", sb.URL(), "loadtest", "--api", "cart", "--stage", "prod",
		"--path-param", "userId=42", "--find-max", "--mix", mix, "--start-rate", "20", "--max-rate", "40",
		"--step-duration", "1s", "--cool-down", "0", "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var got struct {
		SustainableRPS float64 `json:"sustainable_rps"`
		Mix            struct {
			Source  string             `json:"source"`
			Weights map[string]float64 `json:"weights"`
		} `json:"mix"`
		Confirmed bool `json:"confirmed"`
		Methods   []struct {
			Name           string  `json:"name"`
			Share          float64 `json:"share"`
			SustainableRPS float64 `json:"sustainable_rps"`
		} `json:"methods"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.SustainableRPS != 40 || got.Mix.Source != "measure:"+mix || got.Mix.Weights["GET /cart/profile/{userId}"] != 0.75 || got.Confirmed {
		t.Fatalf("json %s", out)
	}
	if len(got.Methods) != 2 || got.Methods[0].SustainableRPS != 30 || got.Methods[1].Name != "POST /items" || got.Methods[1].SustainableRPS != 10 {
		t.Fatalf("methods %+v, want allocations 30 and 10 of 40", got.Methods)
	}
	if !strings.Contains(strings.Join(got.Warnings, "\n"), "GET /items has no traffic in the measured mix") {
		t.Errorf("warnings %q, want GET /items left out", got.Warnings)
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"methods":[{"resource":"/nope","method":"DELETE","count":5}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = runLoadtest(t, "--endpoint-url", sb.URL(), "loadtest", "--api", "cart", "--stage", "prod", "--path-param", "userId=1", "--find-max", "--mix", bad)
	if err == nil || !strings.Contains(err.Error(), "DELETE /nope not among the API's methods") {
		t.Fatalf("err = %v, want the missing method named", err)
	}
}

// TestLoadtestUntrustedCertificateIsAnError: an HTTPS target whose
// certificate does not verify answers nothing: exit 1 naming the
// certificate, with --insecure in the hint (the library names no flag).
func TestLoadtestUntrustedCertificateIsAnError(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, _, err := runLoadtest(t, "loadtest", srv.URL, "--rate", "20", "--duration", "500ms", "-q")
	if ExitCode(err) != ExitError || errors.Is(err, ErrObjectivesNotMet) {
		t.Fatalf("exit %d err %v", ExitCode(err), err)
	}
	var buf bytes.Buffer
	PrintError(&buf, err)
	if !strings.Contains(buf.String(), "certificate") || !strings.Contains(buf.String(), "hint: the server's certificate did not verify: --insecure") {
		t.Errorf("stderr:\n%s", buf.String())
	}
}

// TestLoadtestEvery403IsAnError: a run in which every answer is 403 measured
// nothing about capacity: exit 1 with the cause and the --api-key-env hint,
// not exit 3; the report is still printed.
func TestLoadtestEvery403IsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message":"Forbidden"}`, http.StatusForbidden)
	}))
	defer srv.Close()
	out, _, err := runLoadtest(t, "loadtest", srv.URL, "--rate", "30", "--duration", "1s", "-q")
	if ExitCode(err) != ExitError || errors.Is(err, ErrObjectivesNotMet) {
		t.Fatalf("exit %d err %v", ExitCode(err), err)
	}
	var buf bytes.Buffer
	PrintError(&buf, err)
	if !strings.Contains(buf.String(), "apictl: error: every response was 401/403") || !strings.Contains(buf.String(), "hint: the method needs an API key: pass it with --api-key-env NAME") {
		t.Errorf("stderr:\n%s", buf.String())
	}
	if !strings.Contains(out, "403×") {
		t.Errorf("report:\n%s", out)
	}
}
