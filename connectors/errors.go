package connectors

import "errors"

// ErrPermanent marks a failure that retrying cannot cure (bad credentials, an
// invalid configuration, a lost replication slot): the connector goes to
// FAILED instead of restarting. Wrap it: fmt.Errorf("%w: ...", ErrPermanent).
var ErrPermanent = errors.New("permanent failure")

// ErrInvalidOffset marks an offset set through the offsets API that the
// connector refuses (a malformed position, one the database no longer
// has); the error's message says why. The REST API answers it with 400.
var ErrInvalidOffset = errors.New("invalid offset")

// Permanent wraps err so that errors.Is(err, ErrPermanent) holds.
func Permanent(err error) error {
	if err == nil || errors.Is(err, ErrPermanent) {
		return err
	}
	return permanentError{err}
}

type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() []error { return []error{e.err, ErrPermanent} }
