package sandbox

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// BenchmarkDataPlane measures the gateway's own cost per request (routing,
// API key, usage-plan and stage throttles, quota, metrics) with an
// in-process backend and no network.
func BenchmarkDataPlane(b *testing.B) {
	ctx := context.Background()
	sb, c := startSandbox(b, Options{})
	ag := c.APIGateway
	p := createPetAPI(b, ag, "bench")
	big := 1e9
	value, _ := keyInPlan(b, ag, p.ID, &apigateway.CreateUsagePlanInput{
		Throttle: &agtypes.ThrottleSettings{RateLimit: big, BurstLimit: 1 << 30},
		Quota:    &agtypes.QuotaSettings{Limit: 1 << 30, Period: agtypes.QuotaPeriodTypeDay},
	})
	if _, err := ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("prod"),
		PatchOperations: []agtypes.PatchOperation{
			patch(agtypes.OpReplace, "/*/*/metrics/enabled", "true"),
			patch(agtypes.OpReplace, "/*/*/throttling/rateLimit", "1000000000"),
			patch(agtypes.OpReplace, "/*/*/throttling/burstLimit", "1000000000"),
		}}); err != nil {
		b.Fatal(err)
	}
	sb.SetBackend(p.ID, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	h := sb.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", "/restapis/"+p.ID+"/prod/_user_request_/pets", nil)
			req.Header.Set("x-api-key", value)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 204 {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}
