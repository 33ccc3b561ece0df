package registry

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinels to branch on with errors.Is.
var (
	// ErrIncompatible: the registry rejected a schema as incompatible with the subject's
	// registered versions under its compatibility level (HTTP 409).
	ErrIncompatible = errors.New("schema is incompatible with the registered versions")
	// ErrInvalidSchema: the registry rejected a schema as invalid (HTTP 422).
	ErrInvalidSchema = errors.New("schema is invalid")
	// ErrNotRegistered: with auto.register.schemas off, the schema (or, with
	// use.latest.version, any version) is not registered under the subject.
	ErrNotRegistered = errors.New("schema is not registered")
	// ErrUnavailable: the registry could not be reached or failed (5xx, 408, 429, connection
	// errors, timeouts). Retrying later may succeed; the other errors are permanent.
	ErrUnavailable = errors.New("schema registry unavailable")
)

// RegistrationError is a registration the registry refused: the schema is incompatible
// (errors.Is(err, ErrIncompatible)) or invalid (errors.Is(err, ErrInvalidSchema)).
type RegistrationError struct {
	Subject    string // the subject the schema was registered under
	StatusCode int    // the HTTP status: 409 or 422
	ErrorCode  int    // Confluent's error_code, e.g. 409, 40901 or 42201
	Message    string // the registry's message, which gives the reason
	// LatestVersion is the subject's latest registered version, 0 when it has none or it
	// could not be fetched.
	LatestVersion int
}

func (e *RegistrationError) Error() string {
	what := "incompatible"
	if e.StatusCode == http.StatusUnprocessableEntity {
		what = "invalid"
	}
	latest := "no registered version"
	if e.LatestVersion > 0 {
		latest = fmt.Sprintf("latest registered version %d", e.LatestVersion)
	}
	return fmt.Sprintf("register schema under subject %q (%s): rejected as %s (HTTP %d, error code %d): %s",
		e.Subject, latest, what, e.StatusCode, e.ErrorCode, e.Message)
}

// Is matches ErrIncompatible for 409 and ErrInvalidSchema for 422.
func (e *RegistrationError) Is(target error) bool {
	switch target {
	case ErrIncompatible:
		return e.StatusCode == http.StatusConflict
	case ErrInvalidSchema:
		return e.StatusCode == http.StatusUnprocessableEntity
	}
	return false
}

// ResponseError is any other error answer of the registry.
type ResponseError struct {
	Op         string // what was being done, e.g. `look up schema id 7`
	StatusCode int    // HTTP status, 0 when the registry's answer did not say
	ErrorCode  int    // Confluent's error_code, 0 when absent
	Message    string
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("%s: registry answered HTTP %d (error code %d): %s", e.Op, e.StatusCode, e.ErrorCode, e.Message)
}

// Is matches ErrUnavailable for answers worth retrying: 5xx, 408 and 429.
func (e *ResponseError) Is(target error) bool {
	return target == ErrUnavailable && transientStatus(e.StatusCode)
}

func transientStatus(status int) bool {
	return status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
}
