package mysql

import (
	"context"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/testenv/offsetstest"
)

// TestHistoryLoadsAsOfPositionAndCompacts records definitions at three
// positions, compacting up to the second: a load at each position sees
// the definitions of that position, and entries a restart from the saved
// position can need are kept.
func TestHistoryLoadsAsOfPositionAndCompacts(t *testing.T) {
	ctx := context.Background()
	store := &offsetstest.Memory{}
	t1, t2 := event.TableID{Database: "d", Table: "t1"}, event.TableID{Database: "d", Table: "t2"}
	def := func(cols ...string) *tableDef {
		d := &tableDef{}
		for _, c := range cols {
			d.Columns = append(d.Columns, colDef{Name: c, DataType: "int"})
		}
		return d
	}
	p := func(pos uint32) Position { return Position{File: "mysql-bin.000001", Pos: pos} }
	saved := Position{}
	h := newHistory(store, "x")
	h.confirmed = func() (Position, bool) { return saved, saved.File != "" }
	if err := h.reset(ctx, p(100), map[event.TableID]*tableDef{t1: def("a"), t2: def("z")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.record(ctx, p(200), []tableChange{{Kind: changeAlter, ID: t1, Def: def("a", "b")}, {Kind: changeDrop, ID: t2}}, nil); err != nil {
		t.Fatal(err)
	}
	saved = p(250)
	if err := h.record(ctx, p(300), []tableChange{{Kind: changeAlter, ID: t1, Def: def("b", "a")}}, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(h.entries); n != 2 {
		t.Errorf("%d entries after compaction, want 2 (t1 at 200, t1 at 300): %+v", n, h.entries)
	}
	for _, tc := range []struct {
		at     uint32
		ok     bool
		t1, t2 string
	}{{250, true, "a,b", "<none>"}, {300, true, "b,a", "<none>"}, {150, false, "<none>", "<none>"}} {
		l := newHistory(store, "x")
		ok, err := l.load(ctx, p(tc.at))
		if err != nil || ok != tc.ok {
			t.Fatalf("load at %d: %v %v", tc.at, ok, err)
		}
		names := func(id event.TableID) string {
			if d := l.def(id); d != nil {
				return defNames(d)
			}
			return "<none>"
		}
		if names(t1) != tc.t1 || names(t2) != tc.t2 {
			t.Errorf("at %d: t1 %s, t2 %s; want %s, %s", tc.at, names(t1), names(t2), tc.t1, tc.t2)
		}
	}
}
