package sandbox

import (
	"strconv"
	"strings"
)

// The security settings apictl audit reads: the REST API's resource policy,
// its authorizers, the stage's WAF web ACL, access logging and client
// certificate, custom domain names and client certificates. They live in
// their own types, embedded in state, restAPI and stage, so the core model
// stays as it was.

// securityState is the account-wide part: domain names, client certificates
// and WAF web ACLs.
type securityState struct {
	domains      map[string]*domainName
	domainOrder  []string
	clientCerts  map[string]*clientCertificate
	certOrder    []string
	webACLs      map[string]*webACL // by ARN
	webACLsOrder []string
}

// restAPISecurity is the REST API's resource policy and its authorizers.
type restAPISecurity struct {
	// Policy is the policy document as the caller gave it.
	Policy          string
	Authorizers     map[string]*authorizer
	AuthorizerOrder []string
}

// view adds the policy to a GetRestApi answer. API Gateway returns the
// document with its quotes backslash-escaped ({\"Version\":…}) and slashes
// as \/ (terraform-provider-aws decodes both); the emulator does the same.
func (a *restAPISecurity) view(out map[string]any) {
	if a.Policy == "" {
		return
	}
	q := strconv.Quote(a.Policy)
	out["policy"] = strings.ReplaceAll(q[1:len(q)-1], "/", `\/`)
}

// stageSecurity is what a stage carries beyond throttles: the WAF web ACL
// (set only through wafv2 AssociateWebACL), access logging and the client
// certificate used towards HTTP backends.
type stageSecurity struct {
	WebACLArn           string
	AccessLog           *accessLogSettings
	ClientCertificateID string
}

type accessLogSettings struct {
	Format         string `json:"format,omitempty"`
	DestinationArn string `json:"destinationArn,omitempty"`
}

func (st *stageSecurity) view(out map[string]any) {
	if st.WebACLArn != "" {
		out["webAclArn"] = st.WebACLArn
	}
	if st.AccessLog != nil {
		out["accessLogSettings"] = st.AccessLog
	}
	if st.ClientCertificateID != "" {
		out["clientCertificateId"] = st.ClientCertificateID
	}
}

func isStageSecurityPath(path string) bool {
	return path == "/clientCertificateId" || path == "/accessLogSettings" ||
		strings.HasPrefix(path, "/accessLogSettings/")
}

// applyPatch applies one UpdateStage operation on /accessLogSettings/… or
// /clientCertificateId. It never mutates a shared AccessLog value, so that
// a failed UpdateStage leaves the stage as it was.
func (st *stageSecurity) applyPatch(op patchOp) *apiError {
	switch {
	case op.Path == "/clientCertificateId":
		switch op.Op {
		case "replace", "add":
			st.ClientCertificateID = op.value()
		case "remove":
			st.ClientCertificateID = ""
		default:
			return badRequest("Invalid patch operation specified. Must be one of: [replace, add, remove]")
		}
		return nil
	case op.Path == "/accessLogSettings":
		if op.Op != "remove" {
			return badRequest("Invalid patch operation specified for path %s. Must be: remove", op.Path)
		}
		st.AccessLog = nil
		return nil
	}
	if op.Op != "replace" {
		return badRequest("Invalid patch operation specified for path %s. Must be: replace", op.Path)
	}
	next := accessLogSettings{}
	if st.AccessLog != nil {
		next = *st.AccessLog
	}
	switch op.Path {
	case "/accessLogSettings/destinationArn":
		v := op.value()
		if !strings.HasPrefix(v, "arn:") {
			return badRequest("Invalid ARN specified in the request: %s", v)
		}
		next.DestinationArn = v
	case "/accessLogSettings/format":
		next.Format = op.value()
	default:
		return badRequest("Invalid patch path %s", op.Path)
	}
	st.AccessLog = &next
	return nil
}

func (s *Sandbox) securityRoutes(h func(pattern, op string, fn opFunc)) {
	h("POST /restapis/{restApiId}/authorizers", "CreateAuthorizer", s.createAuthorizer)
	h("GET /restapis/{restApiId}/authorizers", "GetAuthorizers", s.getAuthorizers)
	h("GET /restapis/{restApiId}/authorizers/{authorizerId}", "GetAuthorizer", s.getAuthorizer)

	h("POST /domainnames", "CreateDomainName", s.createDomainName)
	h("GET /domainnames", "GetDomainNames", s.getDomainNames)
	h("GET /domainnames/{domainName}", "GetDomainName", s.getDomainName)
	h("PATCH /domainnames/{domainName}", "UpdateDomainName", s.updateDomainName)
	h("POST /domainnames/{domainName}/basepathmappings", "CreateBasePathMapping", s.createBasePathMapping)
	h("GET /domainnames/{domainName}/basepathmappings", "GetBasePathMappings", s.getBasePathMappings)

	h("POST /clientcertificates", "GenerateClientCertificate", s.generateClientCertificate)
	h("GET /clientcertificates", "GetClientCertificates", s.getClientCertificates)
	h("GET /clientcertificates/{clientCertificateId}", "GetClientCertificate", s.getClientCertificate)
}

// applyV2AccessLog sets an HTTP API stage's access log settings
// (CreateStage/UpdateStage accessLogSettings); nil leaves them as they are.
func applyV2AccessLog(st *httpStage, in *accessLogSettings) *apiError {
	if in == nil {
		return nil
	}
	if !strings.HasPrefix(in.DestinationArn, "arn:") {
		return badRequest("Invalid destination ARN: %q", in.DestinationArn)
	}
	c := *in
	st.AccessLogSettings = &c
	return nil
}
