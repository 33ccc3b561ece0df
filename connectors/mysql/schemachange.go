package mysql

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/schema/event"
)

// schemaChange handles a DDL statement read from the binlog at h, run with
// db as the default database: it applies it to the schema history (and
// saves the history before the statement's end is handed on), and, with
// include.schema.changes, adds its schema-change event to the open
// transaction, whose end it is.
func (st *stream) schemaChange(ctx context.Context, sql, db string, h *replication.EventHeader) error {
	s := st.src
	end := Position{File: st.file, Pos: h.LogPos}
	charsets := map[string]string{}
	changes, err := st.ddl.apply(sql, db, charsets)
	if err != nil {
		if changes, err = st.reread(sql, h, err); err != nil {
			return err
		}
	}
	if len(changes) > 0 || len(charsets) > 0 {
		if err := st.hist.record(ctx, end, changes, charsets); err != nil {
			return err
		}
	}
	if !s.cfg.SchemaChanges {
		return nil
	}
	database := db
	if len(changes) > 0 {
		database = changes[0].ID.Database
	} else if database == "" || !s.cfg.Filter.Container(database) {
		return nil // no captured database is touched
	}
	st.add(st.schemaChangeEvent(sql, database, changes, h))
	return nil
}

// reread handles a DDL statement the history cannot apply (cause): when
// the stream is at the server's current position, information_schema
// describes the tables as the statement left them, so the captured tables
// are read again; otherwise the history cannot know, and the stream stops
// (or, with binlog_row_metadata=FULL, where the history only describes the
// schema-change records, goes on with a warning).
func (st *stream) reread(sql string, h *replication.EventHeader, cause error) ([]tableChange, error) {
	s := st.src
	cur, err := masterStatus(st.catalog)
	if err != nil {
		return nil, err
	}
	if cur.File == st.file && cur.Pos == h.LogPos {
		ids, err := s.capturedTables(st.catalog)
		if err != nil {
			return nil, err
		}
		defs, err := catalogDefs(st.catalog, ids)
		if err != nil {
			return nil, err
		}
		var changes []tableChange
		for _, id := range ids {
			d, old := defs[id], st.hist.def(id)
			switch {
			case d == nil:
			case old == nil:
				changes = append(changes, tableChange{Kind: changeCreate, ID: id, Def: d})
			case !reflect.DeepEqual(d, old):
				changes = append(changes, tableChange{Kind: changeAlter, ID: id, Def: d})
			}
		}
		for _, db := range capturedDatabases(ids, st.hist) {
			for _, id := range st.hist.tables(db) {
				if defs[id] == nil {
					changes = append(changes, tableChange{Kind: changeDrop, ID: id})
				}
			}
		}
		s.logger.Warn("schema history: a DDL statement was not parsed; the stream is at the server's current position, so the captured tables were read again from information_schema",
			"file", st.file, "pos", h.LogPos, "query", firstWords(sql), "reason", cause.Error())
		return changes, nil
	}
	err = fmt.Errorf("schema history: cannot apply the DDL statement at %s:%d (%s): %w; the binlog is not read at the server's current position, so the tables cannot be read again from information_schema",
		st.file, h.LogPos, statement(sql), cause)
	if !s.fullMetadata {
		return nil, connectors.Permanent(errors.New(err.Error() + ". Set binlog_row_metadata=FULL, or reset the connector's offsets to take a new snapshot"))
	}
	s.logger.Warn("schema-change record without table changes: "+err.Error(), "file", st.file, "pos", h.LogPos)
	return nil, nil
}

// capturedDatabases lists the databases of ids and of the history's tables.
func capturedDatabases(ids []event.TableID, h *history) []string {
	seen := map[string]bool{}
	var out []string
	add := func(db string) {
		if !seen[db] {
			seen[db] = true
			out = append(out, db)
		}
	}
	for _, id := range ids {
		add(id.Database)
	}
	h.mu.Lock()
	for id := range h.cur {
		add(id.Database)
	}
	h.mu.Unlock()
	return out
}

// schemaChangeEvent is the event of a DDL statement for the schema-change
// topic.
func (st *stream) schemaChangeEvent(sql, database string, changes []tableChange, h *replication.EventHeader) *event.Event {
	s := st.src
	sc, tables := newSchemaChange(sql, database, changes)
	st.total++
	return &event.Event{
		SchemaChange: sc, TsMs: time.Now().UnixMilli(),
		Source: event.Source{
			Version: s.env.Version, Connector: s.cfg.Connector, Name: s.cfg.TopicPrefix, TsUs: int64(h.Timestamp) * 1e6,
			Snapshot: event.SnapshotFalse, DB: database, Table: tables, ServerID: int64(h.ServerID), GTID: st.gtid,
			File: st.file, Pos: int64(h.LogPos - h.EventSize), Thread: st.thread,
		},
	}
}

