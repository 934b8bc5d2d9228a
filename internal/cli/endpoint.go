package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/apictl/apictl/internal/awsapi"
)

// validateEndpoints checks each distinct endpoint the settings resolve to
// (awsapi's endpoint rule), naming where it came from.
func validateEndpoints(ctx context.Context, s awsapi.Settings, getenv func(string) string) error {
	e := s.Endpoints()
	seen := map[string]bool{}
	for _, u := range []string{e.APIGateway, e.APIGatewayV2, e.CloudWatch, e.S3} {
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		source := "--endpoint-url"
		if s.EndpointURL == "" {
			source = "AWS_ENDPOINT_URL"
			for _, v := range []string{awsapi.EnvEndpointURLAPIGateway, awsapi.EnvEndpointURLAPIGatewayV2, awsapi.EnvEndpointURLCloudWatch, awsapi.EnvEndpointURLS3} {
				if getenv != nil && getenv(v) == u {
					source = v
				}
			}
		}
		if err := validateEndpointURL(ctx, u, source, source == "--endpoint-url"); err != nil {
			return err
		}
	}
	return nil
}

// validateEndpointURL checks an --endpoint-url (or AWS_ENDPOINT_URL…) before
// any AWS client uses it, so that a mistyped endpoint is said plainly
// instead of as an SDK error after eight retries: it needs an http or https
// scheme and a host, and with probe something must listen there (a refused
// connection is final; other dial errors are left to the SDK). Only the
// flag is probed: it serves every service, while an environment variable
// may name one a command never calls.
func validateEndpointURL(ctx context.Context, raw, source string, probe bool) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return WithHint(fmt.Errorf("%s %q is not a URL with a scheme", source, raw),
			fmt.Sprintf("write it with its scheme: %s http://%s (https:// for a remote endpoint)", source, strings.TrimPrefix(strings.TrimPrefix(raw, "//"), "/")))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return WithHint(fmt.Errorf("%s %q: scheme %q is not http or https", source, raw, u.Scheme),
			fmt.Sprintf("use http://%s for 'apictl sandbox serve', https:// for a remote endpoint", u.Host))
	}
	if !probe {
		return nil
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	d := net.Dialer{Timeout: 3 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err == nil {
		_ = conn.Close()
		return nil
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		hint := "check the address, or start the emulator: apictl sandbox serve --addr " + u.Host
		if !awsapi.IsLoopback(raw) {
			hint = "check the address and that the endpoint is up"
		}
		return WithHint(fmt.Errorf("nothing is listening at %s (%s): connection refused", raw, source), hint)
	}
	return nil
}
