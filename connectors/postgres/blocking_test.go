package postgres_test

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
	h := newHarness(t, map[string]string{"snapshot.mode": "no_data", "table.include.list": "public.t,public.marker", "incremental.snapshot.chunk.size": "500"})
	setupIncremental(h, rows)
	h.start()
	h.waitStreaming()
	w := startWorkload(t, h, rows)
	t.Cleanup(func() { w.finish() })
	time.Sleep(300 * time.Millisecond)
	done := sourcetest.RunSnapshot(t, &h.signals, connectors.Signal{ID: "b", Type: "execute-snapshot",
		Data: []byte(`{"data-collections": ["public.t"], "type": "blocking"}`)}, 2*time.Minute, h.checkRunning)
	time.Sleep(300 * time.Millisecond)
	w.finish()
	if n := len(h.signals.Snapshots()); done.Type != "blocking" || n != 1 || done.Rows < rows/2 || done.Chunks < done.Rows/500 {
		t.Fatalf("blocking snapshot %+v, one of %d", done, n)
	}
	reads, _ := checkRebuiltAs(h, 1, event.SnapshotTrue)
	if n := checkReadPositions(h); n != reads {
		t.Fatalf("%d reads positioned, %d in the topic", n, reads)
	}
	sourcetest.CheckHeld(t, h.reader.ReadAll(t, h.topic("t"), h.checkRunning), reads, done, time.Millisecond)
}
