package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema/event"
)

// maxBatch bounds the events merged into one batch.
const maxBatch = 4096

// offsetSaveInterval bounds how often the confirmed position is written to
// the offset store; snapshot progress is written with every acknowledgement.
const offsetSaveInterval = time.Second

// acker applies acknowledgements: it moves the stream's confirmed position
// and saves offsets. Acks arrive in order from the pipeline's goroutine.
type acker struct {
	src       *Source
	stream    *stream
	mu        sync.Mutex
	state     *offsetState
	lastSaved time.Time
}

// batch merges the chunks that are ready into batches of up to maxBatch
// events and emits them, each with the Ack that confirms its end.
func (s *Source) batch(ctx context.Context, in <-chan chunk, out connectors.Emitter, a *acker) error {
	for {
		var c chunk
		select {
		case c = <-in:
		case <-ctx.Done():
			return ctx.Err()
		}
		events, end, progress, done := c.events, c.end, c.snapshot, c.snapshotDone
	merge:
		for len(events) < maxBatch {
			select {
			case more := <-in:
				events = append(events, more.events...)
				end = max(end, more.end)
				if more.snapshot != nil {
					progress = more.snapshot
				}
				done = done || more.snapshotDone
			default:
				break merge
			}
		}
		if err := out.Emit(ctx, connectors.Batch{Events: events, Ack: a.ackFunc(ctx, commitTimes(events), end, progress, done)}); err != nil {
			return err
		}
	}
}

// commitTimes keeps what the acknowledgement of a batch needs of its events
// — their number and the commit times of the streamed ones — so that the
// events themselves are garbage once they are encoded.
func commitTimes(events []*event.Event) batchTimes {
	t := batchTimes{count: len(events)}
	for _, e := range events {
		if e.Op != event.OpRead {
			t.commitMs = append(t.commitMs, e.Source.TsMs)
		}
	}
	return t
}

type batchTimes struct {
	count    int
	commitMs []int64
}

func (a *acker) ackFunc(ctx context.Context, times batchTimes, end pglogrepl.LSN, progress *snapshotProgress, done bool) func() {
	return func() {
		m := a.src.metrics
		now := time.Now().UnixMilli()
		for _, ms := range times.commitMs {
			m.latency.Observe(float64(now-ms) / 1000)
		}
		m.events.Add(uint64(times.count))
		if end > 0 {
			a.stream.confirm(end)
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		save := progress != nil || done
		if progress != nil {
			a.state.Snapshot = progress
		}
		if done {
			a.state.Snapshot, a.state.SnapshotCompleted = nil, true
		}
		if lsn := a.stream.confirmed.Load(); lsn > a.state.LSN {
			a.state.LSN = lsn
			save = save || time.Since(a.lastSaved) >= offsetSaveInterval
		}
		if !save {
			return
		}
		a.lastSaved = time.Now()
		if err := a.src.saveOffsets(context.WithoutCancel(ctx), a.state); err != nil {
			a.src.logger.Error("saving offsets failed; they will be saved with the next acknowledgement", "error", err)
		}
	}
}
