package awsapi

import (
	"net"
	"net/url"
	"os"
	"strings"
)

// Environment variables of the endpoint rule. The per-service names are
// AWS_ENDPOINT_URL_ followed by the service's SDK id, upper-cased with
// spaces as underscores ("API Gateway" → API_GATEWAY).
const (
	EnvEndpointURL             = "AWS_ENDPOINT_URL"
	EnvEndpointURLAPIGateway   = "AWS_ENDPOINT_URL_API_GATEWAY"
	EnvEndpointURLAPIGatewayV2 = "AWS_ENDPOINT_URL_APIGATEWAYV2"
	EnvEndpointURLCloudWatch   = "AWS_ENDPOINT_URL_CLOUDWATCH"
	EnvEndpointURLS3           = "AWS_ENDPOINT_URL_S3"
	EnvIgnoreEndpointURLs      = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
)

// Endpoints are the base URLs apictl sends each service's calls to; ""
// means AWS's own endpoint for the region.
type Endpoints struct {
	APIGateway   string `json:"apigateway,omitempty"`
	APIGatewayV2 string `json:"apigatewayv2,omitempty"`
	CloudWatch   string `json:"cloudwatch,omitempty"`
	// S3 is where results of sharded load tests go (--results s3://…).
	S3 string `json:"s3,omitempty"`
}

// Custom reports whether any service goes to an endpoint other than AWS's.
func (e Endpoints) Custom() bool {
	return e.APIGateway != "" || e.APIGatewayV2 != "" || e.CloudWatch != "" || e.S3 != ""
}

// Loopback reports whether every custom endpoint is on this machine and at
// least one is set: an emulator such as 'apictl sandbox serve'. The S3
// endpoint does not count: a local S3 (MinIO) beside real API Gateway must
// not turn on the emulator's fake credentials.
func (e Endpoints) Loopback() bool {
	n := 0
	for _, u := range []string{e.APIGateway, e.APIGatewayV2, e.CloudWatch} {
		if u == "" {
			continue
		}
		if !IsLoopback(u) {
			return false
		}
		n++
	}
	return n > 0
}

// ResolveEndpoints applies apictl's one endpoint rule, the precedence the
// AWS SDKs and tools reference documents ("Service-specific endpoints"): an
// explicit endpoint (--endpoint-url) wins; else the service's own
// AWS_ENDPOINT_URL_<SERVICE>; else AWS_ENDPOINT_URL. With
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true the environment is ignored and
// only the flag counts. getenv nil means os.Getenv.
//
// aws-sdk-go-v2 itself lets AWS_ENDPOINT_URL_<SERVICE> override a
// configured BaseEndpoint, so the clients are given these endpoints
// explicitly (see ClientsFromConfig) rather than left to the SDK.
func ResolveEndpoints(flag string, getenv func(string) string) Endpoints {
	if getenv == nil {
		getenv = os.Getenv
	}
	if flag != "" {
		return Endpoints{APIGateway: flag, APIGatewayV2: flag, CloudWatch: flag, S3: flag}
	}
	if strings.EqualFold(getenv(EnvIgnoreEndpointURLs), "true") {
		return Endpoints{}
	}
	pick := func(service string) string {
		if v := getenv(service); v != "" {
			return v
		}
		return getenv(EnvEndpointURL)
	}
	return Endpoints{
		APIGateway:   pick(EnvEndpointURLAPIGateway),
		APIGatewayV2: pick(EnvEndpointURLAPIGatewayV2),
		CloudWatch:   pick(EnvEndpointURLCloudWatch),
		S3:           pick(EnvEndpointURLS3),
	}
}

// IsLoopback reports whether the endpoint URL u points at this machine:
// localhost, a *.localhost name (RFC 6761) or a loopback IP.
func IsLoopback(u string) bool {
	if u == "" {
		return false
	}
	pu, err := url.Parse(u)
	if err != nil {
		return false
	}
	return IsLoopbackHost(pu.Hostname())
}

// IsLoopbackHost is IsLoopback for a host name or IP without scheme or port.
func IsLoopbackHost(h string) bool {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}
