package mysql_test

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
	h := newHarness(t, nil)
	setupIncremental(h, rows)
	h.extra["incremental.snapshot.chunk.size"] = "500"
	h.start()
	h.waitRunning()
	stop := startWorkload(t, h, rows)
	t.Cleanup(stop)
	time.Sleep(300 * time.Millisecond)
	h.signals.Post(connectors.Signal{ID: "b", Type: "execute-snapshot", Data: []byte(`{"data-collections": ["` + h.db + `.t"], "type": "blocking"}`)})
	var done connectors.SnapshotStatus
	waitFor(t, "the blocking snapshot to complete", 2*time.Minute, h.checkRunning, func() bool {
		list := h.signals.Snapshots()
		if len(list) == 1 && list[0].State == "COMPLETED" {
			done = list[0]
		}
		return done.Finished != nil
	})
	time.Sleep(1500 * time.Millisecond)
	stop()
	if done.Type != "blocking" || done.Rows < rows/2 || done.Chunks < done.Rows/500 {
		t.Fatalf("blocking snapshot %+v", done)
	}
	reads := checkRebuiltAs(h, event.SnapshotTrue)
	if n := checkReadPositions(h); n != reads {
		t.Fatalf("%d reads positioned, %d in the topic", n, reads)
	}
	records := h.readAll(h.topic("t"))
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
	// The binlog's timestamps are in seconds.
	from, to := done.Started.Truncate(time.Second).UnixMilli(), done.Finished.UnixMilli()
	during := 0
	for _, r := range records[last+1:] {
		if r.value != nil && r.value.Op != event.OpRead && r.value.Source.TsMillis() >= from && r.value.Source.TsMillis() <= to {
			during++
		}
	}
	if during == 0 {
		t.Fatalf("no change committed during the snapshot (%s to %s) follows its reads", done.Started, done.Finished)
	}
	t.Logf("%d snapshot reads in one run, %d changes committed during the snapshot after them, %d records before", reads, during, first)
}
