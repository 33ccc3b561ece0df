package rowgen

import "testing"

// Every change hits a live row: inserts take the next id, deletes the
// oldest, updates one in between.
func TestMixChangesLiveRows(t *testing.T) {
	m := NewMix(1, 3)
	for range 10_000 {
		lo, hi := m.Lo, m.Hi
		switch op, id := m.Next(); op {
		case Insert:
			if id != hi || m.Hi != hi+1 {
				t.Fatalf("insert of %d with live ids [%d, %d): want %d", id, lo, hi, hi)
			}
		case Update:
			if id < lo || id >= hi {
				t.Fatalf("update of %d outside the live ids [%d, %d)", id, lo, hi)
			}
		case Delete:
			if id != lo || m.Lo != lo+1 {
				t.Fatalf("delete of %d with live ids [%d, %d): want %d", id, lo, hi, lo)
			}
		}
		if m.Hi-m.Lo < 1 {
			t.Fatalf("no live row left: [%d, %d)", m.Lo, m.Hi)
		}
	}
	if m.Changes() != 10_000 || m.Records() != 10_000+m.Deletes {
		t.Errorf("counted %d changes, %d records, want 10000 and %d", m.Changes(), m.Records(), 10_000+m.Deletes)
	}
}

func TestMake(t *testing.T) {
	r := Make(1234, 5)
	if r != (Row{ID: 1234, A: 234, B: 5, C: 1234 * 31, D: 1234 % 7, Txt: Text(1234, 5)}) || len(r.Txt) != TextLen {
		t.Errorf("Make(1234, 5) = %+v", r)
	}
}
