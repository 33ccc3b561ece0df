// Package store keeps what a connector needs to survive a daemon restart:
// its configuration as written (secret references unresolved), its target
// state, its source offsets and its active topics.
//
// Store is the contract; Files keeps one JSON file per connector under a
// directory (standalone mode), Kafka keeps them in three compacted topics
// that every instance of a cluster reads and follows (cluster mode).
package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/sluice-cdc/sluice/connectors"
)

// Target is the state a connector should be in, as set by its file, by
// initial_state or by pause, resume and stop.
type Target string

// The target states, named as Kafka Connect names them.
const (
	Running Target = "RUNNING"
	Paused  Target = "PAUSED"
	Stopped Target = "STOPPED"
)

// ParseTarget returns the target named s (case-insensitively).
func ParseTarget(s string) (Target, bool) {
	switch t := Target(strings.ToUpper(strings.TrimSpace(s))); t {
	case Running, Paused, Stopped:
		return t, true
	}
	return "", false
}

// Record is everything stored about one connector.
type Record struct {
	Name string `json:"name"`
	// Config is the configuration as written, without "name"; ${...}
	// references are kept, never their values.
	Config map[string]string `json:"config"`
	Target Target            `json:"target_state"`
	// File is the connector file that defines the connector; empty for a
	// connector created through the REST API.
	File string `json:"file,omitempty"`
	// Offsets are the connector's source offsets by partition key; Put
	// ignores them (they change through OffsetStore and SetOffsets).
	Offsets map[string]json.RawMessage `json:"offsets,omitempty"`
	// Topics are the topics the connector produced to or consumed from
	// since they were last reset, sorted (Kafka Connect's active topics);
	// Put ignores them (they change through SetTopics).
	Topics []string `json:"topics,omitempty"`
}

// ErrNotFound is returned for a connector the store does not hold.
var ErrNotFound = errors.New("connector not found")

// Store is where connectors live. Implementations are safe for concurrent
// use; a method that returns nil has made its change durable.
type Store interface {
	// List returns every connector, sorted by name.
	List(ctx context.Context) ([]Record, error)
	// Get returns one connector, or an error wrapping ErrNotFound.
	Get(ctx context.Context, name string) (Record, error)
	// Put creates or replaces a connector's name, config, target and file,
	// keeping its offsets.
	Put(ctx context.Context, rec Record) error
	// SetTarget changes a connector's target state.
	SetTarget(ctx context.Context, name string, t Target) error
	// Delete removes a connector and its offsets.
	Delete(ctx context.Context, name string) error
	// SetOffsets replaces all of a connector's offsets; nil or empty resets
	// them.
	SetOffsets(ctx context.Context, name string, offsets map[string]json.RawMessage) error
	// SetTopics replaces a connector's active topics; nil or empty resets
	// them.
	SetTopics(ctx context.Context, name string, topics []string) error
	// Offsets is the connector's OffsetStore; it fails with ErrNotFound once
	// the connector is deleted.
	Offsets(name string) connectors.OffsetStore
}
