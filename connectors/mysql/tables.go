package mysql

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/connectors/cdc"
	"github.com/sluice-cdc/sluice/schema/event"
)

// version is one version of a captured table: the event table and how to
// build its rows from a full row image.
type version struct {
	table *event.Table
	// raw holds, per column of table, its index in the row image.
	raw   []int
	types []*ColumnType
}

// row converts a row image into an event row; a value that does not
// convert is a *cdc.ValueError.
func (v *version) row(image []any) (event.Row, error) {
	out := make(event.Row, len(v.raw))
	for i, r := range v.raw {
		if r >= len(image) {
			return nil, fmt.Errorf("table %s: row image has %d columns, want more than %d", v.table.ID, len(image), r)
		}
		val, err := v.types[i].Value(image[r])
		if err != nil {
			return nil, &cdc.ValueError{Column: v.table.Columns[i].Name, Type: v.types[i].SourceType, Err: err}
		}
		out[i] = val
	}
	return out, nil
}

// images converts the old and new row images of a change; an image the
// change does not have is nil, and so is its row.
func (v *version) images(before, after []any) (event.Row, event.Row, error) {
	var rows [2]event.Row
	for i, image := range [2][]any{before, after} {
		if image == nil {
			continue
		}
		var err error
		if rows[i], err = v.row(image); err != nil {
			return nil, nil, err
		}
	}
	return rows[0], rows[1], nil
}

// text is a row image's captured values by column as text, for a dead
// letter: nil for NULL, byte strings that are not UTF-8 in hexadecimal
// after "\x", DATETIME and TIMESTAMP as "2006-01-02 15:04:05.999999".
// A nil image is nil.
func (v *version) text(image []any) map[string]any {
	if image == nil {
		return nil
	}
	out := make(map[string]any, len(v.raw))
	for i, r := range v.raw {
		if r >= len(image) {
			continue
		}
		var t any
		switch x := image[r].(type) {
		case nil:
		case string:
			t = bytesText([]byte(x))
		case []byte:
			t = bytesText(x)
		case time.Time:
			t = x.Format("2006-01-02 15:04:05.999999")
		default:
			t = fmt.Sprint(x)
		}
		out[v.table.Columns[i].Name] = t
	}
	return out
}

func bytesText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return `\x` + hex.EncodeToString(b)
}

// tables keeps the current version of every captured table. A table gets a
// new *event.Table only when its captured columns or key change, since the
// pipeline registers schemas per *event.Table. It is used by the snapshot
// and then by the stream, one after the other; the mutex makes that safe
// whatever the order.
type tables struct {
	src *Source
	mu  sync.Mutex
	cur map[event.TableID]*tableEntry
}

type tableEntry struct {
	binlog []Column // the columns of the table map the version was built from
	keys   []string // the primary key, read from the catalog; nil: not read yet
	v      *version
}

func newTables(src *Source) *tables {
	return &tables{src: src, cur: map[event.TableID]*tableEntry{}}
}

// forget drops what is known of every table's key, so that the next table
// map reads it again (after DDL).
func (ts *tables) forget() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, e := range ts.cur {
		e.keys, e.binlog = nil, nil
	}
}

// fromBinlog returns the version of a table described by a table map's
// columns. keys is its primary key as the schema history has it; when nil,
// the key is read from the catalog when not known.
func (ts *tables) fromBinlog(conn *client.Conn, id event.TableID, cols []Column, keys []string) (*version, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	e := ts.cur[id]
	if e != nil && e.keys != nil && reflect.DeepEqual(e.binlog, cols) && (keys == nil || slices.Equal(keys, e.keys)) {
		return e.v, nil
	}
	switch {
	case keys != nil:
	case e != nil && e.keys != nil:
		keys = e.keys
	default:
		var err error
		if keys, err = primaryKey(conn, id); err != nil {
			return nil, err
		}
	}
	v, err := ts.build(id, cols, keys)
	if err != nil {
		return nil, err
	}
	ts.cur[id] = &tableEntry{binlog: cols, keys: keys, v: v}
	return v, nil
}

