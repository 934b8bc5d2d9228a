package loadtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Param is a query-string or header parameter of a method.
type Param struct {
	Name     string
	Required bool
}

// RequestTemplate makes a target's request for each hit from a row of its
// Feed: path parameters ({userId}, greedy {proxy+}), query strings,
// headers and the body template ({{.column}}) are filled by name.
type RequestTemplate struct {
	Feed *Feed
	// Base is the URL the path is appended to (the stage's invoke URL).
	Base string
	// Path is the resource path template, e.g. "/users/{userId}".
	Path string
	// Query are the query-string parameters: a required one must be in
	// the feed; an optional one is sent when the feed has it.
	Query []Param
	// Headers are header parameters filled from the feed like Query (a
	// header of the target's Header, e.g. from -H, wins).
	Headers []Param
	// Body, when set, renders each request's body (else Target.Body is sent).
	Body *template.Template

	urlOnce sync.Once
	urlRE   *regexp.Regexp
}

// matches reports whether url is one this template makes (any parameter
// values, any query string): it tells which target of a mix a request
// came from.
func (rt *RequestTemplate) matches(u string) bool {
	if rt == nil {
		return false
	}
	rt.urlOnce.Do(func() {
		var b strings.Builder
		b.WriteString("^" + regexp.QuoteMeta(rt.Base))
		last := 0
		for _, m := range pathParam.FindAllStringIndex(rt.Path, -1) {
			b.WriteString(regexp.QuoteMeta(rt.Path[last:m[0]]))
			if strings.HasSuffix(rt.Path[m[0]:m[1]], "+}") {
				b.WriteString(`[^?]+`)
			} else {
				b.WriteString(`[^/?]+`)
			}
			last = m[1]
		}
		b.WriteString(regexp.QuoteMeta(rt.Path[last:]) + `(\?.*)?$`)
		rt.urlRE = regexp.MustCompile(b.String())
	})
	return rt.urlRE.MatchString(u)
}

// BodyFuncs are the functions a body template may call besides Go's
// built-ins: {{json .name}} writes a value as JSON (quoted and escaped).
var BodyFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// TemplateError is a body file that does not parse as a template.
type TemplateError struct {
	File string
	Err  error
}

func (e *TemplateError) Error() string { return fmt.Sprintf("body template %s: %v", e.File, e.Err) }
func (e *TemplateError) Unwrap() error { return e.Err }

// ParseBodyTemplate parses a body file as a Go text/template with BodyFuncs;
// a missing key is an error when executed.
func ParseBodyTemplate(name string, body []byte) (*template.Template, error) {
	t, err := template.New(name).Funcs(BodyFuncs).Option("missingkey=error").Parse(string(body))
	if err != nil {
		return nil, &TemplateError{File: name, Err: err}
	}
	return t, nil
}

// IsTemplate reports whether body has template actions ({{ … }}).
func IsTemplate(body []byte) bool { return bytes.Contains(body, []byte("{{")) }

// TemplateFields returns the data names a template refers to ({{.userId}},
// {{json .name}}, {{if .x}}…): the first identifier of every field, sorted.
func TemplateFields(t *template.Template) []string {
	seen := map[string]bool{}
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case nil:
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.FieldNode:
			if len(n.Ident) > 0 {
				seen[n.Ident[0]] = true
			}
		case *parse.ChainNode:
			walk(n.Node)
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			walk(n.Pipe)
		}
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			walk(tt.Tree.Root)
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// pathParams returns the names of the path template's parameters ({proxy+} gives "proxy").
func pathParams(path string) []string {
	var out []string
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		out = append(out, strings.TrimSuffix(m[1], "+"))
	}
	return out
}

// MissingNameError is a name a target needs that neither the data nor a
// constant gives.
type MissingNameError struct {
	Target string // "GET /users/{userId}"
	Name   string
	What   string // "path parameter", "query string", "header", "body template"
	Data   string // the data file ("" without --data)
	Have   string // what the feed has
}

