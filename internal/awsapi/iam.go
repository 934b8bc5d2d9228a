package awsapi

// IAM policies for apictl's commands. API Gateway authorises its management
// API by HTTP method on the resource path ("apigateway:PATCH" on
// arn:aws:apigateway:REGION::/usageplans/ID); HTTP APIs (apigatewayv2) use
// the same actions with paths under /apis. CloudWatch authorises by
// operation ("cloudwatch:GetMetricData").

// PolicyDocument is an IAM policy document.
type PolicyDocument struct {
	Version   string            `json:"Version"`
	Statement []PolicyStatement `json:"Statement"`
}

// PolicyStatement is one statement of a PolicyDocument.
type PolicyStatement struct {
	Sid       string                       `json:"Sid"`
	Effect    string                       `json:"Effect"`
	Action    []string                     `json:"Action"`
	Resource  []string                     `json:"Resource"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

// PolicyCommands say which commands each policy covers.
var (
	ReadOnlyCommands = []string{"measure", "loadtest --api (discovery)", "apply-plan --dry-run", "audit", "plan export --import"}
	WriteCommands    = []string{"apply-plan"}
)

func apigwARN(path string) string { return "arn:aws:apigateway:*::" + path }

func apigwARNs(paths ...string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = apigwARN(p)
	}
	return out
}

// IAMPolicy returns the policy apictl's commands need: with readOnly only
// the reads of measure, loadtest's discovery and apply-plan --dry-run;
// otherwise apply-plan's writes too. With managedOnly the writes to usage
// plans and API keys are allowed only on resources tagged
// apictl:managed=true, and creating them only with that tag, the tag
// apictl puts on what it creates.
func IAMPolicy(readOnly, managedOnly bool) PolicyDocument {
	doc := PolicyDocument{Version: "2012-10-17", Statement: []PolicyStatement{
		{
			Sid:    "ApictlReadAPIGateway",
			Effect: "Allow",
			Action: []string{"apigateway:GET"},
			Resource: apigwARNs("/account", "/restapis", "/restapis/*", "/usageplans", "/usageplans/*", "/apikeys", "/apikeys/*", "/domainnames", "/domainnames/*",
				"/apis", "/apis/*"),
		},
		{
			Sid:      "ApictlReadCloudWatch",
			Effect:   "Allow",
			Action:   []string{"cloudwatch:GetMetricData", "cloudwatch:ListMetrics"},
			Resource: []string{"*"},
		},
	}}
	if readOnly {
		return doc
	}
	doc.Statement = append(doc.Statement,
		PolicyStatement{
			Sid:      "ApictlWriteStages",
			Effect:   "Allow",
			Action:   []string{"apigateway:PATCH", "apigateway:DELETE"},
			Resource: apigwARNs("/restapis/*/stages/*", "/apis/*/stages/*"),
		},
	)
	create := PolicyStatement{
		Sid:      "ApictlCreateUsagePlansAndKeys",
		Effect:   "Allow",
		Action:   []string{"apigateway:POST", "apigateway:PUT"},
		Resource: apigwARNs("/usageplans", "/apikeys", "/tags/*"),
	}
	change := PolicyStatement{
		Sid:      "ApictlChangeUsagePlansAndKeys",
		Effect:   "Allow",
		Action:   []string{"apigateway:PATCH", "apigateway:POST", "apigateway:DELETE"},
		Resource: apigwARNs("/usageplans/*", "/apikeys/*"),
	}
	if managedOnly {
		create.Condition = map[string]map[string]string{"StringEquals": {"aws:RequestTag/apictl:managed": "true"}}
		change.Condition = map[string]map[string]string{"StringEquals": {"aws:ResourceTag/apictl:managed": "true"}}
	}
	doc.Statement = append(doc.Statement, create, change)
	return doc
}
