package cdc

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/metrics"
	"github.com/sluice-cdc/sluice/schema/event"
)

// Chunk is a run of events handed from a reader (snapshot or stream) to
// the batcher.
type Chunk[P any] struct {
	Events []*event.Event
	// End, when set, is a position every change up to which is in this or
	// an earlier chunk: the end of a committed transaction, or a server
	// position with nothing captured before it. Confirming it is safe once
	// the chunk is durable. Ends come in increasing order.
	End *P
	// Snapshot, when set, is the snapshot progress to save once durable.
	Snapshot *SnapshotProgress[P]
	// SnapshotDone marks the chunk after the last snapshot row.
	SnapshotDone bool
	// Incremental, when set, is the incremental snapshot progress to save
	// once durable; one with no tables left ends the snapshot.
	Incremental *IncrementalProgress
	// SignalOffset, when set, is the offset of the last record of the
	// signal topic acted on, to save once durable.
	SignalOffset *int64
	// Captured, when set, are the tables the source captures, to save
	// once durable.
	Captured []string
}

// Send hands c to out, or returns ctx's error once ctx ends.
func Send[P any](ctx context.Context, out chan<- Chunk[P], c Chunk[P]) error {
	select {
	case out <- c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxBatch bounds the events merged into one batch.
const maxBatch = 4096

// offsetSaveInterval bounds how often a moved streaming position is written
// to the offset store: at most once per interval, and within one interval
// of the acknowledgement that moved it, even when no other follows.
// Snapshot progress is written with every acknowledgement, and Drain writes
// the last position when stopping.
const offsetSaveInterval = time.Second

// Metrics are the series every source reports, labelled with its connector.
type Metrics struct {
	events  *metrics.Counter   // events made durable in Kafka
	latency *metrics.Histogram // commit in the database to acknowledgement by Kafka
	failed  *metrics.Counter   // changes dropped by event.processing.failure.handling.mode

	snapshotRows      *metrics.Counter // rows handed on by incremental snapshots
	snapshotChunks    *metrics.Counter // chunks handed on by incremental snapshots
	snapshotRemaining *metrics.Gauge   // tables the running incremental snapshot has left

	// Kafka Connect's source task figures.
	polled     *metrics.Counter // events read from the database (source-record-poll-total)
	written    *metrics.Counter // events made durable in Kafka (source-record-write-total)
	lagSeconds *metrics.Gauge   // now minus the commit time of the last acknowledged change
	lagBytes   *metrics.Gauge   // log read from the database but not yet confirmed
}

// NewMetrics registers a source's series in r (a private registry when nil).
func NewMetrics(r *metrics.Registry, connector string) Metrics {
	if r == nil {
		r = metrics.NewRegistry()
	}
	l := []string{"connector"}
	return Metrics{
		events:  r.Counter("sluice_source_events_total", "Change events made durable in Kafka.", l, connector),
		latency: r.Histogram("sluice_source_commit_to_ack_seconds", "Time from a change's commit in the database to Kafka acknowledging it (millisecond resolution).", metrics.LatencyBuckets, l, connector),
		failed:  r.Counter("sluice_source_failed_changes_total", "Changes dropped because a value could not be converted (event.processing.failure.handling.mode warn or skip).", l, connector),

		snapshotRows:      r.Counter("sluice_source_incremental_snapshot_rows_total", "Rows handed on by incremental snapshots.", l, connector),
		snapshotChunks:    r.Counter("sluice_source_incremental_snapshot_chunks_total", "Chunks handed on by incremental snapshots.", l, connector),
		snapshotRemaining: r.Gauge("sluice_source_incremental_snapshot_remaining_tables", "Tables the running incremental snapshot has yet to read.", l, connector),

		polled:     r.Counter("sluice_connector_records_polled_total", "Records a connector took in: change events a source read from its database, records a sink read from Kafka.", l, connector),
		written:    r.Counter("sluice_connector_records_written_total", "Records a connector handed on durably: change events a source had acknowledged by Kafka, records a sink wrote to its target.", l, connector),
		lagSeconds: r.Gauge("sluice_source_lag_seconds", "Time from the commit in the database of the last change Kafka acknowledged to that acknowledgement.", l, connector),
		lagBytes:   r.Gauge("sluice_source_lag_bytes", "Replication log the source read from the database and has not yet confirmed as durable in Kafka, in bytes.", l, connector),
	}
}

// SetLagBytes reports the log read from the database and not yet confirmed
// (a source's stream calls it as its position moves).
func (m Metrics) SetLagBytes(n uint64) { m.lagBytes.Set(float64(n)) }

// Acker applies acknowledgements: it hands each confirmed end position to
// the source's confirm function (Postgres moves its slot) and keeps the
// offset state, saving it after Kafka acknowledged what it records. Acks
// arrive in order from the pipeline's goroutine; Save may be called from
// another.
type Acker[P any] struct {
	store   *Store[P]
	confirm func(P)
	metrics Metrics
	logger  *slog.Logger

	mu        sync.Mutex
	state     *State[P]
	dirty     bool // the position moved since the last save
	lastSaved time.Time
	later     *time.Timer // saves a moved position no later acknowledgement saved
	stopped   bool        // Save was called: the source is stopping
}

// NewAcker returns an Acker keeping state in store. confirm, when not
// nil, is called with every acknowledged end position, in order.
func NewAcker[P any](store *Store[P], state *State[P], confirm func(P), m Metrics, logger *slog.Logger) *Acker[P] {
	return &Acker[P]{store: store, state: state, confirm: confirm, metrics: m, logger: logger}
}

// Save writes the state now (a stopping source's last word).
func (a *Acker[P]) Save(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stopped = true
	if a.later != nil {
		a.later.Stop()
	}
	a.dirty, a.lastSaved = false, time.Now()
	return a.store.Save(ctx, a.state)
}

// saveLater writes a position that moved within the save interval once
// the interval is over, unless an acknowledgement or the stop saved it
// meanwhile: a source that falls idle then has its last position stored,
// and a kill replays at most an interval's changes.
func (a *Acker[P]) saveLater() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.later = nil
	if !a.dirty || a.stopped {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	a.saveLocked(ctx)
}

// saveLocked writes the state; a.mu is held.
func (a *Acker[P]) saveLocked(ctx context.Context) {
	a.dirty, a.lastSaved = false, time.Now()
	if err := a.store.Save(ctx, a.state); err != nil {
		a.logger.Error("saving offsets failed; they will be saved with the next acknowledgement", "error", err)
	}
}

// ack applies the acknowledgement of a batch: times are its events'
// figures, and c holds what its chunks ask to save (their events aside).
func (a *Acker[P]) ack(ctx context.Context, times batchTimes, c Chunk[P]) {
	now := time.Now().UnixMilli()
	for _, ms := range times.commitMs {
		a.metrics.latency.Observe(float64(now-ms) / 1000)
	}
	a.metrics.events.Add(uint64(times.count))
	a.metrics.written.Add(uint64(times.count))
	if n := len(times.commitMs); n > 0 {
		a.metrics.lagSeconds.Set(float64(now-times.commitMs[n-1]) / 1000)
	}
	if c.End != nil && a.confirm != nil {
		a.confirm(*c.End)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	save := c.Snapshot != nil || c.SnapshotDone || c.Incremental != nil || c.SignalOffset != nil || c.Captured != nil
	if c.SignalOffset != nil {
		a.state.SignalOffset = c.SignalOffset
	}
	if c.Captured != nil {
		a.state.Captured = c.Captured
	}
	if c.Incremental != nil {
		a.state.Incremental = c.Incremental
		if len(c.Incremental.Tables) == 0 {
			a.state.Incremental = nil
		}
	}
	if c.Snapshot != nil {
		a.state.Snapshot = c.Snapshot
	}
	if c.SnapshotDone {
		a.state.Snapshot, a.state.SnapshotCompleted = nil, true
	}
	if c.End != nil {
		a.state.Position, a.state.Positioned, a.dirty = *c.End, true, true
	}
	if !save && !(a.dirty && time.Since(a.lastSaved) >= offsetSaveInterval) {
		if a.dirty && a.later == nil && !a.stopped {
			a.later = time.AfterFunc(offsetSaveInterval-time.Since(a.lastSaved), a.saveLater)
		}
		return
	}
	a.saveLocked(context.WithoutCancel(ctx))
}

// failing is an Emitter that says when it has failed for good
// (kafka.Writer), so that a source learns of a failed write while it
// waits for changes.
type failing interface {
	Failed() <-chan struct{}
}

// Batch merges the chunks that are ready into batches of up to 4,096 events
// and emits them, each with the Ack that confirms its end through a. It
// returns when ctx ends or out fails — at once when out says it failed.
func Batch[P any](ctx context.Context, in <-chan Chunk[P], out connectors.Emitter, a *Acker[P]) error {
	var failed <-chan struct{} // nil, never ready, when out does not say
	if f, ok := out.(failing); ok {
		failed = f.Failed()
	}
	for {
		var c Chunk[P]
		select {
		case c = <-in:
		case <-ctx.Done():
			return ctx.Err()
		case <-failed:
			return out.Flush(ctx)
		}
		// merged is what the batch's chunks ask to save, the latest of each.
		merged, events := c, c.Events
		// The last event's transaction is complete when a chunk with an
		// end came after it.
		committed := c.End != nil
	merge:
		for len(events) < maxBatch {
			select {
			case more := <-in:
				events = append(events, more.Events...)
				if len(more.Events) > 0 || more.End != nil {
					committed = more.End != nil
				}
				if more.End != nil {
					merged.End = more.End
				}
				if more.Snapshot != nil {
					merged.Snapshot = more.Snapshot
				}
				merged.SnapshotDone = merged.SnapshotDone || more.SnapshotDone
				if more.Incremental != nil {
					merged.Incremental = more.Incremental
				}
				if more.SignalOffset != nil {
					merged.SignalOffset = more.SignalOffset
				}
				if more.Captured != nil {
					merged.Captured = more.Captured
				}
			default:
				break merge
			}
		}
		merged.Events = nil
		times := commitTimes(events)
		a.metrics.polled.Add(uint64(len(events)))
		ack := func() { a.ack(ctx, times, merged) }
		if err := out.Emit(ctx, connectors.Batch{Events: events, Committed: committed, Ack: ack}); err != nil {
			return err
		}
	}
}

// commitTimes keeps what the acknowledgement of a batch needs of its events
// — their number and the commit times of the streamed ones (not those a
// snapshot read, rows or schema) — so that the events themselves are
// garbage once they are encoded.
func commitTimes(events []*event.Event) batchTimes {
	t := batchTimes{count: len(events)}
	for _, e := range events {
		if e.Source.Snapshot == event.SnapshotFalse {
			t.commitMs = append(t.commitMs, e.Source.TsMillis())
		}
	}
	return t
}

type batchTimes struct {
	count    int
	commitMs []int64
}

// drainTimeout bounds how long a stopping source waits for its in-flight
// batches before it reports its final position.
const drainTimeout = 10 * time.Second

// Drain is what a source does when ctx ended: it waits up to 10 s for the
// batches in flight to be acknowledged, saves the state, and then calls
// final (when not nil) to report the last position to the database.
// Whatever is not acknowledged in time is replayed after a restart.
func Drain[P any](out connectors.Emitter, a *Acker[P], logger *slog.Logger, final func(ctx context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := out.Flush(ctx); err != nil {
		logger.Warn("stopping with batches not acknowledged; they will be replayed after restart", "error", err)
	}
	if err := a.Save(ctx); err != nil {
		logger.Warn("saving the final offsets failed; a restart replays from the last saved position", "error", err)
	}
	if final != nil {
		if err := final(ctx); err != nil {
			logger.Warn("reporting the final position failed; a restart replays from the previous one", "error", err)
		}
	}
}
