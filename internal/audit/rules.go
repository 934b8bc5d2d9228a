package audit

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/apictl/apictl/internal/report"
)

// Inputs are the optional files the capacity rules read.
type Inputs struct {
	Loadtest     *Loadtest
	LoadtestFile string
	Measure      *Measure
	MeasureFile  string
}

// Evaluate applies every rule to the snapshot.
func Evaluate(snap *Snapshot, in Inputs, failOn Severity) *Report {
	r := &Report{API: snap.Name, APIID: snap.APIID, APIType: snap.Type, Stage: snap.Stage, Region: snap.Region,
		Authorizers: snap.Authorizers, Loadtest: in.LoadtestFile, Measure: in.MeasureFile}
	for _, sk := range snap.Skipped {
		r.Notes = append(r.Notes, "could not read "+sk)
	}
	e := &evaluator{snap: snap, in: in, r: r}
	e.security()
	e.throttling()
	e.capacity()
	e.operability()
	e.design()
	r.finish(failOn)
	return r
}

type evaluator struct {
	snap *Snapshot
	in   Inputs
	r    *Report
}

func (e *evaluator) add(rule, resource, message, evidence string, fix Fix) {
	ru, _ := RuleByID(rule)
	e.r.Findings = append(e.r.Findings, Finding{Rule: rule, Name: ru.Name, Category: ru.Category, Severity: ru.Severity,
		Resource: resource, Message: message, Evidence: evidence, Fix: fix})
}

func (e *evaluator) rest() bool { return e.snap.Type == "REST" }

func (e *evaluator) stageRes() string { return "stage " + e.snap.Stage }
func (e *evaluator) apiRes() string   { return "api " + e.snap.Name }

// cli prefixes an apigateway (or apigatewayv2) command with the API id.
func (e *evaluator) cli(cmd string, args ...string) string {
	svc, idFlag := "apigateway", "--rest-api-id"
	if !e.rest() {
		svc, idFlag = "apigatewayv2", "--api-id"
	}
	return strings.Join(append([]string{"aws", svc, cmd, idFlag, e.snap.APIID}, args...), " ")
}

func (e *evaluator) redeploy() string {
	return " && " + e.cli("create-deployment", "--stage-name", e.snap.Stage)
}

func (e *evaluator) stageArn() string {
	return fmt.Sprintf("arn:aws:apigateway:%s::/restapis/%s/stages/%s", e.snap.Region, e.snap.APIID, e.snap.Stage)
}

// audited says whether a method is checked by the per-method rules: CORS
// preflight OPTIONS methods are left out (they must answer unauthenticated).
func audited(m Method) bool { return m.Verb != "OPTIONS" }

// ---- security layers ----

func (e *evaluator) security() {
	s := e.snap
	if e.rest() {
		if s.StageInfo.WebACLArn == "" {
			e.add(RuleWAFMissing, e.stageRes(), "no WAF web ACL is associated with the stage",
				"GetStage "+s.Stage+": webAclArn absent",
				Fix{CLI: "aws wafv2 associate-web-acl --web-acl-arn <regional web ACL ARN> --resource-arn " + e.stageArn()})
		}
		e.policy()
	} else {
		e.add(RuleWAFUnsupported, e.stageRes(), "HTTP APIs cannot be associated with a WAF web ACL",
			"api type HTTP (apigatewayv2): wafv2 AssociateWebACL accepts only REST API stages",
			Fix{Text: "put a CloudFront distribution with a WAF web ACL in front of the API (and block direct calls), or move the API to a REST API and associate a web ACL with the stage"})
	}
	iamUsed := false
	for _, m := range s.Methods {
		if m.AuthorizationType == "AWS_IAM" {
			iamUsed = true
		}
		if !audited(m) || (m.AuthorizationType != "NONE" && m.AuthorizationType != "") {
			continue
		}
		ev := "authorizationType NONE"
		if m.APIKeyRequired {
			ev += ", apiKeyRequired true (an API key identifies a client, it does not authorize it)"
		}
		fix := Fix{CLI: e.cli("update-method", "--resource-id", m.ResourceID, "--http-method", m.Verb,
			"--patch-operations", "op=replace,path=/authorizationType,value=AWS_IAM") + e.redeploy(),
			Text: "or authorizationType CUSTOM / COGNITO_USER_POOLS with /authorizerId"}
		if !e.rest() {
			fix = Fix{CLI: e.cli("update-route", "--route-id", m.ResourceID, "--authorization-type", "JWT", "--authorizer-id", "<authorizer id>"),
				Text: "or --authorization-type AWS_IAM / CUSTOM"}
		}
		e.add(RuleMethodUnauthorized, m.Key(), "anyone who can reach the method can call it", ev, fix)
	}
	if e.rest() {
		if len(s.Authorizers) == 0 && !iamUsed {
			e.add(RuleAuthorizerMissing, e.apiRes(), "the API has no authorizer and no method uses IAM authorization",
				"GetAuthorizers: none; no method with authorizationType AWS_IAM",
				Fix{CLI: e.cli("create-authorizer", "--name", "cognito", "--type", "COGNITO_USER_POOLS",
					"--provider-arns", "<user pool ARN>", "--identity-source", "method.request.header.Authorization"),
					Text: "or --type TOKEN/REQUEST with --authorizer-uri of a Lambda function; then set it on each method"})
		}
		e.domains()
		e.clientCert()
	}
}

