package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/awsfacts"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// RESTAPI is the part of the API Gateway (v1) client the plan package uses;
// *apigateway.Client implements it.
type RESTAPI interface {
	GetRestApis(context.Context, *apigateway.GetRestApisInput, ...func(*apigateway.Options)) (*apigateway.GetRestApisOutput, error)
	GetResources(context.Context, *apigateway.GetResourcesInput, ...func(*apigateway.Options)) (*apigateway.GetResourcesOutput, error)
	GetStage(context.Context, *apigateway.GetStageInput, ...func(*apigateway.Options)) (*apigateway.GetStageOutput, error)
	GetStages(context.Context, *apigateway.GetStagesInput, ...func(*apigateway.Options)) (*apigateway.GetStagesOutput, error)
	UpdateStage(context.Context, *apigateway.UpdateStageInput, ...func(*apigateway.Options)) (*apigateway.UpdateStageOutput, error)
	GetUsagePlans(context.Context, *apigateway.GetUsagePlansInput, ...func(*apigateway.Options)) (*apigateway.GetUsagePlansOutput, error)
	CreateUsagePlan(context.Context, *apigateway.CreateUsagePlanInput, ...func(*apigateway.Options)) (*apigateway.CreateUsagePlanOutput, error)
	UpdateUsagePlan(context.Context, *apigateway.UpdateUsagePlanInput, ...func(*apigateway.Options)) (*apigateway.UpdateUsagePlanOutput, error)
	DeleteUsagePlan(context.Context, *apigateway.DeleteUsagePlanInput, ...func(*apigateway.Options)) (*apigateway.DeleteUsagePlanOutput, error)
	GetUsagePlanKeys(context.Context, *apigateway.GetUsagePlanKeysInput, ...func(*apigateway.Options)) (*apigateway.GetUsagePlanKeysOutput, error)
	CreateUsagePlanKey(context.Context, *apigateway.CreateUsagePlanKeyInput, ...func(*apigateway.Options)) (*apigateway.CreateUsagePlanKeyOutput, error)
	DeleteUsagePlanKey(context.Context, *apigateway.DeleteUsagePlanKeyInput, ...func(*apigateway.Options)) (*apigateway.DeleteUsagePlanKeyOutput, error)
	GetApiKeys(context.Context, *apigateway.GetApiKeysInput, ...func(*apigateway.Options)) (*apigateway.GetApiKeysOutput, error)
	GetApiKey(context.Context, *apigateway.GetApiKeyInput, ...func(*apigateway.Options)) (*apigateway.GetApiKeyOutput, error)
	CreateApiKey(context.Context, *apigateway.CreateApiKeyInput, ...func(*apigateway.Options)) (*apigateway.CreateApiKeyOutput, error)
	UpdateApiKey(context.Context, *apigateway.UpdateApiKeyInput, ...func(*apigateway.Options)) (*apigateway.UpdateApiKeyOutput, error)
	DeleteApiKey(context.Context, *apigateway.DeleteApiKeyInput, ...func(*apigateway.Options)) (*apigateway.DeleteApiKeyOutput, error)
	GetTags(context.Context, *apigateway.GetTagsInput, ...func(*apigateway.Options)) (*apigateway.GetTagsOutput, error)
}

var _ RESTAPI = (*apigateway.Client)(nil)

// Tags apictl puts on what it creates. Only resources tagged ManagedTag=true
// are ever updated or deleted.
const (
	ManagedTag = "apictl:managed"
	APITag     = "apictl:api" // id of the API a resource was created for (scopes --prune)
)

// MethodID identifies a method of an API: verb and resource path template.
type MethodID struct {
	Verb, Path string
}

func (m MethodID) String() string { return m.Verb + " " + m.Path }

// ThrottleValue is a normalised throttle.
type ThrottleValue struct {
	Rate  float64 `json:"rate"`
	Burst int     `json:"burst"`
}

