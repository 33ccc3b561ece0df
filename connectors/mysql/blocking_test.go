package mysql_test

import (
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv/sourcetest"
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
	done := sourcetest.RunSnapshot(t, &h.signals, connectors.Signal{ID: "b", Type: "execute-snapshot",
		Data: []byte(`{"data-collections": ["` + h.db + `.t"], "type": "blocking"}`)}, 2*time.Minute, h.checkRunning)
	time.Sleep(1500 * time.Millisecond)
	stop()
	if n := len(h.signals.Snapshots()); done.Type != "blocking" || n != 1 || done.Rows < rows/2 || done.Chunks < done.Rows/500 {
		t.Fatalf("blocking snapshot %+v, one of %d", done, n)
	}
	reads := checkRebuiltAs(h, event.SnapshotTrue)
	if n := checkReadPositions(h); n != reads {
		t.Fatalf("%d reads positioned, %d in the topic", n, reads)
	}
	// The binlog's timestamps are in seconds.
	sourcetest.CheckHeld(t, h.reader.ReadAll(t, h.topic("t"), h.checkRunning), reads, done, time.Second)
}
