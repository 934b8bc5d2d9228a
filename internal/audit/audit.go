// Package audit checks an API Gateway API and stage against the three
// security layers (a WAF web ACL, a resource policy, authorization on every
// method), throttling and API keys, the capacity it was measured to have,
// operability and a few design rules, like a linter for CI.
//
// Collect reads everything the rules need from AWS into a Snapshot;
// Evaluate turns a Snapshot (plus optional load-test and measure results)
// into a Report of Findings. Every finding carries a stable rule id, its
// severity, the resource, the evidence read from AWS and the fix.
package audit

import (
	"fmt"
	"sort"
	"strings"
)

// Severity of a finding.
type Severity string

// Severities, lowest first.
const (
	Low    Severity = "low"
	Medium Severity = "medium"
	High   Severity = "high"
)

// Rank orders severities: low 1, medium 2, high 3 (0 for unknown).
func (s Severity) Rank() int {
	switch s {
	case Low:
		return 1
	case Medium:
		return 2
	case High:
		return 3
	}
	return 0
}

// ParseSeverity checks a --fail-on value.
func ParseSeverity(s string) (Severity, error) {
	switch v := Severity(strings.ToLower(s)); v {
	case Low, Medium, High:
		return v, nil
	}
	return "", fmt.Errorf("unknown severity %q (want low, medium or high)", s)
}

// Rule describes one check.
type Rule struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Category  string   `json:"category"`
	Severity  Severity `json:"severity"`
	Title     string   `json:"title"`
	Rationale string   `json:"-"`
	Source    string   `json:"-"`
	// Applies says which API types the rule checks: "REST", "HTTP" or both.
	Applies string `json:"-"`
}

// Categories.
const (
	CatSecurity    = "security layers"
	CatThrottling  = "throttling and keys"
	CatCapacity    = "capacity"
	CatOperability = "operability"
	CatDesign      = "design"
)

// Rule ids. They never change meaning; retired ids are not reused.
const (
	RuleWAFMissing          = "SEC001"
	RuleWAFUnsupported      = "SEC002"
	RulePolicyMissing       = "SEC003"
	RulePolicyOpen          = "SEC004"
	RuleMethodUnauthorized  = "SEC005"
	RuleAuthorizerMissing   = "SEC006"
	RuleDomainTLSLegacy     = "SEC007"
	RuleDomainMTLSOff       = "SEC008"
	RuleClientCertMissing   = "SEC009"
	RuleThrottleDefault     = "THR001"
	RuleThrottleAbove       = "THR002"
	RuleThrottleSharedSum   = "THR003"
	RulePlanKeysNotRequired = "KEY001"
	RuleKeyNoPlan           = "KEY002"
	RulePlanNoQuota         = "KEY003"
	RuleCapacityGap         = "CAP001"
	RuleAccessLogOff        = "OPS001"
	RuleMetricsOff          = "OPS002"
	RuleTracingOff          = "OPS003"
	RuleURIHardcoded        = "DES001"
	RulePathParamUnmapped   = "DES002"
)

