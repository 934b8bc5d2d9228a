package cw

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

const (
	serviceName    = "GraniteServiceVersion20100801"
	cborPathPrefix = "/service/" + serviceName + "/operation/"
	targetPrefix   = serviceName + "."
	apiVersion     = "2010-08-01"
	xmlNamespace   = "http://monitoring.amazonaws.com/doc/2010-08-01/"
	shapePrefix    = "com.amazonaws.cloudwatch#"
	maxBodyBytes   = 16 << 20
)

type protocol int

const (
	protoCBOR protocol = iota
	protoJSON
	protoQuery
)

// operations are the CloudWatch operations the emulator serves.
var operations = map[string]func(*Store, map[string]any) (obj, error){
	"GetMetricData":       opGetMetricData,
	"GetMetricStatistics": opGetMetricStatistics,
	"ListMetrics":         opListMetrics,
	"PutMetricData":       opPutMetricData,
}

// IsCloudWatchRequest reports whether r is addressed to CloudWatch in any of
// the protocols NewHandler serves. It looks at the path, the X-Amz-Target
// header and the SigV4 credential scope; only for an unsigned form POST to "/"
// does it read the body, and then it puts the bytes back so r.Body reads the
// same afterwards.
func IsCloudWatchRequest(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, cborPathPrefix) {
		return true
	}
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPrefix) {
		return true
	}
	if r.URL.Path != "/" && r.URL.Path != "" {
		return false
	}
	if strings.Contains(r.Header.Get("Authorization"), "/monitoring/aws4_request") {
		return true
	}
	if isQueryForm(r.URL.Query()) {
		return true
	}
	if r.Method != http.MethodPost || r.Body == nil || !isFormContent(r.Header.Get("Content-Type")) {
		return false
	}
	head, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = readCloser{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	if err != nil {
		return false
	}
	form, err := url.ParseQuery(string(head))
	if err != nil && len(form) == 0 {
		return false
	}
	return isQueryForm(form)
}

type readCloser struct {
	io.Reader
	io.Closer
}

func isQueryForm(v url.Values) bool {
	action := v.Get("Action")
	if action == "" {
		return false
	}
	if v.Get("Version") == apiVersion {
		return true
	}
	_, ok := operations[action]
	return ok && v.Get("Version") == ""
}

func isFormContent(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "application/x-www-form-urlencoded"
}

// NewHandler returns an http.Handler serving store over Smithy RPC v2 CBOR,
// awsJson1.0 and the Query protocol.
func NewHandler(store *Store) http.Handler {
	return &handler{store: store}
}

type handler struct{ store *Store }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("X-Amzn-RequestId", reqID)
	var (
		proto protocol
		op    string
	)
	switch {
	case strings.HasPrefix(r.URL.Path, cborPathPrefix):
		proto, op = protoCBOR, strings.TrimPrefix(r.URL.Path, cborPathPrefix)
	case r.Header.Get("X-Amz-Target") != "":
		proto = protoJSON
		t := r.Header.Get("X-Amz-Target")
		if !strings.HasPrefix(t, targetPrefix) {
			writeError(w, proto, op, reqID, &apiError{status: 400, shape: "UnknownOperationException", code: "InvalidAction", msg: fmt.Sprintf("unknown target %q: want %s{Operation}", t, targetPrefix)})
			return
		}
		op = strings.TrimPrefix(t, targetPrefix)
	default:
		proto = protoQuery
	}
	if r.Method != http.MethodPost && !(proto == protoQuery && r.Method == http.MethodGet) {
		writeError(w, proto, op, reqID, &apiError{status: http.StatusMethodNotAllowed, shape: "UnsupportedOperation", code: "UnsupportedOperation", msg: fmt.Sprintf("method %s not allowed: CloudWatch takes POST", r.Method)})
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, proto, op, reqID, serializationError(fmt.Errorf("read request body: %w", err)))
		return
	}
	var in map[string]any
	switch proto {
	case protoCBOR:
		in, err = decodeCBOR(body)
	case protoJSON:
		in, err = decodeJSON(body)
	case protoQuery:
		var form url.Values
		form, err = url.ParseQuery(string(body))
		if err == nil {
			for k, v := range r.URL.Query() {
				if _, ok := form[k]; !ok {
					form[k] = v
				}
			}
			op = form.Get("Action")
			in = decodeQuery(form)
		}
	}
	if err != nil {
		writeError(w, proto, op, reqID, serializationError(err))
		return
	}
	fn, ok := operations[op]
	if !ok {
		e := &apiError{status: 400, shape: "UnknownOperationException", code: "InvalidAction", msg: fmt.Sprintf("operation %q is not supported by the apictl CloudWatch emulator (supported: GetMetricData, GetMetricStatistics, ListMetrics, PutMetricData)", op)}
		if proto == protoCBOR {
			e.status = http.StatusNotFound
		}
		writeError(w, proto, op, reqID, e)
		return
	}
	out, err := callOp(func() (obj, error) { return fn(h.store, in) })
	if err != nil {
		writeError(w, proto, op, reqID, err)
		return
	}
	writeOutput(w, proto, op, reqID, out)
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	var rd io.Reader = http.MaxBytesReader(nil, r.Body, maxBodyBytes)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, fmt.Errorf("gzip content encoding: %w", err)
		}
		defer zr.Close()
		rd = io.LimitReader(zr, maxBodyBytes)
	}
	return io.ReadAll(rd)
}

