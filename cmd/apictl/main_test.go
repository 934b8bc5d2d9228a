package main

import (
	"encoding/json"
	"math"
	"os"
	"testing"

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
		},
	})
}

// checkDemo checks the JSON summary of `apictl demo` (in the file args[0])
// against the acceptance criteria of the demo.
func checkDemo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: checkdemo FILE")
	}
	var sum struct {
		Headroom float64 `json:"headroom"`
		Methods  []struct {
			Method  string  `json:"method"`
			True    float64 `json:"true_capacity_rps"`
			Found   float64 `json:"found_rps"`
			Planned float64 `json:"planned_rps"`
			Verify  struct {
				Throttled    float64 `json:"throttled_share"`
				BackendP99   float64 `json:"backend_p99_ms"`
				ObjectiveP99 float64 `json:"objective_p99_ms"`
			} `json:"verify"`
		} `json:"methods"`
	}
	if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &sum); err != nil {
		ts.Fatalf("decode demo summary: %v", err)
	}
	if len(sum.Methods) < 2 {
		ts.Fatalf("want at least 2 methods in the summary, got %d", len(sum.Methods))
	}
	for _, m := range sum.Methods {
		ts.Logf("%s: true %.0f found %.0f planned %.0f; verify 429 share %.2f backend p99 %.0f ms",
			m.Method, m.True, m.Found, m.Planned, m.Verify.Throttled, m.Verify.BackendP99)
		if m.True <= 0 || math.Abs(m.Found-m.True)/m.True > 0.15 {
			ts.Fatalf("%s: found %.1f rps, want within ±15%% of the true capacity %.1f", m.Method, m.Found, m.True)
		}
		if most := math.Floor(sum.Headroom * m.Found); m.Planned < 1 || m.Planned > most {
			ts.Fatalf("%s: planned %.1f rps, want 1..floor(%.2f × %.1f) = %.0f", m.Method, m.Planned, sum.Headroom, m.Found, most)
		}
		if m.Verify.Throttled <= 0 {
			ts.Fatalf("%s: no 429s in the verification at 2× the found rate", m.Method)
		}
		if m.Verify.BackendP99 <= 0 || m.Verify.BackendP99 > m.Verify.ObjectiveP99 {
			ts.Fatalf("%s: backend p99 %.1f ms, want within the objective %.0f ms", m.Method, m.Verify.BackendP99, m.Verify.ObjectiveP99)
		}
	}
}
