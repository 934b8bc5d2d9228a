package plan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// DefaultUpdatePlanInterval is API Gateway's account limit on
// UpdateUsagePlan: one call per 20 seconds.
const DefaultUpdatePlanInterval = 20 * time.Second

// PacingFor returns the pacing of calls for an endpoint: AWS limits (one
// UpdateUsagePlan per 20 s, five CreateApiKey per second) unless the
// endpoint is on a loopback address (a local emulator).
func PacingFor(endpointURL string) map[string]time.Duration {
	if awsapi.IsLoopback(endpointURL) {
		return nil
	}
	return map[string]time.Duration{"UpdateUsagePlan": DefaultUpdatePlanInterval, "CreateApiKey": 200 * time.Millisecond}
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Pacing is the minimum interval between two calls of an operation
	// (see PacingFor).
	Pacing map[string]time.Duration
	// MaxAttempts bounds the tries of one call on TooManyRequests or
	// Conflict (default 6); RetryBase and RetryMax shape the exponential
	// backoff (default 250 ms, 20 s) unless the answer has Retry-After.
	MaxAttempts         int
	RetryBase, RetryMax time.Duration
	// Getenv resolves fromEnv key values.
	Getenv func(string) string
	// Progress receives one line per call made (nil: none).
	Progress io.Writer
	// Sleep waits (default: a timer honouring ctx); tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Result is what Apply did.
type Result struct {
	// Calls counts the mutating calls made, by operation.
	Calls map[string]int `json:"calls"`
	// CreatedKeys are the API keys created, with their values only when
	// the caller asks (see RevealValues).
	CreatedKeys []CreatedKey `json:"created_keys,omitempty"`
	// Done lists the changes applied, in order.
	Done []string `json:"done"`
}

// CreatedKey is an API key Apply created.
type CreatedKey struct {
	Name  string `json:"name"`
	ID    string `json:"id"`
	value string
}

// Value returns the key value (shown only with --show-secrets).
func (k CreatedKey) Value() string { return k.value }

type executor struct {
	c      Client
	opts   ApplyOptions
	res    *Result
	last   map[string]time.Time
	planID map[string]string
	keyID  map[string]string
}

func defaultSleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryable reports whether a failed call of op is tried again: a
// transient answer (awsapi.IsTransient), except that a create answered 5xx
// or with a lost answer may have been applied, and trying it again would
// make a duplicate; creates are retried only on answers that say nothing
// was done (throttling, a concurrent-modification conflict). The re-run of
// apply-plan converges from whatever the first try did.
func retryable(op string, err error) bool {
	if !awsapi.IsTransient(err) {
		return false
	}
	if strings.HasPrefix(op, "Create") {
		return awsapi.IsThrottle(err) || awsapi.IsConflict(err)
	}
	return true
}

// retryAfter returns the Retry-After delay of an HTTP answer, if any.
func retryAfter(err error) (time.Duration, bool) {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil {
		return 0, false
	}
	v := re.Response.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http1123(v); err == nil {
		return time.Until(t), true
	}
	return 0, false
}

func http1123(v string) (time.Time, error) { return time.Parse(time.RFC1123, v) }

// call runs fn for operation op with pacing and retries.
func (e *executor) call(ctx context.Context, op, what string, fn func(context.Context) error) error {
	attempts := e.opts.MaxAttempts
	if attempts <= 0 {
		attempts = 6
	}
	base, maxd := e.opts.RetryBase, e.opts.RetryMax
	if base <= 0 {
		base = 250 * time.Millisecond
	}
	if maxd <= 0 {
		maxd = 20 * time.Second
	}
	for i := 1; ; i++ {
		if iv := e.opts.Pacing[op]; iv > 0 {
			if last, ok := e.last[op]; ok {
				if wait := iv - time.Since(last); wait > 0 {
					e.progress("waiting %s before %s (API Gateway allows one per %s)", wait.Round(time.Second), op, iv)
					if err := e.opts.Sleep(ctx, wait); err != nil {
						return err
					}
				}
			}
		}
		e.last[op] = time.Now()
		e.res.Calls[op]++
		err := fn(ctx)
		if err == nil {
			e.progress("%s: %s", op, what)
			return nil
		}
		if awsapi.IsConflict(err) && !awsapi.IsTransient(err) {
			return &ConflictError{Op: op, What: what, Err: err}
		}
		if !retryable(op, err) || i >= attempts || ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		d, ok := retryAfter(err)
		if !ok {
			d = min(maxd, base<<(i-1))
			d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
		}
		e.progress("%s: %s answered %s, retry %d/%d in %s", what, op, awsapi.ErrorCode(err), i, attempts-1, d.Round(time.Millisecond))
		if err := e.opts.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// ConflictError is a ConflictException that trying again cannot fix (a key
// already in another usage plan for the stage, a name already taken): Apply
// stops at the first answer instead of retrying it.
type ConflictError struct {
	Op, What string
	Err      error
}

func (e *ConflictError) Error() string { return e.What + ": " + e.Err.Error() }
func (e *ConflictError) Unwrap() error { return e.Err }

// Hint says what to change before applying again.
func (e *ConflictError) Hint() string {
	if e.Op == "CreateUsagePlanKey" {
		return "an API key can be in only one usage plan per API stage: remove the key from its other usage plan for this stage, then apply again"
	}
	return "AWS refused the change as conflicting with its current state and retrying will not help: compare the live state with the plan, fix one of them, then apply again"
}

func (e *executor) progress(format string, args ...any) {
	if e.opts.Progress != nil {
		fmt.Fprintf(e.opts.Progress, format+"\n", args...)
	}
}

// Apply makes the changes, in an order API Gateway accepts: stages; key
// removals from plans; replaced keys deleted; keys created and updated;
// usage plans created and updated; keys added to plans; pruned plans
// detached and deleted; pruned keys deleted. It stops at the first error:
// the state left behind converges when the plan is applied again.
func Apply(ctx context.Context, c Client, ch *Changes, opts ApplyOptions) (*Result, error) {
	if opts.Sleep == nil {
		opts.Sleep = defaultSleep
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	e := &executor{c: c, opts: opts, res: &Result{Calls: map[string]int{}, Done: []string{}}, last: map[string]time.Time{},
		planID: map[string]string{}, keyID: map[string]string{}}
	res := e.res
	done := func(c *Change) { res.Done = append(res.Done, describe(c)) }
	for _, x := range ch.UsagePlans {
		if x.planID != "" {
			e.planID[x.Name] = x.planID
		}
	}
	for _, x := range ch.PlanKeys {
		if x.planID != "" && x.Plan != "" {
			e.planID[x.Plan] = x.planID
		}
	}

	// 1. Stages.
	for _, x := range ch.Stages {
		var err error
		if ch.APIType == TypeHTTP {
			err = e.applyHTTPStage(ctx, ch, x)
		} else {
			err = e.call(ctx, "UpdateStage", "update stage "+x.Name, func(ctx context.Context) error {
				_, err := c.REST.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: aws.String(ch.APIID), StageName: aws.String(x.Name), PatchOperations: x.ops})
				return err
			})
		}
		if err != nil {
			return res, err
		}
		done(x)
	}
	if ch.APIType == TypeHTTP {
		return res, nil
	}
	// 2. Key removals from plans.
	for _, x := range ch.PlanKeys {
		if x.Action != ActionDelete {
			continue
		}
		err := e.call(ctx, "DeleteUsagePlanKey", fmt.Sprintf("remove key %q from usage plan %q", x.Key, x.Plan), func(ctx context.Context) error {
			_, err := c.REST.DeleteUsagePlanKey(ctx, &apigateway.DeleteUsagePlanKeyInput{UsagePlanId: aws.String(x.planID), KeyId: aws.String(x.keyID)})
			if awsapi.IsNotFound(err) {
				return nil // already gone
			}
			return err
		})
		if err != nil {
			return res, err
		}
		done(x)
	}
	// 3-4. Keys.
	for _, x := range ch.APIKeys {
		switch x.Action {
		case ActionReplace:
			if err := e.deleteKey(ctx, x); err != nil {
				return res, err
			}
			fallthrough
		case ActionCreate:
			in := *x.createKey
			if x.fromEnv != "" {
				v := getenv(x.fromEnv)
				if v == "" {
					return res, fmt.Errorf("create API key %q: environment variable %s is not set", x.Name, x.fromEnv)
				}
				in.Value = aws.String(v)
			}
			var out *apigateway.CreateApiKeyOutput
			err := e.call(ctx, "CreateApiKey", fmt.Sprintf("create API key %q", x.Name), func(ctx context.Context) error {
				var err error
				out, err = c.REST.CreateApiKey(ctx, &in)
				return err
			})
			if err != nil {
				return res, err
			}
			e.keyID[x.Name] = aws.ToString(out.Id)
			res.CreatedKeys = append(res.CreatedKeys, CreatedKey{Name: x.Name, ID: aws.ToString(out.Id), value: aws.ToString(out.Value)})
			done(x)
		case ActionUpdate:
			err := e.call(ctx, "UpdateApiKey", fmt.Sprintf("update API key %q", x.Name), func(ctx context.Context) error {
				_, err := c.REST.UpdateApiKey(ctx, &apigateway.UpdateApiKeyInput{ApiKey: aws.String(x.keyID), PatchOperations: x.ops})
				return err
			})
			if err != nil {
				return res, err
			}
			done(x)
		}
	}
	// 5. Usage plans created and updated.
	for _, x := range ch.UsagePlans {
		switch x.Action {
		case ActionCreate:
			var out *apigateway.CreateUsagePlanOutput
			err := e.call(ctx, "CreateUsagePlan", fmt.Sprintf("create usage plan %q", x.Name), func(ctx context.Context) error {
				var err error
				out, err = c.REST.CreateUsagePlan(ctx, x.createPlan)
				return err
			})
			if err != nil {
				return res, err
			}
			e.planID[x.Name] = aws.ToString(out.Id)
			done(x)
		case ActionUpdate:
			err := e.call(ctx, "UpdateUsagePlan", fmt.Sprintf("update usage plan %q", x.Name), func(ctx context.Context) error {
				_, err := c.REST.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: aws.String(x.planID), PatchOperations: x.ops})
				return err
			})
			if err != nil {
				return res, err
			}
			done(x)
		}
	}
	// 6. Keys added to plans.
	for _, x := range ch.PlanKeys {
		if x.Action != ActionCreate {
			continue
		}
		planID, keyID := x.planID, x.keyID
		if planID == "" {
			planID = e.planID[x.Plan]
		}
		if id, ok := e.keyID[x.Key]; ok {
			keyID = id
		}
		if planID == "" || keyID == "" {
			return res, fmt.Errorf("add key %q to usage plan %q: unresolved id (plan %q, key %q)", x.Key, x.Plan, planID, keyID)
		}
		err := e.call(ctx, "CreateUsagePlanKey", fmt.Sprintf("add key %q to usage plan %q", x.Key, x.Plan), func(ctx context.Context) error {
			_, err := c.REST.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: aws.String(planID), KeyId: aws.String(keyID), KeyType: aws.String("API_KEY")})
			return err
		})
		if err != nil {
			return res, err
		}
		done(x)
	}
	// 7. Pruned plans: detach every stage, then delete.
	for _, x := range ch.UsagePlans {
		if x.Action != ActionDelete {
			continue
		}
		if len(x.detach) > 0 {
			var ops []types.PatchOperation
			for _, ref := range x.detach {
				ops = append(ops, types.PatchOperation{Op: types.OpRemove, Path: aws.String("/apiStages"), Value: aws.String(ref)})
			}
			err := e.call(ctx, "UpdateUsagePlan", fmt.Sprintf("detach stages of usage plan %q", x.Name), func(ctx context.Context) error {
				_, err := c.REST.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: aws.String(x.planID), PatchOperations: ops})
				return err
			})
			if err != nil {
				return res, err
			}
		}
		err := e.call(ctx, "DeleteUsagePlan", fmt.Sprintf("delete usage plan %q", x.Name), func(ctx context.Context) error {
			_, err := c.REST.DeleteUsagePlan(ctx, &apigateway.DeleteUsagePlanInput{UsagePlanId: aws.String(x.planID)})
			return err
		})
		if err != nil {
			return res, err
		}
		done(x)
	}
	// 8. Pruned keys.
	for _, x := range ch.APIKeys {
		if x.Action != ActionDelete {
			continue
		}
		if err := e.deleteKey(ctx, x); err != nil {
			return res, err
		}
		done(x)
	}
	return res, nil
}

