package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/s3results"
	"github.com/apictl/apictl/internal/sandbox"
)

// shardFile is what shard i of 2 of a ramp 100:300:3 (2 s steps, 1 s
// cool-down, a start time) writes to --results: fixed timestamps and
// latencies drawn from a seeded generator, 503s from the 300 rps step on.
func shardFile(t *testing.T, i int) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := vegeta.NewEncoder(&buf)
	rng := rand.New(rand.NewPCG(uint64(i), 1))
	at := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	for k, rate := range []float64{100, 200, 300} {
		name := fmt.Sprintf("apictl step=%d/3 phase=ramp rate=%g d=2s off=%s shard=%d/2 ramp=100:300:3 at=2026-12-02T15:00:00Z",
			k+1, rate, time.Duration(k)*3*time.Second, i)
		r := rate / 2
		for n := range int(r * 2) {
			lat := time.Duration(8e6 + rng.ExpFloat64()*float64(k+1)*10e6)
			code, errText := uint16(200), ""
			if k == 2 && rng.Float64() < 0.08 {
				code, errText = 503, "503 Service Unavailable"
			}
			res := vegeta.Result{Attack: name, Seq: uint64(n), Code: code, Error: errText, Latency: lat,
				Timestamp: at.Add(time.Duration(k)*3*time.Second + time.Duration(float64(n)/r*1e9)),
				Method:    "GET", URL: "http://127.0.0.1:9/pets"}
			if err := enc.Encode(&res); err != nil {
				t.Fatal(err)
			}
		}
	}
	return buf.Bytes()
}

func TestLoadtestMergeGolden(t *testing.T) {
	files := map[string][]byte{"shard0.bin": shardFile(t, 0), "shard1.bin": shardFile(t, 1)}
	for _, format := range []string{"table", "markdown", "json"} {
		f, tio := NewTestFactory(t)
		root := NewCmdRoot(f, BuildInfo{Version: "test"})
		for _, c := range root.Commands() {
			if c.Name() == "loadtest" {
				root.RemoveCommand(c)
			}
		}
		lt := NewCmdLoadtest(f, nil)
		for _, c := range lt.Commands() {
			if c.Name() == "merge" {
				lt.RemoveCommand(c)
			}
		}
		lt.AddCommand(NewCmdLoadtestMerge(f, func(o *LoadtestMergeOptions) error {
			o.Open = func(name string) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(files[name])), nil }
			return loadtestMergeRun(t.Context(), o)
		}))
		root.AddCommand(lt)
		root.SetArgs([]string{"loadtest", "merge", "-o", format, "--slo", "p99<200ms", "shard0.bin", "shard1.bin"})
		root.SetOut(tio.Out)
		root.SetErr(tio.ErrOut)
		if err := root.Execute(); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if format == "table" {
			for i, line := range strings.Split(tio.Out.String(), "\n") {
				if w := len([]rune(line)); w > MaxTableWidth {
					t.Errorf("line %d is %d columns wide, want at most %d:\n%s", i+1, w, MaxTableWidth, line)
				}
			}
		}
		ext := map[string]string{"table": "txt", "markdown": "md", "json": "json"}[format]
		goldenFile(t, filepath.Join("testdata", "loadtest", "merge."+ext), tio.Out.Bytes())
	}
}

// TestLoadtestMergeFromS3 reads shards' objects from the sandbox's S3: a
// prefix, a prefix without its "/", one object; a missing bucket and an
// empty prefix are said with a way out.
func TestLoadtestMergeFromS3(t *testing.T) {
	sb := sandbox.New(sandbox.Options{})
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if err := sb.CreateBucket("lt-results"); err != nil {
		t.Fatal(err)
	}
	cfg, err := awsapi.LoadConfig(context.Background(), SandboxSettings(url))
	if err != nil {
		t.Fatal(err)
	}
	s3c := awsapi.NewS3Client(cfg, url)
	for i := range 2 {
		w, err := s3results.Create(context.Background(), s3c, "s3://lt-results/run-1/", fmt.Sprintf("shard-%d-of-2.gob", i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(shardFile(t, i)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, src := range []string{"s3://lt-results/run-1/", "s3://lt-results/run-1"} {
		out, stderr, err := runLoadtest(t, "--endpoint-url", url, "loadtest", "merge", src, "--slo", "p99<200ms", "-o", "json")
		if err != nil || !strings.Contains(out, `"sustainable_rps": 200`) || !strings.Contains(out, `"s3://lt-results/run-1/shard-1-of-2.gob"`) {
			t.Errorf("merge %s: %v\n%s\n%s", src, err, stderr, out)
		}
	}
	// One object alone: shard 1 of 2 is missing.
	_, _, err = runLoadtest(t, "--endpoint-url", url, "loadtest", "merge", "s3://lt-results/run-1/shard-0-of-2.gob")
	var printed strings.Builder
	PrintError(&printed, err)
	if !strings.Contains(printed.String(), "no results of shard 1 of 2") {
		t.Errorf("one object: %s", printed.String())
	}
	for src, want := range map[string]string{
		"s3://nope/run-1/":         "hint: give the s3://bucket/prefix/ the shards wrote",
		"s3://lt-results/run-404/": "no objects under s3://lt-results/run-404/",
	} {
		_, _, err := runLoadtest(t, "--endpoint-url", url, "loadtest", "merge", src)
		var printed strings.Builder
		PrintError(&printed, err)
		if err == nil || !strings.Contains(printed.String(), want) || !strings.Contains(printed.String(), "hint: ") {
			t.Errorf("merge %s: %q, want %q and a hint", src, printed.String(), want)
		}
	}
}
