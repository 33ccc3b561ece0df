package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// offsetState is what the source keeps in its offset store besides the
// slot itself, which holds the streaming position: how far the snapshot got,
// and the last position confirmed to the slot (to detect a slot that was
// dropped and recreated behind the connector's back).
type offsetState struct {
	// LSN is the last position confirmed to the slot.
	LSN uint64 `json:"lsn,omitempty"`
	// SnapshotCompleted is set once every captured table was snapshotted.
	SnapshotCompleted bool `json:"snapshot_completed"`
	// Snapshot is the progress of a snapshot under way; nil when none is.
	Snapshot *snapshotProgress `json:"snapshot,omitempty"`
}

// snapshotProgress records which tables a snapshot finished and where in
// the current one it stopped, so that a restart resumes there.
type snapshotProgress struct {
	// LSN is the slot's consistent point the snapshot belongs to.
	LSN  uint64   `json:"lsn"`
	Done []string `json:"done,omitempty"`
	// Table is the table being read, and LastKey the text form of the key
	// of the last row made durable from it.
	Table   string   `json:"table,omitempty"`
	LastKey []string `json:"last_key,omitempty"`
}

// offsetKey is the partition of this connector's offsets: Debezium keys
// Postgres offsets by server name, which is the topic prefix.
func (s *Source) offsetKey() string { return "server=" + s.cfg.TopicPrefix }

func (s *Source) loadOffsets(ctx context.Context) (*offsetState, error) {
	st := &offsetState{}
	if s.env.Offsets == nil {
		return st, nil
	}
	raw, err := s.env.Offsets.Load(ctx, s.offsetKey())
	if err != nil {
		return nil, fmt.Errorf("load offsets: %w", err)
	}
	if len(raw) == 0 {
		return st, nil
	}
	if err := json.Unmarshal(raw, st); err != nil {
		return nil, fmt.Errorf("decode stored offsets %s: %w", s.offsetKey(), err)
	}
	return st, nil
}

func (s *Source) saveOffsets(ctx context.Context, st *offsetState) error {
	if s.env.Offsets == nil {
		return nil
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode offsets: %w", err)
	}
	if err := s.env.Offsets.Save(ctx, s.offsetKey(), raw); err != nil {
		return fmt.Errorf("save offsets: %w", err)
	}
	return nil
}

// clone copies the progress so a chunk can carry it while the snapshot goes on.
func (p *snapshotProgress) clone() *snapshotProgress {
	c := *p
	c.Done = slices.Clone(p.Done)
	c.LastKey = slices.Clone(p.LastKey)
	return &c
}
