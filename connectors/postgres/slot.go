package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/cdc"
)

// ErrSlotLost is returned when the replication slot can no longer serve the
// changes the connector still needs: it was invalidated (wal_status lost)
// or dropped after streaming had begun. Changes in between are gone from the
// WAL; the way out is a new snapshot. It is the core's ErrPositionLost.
var ErrSlotLost = cdc.ErrPositionLost

// slotInfo is the state of the replication slot before streaming starts.
type slotInfo struct {
	exists         bool
	confirmedFlush pglogrepl.LSN
}

// slotState reads the slot from pg_replication_slots and refuses one that
// is unusable: another plugin, another database, invalidated, or in use.
func (s *Source) slotState(ctx context.Context, conn *pgx.Conn) (*slotInfo, error) {
	var (
		plugin, database, walStatus string
		activePID                   *int32
		confirmed                   *string
	)
	err := conn.QueryRow(ctx, `SELECT plugin, database, coalesce(wal_status, ''), active_pid, confirmed_flush_lsn::text
		FROM pg_replication_slots WHERE slot_name = $1 AND slot_type = 'logical'`, s.cfg.Slot).
		Scan(&plugin, &database, &walStatus, &activePID, &confirmed)
	if errors.Is(err, pgx.ErrNoRows) {
		return &slotInfo{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read replication slot %q: %w", s.cfg.Slot, err)
	}
	switch {
	case plugin != "pgoutput":
		return nil, connectors.Permanent(fmt.Errorf("replication slot %q uses plugin %q, not pgoutput: drop it or choose another slot.name", s.cfg.Slot, plugin))
	case database != s.cfg.DBName:
		return nil, connectors.Permanent(fmt.Errorf("replication slot %q belongs to database %q, not %q: choose another slot.name", s.cfg.Slot, database, s.cfg.DBName))
	case walStatus == "lost":
		return nil, connectors.Permanent(fmt.Errorf("%w: slot %q has wal_status=lost (the WAL it needed was removed, see max_slot_wal_keep_size); "+
			"changes since its position are gone. To recover, drop the slot (SELECT pg_drop_replication_slot('%s')), reset the connector's offsets and restart it to take a new snapshot",
			ErrSlotLost, s.cfg.Slot, s.cfg.Slot))
	case activePID != nil:
		return nil, fmt.Errorf("replication slot %q is in use by server process %d (another connector, or a previous run still closing)", s.cfg.Slot, *activePID)
	}
	info := &slotInfo{exists: true}
	if confirmed != nil {
		if info.confirmedFlush, err = pglogrepl.ParseLSN(*confirmed); err != nil {
			return nil, fmt.Errorf("parse confirmed_flush_lsn of slot %q: %w", s.cfg.Slot, err)
		}
	}
	return info, nil
}

// dropSlot removes the slot (slot.drop.on.stop).
func (s *Source) dropSlot(ctx context.Context) error {
	conn, err := s.connect(ctx, false)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", s.cfg.Slot); err != nil {
		return fmt.Errorf("drop replication slot %q: %w", s.cfg.Slot, err)
	}
	s.logger.Info("replication slot dropped (slot.drop.on.stop)")
	return nil
}

// slotReleaseWait bounds how long advanceSlot waits for a slot in use to
// be released.
const slotReleaseWait = 5 * time.Second

// advanceSlot moves the slot's confirmed position to lsn, refusing an lsn
// before it or beyond the server's WAL.
func advanceSlot(ctx context.Context, conn *pgx.Conn, slot string, lsn pglogrepl.LSN) error {
	var (
		confirmed, current, walStatus string
		activePID                     *int32
		err                           error
	)
	// A connector just stopped releases its slot when its walsender ends,
	// a moment later: wait for that a little before calling the slot busy.
	for deadline := time.Now().Add(slotReleaseWait); ; time.Sleep(100 * time.Millisecond) {
		err = conn.QueryRow(ctx, `SELECT coalesce(confirmed_flush_lsn::text, '0/0'), active_pid, coalesce(wal_status, ''),
			(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_flush_lsn() END)::text
		FROM pg_replication_slots WHERE slot_name = $1 AND slot_type = 'logical'`, slot).Scan(&confirmed, &activePID, &walStatus, &current)
		if err != nil || activePID == nil || time.Now().After(deadline) {
			break
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return invalidOffset("replication slot %q does not exist, so there is no position to move: DELETE the offsets instead; "+
			"the connector creates the slot when resumed, and snapshots as snapshot.mode says", slot)
	}
	if err != nil {
		return fmt.Errorf("read replication slot %q: %w", slot, err)
	}
	from, err := pglogrepl.ParseLSN(confirmed)
	if err != nil {
		return fmt.Errorf("parse confirmed_flush_lsn of slot %q: %w", slot, err)
	}
	end, err := pglogrepl.ParseLSN(current)
	if err != nil {
		return fmt.Errorf("parse the server's WAL position: %w", err)
	}
	switch {
	case walStatus == "lost":
		return invalidOffset("replication slot %q has wal_status=lost: the WAL it needed is gone; drop the slot and DELETE the offsets to take a new snapshot", slot)
	case activePID != nil:
		return invalidOffset("replication slot %q is in use by server process %d: stop what streams from it first", slot, *activePID)
	case lsn < from:
		return invalidOffset("lsn %s is before replication slot %q's confirmed position %s: a slot never moves back, and the server may already have removed "+
			"the WAL before that position. Give an LSN at or after %s, or DELETE the offsets to take a new snapshot", lsn, slot, from, from)
	case lsn > end:
		return invalidOffset("lsn %s is beyond the server's flushed WAL position %s", lsn, end)
	case lsn == from:
		return nil
	}
	var moved string
	if err := conn.QueryRow(ctx, "SELECT end_lsn::text FROM pg_replication_slot_advance($1, $2::pg_lsn)", slot, lsn.String()).Scan(&moved); err != nil {
		return fmt.Errorf("advance replication slot %q to %s: %w", slot, lsn, err)
	}
	if moved != lsn.String() {
		return fmt.Errorf("advance replication slot %q to %s: the server moved it to %s; retry", slot, lsn, moved)
	}
	return nil
}