// Rules is the catalogue, in report order. docs/audit.md explains each.
var Rules = []Rule{
	{RuleWAFMissing, "waf-missing", CatSecurity, Medium, "no WAF web ACL on the stage",
		"A WAF web ACL is the first of the three layers: it filters SQL injection, XSS, bad bots and floods per IP before they reach API Gateway or the backend.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-control-access-aws-waf.html", "REST"},
	{RuleWAFUnsupported, "waf-unsupported", CatSecurity, Medium, "HTTP APIs cannot take a WAF web ACL",
		"HTTP APIs cannot be associated with a WAF web ACL; protect them with CloudFront plus WAF in front, or use a REST API.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html", "HTTP"},
	{RulePolicyMissing, "resource-policy-missing", CatSecurity, Medium, "no resource policy on the API",
		"A resource policy is the second layer: it limits who may invoke the API at all (accounts, VPC endpoints, source IPs) before authorizers run.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-resource-policies.html", "REST"},
	{RulePolicyOpen, "resource-policy-open", CatSecurity, High, "resource policy allows everyone without conditions",
		"An Allow statement for Principal * without a Condition lets anyone invoke the API; it is no layer at all.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-resource-policies-examples.html", "REST"},
	{RuleMethodUnauthorized, "method-unauthorized", CatSecurity, High, "method has no authorization",
		"Authorization on every method (IAM, Cognito or a Lambda authorizer) is the third layer. An API key is not authorization: AWS says not to use keys for authentication or authorization.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html", "REST,HTTP"},
	{RuleAuthorizerMissing, "authorizer-missing", CatSecurity, Medium, "API has no authorizer and uses no IAM authorization",
		"Without a Cognito or Lambda authorizer and without IAM, no method can check who calls it.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-control-access-to-api.html", "REST"},
	{RuleDomainTLSLegacy, "domain-tls-legacy", CatSecurity, High, "custom domain accepts TLS 1.0",
		"The TLS_1_0 security policy accepts TLS 1.0 and 1.1 and weak ciphers; TLS_1_2 is the minimum to accept.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-custom-domain-tls-version.html", "REST"},
	{RuleDomainMTLSOff, "domain-mtls-off", CatSecurity, Low, "custom domain without mutual TLS",
		"Mutual TLS makes clients prove who they are with a certificate; it suits B2B and IoT clients (regional custom domains only).",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mutual-tls.html", "REST"},
	{RuleClientCertMissing, "backend-client-cert-missing", CatSecurity, Medium, "HTTP backends cannot tell API Gateway's calls from others",
		"With a client certificate on the stage, an HTTP backend can verify that a request came from API Gateway.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/getting-started-client-side-ssl-authentication.html", "REST"},
	{RuleThrottleDefault, "throttle-account-default", CatThrottling, Medium, "method throttled only by the account default",
		"Without a stage or method throttle a method can take the whole account throttle (10,000 rps, burst 5,000 per region, shared by every API): one hot method starves the rest and the backend sees whatever arrives.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html", "REST,HTTP"},
	{RuleThrottleAbove, "throttle-above-capacity", CatThrottling, High, "method throttle above what its backend sustains",
		"A throttle above the measured sustainable rate lets the backend be overloaded before API Gateway answers 429.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html", "REST,HTTP"},
	{RuleThrottleSharedSum, "throttle-shared-sum-above-capacity", CatThrottling, High, "throttles of methods sharing a backend add up above its capacity",
		"Stage throttles apply to each method separately; when methods share a backend, their sum is what the backend may receive.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html", "REST,HTTP"},
	{RulePlanKeysNotRequired, "usage-plan-keys-not-required", CatThrottling, Medium, "usage plan covers methods that do not require an API key",
		"A usage plan's throttle and quota apply only to requests that carry a key, so on methods without apiKeyRequired the plan does not apply.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html", "REST"},
	{RuleKeyNoPlan, "api-key-no-plan", CatThrottling, Low, "API key in no usage plan",
		"A key in no usage plan is accepted by no stage: it is dead weight or a client that was never onboarded.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html", "REST"},
	{RulePlanNoQuota, "usage-plan-no-quota", CatThrottling, Low, "usage plan without a quota",
		"Where keys identify external clients, a quota bounds what one client can take per day, week or month.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-create-usage-plans.html", "REST"},
	{RuleCapacityGap, "capacity-gap-decouple", CatCapacity, High, "measured peak above what the backend sustains",
		"When real peaks exceed what the backend sustains, choose: throttle (clients get 429s at the peak) or decouple (accept writes into SQS through an API Gateway service integration and let the backend drain at its own pace).",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/integrating-api-with-aws-services-sqs.html", "REST,HTTP"},
	{RuleAccessLogOff, "access-logging-off", CatOperability, Medium, "access logging off",
		"Access logs record who called what, with the status and latency: without them incidents and abuse cannot be traced.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html", "REST,HTTP"},
	{RuleMetricsOff, "detailed-metrics-off", CatOperability, Medium, "detailed metrics off",
		"Per-method CloudWatch metrics are off by default; apictl measure --by method and per-method throttles need them.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html", "REST,HTTP"},
	{RuleTracingOff, "xray-tracing-off", CatOperability, Low, "X-Ray tracing off",
		"X-Ray traces show where latency goes between API Gateway and the backend.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-xray.html", "REST"},
	{RuleURIHardcoded, "integration-uri-hardcoded", CatDesign, Low, "integration URI hard-coded while several stages exist",
		"Every stage of a REST API runs the same integrations; a literal backend host makes dev and prod call the same backend. ${stageVariables.name} in the URI lets each stage point at its own.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/stage-variables.html", "REST"},
	{RulePathParamUnmapped, "path-param-unmapped", CatDesign, Medium, "path parameter not mapped into the integration",
		"An HTTP integration gets a path parameter only when integration.request.path.NAME is mapped from method.request.path.NAME; otherwise the backend sees a literal {NAME} or nothing.",
		"https://docs.aws.amazon.com/apigateway/latest/developerguide/request-response-data-mappings.html", "REST"},
}

// RuleByID returns the rule with that id.
func RuleByID(id string) (Rule, bool) {
	for _, r := range Rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// Fix says how to remove a finding: an AWS CLI command, and/or the plan-file
// change apictl would make (apply it with apictl apply-plan).
type Fix struct {
	CLI  string `json:"cli,omitempty"`
	Plan string `json:"plan,omitempty"`
	Text string `json:"text,omitempty"`
}

// Finding is one rule broken by one resource.
type Finding struct {
	Rule     string   `json:"rule"`
	Name     string   `json:"name"`
	Category string   `json:"category"`
	Severity Severity `json:"severity"`
	// Resource is the API, stage, method ("GET /orders"), usage plan, key,
	// domain name, … the finding is about.
	Resource string `json:"resource"`
	Message  string `json:"message"`
	// Evidence is what was read from AWS (or the load-test and measure files).
	Evidence string `json:"evidence"`
	Fix      Fix    `json:"fix"`
}

// Authorizer is a summary of one authorizer of the API.
type Authorizer struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// Counts of findings by severity.
type Counts struct {
	High   int `json:"high"`
	Medium int `json:"medium"`
	Low    int `json:"low"`
}

// Report is the result of an audit (the JSON output).
type Report struct {
	API         string       `json:"api"`
	APIID       string       `json:"api_id"`
	APIType     string       `json:"api_type"`
	Stage       string       `json:"stage"`
	Region      string       `json:"region"`
	Authorizers []Authorizer `json:"authorizers"`
	Loadtest    string       `json:"loadtest,omitempty"`
	Measure     string       `json:"measure,omitempty"`
	FailOn      Severity     `json:"fail_on"`
	Failed      bool         `json:"failed"`
	Counts      Counts       `json:"counts"`
	Findings    []Finding    `json:"findings"`
	Notes       []string     `json:"notes"`
}

// AtOrAbove counts the findings at or above s.
func (r *Report) AtOrAbove(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity.Rank() >= s.Rank() {
			n++
		}
	}
	return n
}

// finish sorts the findings (severity, rule, resource) and fills the counts.
func (r *Report) finish(failOn Severity) {
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Resource < b.Resource
	})
	r.Counts = Counts{}
	for _, f := range r.Findings {
		switch f.Severity {
		case High:
			r.Counts.High++
		case Medium:
			r.Counts.Medium++
		case Low:
			r.Counts.Low++
		}
	}
	r.FailOn = failOn
	r.Failed = r.AtOrAbove(failOn) > 0
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if r.Notes == nil {
		r.Notes = []string{}
	}
	if r.Authorizers == nil {
		r.Authorizers = []Authorizer{}
	}
}
