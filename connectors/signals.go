package connectors

import (
	"encoding/json"
	"slices"
	"sync"
	"time"
)

// Signal is a request to a running source, as Debezium's signals are: an
// id, a type (execute-snapshot, stop-snapshot, pause-snapshot,
// resume-snapshot, log) and the type's JSON data. Sources read them from
// their signal table; the daemon sends them through Signals.
type Signal struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
}

// SnapshotStatus is the state of an incremental or blocking snapshot a
// source runs or ran, as GET /connectors/{name}/snapshots lists it.
type SnapshotStatus struct {
	ID string `json:"id"`
	// State is RUNNING, PAUSED, COMPLETED or STOPPED.
	State string `json:"state"`
	// Type is incremental or blocking.
	Type string `json:"type"`
	// Tables are the tables asked for; Remaining those not read yet, the
	// current one first, whose rows are read up to LastKey.
	Tables    []string   `json:"tables"`
	Remaining []string   `json:"remaining"`
	LastKey   []string   `json:"last_key,omitempty"`
	Rows      int64      `json:"rows"`
	Chunks    int64      `json:"chunks"`
	Started   time.Time  `json:"started"`
	Finished  *time.Time `json:"finished,omitempty"`
}

// Signals carries signals from the daemon to one connector's running
// source, and the state of the source's snapshots back. The daemon makes
// one per connector, which outlives the source's restarts: a signal posted
// while the source restarts waits for it. Safe for concurrent use.
type Signals struct {
	mu        sync.Mutex
	queue     []Signal
	snapshots []SnapshotStatus
}

// Post queues sig for the source, which takes it within a second while it
// streams.
func (s *Signals) Post(sig Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, sig)
}

// Take returns the queued signals and empties the queue. A nil *Signals
// holds none.
func (s *Signals) Take() []Signal {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue = nil
	return q
}

// Publish records the state of the source's snapshots, newest last. A nil
// *Signals drops it.
func (s *Signals) Publish(snapshots []SnapshotStatus) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snapshots = snapshots
}

// Snapshots returns the state the source last published.
func (s *Signals) Snapshots() []SnapshotStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.snapshots)
}
