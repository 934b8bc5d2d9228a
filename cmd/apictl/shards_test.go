package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/loadtest"
	"github.com/apictl/apictl/internal/s3results"
	"github.com/apictl/apictl/internal/sandbox"
	"github.com/apictl/apictl/internal/sandbox/backend"
)

// serveBackend starts the sandbox's sample backend on loopback for the
// rest of the script and sets the variable args[0] to its URL:
// serve VAR [SLOTS SERVICE QUEUE] (default 64 slots of 1ms: 64,000 rps).
func serveBackend(ts *testscript.TestScript, neg bool, args []string) {
	if neg || (len(args) != 1 && len(args) != 4) {
		ts.Fatalf("usage: serve VAR [SLOTS SERVICE QUEUE]")
	}
	cfg := backend.Config{Slots: 64, Service: time.Millisecond, Queue: 64}
	if len(args) == 4 {
		var err error
		if cfg.Slots, err = strconv.Atoi(args[1]); err != nil {
			ts.Fatalf("serve: slots: %v", err)
		}
		if cfg.Service, err = time.ParseDuration(args[2]); err != nil {
			ts.Fatalf("serve: service: %v", err)
		}
		if cfg.Queue, err = strconv.Atoi(args[3]); err != nil {
			ts.Fatalf("serve: queue: %v", err)
		}
	}
	srv := httptest.NewServer(backend.New(cfg))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL+"/")
}

