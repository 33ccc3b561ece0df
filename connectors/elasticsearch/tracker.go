package elasticsearch

import (
	"context"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors/metrics"
)

// tracker follows the records between their dispatch and the end of their
// writes. It bounds how many are in flight, tells when none is, and knows
// per partition the last record whose offset may be committed: one whose
// writes, and every earlier record's of its partition, are durable.
// Safe for concurrent use.
type tracker struct {
	max   int            // records in flight at most (max.buffered.records)
	gauge *metrics.Gauge // set to the records in flight

	mu          sync.Mutex
	changed     *sync.Cond // signalled when a record is done, or on failure
	outstanding int
	err         error // the first failure; it ends every wait
	parts       map[partition]*partTrack
}

// partTrack is one partition's records in flight, in offset order.
type partTrack struct {
	pending []*tracked
	// commit is the last record that may be committed, and committed
	// whether it has been since it was set.
	commit    *kgo.Record
	committed bool
}

// tracked is one dispatched record.
type tracked struct {
	rec  *kgo.Record
	done bool
	// holdBack is set for a versioned delete: its offset is never
	// committed, so that a consumer starting from the committed offset
	// reads the delete before the tombstone after it. A tombstone read
	// first would be an unversioned delete, removing a document that a
	// later event recreated, whose replay Elasticsearch then refuses as
	// stale.
	holdBack bool
}

func newTracker(max int, gauge *metrics.Gauge) *tracker {
	t := &tracker{max: max, gauge: gauge, parts: map[partition]*partTrack{}}
	t.changed = sync.NewCond(&t.mu)
	return t
}

// add starts tracking r, in offset order after the partition's earlier
// records.
func (t *tracker) add(r *kgo.Record, holdBack bool) *tracked {
	e := &tracked{rec: r, holdBack: holdBack}
	t.mu.Lock()
	defer t.mu.Unlock()
	p := partition{r.Topic, r.Partition}
	pt := t.parts[p]
	if pt == nil {
		pt = &partTrack{committed: true}
		t.parts[p] = pt
	}
	pt.pending = append(pt.pending, e)
	t.outstanding++
	t.gauge.Set(float64(t.outstanding))
	return e
}

// done marks records written (or deliberately skipped).
func (t *tracker) done(es ...*tracked) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range es {
		e.done = true
		t.outstanding--
		pt := t.parts[partition{e.rec.Topic, e.rec.Partition}]
		if pt == nil {
			continue // the partition was revoked or lost meanwhile
		}
		n := 0
		for n < len(pt.pending) && pt.pending[n].done {
			if !pt.pending[n].holdBack {
				pt.commit, pt.committed = pt.pending[n].rec, false
			}
			n++
		}
		if n > 0 {
			pt.pending = append(pt.pending[:0], pt.pending[n:]...)
		}
	}
	t.gauge.Set(float64(t.outstanding))
	t.changed.Broadcast()
}

// fail records the first failure and wakes every wait.
func (t *tracker) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = err
	}
	t.changed.Broadcast()
}

// waitRoom waits until fewer than max records are in flight and returns
// how many more may be dispatched. It returns an error when the pipeline
// failed, ctx ended, or timeout passed first (then naming it).
func (t *tracker) waitRoom(ctx context.Context, timeout time.Duration, timeoutErr error) (int, error) {
	var n int
	err := t.wait(ctx, timeout, timeoutErr, func() bool {
		n = t.max - t.outstanding
		return n > 0
	})
	return n, err
}

// waitIdle waits until no record is in flight, with the same errors as
// waitRoom.
func (t *tracker) waitIdle(ctx context.Context, timeout time.Duration, timeoutErr error) error {
	return t.wait(ctx, timeout, timeoutErr, func() bool { return t.outstanding == 0 })
}

// wait waits, under t.mu, until ok holds or something ends the wait.
func (t *tracker) wait(ctx context.Context, timeout time.Duration, timeoutErr error, ok func() bool) error {
	expired := false
	timer := time.AfterFunc(timeout, func() {
		t.mu.Lock()
		expired = true
		t.mu.Unlock()
		t.changed.Broadcast()
	})
	defer timer.Stop()
	stop := context.AfterFunc(ctx, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.changed.Broadcast()
	})
	defer stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		switch {
		case t.err != nil:
			return t.err
		case ok():
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case expired:
			return timeoutErr
		}
		t.changed.Wait()
	}
}

// commitPoints returns, per partition, the last committable record not
// yet committed. markCommitted is called after a successful commit.
func (t *tracker) commitPoints() []*kgo.Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*kgo.Record
	for _, pt := range t.parts {
		if pt.commit != nil && !pt.committed {
			out = append(out, pt.commit)
		}
	}
	return out
}

// markCommitted notes that recs (from commitPoints) were committed.
func (t *tracker) markCommitted(recs []*kgo.Record) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range recs {
		if pt := t.parts[partition{r.Topic, r.Partition}]; pt != nil && pt.commit == r {
			pt.committed = true
		}
	}
}

// forget stops tracking the partitions of a revoked or lost assignment;
// records of them still in flight are written but never committed here.
func (t *tracker) forget(parts map[string][]int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for topic, ps := range parts {
		for _, p := range ps {
			delete(t.parts, partition{topic, p})
		}
	}
}
