package loadtest

import (
	"net/http"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// h2StreamsPerConn is how many concurrent requests (workers) one HTTP/2
// connection is meant to carry when --http2-connections is not given.
const h2StreamsPerConn = 16

// h2UncappedConns is the number of HTTP/2 connections of an open-model run
// (workers uncapped) when --http2-connections is not given.
const h2UncappedConns = 8

// http2Conns is how many connections an --http2 run spreads its requests
// over: HTTP2Connections when set; else one per h2StreamsPerConn workers
// of --max-workers, at least 2 and at most 64, or h2UncappedConns with
// uncapped workers; never more than --max-connections.
//
// net/http's Transport opens a second HTTP/2 connection to a host only
// when the first one refuses more streams, so an --http2 run used a single
// TCP connection (one server-side front end, one TCP window, one core of a
// TLS-terminating proxy): real clients are many connections.
func http2Conns(o AttackOptions) int {
	n := o.HTTP2Connections
	if n <= 0 {
		if o.MaxWorkers == 0 || o.MaxWorkers == vegeta.DefaultMaxWorkers {
			n = h2UncappedConns
		} else {
			n = min(max(int((o.MaxWorkers+h2StreamsPerConn-1)/h2StreamsPerConn), 2), 64)
		}
	}
	if o.MaxConnections > 0 {
		n = min(n, o.MaxConnections)
	}
	return max(n, 1)
}

// h2Pool spreads requests round-robin over transports of their own (each
// keeps its own HTTP/2 connection per host), so that an HTTP/2 run opens
// as many connections as there are transports.
type h2Pool struct {
	trs  []*http.Transport
	next atomic.Uint64
}

// newH2Pool returns a pool of n transports like tr (tr is the first);
// a connection cap is shared out among them.
func newH2Pool(tr *http.Transport, n int) *h2Pool {
	p := &h2Pool{trs: []*http.Transport{tr}}
	for range n - 1 {
		p.trs = append(p.trs, tr.Clone())
	}
	if tr.MaxConnsPerHost > 0 {
		for _, t := range p.trs {
			t.MaxConnsPerHost = max(tr.MaxConnsPerHost/n, 1)
		}
	}
	return p
}

func (p *h2Pool) RoundTrip(req *http.Request) (*http.Response, error) {
	i := p.next.Add(1) % uint64(len(p.trs))
	return p.trs[i].RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of every transport.
func (p *h2Pool) CloseIdleConnections() {
	for _, t := range p.trs {
		t.CloseIdleConnections()
	}
}
