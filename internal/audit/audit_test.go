package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/apictl/apictl/internal/audit/audittest"
	"github.com/apictl/apictl/internal/sandbox"
	"github.com/apictl/apictl/internal/sandbox/sandboxtest"
)

// snapshot is a REST API stage that passes every rule; tests break it.
func snapshot() *Snapshot {
	return &Snapshot{
		Type: "REST", APIID: "a1", Name: "orders-api", Stage: "prod", Region: "us-east-1",
		Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`,
		StageInfo: StageInfo{
			WebACLArn: "arn:aws:wafv2:us-east-1:1:regional/webacl/x/y", AccessLogArn: "arn:aws:logs:us-east-1:1:log-group:g",
			TracingEnabled: true, ClientCertificateID: "c1",
			MethodSettings: map[string]MethodSetting{"*/*": {HasThrottle: true, Rate: 20, Burst: 20, MetricsEnabled: true}},
		},
		Methods: []Method{
			{Verb: "GET", Path: "/orders", ResourceID: "r1", AuthorizationType: "AWS_IAM", APIKeyRequired: true,
				Integration: &Integration{Type: "HTTP_PROXY", URI: "https://${stageVariables.host}/orders"}},
			{Verb: "POST", Path: "/orders", ResourceID: "r1", AuthorizationType: "AWS_IAM", APIKeyRequired: true,
				Integration: &Integration{Type: "HTTP_PROXY", URI: "https://${stageVariables.host}/orders"}},
		},
		AccountRate: 10000, AccountBurst: 5000,
	}
}

func loadtest(t *testing.T, js string) *Loadtest {
	t.Helper()
	lt, err := DecodeLoadtest(strings.NewReader(js), snapshot())
	if err != nil {
		t.Fatal(err)
	}
	return lt
}

const twoMethods = `{"api":"orders-api","stage":"prod","mode":"search","pass":true,"sustainable_rps":50,%s
 "methods":[{"name":"GET /orders","method":"GET","path":"/orders","pass":true,"sustainable_rps":30%s},
            {"name":"POST /orders","method":"POST","path":"/orders","pass":true,"sustainable_rps":20}]}`

func ruleIDs(r *Report) string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.Rule+" "+f.Resource)
	}
	return strings.Join(ids, "; ")
}

func TestCleanSnapshotHasNoFinding(t *testing.T) {
	r := Evaluate(snapshot(), Inputs{Loadtest: loadtest(t, strings.NewReplacer("%s", "").Replace(twoMethods))}, Low)
	if len(r.Findings) != 0 || r.Failed {
		t.Errorf("findings: %s", ruleIDs(r))
	}
}

func TestThrottleAboveSustainable(t *testing.T) {
	s := snapshot()
	s.StageInfo.MethodSettings["~1orders/POST"] = MethodSetting{HasThrottle: true, Rate: 25, Burst: 25, MetricsEnabled: true}
	lt := loadtest(t, strings.NewReplacer("%s", "").Replace(twoMethods))
	r := Evaluate(s, Inputs{Loadtest: lt}, High)
	if got := ruleIDs(r); got != "THR002 POST /orders" {
		t.Fatalf("findings %q, want THR002 POST /orders", got)
	}
	f := r.Findings[0]
	if !strings.Contains(f.Evidence, "25 rps (stage prod POST /orders) > sustainable 20 rps") || !f.Fix.isSet() {
		t.Errorf("evidence %q, fix %+v", f.Evidence, f.Fix)
	}
	if !strings.Contains(f.Fix.CLI, "path=/~1orders/POST/throttling/rateLimit,value=16") {
		t.Errorf("fix should set 80%% of 20 rps: %s", f.Fix.CLI)
	}
	if !r.Failed || r.AtOrAbove(High) != 1 {
		t.Errorf("failed %v, at or above high %d", r.Failed, r.AtOrAbove(High))
	}
	// Exactly at the sustainable rate is fine.
	s.StageInfo.MethodSettings["~1orders/POST"] = MethodSetting{HasThrottle: true, Rate: 20, Burst: 20, MetricsEnabled: true}
	if r := Evaluate(s, Inputs{Loadtest: lt}, High); len(r.Findings) != 0 {
		t.Errorf("throttle = sustainable: %s", ruleIDs(r))
	}
}

func TestSharedBackendSum(t *testing.T) {
	// Each method's throttle (20 + 20 of */*) is within its allocation
	// (30, 20), and the sum 40 within 50; lowering the aggregate to 35
	// makes the sum too high.
	js := strings.Replace(strings.Replace(twoMethods, "%s", `"shared_backend":true,`, 1), "%s", "", 1)
	lt := loadtest(t, js)
	if r := Evaluate(snapshot(), Inputs{Loadtest: lt}, Low); len(r.Findings) != 0 {
		t.Errorf("sum within aggregate: %s", ruleIDs(r))
	}
	lt.SustainableRPS = 35
	r := Evaluate(snapshot(), Inputs{Loadtest: lt}, Low)
	if got := ruleIDs(r); got != "THR003 stage prod" {
		t.Errorf("findings %q, want THR003 stage prod", got)
	}
}

func TestGatewayLimitedMethodNotJudged(t *testing.T) {
	js := strings.Replace(strings.Replace(twoMethods, "%s", "", 1), "%s", `,"limited_by":"gateway-throttle"`, 1)
	s := snapshot()
	s.StageInfo.MethodSettings["~1orders/GET"] = MethodSetting{HasThrottle: true, Rate: 500, Burst: 500, MetricsEnabled: true}
	r := Evaluate(s, Inputs{Loadtest: loadtest(t, js)}, Low)
	if len(r.Findings) != 0 || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "lower bound") {
		t.Errorf("findings %q, notes %q", ruleIDs(r), r.Notes)
	}
}

func TestCapacityGapUnlessDecoupledOrThrottled(t *testing.T) {
	s := snapshot()
	s.StageInfo.MethodSettings["~1orders/POST"] = MethodSetting{HasThrottle: true, Rate: 100, Burst: 100, MetricsEnabled: true}
	lt := loadtest(t, strings.NewReplacer("%s", "").Replace(twoMethods))
	var m Measure
	if err := json.Unmarshal([]byte(`{"api":"orders-api","stage":"prod","methods":[{"resource":"/orders","method":"POST","avg_rps":10,"peak_rps":80}]}`), &m); err != nil {
		t.Fatal(err)
	}
	r := Evaluate(s, Inputs{Loadtest: lt, Measure: &m}, High)
	var gap *Finding
	for i := range r.Findings {
		if r.Findings[i].Rule == RuleCapacityGap {
			gap = &r.Findings[i]
		}
	}
	if gap == nil {
		t.Fatalf("no CAP001: %s", ruleIDs(r))
	}
	for _, want := range []string{"about 75% of requests get 429", "grows by 60 msg/s", "drains at 10 msg/s"} {
		if !strings.Contains(gap.Fix.Text, want) {
			t.Errorf("CAP001 fix lacks %q: %s", want, gap.Fix.Text)
		}
	}
	s.Methods[1].Integration = &Integration{Type: "AWS", URI: "arn:aws:apigateway:us-east-1:sqs:path/1/orders"}
	for _, f := range Evaluate(s, Inputs{Loadtest: lt, Measure: &m}, High).Findings {
		if f.Rule == RuleCapacityGap {
			t.Errorf("decoupled through SQS, still CAP001")
		}
	}
}

func TestPolicyRules(t *testing.T) {
	for _, tc := range []struct{ policy, want string }{
		{"", "SEC003 api orders-api"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke"}}`, "SEC004 api orders-api"},
		{`{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root","*"]},"Action":"execute-api:Invoke"}]}`, "SEC004 api orders-api"},
		{`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"execute-api:Invoke"}]}`, ""},
		{`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke"}]}`, ""},
	} {
		s := snapshot()
		s.Policy = tc.policy
		if got := ruleIDs(Evaluate(s, Inputs{}, High)); got != tc.want {
			t.Errorf("policy %s: findings %q, want %q", tc.policy, got, tc.want)
		}
	}
}

