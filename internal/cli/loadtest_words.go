package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apictl/apictl/internal/loadtest"
	"github.com/apictl/apictl/internal/report"
)

// The load-test library does not know its flags: its typed warnings and
// errors are worded here, with the flags that change what they are about.

// loadtestWarning words a warning of the load test.
func loadtestWarning(w loadtest.Warning) string {
	switch w.Kind {
	case loadtest.WarnBudgetSpent:
		return fmt.Sprintf("%s: search stopped: the %s attack-time budget ran out (raise --budget or shorten --step-duration)", w.Label, w.Budget)
	case loadtest.WarnMaxRateReached:
		return fmt.Sprintf("%s: every step passed up to --max-rate %s: the capacity may be higher", w.Label, report.Rate(w.Rate))
	case loadtest.WarnGeneratorBehind:
		return w.GeneratorBehindText(fmt.Sprintf("--max-workers %d", w.MaxWorkers))
	case loadtest.WarnGatewayLimited:
		return w.GatewayLimitedText("load-test a test stage without the throttle (--invoke-url)")
	case loadtest.WarnMixNoTraffic:
		return fmt.Sprintf("--mix %s: %s has no traffic in the measured mix: left out of the search", w.File, w.Target)
	case loadtest.WarnNoAPIKey:
		return fmt.Sprintf("%s requires an API key and none is sent: expect 403 (give --api-key-env VAR)", w.Target)
	default:
		return w.String()
	}
}

func loadtestWarnings(ws []loadtest.Warning) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = loadtestWarning(w)
	}
	return out
}

// inputFlags are the flags that give each input of a load test.
var inputFlags = map[loadtest.Input]string{
	loadtest.InputData: "--data",
	loadtest.InputMix:  "--mix",
	loadtest.InputBody: "--body",
}

// sentinelHints tell how to give what a sentinel error says is missing.
var sentinelHints = []struct {
	err  error
	hint string
}{
	{loadtest.ErrNoTargets, "give a URL, --targets FILE or --api NAME --stage S"},
	{loadtest.ErrNoWorkerCap, "set --max-workers"},
	{loadtest.ErrNoRegion, "set --region or AWS_REGION"},
	{loadtest.ErrNoAPIOrStage, "give --api NAME and --stage S"},
	{loadtest.ErrMixNoMethods, "run 'apictl measure --by method -o json'"},
}

// wordedError is a library error worded in the CLI's terms; the chain
// below it stays for errors.Is and errors.As.
type wordedError struct {
	text, hint string
	err        error
}

func (e *wordedError) Error() string { return e.text }
func (e *wordedError) Unwrap() error { return e.err }
func (e *wordedError) Hint() string  { return e.hint }

// wordLoadtestError words the load-test library's typed errors with the
// flags: each one's text is replaced where it stands in err's text, so the
// context around it stays.
func wordLoadtestError(err error) error {
	if err == nil {
		return nil
	}
	text, hint := err.Error(), ""
	replace := func(e error, worded string) { text = strings.Replace(text, e.Error(), worded, 1) }
	var (
		in      *loadtest.InputError
		missing *loadtest.MissingNameError
		body    *loadtest.BodyMissingError
		key     *loadtest.UnknownBodyKeyError
		params  *loadtest.MissingPathParamsError
	)
	if errors.As(err, &in) {
		replace(in, fmt.Sprintf("%s %s: %v", inputFlags[in.Input], in.Where(), in.Err))
	}
	if errors.As(err, &missing) {
		if missing.Data == "" {
			replace(missing, fmt.Sprintf("%s: no value for %s %q: give --data FILE with a %q column (or --path-param %s=VALUE)", missing.Target, missing.What, missing.Name, missing.Name, missing.Name))
		} else {
			replace(missing, fmt.Sprintf("%s: --data %s has no column %q for its %s (columns: %s)", missing.Target, missing.Data, missing.Name, missing.What, missing.Have))
		}
	}
	if errors.As(err, &body) {
		replace(body, fmt.Sprintf("%s: give --body '%s=FILE' (a JSON body may use {{.column}} from --data)", body, body.Methods[0]))
	}
	if errors.As(err, &key) {
		replace(key, "--"+key.Error())
	}
	if errors.As(err, &params) {
		replace(params, fmt.Sprintf("%s: give --path-param %s=VALUE, a --path-params file or --data FILE with these columns", params, params.Names[0]))
	}
	for _, s := range sentinelHints {
		if errors.Is(err, s.err) {
			hint = s.hint
			break
		}
	}
	if text == err.Error() && hint == "" {
		return err
	}
	return &wordedError{text: text, hint: hint, err: err}
}
