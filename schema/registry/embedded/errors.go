package embedded

import (
	"fmt"
	"net/http"
)

// Confluent Schema Registry error codes used in error bodies.
const (
	codeSubjectNotFound       = 40401
	codeVersionNotFound       = 40402
	codeSchemaNotFound        = 40403
	codeSubjectSoftDeleted    = 40404
	codeSubjectNotSoftDeleted = 40405
	codeVersionSoftDeleted    = 40406
	codeVersionNotSoftDeleted = 40407
	codeSubjectConfigNotFound = 40408
	codeIncompatibleSchema    = 409
	codeInvalidSchema         = 42201
	codeInvalidVersion        = 42202
	codeInvalidCompatibility  = 42203
	codeInvalidSubject        = 42208
	codeStoreError            = 50001
	codeOperationTimeout      = 50002
	codeUnsupportedMediaType  = 415
	codeBadRequest            = 400
	codeUnauthorized          = 401
	codeNotFound              = 404
	codeMethodNotAllowed      = 405
	codeRequestEntityTooLarge = 413
	codeServiceUnavailable    = 503
)

// apiError is an error answered to an HTTP client as Confluent's
// {"error_code": ..., "message": ...} body with the given HTTP status.
type apiError struct {
	Status  int    `json:"-"`
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return fmt.Sprintf("%s (error code %d)", e.Message, e.Code) }

func newAPIError(status, code int, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func errSubjectNotFound(subject string) *apiError {
	return newAPIError(http.StatusNotFound, codeSubjectNotFound, "Subject '%s' not found.", subject)
}

func errVersionNotFound(version int) *apiError {
	return newAPIError(http.StatusNotFound, codeVersionNotFound, "Version %d not found.", version)
}

func errSchemaIDNotFound(id int) *apiError {
	return newAPIError(http.StatusNotFound, codeSchemaNotFound, "Schema %d not found", id)
}

func errSchemaNotFound() *apiError {
	return newAPIError(http.StatusNotFound, codeSchemaNotFound, "Schema not found")
}

func errSubjectSoftDeleted(subject string) *apiError {
	return newAPIError(http.StatusNotFound, codeSubjectSoftDeleted,
		"Subject '%s' was soft deleted.Set permanent=true to delete permanently", subject)
}

func errSubjectNotSoftDeleted(subject string) *apiError {
	return newAPIError(http.StatusNotFound, codeSubjectNotSoftDeleted,
		"Subject '%s' was not deleted first before being permanently deleted", subject)
}

func errVersionSoftDeleted(subject string, version int) *apiError {
	return newAPIError(http.StatusNotFound, codeVersionSoftDeleted,
		"Subject '%s' Version %d was soft deleted.Set permanent=true to delete permanently", subject, version)
}

func errVersionNotSoftDeleted(subject string, version int) *apiError {
	return newAPIError(http.StatusNotFound, codeVersionNotSoftDeleted,
		"Subject '%s' Version %d was not deleted first before being permanently deleted", subject, version)
}

func errSubjectConfigNotFound(subject string) *apiError {
	return newAPIError(http.StatusNotFound, codeSubjectConfigNotFound,
		"Subject '%s' does not have subject-level compatibility configured", subject)
}

func errInvalidSchema(format string, args ...any) *apiError {
	return newAPIError(http.StatusUnprocessableEntity, codeInvalidSchema, format, args...)
}

func errInvalidVersion(version string) *apiError {
	return newAPIError(http.StatusUnprocessableEntity, codeInvalidVersion,
		"The specified version '%s' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"", version)
}

func errInvalidCompatibility(level string) *apiError {
	return newAPIError(http.StatusUnprocessableEntity, codeInvalidCompatibility,
		"Invalid compatibility level '%s'. Valid values are NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE", level)
}

// errInvalidSubject refuses to store a subject name that could not be read back as written:
// JSON (the topic's records, every answer) carries UTF-8 text only, and Confluent's registry
// refuses control characters.
func errInvalidSubject(subject string) *apiError {
	return newAPIError(http.StatusUnprocessableEntity, codeInvalidSubject,
		"The specified subject %q is not valid: a subject is UTF-8 text without control characters", subject)
}

func errBadRequest(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, codeBadRequest, format, args...)
}

func errStore(format string, args ...any) *apiError {
	return newAPIError(http.StatusInternalServerError, codeStoreError, format, args...)
}

func errTimeout(format string, args ...any) *apiError {
	return newAPIError(http.StatusInternalServerError, codeOperationTimeout, format, args...)
}
