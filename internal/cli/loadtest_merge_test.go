package cli

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
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
