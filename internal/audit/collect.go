package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/smithy-go"
)

// Clients are the AWS clients Collect reads with.
type Clients struct {
	REST   *apigateway.Client
	HTTP   *apigatewayv2.Client
	Region string
}

// NotFoundError reports an API or stage that does not exist.
type NotFoundError struct {
	What string
	Hint string
}

func (e *NotFoundError) Error() string { return e.What }

// HintText is the advice printed with the error.
func (e *NotFoundError) HintText() string { return e.Hint }

const maxPages = 100

// Collect reads the API (name or id) and stage from AWS.
func Collect(ctx context.Context, c Clients, api, stage string) (*Snapshot, error) {
	typ, id, name, err := resolveAPI(ctx, c, api)
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Type: typ, APIID: id, Name: name, Stage: stage, Region: c.Region}
	acc, err := c.REST.GetAccount(ctx, &apigateway.GetAccountInput{})
	if err != nil {
		return nil, fmt.Errorf("get account: %w", err)
	}
	snap.AccountRate, snap.AccountBurst = 10000, 5000
	if t := acc.ThrottleSettings; t != nil {
		snap.AccountRate, snap.AccountBurst = t.RateLimit, int(t.BurstLimit)
	}
	if typ == "HTTP" {
		return snap, collectHTTP(ctx, c, snap)
	}
	return snap, collectREST(ctx, c, snap)
}

func resolveAPI(ctx context.Context, c Clients, ref string) (typ, id, name string, err error) {
	type found struct{ typ, id, name string }
	var all []found
	var pos *string
	for page := 0; page < maxPages; page++ {
		res, err := c.REST.GetRestApis(ctx, &apigateway.GetRestApisInput{Limit: aws.Int32(500), Position: pos})
		if err != nil {
			return "", "", "", fmt.Errorf("list rest apis: %w", err)
		}
		for _, a := range res.Items {
			all = append(all, found{"REST", aws.ToString(a.Id), aws.ToString(a.Name)})
		}
		if pos = res.Position; aws.ToString(pos) == "" {
			break
		}
	}
	var token *string
	for page := 0; page < maxPages; page++ {
		res, err := c.HTTP.GetApis(ctx, &apigatewayv2.GetApisInput{MaxResults: aws.String("500"), NextToken: token})
		if err != nil {
			return "", "", "", fmt.Errorf("list http apis: %w", err)
		}
		for _, a := range res.Items {
			if a.ProtocolType == "" || a.ProtocolType == v2types.ProtocolTypeHttp {
				all = append(all, found{"HTTP", aws.ToString(a.ApiId), aws.ToString(a.Name)})
			}
		}
		if token = res.NextToken; aws.ToString(token) == "" {
			break
		}
	}
	var named []found
	for _, a := range all {
		if a.id == ref {
			return a.typ, a.id, a.name, nil
		}
		if a.name == ref {
			named = append(named, a)
		}
	}
	switch len(named) {
	case 1:
		return named[0].typ, named[0].id, named[0].name, nil
	case 0:
		return "", "", "", &NotFoundError{What: fmt.Sprintf("no REST or HTTP API named or with id %q", ref),
			Hint: "check --api, --region and --endpoint-url"}
	}
	ids := make([]string, len(named))
	for i, a := range named {
		ids[i] = a.id
	}
	return "", "", "", &NotFoundError{What: fmt.Sprintf("api name %q is ambiguous: ids %s", ref, strings.Join(ids, ", ")),
		Hint: "pass --api with one of these ids"}
}