// newSchemaChange describes a DDL statement run in database with the
// changes it made to captured tables, and returns with it the tables it
// changes as Debezium names them in source.table (comma-separated).
func newSchemaChange(sql, database string, changes []tableChange) (*event.SchemaChange, string) {
	sc := &event.SchemaChange{Database: database, DDL: sql}
	var tables []string
	for _, c := range changes {
		tc := event.TableChange{Type: c.Kind, ID: c.ID}
		if c.Def != nil {
			tc.Table = definitionOf(c.Def)
		}
		sc.Tables = append(sc.Tables, tc)
		if !slices.Contains(tables, c.ID.Table) {
			tables = append(tables, c.ID.Table)
		}
	}
	return sc, strings.Join(tables, ",")
}

// definitionOf describes a table definition as Debezium's table changes do.
func definitionOf(d *tableDef) *event.TableDefinition {
	out := &event.TableDefinition{DefaultCharset: d.Charset, PrimaryKey: d.Key, Comment: d.Comment}
	for i, c := range d.Columns {
		typeName := strings.ToUpper(c.DataType)
		if c.Unsigned {
			typeName += " UNSIGNED"
		}
		cd := event.ColumnDefinition{
			Name: c.Name, JDBCType: jdbcType(c.DataType), TypeName: typeName, TypeExpression: typeName,
			Charset: c.Charset, Position: int32(i + 1), Optional: c.Nullable, AutoIncremented: c.AutoIncrement,
			Generated: c.Generated, Comment: c.Comment, DefaultValue: c.Default,
		}
		for _, m := range c.Members {
			cd.EnumValues = append(cd.EnumValues, "'"+strings.ReplaceAll(m, "'", "''")+"'")
		}
		length, scale := c.dimensions()
		if length >= 0 {
			n := int32(length)
			cd.Length = &n
		}
		if scale >= 0 {
			n := int32(scale)
			cd.Scale = &n
		}
		out.Columns = append(out.Columns, cd)
	}
	return out
}

// dimensions are a column's length and scale as Debezium's DDL parser
// reads them from its type (-1: none): those declared, a temporal type's
// fractional seconds as its length, the defaults of BIT (1) and DECIMAL
// (10,0), 1 for an ENUM and 2n-1 for a SET of n members (their number and
// the commas between them).
func (c colDef) dimensions() (length, scale int) {
	switch c.DataType {
	case "datetime", "timestamp", "time":
		if c.Scale > 0 {
			return c.Scale, -1
		}
		return -1, -1
	case "enum":
		return 1, -1
	case "set":
		return max(0, 2*len(c.Members)-1), -1
	case "bit":
		if c.Length < 0 {
			return 1, -1
		}
	case "decimal", "numeric":
		if c.Length < 0 {
			return 10, 0
		}
		return c.Length, max(c.Scale, 0)
	}
	return c.Length, c.Scale
}

// jdbcType is the java.sql.Types code Debezium's MySQL DDL parser gives a
// data type.
func jdbcType(dataType string) int32 {
	switch dataType {
	case "bit":
		return -7
	case "tinyint", "bool", "boolean":
		return 5 // SMALLINT: Debezium maps TINYINT to SMALLINT
	case "smallint":
		return 5
	case "mediumint", "int", "integer", "year":
		return 4
	case "bigint":
		return -5
	case "float":
		return 6
	case "double", "real":
		return 8
	case "decimal", "numeric":
		return 3
	case "char", "enum", "set":
		return 1
	case "varchar", "tinytext", "text", "mediumtext", "longtext":
		return 12
	case "binary":
		return -2
	case "varbinary":
		return -3
	case "tinyblob", "blob", "mediumblob", "longblob":
		return 2004 // BLOB
	case "date":
		return 91
	case "time":
		return 92
	case "datetime":
		return 93
	case "timestamp":
		return 2014 // TIMESTAMP_WITH_TIMEZONE
	case "json":
		return 1111 // OTHER
	}
	return 1111
}

// dbCharset is a database's default character set as the history has it,
// or, for a database it does not know, as the server has it now.
func (st *stream) dbCharset(db string) string {
	if cs := st.hist.dbCharset(db); cs != "" {
		return cs
	}
	rows, err := query(st.catalog, "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", db)
	if err != nil || len(rows) == 0 {
		return ""
	}
	return normCharset(str(rows[0][0]))
}

// statement is sql on one line, at most 200 characters, for messages.
func statement(sql string) string {
	s := strings.Join(strings.Fields(sql), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