func (e *executor) deleteKey(ctx context.Context, x *Change) error {
	return e.call(ctx, "DeleteApiKey", fmt.Sprintf("delete API key %q", x.Name), func(ctx context.Context) error {
		_, err := e.c.REST.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: aws.String(x.keyID)})
		if awsapi.IsNotFound(err) {
			return nil
		}
		return err
	})
}

func (e *executor) applyHTTPStage(ctx context.Context, ch *Changes, x *Change) error {
	if x.httpUpdate != nil {
		err := e.call(ctx, "UpdateStage", "update stage "+x.Name, func(ctx context.Context) error {
			_, err := e.c.HTTP.UpdateStage(ctx, x.httpUpdate)
			return err
		})
		if err != nil {
			return err
		}
	}
	for _, rk := range x.httpDelete {
		err := e.call(ctx, "DeleteRouteSettings", fmt.Sprintf("delete route settings %s of stage %s", rk, x.Name), func(ctx context.Context) error {
			_, err := e.c.HTTP.DeleteRouteSettings(ctx, &apigatewayv2.DeleteRouteSettingsInput{ApiId: aws.String(ch.APIID), StageName: aws.String(x.Name), RouteKey: aws.String(rk)})
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func describe(c *Change) string {
	switch c.Kind {
	case "plan_key":
		if c.Action == ActionCreate {
			return fmt.Sprintf("added key %q to usage plan %q", c.Key, c.Plan)
		}
		return fmt.Sprintf("removed key %q from usage plan %q", c.Key, c.Plan)
	default:
		past := map[string]string{ActionCreate: "created", ActionUpdate: "updated", ActionDelete: "deleted", ActionReplace: "replaced"}[c.Action]
		return fmt.Sprintf("%s %s %q", past, kindLabel(c.Kind), c.Name)
	}
}

func kindLabel(kind string) string {
	switch kind {
	case "usage_plan":
		return "usage plan"
	case "api_key":
		return "API key"
	case "plan_key":
		return "plan key"
	}
	return kind
}

// MutatingOps lists the API operations Apply may call, sorted.
func MutatingOps() []string {
	ops := []string{"UpdateStage", "DeleteUsagePlanKey", "DeleteApiKey", "CreateApiKey", "UpdateApiKey", "CreateUsagePlan",
		"UpdateUsagePlan", "CreateUsagePlanKey", "DeleteUsagePlan", "DeleteRouteSettings"}
	sort.Strings(ops)
	return ops
}
