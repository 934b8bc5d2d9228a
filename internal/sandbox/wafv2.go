package sandbox

import (
	"net/http"
	"strings"
)

// WAFv2 speaks awsJson1.1: POST / with X-Amz-Target AWSWAF_20190729.<Op>.
// The emulator keeps regional web ACLs and their association with REST API
// stages, which GetStage then shows as webAclArn, as AWS does.

const wafTargetPrefix = "AWSWAF_20190729."

func isWAFv2(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), wafTargetPrefix)
}

type webACL struct {
	Name, ID, ARN, Description string
	DefaultAction              map[string]any
	VisibilityConfig           map[string]any
}

func (a *webACL) view() map[string]any {
	out := map[string]any{"Name": a.Name, "Id": a.ID, "ARN": a.ARN,
		"DefaultAction": a.DefaultAction, "VisibilityConfig": a.VisibilityConfig, "Rules": []any{},
		"Capacity": 0, "ManagedByFirewallManager": false, "LabelNamespace": "awswaf:" + a.ID + ":webacl:" + a.Name + ":"}
	if a.Description != "" {
		out["Description"] = a.Description
	}
	return out
}

func wafError(typ, format string, a ...any) *apiError {
	e := badRequest(format, a...)
	e.Type = typ
	return e
}

func (s *Sandbox) serveWAFv2(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), wafTargetPrefix)
	fn := map[string]opFunc{
		"CreateWebACL":         s.wafCreateWebACL,
		"AssociateWebACL":      s.wafAssociateWebACL,
		"DisassociateWebACL":   s.wafDisassociateWebACL,
		"GetWebACLForResource": s.wafGetWebACLForResource,
	}[op]
	if fn == nil {
		fn = func(*call) (int, any, *apiError) {
			return 0, nil, &apiError{Status: http.StatusBadRequest, Type: "UnknownOperationException",
				Message: "unknown operation " + op}
		}
	}
	s.wrap("wafv2:"+op, "", fn)(w, r)
}

func (s *Sandbox) wafCreateWebACL(c *call) (int, any, *apiError) {
	var in struct {
		Name             string         `json:"Name"`
		Scope            string         `json:"Scope"`
		Description      string         `json:"Description"`
		DefaultAction    map[string]any `json:"DefaultAction"`
		VisibilityConfig map[string]any `json:"VisibilityConfig"`
	}
	if e := c.decode(&in); e != nil {
		return 0, nil, wafError("WAFInvalidParameterException", "%s", e.Message)
	}
	if in.Name == "" || in.DefaultAction == nil || in.VisibilityConfig == nil {
		return 0, nil, wafError("WAFInvalidParameterException", "Error reason: A required field is missing, field: Name, DefaultAction or VisibilityConfig")
	}
	scope := "regional"
	switch in.Scope {
	case "REGIONAL":
	case "CLOUDFRONT":
		scope = "global"
	default:
		return 0, nil, wafError("WAFInvalidParameterException", "Error reason: The scope is not valid., field: SCOPE_VALUE, parameter: %s", in.Scope)
	}
	for _, arn := range s.state.webACLsOrder {
		if s.state.webACLs[arn].Name == in.Name {
			return 0, nil, wafError("WAFDuplicateItemException", "AWS WAF couldn't perform the operation because some resource in your request is a duplicate of an existing one.")
		}
	}
	id := newID(8) + "-" + newID(4) + "-" + newID(4) + "-" + newID(4) + "-" + newID(12)
	a := &webACL{Name: in.Name, ID: id, Description: in.Description, DefaultAction: in.DefaultAction,
		VisibilityConfig: in.VisibilityConfig,
		ARN:              "arn:aws:wafv2:" + s.opts.Region + ":" + s.opts.AccountID + ":" + scope + "/webacl/" + in.Name + "/" + id}
	s.state.webACLs[a.ARN] = a
	s.state.webACLsOrder = append(s.state.webACLsOrder, a.ARN)
	return 200, map[string]any{"Summary": map[string]any{"Name": a.Name, "Id": a.ID, "ARN": a.ARN,
		"Description": a.Description, "LockToken": newRequestID()}}, nil
}

