package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"apictl": func() { os.Exit(run()) },
	})
}

// TestScripts runs the end-to-end scenarios in testdata/script against the
// real binary (main, flags, exit codes, stdout/stderr split).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// No ambient AWS configuration leaks into the scenarios.
			env.Setenv("AWS_CONFIG_FILE", env.WorkDir+"/no-aws-config")
			env.Setenv("AWS_SHARED_CREDENTIALS_FILE", env.WorkDir+"/no-aws-credentials")
			env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"checkdemo": checkDemo,
			"exitcode":  exitCode,
			"freeport":  freePort,
			"maxlines":  maxLines,
			"serve":     serveBackend,
			"waitfor":   waitFor,
		},
	})
}

// checkDemo checks the JSON summary of `apictl demo` (in the file args[0])
// against the acceptance criteria of the demo: the shared pool held under a
// flood of every method at 2× its planned rate at once, the search found
// the pool's capacity at the mix within ±15%, the planned rates add up to
// at most headroom × what was found and admit at least 60% of the pool's
// capacity, and every method saw 429s.
func checkDemo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: checkdemo FILE")
	}
	var sum struct {
		Headroom float64 `json:"headroom"`
		Pool     struct {
			True        float64 `json:"true_capacity_rps"`
			Found       float64 `json:"found_rps"`
			Planned     float64 `json:"planned_rps"`
			Utilisation float64 `json:"utilisation_at_plan"`
			Held        bool    `json:"held"`
			Verify      struct {
				Served    int64   `json:"served"`
				Rejected  int64   `json:"rejected"`
				P99       float64 `json:"p99_ms"`
				Objective float64 `json:"objective_p99_ms"`
			} `json:"verify"`
		} `json:"pool"`
		Methods []struct {
			Method  string  `json:"method"`
			True    float64 `json:"true_capacity_rps"`
			Found   float64 `json:"found_rps"`
			Planned float64 `json:"planned_rps"`
			Verify  struct {
				Throttled float64 `json:"throttled_share"`
			} `json:"verify"`
		} `json:"methods"`
	}
	if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &sum); err != nil {
		ts.Fatalf("decode demo summary: %v", err)
	}
	if err := sameShape(ts.ReadFile(args[0]), demoFixture); err != nil {
		ts.Fatalf("the live summary and the recorded one (%s) differ: %v", demoFixture, err)
	}
	p := sum.Pool
	ts.Logf("pool: true %.0f found %.0f planned %.0f utilisation %.2f; flood served %d refused %d p99 %.0f ms; held %v",
		p.True, p.Found, p.Planned, p.Utilisation, p.Verify.Served, p.Verify.Rejected, p.Verify.P99, p.Held)
	if !p.Held || p.Verify.Served == 0 || float64(p.Verify.Rejected) >= 0.01*float64(p.Verify.Served+p.Verify.Rejected) || p.Verify.P99 > p.Verify.Objective {
		ts.Fatalf("the shared pool did not hold the flood")
	}
	if p.True <= 0 || math.Abs(p.Found-p.True)/p.True > 0.15 {
		ts.Fatalf("found %.1f rps, want within ±15%% of the pool's true capacity at the mix %.1f", p.Found, p.True)
	}
	if p.Planned > sum.Headroom*p.Found+1e-9 || p.Planned < 0.6*p.True {
		ts.Fatalf("planned %.0f rps in all, want at most %.2f × %.0f found and at least 60%% of %.0f true", p.Planned, sum.Headroom, p.Found, p.True)
	}
	if len(sum.Methods) < 2 {
		ts.Fatalf("want at least 2 methods in the summary, got %d", len(sum.Methods))
	}
	for _, m := range sum.Methods {
		ts.Logf("%s: true %.0f found %.0f planned %.0f; flood 429 share %.2f", m.Method, m.True, m.Found, m.Planned, m.Verify.Throttled)
		if m.Planned < 1 || m.Verify.Throttled <= 0 {
			ts.Fatalf("%s: planned %.0f rps, 429 share %.2f: want a throttle that answered 429 to the flood", m.Method, m.Planned, m.Verify.Throttled)
		}
	}
}

