package sandbox

import (
	"net/http"
	"strings"
)

// authorizer is a REST API authorizer: a Lambda (TOKEN or REQUEST) or a
// Cognito user pool (COGNITO_USER_POOLS).
type authorizer struct {
	ID                           string   `json:"id"`
	Name                         string   `json:"name"`
	Type                         string   `json:"type"`
	ProviderARNs                 []string `json:"providerARNs,omitempty"`
	AuthType                     string   `json:"authType,omitempty"`
	AuthorizerURI                string   `json:"authorizerUri,omitempty"`
	AuthorizerCredentials        string   `json:"authorizerCredentials,omitempty"`
	IdentitySource               string   `json:"identitySource,omitempty"`
	IdentityValidationExpression string   `json:"identityValidationExpression,omitempty"`
	AuthorizerResultTTLInSeconds *int     `json:"authorizerResultTtlInSeconds,omitempty"`
}

func (s *Sandbox) createAuthorizer(c *call) (int, any, *apiError) {
	a := c.api
	var in authorizer
	if e := c.decode(&in); e != nil {
		return 0, nil, e
	}
	if in.Name == "" {
		return 0, nil, badRequest("Invalid authorizer name: name must not be blank")
	}
	switch in.Type {
	case "TOKEN", "REQUEST":
		if !strings.HasPrefix(in.AuthorizerURI, "arn:") {
			return 0, nil, badRequest("Invalid Authorizer URI: %q. Authorizer URI must be a valid Lambda function ARN", in.AuthorizerURI)
		}
		if in.Type == "TOKEN" && !strings.HasPrefix(in.IdentitySource, "method.request.header.") {
			return 0, nil, badRequest("Invalid identity source for TOKEN authorizer: %q. Must be method.request.header.NAME", in.IdentitySource)
		}
	case "COGNITO_USER_POOLS":
		if len(in.ProviderARNs) == 0 {
			return 0, nil, badRequest("ProviderARNs must be specified for COGNITO_USER_POOLS authorizers")
		}
	default:
		return 0, nil, badRequest("Invalid authorizer type %q. Valid options are TOKEN,REQUEST,COGNITO_USER_POOLS", in.Type)
	}
	for _, id := range a.AuthorizerOrder {
		if a.Authorizers[id].Name == in.Name {
			return 0, nil, conflict("Authorizer with name %s already exists", in.Name)
		}
	}
	if in.AuthorizerResultTTLInSeconds == nil && in.Type != "COGNITO_USER_POOLS" {
		ttl := 300
		in.AuthorizerResultTTLInSeconds = &ttl
	}
	in.ID = newID(6)
	if a.Authorizers == nil {
		a.Authorizers = map[string]*authorizer{}
	}
	a.Authorizers[in.ID] = &in
	a.AuthorizerOrder = append(a.AuthorizerOrder, in.ID)
	return http.StatusCreated, &in, nil
}

func (s *Sandbox) getAuthorizers(c *call) (int, any, *apiError) {
	a := c.api
	return listPage(c, a.AuthorizerOrder, func(id string) any { return a.Authorizers[id] })
}

func (s *Sandbox) getAuthorizer(c *call) (int, any, *apiError) {
	return 200, c.authorizer, nil
}

// checkMethodAuthorizer applies AWS's rule for a method's authorizer: CUSTOM
// needs a TOKEN or REQUEST authorizer of the API, COGNITO_USER_POOLS a
// COGNITO_USER_POOLS one.
func checkMethodAuthorizer(a *restAPI, m *method) *apiError {
	switch m.AuthorizationType {
	case "CUSTOM", "COGNITO_USER_POOLS":
		au, ok := a.Authorizers[m.AuthorizerID]
		if !ok {
			return badRequest("Invalid authorizer ID specified. Setting the authorization type to %s requires a valid authorizer.", m.AuthorizationType)
		}
		cognito := au.Type == "COGNITO_USER_POOLS"
		if cognito != (m.AuthorizationType == "COGNITO_USER_POOLS") {
			return badRequest("Authorizer %s of type %s cannot be used with authorization type %s", au.ID, au.Type, m.AuthorizationType)
		}
	}
	return nil
}
