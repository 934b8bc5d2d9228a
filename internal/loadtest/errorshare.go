package loadtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ErrorShare splits a step's failed requests by cause, as shares of all its
// requests (0.05 = 5%).
type ErrorShare struct {
	// Gateway is 429 Too Many Requests: API Gateway's throttle (or a
	// backend saying the same).
	Gateway float64 `json:"gateway_429"`
	// Backend is 5xx: the integration failed or timed out.
	Backend float64 `json:"backend_5xx"`
	// Client is every other non-2xx answer (4xx but 429, 3xx not followed):
	// the requests were wrong, e.g. 403 without an API key.
	Client float64 `json:"client_4xx"`
	// Transport is requests that got no HTTP answer (refused, reset, timeout).
	Transport float64 `json:"transport"`
}

// Total is the share of failed requests.
func (e ErrorShare) Total() float64 { return e.Gateway + e.Backend + e.Client + e.Transport }

// ErrorCounts are a step's failed requests by cause.
type ErrorCounts struct {
	Gateway, Backend, Client, Transport int
}

// StepErrorCounts counts a step's failures by cause from its status codes
// ("0" is a transport error).
func StepErrorCounts(st Step) ErrorCounts {
	var c ErrorCounts
	for code, n := range st.StatusCodes {
		v, err := strconv.Atoi(code)
		switch {
		case err != nil, v >= 200 && v < 300:
		case v == 0:
			c.Transport += n
		case v == 429:
			c.Gateway += n
		case v >= 500:
			c.Backend += n
		default:
			c.Client += n
		}
	}
	return c
}

// StepErrorShare is StepErrorCounts as shares of the step's requests.
func StepErrorShare(st Step) ErrorShare {
	if st.Requests == 0 {
		return ErrorShare{}
	}
	c := StepErrorCounts(st)
	n := float64(st.Requests)
	return ErrorShare{
		Gateway: float64(c.Gateway) / n, Backend: float64(c.Backend) / n,
		Client: float64(c.Client) / n, Transport: float64(c.Transport) / n,
	}
}

// StatusSummary names a step's failed answers, most frequent first:
// "429×72 gateway, 503×12, transport×3" (empty when every request succeeded).
func StatusSummary(st Step) string {
	type entry struct {
		text string
		n    int
	}
	var es []entry
	for code, n := range st.StatusCodes {
		v, err := strconv.Atoi(code)
		if err != nil || (v >= 200 && v < 300) || n == 0 {
			continue
		}
		switch {
		case v == 0:
			es = append(es, entry{fmt.Sprintf("transport×%d", n), n})
		case v == 429:
			es = append(es, entry{fmt.Sprintf("429×%d gateway", n), n})
		default:
			es = append(es, entry{fmt.Sprintf("%d×%d", v, n), n})
		}
	}
	sort.Slice(es, func(i, j int) bool {
		if es[i].n != es[j].n {
			return es[i].n > es[j].n
		}
		return es[i].text < es[j].text
	})
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.text
	}
	return strings.Join(parts, ", ")
}

// Verdict says a step's verdict once, with its first reason:
// "pass", "FAIL p99 641ms > 300ms", "FAIL errors 37.5% > 1% (aborted)".
func Verdict(st Step) string {
	if st.Pass {
		return "pass"
	}
	reason := ""
	for _, part := range strings.Split(st.Reason, "; ") {
		part = strings.TrimSpace(part)
		if part == "" || strings.HasPrefix(part, "aborted") {
			continue
		}
		reason = strictOp(part)
		break
	}
	switch {
	case reason == "" && st.Interrupted:
		return "FAIL interrupted"
	case reason == "" && st.Aborted:
		return "FAIL (aborted)"
	case reason == "":
		return "FAIL"
	case st.Aborted:
		return "FAIL " + reason + " (aborted)"
	default:
		return "FAIL " + reason
	}
}

// strictOp turns "p99 641ms >= 300ms" into "p99 641ms > 300ms" when the two
// figures differ, as they nearly always do: "≥" only matters when equal.
func strictOp(reason string) string {
	f := strings.Fields(reason)
	if len(f) == 4 && f[1] != f[3] {
		switch f[2] {
		case ">=":
			f[2] = ">"
		case "<=":
			f[2] = "<"
		}
	}
	return strings.Join(f, " ")
}
