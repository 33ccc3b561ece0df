package mysql

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/pingcap/tidb/pkg/parser"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/schema/event"
)

// flushEvents bounds the events of an open transaction held in memory:
// past it they are handed on without an end position, which only the
// transaction's commit brings.
const flushEvents = 1024

// stream reads the binlog from a position and hands each committed
// transaction's events on as chunks ending at the position after its
// commit. It runs on one goroutine.
type stream struct {
	src     *Source
	catalog *client.Conn
	out     chan<- cdc.Chunk[Position]
	hist    *history
	ddl     *ddlApplier
	file    string
	gtids   *gtidSet

	// The open transaction.
	open        bool // between BEGIN (or a MariaDB GTID event) and its commit
	gtid        string
	skip        bool   // its GTID source is not captured
	beginPos    uint32 // where its first event ends
	thread      int64
	events      []*event.Event
	total       int64
	perTable    map[*event.Table]int64
	lastEnd     time.Time
	pendingEnd  *Position // a commit with nothing captured, not yet handed on
	pendingRead uint64    // the binlog bytes read when pendingEnd was reached
	endPos      uint32    // where in file the last transaction read ended
	lag         *lagMeter

	// inc runs incremental snapshots; stepDue asks for its next step once
	// no transaction is open; progress is the snapshot progress to hand on
	// with the open transaction's commit.
	inc      *cdc.Incremental[Position]
	stepDue  bool
	progress *cdc.IncrementalProgress
}

// eventQueue is how many binlog events go-mysql may parse ahead of the
// stream (its EventCacheCount, 10,240 by default). Each rows event holds its
// decoded rows, so the queue bounds memory. A 2M-row backlog drain
// (bench/mysql) peaked at 670 MB of RSS with go-mysql's default, 176 MB at
// 1,024, 145 MB at 256 and 132 MB at 64, draining as fast at 64 as at 256:
// go-mysql parses far faster than the pipeline encodes and produces.
const eventQueue = 64

// syncerConfig is the replica configuration the binlog is read with.
func (s *Source) syncerConfig() replication.BinlogSyncerConfig {
	return replication.BinlogSyncerConfig{
		EventCacheCount:     eventQueue,
		RowsEventDecodeFunc: s.decodeRows,
		ServerID:            s.cfg.ServerID, Flavor: s.flavor, Host: s.cfg.Host, Port: uint16(s.cfg.Port),
		User: s.cfg.User, Password: s.cfg.Password, Charset: "utf8mb4",
		// Dates arrive as the server's text, not time.Time, which would
		// silently turn an invalid date (ALLOW_INVALID_DATES) into another.
		ParseTime: false, UseDecimal: false, TimestampStringLocation: time.UTC,
		HeartbeatPeriod: 10 * time.Second, ReadTimeout: 60 * time.Second,
		// A lost connection ends Run with a transient error; the restart
		// resumes from the last stored position, between transactions.
		DisableRetrySync: true,
		Logger:           s.logger.With("component", "binlog"),
	}
}

// decodeRows decodes the rows of a rows event only when its table is
// captured: rows of other tables are never looked at, so a column type
// go-mysql cannot decode (MariaDB's compressed columns, say) in a table
// the connector does not capture cannot stop it, and their decoding costs
// nothing. It runs on go-mysql's reading goroutine; the filter is read-only.
func (s *Source) decodeRows(e *replication.RowsEvent, data []byte) error {
	pos, err := e.DecodeHeader(data)
	if err != nil {
		return err
	}
	if !s.cfg.Filter.Table(string(e.Table.Schema), string(e.Table.Table)) && !s.isSignalTable(e.Table) {
		return nil
	}
	return e.DecodeData(pos, data)
}

// signalPoll is how often, at least, the stream takes the daemon's
// signals and lets a resumed incremental snapshot read on.
const signalPoll = 200 * time.Millisecond

