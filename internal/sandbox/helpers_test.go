package sandbox

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/sandbox/sandboxtest"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/smithy-go"
)

// fakeClock is a settable clock for token buckets and timestamps.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startSandbox serves a new Sandbox and returns clients pointed at it that
// do not retry.
func startSandbox(t testing.TB, opts Options) (*Sandbox, *awsapi.Clients) {
	t.Helper()
	return sandboxtest.Start(t, New(opts))
}

// wantAPIError checks that err is an AWS error with the given code.
func wantAPIError(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s, got success", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got non-API error %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	if ae.ErrorMessage() == "" {
		t.Fatalf("%s without message", code)
	}
}

func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// petAPI is a REST API with:
//
//	/                GET
//	/pets            GET (api key required), POST
//	/pets/{petId}    GET
//	/users/{userId}  GET
//	/{proxy+}        ANY
//
// deployed to stage "prod".
type petAPI struct {
	ID, RootID, PetsID, PetID, UserID, ProxyID string
}

func createPetAPI(t testing.TB, c *apigateway.Client, name string) petAPI {
	t.Helper()
	api := sandboxtest.NewRestAPI(t, c, name)
	api.Method("/", "GET", apigateway.PutMethodInput{})
	api.Method("/pets", "GET", apigateway.PutMethodInput{ApiKeyRequired: true})
	api.Method("/pets", "POST", apigateway.PutMethodInput{})
	api.Method("/pets/{petId}", "GET", apigateway.PutMethodInput{})
	api.Method("/users/{userId}", "GET", apigateway.PutMethodInput{})
	api.Method("/{proxy+}", "ANY", apigateway.PutMethodInput{})
	api.Deploy("prod")
	return petAPI{ID: api.ID, RootID: api.Resource("/"), PetsID: api.Resource("/pets"), PetID: api.Resource("/pets/{petId}"),
		UserID: api.Resource("/users/{userId}"), ProxyID: api.Resource("/{proxy+}")}
}

// redeploy creates a new deployment of the API on stage: changes to
// resources, methods and integrations are served only after it.
func redeploy(t testing.TB, c *apigateway.Client, apiID, stage string) {
	t.Helper()
	if _, err := c.CreateDeployment(context.Background(), &apigateway.CreateDeploymentInput{RestApiId: aws.String(apiID), StageName: aws.String(stage)}); err != nil {
		t.Fatal(err)
	}
}

func patch(op agtypes.Op, path, value string) agtypes.PatchOperation {
	po := agtypes.PatchOperation{Op: op, Path: aws.String(path)}
	if value != "" {
		po.Value = aws.String(value)
	}
	return po
}

// okBackend answers 200 and counts calls.
type okBackend struct {
	mu    sync.Mutex
	calls int
	paths []string
}

func (b *okBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.calls++
	b.paths = append(b.paths, r.URL.Path)
	b.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"ok":true}`))
}

func (b *okBackend) Calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

var _ = httptest.NewRecorder

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// petWorld is where the data-plane tests start: a sandbox whose clocks are
// a fakeClock, with the pets API (createPetAPI) deployed to prod and
// served by an okBackend.
type petWorld struct {
	sb    *Sandbox
	ag    *apigateway.Client
	clock *fakeClock
	api   petAPI
	be    *okBackend
	base  string // prod's invoke URL
}

func newPetWorld(t testing.TB) petWorld {
	t.Helper()
	clock := newFakeClock()
	sb, c := startSandbox(t, Options{ThrottleNow: clock.Now, Now: clock.Now})
	p := createPetAPI(t, c.APIGateway, "pets")
	be := &okBackend{}
	sb.SetBackend(p.ID, be)
	return petWorld{sb: sb, ag: c.APIGateway, clock: clock, api: p, be: be, base: sb.InvokeURL(p.ID, "prod")}
}

// planUpdater creates usage plan "p" and returns its id and a call that
// updates its description: the operation AWS limits to one call per 20
// seconds.
func planUpdater(t testing.TB, ag *apigateway.Client) (planID *string, update func() error) {
	t.Helper()
	ctx := context.Background()
	plan := must[*apigateway.CreateUsagePlanOutput](t)(ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("p")}))
	return plan.Id, func() error {
		_, err := ag.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: plan.Id,
			PatchOperations: []agtypes.PatchOperation{patch(agtypes.OpReplace, "/description", "x")}})
		return err
	}
}
