package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Exit codes, documented in `apictl help exit-codes`.
const (
	ExitOK             = 0
	ExitError          = 1
	ExitChangesPending = 2
	ExitObjectivesMiss = 3
	ExitInterrupted    = 130
)

// Sentinel errors that map to their own exit codes. Wrap them with context:
// fmt.Errorf("%w: p99 1.2s > 300ms", cli.ErrObjectivesNotMet).
var (
	ErrObjectivesNotMet = errors.New("objectives not met")
	ErrChangesPending   = errors.New("changes pending")
	ErrInterrupted      = errors.New("interrupted")
)

// FlagError is a command-line usage error; the usage is printed with it.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf builds a FlagError.
func FlagErrorf(format string, a ...any) error {
	return &FlagError{Err: fmt.Errorf(format, a...)}
}

// HintError is an error with advice on what to do about it.
type HintError struct {
	Err  error
	Hint string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

// WithHint attaches a hint to err (nil stays nil).
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &HintError{Err: err, Hint: hint}
}

// hinter is any error that carries a hint, such as awsapi.MissingRegionError.
type hinter interface{ Hint() string }

// SilentError has already been reported (e.g. a diff with pending changes);
// only its exit code matters.
type SilentError struct{ Err error }

func (e *SilentError) Error() string { return e.Err.Error() }
func (e *SilentError) Unwrap() error { return e.Err }

// ExitCode maps an error returned by a command to the process exit code. It
// is the only place where that mapping lives.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrInterrupted), errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.Is(err, ErrChangesPending):
		return ExitChangesPending
	case errors.Is(err, ErrObjectivesNotMet):
		return ExitObjectivesMiss
	default:
		return ExitError
	}
}

// PrintError writes err as `apictl: error: …` with its hints, as the user
// sees it. Nothing is printed for a SilentError.
func PrintError(w io.Writer, err error) {
	var silent *SilentError
	if err == nil || errors.As(err, &silent) {
		return
	}
	if errors.Is(err, context.Canceled) && !errors.Is(err, ErrInterrupted) {
		fmt.Fprintln(w, "apictl: interrupted")
		return
	}
	fmt.Fprintf(w, "apictl: error: %s\n", err)
	seen := map[string]bool{}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if h, ok := e.(hinter); ok {
			hint := h.Hint()
			if worded, ok := flagHint(e); ok {
				hint = worded
			}
			if hint != "" && !seen[hint] {
				seen[hint] = true
				fmt.Fprintf(w, "hint: %s\n", hint)
			}
		}
		if he, ok := e.(*HintError); ok && he.Hint != "" && !seen[he.Hint] {
			seen[he.Hint] = true
			fmt.Fprintf(w, "hint: %s\n", he.Hint)
		}
	}
}

const exitCodesHelp = `apictl exits with:

  0    success
  1    error (bad flag or input, AWS error, unknown API or stage, …)
  2    changes pending: apply-plan --dry-run --detailed-exitcode found a diff
  3    objectives not met: a fixed-rate loadtest missed its SLOs, or a
       --find-max search found no rate that meets them, or apictl audit
       found findings at or above --fail-on (default high)
  130  interrupted (Ctrl-C); a first Ctrl-C stops a load test and reports
       what was measured, a second one exits at once

Errors are printed on stderr as "apictl: error: …", followed by "hint: …"
lines when there is advice. Data goes to stdout, progress to stderr.
`
