package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	goldenfile "github.com/apictl/apictl/internal/golden"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func TestLoadGood(t *testing.T) {
	p, err := Load("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.EffectiveType() != TypeREST || len(p.UsagePlans) != 2 || len(p.APIKeys) != 2 {
		t.Fatalf("plan = %+v", p)
	}
	if p.APIKeys[1].IsEnabled() || !p.APIKeys[0].IsEnabled() {
		t.Errorf("enabled defaults wrong: %+v", p.APIKeys)
	}
	if *p.Stage.Methods[1].Throttle.Rate != 10.5 || p.Stage.Methods[2].Key != "GET /" {
		t.Errorf("methods = %+v", p.Stage.Methods)
	}
	if got := p.Stage.Methods[0].Src.Pos; got != (Pos{9, 5}) {
		t.Errorf("method pos = %v, want 9:5", got)
	}
}

func TestValidateBadGolden(t *testing.T) {
	_, err := Load("testdata/bad.yaml")
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("want Errors, got %v", err)
	}
	out := err.Error() + "\n"
	golden(t, "bad.golden", []byte(out))
	lineRe := regexp.MustCompile(`^testdata/bad\.yaml:\d+:\d+: \S`)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !lineRe.MatchString(l) {
			t.Errorf("error line without file:line:col: %q", l)
		}
	}
	for _, want := range []string{
		"unknown field \"methdos\"", "rate must be greater than 0", "burst must not be negative",
		"per-method throttles need a plan throttle", "bad period \"YEAR\"", "duplicate usage plan name",
		"not formatted \"VERB /path\"", "unknown API key \"carol\"", "a literal API key value is not allowed",
		"for the same stage", "duplicate API key name", "duplicate stage", "offset 9 out of range",
		"unknown HTTP method \"FETCH\"", "expected true or false", "expected an integer",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "s3cr3t") {
		t.Error("a literal key value was echoed in an error")
	}
}

func mustValidate(t *testing.T, y string) error {
	t.Helper()
	_, err := Check("p.yaml", []byte(y))
	return err
}

func mustParse(t *testing.T, y string) *Plan {
	t.Helper()
	p, err := Check("p.yaml", []byte(y))
	if p == nil {
		t.Fatalf("parse: %v", err)
	}
	return p
}

const head = "apiVersion: apictl/v1\nkind: Plan\napi: a\nstages: [s1, s2]\n"

func TestLedgerRaisableQuotaLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: apictl/v1\nkind: Plan\napi: a\nstages: [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10]\napiKeys: [{name: k}]\nusagePlans:\n")
	for i := range 11 {
		fmt.Fprintf(&b, "  - name: p%d\n    stages: [s%d]\n    keys: [k]\n", i, i)
	}
	// Raisable quotas are warnings, not errors.
	if err := mustValidate(t, b.String()); err != nil {
		t.Errorf("a key in 11 plans is a raisable quota, got error %v", err)
	}
	if ws := Warnings(mustParse(t, b.String())); len(ws) != 1 || ws[0].Quota != QuotaPlansPerKey || !strings.Contains(ws[0].String(), "p.yaml:") {
		t.Errorf("want one warning naming %q, got %v", QuotaPlansPerKey, ws)
	}

	b.Reset()
	b.WriteString(head + "usagePlans:\n  - name: p\n    throttle: {rate: 100, burst: 1}\n    methods:\n")
	for i := range 21 {
		b.WriteString("      GET /m" + string(rune('a'+i)) + ": {rate: 1, burst: 1}\n")
	}
	if err := mustValidate(t, b.String()); err != nil {
		t.Errorf("21 method throttles is a raisable quota, got error %v", err)
	}
	if ws := Warnings(mustParse(t, b.String())); len(ws) != 1 || ws[0].Quota != QuotaMethodThrottles || !strings.Contains(ws[0].String(), "21 method throttles") {
		t.Errorf("want one warning naming %q, got %v", QuotaMethodThrottles, ws)
	}
	b.Reset()
	b.WriteString(head + "apiKeys:\n")
	for i := range MaxAPIKeys + 1 {
		fmt.Fprintf(&b, "  - name: k%d\n", i)
	}
	if err := mustValidate(t, b.String()); err == nil || !strings.Contains(err.Error(), "10001 API keys exceed") {
		t.Errorf("API keys per region cannot be raised: want an error, got %v", err)
	}

	var err error

	err = mustValidate(t, head+"type: http\nusagePlans: [{name: x}]\n")
	if err == nil || !strings.Contains(err.Error(), "p.yaml:6:13: usage plans are not supported for HTTP APIs") {
		t.Errorf("want HTTP usage plan error at 6:13, got %v", err)
	}
	if err := mustValidate(t, head+"type: http\nstage:\n  methods:\n    GET /items: {throttle: {rate: 5, burst: 1}}\n    $default: {throttle: {rate: 5, burst: 1}}\n"); err != nil {
		t.Errorf("HTTP plan: %v", err)
	}
	if err := mustValidate(t, "a: [b"); err == nil || !strings.HasPrefix(err.Error(), "p.yaml:1:1: invalid YAML") {
		t.Errorf("syntax error = %v", err)
	}
	// The line of the construct at fault, for scanner and parser errors alike.
	for _, c := range []struct{ doc, want string }{
		{"api: a\nstage:\n  rate: [10\n", "p.yaml:3:1: invalid YAML: did not find expected ',' or ']'"},
		{"api: a\nstage:\n  rate: 10\n   burst: 5\n", "p.yaml:4:1: invalid YAML: mapping values are not allowed"},
		{"api: a\nstages:\n  - prod\n  x: 1\n", "p.yaml:3:1: invalid YAML: did not find expected '-' indicator"},
		{"api: a\nstage: {rate: 1\n", "p.yaml:2:1: invalid YAML: did not find expected ',' or '}'"},
	} {
		if err := mustValidate(t, c.doc); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: error = %v, want %q", c.doc, err, c.want)
		}
	}
}

// TestSchemaKnowsEveryField walks the Go model and checks each YAML field
// is a property of the published schema at the same place.
func TestSchemaKnowsEveryField(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(SchemaJSON(), &schema); err != nil {
		t.Fatal(err)
	}
	if schema["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", schema["$schema"])
	}
	n := 0
	var walk func(t *testing.T, typ reflect.Type, s map[string]any, path string)
	walk = func(t *testing.T, typ reflect.Type, s map[string]any, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			if typ.Kind() == reflect.Slice {
				if typ.Elem().Kind() == reflect.Struct && keyField(typ.Elem()) >= 0 {
					s, _ = s["additionalProperties"].(map[string]any)
				} else {
					s, _ = s["items"].(map[string]any)
				}
			}
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct {
			return
		}
		if s["additionalProperties"] != false {
			t.Errorf("%s: schema allows unknown fields", path)
		}
		props, _ := s["properties"].(map[string]any)
		if len(props) != len(yamlFields(typ)) {
			t.Errorf("%s: schema has %d properties, model %d", path, len(props), len(yamlFields(typ)))
		}
		for _, f := range yamlFields(typ) {
			ps, ok := props[f.name].(map[string]any)
			if !ok {
				t.Errorf("schema lacks %s.%s", path, f.name)
				continue
			}
			n++
			walk(t, typ.Field(f.index).Type, ps, path+"."+f.name)
		}
	}
	walk(t, reflect.TypeOf(Plan{}), schema, "plan")
	if n < 30 {
		t.Errorf("walked only %d fields", n)
	}
}

func TestGenerateValidates(t *testing.T) {
	_, y, err := Generate(sampleInput())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check("gen.yaml", y); err != nil {
		t.Fatalf("generated plan does not validate: %v", err)
	}
}
