package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/awsfacts"
	"github.com/apictl/apictl/internal/deployed"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// RestAPIClient is the part of the API Gateway client that discovery uses.
type RestAPIClient interface {
	GetRestApis(ctx context.Context, in *apigateway.GetRestApisInput, optFns ...func(*apigateway.Options)) (*apigateway.GetRestApisOutput, error)
	GetResources(ctx context.Context, in *apigateway.GetResourcesInput, optFns ...func(*apigateway.Options)) (*apigateway.GetResourcesOutput, error)
}

// DiscoverOptions say which API to discover and how to build its targets.
type DiscoverOptions struct {
	// API is the REST API's name or id.
	API string
	// Stage is the stage to invoke.
	Stage string
	// InvokeURL returns the base URL of the stage (no trailing slash), given the API id.
	InvokeURL func(apiID string) string
	// PathParams fill path parameters: {userId} from "userId"; a greedy
	// {proxy+} from "proxy".
	PathParams map[string]string
	// Methods, when set, keeps only these methods (e.g. GET).
	Methods []string
	// Header and Body are given to every target (Body only to POST, PUT and PATCH).
	Header http.Header
	Body   []byte
	// BodyFile names Body (its extension gives the Content-Type).
	BodyFile string
	// Bodies are per-method bodies (--body 'POST /orders=order.json').
	Bodies []MethodBody
	// Feed, when set, fills path parameters, query strings, headers and
	// body templates from --data (PathParams become its constants).
	Feed *Feed
	// NoExport skips the stage's export (GetExport oas30), which otherwise
	// completes the methods' parameters, bodies and examples.
	NoExport bool
	// Warn, when set, gets what the caller should tell the user: methods
	// whose live definition differs from the deployment the stage serves,
	// or that the deployment could not be read; also cautions from
	// building the targets (an export that could not be read, a method
	// that needs an API key none is sent for).
	Warn func(Warning)
}

// AWSInvokeURL is the default invoke URL of a REST API stage on AWS, with
// the DNS suffix of the region's partition
// (https://{id}.execute-api.cn-north-1.amazonaws.com.cn/{stage} in China).
func AWSInvokeURL(region, stage string) func(apiID string) string {
	return func(apiID string) string {
		return awsfacts.ExecuteAPIURL(apiID, region, stage)
	}
}

// LocalInvokeURL is the invoke URL of a stage on an emulator at endpoint
// (apictl's sandbox and LocalStack): endpoint/restapis/{id}/{stage}/_user_request_.
func LocalInvokeURL(endpoint, stage string) func(apiID string) string {
	return func(apiID string) string {
		return strings.TrimSuffix(endpoint, "/") + "/restapis/" + apiID + "/" + stage + "/_user_request_"
	}
}

var pathParam = regexp.MustCompile(`\{([^{}]+)\}`)

// DiscoverTargets lists the methods of a REST API (GetRestApis, then
// GetResources with embedded methods) and returns one target per method,
// named like "GET /pets/{id}", with path parameters filled in. OPTIONS
// methods (CORS preflight) are skipped and ANY is hit with GET. It also
// returns the API's id.
func DiscoverTargets(ctx context.Context, c RestAPIClient, o DiscoverOptions) (Targets, string, error) {
	if o.API == "" || o.Stage == "" {
		return nil, "", ErrNoAPIOrStage
	}
	ref, err := awsapi.ResolveRestAPI(ctx, c, o.API)
	if err != nil {
		return nil, "", err
	}
	id := ref.ID
	var resources []types.Resource
	pg := apigateway.NewGetResourcesPaginator(c, &apigateway.GetResourcesInput{RestApiId: aws.String(id), Embed: []string{"methods"}, Limit: aws.Int32(awsapi.PageLimit)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("get resources of api %s: %w", id, err)
		}
		resources = append(resources, out.Items...)
	}
	sort.Slice(resources, func(i, j int) bool { return aws.ToString(resources[i].Path) < aws.ToString(resources[j].Path) })
	undeployed, served, err := checkDeployment(ctx, c, id, o, resources)
	if err != nil {
		return nil, "", err
	}
	out, err := buildDiscovered(ctx, c, id, resources, undeployed, o)
	if err != nil {
		return nil, "", err
	}
	// Whether each method needs an API key, as the stage serves it (its
	// deployment), else as defined now.
	keyRequired := map[string]bool{}
	for _, r := range resources {
		for verb, m := range r.ResourceMethods {
			keyRequired[verb+" "+aws.ToString(r.Path)] = aws.ToBool(m.ApiKeyRequired)
		}
	}
	if served != nil {
		for k, dm := range served.Methods {
			keyRequired[k] = dm.APIKeyRequired
		}
	}
	for i := range out {
		out[i].KeyRequired = keyRequired[out[i].Name]
	}
	return out, id, nil
}