// wafStage resolves a WAF ResourceArn naming an API Gateway stage,
// arn:aws:apigateway:REGION::/restapis/ID/stages/NAME. HTTP API stages
// (/apis/ID/stages/NAME) are not resources WAF can protect.
func (s *Sandbox) wafStage(resourceArn string) (*stage, *apiError) {
	prefix := "arn:aws:apigateway:" + s.opts.Region + "::/"
	rest, ok := strings.CutPrefix(resourceArn, prefix)
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 4 || parts[2] != "stages" {
		return nil, wafError("WAFInvalidParameterException", "Error reason: The ARN isn't valid. A valid ARN begins with arn: and includes other information separated by colons or slashes., field: RESOURCE_ARN, parameter: %s", resourceArn)
	}
	if parts[0] != "restapis" {
		return nil, wafError("WAFInvalidParameterException", "Error reason: The resource type isn't supported by AWS WAF; only REST API stages of API Gateway can be protected., field: RESOURCE_ARN, parameter: %s", resourceArn)
	}
	a, ok := s.state.apis[parts[1]]
	if !ok {
		return nil, wafError("WAFNonexistentItemException", "AWS WAF couldn’t perform the operation because your resource doesn’t exist.")
	}
	st, ok := a.Stages[parts[3]]
	if !ok {
		return nil, wafError("WAFNonexistentItemException", "AWS WAF couldn’t perform the operation because your resource doesn’t exist.")
	}
	return st, nil
}

func (s *Sandbox) wafAssociateWebACL(c *call) (int, any, *apiError) {
	var in struct {
		WebACLArn   string `json:"WebACLArn"`
		ResourceArn string `json:"ResourceArn"`
	}
	if e := c.decode(&in); e != nil {
		return 0, nil, wafError("WAFInvalidParameterException", "%s", e.Message)
	}
	acl, ok := s.state.webACLs[in.WebACLArn]
	if !ok {
		return 0, nil, wafError("WAFNonexistentItemException", "AWS WAF couldn’t perform the operation because your resource doesn’t exist.")
	}
	if !strings.Contains(acl.ARN, ":regional/") {
		return 0, nil, wafError("WAFInvalidParameterException", "Error reason: Only REGIONAL web ACLs can be associated with a regional resource., field: RESOURCE_ARN, parameter: %s", in.ResourceArn)
	}
	st, e := s.wafStage(in.ResourceArn)
	if e != nil {
		return 0, nil, e
	}
	st.WebACLArn = acl.ARN
	return 200, map[string]any{}, nil
}

// wafStageIn resolves the stage named by the request's ResourceArn.
func (s *Sandbox) wafStageIn(c *call) (*stage, *apiError) {
	var in struct {
		ResourceArn string `json:"ResourceArn"`
	}
	if e := c.decode(&in); e != nil {
		return nil, wafError("WAFInvalidParameterException", "%s", e.Message)
	}
	return s.wafStage(in.ResourceArn)
}

func (s *Sandbox) wafDisassociateWebACL(c *call) (int, any, *apiError) {
	st, e := s.wafStageIn(c)
	if e != nil {
		return 0, nil, e
	}
	st.WebACLArn = ""
	return 200, map[string]any{}, nil
}

func (s *Sandbox) wafGetWebACLForResource(c *call) (int, any, *apiError) {
	st, e := s.wafStageIn(c)
	if e != nil {
		return 0, nil, e
	}
	if acl, ok := s.state.webACLs[st.WebACLArn]; ok {
		return 200, map[string]any{"WebACL": acl.view()}, nil
	}
	return 200, map[string]any{}, nil
}
