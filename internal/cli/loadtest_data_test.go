package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/loadtest"
	"github.com/apictl/apictl/internal/sandbox"
	"github.com/apictl/apictl/internal/sandbox/backend"
	"github.com/apictl/apictl/internal/sandbox/sandboxtest"
)

// shopBackend is an integration whose cost depends on the request: a GET
// /users/{id} whose id was asked recently is answered from a cache at
// once, any other goes to a small database (backend.Backend: 1 slot × 20
// ms = 50 rps); POST /orders validates its JSON body ({"userId": "…",
// "qty": n > 0}) and answers 400 otherwise.
type shopBackend struct {
	db *backend.Backend

	mu       sync.Mutex
	cache    map[string]bool
	ring     []string // the cached keys, oldest first
	requests int
	orders   map[string]int // valid orders by user
	invalid  int
}

const shopCacheSize = 100

func newShopBackend() *shopBackend {
	return &shopBackend{
		db:     backend.New(backend.Config{Slots: 1, Service: 20 * time.Millisecond, Queue: 8}),
		cache:  map[string]bool{},
		orders: map[string]int{},
	}
}

func (b *shopBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.requests++
	b.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/users/"):
		key := strings.TrimPrefix(r.URL.Path, "/users/")
		b.mu.Lock()
		hit := b.cache[key]
		b.mu.Unlock()
		if hit {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"cached":true}`)
			return
		}
		b.db.ServeHTTP(w, r)
		b.mu.Lock()
		if !b.cache[key] {
			b.cache[key] = true
			b.ring = append(b.ring, key)
			if len(b.ring) > shopCacheSize {
				delete(b.cache, b.ring[0])
				b.ring = b.ring[1:]
			}
		}
		b.mu.Unlock()
	case r.Method == http.MethodPost && r.URL.Path == "/orders":
		var in struct {
			UserID string  `json:"userId"`
			Qty    float64 `json:"qty"`
		}
		err := json.NewDecoder(r.Body).Decode(&in)
		if err != nil || in.UserID == "" || in.Qty <= 0 || r.Header.Get("Content-Type") != "application/json" {
			b.mu.Lock()
			b.invalid++
			b.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"message": "Invalid request body"}`)
			return
		}
		b.mu.Lock()
		b.orders[in.UserID]++
		b.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	default:
		http.NotFound(w, r)
	}
}

func (b *shopBackend) counts() (requests, invalid, users int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.requests, b.invalid, len(b.orders)
}

// shopSandbox starts a sandbox with REST API "shop": GET /users/{userId}
// (optional query string expand) and POST /orders (request model Order),
// deployed to stage prod and served by h.
func shopSandbox(t *testing.T, h http.Handler) (*sandbox.Sandbox, *awsapi.Clients, string) {
	t.Helper()
	sb, clients := sandboxtest.Start(t, sandbox.New(sandbox.Options{}))
	api := sandboxtest.NewRestAPI(t, clients.APIGateway, "shop")
	api.Method("/users/{userId}", "GET", apigateway.PutMethodInput{RequestParameters: map[string]bool{"method.request.querystring.expand": false}})
	api.Method("/orders", "POST", apigateway.PutMethodInput{RequestModels: map[string]string{"application/json": "Order"}})
	api.Serve(sb, "prod", h)
	return sb, clients, api.ID
}

