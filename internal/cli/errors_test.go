package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/apictl/apictl/internal/awsapi"
)

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("boom"), 1},
		{FlagErrorf("bad flag"), 1},
		{fmt.Errorf("apply: %w", ErrChangesPending), 2},
		{fmt.Errorf("%w: p99 1.2s > 300ms", ErrObjectivesNotMet), 3},
		{fmt.Errorf("attack: %w", context.Canceled), 130},
		{ErrInterrupted, 130},
		{WithHint(fmt.Errorf("x: %w", ErrObjectivesNotMet), "h"), 3},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestPrintErrorHints(t *testing.T) {
	var buf bytes.Buffer
	err := fmt.Errorf("load clients: %w", WithHint(&awsapi.MissingRegionError{}, "outer hint"))
	PrintError(&buf, err)
	want := "apictl: error: load clients: no aws region configured\nhint: outer hint\nhint: pass --region us-east-1, set AWS_REGION, or set region in your AWS profile\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	buf.Reset()
	PrintError(&buf, &SilentError{Err: ErrChangesPending})
	if buf.Len() != 0 {
		t.Errorf("silent error printed %q", buf.String())
	}
}

func TestColorEnabled(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, tc := range []struct {
		name    string
		tty     bool
		noColor bool
		env     map[string]string
		want    bool
	}{
		{"tty", true, false, nil, true},
		{"not a tty", false, false, nil, false},
		{"flag", true, true, nil, false},
		{"NO_COLOR", true, false, map[string]string{"NO_COLOR": "1"}, false},
		{"TERM=dumb", true, false, map[string]string{"TERM": "dumb"}, false},
	} {
		if got := colorEnabled(tc.tty, tc.noColor, env(tc.env)); got != tc.want {
			t.Errorf("%s: colorEnabled = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestLoopbackEndpointGetsSandboxDefaults(t *testing.T) {
	f, _ := NewTestFactory(t)
	root := NewCmdRoot(f, BuildInfo{Version: "test"})
	root.SetArgs([]string{"--endpoint-url", "http://127.0.0.1:4566", "version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if f.Settings.Region != "us-east-1" || !f.Settings.StaticCredentials {
		t.Errorf("settings = %+v, want region us-east-1 and static credentials for a loopback endpoint", *f.Settings)
	}
	f2, _ := NewTestFactory(t)
	root = NewCmdRoot(f2, BuildInfo{Version: "test"})
	root.SetArgs([]string{"--endpoint-url", "https://apigateway.eu-west-1.amazonaws.com", "version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if f2.Settings.StaticCredentials || f2.Settings.Region != "" {
		t.Errorf("a remote endpoint must not get fake credentials: %+v", *f2.Settings)
	}
}

func TestMainMapsFlagErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main(context.Background(), System{Args: []string{"--nope"}, Out: &out, Err: &errOut})
	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	if out.Len() != 0 || !bytes.Contains(errOut.Bytes(), []byte("hint:")) {
		t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
	}
}
