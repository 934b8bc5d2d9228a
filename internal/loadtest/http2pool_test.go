package loadtest

import (
	"context"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestHTTP2Conns(t *testing.T) {
	for _, tc := range []struct {
		opts AttackOptions
		want int
	}{
		{AttackOptions{}, h2UncappedConns},
		{AttackOptions{MaxWorkers: vegeta.DefaultMaxWorkers}, h2UncappedConns},
		{AttackOptions{MaxWorkers: 64}, 4},
		{AttackOptions{MaxWorkers: 65}, 5},
		{AttackOptions{MaxWorkers: 1}, 2},
		{AttackOptions{MaxWorkers: 100000}, 64},
		{AttackOptions{MaxWorkers: 64, HTTP2Connections: 3}, 3},
		{AttackOptions{MaxWorkers: 64, MaxConnections: 1}, 1},
	} {
		if got := http2Conns(tc.opts); got != tc.want {
			t.Errorf("http2Conns(%+v) = %d, want %d", tc.opts, got, tc.want)
		}
	}
}

// TestHTTP2OpensSeveralConnections: an --http2 attack speaks HTTP/2 and
// spreads its requests over several connections, not one.
func TestHTTP2OpensSeveralConnections(t *testing.T) {
	srv := newTLSServer(t, nil)
	c, err := Run(context.Background(), target(srv.URL), 200, 500*time.Millisecond, Options{
		NoAbort: true,
		Attack:  AttackOptions{HTTP2: true, Insecure: true, MaxWorkers: 32, Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Steps[0]; st.Requests == 0 || st.SuccessRatio != 1 {
		t.Fatalf("%d requests, success %.2f, errors %v", st.Requests, st.SuccessRatio, st.Errors)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for i, p := range srv.proto {
		if p != "HTTP/2.0" {
			t.Fatalf("request %d over %s, want HTTP/2.0", i, p)
		}
	}
	// Connections that carried requests (requests racing to a transport
	// without a connection yet may dial more, of which net/http keeps one).
	if n, want := len(srv.peers), http2Conns(AttackOptions{MaxWorkers: 32}); n < 2 || n > want {
		t.Errorf("requests over %d connections (%v), want %d", n, srv.peers, want)
	}
}
