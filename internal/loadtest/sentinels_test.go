package loadtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestRedirectsSentinels: Redirects 0 follows redirects (DefaultRedirects),
// NoRedirects takes the 3xx as the answer.
func TestRedirectsSentinels(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/from", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/to", http.StatusFound) })
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tc := range []struct {
		redirects int
		code      string
	}{{0, "200"}, {NoRedirects, "302"}} {
		e := NewEngine(AttackOptions{Redirects: tc.redirects})
		st, err := e.RunStep(context.Background(), StepSpec{Phase: PhaseFixed, Rate: 20, Duration: 300 * time.Millisecond, Targets: target(srv.URL + "/from"), Objectives: DefaultObjectives()})
		e.Close()
		if err != nil {
			t.Fatal(err)
		}
		if st.Requests == 0 || st.StatusCodes[tc.code] != st.Requests {
			t.Errorf("redirects %d: status codes %v of %d requests, want all %s", tc.redirects, st.StatusCodes, st.Requests, tc.code)
		}
	}
}
