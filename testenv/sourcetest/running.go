package sourcetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/sluice-cdc/sluice/testenv/offsetstest"
)

// testRunningMeansCapturing starts a source with snapshot.mode=no_data,
// stops it as soon as it reports Running, commits rows while it is
// stopped and starts it again: every row arrives, exactly once. Running
// promises that from then on no stop or restart skips a change.
func testRunningMeansCapturing(t *testing.T, s *Suite) {
	db, cfg := s.database(t)
	cfg = with(cfg, "snapshot.mode", "no_data")
	mustExec(t, db, fmt.Sprintf(createTable, "t"), "INSERT INTO t (id, v, n) VALUES (1, 'before', 0)")
	offsets := &offsetstest.Memory{}
	src := s.Start(t, cfg, offsets)
	src.WaitRunning()
	if err := src.Stop(); err != nil {
		t.Fatalf("stop right after Running: %v", err)
	}

	mustTx(t, db, "INSERT INTO t (id, v, n) VALUES (2, 'a', 0), (3, 'b', 0)", "UPDATE t SET n = n + 1 WHERE id = 1")
	mustExec(t, db, "INSERT INTO t (id, v, n) VALUES (4, 'c', 0)")
	src = s.Start(t, cfg, offsets)
	src.WaitRunning()
	mustExec(t, db, "INSERT INTO t (id, v, n) VALUES (5, 'd', 0)")
	want := []string{"c2:0", "c3:0", "u1:1", "c4:0", "c5:0"}
	topicT := topic(cfg, db, "t")
	s.ReadUntil(t, topicT, src.Alive, func(rs []Record) bool { return len(rs) >= len(want) })
	if err := src.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if got := brief(s.ReadAll(t, topicT)); !slices.Equal(got, want) {
		t.Errorf("topic %s holds %v, want %v", topicT, got, want)
	}
}
