package loadtest

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestParseTargetsHTTPAndJSON(t *testing.T) {
	httpFile := `GET http://127.0.0.1:8080/pets
X-Api-Key: abc

POST http://127.0.0.1:8080/pets
Content-Type: application/json
`
	ts, err := ParseTargets(strings.NewReader(httpFile), "t.txt", "", []byte(`{"a":1}`), http.Header{"X-Default": {"d"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].Method != "GET" || ts[0].Header.Get("X-Api-Key") != "abc" || ts[0].Header.Get("X-Default") != "d" {
		t.Fatalf("http targets %+v", ts)
	}
	if ts[1].Method != "POST" || string(ts[1].Body) != `{"a":1}` {
		t.Errorf("POST target %+v", ts[1])
	}

	jsonFile := `{"method":"GET","url":"http://127.0.0.1:8080/a"}
{"method":"DELETE","url":"http://127.0.0.1:8080/b","header":{"X-K":["v"]}}`
	ts, err = ParseTargets(strings.NewReader(jsonFile), "t.json", "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[1].Method != "DELETE" || ts[1].Header.Get("X-K") != "v" {
		t.Fatalf("json targets %+v", ts)
	}
}

func TestParseTargetsErrors(t *testing.T) {
	for _, tc := range []struct{ in, format, want string }{
		{"", "", "no targets found"},
		{"GET\n", "http", "t.txt: target 1: bad target"},
		{"GET /relative\n", "http", "url must be absolute"},
		{"{\"method\":\"GET\"", "json", "t.txt: target 1"},
		{"GET http://x/\n", "yaml", `unknown format "yaml"`},
	} {
		_, err := ParseTargets(strings.NewReader(tc.in), "t.txt", tc.format, nil, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestTargeterWeightedMixIsSmoothAndConcurrent(t *testing.T) {
	ts := Targets{
		{Method: "GET", URL: "http://h/a", Weight: 5},
		{Method: "GET", URL: "http://h/b", Weight: 1},
		{Method: "GET", URL: "http://h/c"}, // weight 0 counts as 1
	}
	if got := ts.schedule(); len(got) != 7 || got[0] != 0 || got[1] == got[2] && got[1] != 0 {
		t.Errorf("schedule %v", got)
	}
	tr := ts.Targeter()
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for range 7 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				var tgt vegeta.Target
				if err := tr(&tgt); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				counts[tgt.URL]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if counts["http://h/a"] != 500 || counts["http://h/b"] != 100 || counts["http://h/c"] != 100 {
		t.Errorf("counts %v, want 500/100/100", counts)
	}
}

func TestParseHeaderAndValues(t *testing.T) {
	k, v, err := ParseHeader("x-api-key:  secret ")
	if err != nil || k != "X-Api-Key" || v != "secret" {
		t.Errorf("got %q %q %v", k, v, err)
	}
	if _, _, err := ParseHeader("nocolon"); err == nil {
		t.Error("want an error for a header without colon")
	}
	vals, err := ParseValues(strings.NewReader("# ids\nuserId=42\n\nitemId = 7\n"), "vals.txt")
	if err != nil || vals["userId"] != "42" || vals["itemId"] != "7" {
		t.Errorf("values %v %v", vals, err)
	}
	if _, err := ParseValues(strings.NewReader("a=1\nbroken\n"), "vals.txt"); err == nil || !strings.Contains(err.Error(), "vals.txt:2") {
		t.Errorf("want vals.txt:2 error, got %v", err)
	}
}

// TestWeightBounds: a weight past MaxWeight is refused before a round-robin
// cycle (which holds the sum of the weights) is built.
func TestWeightBounds(t *testing.T) {
	for _, tc := range []struct {
		weight int
		ok     bool
	}{{-1, false}, {0, true}, {1, true}, {MaxWeight, true}, {MaxWeight + 1, false}, {1 << 40, false}} {
		err := Target{Method: "GET", URL: "http://127.0.0.1/", Weight: tc.weight}.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("weight %d: error %v, want ok %v", tc.weight, err, tc.ok)
		}
	}
}
