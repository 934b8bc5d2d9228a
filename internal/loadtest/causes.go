package loadtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ErrorCauses count a step's failed requests by whose fault they are, so
// that bad requests (bad data, a missing body) are not taken for load.
type ErrorCauses struct {
	// RequestFault are 4xx answers that say the request itself is wrong
	// whatever the load: 400, 404, 405, 409, 411, 413, 414, 415, 422, 431
	// and other 4xx not counted below.
	RequestFault int `json:"request_fault"`
	// Auth are 401 and 403 (missing or wrong credentials or API key).
	Auth int `json:"auth"`
	// Throttled are 429 (the gateway's or the backend's throttling).
	Throttled int `json:"throttled"`
	// Server are 5xx answers.
	Server int `json:"server"`
	// Transport are requests without an answer (status 0: connection errors, timeouts) and 408.
	Transport int `json:"transport"`
}

// Total is every failed request counted.
func (c ErrorCauses) Total() int {
	return c.RequestFault + c.Auth + c.Throttled + c.Server + c.Transport
}

// String is a short summary, e.g. "request-fault 4xx 812 · 429 3 · 5xx 0".
func (c ErrorCauses) String() string {
	var parts []string
	for _, p := range []struct {
		name string
		n    int
	}{{"request-fault 4xx", c.RequestFault}, {"401/403", c.Auth}, {"429", c.Throttled}, {"5xx", c.Server}, {"no answer", c.Transport}} {
		if p.n > 0 {
			parts = append(parts, p.name+" "+strconv.Itoa(p.n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " · ")
}

// CausesOf classifies status codes ("0" = no answer) by cause; 2xx and 3xx are not errors.
func CausesOf(codes map[string]int) ErrorCauses {
	var c ErrorCauses
	for k, n := range codes {
		code, err := strconv.Atoi(k)
		if err != nil {
			continue
		}
		switch {
		case code == 0 || code == 408:
			c.Transport += n
		case code == 401 || code == 403:
			c.Auth += n
		case code == 429:
			c.Throttled += n
		case code >= 500:
			c.Server += n
		case code >= 400:
			c.RequestFault += n
		}
	}
	return c
}

// ErrRequestsRejected is the verdict of a run whose failures are mostly
// request-fault 4xx: load says nothing until the requests are valid.
const ErrRequestsRejected = "the requests are being rejected as invalid"

// classifyCauses fills the step's Causes and reports whether its failures
// are mostly request-fault 4xx: the step failed, more than half of its
// failed requests are request-fault 4xx, and they alone break the error
// objective (1% when there is none).
func classifyCauses(st *Step, objs Objectives) bool {
	c := CausesOf(st.StatusCodes)
	if c.Total() == 0 {
		st.Causes = nil
		return false
	}
	st.Causes = &c
	if st.Pass || st.Requests == 0 || st.Interrupted {
		return false
	}
	limit := objs.maxErrorRatio()
	if limit < 0 {
		limit = 0.01
	}
	return 2*c.RequestFault > c.Total() && float64(c.RequestFault)/float64(st.Requests) > limit
}

// rejectedReason words ErrRequestsRejected with the step's figures.
func rejectedReason(st Step) string {
	codes := make([]string, 0, len(st.StatusCodes))
	for k, n := range st.StatusCodes {
		if code, err := strconv.Atoi(k); err == nil && code >= 400 && code < 500 && code != 401 && code != 403 && code != 408 && code != 429 {
			codes = append(codes, fmt.Sprintf("%s ×%d", k, n))
		}
	}
	sort.Strings(codes)
	return fmt.Sprintf("%s (%s rps: %s of %d requests answered %s)", ErrRequestsRejected, fmtRate(st.Rate),
		strconv.Itoa(st.Causes.RequestFault), st.Requests, strings.Join(codes, ", "))
}

// RejectedError stops a search whose requests are rejected as invalid.
type RejectedError struct{ Reason string }

func (e *RejectedError) Error() string { return e.Reason }
