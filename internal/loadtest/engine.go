package loadtest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// StepSpec describes one steady-rate step.
type StepSpec struct {
	Phase Phase
	// Rate is requests per second; 0 sends as fast as MaxWorkers allow.
	Rate     float64
	Duration time.Duration
	Targets  Targets
	// Objectives drive the early abort (and are evaluated by the caller).
	Objectives Objectives
	// Abort stops the step as soon as the objectives are clearly missed.
	Abort bool
	// Name labels the step's results (vegeta's attack name).
	Name string
	// OnProgress, when set, is called about every 250 ms from the step's goroutine.
	OnProgress func(Snapshot)
}

// Snapshot is the live state of a running step.
type Snapshot struct {
	Elapsed   time.Duration
	Duration  time.Duration
	Sent      int
	Completed int
	Errors    int
	InFlight  int64
	// WindowP99 is the p99 latency of the last second.
	WindowP99 time.Duration
}

// StepRunner runs one step and returns its raw figures (Pass and Reason are
// set by the caller from the objectives, except for an aborted step whose
// Reason says why it was aborted). The vegeta Engine is the real one; tests
// use fakes.
type StepRunner interface {
	RunStep(ctx context.Context, spec StepSpec) (Step, error)
}

// AttackOptions tune the load generator.
type AttackOptions struct {
	// Timeout bounds connecting, the TLS handshake and the wait for the
	// response headers of each request (default 10s).
	Timeout time.Duration
	// Workers is the initial number of workers (default 10); the engine
	// adds more when none is free for a due hit, up to MaxWorkers.
	Workers uint64
	// MaxWorkers caps concurrency; 0 leaves it uncapped (an open model:
	// slow responses never slow the sending).
	MaxWorkers uint64
	// Connections is the maximum of idle connections kept per host (default 10000).
	Connections int
	// MaxConnections caps the connections per host (0: no cap).
	MaxConnections int
	// NoKeepAlive opens a connection per request.
	NoKeepAlive bool
	// HTTP2 allows HTTP/2 over TLS (through net/http).
	HTTP2 bool
	// HTTP2Connections is how many connections per host an HTTP2 run
	// spreads its requests over (0: see http2Conns).
	HTTP2Connections int
	// Insecure skips TLS certificate verification.
	Insecure bool
	// Redirects is how many redirects to follow (0: DefaultRedirects;
	// NoRedirects: none, a 3xx is then the answer, counted as an error).
	Redirects int
	// Drain is how long to wait for in-flight responses after a step's
	// sending ends before cancelling them as errors (default: twice the
	// loosest latency objective, between 1s and Timeout).
	Drain time.Duration
	// SigV4 signs every request with AWS Signature Version 4 when set.
	SigV4 *SigV4
	// StdTransport sends every request through net/http's Transport; by
	// default http and https requests take the engine's own HTTP/1.1 round
	// tripper (see fastTransport), which needs about half the CPU.
	StdTransport bool
}

func (o AttackOptions) withDefaults() AttackOptions {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Workers == 0 {
		o.Workers = vegeta.DefaultWorkers
	}
	if o.MaxWorkers == 0 {
		o.MaxWorkers = vegeta.DefaultMaxWorkers
	}
	if o.Connections <= 0 {
		o.Connections = vegeta.DefaultConnections
	}
	if o.MaxWorkers < o.Workers {
		o.Workers = o.MaxWorkers
	}
	return o
}

// Engine runs steps: vegeta's targeters and pacers driving the engine's
// own workers (see attack). It keeps one HTTP transport for all steps
// so connections are reused from step to step. Use one Engine at a time.
type Engine struct {
	opts      AttackOptions
	transport *http.Transport
	// rt is what requests go through: transport, or a fastTransport over it.
	rt http.RoundTripper
	// h2, with HTTP2: the pool of transports (transport the first) that
	// net/http's requests go through.
	h2 *h2Pool
	// transport2, when set, replaces transport under the step transport (tests).
	transport2 http.RoundTripper
	sinks      []func(*vegeta.Result) error
	sinkErr    error
}