func TestDecodePolicy(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[]}`
	for _, in := range []string{doc, `{\"Version\":\"2012-10-17\",\"Statement\":[]}`} {
		got, err := DecodePolicy(in)
		if err != nil || got != doc {
			t.Errorf("DecodePolicy(%s) = %q, %v", in, got, err)
		}
	}
	if _, err := DecodePolicy(`{not json`); err == nil {
		t.Error("DecodePolicy accepted broken JSON")
	}
}

func TestDecodeLoadtestRefusals(t *testing.T) {
	for _, tc := range []struct{ js, want string }{
		{`{"mode":"fixed","pass":true,"sustainable_rps":10}`, "fixed-rate"},
		{`{"mode":"search","interrupted":true,"pass":true,"sustainable_rps":10}`, "interrupted"},
		{`{"mode":"search","pass":false}`, "no passing rate"},
		{`{"mode":"search","pass":true,"sustainable_rps":10,"api":"other"}`, `api "other"`},
		{`{"mode":"search","pass":true,"sustainable_rps":10,"stage":"dev"}`, `stage "dev"`},
	} {
		_, err := DecodeLoadtest(strings.NewReader(tc.js), snapshot())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.js, err, tc.want)
		}
	}
}

func TestHTTPAPIRules(t *testing.T) {
	s := snapshot()
	s.Type, s.Policy = "HTTP", ""
	s.StageInfo = StageInfo{AccessLogArn: "arn:aws:logs:x", MethodSettings: map[string]MethodSetting{}}
	s.Methods = []Method{{Verb: "GET", Path: "/carts", ResourceID: "r1", AuthorizationType: "JWT"}}
	got := ruleIDs(Evaluate(s, Inputs{}, High))
	// No WAF possible, default throttle, no detailed metrics; no REST-only
	// rule (policy, X-Ray, keys).
	if got != "OPS002 stage prod; SEC002 stage prod; THR001 GET /carts" {
		t.Errorf("findings %q", got)
	}
}

