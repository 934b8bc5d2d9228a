package sandbox

import (
	"net/http"
	"strings"
	"time"
)

// domainName is a custom domain name with its TLS security policy, optional
// mutual TLS and its base path mappings.
type domainName struct {
	DomainName            string
	CertificateArn        string
	RegionalCertArn       string
	EndpointTypes         []string
	SecurityPolicy        string
	TruststoreURI         string
	TruststoreVersion     string
	Mappings              []basePathMapping
	DistributionName      string
	RegionalDomainName    string
	DomainNameStatus      string
	DomainNameStatusNotes string
}

type basePathMapping struct {
	BasePath  string `json:"basePath"`
	RestAPIID string `json:"restApiId"`
	Stage     string `json:"stage,omitempty"`
}

// validSecurityPolicies are the values CreateDomainName takes. AWS added
// enhanced policies (SecurityPolicy_TLS13_…) in 2025; the emulator knows the
// two classic ones and any of the enhanced names.
func validSecurityPolicy(p string) bool {
	return p == "TLS_1_0" || p == "TLS_1_2" || strings.HasPrefix(p, "SecurityPolicy_")
}

func (d *domainName) view() map[string]any {
	out := map[string]any{
		"domainName":            d.DomainName,
		"securityPolicy":        d.SecurityPolicy,
		"endpointConfiguration": map[string]any{"types": d.EndpointTypes},
		"domainNameStatus":      "AVAILABLE",
	}
	if d.CertificateArn != "" {
		out["certificateArn"] = d.CertificateArn
		out["distributionDomainName"] = d.DistributionName
	}
	if d.RegionalCertArn != "" {
		out["regionalCertificateArn"] = d.RegionalCertArn
		out["regionalDomainName"] = d.RegionalDomainName
	}
	if d.TruststoreURI != "" {
		m := map[string]any{"truststoreUri": d.TruststoreURI}
		if d.TruststoreVersion != "" {
			m["truststoreVersion"] = d.TruststoreVersion
		}
		out["mutualTlsAuthentication"] = m
	}
	return out
}

func (s *Sandbox) createDomainName(c *call) (int, any, *apiError) {
	var in struct {
		DomainName             string `json:"domainName"`
		CertificateArn         string `json:"certificateArn"`
		RegionalCertificateArn string `json:"regionalCertificateArn"`
		SecurityPolicy         string `json:"securityPolicy"`
		EndpointConfiguration  *struct {
			Types []string `json:"types"`
		} `json:"endpointConfiguration"`
		MutualTLSAuthentication *struct {
			TruststoreURI     string `json:"truststoreUri"`
			TruststoreVersion string `json:"truststoreVersion"`
		} `json:"mutualTlsAuthentication"`
	}
	if e := c.decode(&in); e != nil {
		return 0, nil, e
	}
	if in.DomainName == "" || !strings.Contains(in.DomainName, ".") {
		return 0, nil, badRequest("Invalid domain name identifier specified: %q", in.DomainName)
	}
	if _, ok := s.state.domains[in.DomainName]; ok {
		return 0, nil, conflict("The domain name you provided already exists.")
	}
	d := &domainName{DomainName: in.DomainName, CertificateArn: in.CertificateArn,
		RegionalCertArn: in.RegionalCertificateArn, EndpointTypes: []string{"EDGE"}}
	if in.EndpointConfiguration != nil && len(in.EndpointConfiguration.Types) > 0 {
		d.EndpointTypes = in.EndpointConfiguration.Types
	}
	regional := d.EndpointTypes[0] == "REGIONAL"
	if regional && d.RegionalCertArn == "" || !regional && d.CertificateArn == "" {
		return 0, nil, badRequest("A certificate was not provided for the %s endpoint", d.EndpointTypes[0])
	}
	d.SecurityPolicy = in.SecurityPolicy
	if d.SecurityPolicy == "" {
		d.SecurityPolicy = "TLS_1_2"
	}
	if !validSecurityPolicy(d.SecurityPolicy) {
		return 0, nil, badRequest("Invalid security policy %q. Valid values are TLS_1_0, TLS_1_2", d.SecurityPolicy)
	}
	if m := in.MutualTLSAuthentication; m != nil && m.TruststoreURI != "" {
		if !regional {
			return 0, nil, badRequest("Mutual TLS is only supported for REGIONAL domain names")
		}
		if !strings.HasPrefix(m.TruststoreURI, "s3://") {
			return 0, nil, badRequest("Invalid truststore URI %q: must be an s3:// URI", m.TruststoreURI)
		}
		d.TruststoreURI, d.TruststoreVersion = m.TruststoreURI, m.TruststoreVersion
	}
	if regional {
		d.RegionalDomainName = "d-" + newID(10) + ".execute-api." + s.opts.Region + ".amazonaws.com"
	} else {
		d.DistributionName = "d" + newID(12) + ".cloudfront.net"
	}
	s.state.domains[d.DomainName] = d
	s.state.domainOrder = append(s.state.domainOrder, d.DomainName)
	return http.StatusCreated, d.view(), nil
}

