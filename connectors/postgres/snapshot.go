package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/schema/event"
)

// snapshotPlan is a snapshot to take before streaming.
type snapshotPlan struct {
	// name is the snapshot exported when the slot was created, so that the
	// rows read are exactly those committed before the slot's consistent
	// point. Empty when resuming after a restart: a fresh snapshot is taken
	// then, and streaming from the consistent point replays every change
	// since, so each row still ends at its latest state.
	name   string
	lsn    pglogrepl.LSN
	tables []capturedTable
	resume *snapshotProgress
}

const snapshotCursor = "sluice_snapshot"

// snapshot reads every captured table in key order, in chunks of
// snapshot.fetch.size rows, and hands them on as op=r events. Memory holds
// two chunks at most, whatever the table size. Progress travels with each
// chunk and is saved once the chunk is durable.
func (s *Source) snapshot(ctx context.Context, plan *snapshotPlan, out chan<- chunk) error {
	conn, err := s.connect(ctx, false)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin snapshot transaction: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if plan.name != "" {
		if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLiteral(plan.name)); err != nil {
			return fmt.Errorf("use exported snapshot %s: %w", plan.name, err)
		}
	}
	progress := plan.resume
	if progress == nil {
		progress = &snapshotProgress{LSN: uint64(plan.lsn)}
	}
	s.logger.Info("snapshot started", "tables", len(plan.tables), "lsn", plan.lsn.String(), "resumed", plan.resume != nil)
	started := time.Now()
	todo := slices.DeleteFunc(slices.Clone(plan.tables), func(t capturedTable) bool { return slices.Contains(progress.Done, t.String()) })
	for i, t := range todo {
		if err := s.snapshotTable(ctx, tx, plan, t, progress, i == len(todo)-1, out); err != nil {
			return err
		}
	}
	s.logger.Info("snapshot read every table", "tables", len(plan.tables), "seconds", time.Since(started).Seconds())
	return nil
}

// snapshotTable reads one table through a cursor.
func (s *Source) snapshotTable(ctx context.Context, tx pgx.Tx, plan *snapshotPlan, t capturedTable, progress *snapshotProgress, lastTable bool, out chan<- chunk) error {
	info, err := loadTable(ctx, tx, t.OID)
	if err != nil {
		return err
	}
	cols := make([]wireColumn, len(info.Columns))
	for i, c := range info.Columns {
		cols[i] = wireColumn{Name: c.Name, TypeOID: c.TypeOID, TypMod: c.TypMod}
	}
	rel, err := s.buildRelation(ctx, info, t.Schema, t.Name, cols)
	if err != nil {
		return err
	}
	query := snapshotQuery(info, rel, progress, t.String())
	if _, err := tx.Exec(ctx, "DECLARE "+snapshotCursor+" NO SCROLL CURSOR FOR "+query); err != nil {
		return fmt.Errorf("snapshot %s: open cursor: %w", t, err)
	}
	progress.Table = t.String()
	fetch := fmt.Sprintf("FETCH FORWARD %d FROM %s", s.cfg.SnapshotFetchSize, snapshotCursor)
	read := func() ([][][]byte, error) {
		rr := tx.Conn().PgConn().ExecParams(ctx, fetch, nil, nil, nil, nil)
		var rows [][][]byte
		for rr.NextRow() {
			vals := rr.Values()
			row := make([][]byte, len(vals))
			for i, v := range vals {
				if v != nil {
					row[i] = append([]byte{}, v...)
				}
			}
			rows = append(rows, row)
		}
		if _, err := rr.Close(); err != nil {
			return nil, fmt.Errorf("snapshot %s: fetch: %w", t, err)
		}
		return rows, nil
	}
	cur, err := read()
	if err != nil {
		return err
	}
	now := time.Now()
	for len(cur) > 0 {
		next, err := read()
		if err != nil {
			return err
		}
		events := make([]*event.Event, len(cur))
		for i, raw := range cur {
			row, err := s.snapshotRow(rel, raw)
			if err != nil {
				return err
			}
			events[i] = s.readEvent(rel.table, row, plan.lsn, now)
		}
		if len(next) == 0 && lastTable {
			events[len(events)-1].Source.Snapshot = event.SnapshotLast
		}
		if len(rel.table.Key) > 0 {
			progress.LastKey = keyText(rel, cur[len(cur)-1])
		}
		if err := sendChunk(ctx, out, chunk{events: events, snapshot: progress.clone()}); err != nil {
			return err
		}
		cur = next
	}
	if _, err := tx.Exec(ctx, "CLOSE "+snapshotCursor); err != nil {
		return fmt.Errorf("snapshot %s: close cursor: %w", t, err)
	}
	progress.Done = append(progress.Done, t.String())
	progress.Table, progress.LastKey = "", nil
	s.logger.Info("snapshot of table complete", "table", t.String())
	return sendChunk(ctx, out, chunk{snapshot: progress.clone()})
}

