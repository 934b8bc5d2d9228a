package sandbox

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestCallsAndInjectedErrors(t *testing.T) {
	ctx := context.Background()
	sb, c := startSandbox(t, Options{})
	ag := c.APIGateway
	plan := must[*apigateway.CreateUsagePlanOutput](t)(ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("p")}))
	for i := 0; i < 3; i++ {
		must[*apigateway.GetUsagePlanOutput](t)(ag.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: plan.Id}))
	}
	if got := sb.Calls(); got["CreateUsagePlan"] != 1 || got["GetUsagePlan"] != 3 || len(got) != 2 {
		t.Fatalf("Calls: %v", got)
	}
	sb.ResetCalls()
	if len(sb.Calls()) != 0 {
		t.Fatalf("ResetCalls: %v", sb.Calls())
	}

	sb.InjectErrors("UpdateUsagePlan", 2, http.StatusTooManyRequests, "TooManyRequestsException")
	upd := func() error {
		_, err := ag.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: plan.Id,
			PatchOperations: []agtypes.PatchOperation{patch(agtypes.OpReplace, "/description", "x")}})
		return err
	}
	for i := 0; i < 2; i++ {
		err := upd()
		wantAPIError(t, err, "TooManyRequestsException")
		if !awsapi.IsThrottle(err) {
			t.Fatalf("injected 429 is not a throttle for awsapi: %v", err)
		}
	}
	if err := upd(); err != nil {
		t.Fatalf("third call after 2 injected errors: %v", err)
	}
	if got := sb.Calls()["UpdateUsagePlan"]; got != 3 {
		t.Fatalf("UpdateUsagePlan calls = %d, want 3", got)
	}
	sb.InjectErrors("GetUsagePlan", 1, http.StatusInternalServerError, "InternalFailure")
	_, err := ag.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: plan.Id})
	wantAPIError(t, err, "InternalFailure")

	// The retrying client of awsapi gets through injected throttles.
	retrying, err := awsapi.NewClients(ctx, awsapi.Settings{Region: "us-east-1", EndpointURL: sb.URL(), StaticCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	sb.InjectErrors("GetUsagePlan", 1, http.StatusTooManyRequests, "TooManyRequestsException")
	if _, err := retrying.APIGateway.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: plan.Id}); err != nil {
		t.Fatalf("retry after injected throttle: %v", err)
	}
}

func TestControlPlaneRateLimit(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	sb, c := startSandbox(t, Options{ThrottleNow: clock.Now,
		ControlPlaneRateLimits: map[string]RateLimit{"UpdateUsagePlan": {Rate: 1.0 / 20, Burst: 1}}})
	ag := c.APIGateway
	planID, upd := planUpdater(t, ag)
	if err := upd(); err != nil {
		t.Fatal(err)
	}
	err := upd()
	wantAPIError(t, err, "TooManyRequestsException")
	var re *smithyhttp.ResponseError
	if !asResponseError(err, &re) || re.Response.Header.Get("Retry-After") != "20" {
		t.Fatalf("Retry-After: %v", err)
	}
	clock.Advance(19 * time.Second)
	wantAPIError(t, upd(), "TooManyRequestsException")
	clock.Advance(time.Second)
	if err := upd(); err != nil {
		t.Fatalf("after 20 s: %v", err)
	}
	// Other operations are not limited.
	for i := 0; i < 5; i++ {
		must[*apigateway.GetUsagePlanOutput](t)(ag.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: planID}))
	}
	if got := sb.Calls()["UpdateUsagePlan"]; got != 4 {
		t.Fatalf("rate-limited calls are counted too: %d, want 4", got)
	}
}

func asResponseError(err error, re **smithyhttp.ResponseError) bool {
	var oe *smithy.OperationError
	if !errorsAs(err, &oe) {
		return false
	}
	return errorsAs(err, re)
}

func TestUnknownOperation(t *testing.T) {
	sb := New(Options{})
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	resp, err := http.Get(url + "/nothing/here")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("x-amzn-ErrorType") == "" {
		t.Fatalf("unknown path: %d %v", resp.StatusCode, resp.Header)
	}
	if _, err := sb.Start("127.0.0.1:0"); err == nil {
		t.Fatal("second Start succeeded")
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sb.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestCloseDropsUnusedConnections: a connection that never sent a request
// (a client's spare dial) does not hold Close up to its deadline, which
// http.Server.Shutdown alone would: it counts such a connection as busy
// for 5 s, Close's whole grace.
func TestCloseDropsUnusedConnections(t *testing.T) {
	sb := New(Options{})
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := http.Get(url + "/nothing/here")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := sb.Close(); err != nil {
		t.Fatalf("Close with an unused connection open: %v", err)
	}
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("the unused connection is still open after Close")
	}
}

func TestCloudWatchInjectedErrors(t *testing.T) {
	ctx := context.Background()
	sb, c := startSandbox(t, Options{})
	in := &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/ApiGateway")}
	sb.InjectErrors("ListMetrics", 1, http.StatusBadRequest, "Throttling")
	_, err := c.CloudWatch.ListMetrics(ctx, in)
	wantAPIError(t, err, "Throttling")
	if !awsapi.IsThrottle(err) {
		t.Fatalf("injected CloudWatch throttle not recognised: %v", err)
	}
	if _, err := c.CloudWatch.ListMetrics(ctx, in); err != nil {
		t.Fatalf("after the injected error: %v", err)
	}
	retrying, err := awsapi.NewClients(ctx, awsapi.Settings{Region: "us-east-1", EndpointURL: sb.URL(), StaticCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	sb.InjectErrors("ListMetrics", 2, http.StatusBadRequest, "Throttling")
	if _, err := retrying.CloudWatch.ListMetrics(ctx, in); err != nil {
		t.Fatalf("retrying client: %v", err)
	}
	if got := sb.Calls()["ListMetrics"]; got != 5 {
		t.Fatalf("ListMetrics calls = %d, want 5", got)
	}

	// Query protocol (older AWS CLIs).
	sb.InjectErrors("ListMetrics", 1, http.StatusBadRequest, "Throttling")
	resp, err := http.Post(sb.URL()+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=ListMetrics&Version=2010-08-01"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "<Code>Throttling</Code>") {
		t.Fatalf("Query error: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Post(sb.URL()+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=ListMetrics&Version=2010-08-01"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "ListMetricsResponse") {
		t.Fatalf("Query after error: %d %s", resp.StatusCode, body)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestCallLog(t *testing.T) {
	ctx := context.Background()
	var log lockedBuffer
	_, c := startSandbox(t, Options{Log: &log})
	must[*apigateway.CreateUsagePlanOutput](t)(c.APIGateway.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("p")}))
	_, err := c.APIGateway.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: aws.String("nope")})
	wantAPIError(t, err, "NotFoundException")
	must[*cloudwatch.ListMetricsOutput](t)(c.CloudWatch.ListMetrics(ctx, &cloudwatch.ListMetricsInput{}))
	want := "CreateUsagePlan 201\nGetUsagePlan 404 NotFoundException: Invalid Usage Plan ID specified\nListMetrics 200\n"
	if got := log.String(); got != want {
		t.Fatalf("log:\n%s\nwant:\n%s", got, want)
	}
}
