package sandbox

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	waftypes "github.com/aws/aws-sdk-go-v2/service/wafv2/types"
)

// TestLedgerWAFOnlyRESTStages: AssociateWebACL (awsJson1.1 through the real
// wafv2 client) sets the stage's webAclArn, GetWebACLForResource finds it,
// DisassociateWebACL clears it; HTTP API stages and unknown ACLs are
// refused.
func TestLedgerWAFOnlyRESTStages(t *testing.T) {
	ctx := context.Background()
	_, c := startSandbox(t, Options{})
	w := wafv2.NewFromConfig(c.Config)
	p := createPetAPI(t, c.APIGateway, "waf-pets")
	stageArn := "arn:aws:apigateway:us-east-1::/restapis/" + p.ID + "/stages/prod"

	acl := must[*wafv2.CreateWebACLOutput](t)(w.CreateWebACL(ctx, &wafv2.CreateWebACLInput{
		Name: aws.String("pets-acl"), Scope: waftypes.ScopeRegional,
		DefaultAction:    &waftypes.DefaultAction{Allow: &waftypes.AllowAction{}},
		VisibilityConfig: &waftypes.VisibilityConfig{MetricName: aws.String("pets"), SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true},
	}))
	arn := aws.ToString(acl.Summary.ARN)
	if !strings.HasPrefix(arn, "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/pets-acl/") {
		t.Fatalf("web ACL ARN %q", arn)
	}
	got := must[*wafv2.GetWebACLForResourceOutput](t)(w.GetWebACLForResource(ctx, &wafv2.GetWebACLForResourceInput{ResourceArn: &stageArn}))
	if got.WebACL != nil {
		t.Fatalf("web ACL before association: %+v", got.WebACL)
	}
	_, err := w.AssociateWebACL(ctx, &wafv2.AssociateWebACLInput{WebACLArn: aws.String(arn + "x"), ResourceArn: &stageArn})
	wantAPIError(t, err, "WAFNonexistentItemException")
	must[*wafv2.AssociateWebACLOutput](t)(w.AssociateWebACL(ctx, &wafv2.AssociateWebACLInput{WebACLArn: &arn, ResourceArn: &stageArn}))

	st := must[*apigateway.GetStageOutput](t)(c.APIGateway.GetStage(ctx, &apigateway.GetStageInput{RestApiId: &p.ID, StageName: aws.String("prod")}))
	if aws.ToString(st.WebAclArn) != arn {
		t.Errorf("GetStage webAclArn %q, want %q", aws.ToString(st.WebAclArn), arn)
	}
	got = must[*wafv2.GetWebACLForResourceOutput](t)(w.GetWebACLForResource(ctx, &wafv2.GetWebACLForResourceInput{ResourceArn: &stageArn}))
	if got.WebACL == nil || aws.ToString(got.WebACL.Name) != "pets-acl" || aws.ToString(got.WebACL.ARN) != arn {
		t.Errorf("GetWebACLForResource: %+v", got.WebACL)
	}
	must[*wafv2.DisassociateWebACLOutput](t)(w.DisassociateWebACL(ctx, &wafv2.DisassociateWebACLInput{ResourceArn: &stageArn}))
	st = must[*apigateway.GetStageOutput](t)(c.APIGateway.GetStage(ctx, &apigateway.GetStageInput{RestApiId: &p.ID, StageName: aws.String("prod")}))
	if st.WebAclArn != nil {
		t.Errorf("webAclArn after disassociation: %q", *st.WebAclArn)
	}

	h := must[*apigatewayv2.CreateApiOutput](t)(c.APIGatewayV2.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("h"), ProtocolType: "HTTP"}))
	_, err = w.AssociateWebACL(ctx, &wafv2.AssociateWebACLInput{WebACLArn: &arn,
		ResourceArn: aws.String("arn:aws:apigateway:us-east-1::/apis/" + aws.ToString(h.ApiId) + "/stages/prod")})
	wantAPIError(t, err, "WAFInvalidParameterException")
}

