package s3results_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/s3results"
	"github.com/apictl/apictl/internal/sandbox"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in, want, obj string
		bad           bool
	}{
		{in: "s3://lt-results/run-42/", want: "s3://lt-results/run-42/"},
		{in: "s3://lt-results/run-42", want: "s3://lt-results/run-42/", obj: "s3://lt-results/run-42"},
		{in: "s3://lt-results", want: "s3://lt-results/"},
		{in: "s3://lt-results/", want: "s3://lt-results/"},
		{in: "s3://lt-results/a/b/c.gob", want: "s3://lt-results/a/b/c.gob/", obj: "s3://lt-results/a/b/c.gob"},
		{in: "s3:///x", bad: true},
		{in: "s3://Upper/x", bad: true},
		{in: "results.gob", bad: true},
		{in: "S3://lt/x", bad: true},
	} {
		loc, err := s3results.ParseLocation(c.in)
		if c.bad {
			var ue *s3results.URIError
			if !errors.As(err, &ue) {
				t.Errorf("ParseLocation(%q) = %v, %v; want a URIError", c.in, loc, err)
			}
			continue
		}
		if err != nil || loc.String() != c.want {
			t.Errorf("ParseLocation(%q) = %q, %v; want %q", c.in, loc, err, c.want)
		}
		obj, err := s3results.ParseObject(c.in)
		if c.obj == "" {
			if err == nil {
				t.Errorf("ParseObject(%q) = %v; want an error (a folder)", c.in, obj)
			}
		} else if err != nil || obj.String() != c.obj {
			t.Errorf("ParseObject(%q) = %v, %v; want %s", c.in, obj, err, c.obj)
		}
	}
	if got := (s3results.Location{Bucket: "lt-results", Prefix: "run/"}).Object("shard-1-of-3.gob").String(); got != "s3://lt-results/run/shard-1-of-3.gob" {
		t.Errorf("Object = %s", got)
	}
	if s3results.IsURI("./s3:/x") || !s3results.IsURI("s3://x/") {
		t.Error("IsURI")
	}
}

