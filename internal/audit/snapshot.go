package audit

// Snapshot is everything the rules read about one API stage, as AWS
// returned it. Collect fills it; tests may build one by hand.
type Snapshot struct {
	Type   string // "REST" or "HTTP"
	APIID  string
	Name   string
	Stage  string
	Region string
	// Policy is the resource policy document, unescaped ("" when none).
	Policy string
	// StageInfo is the audited stage.
	StageInfo StageInfo
	// OtherStages are the API's other stages (for the stage-variable rule).
	OtherStages []string
	Methods     []Method
	Authorizers []Authorizer
	// Account throttle (GetAccount): the default every method falls back to.
	AccountRate  float64
	AccountBurst int
	// UsagePlans attached to this API stage.
	UsagePlans []UsagePlan
	// Keys of the account and whether each is in any usage plan.
	Keys    []APIKey
	Domains []Domain
	// Skipped names what could not be read (access denied) and so was not
	// checked.
	Skipped []string
}

// StageInfo is what a stage carries.
type StageInfo struct {
	WebACLArn           string
	AccessLogArn        string
	TracingEnabled      bool
	ClientCertificateID string
	Variables           map[string]string
	// MethodSettings keyed "~1orders/GET" or "*/*" (REST); for HTTP APIs the
	// route key ("GET /orders") or "*/*" for the default route settings.
	MethodSettings map[string]MethodSetting
}

// MethodSetting is a stage's setting for one method (or all of them).
type MethodSetting struct {
	HasThrottle    bool
	Rate           float64
	Burst          int
	MetricsEnabled bool
}

// Method is one method (REST) or route (HTTP) with its integration.
type Method struct {
	Verb, Path        string
	ResourceID        string
	AuthorizationType string // NONE, AWS_IAM, CUSTOM, COGNITO_USER_POOLS, JWT
	AuthorizerID      string
	APIKeyRequired    bool
	Integration       *Integration
}

// Key is the method's name as loadtest, measure and plan files write it.
// An HTTP API's $default route has no path: its key is "$default".
func (m Method) Key() string {
	if m.Path == "" {
		return m.Verb
	}
	return m.Verb + " " + m.Path
}

// Integration is a method's backend.
type Integration struct {
	Type              string // HTTP, HTTP_PROXY, AWS, AWS_PROXY, MOCK
	URI               string
	RequestParameters map[string]string
}

// UsagePlan is a usage plan attached to the audited stage.
type UsagePlan struct {
	ID, Name string
	HasQuota bool
	KeyCount int
}

// APIKey is an API key (its value is never read).
type APIKey struct {
	ID, Name string
	InPlan   bool
}

// Domain is a custom domain name mapped to the audited API.
type Domain struct {
	Name           string
	SecurityPolicy string
	TruststoreURI  string
	EndpointType   string
	BasePath       string
}
