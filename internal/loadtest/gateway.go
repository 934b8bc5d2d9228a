package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// isGatewayThrottle reports whether a response is API Gateway's own
// throttling or quota answer rather than the backend's: status 429 with
// x-amzn-ErrorType TooManyRequestsException (a rate or burst limit) or
// LimitExceededException (a usage-plan quota). A backend's 429 passed
// through an integration does not carry that header type, so it counts
// as the backend's failure. See docs/aws-behaviour.md, "Gateway throttling
// responses (cap-search)".
func isGatewayThrottle(code int, h http.Header) bool {
	if code != http.StatusTooManyRequests {
		return false
	}
	t := h.Get("X-Amzn-Errortype")
	return strings.HasPrefix(t, "TooManyRequestsException") || strings.HasPrefix(t, "LimitExceededException")
}

// GatewayLimits are the live API Gateway throttles in front of each
// target, by target label ("POST /orders"): the stage's (the method's own
// setting, else */*, which API Gateway applies to each method separately)
// and the usage plan's of the key the load test sends. The tightest applies.
type GatewayLimits map[string][]Throttle

// tightest returns the target's lowest-rate throttle, or nil.
func (g GatewayLimits) tightest(label string) *Throttle {
	var out *Throttle
	for i, t := range g[label] {
		if t.Rate > 0 && (out == nil || t.Rate < out.Rate) {
			out = &g[label][i]
		}
	}
	return out
}

// tightestThrottle returns the aggregate rate of the mix at which the
// first method reaches its throttle (its throttle over its share) and that
// throttle; 0 and nil without throttles.
func tightestThrottle(targets Targets, g GatewayLimits) (float64, *Throttle) {
	shares := targets.Shares()
	var (
		ceiling float64
		th      *Throttle
	)
	for i, t := range targets {
		lim := g.tightest(t.Label())
		if lim == nil || shares[i] == 0 {
			continue
		}
		if c := lim.Rate / shares[i]; th == nil || c < ceiling {
			ceiling, th = c, lim
		}
	}
	if th != nil {
		c := *th
		th = &c
	}
	return ceiling, th
}

func gatewayCeiling(targets Targets, g GatewayLimits) float64 {
	c, _ := tightestThrottle(targets, g)
	return c
}

// classifyGateway marks a failed step GatewayLimited when some method was
// sent above its live throttle, the gateway answered 429s, and without
// those 429s the step would have met the objectives: the gateway, not the
// backend, refused the requests.
func (s *session) classifyGateway(st *Step, targets Targets) {
	if st.Pass || st.Interrupted || st.Gateway429 == 0 || len(s.gateway) == 0 || st.Requests <= st.Gateway429 {
		return
	}
	shares := targets.Shares()
	var above *Throttle
	for i, t := range targets {
		if lim := s.gateway.tightest(t.Label()); lim != nil && shares[i]*st.Rate > lim.Rate {
			above = lim
			break
		}
	}
	if above == nil {
		return
	}
	cp := *st
	cp.Requests = st.Requests - st.Gateway429
	cp.SuccessRatio = float64(st.Successes) / float64(cp.Requests)
	if admitted := st.Rate * float64(cp.Requests) / float64(st.Requests); admitted > 0 {
		cp.ThroughputRatio = st.Throughput / admitted
	}
	if ok, _ := s.objs.Evaluate(&cp); !ok {
		return
	}
	st.GatewayLimited = true
	st.Reason = fmt.Sprintf("gateway throttle: %d requests answered 429 by API Gateway above the %s throttle of %s rps (not the backend); %s",
		st.Gateway429, above.Source, fmtRate(above.Rate), st.Reason)
}

// ThrottleClient is the part of the API Gateway client that reading the
// live throttles uses.
type ThrottleClient interface {
	GetStage(ctx context.Context, in *apigateway.GetStageInput, optFns ...func(*apigateway.Options)) (*apigateway.GetStageOutput, error)
	GetApiKeys(ctx context.Context, in *apigateway.GetApiKeysInput, optFns ...func(*apigateway.Options)) (*apigateway.GetApiKeysOutput, error)
	GetUsagePlans(ctx context.Context, in *apigateway.GetUsagePlansInput, optFns ...func(*apigateway.Options)) (*apigateway.GetUsagePlansOutput, error)
}