// snapshotQuery selects a table's columns in key order, after the last key
// already made durable when resuming that table.
func snapshotQuery(info *tableInfo, rel *relation, progress *snapshotProgress, table string) string {
	names := make([]string, len(rel.table.Columns))
	for i, c := range rel.table.Columns {
		names[i] = pgx.Identifier{c.Name}.Sanitize()
	}
	q := "SELECT " + strings.Join(names, ", ") + " FROM " + pgx.Identifier{info.Schema, info.Name}.Sanitize()
	if len(rel.table.Key) == 0 {
		return q
	}
	resume := progress.Table == table && len(progress.LastKey) == len(rel.table.Key)
	keys := make([]string, len(rel.table.Key))
	last := make([]string, len(rel.table.Key))
	for i, k := range rel.table.Key {
		col := rel.table.Columns[k]
		keys[i] = pgx.Identifier{col.Name}.Sanitize()
		if resume {
			ci, _ := info.column(col.Name)
			last[i] = quoteLiteral(progress.LastKey[i]) + "::" + ci.TypeName
		}
	}
	if resume {
		q += " WHERE (" + strings.Join(keys, ", ") + ") > (" + strings.Join(last, ", ") + ")"
	}
	return q + " ORDER BY " + strings.Join(keys, ", ")
}

// snapshotRow decodes a row read in text format, in the table's column order.
func (s *Source) snapshotRow(rel *relation, raw [][]byte) (event.Row, error) {
	row := make(event.Row, len(raw))
	for i, v := range raw {
		if v == nil {
			continue
		}
		val, err := rel.decode[i](v)
		if err != nil {
			col := rel.table.Columns[i]
			return nil, fmt.Errorf("snapshot %s: decode %s (%s): %w", rel.table.ID, col.Name, col.SourceType, err)
		}
		row[i] = val
	}
	return row, nil
}

// keyText returns the text form of a raw row's key columns.
func keyText(rel *relation, raw [][]byte) []string {
	out := make([]string, len(rel.table.Key))
	for i, k := range rel.table.Key {
		out[i] = string(raw[k])
	}
	return out
}

// readEvent builds a snapshot read event. Snapshot rows are positioned at
// the slot's consistent point: every streamed change commits after it, so
// it orders after every snapshot row of the same key.
func (s *Source) readEvent(t *event.Table, row event.Row, lsn pglogrepl.LSN, now time.Time) *event.Event {
	return &event.Event{
		Op: event.OpRead, Table: t, After: row,
		Source: event.Source{
			Version: s.env.Version, Connector: "postgresql", Name: s.cfg.TopicPrefix,
			TsMs: now.UnixMilli(), Snapshot: event.SnapshotTrue,
			DB: s.cfg.DBName, Schema: t.ID.Schema, Table: t.ID.Table, LSN: int64(lsn),
		},
		TsMs:     now.UnixMilli(),
		Position: event.Position{Commit: uint64(lsn)},
	}
}

func sendChunk(ctx context.Context, out chan<- chunk, c chunk) error {
	select {
	case out <- c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// quoteLiteral quotes a string as an SQL literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