// ---- errors ----

// apiError is a CloudWatch error: shape is the Smithy error shape
// (InvalidParameterValueException), code the Query-protocol code
// (InvalidParameterValue).
type apiError struct {
	status int
	shape  string
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func (e *apiError) fault() string {
	if e.status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

func validationError(format string, args ...any) *apiError {
	return &apiError{status: 400, shape: "ValidationException", code: "ValidationError", msg: fmt.Sprintf(format, args...)}
}

func invalidParameterValue(format string, args ...any) *apiError {
	return &apiError{status: 400, shape: "InvalidParameterValueException", code: "InvalidParameterValue", msg: fmt.Sprintf(format, args...)}
}

func invalidParameterCombination(format string, args ...any) *apiError {
	return &apiError{status: 400, shape: "InvalidParameterCombinationException", code: "InvalidParameterCombination", msg: fmt.Sprintf(format, args...)}
}

func missingParameter(name string) *apiError {
	return &apiError{status: 400, shape: "MissingRequiredParameterException", code: "MissingParameter", msg: fmt.Sprintf("The parameter %s is required.", name)}
}

func invalidNextToken(format string, args ...any) *apiError {
	return &apiError{status: 400, shape: "InvalidNextToken", code: "InvalidNextToken", msg: fmt.Sprintf(format, args...)}
}

func serializationError(err error) *apiError {
	return &apiError{status: 400, shape: "SerializationException", code: "MalformedInput", msg: err.Error()}
}

func writeError(w http.ResponseWriter, proto protocol, op, reqID string, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = &apiError{status: 500, shape: "InternalServiceFault", code: "InternalServiceError", msg: err.Error()}
	}
	h := w.Header()
	switch proto {
	case protoCBOR:
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		h.Set("Content-Type", "application/cbor")
		h.Set("X-Amzn-Query-Error", e.code+";"+e.fault())
		w.WriteHeader(e.status)
		_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(shapePrefix + e.shape), "message": cbor.String(e.msg)}))
	case protoJSON:
		h.Set("Content-Type", "application/x-amz-json-1.0")
		h.Set("X-Amzn-Query-Error", e.code+";"+e.fault())
		w.WriteHeader(e.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": shapePrefix + e.shape, "message": e.msg})
	default:
		h.Set("Content-Type", "text/xml")
		w.WriteHeader(e.status)
		var b bytes.Buffer
		b.WriteString(`<ErrorResponse xmlns="` + xmlNamespace + `"><Error><Type>` + e.fault() + `</Type><Code>`)
		xmlEscape(&b, e.code)
		b.WriteString(`</Code><Message>`)
		xmlEscape(&b, e.msg)
		b.WriteString(`</Message></Error><RequestId>` + reqID + `</RequestId></ErrorResponse>`)
		_, _ = w.Write(b.Bytes())
	}
}

