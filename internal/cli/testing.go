package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/apictl/apictl/internal/awsapi"
)

// TestIO holds the captured streams of a test factory.
type TestIO struct {
	In          *strings.Reader
	Out, ErrOut *bytes.Buffer
}

// NewTestFactory returns a factory writing to buffers, with colour off, a
// fixed clock (2026-11-29 12:00 UTC), no environment and table output. Run a
// command through the whole tree, global flags included, with
//
//	root := cli.NewCmdRoot(f, cli.BuildInfo{Version: "test"})
//	root.SetArgs([]string{"--endpoint-url", sb.URL(), "measure", "--api", "x"})
//	err := root.ExecuteContext(ctx)
func NewTestFactory(t testing.TB) (*Factory, *TestIO) {
	t.Helper()
	tio := &TestIO{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
	f := newFactory(System{In: tio.In, Out: tio.Out, Err: tio.ErrOut, Getenv: func(string) string { return "" }})
	f.Now = func() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) }
	return f, tio
}

// SandboxSettings are the settings for clients talking to a sandbox URL.
func SandboxSettings(url string) awsapi.Settings {
	return awsapi.Settings{Region: "us-east-1", EndpointURL: url, StaticCredentials: true}
}