// QuotaValue is a normalised quota.
type QuotaValue struct {
	Limit  int    `json:"limit"`
	Period string `json:"period"`
	Offset int    `json:"offset"`
}

// Live is the normalised live state relevant to one plan.
type Live struct {
	APIID, APIName string
	Region         string
	// Methods are every method of the API's resources; KeyRequired those
	// with apiKeyRequired (usage plans only act on them).
	Methods     map[MethodID]bool
	KeyRequired map[MethodID]bool
	Stages      map[string]*LiveStage
	// UsagePlans are every usage plan of the region (ownership and key
	// conflicts need them all).
	UsagePlans []*LivePlan
	APIKeys    []*LiveKey
}

// LiveStage is a stage's throttle settings.
type LiveStage struct {
	Name           string
	Default        *ThrottleValue // */*; nil when not set
	DefaultMetrics bool
	Methods        map[MethodID]LiveMethodSetting
}

// LiveMethodSetting is one method's stage setting.
type LiveMethodSetting struct {
	Throttle *ThrottleValue
	Metrics  bool
}

// LivePlan is a normalised usage plan.
type LivePlan struct {
	ID, Name, Description string
	Throttle              *ThrottleValue
	Quota                 *QuotaValue
	// Stages are the plan's stages of this API with their per-method throttles.
	Stages map[string]map[MethodID]ThrottleValue
	// OtherStages are "apiId:stage" of other APIs.
	OtherStages []string
	Tags        map[string]string
	// Keys are the plan's API keys (read for plans of this API and plans
	// named in the plan file).
	Keys     []LivePlanKey
	KeysRead bool
}

// Managed reports whether apictl owns the plan.
func (p *LivePlan) Managed() bool { return p.Tags[ManagedTag] == "true" }

// LivePlanKey is a key associated with a usage plan.
type LivePlanKey struct {
	ID, Name string
}

// LiveKey is a normalised API key; its value is never kept.
type LiveKey struct {
	ID, Name, Description, CustomerID string
	Enabled                           bool
	Tags                              map[string]string
	// ValueMatches is set when the plan takes the key's value from the
	// environment: whether the live value equals it.
	ValueMatches *bool
}

// Managed reports whether apictl owns the key.
func (k *LiveKey) Managed() bool { return k.Tags[ManagedTag] == "true" }

// ReadOptions tune ReadLive.
type ReadOptions struct {
	// Getenv resolves fromEnv key values (default: none set).
	Getenv func(string) string
}

// LiveError is a problem found in live state that the user must fix
// (unknown API, stage or method, unmanaged resource of the same name); Fix
// says how.
type LiveError struct {
	Msg string
	Fix string
	// Remedy is a further way out through an option of the caller's, which
	// the caller words (the CLI with its flag); Fix leaves it out.
	Remedy Remedy
}

func (e *LiveError) Error() string { return e.Msg }

// Hint returns the advice (printed by the CLI as "hint: …").
func (e *LiveError) Hint() string { return e.Fix }