func (e *MissingNameError) Error() string {
	if e.Data == "" {
		return fmt.Sprintf("%s: no value for %s %q", e.Target, e.What, e.Name)
	}
	return fmt.Sprintf("%s: data file %s has no column %q for its %s (columns: %s)", e.Target, e.Data, e.Name, e.What, e.Have)
}

// check verifies that the feed gives every name the template needs, then
// renders every row once, so that a bad row fails before any request.
func (rt *RequestTemplate) check(t *Target) error {
	dataName := ""
	if rt.Feed.Data != nil {
		dataName = rt.Feed.Data.Name
	}
	miss := func(name, what string) error {
		return &MissingNameError{Target: t.Label(), Name: name, What: what, Data: dataName, Have: rt.Feed.columns()}
	}
	for _, n := range pathParams(rt.Path) {
		if !rt.Feed.has(n) {
			return miss(n, "path parameter")
		}
	}
	for _, q := range rt.Query {
		if q.Required && !rt.Feed.has(q.Name) {
			return miss(q.Name, "required query string")
		}
	}
	for _, h := range rt.Headers {
		if h.Required && t.Header.Get(h.Name) == "" && !rt.Feed.has(h.Name) {
			return miss(h.Name, "required header")
		}
	}
	if rt.Body != nil {
		for _, n := range TemplateFields(rt.Body) {
			if !rt.Feed.has(n) {
				return miss(n, "body template "+rt.Body.Name())
			}
		}
	}
	var buf bytes.Buffer
	for i := range rt.Feed.rows() {
		if _, err := rt.render(t, rt.Feed.row(i), &buf); err != nil {
			if rt.Feed.Data != nil {
				return fmt.Errorf("%s: %w", t.Label(), dataError(rt.Feed.Data.Name, rt.Feed.Data.line(i), "%w", err))
			}
			return fmt.Errorf("%s: %w", t.Label(), err)
		}
	}
	return nil
}

// render makes the request of t for row (buf is scratch space for the body).
func (rt *RequestTemplate) render(t *Target, row map[string]any, buf *bytes.Buffer) (vegeta.Target, error) {
	out := vegeta.Target{Method: t.Method, Header: t.Header, Body: t.Body}
	var sb strings.Builder
	sb.WriteString(rt.Base)
	var err error
	sb.WriteString(pathParam.ReplaceAllStringFunc(rt.Path, func(p string) string {
		name := p[1 : len(p)-1]
		greedy := strings.HasSuffix(name, "+")
		name = strings.TrimSuffix(name, "+")
		v, ok := rt.Feed.lookup(row, name)
		if !ok {
			err = fmt.Errorf("no value for path parameter %q", name)
			return p
		}
		if !greedy {
			return url.PathEscape(v)
		}
		parts := strings.Split(v, "/")
		for i := range parts {
			parts[i] = url.PathEscape(parts[i])
		}
		return strings.Join(parts, "/")
	}))
	if err != nil {
		return out, err
	}
	if len(rt.Query) > 0 {
		q := url.Values{}
		for _, p := range rt.Query {
			if v, ok := rt.Feed.lookup(row, p.Name); ok {
				q.Set(p.Name, v)
			} else if p.Required {
				return out, fmt.Errorf("no value for query string %q", p.Name)
			}
		}
		if enc := q.Encode(); enc != "" {
			sb.WriteByte('?')
			sb.WriteString(enc)
		}
	}
	out.URL = sb.String()
	cloned := false
	for _, h := range rt.Headers {
		if t.Header.Get(h.Name) != "" {
			continue
		}
		v, ok := rt.Feed.lookup(row, h.Name)
		if !ok {
			if h.Required {
				return out, fmt.Errorf("no value for header %q", h.Name)
			}
			continue
		}
		if !cloned {
			out.Header, cloned = t.Header.Clone(), true
			if out.Header == nil {
				out.Header = http.Header{}
			}
		}
		out.Header.Set(h.Name, v)
	}
	if rt.Body != nil {
		buf.Reset()
		var data any = row
		if len(rt.Feed.Const) > 0 {
			m := make(map[string]any, len(row)+len(rt.Feed.Const))
			for k, v := range row {
				m[k] = v
			}
			for k, v := range rt.Feed.Const {
				m[k] = v
			}
			data = m
		} else if row == nil {
			data = map[string]any{}
		}
		if err := rt.Body.Execute(buf, data); err != nil {
			return out, err
		}
		out.Body = bytes.Clone(buf.Bytes())
	}
	return out, nil
}

