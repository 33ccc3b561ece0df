package postgres_test

import (
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema/event"
)

// TestBlockingSnapshotHoldsTheStream takes a blocking snapshot of a table
// while a workload changes it: the snapshot's reads reach the topic as one
// run, the changes committed while it read follow them, and afterwards
// the table rebuilt from Kafka equals the source table.
func TestBlockingSnapshotHoldsTheStream(t *testing.T) {
	const rows = 20000
	h := newHarness(t, map[string]string{"snapshot.mode": "no_data", "table.include.list": "public.t,public.marker", "incremental.snapshot.chunk.size": "500"})
	setupIncremental(h, rows)
	h.start()
	h.waitStreaming()
	w := startWorkload(t, h, rows)
	t.Cleanup(func() { w.finish() })
	time.Sleep(300 * time.Millisecond)
	h.signals.Post(connectors.Signal{ID: "b", Type: "execute-snapshot", Data: []byte(`{"data-collections": ["public.t"], "type": "blocking"}`)})
	var done connectors.SnapshotStatus
	waitFor(t, "the blocking snapshot to complete", 2*time.Minute, h.checkRunning, func() bool {
		list := h.signals.Snapshots()
		if len(list) == 1 && list[0].State == "COMPLETED" {
			done = list[0]
		}
		return done.Finished != nil
	})
	time.Sleep(300 * time.Millisecond)
	w.finish()
	if done.Type != "blocking" || done.Rows < rows/2 || done.Chunks < done.Rows/500 {
		t.Fatalf("blocking snapshot %+v", done)
	}
	reads, _ := checkRebuiltAs(h, 1, event.SnapshotTrue)
	if n := checkReadPositions(h); n != reads {
		t.Fatalf("%d reads positioned, %d in the topic", n, reads)
	}
	checkHeld(t, h.readAll(h.topic("t")), reads, done)
}

// checkHeld checks that the snapshot reads of records (reads of them) are
// one run, and that changes committed while the snapshot ran follow it.
func checkHeld(t *testing.T, records []record, reads int, done connectors.SnapshotStatus) {
	t.Helper()
	first, last := -1, -1
	for i, r := range records {
		if r.value != nil && r.value.Op == event.OpRead {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 || last-first+1 != reads {
		t.Fatalf("the %d snapshot reads span records %d to %d: streamed changes came between them", reads, first, last)
	}
	during := 0
	for _, r := range records[last+1:] {
		if r.value != nil && r.value.Op != event.OpRead && r.value.Source.TsMillis() >= done.Started.UnixMilli() && r.value.Source.TsMillis() <= done.Finished.UnixMilli() {
			during++
		}
	}
	if during == 0 {
		t.Fatalf("no change committed during the snapshot (%s to %s) follows its reads", done.Started, done.Finished)
	}
	t.Logf("%d snapshot reads in one run, %d changes committed during the snapshot after them, %d records before", reads, during, first)
}
