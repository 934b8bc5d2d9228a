// Package audittest holds what tests of package audit and of the audit
// command share: the SARIF 2.1.0 JSON schema (OASIS errata01) that audit's
// SARIF output must validate against.
package audittest

import (
	"bytes"
	_ "embed"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed sarif-schema-2.1.0.json
var sarifSchema []byte

// SARIFSchema is the compiled SARIF 2.1.0 schema.
func SARIFSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(sarifSchema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return schema
}

// ValidateSARIF reports whether log is valid SARIF 2.1.0.
func ValidateSARIF(t testing.TB, log []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(log))
	if err != nil {
		return err
	}
	return SARIFSchema(t).Validate(inst)
}
