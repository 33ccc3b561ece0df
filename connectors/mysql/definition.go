package mysql

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-cdc/sluice/schema/event"
)

// tableDef is a captured table's definition as the schema history keeps
// it: what information_schema says of it, or what DDL made of it. It is
// immutable once built; DDL makes a new one.
type tableDef struct {
	Charset string   `json:"charset,omitempty"` // the table's default character set
	Comment string   `json:"comment,omitempty"`
	Key     []string `json:"pk,omitempty"` // the primary key columns, in key order
	Columns []colDef `json:"columns"`
}

// colDef is one column of a tableDef, in information_schema's terms.
type colDef struct {
	Name string `json:"name"`
	// DataType is information_schema.COLUMNS.DATA_TYPE, lower case ("int",
	// "varchar", "enum").
	DataType string `json:"type"`
	// Length and Scale are the dimensions the column's type declares, as
	// SHOW CREATE TABLE prints it: int(11), varchar(20), bit(8), year(4),
	// decimal(10,2); -1 when it declares none (text, float, enum). A
	// temporal type's fractional seconds are its Scale (0 when none), and
	// it has no Length.
	Length        int      `json:"length"`
	Scale         int      `json:"scale"`
	Unsigned      bool     `json:"unsigned,omitempty"`
	Nullable      bool     `json:"nullable,omitempty"`
	Charset       string   `json:"charset,omitempty"` // of character columns
	AutoIncrement bool     `json:"auto_increment,omitempty"`
	Generated     bool     `json:"generated,omitempty"`
	Comment       string   `json:"comment,omitempty"`
	Default       *string  `json:"default,omitempty"` // the default's expression; nil: none
	Members       []string `json:"members,omitempty"` // of ENUM and SET columns
}

func (d *tableDef) clone() *tableDef {
	c := *d
	c.Key = slices.Clone(d.Key)
	c.Columns = slices.Clone(d.Columns)
	return &c
}

func (d *tableDef) column(name string) int {
	return slices.IndexFunc(d.Columns, func(c colDef) bool { return strings.EqualFold(c.Name, name) })
}

// binaryTypes are the byte-string types: their charset is binary.
var binaryTypes = map[string]bool{"binary": true, "varbinary": true, "tinyblob": true, "blob": true, "mediumblob": true, "longblob": true,
	"uuid": true, "inet6": true, "inet4": true}

// binlogType is the type code a row event gives a column of this data
// type, after realType, and its equivalents: JSON is LONGTEXT on MariaDB,
// old temporal formats are logged without the 2.
func binlogTypes(dataType string) []byte {
	switch dataType {
	case "tinyint", "bool", "boolean":
		return []byte{gomysql.MYSQL_TYPE_TINY}
	case "smallint":
		return []byte{gomysql.MYSQL_TYPE_SHORT}
	case "mediumint":
		return []byte{gomysql.MYSQL_TYPE_INT24}
	case "int", "integer":
		return []byte{gomysql.MYSQL_TYPE_LONG}
	case "bigint":
		return []byte{gomysql.MYSQL_TYPE_LONGLONG}
	case "float":
		return []byte{gomysql.MYSQL_TYPE_FLOAT}
	case "double", "real":
		return []byte{gomysql.MYSQL_TYPE_DOUBLE}
	case "decimal", "numeric":
		return []byte{gomysql.MYSQL_TYPE_NEWDECIMAL}
	case "bit":
		return []byte{gomysql.MYSQL_TYPE_BIT}
	case "date":
		return []byte{gomysql.MYSQL_TYPE_DATE, gomysql.MYSQL_TYPE_NEWDATE}
	case "datetime":
		return []byte{gomysql.MYSQL_TYPE_DATETIME2, gomysql.MYSQL_TYPE_DATETIME}
	case "timestamp":
		return []byte{gomysql.MYSQL_TYPE_TIMESTAMP2, gomysql.MYSQL_TYPE_TIMESTAMP}
	case "time":
		return []byte{gomysql.MYSQL_TYPE_TIME2, gomysql.MYSQL_TYPE_TIME}
	case "year":
		return []byte{gomysql.MYSQL_TYPE_YEAR}
	case "enum":
		return []byte{gomysql.MYSQL_TYPE_ENUM}
	case "set":
		return []byte{gomysql.MYSQL_TYPE_SET}
	case "json":
		return []byte{gomysql.MYSQL_TYPE_JSON, gomysql.MYSQL_TYPE_BLOB}
	case "char", "binary", "uuid", "inet6", "inet4":
		return []byte{gomysql.MYSQL_TYPE_STRING}
	case "varchar", "varbinary":
		return []byte{gomysql.MYSQL_TYPE_VARCHAR, gomysql.MYSQL_TYPE_VAR_STRING}
	case "tinytext", "text", "mediumtext", "longtext", "tinyblob", "blob", "mediumblob", "longblob":
		return []byte{gomysql.MYSQL_TYPE_BLOB}
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection", "geomcollection":
		return []byte{gomysql.MYSQL_TYPE_GEOMETRY}
	case "vector":
		return []byte{gomysql.MYSQL_TYPE_VECTOR}
	}
	return nil
}