// policyStatement is one statement of a resource policy.
type policyStatement struct {
	Sid       string          `json:"Sid"`
	Effect    string          `json:"Effect"`
	Principal json.RawMessage `json:"Principal"`
	Condition json.RawMessage `json:"Condition"`
}

func principalIsEveryone(p json.RawMessage) bool {
	var s string
	if json.Unmarshal(p, &s) == nil {
		return s == "*"
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(p, &m) != nil {
		return false
	}
	for _, v := range m {
		var one string
		if json.Unmarshal(v, &one) == nil && one == "*" {
			return true
		}
		var many []string
		if json.Unmarshal(v, &many) == nil {
			for _, x := range many {
				if x == "*" {
					return true
				}
			}
		}
	}
	return false
}

func (e *evaluator) policy() {
	s := e.snap
	fixCLI := e.cli("update-rest-api", "--patch-operations",
		`'op=replace,path=/policy,value=<policy JSON allowing execute-api:Invoke only with a Condition, e.g. aws:SourceVpce or aws:SourceIp>'`) + e.redeploy()
	if s.Policy == "" {
		e.add(RulePolicyMissing, e.apiRes(), "the API has no resource policy", "GetRestApi: policy absent", Fix{CLI: fixCLI})
		return
	}
	var doc struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(s.Policy), &doc); err != nil {
		return
	}
	var stmts []policyStatement
	if json.Unmarshal(doc.Statement, &stmts) != nil {
		var one policyStatement
		if json.Unmarshal(doc.Statement, &one) != nil {
			return
		}
		stmts = []policyStatement{one}
	}
	for i, st := range stmts {
		cond := strings.TrimSpace(string(st.Condition))
		if st.Effect == "Allow" && principalIsEveryone(st.Principal) && (cond == "" || cond == "{}" || cond == "null") {
			name := st.Sid
			if name == "" {
				name = fmt.Sprintf("#%d", i+1)
			}
			e.add(RulePolicyOpen, e.apiRes(), "the resource policy lets anyone invoke the API",
				fmt.Sprintf("GetRestApi policy statement %s: Effect Allow, Principal *, no Condition", name), Fix{CLI: fixCLI})
		}
	}
}

func (e *evaluator) domains() {
	for _, d := range e.snap.Domains {
		res := "domain " + d.Name
		if d.SecurityPolicy == "TLS_1_0" || d.SecurityPolicy == "" {
			e.add(RuleDomainTLSLegacy, res, "the custom domain accepts TLS 1.0 and 1.1",
				fmt.Sprintf("GetDomainName %s: securityPolicy %s", d.Name, orNone(d.SecurityPolicy)),
				Fix{CLI: "aws apigateway update-domain-name --domain-name " + d.Name + " --patch-operations op=replace,path=/securityPolicy,value=TLS_1_2"})
		}
		if d.TruststoreURI == "" {
			fix := Fix{CLI: "aws apigateway update-domain-name --domain-name " + d.Name +
				" --patch-operations op=replace,path=/mutualTlsAuthentication/truststoreUri,value=s3://<bucket>/truststore.pem"}
			if d.EndpointType != "REGIONAL" {
				fix.Text = "mutual TLS needs a REGIONAL custom domain: create one, then move the base path mapping"
			}
			e.add(RuleDomainMTLSOff, res, "clients are not asked for a certificate",
				fmt.Sprintf("GetDomainName %s: mutualTlsAuthentication absent (endpoint %s)", d.Name, orNone(d.EndpointType)), fix)
		}
	}
}

