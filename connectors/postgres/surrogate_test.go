package postgres_test

import (
	"testing"

	"github.com/sluice-cdc/sluice/testenv/sourcetest"
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
	sourcetest.CheckSnapshotBySurrogateKey(t, &h.signals, "public.t", rows, h.reader, h.topic("t"), h.checkRunning)
}