// checkDeployment compares the live methods with the deployment the stage
// serves (when c can read it: GetStage and GetDeployment with
// embed=apisummary), warns about each difference and returns the methods
// that are not deployed, which the stage answers with 403 and discovery
// skips. A stage that does not exist is an error.
func checkDeployment(ctx context.Context, c RestAPIClient, apiID string, o DiscoverOptions, resources []types.Resource) (map[string]bool, *deployed.Summary, error) {
	warn := o.Warn
	if warn == nil {
		warn = func(Warning) {}
	}
	dc, ok := c.(deployed.Client)
	if !ok {
		return nil, nil, nil
	}
	sum, err := deployed.Read(ctx, dc, apiID, o.Stage)
	if err != nil {
		var nf *types.NotFoundException
		if errors.As(err, &nf) && sum == nil && strings.Contains(err.Error(), "get stage") {
			return nil, nil, fmt.Errorf("api %s has no stage %q: %w", o.API, o.Stage, err)
		}
		warn(note("could not compare the methods with the deployment stage %s serves (%v): changes made since the last deployment are not served until the API is deployed again", o.Stage, err))
		return nil, nil, nil
	}
	live := map[string]deployed.Method{}
	for _, r := range resources {
		for verb, m := range r.ResourceMethods {
			live[verb+" "+aws.ToString(r.Path)] = deployed.Method{APIKeyRequired: aws.ToBool(m.ApiKeyRequired), AuthorizationType: aws.ToString(m.AuthorizationType)}
		}
	}
	undeployed := map[string]bool{}
	for _, d := range deployed.Compare(sum, live) {
		if d.Kind == deployed.NotDeployed {
			undeployed[d.Key] = true
			warn(note("%s; not load-tested", d))
			continue
		}
		warn(note("%s", d))
	}
	return undeployed, sum, nil
}

// EndpointMismatchError refuses a load test whose targets would be on
// another endpoint than the one the API was discovered on: discovering on
// an emulator and sending load to the real execute-api URL (or the other
// way round) would load-test something nobody asked to.
type EndpointMismatchError struct {
	Discovery string // "" for AWS
	Target    string
}

func (e *EndpointMismatchError) Error() string {
	d := e.Discovery
	if d == "" {
		d = "AWS (no custom endpoint)"
	}
	return fmt.Sprintf("the API was discovered on %s but the load would go to %s", d, e.Target)
}

// InvokeURLFor returns the stage base URL of the APIs discovered on the
// API Gateway endpoint discovery ("" for AWS, in region): the emulator's
// invoke URL for a custom endpoint, AWS's execute-api URL otherwise. A
// non-empty override (a custom domain, an emulator's host-style URL) is used
// instead, but only when it is on the same side as discovery: on AWS it must
// not be on this machine; on a custom endpoint it must be the endpoint's
// host, one of its subdomains, or like it on this machine. Otherwise it
// returns an *EndpointMismatchError.
func InvokeURLFor(discovery, region, stage, override string) (func(apiID string) string, error) {
	if override == "" {
		if discovery == "" {
			return AWSInvokeURL(region, stage), nil
		}
		return LocalInvokeURL(discovery, stage), nil
	}
	base := strings.TrimSuffix(override, "/")
	fixed := func(string) string { return base }
	ou, err := url.Parse(override)
	if err != nil || ou.Host == "" {
		return nil, fmt.Errorf("invoke url %q: want an absolute URL such as https://api.example.com/prod", override)
	}
	if discovery == "" {
		if awsapi.IsLoopback(override) {
			return nil, &EndpointMismatchError{Target: override}
		}
		return fixed, nil
	}
	du, err := url.Parse(discovery)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", discovery, err)
	}
	oh, dh := strings.ToLower(ou.Hostname()), strings.ToLower(du.Hostname())
	switch {
	case oh == dh, strings.HasSuffix(oh, "."+dh):
	case awsapi.IsLoopbackHost(oh) && awsapi.IsLoopbackHost(dh):
	default:
		return nil, &EndpointMismatchError{Discovery: discovery, Target: override}
	}
	return fixed, nil
}
