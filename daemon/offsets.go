package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/sluice-cdc/sluice/daemon/store"
)

// Offsets returns a connector's source offsets by partition key. Offsets
// are what a source keeps beside its database's own position: for Postgres
// the replication slot holds the streaming position, and the offsets hold
// snapshot progress and the last confirmed LSN.
func (s *Supervisor) Offsets(ctx context.Context, name string) (map[string]json.RawMessage, error) {
	if _, err := s.Info(name); err != nil {
		return nil, err
	}
	rec, err := s.opts.Store.Get(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("read offsets of connector %s: %w", name, err)
	}
	return rec.Offsets, nil
}

// AlterOffsets applies changes to a STOPPED connector's offsets: each key
// is set to its value, or removed when the value is nil. It fails with
// ErrNotStopped unless the connector is STOPPED.
func (s *Supervisor) AlterOffsets(ctx context.Context, name string, changes map[string]json.RawMessage) error {
	return s.changeOffsets(ctx, name, func(cur map[string]json.RawMessage) map[string]json.RawMessage {
		next := maps.Clone(cur)
		if next == nil {
			next = map[string]json.RawMessage{}
		}
		for k, v := range changes {
			if v == nil {
				delete(next, k)
			} else {
				next[k] = v
			}
		}
		return next
	})
}

// ResetOffsets removes all of a STOPPED connector's offsets: it starts
// afresh on resume (for Postgres: a new snapshot if snapshot.mode asks for
// one, and streaming from the slot's confirmed position).
func (s *Supervisor) ResetOffsets(ctx context.Context, name string) error {
	return s.changeOffsets(ctx, name, func(map[string]json.RawMessage) map[string]json.RawMessage { return nil })
}

func (s *Supervisor) changeOffsets(ctx context.Context, name string, change func(map[string]json.RawMessage) map[string]json.RawMessage) error {
	c, unlock, err := s.lock(name)
	if err != nil {
		return err
	}
	defer unlock()
	if c.rec.Target != store.Stopped || s.active(c) {
		return notStopped(name)
	}
	rec, err := s.opts.Store.Get(ctx, name)
	if err != nil {
		return fmt.Errorf("read offsets of connector %s: %w", name, err)
	}
	if err := s.opts.Store.SetOffsets(ctx, name, change(rec.Offsets)); err != nil {
		return fmt.Errorf("write offsets of connector %s: %w", name, err)
	}
	s.log.Info("connector offsets changed", "connector", name)
	return nil
}