// ---- output model ----

// obj is an ordered structure; strMap is a string-keyed map (XML entry/key/value).
type (
	obj    []kv
	strMap []kv
	kv     struct {
		K string
		V any
	}
)

func writeOutput(w http.ResponseWriter, proto protocol, op, reqID string, out obj) {
	h := w.Header()
	switch proto {
	case protoCBOR:
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		h.Set("Content-Type", "application/cbor")
		_, _ = w.Write(cbor.Encode(toCBOR(out)))
	case protoJSON:
		h.Set("Content-Type", "application/x-amz-json-1.0")
		_ = json.NewEncoder(w).Encode(toJSON(out))
	default:
		h.Set("Content-Type", "text/xml")
		var b bytes.Buffer
		b.WriteString(`<` + op + `Response xmlns="` + xmlNamespace + `">`)
		if len(out) > 0 || op != "PutMetricData" {
			b.WriteString(`<` + op + `Result>`)
			writeXMLFields(&b, out)
			b.WriteString(`</` + op + `Result>`)
		}
		b.WriteString(`<ResponseMetadata><RequestId>` + reqID + `</RequestId></ResponseMetadata></` + op + `Response>`)
		_, _ = w.Write(b.Bytes())
	}
}

func toCBOR(v any) cbor.Value {
	switch v := v.(type) {
	case obj:
		m := make(cbor.Map, len(v))
		for _, f := range v {
			if f.V != nil {
				m[f.K] = toCBOR(f.V)
			}
		}
		return m
	case strMap:
		m := make(cbor.Map, len(v))
		for _, f := range v {
			m[f.K] = toCBOR(f.V)
		}
		return m
	case []any:
		l := make(cbor.List, len(v))
		for i, e := range v {
			l[i] = toCBOR(e)
		}
		return l
	case []float64:
		l := make(cbor.List, len(v))
		for i, e := range v {
			l[i] = cbor.Float64(e)
		}
		return l
	case []time.Time:
		l := make(cbor.List, len(v))
		for i, e := range v {
			l[i] = cborTime(e)
		}
		return l
	case string:
		return cbor.String(v)
	case float64:
		return cbor.Float64(v)
	case int64:
		if v < 0 {
			return cbor.NegInt(uint64(-v)) // NegInt(n) encodes -n
		}
		return cbor.Uint(v)
	case bool:
		return cbor.Bool(v)
	case time.Time:
		return cborTime(v)
	}
	panic(fmt.Sprintf("cw: no CBOR encoding for %T", v))
}

// cborTime encodes a timestamp as the SDK does: tag 1, epoch seconds as float64.
func cborTime(t time.Time) cbor.Value {
	return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t.UnixMilli()) / 1e3)}
}

func toJSON(v any) any {
	switch v := v.(type) {
	case obj:
		m := make(map[string]any, len(v))
		for _, f := range v {
			if f.V != nil {
				m[f.K] = toJSON(f.V)
			}
		}
		return m
	case strMap:
		m := make(map[string]any, len(v))
		for _, f := range v {
			m[f.K] = toJSON(f.V)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = toJSON(e)
		}
		return l
	case []time.Time:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = toJSON(e)
		}
		return l
	case time.Time:
		return json.Number(strconv.FormatFloat(float64(v.UnixMilli())/1e3, 'f', -1, 64))
	}
	return v
}

func writeXMLFields(b *bytes.Buffer, o obj) {
	for _, f := range o {
		if f.V != nil {
			writeXML(b, f.K, f.V)
		}
	}
}

