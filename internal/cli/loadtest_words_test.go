package cli

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apictl/apictl/internal/loadtest"
)

// TestLoadtestWarningsWorded: the CLI words each typed warning with its
// flags, as the library did before it stopped naming them.
func TestLoadtestWarningsWorded(t *testing.T) {
	for _, tc := range []struct {
		w    loadtest.Warning
		want string
	}{
		{loadtest.Warning{Kind: loadtest.WarnBudgetSpent, Label: "GET /a", Budget: 90 * time.Second},
			"GET /a: search stopped: the 1m30s attack-time budget ran out (raise --budget or shorten --step-duration)"},
		{loadtest.Warning{Kind: loadtest.WarnMaxRateReached, Label: "aggregate", Rate: 5000},
			"aggregate: every step passed up to --max-rate 5000: the capacity may be higher"},
		{loadtest.Warning{Kind: loadtest.WarnGeneratorBehind, Steps: 2, Rate: 400, Achieved: 300, MaxWorkers: 8},
			"coordinated omission: 2 step(s) sent less than 95% of the requested rate (worst: 400 rps requested, 300 rps sent): --max-workers 8 capped concurrency so slow responses delayed sending (a closed model), so latencies understate what users would see"},
		{loadtest.Warning{Kind: loadtest.WarnGatewayLimited, Rate: 100, Throttle: &loadtest.Throttle{Rate: 100, Source: "stage prod */*"}},
			"gateway-limited: the stage prod */* throttle (100 rps) answered 429 above it, so the backend takes at least 100 rps; to measure past it, load-test a test stage without the throttle (--invoke-url) or use a load-test key whose usage plan allows more"},
		{loadtest.Warning{Kind: loadtest.WarnMixNoTraffic, File: "mix.json", Target: "GET /b"},
			"--mix mix.json: GET /b has no traffic in the measured mix: left out of the search"},
		{loadtest.Warning{Kind: loadtest.WarnNoAPIKey, Target: "GET /c"},
			"GET /c requires an API key and none is sent: expect 403 (give --api-key-env VAR)"},
		{loadtest.Warning{Kind: loadtest.WarnNote, Text: "plain"}, "plain"},
	} {
		if got := loadtestWarning(tc.w); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.w.Kind, got, tc.want)
		}
		if lib := tc.w.String(); tc.w.Kind != loadtest.WarnNote && (lib == tc.want || flagInText.MatchString(lib)) {
			t.Errorf("%s: the library's own wording %q names a flag", tc.w.Kind, lib)
		}
	}
}

// TestLoadtestErrorsWorded: the library's typed errors come out worded
// with the flags (in place, the context kept) and a hint.
func TestLoadtestErrorsWorded(t *testing.T) {
	_, err := loadtest.ReadData(strings.NewReader(""), "users.csv")
	data := fmt.Errorf("load: %w", err)
	for _, tc := range []struct {
		err        error
		want, hint string
	}{
		{data, "load: --data users.csv: empty file", ""},
		{fmt.Errorf("openapi x.yaml: %w", &loadtest.MissingNameError{Target: "GET /u/{id}", Name: "id", What: "path parameter"}),
			`openapi x.yaml: GET /u/{id}: no value for path parameter "id": give --data FILE with a "id" column (or --path-param id=VALUE)`, ""},
		{&loadtest.BodyMissingError{Methods: []string{"POST /o"}},
			"POST /o requires a request body and the definition gives no example: give --body 'POST /o=FILE' (a JSON body may use {{.column}} from --data)", ""},
		{&loadtest.MissingPathParamsError{API: "shop", Names: []string{"id"}},
			"api shop: no value for path parameter(s) id: give --path-param id=VALUE, a --path-params file or --data FILE with these columns", ""},
		{fmt.Errorf("step: %w", loadtest.ErrNoWorkerCap), "step: rate 0 (as fast as possible) needs a worker cap", "set --max-workers"},
		{loadtest.ErrNoTargets, "no targets", "give a URL, --targets FILE or --api NAME --stage S"},
	} {
		got := wordLoadtestError(tc.err)
		var h hinter
		hint := ""
		if errors.As(got, &h) {
			hint = h.Hint()
		}
		if got.Error() != tc.want || hint != tc.hint {
			t.Errorf("%v:\n got %q (hint %q)\nwant %q (hint %q)", tc.err, got, hint, tc.want, tc.hint)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("%v: the worded error lost its chain", tc.err)
		}
	}
	plain := errors.New("other")
	if wordLoadtestError(plain) != plain || wordLoadtestError(nil) != nil {
		t.Error("an error with nothing to word changed")
	}
}

var flagInText = regexp.MustCompile(`(^|[\s'"(])--[a-z][a-z0-9-]+`)

// TestLibrariesDontSpeakCLI: no string in the load-test and measure
// libraries (tests apart) names a command-line flag: they return typed
// errors and warnings that the CLI words.
func TestLibrariesDontSpeakCLI(t *testing.T) {
	for _, dir := range []string{"../loadtest", "../measure"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				// The AWS CLI's commands (`aws apigateway update-stage --rest-api-id …`) are not apictl's flags.
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && flagInText.MatchString(lit.Value) && !strings.Contains(lit.Value, "`aws ") {
					t.Errorf("%s: %s names a flag", fset.Position(lit.Pos()), lit.Value)
				}
				return true
			})
		}
	}
}