func (e *evaluator) clientCert() {
	var httpMethods []string
	for _, m := range e.snap.Methods {
		if m.Integration != nil && (m.Integration.Type == "HTTP" || m.Integration.Type == "HTTP_PROXY") {
			httpMethods = append(httpMethods, m.Key())
		}
	}
	if len(httpMethods) == 0 || e.snap.StageInfo.ClientCertificateID != "" {
		return
	}
	e.add(RuleClientCertMissing, e.stageRes(), "HTTP backends cannot verify that requests come from API Gateway",
		"GetStage "+e.snap.Stage+": clientCertificateId absent; HTTP integrations: "+strings.Join(httpMethods, ", "),
		Fix{CLI: "aws apigateway generate-client-certificate --description " + e.snap.Name + "-" + e.snap.Stage + " && " +
			e.cli("update-stage", "--stage-name", e.snap.Stage, "--patch-operations", "op=replace,path=/clientCertificateId,value=<clientCertificateId>")})
}

// ---- throttling and keys ----

// effective returns a method's effective throttle and where it comes from.
func (e *evaluator) effective(m Method) (rate float64, burst int, source string) {
	ms := e.snap.StageInfo.MethodSettings
	key := escapePath(m.Path) + "/" + m.Verb
	if !e.rest() {
		key = m.Key()
	}
	if s, ok := ms[key]; ok && s.HasThrottle {
		return s.Rate, s.Burst, "stage " + e.snap.Stage + " " + m.Key()
	}
	if s, ok := ms["*/*"]; ok && s.HasThrottle {
		return s.Rate, s.Burst, "stage " + e.snap.Stage + " */*"
	}
	return e.snap.AccountRate, e.snap.AccountBurst, "account default"
}

func escapePath(p string) string {
	return strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1")
}

func (e *evaluator) throttleFix(m Method, rate float64, burst int) Fix {
	path := escapePath(m.Path) + "/" + m.Verb
	f := Fix{Plan: fmt.Sprintf(`stage.methods["%s"].throttle: {rate: %s, burst: %d}`, m.Key(), report.Num(rate, 2), burst)}
	if e.rest() {
		f.CLI = e.cli("update-stage", "--stage-name", e.snap.Stage, "--patch-operations",
			fmt.Sprintf("op=replace,path=/%s/throttling/rateLimit,value=%s", path, report.Num(rate, 2)),
			fmt.Sprintf("op=replace,path=/%s/throttling/burstLimit,value=%d", path, burst))
	} else {
		f.CLI = e.cli("update-stage", "--stage-name", e.snap.Stage, "--route-settings",
			fmt.Sprintf(`'{"%s":{"ThrottlingRateLimit":%s,"ThrottlingBurstLimit":%d}}'`, m.Key(), report.Num(rate, 2), burst))
	}
	return f
}