func collectREST(ctx context.Context, c Clients, snap *Snapshot) error {
	id := aws.String(snap.APIID)
	api, err := c.REST.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: id})
	if err != nil {
		return fmt.Errorf("get rest api %s: %w", snap.APIID, err)
	}
	snap.Policy, err = DecodePolicy(aws.ToString(api.Policy))
	if err != nil {
		return err
	}
	stages, err := c.REST.GetStages(ctx, &apigateway.GetStagesInput{RestApiId: id})
	if err != nil {
		return fmt.Errorf("get stages of %s: %w", snap.APIID, err)
	}
	var names []string
	foundStage := false
	for _, st := range stages.Item {
		n := aws.ToString(st.StageName)
		names = append(names, n)
		if n != snap.Stage {
			snap.OtherStages = append(snap.OtherStages, n)
			continue
		}
		foundStage = true
		si := StageInfo{
			WebACLArn: aws.ToString(st.WebAclArn), TracingEnabled: st.TracingEnabled,
			ClientCertificateID: aws.ToString(st.ClientCertificateId), Variables: st.Variables,
			MethodSettings: map[string]MethodSetting{},
		}
		if st.AccessLogSettings != nil {
			si.AccessLogArn = aws.ToString(st.AccessLogSettings.DestinationArn)
		}
		for k, ms := range st.MethodSettings {
			si.MethodSettings[k] = MethodSetting{HasThrottle: true, Rate: ms.ThrottlingRateLimit,
				Burst: int(ms.ThrottlingBurstLimit), MetricsEnabled: ms.MetricsEnabled}
		}
		snap.StageInfo = si
	}
	if !foundStage {
		return &NotFoundError{What: fmt.Sprintf("rest api %s has no stage %q", snap.APIID, snap.Stage),
			Hint: "stages: " + strings.Join(names, ", ")}
	}
	sort.Strings(snap.OtherStages)

	var pos *string
	for page := 0; page < maxPages; page++ {
		res, err := c.REST.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: id, Embed: []string{"methods"},
			Limit: aws.Int32(500), Position: pos})
		if err != nil {
			return fmt.Errorf("get resources of %s: %w", snap.APIID, err)
		}
		for _, r := range res.Items {
			for verb, m := range r.ResourceMethods {
				mm := Method{Verb: verb, Path: aws.ToString(r.Path), ResourceID: aws.ToString(r.Id),
					AuthorizationType: aws.ToString(m.AuthorizationType), AuthorizerID: aws.ToString(m.AuthorizerId),
					APIKeyRequired: aws.ToBool(m.ApiKeyRequired)}
				if in := m.MethodIntegration; in != nil {
					mm.Integration = &Integration{Type: string(in.Type), URI: aws.ToString(in.Uri), RequestParameters: in.RequestParameters}
				}
				snap.Methods = append(snap.Methods, mm)
			}
		}
		if pos = res.Position; aws.ToString(pos) == "" {
			break
		}
	}
	sort.Slice(snap.Methods, func(i, j int) bool { return snap.Methods[i].Key() < snap.Methods[j].Key() })

	auths, err := c.REST.GetAuthorizers(ctx, &apigateway.GetAuthorizersInput{RestApiId: id, Limit: aws.Int32(500)})
	if err != nil {
		return fmt.Errorf("get authorizers of %s: %w", snap.APIID, err)
	}
	for _, a := range auths.Items {
		snap.Authorizers = append(snap.Authorizers, Authorizer{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name), Type: string(a.Type)})
	}

	if err := collectPlansAndKeys(ctx, c, snap); err != nil {
		if !isAccessDenied(err) {
			return err
		}
		snap.UsagePlans, snap.Keys = nil, nil
		snap.Skipped = append(snap.Skipped, "usage plans and API keys ("+errorCode(err)+"): KEY001-KEY003 not checked")
	}
	if err := collectDomains(ctx, c, snap); err != nil {
		if !isAccessDenied(err) {
			return err
		}
		snap.Domains = nil
		snap.Skipped = append(snap.Skipped, "custom domain names ("+errorCode(err)+"): SEC007, SEC008 not checked")
	}
	return nil
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return err.Error()
}

// isAccessDenied reports an authorization failure: the audit then skips
// the account-wide reads (usage plans, keys, domain names) that a role
// scoped to one API may not be allowed.
func isAccessDenied(err error) bool {
	switch errorCode(err) {
	case "AccessDeniedException", "UnauthorizedException", "AccessDenied":
		return true
	}
	return false
}

func collectPlansAndKeys(ctx context.Context, c Clients, snap *Snapshot) error {
	inPlan := map[string]bool{}
	var pos *string
	for page := 0; page < maxPages; page++ {
		res, err := c.REST.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{Limit: aws.Int32(500), Position: pos})
		if err != nil {
			return fmt.Errorf("get usage plans: %w", err)
		}
		for _, p := range res.Items {
			keys, err := c.REST.GetUsagePlanKeys(ctx, &apigateway.GetUsagePlanKeysInput{UsagePlanId: p.Id, Limit: aws.Int32(500)})
			if err != nil {
				return fmt.Errorf("get keys of usage plan %s: %w", aws.ToString(p.Id), err)
			}
			for _, k := range keys.Items {
				inPlan[aws.ToString(k.Id)] = true
			}
			for _, as := range p.ApiStages {
				if aws.ToString(as.ApiId) == snap.APIID && aws.ToString(as.Stage) == snap.Stage {
					snap.UsagePlans = append(snap.UsagePlans, UsagePlan{ID: aws.ToString(p.Id), Name: aws.ToString(p.Name),
						HasQuota: p.Quota != nil && p.Quota.Limit > 0, KeyCount: len(keys.Items)})
				}
			}
		}
		if pos = res.Position; aws.ToString(pos) == "" {
			break
		}
	}
	pos = nil
	for page := 0; page < maxPages; page++ {
		// IncludeValues stays off: the audit never needs a key's value.
		res, err := c.REST.GetApiKeys(ctx, &apigateway.GetApiKeysInput{Limit: aws.Int32(500), Position: pos})
		if err != nil {
			return fmt.Errorf("get api keys: %w", err)
		}
		for _, k := range res.Items {
			snap.Keys = append(snap.Keys, APIKey{ID: aws.ToString(k.Id), Name: aws.ToString(k.Name), InPlan: inPlan[aws.ToString(k.Id)]})
		}
		if pos = res.Position; aws.ToString(pos) == "" {
			break
		}
	}
	return nil
}

