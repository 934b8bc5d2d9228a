package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/spf13/cobra"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/sandbox"
	"github.com/apictl/apictl/internal/sandbox/sandboxtest"
)

// Commands that never call AWS. Every other runnable command must be run by
// TestLedgerIAMPolicyCoversEveryCommand, so its calls are checked against the
// policy `apictl help iam-policy` prints.
var noAWSCommands = []string{
	"apictl completion", "apictl demo", "apictl docs", "apictl plan generate", "apictl plan schema",
	"apictl plan validate", "apictl sandbox serve", "apictl version",
}

// iamCommands are the commands that call AWS, as TestLedgerIAMPolicyCoversEveryCommand runs them.
var iamCommands = []string{"apictl apply-plan", "apictl audit", "apictl loadtest", "apictl measure", "apictl plan export"}

// TestEveryCommandIsClassifiedForIAM fails when a command is added without
// saying whether it calls AWS (and so without an IAM coverage run).
func TestEveryCommandIsClassifiedForIAM(t *testing.T) {
	f, _ := NewTestFactory(t)
	root := NewCmdRoot(f, BuildInfo{Version: "test"})
	root.InitDefaultCompletionCmd()
	known := func(path string) bool {
		for _, p := range append(append([]string{}, noAWSCommands...), iamCommands...) {
			if path == p || strings.HasPrefix(path, p+" ") {
				return true
			}
		}
		return false
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && !known(c.CommandPath()) {
			t.Errorf("%q is not classified: add it to iamCommands (and run it in TestLedgerIAMPolicyCoversEveryCommand) if it calls AWS, else to noAWSCommands", c.CommandPath())
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

// iamPolicy runs `apictl help iam-policy` and decodes the document.
func iamPolicy(t *testing.T, args ...string) awsapi.PolicyDocument {
	t.Helper()
	r := runApictl(t, "", false, append([]string{"help", "iam-policy"}, args...)...)
	var doc awsapi.PolicyDocument
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &doc) != nil || len(doc.Statement) == 0 {
		t.Fatalf("help iam-policy %v: code %d\n%s\n%s", args, r.code, r.stdout, r.err)
	}
	return doc
}

// iamGlob matches IAM's wildcards: * any run of characters (slashes
// included), ? one character; case-insensitive for actions.
func iamGlob(pattern, s string, fold bool) bool {
	re := "^" + strings.ReplaceAll(strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, `.*`), `\?`, `.`) + "$"
	if fold {
		re = "(?i)" + re
	}
	return regexp.MustCompile(re).MatchString(s)
}

// allows reports whether an Allow statement grants action on resource.
func allows(doc awsapi.PolicyDocument, action, resource string) bool {
	for _, st := range doc.Statement {
		if st.Effect != "Allow" {
			continue
		}
		a, r := false, false
		for _, x := range st.Action {
			a = a || iamGlob(x, action, true)
		}
		for _, x := range st.Resource {
			r = r || iamGlob(x, resource, false)
		}
		if a && r {
			return true
		}
	}
	return false
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// iamRequest is the IAM action and resource of an operation the sandbox
// counted, from the emulator's route table: API Gateway authorises by HTTP
// method on the resource path (/apis for apigatewayv2's /v2/apis), CloudWatch
// by operation name.
func iamRequest(t *testing.T, routes map[string]sandbox.Route, op string) (string, string) {
	r, ok := routes[op]
	if !ok {
		if s3op, ok := strings.CutPrefix(op, "s3:"); ok {
			return s3Request(t, s3op)
		}
		if strings.HasPrefix(op, "wafv2:") {
			return op, "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x1/x1"
		}
		return "cloudwatch:" + op, "*"
	}
	path := strings.TrimPrefix(pathParam.ReplaceAllString(r.Path, "x1"), "/v2")
	return "apigateway:" + r.Method, "arn:aws:apigateway:us-east-1::" + path
}

// resultsBucket and resultsPrefix are where TestLedgerIAMPolicyCoversEveryCommand's load test
// keeps its results.
const resultsBucket, resultsPrefix = "lt-results", "run-7/"

// s3Request is the IAM action and resource of an S3 operation on the
// results location, as AWS documents them ("Actions, resources, and
// condition keys for Amazon S3"): the multipart upload's steps are
// s3:PutObject, HeadBucket is s3:ListBucket.
func s3Request(t *testing.T, op string) (string, string) {
	t.Helper()
	bucket, object := "arn:aws:s3:::"+resultsBucket, "arn:aws:s3:::"+resultsBucket+"/"+resultsPrefix+"results.gob"
	switch op {
	case "HeadBucket", "ListObjectsV2":
		return "s3:ListBucket", bucket
	case "PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload":
		return "s3:PutObject", object
	case "AbortMultipartUpload", "GetObject":
		return "s3:" + op, object
	}
	t.Fatalf("S3 operation %s: no IAM action known for it here", op)
	return "", ""
}

// TestLedgerIAMPolicyCoversEveryCommand runs every command that calls AWS against
// the sandbox, collects the operations it called from the sandbox's
// counters, and fails on any the printed policy does not allow: the
// read-only policy for reads, the full one for apply-plan.
func TestLedgerIAMPolicyCoversEveryCommand(t *testing.T) {
	sb, ag := planSandbox(t)
	ctx := context.Background()
	apis, err := ag.GetRestApis(ctx, &apigateway.GetRestApisInput{})
	if err != nil {
		t.Fatal(err)
	}
	sb.SetBackend(aws.ToString(apis.Items[0].Id), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	httpPlan := setupHTTPAPI(t, sb)
	routes := map[string]sandbox.Route{}
	for _, r := range sb.Routes() {
		routes[r.Op] = r
	}
	readOnly, full := iamPolicy(t, "--read-only"), iamPolicy(t)
	results := "s3://" + resultsBucket + "/" + resultsPrefix
	withResults := iamPolicy(t, "--read-only", "--results", results)
	if err := sb.CreateBucket(resultsBucket); err != nil {
		t.Fatal(err)
	}
	if allows(readOnly, "s3:PutObject", "arn:aws:s3:::"+resultsBucket+"/"+resultsPrefix+"results.gob") {
		t.Fatal("the policy without --results allows S3 writes")
	}
	if allows(withResults, "s3:PutObject", "arn:aws:s3:::"+resultsBucket+"/elsewhere/results.gob") {
		t.Fatal("the --results policy allows writes outside its prefix")
	}
	if allows(readOnly, "apigateway:PATCH", "arn:aws:apigateway:us-east-1::/usageplans/x1") {
		t.Fatal("the read-only policy allows a write")
	}

	dir := t.TempDir()
	good := filepath.Join("..", "plan", "testdata", "good.yaml")
	data, _ := os.ReadFile(good)
	pruned := filepath.Join(dir, "pruned.yaml")
	text := strings.Replace(string(data), "  - name: free\n    throttle: {rate: 2, burst: 1}\n    quota: {limit: 1000, period: DAY}\n    keys: [bob]\n", "", 1)
	text = strings.Replace(text, "  - name: bob\n    enabled: false\n", "", 1)
	os.WriteFile(pruned, []byte(text), 0o644)

	ep := []string{"--endpoint-url", sb.URL()}
	covered := map[string]bool{}
	for _, c := range []struct {
		name   string
		args   []string
		policy awsapi.PolicyDocument
	}{
		{"loadtest", []string{"loadtest", "--api", "cart-api", "--stage", "prod", "--path-param", "userId=1", "--rate", "10", "--duration", "1s", "-H", "x-api-key: not-a-key-of-this-stage"}, readOnly},
		{"loadtest", []string{"loadtest", "--api", "cart-api", "--stage", "prod", "--path-param", "userId=1", "--rate", "10", "--duration", "1s", "-H", "x-api-key: not-a-key-of-this-stage",
			"--results", results, "--shard", "0/1"}, withResults},
		{"loadtest merge", []string{"loadtest", "merge", results}, withResults},
		{"measure", []string{"measure", "--api", "cart-api", "--stage", "prod", "--since", "1h", "--by", "method"}, readOnly},
		{"measure", []string{"measure", "--api", "web", "--since", "1h"}, readOnly},
		{"apply-plan", []string{"apply-plan", "-f", good, "--dry-run"}, readOnly},
		{"plan export", []string{"plan", "export", "-f", good, "--format", "terraform", "--import"}, readOnly},
		{"apply-plan", []string{"apply-plan", "-f", good, "--auto-approve"}, full},
		{"apply-plan", []string{"apply-plan", "-f", pruned, "--auto-approve", "--prune"}, full},
		{"apply-plan", []string{"apply-plan", "-f", httpPlan, "--auto-approve", "--prune"}, full},
		{"audit", []string{"audit", "--api", "cart-api", "--stage", "prod"}, readOnly},
	} {
		sb.ResetCalls()
		r := runApictl(t, "", false, append(ep, c.args...)...)
		// A key-required method answers 403 to an unknown key (without
		// one, loadtest refuses before any load): the load test may miss
		// its objectives (exit 3), and audit has findings (exit
		// 3); their AWS calls are what counts.
		if r.code != 0 && !((strings.HasPrefix(c.name, "loadtest") || c.name == "audit") && r.code == ExitObjectivesMiss) {
			t.Fatalf("%v: code %d\n%s\n%s", c.args, r.code, r.stdout, r.err)
		}
		covered["apictl "+strings.TrimSuffix(c.name, " merge")] = true
		var ops []string
		for op := range sb.Calls() {
			ops = append(ops, op)
		}
		sort.Strings(ops)
		if len(ops) == 0 {
			t.Errorf("%v made no AWS call", c.args)
		}
		for _, op := range ops {
			action, resource := iamRequest(t, routes, op)
			if !allows(c.policy, action, resource) {
				t.Errorf("%v calls %s (%s on %s), which the printed policy does not allow", c.args, op, action, resource)
			}
		}
	}
	for _, cmd := range iamCommands {
		if !covered[cmd] {
			t.Errorf("%s calls AWS but was not run against the policy", cmd)
		}
	}
}

// setupHTTPAPI creates HTTP API "web" (GET /items, GET /old) with stage
// prod and a throttle on GET /old, and writes a plan for it.
func setupHTTPAPI(t *testing.T, sb *sandbox.Sandbox) string {
	t.Helper()
	ctx := context.Background()
	cl, err := awsapi.NewClients(ctx, SandboxSettings(sb.URL()))
	if err != nil {
		t.Fatal(err)
	}
	v2 := cl.APIGatewayV2
	api := sandboxtest.CreateHTTPAPI(t, v2, "web", "GET /items", "GET /old")
	_, err = v2.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("prod"),
		RouteSettings: map[string]v2types.RouteSettings{"GET /old": {ThrottlingRateLimit: aws.Float64(5), ThrottlingBurstLimit: aws.Int32(5)}}})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "http.yaml")
	os.WriteFile(f, []byte("apiVersion: apictl/v1\nkind: Plan\napi: web\ntype: http\nstages: [prod]\nstage:\n  throttle: {rate: 50, burst: 20}\n  methods:\n    GET /items: {throttle: {rate: 10, burst: 5}}\n"), 0o644)
	return f
}

