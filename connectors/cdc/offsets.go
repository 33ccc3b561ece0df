package cdc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/sluice-cdc/sluice/connectors"
)

// State is what a source keeps in its offset store: its streaming position
// (the last one whose every change Kafka acknowledged) and how far a
// snapshot got. It is stored as one JSON object holding P's fields beside
// snapshot_completed and snapshot.
type State[P any] struct {
	// Position is the last confirmed streaming position; Positioned reports
	// whether one was ever stored.
	Position   P
	Positioned bool
	// SnapshotCompleted is set once every captured table was snapshotted.
	SnapshotCompleted bool
	// Snapshot is the progress of a snapshot under way; nil when none is.
	Snapshot *SnapshotProgress[P]
	// Incremental is the incremental snapshot under way; nil when none is.
	Incremental *IncrementalProgress
	// SignalOffset is the offset of the last record of the signal topic
	// acted on (signal.kafka.topic); nil when none was.
	SignalOffset *int64
	// Captured are the tables the source captured when it last started
	// streaming, for snapshot.new.tables; nil when not known.
	Captured []string
}

// Carried are the offset fields besides the position and snapshot_completed
// that GET /connectors/{name}/offsets shows: a PATCH of the offsets keeps
// them as given, so that the document GET answers can be edited and sent
// back.
type Carried struct {
	Incremental  *IncrementalProgress `json:"incremental,omitempty"`
	SignalOffset *int64               `json:"kafka_signal_offset,omitempty"`
	Captured     []string             `json:"captured_tables,omitempty"`
}

// Carry returns st with c's fields.
func Carry[P any](st State[P], c Carried) State[P] {
	st.Incremental, st.SignalOffset, st.Captured = c.Incremental, c.SignalOffset, c.Captured
	return st
}

type stateFields struct {
	SnapshotCompleted bool                 `json:"snapshot_completed"`
	Snapshot          json.RawMessage      `json:"snapshot,omitempty"`
	Incremental       *IncrementalProgress `json:"incremental,omitempty"`
	SignalOffset      *int64               `json:"kafka_signal_offset,omitempty"`
	Captured          []string             `json:"captured_tables,omitempty"`
}

// MarshalJSON writes P's fields and the snapshot fields as one object.
func (s State[P]) MarshalJSON() ([]byte, error) {
	f := stateFields{SnapshotCompleted: s.SnapshotCompleted, Incremental: s.Incremental, SignalOffset: s.SignalOffset, Captured: s.Captured}
	if s.Snapshot != nil {
		raw, err := json.Marshal(s.Snapshot)
		if err != nil {
			return nil, err
		}
		f.Snapshot = raw
	}
	if !s.Positioned {
		return json.Marshal(f)
	}
	return mergeObjects(s.Position, f)
}

// UnmarshalJSON reads what MarshalJSON wrote. A stored object with any of
// P's fields set counts as positioned.
func (s *State[P]) UnmarshalJSON(b []byte) error {
	var f stateFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	var p P
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var zero P
	s.Position, s.SnapshotCompleted, s.Snapshot, s.Incremental, s.SignalOffset, s.Captured = p, f.SnapshotCompleted, nil, f.Incremental, f.SignalOffset, f.Captured
	s.Positioned = !jsonEqual(p, zero)
	if len(f.Snapshot) > 0 && !bytes.Equal(f.Snapshot, []byte("null")) {
		s.Snapshot = new(SnapshotProgress[P])
		return json.Unmarshal(f.Snapshot, s.Snapshot)
	}
	return nil
}

// SnapshotProgress records which tables a snapshot finished and where in
// the current one it stopped, so that a restart resumes there.
type SnapshotProgress[P any] struct {
	// Start is the streaming position the snapshot is consistent with.
	Start P
	Done  []string
	// Table is the table being read, and LastKey the text form of the key
	// of the last row made durable from it.
	Table   string
	LastKey []string
}

type progressFields struct {
	Done    []string `json:"done,omitempty"`
	Table   string   `json:"table,omitempty"`
	LastKey []string `json:"last_key,omitempty"`
}

// MarshalJSON writes Start's fields beside done, table and last_key.
func (p SnapshotProgress[P]) MarshalJSON() ([]byte, error) {
	return mergeObjects(p.Start, progressFields{p.Done, p.Table, p.LastKey})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (p *SnapshotProgress[P]) UnmarshalJSON(b []byte) error {
	var f progressFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &p.Start); err != nil {
		return err
	}
	p.Done, p.Table, p.LastKey = f.Done, f.Table, f.LastKey
	return nil
}

func (p *SnapshotProgress[P]) clone() *SnapshotProgress[P] {
	c := *p
	c.Done = slices.Clone(p.Done)
	c.LastKey = slices.Clone(p.LastKey)
	return &c
}

// mergeObjects encodes a and b, both JSON objects, as one object.
func mergeObjects(a, b any) ([]byte, error) {
	ra, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	rb, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	ra, rb = bytes.TrimSpace(ra), bytes.TrimSpace(rb)
	if len(ra) < 2 || ra[0] != '{' || len(rb) < 2 || rb[0] != '{' {
		return nil, fmt.Errorf("offsets: %T and %T must encode as JSON objects", a, b)
	}
	if len(ra) == 2 {
		return rb, nil
	}
	if len(rb) == 2 {
		return ra, nil
	}
	out := append(ra[:len(ra)-1:len(ra)-1], ',')
	return append(out, rb[1:]...), nil
}

func jsonEqual(a, b any) bool {
	ra, _ := json.Marshal(a)
	rb, _ := json.Marshal(b)
	return bytes.Equal(ra, rb)
}

// Store loads and saves a source's State under one partition key of its
// connector's offset store.
type Store[P any] struct {
	offsets connectors.OffsetStore // nil: nothing is kept
	key     string
}

// NewStore keeps state under key ("server=<topic.prefix>", as Debezium
// keys its offsets) of offsets, which may be nil.
func NewStore[P any](offsets connectors.OffsetStore, key string) *Store[P] {
	return &Store[P]{offsets: offsets, key: key}
}

// Load returns the stored state, or an empty one when none is stored.
func (s *Store[P]) Load(ctx context.Context) (*State[P], error) {
	st := &State[P]{}
	if s.offsets == nil {
		return st, nil
	}
	raw, err := s.offsets.Load(ctx, s.key)
	if err != nil {
		return nil, fmt.Errorf("load offsets: %w", err)
	}
	if len(raw) == 0 {
		return st, nil
	}
	if err := json.Unmarshal(raw, st); err != nil {
		return nil, fmt.Errorf("decode stored offsets %s: %w", s.key, err)
	}
	return st, nil
}

// Save stores st durably.
func (s *Store[P]) Save(ctx context.Context, st *State[P]) error {
	if s.offsets == nil {
		return nil
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode offsets: %w", err)
	}
	if err := s.offsets.Save(ctx, s.key, raw); err != nil {
		return fmt.Errorf("save offsets: %w", err)
	}
	return nil
}
