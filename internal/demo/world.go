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

// Method is one method of the demo API: how long one of its requests holds
// a connection of the shared pool, and its share of the traffic.
type Method struct {
	Verb    string
	Path    string // resource template, e.g. /cart/profile/{userId}
	Service time.Duration
	// Share is the method's share of the demo's traffic (history and
	// baseline), which measure then reports as the mix.
	Share float64
}

// Key is the method as plans and reports write it: "GET /cart/profile/{userId}".
func (m Method) Key() string { return m.Verb + " " + m.Path }

// Pool is the demo's database: one connection pool every method shares.
type Pool struct {
	Slots int // connections
	Queue int // requests that may wait for one; beyond that the pool answers 503
}

// AloneCapacity is what the pool serves of m when m is the only traffic:
// Slots / m.Service requests per second.
func (p Pool) AloneCapacity(m Method) float64 { return float64(p.Slots) / m.Service.Seconds() }

// CapacityAt is the pool's true aggregate capacity when traffic is split by
// mix (method key → share): Slots / Σ share × service.
func (p Pool) CapacityAt(methods []Method, mix map[string]float64) float64 {
	var sum, cost float64
	for _, m := range methods {
		if w := mix[m.Key()]; w > 0 {
			sum += w
			cost += w * m.Service.Seconds()
		}
	}
	if sum == 0 || cost == 0 {
		return 0
	}
	return float64(p.Slots) / (cost / sum)
}

// Mix returns the methods' configured shares.
func Mix(methods []Method) map[string]float64 {
	mix := map[string]float64{}
	for _, m := range methods {
		mix[m.Key()] = m.Share
	}
	return mix
}

// DefaultPool is the demo's database: 8 connections, and room for 32
// requests to wait (about 100 ms of work), enough to absorb the bursts API
// Gateway lets through.
var DefaultPool = Pool{Slots: 8, Queue: 32}

// DefaultMethods are the demo API's methods, both served from DefaultPool:
// a read that holds a connection for 20 ms (400 RPS if it were alone) and
// a write that holds it for 40 ms (200 RPS alone), 70% reads. At that mix
// the pool serves 8 / (0.7 × 20 ms + 0.3 × 40 ms) ≈ 308 RPS in all: far
// less than the 600 RPS the two methods would add up to if each were
// searched alone.
var DefaultMethods = []Method{
	{Verb: "GET", Path: "/cart/profile/{userId}", Service: 20 * time.Millisecond, Share: 0.7},
	{Verb: "POST", Path: "/orders", Service: 40 * time.Millisecond, Share: 0.3},
}

// World is the demo API running in the sandbox.
type World struct {
	Sandbox *sandbox.Sandbox
	Clients *awsapi.Clients
	APIName string
	APIID   string
	Stage   string
	Methods []Method
	// PoolConfig and Pool are the database every method shares.
	PoolConfig Pool
	Pool       *backend.SharedPool
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
// per-method data), and one shared connection pool behind every method.
func NewWorld(ctx context.Context, apiName, stage string, pool Pool, methods []Method, addr string) (*World, error) {
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
	routes := map[string]time.Duration{}
	for _, m := range methods {
		routes[m.Key()] = m.Service
	}
	w := &World{Sandbox: sb, Clients: clients, APIName: apiName, Stage: stage, Methods: methods, PoolConfig: pool,
		Pool: backend.NewSharedPool(backend.SharedPoolConfig{Slots: pool.Slots, Queue: pool.Queue, Routes: routes})}
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
		w.Sandbox.SetMethodBackend(w.APIID, m.Verb, m.Path, w.Pool.Route(m.Key()))
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