func (f Fix) isSet() bool { return f.CLI != "" || f.Plan != "" || f.Text != "" }

// TestSARIFValidates renders every rule's finding as SARIF and validates it
// against the SARIF 2.1.0 JSON schema (testdata, from OASIS errata01).
func TestSARIFValidates(t *testing.T) {
	rep := &Report{API: "orders-api", APIID: "a1", Stage: "prod"}
	for _, ru := range Rules {
		rep.Findings = append(rep.Findings, Finding{Rule: ru.ID, Name: ru.Name, Severity: ru.Severity, Resource: "GET /orders",
			Message: ru.Title, Evidence: "e", Fix: Fix{CLI: "aws x", Plan: "p", Text: "t"}})
	}
	rep.finish(High)
	var buf bytes.Buffer
	if err := rep.SARIF(&buf, "1.2.3"); err != nil {
		t.Fatal(err)
	}
	if err := audittest.ValidateSARIF(t, buf.Bytes()); err != nil {
		t.Fatalf("SARIF does not validate: %v", err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID string `json:"ruleId"`
				Level  string `json:"level"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Tool.Driver.Rules) != len(Rules) || len(log.Runs[0].Results) != len(Rules) {
		t.Fatalf("sarif: version %s, %d runs", log.Version, len(log.Runs))
	}
	levels := map[string]string{}
	for _, r := range log.Runs[0].Results {
		levels[r.RuleID] = r.Level
	}
	if levels[RulePolicyOpen] != "error" || levels[RuleWAFMissing] != "warning" || levels[RuleTracingOff] != "note" {
		t.Errorf("levels %v", levels)
	}
	// The validator must be able to fail: a result with an unknown level.
	bad := strings.Replace(buf.String(), `"level": "error"`, `"level": "fatal"`, 1)
	if err := audittest.ValidateSARIF(t, []byte(bad)); err == nil {
		t.Error("a SARIF log with level \"fatal\" validated")
	}
}

// TestLedgerRestAPIPolicyEscaped: the sandbox returns the policy escaped,
// quotes and slashes, as AWS does; apictl reads that and plain JSON alike.
func TestLedgerRestAPIPolicyEscaped(t *testing.T) {
	ctx := context.Background()
	_, cl := sandboxtest.Start(t, sandbox.New(sandbox.Options{}))
	api := sandboxtest.NewRestAPI(t, cl.APIGateway, "p")
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`
	if _, err := cl.APIGateway.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: aws.String(api.ID), PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/policy"), Value: aws.String(policy)}}}); err != nil {
		t.Fatal(err)
	}
	got, err := cl.APIGateway.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String(api.ID)})
	if err != nil {
		t.Fatal(err)
	}
	raw := aws.ToString(got.Policy)
	if !strings.Contains(raw, `{\"Version\":`) || !strings.Contains(raw, `10.0.0.0\/8`) {
		t.Errorf("GetRestApi policy %s: want quotes and slashes escaped", raw)
	}
	for _, in := range []string{raw, policy} {
		dec, err := DecodePolicy(in)
		if err != nil || dec != policy {
			t.Errorf("DecodePolicy(%s) = %s, %v", in, dec, err)
		}
	}
}

