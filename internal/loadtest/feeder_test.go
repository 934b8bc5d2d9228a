package loadtest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestReadDataCSVAndJSONLines(t *testing.T) {
	d, err := ReadData(strings.NewReader("\ufeffuserId, name\n1,Ann\n2,\"Bo, Jr\"\n"), "u.csv")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(d.Columns, "|") != "userId|name" || len(d.Rows) != 2 || d.Rows[1]["name"] != "Bo, Jr" || d.line(1) != 3 {
		t.Errorf("csv: columns %v rows %v", d.Columns, d.Rows)
	}
	if len(d.SHA256) != 64 {
		t.Errorf("sha256 %q", d.SHA256)
	}
	d2, _ := ReadData(strings.NewReader("userId,name\n1,Ann\n2,Bo\n"), "u.csv")
	if d2.SHA256 == d.SHA256 {
		t.Errorf("different files, same hash")
	}

	j, err := ReadData(strings.NewReader(`{"userId": 7, "tags": ["a"], "name": "Ann"}`+"\n\n"+`{"userId": "x", "vip": true}`+"\n"), "u.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(j.Columns, ",") != "name,tags,userId,vip" || len(j.Rows) != 2 || j.line(1) != 3 {
		t.Errorf("jsonl: columns %v rows %v", j.Columns, j.Rows)
	}
	if got := valueString(j.Rows[0]["userId"]); got != "7" {
		t.Errorf("number rendered %q", got)
	}
	if got := valueString(j.Rows[0]["tags"]); got != `["a"]` {
		t.Errorf("array rendered %q", got)
	}

	for _, tc := range []struct{ in, want string }{
		{"", "empty file"},
		{"userId\n", "no rows"},
		{"a,a\n1,2\n", `column "a" appears twice`},
		{"a,\n1,2\n", "column 2 of the header row has no name"},
		{"a,b\n1\n", "wrong number of fields"},
		{"{\"a\":1}\n[1]\n", "u.txt:2: want one JSON object per line"},
		{"{\"a\":1} {\"b\":2}\n", "found more"},
	} {
		_, err := ReadData(strings.NewReader(tc.in), "u.txt")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func testData(t *testing.T, n int) *Data {
	t.Helper()
	var sb strings.Builder
	sb.WriteString("userId,qty\n")
	for i := range n {
		fmt.Fprintf(&sb, "u%d,%d\n", i, i%5+1)
	}
	d, err := ReadData(strings.NewReader(sb.String()), "users.csv")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func shopOps() []Operation {
	return []Operation{
		{Method: "GET", Path: "/users/{userId}", Query: []Param{{Name: "expand"}}},
		{Method: "POST", Path: "/orders", Headers: []Param{{Name: "X-Tenant"}}, Body: &BodySpec{Required: true, ContentType: "application/json"}},
		{Method: "OPTIONS", Path: "/orders"},
	}
}

func hits(t *testing.T, ts Targets, n int) []vegeta.Target {
	t.Helper()
	tr := ts.Targeter()
	out := make([]vegeta.Target, n)
	for i := range out {
		if err := tr(&out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestBuildTargetsFillsFromDataSequentially(t *testing.T) {
	feed := &Feed{Data: testData(t, 3), Order: OrderSequential}
	ts, err := BuildTargets(shopOps(), BuildOptions{
		Base: "http://127.0.0.1:9/prod", Feed: feed, Header: http.Header{"X-Api-Key": {"k"}},
		Bodies: []MethodBody{{Key: "POST /orders", File: "order.json", Data: []byte(`{"user":{{json .userId}},"qty":{{.qty}}}`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ts.Labels(), ",") != "GET /users/{userId},POST /orders" {
		t.Fatalf("targets %v (OPTIONS must be skipped)", ts.Labels())
	}
	if ts[1].Header.Get("Content-Type") != "application/json" || ts[1].Header.Get("X-Api-Key") != "k" {
		t.Errorf("POST header %v", ts[1].Header)
	}
	var got []string
	for _, h := range hits(t, ts, 8) {
		got = append(got, h.Method+" "+h.URL+" "+string(h.Body))
	}
	want := []string{
		"GET http://127.0.0.1:9/prod/users/u0 ",
		`POST http://127.0.0.1:9/prod/orders {"user":"u0","qty":1}`,
		"GET http://127.0.0.1:9/prod/users/u1 ",
		`POST http://127.0.0.1:9/prod/orders {"user":"u1","qty":2}`,
		"GET http://127.0.0.1:9/prod/users/u2 ",
		`POST http://127.0.0.1:9/prod/orders {"user":"u2","qty":3}`,
		"GET http://127.0.0.1:9/prod/users/u0 ",
		`POST http://127.0.0.1:9/prod/orders {"user":"u0","qty":1}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestBuildTargetsQueryHeadersAndEscaping(t *testing.T) {
	d, err := ReadData(strings.NewReader(`{"userId":"a b/c","expand":"x&y","X-Tenant":"t1","path":"a b/c"}`+"\n"), "d.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	ops := append(shopOps(), Operation{Method: "ANY", Path: "/files/{path+}"})
	ts, err := BuildTargets(ops, BuildOptions{Base: "http://h", Feed: &Feed{Data: d},
		Bodies: []MethodBody{{Key: "POST /orders", File: "o.xml", Data: []byte("<o/>")}}})
	if err != nil {
		t.Fatal(err)
	}
	hs := hits(t, ts, 3)
	if hs[0].URL != "http://h/users/a%20b%2Fc?expand=x%26y" {
		t.Errorf("GET url %q", hs[0].URL)
	}
	if hs[1].Header.Get("X-Tenant") != "t1" || hs[1].Header.Get("Content-Type") != "application/xml" || string(hs[1].Body) != "<o/>" {
		t.Errorf("POST %+v", hs[1])
	}
	if ts[1].Header.Get("X-Tenant") != "" {
		t.Errorf("the data's header leaked into the shared header map")
	}
	if hs[2].Method != "GET" || hs[2].URL != "http://h/files/a%20b/c" {
		t.Errorf("ANY greedy %s %q", hs[2].Method, hs[2].URL)
	}
}

func TestRandomOrderIsSeededAndWeighted(t *testing.T) {
	build := func(seed uint64) Targets {
		ts, err := BuildTargets(shopOps()[:1], BuildOptions{Base: "http://h", Feed: &Feed{Data: testData(t, 1000), Order: OrderRandom, Seed: seed}})
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, Target{Name: "GET /health", Method: "GET", URL: "http://h/health", Weight: 1})
		ts[0].Weight = 3
		return ts
	}
	urls := func(ts Targets) []string {
		var out []string
		for _, h := range hits(t, ts, 4000) {
			out = append(out, h.URL)
		}
		return out
	}
	a, b, c := urls(build(7)), urls(build(7)), urls(build(8))
	if strings.Join(a, " ") != strings.Join(b, " ") {
		t.Errorf("same seed, different sequences")
	}
	if strings.Join(a, " ") == strings.Join(c, " ") {
		t.Errorf("different seeds, same sequence")
	}
	health, distinct := 0, map[string]bool{}
	for _, u := range a {
		if u == "http://h/health" {
			health++
		} else {
			distinct[u] = true
		}
	}
	// Weights 3:1 over 4000 draws: 1000 ± 5σ (σ ≈ 27).
	if health < 860 || health > 1140 {
		t.Errorf("/health drawn %d times of 4000, want about 1000 (weight 1 of 4)", health)
	}
	// 3000 draws over 1000 rows reach about 950 distinct rows (1000·(1-e^-3)).
	if len(distinct) < 900 {
		t.Errorf("%d distinct users in 3000 random draws of 1000 rows", len(distinct))
	}
	// Two orders of the same seed in different positions of the mix are not one order shifted.
	if a[0] == a[1] && a[1] == a[2] && a[2] == a[3] {
		t.Errorf("no mixing: %v", a[:4])
	}
}

func TestBuildTargetsErrorsBeforeAnyRequest(t *testing.T) {
	d := testData(t, 3)
	order := MethodBody{Key: "POST /orders", File: "order.json", Data: []byte(`{"user":"{{.userId}}"}`)}
	for _, tc := range []struct {
		name string
		ops  []Operation
		o    BuildOptions
		want string
		as   any
	}{
		{"missing column in path", []Operation{{Method: "GET", Path: "/carts/{cartId}"}}, BuildOptions{Feed: &Feed{Data: d}},
			`GET /carts/{cartId}: data file users.csv has no column "cartId" for its path parameter (columns: qty, userId)`, new(*MissingNameError)},
		{"missing column in body", shopOps(), BuildOptions{Feed: &Feed{Data: d}, Bodies: []MethodBody{{Key: "POST /orders", File: "o.json", Data: []byte(`{"sku":"{{.sku}}"}`)}}},
			`POST /orders: data file users.csv has no column "sku" for its body template o.json`, new(*MissingNameError)},
		{"required query", []Operation{{Method: "GET", Path: "/search", Query: []Param{{Name: "q", Required: true}}}}, BuildOptions{Feed: &Feed{Data: d}},
			`no column "q" for its required query string`, new(*MissingNameError)},
		{"bad template", shopOps(), BuildOptions{Feed: &Feed{Data: d}, Bodies: []MethodBody{{Key: "POST /orders", File: "o.json", Data: []byte(`{"user":"{{.userId"}`)}}},
			"POST /orders: body template o.json: template: o.json:1: ", nil},
		{"unknown body key", shopOps(), BuildOptions{Feed: &Feed{Data: d}, Bodies: []MethodBody{order, {Key: "PUT /orders", File: "o.json", Data: []byte("{}")}}},
			`body "PUT /orders": no method "PUT /orders" to load-test (methods: GET /users/{userId}, POST /orders)`, new(*UnknownBodyKeyError)},
		{"required body without example", shopOps(), BuildOptions{Feed: &Feed{Data: d}},
			"POST /orders requires a request body and the definition gives no example", new(*BodyMissingError)},
		{"no data for a body template", shopOps(), BuildOptions{Feed: &Feed{Const: map[string]string{"userId": "1"}}, Bodies: []MethodBody{{Key: "POST /orders", File: "o.json", Data: []byte(`{{.qty}}`)}}},
			`POST /orders: no value for body template o.json "qty"`, new(*MissingNameError)},
	} {
		_, err := BuildTargets(tc.ops, tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v\nwant %q", tc.name, err, tc.want)
			continue
		}
		if tc.as != nil && !errors.As(err, tc.as) {
			t.Errorf("%s: error %T is not %T", tc.name, err, tc.as)
		}
	}
	// A JSON-lines row without a key the template uses fails on its line.
	j, _ := ReadData(strings.NewReader("{\"userId\":\"a\",\"qty\":1}\n{\"userId\":\"b\"}\n"), "rows.jsonl")
	_, err := BuildTargets(shopOps(), BuildOptions{Feed: &Feed{Data: j}, Bodies: []MethodBody{{Key: "POST /orders", File: "o.json", Data: []byte(`{"q":{{.qty}}}`)}}})
	if err == nil || !strings.Contains(err.Error(), "rows.jsonl:2") || !strings.Contains(err.Error(), `"qty"`) {
		t.Errorf("row without key: %v", err)
	}
}

func TestBuildTargetsExampleBodyAndPlainBody(t *testing.T) {
	ops := []Operation{
		{Method: "POST", Path: "/a", Body: &BodySpec{Required: true, ContentType: "application/json", Example: []byte(`{"ex":1}`)}},
		{Method: "PUT", Path: "/b"},
		{Method: "GET", Path: "/c"},
	}
	ts, err := BuildTargets(ops, BuildOptions{Base: "http://h", Body: []byte("plain"), BodyFile: "b.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if string(ts[0].Body) != `{"ex":1}` || ts[0].Header.Get("Content-Type") != "application/json" {
		t.Errorf("example body %q %v", ts[0].Body, ts[0].Header)
	}
	if string(ts[1].Body) != "plain" || !strings.HasPrefix(ts[1].Header.Get("Content-Type"), "text/plain") {
		t.Errorf("plain body %q %v", ts[1].Body, ts[1].Header)
	}
	if ts[2].Body != nil || ts[0].Template != nil {
		t.Errorf("GET got a body, or a constant target kept its template")
	}
	// -H Content-Type wins over the extension.
	ts, _ = BuildTargets(ops[1:2], BuildOptions{Base: "http://h", Body: []byte("x"), BodyFile: "b.json", Header: http.Header{"Content-Type": {"text/csv"}}})
	if ts[0].Header.Get("Content-Type") != "text/csv" {
		t.Errorf("-H content type lost: %v", ts[0].Header)
	}
}

func TestParseMethodBodyAndTemplateFields(t *testing.T) {
	for in, want := range map[string]string{
		"POST /orders=order.json":          "POST /orders|order.json",
		"post /users/{userId}=u.json":      "POST /users/{userId}|u.json",
		"PUT /a/b = dir/with=equals.json ": "PUT /a/b|dir/with=equals.json",
		"order.json":                       "|",
		"/tmp/x=y.json":                    "|",
	} {
		k, f, _ := ParseMethodBody(in)
		if k+"|"+f != want {
			t.Errorf("%q: %q|%q, want %q", in, k, f, want)
		}
	}
	tpl, err := ParseBodyTemplate("b", []byte(`{{if .vip}}{{json .name}}{{else}}{{.user.id}}{{end}}{{range .items}}{{.}}{{end}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(TemplateFields(tpl), ","); got != "items,name,user,vip" {
		t.Errorf("fields %q", got)
	}
}

func TestTemplatedRequestsAreCountedForTheirTarget(t *testing.T) {
	ops := []Operation{{Method: "GET", Path: "/users/me"}, {Method: "GET", Path: "/users/{userId}"}, {Method: "GET", Path: "/files/{path+}"}, {Method: "GET", Path: "/users/{userId}/cart"}}
	d, _ := ReadData(strings.NewReader("userId,path\nu1,a/b\nu2,c\n"), "d.csv")
	ts, err := BuildTargets(ops, BuildOptions{Base: "http://h/prod", Feed: &Feed{Data: d}})
	if err != nil {
		t.Fatal(err)
	}
	for url, want := range map[string]int{
		"http://h/prod/users/me":            0,
		"http://h/prod/users/u2":            1,
		"http://h/prod/users/u2?x=1":        1,
		"http://h/prod/files/c/d/e":         2,
		"http://h/prod/users/u2/cart":       3,
		"http://h/prod/other":               -1,
		"http://h/staging/users/u2":         -1,
		"http://h/prod/users/u2/cart/items": -1,
	} {
		if got := ts.indexOf(&vegeta.Target{Method: "GET", URL: url}); got != want {
			t.Errorf("%s: target %d, want %d", url, got, want)
		}
	}
}
