// Package sandboxtest holds the test fixtures that tests of several
// packages share: a sandbox served for the length of a test, REST and HTTP
// APIs built in it through the real aws-sdk-go-v2 client, as a user would, and
// the AWS CLI run against it. It does not import package sandbox (it takes
// what it needs as interfaces), so the sandbox's own tests use it too.
package sandboxtest

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"

	"github.com/apictl/apictl/internal/awsapi"
)

// Server is what Start needs of a *sandbox.Sandbox.
type Server interface {
	Start(addr string) (url string, err error)
	Close() error
}

// Start serves sb (sandbox.New(opts)) on a free loopback port until the
// test ends, and returns it with clients pointed at it that do not retry:
// an error the test did not inject fails the fixture at once.
func Start[S Server](t testing.TB, sb S) (S, *awsapi.Clients) {
	t.Helper()
	return StartRegion(t, sb, "us-east-1")
}

// StartRegion is Start with clients of region (the sandbox's
// Options.Region, for partition tests).
func StartRegion[S Server](t testing.TB, sb S, region string) (S, *awsapi.Clients) {
	t.Helper()
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("close sandbox: %v", err)
		}
	})
	cl, err := awsapi.NewClients(context.Background(), awsapi.Settings{
		Region: region, EndpointURL: url, StaticCredentials: true, MaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sb, cl
}

// RestAPI is a REST API under construction; each step fails the test on an
// error.
type RestAPI struct {
	t         testing.TB
	c         *apigateway.Client
	ID        string
	Name      string
	resources map[string]string // path → resource id
}

// NewRestAPI creates REST API name.
func NewRestAPI(t testing.TB, c *apigateway.Client, name string) *RestAPI {
	t.Helper()
	out, err := c.CreateRestApi(context.Background(), &apigateway.CreateRestApiInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return &RestAPI{t: t, c: c, ID: aws.ToString(out.Id), Name: name,
		resources: map[string]string{"/": aws.ToString(out.RootResourceId)}}
}

// Resource returns the id of the resource at path ("/cart/profile/{userId}"),
// creating it and any missing parent.
func (a *RestAPI) Resource(path string) string {
	a.t.Helper()
	if id, ok := a.resources[path]; ok {
		return id
	}
	i := strings.LastIndex(path, "/")
	parent := "/"
	if i > 0 {
		parent = path[:i]
	}
	out, err := a.c.CreateResource(context.Background(), &apigateway.CreateResourceInput{RestApiId: aws.String(a.ID),
		ParentId: aws.String(a.Resource(parent)), PathPart: aws.String(path[i+1:])})
	if err != nil {
		a.t.Fatal(err)
	}
	a.resources[path] = aws.ToString(out.Id)
	return a.resources[path]
}

// Method puts httpMethod on the resource at path (created when missing) with
// the settings of in; its ids are filled in, its authorization type is NONE
// unless set.
func (a *RestAPI) Method(path, httpMethod string, in apigateway.PutMethodInput) {
	a.t.Helper()
	in.RestApiId, in.ResourceId, in.HttpMethod = aws.String(a.ID), aws.String(a.Resource(path)), aws.String(httpMethod)
	if in.AuthorizationType == nil {
		in.AuthorizationType = aws.String("NONE")
	}
	if _, err := a.c.PutMethod(context.Background(), &in); err != nil {
		a.t.Fatal(err)
	}
}

// Deploy deploys the API to stage (created when missing).
func (a *RestAPI) Deploy(stage string) {
	a.t.Helper()
	if _, err := a.c.CreateDeployment(context.Background(), &apigateway.CreateDeploymentInput{RestApiId: aws.String(a.ID),
		StageName: aws.String(stage)}); err != nil {
		a.t.Fatal(err)
	}
}

// Backends is what Serve needs of a *sandbox.Sandbox.
type Backends interface {
	SetBackend(apiID string, h http.Handler)
}

// Serve deploys the API to stage and has the sandbox send its requests to h.
func (a *RestAPI) Serve(sb Backends, stage string, h http.Handler) {
	a.t.Helper()
	a.Deploy(stage)
	sb.SetBackend(a.ID, h)
}

// CreateHTTPAPI creates HTTP API name with routes ("GET /items").
func CreateHTTPAPI(t testing.TB, v2 *apigatewayv2.Client, name string, routes ...string) *apigatewayv2.CreateApiOutput {
	t.Helper()
	ctx := context.Background()
	api, err := v2.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String(name), ProtocolType: v2types.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range routes {
		if _, err := v2.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	return api
}