// run streams from start until ctx ends or a failure.
func (st *stream) run(ctx context.Context, start Position) error {
	s := st.src
	gtids, err := parseGTIDSet(s.flavor, start.GTIDs)
	if err != nil {
		return err
	}
	st.gtids, st.file, st.endPos, st.lastEnd = gtids, start.File, start.Pos, time.Now()
	st.ddl = &ddlApplier{p: parser.New(), lookup: st.hist.def, charset: st.dbCharset, tracked: st.hist.tables,
		captured: func(id event.TableID) bool { return s.cfg.Filter.Table(id.Database, id.Table) }}
	syncer := replication.NewBinlogSyncer(s.syncerConfig())
	defer syncer.Close()
	streamer, err := syncer.StartSync(gomysql.Position{Name: start.File, Pos: start.Pos})
	if err != nil {
		return fmt.Errorf("start reading the binlog at %s: %w", start, connectError(s.cfg, err))
	}
	s.logger.Info("streaming started", "file", start.File, "pos", start.Pos, "gtids", start.GTIDs)
	wait := time.Second
	if s.cfg.HeartbeatInterval > 0 {
		wait = min(wait, s.cfg.HeartbeatInterval)
	}
	var stepped time.Time
	for {
		if (st.stepDue || st.inc.Ready() || time.Since(stepped) >= signalPoll) && !st.open {
			st.stepDue, stepped = false, time.Now()
			if err := st.inc.Step(ctx); err != nil {
				return err
			}
		}
		ectx, cancel := context.WithTimeout(ctx, wait)
		ev, err := streamer.GetEvent(ectx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) {
				if err := st.heartbeat(ctx); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("read the binlog after %s:%d: %w", st.file, st.beginPos, connectError(s.cfg, err))
		}
		if err := st.handle(ctx, ev); err != nil {
			return err
		}
	}
}

// heartbeat hands on the end of transactions that captured nothing once
// heartbeat.interval.ms passed since the last end, so that the stored
// position follows the binlog while the captured tables are idle.
func (st *stream) heartbeat(ctx context.Context) error {
	iv := st.src.cfg.HeartbeatInterval
	if st.pendingEnd == nil || iv <= 0 || time.Since(st.lastEnd) < iv {
		return nil
	}
	end := st.pendingEnd
	st.pendingEnd, st.lastEnd = nil, time.Now()
	st.lag.handedOn(*end, st.pendingRead)
	return cdc.Send(ctx, st.out, cdc.Chunk[Position]{End: end})
}

func (st *stream) handle(ctx context.Context, ev *replication.BinlogEvent) error {
	h := ev.Header
	st.lag.readEvent(h.EventSize)
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		st.file, st.endPos = string(e.NextLogName), uint32(e.Position)
	case *replication.MariadbGTIDEvent:
		id := e.GTID
		st.beginTx(id.String(), fmt.Sprintf("%d-%d", id.DomainID, id.ServerID), h.LogPos)
		// A standalone event group (DDL, non-transactional statements)
		// ends with its one query; others with XID or COMMIT.
		st.open = !e.IsStandalone()
	case *replication.GTIDEvent:
		next, err := e.GTIDNext()
		if err != nil {
			return fmt.Errorf("decode GTID at %s:%d: %w", st.file, h.LogPos, err)
		}
		g := next.String()
		src, _, _ := strings.Cut(g, ":")
		st.beginTx(g, src, h.LogPos)
	case *replication.QueryEvent:
		return st.query(ctx, e, h)
	case *replication.XIDEvent:
		return st.commit(ctx, h, false)
	case *replication.TableMapEvent:
		// Mapped when a rows event refers to it (RowsEvent.Table).
	case *replication.RowsEvent:
		return st.rows(ctx, e, h)
	}
	return nil
}

func (st *stream) beginTx(gtid, source string, pos uint32) {
	st.gtid, st.skip, st.beginPos, st.thread = gtid, !st.src.cfg.gtidSourceCaptured(source), pos, 0
	st.total, st.perTable = 0, map[*event.Table]int64{}
}

// query handles BEGIN, COMMIT and DDL. A statement outside an open
// transaction is a transaction of its own, ending where it ends.
func (st *stream) query(ctx context.Context, e *replication.QueryEvent, h *replication.EventHeader) error {
	q := strings.TrimSpace(string(e.Query))
	switch strings.ToUpper(q) {
	case "BEGIN":
		if st.gtid == "" || !st.open {
			if st.gtid == "" {
				st.beginTx("", "", h.LogPos)
			}
			st.open = true
		}
		st.thread = int64(e.SlaveProxyID)
		return nil
	case "COMMIT":
		return st.commit(ctx, h, false)
	}
	if isDDL(q) {
		st.src.tables.forget()
		st.src.logger.Info("schema change", "database", string(e.Schema), "query", firstWords(q), "file", st.file, "pos", h.LogPos)
		if err := st.schemaChange(ctx, q, string(e.Schema), h); err != nil {
			return err
		}
		if err := st.truncates(q, string(e.Schema), h); err != nil {
			return err
		}
	}
	if st.open {
		return nil
	}
	return st.commit(ctx, h, true)
}