func (s *Sandbox) getDomainNames(c *call) (int, any, *apiError) {
	return listPage(c, s.state.domainOrder, func(id string) any { return s.state.domains[id].view() })
}

func (s *Sandbox) getDomainName(c *call) (int, any, *apiError) {
	return 200, c.domain.view(), nil
}

// applyPatch applies one UpdateDomainName operation: replace on
// /securityPolicy and /mutualTlsAuthentication/truststoreUri (and
// …/truststoreVersion).
func (d *domainName) applyPatch(op patchOp) *apiError {
	if op.Op != "replace" {
		return badOp(op, "replace")
	}
	v := op.value()
	switch op.Path {
	case "/securityPolicy":
		if !validSecurityPolicy(v) {
			return badRequest("Invalid security policy %q. Valid values are TLS_1_0, TLS_1_2", v)
		}
		d.SecurityPolicy = v
	case "/mutualTlsAuthentication/truststoreUri":
		if d.EndpointTypes[0] != "REGIONAL" {
			return badRequest("Mutual TLS is only supported for REGIONAL domain names")
		}
		if v != "" && !strings.HasPrefix(v, "s3://") {
			return badRequest("Invalid truststore URI %q: must be an s3:// URI", v)
		}
		d.TruststoreURI = v
	case "/mutualTlsAuthentication/truststoreVersion":
		d.TruststoreVersion = v
	default:
		return badRequest("Invalid patch path %s", op.Path)
	}
	return nil
}

func (s *Sandbox) updateDomainName(c *call) (int, any, *apiError) {
	work := *c.domain
	if e := c.applyPatches(work.applyPatch); e != nil {
		return 0, nil, e
	}
	*c.domain = work
	return 200, c.domain.view(), nil
}

func (s *Sandbox) createBasePathMapping(c *call) (int, any, *apiError) {
	d := c.domain
	var in basePathMapping
	if e := c.decode(&in); e != nil {
		return 0, nil, e
	}
	a, ok := s.state.apis[in.RestAPIID]
	if !ok {
		return 0, nil, badRequest("Invalid REST API identifier specified")
	}
	if in.Stage != "" {
		if _, ok := a.Stages[in.Stage]; !ok {
			return 0, nil, badRequest("Invalid stage identifier specified")
		}
	}
	if in.BasePath == "" {
		in.BasePath = "(none)"
	}
	for _, m := range d.Mappings {
		if m.BasePath == in.BasePath {
			return 0, nil, conflict("Base path already exists for this domain name")
		}
	}
	d.Mappings = append(d.Mappings, in)
	return http.StatusCreated, in, nil
}

func (s *Sandbox) getBasePathMappings(c *call) (int, any, *apiError) {
	d := c.domain
	return listPage(c, d.Mappings, func(m basePathMapping) any { return m })
}

// clientCertificate is a certificate API Gateway presents to HTTP backends.
type clientCertificate struct {
	ID          string `json:"clientCertificateId"`
	Description string `json:"description,omitempty"`
	PEM         string `json:"pemEncodedCertificate"`
	Created     epoch  `json:"createdDate"`
	Expires     epoch  `json:"expirationDate"`
}

func (s *Sandbox) generateClientCertificate(c *call) (int, any, *apiError) {
	var in struct {
		Description string `json:"description"`
	}
	if e := c.decode(&in); e != nil {
		return 0, nil, e
	}
	now := s.opts.Now()
	cert := &clientCertificate{ID: newID(6), Description: in.Description,
		PEM:     "-----BEGIN CERTIFICATE-----\nc2FuZGJveA==\n-----END CERTIFICATE-----",
		Created: epoch(now), Expires: epoch(now.Add(365 * 24 * time.Hour))}
	s.state.clientCerts[cert.ID] = cert
	s.state.certOrder = append(s.state.certOrder, cert.ID)
	return http.StatusCreated, cert, nil
}

func (s *Sandbox) getClientCertificates(c *call) (int, any, *apiError) {
	return listPage(c, s.state.certOrder, func(id string) any { return s.state.clientCerts[id] })
}

func (s *Sandbox) getClientCertificate(c *call) (int, any, *apiError) {
	return 200, c.cert, nil
}
