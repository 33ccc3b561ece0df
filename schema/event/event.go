// Package event is the change-event model every part of sluice shares: the
// table schemas sources capture, the rows and Debezium-style envelopes they
// emit, and the totally ordered positions that sinks use as versions.
//
// It sits at the bottom of the dependency graph and imports nothing of sluice.
package event

import "fmt"

// Op is the kind of change, with Debezium's one-letter codes.
type Op byte

// The operations an event can carry.
const (
	OpCreate   Op = 'c'
	OpUpdate   Op = 'u'
	OpDelete   Op = 'd'
	OpRead     Op = 'r' // a row read by a snapshot
	OpTruncate Op = 't'
)

// String returns the one-letter code Debezium writes in "op".
func (o Op) String() string { return string(rune(o)) }

// ParseOp accepts one of "c", "u", "d", "r", "t".
func ParseOp(s string) (Op, error) {
	if len(s) == 1 {
		switch op := Op(s[0]); op {
		case OpCreate, OpUpdate, OpDelete, OpRead, OpTruncate:
			return op, nil
		}
	}
	return 0, fmt.Errorf("unknown operation %q: want one of c, u, d, r, t", s)
}

// Row holds one value per column of its Table, in column order, in the Go
// form given by each column's Schema.Type; nil is SQL NULL.
type Row []any

// TableID names a captured table. Schema is empty for MySQL, where the
// database plays that role.
type TableID struct {
	Database string
	Schema   string
	Table    string
}

// String returns "schema.table" (Postgres) or "database.table" (MySQL), the
// form used in include lists and topic names.
func (id TableID) String() string {
	if id.Schema != "" {
		return id.Schema + "." + id.Table
	}
	return id.Database + "." + id.Table
}

// Column is one captured column.
type Column struct {
	Name string
	// Schema is the column's value schema; Optional when the column is nullable.
	Schema *Schema
	// SourceType is the column's type as the database names it ("int4",
	// "varchar(20)", "bigint unsigned"), for messages and diagnostics.
	SourceType string
}

// Table is one version of a captured table's schema. A table gets a new
// *Table whenever its columns change; events point at the version in force
// when their row was written. Tables are immutable once published.
type Table struct {
	ID      TableID
	Columns []Column
	// Key holds the indexes in Columns of the key columns (the primary key or
	// the configured message.key.columns), in key order. Empty for keyless tables.
	Key []int
}

// KeyRow extracts the key columns of row, in key order. It returns nil for a
// keyless table.
func (t *Table) KeyRow(row Row) Row {
	if len(t.Key) == 0 || row == nil {
		return nil
	}
	key := make(Row, len(t.Key))
	for i, c := range t.Key {
		key[i] = row[c]
	}
	return key
}

// Snapshot says whether an event came from a snapshot, as Debezium's
// source.snapshot field does.
type Snapshot string

// The values of Source.Snapshot. Debezium marks the first row of a
// snapshot "first", the first and last rows of every other table
// "first_in_data_collection" and "last_in_data_collection", the last row
// of the snapshot "last" and the others "true".
const (
	SnapshotFalse                 Snapshot = "false"
	SnapshotTrue                  Snapshot = "true"
	SnapshotFirst                 Snapshot = "first"
	SnapshotFirstInDataCollection Snapshot = "first_in_data_collection"
	SnapshotLastInDataCollection  Snapshot = "last_in_data_collection"
	SnapshotLast                  Snapshot = "last" // the last row of the snapshot
	// SnapshotIncremental marks every row of an incremental snapshot,
	// read while streaming continues.
	SnapshotIncremental Snapshot = "incremental"
)

// Source is the provenance block of an event, with the fields of Debezium's
// Postgres and MySQL source structs. Fields that do not apply to the
// connector are left zero; optional fields that are zero encode as null.
type Source struct {
	Version   string // sluice's version
	Connector string // "postgresql", "mysql" or "mariadb"
	Name      string // the topic prefix
	TsUs      int64  // when the change was committed in the database, in Unix microseconds
	Snapshot  Snapshot
	DB        string
	Schema    string // Postgres
	Table     string
	// Sequence is Debezium's source.sequence: extra ordering information as
	// a JSON array of strings (Postgres: last commit LSN and event LSN).
	Sequence string

	// Postgres.
	TxID int64
	LSN  int64
	Xmin int64

	// MySQL and MariaDB.
	ServerID int64
	GTID     string
	File     string
	Pos      int64
	RowIndex int32
	Thread   int64
	Query    string // the SQL statement behind the row event, when the binlog carries it
}

// TsMillis is TsUs in Unix milliseconds (rounded down, as Java's
// Instant.toEpochMilli).
func (s *Source) TsMillis() int64 {
	ms := s.TsUs / 1e3
	if s.TsUs%1e3 < 0 {
		ms--
	}
	return ms
}

// Transaction is Debezium's transaction block: the transaction id, the
// event's order among all events of the transaction and among the events of
// its table in the transaction (both counted from 1).
type Transaction struct {
	ID                  string
	TotalOrder          int64
	DataCollectionOrder int64
}

// Event is one committed change of one row (or one truncation of a table).
// Before is set for updates and deletes, After for creates, updates and
// snapshot reads; both are nil for truncates.
//
// An event with SchemaChange set is instead a DDL statement, for the
// schema-change topic: Table, Op, rows, Transaction and Position are then
// unset, and Source says where the statement was read.
type Event struct {
	Op           Op
	Table        *Table
	Before       Row
	After        Row
	Source       Source
	TsMs         int64 // when sluice processed the change
	Transaction  *Transaction
	Position     Position
	SchemaChange *SchemaChange
}

// SchemaChange is a DDL statement a source read, with what it did to the
// captured tables: Debezium's schema-change event (SchemaChangeValue).
type SchemaChange struct {
	Database string // the database the statement changed, or ran in
	Schema   string // empty for MySQL
	DDL      string
	Tables   []TableChange
}

// TableChange is what a DDL statement did to one table.
type TableChange struct {
	Type  string // CREATE, ALTER or DROP
	ID    TableID
	Table *TableDefinition // the definition afterwards; nil for DROP
}

// TableDefinition is a table's definition as Debezium's table changes
// describe it.
type TableDefinition struct {
	DefaultCharset string
	PrimaryKey     []string
	Columns        []ColumnDefinition
	Comment        string
}

// ColumnDefinition is one column of a TableDefinition. Pointers and empty
// strings are absent values.
type ColumnDefinition struct {
	Name            string
	JDBCType        int32 // the java.sql.Types code
	TypeName        string
	TypeExpression  string
	Charset         string
	Length, Scale   *int32
	Position        int32 // from 1
	Optional        bool
	AutoIncremented bool
	Generated       bool
	Comment         string
	DefaultValue    *string // the default's expression
	EnumValues      []string
}

// Key returns the event's key row: the key columns of After, or of Before for deletes.
func (e *Event) Key() Row {
	if e.After != nil {
		return e.Table.KeyRow(e.After)
	}
	return e.Table.KeyRow(e.Before)
}
