// The types*.go files map binlog column types to event schemas and the
// values go-mysql decodes from row events to event values, as Debezium's
// MySQL connector does. They need the server to log full row metadata
// (binlog_row_metadata=FULL: column names, signedness, charsets, enum and
// set values, nullability) and a replication.BinlogSyncerConfig with
// UseDecimal=false (decimals arrive as exact strings) and ParseTime=false
// with TimestampStringLocation=time.UTC (DATETIME and TIMESTAMP arrive as
// the server's text, so an invalid date stored under ALLOW_INVALID_DATES
// is seen as such: with ParseTime, time.Time would turn 2023-02-31 into
// 2023-03-03). Both decimal forms and both time forms are accepted.

package mysql

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/logical"
)

// Option configures a Mapper.
type Option func(*Mapper)

// WithDecimalMode sets decimal.handling.mode for DECIMAL (default precise).
func WithDecimalMode(m logical.DecimalMode) Option { return func(x *Mapper) { x.decimal = m } }

// WithTimeMode sets time.precision.mode (default adaptive_time_microseconds,
// Debezium's MySQL default).
func WithTimeMode(m logical.TimeMode) Option { return func(x *Mapper) { x.time = m } }

// WithBinaryMode sets binary.handling.mode for BINARY, VARBINARY and BLOB
// columns (default bytes).
func WithBinaryMode(m logical.BinaryMode) Option { return func(x *Mapper) { x.binary = m } }

// WithBigIntUnsignedMode sets bigint.unsigned.handling.mode (default long).
func WithBigIntUnsignedMode(m BigIntUnsignedMode) Option { return func(x *Mapper) { x.bigint = m } }

// WithLogger sets where warnings about zero dates and unsupported types go
// (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(x *Mapper) { x.log = l } }

// Mapper builds the ColumnType of binlog columns. It is safe for concurrent use.
type Mapper struct {
	decimal logical.DecimalMode
	time    logical.TimeMode
	binary  logical.BinaryMode
	bigint  BigIntUnsignedMode
	log     *slog.Logger
}

