package loadtest

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// WarningKind says what a Warning is about, so that a front end can word
// it in its own terms (the CLI names the flags that change it).
type WarningKind string

// The kinds of warnings, with the fields each fills.
const (
	// WarnNote is a caution with nothing to change: Text.
	WarnNote WarningKind = "note"
	// WarnBudgetSpent: the search of Label stopped when its attack-time
	// Budget ran out.
	WarnBudgetSpent WarningKind = "budget-spent"
	// WarnMaxRateReached: every step of Label passed up to the maximum
	// rate Rate.
	WarnMaxRateReached WarningKind = "max-rate-reached"
	// WarnGeneratorBehind: Steps steps sent less than generatorBehindRatio
	// of their rate (the worst: Rate requested, Achieved sent); MaxWorkers
	// is the worker cap (0: none).
	WarnGeneratorBehind WarningKind = "generator-behind"
	// WarnGatewayLimited: the live Throttle answered 429 above its rate,
	// so the backend takes at least Rate.
	WarnGatewayLimited WarningKind = "gateway-limited"
	// WarnMixNoTraffic: Target has no traffic in the mix read from File.
	WarnMixNoTraffic WarningKind = "mix-no-traffic"
	// WarnNoAPIKey: Target requires an API key and none is sent.
	WarnNoAPIKey WarningKind = "no-api-key"
)

// Warning is a caution about a load test or its figures.
type Warning struct {
	Kind WarningKind
	// Text is the caution of a WarnNote.
	Text     string
	Label    string // the method searched ("aggregate" for a mix)
	Target   string // "GET /pets"
	File     string
	Rate     float64
	Achieved float64
	Steps    int
	Budget   time.Duration
	// MaxWorkers is the worker cap (0: uncapped).
	MaxWorkers uint64
	Throttle   *Throttle
}

// String words the warning without command-line terms.
func (w Warning) String() string {
	switch w.Kind {
	case WarnBudgetSpent:
		return fmt.Sprintf("%s: search stopped: the %s attack-time budget ran out", w.Label, w.Budget)
	case WarnMaxRateReached:
		return fmt.Sprintf("%s: every step passed up to the maximum rate %s: the capacity may be higher", w.Label, fmtRate(w.Rate))
	case WarnGeneratorBehind:
		return w.GeneratorBehindText(fmt.Sprintf("a limit of %d workers", w.MaxWorkers))
	case WarnGatewayLimited:
		return w.GatewayLimitedText("load-test a test stage without the throttle")
	case WarnMixNoTraffic:
		return fmt.Sprintf("mix %s: %s has no traffic in the measured mix: left out of the search", w.File, w.Target)
	case WarnNoAPIKey:
		return fmt.Sprintf("%s requires an API key and none is sent: expect 403", w.Target)
	default:
		return w.Text
	}
}

// GeneratorBehindText words a WarnGeneratorBehind, capName naming the
// worker cap when there is one.
func (w Warning) GeneratorBehindText(capName string) string {
	cause := "the load generator could not keep up (CPU-bound or too few connections), so latencies understate what users would see"
	if w.MaxWorkers > 0 {
		cause = capName + " capped concurrency so slow responses delayed sending (a closed model), so latencies understate what users would see"
	}
	return fmt.Sprintf("coordinated omission: %d step(s) sent less than %s of the requested rate (worst: %s rps requested, %s rps sent): %s",
		w.Steps, fmtPct(generatorBehindRatio), fmtRate(w.Rate), fmtRate(w.Achieved), cause)
}

// GatewayLimitedText words a WarnGatewayLimited, testStage saying how to
// reach a stage without the throttle.
func (w Warning) GatewayLimitedText(testStage string) string {
	return fmt.Sprintf("gateway-limited: the %s throttle (%s rps) answered 429 above it, so the backend takes at least %s rps; to measure past it, %s or use a load-test key whose usage plan allows more",
		w.Throttle.Source, fmtRate(w.Throttle.Rate), fmtRate(w.Rate), testStage)
}

func note(format string, a ...any) Warning {
	return Warning{Kind: WarnNote, Text: fmt.Sprintf(format, a...)}
}

// warn adds w to the capacity's warnings.
func (c *Capacity) warn(ws ...Warning) {
	for _, w := range ws {
		c.Warnings = append(c.Warnings, w.String())
		c.warnings = append(c.warnings, w)
	}
}

// WordWarnings rewords the warnings the load test raised (Warnings keeps
// their text) with word, e.g. in a front end's terms.
func (c *Capacity) WordWarnings(word func(Warning) string) {
	for _, w := range c.warnings {
		for i, text := range c.Warnings {
			if text == w.String() {
				c.Warnings[i] = word(w)
			}
		}
	}
}

// Input names an input of a load test, for errors about it.
type Input string

// The inputs that errors name.
const (
	InputData Input = "data file"
	InputMix  Input = "mix file"
	InputBody Input = "body"
)

// InputError is an error in an input: the data file, the mix file, a body.
type InputError struct {
	Input Input
	// Name is the file's name (or the body's key).
	Name string
	// Line is the line of a data file at fault (0: none).
	Line int
	Err  error
}

// Where is Name, with ":Line" when there is one.
func (e *InputError) Where() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d", e.Name, e.Line)
	}
	return e.Name
}

func (e *InputError) Error() string { return fmt.Sprintf("%s %s: %v", e.Input, e.Where(), e.Err) }
func (e *InputError) Unwrap() error { return e.Err }

func dataError(name string, line int, format string, a ...any) error {
	return &InputError{Input: InputData, Name: name, Line: line, Err: fmt.Errorf(format, a...)}
}

func mixError(name string, format string, a ...any) error {
	return &InputError{Input: InputMix, Name: name, Err: fmt.Errorf(format, a...)}
}

// Sentinel errors of inputs that are missing; a front end tells how to
// give them.
var (
	ErrNoTargets    = errors.New("no targets")
	ErrNoWorkerCap  = errors.New("rate 0 (as fast as possible) needs a worker cap")
	ErrNoRegion     = errors.New("sigv4: no region")
	ErrNoAPIOrStage = errors.New("discover: an API and a stage are both needed")
	ErrMixNoMethods = errors.New("no methods[]")
)

// MissingPathParamsError lists path parameters of an API's methods that
// nothing gives a value for.
type MissingPathParamsError struct {
	API   string
	Names []string
}

func (e *MissingPathParamsError) Error() string {
	return fmt.Sprintf("api %s: no value for path parameter(s) %s", e.API, strings.Join(e.Names, ", "))
}
