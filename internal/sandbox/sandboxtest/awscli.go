package sandboxtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// AWSCLI runs the AWS CLI (Debian's awscli in CI) as
// `aws --endpoint-url URL --output json …` with an environment of its own:
// the user's AWS settings never leak in.
type AWSCLI struct {
	t        testing.TB
	bin, url string
	env      []string
}

// NewAWSCLI returns a runner of the AWS CLI against url in region, or skips
// the test when the CLI is not installed.
func NewAWSCLI(t testing.TB, url, region string) *AWSCLI {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not on PATH; install awscli to run this test")
	}
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION="+region, "AWS_REGION="+region,
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1", "HOME="+home,
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
	return &AWSCLI{t: t, bin: bin, url: url, env: env}
}

// Exec runs one command and returns its standard output; the error holds
// both streams.
func (c *AWSCLI) Exec(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append([]string{"--endpoint-url", c.url, "--output", "json"}, args...)...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("aws %v: %w\nstdout: %s\nstderr: %s", args, err, stdout.String(), stderr.String())
	}
	return stdout.Bytes(), nil
}

func (c *AWSCLI) run(out any, args []string) error {
	b, err := c.Exec(args...)
	if err != nil || out == nil || len(bytes.TrimSpace(b)) == 0 {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("aws %v: output is not JSON: %w\n%s", args, err, b)
	}
	return nil
}

// JSON runs one command and decodes its output into out (nil: ignore it);
// it fails the test on an error.
func (c *AWSCLI) JSON(out any, args ...string) {
	c.t.Helper()
	if err := c.run(out, args); err != nil {
		c.t.Fatal(err)
	}
}

// Run runs one command and returns its JSON output as a map.
func (c *AWSCLI) Run(args ...string) map[string]any {
	c.t.Helper()
	out := map[string]any{}
	c.JSON(&out, args...)
	return out
}

// Parallel runs independent commands at once (each starts a Python process,
// a second or more) and returns their outputs in order.
func (c *AWSCLI) Parallel(calls ...[]string) []map[string]any {
	c.t.Helper()
	outs := make([]map[string]any, len(calls))
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, args := range calls {
		outs[i] = map[string]any{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.run(&outs[i], args)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.t.Fatal(err)
	}
	return outs
}
