package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// apiError is an AWS-shaped error: status code, x-amzn-ErrorType header and
// a {"message": ...} body.
type apiError struct {
	Status     int
	Type       string
	Message    string
	RetryAfter string
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func notFound(format string, a ...any) *apiError {
	return &apiError{Status: http.StatusNotFound, Type: "NotFoundException", Message: fmt.Sprintf(format, a...)}
}

func badRequest(format string, a ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: "BadRequestException", Message: fmt.Sprintf(format, a...)}
}

func conflict(format string, a ...any) *apiError {
	return &apiError{Status: http.StatusConflict, Type: "ConflictException", Message: fmt.Sprintf(format, a...)}
}

func limitExceeded(format string, a ...any) *apiError {
	return &apiError{Status: http.StatusTooManyRequests, Type: "LimitExceededException", Message: fmt.Sprintf(format, a...)}
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", e.Type)
	w.Header().Set("x-amzn-RequestId", newRequestID())
	if e.RetryAfter != "" {
		w.Header().Set("Retry-After", e.RetryAfter)
	}
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": e.Message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-RequestId", newRequestID())
	if v == nil {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, &apiError{Status: 500, Type: "InternalFailure", Message: err.Error()})
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// epoch marshals a time as epoch seconds, the API Gateway v1 wire format.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatInt(tt.Unix(), 10)), nil
}

// isoTime marshals a time as ISO 8601, the apigatewayv2 wire format.
type isoTime time.Time

func (t isoTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(t).UTC().Format("2006-01-02T15:04:05Z"))
}
