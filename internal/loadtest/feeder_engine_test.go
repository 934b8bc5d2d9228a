package loadtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// resultURLs runs targets at rate for d through the real engine and
// returns "METHOD URL" of every result in the order of the --results file.
func resultURLs(t *testing.T, ts Targets, rate float64, d time.Duration) []string {
	t.Helper()
	var buf bytes.Buffer
	// Rate 0 with 8 workers: hits as fast as they go, so that workers take
	// their targets at the same moments and the order is really tested.
	c, err := Run(context.Background(), ts, rate, d, Options{Results: &buf, Attack: AttackOptions{Workers: 8, MaxWorkers: 8}})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Pass {
		t.Fatalf("run failed: %s", c.Reason)
	}
	dec := vegeta.NewDecoder(&buf)
	var out []string
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
		if r.Seq != uint64(len(out)) {
			t.Fatalf("result %d has number %d: the file is not in request order", len(out), r.Seq)
		}
		out = append(out, r.Method+" "+r.URL)
	}
	return out
}

// TestSameSeedSendsSameRequests runs a weighted mix over random rows twice
// with one seed and once with another, through the engine's concurrent
// workers, and compares the --results files.
func TestSameSeedSendsSameRequests(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Method+" "+r.URL.Path]++
		mu.Unlock()
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			if !bytes.HasPrefix(b, []byte(`{"user":"u`)) {
				http.Error(w, "bad body", http.StatusBadRequest)
				return
			}
		}
	}))
	build := func(seed uint64) Targets {
		ts, err := BuildTargets(shopOps(), BuildOptions{Base: url, Feed: &Feed{Data: testData(t, 500), Order: OrderRandom, Seed: seed},
			Bodies: []MethodBody{{Key: "POST /orders", File: "o.json", Data: []byte(`{"user":"{{.userId}}"}`)}}})
		if err != nil {
			t.Fatal(err)
		}
		ts[0].Weight = 3
		return ts
	}
	d := 400 * time.Millisecond
	a := resultURLs(t, build(42), 0, d)
	b := resultURLs(t, build(42), 0, d)
	c := resultURLs(t, build(43), 0, d)
	n := min(len(a), len(b), len(c))
	if n < 100 {
		t.Fatalf("only %d results", n)
	}
	if strings.Join(a[:n], "\n") != strings.Join(b[:n], "\n") {
		for i := range n {
			if a[i] != b[i] {
				t.Fatalf("seed 42 twice: request %d differs: %s vs %s", i, a[i], b[i])
			}
		}
	}
	if strings.Join(a[:n], "\n") == strings.Join(c[:n], "\n") {
		t.Errorf("seeds 42 and 43 sent the same requests")
	}
	posts := 0
	for _, u := range a[:n] {
		if strings.HasPrefix(u, "POST") {
			posts++
		}
	}
	// Weights 3:1: a quarter are POSTs (±50%: a random draw of ~100–200).
	if posts < n/8 || posts > 3*n/8 {
		t.Errorf("%d POSTs of %d requests, want about a quarter", posts, n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 100 {
		t.Errorf("the backend saw %d distinct requests, want many users", len(seen))
	}
}
