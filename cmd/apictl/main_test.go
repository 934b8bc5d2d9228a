package main

import (
	"encoding/json"
	"errors"
	"math"
	"net"
	"os"
	"os/exec"
	"strconv"
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