// Prepare checks every templated target against its feed (every name it
// needs is there; every row renders) and turns a target whose requests
// never vary (no data, no body actions) into a plain one. Call it before
// sending any request: its errors are the user's to fix.
func (ts Targets) Prepare() error {
	for i := range ts {
		t := &ts[i]
		rt := t.Template
		if rt == nil {
			continue
		}
		if rt.Feed == nil {
			rt.Feed = &Feed{}
		}
		if err := rt.check(t); err != nil {
			return err
		}
		if rt.Feed.Data == nil {
			// Every request is the same: render it once.
			vt, err := rt.render(t, nil, &bytes.Buffer{})
			if err != nil {
				return fmt.Errorf("%s: %w", t.Label(), err)
			}
			t.URL, t.Header, t.Body, t.Template = vt.URL, vt.Header, vt.Body, nil
		} else if t.URL == "" {
			vt, err := rt.render(t, rt.Feed.row(0), &bytes.Buffer{})
			if err != nil {
				return fmt.Errorf("%s: %w", t.Label(), err)
			}
			t.URL = vt.URL // for Validate and reports: the first row's URL
		}
	}
	return nil
}

// feed returns the feed of the mix (every templated target shares one), or nil.
func (ts Targets) feed() *Feed {
	for _, t := range ts {
		if t.Template != nil && t.Template.Feed != nil {
			return t.Template.Feed
		}
	}
	return nil
}

// feedTargeter is Targeter for a mix with templated targets: the target
// and the row of hit number c are functions of c (and the seed), so that
// the sequence is the same from run to run. The numbering goes on from
// step to step (it lives on the feed).
func (ts Targets) feedTargeter(f *Feed) vegeta.Targeter {
	order := ts.schedule()
	cycle := uint64(len(order))
	// occ[i] is how often order[i]'s target came before i in the cycle;
	// weight[t] how often it comes in a cycle.
	occ := make([]uint64, len(order))
	weight := make([]uint64, len(ts))
	for i, t := range order {
		occ[i] = weight[t]
		weight[t]++
	}
	cum := make([]int, len(ts))
	total := 0
	for i, w := range weight {
		total += int(w)
		cum[i] = total
	}
	random := f.Order == OrderRandom
	static := make([]vegeta.Target, len(ts))
	for i, t := range ts {
		static[i] = vegeta.Target{Method: t.Method, URL: t.URL, Header: t.Header, Body: t.Body}
	}
	rows := f.rows()
	var bufs sync.Pool
	return func(tgt *vegeta.Target) error {
		if tgt == nil {
			return vegeta.ErrNilTarget
		}
		c := f.hits.Add(1) - 1
		var ti int
		var k uint64 // the hit's row number for its target (sequential)
		if random {
			x := f.draw(1, c, total)
			ti = sort.SearchInts(cum, x+1)
		} else {
			i := c % cycle
			ti = order[i]
			k = c/cycle*weight[ti] + occ[i]
		}
		t := &ts[ti]
		if t.Template == nil {
			*tgt = static[ti]
			return nil
		}
		var r int
		if random {
			r = f.draw(2, c, rows)
		} else {
			r = int(k % uint64(rows))
		}
		buf, _ := bufs.Get().(*bytes.Buffer)
		if buf == nil {
			buf = &bytes.Buffer{}
		}
		vt, err := t.Template.render(t, f.row(r), buf)
		bufs.Put(buf)
		if err != nil {
			return fmt.Errorf("%s: %w", t.Label(), err)
		}
		*tgt = vt
		return nil
	}
}
