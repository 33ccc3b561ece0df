package daemon

import (
	"time"

	"github.com/sluice-cdc/sluice/connectors"
)

// State is a connector's or task's runtime state, as Kafka Connect names it.
type State string

// The runtime states. One rule decides between FAILED and UNASSIGNED after
// an error, whatever the step that met it (configuration check, preflight,
// setup, streaming): an error only a person can cure — the configuration,
// a missing right or server setting, a value that does not convert — is
// permanent (connectors.Permanent) and FAILS the connector; any other — a
// host that does not answer, a service restarting, a slot another run still
// holds — leaves it UNASSIGNED, retried after a backoff for as long as it
// lasts, the error in its trace. /readyz is not ready while a connector is
// in either.
const (
	// Unassigned: not running yet, or waiting out a backoff before a restart
	// (the trace then holds the error that caused it).
	Unassigned State = "UNASSIGNED"
	Running    State = "RUNNING"
	Paused     State = "PAUSED"
	Stopped    State = "STOPPED"
	// Failed: stopped by a permanent error, shown in the trace; only a
	// restart, resume or config change starts it again.
	Failed State = "FAILED"
	// Restarting appears only in the answer to a restart request.
	Restarting State = "RESTARTING"
)

// States lists the states a connector can be in, for metrics.
var States = []State{Unassigned, Running, Paused, Stopped, Failed}

// Info is a connector's definition.
type Info struct {
	Name string
	// Config is the configuration as written (references unresolved). It
	// may hold secrets written literally: mask it before showing it.
	Config map[string]string
	// Class is nil when connector.class names no registered class.
	Class *connectors.Class
	// Tasks is how many tasks the connector has: 1, or tasks.max for a
	// class whose connectors split their work (connectors.Class.Tasks); 0
	// while STOPPED.
	Tasks int
	// File is the connector file that manages it; empty when it was
	// created through the REST API.
	File string
}

// Type is "source", "sink", or "unknown" when the class is unknown.
func (i Info) Type() string { return typeOf(i.Class) }

func typeOf(c *connectors.Class) string {
	if c == nil {
		return "unknown"
	}
	return string(c.Kind)
}

// Status is a connector's runtime status. The connector and its task 0
// run together, so the connector's state is task 0's; a sink with
// tasks.max runs more tasks, in cluster mode each on the instance the
// group assigned it to (its WorkerID).
type Status struct {
	Name  string
	State State
	// Trace is the error that failed the connector, or that it restarts
	// after; while it is RUNNING, what its class's Probe finds wrong with
	// its target (Kafka Connect shows a task's trouble the same way).
	Trace    string
	WorkerID string
	Type     string
	Tasks    []TaskStatus
	// Restarts counts the restarts after transient errors since the daemon
	// started.
	Restarts int64
	// LastError is when an error last failed or restarted the connector;
	// zero when none has.
	LastError time.Time
}

// TaskStatus is the status of one task.
type TaskStatus struct {
	ID       int
	State    State
	Trace    string
	WorkerID string
}