// apictlBin returns a path that runs this test binary as apictl (see
// TestMain: testscript runs the command named like the executable).
func apictlBin(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "apictl")
	if err := os.Symlink(exe, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// apictlRun runs apictl with args in dir and returns its stdout and exit code.
func apictlRun(t *testing.T, bin, dir string, args ...string) ([]byte, int) {
	t.Helper()
	return apictlRunEnv(t, bin, dir, nil, args...)
}

// apictlRunEnv is apictlRun with more environment variables.
func apictlRunEnv(t *testing.T, bin, dir string, env []string, args ...string) ([]byte, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"), "AWS_EC2_METADATA_DISABLED=true")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("apictl %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	t.Logf("apictl %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	return stdout.Bytes(), code
}

// runShards runs n shards of `apictl loadtest args…` as processes at
// once, with a common --start-at, each writing its results to
// results(i) and its JSON to stdout.
func runShards(t *testing.T, bin, dir string, env []string, n int, results func(i int) string, args ...string) []loadtest.Capacity {
	t.Helper()
	start := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	out := make([]loadtest.Capacity, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := append(slices.Clone(args), "--shard", fmt.Sprintf("%d/%d", i, n), "--start-at", start,
				"--results", results(i), "-o", "json")
			stdout, code := apictlRunEnv(t, bin, dir, env, a...)
			if code != 0 && code != 3 {
				t.Errorf("shard %d exited %d", i, code)
				return
			}
			if err := json.Unmarshal(stdout, &out[i]); err != nil {
				t.Errorf("shard %d JSON: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

func shardFile(i int) string { return fmt.Sprintf("shard%d.bin", i) }

// stepLatencies reads results and returns every latency by step (the
// results' name without the shard).
func stepLatencies(t *testing.T, open func(i int) (io.ReadCloser, error), n int) map[string][]time.Duration {
	t.Helper()
	out := map[string][]time.Duration{}
	for i := range n {
		f, err := open(i)
		if err != nil {
			t.Fatal(err)
		}
		dec := vegeta.NewDecoder(f)
		for {
			var r vegeta.Result
			if err := dec.Decode(&r); err != nil {
				break
			}
			// Group by the step (the label without its shard).
			key := regexp.MustCompile(` shard=\S+`).ReplaceAllString(r.Attack, "")
			out[key] = append(out[key], r.Latency)
		}
		f.Close()
	}
	return out
}

// nearestRankMS is the q quantile of lat (nearest rank) in ms, rounded to
// the µs as the JSON is.
func nearestRankMS(lat []time.Duration, q float64) float64 {
	s := slices.Clone(lat)
	slices.Sort(s)
	k := int(math.Ceil(q*float64(len(s)))) - 1
	return math.Round(float64(s[max(k, 0)])/1e3) / 1e3
}

// shardStore is where the shards' results go: files, or the sandbox's S3.
type shardStore struct {
	env     []string           // for the processes
	flags   []string           // global flags (--endpoint-url)
	results func(i int) string // --results of shard i
	sources []string           // what loadtest merge reads
	open    func(i int) (io.ReadCloser, error)
}

func fileStore(dir string) shardStore {
	return shardStore{
		results: shardFile,
		sources: []string{shardFile(0), shardFile(1), shardFile(2)},
		open:    func(i int) (io.ReadCloser, error) { return os.Open(filepath.Join(dir, shardFile(i))) },
	}
}

// mergeLikeOneRun runs three shards as processes with a common --start-at
// against a backend of known capacity (10 slots × 20 ms = 500 rps; a
// queue of 40 absorbs a loaded machine's bursts, at 3× capacity it is
// full at once and the excess is refused) and merges their results: the merged rate is the shards' sum within 2%, its
// percentiles are the concatenated results', and its verdict is that of
// one run at the total rate, under capacity (pass) and far over it (fail).
func mergeLikeOneRun(t *testing.T, store func(t *testing.T, dir string) shardStore) {
	bin := apictlBin(t)
	b := backend.New(backend.Config{Slots: 10, Service: 20 * time.Millisecond, Queue: 40})
	srv := httptest.NewServer(b)
	defer srv.Close()
	for _, tc := range []struct {
		rate string
		pass bool
	}{{"150", true}, {"1500", false}} {
		t.Run(tc.rate+"rps", func(t *testing.T) {
			dir := t.TempDir()
			st := store(t, dir)
			slo := []string{"--slo", "p99<200ms", "--slo", "errors<1%"}
			args := append([]string{"loadtest", srv.URL + "/", "--rate", tc.rate, "--duration", "2s"}, slo...)
			shards := runShards(t, bin, dir, st.env, 3, st.results, append(slices.Clone(st.flags), args...)...)
			merged, code := apictlRunEnv(t, bin, dir, st.env, slices.Concat(st.flags, []string{"loadtest", "merge"}, st.sources, slo, []string{"-o", "json"})...)
			var c loadtest.Capacity
			if err := json.Unmarshal(merged, &c); err != nil {
				t.Fatalf("merged JSON: %v\n%s", err, merged)
			}
			if len(c.Steps) != 1 || c.Merged == nil || c.Merged.Shards != 3 {
				t.Fatalf("merged: %d steps, merged %+v", len(c.Steps), c.Merged)
			}
			step := c.Steps[0]
			if tc.pass {
				// The shards' own achieved rates add up to the merged one.
				var sum float64
				for _, s := range shards {
					sum += s.Steps[0].AchievedRate
				}
				if math.Abs(step.AchievedRate-sum)/sum > 0.02 {
					t.Errorf("merged rate %.1f rps, the shards' sum %.1f: more than 2%% apart", step.AchievedRate, sum)
				}
			}
			lat := stepLatencies(t, st.open, 3)
			if len(lat) != 1 {
				t.Fatalf("results of %d steps, want 1", len(lat))
			}
			for _, all := range lat {
				if step.Requests != len(all) {
					t.Errorf("merged %d requests, the results hold %d", step.Requests, len(all))
				}
				for _, q := range []struct {
					name string
					got  float64
					q    float64
				}{{"p50", step.Latency.P50, 0.5}, {"p90", step.Latency.P90, 0.9}, {"p99", step.Latency.P99, 0.99}, {"max", step.Latency.Max, 1}} {
					if want := nearestRankMS(all, q.q); q.got != want {
						t.Errorf("merged %s %v ms, the concatenated results' %v ms", q.name, q.got, want)
					}
				}
			}
			single, singleCode := apictlRun(t, bin, dir, append(args, "-o", "json")...)
			var one loadtest.Capacity
			if err := json.Unmarshal(single, &one); err != nil {
				t.Fatalf("single run JSON: %v", err)
			}
			t.Logf("merged: %.0f rps sent, p99 %.1f ms, success %.3f, pass %v (exit %d); one run: %.0f rps, p99 %.1f ms, success %.3f, pass %v (exit %d)",
				step.AchievedRate, step.Latency.P99, step.SuccessRatio, c.Pass, code, one.Steps[0].AchievedRate, one.Steps[0].Latency.P99, one.Steps[0].SuccessRatio, one.Pass, singleCode)
			if c.Pass != tc.pass || one.Pass != tc.pass || code != singleCode {
				t.Errorf("verdicts: merged pass %v (exit %d), one run pass %v (exit %d); want both %v", c.Pass, code, one.Pass, singleCode, tc.pass)
			}
		})
	}
}

// TestShardsMergeLikeOneRun: three shards with results in files.
func TestShardsMergeLikeOneRun(t *testing.T) {
	mergeLikeOneRun(t, func(t *testing.T, dir string) shardStore { return fileStore(dir) })
}

// TestShardsMergeLikeOneRunS3: the same with every shard streaming its
// results to the sandbox's S3 (s3://lt/run/shard-I-of-3.gob) and the merge
// reading the prefix, through the real SDK.
func TestShardsMergeLikeOneRunS3(t *testing.T) {
	if testing.Short() {
		t.Skip("about 12 s of load: runs without -short")
	}
	sb := sandbox.New(sandbox.Options{})
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	cfg, err := awsapi.LoadConfig(context.Background(), awsapi.Settings{Region: "us-east-1", EndpointURL: url, StaticCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	s3c := awsapi.NewS3Client(cfg, url)
	run := 0
	mergeLikeOneRun(t, func(t *testing.T, dir string) shardStore {
		run++
		bucket := fmt.Sprintf("lt-%d", run)
		if err := sb.CreateBucket(bucket); err != nil {
			t.Fatal(err)
		}
		prefix := "s3://" + bucket + "/run/"
		return shardStore{
			env:     []string{"AWS_ACCESS_KEY_ID=AKIDSANDBOX", "AWS_SECRET_ACCESS_KEY=sandbox-secret", "AWS_REGION=us-east-1"},
			flags:   []string{"--endpoint-url", url},
			results: func(int) string { return prefix },
			sources: []string{prefix},
			open: func(i int) (io.ReadCloser, error) {
				return s3results.Open(context.Background(), s3c, fmt.Sprintf("%sshard-%d-of-3.gob", prefix, i))
			},
		}
	})
}

// TestShardsRampFindsCapacity runs a --ramp staircase over three shards
// against a backend that sustains 400 rps (a token bucket: 40 tokens and
// up to 100 ms of waiting absorb a loaded machine's bursts; 440 rps runs
// them out in 2 s, then the excess is refused) and merges it: the
// sustainable rate is within ±10% of 400 (the steps are 365, 390, 415 and
// 440 rps: 365 to 415 are within it, 440 fails on errors), and plan
// generate takes the merged JSON.
func TestShardsRampFindsCapacity(t *testing.T) {
	if testing.Short() {
		t.Skip("about 20 s of load: runs without -short")
	}
	bin := apictlBin(t)
	b := backend.NewBurstBucket(backend.BurstBucketConfig{Rate: 400, Bucket: 40, Service: 5 * time.Millisecond, MaxWait: 100 * time.Millisecond})
	srv := httptest.NewServer(b)
	defer srv.Close()
	dir := t.TempDir()
	slo := []string{"--slo", "p99<1s", "--slo", "errors<1%", "--slo", "throughput>=90%"}
	runShards(t, bin, dir, nil, 3, shardFile, append([]string{"loadtest", srv.URL + "/", "--ramp", "365:440:4", "--step-duration", "4s", "--cool-down", "1s"}, slo...)...)
	merged, code := apictlRun(t, bin, dir, append([]string{"loadtest", "merge", "shard0.bin", "shard1.bin", "shard2.bin", "-o", "json"}, slo...)...)
	if code != 0 {
		t.Fatalf("merge exited %d", code)
	}
	if err := os.WriteFile(filepath.Join(dir, "lt.json"), merged, 0o644); err != nil {
		t.Fatal(err)
	}
	var c loadtest.Capacity
	if err := json.Unmarshal(merged, &c); err != nil {
		t.Fatal(err)
	}
	for _, st := range c.Steps {
		t.Logf("step %.0f rps: %d requests, p99 %.1f ms, success %.3f, pass %v %s", st.Rate, st.Requests, st.Latency.P99, st.SuccessRatio, st.Pass, st.Reason)
	}
	truth := b.Capacity()
	if math.Abs(c.SustainableRPS-truth)/truth > 0.10 {
		t.Errorf("sustainable %.0f rps, want within ±10%% of the backend's %.0f", c.SustainableRPS, truth)
	}
	plan, code := apictlRun(t, bin, dir, "plan", "generate", "--loadtest", "lt.json", "--api", "shop", "--stage", "prod")
	if code != 0 || !bytes.Contains(plan, []byte("rate:")) {
		t.Errorf("plan generate exited %d:\n%s", code, plan)
	}
}

// TestShardWaitInterrupted: Ctrl-C while a shard waits for --start-at
// exits 130 at once, having sent nothing and written no results.
func TestShardWaitInterrupted(t *testing.T) {
	bin := apictlBin(t)
	b := backend.New(backend.Config{Slots: 4, Service: time.Millisecond})
	srv := httptest.NewServer(b)
	defer srv.Close()
	dir := t.TempDir()
	start := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	cmd := exec.Command(bin, "loadtest", srv.URL+"/", "--rate", "10", "--duration", "1s", "--shard", "0/2", "--start-at", start, "--results", "r.bin")
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once the wait is said.
	buf := make([]byte, 4096)
	var said bytes.Buffer
	for !strings.Contains(said.String(), "waiting") {
		n, err := stderr.Read(buf)
		said.Write(buf[:n])
		if err != nil {
			t.Fatalf("stderr ended before the wait was said: %v\n%s", err, said.String())
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stderr)
	said.Write(rest)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130\n%s", err, said.String())
	}
	if !strings.Contains(said.String(), "interrupted while waiting for --start-at: nothing was sent") {
		t.Errorf("stderr does not say so:\n%s", said.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "r.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("results file written: %v", err)
	}
	if st := b.Stats(); st.Served+st.Rejected != 0 {
		t.Errorf("%d requests reached the backend", st.Served+st.Rejected)
	}
}
