package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/schema/event"
)

const snapshotCursor = "sluice_snapshot"

// tableReader reads captured tables for a snapshot inside one repeatable
// read transaction: the snapshot exported when the slot was created, so
// that the rows read are exactly those committed before the slot's
// consistent point, or, when a snapshot resumes after a restart, a fresh
// one (streaming from the consistent point then replays every change
// since, so each row still ends at its latest state). It implements
// cdc.TableReader.
type tableReader struct {
	src    *Source
	tx     pgx.Tx
	tables map[string]capturedTable
	lsn    pglogrepl.LSN // the snapshot's position: every row read is at it
	// where and limit, when set, bound what ReadTable reads: an SQL
	// condition on the rows and a number of rows (incremental chunks);
	// orderBy, when set, is the column read in the order of instead of the
	// key (a surrogate key).
	where   string
	limit   int
	orderBy string
	// versions, when set, are the table versions read before, by table:
	// a read whose table is the same (sameTable) takes the version read
	// before, so that an incremental snapshot's chunks share one
	// *event.Table and the Kafka writer, which keys its codecs and
	// registrations by it, derives them once rather than once a chunk.
	versions map[string]*event.Table
}

// version returns the version of table name to read t as: the one read
// before when it is the same (see versions), else t, which later reads
// then take.
func (r *tableReader) version(name string, t *event.Table) *event.Table {
	if r.versions == nil {
		return t
	}
	if prev := r.versions[name]; prev != nil && sameTable(prev, t) {
		return prev
	}
	r.versions[name] = t
	return t
}

// snapshot takes plan's snapshot through the core's driver, using the
// exported snapshot name when there is one.
func (s *Source) snapshot(ctx context.Context, plan cdc.SnapshotPlan[position], exported string, tables []capturedTable, out chan<- chunk) error {
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
	if exported != "" {
		if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLiteral(exported)); err != nil {
			return fmt.Errorf("use exported snapshot %s: %w", exported, err)
		}
	}
	r := &tableReader{src: s, tx: tx, tables: map[string]capturedTable{}, lsn: pglogrepl.LSN(plan.Start.LSN)}
	for _, t := range tables {
		r.tables[t.String()] = t
	}
	return cdc.Snapshot(ctx, plan, r, out, s.logger.With("lsn", r.lsn.String()))
}

// ReadTable reads one table through a cursor, in chunks of
// snapshot.fetch.size rows. See cdc.TableReader.
func (r *tableReader) ReadTable(ctx context.Context, name string, after []string, emit func([]*event.Event, []string) error) error {
	t := r.tables[name]
	info, err := loadTable(ctx, r.tx, t.OID)
	if err != nil {
		return err
	}
	cols := make([]wireColumn, len(info.Columns))
	for i, c := range info.Columns {
		cols[i] = wireColumn{Name: c.Name, TypeOID: c.TypeOID, TypMod: c.TypMod}
	}
	rel, err := r.src.buildRelation(ctx, info, t.Schema, t.Name, cols)
	if err != nil {
		return err
	}
	rel.table = r.version(name, rel.table)
	order := rel.table.Key
	if r.orderBy != "" {
		i := slices.IndexFunc(rel.table.Columns, func(c event.Column) bool { return c.Name == r.orderBy })
		if i < 0 {
			return fmt.Errorf("%w: surrogate key %q is no captured column of %s", cdc.ErrBadCondition, r.orderBy, t)
		}
		order = []int{i}
	}
	if _, err := r.tx.Exec(ctx, "DECLARE "+snapshotCursor+" NO SCROLL CURSOR FOR "+snapshotQuery(info, rel, order, after, r.where, r.limit)); err != nil {
		return fmt.Errorf("snapshot %s: open cursor: %w", t, err)
	}
	fetch := fmt.Sprintf("FETCH FORWARD %d FROM %s", r.src.cfg.SnapshotFetchSize, snapshotCursor)
	now := time.Now()
	for {
		rr := r.tx.Conn().PgConn().ExecParams(ctx, fetch, nil, nil, nil, nil)
		var events []*event.Event
		var lastKey []string
		rows := 0
		for rr.NextRow() {
			rows++
			vals := rr.Values()
			if len(order) > 0 {
				lastKey = keyText(order, vals)
			}
			row, err := r.src.snapshotRow(rel, vals)
			if verr := (*cdc.ValueError)(nil); errors.As(err, &verr) {
				err = r.src.failures.Handle(ctx, &cdc.FailedChange{Table: rel.table.ID.String(), Op: event.OpRead,
					Position: "snapshot at LSN " + r.lsn.String(), Value: verr, After: rowText(rel, vals)})
				if err == nil {
					continue
				}
			}
			if err != nil {
				rr.Close()
				return err
			}
			events = append(events, r.src.readEvent(rel.table, row, r.lsn, now))
		}
		if _, err := rr.Close(); err != nil {
			return fmt.Errorf("snapshot %s: fetch: %w", t, err)
		}
		if rows == 0 {
			break
		}
		if err := emit(events, lastKey); err != nil {
			return err
		}
	}
	if _, err := r.tx.Exec(ctx, "CLOSE "+snapshotCursor); err != nil {
		return fmt.Errorf("snapshot %s: close cursor: %w", t, err)
	}
	return nil
}

