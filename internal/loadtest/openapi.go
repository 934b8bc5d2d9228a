package loadtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/getkin/kin-openapi/openapi3"
)

// Operation is one method of an API as its definition describes it: from
// GetResources (RequestParameters, RequestModels), an OpenAPI document
// (--openapi) or the stage's export (GetExport oas30).
type Operation struct {
	// Method is the declared method ("ANY" included; it is sent as GET).
	Method string
	// Path is the resource path template, "/users/{userId}".
	Path    string
	Query   []Param
	Headers []Param
	// Body is the declared request body (nil: none).
	Body *BodySpec
	// APIKey is true when the method requires an API key (x-api-key).
	APIKey bool
}

// Name is "METHOD /path", the target's name.
func (op Operation) Name() string { return op.Method + " " + op.Path }

// BodySpec is a method's declared request body.
type BodySpec struct {
	Required bool
	// ContentType is the first declared media type ("application/json").
	ContentType string
	// Model names the body's schema (API Gateway model or component name).
	Model string
	// Example is the declared example, serialised (nil: none).
	Example []byte
}

// ---- from GetResources ----

// OperationsFromResources lists the methods of resources (GetResources with
// embedded methods). A method's RequestParameters give its query strings
// and headers ("method.request.querystring.page": required); its
// RequestModels a body, required unless the model is API Gateway's "Empty".
func OperationsFromResources(resources []types.Resource) []Operation {
	var out []Operation
	for _, r := range resources {
		path := aws.ToString(r.Path)
		methods := make([]string, 0, len(r.ResourceMethods))
		for m := range r.ResourceMethods {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, m := range methods {
			rm := r.ResourceMethods[m]
			op := Operation{Method: m, Path: path, APIKey: aws.ToBool(rm.ApiKeyRequired)}
			keys := make([]string, 0, len(rm.RequestParameters))
			for k := range rm.RequestParameters {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				req := rm.RequestParameters[k]
				switch {
				case strings.HasPrefix(k, "method.request.querystring."):
					op.Query = append(op.Query, Param{Name: strings.TrimPrefix(k, "method.request.querystring."), Required: req})
				case strings.HasPrefix(k, "method.request.header."):
					op.Headers = append(op.Headers, Param{Name: http.CanonicalHeaderKey(strings.TrimPrefix(k, "method.request.header.")), Required: req})
				}
			}
			if ct, model := firstModel(rm.RequestModels); ct != "" {
				op.Body = &BodySpec{ContentType: ct, Model: model, Required: model != "Empty"}
			}
			out = append(out, op)
		}
	}
	return out
}

func firstModel(models map[string]string) (string, string) {
	cts := make([]string, 0, len(models))
	for ct := range models {
		cts = append(cts, ct)
	}
	sort.Strings(cts)
	if len(cts) == 0 {
		return "", ""
	}
	return cts[0], models[cts[0]]
}

// ---- from OpenAPI ----

// LoadOpenAPI parses an OpenAPI 3 document (JSON or YAML) and resolves its
// internal references; references to other files are refused.
func LoadOpenAPI(data []byte, name string) (*openapi3.T, error) {
	l := openapi3.NewLoader()
	l.IsExternalRefsAllowed = false
	doc, err := l.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("openapi %s: %w", name, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		return nil, fmt.Errorf("openapi %s: version %q: want an OpenAPI 3 document (Swagger 2.0 is not read)", name, doc.OpenAPI)
	}
	return doc, nil
}

// ServerURL returns the document's first server URL with its variables at
// their defaults and no trailing slash ("" when it declares none). API
// Gateway's exports write the stage as a basePath variable whose default
// may or may not start with a slash.
func ServerURL(doc *openapi3.T) string {
	if len(doc.Servers) == 0 || doc.Servers[0] == nil {
		return ""
	}
	s := doc.Servers[0]
	u := s.URL
	for name, v := range s.Variables {
		if v != nil {
			u = strings.ReplaceAll(u, "{"+name+"}", v.Default)
		}
	}
	if i := strings.Index(u, "://"); i >= 0 {
		scheme, rest := u[:i+3], u[i+3:]
		for strings.Contains(rest, "//") {
			rest = strings.ReplaceAll(rest, "//", "/")
		}
		u = scheme + rest
	}
	return strings.TrimSuffix(u, "/")
}

// anyMethodExtension is where API Gateway's exports put an ANY method.
const anyMethodExtension = "x-amazon-apigateway-any-method"

// OperationsFromOpenAPI lists the operations of an OpenAPI 3 document,
// sorted by path then method: their query and header parameters, request
// body (required flag, first media type, example) and API-key security.
func OperationsFromOpenAPI(doc *openapi3.T) ([]Operation, error) {
	if doc.Paths == nil {
		return nil, nil
	}
	apiKeySchemes := map[string]bool{}
	if doc.Components != nil {
		for name, ref := range doc.Components.SecuritySchemes {
			if ref != nil && ref.Value != nil && ref.Value.Type == "apiKey" && strings.EqualFold(ref.Value.Name, "x-api-key") {
				apiKeySchemes[name] = true
			}
		}
	}
	var out []Operation
	paths := doc.Paths.Map()
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, path := range keys {
		item := paths[path]
		if item == nil {
			continue
		}
		ops := item.Operations()
		if raw, ok := item.Extensions[anyMethodExtension]; ok {
			b, err := json.Marshal(raw)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", anyMethodExtension, path, err)
			}
			var op openapi3.Operation
			if err := json.Unmarshal(b, &op); err != nil {
				return nil, fmt.Errorf("%s %s: %w", anyMethodExtension, path, err)
			}
			ops["ANY"] = &op
		}
		methods := make([]string, 0, len(ops))
		for m := range ops {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, m := range methods {
			o := ops[m]
			op := Operation{Method: strings.ToUpper(m), Path: path}
			params := append(slices.Clone(item.Parameters), o.Parameters...)
			for _, pr := range params {
				if pr == nil || pr.Value == nil {
					continue
				}
				p := pr.Value
				switch p.In {
				case openapi3.ParameterInQuery:
					op.Query = setParam(op.Query, Param{Name: p.Name, Required: p.Required})
				case openapi3.ParameterInHeader:
					op.Headers = setParam(op.Headers, Param{Name: http.CanonicalHeaderKey(p.Name), Required: p.Required})
				}
			}
			if o.RequestBody != nil && o.RequestBody.Value != nil {
				op.Body = bodyFromOpenAPI(o.RequestBody.Value, o.RequestBody.Ref)
			}
			sec := doc.Security
			if o.Security != nil {
				sec = *o.Security
			}
			for _, req := range sec {
				for name := range req {
					if apiKeySchemes[name] {
						op.APIKey = true
					}
				}
			}
			out = append(out, op)
		}
	}
	return out, nil
}

// setParam adds p to ps, replacing a parameter of the same name (an
// operation's parameter overrides its path item's).
func setParam(ps []Param, p Param) []Param {
	for i := range ps {
		if ps[i].Name == p.Name {
			ps[i] = p
			return ps
		}
	}
	return append(ps, p)
}

func bodyFromOpenAPI(rb *openapi3.RequestBody, ref string) *BodySpec {
	b := &BodySpec{Required: rb.Required}
	cts := make([]string, 0, len(rb.Content))
	for ct := range rb.Content {
		cts = append(cts, ct)
	}
	sort.Strings(cts)
	// JSON first: it is what an example serialises to.
	sort.SliceStable(cts, func(i, j int) bool { return isJSON(cts[i]) && !isJSON(cts[j]) })
	if len(cts) == 0 {
		return b
	}
	b.ContentType = cts[0]
	mt := rb.Content[cts[0]]
	if mt == nil {
		return b
	}
	if mt.Schema != nil {
		if r := mt.Schema.Ref; r != "" {
			b.Model = r[strings.LastIndex(r, "/")+1:]
		}
	}
	var example any
	switch {
	case mt.Example != nil:
		example = mt.Example
	case len(mt.Examples) > 0:
		names := make([]string, 0, len(mt.Examples))
		for n := range mt.Examples {
			names = append(names, n)
		}
		sort.Strings(names)
		if e := mt.Examples[names[0]]; e != nil && e.Value != nil {
			example = e.Value.Value
		}
	case mt.Schema != nil && mt.Schema.Value != nil && mt.Schema.Value.Example != nil:
		example = mt.Schema.Value.Example
	}
	if example != nil {
		if s, ok := example.(string); ok && !isJSON(b.ContentType) {
			b.Example = []byte(s)
		} else if data, err := json.Marshal(example); err == nil {
			b.Example = data
		}
	}
	return b
}

func isJSON(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// MergeOperations completes ops (the method list, e.g. from GetResources)
// with what def (e.g. the stage's export) declares for the same method and
// path: parameters ops lacks, a body, examples and the API-key flag.
func MergeOperations(ops, def []Operation) []Operation {
	byName := map[string]Operation{}
	for _, d := range def {
		byName[d.Name()] = d
	}
	out := slices.Clone(ops)
	for i := range out {
		d, ok := byName[out[i].Name()]
		if !ok {
			continue
		}
		op := &out[i]
		for _, q := range d.Query {
			if !slices.ContainsFunc(op.Query, func(p Param) bool { return p.Name == q.Name }) {
				op.Query = append(op.Query, q)
			}
		}
		for _, h := range d.Headers {
			if !slices.ContainsFunc(op.Headers, func(p Param) bool { return strings.EqualFold(p.Name, h.Name) }) {
				op.Headers = append(op.Headers, h)
			}
		}
		switch {
		case op.Body == nil && d.Body != nil:
			b := *d.Body
			op.Body = &b
		case op.Body != nil && d.Body != nil && op.Body.Example == nil:
			b := *op.Body
			b.Example = d.Body.Example
			op.Body = &b
		}
		op.APIKey = op.APIKey || d.APIKey
	}
	return out
}

// ---- targets ----

// MethodBody is a body given for one method: --body 'POST /orders=order.json'.
type MethodBody struct {
	// Key names the target, "POST /orders".
	Key string
	// File is the body file's name (its extension gives the Content-Type).
	File string
	Data []byte
}

var methodBodyKey = regexp.MustCompile(`^([A-Za-z]+)\s+(/\S*)\s*=(.+)$`)

// ParseMethodBody splits "POST /orders=order.json" into the key and the
// file; ok is false when s is not of that form (a plain file name).
func ParseMethodBody(s string) (key, file string, ok bool) {
	m := methodBodyKey.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", "", false
	}
	return strings.ToUpper(m[1]) + " " + m[2], strings.TrimSpace(m[3]), true
}

// ContentTypeOf returns the Content-Type for a body file by its extension
// ("" when unknown): .json application/json, .xml application/xml, …
func ContentTypeOf(file string) string {
	ext := strings.ToLower(filepath.Ext(file))
	switch ext {
	case "":
		return ""
	case ".json":
		return "application/json"
	case ".xml":
		return "application/xml"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".yaml", ".yml":
		return "application/yaml"
	case ".form":
		return "application/x-www-form-urlencoded"
	}
	return mime.TypeByExtension(ext)
}

// BuildOptions say how to turn operations into targets.
type BuildOptions struct {
	// Base is the stage's invoke URL (no trailing slash).
	Base string
	// Feed fills path parameters, query strings, headers and body templates.
	Feed *Feed
	// Methods, when set, keeps only these HTTP methods (e.g. GET).
	Methods []string
	// Header is given to every target (e.g. -H, the API key).
	Header http.Header
	// Body is the plain --body: given to POST, PUT and PATCH targets that have no body of their own.
	Body     []byte
	BodyFile string
	// Bodies are per-method bodies; a key that names no target is an error.
	Bodies []MethodBody
	// Warn receives cautions, e.g. a method that requires an API key none is sent for.
	Warn func(Warning)
}

// BodyMissingError lists methods whose definition requires a body that
// neither an example nor a given body has: they would fail with 4xx on
// every request.
type BodyMissingError struct{ Methods []string }

func (e *BodyMissingError) Error() string {
	return fmt.Sprintf("%s require%s a request body and the definition gives no example",
		strings.Join(e.Methods, ", "), map[bool]string{true: "s", false: ""}[len(e.Methods) == 1])
}

// UnknownBodyKeyError is a body's key that names no target.
type UnknownBodyKeyError struct {
	Key     string
	Targets []string
}

func (e *UnknownBodyKeyError) Error() string {
	return fmt.Sprintf("body %q: no method %q to load-test (methods: %s)", e.Key, e.Key, strings.Join(e.Targets, ", "))
}

// BuildTargets makes one target per operation (OPTIONS skipped, ANY sent
// as GET), named "METHOD /path", with a RequestTemplate filled from the
// feed, a body from --body (per method first), else the declared example,
// else the plain --body for POST/PUT/PATCH, and its Content-Type from -H,
// else the body file's extension, else the declared media type. It then
// prepares the targets (Targets.Prepare): every error comes before any
// request is sent.
func BuildTargets(ops []Operation, o BuildOptions) (Targets, error) {
	keep := map[string]bool{}
	for _, m := range o.Methods {
		keep[strings.ToUpper(m)] = true
	}
	feed := o.Feed
	if feed == nil {
		feed = &Feed{}
	}
	bodies := map[string]MethodBody{}
	for _, b := range o.Bodies {
		if _, dup := bodies[b.Key]; dup {
			return nil, &InputError{Input: InputBody, Name: strconv.Quote(b.Key), Err: errors.New("given twice")}
		}
		bodies[b.Key] = b
	}
	var out Targets
	var missing []string
	used := map[string]bool{}
	for _, op := range ops {
		send := op.Method
		switch op.Method {
		case http.MethodOptions:
			continue
		case "ANY":
			send = http.MethodGet
		}
		if len(keep) > 0 && !keep[op.Method] && !keep[send] {
			continue
		}
		t := Target{Name: op.Name(), Path: op.Path, Method: send, Header: o.Header, Weight: 1}
		rt := &RequestTemplate{Feed: feed, Base: o.Base, Path: op.Path, Query: op.Query, Headers: op.Headers}
		var body []byte
		bodyName, contentType := "", ""
		if op.Body != nil {
			contentType = op.Body.ContentType
		}
		if mb, ok := bodies[op.Name()]; ok {
			used[op.Name()] = true
			body, bodyName = mb.Data, mb.File
			if ct := ContentTypeOf(mb.File); ct != "" {
				contentType = ct
			}
		} else if op.Body != nil && op.Body.Example != nil {
			body, bodyName = op.Body.Example, "example of "+op.Name()
		} else if o.Body != nil && (send == http.MethodPost || send == http.MethodPut || send == http.MethodPatch) {
			body, bodyName = o.Body, o.BodyFile
			if ct := ContentTypeOf(o.BodyFile); ct != "" {
				contentType = ct
			}
		} else if op.Body != nil && op.Body.Required {
			missing = append(missing, op.Name())
		}
		if len(body) > 0 {
			if IsTemplate(body) {
				tpl, err := ParseBodyTemplate(bodyName, body)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", op.Name(), err)
				}
				rt.Body = tpl
			} else {
				t.Body = body
			}
			if contentType != "" && o.Header.Get("Content-Type") == "" {
				t.Header = o.Header.Clone()
				if t.Header == nil {
					t.Header = http.Header{}
				}
				t.Header.Set("Content-Type", contentType)
			}
		}
		t.Template = rt
		out = append(out, t)
		if op.APIKey && o.Header.Get("X-Api-Key") == "" && o.Warn != nil {
			o.Warn(Warning{Kind: WarnNoAPIKey, Target: op.Name()})
		}
	}
	for _, b := range o.Bodies {
		if !used[b.Key] {
			return nil, &UnknownBodyKeyError{Key: b.Key, Targets: out.Labels()}
		}
	}
	if len(missing) > 0 {
		return nil, &BodyMissingError{Methods: missing}
	}
	if len(out) == 0 {
		return nil, errors.New("no methods to load-test")
	}
	if err := out.Prepare(); err != nil {
		return nil, err
	}
	return out, out.Validate()
}
