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

// startSandbox serves a new Sandbox on an httptest server and returns
// clients pointed at it that do not retry.
func startSandbox(t testing.TB, opts Options) (*Sandbox, *awsapi.Clients) {
	t.Helper()
	sb := New(opts)
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	c, err := awsapi.NewClients(context.Background(), awsapi.Settings{
		Region: "us-east-1", EndpointURL: url, StaticCredentials: true, MaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sb, c
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
	ctx := context.Background()
	api, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	p := petAPI{ID: *api.Id, RootID: *api.RootResourceId}
	res := func(parent, part string) string {
		t.Helper()
		out, err := c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: aws.String(parent), PathPart: aws.String(part)})
		if err != nil {
			t.Fatal(err)
		}
		return *out.Id
	}
	meth := func(resID, m string, keyRequired bool) {
		t.Helper()
		_, err := c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: aws.String(resID),
			HttpMethod: aws.String(m), AuthorizationType: aws.String("NONE"), ApiKeyRequired: keyRequired})
		if err != nil {
			t.Fatal(err)
		}
	}
	p.PetsID = res(p.RootID, "pets")
	p.PetID = res(p.PetsID, "{petId}")
	users := res(p.RootID, "users")
	p.UserID = res(users, "{userId}")
	p.ProxyID = res(p.RootID, "{proxy+}")
	meth(p.RootID, "GET", false)
	meth(p.PetsID, "GET", true)
	meth(p.PetsID, "POST", false)
	meth(p.PetID, "GET", false)
	meth(p.UserID, "GET", false)
	meth(p.ProxyID, "ANY", false)
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	return p
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