// current returns the version of a table last read, or when there is none
// the version the catalog describes now.
func (ts *tables) current(conn *client.Conn, id event.TableID) (*version, error) {
	ts.mu.Lock()
	e := ts.cur[id]
	ts.mu.Unlock()
	if e != nil {
		return e.v, nil
	}
	return ts.fromCatalog(conn, id)
}

// fromCatalog returns the version of a table as the catalog describes it
// now, for the snapshot.
func (ts *tables) fromCatalog(conn *client.Conn, id event.TableID) (*version, error) {
	cols, err := catalogColumns(conn, id)
	if err != nil {
		return nil, err
	}
	keys, err := primaryKey(conn, id)
	if err != nil {
		return nil, err
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	v, err := ts.build(id, cols, keys)
	if err != nil {
		return nil, err
	}
	ts.cur[id] = &tableEntry{keys: keys, v: v}
	return v, nil
}

// build maps columns and keeps the previous *event.Table when the result
// is the same. ts.mu is held.
func (ts *tables) build(id event.TableID, cols []Column, pk []string) (*version, error) {
	s := ts.src
	t := &event.Table{ID: id}
	v := &version{table: t}
	for i, c := range cols {
		if !s.cfg.Filter.Column(id.Database, id.Table, c.Name) {
			continue
		}
		ct, err := s.mapper.Column(c)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", id, err)
		}
		t.Columns = append(t.Columns, event.Column{Name: c.Name, Schema: ct.Schema, SourceType: ct.SourceType})
		v.raw = append(v.raw, i)
		v.types = append(v.types, ct)
	}
	keys := pk
	if k := s.cfg.KeyColumns.For(id.String()); k != nil {
		keys = k
	}
	for _, k := range keys {
		i := slices.IndexFunc(t.Columns, func(c event.Column) bool { return c.Name == k })
		if i < 0 {
			if len(pk) > 0 && slices.Equal(keys, pk) {
				s.logger.Warn("a primary key column is not captured; the table's events have no key", "table", id.String(), "column", k)
				t.Key = nil
				break
			}
			return nil, fmt.Errorf("table %s: key column %q of message.key.columns is not a captured column", id, k)
		}
		t.Key = append(t.Key, i)
	}
	if e := ts.cur[id]; e != nil && reflect.DeepEqual(e.v.table.Columns, t.Columns) && slices.Equal(e.v.table.Key, t.Key) {
		v.table = e.v.table
	}
	return v, nil
}

// primaryKey reads the primary key columns of a table, in key order.
func primaryKey(conn *client.Conn, id event.TableID) ([]string, error) {
	rows, err := query(conn, "SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX", id.Database, id.Table)
	if err != nil {
		return nil, fmt.Errorf("read the primary key of %s: %w", id, err)
	}
	keys := make([]string, 0, len(rows))
	for _, r := range rows {
		keys = append(keys, str(r[0]))
	}
	return keys, nil
}