func (e *evaluator) throttling() {
	s := e.snap
	for _, m := range s.Methods {
		if !audited(m) {
			continue
		}
		rate, burst, src := e.effective(m)
		if rate >= s.AccountRate {
			f := e.throttleFix(m, 0, 0)
			f.Plan = fmt.Sprintf(`stage.methods["%s"].throttle: {rate: <sustainable × 0.8>, burst: <rate>}`, m.Key())
			f.CLI = ""
			f.Text = "find the rate with apictl loadtest --find-max, then apictl plan generate and apictl apply-plan"
			e.add(RuleThrottleDefault, m.Key(), "the method is throttled only by the account-wide default",
				fmt.Sprintf("effective throttle %s rps / burst %d from %s (account %s rps / %d)", report.Num(rate, 2), burst, src, report.Num(s.AccountRate, 2), s.AccountBurst), f)
		}
	}
	e.loadtestThrottles()
	if !e.rest() {
		return
	}
	var noKey []string
	for _, m := range s.Methods {
		if audited(m) && !m.APIKeyRequired {
			noKey = append(noKey, m.Key())
		}
	}
	for _, p := range s.UsagePlans {
		res := "usage plan " + p.Name
		if len(noKey) > 0 {
			var ops []string
			for _, m := range s.Methods {
				if audited(m) && !m.APIKeyRequired {
					ops = append(ops, e.cli("update-method", "--resource-id", m.ResourceID, "--http-method", m.Verb,
						"--patch-operations", "op=replace,path=/apiKeyRequired,value=true"))
				}
			}
			e.add(RulePlanKeysNotRequired, res, "the plan's throttle and quota do not apply to methods that need no API key",
				fmt.Sprintf("usage plan %s (%s) is attached to stage %s; apiKeyRequired false on %s", p.Name, p.ID, s.Stage, strings.Join(noKey, ", ")),
				Fix{CLI: strings.Join(ops, " && ") + e.redeploy()})
		}
		if !p.HasQuota {
			e.add(RulePlanNoQuota, res, "a client with a key of this plan has no request quota",
				fmt.Sprintf("GetUsagePlan %s: quota absent; %d key(s)", p.ID, p.KeyCount),
				Fix{Plan: fmt.Sprintf(`usagePlans[name=%s].quota: {limit: <requests>, period: MONTH}`, p.Name),
					CLI: "aws apigateway update-usage-plan --usage-plan-id " + p.ID +
						" --patch-operations op=replace,path=/quota/limit,value=<requests> op=replace,path=/quota/period,value=MONTH"})
		}
	}
	for _, k := range s.Keys {
		if k.InPlan {
			continue
		}
		e.add(RuleKeyNoPlan, "api key "+k.Name, "the key is in no usage plan, so no stage accepts it",
			fmt.Sprintf("GetUsagePlanKeys: key %s (%s) in none of the account's usage plans", k.Name, k.ID),
			Fix{CLI: "aws apigateway create-usage-plan-key --usage-plan-id <plan id> --key-id " + k.ID + " --key-type API_KEY",
				Plan: fmt.Sprintf(`usagePlans[name=<plan>].keys: [..., %s]`, k.Name),
				Text: "or delete the key: aws apigateway delete-api-key --api-key " + k.ID})
	}
}

func (e *evaluator) loadtestThrottles() {
	lt := e.in.Loadtest
	if lt == nil {
		return
	}
	if len(lt.Methods) == 0 {
		e.r.Notes = append(e.r.Notes, fmt.Sprintf("the load test has no per-method results (sustainable %s rps for its target): "+
			"run apictl loadtest --api %s --stage %s --find-max --per-method (or --mix) to check the method throttles", report.Num(lt.SustainableRPS, 2), e.snap.Name, e.snap.Stage))
		return
	}
	byKey := map[string]Method{}
	for _, m := range e.snap.Methods {
		byKey[m.Key()] = m
	}
	var sum float64
	var sharing []string
	for i, ltm := range lt.Methods {
		key := lt.methodKey(i)
		m, ok := byKey[key]
		if !ok {
			e.r.Notes = append(e.r.Notes, fmt.Sprintf("load-tested method %s is not a method of the API", key))
			continue
		}
		rate, _, src := e.effective(m)
		sum += rate
		sharing = append(sharing, fmt.Sprintf("%s %s", key, report.Num(rate, 2)))
		if ltm.LimitedBy == "gateway-throttle" {
			e.r.Notes = append(e.r.Notes, fmt.Sprintf("%s: the load test was limited by a gateway throttle; %s rps is a lower bound of what the backend takes, not checked", key, report.Num(ltm.SustainableRPS, 2)))
			continue
		}
		if ltm.SustainableRPS <= 0 || rate <= ltm.SustainableRPS {
			continue
		}
		target := math.Floor(ltm.SustainableRPS*0.8*100) / 100
		f := e.throttleFix(m, target, int(math.Max(1, math.Ceil(target))))
		f.Text = "or regenerate the plan: apictl plan generate --loadtest " + orNone(e.in.LoadtestFile) + " --api " + e.snap.Name + " --stage " + e.snap.Stage
		e.add(RuleThrottleAbove, key, "the method's throttle lets through more than its backend sustains",
			fmt.Sprintf("effective throttle %s rps (%s) > sustainable %s rps measured by the load test", report.Num(rate, 2), src, report.Num(ltm.SustainableRPS, 2)), f)
	}
	if lt.SharedBackend && lt.LimitedBy != "gateway-throttle" && len(sharing) > 1 && sum > lt.SustainableRPS {
		e.add(RuleThrottleSharedSum, e.stageRes(), "the methods share a backend and their throttles add up above what it sustains",
			fmt.Sprintf("shared_backend true; sum of effective throttles %s rps (%s) > sustainable %s rps together",
				report.Num(sum, 2), strings.Join(sharing, " + "), report.Num(lt.SustainableRPS, 2)),
			Fix{Plan: fmt.Sprintf("stage.methods[*].throttle.rate: sum ≤ %s × headroom (apictl plan generate splits it by the traffic mix)", report.Num(lt.SustainableRPS, 2)),
				Text: "apictl plan generate --loadtest " + orNone(e.in.LoadtestFile) + " --measure <m.json> --api " + e.snap.Name + " --stage " + e.snap.Stage})
	}
}

