package measure

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/apigateway"
)

// DefaultAccountThrottle is API Gateway's default account-level throttle
// per region (10,000 rps, burst 5,000; lower in a few regions), shared by
// every API of the account in the region. It is the only throttle API-wide
// traffic meets: stage and method throttles apply to each method
// separately.
var DefaultAccountThrottle = Limit{Rate: 10000, Burst: 5000}

// Account-throttle sources of Usage.AccountThrottleSource.
const (
	AccountFromAPI     = "account"
	AccountFromDefault = "default"
)

// accountReader is the optional GetAccount of the REST client: the account
// throttle is informative, so a client without it (or a denied call) falls
// back to the documented default.
type accountReader interface {
	GetAccount(ctx context.Context, in *apigateway.GetAccountInput, optFns ...func(*apigateway.Options)) (*apigateway.GetAccountOutput, error)
}

// accountThrottle returns the account-level throttle and where it came
// from.
func accountThrottle(ctx context.Context, c Clients) (Limit, string) {
	if r, ok := c.REST.(accountReader); ok && r != nil {
		if out, err := r.GetAccount(ctx, &apigateway.GetAccountInput{}); err == nil && out.ThrottleSettings != nil && out.ThrottleSettings.RateLimit > 0 {
			return Limit{Rate: out.ThrottleSettings.RateLimit, Burst: out.ThrottleSettings.BurstLimit}, AccountFromAPI
		}
	}
	return DefaultAccountThrottle, AccountFromDefault
}
