package plan

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/awsfacts"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
)

// DiffOptions tune Compute and Diff.
type DiffOptions struct {
	// Prune deletes managed usage plans and keys that are not in the plan,
	// and stage method settings the plan does not list.
	Prune bool
	// Getenv resolves fromEnv key values.
	Getenv func(string) string
}

// Client bundles what Diff and Apply talk to.
type Client struct {
	REST   RESTAPI
	HTTP   HTTPAPI
	Region string
}

// NewClient returns the Client of a set of AWS clients.
func NewClient(c *awsapi.Clients) Client {
	return Client{REST: c.APIGateway, HTTP: c.APIGatewayV2, Region: c.Region}
}

// NewApplyClient returns a Client for Apply: the same configuration with the
// SDK's own retries off, because Apply retries every write itself (honouring
// Retry-After, pacing UpdateUsagePlan, saying so on its progress writer);
// with both, a throttled write would be tried up to 6 × 8 times.
func NewApplyClient(c *awsapi.Clients) Client {
	return Client{
		REST:   apigateway.NewFromConfig(c.Config, func(o *apigateway.Options) { o.Retryer = aws.NopRetryer{} }),
		HTTP:   apigatewayv2.NewFromConfig(c.Config, func(o *apigatewayv2.Options) { o.Retryer = aws.NopRetryer{} }),
		Region: c.Region,
	}
}

// Diff reads the live state the plan touches and computes the changes.
func Diff(ctx context.Context, c Client, p *Plan, opts DiffOptions) (*Changes, error) {
	ch, _, err := diff(ctx, c, p, opts)
	return ch, err
}

// diff reads the live state the plan touches and computes the changes;
// fingerprint digests the live state read (see Fingerprint).
func diff(ctx context.Context, c Client, p *Plan, opts DiffOptions) (ch *Changes, fingerprint func() string, err error) {
	if p.EffectiveType() == TypeHTTP {
		if c.HTTP == nil {
			return nil, nil, fmt.Errorf("diff plan: no API Gateway v2 client for an HTTP API plan")
		}
		live, err := ReadLiveHTTP(ctx, c.HTTP, p)
		if err != nil {
			return nil, nil, err
		}
		ch, err := ComputeHTTP(p, live, opts)
		return ch, func() string { return FingerprintHTTP(live) }, err
	}
	if c.REST == nil {
		return nil, nil, fmt.Errorf("diff plan: no API Gateway client")
	}
	live, err := ReadLive(ctx, c.REST, c.Region, p, ReadOptions{Getenv: opts.Getenv})
	if err != nil {
		return nil, nil, err
	}
	ch, err = Compute(p, live, opts)
	return ch, func() string { return Fingerprint(live) }, err
}

// Compute diffs a REST plan against live state. It is pure: no calls. Each
// kind of resource diffs in its own file; the order below is the order of
// the notes and problems reported, and each step reads what the earlier
// ones found (the ids of kept keys and plans, the keys replaced).
func Compute(p *Plan, live *Live, opts DiffOptions) (*Changes, error) {
	d, err := newDiffer(p, live, opts)
	if err != nil {
		return nil, err
	}
	if err := d.stages(); err != nil {
		return nil, err
	}
	d.apiKeys()
	d.usagePlans()
	d.pruneUsagePlans()
	d.pruneAPIKeys()
	d.noteReplacedKeyMemberships()
	d.planKeys()
	d.planKeyClashes()
	return d.result()
}

// differ holds what the steps of Compute share: the plan, the live state
// indexed by name and id, and what the earlier steps decided.
type differ struct {
	p      *Plan
	live   *Live
	opts   DiffOptions
	getenv func(string) string
	ch     *Changes

	problems, hints, notes []string
	remedy                 Remedy // a way out of the problems through an option

	plansByName map[string][]*LivePlan
	planByID    map[string]*LivePlan
	keysByName  map[string][]*LiveKey
	keyByID     map[string]*LiveKey

	desiredKeys  map[string]bool
	keyIDs       map[string]string // API key name → live id (existing, kept)
	replacedKeys map[string]bool   // recreated: every membership must be recreated
	createdKeys  map[string]bool
	desiredPlans map[string]bool
	planIDs      map[string]string // usage plan name → live id
}

func newDiffer(p *Plan, live *Live, opts DiffOptions) (*differ, error) {
	d := &differ{p: p, live: live, opts: opts, getenv: opts.Getenv,
		ch: &Changes{APIID: live.APIID, APIName: live.APIName, APIType: TypeREST, File: p.File, region: live.Region,
			Stages: []*Change{}, UsagePlans: []*Change{}, APIKeys: []*Change{}, PlanKeys: []*Change{}},
		plansByName: map[string][]*LivePlan{}, planByID: map[string]*LivePlan{},
		keysByName: map[string][]*LiveKey{}, keyByID: map[string]*LiveKey{},
		desiredKeys: map[string]bool{}, keyIDs: map[string]string{}, replacedKeys: map[string]bool{}, createdKeys: map[string]bool{},
		desiredPlans: map[string]bool{}, planIDs: map[string]string{}}
	if d.getenv == nil {
		d.getenv = func(string) string { return "" }
	}
	if err := d.checkMethods(); err != nil {
		return nil, err
	}
	for _, lp := range live.UsagePlans {
		d.plansByName[lp.Name] = append(d.plansByName[lp.Name], lp)
		d.planByID[lp.ID] = lp
	}
	for _, lk := range live.APIKeys {
		d.keysByName[lk.Name] = append(d.keysByName[lk.Name], lk)
		d.keyByID[lk.ID] = lk
	}
	return d, nil
}

