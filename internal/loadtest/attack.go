package loadtest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// attack is the engine's own worker loop: vegeta's Attacker semantics
// (targets from a vegeta.Targeter, hits paced by a vegeta.Pacer, an open
// model that starts one more worker whenever none is free, up to
// maxWorkers) without its two channel hops per request (pacer → worker →
// results) and its per-request vegeta.Result.
//
// Workers claim hit numbers from a shared counter and wait until the
// pacer says the hit is due (rate 0: at once); a worker that leaves the
// idle state when no other worker is idle starts another one, so there is
// always a free worker for the next hit, as with vegeta's pacer loop.
// Each worker records its outcomes in its own shard; the step's goroutine
// collects the shards every 250 ms (and at the end) and folds them into the
// step's figures. Full vegeta.Results (numbered, timestamped under one lock
// like vegeta's, for the gob encoder and lib/plot) are built only when the
// engine has sinks.
type attack struct {
	client     *http.Client
	ctx        context.Context // the step's context: cancelling it cancels what is in flight
	tr         vegeta.Targeter
	pacer      vegeta.Pacer
	du         time.Duration
	name       string
	maxWorkers uint64
	results    bool // build vegeta.Results for the sinks
	// asap: rate 0, every hit is due at once; a worker that takes a hit
	// when no other is free starts another (up to maxWorkers). At a fixed
	// rate workers claim hits ahead of time, and when the last free one
	// takes its hit the spawner goroutine starts one more if the next hit
	// comes due (plus spawnLate) before any worker is free again.
	asap bool
	// needWorker wakes the spawner (fixed rates).
	needWorker chan struct{}

	began time.Time
	hits  atomic.Uint64 // claimed hit numbers
	idle  atomic.Int64  // workers waiting for their next hit
	nwork atomic.Uint64 // workers started

	stopped  atomic.Bool
	stopCh   chan struct{}
	stopOnce sync.Once

	seqmu sync.Mutex
	seq   uint64

	// inFlight counts requests between send and the end of their
	// response; maxIn is its peak. perIn and perMax do the same per target
	// (index from targetIndex; nil when there is one target).
	inFlight, maxIn atomic.Int64
	targetIndex     func(*vegeta.Target) int
	perIn, perMax   []atomic.Int64

	wg       sync.WaitGroup
	shardsMu sync.Mutex
	shards   []*shard
	done     chan struct{} // closed when every worker has returned
}

// outcome is one request's result, as compact as the figures need.
type outcome struct {
	start time.Duration // since the attack began
	lat   time.Duration
	code  uint16
	err   string
	res   *vegeta.Result // only with sinks
	// target is the index of the request's target (-1: unknown).
	target int32
	// gateway is true for a 429 that API Gateway itself sent (see isGatewayThrottle).
	gateway bool
}

// shard holds the outcomes of one worker until the step's goroutine collects them.
type shard struct {
	mu  sync.Mutex
	out []outcome
}

func newAttack(client *http.Client, ctx context.Context, tr vegeta.Targeter, p vegeta.Pacer, du time.Duration, name string, workers, maxWorkers uint64, results, asap bool, targets Targets) *attack {
	a := &attack{
		client: client, ctx: ctx, tr: tr, pacer: p, du: du, name: name,
		maxWorkers: maxWorkers, results: results, asap: asap,
		stopCh: make(chan struct{}), done: make(chan struct{}),
	}
	if len(targets) > 1 {
		a.targetIndex = targets.indexOf
		a.perIn = make([]atomic.Int64, len(targets))
		a.perMax = make([]atomic.Int64, len(targets))
	}
	a.began = time.Now()
	workers = max(min(workers, maxWorkers), 1)
	a.wg.Add(int(workers))
	a.nwork.Store(workers)
	a.idle.Store(int64(workers))
	if !asap {
		a.needWorker = make(chan struct{}, 1)
		a.wg.Add(1)
		go a.spawner()
	}
	for range workers {
		go a.work(a.newShard())
	}
	go func() {
		a.wg.Wait()
		close(a.done)
	}()
	return a
}