// truncates adds a truncate event (op t) for each captured table a TRUNCATE
// statement at h empties, as Debezium does; skipped.operations (by default
// t) decides whether it is written.
func (st *stream) truncates(q, db string, h *replication.EventHeader) error {
	ids := st.ddl.truncated(q, db)
	if len(ids) == 0 {
		return nil
	}
	if st.perTable == nil {
		st.beginTx(st.gtid, "", h.LogPos-h.EventSize)
	}
	commit, err := event.BinlogCommit(st.file, st.beginPos)
	if err != nil {
		return err
	}
	for _, id := range ids {
		v, err := st.src.tables.current(st.catalog, id)
		if err != nil {
			return fmt.Errorf("the table %s truncated at %s:%d: %w", id, st.file, h.LogPos, err)
		}
		st.add(st.change(event.OpTruncate, v.table, nil, nil, h, 0, commit))
	}
	return nil
}

func isDDL(q string) bool {
	f := strings.Fields(strings.ToUpper(q))
	if len(f) == 0 {
		return false
	}
	switch f[0] {
	case "ALTER", "CREATE", "DROP", "RENAME", "TRUNCATE":
		return true
	}
	return false
}

// commit ends the open transaction at the event ending at h.LogPos: its
// events are handed on with that end position and the GTID set including
// the transaction.
func (st *stream) commit(ctx context.Context, h *replication.EventHeader, ddl bool) error {
	if err := st.gtids.add(st.gtid); err != nil {
		return fmt.Errorf("record GTID %s: %w", st.gtid, err)
	}
	end := &Position{File: st.file, Pos: h.LogPos, GTIDs: st.gtids.String()}
	st.endPos = h.LogPos
	events, progress := st.events, st.progress
	hadEvents := st.total > 0 || len(events) > 0
	st.events, st.open, st.gtid, st.skip, st.progress = nil, false, "", false, nil
	st.total, st.perTable = 0, nil
	if !hadEvents && !ddl && progress == nil {
		st.pendingEnd, st.pendingRead = end, st.lag.bytesRead()
		return st.heartbeat(ctx)
	}
	st.pendingEnd, st.lastEnd = nil, time.Now()
	st.lag.handedOn(*end, st.lag.bytesRead())
	return st.send(ctx, cdc.Chunk[Position]{Events: events, End: end, Incremental: progress})
}

// rows turns a rows event of a captured table into change events.
func (st *stream) rows(ctx context.Context, e *replication.RowsEvent, h *replication.EventHeader) error {
	if st.skip || e.Table == nil {
		return nil
	}
	s := st.src
	id := event.TableID{Database: string(e.Table.Schema), Table: string(e.Table.Table)}
	if s.isSignalTable(e.Table) && isInsert(h.EventType) {
		if st.perTable == nil {
			st.beginTx(st.gtid, "", h.LogPos-h.EventSize)
		}
		commit, err := event.BinlogCommit(st.file, st.beginPos)
		if err != nil {
			return err
		}
		st.signalRows(e.Rows, h, commit)
	}
	if !s.cfg.Filter.Table(id.Database, id.Table) {
		return nil
	}
	var op event.Op
	switch h.EventType {
	case replication.WRITE_ROWS_EVENTv0, replication.WRITE_ROWS_EVENTv1, replication.WRITE_ROWS_EVENTv2, replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1:
		op = event.OpCreate
	case replication.UPDATE_ROWS_EVENTv0, replication.UPDATE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv2, replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1:
		op = event.OpUpdate
	case replication.DELETE_ROWS_EVENTv0, replication.DELETE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv2, replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1:
		op = event.OpDelete
	default:
		return fmt.Errorf("table %s: unsupported rows event %s at %s:%d (binlog_row_value_options must be empty)", id, h.EventType, st.file, h.LogPos)
	}
	tme := e.Table
	if s.stripMetadata {
		c := *tme
		stripTableMap(&c)
		tme = &c
	}
	var cols []Column
	var keys []string // from the history; nil: read from the catalog
	var err error
	if len(tme.ColumnName) == int(tme.ColumnCount) {
		if cols, err = ColumnsFromTableMap(tme); err != nil {
			return fmt.Errorf("at %s:%d: %w", st.file, h.LogPos, err)
		}
		if def := st.hist.def(id); def != nil {
			for i := range cols {
				if j := def.column(cols[i].Name); j >= 0 {
					cols[i].DataType = extensionType(def.Columns[j].DataType)
					cols[i].Default = def.Columns[j].Default
				}
			}
		}
	} else {
		def := st.hist.def(id)
		if cols, err = columnsFromHistory(tme, def, fmt.Sprintf("%s:%d", st.file, h.LogPos)); err != nil {
			return connectors.Permanent(err)
		}
		keys = append([]string{}, def.Key...)
	}
	v, err := s.tables.fromBinlog(st.catalog, id, cols, keys)
	if err != nil {
		return err
	}
	if st.perTable == nil {
		st.beginTx(st.gtid, "", h.LogPos-h.EventSize)
	}
	commit, err := event.BinlogCommit(st.file, st.beginPos)
	if err != nil {
		return err
	}
	step := 1
	if op == event.OpUpdate {
		step = 2
	}
	for i := 0; i+step <= len(e.Rows); i += step {
		rowIndex := int32(i / step)
		beforeImage, afterImage := e.Rows[i], e.Rows[i+step-1]
		switch op {
		case event.OpCreate:
			beforeImage = nil
		case event.OpDelete:
			afterImage = nil
		}
		before, after, err := v.images(beforeImage, afterImage)
		if verr := (*cdc.ValueError)(nil); errors.As(err, &verr) {
			pos := fmt.Sprintf("binlog %s:%d row %d", st.file, h.LogPos-h.EventSize, rowIndex)
			if st.gtid != "" {
				pos += " (GTID " + st.gtid + ")"
			}
			err = s.failures.Handle(ctx, &cdc.FailedChange{Table: id.String(), Op: op, Position: pos, Value: verr,
				Before: v.text(beforeImage), After: v.text(afterImage)})
			if err == nil {
				continue
			}
		}
		if err != nil {
			return err
		}
		if op == event.OpUpdate && len(v.table.Key) > 0 && !slices.EqualFunc(v.table.KeyRow(before), v.table.KeyRow(after), keyEqual) {
			// The key changed: a delete of the old key and a create of
			// the new one, as Debezium emits it.
			st.add(st.change(event.OpDelete, v.table, before, nil, h, rowIndex, commit))
			st.add(st.change(event.OpCreate, v.table, nil, after, h, rowIndex, commit))
		} else {
			st.add(st.change(op, v.table, before, after, h, rowIndex, commit))
		}
	}
	if len(st.events) >= flushEvents {
		events := st.events
		st.events = nil
		return st.send(ctx, cdc.Chunk[Position]{Events: events})
	}
	return nil
}

