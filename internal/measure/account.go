package measure

import (
	"context"

	"github.com/apictl/apictl/internal/awsfacts"

	"github.com/aws/aws-sdk-go-v2/service/apigateway"
)

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
// from: GetAccount, else the region's documented default
// (awsfacts.DefaultAccountThrottle: 10,000 rps, burst 5,000, lower in a few
// regions). It is the only throttle API-wide traffic meets: stage and
// method throttles apply to each method separately.
func accountThrottle(ctx context.Context, c Clients, region string) (Limit, string) {
	if r, ok := c.REST.(accountReader); ok && r != nil {
		if out, err := r.GetAccount(ctx, &apigateway.GetAccountInput{}); err == nil && out.ThrottleSettings != nil && out.ThrottleSettings.RateLimit > 0 {
			return Limit{Rate: out.ThrottleSettings.RateLimit, Burst: out.ThrottleSettings.BurstLimit}, AccountFromAPI
		}
	}
	d := awsfacts.DefaultAccountThrottle(region)
	return Limit{Rate: d.Rate, Burst: int32(d.Burst)}, AccountFromDefault
}