// TestLedgerAPIKeyNotAuthorization: a key-protected method without
// authorization is still unauthorized.
func TestLedgerAPIKeyNotAuthorization(t *testing.T) {
	s := snapshot()
	s.Methods[0].AuthorizationType = "NONE" // apiKeyRequired stays true
	r := Evaluate(s, Inputs{}, High)
	if got := ruleIDs(r); got != "SEC005 GET /orders" || !strings.Contains(r.Findings[0].Evidence, "apiKeyRequired true") {
		t.Errorf("findings %q (%+v)", got, r.Findings)
	}
}

// TestLedgerUsagePlanNeedsAPIKeyRequired: a plan on the stage does not
// cover methods without apiKeyRequired.
func TestLedgerUsagePlanNeedsAPIKeyRequired(t *testing.T) {
	s := snapshot()
	s.UsagePlans = []UsagePlan{{ID: "p1", Name: "gold", HasQuota: true, KeyCount: 1}}
	if r := Evaluate(s, Inputs{}, Low); len(r.Findings) != 0 {
		t.Fatalf("every method requires a key: %s", ruleIDs(r))
	}
	s.Methods[1].APIKeyRequired = false
	r := Evaluate(s, Inputs{}, Low)
	if got := ruleIDs(r); got != "KEY001 usage plan gold" || !strings.Contains(r.Findings[0].Evidence, "apiKeyRequired false on POST /orders") {
		t.Errorf("findings %q", got)
	}
}

// TestLedgerDomainSecurityPolicyDefault: apictl reads the policy and
// treats an empty one as TLS 1.0; TLS_1_2 and enhanced policies pass.
func TestLedgerDomainSecurityPolicyDefault(t *testing.T) {
	for policy, want := range map[string]string{
		"":                                    "SEC007 domain api.example",
		"TLS_1_0":                             "SEC007 domain api.example",
		"TLS_1_2":                             "",
		"SecurityPolicy_TLS13_1_2_2021_06":    "",
		"SecurityPolicy_TLS13_1_2_PQ_2025_09": "",
	} {
		s := snapshot()
		s.Domains = []Domain{{Name: "api.example", SecurityPolicy: policy, TruststoreURI: "s3://b/ca.pem", EndpointType: "REGIONAL"}}
		if got := ruleIDs(Evaluate(s, Inputs{}, High)); got != want {
			t.Errorf("securityPolicy %q: findings %q, want %q", policy, got, want)
		}
	}
}
