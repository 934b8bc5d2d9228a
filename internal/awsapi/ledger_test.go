package awsapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func apiErr(code, msg string) error {
	return &smithy.GenericAPIError{Code: code, Message: msg}
}

// TestLedgerErrorClasses: throttles, 5xx and concurrent-modification
// conflicts are transient; other conflicts, validation errors and
// not-found answers are not.
func TestLedgerErrorClasses(t *testing.T) {
	for _, c := range []struct {
		err       error
		transient bool
	}{
		{apiErr("TooManyRequestsException", "Too Many Requests"), true},
		{apiErr("LimitExceededException", "Rate exceeded"), true},
		{apiErr("ThrottlingException", ""), true},
		{apiErr("ServiceUnavailableException", ""), true},
		{apiErr("ConflictException", "Unable to complete operation due to concurrent modification. Please try again later."), true},
		{apiErr("ConflictException", "Usage Plan u cannot be added because API Key k cannot reference multiple Usage Plans with the same API Stage: a:prod"), false},
		{apiErr("ConflictException", "API Key already exists"), false},
		{apiErr("BadRequestException", "Invalid patch path"), false},
		{apiErr("NotFoundException", "Invalid Usage Plan ID specified"), false},
		{&smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 502}}, Err: errors.New("bad gateway")}, true},
		{errors.New("connection reset by peer"), false},
		{nil, false},
	} {
		if got := IsTransient(c.err); got != c.transient {
			t.Errorf("IsTransient(%v) = %v, want %v", c.err, got, c.transient)
		}
	}
	if !IsConflict(apiErr("ConflictException", "x")) || IsConflict(apiErr("BadRequestException", "x")) {
		t.Error("IsConflict")
	}
	if !IsNotFound(apiErr("NotFoundException", "")) || !IsThrottle(apiErr("LimitExceededException", "")) || ErrorCode(errors.New("x")) != "" {
		t.Error("IsNotFound / IsThrottle / ErrorCode")
	}
}

// TestLedgerEndpointPrecedence: --endpoint-url, then the service's
// AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL; nothing from the
// environment with AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true.
func TestLedgerEndpointPrecedence(t *testing.T) {
	env := map[string]string{
		"AWS_ENDPOINT_URL":              "http://global:1",
		"AWS_ENDPOINT_URL_API_GATEWAY":  "http://apigw:1",
		"AWS_ENDPOINT_URL_APIGATEWAYV2": "http://v2:1",
		"AWS_ENDPOINT_URL_S3":           "http://s3:1",
	}
	get := func(k string) string { return env[k] }
	if got := ResolveEndpoints("", get); got != (Endpoints{APIGateway: "http://apigw:1", APIGatewayV2: "http://v2:1", CloudWatch: "http://global:1", S3: "http://s3:1"}) {
		t.Errorf("environment: %+v", got)
	}
	if got := ResolveEndpoints("http://flag:1", get); got != (Endpoints{"http://flag:1", "http://flag:1", "http://flag:1", "http://flag:1"}) {
		t.Errorf("flag: %+v", got)
	}
	env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
	if got := ResolveEndpoints("", get); got.Custom() {
		t.Errorf("ignored environment: %+v", got)
	}
	if e := (Endpoints{APIGateway: "http://127.0.0.1:4566"}); !e.Loopback() || (Endpoints{}).Loopback() ||
		(Endpoints{APIGateway: "http://127.0.0.1:1", CloudWatch: "https://monitoring.us-east-1.amazonaws.com"}).Loopback() {
		t.Error("Loopback: only when every custom endpoint is on this machine")
	}
	if (Endpoints{S3: "http://127.0.0.1:9000"}).Loopback() || !(Endpoints{S3: "http://127.0.0.1:9000"}).Custom() {
		t.Error("a local S3 alone is custom but does not make the API Gateway endpoints an emulator")
	}
}

