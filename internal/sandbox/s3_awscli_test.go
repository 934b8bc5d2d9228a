package sandbox

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apictl/apictl/internal/sandbox/sandboxtest"
)

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
	aws := sandboxtest.NewAWSCLI(t, url, "us-east-1")
	must := func(args ...string) string {
		t.Helper()
		out, err := aws.Exec(args...)
		if err != nil {
			t.Fatal(err) // the error holds both streams
		}
		return string(out)
	}

	// Each run of the CLI costs seconds of Python start-up: few runs, each
	// doing much.
	_, err = aws.Exec("s3", "ls", "s3://cli-results/")
	if err == nil || !strings.Contains(err.Error(), "NoSuchBucket") {
		t.Fatalf("ls of a missing bucket: err %v", err)
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
	_, err = aws.Exec("s3", "cp", "s3://cli-results/run 1/none.gob", filepath.Join(down, "none"))
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("cp of a missing key: err %v", err)
	}
}