func (a *attack) newShard() *shard {
	// Small at first: an open model may start thousands of workers that
	// each record a few outcomes per collection; append grows a busy one.
	sh := &shard{out: make([]outcome, 0, 16)}
	a.shardsMu.Lock()
	a.shards = append(a.shards, sh)
	a.shardsMu.Unlock()
	return sh
}

// stop ends the sending (in-flight requests go on until the step's
// context is cancelled).
func (a *attack) stop() {
	a.stopOnce.Do(func() {
		a.stopped.Store(true)
		close(a.stopCh)
	})
}

// spawn starts one more worker unless maxWorkers are running. Only a
// running worker calls it, so the WaitGroup cannot be waited on at zero.
func (a *attack) spawn() {
	for {
		n := a.nwork.Load()
		if n >= a.maxWorkers {
			return
		}
		if a.nwork.CompareAndSwap(n, n+1) {
			break
		}
	}
	a.wg.Add(1)
	a.idle.Add(1)
	go a.work(a.newShard())
}

// spawnLate is how overdue a hit with no free worker must be for the
// spawner to start one more worker: less is the machine's scheduling
// jitter (a busy worker is about to come free), which more workers and
// connections would only make worse.
const spawnLate = time.Millisecond

// spawner starts a worker whenever, with none free, the next hit is
// spawnLate overdue and still unclaimed, until the sending ends.
func (a *attack) spawner() {
	defer a.wg.Done()
	var end <-chan time.Time
	if a.du > 0 {
		t := time.NewTimer(a.du)
		defer t.Stop()
		end = t.C
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-a.needWorker:
		case <-a.stopCh:
			return
		case <-end:
			return
		}
		for a.idle.Load() <= 0 && !a.stopped.Load() && a.nwork.Load() < a.maxWorkers {
			n := a.hits.Load()
			elapsed := time.Since(a.began)
			if a.du > 0 && elapsed > a.du {
				return
			}
			wait, stop := a.pacer.Pace(elapsed, n)
			if stop {
				return
			}
			timer.Reset(max(wait, 0) + spawnLate)
			select {
			case <-timer.C:
			case <-a.stopCh:
				return
			case <-end:
				return
			}
			if a.idle.Load() <= 0 && a.hits.Load() == n {
				a.spawn()
			}
		}
	}
}

func (a *attack) work(sh *shard) {
	defer a.wg.Done()
	var (
		timer *time.Timer
		tgt   vegeta.Target
		urls  urlCache
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if a.stopped.Load() {
			a.idle.Add(-1)
			return
		}
		n := a.hits.Add(1) - 1
		elapsed := time.Since(a.began)
		if a.du > 0 && elapsed > a.du {
			a.idle.Add(-1)
			return
		}
		wait, stop := a.pacer.Pace(elapsed, n)
		if stop {
			a.idle.Add(-1)
			a.stop()
			return
		}
		if wait > 0 {
			if a.du > 0 && elapsed+wait > a.du {
				// Due after the end: so is every later hit.
				a.idle.Add(-1)
				return
			}
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-timer.C:
			case <-a.stopCh:
				a.idle.Add(-1)
				return
			}
		}
		if a.idle.Add(-1) == 0 {
			// Nobody is free for the next hit.
			if a.asap {
				a.spawn()
			} else {
				select {
				case a.needWorker <- struct{}{}:
				default:
				}
			}
		}
		o := a.hit(&tgt, &urls)
		sh.mu.Lock()
		sh.out = append(sh.out, o)
		sh.mu.Unlock()
		a.idle.Add(1)
	}
}