// NewEngine returns an Engine with the given options.
func NewEngine(opts AttackOptions) *Engine {
	opts = opts.withDefaults()
	dialer := &net.Dialer{KeepAlive: 30 * time.Second, Timeout: opts.Timeout}
	if opts.NoKeepAlive {
		dialer.KeepAlive = -1
	}
	tr := &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: dialer.DialContext,
		// One session cache for every connection (and the own round
		// tripper's): new connections resume a TLS session.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: opts.Insecure, //nolint:gosec // opt-in flag
			ClientSessionCache: tls.NewLRUClientSessionCache(64)},
		MaxIdleConns:        opts.Connections,
		MaxIdleConnsPerHost: opts.Connections,
		MaxConnsPerHost:     opts.MaxConnections,
		DisableKeepAlives:   opts.NoKeepAlive,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   opts.HTTP2,
		// The timeout is enforced by the transport (dial, TLS handshake,
		// response headers) rather than by http.Client.Timeout, which
		// costs a timer and a derived context per request; a response body
		// that stalls after its headers is cut by the step's drain.
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
	}
	if !opts.HTTP2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	opts.SigV4.prepare()
	e := &Engine{opts: opts, transport: tr, rt: tr}
	var slow http.RoundTripper = tr
	if opts.HTTP2 {
		e.h2 = newH2Pool(tr, http2Conns(opts))
		slow, e.rt = e.h2, e.h2
	}
	// The own round tripper does what this transport does for http and
	// https over HTTP/1.1, except proxies, a connection cap and
	// connections without keep-alive; https with --http2 stays with net/http.
	if !opts.StdTransport && !opts.NoKeepAlive && opts.MaxConnections == 0 {
		plain := os.Getenv("HTTP_PROXY") == "" && os.Getenv("http_proxy") == ""
		var tlsBase *tls.Config
		if !opts.HTTP2 && os.Getenv("HTTPS_PROXY") == "" && os.Getenv("https_proxy") == "" {
			tlsBase = tr.TLSClientConfig
		}
		if plain || tlsBase != nil {
			e.rt = newFastTransport(slow, dialer, opts.Timeout, opts.Connections, plain, tlsBase)
		}
	}
	return e
}

// AddSink makes the engine pass every result to fn (e.g. a vegeta gob
// encoder for --results, or an HTML plot). The first error of a sink stops
// further calls to the sinks and is returned by Err.
func (e *Engine) AddSink(fn func(*vegeta.Result) error) { e.sinks = append(e.sinks, fn) }

// Err returns the first sink error.
func (e *Engine) Err() error { return e.sinkErr }

// Close releases idle connections.
func (e *Engine) Close() {
	e.transport.CloseIdleConnections()
	if e.h2 != nil {
		e.h2.CloseIdleConnections()
	}
	if ft, ok := e.rt.(*fastTransport); ok {
		ft.CloseIdleConnections()
	}
}

// Options returns the effective options.
func (e *Engine) Options() AttackOptions { return e.opts }

// stepTransport ties a step's requests to the step's context (so that the
// step can cancel what is still in flight), counts in-flight requests and
// signs requests when SigV4 is configured.
type stepTransport struct {
	base     http.RoundTripper
	ctx      context.Context
	inflight atomic.Int64
	sigv4    *SigV4
}

func (t *stepTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.inflight.Add(1)
	defer t.inflight.Add(-1)
	r := req
	if req.Context() != t.ctx {
		r = req.WithContext(t.ctx)
	}
	if t.sigv4 != nil {
		if r == req {
			r = req.Clone(t.ctx) // the header and URL are shared with other requests
		}
		r.Header = req.Header.Clone()
		if err := t.sigv4.sign(t.ctx, r); err != nil {
			return nil, err
		}
	}
	return t.base.RoundTrip(r)
}

// Cancellation causes, to tell a drain timeout from an abort or an interrupt.
var (
	errDrained     = fmt.Errorf("no response within the drain time after the step")
	errStepStopped = fmt.Errorf("step stopped")
)

// ratePacer paces hits at rate per second starting at once.
func ratePacer(rate float64) vegeta.Pacer {
	if rate <= 0 {
		return vegeta.ConstantPacer{} // as fast as possible
	}
	return floatPacer(rate)
}

// floatPacer is a constant rate in hits per second that, unlike
// vegeta.ConstantPacer, accepts fractional rates and sends the first hit at once.
type floatPacer float64

func (p floatPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	next := time.Duration(float64(hits) / float64(p) * 1e9)
	return next - elapsed, false
}

func (p floatPacer) Rate(time.Duration) float64 { return float64(p) }

// DefaultRedirects is how many redirects are followed when
// AttackOptions.Redirects is 0 (vegeta's default).
const DefaultRedirects = 10

// NoRedirects in AttackOptions.Redirects follows no redirect.
const NoRedirects = -1

