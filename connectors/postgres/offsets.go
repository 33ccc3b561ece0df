package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pglogrepl"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/connectors/conf"
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

// alterOffset carries out an offset set through the offsets API while the
// connector is stopped (the class's AlterOffset): {"lsn": <n or "X/Y">}
// under the connector's own partition, {"server": "<topic.prefix>"},
// optionally with "snapshot_completed" (true unless given). Streaming
// resumes from the replication slot, so the slot is advanced to the LSN
// (pg_replication_slot_advance): the changes committed up to it are skipped.
// A slot never moves back, and the server may have removed the WAL before
// its confirmed position, so an older LSN is refused, as is one beyond the
// server's WAL. It returns the state to store: the LSN, no snapshot under
// way.
func alterOffset(ctx context.Context, c *conf.Config, key string, offset json.RawMessage) (json.RawMessage, error) {
	cfg, err := ParseConfig(c)
	if err != nil {
		return nil, err
	}
	if own := cdc.OffsetKey(cfg.TopicPrefix); key != own {
		return nil, invalidOffset("partition %s is not this connector's: a Postgres source keeps its offset under %s (its topic.prefix)", partitionText(key), partitionText(own))
	}
	var doc struct {
		LSN               json.RawMessage `json:"lsn"`
		SnapshotCompleted *bool           `json:"snapshot_completed"`
		cdc.Carried
	}
	dec := json.NewDecoder(bytes.NewReader(offset))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, invalidOffset(`a Postgres offset is {"lsn": <LSN>} with, optionally, "snapshot_completed" and the other fields GET shows ("incremental", "kafka_signal_offset", "captured_tables"): %s`, strings.TrimPrefix(err.Error(), "json: "))
	}
	lsn, err := parseLSN(doc.LSN)
	if err != nil {
		return nil, err
	}
	conn, err := (&Source{cfg: cfg}).connect(ctx, false)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := advanceSlot(ctx, conn, cfg.Slot, lsn); err != nil {
		return nil, err
	}
	st := state{Position: position{LSN: uint64(lsn)}, Positioned: true, SnapshotCompleted: doc.SnapshotCompleted == nil || *doc.SnapshotCompleted}
	return json.Marshal(cdc.Carry(st, doc.Carried))
}

// parseLSN reads an offset's lsn: a number, as the offsets store it, or
// Postgres' text form X/Y.
func parseLSN(raw json.RawMessage) (pglogrepl.LSN, error) {
	var n uint64
	if err := json.Unmarshal(raw, &n); err == nil && n > 0 {
		return pglogrepl.LSN(n), nil
	}
	var text string
	if err := json.Unmarshal(raw, &text); err == nil {
		if lsn, err := pglogrepl.ParseLSN(text); err == nil && lsn > 0 {
			return lsn, nil
		}
	}
	if len(raw) == 0 {
		return 0, invalidOffset(`a Postgres offset must hold "lsn": the WAL position to stream from, as a number or in Postgres' X/Y form`)
	}
	return 0, invalidOffset(`lsn %s is not a WAL position: give a positive number or Postgres' X/Y form (as pg_current_wal_lsn() shows it)`, raw)
}

// partitionText shows an offset key as the partition object the offsets
// API shows.
func partitionText(key string) string {
	k, v, _ := strings.Cut(key, "=")
	return fmt.Sprintf("{%q: %q}", k, v)
}

func invalidOffset(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{connectors.ErrInvalidOffset}, args...)...)
}
