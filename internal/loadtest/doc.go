// Package loadtest is apictl's load-test engine, built on vegeta's library.
//
// Run attacks a set of Targets at a fixed rate (an open model: requests are
// sent on schedule whatever the latency, the engine adding workers as
// needed unless AttackOptions.MaxWorkers caps them) and checks Objectives such as
// "p99<300ms", "errors<1%" and "throughput>=95%" (ParseObjectives; an error
// is a non-2xx response, 429 included, or a transport error; throughput is
// successful responses per second over the requested rate).
//
// Search finds the highest sustainable rate: steady steps growing
// geometrically from StartRate while the objectives hold, then a bisection
// between the last passing and the first failing rate until they are within
// Precision. A failing step's successful throughput guides the bisection (a
// saturated backend serves at its capacity), steps that clearly miss the
// objectives are aborted early to protect the backend, a cool-down separates
// steps and a Budget caps the total attack time. SearchPerMethod searches
// each target alone. All return a *Capacity, the JSON model that
// `apictl plan generate` reads.
//
//	targets := loadtest.Targets{{Name: "GET /pets", Method: "GET", URL: url}}
//	c, err := loadtest.Search(ctx, targets, loadtest.SearchConfig{StepDuration: 5 * time.Second},
//		loadtest.Options{Progress: os.Stderr, ProgressTTY: true})
//	// c.SustainableRPS, c.KneeRPS, c.Steps, c.Warnings …
//
// DiscoverTargets lists the methods of a REST API through API Gateway. The
// step runner is an interface (StepRunner) so that the search logic can be
// tested without a network; Engine is the real one: vegeta's targeters,
// pacers, results and plots around the engine's own worker loop (attack.go)
// and, for plain http, its own HTTP/1.1 round tripper (fasthttp.go), which
// need about half the CPU of vegeta's Attacker on net/http's Transport
// (bench/README.md). A cancelled context
// stops a run or search, which then returns what was measured with
// Capacity.Interrupted set.
//
// The package never writes to the process's standard streams: progress goes
// to Options.Progress, results (vegeta gob) to Options.Results and the
// latency plot to Options.HTML.
package loadtest
