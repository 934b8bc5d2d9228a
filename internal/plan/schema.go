package plan

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// SchemaID is the $id of the published plan JSON Schema.
const SchemaID = "https://github.com/apictl/apictl/schemas/plan-v1.json"

// Schema returns the JSON Schema (draft 2020-12) of plan files, generated
// from the Go model so it cannot drift from what Parse accepts.
func Schema() map[string]any {
	s := schemaOf(reflect.TypeOf(Plan{}))
	out := map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"$id":     SchemaID,
		"title":   "apictl plan",
	}
	for k, v := range s {
		out[k] = v
	}
	return out
}

// SchemaJSON returns Schema as indented JSON.
func SchemaJSON() []byte {
	b, err := json.MarshalIndent(Schema(), "", "  ")
	if err != nil {
		panic(err) // the schema is built from plain maps and cannot fail to marshal
	}
	return append(b, '\n')
}

const methodKeyPattern = `^(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|ANY) /.*$|^\$default$`

func schemaOf(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Struct:
		return structSchema(t)
	}
	panic("plan: no schema for " + t.String())
}

func structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for _, fi := range yamlFields(t) {
		f := t.Field(fi.index)
		var ps map[string]any
		ann := parseSchemaTag(f.Tag.Get("schema"))
		if _, keyed := ann["keyed"]; keyed {
			ps = map[string]any{
				"type":                 "object",
				"propertyNames":        map[string]any{"pattern": methodKeyPattern},
				"additionalProperties": structSchema(f.Type.Elem()),
			}
		} else {
			ps = schemaOf(f.Type)
		}
		for k, v := range ann {
			switch k {
			case "keyed":
			case "required":
				required = append(required, fi.name)
			case "enum":
				var vals []any
				for _, e := range strings.Split(v, "|") {
					vals = append(vals, e)
				}
				ps["enum"] = vals
			case "const", "pattern":
				ps[k] = v
			case "default":
				switch ps["type"] {
				case "boolean":
					ps[k] = v == "true"
				default:
					ps[k] = v
				}
			default: // numeric keywords: minimum, exclusiveMinimum, minLength, minItems
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					panic("plan: bad schema annotation " + k + "=" + v)
				}
				ps[k] = n
			}
		}
		if d := f.Tag.Get("desc"); d != "" {
			ps["description"] = d
		}
		props[fi.name] = ps
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func parseSchemaTag(tag string) map[string]string {
	out := map[string]string{}
	if tag == "" {
		return out
	}
	for _, part := range strings.Split(tag, ",") {
		k, v, _ := strings.Cut(part, "=")
		out[k] = v
	}
	return out
}