// shopFiles writes users.csv (n users), order.json (a templated body),
// empty.json and the other files the tests use, and returns their folder.
func shopFiles(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	var sb strings.Builder
	sb.WriteString("userId,qty\n")
	for i := range n {
		fmt.Fprintf(&sb, "user-%05d,%d\n", i, i%3+1)
	}
	files := map[string]string{
		"users.csv":     sb.String(),
		"nouser.csv":    "id,qty\n1,2\n",
		"order.json":    `{"userId": {{json .userId}}, "qty": {{.qty}}}`,
		"badorder.json": `{"userId": "{{.userId"}`,
		"empty.json":    "",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// ltJSON is the part of the loadtest JSON these tests read.
type ltJSON struct {
	SustainableRPS    float64            `json:"sustainable_rps"`
	Pass              bool               `json:"pass"`
	Reason            string             `json:"reason"`
	Targets           []string           `json:"targets"`
	Target            string             `json:"target"`
	RejectedAsInvalid bool               `json:"rejected_as_invalid"`
	Data              *loadtest.DataInfo `json:"data"`
	Seed              *uint64            `json:"seed"`
	Steps             []loadtest.Step    `json:"steps"`
}

func decodeLT(t *testing.T, out string) ltJSON {
	t.Helper()
	var got ltJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return got
}

// TestLoadtestDataFindsTheCacheApart: one userId repeated is served by the
// backend's cache; 10,000 userIds from --data go to its database (50 rps).
// The search over the data must find a clearly lower rate, and each report
// says what it was fed.
func TestLoadtestDataFindsTheCacheApart(t *testing.T) {
	b := newShopBackend()
	sb, _, _ := shopSandbox(t, b)
	dir := shopFiles(t, 10000)
	search := []string{"--endpoint-url", sb.URL(), "loadtest", "--api", "shop", "--stage", "prod", "--methods", "GET",
		"--find-max", "--start-rate", "20", "--max-rate", "160", "--step-duration", "600ms", "--cool-down", "100ms", "--precision", "0.25"}

	oneOut, stderr, err := runLoadtest(t, append(search, "--path-param", "userId=42", "-o", "json")...)
	if err != nil {
		t.Fatalf("one user: %v\n%s", err, stderr)
	}
	manyOut, stderr, err := runLoadtest(t, append(search, "--data", filepath.Join(dir, "users.csv"), "-o", "json")...)
	if err != nil {
		t.Fatalf("10,000 users: %v\n%s", err, stderr)
	}
	one, many := decodeLT(t, oneOut), decodeLT(t, manyOut)
	t.Logf("sustainable rps: one userId %.0f · 10,000 userIds from --data %.0f (database capacity %.0f)", one.SustainableRPS, many.SustainableRPS, b.db.Capacity())
	if !one.Pass || !many.Pass {
		t.Fatalf("a search found no rate: one %v (%s), many %v (%s)", one.Pass, one.Reason, many.Pass, many.Reason)
	}
	// The cache serves the one user at any rate tried; the database caps the many at 50 rps.
	if one.SustainableRPS < 2*many.SustainableRPS || many.SustainableRPS > 1.3*b.db.Capacity() {
		t.Errorf("one userId %.0f rps, 10,000 userIds %.0f rps: want the one clearly higher and the many near %.0f", one.SustainableRPS, many.SustainableRPS, b.db.Capacity())
	}
	if one.Data != nil || many.Data == nil || many.Data.Rows != 10000 || filepath.Base(many.Data.File) != "users.csv" || len(many.Data.SHA256) != 64 || many.Data.Order != "sequential" {
		t.Errorf("data records: one %+v, many %+v", one.Data, many.Data)
	}
	// The table report of the data run names its data.
	table, _, err := runLoadtest(t, "--endpoint-url", sb.URL(), "loadtest", "--api", "shop", "--stage", "prod", "--methods", "GET",
		"--data", filepath.Join(dir, "users.csv"), "--rate", "10", "--duration", "300ms", "-q")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table, "users.csv (10000 rows, sequential, sha256 "+many.Data.SHA256[:12]+")") {
		t.Errorf("table report lacks the data line:\n%s", table)
	}
}

// TestLoadtestPostBodyFromData: POST /orders with a body templated from
// --data passes; without a body it is refused before the run; with an empty
// body every request is a 400 and the search stops at once with a hint.
func TestLoadtestPostBodyFromData(t *testing.T) {
	b := newShopBackend()
	sb, _, _ := shopSandbox(t, b)
	dir := shopFiles(t, 500)
	base := []string{"--endpoint-url", sb.URL(), "loadtest", "--api", "shop", "--stage", "prod", "--methods", "POST",
		"--data", filepath.Join(dir, "users.csv")}

	out, stderr, err := runLoadtest(t, append(base, "--body", "POST /orders="+filepath.Join(dir, "order.json"), "--rate", "40", "--duration", "1s", "-o", "json")...)
	if err != nil {
		t.Fatalf("templated body: %v\n%s", err, stderr)
	}
	got := decodeLT(t, out)
	requests, invalid, users := b.counts()
	if !got.Pass || invalid != 0 || users < 30 || requests < 35 {
		t.Fatalf("templated body: pass %v (%s), backend %d requests, %d invalid, %d distinct users", got.Pass, got.Reason, requests, invalid, users)
	}

	// No --body: POST /orders requires one (its request model) and has no example.
	_, _, err = runLoadtest(t, append(base, "--rate", "40", "--duration", "1s")...)
	if err == nil || ExitCode(err) != ExitError || !strings.Contains(err.Error(), "POST /orders requires a request body") {
		t.Fatalf("no body: exit %d, err %v", ExitCode(err), err)
	}
	if r, _, _ := b.counts(); r != requests {
		t.Errorf("no body: %d requests reached the backend before the error", r-requests)
	}

	// An empty body: 400s, and the search stops after its first step.
	out, _, err = runLoadtest(t, append(base, "--body", "POST /orders="+filepath.Join(dir, "empty.json"),
		"--find-max", "--start-rate", "20", "--step-duration", "1s", "--cool-down", "0", "-o", "json", "-q")...)
	if ExitCode(err) != ExitError || err == nil || !strings.Contains(err.Error(), loadtest.ErrRequestsRejected) {
		t.Fatalf("empty body: exit %d, err %v: want exit 1 with %q", ExitCode(err), err, loadtest.ErrRequestsRejected)
	}
	var buf strings.Builder
	PrintError(&buf, err)
	if !strings.Contains(buf.String(), "hint:") {
		t.Errorf("no hint: %q", buf.String())
	}
	got = decodeLT(t, out)
	if !got.RejectedAsInvalid || len(got.Steps) != 1 || got.Steps[0].Causes == nil || got.Steps[0].Causes.RequestFault == 0 {
		t.Errorf("empty body: rejected %v, %d steps (want 1), causes %+v", got.RejectedAsInvalid, len(got.Steps), got.Steps[0].Causes)
	}
	if _, inv, _ := b.counts(); inv == 0 || inv > got.Steps[0].Requests {
		t.Errorf("empty body: %d invalid requests at the backend, the step counted %d", inv, got.Steps[0].Requests)
	}
}

// TestLoadtestOpenAPIExportSameTargetsAsAPI: the stage's export (GetExport
// oas30, through the SDK and, when installed, the AWS CLI) given to
// --openapi sends the same requests as --api, in the same order.
func TestLoadtestOpenAPIExportSameTargetsAsAPI(t *testing.T) {
	b := newShopBackend()
	sb, clients, apiID := shopSandbox(t, b)
	dir := shopFiles(t, 50)
	out, err := clients.APIGateway.GetExport(context.Background(), &apigateway.GetExportInput{RestApiId: aws.String(apiID),
		StageName: aws.String("prod"), ExportType: aws.String("oas30"), Accepts: aws.String("application/json")})
	if err != nil {
		t.Fatal(err)
	}
	specs := map[string]string{"sdk": filepath.Join(dir, "export.json")}
	if err := os.WriteFile(specs["sdk"], out.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("aws"); err == nil {
		yml := filepath.Join(dir, "export.yaml")
		cmd := exec.Command("aws", "apigateway", "get-export", "--rest-api-id", apiID, "--stage-name", "prod",
			"--export-type", "oas30", "--accepts", "application/yaml", "--endpoint-url", sb.URL(), "--region", "us-east-1", yml)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDSANDBOX", "AWS_SECRET_ACCESS_KEY=secret", "AWS_EC2_METADATA_DISABLED=true")
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("aws apigateway get-export: %v\n%s", err, msg)
		}
		specs["aws-cli"] = yml
	} else {
		t.Log("aws CLI not installed: the YAML export is not checked")
	}

	run := func(source ...string) (ltJSON, []string) {
		t.Helper()
		results := filepath.Join(t.TempDir(), "r.bin")
		args := append([]string{"--endpoint-url", sb.URL(), "loadtest"}, source...)
		args = append(args, "--data", filepath.Join(dir, "users.csv"), "--body", "POST /orders="+filepath.Join(dir, "order.json"),
			"--weight", "GET /users/{userId}=2", "--rate", "60", "--duration", "500ms", "--results", results, "-o", "json")
		out, stderr, err := runLoadtest(t, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", source, err, stderr)
		}
		return decodeLT(t, out), readResults(t, results)
	}
	api, apiSeq := run("--api", "shop", "--stage", "prod")
	if strings.Join(api.Targets, ",") != "POST /orders,GET /users/{userId}" || !api.Pass {
		t.Fatalf("--api: targets %v pass %v (%s)", api.Targets, api.Pass, api.Reason)
	}
	for via, spec := range specs {
		got, seq := run("--openapi", spec)
		if strings.Join(got.Targets, ",") != strings.Join(api.Targets, ",") || !got.Pass {
			t.Errorf("--openapi (%s export): targets %v pass %v, want %v", via, got.Targets, got.Pass, api.Targets)
		}
		n := min(len(seq), len(apiSeq))
		if n < 25 || strings.Join(seq[:n], "\n") != strings.Join(apiSeq[:n], "\n") {
			t.Errorf("--openapi (%s export) sent other requests than --api:\n%s\nwant:\n%s", via, strings.Join(seq[:min(n, 6)], "\n"), strings.Join(apiSeq[:min(n, 6)], "\n"))
		}
	}
	if _, inv, _ := b.counts(); inv != 0 {
		t.Errorf("%d invalid orders", inv)
	}
}

// readResults decodes a --results file into "METHOD URL" lines.
func readResults(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	var out []string
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatal(err)
		}
		out = append(out, r.Method+" "+r.URL)
	}
}

