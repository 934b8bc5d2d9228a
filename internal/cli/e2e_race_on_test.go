//go:build race

package cli

// raceEnabled is true when the tests run with the race detector, which
// slows every request several-fold: the capacity searches of the
// end-to-end tests then find less than the backend's truth.
const raceEnabled = true
