package sandbox

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when any goroutine they started is
// still running after the last one: an attack, server or worker that
// outlives its test is a leak.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
