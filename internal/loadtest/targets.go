package loadtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Target is one request to send: a method on a URL, with headers and a body.
type Target struct {
	// Name labels the target in reports, e.g. "GET /pets/{id}"; defaults to "METHOD URL".
	Name string
	// Path is the API's resource path template ("/pets/{id}") when the target was discovered.
	Path   string
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// Weight is the target's share of a mix (default 1, at most
	// MaxWeight).
	Weight int
	// Template, when set, makes the request of every hit from a row of a
	// data feed (see RequestTemplate and Targets.Prepare); URL, Header
	// and Body are then the first row's request and the shared parts.
	Template *RequestTemplate
	// KeyRequired is true when the discovered method needs an API key
	// (apiKeyRequired): without x-api-key every request is answered 403.
	KeyRequired bool
}

// Label returns Name, or "METHOD URL" when Name is empty.
func (t Target) Label() string {
	if t.Name != "" {
		return t.Name
	}
	return t.Method + " " + t.URL
}

// Validate checks the method and URL.
func (t Target) Validate() error {
	if t.Method == "" {
		return fmt.Errorf("target %q: empty method", t.Label())
	}
	u, err := url.Parse(t.URL)
	if err != nil {
		return fmt.Errorf("target %q: bad url: %w", t.Label(), err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("target %q: url must be absolute http(s)://host/…", t.Label())
	}
	if t.Weight < 0 || t.Weight > MaxWeight {
		return fmt.Errorf("target %q: weight %d, want 0 (the default, 1) to %d", t.Label(), t.Weight, MaxWeight)
	}
	return nil
}

// MaxWeight bounds a target's weight: one cycle of the round robin holds
// the sum of the weights, so that sum must stay small (shares in per-mille
// are weights up to 1000).
const MaxWeight = 10_000

// Targets is a weighted mix of targets, hit in a smooth weighted round robin.
type Targets []Target

// Validate checks every target and that there is at least one.
func (ts Targets) Validate() error {
	if len(ts) == 0 {
		return ErrNoTargets
	}
	for _, t := range ts {
		if err := t.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Describe returns a short description: the label of the single target or
// "N targets".
func (ts Targets) Describe() string {
	switch len(ts) {
	case 0:
		return ""
	case 1:
		return ts[0].Label()
	default:
		return fmt.Sprintf("%d targets", len(ts))
	}
}

// Labels returns every target's label.
func (ts Targets) Labels() []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Label()
	}
	return out
}

// schedule returns the order in which targets are hit, one full cycle of
// a smooth weighted round robin (nginx's algorithm): weights 5,1,1 give
// a a b a c a a rather than a a a a a b c.
func (ts Targets) schedule() []int {
	total := 0
	for _, t := range ts {
		total += max(t.Weight, 1)
	}
	current := make([]int, len(ts))
	order := make([]int, 0, total)
	for range total {
		best := 0
		for i, t := range ts {
			current[i] += max(t.Weight, 1)
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		order = append(order, best)
	}
	return order
}

// Targeter returns a vegeta.Targeter that cycles through the mix. It is
// safe for concurrent use (the engine's workers call it concurrently).
func (ts Targets) Targeter() vegeta.Targeter {
	if len(ts) == 0 {
		return func(*vegeta.Target) error { return vegeta.ErrNoTargets }
	}
	if f := ts.feed(); f != nil {
		return ts.feedTargeter(f)
	}
	order := ts.schedule()
	vts := make([]vegeta.Target, len(ts))
	for i, t := range ts {
		vts[i] = vegeta.Target{Method: t.Method, URL: t.URL, Header: t.Header, Body: t.Body}
	}
	var n atomic.Uint64
	return func(tgt *vegeta.Target) error {
		if tgt == nil {
			return vegeta.ErrNilTarget
		}
		i := n.Add(1) - 1
		*tgt = vts[order[i%uint64(len(order))]]
		return nil
	}
}

// ParseTargets reads a vegeta targets file. format is "http", "json" or ""
// (detect: a first non-blank character '{' means json). body and header are
// the defaults for targets that do not set their own; name labels errors.
func ParseTargets(r io.Reader, name, format string, body []byte, header http.Header) (Targets, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read targets %s: %w", name, err)
	}
	if format == "" {
		format = "http"
		if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
			format = "json"
		}
	}
	if header == nil {
		header = http.Header{}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n') // vegeta's json targeter drops a last line without newline
	}
	var tr vegeta.Targeter
	switch format {
	case "http":
		tr = vegeta.NewHTTPTargeter(bytes.NewReader(data), body, header)
	case "json":
		tr = vegeta.NewJSONTargeter(bytes.NewReader(data), body, header)
	default:
		return nil, fmt.Errorf("targets %s: unknown format %q: use http or json", name, format)
	}
	var out Targets
	for {
		var t vegeta.Target
		if err := tr(&t); err != nil {
			if errors.Is(err, vegeta.ErrNoTargets) {
				break
			}
			return nil, fmt.Errorf("targets %s: target %d: %w%s", name, len(out)+1, err, formatHint(format))
		}
		out = append(out, Target{Method: t.Method, URL: t.URL, Header: t.Header, Body: t.Body, Weight: 1})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("targets %s: no targets found", name)
	}
	return out, out.Validate()
}

func formatHint(format string) string {
	if format == "http" {
		return ` (http format: "GET http://host/path" lines, then "Header: value" lines, then an optional "@body-file")`
	}
	return ` (json format: one {"method":"GET","url":"http://…"} object per line)`
}

// ParseHeader parses "Name: value" (curl's -H form).
func ParseHeader(h string) (string, string, error) {
	k, v, ok := strings.Cut(h, ":")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return "", "", fmt.Errorf("header %q: want 'Name: value'", h)
	}
	return http.CanonicalHeaderKey(k), strings.TrimSpace(v), nil
}

// ParseValues parses "key=value" lines (blank lines and # comments skipped),
// the format of a path-parameter values file.
func ParseValues(r io.Reader, name string) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("%s:%d: want key=value, got %q", name, line, s)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}
