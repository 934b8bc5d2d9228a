package awsapi

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// throttleCodes are the error codes API Gateway and CloudWatch use when a
// caller is rate limited; the SDK's standard retryer does not know all of
// them. API Gateway's LimitExceededException is its 429 "the request exceeded
// the rate limit", not a quota.
var throttleCodes = map[string]struct{}{
	"TooManyRequestsException": {},
	"Throttling":               {},
	"ThrottlingException":      {},
	"ThrottledException":       {},
	"RequestLimitExceeded":     {},
	"LimitExceededException":   {},
}

// serverCodes are error codes of a failure on AWS's side.
var serverCodes = map[string]struct{}{
	"InternalFailure":             {},
	"InternalServerError":         {},
	"InternalServerException":     {},
	"ServiceUnavailable":          {},
	"ServiceUnavailableException": {},
}

// transientConflict are the words of a ConflictException that goes away by
// itself: a concurrent change to the same resource still in flight. Every
// other conflict (a key already in another plan for the stage, a name
// already taken) fails the same way on every try.
var transientConflict = []string{"concurrent modification", "try again"}

// ErrorCode returns the AWS error code of err ("" when err is not an AWS
// answer).
func ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func errorMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// IsThrottle reports whether err is a rate-limit answer from AWS.
func IsThrottle(err error) bool {
	_, ok := throttleCodes[ErrorCode(err)]
	return ok
}

// IsNotFound reports whether err is a NotFoundException (or
// ResourceNotFound) answer.
func IsNotFound(err error) bool {
	switch ErrorCode(err) {
	case "NotFoundException", "ResourceNotFoundException", "ResourceNotFound":
		return true
	}
	return false
}

// IsConflict reports whether err is a ConflictException answer, transient
// or not (see IsTransient).
func IsConflict(err error) bool {
	return ErrorCode(err) == "ConflictException"
}

// IsTransient reports whether trying the same call again later can
// succeed: a throttle, a 5xx or an AWS failure code, or a ConflictException
// about a concurrent modification. A permanent ConflictException (for
// instance "API Key … cannot reference multiple Usage Plans with the same
// API Stage") is not transient: retrying it only wastes the caller's time.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	code := ErrorCode(err)
	if _, ok := throttleCodes[code]; ok {
		return true
	}
	if _, ok := serverCodes[code]; ok {
		return true
	}
	if code == "ConflictException" {
		msg := strings.ToLower(errorMessage(err))
		for _, w := range transientConflict {
			if strings.Contains(msg, w) {
				return true
			}
		}
		return false
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 500 {
		return true
	}
	return false
}
