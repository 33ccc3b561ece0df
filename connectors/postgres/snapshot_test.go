package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema/event"
)

// snapshotRows is the size of the table snapshotted under concurrent writes.
const snapshotRows = 1_000_000

// TestSnapshotUnderConcurrentWrites snapshots a large table while a writer
// inserts, updates and deletes, then rebuilds the table from Kafka alone:
// it must equal the table, row for row.
func TestSnapshotUnderConcurrentWrites(t *testing.T) {
	rows := snapshotRows
	if raceEnabled {
		rows = snapshotRows / 10 // the race detector slows decoding tenfold
	}
	h := newHarness(t, nil)
	h.exec(`CREATE TABLE big (id bigint PRIMARY KEY, v int NOT NULL, pad text)`,
		fmt.Sprintf(`INSERT INTO big SELECT g, 0, md5(g::text) FROM generate_series(1, %d) g`, rows),
		`CREATE TABLE marker (id int PRIMARY KEY)`)

	writer := h.pg.Connect(t)
	ctx, stopWriter := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var ops int
	wg.Add(1)
	go func() {
		defer wg.Done()
		next := int64(rows)
		for ctx.Err() == nil {
			batch := &pgx.Batch{}
			for range 20 {
				id := rand.Int64N(next) + 1
				switch rand.IntN(3) {
				case 0:
					next++
					batch.Queue(`INSERT INTO big VALUES ($1, 1, 'new')`, next)
				case 1:
					batch.Queue(`UPDATE big SET v = v + 1, pad = 'updated' WHERE id = $1`, id)
				case 2:
					batch.Queue(`DELETE FROM big WHERE id = $1`, id)
				}
			}
			if err := writer.SendBatch(context.Background(), batch).Close(); err != nil {
				t.Errorf("writer: %v", err)
				return
			}
			ops += 20
		}
	}()
	h.start()
	h.waitStreaming()
	time.Sleep(500 * time.Millisecond)
	stopWriter()
	wg.Wait()
	h.exec(`INSERT INTO marker VALUES (1)`)
	h.read(h.topic("marker"), 1)

	// The marker committed after every write, and the source emits in
	// commit order, so everything is in Kafka once the marker is.
	state := map[int64]string{}
	snapshotReads := 0
	for _, r := range h.readAll(h.topic("big")) {
		if r.value == nil {
			continue
		}
		switch r.value.Op {
		case event.OpRead, event.OpCreate, event.OpUpdate:
			if r.value.Op == event.OpRead {
				snapshotReads++
			}
			a := r.value.After
			state[a[0].(int64)] = fmt.Sprintf("%d/%v", a[1], a[2])
		case event.OpDelete:
			delete(state, r.value.Before[0].(int64))
		}
	}
	table := map[int64]string{}
	dbRows, err := h.db.Query(context.Background(), `SELECT id, v, pad FROM big`)
	if err != nil {
		t.Fatal(err)
	}
	for dbRows.Next() {
		var id int64
		var v int32
		var pad *string
		if err := dbRows.Scan(&id, &v, &pad); err != nil {
			t.Fatal(err)
		}
		if pad == nil {
			table[id] = fmt.Sprintf("%d/<nil>", v)
		} else {
			table[id] = fmt.Sprintf("%d/%s", v, *pad)
		}
	}
	if len(state) != len(table) {
		t.Errorf("rebuilt %d rows from Kafka, table has %d", len(state), len(table))
	}
	diffs := 0
	for id, want := range table {
		if got := state[id]; got != want && diffs < 10 {
			diffs++
			t.Errorf("row %d: Kafka says %q, table says %q", id, got, want)
		}
	}
	t.Logf("%d rows, %d snapshot reads, %d concurrent writes", len(table), snapshotReads, ops)
	if ops == 0 {
		t.Error("the writer wrote nothing while the snapshot ran")
	}
}

// TestSnapshotResumesAfterStop stops the source in the middle of a snapshot
// and checks that the restart continues after the last durable key instead
// of starting over, and that no row is missing.
func TestSnapshotResumesAfterStop(t *testing.T) {
	const rows = 50_000
	h := newHarness(t, map[string]string{"snapshot.fetch.size": "500"})
	h.exec(`CREATE TABLE t (id int PRIMARY KEY, v text)`,
		fmt.Sprintf(`INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, %d) g`, rows))
	// Stop the source from inside the pipeline after a few batches, so
	// the stop falls in the middle of the snapshot however fast it runs.
	h.wrap = func(e connectors.Emitter, stop context.CancelFunc) connectors.Emitter {
		return &stopAfter{Emitter: e, n: 5, stop: stop}
	}
	h.start()
	if err := h.wait(30 * time.Second); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	h.wrap = nil
	first := h.readAll(h.topic("t"))
	if len(first) >= rows {
		t.Fatalf("the snapshot finished before the stop (%d records); nothing to resume", len(first))
	}
	h.start()
	h.waitStreaming()
	h.read(h.topic("t"), rows)
	all := h.readAll(h.topic("t"))
	seen := map[int32]bool{}
	for _, r := range all {
		seen[r.key[0].(int32)] = true
	}
	if len(seen) != rows {
		t.Errorf("%d distinct rows in Kafka, want %d", len(seen), rows)
	}
	resumedAt := all[len(first)].key[0].(int32)
	lastBefore := first[len(first)-1].key[0].(int32)
	if resumedAt == 1 || resumedAt > lastBefore+1 {
		t.Errorf("restart began at key %d; the last key before the stop was %d", resumedAt, lastBefore)
	}
	if len(all) > rows+int(lastBefore)-int(resumedAt)+1 {
		t.Errorf("%d records for %d rows: the restart re-read more than the unacknowledged window", len(all), rows)
	}
}

// stopAfter passes batches on and cancels the source after n of them.
type stopAfter struct {
	connectors.Emitter
	n    int
	stop context.CancelFunc
}

func (s *stopAfter) Emit(ctx context.Context, b connectors.Batch) error {
	err := s.Emitter.Emit(ctx, b)
	if s.n--; s.n == 0 {
		s.stop()
	}
	return err
}
