//go:build race

package loadtest

// raceEnabled is true when the tests run with the race detector, which
// slows every request several-fold.
const raceEnabled = true