// ReadGatewayLimits reads the live throttles in front of targets (labels
// "METHOD /path" as DiscoverTargets names them) on a REST API stage: the
// stage's method settings (the method's own, else */*) and, when apiKey
// is set, the usage plan of that key for this stage (its per-method
// throttle, else the plan's). The key is found by value (GetApiKeys with
// includeValues); its value is never returned or logged.
func ReadGatewayLimits(ctx context.Context, c ThrottleClient, apiID, stage, apiKey string, targets Targets) (GatewayLimits, error) {
	out := GatewayLimits{}
	st, err := c.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(apiID), StageName: aws.String(stage)})
	if err != nil {
		return nil, fmt.Errorf("read stage %s throttles: %w", stage, err)
	}
	stageOwn := map[string]types.MethodSetting{}
	var stageDef *types.MethodSetting
	for k, ms := range st.MethodSettings {
		if k == "*/*" || k == "/*/*" {
			d := ms
			stageDef = &d
			continue
		}
		if label, ok := stageKeyLabel(k); ok {
			stageOwn[label] = ms
		}
	}
	for _, t := range targets {
		label := t.Label()
		switch ms, ok := stageOwn[label]; {
		case ok && ms.ThrottlingRateLimit > 0:
			out[label] = append(out[label], Throttle{Rate: ms.ThrottlingRateLimit, Burst: int(ms.ThrottlingBurstLimit), Source: "stage " + stage + " " + label})
		case !ok && stageDef != nil && stageDef.ThrottlingRateLimit > 0:
			out[label] = append(out[label], Throttle{Rate: stageDef.ThrottlingRateLimit, Burst: int(stageDef.ThrottlingBurstLimit), Source: "stage " + stage + " */*"})
		}
	}
	if apiKey == "" {
		return out, nil
	}
	keyID, err := findKeyID(ctx, c, apiKey)
	if err != nil || keyID == "" {
		return out, err
	}
	pages := apigateway.NewGetUsagePlansPaginator(c, &apigateway.GetUsagePlansInput{KeyId: aws.String(keyID), Limit: aws.Int32(awsapi.PageLimit)})
	for pages.HasMorePages() {
		plans, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read usage plans of the load-test key: %w", err)
		}
		for _, p := range plans.Items {
			for _, as := range p.ApiStages {
				if aws.ToString(as.ApiId) != apiID || aws.ToString(as.Stage) != stage {
					continue
				}
				name := aws.ToString(p.Name)
				own := map[string]types.ThrottleSettings{}
				for k, th := range as.Throttle {
					if label, ok := planKeyLabel(k); ok {
						own[label] = th
					}
				}
				for _, t := range targets {
					label := t.Label()
					switch th, ok := own[label]; {
					case ok && th.RateLimit > 0:
						out[label] = append(out[label], Throttle{Rate: th.RateLimit, Burst: int(th.BurstLimit), Source: "usage plan " + name + " " + label})
					case !ok && p.Throttle != nil && p.Throttle.RateLimit > 0:
						out[label] = append(out[label], Throttle{Rate: p.Throttle.RateLimit, Burst: int(p.Throttle.BurstLimit), Source: "usage plan " + name})
					}
				}
			}
		}
	}
	return out, nil
}

func findKeyID(ctx context.Context, c ThrottleClient, value string) (string, error) {
	pages := apigateway.NewGetApiKeysPaginator(c, &apigateway.GetApiKeysInput{IncludeValues: aws.Bool(true), Limit: aws.Int32(awsapi.PageLimit)})
	for pages.HasMorePages() {
		keys, err := pages.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("find the load-test api key: %w", err)
		}
		for _, k := range keys.Items {
			if aws.ToString(k.Value) == value {
				return aws.ToString(k.Id), nil
			}
		}
	}
	return "", nil
}

// stageKeyLabel turns a stage method-setting key ("~1orders/POST", root
// "~1/GET") into a target label ("POST /orders").
func stageKeyLabel(k string) (string, bool) {
	i := strings.LastIndex(k, "/")
	if i <= 0 {
		return "", false
	}
	path := strings.ReplaceAll(k[:i], "~1", "/")
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return k[i+1:] + " " + path, true
}

// planKeyLabel turns a usage-plan method throttle key ("/orders/POST",
// root "//GET") into a target label.
func planKeyLabel(k string) (string, bool) {
	i := strings.LastIndex(k, "/")
	if i <= 0 {
		return "", false
	}
	path := k[:i]
	if path == "/" || path == "" {
		path = "/"
	}
	return k[i+1:] + " " + path, true
}
