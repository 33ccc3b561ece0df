package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/schema/event"
)

// watermarkPrefix is the prefix of the logical decoding messages that are
// an incremental snapshot's watermarks.
const watermarkPrefix = "sluice-incremental"

// chunkReader reads the chunks of incremental snapshots and writes their
// watermarks, on a connection of its own that it opens when first needed.
// It implements cdc.ChunkReader; the stream goroutine calls it.
type chunkReader struct {
	src      *Source
	tables   map[string]capturedTable
	conn     *pgx.Conn
	versions map[string]*event.Table // the table versions of the chunks read (tableReader.versions)
}

var _ cdc.ChunkReader = (*chunkReader)(nil)

func newChunkReader(s *Source, tables []capturedTable) *chunkReader {
	r := &chunkReader{src: s, tables: map[string]capturedTable{}, versions: map[string]*event.Table{}}
	for _, t := range tables {
		r.tables[t.String()] = t
	}
	return r
}

func (r *chunkReader) connection(ctx context.Context) (*pgx.Conn, error) {
	if r.conn == nil || r.conn.IsClosed() {
		conn, err := r.src.connect(ctx, false)
		if err != nil {
			return nil, err
		}
		r.conn = conn
	}
	return r.conn, nil
}

// close closes the connection, if one was opened.
func (r *chunkReader) close(ctx context.Context) {
	if r.conn != nil {
		r.conn.Close(ctx)
	}
}

// Check sees that table is captured and has a key. See cdc.ChunkReader.
func (r *chunkReader) Check(ctx context.Context, table string) error {
	t, ok := r.tables[table]
	if !ok {
		return fmt.Errorf("table %s is not captured: name a table the filters capture (table.include.list), as schema.table", table)
	}
	conn, err := r.connection(ctx)
	if err != nil {
		return err
	}
	info, err := loadTable(ctx, conn, t.OID)
	if err != nil {
		return err
	}
	if len(info.PrimaryKey) == 0 && r.src.cfg.KeyColumns.For(table) == nil {
		return fmt.Errorf("table %s has no primary key, and an incremental snapshot reads in key order: give it one, or key columns with message.key.columns", table)
	}
	return nil
}

// ReadChunk reads one chunk in a read-committed transaction, through the
// snapshot's table reader. See cdc.ChunkReader.
func (r *chunkReader) ReadChunk(ctx context.Context, q cdc.ChunkQuery) ([]*event.Event, []string, error) {
	conn, err := r.connection(ctx)
	if err != nil {
		return nil, nil, err
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, nil, fmt.Errorf("begin chunk transaction: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	tr := &tableReader{src: r.src, tx: tx, tables: r.tables, where: q.Condition, limit: q.Limit, orderBy: q.OrderBy, versions: r.versions}
	var events []*event.Event
	var lastKey []string
	err = tr.ReadTable(ctx, q.Table, q.After, func(chunk []*event.Event, last []string) error {
		events, lastKey = append(events, chunk...), last
		return nil
	})
	var pgErr *pgconn.PgError
	if q.Condition != "" && errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "42") || strings.HasPrefix(pgErr.Code, "22")) {
		return nil, nil, fmt.Errorf("%w: %s", cdc.ErrBadCondition, pgErr.Message)
	}
	if err != nil {
		return nil, nil, err
	}
	return events, lastKey, tx.Commit(ctx)
}

// Watermark writes mark as a transactional logical decoding message,
// committed with synchronous_commit on so that the WAL carrying it is
// flushed and the stream reads it at once. See cdc.ChunkReader.
func (r *chunkReader) Watermark(ctx context.Context, mark string) error {
	conn, err := r.connection(ctx)
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "BEGIN; SET LOCAL synchronous_commit = on; SELECT pg_logical_emit_message(true, "+
		quoteLiteral(watermarkPrefix)+", "+quoteLiteral(mark)+"); COMMIT")
	if err != nil {
		return fmt.Errorf("write incremental snapshot watermark: %w", err)
	}
	return nil
}

// watermark hands a watermark message to the incremental snapshots and
// on with the chunk its high watermark closes. Watermarks are written in
// transactions of their own, so the chunk's rows are positioned at that
// transaction's commit: after every change the stream read before it. Their
// source blocks say the message, as Debezium's do (see locateMessage).
func (s *stream) watermark(ctx context.Context, m *pglogrepl.LogicalDecodingMessageV2) error {
	at := m.LSN
	if s.tx != nil {
		at = s.tx.commit
	}
	c, ok := s.inc.Watermark(string(m.Content), event.Position{Commit: uint64(at)}, s.locateMessage(m.LSN))
	if !ok {
		return nil
	}
	s.stepDue = true
	return s.send(ctx, c)
}

// locateMessage locates source blocks at the watermark message at lsn:
// source.lsn is the message's LSN, and txId and sequence are those of the
// open transaction, as for a change there (see txState.place). A sink
// versions a source block without a transaction block by its source.lsn:
// every change committed after the watermark has a greater commit LSN, and
// every change the stream read before the chunk's rows were read committed
// before the message was written.
func (s *stream) locateMessage(lsn pglogrepl.LSN) func(*event.Source) {
	tx := s.tx
	if tx == nil {
		return func(src *event.Source) { src.LSN = int64(lsn) }
	}
	tx.lsn = lsn // the change being read
	return tx.place
}

// signal hands a row inserted into the signal table to the incremental
// snapshots: its columns id, type and data, in text form.
func (s *stream) signal(rel *relation, tuple *pglogrepl.TupleData) {
	var sig connectors.Signal
	for i, col := range tuple.Columns {
		if i >= len(rel.signalColumns) || col.DataType != pglogrepl.TupleDataTypeText {
			continue
		}
		switch rel.signalColumns[i] {
		case "id":
			sig.ID = string(col.Data)
		case "type":
			sig.Type = string(col.Data)
		case "data":
			sig.Data = append([]byte(nil), col.Data...)
		}
	}
	s.inc.Signal(sig)
	s.stepDue = true
}

// Position is where the stream is: the highest end it handed on or was
// confirmed at, after every change it read. See cdc.HeldStream.
func (s *stream) Position() event.Position {
	return event.Position{Commit: max(uint64(s.handedOn), s.confirmed.Load())}
}

// Locate sets source.lsn to Position. See cdc.HeldStream.
func (s *stream) Locate(src *event.Source) { src.LSN = int64(s.Position().Commit) }

// KeepAlive sends a standby status update, so that the server keeps the
// replication connection (wal_sender_timeout) while a blocking snapshot
// holds the stream. See cdc.HeldStream.
func (s *stream) KeepAlive(ctx context.Context) error { return s.sendStatus(ctx, false) }