// collationOf is the collation id the row decoding needs for a column:
// binary for byte strings, latin1 or utf8mb4 for character columns (only
// which character set matters to the decoding).
func (c colDef) collationOf() uint64 {
	switch {
	case binaryTypes[c.DataType] || c.Charset == "binary":
		return binaryCollation
	case c.Charset == "latin1":
		return 8
	}
	return utf8mb4Collation
}

// columnsFromHistory describes the columns of a table map that lacks
// column names (binlog_row_metadata MINIMAL or NO_LOG) from the table's
// definition in the schema history: the names, signedness (unless logged),
// character sets (unless logged) and enum and set members come from the
// definition, the types and their metadata from the table map. The column
// count and each column's type must agree; otherwise the history does not
// describe the rows, and the error says so.
func columnsFromHistory(tme *replication.TableMapEvent, def *tableDef, where string) ([]Column, error) {
	id := string(tme.Schema) + "." + string(tme.Table)
	if def == nil {
		return nil, fmt.Errorf("table map of %s at %s has no column names (binlog_row_metadata is not FULL) and the schema history has no definition of the table", id, where)
	}
	n := int(tme.ColumnCount)
	if len(def.Columns) != n {
		return nil, fmt.Errorf("table map of %s at %s has %d columns, but the schema history's definition of the table has %d (%s): the history does not match the binlog",
			id, where, n, len(def.Columns), defNames(def))
	}
	unsigned := tme.UnsignedMap()
	collations := tme.CollationMap()
	enumSetCollations := tme.EnumSetCollationMap()
	cols := make([]Column, n)
	for i, d := range def.Columns {
		_, nullable := tme.Nullable(i)
		tp, meta := tme.ColumnType[i], tme.ColumnMeta[i]
		real, _ := realType(tp, meta)
		if !slices.Contains(binlogTypes(d.DataType), real) {
			return nil, fmt.Errorf("table map of %s at %s: column %d has binlog type %d, but the schema history defines column %s as %s: the history does not match the binlog",
				id, where, i+1, real, d.Name, d.DataType)
		}
		c := Column{Name: d.Name, Type: tp, Meta: meta, Nullable: nullable, Unsigned: d.Unsigned, Collation: d.collationOf(), DataType: extensionType(d.DataType), Default: d.Default}
		if unsigned != nil {
			c.Unsigned = unsigned[i]
		}
		if v, ok := collations[i]; ok {
			c.Collation = v
		}
		if v, ok := enumSetCollations[i]; ok && tme.IsEnumOrSetColumn(i) {
			c.Collation = v
		}
		switch real {
		case gomysql.MYSQL_TYPE_ENUM:
			c.EnumValues = d.Members
		case gomysql.MYSQL_TYPE_SET:
			c.SetValues = d.Members
		}
		cols[i] = c
	}
	return cols, nil
}

func defNames(d *tableDef) string {
	names := make([]string, len(d.Columns))
	for i, c := range d.Columns {
		names[i] = c.Name
	}
	return strings.Join(names, ",")
}