// TestSecuritySettings: the resource policy (returned escaped, as AWS does),
// authorizers, domain names with their security policy and mutual TLS,
// base path mappings, client certificates and the stage's access logs.
func TestSecuritySettings(t *testing.T) {
	ctx := context.Background()
	_, c := startSandbox(t, Options{})
	ag := c.APIGateway
	p := createPetAPI(t, ag, "sec-pets")
	replace := func(path, value string) agtypes.PatchOperation {
		return agtypes.PatchOperation{Op: agtypes.OpReplace, Path: aws.String(path), Value: aws.String(value)}
	}

	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"*"}]}`
	must[*apigateway.UpdateRestApiOutput](t)(ag.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: &p.ID,
		PatchOperations: []agtypes.PatchOperation{replace("/policy", policy)}}))
	api := must[*apigateway.GetRestApiOutput](t)(ag.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: &p.ID}))
	if want := strings.ReplaceAll(strings.ReplaceAll(policy, `"`, `\"`), "/", `\/`); aws.ToString(api.Policy) != want {
		t.Errorf("policy %s, want the escaped %s", aws.ToString(api.Policy), want)
	}
	_, err := ag.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: &p.ID,
		PatchOperations: []agtypes.PatchOperation{replace("/policy", "{not json")}})
	wantAPIError(t, err, "BadRequestException")

	au := must[*apigateway.CreateAuthorizerOutput](t)(ag.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{RestApiId: &p.ID,
		Name: aws.String("tok"), Type: agtypes.AuthorizerTypeToken, IdentitySource: aws.String("method.request.header.Authorization"),
		AuthorizerUri: aws.String("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:auth/invocations")}))
	_, err = ag.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{RestApiId: &p.ID, Name: aws.String("pool"), Type: agtypes.AuthorizerTypeCognitoUserPools})
	wantAPIError(t, err, "BadRequestException")
	all := must[*apigateway.GetAuthorizersOutput](t)(ag.GetAuthorizers(ctx, &apigateway.GetAuthorizersInput{RestApiId: &p.ID}))
	if len(all.Items) != 1 || aws.ToString(all.Items[0].Id) != aws.ToString(au.Id) || all.Items[0].Type != agtypes.AuthorizerTypeToken ||
		aws.ToInt32(all.Items[0].AuthorizerResultTtlInSeconds) != 300 {
		t.Errorf("GetAuthorizers: %+v", all.Items)
	}
	// A method takes an authorizer of the API of the matching kind.
	_, err = ag.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: &p.ID, ResourceId: &p.PetsID, HttpMethod: aws.String("POST"),
		PatchOperations: []agtypes.PatchOperation{replace("/authorizationType", "CUSTOM"), replace("/authorizerId", "nope")}})
	wantAPIError(t, err, "BadRequestException")
	_, err = ag.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: &p.ID, ResourceId: &p.PetsID, HttpMethod: aws.String("POST"),
		PatchOperations: []agtypes.PatchOperation{replace("/authorizationType", "COGNITO_USER_POOLS"), replace("/authorizerId", aws.ToString(au.Id))}})
	wantAPIError(t, err, "BadRequestException")
	m := must[*apigateway.UpdateMethodOutput](t)(ag.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: &p.ID, ResourceId: &p.PetsID, HttpMethod: aws.String("POST"),
		PatchOperations: []agtypes.PatchOperation{replace("/authorizationType", "CUSTOM"), replace("/authorizerId", aws.ToString(au.Id))}}))
	if aws.ToString(m.AuthorizationType) != "CUSTOM" || aws.ToString(m.AuthorizerId) != aws.ToString(au.Id) {
		t.Errorf("UpdateMethod: %s %s", aws.ToString(m.AuthorizationType), aws.ToString(m.AuthorizerId))
	}
	one := must[*apigateway.GetAuthorizerOutput](t)(ag.GetAuthorizer(ctx, &apigateway.GetAuthorizerInput{RestApiId: &p.ID, AuthorizerId: au.Id}))
	if aws.ToString(one.Name) != "tok" {
		t.Errorf("GetAuthorizer: %+v", one)
	}

	_, err = ag.CreateDomainName(ctx, &apigateway.CreateDomainNameInput{DomainName: aws.String("api.pets.example"),
		RegionalCertificateArn: aws.String("arn:aws:acm:us-east-1:1:certificate/x"),
		EndpointConfiguration:  &agtypes.EndpointConfiguration{Types: []agtypes.EndpointType{agtypes.EndpointTypeRegional}},
		SecurityPolicy:         "TLS_0_9"})
	wantAPIError(t, err, "BadRequestException")
	must[*apigateway.CreateDomainNameOutput](t)(ag.CreateDomainName(ctx, &apigateway.CreateDomainNameInput{DomainName: aws.String("api.pets.example"),
		RegionalCertificateArn: aws.String("arn:aws:acm:us-east-1:1:certificate/x"),
		EndpointConfiguration:  &agtypes.EndpointConfiguration{Types: []agtypes.EndpointType{agtypes.EndpointTypeRegional}},
		SecurityPolicy:         agtypes.SecurityPolicyTls10}))
	must[*apigateway.CreateBasePathMappingOutput](t)(ag.CreateBasePathMapping(ctx, &apigateway.CreateBasePathMappingInput{
		DomainName: aws.String("api.pets.example"), RestApiId: &p.ID, Stage: aws.String("prod")}))
	must[*apigateway.UpdateDomainNameOutput](t)(ag.UpdateDomainName(ctx, &apigateway.UpdateDomainNameInput{DomainName: aws.String("api.pets.example"),
		PatchOperations: []agtypes.PatchOperation{replace("/securityPolicy", "TLS_1_2"), replace("/mutualTlsAuthentication/truststoreUri", "s3://b/ca.pem")}}))
	doms := must[*apigateway.GetDomainNamesOutput](t)(ag.GetDomainNames(ctx, &apigateway.GetDomainNamesInput{}))
	if len(doms.Items) != 1 || doms.Items[0].SecurityPolicy != agtypes.SecurityPolicyTls12 || doms.Items[0].MutualTlsAuthentication == nil ||
		aws.ToString(doms.Items[0].MutualTlsAuthentication.TruststoreUri) != "s3://b/ca.pem" {
		t.Errorf("GetDomainNames: %+v", doms.Items)
	}
	maps := must[*apigateway.GetBasePathMappingsOutput](t)(ag.GetBasePathMappings(ctx, &apigateway.GetBasePathMappingsInput{DomainName: aws.String("api.pets.example")}))
	if len(maps.Items) != 1 || aws.ToString(maps.Items[0].RestApiId) != p.ID || aws.ToString(maps.Items[0].BasePath) != "(none)" {
		t.Errorf("GetBasePathMappings: %+v", maps.Items)
	}

	cert := must[*apigateway.GenerateClientCertificateOutput](t)(ag.GenerateClientCertificate(ctx, &apigateway.GenerateClientCertificateInput{Description: aws.String("pets")}))
	if !strings.Contains(aws.ToString(cert.PemEncodedCertificate), "BEGIN CERTIFICATE") {
		t.Errorf("certificate PEM %q", aws.ToString(cert.PemEncodedCertificate))
	}
	certs := must[*apigateway.GetClientCertificatesOutput](t)(ag.GetClientCertificates(ctx, &apigateway.GetClientCertificatesInput{}))
	if len(certs.Items) != 1 {
		t.Errorf("GetClientCertificates: %d items", len(certs.Items))
	}

	st := must[*apigateway.UpdateStageOutput](t)(ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: &p.ID, StageName: aws.String("prod"),
		PatchOperations: []agtypes.PatchOperation{
			replace("/accessLogSettings/destinationArn", "arn:aws:logs:us-east-1:1:log-group:pets"),
			replace("/accessLogSettings/format", "$context.requestId"),
			replace("/clientCertificateId", aws.ToString(cert.ClientCertificateId)),
			replace("/tracingEnabled", "true"),
		}}))
	if st.AccessLogSettings == nil || aws.ToString(st.AccessLogSettings.DestinationArn) != "arn:aws:logs:us-east-1:1:log-group:pets" ||
		aws.ToString(st.ClientCertificateId) != aws.ToString(cert.ClientCertificateId) || !st.TracingEnabled {
		t.Errorf("UpdateStage: access log %+v, cert %q, tracing %v", st.AccessLogSettings, aws.ToString(st.ClientCertificateId), st.TracingEnabled)
	}
	// A bad operation leaves the stage as it was.
	_, err = ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: &p.ID, StageName: aws.String("prod"),
		PatchOperations: []agtypes.PatchOperation{
			{Op: agtypes.OpRemove, Path: aws.String("/accessLogSettings")},
			replace("/accessLogSettings/destinationArn", "not-an-arn"),
		}})
	wantAPIError(t, err, "BadRequestException")
	got := must[*apigateway.GetStageOutput](t)(ag.GetStage(ctx, &apigateway.GetStageInput{RestApiId: &p.ID, StageName: aws.String("prod")}))
	if got.AccessLogSettings == nil || aws.ToString(got.AccessLogSettings.Format) != "$context.requestId" {
		t.Errorf("access log after a failed update: %+v", got.AccessLogSettings)
	}
}