// TestLoadtestRequestErrorsBeforeAnyRequest: a missing column, a bad
// template and an unknown --body key stop the command before it sends a
// request.
func TestLoadtestRequestErrorsBeforeAnyRequest(t *testing.T) {
	b := newShopBackend()
	sb, _, _ := shopSandbox(t, b)
	dir := shopFiles(t, 5)
	base := []string{"--endpoint-url", sb.URL(), "loadtest", "--api", "shop", "--stage", "prod", "--rate", "20", "--duration", "1s"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing column", []string{"--data", filepath.Join(dir, "nouser.csv"), "--methods", "GET"}, `has no column "userId" for its path parameter (columns: id, qty)`},
		{"missing column in body", []string{"--data", filepath.Join(dir, "nouser.csv"), "--methods", "POST", "--body", "POST /orders=" + filepath.Join(dir, "order.json")}, `has no column "userId" for its body template`},
		{"bad template", []string{"--data", filepath.Join(dir, "users.csv"), "--body", "POST /orders=" + filepath.Join(dir, "badorder.json")}, "body template " + filepath.Join(dir, "badorder.json")},
		{"unknown --body key", []string{"--data", filepath.Join(dir, "users.csv"), "--body", "POST /orders=" + filepath.Join(dir, "order.json"), "--body", "PUT /orders=" + filepath.Join(dir, "order.json")}, `--body "PUT /orders": no method "PUT /orders" to load-test (methods: POST /orders, GET /users/{userId})`},
	} {
		_, _, err := runLoadtest(t, append(base, tc.args...)...)
		if err == nil || ExitCode(err) != ExitError || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: exit %d, err %v\nwant %q", tc.name, ExitCode(err), err, tc.want)
			continue
		}
		var buf strings.Builder
		PrintError(&buf, err)
		if !strings.Contains(buf.String(), "hint:") {
			t.Errorf("%s: no hint in %q", tc.name, buf.String())
		}
	}
	if r, _, _ := b.counts(); r != 0 {
		t.Errorf("%d requests reached the backend", r)
	}
	// Flags that cannot work are usage errors.
	for _, args := range [][]string{
		{"http://127.0.0.1:1/x", "--data", "users.csv"},
		{"http://127.0.0.1:1/x", "--body", "POST /orders=o.json"},
		{"--api", "shop", "--stage", "prod", "--data-order", "random"},
		{"--api", "shop", "--stage", "prod", "--data", "u.csv", "--data-order", "shuffled"},
		{"--api", "shop", "--stage", "prod", "--body", "a.json", "--body", "b.json"},
	} {
		_, _, err := runLoadtest(t, append([]string{"loadtest"}, args...)...)
		var fe *FlagError
		if !errors.As(err, &fe) {
			t.Errorf("%v: err %v, want a flag error", args, err)
		}
	}
}