// stripTableMap removes from a table map what a server logging
// binlog_row_metadata=NO_LOG leaves out (names, signedness, charsets,
// enum and set members, keys); the tests use it to exercise the schema
// history without changing the server's settings.
func stripTableMap(tme *replication.TableMapEvent) {
	tme.ColumnName, tme.SignednessBitmap = nil, nil
	tme.DefaultCharset, tme.ColumnCharset = nil, nil
	tme.SetStrValue, tme.EnumStrValue = nil, nil
	tme.EnumSetDefaultCharset, tme.EnumSetColumnCharset = nil, nil
	tme.GeometryType, tme.PrimaryKey, tme.PrimaryKeyPrefix = nil, nil, nil
	tme.VisibilityBitmap = nil
}

// catalogDefs reads the definitions of tables from information_schema.
// Tables that no longer exist are left out.
func catalogDefs(conn *client.Conn, ids []event.TableID) (map[event.TableID]*tableDef, error) {
	out := map[event.TableID]*tableDef{}
	for _, id := range ids {
		d, err := catalogDef(conn, id)
		if err != nil {
			return nil, err
		}
		if d != nil {
			out[id] = d
		}
	}
	return out, nil
}

// typeDimensions are the length and scale a column type declares
// ("decimal(10,2)", "int(11) unsigned", "varchar(20)"), -1 for those it
// does not.
func typeDimensions(columnType string) (length, scale int) {
	length, scale = -1, -1
	_, rest, ok := strings.Cut(columnType, "(")
	if !ok {
		return length, scale
	}
	dims, _, ok := strings.Cut(rest, ")")
	if !ok {
		return length, scale
	}
	l, s, two := strings.Cut(dims, ",")
	if n, err := strconv.Atoi(strings.TrimSpace(l)); err == nil {
		length = n
	}
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && two {
		scale = n
	}
	return length, scale
}

// catalogDef reads one table's definition from information_schema; nil
// when the table does not exist.
func catalogDef(conn *client.Conn, id event.TableID) (*tableDef, error) {
	rows, err := query(conn, `SELECT COLUMN_NAME, LOWER(DATA_TYPE), COLUMN_TYPE, IS_NULLABLE, DATETIME_PRECISION,
  CHARACTER_SET_NAME, EXTRA, COLUMN_COMMENT, COLUMN_DEFAULT
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, id.Database, id.Table)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	d := &tableDef{}
	for _, r := range rows {
		ct := str(r[2])
		c := colDef{Name: str(r[0]), DataType: str(r[1]), Length: -1, Scale: -1, Nullable: str(r[3]) == "YES",
			Unsigned: strings.Contains(strings.ToLower(ct), "unsigned"), Charset: str(r[5]), Comment: str(r[7]), Default: r[8]}
		switch {
		case r[4] != nil: // temporal
			c.Scale = atoi(r[4])
		case c.DataType != "enum" && c.DataType != "set":
			c.Length, c.Scale = typeDimensions(ct)
		}
		extra := strings.ToLower(str(r[6]))
		c.AutoIncrement = strings.Contains(extra, "auto_increment")
		c.Generated = strings.Contains(extra, "generated") || strings.Contains(extra, "virtual") || strings.Contains(extra, "persistent")
		if c.DataType == "enum" || c.DataType == "set" {
			c.Members = enumMembers(ct)
		}
		if c.Default != nil && strings.EqualFold(*c.Default, "NULL") && c.Nullable {
			c.Default = nil
		}
		d.Columns = append(d.Columns, c)
	}
	if d.Key, err = primaryKey(conn, id); err != nil {
		return nil, err
	}
	rows, err = query(conn, "SELECT TABLE_COLLATION, TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", id.Database, id.Table)
	if err != nil {
		return nil, fmt.Errorf("read the table options of %s: %w", id, err)
	}
	if len(rows) == 1 {
		d.Charset, _, _ = strings.Cut(str(rows[0][0]), "_")
		d.Comment = str(rows[0][1])
	}
	return d, nil
}