func writeXML(b *bytes.Buffer, name string, v any) {
	b.WriteString("<" + name + ">")
	switch v := v.(type) {
	case obj:
		writeXMLFields(b, v)
	case strMap:
		for _, f := range v {
			b.WriteString("<entry><key>")
			xmlEscape(b, f.K)
			b.WriteString("</key>")
			writeXML(b, "value", f.V)
			b.WriteString("</entry>")
		}
	case []any:
		for _, e := range v {
			writeXML(b, "member", e)
		}
	case []float64:
		for _, e := range v {
			writeXML(b, "member", e)
		}
	case []time.Time:
		for _, e := range v {
			writeXML(b, "member", e)
		}
	case string:
		xmlEscape(b, v)
	case float64:
		b.WriteString(formatFloat(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case time.Time:
		b.WriteString(v.UTC().Format("2006-01-02T15:04:05.000Z"))
	default:
		panic(fmt.Sprintf("cw: no XML encoding for %T", v))
	}
	b.WriteString("</" + name + ">")
}

func formatFloat(v float64) string {
	if math.Abs(v) >= 1e21 || v != 0 && math.Abs(v) < 1e-6 {
		return strconv.FormatFloat(v, 'E', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func xmlEscape(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteRune(r)
		}
	}
}

func newRequestID() string {
	a, c := rand.Uint64(), rand.Uint64()
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", uint32(a>>32), uint16(a>>16), uint16(a)&0x0fff|0x4000, uint16(c>>48)&0x3fff|0x8000, c&0xffffffffffff)
}

// ---- input decoding: every protocol becomes a loose tree of
// map[string]any, []any, string, float64, bool and time.Time; the
// operations read it with the typed getters below. ----

func decodeCBOR(body []byte) (map[string]any, error) {
	if len(body) == 0 {
		return map[string]any{}, nil
	}
	v, err := cbor.Decode(body)
	if err != nil {
		return nil, fmt.Errorf("decode CBOR request body: %w", err)
	}
	tree, err := fromCBOR(v)
	if err != nil {
		return nil, err
	}
	m, ok := tree.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("CBOR request body is a %T, want a map", tree)
	}
	return m, nil
}

func fromCBOR(v cbor.Value) (any, error) {
	switch v := v.(type) {
	case cbor.Map:
		m := make(map[string]any, len(v))
		for k, e := range v {
			x, err := fromCBOR(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if x != nil {
				m[k] = x
			}
		}
		return m, nil
	case cbor.List:
		l := make([]any, 0, len(v))
		for i, e := range v {
			x, err := fromCBOR(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			l = append(l, x)
		}
		return l, nil
	case cbor.String:
		return string(v), nil
	case cbor.Uint, cbor.NegInt, cbor.Float32, cbor.Float64:
		return cbor.AsFloat64(v)
	case cbor.Bool:
		return bool(v), nil
	case *cbor.Tag:
		if v.ID == 1 {
			switch f := v.Value.(type) {
			case cbor.Float64:
				return epochTime(float64(f)), nil
			case cbor.Float32:
				return epochTime(float64(f)), nil
			}
			t, err := cbor.AsTime(v)
			return t.UTC(), err
		}
		return nil, fmt.Errorf("unsupported CBOR tag %d", v.ID)
	case *cbor.Nil, *cbor.Undefined:
		return nil, nil
	case cbor.Slice:
		return []byte(v), nil
	}
	return nil, fmt.Errorf("unsupported CBOR value %T", v)
}

func epochTime(sec float64) time.Time {
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(math.Round(frac*1e3))*int64(time.Millisecond)).UTC()
}

func decodeJSON(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode JSON request body: %w", err)
	}
	return fixJSON(v).(map[string]any), nil
}

func fixJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
				continue
			}
			v[k] = fixJSON(e)
		}
	case []any:
		for i, e := range v {
			v[i] = fixJSON(e)
		}
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return v.String()
		}
		return f
	}
	return v
}