// TestLedgerEndpointPrecedenceMatchesSDK: for each way of setting the
// endpoint, the SDK's own resolution (a client built from the loaded
// configuration without apictl's override) and apictl's ResolveEndpoints
// send API Gateway calls to the same server.
func TestLedgerEndpointPrecedenceMatchesSDK(t *testing.T) {
	var hits [2]atomic.Int32
	var urls [2]string
	for i := range 2 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i].Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"item":[]}`))
		}))
		defer srv.Close()
		urls[i] = srv.URL
	}
	a, b := urls[0], urls[1]
	for _, c := range []struct {
		name            string
		flag            string
		global, service string
		want            int // index of the server
	}{
		{"flag wins over the service variable", a, "", b, 0},
		{"service variable wins over the global one", "", a, b, 1},
		{"global variable alone", "", a, "", 0},
	} {
		t.Setenv("AWS_ENDPOINT_URL", c.global)
		t.Setenv("AWS_ENDPOINT_URL_API_GATEWAY", c.service)
		ctx := context.Background()
		s := Settings{Region: "us-east-1", EndpointURL: c.flag, StaticCredentials: true, MaxAttempts: 1}
		if got := s.Endpoints().APIGateway; got != urls[c.want] {
			t.Errorf("%s: ResolveEndpoints chose %s, want %s", c.name, got, urls[c.want])
		}
		cfg, err := LoadConfig(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		before := hits[c.want].Load()
		if _, err := apigateway.NewFromConfig(cfg).GetRestApis(ctx, &apigateway.GetRestApisInput{}); err != nil || hits[c.want].Load() != before+1 {
			t.Errorf("%s: the SDK alone did not call server %d: %v", c.name, c.want, err)
		}
		cl, err := NewClients(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.APIGateway.GetRestApis(ctx, &apigateway.GetRestApisInput{}); err != nil || hits[c.want].Load() != before+2 {
			t.Errorf("%s: apictl's client did not call server %d: %v", c.name, c.want, err)
		}
	}
}

// TestLedgerLoopbackIncludesDotLocalhost: localhost, *.localhost (RFC
// 6761, the sandbox's host-style invoke URLs) and loopback IPs are this
// machine.
func TestLedgerLoopbackIncludesDotLocalhost(t *testing.T) {
	for u, want := range map[string]bool{
		"http://localhost:4566": true, "http://abc.execute-api.localhost:4566/prod": true, "http://127.0.0.2:80": true,
		"http://[::1]:4566": true, "https://apigateway.us-east-1.amazonaws.com": false, "http://localhost.example.com": false, "": false,
	} {
		if got := IsLoopback(u); got != want {
			t.Errorf("IsLoopback(%q) = %v", u, got)
		}
	}
}

// pagedAPIs answers GetRestApis one item per page.
type pagedAPIs struct {
	names []string
	calls int
}

func (p *pagedAPIs) GetRestApis(_ context.Context, in *apigateway.GetRestApisInput, _ ...func(*apigateway.Options)) (*apigateway.GetRestApisOutput, error) {
	p.calls++
	i := 0
	if in.Position != nil {
		i = int((*in.Position)[0] - '0')
	}
	out := &apigateway.GetRestApisOutput{Items: []types.RestApi{{Id: aws.String(string(rune('a' + i))), Name: aws.String(p.names[i])}}}
	if i+1 < len(p.names) {
		out.Position = aws.String(string(rune('0' + i + 1)))
	}
	return out, nil
}

// TestLedgerListsFollowEveryPage: GetRestApis pages by position; an API on
// the last page is found, a name on two pages is ambiguous.
func TestLedgerListsFollowEveryPage(t *testing.T) {
	p := &pagedAPIs{names: []string{"one", "dup", "two", "dup"}}
	a, err := ResolveRestAPI(context.Background(), p, "two")
	if err != nil || a.ID != "c" || p.calls != 4 {
		t.Fatalf("ResolveRestAPI(two) = %+v, %v after %d calls", a, err, p.calls)
	}
	_, err = ResolveRestAPI(context.Background(), p, "dup")
	var amb *AmbiguousAPIError
	if !errors.As(err, &amb) || strings.Join(amb.IDs(), ",") != "b,d" {
		t.Errorf("dup: %v", err)
	}
	_, err = ResolveRestAPI(context.Background(), p, "nope")
	var nf *APINotFoundError
	if !errors.As(err, &nf) || len(nf.Have) != 4 || !strings.Contains(nf.Hint(), "one (a, REST API)") {
		t.Errorf("nope: %v", err)
	}
	var seen []string
	err = AllPages(context.Background(), func(_ context.Context, tok *string) (*string, error) {
		seen = append(seen, aws.ToString(tok))
		return aws.String("same"), nil // a service that loops
	})
	if err != nil || len(seen) != 2 {
		t.Errorf("AllPages on a repeated token: %v %v", seen, err)
	}
}

// TestLedgerS3PathStyleOnlyForLoopback: the S3 client addresses an emulator
// on this machine path-style and leaves AWS (or any remote endpoint) to the
// SDK's default virtual-hosted style.
func TestLedgerS3PathStyleOnlyForLoopback(t *testing.T) {
	cfg := aws.Config{Region: "us-east-1"}
	for endpoint, want := range map[string]bool{
		"http://127.0.0.1:4566": true, "http://localhost:4566": true,
		"": false, "https://s3.eu-west-1.amazonaws.com": false, "https://minio.example.com": false,
	} {
		if got := NewS3Client(cfg, endpoint).Options().UsePathStyle; got != want {
			t.Errorf("%q: UsePathStyle %v, want %v", endpoint, got, want)
		}
	}
}
