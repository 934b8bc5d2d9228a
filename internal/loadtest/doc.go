// Package loadtest is apictl's load-test engine, built on vegeta's library.
//
// Run attacks a set of Targets at a fixed rate (an open model: requests are
// sent on schedule whatever the latency, vegeta adding workers as needed)
// and checks Objectives such as "p99<300ms", "errors<1%" and
// "throughput>=95%". Search finds the highest sustainable rate: steady steps
// growing geometrically while the objectives hold, then a bisection between
// the last passing and the first failing rate, with early abort of steps
// that clearly miss the objectives (to protect the backend), cool-downs
// between steps and a total attack-time budget. Both return a Capacity, the
// JSON model that `apictl plan generate` consumes.
//
// The package never writes to the process's standard streams: progress goes
// to the io.Writer in Options, results (vegeta gob) and the HTML plot too.
package loadtest