// demoFixture is the recorded demo summary the demo's golden files render.
const demoFixture = "../../internal/demo/testdata/summary.json"

// sameShape checks that the JSON document live has the fields, and the
// kinds of value, of the recorded file: the golden files of the demo's
// summary render the recording, so a live run that filled other fields
// (or left one out) would make them prove nothing.
func sameShape(live, recorded string) error {
	data, err := os.ReadFile(recorded)
	if err != nil {
		return err
	}
	var a, b any
	if err := json.Unmarshal([]byte(live), &a); err != nil {
		return err
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return err
	}
	return shapeDiff("$", a, b)
}

func shapeDiff(path string, live, rec any) error {
	switch r := rec.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %T", path, live)
		}
		for k := range r {
			if _, ok := l[k]; !ok {
				return fmt.Errorf("%s.%s: missing from the live run", path, k)
			}
		}
		for k, v := range l {
			rv, ok := r[k]
			if !ok {
				return fmt.Errorf("%s.%s: not in the recording (record a new one)", path, k)
			}
			if path == "$.pool" && k == "mix" {
				continue // keyed by method
			}
			if err := shapeDiff(path+"."+k, v, rv); err != nil {
				return err
			}
		}
	case []any:
		l, ok := live.([]any)
		if !ok || (len(r) > 0) != (len(l) > 0) {
			return fmt.Errorf("%s: want a list like the recording's %d items, got %v", path, len(r), live)
		}
		for i, v := range l {
			if err := shapeDiff(fmt.Sprintf("%s[%d]", path, i), v, r[0]); err != nil {
				return err
			}
		}
	default:
		if fmt.Sprintf("%T", live) != fmt.Sprintf("%T", rec) {
			return fmt.Errorf("%s: want a %T like the recording, got %T", path, rec, live)
		}
	}
	return nil
}

// maxLines fails when a file (stdout, stderr or a path) has more than N
// lines: maxlines 150 stderr.
func maxLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: maxlines N FILE")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("maxlines: %v", err)
	}
	if got := strings.Count(ts.ReadFile(args[1]), "\n"); got > n {
		ts.Fatalf("%s has %d lines, want at most %d", args[1], got, n)
	}
}

// exitCode runs a command like exec and checks its exit code:
// exitcode 3 apictl loadtest … (stdout and stderr are kept for the next lines).
func exitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// freePort sets the environment variable args[0] to a free loopback port.
func freePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ts.Fatalf("freeport: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ts.Setenv(args[0], strconv.Itoa(port))
}

// waitFor waits up to 60 s until something listens at args[0] (host:port).
func waitFor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfor HOST:PORT")
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", args[0], time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("nothing listens at %s after 60s: %v", args[0], err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestShapeDiff(t *testing.T) {
	dec := func(s string) any {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	rec := `{"a": 1, "m": [{"x": "s", "y": true}], "pool": {"mix": {"GET /": 1}}}`
	for _, tc := range []struct {
		live string
		ok   bool
	}{
		{`{"a": 2, "m": [{"x": "t", "y": false}, {"x": "u", "y": true}], "pool": {"mix": {"POST /": 1}}}`, true},
		{`{"a": 2, "m": [{"x": "t"}], "pool": {"mix": {}}}`, false},                    // a field left out
		{`{"a": 2, "b": 3, "m": [{"x": "t", "y": true}], "pool": {"mix": {}}}`, false}, // a field not recorded
		{`{"a": "2", "m": [{"x": "t", "y": true}], "pool": {"mix": {}}}`, false},       // another kind
		{`{"a": 2, "m": [], "pool": {"mix": {}}}`, false},                              // an empty list
	} {
		if err := shapeDiff("$", dec(tc.live), dec(rec)); (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok %v", tc.live, err, tc.ok)
		}
	}
}
