package sourcetest

import (
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/schema/event"
)

// rec builds a record of a scenario table: op "r", "c", "u", "d" or "" for
// a tombstone.
func rec(offset int64, op string, id int32, v string, n int32) Record {
	r := Record{Offset: offset, Key: event.Row{id}, Columns: []string{"id", "v", "n"}}
	switch op {
	case "":
	case "d":
		r.Value = &event.Event{Op: event.OpDelete, Before: event.Row{id, nil, nil}}
	default:
		o, _ := event.ParseOp(op)
		r.Value = &event.Event{Op: o, After: event.Row{id, v, n}}
	}
	return r
}

// TestReplay proves that replay names each record that does not follow
// from those before it, and rebuilds the table otherwise.
func TestReplay(t *testing.T) {
	for _, tc := range []struct {
		name    string
		records []Record
		want    model
		problem string // in the only problem reported; "" for none
	}{
		{"snapshot then changes", []Record{rec(0, "r", 1, "a", 0), rec(1, "c", 2, "b", 0), rec(2, "u", 1, "x", 1), rec(3, "d", 2, "", 0), rec(4, "", 2, "", 0)},
			model{1: {"x", 1}}, ""},
		{"a row read twice", []Record{rec(0, "r", 1, "a", 0), rec(1, "r", 1, "a", 0)}, model{1: {"a", 0}}, "r of a row already there"},
		{"an insert of a snapshotted row", []Record{rec(0, "r", 1, "a", 0), rec(1, "c", 1, "a", 0)}, model{1: {"a", 0}}, "c of a row already there"},
		{"an update lost", []Record{rec(0, "r", 1, "a", 0), rec(1, "u", 1, "b", 2)}, model{1: {"b", 2}}, "update to n=2 of a row at n=0"},
		{"an update repeated", []Record{rec(0, "c", 1, "a", 0), rec(1, "u", 1, "b", 1), rec(2, "u", 1, "b", 1)}, model{1: {"b", 1}}, "update to n=1 of a row at n=1"},
		{"an update of a row never seen", []Record{rec(0, "u", 1, "a", 1)}, model{1: {"a", 1}}, "update of a row not there"},
		{"a delete of a row never seen", []Record{rec(0, "d", 1, "", 0), rec(1, "", 1, "", 0)}, model{}, "delete of a row not there"},
		{"a stray tombstone", []Record{rec(0, "c", 1, "a", 0), rec(1, "", 1, "", 0)}, model{1: {"a", 0}}, "tombstone not right after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, problems, err := replay(tc.records)
			if err != nil {
				t.Fatal(err)
			}
			if d := tc.want.diff(got); d != "" {
				t.Errorf("table: %s", d)
			}
			switch {
			case tc.problem == "" && len(problems) > 0:
				t.Errorf("problems %q, want none", problems)
			case tc.problem != "" && (len(problems) != 1 || !strings.Contains(problems[0], tc.problem)):
				t.Errorf("problems %q, want one saying %q", problems, tc.problem)
			}
		})
	}
}
