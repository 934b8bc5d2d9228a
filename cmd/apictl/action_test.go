package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/sandbox"
)

// actionRun is one run of the GitHub Action's script.
type actionRun struct {
	code    int
	stdout  string
	stderr  string
	summary string
	outputs map[string]string
}

// runAction runs scripts/gh-action.sh as the composite action does, with
// fake GITHUB_STEP_SUMMARY and GITHUB_OUTPUT files and the apictl on PATH
// (this test binary, set up by testscript.Main).
func runAction(t *testing.T, dir, command, args string, extraEnv ...string) actionRun {
	t.Helper()
	summary := filepath.Join(dir, "summary.md")
	output := filepath.Join(dir, "output.txt")
	for _, f := range []string{summary, output} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "APICTL_") && !strings.HasPrefix(kv, "GITHUB_") {
			env = append(env, kv)
		}
	}
	env = append(env, "INPUT_VERSION=installed", "INPUT_COMMAND="+command, "INPUT_ARGS="+args,
		"GITHUB_STEP_SUMMARY="+summary, "GITHUB_OUTPUT="+output, "RUNNER_TEMP="+dir,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "no-config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED=true")
	env = append(env, extraEnv...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "gh-action.sh"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := actionRun{stdout: stdout.String(), stderr: stderr.String(), outputs: map[string]string{}}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run action script: %v", err)
	}
	s, _ := os.ReadFile(summary)
	r.summary = string(s)
	o, _ := os.ReadFile(output)
	for _, line := range strings.Split(strings.TrimSpace(string(o)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			if _, dup := r.outputs[k]; dup {
				t.Fatalf("output %s set twice:\n%s", k, o)
			}
			r.outputs[k] = v
		}
	}
	return r
}

// TestGitHubActionScript runs the action's script against the sandbox:
// apply-plan dry run (changes pending), apply, dry run (none), a loadtest
// search and a failing command, checking the step summary and outputs.
func TestGitHubActionScript(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not on PATH")
	}
	sb := sandbox.New(sandbox.Options{})
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	ctx := context.Background()
	cl, err := awsapi.NewClients(ctx, awsapi.Settings{Region: "us-east-1", EndpointURL: url, StaticCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	ag := cl.APIGateway
	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("cart-api")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id})
	if err != nil {
		t.Fatal(err)
	}
	root := res.Items[0].Id
	if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: root, HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: root, HttpMethod: aws.String("GET"), Type: types.IntegrationTypeMock}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	planYAML := "apiVersion: apictl/v1\nkind: Plan\napi: cart-api\nstages: [prod]\nstage:\n  throttle: {rate: 100, burst: 50}\n  methods:\n    GET /:\n      throttle: {rate: 20, burst: 10}\n"
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(planYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("apiVersion: apictl/v1\nkind: Plan\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ep := "--endpoint-url " + url

	// A dry run with pending changes: exit 2 is not a failure of the step.
	r := runAction(t, dir, "apply-plan", "-f plan.yaml --dry-run --detailed-exitcode "+ep)
	if r.code != 0 || r.outputs["exit-code"] != "2" || r.outputs["changes-pending"] != "true" {
		t.Fatalf("dry run: script exit %d, outputs %v\n%s\n%s", r.code, r.outputs, r.stdout, r.stderr)
	}
	if !strings.HasPrefix(r.summary, "### apictl apply-plan\n") || !strings.Contains(r.summary, "Plan: 0 to create, 1 to update, 0 to delete.") {
		t.Fatalf("dry-run summary:\n%s", r.summary)
	}
	if sb.Calls()["UpdateStage"] != 0 {
		t.Fatal("the dry run changed the stage")
	}

	// Apply, with the endpoint from the environment (APICTL_ENDPOINT_URL).
	r = runAction(t, dir, "apply-plan", "-f plan.yaml --auto-approve", "APICTL_ENDPOINT_URL="+url)
	if r.code != 0 || r.outputs["exit-code"] != "0" || r.outputs["changes-pending"] != "false" || !strings.Contains(r.summary, "Apply complete") {
		t.Fatalf("apply: script exit %d, outputs %v\nsummary:\n%s\nstderr:\n%s", r.code, r.outputs, r.summary, r.stderr)
	}
	if sb.Calls()["UpdateStage"] != 1 {
		t.Fatalf("apply made %d UpdateStage calls, want 1", sb.Calls()["UpdateStage"])
	}
	r = runAction(t, dir, "apply-plan", "-f plan.yaml --dry-run --detailed-exitcode "+ep)
	if r.code != 0 || r.outputs["exit-code"] != "0" || r.outputs["changes-pending"] != "false" || !strings.Contains(r.summary, "No changes") {
		t.Fatalf("converged dry run: script exit %d, outputs %v\n%s", r.code, r.outputs, r.summary)
	}

	// A load-test search against a local backend sets sustainable-rps.
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer backend.Close()
	r = runAction(t, dir, "loadtest", "'"+backend.URL+"/' --find-max --start-rate 5 --max-rate 20 --step-duration 400ms --budget 3s")
	if r.code != 0 || r.outputs["exit-code"] != "0" {
		t.Fatalf("loadtest: script exit %d, outputs %v\n%s\n%s", r.code, r.outputs, r.summary, r.stderr)
	}
	rps, err := strconv.ParseFloat(r.outputs["sustainable-rps"], 64)
	if err != nil || rps <= 0 || rps > 20 {
		t.Fatalf("sustainable-rps %q: want a rate in (0, 20]\n%s", r.outputs["sustainable-rps"], r.summary)
	}
	if !strings.Contains(r.summary, "**Sustainable RPS:** "+r.outputs["sustainable-rps"]) {
		t.Fatalf("summary does not show the sustainable rate %s:\n%s", r.outputs["sustainable-rps"], r.summary)
	}

	// A failing command fails the step with apictl's exit code.
	r = runAction(t, dir, "plan validate", "-f bad.yaml")
	if r.code != 1 || r.outputs["exit-code"] != "1" || !strings.HasPrefix(r.summary, "### apictl plan validate\n") {
		t.Fatalf("bad plan: script exit %d, outputs %v\n%s\n%s", r.code, r.outputs, r.summary, r.stderr)
	}
	if _, ok := r.outputs["changes-pending"]; ok {
		t.Fatalf("changes-pending set for plan validate: %v", r.outputs)
	}
}