// hit sends one request and reads its response, like vegeta's Attacker.hit
// with MaxBody(0): the body is read (so that the connection is reused) and
// discarded; a status outside 200–399 is an error whose text is the status.
func (a *attack) hit(tgt *vegeta.Target, urls *urlCache) (o outcome) {
	var seq uint64
	var trErr error
	if a.results {
		// Numbers and timestamps in the same order (lib/plot needs both),
		// and targets too: the results then list the requests in the
		// targeter's order, which a seeded --data feed makes repeatable.
		a.seqmu.Lock()
		o.start = time.Since(a.began)
		seq = a.seq
		a.seq++
		trErr = a.tr(tgt)
		a.seqmu.Unlock()
	} else {
		o.start = time.Since(a.began)
		trErr = a.tr(tgt)
	}
	var (
		bytesIn, bytesOut uint64
		hdr               http.Header
		err               error
	)
	defer func() {
		o.lat = time.Since(a.began) - o.start
		if err != nil {
			o.err = err.Error()
		}
		if a.results {
			o.res = &vegeta.Result{
				Attack: a.name, Seq: seq, Code: o.code, Timestamp: a.began.Add(o.start), Latency: o.lat,
				BytesIn: bytesIn, BytesOut: bytesOut, Error: o.err,
				Method: tgt.Method, URL: tgt.URL, Headers: hdr,
			}
		}
	}()
	if err = trErr; err != nil {
		a.stop()
		return o
	}
	o.target = -1
	if a.targetIndex != nil {
		o.target = int32(a.targetIndex(tgt))
	}
	req, err := newRequest(a.ctx, tgt, urls)
	if err != nil {
		return o
	}
	raiseMax(&a.maxIn, a.inFlight.Add(1))
	defer a.inFlight.Add(-1)
	if o.target >= 0 && int(o.target) < len(a.perIn) {
		raiseMax(&a.perMax[o.target], a.perIn[o.target].Add(1))
		defer a.perIn[o.target].Add(-1)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return o
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return o
	}
	bytesIn = uint64(n)
	if req.ContentLength != -1 {
		bytesOut = uint64(req.ContentLength)
	}
	if o.code = uint16(resp.StatusCode); o.code < 200 || o.code >= 400 {
		o.err = resp.Status
	}
	o.gateway = isGatewayThrottle(resp.StatusCode, resp.Header)
	hdr = resp.Header
	return o
}

// urlCache is a worker's last parsed target URL: a run repeats a few URLs
// (or one), and parsing each request's anew is a good part of its
// allocation.
type urlCache struct {
	raw string
	u   *url.URL
}

// newRequest builds the request of tgt like vegeta's Target.Request, tied
// to ctx, sharing the target's header map (read only: nothing on the way
// writes to it; SigV4 signs a copy) and the parsed URL of the last request
// with the same URL (read only too; a redirect makes a new one).
//
// Its Host is left empty unless the target's header sets one (URL.Host is
// then sent, as with Host set to it): http.Client copies the URL of every
// request whose Host is set, for its cookie jar, even without a jar.
func newRequest(ctx context.Context, tgt *vegeta.Target, urls *urlCache) (*http.Request, error) {
	var body io.Reader
	if len(tgt.Body) != 0 {
		body = bytes.NewReader(tgt.Body)
	}
	if urls.u == nil || urls.raw != tgt.URL {
		// As NewRequest: parsed, its Host without an empty port.
		r, err := http.NewRequestWithContext(ctx, tgt.Method, tgt.URL, nil)
		if err != nil {
			return nil, err
		}
		urls.raw, urls.u = tgt.URL, r.URL
	}
	req, err := http.NewRequestWithContext(ctx, tgt.Method, "", body)
	if err != nil {
		return nil, err
	}
	req.URL, req.Host = urls.u, ""
	if tgt.Header != nil {
		req.Header = tgt.Header
		if host := tgt.Header.Get("Host"); host != "" {
			req.Host = host
		}
	}
	return req, nil
}

// collect moves every shard's outcomes into buf (reused) and returns it.
func (a *attack) collect(buf []outcome) []outcome {
	a.shardsMu.Lock()
	shards := a.shards
	a.shardsMu.Unlock()
	buf = buf[:0]
	for _, sh := range shards {
		sh.mu.Lock()
		buf = append(buf, sh.out...)
		clear(sh.out) // drop references to error texts and results
		sh.out = sh.out[:0]
		sh.mu.Unlock()
	}
	return buf
}

// raiseMax sets m to v when v is larger.
func raiseMax(m *atomic.Int64, v int64) {
	for {
		cur := m.Load()
		if v <= cur || m.CompareAndSwap(cur, v) {
			return
		}
	}
}
