package plan

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads, parses and validates the plan file at path. The error, when
// not an I/O error, is an Errors listing every problem as file:line:col.
func Load(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	return Check(path, data)
}

// Check parses and validates data, naming it name in errors. It reports
// decode and semantic errors together.
func Check(name string, data []byte) (*Plan, error) {
	p, err := Parse(name, data)
	var es Errors
	if err != nil {
		if !errors.As(err, &es) || p == nil {
			return nil, err
		}
	}
	if verr := Validate(p); verr != nil {
		var ves Errors
		if errors.As(verr, &ves) {
			es = append(es, ves...)
		} else {
			return nil, verr
		}
	}
	if err := es.err(); err != nil {
		return p, err
	}
	return p, nil
}

// Parse decodes a plan from YAML without semantic validation. Unknown fields
// and type mismatches are reported as Errors with positions; the returned
// plan holds whatever could be decoded (nil only when the YAML itself is
// malformed).
func Parse(name string, data []byte) (*Plan, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if err.Error() == "EOF" {
			return nil, Errors{{File: name, Pos: Pos{1, 1}, Msg: "empty plan file"}}
		}
		return nil, Errors{yamlSyntaxError(name, err, data)}
	}
	p := &Plan{File: name}
	d := &decoder{file: name}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	d.decode(root, reflect.ValueOf(p).Elem(), "")
	return p, d.errs.err()
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlParserErrors are the messages of the YAML parser (not its scanner),
// whose "line N" yaml.v3 counts from 0: the line is one more.
var yamlParserErrors = map[string]bool{
	"did not find expected ',' or ']'": true, "did not find expected ',' or '}'": true,
	"did not find expected '-' indicator": true, "did not find expected <document start>": true,
	"did not find expected key": true, "did not find expected node content": true,
	"found undefined tag handle": true, "found duplicate %TAG directive": true,
	"found duplicate %YAML directive": true, "found incompatible YAML document": true,
}

func yamlSyntaxError(name string, err error, data []byte) *Error {
	msg := err.Error()
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if yamlParserErrors[m[2]] {
			line++
		}
		// An error at the end of the stream is on the last line.
		line = max(min(line, bytes.Count(bytes.TrimRight(data, "\n"), []byte("\n"))+1), 1)
		return &Error{File: name, Pos: Pos{line, 1}, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{File: name, Pos: Pos{1, 1}, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

type decoder struct {
	file string
	errs Errors
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	msg = strings.TrimPrefix(msg, ": ") // root-level messages have no path
	d.errs = append(d.errs, &Error{File: d.file, Pos: posOf(n), Msg: msg})
}

func posOf(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

var (
	sourceType = reflect.TypeOf(Source{})
	keyValType = reflect.TypeOf(KeyValue{})
)

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unsupported node"
}

// decode fills v from n; what names the value in messages.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, what string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		if v.Type().Elem() == keyValType && n.Kind == yaml.ScalarNode {
			d.errorf(n, "%s: a literal API key value is not allowed in the plan file; use value: {fromEnv: VARIABLE} or omit value to let API Gateway generate it", what)
			return
		}
		nv := reflect.New(v.Type().Elem())
		d.decode(n, nv.Elem(), what)
		v.Set(nv)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, "%s: expected a mapping, got %s", what, kindName(n))
			return
		}
		d.decodeStruct(n, v, what)
	case reflect.Slice:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		elem := v.Type().Elem()
		if elem.Kind() == reflect.Struct && keyField(elem) >= 0 {
			d.decodeKeyed(n, v, what)
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, "%s: expected a list, got %s", what, kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", what, i))
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			d.errorf(n, "%s: expected a string, got %s", what, kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.errorf(n, "%s: expected true or false, got %s", what, kindName(n))
			return
		}
		v.SetBool(n.Value == "true" || n.Value == "True" || n.Value == "TRUE")
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
			d.errorf(n, "%s: expected an integer, got %s", what, kindName(n))
			return
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if n.Tag == "!!int" {
			var i int64
			i, err = strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
			f = float64(i)
		}
		if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
			d.errorf(n, "%s: expected an integer, got %s", what, kindName(n))
			return
		}
		v.SetInt(int64(f))
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
			d.errorf(n, "%s: expected a number, got %s", what, kindName(n))
			return
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.errorf(n, "%s: expected a number, got %s", what, kindName(n))
			return
		}
		v.SetFloat(f)
	default:
		d.errorf(n, "%s: unsupported field type %s", what, v.Type())
	}
}

// fieldInfo describes one YAML field of a struct.
type fieldInfo struct {
	name  string
	index int
}

func yamlName(f reflect.StructField) string {
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	return name
}

func keyField(t reflect.Type) int {
	for i := range t.NumField() {
		if f := t.Field(i); f.Tag.Get("yaml") == ",key" {
			return i
		}
	}
	return -1
}

func yamlFields(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	for i := range t.NumField() {
		f := t.Field(i)
		name := yamlName(f)
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		out = append(out, fieldInfo{name: name, index: i})
	}
	return out
}

func srcField(v reflect.Value) *Source {
	for i := range v.NumField() {
		if v.Type().Field(i).Type == sourceType {
			return v.Field(i).Addr().Interface().(*Source)
		}
	}
	return nil
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, what string) {
	src := srcField(v)
	if src != nil {
		src.Pos = posOf(n)
	}
	fields := yamlFields(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		var fi *fieldInfo
		for j := range fields {
			if fields[j].name == k.Value {
				fi = &fields[j]
				break
			}
		}
		if fi == nil {
			d.errorf(k, "%s: unknown field %q%s", what, k.Value, suggest(k.Value, fields))
			continue
		}
		if seen[k.Value] {
			d.errorf(k, "%s: duplicate field %q", what, k.Value)
			continue
		}
		seen[k.Value] = true
		if src != nil {
			src.set(k.Value, posOf(val))
			if val.Kind == yaml.SequenceNode {
				for j, c := range val.Content {
					src.set(fmt.Sprintf("%s.%d", k.Value, j), posOf(c))
				}
			}
		}
		d.decode(val, v.Field(fi.index), joinPath(what, k.Value))
	}
}

// decodeKeyed decodes a mapping into a slice of structs whose ",key" field
// receives the mapping key, preserving file order.
func (d *decoder) decodeKeyed(n *yaml.Node, v reflect.Value, what string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: expected a mapping keyed by method (e.g. \"GET /pets\"), got %s", what, kindName(n))
		return
	}
	kf := keyField(v.Type().Elem())
	s := reflect.MakeSlice(v.Type(), 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		e := reflect.New(v.Type().Elem()).Elem()
		e.Field(kf).SetString(k.Value)
		d.decode(val, e, fmt.Sprintf("%s[%q]", what, k.Value))
		if src := srcField(e); src != nil {
			src.Pos = posOf(k) // point errors about the entry at its key
		}
		s = reflect.Append(s, e)
	}
	v.Set(s)
}

func joinPath(what, field string) string {
	if what == "" {
		return field
	}
	return what + "." + field
}

func suggest(name string, fields []fieldInfo) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
		if strings.EqualFold(f.name, name) || strings.EqualFold(strings.ReplaceAll(f.name, "_", ""), strings.ReplaceAll(name, "_", "")) {
			return fmt.Sprintf(" (did you mean %q?)", f.name)
		}
	}
	return " (known fields: " + strings.Join(names, ", ") + ")"
}
