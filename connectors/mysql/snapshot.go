package mysql

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/schema/event"
)

// openSnapshot opens a connection holding a transaction WITH CONSISTENT
// SNAPSHOT and returns the binlog position that snapshot is consistent
// with. MariaDB reports it atomically (Binlog_snapshot_file and
// Binlog_snapshot_position); MySQL has no such status, so there the
// position is read under FLUSH TABLES WITH READ LOCK, released at once,
// unless snapshot.locking.mode=none.
func (s *Source) openSnapshot(ctx context.Context) (*client.Conn, Position, error) {
	conn, err := s.connect(ctx)
	if err != nil {
		return nil, Position{}, err
	}
	fail := func(err error) (*client.Conn, Position, error) {
		conn.Close()
		return nil, Position{}, err
	}
	if _, err := conn.Execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
		return fail(fmt.Errorf("snapshot: %w", err))
	}
	if s.flavor == gomysql.MariaDBFlavor {
		if _, err := conn.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
			return fail(fmt.Errorf("snapshot: start transaction: %w", err))
		}
		rows, err := query(conn, "SHOW STATUS LIKE 'binlog_snapshot_%'")
		if err != nil {
			return fail(fmt.Errorf("snapshot: %w", err))
		}
		var p Position
		for _, r := range rows {
			switch strings.ToLower(str(r[0])) {
			case "binlog_snapshot_file":
				p.File = str(r[1])
			case "binlog_snapshot_position":
				var n uint32
				fmt.Sscan(str(r[1]), &n)
				p.Pos = n
			}
		}
		if p.File == "" {
			return fail(fmt.Errorf("snapshot: the server reports no binlog_snapshot_file: is binary logging on?"))
		}
		rows, err = query(conn, "SELECT BINLOG_GTID_POS(?, ?)", p.File, p.Pos)
		if err == nil && len(rows) == 1 {
			p.GTIDs = str(rows[0][0])
		}
		return conn, p, nil
	}
	lock := s.cfg.LockingMode != "none"
	if lock {
		if _, err := conn.Execute("FLUSH TABLES WITH READ LOCK"); err != nil {
			return fail(fmt.Errorf("snapshot: FLUSH TABLES WITH READ LOCK (or set snapshot.locking.mode=none): %w", err))
		}
	}
	if _, err := conn.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
		return fail(fmt.Errorf("snapshot: start transaction: %w", err))
	}
	p, err := masterStatus(conn)
	if lock {
		if _, uerr := conn.Execute("UNLOCK TABLES"); uerr != nil && err == nil {
			err = fmt.Errorf("snapshot: UNLOCK TABLES: %w", uerr)
		}
	}
	if err != nil {
		return fail(err)
	}
	return conn, p, nil
}

// masterStatus reads the current binlog position (and, on MySQL, the
// executed GTID set).
func masterStatus(conn *client.Conn) (Position, error) {
	rows, err := query(conn, "SHOW MASTER STATUS")
	if err != nil {
		if rows, err = query(conn, "SHOW BINARY LOG STATUS"); err != nil {
			return Position{}, fmt.Errorf("read the binlog position: %w", err)
		}
	}
	if len(rows) == 0 {
		return Position{}, fmt.Errorf("read the binlog position: SHOW MASTER STATUS is empty: binary logging is off")
	}
	p := Position{File: str(rows[0][0])}
	var n uint32
	fmt.Sscan(str(rows[0][1]), &n)
	p.Pos = n
	if len(rows[0]) > 4 {
		p.GTIDs = strings.ReplaceAll(str(rows[0][4]), "\n", "")
	}
	return p, nil
}

// capturedTables lists the base tables the filters capture, sorted.
func (s *Source) capturedTables(conn *client.Conn) ([]event.TableID, error) {
	rows, err := query(conn, "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME")
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var out []event.TableID
	for _, r := range rows {
		id := event.TableID{Database: str(r[0]), Table: str(r[1])}
		if s.cfg.Filter.Table(id.Database, id.Table) {
			out = append(out, id)
		}
	}
	return out, nil
}

// tableReader reads tables inside the snapshot transaction of conn. It
// implements cdc.TableReader.
type tableReader struct {
	src   *Source
	conn  *client.Conn
	start Position
	// serverID is the source.server_id of its events: 0 for the initial
	// snapshot's, as Debezium writes it for what no binlog event carried;
	// the server's own for incremental chunks, read while streaming.
	serverID uint32
	ids      map[string]event.TableID
	// where and limit, when set, bound what ReadTable reads: an SQL
	// condition on the rows and a number of rows (incremental chunks);
	// orderBy, when set, is the column read in the order of instead of the
	// key (a surrogate key).
	where   string
	limit   int
	orderBy string
}