// ReadLive reads every page of the live state a REST plan touches: the API
// (by name or id), its resources and methods, the plan's stages, every usage
// plan, every API key (never their values, except one GetApiKey per
// existing key whose plan value comes from the environment, to compare) and
// the keys of the usage plans of this API.
func ReadLive(ctx context.Context, api RESTAPI, region string, p *Plan, opts ReadOptions) (*Live, error) {
	if p.EffectiveType() != TypeREST {
		return nil, fmt.Errorf("read live state: %s API plans need ReadLiveHTTP", p.EffectiveType())
	}
	live := &Live{Region: region, Methods: map[MethodID]bool{}, KeyRequired: map[MethodID]bool{}, Stages: map[string]*LiveStage{}}
	if err := resolveRestAPI(ctx, api, p.API, live); err != nil {
		return nil, err
	}
	// Resources with their methods.
	resPages := apigateway.NewGetResourcesPaginator(api, &apigateway.GetResourcesInput{RestApiId: &live.APIID, Embed: []string{"methods"}, Limit: aws.Int32(awsapi.PageLimit)})
	for resPages.HasMorePages() {
		out, err := resPages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read resources of API %s: %w", live.APIID, err)
		}
		for _, r := range out.Items {
			for verb, m := range r.ResourceMethods {
				id := MethodID{verb, aws.ToString(r.Path)}
				live.Methods[id] = true
				if aws.ToBool(m.ApiKeyRequired) {
					live.KeyRequired[id] = true
				}
			}
		}
	}
	// Stages.
	var missing []string
	for _, name := range dedupe(p.Stages) {
		out, err := api.GetStage(ctx, &apigateway.GetStageInput{RestApiId: &live.APIID, StageName: aws.String(name)})
		if err != nil {
			if awsapi.IsNotFound(err) {
				missing = append(missing, name)
				continue
			}
			return nil, fmt.Errorf("read stage %s of API %s: %w", name, live.APIID, err)
		}
		st, err := normaliseStage(name, out.MethodSettings)
		if err != nil {
			return nil, err
		}
		live.Stages[name] = st
	}
	if len(missing) > 0 {
		var have []string
		if out, err := api.GetStages(ctx, &apigateway.GetStagesInput{RestApiId: &live.APIID}); err == nil {
			for _, s := range out.Item {
				have = append(have, aws.ToString(s.StageName))
			}
		}
		return nil, &LiveError{
			Msg: fmt.Sprintf("stage %s of API %s (%s) does not exist", strings.Join(quoteAll(missing), ", "), live.APIName, live.APIID),
			Fix: fmt.Sprintf("deploy the stage first, or fix stages: in the plan (existing stages: %s)", listOrNone(have)),
		}
	}
	// Usage plans.
	plans, err := awsapi.ListUsagePlans(ctx, api)
	if err != nil {
		return nil, err
	}
	for _, u := range plans {
		lp, err := normalisePlan(u, live.APIID)
		if err != nil {
			return nil, err
		}
		live.UsagePlans = append(live.UsagePlans, lp)
	}
	// API keys, without values.
	keyPages := apigateway.NewGetApiKeysPaginator(api, &apigateway.GetApiKeysInput{Limit: aws.Int32(awsapi.PageLimit), IncludeValues: aws.Bool(false)})
	for keyPages.HasMorePages() {
		out, err := keyPages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read API keys: %w", err)
		}
		for _, k := range out.Items {
			live.APIKeys = append(live.APIKeys, &LiveKey{
				ID: aws.ToString(k.Id), Name: aws.ToString(k.Name), Description: aws.ToString(k.Description),
				CustomerID: aws.ToString(k.CustomerId), Enabled: k.Enabled, Tags: k.Tags,
			})
		}
	}
	// Tags missing from list answers are read by ARN for the resources whose
	// ownership matters: those named in the plan.
	planNames := map[string]bool{}
	for _, u := range p.UsagePlans {
		planNames[u.Name] = true
	}
	keyNames := map[string]bool{}
	for _, k := range p.APIKeys {
		keyNames[k.Name] = true
	}
	for _, lp := range live.UsagePlans {
		if lp.Tags == nil && planNames[lp.Name] {
			tags, err := readTags(ctx, api, awsfacts.APIGatewayARN(region, "/usageplans/"+lp.ID))
			if err != nil {
				return nil, err
			}
			lp.Tags = tags
		}
	}
	for _, lk := range live.APIKeys {
		if lk.Tags == nil && keyNames[lk.Name] {
			tags, err := readTags(ctx, api, awsfacts.APIGatewayARN(region, "/apikeys/"+lk.ID))
			if err != nil {
				return nil, err
			}
			lk.Tags = tags
		}
	}
	// Keys of the usage plans of this API and of those the plan names.
	for _, lp := range live.UsagePlans {
		if len(lp.Stages) == 0 && !planNames[lp.Name] && lp.Tags[APITag] != live.APIID {
			continue
		}
		if err := readPlanKeys(ctx, api, lp); err != nil {
			return nil, err
		}
	}
	// Values from the environment: compare, never keep.
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	for _, k := range p.APIKeys {
		if k.Value == nil || k.Value.FromEnv == "" {
			continue
		}
		want := getenv(k.Value.FromEnv)
		for _, lk := range live.APIKeys {
			if lk.Name != k.Name || !lk.Managed() || want == "" {
				continue
			}
			out, err := api.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: aws.String(lk.ID), IncludeValue: aws.Bool(true)})
			if err != nil {
				return nil, fmt.Errorf("read API key %q to compare its value: %w", lk.Name, err)
			}
			match := aws.ToString(out.Value) == want
			lk.ValueMatches = &match
		}
	}
	return live, nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func listOrNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ", ")
}

