package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/report"
)

func TestSandboxServeFlags(t *testing.T) {
	f, _ := NewTestFactory(t)
	var got *SandboxServeOptions
	cmd := NewCmdSandbox(f, func(o *SandboxServeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"serve", "--addr", "127.0.0.1:0", "--aws-limits", "--account-rate", "100", "--account-burst", "50"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Addr != "127.0.0.1:0" || !got.AWSLimits || got.AccountRate != 100 || got.AccountBurst != 50 || got.Region != "us-east-1" {
		t.Fatalf("options: %+v", got)
	}
	cmd = NewCmdSandbox(f, func(o *SandboxServeOptions) error { return nil })
	cmd.SetArgs([]string{"serve", "--account-rate", "100"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "go together") {
		t.Fatalf("--account-rate without --account-burst: %v", err)
	}
}

// TestSandboxServeRunsUntilCancelled serves, answers a real SDK call, then
// stops cleanly when the context is cancelled.
func TestSandboxServeRunsUntilCancelled(t *testing.T) {
	for _, format := range []report.Format{report.FormatTable, report.FormatJSON} {
		t.Run(string(format), func(t *testing.T) {
			var out, errOut bytes.Buffer
			opts := &SandboxServeOptions{
				IO:      &IOStreams{Out: &out, ErrOut: &errOut},
				Output:  func() report.Options { return report.Options{Format: format} },
				Quiet:   func() bool { return false },
				Verbose: func() bool { return true },
				Addr:    "127.0.0.1:0", Region: "eu-west-1", AWSLimits: true,
			}
			ctx, cancel := context.WithCancel(context.Background())
			url, done := startServe(t, ctx, opts)
			c, err := awsapi.NewClients(ctx, awsapi.Settings{Region: "eu-west-1", EndpointURL: url, StaticCredentials: true, MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.APIGateway.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("p")}); err != nil {
				t.Fatal(err)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("serve: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("serve did not stop after cancel")
			}
			if format == report.FormatJSON {
				var ep sandboxEndpoint
				if err := json.Unmarshal(out.Bytes(), &ep); err != nil || ep.Endpoint != url || ep.Env["AWS_ENDPOINT_URL"] != url || ep.Region != "eu-west-1" {
					t.Fatalf("json output %q: %+v %v", out.String(), ep, err)
				}
			} else if !strings.Contains(out.String(), "--endpoint-url "+url) || !strings.Contains(out.String(), "export AWS_ENDPOINT_URL="+url) {
				t.Fatalf("output does not say how to use the endpoint:\n%s", out.String())
			}
			if !strings.Contains(errOut.String(), "sandbox stopped") || !strings.Contains(errOut.String(), "CreateUsagePlan 201") {
				t.Fatalf("stderr: %q", errOut.String())
			}
		})
	}
}

// TestSandboxServeWithAWSCLI points the AWS CLI at `apictl sandbox serve`
// (skipped when aws is not installed; CI installs Debian's awscli).
func TestSandboxServeWithAWSCLI(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not on PATH")
	}
	var out, errOut bytes.Buffer
	opts := &SandboxServeOptions{
		IO:     &IOStreams{Out: &out, ErrOut: &errOut},
		Output: func() report.Options { return report.Options{Format: report.FormatJSON} },
		Quiet:  func() bool { return true },
		Addr:   "127.0.0.1:0", Region: "us-east-1",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, done := startServe(t, ctx, opts)
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	var ep sandboxEndpoint
	if err := json.Unmarshal(out.Bytes(), &ep); err != nil {
		t.Fatal(err)
	}
	for k, v := range ep.Env {
		if k != "AWS_ENDPOINT_URL" { // older CLIs ignore it: pass --endpoint-url
			env = append(env, k+"="+v)
		}
	}
	env = append(env, "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "c"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "k"),
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1")
	cctx, ccancel := context.WithTimeout(ctx, 90*time.Second)
	defer ccancel()
	cmd := exec.CommandContext(cctx, awsBin, "--endpoint-url", url, "--output", "json", "apigateway", "create-api-key", "--name", "cli-key", "--enabled")
	cmd.Env = env
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws apigateway create-api-key: %v\n%s", err, b)
	}
	var key struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Enabled bool   `json:"enabled"`
	}
	if err := json.Unmarshal(b, &key); err != nil || key.ID == "" || key.Name != "cli-key" || !key.Enabled {
		t.Fatalf("create-api-key output %s: %+v %v", b, key, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// startServe runs sandboxServeRun in the background until ctx is cancelled
// and returns the endpoint once it listens, and the channel of its result.
func startServe(t *testing.T, ctx context.Context, opts *SandboxServeOptions) (string, <-chan error) {
	t.Helper()
	ready := make(chan string, 1)
	opts.Ready = func(url string) { ready <- url }
	done := make(chan error, 1)
	go func() { done <- sandboxServeRun(ctx, opts) }()
	select {
	case url := <-ready:
		return url, done
	case err := <-done:
		t.Fatalf("serve returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("sandbox did not start")
	}
	return "", nil
}
