package sourcetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/sluice-cdc/sluice/testenv/offsetstest"
)

// testIncludeFilters captures tables a and cc of a, b and cc
// (table.include.list), without cc's column v (column.exclude.list): b's
// rows reach no topic, cc's records lack v, in the snapshot and in the
// stream.
func testIncludeFilters(t *testing.T, s *Suite) {
	db, cfg := s.database(t)
	cfg = with(cfg, "table.include.list", db.Table("a")+","+db.Table("cc"), "column.exclude.list", db.Table("cc")+".v")
	testFilters(t, s, db, cfg, []string{"a", "b", "cc"}, map[string][]string{"a": {"id", "v", "n"}, "cc": {"id", "n"}})
}

// testExcludeFilter captures a but not b (table.exclude.list).
func testExcludeFilter(t *testing.T, s *Suite) {
	db, cfg := s.database(t)
	cfg = with(cfg, "table.exclude.list", db.Table("b"))
	testFilters(t, s, db, cfg, []string{"a", "b"}, map[string][]string{"a": {"id", "v", "n"}})
}

// testFilters writes a row to each table before the source starts and,
// once the snapshot is under way, one more to each in one transaction; it
// checks that exactly
// the captured tables' topics hold them, with the captured columns.
func testFilters(t *testing.T, s *Suite, db Database, cfg map[string]string, tables []string, captured map[string][]string) {
	for _, tb := range tables {
		mustExec(t, db, fmt.Sprintf(createTable, tb), fmt.Sprintf("INSERT INTO %s (id, v, n) VALUES (1, 'x', 0)", tb))
	}
	src := s.Start(t, cfg, &offsetstest.Memory{})
	// Once a row of the snapshot is in Kafka, the snapshot's view is
	// fixed: rows committed from now on are streamed.
	for _, tb := range tables {
		if captured[tb] != nil {
			s.ReadUntil(t, topic(cfg, db, tb), src.Alive, func(rs []Record) bool { return len(rs) >= 1 })
		}
	}
	var stmts []string
	for _, tb := range tables {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO %s (id, v, n) VALUES (2, 'y', 0)", tb))
	}
	mustTx(t, db, stmts...)
	for _, tb := range tables {
		if captured[tb] != nil {
			s.ReadUntil(t, topic(cfg, db, tb), src.Alive, func(rs []Record) bool { return len(rs) >= 2 })
		}
	}
	// Once stopped, the source has flushed whatever it emitted.
	if err := src.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	for _, tb := range tables {
		rs := s.ReadAll(t, topic(cfg, db, tb))
		cols := captured[tb]
		if cols == nil {
			if len(rs) > 0 {
				t.Errorf("table %s is not captured, yet its topic holds%s", db.Table(tb), Describe(rs))
			}
			continue
		}
		got := brief(rs)
		if !slices.Equal(got, []string{"r1:0", "c2:0"}) {
			t.Errorf("table %s: records %v, want [r1:0 c2:0]", db.Table(tb), got)
		}
		wantV := map[string]string{"r1:0": "x", "c2:0": "y"}
		for i, r := range rs {
			if !slices.Equal(r.Columns, cols) {
				t.Errorf("table %s, offset %d: columns %v, want %v", db.Table(tb), r.Offset, r.Columns, cols)
			}
			if v, ok := r.Field("v"); ok && v != wantV[got[i]] {
				t.Errorf("table %s, offset %d: v = %v, want %q", db.Table(tb), r.Offset, v, wantV[got[i]])
			}
		}
	}
}
