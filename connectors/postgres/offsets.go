package postgres

import (
	"github.com/jackc/pglogrepl"

	"github.com/sluice-cdc/sluice/connectors/cdc"
)

// position is the Postgres source's place in the WAL as its offsets record
// it: the last LSN confirmed to the slot. The slot itself holds the
// streaming position; the offsets keep it to notice a slot that was dropped
// and recreated behind the connector's back, and as the position a
// snapshot is consistent with.
type position struct {
	LSN uint64 `json:"lsn,omitempty"`
}

// at returns the position of lsn.
func at(lsn pglogrepl.LSN) *position { return &position{LSN: uint64(lsn)} }

type (
	chunk    = cdc.Chunk[position]
	state    = cdc.State[position]
	progress = cdc.SnapshotProgress[position]
)