// ---- capacity gap ----

func isSQS(in *Integration) bool {
	return in != nil && in.Type == "AWS" && strings.Contains(in.URI, ":sqs:")
}

func (e *evaluator) capacity() {
	lt, ms := e.in.Loadtest, e.in.Measure
	if lt == nil || ms == nil {
		return
	}
	byKey := map[string]Method{}
	for _, m := range e.snap.Methods {
		byKey[m.Key()] = m
	}
	for i, ltm := range lt.Methods {
		key := lt.methodKey(i)
		m, ok := byKey[key]
		if !ok || ltm.SustainableRPS <= 0 || ltm.LimitedBy == "gateway-throttle" {
			continue
		}
		avg, peak, ok := ms.peak(key)
		if !ok || peak <= ltm.SustainableRPS {
			continue
		}
		rate, _, _ := e.effective(m)
		if isSQS(m.Integration) || rate <= ltm.SustainableRPS {
			continue // decoupled already, or the throttle choice is made
		}
		sus := ltm.SustainableRPS
		excess := peak - sus
		rejected := excess / peak * 100
		drain := "it drains at " + report.Num(sus-avg, 2) + " msg/s when traffic is at its average " + report.Num(avg, 2) + " rps"
		if avg >= sus {
			drain = "but the average " + report.Num(avg, 2) + " rps is at or above " + report.Num(sus, 2) + " rps: the queue would never drain, the backend must scale"
		}
		e.add(RuleCapacityGap, key, "real traffic peaks above what the backend sustains: throttle or decouple",
			fmt.Sprintf("measured peak %s rps (average %s) > sustainable %s rps; effective throttle %s rps", report.Num(peak, 2), report.Num(avg, 2), report.Num(sus, 2), report.Num(rate, 2)),
			Fix{Text: fmt.Sprintf("throttle: set the method to ≤ %s rps, so about %.0f%% of requests get 429 at the peak; "+
				"decouple: integrate the method with SQS (type AWS, uri arn:aws:apigateway:%s:sqs:path/<account>/<queue>, Action=SendMessage) "+
				"and let a consumer drain at %s rps: the queue grows by %s msg/s during the peak and %s",
				report.Num(sus, 2), rejected, e.snap.Region, report.Num(sus, 2), report.Num(excess, 2), drain),
				Plan: fmt.Sprintf(`stage.methods["%s"].throttle.rate: %s (if you choose to throttle)`, key, report.Num(math.Floor(sus*0.8*100)/100, 2))})
	}
}

// ---- operability ----