var _ cdc.TableReader = (*tableReader)(nil)

// ReadTable reads a table in primary-key order, snapshot.fetch.size rows a
// query (SELECT … WHERE (key) > (last) ORDER BY key LIMIT n); a keyless
// table is read by one streamed query. See cdc.TableReader.
func (r *tableReader) ReadTable(ctx context.Context, name string, after []string, emit func([]*event.Event, []string) error) error {
	id := r.ids[name]
	v, err := r.src.tables.fromCatalog(r.conn, id)
	if err != nil {
		return err
	}
	cols, err := catalogColumns(r.conn, id)
	if err != nil {
		return err
	}
	pos, err := snapshotPosition(r.start)
	if err != nil {
		return err
	}
	conv := make([]func(gomysql.FieldValue) any, len(cols))
	sel := make([]string, len(cols))
	for i, c := range cols {
		conv[i], sel[i] = snapshotValue(c)
	}
	// The key of the scan: the table's event key when it has one, or the
	// surrogate key.
	var key []int // indexes into cols
	for _, k := range v.table.Key {
		key = append(key, v.raw[k])
	}
	if r.orderBy != "" {
		i := slices.IndexFunc(cols, func(c Column) bool { return c.Name == r.orderBy })
		if i < 0 {
			return fmt.Errorf("%w: surrogate key %q is no column of %s", cdc.ErrBadCondition, r.orderBy, id)
		}
		key = []int{i}
	}
	fetch := r.src.cfg.SnapshotFetchSize
	// build converts a row into its event; nil for a row that does not
	// convert and that the failure handling drops.
	build := func(row []gomysql.FieldValue) (*event.Event, error) {
		image := make([]any, len(row))
		for i := range row {
			image[i] = conv[i](row[i])
		}
		after, err := v.row(image)
		if verr := (*cdc.ValueError)(nil); errors.As(err, &verr) {
			return nil, r.src.failures.Handle(ctx, &cdc.FailedChange{Table: id.String(), Op: event.OpRead,
				Position: fmt.Sprintf("snapshot at binlog %s:%d", r.start.File, r.start.Pos), Value: verr, After: v.text(image)})
		}
		if err != nil {
			return nil, err
		}
		return r.event(v.table, after, pos), nil
	}
	from := "SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(id.Database) + "." + quoteIdent(id.Table)
	var where []string
	if r.where != "" {
		where = append(where, "("+r.where+")")
	}
	if len(key) == 0 {
		if len(where) > 0 {
			from += " WHERE " + where[0]
		}
		var batch []*event.Event
		var res gomysql.Result
		err := r.conn.ExecuteSelectStreaming(from, &res, func(row []gomysql.FieldValue) error {
			e, err := build(row)
			if err != nil || e == nil {
				return err
			}
			if batch = append(batch, e); len(batch) >= fetch {
				err, batch = emit(batch, nil), nil
				return err
			}
			return ctx.Err()
		}, nil)
		if err != nil {
			return fmt.Errorf("snapshot %s: %w", id, err)
		}
		return emit(batch, nil)
	}
	keyCols := make([]string, len(key))
	for i, k := range key {
		keyCols[i] = quoteIdent(cols[k].Name)
	}
	left := r.limit // rows still to read when limited
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := fetch
		if r.limit > 0 {
			if n = min(fetch, left); n == 0 {
				return nil
			}
		}
		conds := where
		if after != nil {
			conds = append(slices.Clip(where), "("+strings.Join(keyCols, ", ")+") > ("+strings.Join(after, ", ")+")")
		}
		sql := from
		if len(conds) > 0 {
			sql += " WHERE " + strings.Join(conds, " AND ")
		}
		sql += " ORDER BY " + strings.Join(keyCols, ", ") + fmt.Sprintf(" LIMIT %d", n)
		res, err := r.conn.Execute(sql)
		if err != nil {
			return fmt.Errorf("snapshot %s: %w", id, err)
		}
		events := make([]*event.Event, 0, len(res.Values))
		for _, row := range res.Values {
			e, err := build(row)
			if err != nil {
				res.Close()
				return err
			}
			if e != nil {
				events = append(events, e)
			}
		}
		got := len(res.Values)
		left -= got
		if got > 0 {
			last := res.Values[got-1]
			after = make([]string, len(key))
			for i, k := range key {
				after[i] = keyLiteral(last[k], cols[k])
			}
		}
		res.Close()
		if got == 0 {
			return nil
		}
		if err := emit(events, slices.Clone(after)); err != nil {
			return err
		}
		if got < n {
			return nil
		}
	}
}