// TestLoadtestSeedRepeatsTheRequests: two runs with --data-order random
// and one --seed send the same requests in the same order (read back from
// --results); another seed sends others; the JSON records the seed.
func TestLoadtestSeedRepeatsTheRequests(t *testing.T) {
	b := newShopBackend()
	sb, _, _ := shopSandbox(t, b)
	dir := shopFiles(t, 1000)
	run := func(seed string) (ltJSON, []string) {
		t.Helper()
		results := filepath.Join(t.TempDir(), "r.bin")
		args := []string{"--endpoint-url", sb.URL(), "loadtest", "--api", "shop", "--stage", "prod",
			"--data", filepath.Join(dir, "users.csv"), "--data-order", "random", "--body", "POST /orders=" + filepath.Join(dir, "order.json"),
			"--weight", "POST /orders=3", "--rate", "100", "--duration", "1s", "--results", results, "-o", "json",
			"--slo", "throughput>=50%"} // a 1 s run's throughput counts the wait for its last answers
		if seed != "" {
			args = append(args, "--seed", seed)
		}
		out, stderr, err := runLoadtest(t, args...)
		if err != nil {
			t.Fatalf("seed %s: %v\n%s", seed, err, stderr)
		}
		return decodeLT(t, out), readResults(t, results)
	}
	a, seqA := run("7")
	_, seqB := run("7")
	_, seqC := run("8")
	n := min(len(seqA), len(seqB), len(seqC))
	if n < 80 {
		t.Fatalf("only %d results", n)
	}
	if strings.Join(seqA[:n], "\n") != strings.Join(seqB[:n], "\n") {
		t.Errorf("--seed 7 twice sent different requests")
	}
	if strings.Join(seqA[:n], "\n") == strings.Join(seqC[:n], "\n") {
		t.Errorf("--seed 7 and --seed 8 sent the same requests")
	}
	if a.Seed == nil || *a.Seed != 7 || a.Data == nil || a.Data.Rows != 1000 || a.Data.Order != "random" || len(a.Data.SHA256) != 64 {
		t.Errorf("json records seed %v data %+v", a.Seed, a.Data)
	}
	// Without --seed a random one is drawn and recorded, so the run can be repeated.
	d, _ := run("")
	if d.Seed == nil {
		t.Errorf("no seed recorded for --data-order random without --seed")
	}
}