// TestLedgerMethodAuthorizerKind: CUSTOM needs a TOKEN or REQUEST
// authorizer of the API, COGNITO_USER_POOLS a Cognito one.
func TestLedgerMethodAuthorizerKind(t *testing.T) {
	ctx := context.Background()
	_, c := startSandbox(t, Options{})
	ag := c.APIGateway
	p := createPetAPI(t, ag, "auth-pets")
	pool := must[*apigateway.CreateAuthorizerOutput](t)(ag.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{RestApiId: &p.ID,
		Name: aws.String("pool"), Type: agtypes.AuthorizerTypeCognitoUserPools, ProviderARNs: []string{"arn:aws:cognito-idp:us-east-1:1:userpool/x"},
		IdentitySource: aws.String("method.request.header.Authorization")}))
	put := func(verb, authType, authorizer string) error {
		_, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: &p.ID, ResourceId: &p.PetID, HttpMethod: aws.String(verb),
			AuthorizationType: aws.String(authType), AuthorizerId: aws.String(authorizer)})
		return err
	}
	wantAPIError(t, put("PUT", "CUSTOM", ""), "BadRequestException")
	wantAPIError(t, put("PUT", "CUSTOM", aws.ToString(pool.Id)), "BadRequestException")
	wantAPIError(t, put("PUT", "COGNITO_USER_POOLS", "nope"), "BadRequestException")
	if err := put("PUT", "COGNITO_USER_POOLS", aws.ToString(pool.Id)); err != nil {
		t.Fatalf("a Cognito method with the API's Cognito authorizer: %v", err)
	}
	m := must[*apigateway.GetMethodOutput](t)(ag.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: &p.ID, ResourceId: &p.PetID, HttpMethod: aws.String("PUT")}))
	if aws.ToString(m.AuthorizationType) != "COGNITO_USER_POOLS" || aws.ToString(m.AuthorizerId) != aws.ToString(pool.Id) {
		t.Errorf("GetMethod: %s %s", aws.ToString(m.AuthorizationType), aws.ToString(m.AuthorizerId))
	}
}
