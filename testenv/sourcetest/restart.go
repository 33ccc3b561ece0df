package sourcetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/testenv/offsetstest"
)

// testCleanRestart stops a source cleanly twice — once after its snapshot
// and streamed changes, once idle — with changes committed while it is
// stopped; each restart resumes after the last acknowledged position: the
// topic holds every change exactly once, in commit order.
func testCleanRestart(t *testing.T, s *Suite) {
	db, cfg := s.database(t)
	mustExec(t, db, fmt.Sprintf(createTable, "t"))
	mustTx(t, db, "INSERT INTO t (id, v, n) VALUES (1, 'a', 0), (2, 'b', 0), (3, 'c', 0)")
	offsets := &offsetstest.Memory{}
	topicT := topic(cfg, db, "t")
	var want []string
	expect := func(src *Source, records ...string) {
		t.Helper()
		want = append(want, records...)
		s.ReadUntil(t, topicT, src.Alive, func(rs []Record) bool { return len(rs) >= len(want) })
	}

	src := s.Start(t, cfg, offsets)
	expect(src, "r1:0", "r2:0", "r3:0")
	mustTx(t, db, "INSERT INTO t (id, v, n) VALUES (4, 'd', 0)", "UPDATE t SET n = n + 1 WHERE id = 1")
	expect(src, "c4:0", "u1:1")
	if err := src.Stop(); err != nil {
		t.Fatalf("first stop: %v", err)
	}

	mustTx(t, db, "INSERT INTO t (id, v, n) VALUES (5, 'e', 0)", "UPDATE t SET n = n + 1 WHERE id = 2", "DELETE FROM t WHERE id = 3")
	mustExec(t, db, "UPDATE t SET n = n + 1 WHERE id = 1")
	src = s.Start(t, cfg, offsets)
	expect(src, "c5:0", "u2:1", "d3", "tombstone3", "u1:2")
	if err := src.Stop(); err != nil {
		t.Fatalf("second stop: %v", err)
	}

	src = s.Start(t, cfg, offsets)
	mustTx(t, db, "INSERT INTO t (id, v, n) VALUES (6, 'f', 0)", "UPDATE t SET n = n + 1 WHERE id = 4")
	expect(src, "c6:0", "u4:1")
	if err := src.Stop(); err != nil {
		t.Fatalf("third stop: %v", err)
	}

	got := brief(s.ReadAll(t, topicT))
	if !slices.Equal(got, want) {
		t.Errorf("topic %s holds\n  %s\nwant\n  %s", topicT, strings.Join(got, " "), strings.Join(want, " "))
	}
}

// brief renders each record of a scenario table as op, id and n: "c4:0",
// "u1:2", "d3", "tombstone3".
func brief(rs []Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		id, after, err := change(r)
		switch {
		case err != nil:
			out[i] = err.Error()
		case r.Value == nil:
			out[i] = fmt.Sprintf("tombstone%d", id)
		case r.Value.After == nil:
			out[i] = fmt.Sprintf("%s%d", r.Value.Op, id)
		default:
			out[i] = fmt.Sprintf("%s%d:%d", r.Value.Op, id, after.N)
		}
	}
	return out
}