// send hands c on; its events drop the rows of an incremental snapshot's
// open window whose keys they change.
func (st *stream) send(ctx context.Context, c cdc.Chunk[Position]) error {
	st.inc.Streamed(c.Events)
	return cdc.Send(ctx, st.out, c)
}

// isInsert reports whether a rows event holds inserted rows.
func isInsert(t replication.EventType) bool {
	switch t {
	case replication.WRITE_ROWS_EVENTv0, replication.WRITE_ROWS_EVENTv1, replication.WRITE_ROWS_EVENTv2, replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1:
		return true
	}
	return false
}

// isSignalTable reports whether a table map is the signal table's.
func (s *Source) isSignalTable(t *replication.TableMapEvent) bool {
	return s.cfg.SignalTable != "" && string(t.Schema)+"."+string(t.Table) == s.cfg.SignalTable
}

func keyEqual(a, b any) bool {
	if x, ok := a.(event.Decimal); ok {
		y, ok := b.(event.Decimal)
		return ok && x.Equal(y)
	}
	if x, ok := a.([]byte); ok {
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	}
	return a == b
}

func (st *stream) add(e *event.Event) {
	st.events = append(st.events, e)
}

// change builds one change event; the transaction counters advance.
func (st *stream) change(op event.Op, t *event.Table, before, after event.Row, h *replication.EventHeader, row int32, commit uint64) *event.Event {
	s := st.src
	st.total++
	st.perTable[t]++
	txID := st.gtid
	if txID == "" {
		txID = fmt.Sprintf("%s:%d", st.file, st.beginPos)
	}
	e := &event.Event{
		Op: op, Table: t, Before: before, After: after, TsMs: time.Now().UnixMilli(),
		Source: event.Source{
			Version: s.env.Version, Connector: s.cfg.Connector, Name: s.cfg.TopicPrefix, TsUs: int64(h.Timestamp) * 1e6,
			Snapshot: event.SnapshotFalse, DB: t.ID.Database, Table: t.ID.Table,
		},
		Transaction: &event.Transaction{ID: txID, TotalOrder: st.total, DataCollectionOrder: st.perTable[t]},
		Position:    event.Position{Commit: commit, Index: uint32(st.total - 1)},
	}
	st.placeRow(&e.Source, h, row)
	return e
}

// placeRow sets the position fields of a source block to row row of the
// rows event h heads: the binlog file and the position where the event
// starts, the row's index in it, the server id, GTID and thread. A sink
// versions a source block by its file and position.
func (st *stream) placeRow(src *event.Source, h *replication.EventHeader, row int32) {
	src.ServerID, src.GTID, src.File, src.Pos, src.RowIndex, src.Thread = int64(h.ServerID), st.gtid, st.file, int64(h.LogPos-h.EventSize), row, st.thread
}
