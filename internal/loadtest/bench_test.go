package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
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
	total, n := 0.0, 0
	b.ResetTimer()
	for range b.N {
		st, err := e.RunStep(context.Background(), StepSpec{Phase: "fixed", Duration: time.Second, Targets: target(url), Objectives: DefaultObjectives()})
		if err != nil {
			b.Fatal(err)
		}
		total += st.AchievedRate
		n++
	}
	b.ReportMetric(total/float64(n), "req/s")
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
