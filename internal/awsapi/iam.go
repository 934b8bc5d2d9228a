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

// PolicyOptions choose what IAMPolicy covers.
type PolicyOptions struct {
	// ReadOnly: only the reads of measure, loadtest's discovery and
	// apply-plan --dry-run.
	ReadOnly bool
	// ManagedOnly: writes to usage plans and API keys only on resources
	// tagged apictl:managed=true, and creating them only with that tag.
	ManagedOnly bool
	// ResultsBucket and ResultsPrefix, when the bucket is set: loadtest
	// --results s3://BUCKET/PREFIX writes there and loadtest merge reads
	// there (also with ReadOnly: results are apictl's own files, not the
	// API's configuration).
	ResultsBucket, ResultsPrefix string
}

// IAMPolicy returns the policy apictl's commands need: with ReadOnly only
// the reads of measure, loadtest's discovery and apply-plan --dry-run;
// otherwise apply-plan's writes too. With ManagedOnly the writes to usage
// plans and API keys are allowed only on resources tagged
// apictl:managed=true, and creating them only with that tag, the tag
// apictl puts on what it creates.
func IAMPolicy(o PolicyOptions) PolicyDocument {
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
	if o.ResultsBucket != "" {
		doc.Statement = append(doc.Statement, s3ResultsStatements(o.ResultsBucket, o.ResultsPrefix)...)
	}
	if o.ReadOnly {
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
	if o.ManagedOnly {
		create.Condition = map[string]map[string]string{"StringEquals": {"aws:RequestTag/apictl:managed": "true"}}
		change.Condition = map[string]map[string]string{"StringEquals": {"aws:ResourceTag/apictl:managed": "true"}}
	}
	doc.Statement = append(doc.Statement, create, change)
	return doc
}

// s3ResultsStatements allow loadtest --results s3://bucket/prefix/ and
// loadtest merge over it. S3 authorises HeadBucket and ListObjectsV2 by
// s3:ListBucket on the bucket (not narrowed by s3:prefix: HeadBucket
// carries none); CreateMultipartUpload, UploadPart and
// CompleteMultipartUpload by s3:PutObject, AbortMultipartUpload by its own
// action, on the objects.
func s3ResultsStatements(bucket, prefix string) []PolicyStatement {
	return []PolicyStatement{
		{
			Sid:      "ApictlListResultsBucket",
			Effect:   "Allow",
			Action:   []string{"s3:ListBucket"},
			Resource: []string{"arn:aws:s3:::" + bucket},
		},
		{
			Sid:      "ApictlReadWriteResults",
			Effect:   "Allow",
			Action:   []string{"s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"},
			Resource: []string{"arn:aws:s3:::" + bucket + "/" + prefix + "*"},
		},
	}
}
