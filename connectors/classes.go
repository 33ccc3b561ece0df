package connectors

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/event"
)

// Kind says whether a class captures changes (source) or consumes them (sink).
type Kind string

// The connector kinds, as Kafka Connect's /connector-plugins reports them.
const (
	KindSource Kind = "source"
	KindSink   Kind = "sink"
)

// Class is a connector class: its names, its configuration keys and how to
// build an instance.
type Class struct {
	// Name is the short name ("postgres"); Aliases are the Java class names
	// existing connector JSON uses.
	Name    string
	Aliases []string
	Kind    Kind
	// Connector is what a source writes in events' source.connector, which
	// also picks their Avro source schema ("postgresql", "mysql"). Sources only.
	Connector string
	Spec      *conf.Spec
	// Output reads what the pipeline into Kafka needs from a source's
	// parsed configuration (KindSource only).
	Output func(cfg *conf.Config) SourceOutput
	// NewSource builds a source from a parsed configuration (KindSource only).
	NewSource func(cfg *conf.Config, env Env) (Source, error)
	// NewSink builds a sink from a parsed configuration (KindSink only).
	NewSink func(cfg *conf.Config, env Env) (Sink, error)
	// Group names the consumer group a sink commits its progress to (Kafka
	// Connect's connect-<name>): the offsets API reads and changes that
	// group's committed offsets. Nil for a sink that commits none (KindSink
	// only).
	Group func(connector string) string
	// AlterOffset checks an offset set through the offsets API (PATCH
	// /connectors/{name}/offsets) for a stopped source, carries it out where
	// the database keeps its own position (Postgres advances its replication
	// slot) and returns the value to store under key. An error wrapping
	// ErrInvalidOffset is the user's to fix; its message says why. Nil:
	// offsets are stored as given (KindSource only).
	AlterOffset func(ctx context.Context, cfg *conf.Config, key string, offset json.RawMessage) (json.RawMessage, error)
	// Probe checks that what the connector writes to or reads from answers
	// (an Elasticsearch sink's cluster). The daemon calls it every few
	// seconds while the connector runs, from one goroutine, with a deadline;
	// while it fails, its error is the trace of the RUNNING connector's
	// status. Nil: nothing to probe.
	Probe func(ctx context.Context, cfg *conf.Config) error
	// Signals reports that the source takes signals through Env.Signals
	// (incremental snapshots asked for through the REST API).
	Signals bool
	// Tasks reports that a connector of the class runs as many tasks as its
	// tasks.max says, each with a Sink of its own: Kafka Connect's sink
	// tasks, members of the connector's one consumer group, which splits
	// the topics' partitions among them. In cluster mode they are spread
	// over the instances. Otherwise a connector runs one task (KindSink
	// only).
	Tasks bool
	// EveryInstance reports that, in cluster mode, a connector of the
	// class runs on every instance instead of on the one the group assigns
	// it to: an SSE sink serves the subscribers that connect to any
	// instance, each instance reading the topics itself. Such a class
	// keeps no offsets and holds nothing only one reader may hold.
	EveryInstance bool
}

// SourceOutput is what the pipeline from a source into Kafka takes from
// the source's configuration.
type SourceOutput struct {
	// TopicPrefix starts every topic name and Avro schema name.
	TopicPrefix string
	// Tombstones follows each delete with a tombstone.
	Tombstones bool
	// Skipped are the operations whose change events are not written
	// (Debezium's skipped.operations).
	Skipped []event.Op
	// TransactionTopic, when set, receives a BEGIN and an END record for
	// every transaction with captured changes (Debezium's
	// provide.transaction.metadata).
	TransactionTopic string
	// HeartbeatTopic, when set, receives a heartbeat record at most every
	// HeartbeatInterval while the source emits.
	HeartbeatTopic    string
	HeartbeatInterval time.Duration
}

var (
	classesMu sync.RWMutex
	classes   = map[string]*Class{}
)

// Register makes a class known under its name and aliases. It is called from
// package init functions; registering a name twice panics, since that is a
// programming error.
func Register(c Class) {
	classesMu.Lock()
	defer classesMu.Unlock()
	for _, n := range append([]string{c.Name}, c.Aliases...) {
		key := strings.ToLower(n)
		if _, dup := classes[key]; dup {
			panic(fmt.Sprintf("connectors: class name %q registered twice", n))
		}
		classes[key] = &c
	}
}

// Lookup finds a class by its short name or any alias, case-insensitively.
func Lookup(name string) (*Class, bool) {
	classesMu.RLock()
	defer classesMu.RUnlock()
	c, ok := classes[strings.ToLower(strings.TrimSpace(name))]
	return c, ok
}

// Classes lists every registered class once, sorted by name.
func Classes() []*Class {
	classesMu.RLock()
	defer classesMu.RUnlock()
	seen := map[*Class]bool{}
	var out []*Class
	for _, c := range classes {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