// NewMapper returns a Mapper with Debezium's MySQL defaults changed by opts.
func NewMapper(opts ...Option) *Mapper {
	m := &Mapper{time: logical.TimeAdaptiveMicroseconds, log: slog.Default()}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Column describes one column as a TableMapEvent (with full row metadata)
// and, optionally, the catalog do; ColumnsFromTableMap builds it.
type Column struct {
	Name string
	// Type and Meta are the binlog column type and metadata
	// (TableMapEvent.ColumnType and ColumnMeta).
	Type byte
	Meta uint16
	// Unsigned is set for numeric columns declared UNSIGNED.
	Unsigned bool
	// Nullable is false for NOT NULL columns.
	Nullable bool
	// Collation is the collation id of a character, enum or set column;
	// 63 (binary) marks BINARY, VARBINARY and BLOB.
	Collation uint64
	// EnumValues and SetValues are the members of an ENUM or SET column.
	EnumValues []string
	SetValues  []string
	// DataType is information_schema.COLUMNS.DATA_TYPE when the caller knows
	// it. It refines what the binlog cannot tell: "json" marks MariaDB JSON
	// columns, which the binlog logs as LONGTEXT.
	DataType string
	// Default is the column's default as SQL text (information_schema's
	// COLUMN_DEFAULT, or the expression of a DDL's DEFAULT) when the
	// caller knows it; nil when there is none or it is not known.
	Default *string
}

// ColumnType is the mapping of one column: its event schema and the
// conversion of go-mysql's decoded values. It is immutable and safe for
// concurrent use.
type ColumnType struct {
	// Schema is the column's value schema, Optional when the column is nullable.
	Schema *event.Schema
	// SourceType names the binlog type ("bigint unsigned", "datetime(6)",
	// "varbinary"), for messages.
	SourceType string
	convert    func(v any) (any, error)
}

// Value converts a value as go-mysql's RowsEvent holds it into the Go value
// the Schema wants (see event.Type). nil (SQL NULL) stays nil. Strings and
// byte slices are copied, so the result does not alias the event's buffer.
func (c *ColumnType) Value(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return c.convert(v)
}

// Column maps one column. TINYINT(1) and BOOLEAN columns are TINYINT in the
// binlog and map to INT16, as Debezium maps them without a converter.
func (m *Mapper) Column(c Column) (*ColumnType, error) {
	ct, err := m.column(c)
	if err != nil {
		return nil, fmt.Errorf("map column %s: %w", c.Name, err)
	}
	ct.Schema.Optional = c.Nullable
	if c.Default != nil {
		ct.Schema.Default = defaultValue(ct, *c.Default)
	}
	if rejected != "" {
		convert := ct.convert
		ct.convert = func(v any) (any, error) {
			s, _ := v.(string)
			if b, ok := v.([]byte); ok {
				s = string(b)
			}
			if s == rejected {
				return nil, fmt.Errorf("%q is rejected", s)
			}
			return convert(v)
		}
	}
	return ct, nil
}

// rejected, when not empty, is a text every column refuses to convert. Only
// this package's tests set it (export_test.go), to drive a conversion
// failure through the whole source.
var rejected string

func (m *Mapper) column(c Column) (*ColumnType, error) {
	if ct := extensionColumn(c); ct != nil {
		return ct, nil
	}
	if dataType := strings.ToLower(c.DataType); unknownDataType(dataType) {
		return m.unknownColumn(c, dataType), nil
	}
	tp, meta := realType(c.Type, c.Meta)
	switch tp {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_LONGLONG:
		return m.integer(tp, c.Unsigned), nil
	case mysql.MYSQL_TYPE_FLOAT:
		return typed("float", &event.Schema{Type: event.Float32}, floatValue(32)), nil
	case mysql.MYSQL_TYPE_DOUBLE:
		return typed("double", &event.Schema{Type: event.Float64}, floatValue(64)), nil
	case mysql.MYSQL_TYPE_NEWDECIMAL:
		p, s := int(meta>>8), int(meta&0xff)
		mode := m.decimal
		return typed(fmt.Sprintf("decimal(%d,%d)", p, s), logical.DecimalSchema(mode, p, s), func(v any) (any, error) {
			d, err := decimalOf(v)
			if err != nil {
				return nil, err
			}
			return logical.DecimalValue(mode, d, s), nil
		}), nil
	case mysql.MYSQL_TYPE_BIT:
		return bitColumn(int(meta>>8)*8 + int(meta&0xff)), nil
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		return m.date(c), nil
	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2:
		return m.datetime(c, fsp(tp, meta)), nil
	case mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
		return m.timestamp(c, fsp(tp, meta)), nil
	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		return m.timeColumn(c, fsp(tp, meta)), nil
	case mysql.MYSQL_TYPE_YEAR:
		return typed("year", logical.Year(), yearValue), nil
	case mysql.MYSQL_TYPE_ENUM:
		return enumColumn(c.EnumValues), nil
	case mysql.MYSQL_TYPE_SET:
		return setColumn(c.SetValues), nil
	case mysql.MYSQL_TYPE_JSON:
		return jsonColumn(c.Nullable), nil
	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_BLOB:
		return m.characterOrBinary(c, tp, meta), nil
	case mysql.MYSQL_TYPE_GEOMETRY, mysql.MYSQL_TYPE_VECTOR:
		m.log.Warn("column type has no logical type here, emitting its raw bytes",
			slog.String("column", c.Name), slog.Int("binlog_type", int(tp)))
		return m.binaryColumn("geometry", 0), nil
	}
	return m.unknownColumn(c, fmt.Sprintf("binlog type %d", tp)), nil
}

// realType resolves the real type of MYSQL_TYPE_STRING columns (ENUM, SET
// or CHAR/BINARY) and its metadata, as go-mysql's decoder does.
func realType(tp byte, meta uint16) (byte, uint16) {
	if tp != mysql.MYSQL_TYPE_STRING || meta < 256 {
		return tp, meta
	}
	b0, b1 := byte(meta>>8), byte(meta&0xff)
	if b0&0x30 != 0x30 {
		// CHAR(n) with n > 255: length bits spill into the type byte.
		return b0 | 0x30, uint16(b1) | uint16((b0&0x30)^0x30)<<4
	}
	if b0 == mysql.MYSQL_TYPE_ENUM || b0 == mysql.MYSQL_TYPE_SET {
		return b0, meta
	}
	return b0, uint16(b1)
}

// fsp is the fractional-second precision of a temporal column.
func fsp(tp byte, meta uint16) int {
	switch tp {
	case mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIMESTAMP2, mysql.MYSQL_TYPE_TIME2:
		return int(meta)
	}
	return 0
}

func typed(source string, s *event.Schema, f func(any) (any, error)) *ColumnType {
	return &ColumnType{Schema: s, SourceType: source, convert: f}
}
