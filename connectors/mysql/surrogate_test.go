package mysql_test

import (
	"testing"

	"github.com/sluice-cdc/sluice/testenv/sourcetest"
)

// TestIncrementalSnapshotBySurrogateKey reads a table in the order of the
// column execute-snapshot's surrogate-key names, here the reverse of its
// primary key; a surrogate key that is no column skips the table, logged.
func TestIncrementalSnapshotBySurrogateKey(t *testing.T) {
	const rows = 1000
	h := newHarness(t, nil)
	setupIncremental(h, rows) // chunks of 200 rows
	h.exec("ALTER TABLE "+h.db+".t ADD COLUMN seq INT", "UPDATE "+h.db+".t SET seq = 1000 - id",
		"ALTER TABLE "+h.db+".t MODIFY seq INT NOT NULL", "CREATE UNIQUE INDEX t_seq ON "+h.db+".t (seq)")
	h.start()
	h.waitRunning()
	sourcetest.CheckSnapshotBySurrogateKey(t, &h.signals, h.db+".t", rows, h.reader, h.topic("t"), h.checkRunning)
}
