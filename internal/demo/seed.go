package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
)

// TourKey is the value of the API key that `apictl sandbox serve --seed
// demo` creates for load tests: a fixture of the local emulator, documented
// in the README's tour, not a secret.
const TourKey = "apictl-sandbox-tour-key"

// Seed starts a sandbox at addr holding what the README's tour uses: the
// demo's REST API cart-api, stage prod (GET /cart/profile/{userId} and POST
// /orders behind sample backends of known capacity, both requiring an API
// key), a simulated last day of its CloudWatch metrics, and an API key for
// load tests whose value is TourKey.
func Seed(ctx context.Context, addr string) (*World, error) {
	w, err := NewWorld(ctx, "cart-api", "prod", DefaultPool, DefaultMethods, addr)
	if err != nil {
		return nil, err
	}
	writeHistory(w.Sandbox.Metrics(), w, time.Now())
	agw := w.Clients.APIGateway
	plans, err := agw.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{})
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("seed: %w", err)
	}
	key, err := agw.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("tour-loadtester"), Enabled: true, Value: aws.String(TourKey)})
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("seed: %w", err)
	}
	for _, p := range plans.Items {
		if aws.ToString(p.Name) != "demo-loadtest" {
			continue
		}
		if _, err := agw.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: p.Id, KeyId: key.Id, KeyType: aws.String("API_KEY")}); err != nil {
			w.Close()
			return nil, fmt.Errorf("seed: %w", err)
		}
	}
	return w, nil
}
