package sourcetest

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv/offsetstest"
)

// markerID is the id of the row a scenario inserts last: once its record
// is in Kafka, so is every earlier change of its table.
const markerID = 1_000_000

// testSnapshotThenStream snapshots a table in small chunks while a writer
// commits transactions of inserts, updates and deletes, before, during and
// after the snapshot; the table rebuilt from Kafka equals what was
// committed, and no record repeats or skips a change.
func testSnapshotThenStream(t *testing.T, s *Suite) {
	db, cfg := s.database(t)
	mustExec(t, db, fmt.Sprintf(createTable, "t"))
	w := newWorkload(db, "t", func(r *rand.Rand) int { return 1 + r.IntN(4) })
	w.preload(t, 1000)

	stop := w.Run(t, 2*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // some changes before the source starts
	src := s.Start(t, with(cfg, "snapshot.fetch.size", "50"), &offsetstest.Memory{})
	topicT := topic(cfg, db, "t")
	// Once a change is streamed the snapshot has its view; some more after.
	s.ReadUntil(t, topicT, src.Alive, func(rs []Record) bool {
		return len(rs) > 0 && rs[len(rs)-1].Value != nil && rs[len(rs)-1].Value.Op != event.OpRead
	})
	time.Sleep(500 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatalf("writer: %v", err)
	}
	mustExec(t, db, fmt.Sprintf("INSERT INTO t (id, v, n) VALUES (%d, 'marker', 0)", markerID))
	want := w.Model()
	want[markerID] = row{V: "marker"}

	rs := s.ReadUntil(t, topicT, src.Alive, func(rs []Record) bool {
		return len(rs) > 0 && isMarker(rs[len(rs)-1])
	})
	got, problems, err := replay(rs)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems[:min(len(problems), 20)] {
		t.Error(p)
	}
	if d := want.diff(got); d != "" {
		t.Errorf("table rebuilt from %d records differs from the table: %s", len(rs), d)
	}
	reads, changes, last := 0, 0, 0
	for _, r := range rs {
		switch {
		case r.Value == nil:
		case r.Value.Op == event.OpRead:
			reads++
			if r.Value.Source.Snapshot == event.SnapshotLast {
				last++
			}
		default:
			changes++
		}
	}
	t.Logf("%d snapshot reads (%d marked snapshot=last), %d streamed changes, %d transactions written", reads, last, changes, w.Steps())
	if changes == 0 {
		t.Error("no streamed change: the writer's changes all came before the snapshot")
	}
	if err := src.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// isMarker reports whether r is the insert of the marker row.
func isMarker(r Record) bool {
	if r.Value == nil || len(r.Key) != 1 {
		return false
	}
	id, _ := asInt(r.Key[0])
	return id == markerID
}
