package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/s3results"
	"github.com/apictl/apictl/internal/sandbox"
)

// TestLoadtestResultsToS3 streams a run's results to the sandbox's S3 and
// reads them back: one result per request the JSON counts.
func TestLoadtestResultsToS3(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	sb := sandbox.New(sandbox.Options{})
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if err := sb.CreateBucket("lt-results"); err != nil {
		t.Fatal(err)
	}

	// A missing bucket is said before any load is sent.
	_, stderr, err := runLoadtest(t, "--endpoint-url", url, "loadtest", srv.URL, "--rate", "20", "--duration", "1s",
		"--results", "s3://no-such-bucket/run/")
	var printed strings.Builder
	PrintError(&printed, err)
	if err == nil || !strings.Contains(printed.String(), "hint: create it first (aws s3 mb s3://no-such-bucket)") || hits.Load() != 0 {
		t.Fatalf("missing bucket: %q, %d requests sent\n%s", printed.String(), hits.Load(), stderr)
	}
	if _, _, err := runLoadtest(t, "loadtest", srv.URL, "--results", "s3://Bad/x"); err == nil || !strings.Contains(err.Error(), "--results") {
		t.Fatalf("--results s3://Bad/x: %v", err)
	}

	out, stderr, err := runLoadtest(t, "--endpoint-url", url, "loadtest", srv.URL, "--rate", "40", "--duration", "1s",
		"--results", "s3://lt-results/run-1", "-o", "json")
	if err != nil && !errors.Is(err, ErrObjectivesNotMet) { // a loaded machine may miss the throughput objective
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "s3://lt-results/run-1/results.gob") {
		t.Errorf("stderr does not say where the results go:\n%s", stderr)
	}
	var c struct {
		Steps []struct {
			Requests int `json:"requests"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	cfg, err := awsapi.LoadConfig(context.Background(), SandboxSettings(url))
	if err != nil {
		t.Fatal(err)
	}
	r, err := s3results.Open(context.Background(), awsapi.NewS3Client(cfg, url), "s3://lt-results/run-1/results.gob")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dec := vegeta.NewDecoder(r)
	n := 0
	for {
		var res vegeta.Result
		if err := dec.Decode(&res); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("result %d: %v", n, err)
			}
			break
		}
		if res.Code != 200 {
			t.Errorf("result %d: %+v", n, res)
		}
		n++
	}
	if len(c.Steps) != 1 || n != c.Steps[0].Requests || int64(n) != hits.Load() {
		t.Errorf("%d results in S3, steps %+v, %d requests served", n, c.Steps, hits.Load())
	}
}
