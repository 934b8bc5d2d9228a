package sandbox

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// s3CLI returns a runner of the AWS CLI against url with the user's AWS
// settings shut out, or skips the test when the CLI is not installed.
func s3CLI(t *testing.T, url string) func(args ...string) (stdout, stderr string, err error) {
	t.Helper()
	awsBin, err := exec.LookPath("aws")
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
	env = append(env,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1", "HOME="+home,
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
	)
	return func(args ...string) (string, string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, awsBin, append([]string{"--endpoint-url", url}, args...)...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
}

// TestS3AWSCLI drives the sandbox's S3 with 'aws s3 mb|cp|ls': a small
// object (PutObject) and one over the CLI's 8 MB multipart threshold, both
// listed and read back byte for byte.
func TestS3AWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the AWS CLI five times (seconds each); skipped with -short")
	}
	sb := New(Options{})
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	aws := s3CLI(t, url)
	must := func(args ...string) string {
		t.Helper()
		out, errOut, err := aws(args...)
		if err != nil {
			t.Fatalf("aws %v: %v\nstdout: %s\nstderr: %s", args, err, out, errOut)
		}
		return out
	}

	// Each run of the CLI costs seconds of Python start-up: few runs, each
	// doing much.
	_, errOut, err := aws("s3", "ls", "s3://cli-results/")
	if err == nil || !strings.Contains(errOut, "NoSuchBucket") {
		t.Fatalf("ls of a missing bucket: err %v, stderr %s", err, errOut)
	}
	must("s3", "mb", "s3://cli-results")

	up, down := t.TempDir(), t.TempDir()
	want := map[string][]byte{"shard-0-of-2.gob": []byte("a few results\n"), "shard-1-of-2.gob": randomBytes(t, 9<<20)}
	for name, b := range want {
		if err := os.WriteFile(filepath.Join(up, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	must("s3", "cp", "--recursive", up, "s3://cli-results/run 1/")
	if calls := sb.Calls(); calls["s3:CompleteMultipartUpload"] != 1 || calls["s3:PutObject"] != 1 {
		t.Errorf("want one PutObject and one multipart upload (9 MiB is over the CLI's 8 MB threshold), calls %v", calls)
	}
	out := must("s3", "ls", "s3://cli-results/run 1/")
	for _, w := range []string{" 14 shard-0-of-2.gob", " 9437184 shard-1-of-2.gob"} {
		if !strings.Contains(out, w) {
			t.Errorf("ls lacks %q:\n%s", w, out)
		}
	}
	must("s3", "cp", "--recursive", "s3://cli-results/run 1/", down)
	for name, w := range want {
		b, err := os.ReadFile(filepath.Join(down, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, w) {
			t.Errorf("%s read back as %d bytes that differ from the %d written", name, len(b), len(w))
		}
	}
	_, errOut, err = aws("s3", "cp", "s3://cli-results/run 1/none.gob", filepath.Join(down, "none"))
	if err == nil || !strings.Contains(errOut, "404") {
		t.Errorf("cp of a missing key: err %v, stderr %s", err, errOut)
	}
}
