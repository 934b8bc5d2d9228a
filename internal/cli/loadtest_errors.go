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

	"github.com/apictl/apictl/internal/loadtest"
)

// checkTargetsListen dials each target's host once before any load is sent:
// a refused connection means nothing listens there, which a load test
// would only report as 100% errors after its whole run.
func checkTargetsListen(ctx context.Context, targets loadtest.Targets) error {
	seen := map[string]bool{}
	for _, t := range targets {
		u, err := url.Parse(t.URL)
		if err != nil || u.Host == "" {
			continue
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		addr := net.JoinHostPort(u.Hostname(), port)
		if seen[addr] || port == "" {
			continue
		}
		seen[addr] = true
		d := net.Dialer{Timeout: 3 * time.Second}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			_ = conn.Close()
			continue
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return WithHint(fmt.Errorf("nothing is listening at %s (%s %s): connection refused; no load was sent", addr, t.Method, t.URL),
				"check the URL and that the service is up (with --api, --invoke-url or --endpoint-url give the stage's address)")
		}
	}
	return nil
}

// checkKeys refuses to load-test methods that need an API key when none is
// sent: API Gateway would answer every request 403 before the backend.
func checkKeys(targets loadtest.Targets) error {
	var need []string
	for _, t := range targets {
		if t.KeyRequired && t.Header.Get("X-Api-Key") == "" {
			need = append(need, t.Label())
		}
	}
	if len(need) == 0 {
		return nil
	}
	return WithHint(fmt.Errorf("%s %s an API key (apiKeyRequired) and none is sent: API Gateway would answer every request 403; no load was sent",
		strings.Join(need, ", "), map[bool]string{true: "needs", false: "need"}[len(need) == 1]),
		"pass a key of a usage plan of this stage with --api-key-env NAME (sent as x-api-key), or -H 'x-api-key: …'")
}

// noAnswerError explains a load test in which no request succeeded because
// of the request, not the load: every answer a 401/403 (a key or
// authorisation is missing) or no answer at all. Such a run measured
// nothing about capacity, so it is an error (exit 1), not an objective
// missed (exit 3). It returns nil when some request succeeded or the
// failures were of another kind.
func noAnswerError(c *loadtest.Capacity, keySent bool) error {
	steps := append([]loadtest.Step(nil), c.Steps...)
	total, auth, transport := 0, 0, 0
	var texts []string
	for _, st := range steps {
		if st.Successes > 0 {
			return nil
		}
		total += st.Requests
		auth += st.StatusCodes["403"] + st.StatusCodes["401"]
		transport += st.StatusCodes["0"]
		texts = append(texts, st.Errors...)
	}
	if total == 0 {
		return nil
	}
	switch {
	case auth == total:
		hint := "the method needs an API key: pass it with --api-key-env NAME (sent as x-api-key); --bearer-env NAME sends a token, --sigv4 signs for IAM authorisation"
		if keySent {
			hint = "the API key sent with --api-key-env was refused: check it belongs to a usage plan of this stage; --bearer-env NAME sends a token, --sigv4 signs for IAM authorisation"
		}
		return WithHint(fmt.Errorf("every response was 401/403 (%d of %d requests): the requests were refused before reaching the backend, so no capacity was measured", auth, total), hint)
	case transport == total:
		cause := "no response"
		if len(texts) > 0 {
			cause = strings.TrimSpace(texts[0])
		}
		hint := "check the URL and that the service is up; --timeout raises the per-request timeout"
		if strings.Contains(cause, "certificate") {
			hint = "the server's certificate did not verify: --insecure skips verification (a test endpoint only), or add its CA to SSL_CERT_FILE"
		}
		return WithHint(fmt.Errorf("no request got an answer (%d of %d): %s", transport, total, cause), hint)
	}
	return nil
}
