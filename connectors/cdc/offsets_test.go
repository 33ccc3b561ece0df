package cdc

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
)

type lsn struct {
	LSN uint64 `json:"lsn,omitempty"`
}

type memOffsets map[string][]byte

func (m memOffsets) Load(_ context.Context, key string) ([]byte, error) { return m[key], nil }
func (m memOffsets) Save(_ context.Context, key string, v []byte) error {
	m[key] = v
	return nil
}

// The stored form keeps the position's own fields at the top level beside
// the snapshot fields, as the Postgres source stored it before the core
// existed, so offsets written then still load.
func TestStateKeepsThePositionFieldsAtTheTopLevel(t *testing.T) {
	st := State[lsn]{Position: lsn{LSN: 42}, Positioned: true, Snapshot: &SnapshotProgress[lsn]{Start: lsn{LSN: 40}, Done: []string{"public.a"}, Table: "public.b", LastKey: []string{"7"}}}
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"lsn":42,"snapshot_completed":false,"snapshot":{"lsn":40,"done":["public.a"],"table":"public.b","last_key":["7"]}}`
	if string(raw) != want {
		t.Fatalf("encoded\n%s\nwant\n%s", raw, want)
	}
	var back State[lsn]
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, st) {
		t.Fatalf("decoded %+v, want %+v", back, st)
	}
	var empty State[lsn]
	if err := json.Unmarshal([]byte(`{"snapshot_completed":true}`), &empty); err != nil {
		t.Fatal(err)
	}
	if empty.Positioned || !empty.SnapshotCompleted || empty.Snapshot != nil {
		t.Fatalf("decoded %+v, want completed without position", empty)
	}
}

func TestStoreRoundTrip(t *testing.T) {
	m := memOffsets{}
	s := NewStore[lsn](m, OffsetKey("shop"))
	st, err := s.Load(context.Background())
	if err != nil || st.Positioned || st.SnapshotCompleted {
		t.Fatalf("empty store: %+v, %v", st, err)
	}
	if err := s.Save(context.Background(), &State[lsn]{Position: lsn{9}, Positioned: true, SnapshotCompleted: true}); err != nil {
		t.Fatal(err)
	}
	if got := string(m["server=shop"]); got != `{"lsn":9,"snapshot_completed":true}` {
		t.Fatalf("stored %s", got)
	}
	st, err = s.Load(context.Background())
	if err != nil || st.Position.LSN != 9 || !st.Positioned || !st.SnapshotCompleted {
		t.Fatalf("loaded %+v, %v", st, err)
	}
}
