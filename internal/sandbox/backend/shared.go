package backend

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"
)

// SharedPoolConfig sets a SharedPool: one connection pool behind several
// methods, each holding a slot for its own service time.
type SharedPoolConfig struct {
	// Slots is the number of connection slots shared by every route; values below 1 mean 1.
	Slots int
	// Queue is how many requests may wait for a slot; beyond that requests get 503. Negative means 0.
	Queue int
	// Routes maps a route, "METHOD /path" with {param} segments as API
	// Gateway writes resources ("GET /cart/profile/{userId}"), to the time
	// one request of that route holds a slot.
	Routes map[string]time.Duration
	// Jitter varies each service time uniformly within ±Jitter·service (0 ≤ Jitter ≤ 1). Optional.
	Jitter float64
}

// SharedPool is a backend whose methods share one pool of connection slots,
// like several Lambda functions querying one relational database: what one
// method uses, the others cannot. Its true capacity depends on the traffic
// mix (see CapacityAt). It is an http.Handler routing by method and path
// (ServeMux patterns); Route returns one route's handler for
// sandbox.SetMethodBackend. It is safe for concurrent use.
type SharedPool struct {
	cfg    SharedPoolConfig
	pool   *pool
	routes map[string]*route
	mux    *http.ServeMux
}

type route struct {
	p       *SharedPool
	key     string
	service time.Duration
	rec     recorder
}

func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt.p.pool.serve(w, r, rt.service, &rt.rec)
}

// NewSharedPool returns a shared pool; it panics on a route key that is
// not "METHOD /path" (a programming error).
func NewSharedPool(cfg SharedPoolConfig) *SharedPool {
	if cfg.Slots < 1 {
		cfg.Slots = 1
	}
	if cfg.Queue < 0 {
		cfg.Queue = 0
	}
	cfg.Jitter = math.Max(0, math.Min(1, cfg.Jitter))
	p := &SharedPool{cfg: cfg, pool: newPool(cfg.Slots, cfg.Queue, cfg.Jitter), routes: map[string]*route{}, mux: http.NewServeMux()}
	for key, d := range cfg.Routes {
		verb, path, ok := strings.Cut(key, " ")
		if !ok || verb == "" || !strings.HasPrefix(path, "/") {
			panic(fmt.Sprintf("backend: route %q is not \"METHOD /path\"", key))
		}
		rt := &route{p: p, key: key, service: max(d, 0)}
		p.routes[key] = rt
		p.mux.Handle(key, rt)
	}
	return p
}

// Config returns the effective configuration (after defaults).
func (p *SharedPool) Config() SharedPoolConfig { return p.cfg }

// Routes returns the route keys, sorted.
func (p *SharedPool) Routes() []string {
	keys := make([]string, 0, len(p.routes))
	for k := range p.routes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Route returns the handler of one route ("POST /orders"), or nil when the
// pool has no such route.
func (p *SharedPool) Route(key string) http.Handler {
	rt, ok := p.routes[key]
	if !ok {
		return nil
	}
	return rt
}

// ServeHTTP routes the request to its route; an unknown route gets 404
// without touching the pool.
func (p *SharedPool) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mux.ServeHTTP(w, r)
}

// Capacity is the sustainable throughput of one route running alone:
// Slots / its service time (+Inf for a zero service time, 0 for an unknown route).
func (p *SharedPool) Capacity(key string) float64 {
	rt, ok := p.routes[key]
	switch {
	case !ok:
		return 0
	case rt.service <= 0:
		return math.Inf(1)
	}
	return float64(p.cfg.Slots) / rt.service.Seconds()
}

// CapacityAt is the sustainable aggregate throughput (requests per second,
// all routes together) when traffic is split by mix: Slots / Σ share·service
// with the shares normalised to sum 1. Routes missing from mix get no
// traffic; it returns 0 when mix names an unknown route or has no positive
// share.
func (p *SharedPool) CapacityAt(mix map[string]float64) float64 {
	var sum, cost float64
	for k, w := range mix {
		if w <= 0 {
			continue
		}
		rt, ok := p.routes[k]
		if !ok {
			return 0
		}
		sum += w
		cost += w * rt.service.Seconds()
	}
	switch {
	case sum == 0:
		return 0
	case cost == 0:
		return math.Inf(1)
	}
	return float64(p.cfg.Slots) / (cost / sum)
}

// Stats returns the pool's counters and latencies, all routes together.
func (p *SharedPool) Stats() Stats { return p.pool.stats() }

// RouteStats returns one route's counters and latencies (InFlight and
// Queued are the pool's; MaxInFlight is the route's own peak).
func (p *SharedPool) RouteStats(key string) Stats {
	rt, ok := p.routes[key]
	if !ok {
		return Stats{}
	}
	s := rt.rec.stats()
	s.InFlight = p.pool.inFlight.Load()
	s.Queued = p.pool.queued.Load()
	return s
}

// ResetStats clears the pool's and every route's counters.
func (p *SharedPool) ResetStats() {
	p.pool.resetStats()
	for _, rt := range p.routes {
		rt.rec.reset()
	}
}
