package sourcetest

import (
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/testenv/topictest"
)

// RunSnapshot posts sig, an execute-snapshot signal, to the signals a
// running source was given (WithSignals), as the daemon's REST API does,
// and waits up to timeout until the source reports the snapshot of sig's
// id COMPLETED; it returns the snapshot's state then. alive, called
// between polls, fails the test when the source stopped.
func RunSnapshot(t testing.TB, signals *connectors.Signals, sig connectors.Signal, timeout time.Duration, alive func()) connectors.SnapshotStatus {
	t.Helper()
	signals.Post(sig)
	deadline := time.Now().Add(timeout)
	for {
		for _, s := range signals.Snapshots() {
			if s.ID == sig.ID && s.State == "COMPLETED" {
				return s
			}
		}
		alive()
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for snapshot %s to complete", sig.ID)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// CheckSnapshotBySurrogateKey snapshots table (as data-collections names
// it) by the column execute-snapshot's surrogate-key names: a running
// source, given signals, captures the table, of rows 1 to rows with a
// unique column seq = rows - id, into topic in chunks of rows/5. It checks
// that a surrogate key that is no column skips the table, and that the
// table is read in the order of seq, the reverse of its primary key id
// (INT), in five chunks. alive, called between polls, fails the test when
// the source stopped.
func CheckSnapshotBySurrogateKey(t *testing.T, signals *connectors.Signals, table string, rows int, reader *topictest.Reader, topic string, alive func()) {
	t.Helper()
	snapshot := func(id, data string) connectors.SnapshotStatus {
		t.Helper()
		return RunSnapshot(t, signals, connectors.Signal{ID: id, Type: "execute-snapshot", Data: []byte(data)}, time.Minute, alive)
	}
	if s := snapshot("bad", `{"data-collections": ["`+table+`"], "surrogate-key": "nope"}`); s.Rows != 0 {
		t.Fatalf("a snapshot by a surrogate key that is no column read %d rows", s.Rows)
	}
	if s := snapshot("go", `{"data-collections": ["`+table+`"], "surrogate-key": "seq"}`); s.Rows != int64(rows) || s.Chunks != 5 {
		t.Fatalf("snapshot by seq: %d rows in %d chunks, want %d in 5", s.Rows, s.Chunks, rows)
	}
	for i, r := range reader.Read(t, topic, rows, alive) {
		key, _, err := r.Change()
		if err != nil {
			t.Fatal(err)
		}
		if id := key[0].(int32); id != int32(rows-i) {
			t.Fatalf("read %d is of id %d, want %d: not in the order of seq", i, id, rows-i)
		}
	}
}