// snapshotQuery selects a table's columns in the order of the columns
// order indexes (its key, or a surrogate key), after the key whose text
// form is after (the last one made durable, when resuming), keeping the
// rows where holds ("" for all), at most limit (0 for all).
func snapshotQuery(info *tableInfo, rel *relation, order []int, after []string, where string, limit int) string {
	names := make([]string, len(rel.table.Columns))
	for i, c := range rel.table.Columns {
		names[i] = pgx.Identifier{c.Name}.Sanitize()
	}
	q := "SELECT " + strings.Join(names, ", ") + " FROM " + pgx.Identifier{info.Schema, info.Name}.Sanitize()
	var conds []string
	if where != "" {
		conds = append(conds, "("+where+")")
	}
	if len(order) == 0 {
		if len(conds) > 0 {
			q += " WHERE " + conds[0]
		}
		return q
	}
	resume := len(after) == len(order)
	keys := make([]string, len(order))
	last := make([]string, len(order))
	for i, k := range order {
		col := rel.table.Columns[k]
		keys[i] = pgx.Identifier{col.Name}.Sanitize()
		if resume {
			ci, _ := info.column(col.Name)
			last[i] = quoteLiteral(after[i]) + "::" + ci.TypeName
		}
	}
	if resume {
		conds = append(conds, "("+strings.Join(keys, ", ")+") > ("+strings.Join(last, ", ")+")")
	}
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY " + strings.Join(keys, ", ")
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	return q
}

// snapshotRow decodes a row read in text format, in the table's column
// order; a value that does not convert is a *cdc.ValueError. raw may be the
// connection's buffer: decoding copies what it keeps.
func (s *Source) snapshotRow(rel *relation, raw [][]byte) (event.Row, error) {
	row := make(event.Row, len(raw))
	for i, v := range raw {
		if v == nil {
			continue
		}
		val, err := rel.decode[i](v)
		if err != nil {
			col := rel.table.Columns[i]
			return nil, &cdc.ValueError{Column: col.Name, Type: col.SourceType, Err: err}
		}
		row[i] = val
	}
	return row, nil
}

// rowText is the text of a raw snapshot row by column, nil for NULL.
func rowText(rel *relation, raw [][]byte) map[string]any {
	out := make(map[string]any, len(raw))
	for i, v := range raw {
		if v == nil {
			out[rel.table.Columns[i].Name] = nil
		} else {
			out[rel.table.Columns[i].Name] = string(v)
		}
	}
	return out
}

// keyText returns the text form of a raw row's columns that key indexes.
func keyText(key []int, raw [][]byte) []string {
	out := make([]string, len(key))
	for i, k := range key {
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
			TsUs: now.UnixMicro(), Snapshot: event.SnapshotTrue,
			DB: s.cfg.DBName, Schema: t.ID.Schema, Table: t.ID.Table, LSN: int64(lsn),
		},
		TsMs:     now.UnixMilli(),
		Position: event.Position{Commit: uint64(lsn)},
	}
}

// quoteLiteral quotes a string as an SQL literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
