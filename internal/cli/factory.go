// Package cli holds apictl's cobra commands. Each command is a thin adapter:
// NewCmdX parses flags into an XOptions struct that also carries every
// dependency (streams, AWS clients, clock), and xRun does the work, so tests
// can capture the options or run xRun with fakes.
package cli

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/report"
)

// IOStreams are the process streams and what is known of them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	InTTY  bool
	OutTTY bool
	ErrTTY bool
	// ColorEnabled is true when stdout is a terminal and neither NO_COLOR,
	// TERM=dumb nor --no-color turned colour off.
	ColorEnabled bool
}

// Factory gives commands their dependencies.
type Factory struct {
	globals *globals

	IO *IOStreams
	// AWS builds the clients from the global flags, once.
	AWS func(ctx context.Context) (*awsapi.Clients, error)
	// Settings are the resolved global AWS settings.
	Settings *awsapi.Settings
	// Output is the -o format and whether colour is on.
	Output  func() report.Options
	Verbose func() bool
	Quiet   func() bool
	Now     func() time.Time
	Getenv  func(string) string
}

// Render writes a result to stdout in the chosen format.
func (f *Factory) Render(v report.Documenter) error {
	return report.Render(f.IO.Out, f.Output(), v)
}

// globals are the values of the global flags.
type globals struct {
	region, profile, endpointURL string
	output                       string
	noColor, verbose, quiet      bool
}

// newAWSFunc builds the clients lazily and once, so commands that never talk
// to AWS (version, plan validate) need no configuration. An endpoint URL,
// from --endpoint-url or AWS_ENDPOINT_URL, is checked first.
func newAWSFunc(settings *awsapi.Settings, getenv func(string) string) func(ctx context.Context) (*awsapi.Clients, error) {
	var (
		mu      sync.Mutex
		clients *awsapi.Clients
	)
	return func(ctx context.Context) (*awsapi.Clients, error) {
		mu.Lock()
		defer mu.Unlock()
		if clients != nil {
			return clients, nil
		}
		if err := validateEndpoints(ctx, *settings, getenv); err != nil {
			return nil, err
		}
		c, err := awsapi.NewClients(ctx, *settings)
		if err != nil {
			return nil, err
		}
		clients = c
		return c, nil
	}
}