func (e *evaluator) operability() {
	s := e.snap
	if s.StageInfo.AccessLogArn == "" {
		fix := Fix{CLI: e.cli("update-stage", "--stage-name", s.Stage, "--patch-operations",
			fmt.Sprintf("op=replace,path=/accessLogSettings/destinationArn,value=arn:aws:logs:%s:<account>:log-group:/apigateway/%s", s.Region, s.Name),
			`'op=replace,path=/accessLogSettings/format,value={"requestId":"$context.requestId","ip":"$context.identity.sourceIp","status":"$context.status"}'`)}
		if !e.rest() {
			fix.CLI = e.cli("update-stage", "--stage-name", s.Stage, "--access-log-settings",
				fmt.Sprintf("DestinationArn=arn:aws:logs:%s:<account>:log-group:/apigateway/%s,Format='$context.requestId'", s.Region, s.Name))
		}
		e.add(RuleAccessLogOff, e.stageRes(), "requests to the stage are not logged",
			"GetStage "+s.Stage+": accessLogSettings absent", fix)
	}
	all := s.StageInfo.MethodSettings["*/*"].MetricsEnabled
	if !all {
		var off []string
		for _, m := range s.Methods {
			key := escapePath(m.Path) + "/" + m.Verb
			if !e.rest() {
				key = m.Key()
			}
			if audited(m) && !s.StageInfo.MethodSettings[key].MetricsEnabled {
				off = append(off, m.Key())
			}
		}
		if len(off) > 0 {
			fix := Fix{Plan: "stage.detailedMetrics: true",
				CLI: e.cli("update-stage", "--stage-name", s.Stage, "--patch-operations", "op=replace,path=/*/*/metrics/enabled,value=true")}
			if !e.rest() {
				fix.CLI = e.cli("update-stage", "--stage-name", s.Stage, "--default-route-settings", "DetailedMetricsEnabled=true")
			}
			e.add(RuleMetricsOff, e.stageRes(), "per-method metrics are off: apictl measure --by method cannot see the traffic mix",
				"GetStage "+s.Stage+": metricsEnabled false for */* and for "+strings.Join(off, ", "), fix)
		}
	}
	if e.rest() && !s.StageInfo.TracingEnabled {
		e.add(RuleTracingOff, e.stageRes(), "X-Ray tracing is off", "GetStage "+s.Stage+": tracingEnabled false",
			Fix{CLI: e.cli("update-stage", "--stage-name", s.Stage, "--patch-operations", "op=replace,path=/tracingEnabled,value=true")})
	}
}

// ---- design ----

func (e *evaluator) design() {
	if !e.rest() {
		return
	}
	s := e.snap
	if len(s.OtherStages) > 0 {
		hosts := map[string][]string{}
		for _, m := range s.Methods {
			in := m.Integration
			if in == nil || (in.Type != "HTTP" && in.Type != "HTTP_PROXY") || strings.Contains(in.URI, "${stageVariables.") {
				continue
			}
			hosts[uriHost(in.URI)] = append(hosts[uriHost(in.URI)], m.Key())
		}
		names := make([]string, 0, len(hosts))
		for h := range hosts {
			names = append(names, h)
		}
		sort.Strings(names)
		stages := strings.Join(append([]string{s.Stage}, s.OtherStages...), ", ")
		for _, h := range names {
			e.add(RuleURIHardcoded, "backend "+h, "every stage calls the same backend host",
				fmt.Sprintf("integration URIs of %s name host %s literally; stages %s all deploy them", strings.Join(hosts[h], ", "), h, stages),
				Fix{CLI: e.cli("update-integration", "--resource-id", "<id>", "--http-method", "<VERB>", "--patch-operations",
					"'op=replace,path=/uri,value=https://${stageVariables.backendHost}/...'") + " && " +
					e.cli("update-stage", "--stage-name", s.Stage, "--patch-operations", "op=replace,path=/variables/backendHost,value="+h),
					Text: "set backendHost on every stage to its own backend"})
		}
	}
	for _, m := range s.Methods {
		in := m.Integration
		if in == nil || (in.Type != "HTTP" && in.Type != "HTTP_PROXY") {
			continue
		}
		for _, p := range pathParams(m.Path) {
			if _, ok := in.RequestParameters["integration.request.path."+p]; ok {
				continue
			}
			ev := fmt.Sprintf("resource %s has {%s}; integration requestParameters lack integration.request.path.%s", m.Path, p, p)
			if strings.Contains(in.URI, "{"+p+"}") {
				ev += "; uri " + in.URI + " sends a literal {" + p + "}"
			}
			e.add(RulePathParamUnmapped, m.Key(), "the backend does not receive the path parameter "+p, ev,
				Fix{CLI: e.cli("update-integration", "--resource-id", m.ResourceID, "--http-method", m.Verb, "--patch-operations",
					fmt.Sprintf("op=add,path=/requestParameters/integration.request.path.%s,value=method.request.path.%s", p, p)) + e.redeploy()})
		}
	}
}

// pathParams lists the {name} parts of a resource path, without greedy
// {proxy+} ones (HTTP_PROXY passes those on by itself).
func pathParams(path string) []string {
	var out []string
	for _, part := range strings.Split(path, "/") {
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") && !strings.HasSuffix(part, "+}") {
			out = append(out, part[1:len(part)-1])
		}
	}
	return out
}

func uriHost(uri string) string {
	rest := uri
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
