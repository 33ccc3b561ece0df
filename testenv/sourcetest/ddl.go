package sourcetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/sluice-cdc/sluice/testenv/offsetstest"
)

// testColumnAddDrop adds a column while the source streams, writes it,
// drops it and writes again: each record carries the columns its row had
// when it was committed, with their values.
func testColumnAddDrop(t *testing.T, s *Suite) {
	db, cfg := s.database(t)
	mustExec(t, db, fmt.Sprintf(createTable, "t"), "INSERT INTO t (id, v, n) VALUES (1, 'a', 0)")
	src := s.Start(t, cfg, &offsetstest.Memory{})
	topicT := topic(cfg, db, "t")
	s.ReadUntil(t, topicT, src.Alive, func(rs []Record) bool { return len(rs) >= 1 })

	mustExec(t, db, "ALTER TABLE t ADD COLUMN c INT")
	mustTx(t, db, "INSERT INTO t (id, v, n, c) VALUES (2, 'b', 0, 20)", "UPDATE t SET n = n + 1, c = 10 WHERE id = 1")
	mustExec(t, db, "ALTER TABLE t DROP COLUMN c")
	mustTx(t, db, "INSERT INTO t (id, v, n) VALUES (3, 'c', 0)", "UPDATE t SET n = n + 1 WHERE id = 2")

	want := []struct {
		brief   string
		columns []string
		c       any // the value of c, when the row has it
	}{
		{"r1:0", []string{"id", "v", "n"}, nil},
		{"c2:0", []string{"id", "v", "n", "c"}, int64(20)},
		{"u1:1", []string{"id", "v", "n", "c"}, int64(10)},
		{"c3:0", []string{"id", "v", "n"}, nil},
		{"u2:1", []string{"id", "v", "n"}, nil},
	}
	rs := s.ReadUntil(t, topicT, src.Alive, func(rs []Record) bool { return len(rs) >= len(want) })
	if len(rs) != len(want) {
		t.Fatalf("got %d records, want %d: %v", len(rs), len(want), brief(rs))
	}
	for i, r := range rs {
		w := want[i]
		if b := brief(rs[i : i+1])[0]; b != w.brief || !slices.Equal(r.Columns, w.columns) {
			t.Errorf("record %d: %s with columns %v, want %s with columns %v", i, b, r.Columns, w.brief, w.columns)
			continue
		}
		if w.c != nil {
			v, _ := r.Field("c")
			if n, ok := asInt(v); !ok || n != w.c {
				t.Errorf("record %d (%s): c = %T(%v), want %v", i, w.brief, v, v, w.c)
			}
		}
	}
	if err := src.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}