// RunStep runs one step. A cancelled ctx stops the step and returns what
// was measured with Interrupted set (and no error).
func (e *Engine) RunStep(ctx context.Context, spec StepSpec) (Step, error) {
	if err := spec.Targets.Validate(); err != nil {
		return Step{}, err
	}
	if spec.Rate <= 0 && e.opts.MaxWorkers == vegeta.DefaultMaxWorkers {
		return Step{}, ErrNoWorkerCap
	}
	drain := e.opts.Drain
	if drain <= 0 {
		drain = min(max(2*spec.Objectives.maxLatency(), time.Second), e.opts.Timeout)
	}

	stepCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	base := e.rt
	if e.transport2 != nil {
		base = e.transport2
	}
	rt := &stepTransport{base: base, ctx: stepCtx, sigv4: e.opts.SigV4}
	client := &http.Client{Transport: rt}
	if n := e.opts.Redirects; n != 0 {
		// vegeta.Redirects
		client.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
			switch {
			case n <= NoRedirects:
				return http.ErrUseLastResponse
			case n < len(via):
				return fmt.Errorf("stopped after %d redirects", n)
			default:
				return nil
			}
		}
	}

	st := newStepStats(spec)
	began := time.Now()
	atk := newAttack(client, stepCtx, spec.Targets.Targeter(), ratePacer(spec.Rate), spec.Duration, spec.Name,
		e.opts.Workers, e.opts.MaxWorkers, len(e.sinks) > 0, spec.Rate <= 0, spec.Targets)
	var batch []outcome
	// fold moves the workers' outcomes into the figures (and the sinks).
	fold := func(cause error) {
		batch = atk.collect(batch)
		for i := range batch {
			o := &batch[i]
			if o.res != nil {
				e.emit(o.res)
			}
			st.add(atk.began, o, cause)
		}
	}

	ticker := time.NewTicker(250 * time.Millisecond)
	defer ticker.Stop()
	var (
		done      = ctx.Done()
		drainC    <-chan time.Time
		sendEnded bool
		sendTime  time.Duration
		cause     error // why in-flight requests were cancelled
	)
	stopSending := func(why error, now time.Time) {
		if !sendEnded {
			sendEnded = true
			sendTime = min(now.Sub(began), spec.Duration)
		}
		if why != nil && cause == nil {
			cause = why
			atk.stop()
			cancel(why)
		}
	}
	for finished := atk.done; finished != nil; {
		select {
		case <-finished:
			finished = nil
			fold(cause)
		case now := <-ticker.C:
			fold(cause)
			elapsed := now.Sub(began)
			if !sendEnded && elapsed >= spec.Duration {
				stopSending(nil, now)
				drainC = time.After(drain)
			}
			if cause == nil && !sendEnded && e.opts.MaxWorkers == vegeta.DefaultMaxWorkers {
				// With uncapped workers a generator that falls behind only
				// gets worse (every stalled tick starts one more worker and
				// connection) and its figures are void: stop the step.
				// Three checks in a row (750 ms) so that a short stall of a
				// busy machine, which the pacer makes up at once, is let be.
				switch why := st.generatorBehind(rt.inflight.Load(), elapsed); {
				case why == "":
					st.behindChecks = 0
				case st.behindChecks >= 2:
					st.step.Aborted, st.step.GeneratorBehind = true, true
					st.step.Reason = "aborted: " + why
					stopSending(errStepStopped, now)
				default:
					st.behindChecks++
				}
			}
			if spec.Abort && cause == nil && !sendEnded {
				if why := st.shouldAbort(rt.inflight.Load(), now); why != "" && st.pastOnce {
					// Clearly past: twice in a row, 250 ms apart, so that a
					// single scheduling hiccup does not end a step.
					st.step.Aborted = true
					st.step.Reason = "aborted: " + why
					stopSending(errStepStopped, now)
				} else {
					st.pastOnce = why != ""
				}
			}
			if spec.OnProgress != nil {
				spec.OnProgress(st.snapshot(min(elapsed, spec.Duration), rt.inflight.Load()))
			}
			st.rotate(now)
		case <-drainC:
			drainC = nil
			if cause == nil {
				cause = errDrained
				cancel(errDrained)
			}
		case <-done:
			done = nil
			st.step.Interrupted = true
			stopSending(errStepStopped, time.Now())
		}
	}
	if !sendEnded {
		sendTime = min(time.Since(began), spec.Duration)
	}
	step := st.finish(sendTime)
	step.MaxInFlight = int(atk.maxIn.Load())
	for i := range step.ByTarget {
		if i < len(atk.perMax) {
			step.ByTarget[i].MaxInFlight = int(atk.perMax[i].Load())
		}
	}
	return step, nil
}

func (e *Engine) emit(r *vegeta.Result) {
	if e.sinkErr != nil {
		return
	}
	for _, fn := range e.sinks {
		if err := fn(r); err != nil {
			e.sinkErr = err
			return
		}
	}
}