// TestLedgerIAMManagedTagConditions: with --managed-only every write to
// usage plans and API keys carries a condition on the apictl:managed tag
// (aws:ResourceTag on existing resources, aws:RequestTag on creation) and no
// read does.
func TestLedgerIAMManagedTagConditions(t *testing.T) {
	doc := iamPolicy(t, "--managed-only")
	for _, c := range []struct {
		action, resource, key string
	}{
		{"apigateway:PATCH", "arn:aws:apigateway:us-east-1::/usageplans/x1", "aws:ResourceTag/apictl:managed"},
		{"apigateway:DELETE", "arn:aws:apigateway:us-east-1::/apikeys/x1", "aws:ResourceTag/apictl:managed"},
		{"apigateway:POST", "arn:aws:apigateway:us-east-1::/usageplans/x1/keys", "aws:ResourceTag/apictl:managed"},
		{"apigateway:POST", "arn:aws:apigateway:us-east-1::/apikeys", "aws:RequestTag/apictl:managed"},
	} {
		found := false
		for _, st := range doc.Statement {
			a, r := false, false
			for _, x := range st.Action {
				a = a || iamGlob(x, c.action, true)
			}
			for _, x := range st.Resource {
				r = r || iamGlob(x, c.resource, false)
			}
			if a && r {
				found = true
				if st.Condition["StringEquals"][c.key] != "true" {
					t.Errorf("%s on %s is allowed by %s without %s=true", c.action, c.resource, st.Sid, c.key)
				}
			}
		}
		if !found {
			t.Errorf("%s on %s is not allowed at all", c.action, c.resource)
		}
	}
	for _, st := range doc.Statement {
		if len(st.Condition) > 0 && strings.Contains(strings.Join(st.Action, ","), "GET") {
			t.Errorf("statement %s conditions reads", st.Sid)
		}
	}
}

// TestIAMPolicyBadArguments: a --results that is not an s3:// location and
// a stray argument are flag errors naming what is wrong.
func TestIAMPolicyBadArguments(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--results", "/tmp/results"}, "--results"},
		{[]string{"--results", "s3://Bad_Bucket/x"}, "--results"},
		{[]string{"--read-only", "extra"}, "takes no arguments"},
	} {
		r := runApictl(t, "", false, append([]string{"help", "iam-policy"}, c.args...)...)
		if r.code != ExitError || !strings.Contains(r.err, c.want) || r.stdout != "" {
			t.Errorf("help iam-policy %v: code %d, stdout %q, stderr %q; want exit %d naming %q", c.args, r.code, r.stdout, r.err, ExitError, c.want)
		}
	}
}