// decodeQuery turns a Query-protocol form (A.member.1.B=x) into a tree.
func decodeQuery(form url.Values) map[string]any {
	root := map[string]any{}
	for key, vals := range form {
		if key == "Action" || key == "Version" || len(vals) == 0 {
			continue
		}
		parts := strings.Split(key, ".")
		node := root
		for i, p := range parts {
			if i == len(parts)-1 {
				if _, isMap := node[p].(map[string]any); !isMap {
					node[p] = vals[0]
				}
				break
			}
			child, ok := node[p].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[p] = child
			}
			node = child
		}
	}
	// The top level is the operation's input, never a list (a form whose
	// only key is "member.…" must not turn it into one).
	for k, e := range root {
		root[k] = listify(e)
	}
	return root
}

// listify turns {"member": {"1": a, "2": b}} nodes into lists ordered by index.
func listify(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if members, ok := m["member"].(map[string]any); ok && len(m) == 1 {
		idx := make([]int, 0, len(members))
		byIdx := map[int]any{}
		for k, e := range members {
			n, err := strconv.Atoi(k)
			if err != nil {
				continue
			}
			idx = append(idx, n)
			byIdx[n] = listify(e)
		}
		sort.Ints(idx)
		l := make([]any, 0, len(idx))
		for _, n := range idx {
			l = append(l, byIdx[n])
		}
		return l
	}
	for k, e := range m {
		m[k] = listify(e)
	}
	return m
}

// ---- typed getters; they panic with *apiError, recovered by callOp ----

func getString(m map[string]any, key, path string) string {
	switch v := m[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		panic(validationError("Value at '%s' must be a string, got %T", path, v))
	}
}

func getFloat(m map[string]any, key, path string) (float64, bool) {
	switch v := m[key].(type) {
	case nil:
		return 0, false
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			panic(invalidParameterValue("The value %s for parameter %s is invalid.", v, path))
		}
		return f, true
	default:
		panic(validationError("Value at '%s' must be a number, got %T", path, v))
	}
}

func getInt(m map[string]any, key, path string) (int64, bool) {
	f, ok := getFloat(m, key, path)
	if ok && (f != math.Trunc(f) || math.Abs(f) > 1<<53) {
		panic(invalidParameterValue("The value %v for parameter %s is invalid: want an integer.", f, path))
	}
	return int64(f), ok
}

func getBool(m map[string]any, key, path string) (bool, bool) {
	switch v := m[key].(type) {
	case nil:
		return false, false
	case bool:
		return v, true
	case string:
		b, err := strconv.ParseBool(v)
		if err != nil {
			panic(invalidParameterValue("The value %s for parameter %s is invalid: want true or false.", v, path))
		}
		return b, true
	default:
		panic(validationError("Value at '%s' must be a boolean, got %T", path, v))
	}
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02"}

func getTime(m map[string]any, key, path string) (time.Time, bool) {
	switch v := m[key].(type) {
	case nil:
		return time.Time{}, false
	case time.Time:
		return v, true
	case float64:
		return epochTime(v), true
	case string:
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return epochTime(f), true
		}
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, v); err == nil {
				return t.UTC(), true
			}
		}
		panic(invalidParameterValue("The value %s for parameter %s is invalid: want an ISO 8601 timestamp.", v, path))
	default:
		panic(validationError("Value at '%s' must be a timestamp, got %T", path, v))
	}
}

func getList(m map[string]any, key, path string) []any {
	switch v := m[key].(type) {
	case nil:
		return nil
	case []any:
		return v
	case string: // Query protocol: "Key=" is an empty list
		if v == "" {
			return []any{}
		}
	}
	panic(validationError("Value at '%s' must be a list, got %T", path, m[key]))
}

func asMap(v any, path string) map[string]any {
	switch v := v.(type) {
	case map[string]any:
		return v
	case nil:
		return map[string]any{}
	}
	panic(validationError("Value at '%s' must be a structure, got %T", path, v))
}

func getMap(m map[string]any, key, path string) map[string]any {
	if m[key] == nil {
		return nil
	}
	return asMap(m[key], path)
}

// callOp runs an operation body, turning getter panics into errors.
func callOp(fn func() (obj, error)) (out obj, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*apiError)
			if !ok {
				panic(r)
			}
			out, err = nil, e
		}
	}()
	return fn()
}