// startS3 serves a sandbox with a bucket "lt-results" and returns it and an S3
// client built as apictl builds it (awsapi, loopback endpoint: path-style).
func startS3(t *testing.T) (*sandbox.Sandbox, *s3.Client) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	if err := sb.CreateBucket("lt-results"); err != nil {
		t.Fatal(err)
	}
	cfg, err := awsapi.LoadConfig(context.Background(), awsapi.Settings{Region: "us-east-1", StaticCredentials: true, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return sb, awsapi.NewS3Client(cfg, url)
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// writeInSmallPieces writes data in pieces, as a results encoder does.
func writeInSmallPieces(t *testing.T, w io.Writer, data []byte) {
	t.Helper()
	for off := 0; off < len(data); off += 64 << 10 {
		if _, err := w.Write(data[off:min(off+64<<10, len(data))]); err != nil {
			t.Fatal(err)
		}
	}
}

func readAll(t *testing.T, cl *s3.Client, uri string) []byte {
	t.Helper()
	r, err := s3results.Open(context.Background(), cl, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCreateListOpen(t *testing.T) {
	ctx := context.Background()
	sb, cl := startS3(t)
	big := randomBytes(t, s3results.PartSize+3<<20) // two parts
	small := []byte("one result")
	for name, data := range map[string][]byte{"shard-0-of-2.gob": big, "shard-1-of-2.gob": small} {
		w, err := s3results.Create(ctx, cl, "s3://lt-results/run-42", name)
		if err != nil {
			t.Fatal(err)
		}
		writeInSmallPieces(t, w, data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}
	if c := sb.Calls(); c["s3:CompleteMultipartUpload"] != 1 || c["s3:PutObject"] != 1 {
		t.Errorf("want the large object in parts and the small one in one PutObject: %v", c)
	}
	// An object in a deeper folder is another run's.
	w, err := s3results.Create(ctx, cl, "s3://lt-results/run-42/old/", "shard-0-of-1.gob")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	got, err := s3results.List(ctx, cl, "s3://lt-results/run-42/")
	if err != nil {
		t.Fatal(err)
	}
	if want := "s3://lt-results/run-42/shard-0-of-2.gob s3://lt-results/run-42/shard-1-of-2.gob"; strings.Join(got, " ") != want {
		t.Errorf("List = %v, want %s", got, want)
	}
	if b := readAll(t, cl, got[0]); !bytes.Equal(b, big) {
		t.Errorf("read back %d bytes that differ from the %d written", len(b), len(big))
	}
	if b := readAll(t, cl, got[1]); !bytes.Equal(b, small) {
		t.Errorf("read back %q", b)
	}
	if b := readAll(t, cl, "s3://lt-results/run-42/old/shard-0-of-1.gob"); len(b) != 0 {
		t.Errorf("empty object read back as %d bytes", len(b))
	}
}

// TestCreateStreams: parts leave before Close, so a long run never holds
// all its results.
func TestCreateStreams(t *testing.T) {
	sb, cl := startS3(t)
	w, err := s3results.Create(context.Background(), cl, "s3://lt-results/", "stream.gob")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort(errors.New("test over"))
	writeInSmallPieces(t, w, randomBytes(t, 3*s3results.PartSize))
	// Writes return once the uploader has taken the bytes, and it takes a
	// third part only when an earlier one is sent: UploadPart has been called.
	deadline := time.Now().Add(30 * time.Second)
	for sb.Calls()["s3:UploadPart"] == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("24 MiB written and no part uploaded: %v", sb.Calls())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	ctx := context.Background()
	sb, cl := startS3(t)
	w, err := s3results.Create(ctx, cl, "s3://lt-results/run/", "r.gob")
	if err != nil {
		t.Fatal(err)
	}
	writeInSmallPieces(t, w, randomBytes(t, 2*s3results.PartSize+1))
	w.Abort(errors.New("interrupted"))
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("Close after Abort = %v", err)
	}
	if sb.Calls()["s3:CreateMultipartUpload"] != 1 || sb.Calls()["s3:AbortMultipartUpload"] != 1 {
		t.Errorf("want a multipart upload started and aborted: %v", sb.Calls())
	}
	if n := sb.S3Bytes(); n != 0 {
		t.Errorf("the sandbox still holds %d bytes of parts", n)
	}
	if got, err := s3results.List(ctx, cl, "s3://lt-results/run/"); err != nil || len(got) != 0 {
		t.Errorf("List after Abort = %v, %v", got, err)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	_, cl := startS3(t)
	_, err := s3results.Create(ctx, cl, "s3://missing-bucket/run/", "r.gob")
	var nsb *s3results.NoSuchBucketError
	if !errors.As(err, &nsb) || nsb.Bucket != "missing-bucket" {
		t.Errorf("Create in a missing bucket = %v", err)
	}
	if _, err := s3results.List(ctx, cl, "s3://missing-bucket/"); !errors.As(err, &nsb) {
		t.Errorf("List of a missing bucket = %v", err)
	}
	_, err = s3results.Open(ctx, cl, "s3://lt-results/none.gob")
	var nso *s3results.NoSuchObjectError
	if !errors.As(err, &nso) || nso.Object.String() != "s3://lt-results/none.gob" {
		t.Errorf("Open of a missing object = %v", err)
	}
	if _, err := s3results.Create(ctx, cl, "s3://lt-results/run/", ""); err == nil {
		t.Error("Create without a name succeeded")
	}
	// A Writer whose upload failed refuses further writes instead of blocking.
	w, err := s3results.Create(ctx, cl, "s3://lt-results/run/", "r.gob")
	if err != nil {
		t.Fatal(err)
	}
	w.Abort(errors.New("gone"))
	if _, err := w.Write(make([]byte, 1<<20)); err == nil {
		t.Error("Write after Abort succeeded")
	}
}

// TestBucketInAnotherRegion: a bucket outside the configured region (S3
// answers 301 with x-amz-bucket-region) is written, listed and read in its
// own region, while the configuration keeps its region for the API.
func TestBucketInAnotherRegion(t *testing.T) {
	ctx := context.Background()
	sb := sandbox.New(sandbox.Options{Region: "eu-west-1"})
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	if err := sb.CreateBucket("eu-results"); err != nil {
		t.Fatal(err)
	}
	cfg, err := awsapi.LoadConfig(ctx, awsapi.Settings{Region: "us-east-1", StaticCredentials: true, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	cl := awsapi.NewS3Client(cfg, url)
	if _, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("eu-results")}); err == nil {
		t.Fatal("the sandbox served a request signed for us-east-1 on a bucket in eu-west-1")
	}
	w, err := s3results.Create(ctx, cl, "s3://eu-results/run/", "r.gob")
	if err != nil {
		t.Fatal(err)
	}
	writeInSmallPieces(t, w, []byte("results"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := s3results.List(ctx, cl, "s3://eu-results/run/")
	if err != nil || len(got) != 1 {
		t.Fatalf("List = %v, %v", got, err)
	}
	if b := readAll(t, cl, got[0]); string(b) != "results" {
		t.Errorf("read back %q", b)
	}
}
