package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/sandbox"
	"github.com/apictl/apictl/internal/sandbox/backend"
)

// Method is one method of the demo API and the backend behind it.
type Method struct {
	Verb    string
	Path    string // resource template, e.g. /cart/profile/{userId}
	Slots   int
	Service time.Duration
	Queue   int
}

// Key is the method as plans and reports write it: "GET /cart/profile/{userId}".
func (m Method) Key() string { return m.Verb + " " + m.Path }

// Capacity is the true capacity of the method's backend in requests per
// second: Slots / Service.
func (m Method) Capacity() float64 { return float64(m.Slots) / m.Service.Seconds() }

// DefaultMethods are the demo API's methods: a read served from a small
// connection pool and a write that holds its connection longer, so the two
// have different capacities (400 and 150 RPS). Each can queue about 120 ms
// of work, enough to absorb the bursts API Gateway lets through.
var DefaultMethods = []Method{
	{Verb: "GET", Path: "/cart/profile/{userId}", Slots: 8, Service: 20 * time.Millisecond, Queue: 48},
	{Verb: "POST", Path: "/orders", Slots: 6, Service: 40 * time.Millisecond, Queue: 18},
}

// World is the demo API running in the sandbox.
type World struct {
	Sandbox  *sandbox.Sandbox
	Clients  *awsapi.Clients
	APIName  string
	APIID    string
	Stage    string
	Methods  []Method
	Backends map[string]*backend.Backend // by Method.Key()
	// LoadtestKey is the value of an API key in an unthrottled usage plan
	// of the stage, for the load test itself: every method requires a key,
	// as APIs sold through usage plans do. It is never printed.
	LoadtestKey string
}

// LoadtestKeyEnv is the environment variable through which the demo hands
// LoadtestKey to 'apictl loadtest --api-key-env'.
const LoadtestKeyEnv = "APICTL_DEMO_LOADTEST_KEY"

// InvokeURL is the stage's data-plane base URL.
func (w *World) InvokeURL() string { return w.Sandbox.InvokeURL(w.APIID, w.Stage) }

// NewWorld starts a sandbox on a loopback port and creates the demo REST API
// in it through the real API Gateway client: resources, methods, a
// deployment, the stage with detailed metrics on (so CloudWatch has
// per-method data), and a sample backend per method.
func NewWorld(ctx context.Context, apiName, stage string, methods []Method, addr string) (*World, error) {
	sb := sandbox.New(sandbox.Options{})
	url, err := sb.Start(addr)
	if err != nil {
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	clients, err := awsapi.NewClients(ctx, awsapi.Settings{Region: "us-east-1", EndpointURL: url, StaticCredentials: true})
	if err != nil {
		sb.Close()
		return nil, err
	}
	w := &World{Sandbox: sb, Clients: clients, APIName: apiName, Stage: stage, Methods: methods, Backends: map[string]*backend.Backend{}}
	if err := w.create(ctx); err != nil {
		sb.Close()
		return nil, fmt.Errorf("create demo api: %w", err)
	}
	return w, nil
}

// Close stops the sandbox.
func (w *World) Close() error { return w.Sandbox.Close() }

func (w *World) create(ctx context.Context) error {
	agw := w.Clients.APIGateway
	api, err := agw.CreateRestApi(ctx, &apigateway.CreateRestApiInput{
		Name:        aws.String(w.APIName),
		Description: aws.String("apictl demo: a cart service in front of a small relational database"),
	})
	if err != nil {
		return err
	}
	w.APIID = aws.ToString(api.Id)
	res, err := agw.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id})
	if err != nil {
		return err
	}
	ids := map[string]string{}
	for _, r := range res.Items {
		ids[aws.ToString(r.Path)] = aws.ToString(r.Id)
	}
	for _, m := range w.Methods {
		parent := "/"
		for _, part := range strings.Split(strings.Trim(m.Path, "/"), "/") {
			path := strings.TrimSuffix(parent, "/") + "/" + part
			if _, ok := ids[path]; !ok {
				r, err := agw.CreateResource(ctx, &apigateway.CreateResourceInput{
					RestApiId: api.Id, ParentId: aws.String(ids[parent]), PathPart: aws.String(part),
				})
				if err != nil {
					return err
				}
				ids[path] = aws.ToString(r.Id)
			}
			parent = path
		}
		if _, err := agw.PutMethod(ctx, &apigateway.PutMethodInput{
			RestApiId: api.Id, ResourceId: aws.String(ids[m.Path]), HttpMethod: aws.String(m.Verb),
			AuthorizationType: aws.String("NONE"), ApiKeyRequired: true,
		}); err != nil {
			return err
		}
		b := backend.New(backend.Config{Slots: m.Slots, Service: m.Service, Queue: m.Queue})
		w.Backends[m.Key()] = b
		w.Sandbox.SetMethodBackend(w.APIID, m.Verb, m.Path, b)
	}
	dep, err := agw.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id})
	if err != nil {
		return err
	}
	if _, err := agw.CreateStage(ctx, &apigateway.CreateStageInput{
		RestApiId: api.Id, StageName: aws.String(w.Stage), DeploymentId: dep.Id,
	}); err != nil {
		return err
	}
	if _, err = agw.UpdateStage(ctx, &apigateway.UpdateStageInput{
		RestApiId: api.Id, StageName: aws.String(w.Stage),
		PatchOperations: []types.PatchOperation{{Op: types.OpReplace, Path: aws.String("/*/*/metrics/enabled"), Value: aws.String("true")}},
	}); err != nil {
		return err
	}
	// The load tester's own key, in a usage plan without limits that
	// apictl does not manage (no apictl:managed tag): apply-plan leaves it
	// alone.
	up, err := agw.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{
		Name:        aws.String("demo-loadtest"),
		Description: aws.String("unthrottled plan for the demo's load tester"),
		ApiStages:   []types.ApiStage{{ApiId: api.Id, Stage: aws.String(w.Stage)}},
	})
	if err != nil {
		return err
	}
	key, err := agw.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("demo-loadtester"), Enabled: true})
	if err != nil {
		return err
	}
	if _, err := agw.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{
		UsagePlanId: up.Id, KeyId: key.Id, KeyType: aws.String("API_KEY"),
	}); err != nil {
		return err
	}
	w.LoadtestKey = aws.ToString(key.Value)
	return nil
}
