package loadtest

import (
	"net/http"
	"strings"
)

// isGatewayThrottle reports whether a response is API Gateway's own
// throttling or quota answer rather than the backend's: status 429 with
// x-amzn-ErrorType TooManyRequestsException (a rate or burst limit) or
// LimitExceededException (a usage-plan quota). A backend's 429 passed
// through an integration does not carry that header type, so it counts
// as the backend's failure. See docs/aws-behaviour.md, "Gateway throttling
// responses (cap-search)".
func isGatewayThrottle(code int, h http.Header) bool {
	if code != http.StatusTooManyRequests {
		return false
	}
	t := h.Get("X-Amzn-Errortype")
	return strings.HasPrefix(t, "TooManyRequestsException") || strings.HasPrefix(t, "LimitExceededException")
}