// catalogColumns describes a table's columns from information_schema the
// way ColumnsFromTableMap describes them from a table map, with the binlog
// type codes, so that snapshot rows map to the schemas streamed rows do.
// Character columns get the utf8mb4 collation: the snapshot connection
// receives every character value converted to utf8mb4.
func catalogColumns(conn *client.Conn, id event.TableID) ([]Column, error) {
	rows, err := query(conn, `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_OCTET_LENGTH,
  NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, COLLATION_NAME, COLUMN_DEFAULT
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, id.Database, id.Table)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("table %s has no columns in information_schema: it was dropped", id)
	}
	cols := make([]Column, len(rows))
	for i, r := range rows {
		cols[i] = catalogColumn(str(r[0]), strings.ToLower(str(r[1])), str(r[2]), str(r[3]) == "YES",
			atoi(r[4]), atoi(r[5]), atoi(r[6]), atoi(r[7]), str(r[8]))
		cols[i].Default = r[9]
	}
	return cols, nil
}

func atoi(p *string) int {
	n, _ := strconv.Atoi(str(p))
	return n
}

const utf8mb4Collation = 45

func catalogColumn(name, dataType, columnType string, nullable bool, octets, precision, scale, fsp int, collation string) Column {
	c := Column{Name: name, Nullable: nullable, Unsigned: strings.Contains(strings.ToLower(columnType), "unsigned"), Collation: utf8mb4Collation, DataType: dataType}
	binary := collation == "" || collation == "binary"
	switch dataType {
	case "tinyint":
		c.Type = gomysql.MYSQL_TYPE_TINY
	case "smallint":
		c.Type = gomysql.MYSQL_TYPE_SHORT
	case "mediumint":
		c.Type = gomysql.MYSQL_TYPE_INT24
	case "int", "integer":
		c.Type = gomysql.MYSQL_TYPE_LONG
	case "bigint":
		c.Type = gomysql.MYSQL_TYPE_LONGLONG
	case "float":
		c.Type = gomysql.MYSQL_TYPE_FLOAT
	case "double", "real":
		c.Type = gomysql.MYSQL_TYPE_DOUBLE
	case "decimal", "numeric":
		c.Type, c.Meta = gomysql.MYSQL_TYPE_NEWDECIMAL, uint16(precision<<8|scale)
	case "bit":
		c.Type, c.Meta = gomysql.MYSQL_TYPE_BIT, uint16((precision/8)<<8|precision%8)
	case "date":
		c.Type = gomysql.MYSQL_TYPE_DATE
	case "datetime":
		c.Type, c.Meta = gomysql.MYSQL_TYPE_DATETIME2, uint16(fsp)
	case "timestamp":
		c.Type, c.Meta = gomysql.MYSQL_TYPE_TIMESTAMP2, uint16(fsp)
	case "time":
		c.Type, c.Meta = gomysql.MYSQL_TYPE_TIME2, uint16(fsp)
	case "year":
		c.Type = gomysql.MYSQL_TYPE_YEAR
	case "enum":
		c.Type, c.Meta, c.EnumValues = gomysql.MYSQL_TYPE_STRING, uint16(gomysql.MYSQL_TYPE_ENUM)<<8|1, enumMembers(columnType)
	case "set":
		c.Type, c.Meta, c.SetValues = gomysql.MYSQL_TYPE_STRING, uint16(gomysql.MYSQL_TYPE_SET)<<8|1, enumMembers(columnType)
	case "json":
		c.Type, c.Meta = gomysql.MYSQL_TYPE_JSON, 4
	case "char", "binary":
		c.Type, c.Meta = gomysql.MYSQL_TYPE_STRING, uint16(gomysql.MYSQL_TYPE_STRING)<<8|uint16(octets&0xff)
	case "varchar", "varbinary":
		c.Type, c.Meta = gomysql.MYSQL_TYPE_VARCHAR, uint16(min(octets, 65535))
	case "tinytext", "tinyblob":
		c.Type, c.Meta = gomysql.MYSQL_TYPE_BLOB, 1
	case "text", "blob":
		c.Type, c.Meta = gomysql.MYSQL_TYPE_BLOB, 2
	case "mediumtext", "mediumblob":
		c.Type, c.Meta = gomysql.MYSQL_TYPE_BLOB, 3
	case "longtext", "longblob":
		c.Type, c.Meta = gomysql.MYSQL_TYPE_BLOB, 4
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection", "geomcollection":
		c.Type, c.Meta = gomysql.MYSQL_TYPE_GEOMETRY, 4
	case "uuid", "inet6", "inet4":
		c.Type, c.Meta = binlogStringType(extensionSizes[dataType])
		c.Collation = binaryCollation
	default:
		// A type this mapping does not know: its text (Mapper.Column maps it
		// through unknownColumn).
		c.Type, c.Meta = gomysql.MYSQL_TYPE_VARCHAR, 65535
	}
	if binary && (dataType == "binary" || dataType == "varbinary" || strings.HasSuffix(dataType, "blob")) {
		c.Collation = binaryCollation
	}
	return c
}

// enumMembers reads the members of "enum('a','b”c')" or "set(...)".
func enumMembers(columnType string) []string {
	open := strings.IndexByte(columnType, '(')
	body := strings.TrimSuffix(columnType[open+1:], ")")
	var out []string
	for i := 0; i < len(body); i++ {
		if body[i] != '\'' {
			continue
		}
		var b strings.Builder
		for i++; i < len(body); i++ {
			if body[i] == '\'' {
				if i+1 < len(body) && body[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				break
			}
			b.WriteByte(body[i])
		}
		out = append(out, b.String())
	}
	return out
}