func resolveRestAPI(ctx context.Context, api RESTAPI, ref string, live *Live) error {
	a, err := awsapi.ResolveRestAPI(ctx, api, ref)
	if err != nil {
		return apiLookupError(err, "REST APIs", "for an HTTP API set type: http")
	}
	live.APIID, live.APIName = a.ID, a.Name
	return nil
}

// apiLookupError turns a failed API lookup into a LiveError saying how to
// fix the plan's api: field.
func apiLookupError(err error, what, otherType string) error {
	var nf *awsapi.APINotFoundError
	var amb *awsapi.AmbiguousAPIError
	switch {
	case errors.As(err, &nf):
		return &LiveError{Msg: err.Error(),
			Fix: fmt.Sprintf("check the api: field (%s here: %s); %s", what, awsapi.DescribeAPIs(nf.Have, 10), otherType), Remedy: RemedyTarget}
	case errors.As(err, &amb):
		return &LiveError{Msg: err.Error(), Fix: "set api: to one of their ids: " + strings.Join(amb.IDs(), ", ")}
	}
	return err
}

func readTags(ctx context.Context, api RESTAPI, arn string) (map[string]string, error) {
	out, err := api.GetTags(ctx, &apigateway.GetTagsInput{ResourceArn: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("read tags of %s: %w", arn, err)
	}
	if out.Tags == nil {
		return map[string]string{}, nil
	}
	return out.Tags, nil
}

func readPlanKeys(ctx context.Context, api RESTAPI, lp *LivePlan) error {
	lp.Keys = nil
	pages := apigateway.NewGetUsagePlanKeysPaginator(api, &apigateway.GetUsagePlanKeysInput{UsagePlanId: aws.String(lp.ID), Limit: aws.Int32(awsapi.PageLimit)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("read keys of usage plan %q (%s): %w", lp.Name, lp.ID, err)
		}
		for _, k := range out.Items {
			lp.Keys = append(lp.Keys, LivePlanKey{ID: aws.ToString(k.Id), Name: aws.ToString(k.Name)})
		}
	}
	lp.KeysRead = true
	return nil
}

// normaliseThrottle maps API Gateway's throttle encodings to one: negative
// values (-1, "throttling disabled") are absent. A 0/0 throttle is kept: on
// API Gateway it blocks every request (429 for all), the opposite of no
// throttle, so it must show and diff as itself (see Blocks).
func normaliseThrottle(rate float64, burst int32) *ThrottleValue {
	if rate < 0 || burst < 0 {
		return nil
	}
	return &ThrottleValue{Rate: rate, Burst: int(burst)}
}

// Blocks reports whether the throttle refuses every request: a rate of 0
// (no token is ever added) with no burst to spend.
func (t *ThrottleValue) Blocks() bool {
	return t != nil && t.Rate == 0 && t.Burst == 0
}

func normaliseStage(name string, ms map[string]types.MethodSetting) (*LiveStage, error) {
	st := &LiveStage{Name: name, Methods: map[MethodID]LiveMethodSetting{}}
	for key, s := range ms {
		if key == "*/*" || key == "/*/*" {
			st.Default = normaliseThrottle(s.ThrottlingRateLimit, s.ThrottlingBurstLimit)
			st.DefaultMetrics = s.MetricsEnabled
			continue
		}
		id, err := ParseStageMethodKey(key)
		if err != nil {
			return nil, fmt.Errorf("stage %s: %w", name, err)
		}
		st.Methods[id] = LiveMethodSetting{Throttle: normaliseThrottle(s.ThrottlingRateLimit, s.ThrottlingBurstLimit), Metrics: s.MetricsEnabled}
	}
	return st, nil
}

func normalisePlan(u types.UsagePlan, apiID string) (*LivePlan, error) {
	lp := &LivePlan{ID: aws.ToString(u.Id), Name: aws.ToString(u.Name), Description: aws.ToString(u.Description),
		Tags: u.Tags, Stages: map[string]map[MethodID]ThrottleValue{}}
	if u.Throttle != nil {
		lp.Throttle = normaliseThrottle(u.Throttle.RateLimit, u.Throttle.BurstLimit)
	}
	if q := u.Quota; q != nil && (q.Limit != 0 || q.Period != "") {
		lp.Quota = &QuotaValue{Limit: int(q.Limit), Period: string(q.Period), Offset: int(q.Offset)}
	}
	for _, as := range u.ApiStages {
		if aws.ToString(as.ApiId) != apiID {
			lp.OtherStages = append(lp.OtherStages, aws.ToString(as.ApiId)+":"+aws.ToString(as.Stage))
			continue
		}
		m := map[MethodID]ThrottleValue{}
		for key, t := range as.Throttle {
			id, err := ParsePlanMethodKey(key)
			if err != nil {
				return nil, fmt.Errorf("usage plan %q: %w", lp.Name, err)
			}
			if tv := normaliseThrottle(t.RateLimit, t.BurstLimit); tv != nil {
				m[id] = *tv
			}
		}
		lp.Stages[aws.ToString(as.Stage)] = m
	}
	return lp, nil
}

// ParseStageMethodKey parses a stage method-setting key ("~1pets/GET",
// "pets/GET", "/pets/GET", root "~1/GET").
func ParseStageMethodKey(key string) (MethodID, error) {
	return parseSlashKey(strings.ReplaceAll(key, "~1", "/"), key)
}

// ParsePlanMethodKey parses a usage-plan throttle key ("/pets/GET", root
// "//GET"; "~1pets/GET" is accepted too).
func ParsePlanMethodKey(key string) (MethodID, error) {
	return parseSlashKey(strings.ReplaceAll(key, "~1", "/"), key)
}

func parseSlashKey(k, orig string) (MethodID, error) {
	i := strings.LastIndex(k, "/")
	if i < 0 || i == len(k)-1 {
		return MethodID{}, fmt.Errorf("unrecognised method key %q", orig)
	}
	verb, path := k[i+1:], k[:i]
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
		if strings.HasPrefix(path, "//") { // "//pets" from "~1/pets"? keep one slash
			path = path[1:]
		}
	}
	return MethodID{Verb: strings.ToUpper(verb), Path: path}, nil
}

// stagePatchKey is the escaped method path of a stage patch operation:
// "~1pets~1{id}/GET" ("*/*" for the stage default).
func stagePatchKey(m MethodID) string {
	return strings.ReplaceAll(strings.ReplaceAll(m.Path, "~", "~0"), "/", "~1") + "/" + m.Verb
}

// planThrottleKey is a usage-plan throttle map key: "/pets/GET", root "//GET".
func planThrottleKey(m MethodID) string { return m.Path + "/" + m.Verb }
