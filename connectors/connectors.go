// Package connectors defines what a source and a sink connector are, and the
// registry of connector classes by name. Sources capture changes from a
// database and hand them on in acknowledged batches; sinks consume them from
// Kafka. The daemon looks classes up here by name and never switches on
// connector types.
package connectors

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
	"github.com/sluice-cdc/sluice/schema/registry"
)

// Batch is a run of events in commit order, with the function that
// acknowledges them. The pipeline calls Ack once every event of the batch
// and of every earlier batch is durable downstream (Kafka acks=all), in
// batch order, from one goroutine; a source then treats the batch's last
// position as safe to confirm to its database. A batch that is never
// acknowledged is replayed after a restart.
type Batch struct {
	Events []*event.Event
	// Committed reports that the transaction of the last event is complete:
	// its commit has been read (the transaction topic's END follows it).
	Committed bool
	// Ack confirms the batch; nil when nothing needs confirming.
	Ack func()
}

// Emitter receives a source's batches. Emit blocks while the pipeline is
// full (that is the source's back-pressure) and returns an error once the
// pipeline has failed or ctx ends; the source must then stop. Flush waits
// until every batch emitted so far is acknowledged, or fails; a source
// calls it when stopping, so that it can confirm what was delivered.
type Emitter interface {
	Emit(ctx context.Context, b Batch) error
	Flush(ctx context.Context) error
}

// Stage rewrites records between a source's change events and their
// encoding, or between a sink's decoding and its delivery: Kafka Connect's
// chain of single message transforms (the transforms package builds one
// from a connector's transforms.* keys; the daemon plugs it in). Apply
// returns nil to drop the record. It is called from one goroutine at a
// time, must not modify r and must not keep r once it returns.
type Stage interface {
	Apply(r *record.Record) (*record.Record, error)
}

// Source captures committed changes from one database.
type Source interface {
	// Run captures changes and emits them until ctx ends (then it returns
	// ctx's error) or it fails. Errors wrapping ErrPermanent must not be
	// retried. Run is called from one goroutine at a time.
	Run(ctx context.Context, out Emitter) error
}

// Sink consumes change records from Kafka and delivers them somewhere
// (Elasticsearch, SSE subscribers). Run consumes until ctx ends (then it
// returns ctx's error) or it fails; errors wrapping ErrPermanent are not
// retried. A sink commits its consumer positions only for records whose
// delivery is durable. Run is called from one goroutine at a time.
type Sink interface {
	Run(ctx context.Context, k Kafka) error
}

// Kafka is how a sink reaches the cluster the daemon uses.
type Kafka struct {
	Brokers []string
	// Opts are the daemon's client options (SASL, TLS); a sink adds its own.
	Opts []kgo.Opt
	// Registry resolves the schema ids of the records' Confluent frames.
	Registry *registry.Client
}

// Router serves HTTP endpoints of connectors on a daemon listener (the SSE
// listener). Handle fails if the path is taken; remove releases it.
type Router interface {
	Handle(path string, h http.Handler) (remove func(), err error)
}

// Env is what the daemon gives every connector instance.
type Env struct {
	// Name is the connector's name.
	Name string
	// Task is the number of this task of the connector, from 0 (a sink
	// with tasks.max runs several, each with an Env of its own).
	Task int
	// Version is sluice's version, written in each event's source block.
	Version string
	// Logger is the connector's logger; the daemon's already carries the
	// connector's name as the "connector" attribute.
	Logger *slog.Logger
	// Offsets persists the connector's own progress markers.
	Offsets OffsetStore
	// StateDir is a directory private to this connector instance (this
	// task of the connector), for spill files and the like; it survives
	// restarts.
	StateDir string
	// GroupInstanceID, when set, is the static membership id
	// (group.instance.id) a sink's consumer joins its group with. In
	// cluster mode the daemon names each task so, the same on every
	// instance, so that a task moved off an instance that died takes the
	// dead member's place, and its partitions, at once rather than after
	// the group's session timeout. Empty: the sink keeps an id of its own
	// in StateDir.
	GroupInstanceID string
	// Metrics is where the connector records its metrics; nil keeps them private.
	Metrics *metrics.Registry
	// SSE serves the HTTP endpoints of SSE sinks; nil outside the daemon.
	SSE Router
	// Running is called by a source once its start position is fixed (its
	// slot exists, its binlog position is stored): from then on no pause,
	// stop or restart skips a change it has not delivered. The daemon shows
	// a source as RUNNING only from then. Nil outside the daemon.
	Running func()
	// RecordTopic is called with the topic of each batch the connector's
	// Kafka clients produced (a source) or fetched (a sink): the daemon
	// keeps them as the connector's active topics (Kafka Connect's KIP-558).
	// The runtime calls it, from any goroutine; it is cheap for a topic
	// already recorded. Nil outside the daemon.
	RecordTopic func(topic string)
	// Signals carries signals from the daemon (the REST API) to a source
	// and the state of its incremental snapshots back; nil outside the
	// daemon.
	Signals *Signals
}

// ReportRunning calls e.Running when it is set.
func (e Env) ReportRunning() {
	if e.Running != nil {
		e.Running()
	}
}

// OffsetStore keeps a connector's offsets (Kafka Connect's source offsets):
// small JSON documents by partition key. Save is durable when it returns.
type OffsetStore interface {
	Load(ctx context.Context, key string) ([]byte, error)
	Save(ctx context.Context, key string, value []byte) error
}