// keyLiteral writes a key value as an SQL literal that compares as the
// column does: numbers as they are, byte strings in hexadecimal, character
// strings in hexadecimal converted to the connection's character set.
func keyLiteral(v gomysql.FieldValue, c Column) string {
	switch v.Type {
	case gomysql.FieldValueTypeNull:
		return "NULL"
	case gomysql.FieldValueTypeString:
		if _, ok := extensionSizes[c.DataType]; ok {
			// UUID and INET text: hexadecimal digits, '-', ':' and '.'.
			return "'" + string(v.AsString()) + "'"
		}
		h := "X'" + hex.EncodeToString(v.AsString()) + "'"
		if c.Collation == binaryCollation || c.Type == gomysql.MYSQL_TYPE_BIT {
			return h
		}
		return "CONVERT(" + h + " USING utf8mb4)"
	}
	return v.String()
}

// snapshotValue returns the select expression of a column and the
// conversion of the text-protocol value into what the binlog holds for it
// (what ColumnType.Value takes): ENUM as its 1-based index, SET as its
// bitmap, BIT as an integer, MariaDB's UUID and INET as their bytes. FLOAT is read as DOUBLE, since the text form
// of a FLOAT rounds it to 6 digits.
func snapshotValue(c Column) (func(gomysql.FieldValue) any, string) {
	name := quoteIdent(c.Name)
	text := func(v gomysql.FieldValue) any {
		if v.Type == gomysql.FieldValueTypeNull {
			return nil
		}
		return v.Value()
	}
	switch c.Type {
	case gomysql.MYSQL_TYPE_FLOAT:
		return func(v gomysql.FieldValue) any {
			if v.Type == gomysql.FieldValueTypeNull {
				return nil
			}
			return float32(v.AsFloat64())
		}, "CAST(" + name + " AS DOUBLE)"
	case gomysql.MYSQL_TYPE_BIT:
		return func(v gomysql.FieldValue) any {
			if v.Type != gomysql.FieldValueTypeString {
				return text(v)
			}
			var n uint64
			for _, b := range v.AsString() {
				n = n<<8 | uint64(b)
			}
			return int64(n)
		}, name
	case gomysql.MYSQL_TYPE_NEWDECIMAL, gomysql.MYSQL_TYPE_DATE, gomysql.MYSQL_TYPE_DATETIME2,
		gomysql.MYSQL_TYPE_TIMESTAMP2, gomysql.MYSQL_TYPE_TIME2:
		return func(v gomysql.FieldValue) any {
			if v.Type != gomysql.FieldValueTypeString {
				return text(v)
			}
			return string(v.AsString())
		}, name
	case gomysql.MYSQL_TYPE_STRING:
		if _, ok := extensionSizes[c.DataType]; ok {
			dataType := c.DataType
			return func(v gomysql.FieldValue) any {
				if v.Type != gomysql.FieldValueTypeString {
					return text(v)
				}
				if b, ok := extensionBytes(dataType, string(v.AsString())); ok {
					return b
				}
				return string(v.AsString()) // the mapping refuses its length
			}, name
		}
		switch byte(c.Meta >> 8) {
		case gomysql.MYSQL_TYPE_ENUM:
			members := c.EnumValues
			return func(v gomysql.FieldValue) any {
				if v.Type == gomysql.FieldValueTypeNull {
					return nil
				}
				return int64(slices.Index(members, string(v.AsString())) + 1)
			}, name
		case gomysql.MYSQL_TYPE_SET:
			members := c.SetValues
			return func(v gomysql.FieldValue) any {
				if v.Type == gomysql.FieldValueTypeNull {
					return nil
				}
				var bits int64
				for _, m := range strings.Split(string(v.AsString()), ",") {
					if i := slices.Index(members, m); i >= 0 {
						bits |= 1 << i
					}
				}
				return bits
			}, name
		}
	}
	return text, name
}

// event is the op=r event of a row read.
func (r *tableReader) event(t *event.Table, row event.Row, pos event.Position) *event.Event {
	now := time.Now().UnixMilli()
	return &event.Event{
		Op: event.OpRead, Table: t, After: row, TsMs: now,
		Source:   r.source(t.ID.Database, t.ID.Table, now),
		Position: pos,
	}
}

// source is the source block of the events of what the reader read about
// a database and table (either may be empty) at nowMs: at the reader's
// start position, with its server id.
func (r *tableReader) source(db, table string, nowMs int64) event.Source {
	s := r.src
	return event.Source{
		Version: s.env.Version, Connector: s.cfg.Connector, Name: s.cfg.TopicPrefix, TsUs: nowMs * 1e3, Snapshot: event.SnapshotTrue,
		DB: db, Table: table, ServerID: int64(r.serverID), File: r.start.File, Pos: int64(r.start.Pos),
	}
}