// checkMethods fails unless every method the plan names exists.
func (d *differ) checkMethods() error {
	var unknown []string
	check := func(key string) {
		if id, err := methodID(key); err != nil || !d.live.Methods[id] {
			unknown = append(unknown, key)
		}
	}
	if d.p.Stage != nil {
		for _, m := range d.p.Stage.Methods {
			check(m.Key)
		}
	}
	for _, u := range d.p.UsagePlans {
		for _, m := range u.Methods {
			check(m.Key)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	var have []string
	for id := range d.live.Methods {
		have = append(have, id.String())
	}
	sort.Strings(have)
	return &LiveError{
		Msg: fmt.Sprintf("%s: API %s (%s) has no method %s", d.p.File, d.live.APIName, d.live.APIID, strings.Join(quoteAll(dedupe(unknown)), ", ")),
		Fix: "fix the method keys in the plan or create the methods first; methods of the API: " + listOrNone(have),
	}
}

// methodID parses a method key of the plan (checked by checkMethods).
func methodID(key string) (MethodID, error) {
	verb, path, err := ParseMethodKey(key)
	return MethodID{verb, path}, err
}

func (d *differ) problem(msg, hint string) {
	d.problems = append(d.problems, msg)
	if hint != "" {
		d.hints = append(d.hints, hint)
	}
}

// owned picks the one managed resource among the live ones with a name
// from the plan: mi is -1 when there is none (create it); ok is false when
// the name is ambiguous or taken by an unmanaged resource.
func (d *differ) owned(kind Kind, name string, managed []bool, ids []string) (mi int, ok bool) {
	mi = -1
	for i, m := range managed {
		if m {
			if mi >= 0 {
				d.problem(fmt.Sprintf("%s %q: %d managed resources have this name (ids %s)", kind.Label(), name, len(ids), strings.Join(ids, ", ")),
					"delete the duplicates so one remains")
				return -1, false
			}
			mi = i
		}
	}
	if mi < 0 && len(managed) > 0 {
		arnKind := map[Kind]string{KindUsagePlan: "usageplans", KindAPIKey: "apikeys"}[kind]
		d.problem(fmt.Sprintf("%s %q (id %s) exists but is not managed by apictl (no tag %s=true)", kind.Label(), name, ids[0], ManagedTag),
			fmt.Sprintf("apictl never adopts resources silently: rename it in the plan, delete it, or adopt it with: aws apigateway tag-resource --resource-arn %s --tags %s=true", awsfacts.APIGatewayARN(d.live.Region, "/"+arnKind+"/"+ids[0]), ManagedTag))
		return -1, false
	}
	return mi, true
}

// result ends Compute: every problem found, or the changes with their notes.
func (d *differ) result() (*Changes, error) {
	if len(d.problems) > 0 {
		return nil, &LiveError{Msg: strings.Join(dedupe(d.problems), "; "), Fix: strings.Join(dedupe(d.hints), "; "), Remedy: d.remedy}
	}
	if len(d.p.UsagePlans) > 0 && len(d.live.KeyRequired) == 0 && d.live.KeyRequired != nil {
		d.notes = append(d.notes, "no method of the API requires an API key (apiKeyRequired), so usage plan throttles and quotas do not apply to any request yet")
	}
	d.ch.Notes = d.notes
	d.ch.count()
	return d.ch, nil
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func sp(s string) *string { return &s }

func ptrIf(ok bool, s string) *string {
	if !ok {
		return nil
	}
	return &s
}

func sameRate(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func desiredThrottle(t *Throttle) *ThrottleValue {
	if t == nil || t.Rate == nil {
		return nil
	}
	tv := &ThrottleValue{Rate: *t.Rate}
	if t.Burst != nil {
		tv.Burst = *t.Burst
	}
	return tv
}

func fmtThrottle(t *ThrottleValue) string {
	if t == nil {
		return "none"
	}
	if t.Blocks() {
		return "rate 0, burst 0 (blocks every request)"
	}
	return fmt.Sprintf("rate %s, burst %d", fmtFloat(t.Rate), t.Burst)
}

// blockedNote marks a figure of a 0/0 throttle in a field of the diff.
func blockedNote(t *ThrottleValue) string {
	if t.Blocks() {
		return " (blocks every request)"
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
