package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// BenchmarkEngineMaxRate measures how many requests per second the engine
// sends to a trivial loopback server with 64 workers (rate 0: as fast as
// they go). Each iteration is a 1 s step; req/s is the mean achieved rate.
// LOADTEST_BENCH_URL points it at a server in another process (e.g.
// bench/server), so that a CPU profile shows the generator alone. The
// "std" variant sends through net/http's Transport instead of the engine's
// own HTTP/1.1 round tripper; the "tls" ones go over HTTPS
// (LOADTEST_BENCH_TLS_URL for a server in another process, e.g.
// bench/server -tls; certificates are not verified).
func BenchmarkEngineMaxRate(b *testing.B) {
	b.Run("fast", func(b *testing.B) { benchmarkEngineMaxRate(b, false, false) })
	b.Run("std", func(b *testing.B) { benchmarkEngineMaxRate(b, true, false) })
	b.Run("fast-tls", func(b *testing.B) { benchmarkEngineMaxRate(b, false, true) })
	b.Run("std-tls", func(b *testing.B) { benchmarkEngineMaxRate(b, true, true) })
}

func benchmarkEngineMaxRate(b *testing.B, std, overTLS bool) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv, env := httptest.NewUnstartedServer(h), "LOADTEST_BENCH_URL"
	if overTLS {
		srv.StartTLS()
		env = "LOADTEST_BENCH_TLS_URL"
	} else {
		srv.Start()
	}
	defer srv.Close()
	url := srv.URL
	if u := os.Getenv(env); u != "" {
		url = u
	}
	e := NewEngine(AttackOptions{MaxWorkers: 64, StdTransport: std, Insecure: true})
	defer e.Close()
	// A first short step opens the connections (and TLS sessions), which
	// the figures per request below are not about.
	if _, err := e.RunStep(context.Background(), StepSpec{Phase: "fixed", Duration: 300 * time.Millisecond, Targets: target(url), Objectives: DefaultObjectives()}); err != nil {
		b.Fatal(err)
	}
	total, n, reqs := 0.0, 0, 0
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := processCPU()
	b.ResetTimer()
	for range b.N {
		st, err := e.RunStep(context.Background(), StepSpec{Phase: "fixed", Duration: time.Second, Targets: target(url), Objectives: DefaultObjectives()})
		if err != nil {
			b.Fatal(err)
		}
		total += st.AchievedRate
		reqs += st.Requests
		n++
	}
	b.StopTimer()
	cpu := processCPU() - cpu0
	runtime.ReadMemStats(&m1)
	b.ReportMetric(total/float64(n), "req/s")
	if reqs > 0 {
		// The process's CPU time (user + system) and heap allocations per
		// request: with the server in another process these are the
		// generator's own, and move far less with the machine's load than
		// req/s.
		b.ReportMetric(float64(cpu.Microseconds())/float64(reqs), "cpu-µs/req")
		b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(reqs), "allocs/req")
		b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(reqs), "B/req")
	}
}

// processCPU is the process's user + system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFeedTargeter is the cost per request of making it from a data
// row (path parameter, query string, templated JSON body) instead of
// repeating one request.
func BenchmarkFeedTargeter(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("userId,qty\n")
	for i := range 10000 {
		fmt.Fprintf(&sb, "u%d,%d\n", i, i%5+1)
	}
	d, err := ReadData(strings.NewReader(sb.String()), "users.csv")
	if err != nil {
		b.Fatal(err)
	}
	ops := []Operation{
		{Method: "GET", Path: "/users/{userId}", Query: []Param{{Name: "qty"}}},
		{Method: "POST", Path: "/orders", Body: &BodySpec{Required: true, ContentType: "application/json"}},
	}
	for _, order := range []DataOrder{OrderSequential, OrderRandom} {
		b.Run(string(order), func(b *testing.B) {
			ts, err := BuildTargets(ops, BuildOptions{Base: "http://127.0.0.1:9/prod", Feed: &Feed{Data: d, Order: order, Seed: 1},
				Bodies: []MethodBody{{Key: "POST /orders", File: "o.json", Data: []byte(`{"user":{{json .userId}},"qty":{{.qty}}}`)}}})
			if err != nil {
				b.Fatal(err)
			}
			tr := ts.Targeter()
			var tgt vegeta.Target
			b.ReportAllocs()
			for b.Loop() {
				if err := tr(&tgt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