func collectDomains(ctx context.Context, c Clients, snap *Snapshot) error {
	var pos *string
	for page := 0; page < maxPages; page++ {
		res, err := c.REST.GetDomainNames(ctx, &apigateway.GetDomainNamesInput{Limit: aws.Int32(500), Position: pos})
		if err != nil {
			return fmt.Errorf("get domain names: %w", err)
		}
		for _, d := range res.Items {
			maps, err := c.REST.GetBasePathMappings(ctx, &apigateway.GetBasePathMappingsInput{DomainName: d.DomainName, Limit: aws.Int32(500)})
			if err != nil {
				return fmt.Errorf("get base path mappings of %s: %w", aws.ToString(d.DomainName), err)
			}
			for _, m := range maps.Items {
				if aws.ToString(m.RestApiId) != snap.APIID || (aws.ToString(m.Stage) != "" && aws.ToString(m.Stage) != snap.Stage) {
					continue
				}
				dom := Domain{Name: aws.ToString(d.DomainName), SecurityPolicy: string(d.SecurityPolicy), BasePath: aws.ToString(m.BasePath)}
				if d.MutualTlsAuthentication != nil {
					dom.TruststoreURI = aws.ToString(d.MutualTlsAuthentication.TruststoreUri)
				}
				if d.EndpointConfiguration != nil && len(d.EndpointConfiguration.Types) > 0 {
					dom.EndpointType = string(d.EndpointConfiguration.Types[0])
				}
				snap.Domains = append(snap.Domains, dom)
				break
			}
		}
		if pos = res.Position; aws.ToString(pos) == "" {
			break
		}
	}
	return nil
}

func collectHTTP(ctx context.Context, c Clients, snap *Snapshot) error {
	id := aws.String(snap.APIID)
	st, err := c.HTTP.GetStage(ctx, &apigatewayv2.GetStageInput{ApiId: id, StageName: aws.String(snap.Stage)})
	if err != nil {
		var nf *v2types.NotFoundException
		if errors.As(err, &nf) {
			return &NotFoundError{What: fmt.Sprintf("http api %s has no stage %q", snap.APIID, snap.Stage), Hint: "check --stage"}
		}
		return fmt.Errorf("get stage %s of %s: %w", snap.Stage, snap.APIID, err)
	}
	si := StageInfo{Variables: st.StageVariables, MethodSettings: map[string]MethodSetting{}}
	if st.AccessLogSettings != nil {
		si.AccessLogArn = aws.ToString(st.AccessLogSettings.DestinationArn)
	}
	conv := func(rs *v2types.RouteSettings) MethodSetting {
		ms := MethodSetting{MetricsEnabled: aws.ToBool(rs.DetailedMetricsEnabled)}
		if rs.ThrottlingRateLimit != nil {
			ms.HasThrottle, ms.Rate, ms.Burst = true, *rs.ThrottlingRateLimit, int(aws.ToInt32(rs.ThrottlingBurstLimit))
		}
		return ms
	}
	if st.DefaultRouteSettings != nil {
		si.MethodSettings["*/*"] = conv(st.DefaultRouteSettings)
	}
	for k, rs := range st.RouteSettings {
		si.MethodSettings[k] = conv(&rs)
	}
	snap.StageInfo = si
	var token *string
	for page := 0; page < maxPages; page++ {
		res, err := c.HTTP.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: id, MaxResults: aws.String("500"), NextToken: token})
		if err != nil {
			return fmt.Errorf("get routes of %s: %w", snap.APIID, err)
		}
		for _, r := range res.Items {
			verb, path, _ := strings.Cut(aws.ToString(r.RouteKey), " ")
			snap.Methods = append(snap.Methods, Method{Verb: verb, Path: path, ResourceID: aws.ToString(r.RouteId),
				AuthorizationType: string(r.AuthorizationType), AuthorizerID: aws.ToString(r.AuthorizerId),
				APIKeyRequired: r.ApiKeyRequired != nil && *r.ApiKeyRequired})
		}
		if token = res.NextToken; aws.ToString(token) == "" {
			break
		}
	}
	sort.Slice(snap.Methods, func(i, j int) bool { return snap.Methods[i].Key() < snap.Methods[j].Key() })
	return nil
}

// DecodePolicy returns a resource policy document as JSON. API Gateway
// returns the policy with its quotes backslash-escaped ({\"Version\":…},
// and slashes in CIDR blocks as \/), so it is decoded as the body of a
// JSON string; a document that is already JSON is returned as is.
func DecodePolicy(p string) (string, error) {
	if p == "" || json.Valid([]byte(p)) {
		return p, nil
	}
	var u string
	if err := json.Unmarshal([]byte(`"`+p+`"`), &u); err != nil || !json.Valid([]byte(u)) {
		return "", fmt.Errorf("resource policy is neither JSON nor escaped JSON: %.60q", p)
	}
	return u, nil
}
