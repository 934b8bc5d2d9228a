package plan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
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
	getenv func(string) string
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

// phase is one step of Apply: every change of one kind whose action is
// listed (nil: any), in the order of the list of changes.
type phase struct {
	kind    Kind
	actions []Action
	apply   func(e *executor, ctx context.Context, ch *Changes, x *Change) error
}

// applyPhases is the order of Apply, one API Gateway accepts: a key leaves
// a usage plan before it joins another; a replaced key is deleted before
// its new value is created; keys and plans exist before a key joins a plan;
// a pruned plan loses its keys before it is deleted, and a pruned key its
// memberships. Each step is in the file of its kind.
var applyPhases = []phase{
	{KindStage, nil, (*executor).applyStage},
	{KindPlanKey, []Action{ActionDelete}, (*executor).removePlanKey},
	{KindAPIKey, []Action{ActionReplace, ActionCreate, ActionUpdate}, (*executor).applyAPIKey},
	{KindUsagePlan, []Action{ActionCreate, ActionUpdate}, (*executor).applyUsagePlan},
	{KindPlanKey, []Action{ActionCreate}, (*executor).addPlanKey},
	{KindUsagePlan, []Action{ActionDelete}, (*executor).deleteUsagePlan},
	{KindAPIKey, []Action{ActionDelete}, (*executor).deleteAPIKey},
}

func (ph phase) selects(x *Change) bool {
	return ph.actions == nil || slices.Contains(ph.actions, x.Action)
}

// Apply makes the changes in the order of applyPhases (an HTTP API has
// stages only). It stops at the first error: the state left behind
// converges when the plan is applied again.
func Apply(ctx context.Context, c Client, ch *Changes, opts ApplyOptions) (*Result, error) {
	if opts.Sleep == nil {
		opts.Sleep = defaultSleep
	}
	e := &executor{c: c, opts: opts, getenv: opts.Getenv, res: &Result{Calls: map[string]int{}, Done: []string{}}, last: map[string]time.Time{},
		planID: map[string]string{}, keyID: map[string]string{}}
	if e.getenv == nil {
		e.getenv = func(string) string { return "" }
	}
	for _, x := range ch.UsagePlans {
		if x.Apply.PlanID != "" {
			e.planID[x.Name] = x.Apply.PlanID
		}
	}
	for _, x := range ch.PlanKeys {
		if x.Apply.PlanID != "" && x.Plan != "" {
			e.planID[x.Plan] = x.Apply.PlanID
		}
	}
	for _, ph := range applyPhases {
		if ch.APIType == TypeHTTP && ph.kind != KindStage {
			continue
		}
		for _, x := range ch.list(ph.kind) {
			if !ph.selects(x) {
				continue
			}
			if err := ph.apply(e, ctx, ch, x); err != nil {
				return e.res, err
			}
			e.res.Done = append(e.res.Done, describe(x))
		}
	}
	return e.res, nil
}

// sdkPatchOps returns the SDK form of patch operations.
func sdkPatchOps(ops []PatchOp) []types.PatchOperation {
	var out []types.PatchOperation
	for _, op := range ops {
		out = append(out, types.PatchOperation{Op: types.Op(op.Op), Path: aws.String(op.Path), Value: op.Value, From: op.From})
	}
	return out
}

// MutatingOps lists the API operations Apply may call, sorted.
func MutatingOps() []string {
	ops := []string{"UpdateStage", "DeleteUsagePlanKey", "DeleteApiKey", "CreateApiKey", "UpdateApiKey", "CreateUsagePlan",
		"UpdateUsagePlan", "CreateUsagePlanKey", "DeleteUsagePlan", "DeleteRouteSettings"}
	sort.Strings(ops)
	return ops
}
