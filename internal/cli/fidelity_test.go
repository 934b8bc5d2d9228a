package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apictl/apictl/internal/plan"
)

// TestLedgerApplyPlanFailsOnSilentNoOp: an UpdateUsagePlan the emulator answers
// 200 without applying makes apply-plan exit 1 naming the field, through
// the whole command and the real SDK.
func TestLedgerApplyPlanFailsOnSilentNoOp(t *testing.T) {
	sb, _ := planSandbox(t)
	good, err := os.ReadFile(filepath.Join("..", "plan", "testdata", "good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(t.TempDir(), "plan.yaml")
	os.WriteFile(planFile, good, 0o644)
	ep := []string{"--endpoint-url", sb.URL()}
	r := runApictl(t, "", false, append(ep, "apply-plan", "-f", planFile, "--auto-approve")...)
	if r.code != 0 || !strings.Contains(r.err, "Reading the live state back") {
		t.Fatalf("first apply: code %d\n%s\n%s", r.code, r.stdout, r.err)
	}
	if !strings.Contains(r.stdout, "403 Forbidden") {
		t.Errorf("apply created keys but did not warn about their delay:\n%s", r.stdout)
	}

	changed := strings.Replace(string(good), "{rate: 20, burst: 10}", "{rate: 30, burst: 10}", 1)
	os.WriteFile(planFile, []byte(changed), 0o644)
	sb.InjectSilentNoOps("UpdateUsagePlan", 1)
	r = runApictl(t, "", false, append(ep, "apply-plan", "-f", planFile, "--auto-approve")...)
	if r.code != ExitError {
		t.Fatalf("silent no-op: code %d, want %d\n%s\n%s", r.code, ExitError, r.stdout, r.err)
	}
	for _, want := range []string{`UpdateUsagePlan of usage plan "gold" returned 200 but /apiStages/`, `:prod/throttle is unchanged`, "hint: the write calls succeeded"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.err)
		}
	}
	if strings.Contains(r.stdout, "Apply complete") {
		t.Errorf("a silent no-op passed as success:\n%s", r.stdout)
	}

	// Without the fault the same command converges and passes.
	r = runApictl(t, "", false, append(ep, "apply-plan", "-f", planFile, "--auto-approve")...)
	if r.code != 0 || !strings.Contains(r.stdout, "Apply complete") {
		t.Fatalf("re-apply: code %d\n%s\n%s", r.code, r.stdout, r.err)
	}
}

// TestLedgerRaisableQuotasWarn: 21 method throttles in a usage
// plan exceed a default quota that can be raised: a warning naming the
// quota, not an error.
func TestLedgerRaisableQuotasWarn(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: apictl/v1\nkind: Plan\napi: a\nstages: [prod]\nusagePlans:\n  - name: p\n    throttle: {rate: 100, burst: 1}\n    methods:\n")
	for i := range 21 {
		fmt.Fprintf(&b, "      GET /m%d: {rate: 1, burst: 1}\n", i)
	}
	f := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(f, []byte(b.String()), 0o644)
	r := runApictl(t, "", false, "plan", "validate", "-f", f)
	if r.code != 0 || !strings.Contains(r.err, `warning: `+f+`:9:7: usage plan "p": 21 method throttles per stage (default quota "Method-level throttling settings per stage in a usage plan" is 20`) {
		t.Fatalf("code %d\n%s\n%s", r.code, r.stdout, r.err)
	}
	r = runApictl(t, "", false, "-o", "json", "plan", "validate", "-f", f)
	var v plan.ValidationResult
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || !v.Valid || len(v.Warnings) != 1 || v.Warnings[0].Default != 20 {
		t.Fatalf("json: %v %+v", err, v)
	}
}

// runWithEnv runs apictl with the given environment.
func runWithEnv(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	f, tio := NewTestFactory(t)
	f.Getenv = func(k string) string { return env[k] }
	root := NewCmdRoot(f, BuildInfo{Version: "test"})
	root.SetArgs(args)
	root.SetOut(tio.Out)
	root.SetErr(tio.ErrOut)
	err = root.ExecuteContext(context.Background())
	return tio.Out.String(), tio.ErrOut.String(), err
}

// TestLedgerLoadtestLoadsTheDiscoveryEndpoint: with only
// AWS_ENDPOINT_URL_API_GATEWAY pointing at the sandbox, loadtest --api
// discovers there and sends its load there (the target printed is the
// sandbox's); a --invoke-url on another endpoint is refused.
func TestLedgerLoadtestLoadsTheDiscoveryEndpoint(t *testing.T) {
	rec := &pathRecorder{}
	sb, _ := cartSandbox(t, rec)
	env := map[string]string{"AWS_ENDPOINT_URL_API_GATEWAY": sb.URL(), "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}
	out, stderr, err := runWithEnv(t, env, "loadtest", "--api", "cart", "--stage", "prod", "--path-param", "userId=42", "--rate", "20", "--duration", "1s", "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var got struct {
		Target string `json:"invoke_url"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.Target, sb.URL()+"/restapis/") {
		t.Errorf("target %q is not on the sandbox %s", got.Target, sb.URL())
	}
	rec.mu.Lock()
	served := len(rec.paths)
	rec.mu.Unlock()
	if served == 0 {
		t.Error("the sandbox's backend received no load")
	}

	// The flag wins over the per-service variable (here a dead port).
	env = map[string]string{"AWS_ENDPOINT_URL_API_GATEWAY": "http://127.0.0.1:1"}
	_, stderr, err = runWithEnv(t, env, "--endpoint-url", sb.URL(), "loadtest", "--api", "cart", "--stage", "prod", "--path-param", "userId=42", "--rate", "5", "--duration", "1s")
	if err != nil {
		t.Fatalf("--endpoint-url must win over AWS_ENDPOINT_URL_API_GATEWAY: %v\n%s", err, stderr)
	}

	// Discovered on the sandbox, load to AWS: refused before any request.
	rec.mu.Lock()
	rec.paths = nil
	rec.mu.Unlock()
	_, _, err = runWithEnv(t, nil, "--endpoint-url", sb.URL(), "loadtest", "--api", "cart", "--stage", "prod", "--path-param", "userId=42",
		"--invoke-url", "https://abc123.execute-api.us-east-1.amazonaws.com/prod", "--rate", "5", "--duration", "1s")
	var buf bytes.Buffer
	PrintError(&buf, err)
	if err == nil || !strings.Contains(buf.String(), "the API was discovered on "+sb.URL()+" but the load would go to https://abc123.execute-api") || !strings.Contains(buf.String(), "hint: ") {
		t.Fatalf("mismatch not refused: %v\n%s", err, buf.String())
	}
}
