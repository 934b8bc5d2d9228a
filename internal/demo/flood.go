package demo

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/apictl/apictl/internal/loadtest"
	"github.com/apictl/apictl/internal/sandbox/backend"
)

// Flood is one method of a verification flood: its route key in the pool,
// its invoke URL and the rate to send it.
type Flood struct {
	Key  string // "GET /cart/profile/{userId}"
	Verb string
	URL  string
	Rate float64
}

// FloodResult is what a flood saw: per method (in the order given) and the
// pool's own account.
type FloodResult struct {
	Methods []Verify
	Pool    PoolVerify
}

// Held reports whether the pool held: it refused under 1% of the requests
// that reached it and its p99 met the objective.
func (r *FloodResult) Held() bool {
	reached := r.Pool.Served + r.Pool.Rejected
	return reached > 0 && float64(r.Pool.Rejected) < 0.01*float64(reached) && r.Pool.P99MS <= r.Pool.ObjectiveP99MS
}

// FloodPool sends every method its rate at the same time for d, through the
// gateway with the API key (empty: none), and reads the pool's own served
// and refused counts and server-side latency. The objective is the demo's
// p99 objective.
func FloodPool(ctx context.Context, pool *backend.SharedPool, floods []Flood, apiKey string, d time.Duration) (*FloodResult, error) {
	pool.ResetStats()
	res := &FloodResult{Methods: make([]Verify, len(floods))}
	errs := make([]error, len(floods))
	var wg sync.WaitGroup
	for i, f := range floods {
		if f.Rate <= 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := http.Header{}
			if apiKey != "" {
				h.Set("x-api-key", apiKey)
			}
			target := loadtest.Target{Name: f.Key, Method: f.Verb, URL: f.URL, Header: h}
			c, err := loadtest.Run(ctx, loadtest.Targets{target}, f.Rate, d, loadtest.Options{NoAbort: true})
			if err != nil {
				errs[i] = fmt.Errorf("flood %s: %w", f.Key, err)
				return
			}
			st := c.Steps[len(c.Steps)-1]
			v := Verify{OfferedRPS: f.Rate, Requests: st.Requests, ObjectiveP99MS: float64(objectiveP99) / 1e6}
			if st.Requests > 0 {
				v.ThrottledShare = round3(float64(st.StatusCodes["429"]) / float64(st.Requests))
			}
			v.OKRPS = round1(float64(st.StatusCodes["200"]) / d.Seconds())
			res.Methods[i] = v
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	total := 0.0
	for i, f := range floods {
		rs := pool.RouteStats(f.Key)
		res.Methods[i].BackendServed, res.Methods[i].BackendRejected = rs.Served, rs.Rejected
		res.Methods[i].BackendP99MS = round1(float64(rs.P99) / 1e6)
		total += f.Rate
	}
	ps := pool.Stats()
	res.Pool = PoolVerify{OfferedRPS: total, Served: ps.Served, Rejected: ps.Rejected, P99MS: round1(float64(ps.P99) / 1e6),
		ObjectiveP99MS: float64(objectiveP99) / 1e6, MaxInFlight: ps.MaxInFlight}
	return res, nil
}
