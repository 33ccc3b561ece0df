package postgres_test

import (
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
)

// TestIncrementalSnapshotBySurrogateKey reads a table in the order of the
// column execute-snapshot's surrogate-key names, here the reverse of its
// primary key; a surrogate key that is no column skips the table, logged.
func TestIncrementalSnapshotBySurrogateKey(t *testing.T) {
	const rows = 1000
	h := newHarness(t, incrementalConfig) // chunks of 200 rows
	setupIncremental(h, rows)
	h.exec(`ALTER TABLE t ADD COLUMN seq int`, `UPDATE t SET seq = 1000 - id`, `ALTER TABLE t ALTER COLUMN seq SET NOT NULL`, `CREATE UNIQUE INDEX ON t (seq)`)
	h.start()
	h.waitStreaming()
	snapshot := func(id, data string) connectors.SnapshotStatus {
		t.Helper()
		h.signals.Post(connectors.Signal{ID: id, Type: "execute-snapshot", Data: []byte(data)})
		var done connectors.SnapshotStatus
		waitFor(t, "snapshot "+id+" to complete", time.Minute, h.checkRunning, func() bool {
			for _, s := range h.signals.Snapshots() {
				if s.ID == id && s.State == "COMPLETED" {
					done = s
				}
			}
			return done.ID != ""
		})
		return done
	}
	if s := snapshot("bad", `{"data-collections": ["public.t"], "surrogate-key": "nope"}`); s.Rows != 0 {
		t.Fatalf("a snapshot by a surrogate key that is no column read %d rows", s.Rows)
	}
	if s := snapshot("go", `{"data-collections": ["public.t"], "surrogate-key": "seq"}`); s.Rows != rows || s.Chunks != 5 {
		t.Fatalf("snapshot by seq: %d rows in %d chunks, want %d in 5", s.Rows, s.Chunks, rows)
	}
	for i, r := range h.read(h.topic("t"), rows) {
		if id := r.key[0].(int32); id != int32(rows-i) {
			t.Fatalf("read %d is of id %d, want %d: not in the order of seq", i, id, rows-i)
		}
	}
}
