package daemon

import (
	"errors"
	"fmt"
)

// Sentinel errors callers branch on; the errors returned wrap them and read
// as Kafka Connect's messages.
var (
	ErrNotFound   = errors.New("not found")
	ErrExists     = errors.New("already exists")
	ErrNotStopped = errors.New("not stopped")
	// ErrManaged marks a change refused because a connector file defines
	// the connector; see ManagedError.
	ErrManaged = errors.New("managed by a file")
	// ErrGroupActive marks a change to a sink's consumer group offsets
	// refused because the group has members (a consumer still running).
	ErrGroupActive = errors.New("consumer group has members")
)

// kindError is an error with a message of its own that wraps a sentinel.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func notFound(name string) error {
	return &kindError{fmt.Sprintf("Connector %s not found", name), ErrNotFound}
}

// taskNotFound is Kafka Connect's error for a task that does not exist.
func taskNotFound(name, task string) error {
	return &kindError{fmt.Sprintf("Task %s-%s not found", name, task), ErrNotFound}
}

func exists(name string) error {
	return &kindError{fmt.Sprintf("Connector %s already exists", name), ErrExists}
}

func notStopped(name string) error {
	return &kindError{fmt.Sprintf("Connectors must be in the STOPPED state before their offsets can be modified. "+
		"This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name), ErrNotStopped}
}

// ManagedError refuses a change through the API to a connector a connector
// file defines. The rule: a file-defined connector's configuration belongs
// to its file. The API can read it, pause, resume, stop and restart it and
// change its offsets, but not create, reconfigure or delete it; edit or
// remove the file and send SIGHUP instead.
type ManagedError struct {
	Name, File string
}

func (e *ManagedError) Error() string {
	return fmt.Sprintf("Connector %s is managed by file %s: edit or remove that file and reload the daemon (SIGHUP)", e.Name, e.File)
}

func (e *ManagedError) Is(target error) bool { return target == ErrManaged }
